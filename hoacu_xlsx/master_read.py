"""Reading the previous master back: the officer's columns, rows, sheets and hand edits.

Values are streamed with python-calamine (cheap: merges are rerun often). Table sheets
are recognised by the hidden check column's key cell (``hoacu:kiem1:<sheet id>:…``),
so a renamed sheet is still known; columns by the hidden key row, so a renamed or
moved column is still known; a column without a key is one the officer added. Only
when the officer added sheets of their own is openpyxl used, on a copy of the file
holding just those sheets, to carry formulas, formats and merged cells over.
Masters written before the hidden keys existed are read by sheet and header names.
"""

from __future__ import annotations

import hashlib
import html
import io
import os
import re
import socket
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hoacu_xlsx import master as MS
from hoacu_xlsx import messages as T
from hoacu_xlsx.cells import a1, col_index, parse_a1
from hoacu_xlsx.xlsx_style import format_properties

STALE_LOCK_HOURS = 12


@dataclass
class TableRow:
    index: int                        # 0-based row in the sheet
    key: str | None                   # row key from the check column; None for a row typed by hand
    hashes: dict[str, str] | None     # tool column key -> hash of what the tool wrote
    cells: dict[str, str]             # column key -> text as it is now
    typed: dict[str, Any] = field(default_factory=dict)   # officer/added column key -> value (numbers kept)


@dataclass
class TableRead:
    sheet_id: str
    name: str                                        # the sheet's name now (the officer may have renamed it)
    cols: list[tuple[int, str, str]]                 # (column index, key, header text now)
    rows: list[TableRow] = field(default_factory=list)
    header_hashes: dict[str, str] | None = None
    header_row: int = MS.HEADER_ROW

    def layout(self) -> MS.Layout:
        return MS.Layout([k for _c, k, _h in self.cols],
                         {k: h for _c, k, h in self.cols if k.startswith((MS.OFFICER_PREFIX, MS.ADDED_PREFIX)) and h})

    def header_of(self, key: str) -> str:
        return next((h for _c, k, h in self.cols if k == key), key)

    def address(self, row: int, key: str) -> str:
        return a1(row, next((c for c, k, _h in self.cols if k == key), 0))


@dataclass
class MasterState:
    path: Path
    exists: bool = False
    tables: dict[str, TableRead] = field(default_factory=dict)
    dashboard_edits: list[tuple[str, str, str]] = field(default_factory=list)   # (sheet name, cell, text now)
    added_sheets: list[MS.AddedSheet] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def _damaged(path: Path, exc: Exception) -> MS.MasterReadError:
    return MS.MasterReadError(T.text("master/damaged", path=path, error=type(exc).__name__, detail=str(exc)[:200],
                                     backups=path.parent / 'ban_cu', name=path.name))


def read_state(path: Path) -> MasterState:
    """Everything the officer may have put in the master; an empty state when there is no master."""
    state = MasterState(path)
    if not path.exists():
        return state
    state.exists = True
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        grids = {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}
        wb.close()
    except Exception as exc:
        raise _damaged(path, exc) from None
    if not grids:
        raise _damaged(path, ValueError(T.reason("master.no_sheets")))
    added: list[str] = []
    unmarked: list[str] = []
    for name, rows in grids.items():
        mark = _marker(rows)
        if mark and mark[2] == "dashboard":
            state.dashboard_edits = _dashboard_edits(name, rows, mark[1])
        elif mark and mark[2] in MS.DEFAULT_COLS and mark[2] not in state.tables:
            state.tables[mark[2]] = _keyed_table(name, rows, *mark)
        else:
            unmarked.append(name)
    for name in unmarked:
        # a master of an older version (or a sheet whose hidden column was deleted): known by its name
        sheet_id = next((k for k, v in MS.SHEET_IDS.items() if v == name), None)
        if sheet_id in MS.DEFAULT_COLS and sheet_id not in state.tables:
            state.tables[sheet_id] = _legacy_table(sheet_id, name, grids[name])
        elif sheet_id is None:
            added.append(name)
    if added:
        try:
            state.added_sheets = _added_sheets(path, added, grids)
        except Exception as exc:   # keep at least every value (formulas as their last values)
            state.added_sheets = [_values_only(name, grids[name]) for name in added]
            state.notices.append(T.text("added_sheet_values_only", sheets=', '.join(added), error=type(exc).__name__,
                                        backups=path.parent / 'ban_cu'))
    return state


def _values_only(name: str, rows: list[list[Any]]) -> MS.AddedSheet:
    sheet = MS.AddedSheet(name)
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            value = officer_value(v)
            if value != "":
                sheet.cells.append((r, c, value, "number" if not isinstance(value, str) else "text", {}))
    return sheet


def _marker(rows: list[list[Any]]) -> tuple[int, int, str, list[str]] | None:
    """(key row, check column, sheet id, hashed tool keys) from the hidden check cell, if the sheet has one."""
    for r, row in enumerate(rows[:5]):
        for c, v in enumerate(row):
            if isinstance(v, str) and v.startswith(MS.CHECK_PREFIX):
                sheet_id, _, keys = v[len(MS.CHECK_PREFIX):].partition(":")
                return r, c, sheet_id, [k for k in keys.split(",") if k]
    return None


def _split_check(text: str, tool_keys: list[str]) -> tuple[str, dict[str, str]] | None:
    key, sep, hashes = text.rpartition("|")
    if not sep or len(hashes) != 4 * len(tool_keys):
        return None
    return key, {k: hashes[4 * i:4 * i + 4] for i, k in enumerate(tool_keys)}


def _cell(row: list[Any], c: int) -> Any:
    return row[c] if c < len(row) else None


def _keyed_table(name: str, rows: list[list[Any]], key_row: int, check: int, sheet_id: str,
                 tool_keys: list[str]) -> TableRead:
    header_row = key_row + 1
    keys_row, headers = rows[key_row], rows[header_row] if header_row < len(rows) else []
    width = max(len(keys_row), len(headers), *(len(r) for r in rows[header_row + 1:]), 0)
    used = [MS.cell_text(_cell(keys_row, c)) for c in range(width)]
    next_added = 1 + max([int(k[len(MS.ADDED_PREFIX):]) for k in used
                          if k.startswith(MS.ADDED_PREFIX) and k[len(MS.ADDED_PREFIX):].isdigit()] + [0])
    cols: list[tuple[int, str, str]] = []
    seen: set[str] = set()
    for c in range(width):
        if c == check:
            continue
        key, header = used[c], MS.cell_text(_cell(headers, c))
        if not key or key in seen or key.startswith(MS.CHECK_PREFIX):
            if not header and not any(MS.cell_text(_cell(r, c)) for r in rows[header_row + 1:]):
                continue   # an empty column: nothing to keep
            key = f"{MS.ADDED_PREFIX}{next_added}"
            next_added += 1
        seen.add(key)
        cols.append((c, key, header))
    table = TableRead(sheet_id, name, cols, header_row=header_row)
    split = _split_check(MS.cell_text(_cell(headers, check)), tool_keys)
    if split and split[0] == MS.HEADER_KEY:
        table.header_hashes = split[1]
    for r in range(header_row + 1, len(rows)):
        row = rows[r]
        cells = {k: MS.cell_text(_cell(row, c)) for c, k, _h in cols}
        split = _split_check(MS.cell_text(_cell(row, check)), tool_keys)
        if split is None and not any(cells.values()):
            continue
        table.rows.append(TableRow(r, split[0] if split else None, split[1] if split else None, cells,
                                   _typed(row, cols)))
    return table


def officer_value(v: Any) -> Any:
    """What the officer typed, as it is kept: numbers stay numbers (a score must still add up), the rest text."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return int(v) if isinstance(v, float) and v.is_integer() else v
    return MS.cell_text(v)


def _typed(row: list[Any], cols: list[tuple[int, str, str]]) -> dict[str, Any]:
    return {k: officer_value(_cell(row, c)) for c, k, _h in cols if k.startswith((MS.OFFICER_PREFIX, MS.ADDED_PREFIX))}


LEGACY_ID = {"units": "ma_don_vi", "nominations": "ma", "files": "ma_tep", "problems": "muc_do", "edits": "trang"}


def _legacy_table(sheet_id: str, name: str, rows: list[list[Any]]) -> TableRead:
    """A master written before the hidden keys: columns by title, rows by their id column, no edit detection."""
    by_header = {c.header: c.key for c in MS.DEFAULT_COLS[sheet_id]()}
    must = next(c.header for c in MS.DEFAULT_COLS[sheet_id]() if c.key == LEGACY_ID[sheet_id])
    header_row = next((i for i, r in enumerate(rows[:30]) if must in [MS.cell_text(v) for v in r]), None)
    if header_row is None:
        return TableRead(sheet_id, name, [])
    cols, n = [], 1
    for c, v in enumerate(rows[header_row]):
        header = MS.cell_text(v)
        if not header:
            continue
        key = by_header.get(header)
        if key is None or any(k == key for _c, k, _h in cols):
            key, n = f"{MS.ADDED_PREFIX}{n}", n + 1
        cols.append((c, key, header))
    table = TableRead(sheet_id, name, cols, header_row=header_row)
    id_col = next((c for c, k, _h in cols if k == LEGACY_ID[sheet_id]), None)
    for r in range(header_row + 1, len(rows)):
        cells = {k: MS.cell_text(_cell(rows[r], c)) for c, k, _h in cols}
        if not any(cells.values()) or id_col is None or sheet_id == "problems":
            continue
        key = cells.get(LEGACY_ID[sheet_id]) or None
        if sheet_id == "edits":   # an edit line keeps itself: its key from its content
            key = "S" + hashlib.blake2b("\x1f".join(cells.values()).encode(), digest_size=6).hexdigest()
        # rows of an old master count as the tool's: no hashes, so no edit detection
        table.rows.append(TableRow(r, key, {}, cells, _typed(rows[r], cols)))
    return table


def _dashboard_edits(name: str, rows: list[list[Any]], check: int) -> list[tuple[str, str, str]]:
    """Cells of the dashboard that differ from what the tool wrote: (sheet name, cell, text now)."""
    text = MS.cell_text(_cell(rows[1], check)) if len(rows) > 1 else ""
    written = dict(part.split("=", 1) for part in text.split(";") if "=" in part)
    out = []
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if c == check:
                continue
            addr, now = a1(r, c), MS.cell_text(v)
            if addr in written:
                if MS.cell_hash(now) != written[addr]:
                    out.append((name, addr, now))
            elif now:
                out.append((name, addr, now))
    for addr in written:   # a written cell emptied by hand lies outside the rows read only if trailing
        r, c = parse_a1(addr)
        if r >= len(rows) or c >= len(rows[r]):
            out.append((name, addr, ""))
    return out


# --------------------------------------------------------------------------- sheets the officer added


def _added_sheets(path: Path, names: list[str], grids: dict[str, list[list[Any]]]) -> list[MS.AddedSheet]:
    """Load only the officer's sheets with openpyxl (a trimmed copy of the file) and describe them."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(_trimmed(path, set(names))), data_only=False)
    out = []
    for ws in wb.worksheets:
        if ws.title not in names:
            continue
        out.append(_describe(ws, grids.get(ws.title, [])))
    wb.close()
    return out


_SHEET_TAG = re.compile(r"<(?:\w+:)?sheet\b[^>]*?/>")
_ATTR = re.compile(r'\b(name|r:id|(?:\w+:)?id)="([^"]*)"')


def _trimmed(path: Path, keep: set[str]) -> bytes:
    """The master's zip with only the sheets in ``keep`` listed (other sheets' parts left out: cheap to load)."""
    with zipfile.ZipFile(path) as z:
        wbxml = z.read("xl/workbook.xml").decode("utf-8")
        rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        targets = {}
        for rel in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", rels):
            attrs = dict(re.findall(r'\b(Id|Target)="([^"]*)"', rel))
            if "Id" in attrs and "Target" in attrs:
                targets[attrs["Id"]] = attrs["Target"]
        drop: set[str] = set()

        def keep_sheet(m: re.Match[str]) -> str:
            attrs = dict(_ATTR.findall(m.group(0)))
            name = html.unescape(attrs.get("name", ""))
            if name in keep:
                return m.group(0)
            rid = next((v for k, v in attrs.items() if k.endswith("id") and k != "sheetId" and v in targets), None)
            if rid:
                t = targets[rid]
                drop.add(t.lstrip("/") if t.startswith("/") else "xl/" + t)
            return ""
        wbxml = _SHEET_TAG.sub(keep_sheet, wbxml)
        wbxml = re.sub(r"<(?:\w+:)?definedNames>.*?</(?:\w+:)?definedNames>", "", wbxml, flags=re.S)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
            for item in z.infolist():
                name = item.filename
                if name in drop or name == "xl/calcChain.xml":
                    continue
                data = wbxml.encode("utf-8") if name == "xl/workbook.xml" else z.read(name)
                out.writestr(name, data)
    return buf.getvalue()


def _describe(ws: Any, cached: list[list[Any]]) -> MS.AddedSheet:
    sheet = MS.AddedSheet(ws.title)
    for letter, dim in ws.column_dimensions.items():
        if dim.width and (dim.customWidth or dim.width != 13):
            for c in range(dim.min or col_index(letter) + 1, (dim.max or col_index(letter) + 1) + 1):
                if c <= 200:
                    sheet.widths[c - 1] = float(dim.width)
    for r, dim in ws.row_dimensions.items():
        if dim.height:
            sheet.heights[r - 1] = float(dim.height)
    sheet.merged = [(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in ws.merged_cells.ranges]
    for row in ws.iter_rows():
        for cell in row:
            if not hasattr(cell, "column"):
                continue
            style = format_properties(cell, keep_default_font=False, number_format=True)
            v = cell.value
            r, c = cell.row - 1, cell.column - 1
            if v is None:
                if style:
                    sheet.cells.append((r, c, None, "text", style))
                continue
            if cell.data_type == "f":
                text = getattr(v, "text", v)
                value = _cell_value(cached, r, c)
                sheet.cells.append((r, c, (str(text), value), "formula", style))
            elif isinstance(v, bool):
                sheet.cells.append((r, c, v, "bool", style))
            elif isinstance(v, (int, float)):
                sheet.cells.append((r, c, v, "number", style))
            elif isinstance(v, (datetime, date)):
                dt = v if isinstance(v, datetime) else datetime(v.year, v.month, v.day)
                style.setdefault("num_format", "dd/mm/yyyy")
                sheet.cells.append((r, c, dt.isoformat(), "date", style))
            else:
                sheet.cells.append((r, c, str(v), "text", style))
    return sheet


def _cell_value(cached: list[list[Any]], r: int, c: int) -> Any:
    v = cached[r][c] if r < len(cached) and c < len(cached[r]) else None
    if isinstance(v, (datetime, date)) or v in ("", None):
        return None
    return v


# --------------------------------------------------------------------------- is the master open?


class MasterOpen(Exception):
    """The master is open in Excel or LibreOffice (a lock file beside it, or Windows refuses writing)."""


def lock_files(path: Path) -> list[Path]:
    """Lock files Excel (``~$name``) and LibreOffice (``.~lock.name#``) keep beside an open workbook."""
    names = {f"~${path.name}", f"~${path.name[2:]}", f".~lock.{path.name}#"}
    return [path.with_name(n) for n in sorted(names) if path.with_name(n).exists()]


def check_not_open(path: Path) -> list[str]:
    """Raise :class:`MasterOpen` if the master seems open; return notices about stale lock files ignored."""
    notices = []
    for lock in lock_files(path):
        stale = _stale(lock)
        if stale:
            notices.append(stale)
            continue
        who = _lock_owner(lock)
        raise MasterOpen(T.text("master/open_lock", master_open=MS.MASTER_OPEN, lock=lock.name, name=path.name,
                                owner=T.reason("master.lock_owner", who=who) if who else ''))
    if path.exists() and os.name == "nt":  # pragma: no cover - Windows: Excel holds the file without write share
        try:
            with open(path, "r+b"):
                pass
        except PermissionError:
            raise MasterOpen(T.text("master/open_read", master_open=MS.MASTER_OPEN, path=path)) from None
    return notices


def _lock_owner(lock: Path) -> str:
    if not lock.name.startswith(".~lock."):
        return ""
    fields = _lo_lock_fields(lock)
    user = fields[0] or (fields[1] if len(fields) > 1 else "")
    host = fields[2] if len(fields) > 2 else ""
    return T.reason("master.on_host").join(x for x in (user, host) if x)


def _lo_lock_fields(lock: Path) -> list[str]:
    """LibreOffice's lock file: 'name,system user,host,time,profile;'."""
    try:
        return lock.read_bytes()[:2000].decode("utf-8", "replace").split(";")[0].split(",")
    except OSError:
        return []


def _stale(lock: Path) -> str | None:
    """A notice when a lock file is surely left over from a crash, else None (treat the master as open).

    Stale means: older than STALE_LOCK_HOURS and, for LibreOffice, written on this machine where no
    LibreOffice is running now; for Excel, on Windows only, a lock file that can be deleted (Excel
    keeps it open while the workbook is open).
    """
    try:
        age_h = (time.time() - lock.stat().st_mtime) / 3600
    except OSError:
        return None
    if age_h < STALE_LOCK_HOURS:
        return None
    if lock.name.startswith(".~lock."):
        fields = _lo_lock_fields(lock)
        host = fields[2] if len(fields) > 2 else ""
        if host and host == socket.gethostname() and not _libreoffice_running():
            return T.text("stale_lock/libreoffice", lock=lock.name, hours=int(age_h))
        return None
    if os.name == "nt":  # pragma: no cover - Windows
        try:
            lock.unlink()
            return T.text("stale_lock/excel", lock=lock.name, hours=int(age_h))
        except OSError:
            return None
    return None


def _libreoffice_running() -> bool:
    """Is any LibreOffice process running on this machine? (Linux /proc; unknown elsewhere = assume yes.)"""
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for p in proc.iterdir():
        if p.name.isdigit():
            try:
                if (p / "comm").read_text().strip().startswith("soffice"):
                    return True
            except OSError:
                continue
    return False
