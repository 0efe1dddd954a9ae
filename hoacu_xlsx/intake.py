"""Intake: find the files in inbox/, tell what each one is, unpack containers, refuse hostile ones.

Every file came by email and is untrusted. Nothing here writes anywhere or follows a
link out of inbox/; containers (.zip, .eml) are read in memory with caps; workbook
bytes are checked before python-calamine or openpyxl ever see them:

* zip bombs: declared sizes are not trusted — members are inflated in chunks against
  running caps (per member, per file, and a ratio);
* XML attacks: any ``<!DOCTYPE``/``<!ENTITY`` in a workbook's XML is refused (Excel and
  LibreOffice never write one) — this stops "billion laughs" and external entities (XXE);
* huge used ranges: python-calamine allocates the whole rectangle of a sheet, so a cell
  at XFD1048576 (or an .ods row repeated a million times *with content*) is refused.

Each refusal is a Vietnamese :class:`Problem` naming the file; the scan goes on.
"""

from __future__ import annotations

import email
import hashlib
import io
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Iterator

from hoacu_xlsx.problems import ERROR, WARNING, Problem

WORKBOOK_FORMATS = ("xlsx", "xlsm", "xls", "ods")
IGNORED_NAMES = {"thumbs.db", "desktop.ini", "readme.md", ".ds_store"}
_SEP = " › "


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 50 * 2**20          # a returned workbook is ~30 KB
    max_uncompressed_bytes: int = 120 * 2**20  # all parts of one workbook, inflated
    max_member_bytes: int = 80 * 2**20        # one part inflated
    max_ratio: int = 400                      # inflated / compressed, for parts over 4 MB
    max_members: int = 5000
    max_rows: int = 100_000
    max_cols: int = 1_000
    max_cells: int = 2_000_000                # rows x cols of a sheet's rectangle
    max_depth: int = 2                        # containers inside containers


@dataclass
class Incoming:
    """One candidate workbook (or a refused file) from inbox/."""

    name: str
    origin: str
    data: bytes
    fmt: str | None
    sha256: str
    received_at: datetime | None = None
    sender: str | None = None
    problems: list[Problem] = field(default_factory=list)


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------- sniffing

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _u16(s: str) -> bytes:
    return s.encode("utf-16-le")


def sniff(data: bytes) -> str:
    """What the bytes are: xlsx-zip | ods-zip | zip | ole-xls | ole-encrypted | ole-msg | ole-other | pdf | ... ."""
    if not data:
        return "empty"
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return "zip"
    if data[:8] == _OLE:
        if _u16("EncryptedPackage") in data or _u16("EncryptionInfo") in data:
            return "ole-encrypted"
        if _u16("__substg1.0_") in data:
            return "ole-msg"
        if _u16("Workbook") in data or _u16("Book") in data:
            return "ole-encrypted" if _xls_filepass(data) else "ole-xls"
        return "ole-other"
    if data[:5] == b"%PDF-":
        return "pdf"
    head = data[:2048].lstrip().lower()
    if head[:1] in (b"{", b"[") or head.startswith(b"<html") or head.startswith(b"<!doctype html"):
        return "text"
    if re.match(rb"(?i)(from|received|return-path|mime-version|date|subject|to|message-id|delivered-to|x-[\w-]+):",
                head):
        return "email"
    return "other"


def _xls_filepass(data: bytes) -> bool:
    """Excel 97–2003 with a password: the FILEPASS record (0x002F) follows the workbook's BOF record."""
    at = data.find(b"\x09\x08\x10\x00", 512)
    while at != -1 and at < 1 << 20:
        nxt = at + 4 + 16
        if data[nxt:nxt + 2] == b"\x2f\x00":
            return True
        if data[at + 4:at + 6] == b"\x00\x06" and data[at + 6:at + 8] == b"\x05\x00":  # workbook globals BOF
            return False
        at = data.find(b"\x09\x08\x10\x00", at + 4)
    return False


def _ext(name: str) -> str:
    return PurePosixPath(name).suffix.lower().lstrip(".")


# --------------------------------------------------------------------------- zip reading with caps


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, budget: list[int], name: str) -> bytes:
    """Read one member, never trusting its declared size."""
    cap = min(limits.max_member_bytes, budget[0])
    if info.file_size > cap:
        raise _Refused(f"nén quá mức bất thường (phần '{info.filename}' khai {_n(info.file_size)} byte khi giải nén) — "
                       "có thể là tệp 'bom nén'; tệp bị từ chối")
    out = bytearray()
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(1 << 16)
                if not chunk:
                    break
                out += chunk
                if len(out) > cap:
                    raise _Refused("giải nén vượt giới hạn an toàn — có thể là tệp 'bom nén'; tệp bị từ chối")
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        if "encrypted" in str(exc).lower() or "password" in str(exc).lower():
            raise _Refused("tệp được đặt mật khẩu — đơn vị cần gỡ mật khẩu rồi gửi lại") from None
        raise _Refused(f"tệp bị hỏng (không giải nén được phần '{info.filename}')") from None
    if len(out) > 4 * 2**20 and info.compress_size and len(out) / info.compress_size > limits.max_ratio:
        raise _Refused("tỉ lệ nén bất thường — có thể là tệp 'bom nén'; tệp bị từ chối")
    budget[0] -= len(out)
    return bytes(out)


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, EOFError, ValueError, OSError):
        raise _Refused("tệp bị hỏng hoặc bị cắt cụt (không mở được như tệp nén .xlsx/.ods/.zip)") from None


# --------------------------------------------------------------------------- workbook checks

_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)
_DTD16 = re.compile(re.escape(_u16("<!")) + rb"(?:\s\x00)*" + b"(?:D\x00O\x00C\x00|E\x00N\x00T\x00)", re.I)
_CELL_REF = re.compile(rb' r="([A-Z]{1,4})(\d{1,8})"')   # cell references (row refs carry no letters)
_ROW_REF = re.compile(rb' r="(\d{1,9})"')
_FAR_CELL = re.compile(rb' r="(?:[A-Z]{3,}\d|[A-Z]{1,2}\d{5,}")')  # a column past ZZ or a row past 9999


def _n(x: int) -> str:
    """Vietnamese thousands separator: 1048576 -> '1.048.576'."""
    return f"{x:,}".replace(",", ".")


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _check_xml(part: bytes, pname: str) -> None:
    if _DTD.search(part, 0, 65536) or (part[:2] in (b"\xff\xfe", b"\xfe\xff") and _DTD16.search(part)):
        raise _Refused(f"chứa khai báo XML không an toàn (DOCTYPE/ENTITY trong '{pname}') — có thể là tệp tấn "
                       "công; tệp bị từ chối")
    if _DTD.search(part, 65536):
        raise _Refused(f"chứa khai báo XML không an toàn (DOCTYPE/ENTITY trong '{pname}'); tệp bị từ chối")


def _too_big(rows: int, cols: int, limits: Limits, where: str) -> None:
    if rows > limits.max_rows or cols > limits.max_cols or rows * cols > limits.max_cells:
        raise _Refused(f"vùng dữ liệu quá lớn ({where}: {_n(rows)} dòng × {_n(cols)} cột) — hãy xóa các dòng, cột "
                       "thừa rồi gửi lại")


def _check_sheet_xml(part: bytes, pname: str, limits: Limits) -> None:
    max_row = max(map(int, _ROW_REF.findall(part)), default=0)
    if max_row * 702 <= limits.max_cells and not _FAR_CELL.search(part):
        return  # fast path: no row beyond the <row> tags, columns at most ZZ
    cells = _CELL_REF.findall(part)
    max_row = max(max_row, max((int(r) for _, r in cells), default=0))
    letters = max((c for c, _ in cells), key=lambda c: (len(c), c), default=b"")
    _too_big(max_row, _col_number(letters), limits, pname)


_ODS_ROW = re.compile(rb'<table:table-row\b[^>]*?table:number-rows-repeated="(\d+)"[^>]*?(/?)>')
_ODS_COL = re.compile(rb'<table:table-cell\b[^>]*?table:number-columns-repeated="(\d+)"[^>]*?(/?)>')


def _check_ods_content(part: bytes, limits: Limits) -> None:
    """Repeated rows/cells are fine when empty (LibreOffice writes them for trailing space), not with content."""
    for m in _ODS_ROW.finditer(part):
        n = int(m.group(1))
        if n > limits.max_rows and not m.group(2):
            end = part.find(b"</table:table-row>", m.end())
            body = part[m.end(): end if end > 0 else m.end() + 4096]
            if b"<text:p" in body or b"office:value" in body:
                _too_big(n, 1, limits, "content.xml")
    for m in _ODS_COL.finditer(part):
        n = int(m.group(1))
        if n > limits.max_cols and not m.group(2):
            end = part.find(b"</table:table-cell>", m.end())
            body = part[m.end(): end if end > 0 else m.end() + 4096]
            if b"<text:p" in body:
                _too_big(1, n, limits, "content.xml")


def _check_ooxml(zf: zipfile.ZipFile, limits: Limits) -> str:
    names = {i.filename: i for i in zf.infolist()}
    if len(names) > limits.max_members:
        raise _Refused("tệp có quá nhiều thành phần bên trong — tệp bị từ chối")
    fmt = "xlsm" if "xl/vbaProject.bin" in names else "xlsx"
    budget = [limits.max_uncompressed_bytes]
    for pname, info in names.items():
        low = pname.lower()
        if not (low.endswith(".xml") or low.endswith(".rels") or low.endswith(".vml")):
            continue
        if not (low.startswith("xl/") or low.startswith("[content_types]") or low.startswith("_rels/")
                or low.startswith("docprops/")):
            continue
        part = _inflate(zf, info, limits, budget, pname)
        _check_xml(part, pname)
        if low.startswith("xl/worksheets/") and low.endswith(".xml"):
            _check_sheet_xml(part, pname, limits)
        if low == "[content_types].xml" and b"macroEnabled" in part:
            fmt = "xlsm"
    return fmt


def _check_ods(zf: zipfile.ZipFile, limits: Limits) -> None:
    budget = [limits.max_uncompressed_bytes]
    for info in zf.infolist():
        low = info.filename.lower()
        if low.endswith(".xml") or low.endswith(".rdf"):
            part = _inflate(zf, info, limits, budget, info.filename)
            _check_xml(part, info.filename)
            if low == "content.xml":
                _check_ods_content(part, limits)


def inspect_bytes(data: bytes, name: str, limits: Limits = Limits()) -> tuple[str | None, list[Problem]]:
    """Sniff one file's bytes and check them; returns (workbook format or None, problems)."""
    problems: list[Problem] = []
    ext = _ext(name)

    def warn(msg: str, code: str) -> None:
        problems.append(Problem(name, msg, WARNING, code))

    def refuse(msg: str, code: str) -> tuple[None, list[Problem]]:
        problems.append(Problem(name, msg, ERROR, code))
        return None, problems

    if len(data) > limits.max_file_bytes:
        return refuse(f"Tệp quá lớn ({len(data) // 2**20} MB); sổ đề xuất chỉ khoảng vài chục KB — tệp bị từ chối.",
                      "too_large")
    kind = sniff(data)
    if kind == "empty":
        return refuse("Tệp rỗng (0 byte) — có thể lưu tệp đính kèm bị lỗi; đề nghị đơn vị gửi lại.", "empty")
    if kind == "ole-encrypted":
        return refuse("Tệp được đặt mật khẩu nên không đọc được — đề nghị đơn vị gỡ mật khẩu rồi gửi lại.",
                      "password")
    if kind == "ole-msg":
        return refuse("Thư Outlook dạng .msg chưa đọc được — hãy mở thư và lưu tệp đính kèm (hoặc lưu thư dạng .eml) "
                      "vào inbox/.", "msg_unsupported")
    if kind == "ole-xls":
        if ext not in ("xls", "xlt"):
            warn(f"Tệp là Excel 97–2003 (.xls) nhưng mang đuôi '.{ext}'; vẫn đọc theo nội dung.", "wrong_extension")
        return "xls", problems
    if kind == "zip":
        try:
            zf = _open_zip(data)
            names = set(zf.namelist())
            if "xl/workbook.xml" in names:
                fmt = _check_ooxml(zf, limits)
                if fmt == "xlsm":
                    warn("Tệp có macro (.xlsm): chỉ đọc giá trị trong ô, macro không bao giờ được chạy.", "macro")
                if ext not in ("xlsx", "xlsm", "xltx", "xltm"):
                    warn(f"Tệp là sổ Excel (.{fmt}) nhưng mang đuôi '.{ext}'; vẫn đọc theo nội dung.",
                         "wrong_extension")
                return fmt, problems
            mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
            if b"opendocument.spreadsheet" in mimetype:
                _check_ods(zf, limits)
                if ext != "ods":
                    warn(f"Tệp là bảng tính LibreOffice (.ods) nhưng mang đuôi '.{ext}'; vẫn đọc theo nội dung.",
                         "wrong_extension")
                return "ods", problems
            if "word/document.xml" in names or b"opendocument.text" in mimetype:
                return refuse("Tệp văn bản (Word) không phải sổ đề xuất (Excel/LibreOffice) — đề nghị đơn vị gửi lại "
                              "đúng sổ đã nhận.", "not_workbook")
            return None, problems  # a plain .zip: a container, handled by the caller
        except _Refused as exc:
            return refuse(_sentence(exc.message), "refused")
        except (zipfile.BadZipFile, KeyError, OSError, ValueError):
            return refuse("Tệp bị hỏng hoặc bị cắt cụt — đề nghị đơn vị gửi lại.", "corrupt")
    if kind == "pdf":
        return refuse("Tệp PDF không phải sổ đề xuất (Excel/LibreOffice) — đề nghị đơn vị gửi lại đúng sổ đã nhận.",
                      "not_workbook")
    if ext in ("xlsx", "xlsm", "xls", "ods"):
        return refuse(f"Tệp mang đuôi '.{ext}' nhưng không phải sổ Excel/LibreOffice (có thể bị hỏng hoặc bị đổi "
                      "đuôi) — đề nghị đơn vị gửi lại.", "corrupt")
    what = {"csv": "Tệp CSV", "txt": "Tệp văn bản", "doc": "Tệp Word", "docx": "Tệp Word", "jpg": "Tệp ảnh",
            "png": "Tệp ảnh", "jpeg": "Tệp ảnh"}.get(ext, "Tệp này")
    return refuse(f"{what} không phải sổ đề xuất (Excel/LibreOffice) — đề nghị đơn vị gửi lại đúng sổ đã nhận.",
                  "not_workbook")


def _sentence(msg: str) -> str:
    msg = msg[:1].upper() + msg[1:]
    return msg if msg.endswith(".") else msg + "."


# --------------------------------------------------------------------------- containers


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safe_member(name: str) -> bool:
    p = name.replace("\\", "/")
    return not (p.startswith("/") or re.match(r"^[A-Za-z]:", p) or ".." in p.split("/"))


def _member_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437", errors="replace")
    for enc in ("utf-8", "cp1258"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return info.filename


def _from_zip(data: bytes, name: str, origin: str, depth: int, limits: Limits,
              received_at: datetime | None, sender: str | None) -> Iterator[Incoming]:
    try:
        zf = _open_zip(data)
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > limits.max_members:
            raise _Refused("tệp nén có quá nhiều tệp bên trong — tệp bị từ chối")
        budget = [limits.max_uncompressed_bytes]
        found = False
        for info in infos:
            mname = _member_name(info)
            base = PurePosixPath(mname.replace("\\", "/")).name
            display = f"{name}{_SEP}{mname}"
            if not _safe_member(mname):
                yield _rejected(display, origin, data, "Tên tệp trong tệp nén chứa đường dẫn nguy hiểm "
                                f"('{mname}'); tệp này bị bỏ qua.", "zip_traversal")
                continue
            if _ignored(base):
                continue
            member = _inflate(zf, info, limits, budget, mname)
            found = True
            yield from _classify(member, display, origin, depth + 1, limits, received_at, sender)
        if not found:
            yield _rejected(name, origin, data, "Tệp nén không chứa sổ đề xuất nào.", "empty_container")
    except _Refused as exc:
        yield _rejected(name, origin, data, _sentence(exc.message), "refused")


def _from_email(data: bytes, name: str, origin: str, depth: int, limits: Limits) -> Iterator[Incoming]:
    try:
        msg = email.message_from_bytes(data, policy=policy.default)
    except Exception:
        yield _rejected(name, origin, data, "Không đọc được thư điện tử (.eml) này.", "bad_email")
        return
    received_at: datetime | None = None
    try:
        if msg["Date"]:
            received_at = parsedate_to_datetime(str(msg["Date"]))
            if received_at.tzinfo is None:
                received_at = received_at.astimezone()
    except (TypeError, ValueError, IndexError):
        received_at = None
    sender = parseaddr(str(msg["From"] or ""))[1].lower() or None
    found = False
    for part in msg.walk():
        if part.is_multipart():
            continue
        fname = part.get_filename()
        ctype = part.get_content_type()
        if part.get_content_disposition() != "attachment" and not fname:
            continue
        try:
            payload = part.get_payload(decode=True) or b""
        except Exception:
            payload = b""
        fname = fname or f"tep_dinh_kem.{ctype.split('/')[-1]}"
        if ctype == "message/rfc822" and depth < limits.max_depth:
            inner = part.get_payload()
            inner_bytes = inner[0].as_bytes() if isinstance(inner, list) and inner else payload
            found = True
            yield from _from_email(inner_bytes, f"{name}{_SEP}{fname}", origin, depth + 1, limits)
            continue
        base = PurePosixPath(fname.replace("\\", "/")).name
        if _ignored(base) or _ext(base) in ("png", "jpg", "jpeg", "gif", "p7s", "asc", "sig", "vcf", "ics"):
            continue
        found = True
        yield from _classify(payload, f"{name}{_SEP}{base}", origin, depth + 1, limits, received_at, sender)
    if not found:
        inc = _rejected(name, origin, data, "Thư không có tệp đính kèm là sổ đề xuất (Excel/LibreOffice).",
                        "email_without_workbook")
        inc.received_at, inc.sender = received_at, sender
        yield inc


def _rejected(name: str, origin: str, data: bytes, message: str, code: str) -> Incoming:
    return Incoming(name, origin, b"", None, _sha(data + name.encode()), problems=[Problem(name, message, ERROR, code)])


def _classify(data: bytes, name: str, origin: str, depth: int, limits: Limits,
              received_at: datetime | None = None, sender: str | None = None) -> Iterator[Incoming]:
    kind = sniff(data)
    ext = _ext(name)
    if kind == "zip" or kind == "email" or ext == "eml":
        fmt, probs = inspect_bytes(data, name, limits)
        if fmt is None and not probs and kind == "zip":
            if depth >= limits.max_depth:
                yield _rejected(name, origin, data, "Tệp nén lồng nhau quá nhiều lớp; tệp bị từ chối.", "too_deep")
                return
            yield from _from_zip(data, name, origin, depth, limits, received_at, sender)
            return
        if kind == "email" or (ext == "eml" and fmt is None and not any(p.code != "not_workbook" for p in probs)):
            if depth >= limits.max_depth + 1:
                yield _rejected(name, origin, data, "Thư lồng nhau quá nhiều lớp; bị bỏ qua.", "too_deep")
                return
            yield from _from_email(data, name, origin, depth, limits)
            return
        yield Incoming(name, origin, data if fmt else b"", fmt, _sha(data), received_at, sender, probs)
        return
    fmt, probs = inspect_bytes(data, name, limits)
    yield Incoming(name, origin, data if fmt else b"", fmt, _sha(data), received_at, sender, probs)


# --------------------------------------------------------------------------- the folder


def _ignored(base: str) -> bool:
    low = base.lower()
    return (base.startswith("~$") or base.startswith(".~lock.") or base.startswith(".")
            or low in IGNORED_NAMES or low.endswith(".tmp"))


def _read_file(path: Path, limits: Limits) -> bytes:
    """Read a regular file without following a link, refusing oversize files before reading them."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Refused("không phải tệp thường")
        if st.st_size > limits.max_file_bytes:
            raise _Refused(f"tệp quá lớn ({st.st_size // 2**20} MB) — tệp bị từ chối")
        chunks = []
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)
    finally:
        os.close(fd)


def scan_inbox(inbox: Path, limits: Limits = Limits(), known: set[str] | None = None) -> Iterator[Incoming]:
    """Every candidate workbook in inbox/ (sub-folders too), in a stable order; never writes anything.

    Files whose bytes are in ``known`` (already read and stored) are yielded without their data and
    without being checked again: re-merging thousands of files stays cheap.
    """
    root = inbox.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        d = Path(dirpath)
        dirnames.sort()
        for dn in list(dirnames):
            p = d / dn
            if dn.startswith("."):
                dirnames.remove(dn)
            elif p.is_symlink():
                dirnames.remove(dn)
                rel = p.relative_to(root).as_posix()
                target = p.resolve()
                if root not in target.parents and target != root:
                    yield _rejected(rel, rel, rel.encode(), "Thư mục liên kết (symlink) trỏ ra ngoài inbox/ — không "
                                    "được đọc.", "symlink_outside")
        for fn in sorted(filenames):
            if _ignored(fn):
                continue
            p = d / fn
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                target = p.resolve()
                if root not in target.parents:
                    yield _rejected(rel, rel, rel.encode(), "Tệp liên kết (symlink) trỏ ra ngoài inbox/ — không được "
                                    "đọc.", "symlink_outside")
                    continue
                p = target
            try:
                data = _read_file(p, limits)
            except _Refused as exc:
                yield _rejected(rel, rel, rel.encode(), _sentence(exc.message), "refused")
                continue
            except OSError as exc:
                yield _rejected(rel, rel, rel.encode(), f"Không mở được tệp: {exc.strerror or exc}.", "unreadable")
                continue
            if known and (sha := _sha(data)) in known:
                yield Incoming(rel, rel, b"", None, sha)
                continue
            yield from _classify(data, rel, rel, 0, limits)
