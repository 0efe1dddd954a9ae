"""Read returned workbooks: bytes -> raw cells (python-calamine), raw cells -> tables.

Reading is split in two so the slow part runs once per file content, in worker
processes, and its result is kept in the store:

* :func:`read_raw` turns the bytes of an .xlsx/.xlsm/.xls/.ods into plain JSON-able
  sheets of non-empty cells (cached formula values, nothing evaluated);
* :func:`locate` finds, in those cells, the ``_meta`` contract, the unit, and each
  assignment's table — by header labels, so inserted rows or columns and reordered
  columns do not break it — and returns the data rows with their cell references.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Callable

from hoacu_xlsx import fields as F
from hoacu_xlsx import meta as M
from hoacu_xlsx.cells import a1, col_index, col_letter, parse_a1  # noqa: F401 - re-exported (reader.a1 ...)
from hoacu_xlsx import messages as T
from hoacu_xlsx.catalogue import Assignment, Catalogue, Unit
from hoacu_xlsx.normalize import fold_key
from hoacu_xlsx.problems import Problem

READER_VERSION = 2      # 2: formula error values kept ({"$err": "#NAME?"})
MAX_CELLS = 300_000      # per workbook; the intake already bounds the used range
HEADER_SCAN_ROWS = 80    # the header row is searched for in the first rows of a sheet


class ReadError(Exception):
    """The file cannot be read as a workbook; the message is Vietnamese."""


# --------------------------------------------------------------------------- raw cells


def _jsonable(v: Any) -> Any:
    if isinstance(v, datetime):
        return {"$dt": v.isoformat()}
    if isinstance(v, date):
        return {"$d": v.isoformat()}
    if isinstance(v, (time, timedelta)):
        return str(v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v


def cell_value(v: Any) -> Any:
    """Inverse of the JSON encoding of dates used in raw cells (a formula error reads as blank)."""
    if isinstance(v, dict):
        if "$err" in v:
            return ""
        if "$dt" in v:
            return datetime.fromisoformat(v["$dt"])
        if "$d" in v:
            return date.fromisoformat(v["$d"])
    return v


def read_raw(data: bytes, error_values: bool | None = None) -> dict[str, Any]:
    """Every sheet's non-empty cells: {"sheets": [{name, visible, cells: [[r, c, v]...], merged}]}.

    ``error_values``: whether the intake's part scan saw a formula error value (False spares the search
    for their texts; None: not known, searched)."""
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises many error types for broken files
        raise ReadError(_calamine_message(exc)) from None
    sheets = []
    total = 0
    try:
        for md in wb.sheets_metadata:
            if "WorkSheet" not in str(md.typ):
                continue
            try:
                sh = wb.get_sheet_by_name(md.name)
                rows = sh.to_python(skip_empty_area=False)
            except Exception as exc:
                raise ReadError(T.reason("read.sheet", sheet=md.name, reason=_calamine_message(exc))) from None
            cells = []
            for r, row in enumerate(rows):
                for c, v in enumerate(row):
                    if v is None or v == "":
                        continue
                    cells.append([r, c, v if type(v) is str else _jsonable(v)])   # text: most cells
            total += len(cells)
            if total > MAX_CELLS:
                raise ReadError(T.reason("read.too_many_cells", limit=f"{MAX_CELLS:,}".replace(",", ".")))
            try:
                merged = [[a[0], a[1], b[0], b[1]] for a, b in (sh.merged_cell_ranges or [])]
            except Exception:
                merged = []
            sheets.append({"name": md.name, "visible": str(md.visible).rsplit(".", 1)[-1].lower(),
                           "cells": cells, "merged": merged})
    finally:
        wb.close()
    if data[:2] == b"PK" and error_values is not False:
        _add_error_cells(data, sheets)
    return {"sheets": sheets}


def formula_error(v: Any) -> str | None:
    """'#NAME?' when a raw cell holds a formula error value, else None."""
    return v["$err"] if isinstance(v, dict) and "$err" in v else None


_ERR_CELL = re.compile(rb'<(?:\w+:)?c\b([^>]*\bt="e"[^>]*)>(.*?)</(?:\w+:)?c>', re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_VAL = re.compile(rb"<(?:\w+:)?v>([^<]*)</")


def _add_error_cells(data: bytes, sheets: list[dict[str, Any]]) -> None:
    """calamine reads a formula error (#NAME?, #REF!...) as an empty cell: find them in the .xlsx XML.

    Sheet parts are only searched for the error marker; the workbook is parsed only when one has it.
    .ods and .xls are not scanned (known gap).
    """
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            parts = {n: x for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")
                     and b't="e"' in (x := z.read(n))}
            if parts:
                _merge_error_cells(z, parts, sheets)
    except Exception:  # the cells calamine read stand; an unreadable error scan only loses the error text
        return


def _merge_error_cells(z: Any, parts: dict[str, bytes], sheets: list[dict[str, Any]]) -> None:
    import posixpath

    from defusedxml import ElementTree as ET

    ns_r = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    rels = {r.get("Id"): r.get("Target", "") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
    by_name = {s["name"]: s for s in sheets}
    for el in ET.fromstring(z.read("xl/workbook.xml")).iter():
        if not el.tag.endswith("}sheet") or el.get("name") not in by_name:
            continue
        target = rels.get(el.get(ns_r) or "", "")
        xml = parts.get(target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}"))
        if xml is None:
            continue
        found: dict[tuple[int, int], Any] = {}
        for m in _ERR_CELL.finditer(xml):
            ref, val = _REF.search(m.group(1)), _VAL.search(m.group(2))
            if ref:
                r, c = int(ref.group(2)) - 1, col_index(ref.group(1).decode())
                found[(r, c)] = {"$err": (val.group(1).decode("utf-8", "replace") if val else "#ERR")[:20]}
        sheet = by_name[el.get("name")]
        sheet["cells"] = [x for x in sheet["cells"] if (x[0], x[1]) not in found]
        sheet["cells"] += [[r, c, v] for (r, c), v in sorted(found.items())]


def _calamine_message(exc: Exception) -> str:
    """A Vietnamese reason for a python-calamine error; its English text never reaches the officer."""
    low = str(exc).lower()
    return T.reason("read.password" if "password" in low or "encrypt" in low else "read.damaged")


# --------------------------------------------------------------------------- grid helpers


class Grid:
    """Sparse cells of one sheet, addressed 0-based."""

    def __init__(self, sheet: dict[str, Any]) -> None:
        self.name: str = sheet["name"]
        self.visible: str = sheet.get("visible", "visible")
        self.cells: dict[tuple[int, int], Any] = {(r, c): v for r, c, v in sheet["cells"]}
        self.merged: list[list[int]] = sheet.get("merged", [])
        self.max_row = max((r for r, _ in self.cells), default=-1)

    def get(self, r: int, c: int) -> Any:
        return self.cells.get((r, c))

    def text(self, r: int, c: int) -> str:
        v = self.cells.get((r, c))
        return "" if v is None or isinstance(v, dict) else str(v).strip()

    def row(self, r: int) -> dict[int, Any]:
        return {c: v for (rr, c), v in self.cells.items() if rr == r}


_fold = fold_key


# --------------------------------------------------------------------------- locating tables


@dataclass
class Cell:
    ref: str
    value: Any


@dataclass
class TableRow:
    row: int                      # 1-based sheet row
    cells: dict[str, Cell]        # field key -> cell
    outside_table: bool = False   # typed below the rows the workbook offered


@dataclass
class Table:
    assignment_id: str
    sheet: str
    header_row: int               # 1-based
    columns: dict[str, str]       # field key -> letter, as found
    rows: list[TableRow] = field(default_factory=list)
    preparer: dict[str, Cell] = field(default_factory=dict)


@dataclass
class Located:
    """What a returned workbook says, before row validation."""

    unit: Unit | None
    identified_by: str | None     # token | meta | sheet | filename
    meta: M.Meta | None
    tables: list[Table]
    problems: list[Problem]
    sheet_unit_name: str | None = None


def _meta_of(grids: list[Grid]) -> tuple[M.Meta | None, str | None]:
    for g in grids:
        if g.name == M.SHEET or g.name.strip().lower() == M.SHEET:
            rows: dict[int, list[Any]] = {}
            for (r, c), v in g.cells.items():
                if c < 2:
                    rows.setdefault(r, [None, None])[c] = v
            try:
                return M.parse_rows([rows[r] for r in sorted(rows)]), None
            except M.MetaError as exc:
                return None, str(exc)
    return None, T.reason("meta.missing")


def _unit_name_in_sheets(grids: list[Grid]) -> str | None:
    """The unit name written next to 'Đơn vị:' above an entry table."""
    label = _fold(F.UNIT_LABEL)
    for g in grids:
        near_top = sorted((rc, v) for rc, v in g.cells.items()
                          if rc[0] <= HEADER_SCAN_ROWS and isinstance(v, str) and len(v) < 12)
        for (r, c), v in near_top:
            if _fold(v) == label:
                for cc in range(c + 1, c + 8):
                    t = g.text(r, cc)
                    if t:
                        return t
    return None




@functools.lru_cache(maxsize=256)
def _header_labels(a: Assignment) -> dict[str, str]:
    """folded header label -> field key."""
    out = {}
    for fd in F.fields_for(a):
        out[_fold(fd.header)] = fd.key
    return out


_TC = re.compile(r"^tc\s*(\d+)\b")


def _match_header(text: str, labels: dict[str, str], a: Assignment, prefix: bool = True) -> str | None:
    folded = _fold(text)
    if not folded:
        return None
    if folded in labels:
        return labels[folded]
    m = _TC.match(folded)
    if m:
        key = f"tc_{int(m.group(1))}"
        return key if any(c.key == key for c in a.criteria) else None
    if not prefix:
        return None
    # a header shortened or extended by the unit: accept a unique prefix match
    cands = [k for lbl, k in labels.items() if lbl.startswith(folded) or folded.startswith(lbl)]
    return cands[0] if len(cands) == 1 and len(folded) >= 4 else None


def _header_rows(g: Grid, a: Assignment, labels: dict[str, str], last: int) -> dict[int, dict[str, int]]:
    """Row -> {field key: column} of the exact header labels found in the rows up to ``last`` (0-based)."""
    by_row: dict[int, dict[str, int]] = {}
    for (r, c), v in g.cells.items():
        if r <= last and isinstance(v, str):
            key = _match_header(v, labels, a, prefix=False)
            if key:
                by_row.setdefault(r, {}).setdefault(key, c)
    return by_row


def _first_best(by_row: dict[int, dict[str, int]]) -> tuple[int, dict[str, int]] | None:
    best: tuple[int, dict[str, int]] | None = None
    for r, found in by_row.items():
        if best is None or len(found) > len(best[1]):
            best = (r, found)
    return best


def _find_header(g: Grid, a: Assignment, expected: int | None = None) -> tuple[int, dict[str, int]] | None:
    """The row holding most of the assignment's header labels (exact labels first, then prefixes).

    ``expected``: the header row _meta names (0-based). When the rows down to it already hold one with
    every column, no row below can hold more, so the data rows are not looked at (the same answer, sooner).
    """
    labels = _header_labels(a)
    if expected is not None and expected < HEADER_SCAN_ROWS:
        best = _first_best(_header_rows(g, a, labels, expected))
        if best is not None and len(best[1]) == _key_count(a) and len(best[1]) >= 3:
            return best
    by_row = _header_rows(g, a, labels, HEADER_SCAN_ROWS)
    best_row = max(by_row, key=lambda r: len(by_row[r]), default=None)
    if best_row is not None and len(by_row[best_row]) < len(labels) - 1:
        for (r, c), v in g.cells.items():  # a unit edited some headers: try prefix matches on the likely row(s)
            if r == best_row and isinstance(v, str):
                key = _match_header(v, labels, a, prefix=True)
                if key:
                    by_row[r].setdefault(key, c)
    best = _first_best(by_row)
    if best is None or len(best[1]) < 3:
        return None
    return best


@functools.lru_cache(maxsize=256)
def _key_count(a: Assignment) -> int:
    """How many field keys a header row can hold at most (see _match_header)."""
    return len(set(_header_labels(a).values()) | {c.key for c in a.criteria})


Note = Callable[..., None]   # note(problem key, **fields): a problem of the file being located


def locate(raw: dict[str, Any], catalogue: Catalogue, issued: dict[str, str], file: str,
           *, file_unit_hint: str | None = None, force_unit: str | None = None) -> Located:
    """Identify the unit and find each assignment's table in a raw workbook.

    ``force_unit``: the officer's verdict credits the file to this unit, whatever it says.
    A 'Đơn vị:' cell naming another unit is reported by the caller (``sheet_unit_name``).
    """
    grids = [Grid(s) for s in raw["sheets"]]
    problems: list[Problem] = []

    def note(key: str, **kw: Any) -> None:
        problems.append(T.problem(key, file, **kw))

    meta, meta_issue = _meta_of(grids)
    sheet_name = _unit_name_in_sheets(grids)
    if meta is not None and meta.year and meta.year != str(catalogue.year):
        # a workbook of another round (an old file resent, a unit's stale copy): reported, never credited
        owner = f" ({meta.unit_name})" if meta.unit_name else ""
        note("other_year", year=meta.year, owner=owner, current=catalogue.year, value=meta.year)
        return Located(None, None, meta, [], problems, sheet_name)
    unit, how = _identify(catalogue, issued, meta, meta_issue, sheet_name, file_unit_hint, force_unit, note)
    if unit is None:
        return Located(None, None, meta, [], problems, sheet_name)
    tables: list[Table] = []
    held = catalogue.assignments_of(unit.id)
    used: set[str] = set()
    wanted_ids = meta.assignment_ids if meta else [a.id for a in held]
    for aid in wanted_ids:
        a = catalogue.assignment(aid)
        if a is None or not a.nominations:
            note("unknown_assignment", assignment=aid, value=aid)
            continue
        if a not in held:
            note("assignment_not_held", unit=unit.name, heading=a.heading, value=aid)
            continue
        lay = meta.layouts.get(aid) if meta else None
        table = _locate_table(grids, a, lay, file, unit, problems, used)
        if table is not None:
            tables.append(table)
            used.add(table.sheet)
    for a in held:
        if a.id not in wanted_ids:
            note("assignment_missing", heading=a.heading)
    _other_sheets(grids, used, note)
    return Located(unit, how, meta, tables, problems, sheet_name)


def _identify(catalogue: Catalogue, issued: dict[str, str], meta: M.Meta | None, meta_issue: str | None,
              sheet_name: str | None, file_unit_hint: str | None, force_unit: str | None,
              note: Note) -> tuple[Unit | None, str | None]:
    """Which unit sent the workbook, and how that is known: the officer's verdict, the issued token, the unit id
    in _meta, the unit name in the sheet, the file name — in that order; (None, None) with a problem noted."""
    sheet_unit = catalogue.unit_by_name(sheet_name) if sheet_name else None
    if force_unit and (unit := catalogue.unit(force_unit)):
        return unit, "officer"
    if meta is not None:
        token_unit = issued.get(meta.token)
        if token_unit and (unit := catalogue.unit(token_unit)):
            if meta.unit_id != token_unit:
                note("meta_edited", meta_unit=meta.unit_id, unit=unit.name, value=meta.unit_id)
            return unit, "token"
        if unit := catalogue.unit(meta.unit_id):
            if issued:
                note("unknown_token", value=meta.token)
            return unit, "meta"
        meta_issue = T.reason("meta.unknown_unit", unit_id=meta.unit_id)
    if sheet_unit is not None:
        note("identified_by_name", reason=meta_issue, unit=sheet_unit.name, value=sheet_name)
        return sheet_unit, "sheet"
    if file_unit_hint and (unit := catalogue.unit(file_unit_hint)):
        note("identified_by_filename", reason=meta_issue, unit=unit.name)
        return unit, "filename"
    note("unidentified", reason=meta_issue, value=sheet_name)
    return None, None


def _other_sheets(grids: list[Grid], used: set[str], note: Note) -> None:
    """Sheets holding no table: typing on the instructions sheet and extra sheets are warned."""
    for g in grids:
        if g.name in used or g.name == M.SHEET:
            continue
        if g.name.startswith("DanhMuc") or g.visible != "visible":
            continue
        if _fold(g.name) == _fold("Hướng dẫn"):
            typed = [a1(r, c) for (r, c) in g.cells if c >= 3 or r > 200]
            if typed:
                note("typed_on_instructions", cells=", ".join(typed[:5]), sheet=g.name, cell=typed[0])
            continue
        if g.cells:
            note("extra_sheet", sheet=g.name)


def _locate_table(grids: list[Grid], a: Assignment, lay: M.SheetLayout | None, file: str, unit: Unit,
                  problems: list[Problem], used: set[str]) -> Table | None:
    found = _find_table(grids, a, lay, used)
    if found is None:
        problems.append(T.problem("table_missing", file, unit_id=unit.id, sheet=lay.sheet if lay else None,
                                  heading=a.heading, layout_sheet=lay.sheet if lay else ""))
        return None
    g, hr, cols = found
    if lay and g.name != lay.sheet:
        problems.append(T.problem("sheet_renamed", file, unit_id=unit.id, sheet=g.name, old=lay.sheet))
    if lay and lay.header_row and hr + 1 != lay.header_row:
        problems.append(T.problem("rows_shifted", file, unit_id=unit.id, sheet=g.name, old_row=lay.header_row,
                                  new_row=hr + 1))
    if lay and lay.columns:
        moved = [k for k, c in cols.items() if k in lay.columns and lay.columns[k] != col_letter(c)]
        if moved:
            problems.append(T.problem("columns_moved", file, unit_id=unit.id, sheet=g.name))
    table = Table(a.id, g.name, hr + 1, {k: col_letter(c) for k, c in cols.items()})
    for fd in F.fields_for(a):
        if fd.key in cols or not (fd.required or fd.criterion or fd.recommended):
            continue
        blocking = bool(fd.required or fd.criterion)
        problems.append(T.problem("missing_column" if blocking else "missing_column/recommended", file,
                                  unit_id=unit.id, sheet=g.name, cell=a1(hr, max(cols.values()) + 1),
                                  value=fd.header, header=fd.header))
    _data_rows(table, g, hr, cols, lay, file, unit, problems)
    if lay:
        _preparer_cells(table, g, lay)
    return table


def _find_table(grids: list[Grid], a: Assignment, lay: M.SheetLayout | None,
                used: set[str]) -> tuple[Grid, int, dict[str, int]] | None:
    """The sheet, header row and columns of an assignment's table: the sheet _meta names first, then any other
    sheet not already taken; the one whose header row holds the most columns."""
    by_name = {g.name: g for g in grids}
    candidates: list[Grid] = []
    if lay and lay.sheet in by_name:
        candidates.append(by_name[lay.sheet])
    candidates += [g for g in grids if g not in candidates and g.name not in used and g.name != M.SHEET]
    found: tuple[Grid, int, dict[str, int]] | None = None
    for g in candidates:
        hit = _find_header(g, a, lay.header_row - 1 if lay and lay.header_row and g.name == lay.sheet else None)
        if hit and (found is None or len(hit[1]) > len(found[2])):
            found = (g, *hit)
            if g is candidates[0] and len(hit[1]) >= len(F.fields_for(a)) - 2:
                break
    return found


def _data_rows(table: Table, g: Grid, hr: int, cols: dict[str, int], lay: M.SheetLayout | None, file: str,
               unit: Unit, problems: list[Problem]) -> None:
    """The rows under the header (cells in the table's columns); typing beside the table and cells merged
    across rows are reported."""
    field_cols = {c: k for k, c in cols.items()}
    last_offered = hr + (lay.last_data_row - lay.header_row if lay and lay.last_data_row else 30)
    check_cols = {c for c, v in ((c, g.text(hr, c)) for c in range(0, max(field_cols) + 4))
                  if _fold(v) in (_fold(F.CHECK_HEADER), "_so_o_thieu", _fold(F.STT_HEADER))}
    rows: dict[int, dict[str, Cell]] = {}
    stray: list[str] = []
    for (r, c), v in g.cells.items():
        if r <= hr:
            continue
        if c in field_cols:
            rows.setdefault(r, {})[field_cols[c]] = Cell(a1(r, c), v)
        elif c not in check_cols and not (c == 0 and isinstance(v, (int, float))):
            stray.append(a1(r, c))
    for r in sorted(rows):
        table.rows.append(TableRow(r + 1, rows[r], outside_table=r > last_offered))
    if stray:
        problems.append(T.problem("stray_cells", file, unit_id=unit.id, sheet=g.name, cell=sorted(stray)[0],
                                  cells=", ".join(sorted(stray)[:5])))
    for r1, c1, r2, c2 in g.merged:
        if r2 > r1 and r1 > hr and any(c in field_cols for c in range(c1, c2 + 1)):
            problems.append(T.problem("merged_rows", file, unit_id=unit.id, sheet=g.name, cell=a1(r1, c1),
                                      cells=f"{a1(r1, c1)}:{a1(r2, c2)}"))


def _preparer_cells(table: Table, g: Grid, lay: M.SheetLayout) -> None:
    """The preparer's lines above the table, where _meta says they are (moved with the header row)."""
    for key, ref in lay.preparer.items():
        if re.match(r"^[A-Z]+\d+$", ref):
            r, c = parse_a1(ref)
            if table.header_row != lay.header_row:
                r += table.header_row - lay.header_row
            v = g.get(r, c)
            if v not in (None, ""):
                table.preparer[key] = Cell(a1(r, c), v)


def unit_hint_from_filename(name: str) -> str | None:
    """'DTTT_2024_ban_tuyen_giao.xlsx' (as generate names files) -> 'ban_tuyen_giao'."""
    m = re.search(r"DTTT_\d{4}_([a-z0-9_]+?)(?:\s*\(\d+\))?\.[A-Za-z]+$", name)
    return m.group(1) if m else None
