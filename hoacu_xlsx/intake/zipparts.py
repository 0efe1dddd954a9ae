"""Zip packages (.xlsx/.xlsm/.ods and plain .zip): checked headers, bounded inflation, part scanning.

Zip bombs: declared sizes are checked, then every part is *stream*-inflated in 64 KB steps
against running caps (per part, per inbox file, inflation ratio); only stored and deflated
parts are accepted (bzip2/LZMA can inflate a 64 KB step to gigabytes). Parts are inflated
from the raw bytes, not through zipfile: headers are not trusted, so the stream must end
exactly at the declared size with the declared CRC (another reader may inflate it all).
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zipfile
import zlib
from typing import Callable, Iterator

from hoacu_xlsx import messages as T
from hoacu_xlsx.intake.incoming import (Ctx, Refused, megabytes, not_workbook, password, refusal,
                                      thousands)
from hoacu_xlsx.intake.limits import Limits
from hoacu_xlsx.intake.xmlparts import PartScanner
from hoacu_xlsx.problems import Problem

_CHUNK = 1 << 16


def corrupt(name: str) -> Refused:
    return refusal("refused/zip_corrupt", name)


def _precheck(data: bytes, name: str, limits: Limits) -> None:
    """Read the end-of-directory record before zipfile builds one object per entry."""
    i = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if i < 0 or i + 22 > len(data):
        raise corrupt(name)
    n_total, cd_size = struct.unpack_from("<HI", data, i + 10)
    if (n_total == 0xFFFF or cd_size == 0xFFFFFFFF) and data[i - 20:i - 16] == b"PK\x06\x07":
        off, = struct.unpack_from("<Q", data, i - 12)
        if data[off:off + 4] == b"PK\x06\x06":
            n_total, cd_size = struct.unpack_from("<QQ", data, off + 32)
    if n_total > limits.max_members or cd_size > limits.max_members * 1024:
        raise refusal("refused/zip_members", name, count=thousands(n_total), limit=thousands(limits.max_members))


def open_zip(data: bytes, name: str, limits: Limits) -> zipfile.ZipFile:
    """A ZipFile over checked bytes; any zipfile error becomes a Vietnamese refusal."""
    _precheck(data, name, limits)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError, struct.error):
        raise corrupt(name) from None
    zf.hoacu_raw = data            # members are inflated from these bytes, not through zipfile
    if len(zf.infolist()) > limits.max_members:
        raise refusal("refused/zip_members_listed", name)
    return zf


def _bomb(name: str, detail: str, *, stop: bool = False) -> Refused:
    return refusal("refused/zip_bomb", name, stop=stop, detail=detail)


def _broken(name: str, info: zipfile.ZipInfo) -> Refused:
    return refusal("refused/zip_part_broken", name, part=info.filename)


def _compressed(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> memoryview:
    """The member's compressed bytes, located from its local header in the raw archive."""
    raw = getattr(zf, "hoacu_raw", None)
    off = info.header_offset
    if raw is None or raw[off:off + 4] != b"PK\x03\x04":
        raise _broken(name, info)
    n, m = struct.unpack_from("<HH", raw, off + 26)
    start = off + 30 + n + m
    comp = memoryview(raw)[start:start + info.compress_size]
    if len(comp) != info.compress_size:
        raise _broken(name, info)
    return comp


def _chunks(comp: memoryview, deflated: bool) -> Iterator[tuple[bytes, bool]]:
    """Inflated chunks of at most 64 KB, each with whether the deflate stream has ended so far."""
    if not deflated:
        for pos in range(0, len(comp), _CHUNK):
            yield bytes(comp[pos:pos + _CHUNK]), True
        yield b"", True
        return
    d = zlib.decompressobj(-15)
    pos, pending = 0, b""
    while True:
        if pending:
            chunk = d.decompress(pending, _CHUNK)
        elif pos < len(comp):
            chunk = d.decompress(comp[pos:pos + _CHUNK], _CHUNK)
            pos += _CHUNK
        else:
            chunk = d.flush(_CHUNK) if not d.eof else b""
        pending = d.unconsumed_tail
        if chunk:
            yield chunk, d.eof
        elif d.eof or (not pending and pos >= len(comp)):
            yield b"", d.eof
            return


def _member_cap(info: zipfile.ZipInfo, name: str, ctx: Ctx, cap: int | None) -> int:
    """Refuse from the headers alone when they already say too much; the member's own cap."""
    lim = ctx.limits
    if info.flag_bits & 0x1:
        raise password(name)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise refusal("refused/zip_method", name, part=info.filename)
    own = min(lim.max_member_bytes, cap or lim.max_member_bytes)
    if info.file_size > own:
        raise _bomb(name, T.reason("zip.part_declares", part=info.filename, size=megabytes(info.file_size),
                                   limit=megabytes(own)))
    if info.file_size > ctx.pool.left:
        raise _bomb(name, T.reason("zip.total", limit=megabytes(lim.max_uncompressed_bytes)), stop=True)
    return own


def _check_running(total: int, own: int, info: zipfile.ZipInfo, name: str, ctx: Ctx) -> None:
    lim, part = ctx.limits, info.filename
    if total > own:
        raise _bomb(name, T.reason("zip.part_over", part=part, limit=megabytes(own)))
    if total > ctx.pool.left:
        raise _bomb(name, T.reason("zip.total", limit=megabytes(lim.max_uncompressed_bytes)), stop=True)
    if total > 2 * 2**20 and total > lim.max_ratio * max(info.compress_size, 1):
        raise _bomb(name, T.reason("zip.ratio", part=part, ratio=lim.max_ratio))
    if total > info.file_size:
        raise refusal("refused/zip_size_lie", name, part=part)


def inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, ctx: Ctx,
            sink: Callable[[bytes], None] | None = None, keep: bool = True, cap: int | None = None) -> bytes:
    """Inflate one member in 64 KB steps against running caps, straight from the raw deflate data."""
    own = _member_cap(info, name, ctx, cap)
    out = bytearray() if keep else None
    total = crc = 0
    ended = False
    try:
        for chunk, ended in _chunks(_compressed(zf, info, name), info.compress_type == zipfile.ZIP_DEFLATED):
            if not chunk:
                continue
            total += len(chunk)
            _check_running(total, own, info, name, ctx)
            crc = zlib.crc32(chunk, crc)
            if sink is not None:
                sink(chunk)
            if out is not None:
                out += chunk
        if not ended or total != info.file_size or crc != info.CRC:
            raise _broken(name, info)
    except (zlib.error, struct.error, ValueError):
        raise _broken(name, info) from None
    finally:
        ctx.pool.left -= total       # refused parts count too: thousands of half-bombs still end the file
    return bytes(out) if out is not None else b""


def _scan_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, kind: str, ctx: Ctx) -> bytes | None:
    """Inflate one part through the checks; returns its bytes only when small and wanted (content types)."""
    sc = PartScanner(name, info.filename, kind, ctx.limits)
    want = info.filename in ("[Content_Types].xml", "mimetype")
    data = inflate(zf, info, name, ctx, sink=sc.feed, keep=want, cap=None)
    sc.close()
    ctx.error_values |= sc.error_values
    return data if want else None


def _inspect_ooxml(zf: zipfile.ZipFile, name: str, ctx: Ctx) -> str:
    names = {i.filename for i in zf.infolist()}
    fmt = "xlsm" if any(n.lower() == "xl/vbaproject.bin" for n in names) else "xlsx"
    for info in zf.infolist():
        if ctx.defer_parts and info.filename != "[Content_Types].xml":
            _member_cap(info, name, ctx, None)     # what its header says; inflated and scanned by the reader
            continue
        part = _scan_member(zf, info, name, "xlsx", ctx)
        if part is not None and info.filename == "[Content_Types].xml" and \
                (b"macroEnabled" in part or b"vbaProject" in part):
            fmt = "xlsm"
    return fmt


def _inspect_odf(zf: zipfile.ZipFile, name: str, ctx: Ctx) -> str | None:
    """An OpenDocument package: 'ods' when it is a spreadsheet, 'odt' for a text (both checked), refused otherwise."""
    mime = inflate(zf, zf.getinfo("mimetype"), name, ctx, cap=1024).strip()
    if mime.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        for info in zf.infolist():
            if info.filename != "mimetype":
                _scan_member(zf, info, name, "ods", ctx)
        return "ods"
    if mime == b"application/vnd.oasis.opendocument.text":
        return _check_material(zf, name, ctx, "odt")
    if b"opendocument" in mime:
        raise not_workbook(name, T.reason("zip.other_libreoffice"))
    return None


def macro_document(name: str) -> Refused:
    return refusal("material_macro", name)


def _check_material(zf: zipfile.ZipFile, name: str, ctx: Ctx, fmt: str) -> str:
    """A write-up (.docx / .odt), kept for the officer and never parsed: every part inflated against the
    zip-bomb caps and scanned for DTDs (a hostile file must not reach the officer's Word); no macros."""
    names = [i.filename for i in zf.infolist()]
    if any(n.lower() == "word/vbaproject.bin" or n.startswith(("Basic/", "Scripts/")) for n in names):
        raise macro_document(name)
    for info in zf.infolist():
        part = _scan_member(zf, info, name, "document", ctx)
        if part is not None and info.filename == "[Content_Types].xml" and b"macroEnabled" in part:
            raise macro_document(name)
    return fmt


def inspect_zip(data: bytes, name: str, ctx: Ctx) -> tuple[str | None, list[Problem]]:
    """A zip: an OOXML or ODS workbook or a .docx/.odt write-up (checked, returns its format) or a plain
    container (returns None)."""
    zf = open_zip(data, name, ctx.limits)
    names = {i.filename for i in zf.infolist()}
    if "xl/workbook.xml" in names:
        return _inspect_ooxml(zf, name, ctx), []
    if "xl/workbook.bin" in names:
        raise refusal("unsupported_format/xlsb", name)
    if "mimetype" in names and (fmt := _inspect_odf(zf, name, ctx)):
        return fmt, []
    if "word/document.xml" in names:
        return _check_material(zf, name, ctx, "docx"), []
    if "ppt/presentation.xml" in names:
        raise not_workbook(name, T.reason("zip.powerpoint"))
    if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
        raise refusal("refused/no_workbook_part", name)
    return None, []


# --------------------------------------------------------------------------- members of a plain .zip


def safe_member(name: str) -> bool:
    """False for names that would leave a folder if ever used as a path (never done; reported)."""
    p = name.replace("\\", "/")
    return not (p.startswith("/") or re.match(r"^[A-Za-z]:", p) or ".." in p.split("/") or "\x00" in p)


def member_name(info: zipfile.ZipInfo) -> str:
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
