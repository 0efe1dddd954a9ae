"""Helpers for the papers tests: returns written with openpyxl by the `_meta` contract,
the officer's decisions typed into the master, and the master's `Tổng quan` read back."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl

from hoacu_xlsx.master import master_path

from tests.conftest import fill_with_openpyxl

NOW = datetime(2024, 6, 10, 9, 0).astimezone()
NAME_HEADER = "Tên tập thể / Họ và tên cá nhân, chủ hộ"


def write_return(built: Any, rows_by_assignment: dict[str, list[dict[str, Any]]], dst: Path) -> Path:
    """Type rows into a generated workbook's entry sheets with openpyxl (docs/meta_format.md), save as dst."""
    return fill_with_openpyxl(built, rows_by_assignment, dst, preparer=False)


def master_rows(wd: Path, year: int = 2024) -> tuple[openpyxl.Workbook, Any, dict[str, int], int]:
    wb = openpyxl.load_workbook(master_path(wd, year))
    ws = wb["Điển hình"]
    header = next(r for r in ws.iter_rows() if any(c.value == "Mã điển hình" for c in r))
    return wb, ws, {c.value: c.column for c in header if c.value}, header[0].row


def decide(wd: Path, decisions: dict[str, tuple[str, str] | str]) -> None:
    """Type decisions into the master as the officer would (openpyxl): name -> result or (result, form)."""
    wb, ws, cols, hr = master_rows(wd)
    for r in range(hr + 1, ws.max_row + 1):
        name = ws.cell(r, cols[NAME_HEADER]).value
        if name in decisions:
            d = decisions[name]
            result, form = (d, "") if isinstance(d, str) else d
            ws.cell(r, cols["Kết quả xét chọn"]).value = result
            ws.cell(r, cols["Hình thức tôn vinh"]).value = form or None
    wb.save(master_path(wd, 2024))


def decision_ops(wd: Path, decisions: dict[str, tuple[str, str] | str]) -> list[dict[str, Any]]:
    """The same decisions as LibreOffice 'set' operations on the master's cells."""
    from hoacu_xlsx.reader import col_letter

    _wb, ws, cols, hr = master_rows(wd)
    letter = {h: col_letter(c - 1) for h, c in cols.items()}   # col_letter counts from 0, openpyxl from 1
    ops = []
    for r in range(hr + 1, ws.max_row + 1):
        name = ws.cell(r, cols[NAME_HEADER]).value
        if name in decisions:
            d = decisions[name]
            result, form = (d, "") if isinstance(d, str) else d
            ops.append({"op": "set", "sheet": "Điển hình", "cell": f"{letter['Kết quả xét chọn']}{r}",
                        "value": result})
            if form:
                ops.append({"op": "set", "sheet": "Điển hình",
                            "cell": f"{letter['Hình thức tôn vinh']}{r}", "value": form})
    return ops


def dashboard_rows(wd: Path, year: int = 2024) -> dict[int, dict[str, Any]]:
    """The master's `Tổng quan` table, by item number, read back by header labels."""
    wb = openpyxl.load_workbook(master_path(wd, year))
    ws = wb["Tổng quan"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    hi = next(i for i, r in enumerate(rows) if "Số đơn vị được giao" in r)
    header = rows[hi]
    out = {}
    for r in rows[hi + 1:]:
        if not r[0] or not str(r[0]).startswith("Mục"):
            break
        out[int(str(r[0]).split()[1])] = dict(zip(header, r))
    return out


def copy_round(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst
