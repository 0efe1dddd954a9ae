"""Time in Vietnam, the order of versions and problems that follow content.

Returns are filled by LibreOffice; emails are built with ``email.message.EmailMessage`` and saved
as ``.eml`` into inbox/ (the intake reads them); the master is read back with openpyxl as the
officer sees it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest

from hoacu_xlsx import demo, merge, picture as P
from hoacu_xlsx.clock import VN
from hoacu_xlsx.master import master_path
from hoacu_xlsx.store import Store
from tests.conftest import MASTER_HEADER, generated_round

pytestmark = pytest.mark.libreoffice
AFTER = datetime(2024, 6, 10, 9, 0, tzinfo=VN)     # "today" once the round is over
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@pytest.fixture(scope="module")
def returns(tmp_path_factory, catalogue, libreoffice):
    wd, built, out, sr = generated_round(tmp_path_factory, catalogue, "times")
    bad = sr("13", 2, 1)
    del bad["thanh_tich"]                                   # a required cell left blank
    plan = {"ok": [sr("13", 1, 0)], "ok2": [sr("13", 1, 0), sr("13", 3, 1)], "bad": [bad], "fixed": [sr("13", 2, 1)]}
    libreoffice.fill([demo.fill_job(built["hoi_lhpn"], {"13": rows}, out / f"{name}.xlsx")
                      for name, rows in plan.items()])
    return wd, out


def fresh(returns, tmp_path: Path) -> Path:
    wd = tmp_path / "round"
    shutil.copytree(returns[0], wd)
    return wd


def stamp(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def drop_file(returns, wd: Path, which: str, name: str, saved: datetime) -> Path:
    dst = wd / "inbox" / name
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(returns[1] / f"{which}.xlsx", dst)
    stamp(dst, saved)
    return dst


def drop_email(returns, wd: Path, which: str, date_header: str, saved: datetime, name: str = "thu.eml") -> Path:
    """A unit's reply as the officer saves it from the mail client: a .eml with the workbook attached."""
    msg = EmailMessage()
    msg["From"] = "Hội LHPN xã <hoilhpn@example.vn>"
    msg["To"] = "tdkt@example.vn"
    msg["Subject"] = "Gửi sổ đề xuất điển hình tiên tiến"
    msg["Date"] = date_header
    msg.set_content("Kính gửi cán bộ TĐKT, đơn vị gửi sổ đề xuất.")
    msg.add_attachment((returns[1] / f"{which}.xlsx").read_bytes(), maintype=XLSX[0], subtype=XLSX[1],
                       filename="DTTT_2024_hoi_lhpn.xlsx")
    dst = wd / "inbox" / name
    dst.write_bytes(bytes(msg))
    stamp(dst, saved)
    return dst


def sheet(wd: Path, name: str) -> list[dict]:
    ws = openpyxl.load_workbook(master_path(wd, 2024))[name]
    header = [c.value for c in ws[MASTER_HEADER]]
    return [dict(zip(header, (c.value for c in r))) for r in ws.iter_rows(min_row=MASTER_HEADER + 1) if r[0].value]


def unit_row(wd: Path) -> dict:
    return next(r for r in sheet(wd, "Đơn vị") if r["Mã đơn vị"] == "hoi_lhpn")


@pytest.mark.parametrize("date_header, saved, late, shown", [
    ("Fri, 31 May 2024 20:00:00 -0800", datetime(2024, 6, 1, 12, 0, tzinfo=VN), True, "01/06/2024 11:00"),
    ("Fri, 31 May 2024 23:30:00 +0700", datetime(2024, 6, 1, 8, 0, tzinfo=VN), False, "31/05/2024 23:30"),
], ids=["california_evening_is_late", "vietnam_2330_on_time"])
def test_email_date_is_reckoned_in_vietnam(returns, tmp_path, catalogue, date_header, saved, late, shown):
    wd = fresh(returns, tmp_path)
    drop_email(returns, wd, "ok", date_header, saved)
    merge.run(catalogue, wd, now=AFTER)
    row = unit_row(wd)
    assert row["Trạng thái"] == (P.LATE if late else P.SUBMITTED_OK)
    assert row["Thời điểm nhận"] == shown
    (log,) = sheet(wd, "Nhật ký tệp")
    assert log["Thời điểm nhận"] == shown and log["Nguồn thời điểm nhận"] == "ngày gửi thư (Date)"


@pytest.mark.parametrize("saved, late", [
    (datetime(2024, 5, 31, 23, 59, tzinfo=VN), False),
    (datetime(2024, 6, 1, 0, 0, tzinfo=VN), True),
], ids=["2359_on_time", "0000_late"])
def test_deadline_ends_at_midnight_vietnam_time(returns, tmp_path, catalogue, saved, late):
    wd = fresh(returns, tmp_path)
    drop_file(returns, wd, "ok", "DTTT_2024_hoi_lhpn.xlsx", saved)
    merge.run(catalogue, wd, now=AFTER)
    row = unit_row(wd)
    assert row["Trạng thái"] == (P.LATE if late else P.SUBMITTED_OK)
    assert row["Thời điểm nhận"] == saved.strftime("%d/%m/%Y %H:%M")


def test_wrong_sender_clock_does_not_keep_a_stale_version(returns, tmp_path, catalogue):
    wd = fresh(returns, tmp_path)
    # the first reply comes from a PC whose clock is a year ahead
    drop_email(returns, wd, "ok", "Tue, 20 May 2025 08:55:00 +0700", datetime(2024, 5, 20, 9, 0, tzinfo=VN),
               "lan1.eml")
    merge.run(catalogue, wd, now=AFTER)
    odd = [r for r in sheet(wd, "Lỗi cần sửa") if r["Mã lỗi"] == "email_date_odd"]
    assert len(odd) == 1 and odd[0]["Mức độ"] == "Cảnh báo" and "20/05/2025" in odd[0]["Nội dung cần sửa"]
    (log,) = sheet(wd, "Nhật ký tệp")
    assert log["Thời điểm nhận"] == "20/05/2024 09:00" and "giờ lưu tệp vào inbox/" in log["Nguồn thời điểm nhận"]
    # the corrected reply, sent later with a right clock, becomes the current version
    drop_email(returns, wd, "ok2", "Sat, 25 May 2024 10:00:00 +0700", datetime(2024, 5, 25, 10, 5, tzinfo=VN),
               "lan2.eml")
    report = merge.run(catalogue, wd, now=AFTER)
    st = report.picture.unit_status("hoi_lhpn")
    assert st.version == 2 and st.nominations == 2 and not st.late
    current = {f.name: f.version for f in report.picture.files if f.outcome == P.FILE_CURRENT}
    assert current == {"lan2.eml › DTTT_2024_hoi_lhpn.xlsx": 2}


def test_preview_with_now_persists_nothing(returns, tmp_path, catalogue):
    wd = fresh(returns, tmp_path)
    saved = datetime(2024, 6, 1, 10, 0, tzinfo=VN)                  # after the deadline
    drop_file(returns, wd, "ok", "DTTT_2024_hoi_lhpn.xlsx", saved)
    r = subprocess.run([sys.executable, "-m", "hoacu_xlsx", "merge", "-q", "--dir", str(wd), "--now", "20/05/2024"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert unit_row(wd)["Trạng thái"] == P.SUBMITTED_OK              # as of 20/05 the file is not late yet
    with Store.open(wd) as store:
        (rec,) = list(store.files())
    assert datetime.fromisoformat(rec.first_seen) == saved and rec.first_seen_source == "mtime"
    merge.run(catalogue, wd, now=AFTER)                              # the real merge afterwards
    row = unit_row(wd)
    assert row["Trạng thái"] == P.LATE and row["Thời điểm nhận"] == "01/06/2024 10:00"
    (log,) = sheet(wd, "Nhật ký tệp")
    assert log["Nguồn thời điểm nhận"] == "giờ lưu tệp vào inbox/"


def test_problems_follow_content_not_file_names(returns, tmp_path, catalogue):
    wd = fresh(returns, tmp_path)
    drop_file(returns, wd, "bad", "DTTT_2024_hoi_lhpn.xlsx", datetime(2024, 5, 20, 9, 0, tzinfo=VN))
    drop_file(returns, wd, "bad", "gui_lai/DTTT_2024_hoi_lhpn.xlsx", datetime(2024, 5, 20, 9, 5, tzinfo=VN))
    merge.run(catalogue, wd, now=AFTER)
    blanks = [r for r in sheet(wd, "Lỗi cần sửa") if r["Mã lỗi"] == "required_blank"]
    assert len(blanks) == 1                                          # same bytes under two names: listed once
    # the unit corrects the file and sends it again under the same name
    drop_file(returns, wd, "fixed", "DTTT_2024_hoi_lhpn.xlsx", datetime(2024, 5, 22, 9, 0, tzinfo=VN))
    shutil.rmtree(wd / "inbox" / "gui_lai")
    merge.run(catalogue, wd, now=AFTER)
    assert [r for r in sheet(wd, "Lỗi cần sửa") if r["Mức độ"] == "Lỗi"] == []
    assert unit_row(wd)["Trạng thái"] == P.SUBMITTED_OK
