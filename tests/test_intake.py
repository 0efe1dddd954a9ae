"""Intake: what each file in inbox/ is, what is ignored, unpacked, refused — and that nothing is harmed.

Normal workbooks come from real writers (xlsxwriter, openpyxl, LibreOffice, Gnumeric); the
broken and hostile ones are hand-built in tests/hostile_files.py.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
import unicodedata
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from hoacu_xlsx import intake
from tests import hostile_files as H

SOFFICE = shutil.which("soffice")


def scan(inbox: Path, **kw) -> dict[str, intake.Incoming]:
    return {i.name: i for i in intake.scan_inbox(inbox, **kw)}


def only_problem(inc: intake.Incoming, code: str, fragment: str) -> None:
    """The file carries an error with this code whose Vietnamese message names the file."""
    hits = [p for p in inc.problems if p.code == code]
    assert hits, [(p.code, p.message) for p in inc.problems]
    p = hits[0]
    assert p.is_error and unicodedata.is_normalized("NFC", p.message)
    assert fragment.lower() in p.message.lower(), p.message
    assert inc.name.rsplit(" › ", 1)[-1].split("/")[-1] in p.message, p.message
    assert inc.data == b"" and inc.fmt is None


@pytest.fixture(scope="module")
def lo_files(tmp_path_factory) -> dict[str, bytes]:
    """An .xls and an .ods converted by LibreOffice (skipped without soffice)."""
    if not SOFFICE:
        pytest.skip("soffice is not installed")
    from hoacu_xlsx import libreoffice

    d = tmp_path_factory.mktemp("lo")
    (d / "so.xlsx").write_bytes(H.xlsx("Nguyễn Thị Mẫu"))
    return {fmt: libreoffice.convert(d / "so.xlsx", fmt, d).read_bytes() for fmt in ("xls", "ods")}


# --------------------------------------------------------------------------- the folder


def test_lock_hidden_and_readme_files_are_ignored_silently(tmp_path):
    data = H.xlsx()
    for name in ("~$so.xlsx", ".~lock.so.xlsx#", ".an.xlsx", "Thumbs.db", "desktop.ini", "README.md", "so.xlsx",
                 "ABCD1234.tmp"):
        (tmp_path / name).write_bytes(data)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.xlsx").write_bytes(data)
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "__MACOSX" / "._so.xlsx").write_bytes(b"\x00\x05\x16\x07")
    assert list(scan(tmp_path)) == ["so.xlsx"]


def test_sub_folders_are_walked_with_posix_names(tmp_path):
    (tmp_path / "thôn A" / "đợt 2").mkdir(parents=True)
    (tmp_path / "thôn A" / "đợt 2" / "sổ.xlsx").write_bytes(H.xlsx())
    (inc,) = scan(tmp_path).values()
    assert inc.name == "thôn A/đợt 2/sổ.xlsx" == inc.origin and inc.fmt == "xlsx" and inc.ok


def test_symlinks_out_of_inbox_are_refused_and_never_followed(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "con").mkdir(parents=True)
    outside = tmp_path / "ngoai"
    outside.mkdir()
    (outside / "bi_mat.xlsx").write_bytes(H.xlsx())
    os.symlink("/etc/passwd", inbox / "passwd.xlsx")
    os.symlink(outside, inbox / "thu_muc_ngoai")
    (inbox / "con" / "that.xlsx").write_bytes(H.xlsx())
    os.symlink(inbox / "con" / "that.xlsx", inbox / "lien_ket_trong.xlsx")   # inside inbox: read
    got = scan(inbox)
    only_problem(got["passwd.xlsx"], "symlink_outside", "symlink")
    only_problem(got["thu_muc_ngoai"], "symlink_outside", "ngoài thư mục inbox")
    assert got["lien_ket_trong.xlsx"].fmt == "xlsx" and got["con/that.xlsx"].fmt == "xlsx"
    assert not any("bi_mat" in n for n in got)


def test_fifo_does_not_hang_the_scan(tmp_path):
    os.mkfifo(tmp_path / "ong.xlsx")
    (tmp_path / "so.xlsx").write_bytes(H.xlsx())
    got = scan(tmp_path)
    only_problem(got["ong.xlsx"], "not_regular_file", "không phải tệp thông thường")
    assert got["so.xlsx"].ok


def test_oversize_file_is_refused_without_being_read(tmp_path):
    big = tmp_path / "khong_lo.xlsx"
    with open(big, "wb") as fh:              # sparse: 60 MB on paper, nothing on disk
        fh.truncate(60 * 2**20)
    (tmp_path / "so.xlsx").write_bytes(H.xlsx())
    got = scan(tmp_path)
    only_problem(got["khong_lo.xlsx"], "too_large", "quá lớn")
    assert got["so.xlsx"].ok
    small = scan(tmp_path, limits=intake.Limits(max_file_bytes=1000))
    assert small["so.xlsx"].problems[0].code == "too_large"


# --------------------------------------------------------------------------- sniffing by content


@pytest.mark.libreoffice
def test_real_writers_pass_quietly(tmp_path, lo_files):
    import openpyxl

    (tmp_path / "xw.xlsx").write_bytes(H.xlsx())
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Trạm Y tế"
    wb.save(tmp_path / "opx.xlsx")
    (tmp_path / "lo.xls").write_bytes(lo_files["xls"])
    (tmp_path / "lo.ods").write_bytes(lo_files["ods"])     # LibreOffice's 1,048,5xx empty repeated rows pass
    if shutil.which("ssconvert"):
        subprocess.run(["ssconvert", str(tmp_path / "xw.xlsx"), str(tmp_path / "gnumeric.xlsx")],
                       capture_output=True, check=True)
    got = scan(tmp_path)
    assert {n: (i.fmt, [p.code for p in i.problems]) for n, i in got.items()} == {
        n: (n.rsplit(".", 1)[-1], []) for n in got}
    assert len(got) >= 4


def test_wrong_extension_is_read_by_content_with_a_warning(tmp_path, lo_files):
    (tmp_path / "that_ra_la_xlsx.xls").write_bytes(H.xlsx())
    (tmp_path / "that_ra_la_ods.xlsx").write_bytes(lo_files["ods"])
    (tmp_path / "khong_duoi").write_bytes(H.xlsx())
    got = scan(tmp_path)
    for name, fmt in (("that_ra_la_xlsx.xls", "xlsx"), ("that_ra_la_ods.xlsx", "ods"), ("khong_duoi", "xlsx")):
        inc = got[name]
        assert inc.fmt == fmt and inc.ok and inc.data
        (w,) = inc.problems
        assert w.code == "wrong_extension" and not w.is_error and name in w.message and "đuôi" in w.message


def test_macro_workbook_warns_that_macros_never_run(tmp_path):
    def add_vba(n, b):
        if n == "[Content_Types].xml":
            return b.replace(b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml")
        return None
    data = H.replace_parts(H.xlsx(), add_vba)
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as z:
        z.writestr("xl/vbaProject.bin", H.cfb({"VBA": b"Attribute VB_Name"}))
    (tmp_path / "co_macro.xlsm").write_bytes(buf.getvalue())
    inc = scan(tmp_path)["co_macro.xlsm"]
    assert inc.fmt == "xlsm" and inc.ok
    assert [p.code for p in inc.problems] == ["macro"] and "không bao giờ được chạy" in inc.problems[0].message


@pytest.mark.parametrize("name,data,code,fragment", [
    ("rong.xlsx", b"", "empty", "rỗng"),
    ("cat_cut.xlsx", H.xlsx()[:1500], "refused", "bị hỏng hoặc bị cắt cụt"),
    ("ghi_chu.csv", "Tên,Năm sinh\nNgười mẫu,1980\n".encode(), "not_workbook", "CSV"),
    ("anh.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not_workbook", "ảnh"),
    ("thu.txt", "Kính gửi UBND xã".encode(), "not_workbook", "không phải sổ đề xuất"),
    ("van_ban.doc", H.cfb({"WordDocument": b"\x00" * 100}), "material_damaged", "Word 97–2003) bị hỏng"),
    ("trinh_chieu.ppt", H.cfb({"PowerPoint Document": b"\x00" * 100}), "not_workbook", "PowerPoint"),
    ("doi_duoi.xlsx", "chỉ là chữ".encode(), "refused", "không phải sổ Excel"),
    ("mat_khau.xlsx", H.encrypted_ooxml(), "password", "gỡ mật khẩu rồi gửi lại"),
    ("mat_khau.xls", H.xls_with_filepass(), "password", "gỡ mật khẩu rồi gửi lại"),
    ("outlook.msg", H.outlook_msg(), "msg_unsupported", ".eml"),
    ("nhi_phan.xlsb", H.raw_zip([{"name": b"xl/workbook.bin", "data": b"", "size": 0, "method": 0}]),
     "unsupported_format", ".xlsb"),
    ("web.xls", b"<html><body><table><tr><td>1</td></tr></table></body></html>", "unsupported_format", "HTML"),
])
def test_not_a_workbook_gets_a_clear_message(tmp_path, name, data, code, fragment):
    (tmp_path / name).write_bytes(data)
    (tmp_path / "zz_tot.xlsx").write_bytes(H.xlsx())
    got = scan(tmp_path)
    only_problem(got[name], code, fragment)
    assert got["zz_tot.xlsx"].ok          # the scan went on


def test_real_encrypted_workbook_from_msoffcrypto(tmp_path):
    pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile

    src, out = io.BytesIO(H.xlsx()), io.BytesIO()
    OOXMLFile(src).encrypt("matkhau", out)
    (tmp_path / "khoa.xlsx").write_bytes(out.getvalue())
    only_problem(scan(tmp_path)["khoa.xlsx"], "password", "gỡ mật khẩu rồi gửi lại")


def test_write_ups_are_material_not_problems(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document xmlns:w='x'/>")
    (tmp_path / "bao_cao.docx").write_bytes(buf.getvalue())
    (tmp_path / "van_ban.doc").write_bytes(H.word97_doc())
    (tmp_path / "cong_van.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n")
    got = scan(tmp_path)
    for name, fmt in (("bao_cao.docx", "docx"), ("van_ban.doc", "doc"), ("cong_van.pdf", "pdf")):
        inc = got[name]
        assert (inc.kind, inc.fmt, inc.problems) == ("material", fmt, []) and inc.data


# --------------------------------------------------------------------------- containers


def test_zip_of_several_workbooks_members_traversal_and_names(tmp_path):
    good = H.xlsx()
    with zipfile.ZipFile(tmp_path / "goi.zip", "w") as z:
        z.writestr("Sổ trạm y tế.xlsx", good)
        z.writestr("hội nông dân/sổ.xlsx", H.xlsx("khác"))
        z.writestr("__MACOSX/hội nông dân/._sổ.xlsx", b"\x00")
    (tmp_path / "duong_dan.zip").write_bytes(H.traversal_zip(good))
    (tmp_path / "ten_cu.zip").write_bytes(H.zip_legacy_names(good))
    got = scan(tmp_path)
    a, b = got["goi.zip › Sổ trạm y tế.xlsx"], got["goi.zip › hội nông dân/sổ.xlsx"]
    assert a.fmt == b.fmt == "xlsx" and a.ok and b.ok and a.origin == "goi.zip" and a.data == good
    for bad in ("../../ngoai_thu_muc.xlsx", "/etc/cron.d/x.xlsx", "C:/Windows/x.xlsx"):
        inc = got[f"duong_dan.zip › {bad}"]
        assert inc.problems[0].code == "zip_traversal" and "đường dẫn nguy hiểm" in inc.problems[0].message
        assert "duong_dan.zip" in inc.problems[0].message and inc.data == b""
    assert got["duong_dan.zip › đúng chỗ.xlsx"].ok
    assert got["ten_cu.zip › Sổ Hội Nông dân.xlsx"].ok and got["ten_cu.zip › Trạm Y tế.xlsx"].ok
    assert not (tmp_path.parent / "ngoai_thu_muc.xlsx").exists()


def test_empty_zip_and_bzip2_member(tmp_path):
    with zipfile.ZipFile(tmp_path / "rong.zip", "w"):
        pass
    (tmp_path / "bzip2.zip").write_bytes(H.bzip2_member())
    got = scan(tmp_path)
    only_problem(got["rong.zip"], "empty_container", "không chứa sổ đề xuất")
    only_problem(got["bzip2.zip › so.xlsx"], "refused", "kiểu nén không hỗ trợ")


def _email(attachments, date="Wed, 29 May 2024 10:00:00 +0700", sender="Trạm Y tế <TramYTe@Example.vn>"):
    m = EmailMessage()
    m["From"] = sender
    if date:
        m["Date"] = date
    m["Subject"] = "Sổ đề xuất điển hình tiên tiến"
    m.set_content("Kính gửi Văn phòng UBND xã")
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(m)


def test_email_attachments_keep_date_sender_and_vietnamese_names(tmp_path):
    good = H.xlsx()
    (tmp_path / "thu.eml").write_bytes(_email([
        ("Sổ của Trạm Y tế.xlsx", good, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("Công văn.pdf", b"%PDF-1.4\n", "application/pdf"),
    ]))
    raw = _email([("so.xlsx", good, "application/octet-stream")]).replace(
        b'filename="so.xlsx"', b'filename="=?utf-8?b?' + __import__("base64").b64encode("Sổ Hội LHPN.xlsx".encode())
        + b'?="')
    (tmp_path / "rfc2047.eml").write_bytes(raw)
    got = scan(tmp_path)
    inc = got["thu.eml › Sổ của Trạm Y tế.xlsx"]
    assert b"filename*=utf-8''" in (tmp_path / "thu.eml").read_bytes()          # RFC 2231 on the wire
    assert inc.origin == "thu.eml" and inc.fmt == "xlsx" and inc.ok and inc.data == good
    assert inc.sender == "tramyte@example.vn" and inc.received_at.isoformat() == "2024-05-29T10:00:00+07:00"
    assert "rfc2047.eml › Sổ Hội LHPN.xlsx" in got
    assert got["thu.eml › Công văn.pdf"].kind == "material"      # kept beside the workbook, with the email's sender
    assert got["thu.eml › Công văn.pdf"].sender == "tramyte@example.vn"
    assert len(got) == 3


def test_email_with_zip_and_forwarded_email(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.xlsx", H.xlsx("a"))
        z.writestr("b.xlsx", H.xlsx("b"))
    inner = EmailMessage()
    inner["From"] = "doan@example.vn"
    inner["Date"] = "Thu, 30 May 2024 08:00:00 +0700"
    inner.set_content("chuyển tiếp")
    inner.add_attachment(H.xlsx("c"), maintype="application", subtype="octet-stream", filename="c.xlsx")
    outer = EmailMessage()
    outer["From"] = "vanphong@example.vn"
    outer["Date"] = "Fri, 31 May 2024 09:00:00 +0700"
    outer.set_content("xem thư kèm")
    outer.add_attachment(buf.getvalue(), maintype="application", subtype="zip", filename="goi.zip")
    outer.add_attachment(inner, filename="thu goc.eml")
    (tmp_path / "thu.eml").write_bytes(bytes(outer))
    got = scan(tmp_path)
    assert got["thu.eml › goi.zip › a.xlsx"].ok and got["thu.eml › goi.zip › b.xlsx"].ok
    assert got["thu.eml › goi.zip › a.xlsx"].sender == "vanphong@example.vn"
    fwd = next(i for n, i in got.items() if n.endswith("c.xlsx"))
    assert fwd.ok and fwd.sender == "doan@example.vn" and fwd.received_at.day == 30


def test_email_without_workbook_and_bad_date(tmp_path):
    (tmp_path / "khong_kem.eml").write_bytes(_email([("Công văn.txt", b"Kinh gui", "text/plain")]))
    (tmp_path / "ngay_hong.eml").write_bytes(_email([("so.xlsx", H.xlsx(), "application/octet-stream")]).replace(
        b"Date: Wed, 29 May 2024 10:00:00 +0700", b"Date: ngay 29 thang 5"))
    got = scan(tmp_path)
    only_problem(got["khong_kem.eml"], "email_without_workbook", "không có tệp đính kèm là sổ đề xuất")
    assert "Công văn.txt" in got["khong_kem.eml"].problems[0].message
    inc = got["ngay_hong.eml › so.xlsx"]
    assert inc.ok and inc.received_at is None and inc.problems[0].code == "bad_date_header"


# --------------------------------------------------------------------------- hostile


HOSTILE = {
    "bom_khai_that.xlsx": (H.zip_bomb_honest, "bom nén"),
    "bom_khai_gian.xlsx": (H.zip_bomb_lying, "bom nén"),
    "tiep_cuoi.xlsx": (H.billion_laughs_xlsx, "DOCTYPE"),
    "xxe.xlsx": (H.xxe_xlsx, "không an toàn"),
    "xxe_utf16.xlsx": (H.xxe_utf16_xlsx, "không an toàn"),
    "utf7.xlsx": (H.utf7_xlsx, "không an toàn"),
    "o_xa.xlsx": (H.far_cell_xlsx, "vùng dữ liệu quá lớn"),
    "o_xa_dimension.xlsx": (H.far_cell_with_dimension_xlsx, "vùng dữ liệu quá lớn"),
    "o_khong_dia_chi.xlsx": (H.far_cell_without_ref_xlsx, "vùng dữ liệu quá lớn"),
    "o_chu_thuong.xlsx": (H.lowercase_far_cell_xlsx, "vùng dữ liệu quá lớn"),
    "chuoi_4ty.xlsx": (H.shared_strings_count_xlsx, "vùng dữ liệu quá lớn"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_workbook_is_refused(tmp_path, name):
    build, fragment = HOSTILE[name]
    (tmp_path / name).write_bytes(build())
    (tmp_path / "zz_tot.xlsx").write_bytes(H.xlsx())
    t = time.perf_counter()
    got = scan(tmp_path)
    assert time.perf_counter() - t < 5
    only_problem(got[name], "refused", fragment)
    assert got["zz_tot.xlsx"].ok


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_parts_left_to_the_reader_get_the_same_refusal(tmp_path, name):
    """The merge scans an .xlsx of inbox/ by its zip headers only and leaves its parts to the reading worker
    (defer_parts): the worker's check_parts must refuse it with the very problem the whole scan gives."""
    from hoacu_xlsx.intake.scan import check_parts

    build, _fragment = HOSTILE[name]
    (tmp_path / name).write_bytes(build())
    whole = scan(tmp_path)[name]
    deferred = scan(tmp_path, defer_parts=True)[name]
    if deferred.ok:                          # the headers passed: the parts are the worker's
        assert not deferred.parts_checked
        refused, _ = check_parts(deferred.data, name)
        assert [(p.code, p.message) for p in refused] == [(p.code, p.message) for p in whole.problems]
    else:                                    # the headers alone refuse it: refused by the scan as before
        assert deferred.problems == whole.problems


def test_only_top_level_workbooks_leave_their_parts_to_the_reader(tmp_path):
    """Inside a .zip (or an email) a workbook shares its container's inflation budget: checked whole."""
    from hoacu_xlsx.intake.scan import check_parts

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("trong_goi.xlsx", H.xlsx())
    (tmp_path / "goi.zip").write_bytes(buf.getvalue())
    (tmp_path / "so.xlsx").write_bytes(H.xlsx())
    got = scan(tmp_path, defer_parts=True)
    assert got["goi.zip › trong_goi.xlsx"].parts_checked and got["goi.zip › trong_goi.xlsx"].ok
    assert not got["so.xlsx"].parts_checked and got["so.xlsx"].ok
    assert check_parts(got["so.xlsx"].data, "so.xlsx") == ([], False)


def test_part_check_tells_the_reader_about_formula_error_values():
    import xlsxwriter

    from hoacu_xlsx.intake.scan import check_parts

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.add_worksheet("Mục 1").write_formula("A1", "=KHONGCO()", None, "#NAME?")
    wb.close()
    assert check_parts(buf.getvalue(), "so.xlsx") == ([], True)


def test_harmless_oddities_pass(tmp_path):
    (tmp_path / "dimension.xlsx").write_bytes(H.dimension_only_xlsx())
    (tmp_path / "o_xa_rong.xlsx").write_bytes(H.far_empty_styled_cell_xlsx())
    assert all(i.ok for i in scan(tmp_path).values())


def test_hostile_ods_and_xls(tmp_path, lo_files):
    ods, xls = lo_files["ods"], lo_files["xls"]
    (tmp_path / "dong_lap.ods").write_bytes(H.ods_rows_with_content(ods))
    (tmp_path / "dong_rong_roi_noi_dung.ods").write_bytes(H.ods_empty_rows_then_content(ods))
    (tmp_path / "cot_lap.ods").write_bytes(H.ods_columns_with_content(ods))
    (tmp_path / "dtd.ods").write_bytes(H.ods_with_dtd(ods))
    (tmp_path / "o_xa.xls").write_bytes(H.xls_far_cell(xls))
    got = scan(tmp_path)
    for name in ("dong_lap.ods", "dong_rong_roi_noi_dung.ods", "cot_lap.ods", "o_xa.xls"):
        only_problem(got[name], "refused", "vùng dữ liệu quá lớn")
    only_problem(got["dtd.ods"], "refused", "DOCTYPE")


def test_zip_of_bombs_and_nested_bomb_end_with_one_message(tmp_path):
    (tmp_path / "nhieu_bom.zip").write_bytes(H.zip_of_bombs())
    (tmp_path / "42.zip").write_bytes(H.nested_zip_bomb())
    got = scan(tmp_path)
    nested = [i for n, i in got.items() if n.startswith("42.zip")]
    assert len(nested) == 1
    only_problem(nested[0], "too_deep", "lồng nhau quá nhiều lớp")
    bombs = [i for n, i in got.items() if n.startswith("nhieu_bom.zip")]
    assert all(not i.ok for i in bombs) and len(bombs) <= 16
    assert any("bom nén" in p.message for i in bombs for p in i.problems)


def test_per_file_inflation_budget_stops_a_container(tmp_path):
    (tmp_path / "to_that.zip").write_bytes(H.big_members_zip())
    assert all("tỉ lệ bất thường" in i.problems[0].message for i in scan(tmp_path).values())
    got = scan(tmp_path, limits=intake.Limits(max_ratio=10**6))      # only the budget left to stop it
    last = got["to_that.zip"]
    assert last.problems[0].code == "refused" and "bom nén" in last.problems[0].message
    assert "to_that.zip" in last.problems[0].message
    assert sum(n.startswith("to_that.zip › ") for n in got) == 4        # 4 x 49 MiB fit in 200 MiB, then stop


def test_limits_are_configurable():
    data = H.xlsx()
    fmt, probs = intake.inspect_bytes(data, "so.xlsx", intake.Limits(max_rows=1))
    assert fmt is None and "vùng dữ liệu quá lớn" in probs[0].message
    fmt, probs = intake.inspect_bytes(data, "so.xlsx", intake.Limits(max_uncompressed_bytes=100))
    assert fmt is None and "bom nén" in probs[0].message


def build_hostile_inbox(inbox: Path) -> None:
    """Every hostile case in one folder (used for the memory test)."""
    inbox.mkdir(parents=True, exist_ok=True)
    for name, (build, _) in HOSTILE.items():
        (inbox / name).write_bytes(build())
    (inbox / "nhieu_bom.zip").write_bytes(H.zip_of_bombs())
    (inbox / "42.zip").write_bytes(H.nested_zip_bomb())
    (inbox / "to_that.zip").write_bytes(H.big_members_zip())
    (inbox / "duong_dan.zip").write_bytes(H.traversal_zip(H.xlsx()))
    (inbox / "mat_khau.xlsx").write_bytes(H.encrypted_ooxml())
    (inbox / "rong.xlsx").write_bytes(b"")
    (inbox / "cut.xlsx").write_bytes(H.xlsx()[:2000])
    os.symlink("/etc/passwd", inbox / "passwd.xlsx")
    (inbox / "tot.xlsx").write_bytes(H.xlsx())


def scan_in_child(inbox: Path) -> tuple[int, int, int, float]:
    """Scan inbox/ in a fresh interpreter: (results, ok results, peak memory in KB, seconds)."""
    # VmHWM is the peak of this address space (reset by exec); ru_maxrss would carry pytest's peak over
    code = ("import re, resource, sys, time; from pathlib import Path; from hoacu_xlsx import intake; t = time.time(); "
            f"r = list(intake.scan_inbox(Path({str(inbox)!r}))); s = time.time() - t; "
            "m = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()) "
            "if Path('/proc/self/status').exists() else None; "
            "print(len(r), sum(i.ok for i in r), int(m.group(1)) if m else "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, s)")
    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root)
    assert r.returncode == 0, r.stderr
    n, ok, peak_kb, seconds = r.stdout.split()
    return int(n), int(ok), int(peak_kb), float(seconds)


def test_hostile_corpus_peak_memory_and_inbox_untouched(tmp_path):
    inbox = tmp_path / "inbox"
    build_hostile_inbox(inbox)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in inbox.iterdir() if not p.is_symlink()}
    n, ok, peak_kb, seconds = scan_in_child(inbox)
    assert ok == 2            # tot.xlsx and the safe member of duong_dan.zip
    assert peak_kb < 500 * 1024 and seconds < 30
    print(f"hostile intake corpus: {n} results, peak RSS {peak_kb // 1024} MB, {seconds:.2f} s")
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in inbox.iterdir() if not p.is_symlink()}
    assert after == before
    assert sorted(p.name for p in inbox.iterdir()) == sorted([p.name for p in before] + ["passwd.xlsx"])


# --------------------------------------------------------------------------- hostile compound files (.xls)


HOSTILE_OLE = {
    "vong_thu_muc.xls": (H.ole_directory_loop, "bị hỏng"),
    "vong_fat.xls": (H.ole_fat_loop, "lặp vòng"),
    "vong_mini.xls": (H.ole_minifat_loop, "lặp vòng"),
    "vong_bang_mini.xls": (H.ole_minifat_chain_loop, "lặp vòng"),
    "ngoai_tep.xls": (H.ole_sector_out_of_range, "nằm ngoài tệp"),
    "luong_khong_lo.xls": (H.ole_stream_larger_than_file, "lớn hơn cả tệp"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_OLE))
def test_hostile_compound_file_is_refused_before_any_reader(tmp_path, lo_files, name):
    build, fragment = HOSTILE_OLE[name]
    (tmp_path / name).write_bytes(build(lo_files["xls"]))
    (tmp_path / "zz_that.xls").write_bytes(lo_files["xls"])
    got = scan(tmp_path)
    only_problem(got[name], "ole_damaged", fragment)
    assert "lưu lại dạng .xlsx" in got[name].problems[0].message
    assert got["zz_that.xls"].ok and got["zz_that.xls"].fmt == "xls"


def test_too_many_directory_entries(lo_files):
    fmt, probs = intake.inspect_bytes(lo_files["xls"], "so.xls", intake.Limits(max_ole_entries=3))
    assert fmt is None and probs[0].code == "ole_damaged" and "quá nhiều mục" in probs[0].message


def test_compound_file_with_huge_fat_count_is_refused_before_olefile(lo_files):
    import struct

    d = bytearray(lo_files["xls"])
    struct.pack_into("<I", d, 0x2C, 0x7FFFFFFF)          # 2 billion FAT sectors: olefile would loop on them
    fmt, probs = intake.inspect_bytes(bytes(d), "so.xls")
    assert fmt is None and probs[0].code == "ole_damaged" and "bảng FAT" in probs[0].message


def test_hostile_compound_files_peak_memory(tmp_path, lo_files):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, (build, _) in HOSTILE_OLE.items():
        (inbox / name).write_bytes(build(lo_files["xls"]))
    (inbox / "that.xls").write_bytes(lo_files["xls"])
    n, ok, peak_kb, seconds = scan_in_child(inbox)
    assert (n, ok) == (len(HOSTILE_OLE) + 1, 1)
    assert peak_kb < 500 * 1024 and seconds < 30
    print(f"hostile .xls corpus: peak RSS {peak_kb // 1024} MB, {seconds:.2f} s")


def test_known_files_are_not_checked_again(tmp_path):
    data = H.xlsx()
    (tmp_path / "so.xlsx").write_bytes(data)
    (inc,) = intake.scan_inbox(tmp_path, known={intake._sha(data)})
    assert inc.data == b"" and inc.sha256 == intake._sha(data)


def test_inspect_bytes_on_a_container_says_so():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.xlsx", H.xlsx())
    fmt, probs = intake.inspect_bytes(buf.getvalue(), "goi.zip")
    assert fmt is None and probs[0].code == "container" and "goi.zip" in probs[0].message


def test_checking_a_normal_workbook_is_cheap():
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in range(1, 61):                      # a filled unit workbook: ~60 rows x 15 columns
        for c in range(1, 16):
            ws.cell(r, c, f"Nội dung {r}-{c}" if c % 3 else r * c)
    buf = io.BytesIO()
    wb.save(buf)
    for data in (H.xlsx(), buf.getvalue()):
        intake.inspect_bytes(data, "so.xlsx")
        t = time.perf_counter()
        for _ in range(200):
            fmt, probs = intake.inspect_bytes(data, "so.xlsx")
        per_file = (time.perf_counter() - t) / 200
        assert fmt == "xlsx" and not probs
        assert per_file < 0.02
        print(f"inspect_bytes: {len(data) // 1024} KB workbook in {per_file * 1000:.2f} ms")
