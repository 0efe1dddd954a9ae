"""Make tests/data/store_v1/: a store written by the release before schema versions (user_version 0).

Run with the OLD source tree first on the path, e.g. from a checkout of commit c8f8df2:

    git archive c8f8df2 | tar -x -C /tmp/v1src
    PYTHONPATH=/tmp/v1src python tests/data/make_store_v1.py tests/data/store_v1

It generates the built-in 2024 round, fills the Women's Union workbook with openpyxl (two
people whose names differ only by a diacritic, same birth year), merges, types the officer's
decisions into the master, merges again, and keeps store/ (database + archive).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import openpyxl

from hoacu_xlsx import catalogue as cat, demo, generate, merge
from hoacu_xlsx.master import master_path

PEOPLE = [("Lê Thị Hà", "Được chọn"), ("Lê Thị Hạ", "Không chọn")]


def main(dest: Path) -> None:
    c = cat.load()
    wd = Path(tempfile.mkdtemp())
    (wd / "inbox").mkdir()
    built = {b.unit.id: b for b in generate.run(c, wd).built}["hoi_lhpn"]
    lay = built.meta.layouts["13"]
    wb = openpyxl.load_workbook(built.path)
    ws = wb[lay.sheet]
    for i, (name, _) in enumerate(PEOPLE):
        row = demo.sample_row(c, "13", 1, kind_index=1)
        row.update(ten=name, nam_sinh=1980)
        for key, value in row.items():
            ws[f"{lay.columns[key]}{lay.first_data_row + i}"] = value
    for key, value in demo.PREPARER.items():
        ws[lay.preparer[key]] = value
    dst = wd / "inbox" / "DTTT_2024_hoi_lhpn.xlsx"
    wb.save(dst)
    when = datetime(2024, 5, 20, 9, 0).timestamp()
    os.utime(dst, (when, when))
    now = datetime(2024, 5, 21, 8, 0).astimezone()
    merge.run(c, wd, now=now)
    mp = master_path(wd, 2024)
    wb = openpyxl.load_workbook(mp)
    ws = wb["Điển hình"]
    cols = {cell.value: cell.column for cell in ws[1]}
    decisions = dict(PEOPLE)
    for r in range(2, ws.max_row + 1):
        name = ws.cell(r, cols["Tên tập thể / Họ và tên cá nhân, chủ hộ"]).value
        if name in decisions:
            ws.cell(r, cols["Kết quả xét chọn"]).value = decisions[name]
    wb.save(mp)
    merge.run(c, wd, now=now)
    con = sqlite3.connect(wd / "store" / "hoacu.sqlite3")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    shutil.copyfile(wd / "store" / "hoacu.sqlite3", dest / "hoacu.sqlite3")
    shutil.copytree(wd / "store" / "archive", dest / "archive")
    shutil.rmtree(wd)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
