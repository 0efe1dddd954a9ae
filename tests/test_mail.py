"""The email round trip: drafts parse back exactly, emails and zips in inbox/ are ingested, reminders,
and sending through a real local SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import socket
import subprocess
import sys
import zipfile
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from hoacu_xlsx import builder, catalogue as C, demo, generate, mail, merge, template

NOW = datetime(2024, 5, 20, 12, 0).astimezone()


def catalogue_with_emails(tmp_path: Path, smtp: str = "") -> Path:
    text = C.builtin_text()
    text = text.replace('id = "cong_an"\nname = "Công an xã"\nkind = "Lực lượng vũ trang"\nemail = ""',
                        'id = "cong_an"\nname = "Công an xã"\nkind = "Lực lượng vũ trang"\nemail = "congan@example.vn"')
    text = text.replace('title = "Công chức Văn phòng – Thống kê phụ trách TĐKT"\nname = ""\nemail = ""',
                        'title = "Công chức Văn phòng – Thống kê phụ trách TĐKT"\nname = ""\n'
                        'email = "tdkt@example.vn"')
    p = tmp_path / "danh_muc.toml"
    p.write_text(text + smtp, encoding="utf-8")
    return p


def parse(path: Path):
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def test_generate_email_writes_drafts_with_the_workbook(tmp_path):
    cfg = catalogue_with_emails(tmp_path)
    cat = C.load(cfg)
    res = generate.run(cat, tmp_path, email=True)
    assert len(res.drafts) == 15
    assert "Công an xã" not in res.no_address and "Trạm Y tế xã" in res.no_address
    msg = parse(tmp_path / "outbox" / "DTTT_2024_cong_an.eml")
    assert msg["To"].addresses[0].addr_spec == "congan@example.vn"
    assert msg["From"].addresses[0].addr_spec == "tdkt@example.vn"
    assert msg["X-Unsent"] == "1"
    assert "Đề xuất điển hình tiên tiến năm 2024 – Công an xã" in msg["Subject"]
    body = msg.get_body(("plain",)).get_content()
    assert "31/05/2024" in body and "Mục 8" in body
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == "Đề xuất điển hình 2024 - Công an xã.xlsx"
    assert att.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert att.get_content() == (tmp_path / "outbox" / "DTTT_2024_cong_an.xlsx").read_bytes()
    raw = (tmp_path / "outbox" / "DTTT_2024_cong_an.eml").read_bytes()
    assert b"filename*" in raw and b"utf-8''" in raw   # RFC 2231


def _returned(cat, wd: Path, unit_id: str) -> bytes:
    res = generate.run(cat, wd, units=[unit_id])
    b = res.built[0]
    aid = b.meta.assignment_ids[0]
    out = wd / "tmp_return.xlsx"
    builder.build_workbook(out, cat, b.unit, template.load_style(None), b.meta.token, b.meta.generated_at,
                           {aid: [demo.sample_row(cat, aid, 1, kind_index=1)]}, demo.PREPARER)
    data = out.read_bytes()
    out.unlink()
    return data


def test_email_in_inbox_gives_received_time_and_sender_check(tmp_path):
    cfg = catalogue_with_emails(tmp_path)
    cat = C.load(cfg)
    data = _returned(cat, tmp_path, "cong_an")
    m = EmailMessage()
    m["From"] = "Ai đó <khac@example.vn>"
    m["To"] = "tdkt@example.vn"
    m["Subject"] = "Gửi lại sổ"
    m["Date"] = "Thu, 30 May 2024 16:20:00 +0700"
    m.set_content("Kính gửi")
    m.add_attachment(data, maintype="application", subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     filename="Sổ đề xuất Công an.xlsx")
    (tmp_path / "inbox" / "thu_cong_an.eml").write_bytes(bytes(m))
    empty = EmailMessage()
    empty["From"] = "a@example.vn"
    empty["Subject"] = "Quên đính kèm"
    empty.set_content("...")
    (tmp_path / "inbox" / "quen.eml").write_bytes(bytes(empty))
    report = merge.run(cat, tmp_path, now=datetime(2024, 6, 3).astimezone())
    st = report.picture.unit_status("cong_an")
    assert st.nominations == 1 and not st.late
    assert st.received_at == datetime.fromisoformat("2024-05-30T16:20:00+07:00")
    f = next(f for f in report.picture.files if f.unit_id == "cong_an")
    assert f.name == "thu_cong_an.eml › Sổ đề xuất Công an.xlsx" and f.sender == "khac@example.vn"
    codes = {p.code: p for p in report.picture.problems}
    assert "sender_mismatch" in codes and "congan@example.vn" in codes["sender_mismatch"].message
    assert "email_without_workbook" in codes and codes["email_without_workbook"].file == "quen.eml"


def test_zip_with_several_workbooks(tmp_path, catalogue):
    a = _returned(catalogue, tmp_path, "cong_an")
    b = _returned(catalogue, tmp_path, "tram_y_te")
    with zipfile.ZipFile(tmp_path / "inbox" / "goi.zip", "w") as z:
        z.writestr("Công an.xlsx", a)
        z.writestr("y tế/Trạm.xlsx", b)
    report = merge.run(catalogue, tmp_path, now=NOW)
    assert report.picture.unit_status("cong_an").nominations == 1
    assert report.picture.unit_status("tram_y_te").nominations == 1


def test_reminders_are_worded_by_the_deadline(tmp_path, catalogue):
    generate.run(catalogue, tmp_path)
    (tmp_path / "inbox" / "x.xlsx").write_bytes(_returned(catalogue, tmp_path, "cong_an"))
    merge.run(catalogue, tmp_path, now=NOW)
    before = mail.write_reminders(catalogue, merge.status_picture(catalogue, tmp_path, NOW), tmp_path / "r1",
                                  tmp_path / "feedback")
    names = {p.name for p in before}
    assert "NhacNho_2024_cong_an.eml" not in names and "NhacNho_2024_tram_y_te.eml" in names
    body = parse(tmp_path / "r1" / "NhacNho_2024_tram_y_te.eml").get_body(("plain",)).get_content()
    assert "còn 11 ngày" in body
    late = merge.status_picture(catalogue, tmp_path, datetime(2024, 6, 4).astimezone())
    mail.write_reminders(catalogue, late, tmp_path / "r2", tmp_path / "feedback")
    body = parse(tmp_path / "r2" / "NhacNho_2024_tram_y_te.eml").get_body(("plain",)).get_content()
    assert "đã quá hạn 4 ngày" in body


def test_reminder_for_unit_with_errors_attaches_feedback(tmp_path, catalogue):
    res = generate.run(catalogue, tmp_path, units=["cong_an"])
    b = res.built[0]
    row = demo.sample_row(catalogue, "8", 1, kind_index=1)
    row["gioi_tinh"] = "nam giới"
    builder.build_workbook(tmp_path / "inbox" / "ca.xlsx", catalogue, b.unit, template.load_style(None),
                           b.meta.token, b.meta.generated_at, {"8": [row]}, demo.PREPARER)
    merge.run(catalogue, tmp_path, now=NOW)
    paths = mail.write_reminders(catalogue, merge.status_picture(catalogue, tmp_path, NOW), tmp_path / "r",
                                 tmp_path / "feedback")
    msg = parse(next(p for p in paths if "cong_an" in p.name))
    body = msg.get_body(("plain",)).get_content()
    assert "lỗi cần sửa" in body and "nam giới" in body
    (att,) = list(msg.iter_attachments())
    assert att.get_content() == (tmp_path / "feedback" / "PhanHoi_2024_cong_an.xlsx").read_bytes()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def smtp_server():
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.envelopes = []

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append(envelope)
            return "250 OK"

    handler = Keep()
    port = _free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    yield port, handler
    ctl.stop()


def test_send_through_local_smtp_server(tmp_path, smtp_server):
    port, handler = smtp_server
    cfg = catalogue_with_emails(tmp_path, f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n')
    cat = C.load(cfg)
    res = generate.run(cat, tmp_path, email=True)
    drafts = [str(p) for p in res.drafts]
    cli = [sys.executable, "-m", "hoacu_xlsx", "send", "--dir", str(tmp_path), *drafts]
    dry = subprocess.run(cli, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "Chạy thử" in dry.stdout and not handler.envelopes          # dry run by default: nothing sent
    real = subprocess.run(cli + ["--gui-that"], capture_output=True, text=True)
    assert real.returncode == 0, real.stderr
    assert len(handler.envelopes) == 1                                 # only the unit with an address
    env = handler.envelopes[0]
    assert env.rcpt_tos == ["congan@example.vn"] and env.mail_from == "tdkt@example.vn"
    msg = message_from_bytes(env.content, policy=policy.default)
    assert msg["X-Unsent"] is None
    (att,) = list(msg.iter_attachments())
    assert att.get_content() == (tmp_path / "outbox" / "DTTT_2024_cong_an.xlsx").read_bytes()
    assert "Bỏ qua" in real.stdout   # units without an address are listed
