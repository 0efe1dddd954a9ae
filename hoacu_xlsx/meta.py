"""The ``_meta`` sheet: the public contract that identifies a returned workbook.

A very hidden sheet with key/value rows in columns A:B (documented in
``docs/meta_format.md``). The builder writes it, the reader reads it back, and
outside tools (and the acceptance runs) fill workbooks by it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hoacu_xlsx.messages import reason

SHEET = "_meta"
FORMAT_VERSION = "1"


@dataclass
class SheetLayout:
    """Where one assignment's table lives in the workbook."""

    assignment_id: str
    sheet: str
    header_row: int                      # 1-based
    columns: dict[str, str] = field(default_factory=dict)   # field key -> column letter
    first_data_row: int = 0
    last_data_row: int = 0
    preparer: dict[str, str] = field(default_factory=dict)  # preparer key -> A1 cell


@dataclass
class Meta:
    format_version: str
    year: str
    unit_id: str
    unit_name: str
    assignment_ids: list[str]
    token: str
    generated_at: str
    deadline: str
    layouts: dict[str, SheetLayout] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, str]]:
        """Key/value rows in contract order."""
        out = [
            ("format_version", self.format_version),
            ("year", self.year),
            ("unit_id", self.unit_id),
            ("unit_name", self.unit_name),
            ("assignment_ids", ",".join(self.assignment_ids)),
            ("token", self.token),
            ("generated_at", self.generated_at),
            ("deadline", self.deadline),
        ]
        for aid in self.assignment_ids:
            lay = self.layouts[aid]
            out += [
                (f"sheet:{aid}", lay.sheet),
                (f"header_row:{aid}", str(lay.header_row)),
                (f"first_data_row:{aid}", str(lay.first_data_row)),
                (f"last_data_row:{aid}", str(lay.last_data_row)),
            ]
            out += [(f"field:{aid}:{k}", col) for k, col in lay.columns.items()]
            out += [(f"preparer:{aid}:{k}", cell) for k, cell in lay.preparer.items()]
        out += sorted(self.extra.items())
        return out


class MetaError(ValueError):
    """``_meta`` is present but unusable; the message is Vietnamese."""


REQUIRED_KEYS = ("format_version", "unit_id", "assignment_ids", "token")


def parse_rows(rows: list[list[object]]) -> Meta:
    """Build :class:`Meta` from the sheet's cell rows (values as read, any types)."""
    kv: dict[str, str] = {}
    for row in rows:
        if not row or row[0] is None or row[0] == "":
            continue
        key = cell_text(row[0])
        value = cell_text(row[1]) if len(row) > 1 else ""
        kv.setdefault(key, value)
    missing = [k for k in REQUIRED_KEYS if not kv.get(k)]
    if missing:
        raise MetaError(reason("meta.missing_keys", keys=", ".join(missing)))
    ids = [a.strip() for a in kv["assignment_ids"].split(",") if a.strip()]
    meta = Meta(
        format_version=kv["format_version"],
        year=kv.get("year", ""),
        unit_id=kv["unit_id"],
        unit_name=kv.get("unit_name", ""),
        assignment_ids=ids,
        token=kv["token"],
        generated_at=kv.get("generated_at", ""),
        deadline=kv.get("deadline", ""),
    )
    for aid in ids:
        lay = SheetLayout(aid, kv.get(f"sheet:{aid}", ""), _int(kv.get(f"header_row:{aid}")))
        lay.first_data_row = _int(kv.get(f"first_data_row:{aid}")) or (lay.header_row + 1 if lay.header_row else 0)
        lay.last_data_row = _int(kv.get(f"last_data_row:{aid}"))
        prefix_f, prefix_p = f"field:{aid}:", f"preparer:{aid}:"
        for k, v in kv.items():
            if k.startswith(prefix_f):
                lay.columns[k[len(prefix_f):]] = v.upper()
            elif k.startswith(prefix_p):
                lay.preparer[k[len(prefix_p):]] = v.upper()
        meta.layouts[aid] = lay
    return meta


_CONTROL = re.compile(r"[\x00-\x1f]")


def cell_text(v: object) -> str:
    """A ``_meta`` cell as text, undoing LibreOffice's damage to ``_x…_`` sequences.

    OOXML escapes characters as ``_xHHHH_``; LibreOffice (7.x) also decodes the short forms
    ``_x`` + 1–4 hex digits + ``_`` when they name a control character, so the id
    ``cc_van_hoa_xa_hoi`` comes back as ``cc_van_hoa`` + line feed + ``hoi`` — and is saved
    that way. ``_meta`` never holds control characters: each one read is put back as its
    shortest lowercase escape (line feed -> ``_xa_``), which restores every id written in
    that form (see docs/meta_format.md).
    """
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):x}_", str(v))
    return text.strip()


def _int(v: str | None) -> int:
    try:
        return int(float(v)) if v else 0
    except ValueError:
        return 0
