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
from hoacu_xlsx.catalogue import Assignment, Catalogue, Criterion, NomineeKind
from hoacu_xlsx.problems import ERROR, WARNING, Problem
from hoacu_xlsx.reader import Cell, Located, Table, TableRow, cell_value, formula_error

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


class _TableCheck:
    """What every row of one table is checked against, and how a problem of that table is worded."""

    def __init__(self, table: Table, a: Assignment, c: Catalogue, unit_id: str, file: str) -> None:
        self.table, self.a, self.c, self.unit_id, self.file = table, a, c, unit_id, file
        self.fields = {fd.key: fd for fd in F.fields_for(a)}
        self.lists = {name: {N.fold_key(v): v for v in values} for name, values in F.lists_for(c, a).items()}

    def problem(self, key: str, cell: Cell | None, value: Any = None, severity: str | None = None,
                **fields: Any) -> Problem:
        return T.problem(key, self.file, severity=severity, unit_id=self.unit_id, sheet=self.table.sheet,
                         cell=cell.ref if cell else None, value=None if value is None else str(value)[:200], **fields)

    def blank_cell(self, cell: Cell | None, key: str, row: int) -> Cell | None:
        """The cell a blank value is reported at: the row's own, else where the column is."""
        return cell or _ref(self.table, key, row)


def _check_table(table: Table, a: Assignment, c: Catalogue, unit_id: str, file: str, out: Checked) -> None:
    t = _TableCheck(table, a, c, unit_id, file)
    blocking_columns = any(p.code == "missing_column" and p.sheet == table.sheet for p in out.problems)
    out.preparer[a.id] = _preparer(t, out.problems)
    seen_ids: dict[str, int] = {}
    seen_legacy: dict[str, int] = {}
    for row in table.rows:
        nomination = _check_row(t, row, out.problems, seen_ids, seen_legacy)
        if nomination is not None:
            out.nominations.append(nomination)
    if not any(n.assignment_id == a.id for n in out.nominations) and not blocking_columns:
        out.problems.append(T.problem("no_nominations", file, unit_id=unit_id, sheet=table.sheet,
                                      cell=f"{table.columns.get('ten', 'C')}{table.header_row + 1}",
                                      heading=a.heading, quota=a.quota))


def _preparer(t: _TableCheck, problems: list[Problem]) -> dict[str, str]:
    """The lines above the table: who prepared it, and when."""
    table = t.table
    prep = {key: _text(cell, t.file, t.unit_id, table.sheet, problems) for key, cell in table.preparer.items()}
    if "ngay_lap" in table.preparer:
        cell = table.preparer["ngay_lap"]
        try:
            when = N.parse_date(cell_value(cell.value))
            prep["ngay_lap"] = when.strftime("%d/%m/%Y") if when else ""
        except ValueError:
            problems.append(T.problem("bad_date", t.file, unit_id=t.unit_id, sheet=table.sheet, cell=cell.ref,
                                      value=prep.get("ngay_lap"), text=prep.get("ngay_lap")))
    if not prep.get("nguoi_lap"):
        problems.append(T.problem("no_preparer", t.file, unit_id=t.unit_id, sheet=table.sheet))
    return prep


def _check_row(t: _TableCheck, row: TableRow, problems: list[Problem], seen_ids: dict[str, int],
               seen_legacy: dict[str, int]) -> Nomination | None:
    """One row of the table: its values normalised, its problems; None for a row with nothing in it."""
    probs: list[Problem] = []
    values: dict[str, str] = {}
    broken: dict[str, str] = {}          # field key -> formula error value (#NAME?...)
    for key, cell in row.cells.items():
        values[key] = _text(cell, t.file, t.unit_id, t.table.sheet, probs, key in LONG_TEXT)
        if err := formula_error(cell.value):
            broken[key] = err
    if not any(values.values()) and not broken:
        return None
    if row.outside_table:
        probs.append(t.problem("below_table", next(iter(row.cells.values())), row=row.row))
    kind = _kind(t, row, values, probs)
    for key, fd in t.fields.items():
        _check_field(t, row, key, fd, kind, values, broken, probs)
    errors = sum(p.is_error for p in probs)
    problems.extend(probs)
    name, year = values.get("ten", ""), values.get("nam_sinh", "")
    ident = _numbered(nomination_id, seen_ids, t.unit_id, t.a.id, name, year)
    legacy = _numbered(legacy_nomination_id, seen_legacy, t.unit_id, t.a.id, name, year)
    orig = row.cells.get("ten")
    return Nomination(ident, t.unit_id, t.a.id, values, str(orig.value) if orig else "", t.file, t.table.sheet,
                      row.row, kind.base if kind else None, errors, len(probs) - errors,
                      {k: cl.ref for k, cl in row.cells.items()}, legacy)


def _kind(t: _TableCheck, row: TableRow, values: dict[str, str], probs: list[Problem]) -> NomineeKind | None:
    """The row's nominee kind (its label put as the catalogue writes it), or None."""
    kind_label = values.get("loai_dien_hinh", "")
    if not kind_label:
        return None
    kind_label = t.lists["kinds"].get(N.fold_key(kind_label), kind_label)
    kind = t.a.kind_by_label(kind_label)
    if kind is None:
        other = [x.label for x in t.a.nominee_kinds]
        probs.append(t.problem("kind_not_allowed", row.cells.get("loai_dien_hinh"), values["loai_dien_hinh"],
                               kind=values["loai_dien_hinh"], allowed=", ".join(other)))
    else:
        values["loai_dien_hinh"] = kind.label
    return kind


def _check_field(t: _TableCheck, row: TableRow, key: str, fd: F.Field, kind: NomineeKind | None, values: dict[str, str],
                 broken: dict[str, str], probs: list[Problem]) -> None:
    """One field of one row: required, in its list, a year, a phone…; ``values[key]`` normalised in place."""
    cell = row.cells.get(key)
    val = values.get(key, "")
    required = kind is not None and F.field_required(fd, t.a, kind.id, kind.base)
    if fd.criterion is not None:
        _check_criterion(t, row, key, fd.criterion, kind, required, values, probs)
        return
    if key in broken:
        probs.append(t.problem("formula_error", cell, broken[key],
                               severity=ERROR if required or key in ("loai_dien_hinh", "ten") else WARNING,
                               error=broken[key], header=fd.header))
        return
    if not val:
        if required or (key in ("loai_dien_hinh", "ten")):
            probs.append(t.problem("required_blank/kind" if kind else "required_blank",
                                   t.blank_cell(cell, key, row.row), header=fd.header,
                                   kind=kind.label if kind else ""))
        elif kind is not None and F.field_recommended(fd, kind.id, kind.base):
            probs.append(t.problem("recommended_blank", t.blank_cell(cell, key, row.row), header=fd.header))
        return
    lname = F.list_name(fd, t.c)
    if lname and key != "loai_dien_hinh":
        norm = t.lists[lname].get(N.fold_key(val))
        if norm is None:
            probs.append(t.problem("not_in_list", cell, val, severity=WARNING if lname == "villages" else ERROR,
                                   text=val, header=fd.header))
        else:
            values[key] = norm
    elif fd.kind == "year":
        try:
            y = N.parse_year(cell_value(cell.value) if cell else val)
        except ValueError:
            probs.append(t.problem("bad_year", cell, val, text=val))
            return
        if y is not None and not 1900 <= y <= t.c.year:
            probs.append(t.problem("bad_year/range", cell, val, year=y, last=t.c.year))
            return
        values[key] = str(y) if y is not None else ""
    elif fd.kind == "phone":
        try:
            values[key] = N.parse_phone(cell_value(cell.value) if cell else val) or ""
        except ValueError:
            probs.append(t.problem("bad_phone", cell, val, text=val))
    elif key == "ten":
        values[key] = N.display_name(val) if (kind.base if kind else None) != "tap_the" else val
    if len(values.get(key, "")) > MAX_TEXT:
        values[key] = values[key][:MAX_TEXT]
        probs.append(t.problem("too_long", cell, header=fd.header, limit=f"{MAX_TEXT:,}".replace(",", ".")))


def _check_criterion(t: _TableCheck, row: TableRow, key: str, crit: Criterion, kind: NomineeKind | None,
                     required: bool, values: dict[str, str], probs: list[Problem]) -> None:
    """A criterion column: one of the answers of the list, and about a criterion this kind is judged on."""
    cell = row.cells.get(key)
    val = values.get(key, "")
    if not val:
        if required:
            probs.append(t.problem("criterion_blank", t.blank_cell(cell, key, row.row), number=crit.number,
                                   short=crit.short))
        return
    norm = t.lists["answers"].get(N.fold_key(val))
    if norm is None:
        probs.append(t.problem("not_in_list/criterion", cell, val, text=val, number=crit.number))
        return
    values[key] = norm
    if kind is not None and kind.id not in crit.applies_to:
        probs.append(t.problem("criterion_not_applicable", cell, val, number=crit.number, kind=kind.label))
    elif norm == F.CRITERION_NOT_MET:
        probs.append(t.problem("criterion_not_met", cell, val, number=crit.number, short=crit.short))


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
