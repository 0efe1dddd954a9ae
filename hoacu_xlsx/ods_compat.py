"""Let python-calamine read .ods files it refuses only because of their layout (Gnumeric's).

Gnumeric indents content.xml (newlines and spaces between elements); python-calamine's ODS
reader then stops at the first whitespace text between a row and its cells ("Expecting
'table-cell'"). Whitespace that contains a line break and sits between two tags is never
cell text in a spreadsheet (a cell's lines are separate <text:p> elements), so removing it
changes no value. The copy is made only for the reader; the original bytes are what the
store keeps.
"""

from __future__ import annotations

import io
import re
import zipfile

_INDENT = re.compile(rb">[ \t\r]*\n[ \t\r\n]*<")
MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def is_ods(data: bytes) -> bool:
    """An OpenDocument spreadsheet package (the mimetype member comes first, stored)."""
    return data[:2] == b"PK" and MIMETYPE in data[:200]


def without_indentation(data: bytes) -> bytes | None:
    """The package with content.xml's indentation removed; None when there was none to remove.

    The bytes have passed the intake (every part's size and CRC checked), so inflating is bounded.
    """
    out = io.BytesIO()
    changed = False
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "content.xml":
                body, n = _INDENT.subn(b"><", body)
                changed = n > 0
            dst.writestr(info.filename, body,
                         compress_type=zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED)
    return out.getvalue() if changed else None
