"""The officer's content of the master, reconciled with the store.

The rule: nothing the officer typed or a unit sent is ever silently lost, swapped or
credited elsewhere. So, on every merge:

* what the officer typed in their columns (fixed or added) is saved to the store, by
  nomination id / unit id / file id / problem key — the master is the truth for the
  rows it shows, and a column missing from it is "no information", never "erase";
* sheets the officer added, and the columns' order and titles, are saved too, so a
  deleted master comes back whole;
* hand edits of tool cells and rows typed by hand cannot be applied (the tool rewrites
  those cells from what units sent), so they are listed in ``Sửa tay chưa áp dụng``
  until the officer deletes the line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hoacu_xlsx import master as MS
from hoacu_xlsx import picture as P
from hoacu_xlsx.master_read import MasterState, TableRead, TableRow
from hoacu_xlsx.store import Store

LAYOUT = "layout"
SHEETS = "sheets"
EDITS = "edits"
ROW_SHEETS = {"units": "units", "problems": "problems"}   # table sheet id -> officer_rows sheet
CHECKED_SHEETS = ("units", "nominations", "problems", "files")
ROW_GONE = "(dòng không còn trong sổ)"
ROW_HAND = "(dòng cán bộ thêm tay — không có trong dữ liệu đơn vị gửi)"
COMPUTED = "(ô do công cụ tính)"
MAX_LISTED = 500   # edits listed one by one per sheet and merge


@dataclass
class Synced:
    """What the next master needs from the reconciliation, plus the edits still to be completed."""

    overrides: dict[str, str] = field(default_factory=dict)     # file id -> received-time text typed in the master
    layouts: dict[str, MS.Layout] = field(default_factory=dict)
    added_sheets: list[MS.AddedSheet] = field(default_factory=list)
    edits: list[dict[str, str]] = field(default_factory=list)
    pending: list[tuple[dict[str, str], str, str, str]] = field(default_factory=list)  # entry, sheet, row, column


def _base_key(row_key: str) -> str:
    return row_key.split("#", 1)[0]


def _officer_cells(row: TableRow) -> dict[str, Any]:
    return {MS.value_key(k): v for k, v in row.typed.items()}


def _rows_values(table: TableRead | None, stored: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Officer values per row key as the master shows them, laid over what the store had (per column)."""
    out: dict[str, dict[str, Any]] = {}
    if table is None:
        return out
    for row in table.rows:
        if row.key is None:
            continue
        key = _base_key(row.key)
        if key in out:
            continue   # a repeated key: the first row's values count, the copy is listed as typed by hand
        out[key] = {**stored.get(key, {}), **_officer_cells(row)}
    return out


def save_officer(state: MasterState, store: Store, now: datetime, year: int) -> Synced:
    """Save the officer's content of the master to the store (inside the merge's transaction).

    Decisions on nominations are kept per round (``year``): the same person may be nominated again next year."""
    from hoacu_xlsx import history as H

    result = Synced()
    if not state.exists:
        return _from_store(store)
    t = state.tables
    mine = H.officer_of_round(store.officer_values(), year, store.root.parent)
    store.save_officer_values(H.officer_keys(_rows_values(t.get("nominations"), mine), year))
    files = _rows_values(t.get("files"), store.officer_file_values())
    store.save_officer_file_values(files)
    if "files" in t and any(k == MS.OFFICER_PREFIX + MS.OVERRIDE_KEY for _c, k, _h in t["files"].cols):
        result.overrides = {fid: MS.cell_text(v.get(MS.OVERRIDE_KEY)) for fid, v in files.items()}
    for sheet_id, row_sheet in ROW_SHEETS.items():
        store.save_officer_rows(row_sheet, _rows_values(t.get(sheet_id), store.officer_rows(row_sheet)))
    stored_layouts = store.officer_rows(LAYOUT)
    for sheet_id, table in t.items():
        if table.cols:
            result.layouts[sheet_id] = table.layout()
    for sheet_id, lay in stored_layouts.items():
        result.layouts.setdefault(sheet_id, MS.Layout.from_json(lay))
    store.save_officer_rows(LAYOUT, {k: v.to_json() for k, v in result.layouts.items()}, replace_all=True)
    result.added_sheets = state.added_sheets
    store.save_officer_rows(SHEETS, {s.name: s.to_json() for s in state.added_sheets}, replace_all=True)
    _find_edits(state, result, now)
    return result


def _from_store(store: Store) -> Synced:
    """No master: the officer's layouts, sheets and open edit list come back from the store."""
    result = Synced()
    result.layouts = {k: MS.Layout.from_json(v) for k, v in store.officer_rows(LAYOUT).items()}
    result.added_sheets = [MS.AddedSheet.from_json(v) for v in store.officer_rows(SHEETS).values()]
    result.edits = sorted(store.officer_rows(EDITS).values(), key=lambda e: (e.get("phat_hien", ""), e.get("id", "")))
    return result


def as_written(store: Store) -> Synced:
    """The master is exactly as the last merge wrote it (merge checks its bytes): what it shows is what the
    store holds, so nothing is saved; layouts, added sheets and the open edit list (in the master's order)
    come from the store."""
    result = _from_store(store)
    result.edits = store.officer_rows_as_saved(EDITS)
    return result


def _entry(sheet: str, cell: str, row: str, column: str, typed: str, when: str, basis: str) -> dict[str, str]:
    eid = "S" + hashlib.blake2b(f"{basis}\x1f{typed}".encode(), digest_size=6).hexdigest()
    return {"id": eid, "trang": sheet, "o": cell, "dong": row, "cot": column, "so_ghi": "", "can_bo_go": typed,
            "phat_hien": when, "loi_khuyen": MS.EDIT_ADVICE}


def _find_edits(state: MasterState, result: Synced, now: datetime) -> None:
    """Edits still listed in the master, plus new ones: tool cells changed by hand, rows typed by hand."""
    when = P.format_dt(now)
    kept = state.tables.get("edits")
    entries: dict[str, dict[str, str]] = {}
    if kept is not None:
        for row in kept.rows:
            if row.key is not None:
                entries[_base_key(row.key)] = {"id": _base_key(row.key), **{k: row.cells.get(k, "")
                                                                            for k in _EDIT_KEYS}}
    for sheet_id in CHECKED_SHEETS:
        table = state.tables.get(sheet_id)
        if table is None:
            continue
        found = [(e, t) for e, t in _table_edits(table, when) if e["id"] not in entries]
        if len(found) > MAX_LISTED:   # something changed the whole sheet: list some, say how many more
            rest = len(found) - MAX_LISTED
            found = found[:MAX_LISTED]
            e = _entry(table.name, "", "", "", f"… và {rest} ô khác của trang này cũng khác với sổ đã ghi", when,
                       f"{sheet_id}\x1fmore\x1f{rest}")
            e["so_ghi"] = "xem bản sao sổ cũ trong master/ban_cu/"
            found.append((e, None))
        for e, target in found:
            entries[e["id"]] = e
            if target:
                result.pending.append((e, sheet_id, *target))
    for name, cell, typed in state.dashboard_edits:
        e = _entry(name, cell, "", "", typed, when, f"dashboard\x1f{cell}")
        if e["id"] not in entries:
            e["so_ghi"] = COMPUTED
            entries[e["id"]] = e
    result.edits = list(entries.values())


_EDIT_KEYS = [c.key for c in MS.edit_cols()]


def _table_edits(table: TableRead, when: str) -> list[tuple[dict[str, str], tuple[str, str] | None]]:
    """(entry, (row key, column key) whose tool value goes in 'Sổ ghi') for one table sheet."""
    out: list[tuple[dict[str, str], tuple[str, str] | None]] = []
    sid, name = table.sheet_id, table.name
    usual = MS.SHEET_IDS[sid]
    if name != usual:
        e = _entry(name, "", "", "Tên trang", name, when, f"{sid}\x1fsheet")
        e["so_ghi"] = usual
        out.append((e, None))
    defaults = {c.key: c.header for c in MS.DEFAULT_COLS[sid]()}
    for key, h in (table.header_hashes or {}).items():
        now = table.header_of(key) if any(k == key for _c, k, _h in table.cols) else None
        if now is not None and MS.cell_hash(now) != h:
            e = _entry(name, table.address(table.header_row, key), "", "Tiêu đề cột", now, when, f"{sid}\x1fh\x1f{key}")
            e["so_ghi"] = defaults.get(key, "")
            out.append((e, None))
    seen: set[str] = set()
    for row in table.rows:
        if row.key is None or row.key in seen:
            content = "; ".join(f"{table.header_of(k)}: {v}" for k, v in row.cells.items() if v)
            e = _entry(name, f"{row.index + 1}:{row.index + 1}", "", "Cả dòng", content, when, f"{sid}\x1frow")
            e["so_ghi"] = ROW_HAND
            out.append((e, None))
            continue
        seen.add(row.key)
        for key, h in (row.hashes or {}).items():
            if key in row.cells and MS.cell_hash(row.cells[key]) != h:
                e = _entry(name, table.address(row.index, key), row.key, table.header_of(key), row.cells[key], when,
                           f"{sid}\x1f{row.key}\x1f{key}")
                out.append((e, (row.key, key)))
    return out


def finish_edits(synced: Synced, store: Store, pic: P.Picture) -> list[dict[str, str]]:
    """Fill 'Sổ ghi' (what the new master shows in that cell) and save the open edit list to the store."""
    by_sheet: dict[str, dict[str, dict[str, Any]]] = {}
    for entry, sheet_id, row_key, col_key in synced.pending:
        if sheet_id not in by_sheet:
            by_sheet[sheet_id] = dict(MS.table_rows(pic, sheet_id))
        values = by_sheet[sheet_id].get(row_key)
        entry["so_ghi"] = MS.cell_text(values.get(col_key, "")) if values is not None else ROW_GONE
    synced.pending = []
    store.save_officer_rows(EDITS, {e["id"]: e for e in synced.edits}, replace_all=True)
    return synced.edits
