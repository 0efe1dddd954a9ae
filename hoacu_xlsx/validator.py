"""Validate the located tables row by row against the catalogue.

Every value is normalised the same way (NFC, spaces, legacy TCVN3/VNI text, years,
phones, dates) and every check yields a :class:`Problem` with the cell reference and
a Vietnamese message saying what to fix. An error keeps the row from counting; a
warning does not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from hoacu_xlsx import fields as F
from hoacu_xlsx import identity as I
from hoacu_xlsx import messages as T
from hoacu_xlsx import normalize as N
from hoacu_xlsx.catalogue import Assignment, Catalogue
from hoacu_xlsx.problems import ERROR, WARNING, Problem
from hoacu_xlsx.reader import Cell, Located, Table, cell_value, formula_error

MAX_TEXT = 32_000  # Excel keeps at most 32,767 characters in a cell
# long texts keep the unit's line breaks (achievements are often written as lines)
LONG_TEXT = frozenset(f.key for f in (*F.HEAD_FIELDS, *F.TAIL_FIELDS) if f.kind == "long")


@dataclass(slots=True)   # slots: a province round holds hundreds of thousands
class Nomination:
    nomination_id: str
    unit_id: str
    assignment_id: str
    values: dict[str, str]            # field key -> normalised display text
    original_name: str
    file: str
    sheet: str
    row: int
    kind_base: str | None = None
    errors: int = 0
    warnings: int = 0
    refs: dict[str, str] = field(default_factory=dict)   # field key -> A1 cell in the returned file
    legacy_id: str = ""               # the id releases before identity.py gave this row (store upgrades)

    @property
    def valid(self) -> bool:
        return self.errors == 0

    @property
    def person_key(self) -> str:
        """Name (diacritics kept, see identity.person_key) plus birth year: finds the same person twice."""
        return f"{I.person_key(self.values.get('ten', ''))}|{self.values.get('nam_sinh', '')}"


@dataclass
class Checked:
    nominations: list[Nomination] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    preparer: dict[str, dict[str, str]] = field(default_factory=dict)   # assignment id -> key -> text


def nomination_id(unit_id: str, assignment_id: str, name: str, year: str, seq: int) -> str:
    """Stable across versions: the same person in a newer file keeps the id (and the officer's notes).

    The name is folded by :func:`identity.person_key` (diacritics kept): two people whose names
    differ by one diacritic get two ids, whatever order the unit's rows are in.
    """
    base = f"{unit_id}|{assignment_id}|{I.person_key(name)}|{year}|{seq}"
    return "DH-" + hashlib.sha1(base.encode()).hexdigest()[:10].upper()


def legacy_nomination_id(unit_id: str, assignment_id: str, name: str, year: str, seq: int) -> str:
    """The id before identity.py (diacritics folded away): read once to carry old stores' decisions over."""
    base = f"{unit_id}|{assignment_id}|{N.fold_key(name)}|{year}|{seq}"
    return "DH-" + hashlib.sha1(base.encode()).hexdigest()[:10].upper()


def check(located: Located, catalogue: Catalogue, file: str) -> Checked:
    out = Checked()
    if located.unit is None:
        return out
    for table in located.tables:
        a = catalogue.assignment(table.assignment_id)
        if a is None:
            continue
        _check_table(table, a, catalogue, located.unit.id, file, out)
    return out


def _check_table(table: Table, a: Assignment, c: Catalogue, unit_id: str, file: str, out: Checked) -> None:
    fields = {fd.key: fd for fd in F.fields_for(a)}
    lists = F.lists_for(c, a)
    folded_lists = {name: {N.fold_key(v): v for v in values} for name, values in lists.items()}
    seen_ids: dict[str, int] = {}
    seen_legacy: dict[str, int] = {}
    blocking_columns = any(p.code == "missing_column" and p.sheet == table.sheet for p in out.problems)
    prep: dict[str, str] = {}
    for key, cell in table.preparer.items():
        prep[key] = _text(cell, file, unit_id, table.sheet, out.problems)
    out.preparer[a.id] = prep
    if "ngay_lap" in table.preparer:
        cell = table.preparer["ngay_lap"]
        try:
            when = N.parse_date(cell_value(cell.value))
            prep["ngay_lap"] = when.strftime("%d/%m/%Y") if when else ""
        except ValueError:
            out.problems.append(T.problem("bad_date", file, unit_id=unit_id, sheet=table.sheet, cell=cell.ref,
                                          value=prep.get("ngay_lap"), text=prep.get("ngay_lap")))
    if not prep.get("nguoi_lap"):
        out.problems.append(T.problem("no_preparer", file, unit_id=unit_id, sheet=table.sheet))
    counted = 0
    for row in table.rows:
        probs: list[Problem] = []

        def add(key: str, cell: Cell | None, value: Any = None, severity: str | None = None, **fields: Any) -> None:
            probs.append(T.problem(key, file, severity=severity, unit_id=unit_id, sheet=table.sheet,
                                   cell=cell.ref if cell else None,
                                   value=None if value is None else str(value)[:200], **fields))

        values: dict[str, str] = {}
        broken: dict[str, str] = {}          # field key -> formula error value (#NAME?...)
        for key, cell in row.cells.items():
            values[key] = _text(cell, file, unit_id, table.sheet, probs, key in LONG_TEXT)
            if err := formula_error(cell.value):
                broken[key] = err
        if not any(values.values()) and not broken:
            continue
        if row.outside_table:
            add("below_table", next(iter(row.cells.values())), row=row.row)
        kind_label = values.get("loai_dien_hinh", "")
        kind = None
        if kind_label:
            kind_label = folded_lists["kinds"].get(N.fold_key(kind_label), kind_label)
            kind = a.kind_by_label(kind_label)
            if kind is None:
                other = [x.label for x in a.nominee_kinds]
                add("kind_not_allowed", row.cells.get("loai_dien_hinh"), values["loai_dien_hinh"],
                    kind=values["loai_dien_hinh"], allowed=", ".join(other))
            else:
                values["loai_dien_hinh"] = kind.label
        base = kind.base if kind else None
        for key, fd in fields.items():
            cell = row.cells.get(key)
            val = values.get(key, "")
            required = kind is not None and F.field_required(fd, a, kind.id, kind.base)
            if fd.criterion is not None:
                applies = kind is None or kind.id in fd.criterion.applies_to
                if not val:
                    if required:
                        add("criterion_blank", cell or _ref(table, key, row.row), number=fd.criterion.number,
                            short=fd.criterion.short)
                    continue
                norm = folded_lists["answers"].get(N.fold_key(val))
                if norm is None:
                    add("not_in_list/criterion", cell, val, text=val, number=fd.criterion.number)
                    continue
                values[key] = norm
                if not applies:
                    add("criterion_not_applicable", cell, val, number=fd.criterion.number,
                        kind=kind.label)  # type: ignore[union-attr]
                elif norm == F.CRITERION_NOT_MET:
                    add("criterion_not_met", cell, val, number=fd.criterion.number, short=fd.criterion.short)
                continue
            if key in broken:
                add("formula_error", cell, broken[key],
                    severity=ERROR if required or key in ("loai_dien_hinh", "ten") else WARNING,
                    error=broken[key], header=fd.header)
                continue
            if not val:
                if required or (key in ("loai_dien_hinh", "ten")):
                    add("required_blank/kind" if kind else "required_blank", cell or _ref(table, key, row.row),
                        header=fd.header, kind=kind.label if kind else "")
                elif kind is not None and F.field_recommended(fd, kind.id, kind.base):
                    add("recommended_blank", cell or _ref(table, key, row.row), header=fd.header)
                continue
            lname = F.list_name(fd, c)
            if lname and key != "loai_dien_hinh":
                norm = folded_lists[lname].get(N.fold_key(val))
                if norm is None:
                    add("not_in_list", cell, val, severity=WARNING if lname == "villages" else ERROR, text=val,
                        header=fd.header)
                else:
                    values[key] = norm
            elif fd.kind == "year":
                try:
                    y = N.parse_year(cell_value(cell.value) if cell else val)
                except ValueError:
                    add("bad_year", cell, val, text=val)
                    continue
                if y is not None and not 1900 <= y <= c.year:
                    add("bad_year/range", cell, val, year=y, last=c.year)
                    continue
                values[key] = str(y) if y is not None else ""
            elif fd.kind == "phone":
                try:
                    values[key] = N.parse_phone(cell_value(cell.value) if cell else val) or ""
                except ValueError:
                    add("bad_phone", cell, val, text=val)
            elif key == "ten":
                values[key] = N.display_name(val) if base != "tap_the" else val
            if len(values.get(key, "")) > MAX_TEXT:
                values[key] = values[key][:MAX_TEXT]
                add("too_long", cell, header=fd.header, limit=f"{MAX_TEXT:,}".replace(",", "."))
        errors = sum(p.is_error for p in probs)
        out.problems.extend(probs)
        name, year = values.get("ten", ""), values.get("nam_sinh", "")
        ident = _numbered(nomination_id, seen_ids, unit_id, a.id, name, year)
        legacy = _numbered(legacy_nomination_id, seen_legacy, unit_id, a.id, name, year)
        orig = row.cells.get("ten")
        out.nominations.append(Nomination(
            ident, unit_id, a.id, values, str(orig.value) if orig else "", file, table.sheet, row.row,
            base, errors, len(probs) - errors, {k: cl.ref for k, cl in row.cells.items()}, legacy))
        counted += errors == 0
    if not any(n.assignment_id == a.id for n in out.nominations) and not blocking_columns:
        out.problems.append(T.problem("no_nominations", file, unit_id=unit_id, sheet=table.sheet,
                                      cell=f"{table.columns.get('ten', 'C')}{table.header_row + 1}",
                                      heading=a.heading, quota=a.quota))


def _numbered(make: Any, seen: dict[str, int], unit_id: str, aid: str, name: str, year: str) -> str:
    """The row's id; the same key again in one table gets the next sequence number."""
    first = make(unit_id, aid, name, year, 0)
    seq = seen.get(first, 0)
    seen[first] = seq + 1
    return make(unit_id, aid, name, year, seq) if seq else first


def _ref(table: Table, key: str, row: int) -> Cell | None:
    col = table.columns.get(key)
    return Cell(f"{col}{row}", None) if col else None


def _text(cell: Cell, file: str, unit_id: str, sheet: str, probs: list[Problem], multiline: bool = False) -> str:
    """Cell value -> clean NFC text (line breaks kept in long texts); legacy-encoded Vietnamese converted, warned."""
    v = cell_value(cell.value)
    text = N.clean_multiline(v) if multiline else N.clean_text(v)
    if isinstance(v, str) and text:
        fixed, enc = N.fix_legacy(text)
        if enc:
            label = T.reason(f"encoding.{enc}") if f"encoding.{enc}" in T.REASONS else enc
            probs.append(T.problem("legacy_encoding", file, unit_id=unit_id, sheet=sheet, cell=cell.ref,
                                   value=text[:200], encoding=label, fixed=fixed[:60]))
            text = fixed
    return text


def cross_duplicates(nominations: list[Nomination]) -> list[Problem]:
    """Maybe the same person nominated twice, in one file or by two units.

    Only names equal after :func:`identity.person_key` (case, spacing, Unicode form, legacy
    encodings folded; diacritics kept) and the same birth year: 'Lê Thị Hà' and 'Lê Thị Hạ'
    are two people and are not reported.
    """
    seen: dict[str, Nomination] = {}
    out: list[Problem] = []
    for n in nominations:
        if n.kind_base == "tap_the" or not n.values.get("ten"):
            continue
        key = n.person_key
        first = seen.get(key)
        if first is None:
            seen[key] = n
            continue
        out.append(T.problem("duplicate_person" if first.unit_id == n.unit_id else "duplicate_person/other_unit",
                             n.file, unit_id=n.unit_id, sheet=n.sheet, cell=n.refs.get("ten"),
                             value=n.values["ten"], name=n.values["ten"],
                             born=n.values.get("nam_sinh") or T.reason("born.unknown"), first_file=first.file,
                             first_sheet=first.sheet, first_row=first.row, first_unit=first.unit_id))
    return out
