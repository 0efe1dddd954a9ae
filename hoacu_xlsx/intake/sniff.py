"""What a file is, by its bytes (never by its name alone), and whether it may go on to the readers."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from hoacu_xlsx import messages as T
from hoacu_xlsx.intake.incoming import (MATERIAL, MATERIAL_FORMATS, WORKBOOK, Ctx, Pool, Refused, label, megabytes,
                                        not_workbook, refusal)
from hoacu_xlsx.intake.limits import Limits
from hoacu_xlsx.intake.ole import SIGNATURE as _OLE
from hoacu_xlsx.intake.ole import inspect_ole
from hoacu_xlsx.intake.zipparts import inspect_zip
from hoacu_xlsx.problems import ERROR, Problem

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


# what a file is instead of a workbook, by its extension or its sniffed kind: messages.REASONS["what.<key>"]
_NOT_WORKBOOK = {"csv": "csv", "tsv": "csv", "txt": "text", "pdf": "pdf", "doc": "word", "docx": "word", "docm": "word",
                 "odt": "writer", "rtf": "rtf", "jpg": "image", "jpeg": "image", "png": "image", "gif": "image",
                 "bmp": "image", "tif": "image", "tiff": "image", "heic": "image", "webp": "image",
                 "ppt": "powerpoint", "pptx": "powerpoint", "rar": "rar", "7z": "7z", "html": "html", "htm": "html",
                 "xml": "xml"}
_KIND_WHAT = {"pdf": "pdf", "image": "image", "rtf": "rtf", "html": "html", "archive": "archive"}
_EXT_OK = {"xlsx": ("xlsx", "xltx"), "xlsm": ("xlsm", "xltm"), "xls": ("xls", "xlt"), "ods": ("ods", "ots")}


def _refuse_other(data: bytes, name: str, kind: str) -> Refused:
    """Neither a workbook nor a container: say what it is."""
    ext = extension(name)
    if kind == "xml" and (b"opendocument" in data[:4096] or b"urn:schemas-microsoft-com:office:spreadsheet"
                          in data[:4096]):
        return refusal("unsupported_format/flat_xml", name)
    if kind == "html" and ext in ("xls", "xlsx"):
        return refusal("unsupported_format/html", name, ext=ext)
    if ext in ("xlsx", "xlsm", "xls", "ods", "xltx", "xlt", "ots") and kind in ("text", "other", "xml"):
        return refusal("refused/fake_extension", name, ext=ext)
    return not_workbook(name, T.reason("what." + (_KIND_WHAT.get(kind) or _NOT_WORKBOOK.get(ext) or "this")))


def _warnings(name: str, fmt: str) -> list[Problem]:
    """A macro workbook, or a workbook whose extension says something else."""
    ext, out = extension(name), []
    if fmt == "xlsm":
        out.append(T.problem("macro", name, name=label(name)))
    if ext not in _EXT_OK[fmt] + (("xlsx",) if fmt == "xlsm" else ()):
        shown = T.reason("extension.named", ext=ext) if ext else T.reason("extension.none")
        out.append(T.problem("wrong_extension", name, name=label(name), what=T.reason("format." + fmt), shown=shown))
    return out


def inspect(data: bytes, name: str, ctx: Ctx) -> tuple[str, str | None, list[Problem]]:
    """(kind, fmt, warnings): kind is 'workbook', 'material', 'zip' or 'email'; raises Refused for a refused file."""
    lim = ctx.limits
    if len(data) > lim.max_file_bytes:
        raise refusal("too_large", name, size=megabytes(len(data)), limit=megabytes(lim.max_file_bytes))
    kind = sniff(data)
    if kind == "empty":
        raise refusal("empty", name)
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
        return None, [T.problem("material", name, name=label(name), fmt=fmt)]
    if kind != WORKBOOK:
        what = T.reason("what.zip" if kind == "zip" else "what.email")
        return None, [T.problem("container", name, name=label(name), what=what)]
    return fmt, probs
