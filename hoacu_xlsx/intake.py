"""Intake: find the files in inbox/, tell what each one is, unpack containers, refuse hostile ones.

Every file came by email and is untrusted. Nothing here writes anywhere, and nothing
outside inbox/ is read (links are never followed out). Containers (.zip, .eml) are read
in memory with caps; workbook bytes are checked before python-calamine or openpyxl see them:

* zip bombs — declared sizes are checked, then every part is *stream*-inflated in 64 KB
  steps against running caps (per part, per inbox file, inflation ratio); only stored and
  deflated parts are accepted (bzip2/LZMA can inflate a 64 KB step to gigabytes);
* XML attacks — any ``<!DOCTYPE``/``<!ENTITY`` in any XML part is refused (Excel and
  LibreOffice never write one): stops "billion laughs" and external entities (XXE);
  odd XML encodings (UTF-7, UTF-32, EBCDIC…) that could hide one are refused too;
* huge used ranges — python-calamine allocates the whole rectangle of a sheet (a single
  value at XFD1048576 aborts the process; one cell at IV65536 of an .xls costs 1 GB), and
  it pre-allocates ``<sst uniqueCount>`` strings (4e9 aborts too): the bounding box of cells
  *with values* in .xlsx sheet XML, .ods tables (repeated rows/columns counted) and .xls
  BIFF records is measured, and element counts are capped for openpyxl.

The checks stream over bounded chunks with a few regular expressions (no XML parser), so a
normal 30 KB workbook costs about a millisecond. Each refusal is a Vietnamese
:class:`Problem` naming the file; the scan goes on with the other files.
"""

from __future__ import annotations

import codecs
import email
import hashlib
import io
import os
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.header import decode_header, make_header
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Iterator

from hoacu_xlsx.problems import ERROR, WARNING, Problem

WORKBOOK_FORMATS = ("xlsx", "xlsm", "xls", "ods")
IGNORED_NAMES = {"thumbs.db", "desktop.ini", "readme.md", "ehthumbs.db", "__macosx"}
SEP = " › "
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Limits:
    """Caps for one inbox file (containers included); defaults are far above a real ~30 KB workbook."""

    max_file_bytes: int = 50 * 2**20            # one file in inbox/, or one member/attachment
    max_uncompressed_bytes: int = 200 * 2**20   # everything inflated from one inbox file, all levels
    max_member_bytes: int = 100 * 2**20         # one zip part inflated
    max_ratio: int = 250                        # inflated/compressed, for parts inflating past 2 MB
    max_members: int = 5_000                    # parts of one zip
    max_rows: int = 100_000                     # bounding box of a sheet's cells with values
    max_cols: int = 1_000
    max_cells: int = 2_000_000                  # rows x cols of that box (calamine allocates it)
    max_cell_elements: int = 500_000            # <c> elements in one part (openpyxl keeps each one)
    max_strings: int = 1_000_000                # shared strings (calamine pre-allocates uniqueCount)
    max_depth: int = 3                          # containers inside containers (eml › zip › zip)


@dataclass
class Incoming:
    """One candidate workbook (or a refused file) from inbox/."""

    name: str                       # "sub/a.xlsx", "thu.eml › Mục 1.xlsx", "goi.zip › x/a.xlsx"
    origin: str                     # the inbox file it came from
    data: bytes                     # workbook bytes; b"" when rejected
    fmt: str | None                 # xlsx | xlsm | xls | ods, by content
    sha256: str
    received_at: datetime | None = None
    sender: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.fmt is not None and not any(p.is_error for p in self.problems)


class _Refused(Exception):
    """This file (or member) is refused; the message is Vietnamese and names it."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.message, self.code = message, code


class _StopOrigin(_Refused):
    """The whole inbox file is hostile (its inflation budget is spent, or nesting too deep)."""


class _Pool:
    """Bytes still allowed to be inflated from one inbox file, shared by every level inside it."""

    def __init__(self, left: int) -> None:
        self.left = left


@dataclass
class _Ctx:
    origin: str
    limits: Limits
    pool: _Pool
    received_at: datetime | None = None
    sender: str | None = None


def _label(name: str) -> str:
    """The part of a display name the unit knows: the attachment or member name."""
    return name.rsplit(SEP, 1)[-1]


def _n(x: int) -> str:
    """Vietnamese thousands separator: 1048576 -> '1.048.576'."""
    return f"{x:,}".replace(",", ".")


def _mb(x: int) -> str:
    return f"{x / 2**20:.1f}".replace(".", ",") + " MB"


# --------------------------------------------------------------------------- sniffing

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EMAIL_HEAD = re.compile(rb"(?i)(from|received|return-path|mime-version|date|subject|to|message-id|delivered-to|"
                         rb"x-[\w-]+|reply-to|cc|content-type|thread-topic|dkim-signature|arc-[\w-]+):")


def sniff(data: bytes) -> str:
    """What the bytes are, by content: empty | zip | ole | pdf | email | xml | html | rtf | image | text | other."""
    if not data:
        return "empty"
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return "zip"
    if data[:8] == _OLE:
        return "ole"
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[:5] == b"{\\rtf":
        return "rtf"
    if (data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n" or data[:4] in (b"GIF8", b"II*\x00", b"MM\x00*")
            or data[:2] == b"BM" or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")):
        return "image"
    if data[:2] in (b"\x1f\x8b", b"BZ") or data[:6] in (b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07"):
        return "archive"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    low = head[:512].lower()
    if low.startswith(b"<!doctype html") or low.startswith(b"<html") or b"<html" in low[:300]:
        return "html"
    if low.startswith(b"<?xml") or low.startswith(b"<"):
        return "xml"
    if _EMAIL_HEAD.match(head):
        return "email"
    if b"\x00" in head:
        return "other"
    return "text"


def _ext(name: str) -> str:
    return PurePosixPath(_label(name).replace("\\", "/")).suffix.lower().lstrip(".")


_NOT_WORKBOOK = {"csv": "tệp CSV", "tsv": "tệp CSV", "txt": "tệp văn bản", "pdf": "tệp PDF", "doc": "văn bản Word",
                 "docx": "văn bản Word", "docm": "văn bản Word", "odt": "văn bản LibreOffice Writer",
                 "rtf": "văn bản RTF", "jpg": "tệp ảnh", "jpeg": "tệp ảnh", "png": "tệp ảnh", "gif": "tệp ảnh",
                 "bmp": "tệp ảnh", "tif": "tệp ảnh", "tiff": "tệp ảnh", "heic": "tệp ảnh", "webp": "tệp ảnh",
                 "ppt": "tệp PowerPoint", "pptx": "tệp PowerPoint", "rar": "tệp nén RAR", "7z": "tệp nén 7-Zip",
                 "html": "trang web (HTML)", "htm": "trang web (HTML)", "xml": "tệp XML"}
_KIND_WHAT = {"pdf": "tệp PDF", "image": "tệp ảnh", "rtf": "văn bản RTF", "html": "trang web (HTML)",
              "archive": "tệp nén không phải ZIP (RAR/7-Zip/gzip)"}


def _not_workbook(name: str, what: str) -> _Refused:
    return _Refused(f"Tệp '{_label(name)}' ({what}) không phải sổ đề xuất (Excel/LibreOffice) — đề nghị đơn vị gửi "
                    "lại đúng sổ đã nhận.", "not_workbook")


# --------------------------------------------------------------------------- OLE / CFB (xls, encrypted OOXML, msg)

_FREE, _END = 0xFFFFFFFF, 0xFFFFFFFE


class _Cfb:
    """Minimal read-only Compound File reader (stdlib only; every chain bounded by the file size)."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 512 or data[:8] != _OLE:
            raise ValueError("not a compound file")
        self.data = data
        shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
        if shift not in (9, 12) or mini_shift != 6:
            raise ValueError("bad sector size")
        self.ss = 1 << shift
        self.nsec = max(0, (len(data) - 512) // self.ss + 1)
        n_fat, first_dir, _, self.cutoff, first_mini, n_mini, first_difat, n_difat = struct.unpack_from(
            "<IIIIIIII", data, 0x2C)
        fat_sids = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < self.nsec]
        sid, steps = first_difat, 0
        per = self.ss // 4 - 1
        while sid < self.nsec and steps <= self.nsec and len(fat_sids) < n_fat:
            vals = struct.unpack_from(f"<{per + 1}I", self._sector(sid))
            fat_sids += [s for s in vals[:per] if s < self.nsec]
            sid, steps = vals[per], steps + 1
        fat = bytearray()
        for s in fat_sids[: self.nsec]:
            fat += self._sector(s)
        self.fat = struct.unpack(f"<{len(fat) // 4}I", fat)
        self.entries: dict[str, tuple[int, int, int]] = {}   # name -> (type, start, size)
        self.root: tuple[int, int, int] | None = None
        dirdata = self._chain(first_dir, self.fat, self.ss, self._sector)
        for off in range(0, min(len(dirdata), 128 * 50_000), 128):
            e = dirdata[off:off + 128]
            nlen = min(struct.unpack_from("<H", e, 64)[0], 64)
            kind = e[66]
            if kind not in (1, 2, 5):
                continue
            name = e[: max(0, nlen - 2)].decode("utf-16-le", "replace")
            start, size = struct.unpack_from("<II", e, 116)
            if kind == 5:
                self.root = (kind, start, size)
            self.entries.setdefault(name, (kind, start, size))
        self.minifat: tuple[int, ...] = ()
        self._first_mini = first_mini
        self._ministream: bytes | None = None

    def _sector(self, sid: int) -> bytes:
        off = (sid + 1) * self.ss
        b = self.data[off:off + self.ss]
        return b + b"\x00" * (self.ss - len(b))

    def _chain(self, sid: int, fat: tuple[int, ...], size: int, read, limit: int | None = None) -> bytes:
        out, steps, cap = bytearray(), 0, len(fat)
        while sid < len(fat) and sid not in (_FREE, _END) and steps <= cap:
            out += read(sid)
            if limit is not None and len(out) >= limit:
                break
            sid, steps = fat[sid], steps + 1
        return bytes(out)

    def names(self) -> set[str]:
        return set(self.entries)

    def stream(self, name: str) -> bytes:
        kind, start, size = self.entries[name]
        size = min(size, len(self.data))
        if size < self.cutoff:
            if self._ministream is None:
                mf = self._chain(self._first_mini, self.fat, self.ss, self._sector)
                self.minifat = struct.unpack(f"<{len(mf) // 4}I", mf)
                r = self.root or (5, _END, 0)
                self._ministream = self._chain(r[1], self.fat, self.ss, self._sector, min(r[2], len(self.data)))
            ms = self._ministream
            return self._chain(start, self.minifat, 64, lambda s: ms[s * 64:s * 64 + 64], size)[:size]
        return self._chain(start, self.fat, self.ss, self._sector, size)[:size]


# BIFF records that put a value in a cell (row, col at offset 0); BLANK/MULBLANK count too (conservative).
_BIFF_CELLS = {0x0203, 0x027E, 0x00FD, 0x0204, 0x0205, 0x0006, 0x00D6, 0x0201, 0x0206, 0x0406}
_BIFF_MULTI = {0x00BD, 0x00BE}  # MULRK, MULBLANK: row, first col, ..., last col


def _check_biff(stream: bytes, name: str, limits: Limits) -> None:
    """Walk the BIFF records: a FILEPASS record means a password; value records give each sheet's box."""
    pos, n = 0, len(stream)
    max_row = max_col = sheet = 0
    unpack = struct.unpack_from
    while pos + 4 <= n:
        rt, ln = unpack("<HH", stream, pos)
        body = pos + 4
        if rt == 0x002F:
            raise _password(name)
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
        elif rt == 0x0809 or rt == 0x0009 or rt == 0x0209 or rt == 0x0409:   # BOF: next sheet
            _box(max_row, max_col, limits, name, f"trang thứ {sheet - 1}" if sheet >= 2 else "")
            max_row = max_col = 0
            sheet += 1
        pos = body + ln
    _box(max_row, max_col, limits, name, f"trang thứ {sheet - 1}" if sheet >= 2 else "")


def _password(name: str) -> _Refused:
    return _Refused(f"Tệp '{_label(name)}' được đặt mật khẩu nên không đọc được — đề nghị đơn vị gỡ mật khẩu rồi "
                    "gửi lại.", "password")


def _inspect_ole(data: bytes, name: str, limits: Limits) -> str:
    try:
        cfb = _Cfb(data)
        names = cfb.names()
    except (ValueError, struct.error, IndexError):
        raise _Refused(f"Tệp '{_label(name)}' bị hỏng (không đọc được cấu trúc tệp Office 97–2003) — đề nghị đơn vị "
                       "gửi lại.") from None
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        raise _password(name)
    if any(n.startswith("__substg1.0_") or n == "__properties_version1.0" for n in names):
        raise _Refused(f"Tệp '{_label(name)}' là thư Outlook (.msg), chưa đọc được — hãy mở thư trong Outlook, chọn "
                       "Lưu thành (Save As) dạng .eml, hoặc lưu riêng tệp đính kèm vào inbox/.", "msg_unsupported")
    book = "Workbook" if "Workbook" in names else "Book" if "Book" in names else None
    if book is None:
        what = "văn bản Word 97–2003" if "WordDocument" in names else \
            "tệp PowerPoint" if "PowerPoint Document" in names else "tệp Office không phải Excel"
        raise _not_workbook(name, what)
    try:
        stream = cfb.stream(book)
    except (struct.error, IndexError, KeyError):
        stream = b""
    if len(stream) < 8 or struct.unpack_from("<H", stream, 0)[0] not in (0x0809, 0x0409, 0x0209, 0x0009):
        raise _Refused(f"Tệp '{_label(name)}' (Excel 97–2003) bị hỏng — đề nghị đơn vị gửi lại.")
    _check_biff(stream, name, limits)
    return "xls"


# --------------------------------------------------------------------------- zip reading with caps

def _zip_precheck(data: bytes, name: str, limits: Limits) -> None:
    """Read the end-of-directory record before zipfile builds one object per entry."""
    i = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if i < 0 or i + 22 > len(data):
        raise _corrupt(name)
    n_total, cd_size = struct.unpack_from("<HI", data, i + 10)
    if (n_total == 0xFFFF or cd_size == 0xFFFFFFFF) and data[i - 20:i - 16] == b"PK\x06\x07":
        off, = struct.unpack_from("<Q", data, i - 12)
        if data[off:off + 4] == b"PK\x06\x06":
            n_total, cd_size = struct.unpack_from("<QQ", data, off + 32)
    if n_total > limits.max_members or cd_size > limits.max_members * 1024:
        raise _Refused(f"Tệp '{_label(name)}' chứa quá nhiều thành phần ({_n(n_total)}, giới hạn "
                       f"{_n(limits.max_members)}) — tệp bị từ chối.")


def _corrupt(name: str) -> _Refused:
    return _Refused(f"Tệp '{_label(name)}' bị hỏng hoặc bị cắt cụt (không mở được như tệp nén .xlsx/.ods/.zip) — "
                    "đề nghị đơn vị gửi lại.")


def _open_zip(data: bytes, name: str, limits: Limits) -> zipfile.ZipFile:
    _zip_precheck(data, name, limits)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError, struct.error):
        raise _corrupt(name) from None
    zf.hoacu_raw = data            # members are inflated from these bytes, not through zipfile
    if len(zf.infolist()) > limits.max_members:
        raise _Refused(f"Tệp '{_label(name)}' chứa quá nhiều thành phần — tệp bị từ chối.")
    return zf


def _bomb(name: str, detail: str) -> str:
    return (f"Tệp '{_label(name)}' giải nén ra quá lớn ({detail}) — có thể là tệp 'bom nén' (zip bomb); tệp bị "
            "từ chối.")


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, ctx: _Ctx, sink=None, keep: bool = True,
             cap: int | None = None) -> bytes:
    """Inflate one member in 64 KB steps against running caps, straight from the raw deflate data.

    Headers are not trusted: Python's zipfile stops at the *declared* size, while another
    reader may inflate the whole stream — so the stream must end exactly at the declared
    size, with the declared CRC.
    """
    lim = ctx.limits
    part = info.filename
    raw = getattr(zf, "hoacu_raw", None)
    if info.flag_bits & 0x1:
        raise _password(name)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _Refused(f"Tệp '{_label(name)}' dùng kiểu nén không hỗ trợ (phần '{part}') — hãy lưu hoặc nén lại "
                       "bằng Excel/LibreOffice hay ZIP thông thường rồi gửi lại.")
    own = min(lim.max_member_bytes, cap or lim.max_member_bytes)
    if info.file_size > own:
        raise _Refused(_bomb(name, f"phần '{part}' khai {_mb(info.file_size)}, giới hạn {_mb(own)}"))
    if info.file_size > ctx.pool.left:
        raise _StopOrigin(_bomb(name, f"tổng dung lượng giải nén vượt {_mb(lim.max_uncompressed_bytes)}"))
    broken = _Refused(f"Tệp '{_label(name)}' bị hỏng (không giải nén được phần '{part}') — đề nghị đơn vị gửi lại.")
    total = 0
    try:
        off = info.header_offset
        if raw is None or raw[off:off + 4] != b"PK\x03\x04":
            raise broken
        n, m = struct.unpack_from("<HH", raw, off + 26)
        start = off + 30 + n + m
        comp = memoryview(raw)[start:start + info.compress_size]
        if len(comp) != info.compress_size:
            raise broken
        out = bytearray() if keep else None
        crc = 0
        d = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        pos, pending = 0, b""
        while True:
            if d is None:
                chunk = bytes(comp[pos:pos + _CHUNK])
                pos += len(chunk)
            else:
                if pending:
                    chunk = d.decompress(pending, _CHUNK)
                elif pos < len(comp):
                    chunk = d.decompress(comp[pos:pos + _CHUNK], _CHUNK)
                    pos += _CHUNK
                else:
                    chunk = d.flush(_CHUNK) if not d.eof else b""
                pending = d.unconsumed_tail
            if not chunk:
                if d is None or d.eof or (not pending and pos >= len(comp)):
                    break
                continue
            total += len(chunk)
            if total > own:
                raise _Refused(_bomb(name, f"phần '{part}' vượt {_mb(own)} khi giải nén"))
            if total > ctx.pool.left:
                raise _StopOrigin(_bomb(name, f"tổng dung lượng giải nén vượt {_mb(lim.max_uncompressed_bytes)}"))
            if total > 2 * 2**20 and total > lim.max_ratio * max(info.compress_size, 1):
                raise _Refused(_bomb(name, f"phần '{part}' nén với tỉ lệ bất thường hơn {lim.max_ratio}:1"))
            if total > info.file_size:
                raise _Refused(f"Tệp '{_label(name)}' có phần '{part}' giải nén ra nhiều hơn kích thước khai báo — có "
                               "thể là tệp 'bom nén' hoặc tệp bị sửa; tệp bị từ chối.")
            crc = zlib.crc32(chunk, crc)
            if sink is not None:
                sink(chunk)
            if out is not None:
                out += chunk
        if (d is not None and not d.eof) or total != info.file_size or crc != info.CRC:
            raise broken
    except (zlib.error, struct.error, ValueError):
        raise broken from None
    finally:
        ctx.pool.left -= total       # refused parts count too: thousands of half-bombs still end the file
    return bytes(out) if out is not None else b""


# --------------------------------------------------------------------------- streaming XML checks

_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.I)
_XMLDECL_ENC = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""", re.I)
_SAFE_ENC = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252",
             "utf-16", "utf-16le", "utf-16be", "utf16"}
_C_ANY = re.compile(rb"<(?:[\w.-]+:)?c(?=[\s/>])")
_C_VAL = re.compile(rb'<c r="([A-Za-z]{1,3})([0-9]{1,7})"[^>]*(?<!/)>')
_C_BARE = re.compile(rb"<c[>/\t\r\n]")
_C_PREFIXED = re.compile(rb"<[\w.-]+:c[\s/>]")
_C_BADREF = re.compile(rb'<c r="(?![A-Za-z]{1,3}[0-9]{1,7}")')
_C_FAR = re.compile(rb'<c r="(?:[A-Za-z]{3}|[A-Za-z]{1,2}[0-9]{4})')
_XL_TOK = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*)>")
_REF = re.compile(rb"([A-Za-z]{1,3})([0-9]{1,7})$")
_SST = re.compile(rb"""<(?:[\w.-]+:)?sst\s[^>]*?\buniqueCount\s*=\s*["'](\d+)""")
_ODS_TOK = re.compile(rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*)>")
_ROWS_REP = re.compile(rb'number-rows-repeated="(\d+)"')
_COLS_REP = re.compile(rb'number-columns-repeated="(\d+)"')
_DTD16 = re.compile(rb"<\x00!\x00(?:\s\x00)*(?:[Dd]\x00[Oo]\x00[Cc]\x00|[Ee]\x00[Nn]\x00[Tt]\x00|[Ee]\x00[Ll]\x00|"
                    rb"[Aa]\x00[Tt]\x00)"
                    rb"|\x00<\x00!\x00(?:\s\x00)*(?:[Dd]\x00[Oo]|[Ee]\x00[Nn]|[Ee]\x00[Ll]|[Aa]\x00[Tt])")
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_MAX_CARRY = 8 * 2**20


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _box(rows: int, cols: int, limits: Limits, name: str, where: str) -> None:
    if rows > limits.max_rows or cols > limits.max_cols or rows * cols > limits.max_cells:
        at = f" ({where})" if where else ""
        raise _Refused(f"Tệp '{_label(name)}' có vùng dữ liệu quá lớn{at}: {_n(rows)} dòng × {_n(cols)} cột "
                       f"(giới hạn {_n(limits.max_rows)} dòng, {_n(limits.max_cols)} cột) — hãy xóa các dòng, cột "
                       "thừa (kể cả ô chỉ có dấu cách) rồi gửi lại.")


class _PartScanner:
    """Checks one XML part fed in chunks: no DTD, sane encoding, bounded used range and counts.

    Chunks are cut at the last '<' so that no tag straddles two scans (a well-formed tag
    holds no '<'); the carry is capped.
    """

    def __init__(self, name: str, part: str, kind: str, limits: Limits) -> None:
        self.name, self.part, self.kind, self.lim = name, part, kind, limits
        self.started = False
        self.decoder = None            # for UTF-16 parts: bytes -> str -> UTF-8 bytes
        self.carry = b""
        # xlsx state
        self.max_row = self.max_col = 0
        self.cells = self.strings = 0
        self.slow = False
        self.first = True
        # refs within ZZ999 cannot break the limits: the box is then not measured (saves ~1 ms a file)
        self.small_ok = limits.max_cols >= 702 and limits.max_rows >= 999 and limits.max_cells >= 702 * 999
        self.cur_row = self.cur_col = 0
        # ods state
        self.t_row = self.t_last = self.t_maxcol = 0
        self.r_rep = 1
        self.r_col = self.r_maxcol = 0
        self.r_has = False
        self.table = ""

    def _refuse_xml(self, what: str) -> _Refused:
        return _Refused(f"Tệp '{_label(self.name)}' chứa {what} trong phần '{self.part}' — Excel và LibreOffice "
                        "không bao giờ ghi như vậy; có thể là tệp tấn công, tệp bị từ chối.")

    def _start(self, chunk: bytes) -> bytes:
        self.started = True
        head = chunk[:4]
        if head[:3] == b"\xef\xbb\xbf":
            chunk = chunk[3:]
        elif head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:2] in (b"<\x00", b"\x00<"):
            if head[:4] in (b"\xff\xfe\x00\x00", b"<\x00\x00\x00"):
                raise self._refuse_xml("khai báo XML không an toàn (mã hóa UTF-32)")
            enc = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else \
                "utf-16-le" if head[:2] == b"<\x00" else "utf-16-be"
            self.decoder = codecs.getincrementaldecoder(enc)("replace")
            return self.decoder.decode(chunk).encode("utf-8")
        stripped = chunk.lstrip(b" \t\r\n")
        if not stripped:
            self.started = False
            return b""
        # every part is scanned, XML or not: a reader may follow a relationship to any part name
        m = _XMLDECL_ENC.match(stripped[:200])
        if m:
            enc = m.group(1).decode("ascii", "replace").strip().lower()
            if enc not in _SAFE_ENC or enc.startswith("utf-16") or enc == "utf16":
                raise self._refuse_xml(f"khai báo XML không an toàn (mã hóa '{enc}')")
        return chunk

    def feed(self, chunk: bytes) -> None:
        if self.decoder is not None:
            chunk = self.decoder.decode(chunk).encode("utf-8")
        elif not self.started:
            chunk = self._start(chunk)
            if not self.started:
                return
        buf = self.carry + chunk if self.carry else chunk
        cut = buf.rfind(b"<")
        if cut <= 0:
            self.carry = buf
            if len(buf) > _MAX_CARRY:
                self._scan(buf[:-64])      # a huge text run: no tag inside, keep a tail for the next check
                self.carry = buf[-64:]
            return
        self.carry = buf[cut:]
        self._scan(buf[:cut])

    def close(self) -> None:
        if self.carry:
            self._scan(self.carry)
            self.carry = b""
        if self.kind == "ods" and self.table:
            self._end_table()

    # ---- one complete run of tags
    def _scan(self, seg: bytes) -> None:
        if b"<!" in seg and _DTD.search(seg):
            raise self._refuse_xml("khai báo XML không an toàn (DOCTYPE/ENTITY)")
        if b"\x00" in seg and _DTD16.search(seg):     # UTF-16 markup hidden in a byte-oriented part
            raise self._refuse_xml("khai báo XML không an toàn (DOCTYPE/ENTITY)")
        if self.kind == "xlsx":
            self._scan_xlsx(seg)
        elif self.kind == "ods":
            self._scan_ods(seg)

    def _scan_xlsx(self, seg: bytes) -> None:
        lim = self.lim
        first, self.first = self.first, False
        if b"<si" in seg or b":si" in seg or first:
            if first and b"uniqueCount" in seg:
                m = _SST.search(seg)
                if m and int(m.group(1)[:12]) > lim.max_strings:
                    raise self._too_many("chuỗi ký tự", int(m.group(1)[:12]))
            self.strings += seg.count(b"<si") + seg.count(b":si")     # may over-count: only a cap
            if self.strings > lim.max_strings:
                raise self._too_many("chuỗi ký tự", self.strings)
        if b"<c" not in seg and b":c" not in seg:
            return
        # Fast path: every cell tag is '<c r="A1"' with r first and double-quoted (Excel, LibreOffice,
        # openpyxl, xlsxwriter, Gnumeric write that); one regex pass finds anything else.
        plain = seg.count(b"<c ")
        odd = (plain != seg.count(b'<c r="') or _C_BARE.search(seg) is not None
               or (b":c" in seg and _C_PREFIXED.search(seg) is not None) or _C_BADREF.search(seg) is not None)
        self.cells += plain if not odd else len(_C_ANY.findall(seg))
        if self.cells > lim.max_cell_elements:
            raise self._too_many("ô", self.cells)
        if not odd and not self.slow:
            if plain and (not self.small_ok or _C_FAR.search(seg)):   # some ref past ZZ999: measure
                vals = _C_VAL.findall(seg)
                if vals:
                    letters, digits = zip(*vals)
                    self._grow(max(map(int, digits)), max(map(_col_number, set(letters))))
            return
        if not self.slow:      # a cell without a (readable) reference: follow positions like the reader does
            self.slow = True
            self.cur_row, self.cur_col = self.max_row, self.max_col
            if self.small_ok and self.cells:      # earlier cells were bounded, not measured
                self.cur_row, self.cur_col = max(self.cur_row, 999), max(self.cur_col, 702)
        for m in _XL_TOK.finditer(seg):
            tag, attrs = m.groups()
            r = next((a.group(2) if a.group(2) is not None else a.group(3)
                      for a in _ATTR.finditer(attrs) if a.group(1) == b"r"), None)
            if tag == b"row":
                self.cur_row = int(r.strip()[:9]) if r and r.strip().isdigit() else self.cur_row + 1
                self.cur_col = 0
                continue
            if r is not None:
                ref = _REF.match(r.strip())
                if not ref:
                    raise self._refuse_xml(f"địa chỉ ô bất thường ('{r[:20].decode('ascii', 'replace')}')")
                self.cur_col, self.cur_row = _col_number(ref.group(1)), int(ref.group(2))
            else:
                self.cur_col += 1
            if not attrs.endswith(b"/"):
                self._grow(self.cur_row, self.cur_col)

    def _grow(self, row: int, col: int) -> None:
        if row > self.max_row:
            self.max_row = row
        if col > self.max_col:
            self.max_col = col
        _box(self.max_row, self.max_col, self.lim, self.name, f"phần '{self.part}'")

    def _too_many(self, what: str, count: int) -> _Refused:
        return _Refused(f"Tệp '{_label(self.name)}' có vùng dữ liệu quá lớn: quá nhiều {what} ({_n(count)}) trong "
                        f"phần '{self.part}' — hãy xóa các dòng, cột thừa rồi gửi lại.")

    # ---- OpenDocument tables: rows/cells repeated; empty repeats (LibreOffice's padding) cost nothing
    def _scan_ods(self, seg: bytes) -> None:
        if b"table:" not in seg:
            return
        for m in _ODS_TOK.finditer(seg):
            close, tag, attrs = m.groups()
            selfclose = attrs.endswith(b"/")
            if tag == b"table":
                if close:
                    self._end_table()
                else:
                    nm = re.search(rb'table:name="([^"]*)"', attrs)
                    self.table = nm.group(1).decode("utf-8", "replace") if nm else "?"
                    self.t_row = self.t_last = self.t_maxcol = 0
                continue
            if tag == b"table-row":
                if close:
                    self._end_row()
                else:
                    rep = _ROWS_REP.search(attrs)
                    self.r_rep = int(rep.group(1)[:10]) if rep else 1
                    self.r_col = self.r_maxcol = 0
                    self.r_has = False
                    if selfclose:
                        self._end_row()
                continue
            if close:
                continue
            rep = _COLS_REP.search(attrs)
            self.r_col += int(rep.group(1)[:10]) if rep else 1
            if not selfclose or b"value-type" in attrs:
                self.r_has = True
                self.r_maxcol = self.r_col
                if self.r_col > self.lim.max_cols:
                    _box(self.t_row + 1, self.r_col, self.lim, self.name, f"trang '{self.table}'")

    def _end_row(self) -> None:
        self.t_row += self.r_rep
        if self.r_has:
            self.t_last = self.t_row
            self.t_maxcol = max(self.t_maxcol, self.r_maxcol)
            _box(self.t_last, self.t_maxcol, self.lim, self.name, f"trang '{self.table}'")
        self.r_rep, self.r_has = 1, False

    def _end_table(self) -> None:
        _box(self.t_last, self.t_maxcol, self.lim, self.name, f"trang '{self.table}'")
        self.table = ""


def _scan_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, kind: str, ctx: _Ctx) -> bytes | None:
    """Inflate one part through the checks; returns its bytes only when small and wanted (content types)."""
    sc = _PartScanner(name, info.filename, kind, ctx.limits)
    want = info.filename in ("[Content_Types].xml", "mimetype")
    data = _inflate(zf, info, name, ctx, sink=sc.feed, keep=want, cap=None)
    sc.close()
    return data if want else None


# --------------------------------------------------------------------------- workbook packages

def _inspect_zip(data: bytes, name: str, ctx: _Ctx) -> tuple[str | None, list[Problem]]:
    """A zip: an OOXML or ODS workbook (checked, returns its format) or a plain container (returns None)."""
    zf = _open_zip(data, name, ctx.limits)
    infos = zf.infolist()
    names = {i.filename for i in infos}
    problems: list[Problem] = []
    if "xl/workbook.xml" in names:
        fmt = "xlsm" if any(n.lower() == "xl/vbaproject.bin" for n in names) else "xlsx"
        for info in infos:
            part = _scan_member(zf, info, name, "xlsx", ctx)
            if part is not None and info.filename == "[Content_Types].xml" and \
                    (b"macroEnabled" in part or b"vbaProject" in part):
                fmt = "xlsm"
        return fmt, problems
    if "xl/workbook.bin" in names:
        raise _Refused(f"Tệp '{_label(name)}' là sổ Excel dạng nhị phân (.xlsb), chưa đọc được — hãy mở tệp, lưu lại "
                       "dạng .xlsx (Excel Workbook) rồi gửi lại.", "unsupported_format")
    if "mimetype" in names:
        mt = zf.getinfo("mimetype")
        mime = _inflate(zf, mt, name, ctx, cap=1024).strip()
        if mime.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            for info in infos:
                if info.filename != "mimetype":
                    _scan_member(zf, info, name, "ods", ctx)
            return "ods", problems
        if b"opendocument.text" in mime:
            raise _not_workbook(name, "văn bản LibreOffice Writer")
        if b"opendocument" in mime:
            raise _not_workbook(name, "tệp LibreOffice không phải bảng tính")
    if "word/document.xml" in names:
        raise _not_workbook(name, "văn bản Word")
    if "ppt/presentation.xml" in names:
        raise _not_workbook(name, "tệp PowerPoint")
    if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
        raise _Refused(f"Tệp '{_label(name)}' là sổ Excel bị hỏng (thiếu phần xl/workbook.xml) — đề nghị đơn vị lưu "
                       "lại bằng Excel/LibreOffice rồi gửi lại.")
    return None, problems


_DESC = {"xlsx": "sổ Excel (.xlsx)", "xlsm": "sổ Excel có macro (.xlsm)", "xls": "sổ Excel 97–2003 (.xls)",
         "ods": "bảng tính LibreOffice (.ods)"}
_EXT_OK = {"xlsx": ("xlsx", "xltx"), "xlsm": ("xlsm", "xltm"), "xls": ("xls", "xlt"), "ods": ("ods", "ots")}


def _inspect(data: bytes, name: str, ctx: _Ctx) -> tuple[str, str | None, list[Problem]]:
    """(kind, fmt, warnings): kind is 'workbook', 'zip' or 'email'; raises _Refused for a refused file."""
    lim = ctx.limits
    label = _label(name)
    ext = _ext(name)
    if len(data) > lim.max_file_bytes:
        raise _Refused(f"Tệp '{label}' quá lớn ({_mb(len(data))}, giới hạn {_mb(lim.max_file_bytes)}); sổ đề xuất "
                       "chỉ khoảng vài chục KB — tệp bị từ chối.", "too_large")
    kind = sniff(data)
    fmt: str | None = None
    if kind == "empty":
        raise _Refused(f"Tệp '{label}' rỗng (0 byte) — có thể tệp đính kèm bị lỗi khi lưu; đề nghị đơn vị gửi lại.",
                       "empty")
    if kind == "ole":
        fmt = _inspect_ole(data, name, lim)
    elif kind == "zip":
        fmt, _ = _inspect_zip(data, name, ctx)
        if fmt is None:
            return "zip", None, []
    elif kind == "email" or (ext == "eml" and kind in ("text", "other")):
        return "email", None, []
    elif kind == "xml" and (b"opendocument" in data[:4096] or b"urn:schemas-microsoft-com:office:spreadsheet"
                            in data[:4096]):
        raise _Refused(f"Tệp '{label}' là bảng tính dạng XML (Flat ODS hoặc Excel 2003 XML), chưa đọc được — hãy mở "
                       "tệp, lưu lại dạng .xlsx hoặc .ods rồi gửi lại.", "unsupported_format")
    elif kind == "html" and ext in ("xls", "xlsx"):
        raise _Refused(f"Tệp '{label}' mang đuôi '.{ext}' nhưng thực chất là trang web (HTML) — hãy mở tệp bằng "
                       "Excel, lưu lại dạng .xlsx rồi gửi lại.", "unsupported_format")
    else:
        if ext in ("xlsx", "xlsm", "xls", "ods", "xltx", "xlt", "ots") and kind in ("text", "other", "xml"):
            raise _Refused(f"Tệp '{label}' mang đuôi '.{ext}' nhưng không phải sổ Excel/LibreOffice (có thể bị hỏng "
                           "hoặc bị đổi đuôi) — đề nghị đơn vị gửi lại.")
        what = _KIND_WHAT.get(kind) or _NOT_WORKBOOK.get(ext) or "tệp này"
        raise _not_workbook(name, what)
    warnings: list[Problem] = []
    if fmt == "xlsm":
        warnings.append(Problem(name, f"Tệp '{label}' có macro (.xlsm): chỉ đọc giá trị trong ô, macro không bao "
                                      "giờ được chạy.", WARNING, "macro"))
    ok_ext = _EXT_OK[fmt] + (("xlsx",) if fmt == "xlsm" else ())
    if ext not in ok_ext:
        shown = f"đuôi '.{ext}'" if ext else "không có đuôi"
        warnings.append(Problem(name, f"Tệp '{label}' thực chất là {_DESC[fmt]} nhưng mang {shown}; vẫn đọc theo nội "
                                      "dung.", WARNING, "wrong_extension"))
    return "workbook", fmt, warnings


def inspect_bytes(data: bytes, name: str, limits: Limits = Limits()) -> tuple[str | None, list[Problem]]:
    """Sniff one file's bytes and check them; returns (workbook format or None, problems).

    A container (.zip of workbooks, .eml) is not a workbook: it gets an error saying to put
    it in inbox/, where :func:`scan_inbox` unpacks it.
    """
    ctx = _Ctx(name, limits, _Pool(limits.max_uncompressed_bytes))
    try:
        kind, fmt, probs = _inspect(data, name, ctx)
    except _Refused as exc:
        return None, [Problem(name, exc.message, ERROR, exc.code)]
    if kind != "workbook":
        what = "tệp nén .zip" if kind == "zip" else "thư điện tử"
        return None, [Problem(name, f"Tệp '{_label(name)}' là {what}, không phải một sổ đề xuất — hãy đặt vào inbox/ "
                                    "để chương trình tự mở các sổ bên trong.", ERROR, "container")]
    return fmt, probs


# --------------------------------------------------------------------------- containers

def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rejected(name: str, ctx: _Ctx, data: bytes, message: str, code: str, severity: str = ERROR) -> Incoming:
    # keyed by name too: two different broken files with the same bytes (two empty files) both get reported
    return Incoming(name, ctx.origin, b"", None, _sha(data + b"\x00" + name.encode("utf-8", "replace")),
                    ctx.received_at, ctx.sender, [Problem(name, message, severity, code)])


def _safe_member(name: str) -> bool:
    p = name.replace("\\", "/")
    return not (p.startswith("/") or re.match(r"^[A-Za-z]:", p) or ".." in p.split("/") or "\x00" in p)


def _member_name(info: zipfile.ZipInfo) -> str:
    """Best readable name: UTF-8 flag, Info-ZIP Unicode Path field, else guess UTF-8 / cp1258 from the raw bytes."""
    if info.flag_bits & 0x800:
        return unicodedata.normalize("NFC", info.filename)
    extra, i = info.extra, 0
    while i + 4 <= len(extra):
        hid, ln = struct.unpack_from("<HH", extra, i)
        if hid == 0x7075 and ln > 5:
            try:
                return unicodedata.normalize("NFC", extra[i + 9:i + 4 + ln].decode("utf-8"))
            except UnicodeDecodeError:
                break
        i += 4 + ln
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return unicodedata.normalize("NFC", info.filename)
    for enc in ("utf-8", "cp1258"):
        try:
            return unicodedata.normalize("NFC", raw.decode(enc))
        except UnicodeDecodeError:
            continue
    return info.filename


def _ignored(base: str) -> bool:
    low = base.lower()
    return (base.startswith("~$") or base.startswith(".~lock.") or base.startswith(".")
            or low in IGNORED_NAMES or low.endswith(".tmp"))


def _from_zip(data: bytes, name: str, depth: int, ctx: _Ctx) -> Iterator[Incoming]:
    zf = _open_zip(data, name, ctx.limits)
    found = False
    for info in zf.infolist():
        if info.is_dir() or info.filename.endswith("\\"):
            continue
        mname = _member_name(info)
        parts = mname.replace("\\", "/").split("/")
        display = f"{name}{SEP}{mname}"
        if not _safe_member(mname):
            found = True
            yield _rejected(display, ctx, info.filename.encode("utf-8", "replace"),
                            f"Tên tệp trong gói '{_label(name)}' chứa đường dẫn nguy hiểm ('{mname}') — tên này không "
                            "bao giờ được dùng làm đường dẫn; tệp bị bỏ qua.", "zip_traversal")
            continue
        if any(_ignored(p) for p in parts if p):
            continue
        try:
            member = _inflate(zf, info, display, ctx, cap=ctx.limits.max_file_bytes)
        except _StopOrigin:
            raise
        except _Refused as exc:
            found = True
            yield _rejected(display, ctx, info.filename.encode("utf-8", "replace"), exc.message, exc.code)
            continue
        found = True
        yield from _classify(member, display, depth + 1, ctx)
    if not found:
        yield _rejected(name, ctx, data, f"Tệp nén '{_label(name)}' không chứa sổ đề xuất nào.", "empty_container")


_SKIP_ATTACH = ("png", "jpg", "jpeg", "gif", "bmp", "p7s", "p7m", "asc", "sig", "vcf", "ics", "htm", "html", "txt")


def _header_text(value: str) -> str:
    """RFC 2047 words inside a (quoted) parameter, which mailers send although the RFC forbids it."""
    if "=?" in value:
        try:
            value = str(make_header(decode_header(value)))
        except (ValueError, LookupError, UnicodeError, TypeError):
            pass
    return unicodedata.normalize("NFC", value.replace("\r", "").replace("\n", "").strip())


def _leaf_parts(msg, depth: int = 0) -> Iterator:
    """Leaf parts and attached messages (not descended into: their own Date/From apply), bounded depth."""
    if msg.get_content_type() == "message/rfc822" and depth:
        yield msg
    elif msg.is_multipart() and depth < 50:
        for sub in msg.iter_parts() if hasattr(msg, "iter_parts") else msg.get_payload():
            yield from _leaf_parts(sub, depth + 1)
    else:
        yield msg


def _from_email(data: bytes, name: str, depth: int, ctx: _Ctx) -> Iterator[Incoming]:
    try:
        msg = email.message_from_bytes(data, policy=policy.default)
    except Exception:
        yield _rejected(name, ctx, data, f"Không đọc được thư điện tử '{_label(name)}'.", "bad_email")
        return
    warnings: list[Problem] = []
    received_at: datetime | None = None
    raw_date = ""
    try:
        raw_date = str(msg["Date"] or "")
        if raw_date:
            received_at = parsedate_to_datetime(raw_date)
            if received_at.tzinfo is None:      # "-0000": UTC with no local zone known
                received_at = received_at.replace(tzinfo=timezone.utc)
    except (TypeError, ValueError, IndexError, AttributeError):
        received_at = None
        warnings.append(Problem(name, f"Thư '{_label(name)}' có ngày gửi không đọc được ('{raw_date[:60]}') — thời "
                                      "điểm nhận lấy theo ngày tệp vào inbox/.", WARNING, "bad_date_header"))
    try:
        sender = parseaddr(str(msg["From"] or ""))[1].strip().lower() or None
    except Exception:
        sender = None
    sub = _Ctx(ctx.origin, ctx.limits, ctx.pool, received_at or ctx.received_at, sender or ctx.sender)
    found, others, winmail = False, [], False
    for part in _leaf_parts(msg):
        ctype = part.get_content_type()
        try:
            fname = part.get_filename() or part.get_param("name", header="content-type") or ""
        except Exception:
            fname = ""
        fname = _header_text(str(fname))
        disp = part.get_content_disposition()
        if disp != "attachment" and not fname and ctype not in (
                "application/zip", "application/x-zip-compressed", "application/vnd.ms-excel", "message/rfc822",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.oasis.opendocument.spreadsheet"):
            continue
        base = PurePosixPath(fname.replace("\\", "/")).name if fname else ""
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else inner
            if depth + 1 > ctx.limits.max_depth:
                raise _StopOrigin(f"Thư '{_label(name)}' lồng nhau quá nhiều lớp (thư chuyển tiếp trong thư) — bị "
                                  "từ chối.", "too_deep")
            try:
                inner_bytes = inner_msg.as_bytes() if hasattr(inner_msg, "as_bytes") else bytes(inner_msg)
            except Exception:
                continue
            found = True
            yield from _from_email(inner_bytes, f"{name}{SEP}{base or 'thư chuyển tiếp.eml'}", depth + 1, sub)
            continue
        if base.lower() == "winmail.dat" or ctype == "application/ms-tnef":
            winmail = True
            continue
        try:
            payload = part.get_payload(decode=True) or b""
        except Exception:
            payload = b""
        base = base or f"tệp đính kèm.{ctype.split('/')[-1]}"
        if _ignored(base):
            continue
        display = f"{name}{SEP}{base}"
        k = sniff(payload)
        if _ext(base) in _SKIP_ATTACH or ctype.startswith("image/") or k in ("image", "pdf") or \
                (k in ("text", "html") and _ext(base) not in ("xlsx", "xlsm", "xls", "ods", "zip", "eml")):
            others.append(base)
            continue
        found = True
        for inc in _classify(payload, display, depth + 1, sub):
            inc.problems = [Problem(inc.name, p.message, p.severity, p.code) for p in warnings] + inc.problems
            yield inc
    if not found:
        if winmail:
            msg_text = (f"Thư '{_label(name)}' gửi tệp đính kèm dạng winmail.dat (Outlook) nên không có tệp đính kèm "
                        "là sổ đề xuất — đề nghị đơn vị gửi lại, đính kèm sổ như tệp thông thường.")
        else:
            listed = f" (chỉ có: {', '.join(others[:5])})" if others else ""
            msg_text = (f"Thư '{_label(name)}' không có tệp đính kèm là sổ đề xuất (Excel/LibreOffice){listed} — đề "
                        "nghị đơn vị gửi lại thư kèm sổ.")
        yield _rejected(name, sub, data, msg_text, "email_without_workbook")


def _classify(data: bytes, name: str, depth: int, ctx: _Ctx) -> Iterator[Incoming]:
    """One file's bytes (top level, zip member or attachment) -> Incoming(s)."""
    try:
        kind, fmt, probs = _inspect(data, name, ctx)
    except _StopOrigin:
        raise
    except _Refused as exc:
        yield Incoming(name, ctx.origin, b"", None, _sha(data + b"\x00" + name.encode("utf-8", "replace")),
                       ctx.received_at, ctx.sender, [Problem(name, exc.message, ERROR, exc.code)])
        return
    if kind == "workbook":
        yield Incoming(name, ctx.origin, data, fmt, _sha(data), ctx.received_at, ctx.sender, probs)
        return
    if depth >= ctx.limits.max_depth:
        raise _StopOrigin(f"Tệp '{_label(name)}' lồng nhau quá nhiều lớp (tệp nén/thư trong tệp nén/thư) — có thể "
                          "là tệp 'bom nén'; tệp bị từ chối.", "too_deep")
    if kind == "zip":
        yield from _from_zip(data, name, depth, ctx)
    else:
        yield from _from_email(data, name, depth, ctx)


def _from_origin(data: bytes, rel: str, limits: Limits) -> Iterator[Incoming]:
    """Everything from one inbox file; a hostile container ends with one refusal for the whole file."""
    ctx = _Ctx(rel, limits, _Pool(limits.max_uncompressed_bytes))
    try:
        yield from _classify(data, rel, 0, ctx)
    except _Refused as exc:
        msg = exc.message if exc.message.endswith(".") else exc.message + "."
        if f"'{PurePosixPath(rel).name}'" not in msg:     # the refusal named an inner file: name the inbox file too
            msg = f"Tệp '{PurePosixPath(rel).name}' bị từ chối: {msg[:1].lower()}{msg[1:]}"
        yield _rejected(rel, ctx, data, msg, exc.code)


# --------------------------------------------------------------------------- the folder

def _read_file(path: Path, rel: str, limits: Limits) -> bytes:
    """Read a regular file without following a link or blocking on a FIFO; oversize files are never read."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Refused(f"'{rel}' không phải tệp thông thường (thiết bị, ống dẫn…) nên không được đọc.",
                           "not_regular_file")
        if st.st_size > limits.max_file_bytes:
            raise _Refused(f"Tệp '{PurePosixPath(rel).name}' quá lớn ({_mb(st.st_size)}, giới hạn "
                           f"{_mb(limits.max_file_bytes)}); sổ đề xuất chỉ khoảng vài chục KB — tệp bị từ chối.",
                           "too_large")
        chunks, total = [], 0
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            total += len(b)
            if total > limits.max_file_bytes:     # grew while being read
                raise _Refused(f"Tệp '{PurePosixPath(rel).name}' quá lớn — tệp bị từ chối.", "too_large")
            chunks.append(b)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _inside(root: Path, target: Path) -> bool:
    return target == root or root in target.parents


def scan_inbox(inbox: Path, limits: Limits = Limits(), known: set[str] | None = None) -> Iterator[Incoming]:
    """Every candidate workbook in inbox/ (sub-folders too), in a stable order; never writes anything.

    Files whose bytes are in ``known`` (already read and stored) are yielded without their data and
    without being checked again: re-merging thousands of files stays cheap.
    """
    root = Path(inbox).resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        d = Path(dirpath)
        dirnames.sort()
        for dn in list(dirnames):
            p = d / dn
            if _ignored(dn):
                dirnames.remove(dn)
            elif p.is_symlink():
                dirnames.remove(dn)      # never walked: its files are either outside or seen at their real place
                rel = p.relative_to(root).as_posix()
                if not _inside(root, p.resolve()):
                    ctx = _Ctx(rel, limits, _Pool(0))
                    yield _rejected(rel, ctx, b"", f"Thư mục '{rel}' là liên kết (symlink) trỏ ra ngoài thư mục "
                                    "inbox/ nên không được đọc — hãy chép chính các tệp vào inbox/.",
                                    "symlink_outside")
        for fn in sorted(filenames):
            if _ignored(fn):
                continue
            p = d / fn
            rel = p.relative_to(root).as_posix()
            ctx = _Ctx(rel, limits, _Pool(0))
            if p.is_symlink():
                target = p.resolve()
                if not _inside(root, target):
                    yield _rejected(rel, ctx, b"", f"Tệp '{fn}' là liên kết (symlink) trỏ ra ngoài thư mục inbox/ "
                                    "nên không được đọc — hãy chép chính tệp vào inbox/.", "symlink_outside")
                    continue
                p = target
            try:
                data = _read_file(p, rel, limits)
            except _Refused as exc:
                yield _rejected(rel, ctx, b"", exc.message, exc.code)
                continue
            except OSError as exc:
                yield _rejected(rel, ctx, b"", f"Không mở được tệp '{fn}': {exc.strerror or exc}.", "unreadable")
                continue
            if known and (sha := _sha(data)) in known:
                yield Incoming(rel, rel, b"", None, sha)
                continue
            yield from _from_origin(data, rel, limits)
