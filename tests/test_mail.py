"""The email round trip: every generated .eml parses back exactly (headers, encodings, attachment
bytes), emails and zips in inbox/ are ingested, reminders are worded by the deadline, and sending goes
through a real local SMTP server (aiosmtpd on 127.0.0.1: plain, STARTTLS + AUTH, implicit TLS)."""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import sys
import unicodedata
import zipfile
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from hoacu_xlsx import builder, catalogue as C, demo, generate, mail, merge, smtp_send, template
from hoacu_xlsx import picture as P
from hoacu_xlsx.problems import Problem

NOW = datetime(2024, 5, 20, 12, 0).astimezone()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _set_email(text: str, unit_id: str, address: str) -> str:
    """The built-in catalogue text with one unit's ``email = ""`` filled in."""
    pat = re.compile(rf'(id = "{unit_id}"\n(?:(?!\[\[).*\n)*?)email = ""')
    new, n = pat.subn(lambda m: m.group(1) + f'email = "{address}"', text, count=1)
    assert n == 1, unit_id
    return new


def catalogue_with_emails(tmp_path: Path, smtp: str = "", **extra: str) -> Path:
    text = C.builtin_text()
    text = _set_email(text, "cong_an", "congan@example.vn")
    for unit_id, address in extra.items():
        text = _set_email(text, unit_id, address)
    text = text.replace('title = "Công chức Văn phòng – Thống kê phụ trách TĐKT"\nname = ""\nemail = ""',
                        'title = "Công chức Văn phòng – Thống kê phụ trách TĐKT"\nname = ""\n'
                        'email = "tdkt@example.vn"')
    p = tmp_path / "danh_muc.toml"
    p.write_text(text + smtp, encoding="utf-8")
    return p


def parse(path: Path):
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def body_of(msg) -> str:
    return msg.get_body(("plain",)).get_content()


# --------------------------------------------------------------------------- drafts


def test_generate_email_writes_drafts_with_the_workbook(tmp_path):
    cfg = catalogue_with_emails(tmp_path)
    cat = C.load(cfg)
    res = generate.run(cat, tmp_path, email=True)
    assert len(res.drafts) == len(res.built) == 15
    assert "Công an xã" not in res.no_address and "Trạm Y tế xã" in res.no_address
    msg = parse(tmp_path / "outbox" / "DTTT_2024_cong_an.eml")
    assert msg["To"].addresses[0].addr_spec == "congan@example.vn"
    assert msg["To"].addresses[0].display_name == "Công an xã"
    assert msg["From"].addresses[0].addr_spec == "tdkt@example.vn"
    assert msg["X-Unsent"] == "1"
    assert msg["Subject"] == "[UBND xã Hòa Cư] Đề xuất điển hình tiên tiến năm 2024 – Công an xã (hạn 31/05/2024)"
    body = body_of(msg)
    assert "31/05/2024" in body and "Mục 8" in body and cat.dispatch in body and "tdkt@example.vn" in body
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == "Đề xuất điển hình 2024 - Công an xã.xlsx"
    assert att.get_content_type() == XLSX
    assert att.get_content() == (tmp_path / "outbox" / "DTTT_2024_cong_an.xlsx").read_bytes()
    raw = (tmp_path / "outbox" / "DTTT_2024_cong_an.eml").read_bytes()
    assert re.search(rb"filename\*(0\*)?=utf-8''%C4%90%E1%BB%81", raw)   # RFC 2231, 'Đề…'


def test_every_draft_parses_back_exactly(tmp_path):
    cat = C.load(catalogue_with_emails(tmp_path))
    res = generate.run(cat, tmp_path, email=True)
    for b, draft in zip(res.built, res.drafts):
        assert draft == b.path.with_suffix(".eml") and draft.exists()
        raw = draft.read_bytes()
        raw.decode("ascii")                       # 7-bit clean: every header and part is encoded
        assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
        assert not list(draft.parent.glob("*.tmp"))
        msg = parse(draft)
        for h in ("From", "Subject", "Date", "Message-ID", "X-Unsent"):
            assert msg[h], (draft.name, h)
        assert msg["Date"].datetime is not None
        subject = str(msg["Subject"])
        assert subject == unicodedata.normalize("NFC", subject) and b.unit.name in subject
        assert b.unit.email or msg["To"] is None
        plain = msg.get_body(("plain",))
        assert plain.get_content_charset() == "utf-8"
        text = plain.get_content()
        assert text == unicodedata.normalize("NFC", text) and f"Kính gửi: {b.unit.name}" in text
        for a in cat.assignments_of(b.unit.id):
            assert f"Mục {a.item}" in text
        html = msg.get_body(("html",)).get_content()
        assert "Kính gửi" in html and "<p>" in html
        (att,) = list(msg.iter_attachments())
        assert att.get_filename() == mail.attachment_name(cat, b.unit) == unicodedata.normalize(
            "NFC", f"Đề xuất điển hình 2024 - {b.unit.name}.xlsx")
        assert att.get_content_type() == XLSX
        assert att.get_content() == b.path.read_bytes()


def test_unusable_addresses_are_listed_and_names_made_safe(tmp_path):
    cfg = catalogue_with_emails(tmp_path, tram_y_te="không phải địa chỉ", mttq="a@example.vn; b@example.vn")
    cat = C.load(cfg)
    res = generate.run(cat, tmp_path, units=["tram_y_te", "mttq", "cong_an"], email=True)
    assert res.no_address == ["Trạm Y tế xã (địa chỉ không hợp lệ: 'không phải địa chỉ')"]
    assert parse(tmp_path / "outbox" / "DTTT_2024_tram_y_te.eml")["To"] is None   # drafted all the same
    to = parse(tmp_path / "outbox" / "DTTT_2024_mttq.eml")["To"]
    assert [a.addr_spec for a in to.addresses] == ["a@example.vn", "b@example.vn"]
    odd = C.Unit(id="x", name='Thôn "A"/B: C?', kind="")
    assert mail.attachment_name(cat, odd) == "Đề xuất điển hình 2024 - Thôn -A-B- C-.xlsx"


def test_without_receiver_address_the_draft_has_no_from(tmp_path, catalogue):
    generate.run(catalogue, tmp_path, units=["cong_an"], email=True)
    msg = parse(tmp_path / "outbox" / "DTTT_2024_cong_an.eml")
    assert msg["From"] is None and msg["To"] is None
    assert "(trả lời thư này)" in body_of(msg)


# --------------------------------------------------------------------------- inbox (.eml, .zip)


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


def test_our_own_draft_saved_back_into_inbox_is_read(tmp_path):
    """A unit that replies with our draft's attachment: the .eml we wrote is valid input for intake."""
    cat = C.load(catalogue_with_emails(tmp_path))
    data = _returned(cat, tmp_path, "cong_an")
    ret = tmp_path / "ret.xlsx"
    ret.write_bytes(data)
    unit = cat.unit("cong_an")
    msg = mail.draft_for(cat, unit, ret, now=datetime(2024, 5, 29, 9, 0).astimezone())
    (tmp_path / "inbox" / "tra_loi.eml").write_bytes(msg.as_bytes(policy=policy.SMTP))
    report = merge.run(cat, tmp_path, now=NOW)
    assert report.picture.unit_status("cong_an").nominations == 1


def test_zip_with_several_workbooks(tmp_path, catalogue):
    a = _returned(catalogue, tmp_path, "cong_an")
    b = _returned(catalogue, tmp_path, "tram_y_te")
    with zipfile.ZipFile(tmp_path / "inbox" / "goi.zip", "w") as z:
        z.writestr("Công an.xlsx", a)
        z.writestr("y tế/Trạm.xlsx", b)
    report = merge.run(catalogue, tmp_path, now=NOW)
    assert report.picture.unit_status("cong_an").nominations == 1
    assert report.picture.unit_status("tram_y_te").nominations == 1


# --------------------------------------------------------------------------- reminders


@pytest.mark.parametrize("now, wording", [
    (datetime(2024, 5, 20, 12, 0), "còn 11 ngày"),
    (datetime(2024, 5, 31, 8, 0), "Hôm nay (31/05/2024) là hạn cuối"),
    (datetime(2024, 6, 4, 8, 0), "đã quá hạn 4 ngày"),
])
def test_reminders_are_worded_by_the_deadline(tmp_path, catalogue, now, wording):
    generate.run(catalogue, tmp_path)
    merge.run(catalogue, tmp_path, now=now.astimezone())       # empty inbox: nobody has submitted
    pic = merge.status_picture(catalogue, tmp_path, now.astimezone())
    paths = mail.write_reminders(catalogue, pic, tmp_path / "reminders", tmp_path / "feedback", now.astimezone(),
                                 outbox=tmp_path / "outbox")
    assert len(paths) == len(catalogue.units_with_nominations())
    msg = parse(tmp_path / "reminders" / "NhacNho_2024_tram_y_te.eml")
    body = body_of(msg)
    assert wording in body and "chưa nhận được sổ đề xuất" in body and "Kính gửi: Trạm Y tế xã" in body
    assert msg["Subject"] == "[UBND xã Hòa Cư] Nhắc gửi đề xuất điển hình tiên tiến năm 2024 – Trạm Y tế xã"
    assert msg["X-Unsent"] == "1" and msg["Date"].datetime.date() == now.date()
    (att,) = list(msg.iter_attachments())                      # the blank workbook, sent again
    assert att.get_content() == (tmp_path / "outbox" / "DTTT_2024_tram_y_te.xlsx").read_bytes()
    for other in ("còn 11 ngày", "là hạn cuối", "đã quá hạn"):
        if other not in wording:
            assert other not in body


def test_reminders_skip_units_that_are_done_and_drop_stale_ones(tmp_path, catalogue):
    generate.run(catalogue, tmp_path)
    merge.run(catalogue, tmp_path, now=NOW)
    rdir = tmp_path / "reminders"
    first = mail.write_reminders(catalogue, merge.status_picture(catalogue, tmp_path, NOW), rdir,
                                 tmp_path / "feedback")
    assert (rdir / "NhacNho_2024_cong_an.eml") in first
    (rdir / "ghi_chu_cua_can_bo.txt").write_text("giữ nguyên", encoding="utf-8")
    (tmp_path / "inbox" / "x.xlsx").write_bytes(_returned(catalogue, tmp_path, "cong_an"))
    merge.run(catalogue, tmp_path, now=NOW)
    second = mail.write_reminders(catalogue, merge.status_picture(catalogue, tmp_path, NOW), rdir,
                                  tmp_path / "feedback")
    assert len(second) == len(first) - 1
    assert not (rdir / "NhacNho_2024_cong_an.eml").exists()     # cong_an is done: no stale reminder left
    assert (rdir / "ghi_chu_cua_can_bo.txt").exists()           # nothing else is touched
    assert sorted(rdir.glob("*.eml")) == sorted(second)


def test_reminder_for_unit_with_errors_attaches_feedback(tmp_path, catalogue):
    res = generate.run(catalogue, tmp_path, units=["cong_an"])
    b = res.built[0]
    row = demo.sample_row(catalogue, "8", 1, kind_index=1)
    row["gioi_tinh"] = "nam giới"
    builder.build_workbook(tmp_path / "inbox" / "ca.xlsx", catalogue, b.unit, template.load_style(None),
                           b.meta.token, b.meta.generated_at, {"8": [row]}, demo.PREPARER)
    merge.run(catalogue, tmp_path, now=NOW)
    pic = merge.status_picture(catalogue, tmp_path, NOW)
    assert pic.unit_status("cong_an").status == P.SUBMITTED_ERRORS
    paths = mail.write_reminders(catalogue, pic, tmp_path / "r", tmp_path / "feedback")
    msg = parse(next(p for p in paths if p.name == "NhacNho_2024_cong_an.eml"))
    assert msg["Subject"] == "[UBND xã Hòa Cư] Đề nghị sửa sổ đề xuất điển hình tiên tiến năm 2024 – Công an xã"
    body = body_of(msg)
    n = pic.unit_status("cong_an").errors
    assert f"còn {n} lỗi cần sửa" in body and "nam giới" in body and "còn 11 ngày" in body
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == "Phản hồi đề xuất điển hình 2024 - Công an xã.xlsx"
    assert att.get_content() == (tmp_path / "feedback" / "PhanHoi_2024_cong_an.xlsx").read_bytes()


def test_reminder_from_a_hand_built_picture(tmp_path, catalogue):
    """Counts and the first few problems, without running a merge; a file with no valid nomination."""
    ca, yt = catalogue.unit("cong_an"), catalogue.unit("tram_y_te")
    probs = [Problem(file="ca.xlsx", message=f"Lỗi thứ {i}", unit_id="cong_an", sheet="Mục 8", cell=f"B{12 + i}")
             for i in range(1, 9)]
    pic = P.Picture(catalogue, datetime(2024, 6, 1, 9, 0).astimezone(), [],
                    [P.UnitStatus(ca, P.SUBMITTED_ERRORS, latest_file="ca.xlsx", errors=8),
                     P.UnitStatus(yt, P.SUBMITTED_ERRORS, latest_file="yt.xlsx", errors=0, nominations=0),
                     P.UnitStatus(catalogue.unit("mttq"), P.LATE, latest_file="m.xlsx", nominations=2)],
                    [], probs, [])
    paths = mail.write_reminders(catalogue, pic, tmp_path / "r", tmp_path / "feedback")
    assert [p.name for p in paths] == ["NhacNho_2024_cong_an.eml", "NhacNho_2024_tram_y_te.eml"]
    body = body_of(parse(paths[0]))
    assert "còn 8 lỗi cần sửa" in body and "đã quá hạn 1 ngày" in body
    assert "trang 'Mục 8' › ô B13: Lỗi thứ 1" in body and "Lỗi thứ 5" in body and "Lỗi thứ 6" not in body
    assert not list(parse(paths[0]).iter_attachments())          # no feedback workbook written yet
    body = body_of(parse(paths[1]))
    assert "chưa có điển hình nào hợp lệ" in body and "lỗi cần sửa" not in body


# --------------------------------------------------------------------------- SMTP configuration


def test_smtp_config_from_the_catalogue(tmp_path):
    cfg = catalogue_with_emails(tmp_path, '\n[smtp]\nhost = "smtp.example.vn"\nuser = "tdkt@example.vn"\n')
    c = smtp_send.SmtpConfig.from_catalogue(C.load(cfg))   # the catalogue carries the [smtp] table as it is
    assert (c.host, c.port, c.security, c.user, c.from_addr) == ("smtp.example.vn", 587, "starttls",
                                                                 "tdkt@example.vn", "")
    assert smtp_send.SmtpConfig.from_table({"host": "h", "security": "SSL"}).port == 465
    with pytest.raises(smtp_send.MailError, match=r"Chưa cấu hình máy chủ gửi thư \(SMTP\). Chạy 'hoacu-xlsx init'"):
        smtp_send.SmtpConfig.from_catalogue(C.load())
    for table, msg in [({"host": "h", "port": "25"}, "'port'"), ({"host": "h", "port": 70000}, "'port'"),
                       ({"host": "h", "security": "tls"}, "starttls, ssl hoặc none"),
                       ({"host": "h", "from": "không"}, "'from'"), ({"host": 5}, "'host'")]:
        with pytest.raises(smtp_send.MailError, match=msg):
            smtp_send.SmtpConfig.from_table(table)


# --------------------------------------------------------------------------- sending (local SMTP server)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Keep:
    """aiosmtpd handler that stores what it receives and refuses one address."""

    refuse = "tuchoi@example.vn"

    def __init__(self):
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refuse:
            return "550 5.1.1 Hộp thư không tồn tại"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture()
def smtp_server():
    from aiosmtpd.controller import Controller

    handler = Keep()
    port = _free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    yield port, handler
    ctl.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        pytest.skip("openssl không có: bỏ qua kiểm thử STARTTLS/SSL")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def _drafts(tmp_path: Path, smtp: str = "", **emails: str):
    cat = C.load(catalogue_with_emails(tmp_path, smtp, **emails))
    return cat, generate.run(cat, tmp_path, email=True)


def _check_received(env, tmp_path: Path, unit_id: str, rcpt: list[str]) -> None:
    assert env.rcpt_tos == rcpt
    msg = message_from_bytes(env.content, policy=policy.default)
    assert msg["X-Unsent"] is None and msg["Message-ID"] and msg["Subject"].startswith("[UBND xã Hòa Cư]")
    (att,) = list(msg.iter_attachments())
    assert att.get_filename().startswith("Đề xuất điển hình 2024 - ")
    assert att.get_content() == (tmp_path / "outbox" / f"DTTT_2024_{unit_id}.xlsx").read_bytes()


def test_send_drafts_api_plain(tmp_path, smtp_server):
    port, handler = smtp_server
    cat, res = _drafts(tmp_path, mttq="mttq@example.vn, phu@example.vn", doan_thanh_nien="tuchoi@example.vn",
                       hoi_lhpn="lhpn@example.vn; tuchoi@example.vn")
    cfg = smtp_send.SmtpConfig("127.0.0.1", port, "none")
    before = {p: p.read_bytes() for p in res.drafts}
    dry = smtp_send.send_drafts(res.drafts, cfg)                       # dry run by default
    assert not handler.envelopes
    assert any(line.startswith("(chạy thử) Sẽ gửi DTTT_2024_cong_an.eml tới congan@example.vn") for line in dry)
    assert "Chạy thử: chưa gửi thư nào (4 thư sẵn sàng)" in dry[-1]
    lines = smtp_send.send_drafts(res.drafts, cfg, dry_run=False)
    assert {p: p.read_bytes() for p in res.drafts} == before      # drafts on disk are left as they were
    got = {e.rcpt_tos[0]: e for e in handler.envelopes}
    assert set(got) == {"congan@example.vn", "mttq@example.vn", "lhpn@example.vn"}
    _check_received(got["congan@example.vn"], tmp_path, "cong_an", ["congan@example.vn"])
    _check_received(got["mttq@example.vn"], tmp_path, "mttq", ["mttq@example.vn", "phu@example.vn"])
    assert all(e.mail_from == "tdkt@example.vn" for e in handler.envelopes)
    assert any(line.startswith("KHÔNG gửi được DTTT_2024_doan_thanh_nien.eml") and "550" in line for line in lines)
    assert any(line.startswith("Bỏ qua DTTT_2024_tram_y_te.eml: thư chưa có địa chỉ người nhận") for line in lines)
    _check_received(got["lhpn@example.vn"], tmp_path, "hoi_lhpn", ["lhpn@example.vn"])
    assert any(line.startswith("Đã gửi DTTT_2024_hoi_lhpn.eml tới lhpn@example.vn, tuchoi@example.vn — trừ "
                               "tuchoi@example.vn: 550") for line in lines)
    assert lines[-1] == f"Đã gửi 3/4 thư qua 127.0.0.1:{port}."


def test_send_through_local_smtp_server_cli(tmp_path, smtp_server):
    port, handler = smtp_server
    _, res = _drafts(tmp_path, f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n')
    drafts = [str(p) for p in res.drafts]
    cli = [sys.executable, "-m", "hoacu_xlsx", "send", "--dir", str(tmp_path), *drafts]
    dry = subprocess.run(cli, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "Chạy thử" in dry.stdout and not handler.envelopes          # dry run by default: nothing sent
    real = subprocess.run(cli + ["--gui-that"], capture_output=True, text=True)
    assert real.returncode == 0, real.stderr
    assert len(handler.envelopes) == 1                                 # only the unit with an address
    _check_received(handler.envelopes[0], tmp_path, "cong_an", ["congan@example.vn"])
    assert handler.envelopes[0].mail_from == "tdkt@example.vn"
    assert "Bỏ qua" in real.stdout   # units without an address are listed


def _tls_server(certificate, **kw):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = certificate
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"tdkt" and auth_data.password == b"bi-mat-123"
        logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)

    handler = Keep()
    port = _free_port()
    if kw.pop("implicit", False):
        # aiosmtpd only counts STARTTLS as TLS for AUTH; here the whole connection is TLS
        ctl = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=ctx, authenticator=authenticator,
                         auth_required=True, auth_require_tls=False, **kw)
    else:
        ctl = Controller(handler, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True,
                         authenticator=authenticator, auth_required=True, **kw)
    ctl.start()
    return ctl, port, handler, logins


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_send_with_tls_and_login(tmp_path, certificate, monkeypatch, security):
    ctl, port, handler, logins = _tls_server(certificate, implicit=security == "ssl")
    try:
        _, res = _drafts(tmp_path)
        cfg = smtp_send.SmtpConfig.from_table({"host": "127.0.0.1", "port": port, "security": security, "user": "tdkt",
                                          "cafile": str(certificate[0])})
        monkeypatch.delenv(smtp_send.PASSWORD_ENV, raising=False)
        with pytest.raises(smtp_send.MailError, match="Chưa có mật khẩu"):
            smtp_send.send_drafts(res.drafts, cfg, dry_run=False)
        with pytest.raises(smtp_send.MailError, match="không chấp nhận tên đăng nhập"):
            smtp_send.send_drafts(res.drafts, cfg, dry_run=False, password=lambda: "sai")
        assert not handler.envelopes
        monkeypatch.setenv(smtp_send.PASSWORD_ENV, "bi-mat-123")
        asked = []
        lines = smtp_send.send_drafts(res.drafts, cfg, dry_run=False, password=lambda: asked.append(1) or "x")
        assert not asked                                           # the environment variable wins over the prompt
        assert lines[-1] == f"Đã gửi 1/1 thư qua 127.0.0.1:{port}."
        (env,) = handler.envelopes
        _check_received(env, tmp_path, "cong_an", ["congan@example.vn"])
        assert logins[-1][1] is True
        untrusted = smtp_send.SmtpConfig("127.0.0.1", port, security, "tdkt")   # self-signed, no cafile: refused
        with pytest.raises(smtp_send.MailError, match="Gửi thư qua 127.0.0.1"):
            smtp_send.send_drafts(res.drafts, untrusted, dry_run=False)
        assert len(handler.envelopes) == 1
    finally:
        ctl.stop()


def test_server_down_is_a_vietnamese_error(tmp_path):
    _, res = _drafts(tmp_path)
    cfg = smtp_send.SmtpConfig("127.0.0.1", _free_port(), "none", timeout=5)
    with pytest.raises(smtp_send.MailError, match=r"Gửi thư qua 127\.0\.0\.1:\d+ không được .*Đã gửi 0/1 thư"):
        smtp_send.send_drafts(res.drafts, cfg, dry_run=False)


def test_remind_command_writes_and_sends_reminders(tmp_path, smtp_server):
    port, handler = smtp_server
    cfg = catalogue_with_emails(tmp_path, f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n')
    cli = [sys.executable, "-m", "hoacu_xlsx"]
    for args in (["generate"], ["merge"]):
        done = subprocess.run(cli + args + ["--dir", str(tmp_path), "--config", str(cfg)], capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr
    remind = cli + ["remind", "--dir", str(tmp_path), "--config", str(cfg), "--now", "03/06/2024", "--send"]
    dry = subprocess.run(remind, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "Đã ghi 15 thư nhắc" in dry.stdout and "Chạy thử" in dry.stdout and not handler.envelopes
    real = subprocess.run(remind + ["--gui-that"], capture_output=True, text=True)
    assert real.returncode == 0, real.stderr
    (env,) = handler.envelopes                                     # only Công an xã has an address
    assert env.rcpt_tos == ["congan@example.vn"]
    msg = message_from_bytes(env.content, policy=policy.default)
    assert msg["Subject"] == "[UBND xã Hòa Cư] Nhắc gửi đề xuất điển hình tiên tiến năm 2024 – Công an xã"
    assert "đã quá hạn 3 ngày" in body_of(msg) and msg["X-Unsent"] is None
