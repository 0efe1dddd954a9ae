"""Compound files (OLE/CFB): .xls workbooks, password-protected OOXML, Outlook .msg, Word 97.

olefile parses the file. python-calamine has its own compound-file reader that follows
sector chains without a bound (a directory chain pointing back to itself made it allocate
24 GB), so before any reader sees the bytes every chain is walked once here:

* the header counts that drive olefile's own loops (FAT and DIFAT sectors) are bounded by
  the file size, and the DIFAT chain is walked first;
* after olefile has parsed the file: the directory chain, the mini-FAT and mini-stream
  chains, and the chain of every stream listed in the directory (reachable or not) — each
  must end, stay inside the file, never come back to a sector, and cover its declared size.

Then the BIFF records of the workbook stream are walked: a FILEPASS record means a password,
and each sheet's used range is measured (calamine allocates it).
"""

from __future__ import annotations

import io
import struct

import olefile

from hoacu_xlsx import messages as T
from hoacu_xlsx.intake.incoming import Refused, not_workbook, password, refusal, thousands
from hoacu_xlsx.intake.limits import Limits, check_box
from hoacu_xlsx.intake.zipparts import macro_document

SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END = olefile.ENDOFCHAIN


def damaged(name: str, detail: str) -> Refused:
    return refusal("ole_damaged", name, detail=detail)


# --------------------------------------------------------------------------- before olefile


def _check_header(data: bytes, name: str) -> None:
    """Bound the counts olefile loops over: FAT sectors by the file size, and the DIFAT chain walked."""
    if len(data) < 512:
        raise damaged(name, T.reason("ole.truncated"))
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if shift not in (9, 12) or mini_shift != 6:
        raise damaged(name, T.reason("ole.sector_size"))
    ss = 1 << shift
    nb_sect = (len(data) + ss - 1) // ss - 1
    n_fat, = struct.unpack_from("<I", data, 0x2C)
    first_difat, n_difat = struct.unpack_from("<II", data, 0x44)
    per = ss // 4
    if n_fat > (nb_sect + per - 1) // per + 2:
        raise damaged(name, T.reason("ole.fat_count", count=thousands(n_fat)))
    sid, seen = first_difat, set()
    for _ in range(n_difat):
        if sid >= nb_sect:
            raise damaged(name, T.reason("ole.difat_outside"))
        if sid in seen:
            raise damaged(name, T.reason("ole.difat_loop"))
        seen.add(sid)
        sid, = struct.unpack_from("<I", data, (sid + 1) * ss + ss - 4)


def _open(data: bytes, name: str) -> olefile.OleFileIO:
    _check_header(data, name)
    try:       # strict: defects olefile only logs by default (double references, bad entries) are raised
        return olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)
    except (OSError, ValueError, IndexError, KeyError, TypeError, OverflowError, struct.error, RecursionError,
            MemoryError):
        raise damaged(name, T.reason("ole.unreadable")) from None


# --------------------------------------------------------------------------- chains


def _walk(table, start: int, name: str, what: str) -> int:
    """Follow one chain in the FAT or mini-FAT; its length in sectors. Loops and strays are refused."""
    seen = bytearray(len(table))
    sid, n = start, 0
    while sid != _END:
        if sid >= len(table):
            raise damaged(name, T.reason("ole.chain_outside", what=what))
        if seen[sid]:
            raise damaged(name, T.reason("ole.chain_loop", what=what))
        seen[sid] = 1
        n += 1
        sid = table[sid]
    return n


def _stream(table, start: int, size: int, unit: int, data_len: int, name: str, what: str) -> None:
    """A stream's chain: no loop, inside the file, and long enough for its declared size."""
    if size > data_len:
        raise damaged(name, T.reason("ole.stream_too_big", what=what))
    if size and _walk(table, start, name, T.reason("ole.chain_of", what=what)) * unit < size:
        raise damaged(name, T.reason("ole.stream_short", what=what))


def _entries(ole: olefile.OleFileIO) -> list[tuple[int, int, int, str]]:
    """(type, first sector, size, name) of every used directory entry, read linearly (unreachable ones too)."""
    raw = ole.directory_fp.getvalue()
    out = []
    for off in range(0, len(raw) - 127, 128):
        kind = raw[off + 66]
        if kind in (olefile.STGTY_STORAGE, olefile.STGTY_STREAM, olefile.STGTY_ROOT):
            nlen = min(struct.unpack_from("<H", raw, off + 64)[0], 64)
            start, low, high = struct.unpack_from("<III", raw, off + 116)
            out.append((kind, start, low if ole.sectorsize == 512 else low + (high << 32),
                        raw[off:off + max(0, nlen - 2)].decode("utf-16-le", "replace")))
    return out


def _check_chains(ole: olefile.OleFileIO, data: bytes, name: str, limits: Limits) -> list[str]:
    """Every chain a reader may follow, walked once before any reader sees the file; the entries' names."""
    fat, n = ole.fat, len(data)
    dir_sectors = _walk(fat, ole.first_dir_sector, name, T.reason("ole.chain_of", what=T.reason("ole.directory")))
    entries = _entries(ole)
    if dir_sectors * ole.sectorsize // 128 > limits.max_ole_entries * 4 or len(entries) > limits.max_ole_entries:
        raise damaged(name, T.reason("ole.too_many_entries", count=thousands(len(entries))))
    if ole.num_mini_fat_sectors:
        _walk(fat, ole.first_mini_fat_sector, name, T.reason("ole.chain_of", what=T.reason("ole.minifat")))
    root = ole.root
    _stream(fat, root.isectStart, root.size, ole.sectorsize, n, name, T.reason("ole.ministream"))
    if any(kind == olefile.STGTY_STREAM and 0 < z < ole.minisectorcutoff for kind, _, z, _ in entries):
        ole.loadminifat()
    for kind, start, size, _ in entries:
        if kind != olefile.STGTY_STREAM:
            continue
        if size < ole.minisectorcutoff:
            _stream(ole.minifat, start, size, ole.minisectorsize, n, name, T.reason("ole.small_stream"))
        else:
            _stream(fat, start, size, ole.sectorsize, n, name, T.reason("ole.stream"))
    return [e[3] for e in entries]


# --------------------------------------------------------------------------- BIFF (the .xls workbook stream)

# BIFF records that put a value in a cell (row, col at offset 0); BLANK/MULBLANK count too (conservative).
_BIFF_CELLS = {0x0203, 0x027E, 0x00FD, 0x0204, 0x0205, 0x0006, 0x00D6, 0x0201, 0x0206, 0x0406}
_BIFF_MULTI = {0x00BD, 0x00BE}  # MULRK, MULBLANK: row, first col, ..., last col
_BIFF_BOF = (0x0809, 0x0009, 0x0209, 0x0409)


def _check_biff(stream: bytes, name: str, limits: Limits) -> None:
    """Walk the BIFF records: a FILEPASS record means a password; value records give each sheet's box."""
    pos, n = 0, len(stream)
    max_row = max_col = sheet = 0
    unpack = struct.unpack_from
    while pos + 4 <= n:
        rt, ln = unpack("<HH", stream, pos)
        body = pos + 4
        if rt == 0x002F:
            raise password(name)
        if rt in _BIFF_CELLS and ln >= 4:
            row, col = unpack("<HH", stream, body)
            if row >= max_row:
                max_row = row + 1
            if col >= max_col:
                max_col = col + 1
        elif rt in _BIFF_MULTI and ln >= 6:
            row, = unpack("<H", stream, body)
            last, = unpack("<H", stream, body + ln - 2)
            max_row, max_col = max(max_row, row + 1), max(max_col, last + 1)
        elif rt in _BIFF_BOF:   # next sheet
            check_box(max_row, max_col, limits, name, T.reason("ole.sheet_number", number=sheet - 1) if sheet >= 2 else "")
            max_row = max_col = 0
            sheet += 1
        pos = body + ln
    check_box(max_row, max_col, limits, name, T.reason("ole.sheet_number", number=sheet - 1) if sheet >= 2 else "")


# --------------------------------------------------------------------------- what the compound file holds


def _kind(names: set[str], name: str) -> str:
    """The workbook stream's name, or a refusal saying what the file is instead."""
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        raise password(name)
    if any(n.startswith("__substg1.0_") or n == "__properties_version1.0" for n in names):
        raise refusal("msg_unsupported", name)
    if "Workbook" in names or "Book" in names:
        return "Workbook" if "Workbook" in names else "Book"
    if "WordDocument" in names:
        return "WordDocument"
    raise not_workbook(name, T.reason("ole.powerpoint" if "PowerPoint Document" in names else "ole.other_office"))


def _check_word97(ole: olefile.OleFileIO, names: list[str], name: str) -> str:
    """A Word 97–2003 write-up (.doc), kept and never parsed: a real FIB, no password, no macros."""
    broken = refusal("material_damaged", name)
    if names.count("WordDocument") > 1:
        raise broken
    try:
        fib = ole.openstream("WordDocument").read(12)
    except (OSError, ValueError, IndexError, struct.error):
        fib = b""
    if len(fib) < 12 or fib[:2] != b"\xec\xa5":        # wIdent of the File Information Block
        raise broken
    if struct.unpack_from("<H", fib, 10)[0] & 0x0100:   # fEncrypted
        raise password(name)
    if "Macros" in names or "_VBA_PROJECT" in names or "VBA" in names:
        raise macro_document(name)
    return "doc"


def inspect_ole(data: bytes, name: str, limits: Limits) -> str:
    """Check a compound file; returns 'xls' (a workbook) or 'doc' (a write-up), or raises a Vietnamese refusal."""
    ole = _open(data, name)
    try:
        try:
            names = _check_chains(ole, data, name, limits)
        except (OSError, ValueError, IndexError, struct.error):     # olefile's own findings (strict mode)
            raise damaged(name, T.reason("ole.minifat_broken")) from None
        book = _kind(set(names), name)
        if book == "WordDocument":
            return _check_word97(ole, names, name)
        if names.count(book) > 1:      # another reader could pick the other one
            raise damaged(name, T.reason("ole.two_books", book=book))
        try:
            stream = ole.openstream(book).read()
        except (OSError, ValueError, IndexError, struct.error):
            stream = b""
    finally:
        ole.close()
    if len(stream) < 8 or struct.unpack_from("<H", stream, 0)[0] not in _BIFF_BOF:
        raise refusal("refused/xls_broken", name)
    _check_biff(stream, name, limits)
    return "xls"
