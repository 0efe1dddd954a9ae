"""`merge`, `validate`, `status`: returns filled in LibreOffice, merged into the master.

All returned files here are produced by LibreOffice Calc filling the generated
workbooks by the `_meta` contract, as a unit would — in one soffice session.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from hoacu_xlsx import demo, merge, picture as P
from hoacu_xlsx.master import master_path
from tests.conftest import MASTER_HEADER, generated_round

NOW = datetime(2024, 5, 20, 12, 0).astimezone()


def sheet_rows(path: Path, name: str) -> list[list]:
    wb = CalamineWorkbook.from_path(str(path))
    return wb.get_sheet_by_name(name).to_python()


def find_sheet(path: Path, prefix: str) -> str:
    wb = CalamineWorkbook.from_path(str(path))
    return next(n for n in wb.sheet_names if n.startswith(prefix))


@pytest.fixture(scope="module")
def returns(tmp_path_factory, catalogue, libreoffice):
    """LibreOffice-filled returns for several units, made once for the module."""
    wd, built, out, sr = generated_round(tmp_path_factory, catalogue, "round")

    pasted = sr("8", 2, 1)
    pasted["gioi_tinh"] = "Nam giới"          # typed over the dropdown
    odd = sr("3", 4, 1)
    odd["nam_sinh"] = "1985.0"                  # a year that came back as text with .0
    odd["dien_thoai"] = 912345678               # a phone that lost its leading zero
    odd["ten"] = "  NGUYỄN   VĂN MẪU  "         # capitals, double spaces
    formula_like = sr("8", 8, 0)
    formula_like["ten"] = '=HYPERLINK("http://x","y")'   # typed as text in LibreOffice (setString)
    formula_like["thanh_tich"] = "=1+1"
    formula_like["gioi_tinh"] = "=1+1"                  # not in the list: quoted in Lỗi cần sửa
    plan = {
        "ban_chqs_formula": ("ban_chqs", {"8": [formula_like]}, []),
        "ban_tuyen_giao_v1": ("ban_tuyen_giao", {"1": [sr("1", 1, 0)]}, []),
        "ban_tuyen_giao_v2": ("ban_tuyen_giao", {"1": [sr("1", 2, 1), sr("1", 3, 0)]}, []),
        "cong_an_pasted": ("cong_an", {"8": [pasted]}, []),
        "ban_chqs_nocol": ("ban_chqs", {"8": [sr("8", 5, 0)]},
                           [{"op": "delete_columns", "sheet": "Mục 8",
                             "col": built["ban_chqs"].meta.layouts["8"].columns["thanh_tich"], "count": 1}]),
        "van_phong_odd": ("van_phong_ubnd", {"3": [odd]}, []),
        "hoi_lhpn_clean": ("hoi_lhpn", {"13": [sr("13", 6, 0), sr("13", 7, 1)]}, []),
    }
    libreoffice.fill([demo.fill_job(built[unit_id], rows, out / f"{name}.xlsx", extra=extra)
                      for name, (unit_id, rows, extra) in plan.items()])
    return {"workdir": wd, "files": {name: out / f"{name}.xlsx" for name in plan},
            "meta": {u: b.meta for u, b in built.items()}}


def fresh_round(returns, tmp_path: Path, names: list[str]) -> Path:
    """A copy of the generated round (store with issued tokens) with some returns in inbox/."""
    wd = tmp_path / "round"
    shutil.copytree(returns["workdir"], wd)
    for n in names:
        shutil.copyfile(returns["files"][n], wd / "inbox" / f"{n}.xlsx")
    return wd


def nominations(mpath: Path) -> list[dict]:
    rows = sheet_rows(mpath, "Điển hình")
    header_i = next(i for i, r in enumerate(rows) if "Mã điển hình" in r)
    header = rows[header_i]
    return [dict(zip(header, r)) for r in rows[header_i + 1:] if any(v not in ("", None) for v in r)]


def test_empty_inbox_lists_every_unit_as_not_submitted(tmp_path, catalogue):
    report = merge.run(catalogue, tmp_path, now=NOW)
    mpath = master_path(tmp_path, 2024)
    assert mpath.exists()
    assert [s.status for s in report.picture.units] == [P.NOT_SUBMITTED] * 15
    text = json.dumps(sheet_rows(mpath, "Đơn vị"), ensure_ascii=False)
    assert text.count(P.NOT_SUBMITTED) >= 15


def test_clean_return_is_counted_and_quota_met(returns, tmp_path, catalogue):
    wd = fresh_round(returns, tmp_path, ["hoi_lhpn_clean"])
    report = merge.run(catalogue, wd, now=NOW)
    st = report.picture.unit_status("hoi_lhpn")
    assert st.status == P.SUBMITTED_OK and st.nominations == 2 and st.errors == 0
    item13 = next(a for a in report.picture.assignments if a.assignment.id == "13")
    assert item13.quota_met and item13.nominations == 2
    noms = nominations(master_path(wd, 2024))
    assert {n["Tên tập thể / Họ và tên cá nhân, chủ hộ"] for n in noms} == {"Tập thể mẫu 6", "Người mẫu Số 7"}


def test_second_version_replaces_the_first(returns, tmp_path, catalogue):
    wd = fresh_round(returns, tmp_path, ["ban_tuyen_giao_v1"])
    merge.run(catalogue, wd, now=NOW)
    shutil.copyfile(returns["files"]["ban_tuyen_giao_v2"], wd / "inbox" / "ban_tuyen_giao_v2.xlsx")
    report = merge.run(catalogue, wd, now=NOW)
    st = report.picture.unit_status("ban_tuyen_giao")
    assert st.version == 2 and st.nominations == 2 and st.latest_file == "ban_tuyen_giao_v2.xlsx"
    states = {r.nomination.values["ten"]: r.state for r in report.picture.nominations}
    assert states["Tập thể mẫu 1"] == P.NOM_WITHDRAWN           # marked, not silently dropped
    assert states["Người mẫu Số 2"] == P.NOM_CURRENT
    outcomes = {f.name: f.outcome for f in report.picture.files}
    assert outcomes["ban_tuyen_giao_v1.xlsx"] == P.FILE_REPLACED   # the older one stays in the history


def test_same_content_twice_counts_once(returns, tmp_path, catalogue):
    wd = fresh_round(returns, tmp_path, ["hoi_lhpn_clean"])
    (wd / "inbox" / "gui_lai").mkdir()
    shutil.copyfile(returns["files"]["hoi_lhpn_clean"], wd / "inbox" / "gui_lai" / "ban_sao.xlsx")
    report = merge.run(catalogue, wd, now=NOW)
    assert len(report.picture.files) == 1
    assert report.picture.unit_status("hoi_lhpn").nominations == 2
    assert report.picture.files[0].seen_as == ["gui_lai/ban_sao.xlsx"]   # the log says it came twice


def test_pasted_dropdown_value_and_missing_column_are_cell_precise(returns, tmp_path, catalogue):
    wd = fresh_round(returns, tmp_path, ["cong_an_pasted", "ban_chqs_nocol"])
    report = merge.run(catalogue, wd, now=NOW)
    probs = report.picture.problems
    pasted = [p for p in probs if p.code == "not_in_list"]
    assert pasted, probs
    p = pasted[0]
    assert p.file == "cong_an_pasted.xlsx" and p.sheet == "Mục 8" and p.value == "Nam giới"
    lay = returns["meta"]["cong_an"].layouts["8"]
    assert p.cell == f"{lay.columns['gioi_tinh']}{lay.first_data_row}" and "danh sách" in p.message
    missing = [p for p in probs if p.code == "missing_column"]
    assert missing and missing[0].file == "ban_chqs_nocol.xlsx"
    assert "Thành tích tiêu biểu" in missing[0].message and missing[0].cell
    assert report.picture.unit_status("cong_an").status == P.SUBMITTED_ERRORS
    # the problems sheet of the master carries them, in Vietnamese
    text = json.dumps(sheet_rows(master_path(wd, 2024), "Lỗi cần sửa"), ensure_ascii=False)
    assert "Nam giới" in text and "Thiếu cột" in text


def test_formula_like_text_typed_by_a_unit_stays_text_in_every_master_sheet(returns, tmp_path, catalogue):
    import openpyxl

    wd = fresh_round(returns, tmp_path, ["ban_chqs_formula"])
    merge.run(catalogue, wd, now=NOW)
    wb = openpyxl.load_workbook(master_path(wd, 2024))
    assert not [(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    texts = {(ws.title, c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if c.data_type == "s" and isinstance(c.value, str) and c.value.startswith("=")}
    assert {("Điển hình", '=HYPERLINK("http://x","y")'), ("Điển hình", "=1+1"), ("Lỗi cần sửa", "=1+1")} <= texts


def test_values_are_normalised(returns, tmp_path, catalogue):
    wd = fresh_round(returns, tmp_path, ["van_phong_odd"])
    report = merge.run(catalogue, wd, now=NOW)
    row = next(r for r in report.picture.nominations if r.unit.id == "van_phong_ubnd")
    assert row.nomination.values["nam_sinh"] == "1985"
    assert row.nomination.values["dien_thoai"] == "0912345678"
    assert row.nomination.values["ten"] == "Nguyễn Văn Mẫu"
    assert row.state == P.NOM_CURRENT


def test_officer_columns_survive_a_remerge(returns, tmp_path, catalogue):
    import openpyxl

    wd = fresh_round(returns, tmp_path, ["hoi_lhpn_clean"])
    merge.run(catalogue, wd, now=NOW)
    mpath = master_path(wd, 2024)
    wb = openpyxl.load_workbook(mpath)
    ws = wb["Điển hình"]
    header_row = next(r for r in ws.iter_rows() if any(c.value == "Mã điển hình" for c in r))
    cols = {c.value: c.column for c in header_row}
    target = None
    for r in range(header_row[0].row + 1, ws.max_row + 1):
        if ws.cell(r, cols["Tên tập thể / Họ và tên cá nhân, chủ hộ"]).value == "Người mẫu Số 7":
            target = r
    ws.cell(target, cols["Kết quả xét chọn"]).value = "Được chọn"
    note = ws.cell(target, cols["Ghi chú của cán bộ TĐKT"])
    note.value = "=Đã gặp trực tiếp"
    note.data_type = "s"  # typed as text ('=…), as Excel stores it: must stay text, never become a formula
    wb.save(mpath)
    shutil.copyfile(returns["files"]["ban_tuyen_giao_v1"], wd / "inbox" / "btg.xlsx")
    merge.run(catalogue, wd, now=NOW)
    noms = {n["Tên tập thể / Họ và tên cá nhân, chủ hộ"]: n for n in nominations(mpath)}
    assert noms["Người mẫu Số 7"]["Kết quả xét chọn"] == "Được chọn"
    assert noms["Người mẫu Số 7"]["Ghi chú của cán bộ TĐKT"] == "=Đã gặp trực tiếp"
    assert "Tập thể mẫu 1" in noms
    # and they survive even when the master is deleted: the store keeps them
    mpath.unlink()
    merge.run(catalogue, wd, now=NOW)
    noms = {n["Tên tập thể / Họ và tên cá nhân, chủ hộ"]: n for n in nominations(mpath)}
    assert noms["Người mẫu Số 7"]["Kết quả xét chọn"] == "Được chọn"


def test_rebuild_from_store_after_inbox_deleted_and_idempotent(returns, tmp_path, catalogue):
    wd = fresh_round(returns, tmp_path, ["hoi_lhpn_clean", "cong_an_pasted", "ban_tuyen_giao_v1"])
    merge.run(catalogue, wd, now=NOW)
    mpath = master_path(wd, 2024)
    first = {s: sheet_rows(mpath, s) for s in ("Tổng quan", "Đơn vị", "Điển hình", "Lỗi cần sửa")}
    merge.run(catalogue, wd, now=NOW)
    assert {s: sheet_rows(mpath, s) for s in first} == first           # idempotent
    shutil.rmtree(wd / "inbox")
    (wd / "inbox").mkdir()
    mpath.unlink()
    merge.run(catalogue, wd, now=NOW, rescan=False)
    assert {s: sheet_rows(mpath, s) for s in first} == first           # rebuilt from the store alone


def test_feedback_for_unit_with_problems(returns, tmp_path, catalogue):
    wd = fresh_round(returns, tmp_path, ["cong_an_pasted", "hoi_lhpn_clean"])
    report = merge.run(catalogue, wd, now=NOW)
    names = sorted(p.name for p in report.feedback)
    assert any("cong_an" in n for n in names)
    assert not any("hoi_lhpn" in n for n in names)


def test_validate_exit_codes(returns, tmp_path):
    clean = returns["files"]["hoi_lhpn_clean"]
    bad = returns["files"]["cong_an_pasted"]
    junk = tmp_path / "ghi_chu.pdf"
    junk.write_bytes(b"%PDF-1.4 not a workbook")
    run = lambda *f: subprocess.run([sys.executable, "-m", "hoacu_xlsx", "validate", "--dir", str(returns["workdir"]),  # noqa
                                     *map(str, f)], capture_output=True, text=True)
    r = run(clean)
    assert r.returncode in (0, 1), r.stderr  # clean rows; at most warnings
    assert "Hội Liên hiệp Phụ nữ xã" in r.stdout
    r = run(bad)
    assert r.returncode == 1 and "Nam giới" in r.stdout
    r = run(junk)
    assert r.returncode == 2 and "ghi_chu.pdf" in r.stdout


def test_status_json(returns, tmp_path, catalogue):
    wd = fresh_round(returns, tmp_path, ["hoi_lhpn_clean"])
    merge.run(catalogue, wd, now=NOW)
    r = subprocess.run([sys.executable, "-m", "hoacu_xlsx", "status", "--json", "--dir", str(wd),
                        "--now", "20/05/2024"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["days_left"] == 11
    assert "hoi_lhpn" not in data["not_submitted"] and "cong_an" in data["not_submitted"]
    r = subprocess.run([sys.executable, "-m", "hoacu_xlsx", "status", "--dir", str(wd), "--now", "20/05/2024"],
                       capture_output=True, text=True)
    assert "Chưa nộp" in r.stdout and "còn 11 ngày" in r.stdout


def test_lateness_uses_received_time(returns, tmp_path, catalogue):
    import os

    wd = fresh_round(returns, tmp_path, ["hoi_lhpn_clean"])
    late = datetime(2024, 6, 3, 9, 0).timestamp()
    os.utime(wd / "inbox" / "hoi_lhpn_clean.xlsx", (late, late))
    report = merge.run(catalogue, wd, now=datetime(2024, 6, 10).astimezone())
    st = report.picture.unit_status("hoi_lhpn")
    assert st.status == P.LATE and st.late
    assert report.picture.days_left == -10


def test_officer_overrides_received_time_in_the_master(returns, tmp_path, catalogue):
    import openpyxl

    wd = fresh_round(returns, tmp_path, ["hoi_lhpn_clean"])
    late_now = datetime(2024, 6, 10, 9, 0).astimezone()
    report = merge.run(catalogue, wd, now=late_now)
    assert report.picture.unit_status("hoi_lhpn").late            # first seen after the deadline
    mpath = master_path(wd, 2024)
    wb = openpyxl.load_workbook(mpath)
    ws = wb["Nhật ký tệp"]
    cols = {c.value: c.column for c in ws[2]}      # row 1 holds the hidden column keys, row 2 the titles
    ws.cell(3, cols["Sửa thời điểm nhận (dd/mm/yyyy hh:mm)"]).value = "30/05/2024 16:00"
    wb.save(mpath)
    report = merge.run(catalogue, wd, now=late_now)
    st = report.picture.unit_status("hoi_lhpn")
    assert not st.late and st.status == P.SUBMITTED_OK
    assert st.received_at.strftime("%d/%m/%Y %H:%M") == "30/05/2024 16:00"
    f = report.picture.files[0]
    assert f.received_source == "cán bộ TĐKT sửa"
    # the override stays visible in the master for the officer to change again
    rows = sheet_rows(mpath, "Nhật ký tệp")
    assert "30/05/2024 16:00" in rows[2]


# --------------------------------------------------------------------------- whose file is it (verdicts)


@pytest.fixture(scope="module")
def mixups(tmp_path_factory, catalogue, libreoffice):
    """Ban CHQS's genuine return, Công an's rows typed into Ban CHQS's workbook, and a return with a
    formula error and line breaks — all filled by LibreOffice."""
    wd, built, out, sr = generated_round(tmp_path_factory, catalogue, "mixups")
    police = sr("8", 21, 1)
    police["ten"] = "Chiến sĩ mẫu Công an"
    lay = built["hoi_lhpn"].meta.layouts["13"]
    lines = sr("13", 22, 1)
    lines["thanh_tich"] = "Dòng một của thành tích mẫu\r\nDòng hai của thành tích mẫu"
    broken = sr("13", 23, 1)
    broken_cell = f"{lay.columns['thanh_tich']}{lay.first_data_row + 1}"
    libreoffice.fill([
        demo.fill_job(built["ban_chqs"], {"8": [sr("8", 20, 1)]}, out / "chqs.xlsx"),
        demo.fill_job(built["ban_chqs"], {"8": [police]}, out / "police_in_chqs_book.xlsx"),
        demo.fill_job(built["hoi_lhpn"], {"13": [lines, broken]}, out / "fidelity.xlsx",
                      extra=[{"op": "formula", "sheet": lay.sheet, "cell": broken_cell, "formula": "=FOOBARX(1)"}]),
    ])
    return {"workdir": wd, "dir": out, "broken_cell": broken_cell, "sheet": lay.sheet}


def mixup_round(mixups, tmp_path: Path) -> Path:
    import os

    wd = tmp_path / "round"
    shutil.copytree(mixups["workdir"], wd)
    for src, dst, day in (("chqs.xlsx", "DTTT_2024_ban_chqs.xlsx", 20), ("police_in_chqs_book.xlsx",
                                                                         "DTTT_2024_cong_an.xlsx", 21)):
        shutil.copyfile(mixups["dir"] / src, wd / "inbox" / dst)
        t = datetime(2024, 5, day, 9, 0).timestamp()
        os.utime(wd / "inbox" / dst, (t, t))
    return wd


def set_verdict(wd: Path, report, name: str, text: str) -> None:
    """The officer types a verdict into the master's file log (the master is the truth for officer columns)."""
    import openpyxl

    from hoacu_xlsx.master import VERDICT_HEADER

    mpath = master_path(wd, 2024)
    wb = openpyxl.load_workbook(mpath)
    ws = wb["Nhật ký tệp"]
    cols = {c.value: c.column for c in ws[MASTER_HEADER]}
    row = next(c.row for c in ws["A"] if c.value == name)
    ws.cell(row, cols[VERDICT_HEADER]).value = text or None
    wb.save(mpath)


def files_log(wd: Path) -> dict[str, dict]:
    rows = sheet_rows(master_path(wd, 2024), "Nhật ký tệp")
    return {r[0]: dict(zip(rows[1], r)) for r in rows[2:]}   # row 1: the hidden column keys


@pytest.mark.libreoffice
def test_a_workbook_of_another_unit_is_not_credited_until_the_officer_decides(mixups, tmp_path, catalogue):
    wd = mixup_round(mixups, tmp_path)
    report = merge.run(catalogue, wd, now=NOW)
    pic = report.picture
    chqs = pic.unit_status("ban_chqs")
    assert chqs.latest_file == "DTTT_2024_ban_chqs.xlsx" and chqs.version == 1       # the genuine one stays current
    assert pic.unit_status("cong_an").status == P.NOT_SUBMITTED
    log = files_log(wd)
    assert log["DTTT_2024_cong_an.xlsx"]["Kết quả"] == P.FILE_CONFLICT
    assert log["DTTT_2024_ban_chqs.xlsx"]["Kết quả"] == P.FILE_CURRENT
    rows = sheet_rows(master_path(wd, 2024), "Lỗi cần sửa")
    conflict = [r for r in rows if r[7] == "unit_conflict"]
    assert len(conflict) == 1 and conflict[0][0] == "Lỗi" and conflict[0][2] == "DTTT_2024_cong_an.xlsx"
    assert "Ban Chỉ huy Quân sự xã" in conflict[0][6] and "Công an xã" in conflict[0][6]
    names = {n["Tên tập thể / Họ và tên cá nhân, chủ hộ"] for n in nominations(master_path(wd, 2024))}
    assert "Chiến sĩ mẫu Công an" not in names

    # the officer credits it to Công an: counted there, Ban CHQS keeps its own file
    set_verdict(wd, report, "DTTT_2024_cong_an.xlsx", "  tính cho đơn vị:  CONG_AN ")
    pic = merge.run(catalogue, wd, now=NOW).picture
    assert pic.unit_status("cong_an").nominations == 1 and pic.unit_status("cong_an").status != P.NOT_SUBMITTED
    assert pic.unit_status("ban_chqs").latest_file == "DTTT_2024_ban_chqs.xlsx"
    noms = {n["Tên tập thể / Họ và tên cá nhân, chủ hộ"]: n for n in nominations(master_path(wd, 2024))}
    assert noms["Chiến sĩ mẫu Công an"]["Đơn vị"] == "Công an xã"
    assert not [p for p in pic.problems if p.code == "unit_conflict"]

    # undone: the cell is cleared, the conflict is back
    set_verdict(wd, report, "DTTT_2024_cong_an.xlsx", "")
    pic = merge.run(catalogue, wd, now=NOW).picture
    assert pic.unit_status("cong_an").status == P.NOT_SUBMITTED
    assert [p.code for p in pic.problems if p.code == "unit_conflict"] == ["unit_conflict"]

    # "Không tính": set aside, the unit's genuine file stays current, no more conflict to settle
    set_verdict(wd, report, "DTTT_2024_cong_an.xlsx", "KHÔNG TÍNH")
    pic = merge.run(catalogue, wd, now=NOW).picture
    assert files_log(wd)["DTTT_2024_cong_an.xlsx"]["Kết quả"] == P.FILE_EXCLUDED
    assert not [p for p in pic.problems if p.code == "unit_conflict"]

    # a verdict that names no unit is reported (naming the file log) and not applied
    set_verdict(wd, report, "DTTT_2024_cong_an.xlsx", "Tính cho đơn vị: cong_an_huyen")
    pic = merge.run(catalogue, wd, now=NOW).picture
    bad = [p for p in pic.problems if p.code == "bad_verdict"]
    assert len(bad) == 1 and "DTTT_2024_cong_an.xlsx" in bad[0].message and bad[0].sheet == "Nhật ký tệp"
    assert "cong_an_huyen" in bad[0].message
    assert files_log(wd)["DTTT_2024_cong_an.xlsx"]["Kết quả"] == P.FILE_CONFLICT


@pytest.mark.libreoffice
def test_a_sender_of_another_unit_is_a_conflict(mixups, tmp_path, catalogue):
    import dataclasses
    from email.message import EmailMessage

    cat = dataclasses.replace(catalogue, units=[dataclasses.replace(u, email=f"{u.id}@example.vn")
                                                for u in catalogue.units])
    wd = tmp_path / "round"
    shutil.copytree(mixups["workdir"], wd)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "cong_an@example.vn", "tdkt@example.vn", "Gửi sổ"
    msg["Date"] = "Tue, 21 May 2024 09:00:00 +0700"
    msg.set_content("Gửi sổ đề xuất.")
    msg.add_attachment((mixups["dir"] / "police_in_chqs_book.xlsx").read_bytes(), maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename="so.xlsx")
    (wd / "inbox" / "thu.eml").write_bytes(bytes(msg))
    pic = merge.run(cat, wd, now=NOW).picture
    (p,) = [p for p in pic.problems if p.code == "unit_conflict"]
    assert "cong_an@example.vn" in p.message and "Công an xã" in p.message
    assert pic.unit_status("ban_chqs").status == P.NOT_SUBMITTED


@pytest.mark.libreoffice
def test_officer_types_the_verdict_into_the_master(mixups, tmp_path, catalogue):
    import openpyxl

    from hoacu_xlsx.master import VERDICT_HEADER

    wd = mixup_round(mixups, tmp_path)
    r = subprocess.run([sys.executable, "-m", "hoacu_xlsx", "merge", "-q", "--dir", str(wd)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    mpath = master_path(wd, 2024)
    wb = openpyxl.load_workbook(mpath)
    ws = wb["Nhật ký tệp"]
    cols = {c.value: c.column for c in ws[MASTER_HEADER]}
    row = next(c.row for c in ws["A"] if c.value == "DTTT_2024_cong_an.xlsx")
    ws.cell(row, cols[VERDICT_HEADER]).value = "Tính cho đơn vị: cong_an"
    wb.save(mpath)
    r = subprocess.run([sys.executable, "-m", "hoacu_xlsx", "merge", "-q", "--dir", str(wd)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    noms = {n["Tên tập thể / Họ và tên cá nhân, chủ hộ"]: n for n in nominations(mpath)}
    assert noms["Chiến sĩ mẫu Công an"]["Đơn vị"] == "Công an xã"


# --------------------------------------------------------------------------- fidelity


@pytest.mark.libreoffice
def test_line_breaks_kept_and_formula_errors_reported(mixups, tmp_path, catalogue):
    import openpyxl

    wd = tmp_path / "round"
    shutil.copytree(mixups["workdir"], wd)
    shutil.copyfile(mixups["dir"] / "fidelity.xlsx", wd / "inbox" / "DTTT_2024_hoi_lhpn.xlsx")
    merge.run(catalogue, wd, now=NOW)
    mpath = master_path(wd, 2024)
    ws = openpyxl.load_workbook(mpath)["Điển hình"]
    cols = {c.value: c.column for c in ws[MASTER_HEADER]}
    texts = [ws.cell(r, cols["Thành tích tiêu biểu"]).value for r in range(MASTER_HEADER + 1, ws.max_row + 1)]
    assert "Dòng một của thành tích mẫu\nDòng hai của thành tích mẫu" in texts
    ws = openpyxl.load_workbook(mpath)["Lỗi cần sửa"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=MASTER_HEADER + 1)]
    (err,) = [r for r in rows if r[7] == "formula_error"]
    assert err[0] == "Lỗi" and err[3] == mixups["sheet"] and err[4] == mixups["broken_cell"] and err[5] == "#NAME?"
    assert "lỗi công thức #NAME?" in err[6]
    assert not [r for r in rows if r[7] == "required_blank" and r[4] == mixups["broken_cell"]]


@pytest.mark.libreoffice
def test_validate_reports_the_unit_conflict(mixups, tmp_path, catalogue):
    f = tmp_path / "DTTT_2024_cong_an.xlsx"
    shutil.copyfile(mixups["dir"] / "police_in_chqs_book.xlsx", f)
    (res,) = merge.check_files(catalogue, mixups["workdir"], [f])
    (p,) = [p for p in res.problems if p.code == "unit_conflict"]
    assert "Công an xã" in p.message and p.is_error
