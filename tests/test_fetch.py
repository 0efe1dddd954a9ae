"""`hoacu-xlsx fetch` against a real Dovecot IMAP server started for each test (see dovecot_server.py).

Messages are built with ``email.message.EmailMessage`` and APPENDed with imapclient; the
workbooks are the generated ones (xlsxwriter) or filled by LibreOffice as a unit would.
Every run goes through the command line (CliRunner), so exit codes and Vietnamese messages
are what the officer sees.
"""

from __future__ import annotations

import email
import io
import re
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from hoacu_xlsx import catalogue as cat
from hoacu_xlsx import fetch as F
from hoacu_xlsx.cli import main
from tests import dovecot_server as D
from tests.conftest import generated_round

pytestmark = pytest.mark.skipif(not D.available(),
                                reason="Dovecot (/usr/sbin/dovecot) hoặc openssl không có trên máy này")
ROOT = Path(__file__).resolve().parents[1]
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
ENGLISH = re.compile(r"\b(error|failed|refused|denied|connection|socket|certificate|exception|traceback|"
                     r"mailbox doesn't|authentication)\b", re.I)


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture()
def server():
    s = D.Dovecot.start()
    yield s
    s.remove()


@pytest.fixture(scope="module")
def tls_server():
    s = D.Dovecot.start(tls=True)
    yield s
    s.remove()


@pytest.fixture(scope="module")
def round_(tmp_path_factory, catalogue):
    return generated_round(tmp_path_factory, catalogue, "fetch")


def workdir_for(tmp_path: Path, round_, server_port: int, **imap: object) -> Path:
    """A working folder of the generated round with a danh_muc.toml whose [imap] points at the test server."""
    import shutil

    src = round_[0]
    wd = tmp_path / "wd"
    shutil.copytree(src, wd)
    table = {"host": "127.0.0.1", "port": server_port, "security": "none", "user": D.USER, **imap}
    lines = "\n".join(f"{k} = {v!r}".replace("'", '"') if isinstance(v, str) else f"{k} = {v}"
                      for k, v in table.items())
    (wd / cat.DEFAULT_FILE).write_text(cat.builtin_text() + f"\n[imap]\n{lines}\n", encoding="utf-8")
    return wd


def letter(sender: str, subject: str, attachments=(), *, when: str = "Mon, 20 May 2024 09:15:00 +0700",
           msgid: str | None = None, logo: bool = False) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = D.USER
    m["Subject"] = subject
    m["Date"] = when
    m["Message-ID"] = msgid or email.utils.make_msgid(domain="hoacu.test")
    m.set_content("Kính gửi cán bộ TĐKT, đơn vị gửi sổ đề xuất (dữ liệu mẫu).")
    if logo:
        m.add_alternative("<p>Kính gửi</p><img src='cid:logo'>", subtype="html")
        m.get_payload()[1].add_related(b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image", "png", cid="<logo>",
                                       filename="logo.png", disposition="inline")
    for name, data, ctype in attachments:
        main_t, sub_t = ctype
        m.add_attachment(data, maintype=main_t, subtype=sub_t, filename=name)
    return m.as_bytes()


def writeup_docx() -> bytes:
    """A write-up of experience as a unit would attach it (python-docx)."""
    import docx

    d = docx.Document()
    d.add_paragraph("Bài viết kinh nghiệm, cách làm hay (dữ liệu mẫu).")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def outbox_book(round_, unit_id: str) -> bytes:
    return round_[1][unit_id].path.read_bytes()


def append(server: D.Dovecot, *messages: bytes, folder: str = "INBOX", msg_time: datetime | None = None) -> None:
    c = server.client()
    try:
        if folder != "INBOX" and not c.folder_exists(folder):
            c.create_folder(folder)
        for m in messages:
            c.append(folder, m, msg_time=msg_time)
    finally:
        c.logout()


def server_view(server: D.Dovecot, folder: str = "INBOX") -> dict[int, set[bytes]]:
    """UID -> flags (without \\Recent, which depends on who looked first), read-only."""
    c = server.client()
    try:
        c.select_folder(folder, readonly=True)
        return {uid: set(d[b"FLAGS"]) - {b"\\Recent"} for uid, d in c.fetch(c.search(), ["FLAGS"]).items()}
    finally:
        c.logout()


def fetch(wd: Path, *args: str, password: str = D.PASSWORD):
    r = CliRunner().invoke(main, ["--dir", str(wd), "fetch", "-q", *args], env={"HOACU_IMAP_PASSWORD": password})
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), r.output
    return r


def saved(wd: Path) -> list[str]:
    return sorted(p.name for p in (wd / "inbox").glob("*.eml"))


def attachments_of(path: Path) -> list[tuple[str, bytes]]:
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    return [(p.get_filename(), p.get_payload(decode=True)) for p in msg.iter_attachments()]


def assert_vietnamese_failure(r, *needles: str) -> None:
    assert r.exit_code == 4, r.output
    for n in needles:
        assert n in r.output, r.output
    assert not ENGLISH.search(r.output), r.output


# --------------------------------------------------------------------------- the round trip


@pytest.mark.libreoffice
def test_returned_workbooks_reach_the_master_through_fetch_merge(tmp_path, round_, catalogue, server, libreoffice):
    from hoacu_xlsx import demo

    wd0, built, out, sample = round_
    jobs = [demo.fill_job(built["ban_tuyen_giao"], {"1": [sample("1", 1, 0), sample("1", 2, 1)]},
                          out / "btg.xlsx"),
            demo.fill_job(built["cong_an"], {"8": [sample("8", 3, 1)]}, out / "ca.ods", "ods"),
            demo.fill_job(built["hoi_nong_dan"], {"10": [sample("10", 4)]}, out / "hnd.xlsx")]
    libreoffice.fill(jobs)
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(out / "hnd.xlsx", "Hội Nông dân - đề xuất.xlsx")
    append(server,
           letter("Ban Tuyên giáo <btg@hoacu.test>", "Ban Tuyên giáo gửi sổ đề xuất điển hình 2024",
                  [("Đề xuất - Ban Tuyên giáo.xlsx", (out / "btg.xlsx").read_bytes(), XLSX)]),
           letter("Công an xã <ca@hoacu.test>", "Công an xã gửi sổ (LibreOffice)",
                  [("Đề xuất - Công an.ods", (out / "ca.ods").read_bytes(),
                    ("application", "vnd.oasis.opendocument.spreadsheet"))], logo=True),
           letter("Hội Nông dân <hnd@hoacu.test>", "Hội Nông dân gửi tệp nén",
                  [("de_xuat.zip", zbuf.getvalue(), ("application", "zip"))]),
           letter("Ai đó <x@hoacu.test>", "Họp giao ban thứ Hai", logo=True))
    before = server_view(server)
    wd = workdir_for(tmp_path, round_, server.port)

    r = fetch(wd, "--merge", "--now", "10/06/2024")
    assert r.exit_code == 0, r.output
    assert len(saved(wd)) == 3 and all(n.startswith("thu_2024-05-20_") for n in saved(wd)), saved(wd)
    assert "1 thư không có tệp đính kèm" in r.output
    wb = openpyxl.load_workbook(wd / "master" / "tong_hop_2024.xlsx", read_only=True)
    units = {row[0]: row for row in wb["Đơn vị"].iter_rows(min_row=2, values_only=True)}
    for uid, n in (("ban_tuyen_giao", 2), ("cong_an", 1), ("hoi_nong_dan", 1)):
        assert units[uid][4] == "Đã nộp – hợp lệ" and units[uid][9] == n, units[uid]
    assert units["truong_mam_non"][4] == "Chưa nộp"
    names = {c for row in wb["Điển hình"].iter_rows(min_row=2, values_only=True) for c in row if isinstance(c, str)}
    assert {"Tập thể mẫu 1", "Người mẫu Số 2", "Người mẫu Số 3"} <= names
    assert server_view(server) == before             # nothing read, flagged, moved or deleted on the server

    again = fetch(wd)
    assert again.exit_code == 0 and "Không có thư mới" in again.output and len(saved(wd)) == 3


# --------------------------------------------------------------------------- safe by default


def test_second_fetch_adds_nothing_and_the_server_is_untouched(tmp_path, round_, server):
    append(server, *(letter(f"Đơn vị {i} <dv{i}@hoacu.test>", f"Sổ đề xuất số {i}",
                            [(f"so_{i}.xlsx", outbox_book(round_, "cong_an"), XLSX)]) for i in range(3)),
           letter("Văn phòng <vp@hoacu.test>", "Lịch họp"))
    before = server_view(server)
    wd = workdir_for(tmp_path, round_, server.port)
    first = fetch(wd)
    assert first.exit_code == 0, first.output
    assert len(saved(wd)) == 3 and "Đã lưu 3 thư" in first.output
    second = fetch(wd)
    assert second.exit_code == 0 and "0 thư mới được xem" in second.output and len(saved(wd)) == 3
    after = server_view(server)
    assert after == before and len(after) == 4
    assert not any(b"\\Seen" in f or b"\\Deleted" in f or F.FLAG in f for f in after.values())
    log = server.log()
    assert "body_count=3" in log and "deleted=0 expunged=0" in log   # only the 3 useful bodies were downloaded

    st = CliRunner().invoke(main, ["--dir", str(wd), "status"])
    assert "Nhận thư từ hộp thư lần gần nhất" in st.output and "0 thư mới" in st.output
    js = CliRunner().invoke(main, ["--dir", str(wd), "status", "--json"])
    import json
    last = json.loads(js.output)["last_fetch"]
    assert last["ok"] and last["folder"] == "INBOX" and last["account"].startswith("tdkt@hoacu.test@")


def test_danh_dau_adds_only_the_keyword(tmp_path, round_, server):
    append(server, letter("A <a@hoacu.test>", "Có sổ", [("a.xlsx", outbox_book(round_, "cong_an"), XLSX)]),
           letter("B <b@hoacu.test>", "Không có sổ"))
    wd = workdir_for(tmp_path, round_, server.port)
    assert fetch(wd).exit_code == 0
    assert all(F.FLAG not in f for f in server_view(server).values())
    r = fetch(wd, "--danh-dau")
    assert r.exit_code == 0 and "Đã gắn nhãn $HoacuFetched cho 1 thư" in r.output
    flags = server_view(server)
    assert len(flags) == 2 and flags[1] == {F.FLAG} and flags[2] == set()
    assert len(saved(wd)) == 1


def test_what_counts_as_an_attachment(tmp_path, round_, server):
    fwd = EmailMessage()
    fwd["From"], fwd["Subject"] = "Thôn mẫu <thon@hoacu.test>", "Sổ của thôn"
    fwd.set_content("xin gửi")
    fwd.add_attachment(outbox_book(round_, "cong_an"), maintype=XLSX[0], subtype=XLSX[1], filename="thôn.xlsx")
    outer = EmailMessage()
    outer["From"], outer["Subject"], outer["Date"] = "Công đoàn <cd@hoacu.test>", "Chuyển tiếp: Sổ của thôn", \
        "Tue, 21 May 2024 08:00:00 +0700"
    outer["Message-ID"] = "<fwd@hoacu.test>"
    outer.set_content("chuyển tiếp")
    outer.add_attachment(fwd)
    append(server,
           letter("Hội LHPN <pn@hoacu.test>", "Bài viết kinh nghiệm", [("Kinh nghiệm.docx", writeup_docx(), DOCX)]),
           letter("Trường <t@hoacu.test>", "Ảnh hoạt động", [("anh.jpg", b"\xff\xd8\xff\xe0mau", ("image", "jpeg"))]),
           outer.as_bytes(),
           letter("Chữ ký <k@hoacu.test>", "Thư có logo trong chữ ký", logo=True),
           letter("Ghi chú <g@hoacu.test>", "Tệp văn bản", [("ghi chu.txt", b"mau", ("text", "plain"))]))
    wd = workdir_for(tmp_path, round_, server.port)
    r = fetch(wd)
    assert r.exit_code == 0, r.output
    assert len(saved(wd)) == 3 and "2 thư không có tệp đính kèm" in r.output
    assert any("chuyen-tiep-so-cua-thon" in n for n in saved(wd))


def test_messages_without_attachment_are_counted_not_downloaded(tmp_path, round_, server):
    append(server, *(letter(f"N{i} <n{i}@hoacu.test>", f"Thông báo {i}") for i in range(4)))
    wd = workdir_for(tmp_path, round_, server.port)
    r = fetch(wd)
    assert r.exit_code == 0 and "4 thư không có tệp đính kèm" in r.output and saved(wd) == []
    assert "body_count=0" in server.log() and "body_count=1" not in server.log()
    assert "0 thư mới được xem" in fetch(wd).output      # remembered, not looked at again


def test_size_limit_skips_with_a_line_naming_the_message(tmp_path, round_, server):
    append(server, letter("Đoàn Thanh niên <dtn@hoacu.test>", "Sổ đề xuất Đoàn Thanh niên",
                          [("dtn.xlsx", outbox_book(round_, "doan_thanh_nien"), XLSX)]))
    wd = workdir_for(tmp_path, round_, server.port)
    r = fetch(wd, "--toi-da-mb", "0,01")
    assert r.exit_code == 0 and saved(wd) == []
    line = next(x for x in r.output.splitlines() if x.startswith("Bỏ qua thư quá lớn"))
    assert "20/05/2024" in line and "dtn@hoacu.test" in line and "'Sổ đề xuất Đoàn Thanh niên'" in line
    assert "--toi-da-mb" in line
    r2 = fetch(wd)                                        # not remembered as done: a larger limit takes it
    assert r2.exit_code == 0 and len(saved(wd)) == 1


def test_tu_ngay_limits_the_search(tmp_path, round_, server):
    book = outbox_book(round_, "cong_an")
    append(server, letter("Cũ <cu@hoacu.test>", "Gửi sớm", [("cu.xlsx", book, XLSX)],
                          when="Wed, 01 May 2024 08:00:00 +0700"),
           msg_time=datetime(2024, 5, 1, 8, tzinfo=timezone.utc))
    append(server, letter("Mới <moi@hoacu.test>", "Gửi muộn", [("moi.xlsx", book, XLSX)],
                          when="Sat, 25 May 2024 08:00:00 +0700"),
           msg_time=datetime(2024, 5, 25, 8, tzinfo=timezone.utc))
    wd = workdir_for(tmp_path, round_, server.port)
    r = fetch(wd, "--tu-ngay", "20/05/2024")
    assert r.exit_code == 0 and len(saved(wd)) == 1 and "moi@hoacu.test" in saved(wd)[0]
    assert fetch(wd, "--tu-ngay", "31/02/2024").exit_code == 4
    assert len(saved(wd)) == 1
    assert fetch(wd).exit_code == 0 and len(saved(wd)) == 2


def test_same_message_in_another_folder_is_not_saved_twice(tmp_path, round_, server):
    m = letter("A <a@hoacu.test>", "Sổ", [("a.xlsx", outbox_book(round_, "cong_an"), XLSX)], msgid="<mot@hoacu.test>")
    append(server, m)
    append(server, m, folder="Lưu trữ")
    wd = workdir_for(tmp_path, round_, server.port)
    assert fetch(wd).exit_code == 0 and len(saved(wd)) == 1
    r = fetch(wd, "--thu-muc", "Lưu trữ")
    assert r.exit_code == 0 and "1 thư đã nhận trước đây" in r.output and len(saved(wd)) == 1


def test_names_are_ascii_dated_and_never_overwrite(tmp_path, round_, server):
    book = outbox_book(round_, "cong_an")
    subject = "Gửi lại sổ đề xuất – bản sửa lần 2 của Đoàn TNCS Hồ Chí Minh xã"
    same = [letter("Đoàn Thanh niên <dtn@hoacu.test>", subject, [(f"b{i}.xlsx", book, XLSX)]) for i in range(2)]
    append(server, *same)
    wd = workdir_for(tmp_path, round_, server.port)
    (wd / "inbox" / "thu_2024-05-20_0215_x.eml").write_bytes(b"cu")
    assert fetch(wd).exit_code == 0
    names = saved(wd)
    assert len(names) == 3 and all(n.isascii() for n in names)
    new = [n for n in names if "dtn@hoacu.test" in n]
    assert len(new) == 2 and new[1].endswith("_2.eml") and "gui-lai-so-de-xuat-ban-sua-lan-2" in new[0]
    assert len(Path(new[0]).stem) < 120
    assert (wd / "inbox" / "thu_2024-05-20_0215_x.eml").read_bytes() == b"cu"
    assert [n for n, _ in attachments_of(wd / "inbox" / new[0])] == ["b0.xlsx"]
    assert not list((wd / "inbox").glob(".*"))           # no temporary file left


def test_save_message_reuses_identical_file_and_adds_suffix_otherwise(tmp_path):
    when = datetime(2024, 5, 20, 9, 15)
    a = F.save_message(tmp_path, "thu_x.eml", b"abc", when)
    assert F.save_message(tmp_path, "thu_x.eml", b"abc", when) == a
    b = F.save_message(tmp_path, "thu_x.eml", b"abd", when)
    assert b.name == "thu_x_2.eml" and a.read_bytes() == b"abc" and b.read_bytes() == b"abd"
    assert datetime.fromtimestamp(a.stat().st_mtime) == when


# --------------------------------------------------------------------------- failures, in Vietnamese, exit 4


def test_wrong_password(tmp_path, round_, server):
    wd = workdir_for(tmp_path, round_, server.port)
    r = fetch(wd, password="sai-mat-khau")
    assert_vietnamese_failure(r, "không chấp nhận tên đăng nhập", D.USER)


def test_second_fetch_waits_for_the_first_and_leaves_its_files_alone(tmp_path, round_, server):
    """Another fetch is still writing a message into inbox/: this one says so and touches nothing of it."""
    append(server, letter("Đơn vị <dv@hoacu.test>", "Sổ đề xuất", [("so.xlsx", outbox_book(round_, "cong_an"), XLSX)]))
    wd = workdir_for(tmp_path, round_, server.port)
    (wd / "inbox").mkdir(exist_ok=True)
    half = wd / "inbox" / f"{F._TMP_PREFIX}dang-ghi.tmp"
    half.write_bytes(b"nua chung")
    with F.FetchLock(wd):
        r = fetch(wd)
    assert_vietnamese_failure(r, "Đang có phiên nhận thư khác")
    assert half.read_bytes() == b"nua chung" and saved(wd) == []
    assert fetch(wd).exit_code == 0 and len(saved(wd)) == 1      # once the other one is done


def test_stopped_server(tmp_path, round_, server):
    wd = workdir_for(tmp_path, round_, server.port)
    server.stop()
    assert_vietnamese_failure(fetch(wd), "từ chối kết nối", f"127.0.0.1:{server.port}")


def test_unknown_host(tmp_path, round_, server):
    wd = workdir_for(tmp_path, round_, server.port)
    assert_vietnamese_failure(fetch(wd, "--host", "khong-co.invalid"), "không tìm thấy máy chủ 'khong-co.invalid'")


def test_missing_folder(tmp_path, round_, server):
    append(server, letter("A <a@hoacu.test>", "x"))
    wd = workdir_for(tmp_path, round_, server.port)
    assert_vietnamese_failure(fetch(wd, "--thu-muc", "Khong co"), "Không có thư mục 'Khong co'", "INBOX")


def test_tls_untrusted_then_trusted_with_cafile(tmp_path, round_, tls_server):
    append(tls_server, letter("A <a@hoacu.test>", "Sổ qua TLS", [("a.xlsx", outbox_book(round_, "cong_an"), XLSX)]))
    wd = workdir_for(tmp_path, round_, tls_server.port, host="localhost", security="ssl")
    r = fetch(wd)
    assert_vietnamese_failure(r, "không được tin cậy", "tự ký", 'cafile = "', "--cafile")
    assert saved(wd) == []
    ok = fetch(wd, "--cafile", str(tls_server.cafile))
    assert ok.exit_code == 0 and len(saved(wd)) == 1, ok.output
    (wd / "may_chu.pem").write_bytes(tls_server.cafile.read_bytes())      # or cafile in [imap], relative path
    wd2 = workdir_for(tmp_path / "b", round_, tls_server.port, host="localhost", security="ssl", cafile="may_chu.pem",
                      timeout=3)
    (wd2 / "may_chu.pem").write_bytes(tls_server.cafile.read_bytes())
    assert fetch(wd2).exit_code == 0 and len(saved(wd2)) == 1
    plain = fetch(wd2, "--security", "none")                               # TLS port, plain client
    assert_vietnamese_failure(plain, "không trả lời sau 3 giây", "'security'")


def test_connection_cut_mid_fetch_keeps_what_was_saved_and_resumes(tmp_path, round_, server):
    books = {uid: outbox_book(round_, uid) for uid in ("cong_an", "ban_tuyen_giao", "hoi_nong_dan", "tram_y_te",
                                                       "doan_thanh_nien")}
    append(server, *(letter(f"{u} <{u}@hoacu.test>", f"Sổ của {u}", [(f"{u}.xlsx", b, XLSX)])
                     for u, b in books.items()))
    wd = workdir_for(tmp_path, round_, server.port)
    proxy = D.CuttingProxy(server.port, cut_after=3)
    try:
        r = fetch(wd, "--port", str(proxy.port))
    finally:
        proxy.close()
    assert_vietnamese_failure(r, "bị ngắt giữa chừng", "2 thư đã lưu trước đó vẫn ở trong inbox/", "chạy lại")
    first = saved(wd)
    assert len(first) == 2
    for n in first:                                     # whole messages, attachments intact
        (name, data), = attachments_of(wd / "inbox" / n)
        assert data == books[name[:-5]]
    assert not list((wd / "inbox").glob(".*"))
    st = CliRunner().invoke(main, ["--dir", str(wd), "status"])
    assert "bị ngắt giữa chừng sau 2 thư" in st.output

    again = fetch(wd)
    assert again.exit_code == 0 and "Đã lưu 3 thư" in again.output, again.output
    got = [attachments_of(wd / "inbox" / n)[0] for n in saved(wd)]
    assert sorted(n for n, _ in got) == sorted(f"{u}.xlsx" for u in books)
    assert all(data == books[n[:-5]] for n, data in got)


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize("imap, needle", [
    ({"security": "tls"}, "trường 'security' của bảng [imap]"),
    ({"port": 0}, "trường 'port' của bảng [imap]"),
    ({"user": ""}, "trường 'user' của bảng [imap]"),
    ({"timeout": "nhanh"}, "trường 'timeout' của bảng [imap]"),
    ({"cafile": "khong_co.pem"}, "trường 'cafile' của bảng [imap]"),
    ({"mat_khau": "x"}, "trường 'mat_khau' của bảng [imap]"),
])
def test_bad_settings_name_the_field(tmp_path, round_, imap, needle):
    wd = workdir_for(tmp_path, round_, 143, **imap)
    r = fetch(wd)
    assert r.exit_code == 4 and needle in r.output, r.output


def test_no_imap_table_says_how_to_add_one(tmp_path, round_):
    import shutil

    wd = tmp_path / "wd"
    shutil.copytree(round_[0], wd)
    r = fetch(wd)
    assert r.exit_code == 4 and "Chưa cấu hình hộp thư" in r.output and "[imap]" in r.output


def test_benchmark_runs_with_a_tiny_mailbox(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_fetch.py"), "--n", "5"],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "fetch / floor" in r.stdout and "peak RSS" in r.stdout
