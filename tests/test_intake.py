"""Intake without LibreOffice: what each file in inbox/ is, and what is ignored or refused."""

from __future__ import annotations

import io
import os
import time
import zipfile
from email.message import EmailMessage
from pathlib import Path

import xlsxwriter

from hoacu_xlsx import intake


def _xlsx() -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.add_worksheet("Mục 1").write("A1", "Tên")
    wb.close()
    return buf.getvalue()


def scan(inbox: Path) -> dict[str, intake.Incoming]:
    return {i.name: i for i in intake.scan_inbox(inbox)}


def test_lock_hidden_and_readme_files_are_ignored_silently(tmp_path):
    data = _xlsx()
    for name in ("~$so.xlsx", ".~lock.so.xlsx#", ".an.xlsx", "Thumbs.db", "desktop.ini", "README.md", "so.xlsx"):
        (tmp_path / name).write_bytes(data)
    assert list(scan(tmp_path)) == ["so.xlsx"]


def test_content_decides_the_format(tmp_path):
    (tmp_path / "that_ra_la_xlsx.xls").write_bytes(_xlsx())
    (tmp_path / "ghi_chu.txt").write_text("không phải sổ", encoding="utf-8")
    got = scan(tmp_path)
    assert got["that_ra_la_xlsx.xls"].fmt == "xlsx"
    assert got["that_ra_la_xlsx.xls"].problems[0].code == "wrong_extension"
    assert got["ghi_chu.txt"].fmt is None and "không phải sổ đề xuất" in got["ghi_chu.txt"].problems[0].message


def test_email_attachments_keep_date_sender_and_vietnamese_name(tmp_path):
    m = EmailMessage()
    m["From"] = "Trạm Y tế <tramyte@example.vn>"
    m["Date"] = "Wed, 29 May 2024 10:00:00 +0700"
    m["Subject"] = "Sổ đề xuất"
    m.set_content("Kính gửi")
    m.add_attachment(_xlsx(), maintype="application", subtype="octet-stream", filename="Sổ của Trạm Y tế.xlsx")
    (tmp_path / "thu.eml").write_bytes(bytes(m))
    (inc,) = scan(tmp_path).values()
    assert inc.name == "thu.eml › Sổ của Trạm Y tế.xlsx" and inc.origin == "thu.eml"
    assert inc.sender == "tramyte@example.vn" and inc.received_at.isoformat() == "2024-05-29T10:00:00+07:00"
    assert inc.fmt == "xlsx"


def test_zip_members_and_traversal(tmp_path):
    with zipfile.ZipFile(tmp_path / "goi.zip", "w") as z:
        z.writestr("Sổ 1.xlsx", _xlsx())
        z.writestr("../../thoat.xlsx", _xlsx())
    got = scan(tmp_path)
    assert got["goi.zip › Sổ 1.xlsx"].fmt == "xlsx"
    assert got["goi.zip › ../../thoat.xlsx"].problems[0].code == "zip_traversal"
    assert not (tmp_path.parent / "thoat.xlsx").exists()


def test_symlink_out_of_inbox_is_not_followed(tmp_path):
    secret = tmp_path / "ngoai.xlsx"
    secret.write_bytes(_xlsx())
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    os.symlink(secret, inbox / "lienket.xlsx")
    os.symlink(tmp_path, inbox / "thu_muc")
    got = scan(inbox)
    assert {p.code for i in got.values() for p in i.problems} == {"symlink_outside"}
    assert all(i.data == b"" for i in got.values())


def test_checking_a_normal_workbook_is_cheap():
    data = _xlsx()
    t = time.perf_counter()
    for _ in range(200):
        fmt, probs = intake.inspect_bytes(data, "so.xlsx")
    per_file = (time.perf_counter() - t) / 200
    assert fmt == "xlsx" and not probs
    print(f"inspect_bytes: {per_file * 1000:.2f} ms a workbook")
