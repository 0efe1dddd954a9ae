"""The officer's data survive: SIGKILL at any moment, two merges at once, unwritable output."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from hoacu_xlsx import builder, demo, generate, merge, template
from hoacu_xlsx.master import master_path

from tests.conftest import store_rows


def make_round(catalogue, wd: Path, n_units: int = 15) -> None:
    """Generate, then return every unit's workbook filled (xlsxwriter writes the rows as a unit would type)."""
    res = generate.run(catalogue, wd)
    style = template.load_style(None)
    for i, b in enumerate(res.built[:n_units]):
        aid = b.meta.assignment_ids[0]
        rows = [demo.sample_row(catalogue, aid, i * 10 + k, kind_index=k) for k in range(3)]
        builder.build_workbook(wd / "inbox" / b.path.name, catalogue, b.unit, style, b.meta.token,
                               b.meta.generated_at, {aid: rows}, demo.PREPARER)


def master_snapshot(path: Path) -> dict[str, list]:
    wb = CalamineWorkbook.from_path(str(path))
    return {n: wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names if n != "Tổng quan"}


def store_ok(wd: Path) -> None:
    db = wd / "store" / "hoacu.sqlite3"
    if db.exists():
        con = sqlite3.connect(db)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()


CLI = [sys.executable, "-m", "hoacu_xlsx", "merge", "-q", "--now", "20/05/2024"]


def officer_scores(path: Path) -> dict[str, object]:
    """Nomination id -> the value in the officer's own column 'Điểm' (read as the officer sees it)."""
    import openpyxl

    ws = openpyxl.load_workbook(path)["Điển hình"]
    cols = {c.value: c.column for c in ws[2]}
    return {ws.cell(r, cols["Mã điển hình"]).value: ws.cell(r, cols["Điểm"]).value
            for r in range(3, ws.max_row + 1) if ws.cell(r, cols["Điểm"]).value is not None}


def add_officer_column(path: Path) -> dict[str, object]:
    """The officer adds a column 'Điểm' and scores every nomination, and decides on one; saved as Excel would."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb["Điển hình"]
    ws.insert_cols(3)
    ws.cell(2, 3).value = "Điểm"
    cols = {c.value: c.column for c in ws[2]}
    for r in range(3, ws.max_row + 1):
        ws.cell(r, 3).value = r * 1.5
    ws.cell(3, cols["Kết quả xét chọn"]).value = "Được chọn"
    wb.save(path)
    return officer_scores(path)


def backups_complete(wd: Path) -> None:
    folder = master_path(wd, 2024).parent / "ban_cu"
    for p in folder.iterdir() if folder.exists() else []:
        if not p.name.startswith("."):          # hidden .tmp: a copy cut short, never under a backup's name
            master_snapshot(p)


@pytest.mark.slow
def test_merge_killed_at_random_points_keeps_master_and_store(tmp_path, catalogue):
    wd = tmp_path / "round"
    (wd / "inbox").mkdir(parents=True)
    make_round(catalogue, wd)
    # a first merge of half the files, so that there is a previous master to protect, with the officer's work
    half = sorted((wd / "inbox").iterdir())[::2]
    hold = tmp_path / "hold"
    hold.mkdir()
    for p in sorted((wd / "inbox").iterdir()):
        if p not in half:
            shutil.move(p, hold / p.name)
    subprocess.run(CLI + ["--dir", str(wd)], check=True, capture_output=True)
    scores = add_officer_column(master_path(wd, 2024))
    old = master_snapshot(master_path(wd, 2024))
    for p in hold.iterdir():
        shutil.move(p, wd / "inbox" / p.name)
    # the reference: one undisturbed merge in a copy
    ref = tmp_path / "ref"
    shutil.copytree(wd, ref)
    t0 = time.perf_counter()
    subprocess.run(CLI + ["--dir", str(ref)], check=True, capture_output=True)
    span = time.perf_counter() - t0                 # one run's duration, to spread the kills over it
    expected = master_snapshot(master_path(ref, 2024))
    assert officer_scores(master_path(ref, 2024)) == scores
    rng = random.Random(2024)
    for _ in range(12):
        proc = subprocess.Popen(CLI + ["--dir", str(wd)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, span))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        mp = master_path(wd, 2024)
        assert mp.exists(), "the previous master is never removed"
        assert master_snapshot(mp) in (old, expected)   # the old master or the new one, never half of each
        assert officer_scores(mp) == scores
        backups_complete(wd)
        store_ok(wd)
        assert not list((wd / "inbox").glob("*.tmp"))
    subprocess.run(CLI + ["--dir", str(wd)], check=True, capture_output=True)
    assert master_snapshot(master_path(wd, 2024)) == expected
    assert officer_scores(master_path(wd, 2024)) == scores
    backups_complete(wd)


def test_second_merge_waits_for_the_first(tmp_path, catalogue):
    wd = tmp_path
    (wd / "inbox").mkdir()
    with merge.MergeLock(wd):
        r = subprocess.run(CLI + ["--dir", str(wd)], capture_output=True, text=True)
    assert r.returncode == 3
    assert "đang có phiên gộp khác đang chạy" in r.stderr.lower()
    assert "Traceback" not in r.stderr


def test_two_merges_started_at_once_never_tear_the_master(tmp_path, catalogue):
    wd = tmp_path / "round"
    (wd / "inbox").mkdir(parents=True)
    make_round(catalogue, wd, 6)
    procs = [subprocess.Popen(CLI + ["--dir", str(wd)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate() for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes in ([0, 0], [0, 3]), outs
    for p, (_out, err) in zip(procs, outs):
        if p.returncode == 3:
            assert "phiên gộp khác" in err
    master_snapshot(master_path(wd, 2024))
    store_ok(wd)


def test_unwritable_master_folder_gives_a_clear_message_and_loses_nothing(tmp_path, catalogue):
    wd = tmp_path / "round"
    (wd / "inbox").mkdir(parents=True)
    make_round(catalogue, wd, 3)
    (wd / "master").write_text("not a folder")  # the master folder cannot be created
    store_before = store_rows(wd)
    r = subprocess.run(CLI + ["--dir", str(wd)], capture_output=True, text=True)
    assert r.returncode == 3 and "Traceback" not in r.stderr
    assert "master" in r.stderr
    # no master, no half-merge: the store is as it was, the files wait in inbox/ …
    assert store_rows(wd) == store_before
    # … and once the folder is fixed, the master is complete
    (wd / "master").unlink()
    r = subprocess.run(CLI + ["--dir", str(wd)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    snap = master_snapshot(master_path(wd, 2024))
    assert sum(1 for row in snap["Điển hình"] if any(str(v).startswith("DH-") for v in row)) == 9


def test_master_open_in_excel_is_reported(tmp_path, catalogue, monkeypatch):
    """On Windows an open workbook cannot be replaced: say 'close it', keep the old master and the store as is."""
    wd = tmp_path
    (wd / "inbox").mkdir()
    merge.run(catalogue, wd)
    mp = master_path(wd, 2024)
    make_round(catalogue, wd, 2)                     # new work waiting in inbox/
    before, store_before = mp.read_bytes(), store_rows(wd)
    real_replace = os.replace

    def locked(src, dst, *a, **k):
        if Path(dst) == mp:
            raise PermissionError(13, "The process cannot access the file because it is being used")
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(merge.MergeError) as e:
        merge.run(catalogue, wd)
    assert "Sổ tổng hợp đang mở trong Excel/LibreOffice — hãy đóng rồi chạy lại" in str(e.value)
    assert mp.read_bytes() == before and store_rows(wd) == store_before
    assert not [p for p in mp.parent.rglob("*") if p != mp and p.is_file()]   # no temporary file, no backup
    monkeypatch.undo()
    report = merge.run(catalogue, wd)                # closed: the same merge goes through
    assert report.new_files == 2
