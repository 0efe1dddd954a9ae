"""The master is the officer's shared document: nothing they typed is ever silently lost.

Returns are written by the unit workbook builder (xlsxwriter, rows as a unit types them)
or filled in LibreOffice; the master is edited the way the officer would — with openpyxl
(as Excel stores it) and in LibreOffice through UNO — and read back with openpyxl, as
the officer sees it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import openpyxl
import pytest

from hoacu_xlsx import builder, demo, merge, template
from hoacu_xlsx import fields as F
from hoacu_xlsx import master_read as MR
from hoacu_xlsx import picture as P
from hoacu_xlsx.backups import KEEP, backup_dir, backups
from hoacu_xlsx.master import master_path
from hoacu_xlsx.store import Store
from tests.conftest import store_rows, generated_round

NOW = datetime(2024, 5, 20, 12, 0).astimezone()
NAME = "Tên tập thể / Họ và tên cá nhân, chủ hộ"
ID = "Mã điển hình"
HEADER_ROW = 2          # row 1 holds the hidden column keys
CLI = [sys.executable, "-m", "hoacu_xlsx", "merge", "-q", "--now", "20/05/2024"]


@pytest.fixture(scope="module")
def gen(tmp_path_factory, catalogue):
    wd, built, _out, sample = generated_round(tmp_path_factory, catalogue, "officer")
    return {"workdir": wd, "built": built, "sample": sample}


def fresh(gen, tmp_path: Path) -> Path:
    wd = tmp_path / "round"
    shutil.copytree(gen["workdir"], wd)
    return wd


def send(gen, catalogue, wd: Path, unit_id: str, rows: list[dict[str, Any]], name: str) -> Path:
    """A unit's return, its rows typed into the generated workbook (xlsxwriter), dropped into inbox/."""
    b = gen["built"][unit_id]
    aid = b.meta.assignment_ids[0]
    path = wd / "inbox" / name
    builder.build_workbook(path, catalogue, b.unit, template.load_style(None), b.meta.token, b.meta.generated_at,
                           {aid: rows}, demo.PREPARER)
    return path


def rows_of(gen, unit_id: str, ns: list[int]) -> list[dict[str, Any]]:
    aid = gen["built"][unit_id].meta.assignment_ids[0]
    return [gen["sample"](aid, n, n % 2) for n in ns]


# --------------------------------------------------------------------------- the master as the officer sees it


def header(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[HEADER_ROW] if c.value}


def table(mp: Path, sheet: str) -> list[dict[str, Any]]:
    wb = openpyxl.load_workbook(mp)
    ws = wb[sheet]
    cols = header(ws)
    out = []
    for r in range(HEADER_ROW + 1, ws.max_row + 1):
        row = {h: ws.cell(r, c).value for h, c in cols.items()}
        if any(v not in (None, "") for v in row.values()):
            out.append(row)
    return out


def edit(mp: Path, change: Callable[[Any], None]) -> None:
    """The officer opens the master, changes it and saves (openpyxl stores it as Excel would)."""
    wb = openpyxl.load_workbook(mp)
    change(wb)
    wb.save(mp)


def row_of(ws, column: str, value: Any) -> int:
    c = header(ws)[column]
    return next(r for r in range(HEADER_ROW + 1, ws.max_row + 1) if ws.cell(r, c).value == value)


def reverse_rows(ws) -> None:
    """The officer sorts the table (descending): every data row moves, hidden check column included."""
    first, last = HEADER_ROW + 1, ws.max_row
    width = ws.max_column
    data = [[ws.cell(r, c).value for c in range(1, width + 1)] for r in range(first, last + 1)]
    for i, values in enumerate(reversed(data)):
        for c, v in enumerate(values, start=1):
            ws.cell(first + i, c).value = v


def edits_listed(mp: Path) -> list[dict[str, Any]]:
    return table(mp, "Sửa tay chưa áp dụng")


# --------------------------------------------------------------------------- added columns


def test_added_column_stays_beside_its_nomination_through_sorts_versions_and_withdrawal(gen, tmp_path, catalogue):
    wd = fresh(gen, tmp_path)
    send(gen, catalogue, wd, "ban_tuyen_giao", rows_of(gen, "ban_tuyen_giao", [1, 2, 3]), "btg_v1.xlsx")
    send(gen, catalogue, wd, "hoi_lhpn", rows_of(gen, "hoi_lhpn", [4, 5]), "lhpn.xlsx")
    merge.run(catalogue, wd, now=NOW)
    mp = master_path(wd, 2024)
    names = {r[NAME]: r[ID] for r in table(mp, "Điển hình")}
    assert len(names) == 5
    score = {name: 10 + i for i, name in enumerate(sorted(names))}

    def add_columns(wb):
        ws = wb["Điển hình"]
        ws.insert_cols(3)                       # a column of their own, between tool columns
        ws.cell(HEADER_ROW, 3).value = "Điểm chấm"
        second = ws.max_column + 1              # and one after everything (a second reviewer)
        ws.cell(HEADER_ROW, second).value = "Người xét thứ hai"
        for name, s in score.items():
            r = row_of(ws, NAME, name)
            ws.cell(r, 3).value = s
            ws.cell(r, second).value = f"Đồng ý ({name})"
        reverse_rows(ws)
    edit(mp, add_columns)

    def check(expect_withdrawn: str | None = None):
        rows = {r[NAME]: r for r in table(mp, "Điển hình")}
        assert set(rows) == set(score)
        for name, s in score.items():
            assert rows[name]["Điểm chấm"] == s, name                  # a number still, beside the same nominee
            assert rows[name]["Người xét thứ hai"] == f"Đồng ý ({name})"
            assert rows[name][ID] == names[name]
        if expect_withdrawn:
            assert rows[expect_withdrawn]["Tình trạng"] == P.NOM_WITHDRAWN
        ws = openpyxl.load_workbook(mp)["Điển hình"]
        assert ws.cell(HEADER_ROW, 3).value == "Điểm chấm"             # where the officer put it

    merge.run(catalogue, wd, now=NOW)
    check()
    # a new version: rows in another order, one nominee withdrawn — the scores follow the nominees
    v2 = rows_of(gen, "ban_tuyen_giao", [3, 1])
    send(gen, catalogue, wd, "ban_tuyen_giao", v2, "btg_v2.xlsx")
    merge.run(catalogue, wd, now=NOW)
    withdrawn = next(n for n in score if n.endswith(" 2"))
    check(withdrawn)
    merge.run(catalogue, wd, now=NOW)
    check(withdrawn)
    # the store holds them: a deleted master comes back with the officer's columns and values
    mp.unlink()
    merge.run(catalogue, wd, now=NOW)
    check(withdrawn)


def test_added_columns_of_units_and_file_log_are_kept_by_their_ids(gen, tmp_path, catalogue):
    wd = fresh(gen, tmp_path)
    send(gen, catalogue, wd, "hoi_lhpn", rows_of(gen, "hoi_lhpn", [4]), "lhpn.xlsx")
    merge.run(catalogue, wd, now=NOW)
    mp = master_path(wd, 2024)

    def add(wb):
        for sheet, key_col, key, text in (("Đơn vị", "Mã đơn vị", "cong_an", "Đã gọi điện nhắc"),
                                          ("Nhật ký tệp", "Tên tệp", "lhpn.xlsx", "Bản gốc có chữ ký")):
            ws = wb[sheet]
            ws.insert_cols(2)
            ws.cell(HEADER_ROW, 2).value = "Ghi chép"
            ws.cell(row_of(ws, key_col, key), 2).value = text
            reverse_rows(ws)
    edit(mp, add)
    send(gen, catalogue, wd, "ban_tuyen_giao", rows_of(gen, "ban_tuyen_giao", [1]), "btg.xlsx")  # rows move
    merge.run(catalogue, wd, now=NOW)
    for _ in range(2):
        units = {r["Mã đơn vị"]: r for r in table(mp, "Đơn vị")}
        assert units["cong_an"]["Ghi chép"] == "Đã gọi điện nhắc"
        assert not units["ban_tuyen_giao"]["Ghi chép"]
        files = {r["Tên tệp"]: r for r in table(mp, "Nhật ký tệp")}
        assert files["lhpn.xlsx"]["Ghi chép"] == "Bản gốc có chữ ký" and not files["btg.xlsx"]["Ghi chép"]
        mp.unlink()
        merge.run(catalogue, wd, now=NOW)


def test_renamed_and_moved_officer_column_keeps_its_values(gen, tmp_path, catalogue):
    wd = fresh(gen, tmp_path)
    send(gen, catalogue, wd, "hoi_lhpn", rows_of(gen, "hoi_lhpn", [4, 5]), "lhpn.xlsx")
    merge.run(catalogue, wd, now=NOW)
    mp = master_path(wd, 2024)
    target = sorted(r[NAME] for r in table(mp, "Điển hình"))[0]

    def rename_and_move(wb):
        ws = wb["Điển hình"]
        ws.cell(row_of(ws, NAME, target), header(ws)["Ghi chú của cán bộ TĐKT"]).value = "Hồ sơ đủ"
        ws.cell(row_of(ws, NAME, target), header(ws)["Kết quả xét chọn"]).value = "Được chọn"
        src = header(ws)["Ghi chú của cán bộ TĐKT"]
        ws.insert_cols(2)                       # cut the column and insert it as column B (key row included)
        src += 1
        for r in range(1, ws.max_row + 1):
            ws.cell(r, 2).value = ws.cell(r, src).value
        ws.delete_cols(src)
        ws.cell(HEADER_ROW, 2).value = "Nhận xét"
        ws.cell(HEADER_ROW, header(ws)["Kết quả xét chọn"]).value = "KQ"
    edit(mp, rename_and_move)
    for _ in range(2):
        merge.run(catalogue, wd, now=NOW)
        rows = {r[NAME]: r for r in table(mp, "Điển hình")}
        assert rows[target]["Nhận xét"] == "Hồ sơ đủ" and rows[target]["KQ"] == "Được chọn"
        ws = openpyxl.load_workbook(mp)["Điển hình"]
        assert ws.cell(HEADER_ROW, 2).value == "Nhận xét"
        assert not edits_listed(mp)             # renaming the officer's own columns is not an edit to report
    with Store.open(wd) as store:
        nid = rows[target][ID]
        assert store.officer_values_of_round(2024)[nid]["ghi_chu"] == "Hồ sơ đủ"


# --------------------------------------------------------------------------- sheets the officer added


def test_added_sheet_is_carried_over_with_formulas_and_formatting(gen, tmp_path, catalogue):
    from openpyxl.styles import Alignment, Font, PatternFill

    wd = fresh(gen, tmp_path)
    merge.run(catalogue, wd, now=NOW)
    mp = master_path(wd, 2024)

    def add_sheet(wb):
        ws = wb.create_sheet("Họp xét duyệt")
        ws["A1"] = "BIÊN BẢN HỌP XÉT (nháp)"
        ws["A1"].font = Font(bold=True, size=14, color="FFC00000")
        ws.merge_cells("A1:D1")
        ws["A3"], ws["B3"], ws["C3"] = "Điểm 1", 7, 8
        ws["D3"] = "=SUM(B3:C3)"
        ws["A4"] = "=1+1 là văn bản"
        ws["A4"].data_type = "s"
        ws["B5"] = "ô tô màu"
        ws["B5"].fill = PatternFill("solid", fgColor="FFFFF2CC")
        ws["B5"].alignment = Alignment(wrap_text=True)
        ws.column_dimensions["A"].width = 30
    edit(mp, add_sheet)
    for _ in range(2):
        merge.run(catalogue, wd, now=NOW)
        wb = openpyxl.load_workbook(mp)
        assert wb.sheetnames[-1] == "Họp xét duyệt"
        ws = wb["Họp xét duyệt"]
        assert ws["A1"].value == "BIÊN BẢN HỌP XÉT (nháp)" and ws["A1"].font.b and ws["A1"].font.sz == 14
        assert "A1:D1" in {str(m) for m in ws.merged_cells.ranges}
        assert (ws["B3"].value, ws["C3"].value) == (7, 8)
        assert ws["D3"].data_type == "f" and ws["D3"].value == "=SUM(B3:C3)"     # a formula still
        assert ws["A4"].data_type == "s" and ws["A4"].value == "=1+1 là văn bản"  # text still
        assert ws["B5"].fill.fgColor.rgb.endswith("FFF2CC") and ws["B5"].alignment.wrap_text
        assert 29 < ws.column_dimensions["A"].width < 32
    mp.unlink()                                                  # kept in the store as well
    merge.run(catalogue, wd, now=NOW)
    ws = openpyxl.load_workbook(mp)["Họp xét duyệt"]
    assert ws["D3"].value == "=SUM(B3:C3)" and ws["B3"].value == 7


# --------------------------------------------------------------------------- hand edits are listed, not dropped


def test_tool_cell_edits_and_hand_rows_are_listed_until_the_officer_clears_them(gen, tmp_path, catalogue):
    wd = fresh(gen, tmp_path)
    send(gen, catalogue, wd, "hoi_lhpn", rows_of(gen, "hoi_lhpn", [4, 5]), "lhpn.xlsx")
    merge.run(catalogue, wd, now=NOW)
    mp = master_path(wd, 2024)
    before = {r[ID]: r for r in table(mp, "Điển hình")}
    nid = sorted(before)[0]
    old_name = before[nid][NAME]

    def hand_edits(wb):
        ws = wb["Điển hình"]
        ws.cell(row_of(ws, ID, nid), header(ws)[NAME]).value = "Tên sửa tay"
        new = ws.max_row + 1
        ws.cell(new, header(ws)[NAME]).value = "Người nộp hồ sơ giấy"
        ws.cell(new, header(ws)["Đơn vị"]).value = "Hội Liên hiệp Phụ nữ xã"
        wu = wb["Đơn vị"]
        wu.cell(row_of(wu, "Mã đơn vị", "cong_an"), header(wu)["Địa chỉ thư"]).value = "moi@example.vn"
        wu.cell(HEADER_ROW, header(wu)["Tên đơn vị"]).value = "Tên cơ quan"      # a tool column's title
        wb["Tổng quan"]["C6"] = 99                                               # a computed total
    edit(mp, hand_edits)
    merge.run(catalogue, wd, now=NOW)
    rows = {r[ID]: r for r in table(mp, "Điển hình")}
    assert rows[nid][NAME] == old_name                  # the tool cell shows what the unit sent …
    listed = edits_listed(mp)
    by_typed = {e["Cán bộ đã gõ"]: e for e in listed}
    e = by_typed["Tên sửa tay"]                         # … and the officer's text is listed, not dropped
    assert e["Trang"] == "Điển hình" and e["Dòng (mã)"] == nid and e["Cột"] == NAME and e["Sổ ghi"] == old_name
    assert e["Ô (sổ cũ)"] and "gửi lại" in e["Cách xử lý"]
    hand = next(v for k, v in by_typed.items() if "Người nộp hồ sơ giấy" in k)
    assert hand["Cột"] == "Cả dòng" and "Hội Liên hiệp Phụ nữ xã" in hand["Cán bộ đã gõ"]
    assert by_typed["moi@example.vn"]["Trang"] == "Đơn vị"
    assert by_typed["Tên cơ quan"]["Cột"] == "Tiêu đề cột" and by_typed["Tên cơ quan"]["Sổ ghi"] == "Tên đơn vị"
    assert "Tên đơn vị" in header(openpyxl.load_workbook(mp)["Đơn vị"])
    assert by_typed["99"]["Trang"] == "Tổng quan" and by_typed["99"]["Ô (sổ cũ)"] == "C6"
    assert any(p["Mã lỗi"] == "manual_edits" for p in table(mp, "Lỗi cần sửa"))
    # listed until cleared: a rerun keeps exactly these lines
    merge.run(catalogue, wd, now=NOW)
    assert sorted(e["Cán bộ đã gõ"] for e in edits_listed(mp)) == sorted(by_typed)

    def clear_one(wb):
        ws = wb["Sửa tay chưa áp dụng"]
        ws.delete_rows(row_of(ws, "Cán bộ đã gõ", "Tên sửa tay"))
    edit(mp, clear_one)
    merge.run(catalogue, wd, now=NOW)
    assert "Tên sửa tay" not in {e["Cán bộ đã gõ"] for e in edits_listed(mp)} and len(edits_listed(mp)) == 4
    mp.unlink()                                          # the open list is kept in the store too
    merge.run(catalogue, wd, now=NOW)
    assert len(edits_listed(mp)) == 4

    def clear_all(wb):
        ws = wb["Sửa tay chưa áp dụng"]
        ws.delete_rows(HEADER_ROW + 1, ws.max_row)
    edit(mp, clear_all)
    merge.run(catalogue, wd, now=NOW)
    assert not edits_listed(mp)
    assert not any(p["Mã lỗi"] == "manual_edits" for p in table(mp, "Lỗi cần sửa"))


# --------------------------------------------------------------------------- received-time override, verdicts


def test_unreadable_override_stays_in_its_cell_and_is_listed_and_verdict_persists(gen, tmp_path, catalogue):
    wd = fresh(gen, tmp_path)
    send(gen, catalogue, wd, "hoi_lhpn", rows_of(gen, "hoi_lhpn", [4]), "lhpn.xlsx")
    merge.run(catalogue, wd, now=NOW)
    mp = master_path(wd, 2024)

    def type_override(wb):
        ws = wb["Nhật ký tệp"]
        r = row_of(ws, "Tên tệp", "lhpn.xlsx")
        ws.cell(r, header(ws)["Sửa thời điểm nhận (dd/mm/yyyy hh:mm)"]).value = "chiều hôm qua"
        ws.cell(r, header(ws)["Quyết định của cán bộ về tệp"]).value = F.FILE_VERDICT_EXCLUDE
    edit(mp, type_override)
    merge.run(catalogue, wd, now=NOW)
    wb = openpyxl.load_workbook(mp)
    ws = wb["Nhật ký tệp"]
    r = row_of(ws, "Tên tệp", "lhpn.xlsx")
    override_col = header(ws)["Sửa thời điểm nhận (dd/mm/yyyy hh:mm)"]
    assert ws.cell(r, override_col).value == "chiều hôm qua"          # exactly as typed
    assert ws.cell(r, header(ws)["Quyết định của cán bộ về tệp"]).value == F.FILE_VERDICT_EXCLUDE
    bad = [p for p in table(mp, "Lỗi cần sửa") if p["Mã lỗi"] == "bad_override"]
    assert len(bad) == 1 and bad[0]["Trang"] == "Nhật ký tệp" and bad[0]["Giá trị"] == "chiều hôm qua"
    assert bad[0]["Ô"] == ws.cell(r, override_col).coordinate and "lhpn.xlsx" in bad[0]["Nội dung cần sửa"]
    # the verdict column has the dropdown and its explanation
    dv = [d for d in ws.data_validations.dataValidation
          if ws.cell(r, header(ws)["Quyết định của cán bộ về tệp"]).coordinate in d.sqref]
    assert dv and F.FILE_VERDICT_EXCLUDE in dv[0].formula1 and F.FILE_VERDICT_ASSIGN in dv[0].prompt
    with Store.open(wd) as store:
        fid = next(f.sha256[:12] for f in store.files())
        assert store.officer_file_values()[fid]["quyet_dinh"] == F.FILE_VERDICT_EXCLUDE
    # a readable time is applied and the problem goes away
    edit(mp, lambda wb: setattr(wb["Nhật ký tệp"].cell(r, override_col), "value", "19/05/2024 08:30"))
    report = merge.run(catalogue, wd, now=NOW)
    assert report.picture.files[0].received_source == "cán bộ TĐKT sửa"
    assert not [p for p in table(mp, "Lỗi cần sửa") if p["Mã lỗi"] == "bad_override"]


# --------------------------------------------------------------------------- formula-like text from a unit


def test_formula_like_unit_text_reaches_every_master_sheet_as_text(gen, tmp_path, catalogue):
    wd = fresh(gen, tmp_path)
    rows = rows_of(gen, "cong_an", [1, 2])
    rows[0]["ten"] = '=HYPERLINK("http://x","y")'
    rows[0]["thanh_tich"] = "=1+1"
    rows[1]["gioi_tinh"] = "=1+1"                     # pasted over the dropdown: listed in Lỗi cần sửa
    send(gen, catalogue, wd, "cong_an", rows, "=cong_an.xlsx")
    merge.run(catalogue, wd, now=NOW)
    mp = master_path(wd, 2024)
    wb = openpyxl.load_workbook(mp)
    formulas = [(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas == []
    texts = {(ws.title, c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and c.value.startswith("=")}
    assert ("Điển hình", '=HYPERLINK("http://x","y")') in texts and ("Điển hình", "=1+1") in texts
    assert ("Lỗi cần sửa", "=1+1") in texts
    assert ("Nhật ký tệp", "=cong_an.xlsx") in texts and ("Đơn vị", "=cong_an.xlsx") in texts


# --------------------------------------------------------------------------- open, damaged, backups


def lock_file(mp: Path, kind: str) -> Path:
    if kind == "excel":
        p = mp.with_name("~$" + mp.name)
        p.write_bytes(b"\x0bCan bo TDKT" + b"\x00" * 40)
    else:
        p = mp.with_name(f".~lock.{mp.name}#")
        p.write_text(",tdkt,may-van-phong,20.05.2024 08:00,file:///home/tdkt/.config/libreoffice/4;")
    return p


@pytest.mark.parametrize("kind", ["excel", "libreoffice"])
def test_open_master_stops_the_merge_before_anything_is_written(gen, tmp_path, catalogue, kind):
    wd = fresh(gen, tmp_path)
    merge.run(catalogue, wd, now=NOW)
    mp = master_path(wd, 2024)
    send(gen, catalogue, wd, "hoi_lhpn", rows_of(gen, "hoi_lhpn", [4]), "lhpn.xlsx")   # new work waiting
    master_before, store_before = mp.read_bytes(), store_rows(wd)
    lock = lock_file(mp, kind)
    r = subprocess.run(CLI + ["--dir", str(wd)], capture_output=True, text=True)
    assert r.returncode == 3 and "Traceback" not in r.stderr
    assert "Sổ tổng hợp đang mở trong Excel/LibreOffice — hãy đóng rồi chạy lại" in r.stderr and lock.name in r.stderr
    assert mp.read_bytes() == master_before and store_rows(wd) == store_before
    assert sorted(p.name for p in mp.parent.iterdir()) == sorted([mp.name, lock.name, "ban_cu"][:2 + (
        (mp.parent / "ban_cu").exists())])
    lock.unlink()                                     # closed: the merge goes through
    r = subprocess.run(CLI + ["--dir", str(wd)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert any(row[NAME] for row in table(mp, "Điển hình"))


def test_stale_libreoffice_lock_is_ignored_but_a_fresh_or_foreign_one_is_not(gen, tmp_path, catalogue, monkeypatch):
    import os
    import socket
    import time

    wd = fresh(gen, tmp_path)
    merge.run(catalogue, wd, now=NOW)
    mp = master_path(wd, 2024)
    lock = mp.with_name(f".~lock.{mp.name}#")
    lock.write_text(f",tdkt,{socket.gethostname()},19.05.2024 08:00,file:///tmp/profile;")
    monkeypatch.setattr(MR, "_libreoffice_running", lambda: False)
    with pytest.raises(merge.MergeError, match="hãy đóng rồi chạy lại"):
        merge.run(catalogue, wd, now=NOW)            # fresh: treated as open
    old = time.time() - 13 * 3600
    os.utime(lock, (old, old))
    report = merge.run(catalogue, wd, now=NOW)       # 13 hours old, this machine, no LibreOffice running
    assert any(p.code == "stale_lock" for p in report.notices)
    lock.write_text(",tdkt,may-khac,19.05.2024 08:00,file:///tmp/profile;")
    os.utime(lock, (old, old))
    with pytest.raises(merge.MergeError, match="may-khac"):
        merge.run(catalogue, wd, now=NOW)            # another machine may still have it open


def test_damaged_master_stops_with_exit_3_and_changes_nothing(gen, tmp_path, catalogue):
    wd = fresh(gen, tmp_path)
    merge.run(catalogue, wd, now=NOW)
    mp = master_path(wd, 2024)
    data = mp.read_bytes()
    mp.write_bytes(data[: len(data) // 2])           # cut short (a copy interrupted, a bad USB stick)
    send(gen, catalogue, wd, "hoi_lhpn", rows_of(gen, "hoi_lhpn", [4]), "lhpn.xlsx")
    master_before, store_before = mp.read_bytes(), store_rows(wd)
    r = subprocess.run(CLI + ["--dir", str(wd)], capture_output=True, text=True)
    assert r.returncode == 3 and "Traceback" not in r.stderr
    assert "bị hỏng" in r.stderr and mp.name in r.stderr and "ban_cu" in r.stderr
    assert mp.read_bytes() == master_before and store_rows(wd) == store_before


def test_backups_are_made_complete_and_capped(gen, tmp_path, catalogue):
    wd = fresh(gen, tmp_path)
    mp = master_path(wd, 2024)
    merge.run(catalogue, wd, now=NOW)
    assert backups(mp) == []                          # nothing to keep on the first merge
    previous = mp.read_bytes()
    merge.run(catalogue, wd, now=NOW)
    assert [b.read_bytes() for b in backups(mp)] == [previous]
    for _ in range(KEEP + 2):
        previous = mp.read_bytes()
        merge.run(catalogue, wd, now=NOW)
    kept = backups(mp)
    assert len(kept) == KEEP and kept[-1].read_bytes() == previous
    assert sorted(backup_dir(mp).iterdir()) == sorted(kept)   # nothing else in the folder
    for b in kept:
        with zipfile.ZipFile(b) as z:
            assert z.testzip() is None


# --------------------------------------------------------------------------- LibreOffice as the officer's editor


@pytest.mark.libreoffice
def test_officer_edits_in_libreoffice_survive(gen, tmp_path, catalogue, libreoffice):
    wd = fresh(gen, tmp_path)
    send(gen, catalogue, wd, "hoi_lhpn", rows_of(gen, "hoi_lhpn", [4, 5]), "lhpn.xlsx")
    merge.run(catalogue, wd, now=NOW)
    mp = master_path(wd, 2024)
    ws = openpyxl.load_workbook(mp)["Điển hình"]
    cols = header(ws)
    target = sorted(r[NAME] for r in table(mp, "Điển hình"))[0]
    r = row_of(ws, NAME, target)
    L = openpyxl.utils.get_column_letter
    note, decision, name_col = L(cols["Ghi chú của cán bộ TĐKT"]), L(cols["Kết quả xét chọn"]), L(cols[NAME])
    saved = tmp_path / "luu_tu_libreoffice.xlsx"
    lock_copy = tmp_path / "lock_copy"
    ops = [
        {"op": "copy_lock_file", "to": str(lock_copy)},
        {"op": "set", "sheet": "Điển hình", "cell": f"{decision}{r}", "value": "Được chọn"},
        {"op": "set", "sheet": "Điển hình", "cell": f"{note}{r}", "value": "Đã xác minh"},
        {"op": "set", "sheet": "Điển hình", "cell": f"{note}{HEADER_ROW}", "value": "Nhận xét"},   # renamed
        {"op": "move_column", "sheet": "Điển hình", "col": note, "before": "B"},                 # and moved
        {"op": "insert_columns", "sheet": "Điển hình", "before": "C", "count": 1},
        {"op": "set", "sheet": "Điển hình", "cell": f"C{HEADER_ROW}", "value": "Điểm"},
        {"op": "set", "sheet": "Điển hình", "cell": f"C{r}", "value": 9.5},
        {"op": "set", "sheet": "Điển hình", "cell": f"{L(cols[NAME] + 2)}{r}", "value": "Tên sửa trong LibreOffice"},
        {"op": "add_sheet", "name": "Ghi chép"},
        {"op": "set", "sheet": "Ghi chép", "cell": "A1", "value": "Việc cần làm"},
        {"op": "bold", "sheet": "Ghi chép", "range": "A1"},
        {"op": "set", "sheet": "Ghi chép", "cell": "B2", "value": 4},
        {"op": "formula", "sheet": "Ghi chép", "cell": "B3", "formula": "=B2*3"},
        {"op": "merge", "sheet": "Ghi chép", "range": "A5:C6"},
        {"op": "column_width", "sheet": "Ghi chép", "col": "A", "width": 7},
        {"op": "rename_sheet", "sheet": "Điển hình", "name": "DS điển hình"},
    ]
    libreoffice.fill([{"src": str(mp), "dst": str(saved), "format": "xlsx", "ops": ops}])
    assert name_col
    shutil.copyfile(saved, mp)
    # while LibreOffice has the master open, its lock file stops the merge
    assert lock_copy.exists(), "LibreOffice keeps a lock file beside an open document"
    shutil.copyfile(lock_copy, mp.with_name(f".~lock.{mp.name}#"))
    with pytest.raises(merge.MergeError, match="đang mở"):
        merge.run(catalogue, wd, now=NOW)
    mp.with_name(f".~lock.{mp.name}#").unlink()
    for _ in range(2):
        merge.run(catalogue, wd, now=NOW)
        wb = openpyxl.load_workbook(mp)
        assert "Điển hình" in wb.sheetnames and "DS điển hình" not in wb.sheetnames   # the tool's sheet name
        rows = {x[NAME]: x for x in table(mp, "Điển hình")}
        assert rows[target]["Nhận xét"] == "Đã xác minh" and rows[target]["Kết quả xét chọn"] == "Được chọn"
        assert rows[target]["Điểm"] == 9.5
        ws = wb["Điển hình"]
        assert ws.cell(HEADER_ROW, 2).value == "Nhận xét" and ws.cell(HEADER_ROW, 3).value == "Điểm"
        g = wb["Ghi chép"]
        assert g["A1"].value == "Việc cần làm" and g["A1"].font.b
        assert g["B3"].value == "=B2*3" and g["B2"].value == 4
        assert "A5:C6" in {str(m) for m in g.merged_cells.ranges}
        listed = {e["Cán bộ đã gõ"]: e for e in edits_listed(mp)}
        assert "Tên sửa trong LibreOffice" in listed and "DS điển hình" in listed   # edit and sheet rename
        assert len(listed) == 2


def test_master_of_an_older_version_keeps_the_officers_values(gen, tmp_path, catalogue):
    """A master written before the hidden keys (titles on row 1, no check column): read by titles, once."""
    wd = fresh(gen, tmp_path)
    send(gen, catalogue, wd, "hoi_lhpn", rows_of(gen, "hoi_lhpn", [4, 5]), "lhpn.xlsx")
    merge.run(catalogue, wd, now=NOW)
    mp = master_path(wd, 2024)
    nid = sorted(r[ID] for r in table(mp, "Điển hình"))[0]

    def to_old_layout(wb):
        for ws in wb.worksheets:
            if ws.title in ("Đơn vị", "Điển hình", "Lỗi cần sửa", "Nhật ký tệp", "Sửa tay chưa áp dụng"):
                last = max(c.column for c in ws[1] if isinstance(c.value, str) and c.value.startswith("hoacu:"))
                ws.delete_cols(last)
                ws.delete_rows(1)
        del wb["Sửa tay chưa áp dụng"]
        ws = wb["Điển hình"]
        cols = {c.value: c.column for c in ws[1]}
        r = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, cols[ID]).value == nid)
        ws.cell(r, cols["Kết quả xét chọn"]).value = "Được chọn"
        ws.cell(1, ws.max_column + 1).value = "Điểm"
        ws.cell(r, ws.max_column).value = 8
    edit(mp, to_old_layout)
    merge.run(catalogue, wd, now=NOW)
    rows = {r[ID]: r for r in table(mp, "Điển hình")}
    assert rows[nid]["Kết quả xét chọn"] == "Được chọn" and rows[nid]["Điểm"] == 8
    assert not edits_listed(mp)
