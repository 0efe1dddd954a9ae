"""What a file is, by its bytes (never by its name alone), and whether it may go on to the readers."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from hoacu_xlsx.intake.incoming import (MATERIAL, MATERIAL_FORMATS, WORKBOOK, Ctx, Pool, Refused, label, megabytes,
                                        not_workbook)
from hoacu_xlsx.intake.limits import Limits
from hoacu_xlsx.intake.ole import SIGNATURE as _OLE
from hoacu_xlsx.intake.ole import inspect_ole
from hoacu_xlsx.intake.zipparts import inspect_zip
from hoacu_xlsx.problems import ERROR, WARNING, Problem

_EMAIL_HEAD = re.compile(rb"(?i)(from|received|return-path|mime-version|date|subject|to|message-id|delivered-to|"
                         rb"x-[\w-]+|reply-to|cc|content-type|thread-topic|dkim-signature|arc-[\w-]+):")


def _sniff_binary(data: bytes) -> str | None:
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
    return None


def sniff(data: bytes) -> str:
    """What the bytes are, by content: empty | zip | ole | pdf | email | xml | html | rtf | image | text | other."""
    if not data:
        return "empty"
    kind = _sniff_binary(data)
    if kind:
        return kind
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


def extension(name: str) -> str:
    """The lower-case extension of the name the unit gave the file (no dot)."""
    return PurePosixPath(label(name).replace("\\", "/")).suffix.lower().lstrip(".")


_NOT_WORKBOOK = {"csv": "tệp CSV", "tsv": "tệp CSV", "txt": "tệp văn bản", "pdf": "tệp PDF", "doc": "văn bản Word",
                 "docx": "văn bản Word", "docm": "văn bản Word", "odt": "văn bản LibreOffice Writer",
                 "rtf": "văn bản RTF", "jpg": "tệp ảnh", "jpeg": "tệp ảnh", "png": "tệp ảnh", "gif": "tệp ảnh",
                 "bmp": "tệp ảnh", "tif": "tệp ảnh", "tiff": "tệp ảnh", "heic": "tệp ảnh", "webp": "tệp ảnh",
                 "ppt": "tệp PowerPoint", "pptx": "tệp PowerPoint", "rar": "tệp nén RAR", "7z": "tệp nén 7-Zip",
                 "html": "trang web (HTML)", "htm": "trang web (HTML)", "xml": "tệp XML"}
_KIND_WHAT = {"pdf": "tệp PDF", "image": "tệp ảnh", "rtf": "văn bản RTF", "html": "trang web (HTML)",
              "archive": "tệp nén không phải ZIP (RAR/7-Zip/gzip)"}
_DESC = {"xlsx": "sổ Excel (.xlsx)", "xlsm": "sổ Excel có macro (.xlsm)", "xls": "sổ Excel 97–2003 (.xls)",
         "ods": "bảng tính LibreOffice (.ods)"}
_EXT_OK = {"xlsx": ("xlsx", "xltx"), "xlsm": ("xlsm", "xltm"), "xls": ("xls", "xlt"), "ods": ("ods", "ots")}


def _refuse_other(data: bytes, name: str, kind: str) -> Refused:
    """Neither a workbook nor a container: say what it is."""
    ext = extension(name)
    if kind == "xml" and (b"opendocument" in data[:4096] or b"urn:schemas-microsoft-com:office:spreadsheet"
                          in data[:4096]):
        return Refused(f"Tệp '{label(name)}' là bảng tính dạng XML (Flat ODS hoặc Excel 2003 XML), chưa đọc được — hãy "
                       "mở tệp, lưu lại dạng .xlsx hoặc .ods rồi gửi lại.", "unsupported_format")
    if kind == "html" and ext in ("xls", "xlsx"):
        return Refused(f"Tệp '{label(name)}' mang đuôi '.{ext}' nhưng thực chất là trang web (HTML) — hãy mở tệp bằng "
                       "Excel, lưu lại dạng .xlsx rồi gửi lại.", "unsupported_format")
    if ext in ("xlsx", "xlsm", "xls", "ods", "xltx", "xlt", "ots") and kind in ("text", "other", "xml"):
        return Refused(f"Tệp '{label(name)}' mang đuôi '.{ext}' nhưng không phải sổ Excel/LibreOffice (có thể bị hỏng "
                       "hoặc bị đổi đuôi) — đề nghị đơn vị gửi lại.")
    return not_workbook(name, _KIND_WHAT.get(kind) or _NOT_WORKBOOK.get(ext) or "tệp này")


def _warnings(name: str, fmt: str) -> list[Problem]:
    """A macro workbook, or a workbook whose extension says something else."""
    ext, out = extension(name), []
    if fmt == "xlsm":
        out.append(Problem(name, f"Tệp '{label(name)}' có macro (.xlsm): chỉ đọc giá trị trong ô, macro không bao "
                                 "giờ được chạy.", WARNING, "macro"))
    if ext not in _EXT_OK[fmt] + (("xlsx",) if fmt == "xlsm" else ()):
        shown = f"đuôi '.{ext}'" if ext else "không có đuôi"
        out.append(Problem(name, f"Tệp '{label(name)}' thực chất là {_DESC[fmt]} nhưng mang {shown}; vẫn đọc theo nội "
                                 "dung.", WARNING, "wrong_extension"))
    return out


def inspect(data: bytes, name: str, ctx: Ctx) -> tuple[str, str | None, list[Problem]]:
    """(kind, fmt, warnings): kind is 'workbook', 'material', 'zip' or 'email'; raises Refused for a refused file."""
    lim = ctx.limits
    if len(data) > lim.max_file_bytes:
        raise Refused(f"Tệp '{label(name)}' quá lớn ({megabytes(len(data))}, giới hạn {megabytes(lim.max_file_bytes)}); "
                      "sổ đề xuất chỉ khoảng vài chục KB — tệp bị từ chối.", "too_large")
    kind = sniff(data)
    if kind == "empty":
        raise Refused(f"Tệp '{label(name)}' rỗng (0 byte) — có thể tệp đính kèm bị lỗi khi lưu; đề nghị đơn vị gửi "
                      "lại.", "empty")
    if kind == "ole":
        fmt = inspect_ole(data, name, lim)
    elif kind == "zip":
        fmt, _ = inspect_zip(data, name, ctx)
        if fmt is None:
            return "zip", None, []
    elif kind == "email" or (extension(name) == "eml" and kind in ("text", "other")):
        return "email", None, []
    elif (fmt := material_format(data)) is None:
        raise _refuse_other(data, name, kind)
    if fmt in MATERIAL_FORMATS:
        return MATERIAL, fmt, []
    return WORKBOOK, fmt, _warnings(name, fmt)


def material_format(data: bytes) -> str | None:
    """'pdf', 'jpg' or 'png' for a document or photo kept as replication material (by content; never parsed)."""
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return "png"
    return None


def inspect_bytes(data: bytes, name: str, limits: Limits = Limits()) -> tuple[str | None, list[Problem]]:
    """Sniff one file's bytes and check them; returns (workbook format or None, problems).

    A container (.zip of workbooks, .eml) is not a workbook: it gets an error saying to put
    it in inbox/, where :func:`scan_inbox` unpacks it.
    """
    ctx = Ctx(name, limits, Pool(limits.max_uncompressed_bytes))
    try:
        kind, fmt, probs = inspect(data, name, ctx)
    except Refused as exc:
        return None, [Problem(name, exc.message, ERROR, exc.code)]
    if kind == MATERIAL:
        return None, [Problem(name, f"Tệp '{label(name)}' là tài liệu kinh nghiệm ({fmt}), không phải sổ đề xuất — "
                                    "đặt vào inbox/ để được lưu kèm và liệt kê ở trang 'Tài liệu nhân rộng'.", ERROR,
                              "material")]
    if kind != WORKBOOK:
        what = "tệp nén .zip" if kind == "zip" else "thư điện tử"
        return None, [Problem(name, f"Tệp '{label(name)}' là {what}, không phải một sổ đề xuất — hãy đặt vào inbox/ "
                                    "để chương trình tự mở các sổ bên trong.", ERROR, "container")]
    return fmt, probs
