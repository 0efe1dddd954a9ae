"""Odd, broken and hostile returned files: each gets a clear Vietnamese message naming the file,
the right effect on the master, and the run goes on.

The corpus is made by real writers — LibreOffice (UNO and --convert-to), Gnumeric's ssconvert,
openpyxl, xlsxwriter, msoffcrypto-tool — except the broken and hostile files, built by hand.
Each case is merged on its own copy of a generated round (beside a clean file from another unit,
to show the run goes on), and the count of cases is printed in the README.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from hoacu_xlsx import demo, merge, normalize, picture as P
from hoacu_xlsx.master import master_path
from tests import hostile_files as H
from tests.conftest import generated_round

NOW = datetime(2024, 5, 20, 12, 0).astimezone()
CLEAN_UNIT = "hoi_lhpn"   # every case is merged beside this unit's clean file


@dataclass
class Case:
    name: str                       # file name(s) in inbox/ (first one is the case)
    unit: str | None                # the unit the file belongs to (None: no unit)
    codes: list[str]                # problem codes expected for the case file
    status: str | None              # the unit's status in the master afterwards
    nominations: int | None = None  # nominations counted for the unit
    message: str = ""               # a fragment of the Vietnamese message
    check: Callable[[Any], None] | None = None
    extra_files: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, catalogue, libreoffice):
    wd, built, out, sr = generated_round(tmp_path_factory, catalogue, "oddround")
    jobs: list[dict] = []

    def job(name, unit, rows, extra=(), fmt="xlsx"):
        b = built[unit]
        jobs.append(demo.fill_job(b, {b.meta.assignment_ids[0]: rows}, out / name, fmt, extra))

    lay = lambda u: built[u].meta.layouts[built[u].meta.assignment_ids[0]]  # noqa: E731
    job("clean.xlsx", CLEAN_UNIT, [sr("13", 1, 0), sr("13", 2, 1)])
    job("lo.xlsx", "ban_tuyen_giao", [sr("1", 3, 0), sr("1", 4, 1)])
    job("macro.xlsm", "cc_dia_chinh", [sr("2", 5, 1)], fmt="xlsm")
    job("excel97.xls", "van_phong_ubnd", [sr("3", 6, 1)], fmt="xls")
    job("calc.ods", "mttq", [sr("6", 7, 1)], fmt="ods")
    job("for_gnumeric.xlsx", "cong_an", [sr("8", 8, 1)])
    job("for_openpyxl.xlsx", "ban_chqs", [sr("8", 9, 0)])
    job("for_zip_a.xlsx", "tram_y_te", [sr("9", 10, 0)])
    job("for_zip_b.xlsx", "hoi_nong_dan", [sr("10", 11, 0)])
    job("for_encrypt.xlsx", "cong_doan", [sr("11", 12, 0)])
    job("pw.xls", "cong_doan", [sr("11", 13, 0)], [{"op": "save_password", "password": "matkhau"}], "xls")
    job("no_meta.xlsx", "doan_thanh_nien", [sr("12", 14, 1)], [{"op": "remove_sheet", "sheet": "_meta"}])
    job("meta_edited.xlsx", "truong_mam_non", [sr("7", 15, 1)], [{"op": "set", "sheet": "_meta", "cell": "B3",
                                                                   "value": "cong_an"}])
    job("other_unit.xlsx", "truong_th_thcs", [sr("7", 16, 1)], [{"op": "set", "sheet": "Mục 7", "cell": "C3",
                                                                  "value": "Trường Mầm non xã Hòa Cư"}])
    job("blank.xlsx", "cc_van_phong_thong_ke", [])
    job("renamed_sheet.xlsx", "hoi_nong_dan", [sr("10", 17)],
        [{"op": "rename_sheet", "sheet": "Mục 10", "name": "Danh sách"}, {"op": "move_sheet", "sheet": "Danh sách",
                                                                          "to": 0}])
    job("rows_above.xlsx", "tram_y_te", [sr("9", 18, 1)], [{"op": "insert_rows", "sheet": "Mục 9", "before": 3,
                                                             "count": 3}])
    job("cols_inserted.xlsx", "cong_an", [sr("8", 19, 1)], [{"op": "insert_columns", "sheet": "Mục 8",
                                                              "before": "C", "count": 2}])
    job("col_deleted.xlsx", "ban_chqs", [sr("8", 20, 0)],
        [{"op": "delete_columns", "sheet": "Mục 8", "col": lay("ban_chqs").columns["thanh_tich"], "count": 1}])
    l7 = lay("truong_mam_non")
    job("merged.xlsx", "truong_mam_non", [sr("7", 21, 0), sr("7", 22, 0)],
        [{"op": "merge", "sheet": "Mục 7", "range": f"{l7.columns['thanh_tich']}{l7.first_data_row}:"
                                                    f"{l7.columns['thanh_tich']}{l7.first_data_row + 1}"}])
    l12 = lay("doan_thanh_nien")
    below = [{"op": "set", "sheet": "Mục 12", "cell": f"{l12.columns[k]}{l12.last_data_row + 8}", "value": v}
             for k, v in sr("12", 23, 1).items()]
    job("below_table.xlsx", "doan_thanh_nien", [sr("12", 24, 1)], below)
    job("on_instructions.xlsx", "cc_dia_chinh", [sr("2", 25, 1)],
        [{"op": "set", "sheet": "Hướng dẫn", "cell": "E30", "value": "Nguyễn Văn Mẫu"}])
    l3 = lay("van_phong_ubnd")
    bad_gender = sr("3", 26, 1)
    bad_gender["gioi_tinh"] = "Không rõ"
    job("unprotected.xlsx", "van_phong_ubnd", [bad_gender],
        [{"op": "unprotect", "sheet": "Mục 3"},
         {"op": "clear_validation", "sheet": "Mục 3", "range": f"A{l3.first_data_row}:Z{l3.last_data_row}"}])
    job("extra_sheet.xlsx", "mttq", [sr("6", 27, 1)], [{"op": "add_sheet", "name": "Ghi chú riêng"},
                                                       {"op": "set", "sheet": "Ghi chú riêng", "cell": "A1",
                                                        "value": "Nháp"}])
    legacy = sr("11", 28, 1)
    legacy["ten"] = normalize.to_tcvn3("Hoàng Văn Thắng")
    legacy["mo_hinh"] = "Moâ hình nuoâi boø veà sinh"   # VNI: "Mô hình nuôi bò về sinh"
    job("legacy.xlsx", "cong_doan", [legacy])
    messy = sr("11", 29, 1)
    messy["ten"] = unicodedata.normalize("NFD", "  NGUYỄN\u00a0 THỊ   HOA ")
    job("nfd_caps.xlsx", "cong_doan", [messy])
    l5 = lay("cc_van_hoa_xa_hoi")
    tricky = sr("5", 30, 1)
    tricky.pop("nam_sinh")
    tricky["ghi_chu"] = '=HYPERLINK("http://x","bấm")'
    tricky["thanh_tich"] = "+84 là mã quốc gia; @ghi chú; -1 điểm"
    job("formulas.xlsx", "cc_van_hoa_xa_hoi", [tricky],
        [{"op": "formula", "sheet": "Mục 5", "cell": f"{l5.columns['nam_sinh']}{l5.first_data_row}",
          "formula": "=1980+5"},
         {"op": "set", "sheet": "Mục 5", "cell": l5.preparer["ngay_lap"], "value": 45436}])
    l10 = lay("hoi_nong_dan")
    job("dates_text.xlsx", "hoi_nong_dan", [sr("10", 31)],
        [{"op": "set", "sheet": "Mục 10", "cell": l10.preparer["ngay_lap"], "value": "32/13/2024"}])
    longrow = sr("12", 32, 1)
    longrow["thanh_tich"] = "Thành tích dài. " * 1500
    job("long_text.xlsx", "doan_thanh_nien", [longrow])
    twice = sr("6", 33, 1)
    job("twice.xlsx", "mttq", [twice, dict(twice, ten=twice["ten"].upper())])
    job("dup_a.xlsx", "cong_an", [sr("8", 34, 1)])
    other = sr("7", 35, 1)
    other.update({k: sr("8", 34, 1)[k] for k in ("ten", "nam_sinh")})
    job("dup_b.xlsx", "truong_th_thcs", [other])
    libreoffice.fill(jobs)

    # other real writers
    if shutil.which("ssconvert"):
        subprocess.run(["ssconvert", str(out / "for_gnumeric.xlsx"), str(out / "gnumeric.xlsx")], check=True,
                       capture_output=True)
    wb = openpyxl.load_workbook(out / "for_openpyxl.xlsx")
    wb.save(out / "openpyxl_resaved.xlsx")
    libreoffice.convert(out / "lo.xlsx", "pdf", out)
    (out / "lo.pdf").rename(out / "cong_van.pdf")
    (out / "ghi_chu.csv").write_text("Tên,Năm sinh\nNgười mẫu,1980\n", encoding="utf-8")
    shutil.copyfile(out / "lo.xlsx", out / "wrong_ext.xls")
    (out / "zero.xlsx").write_bytes(b"")
    data = (out / "lo.xlsx").read_bytes()
    (out / "cut.xlsx").write_bytes(data[: len(data) // 3])
    import msoffcrypto

    enc = io.BytesIO()
    with open(out / "for_encrypt.xlsx", "rb") as fh:
        f = msoffcrypto.OfficeFile(fh)
        msoffcrypto.format.ooxml.OOXMLFile.encrypt(f, "matkhau", enc) if hasattr(msoffcrypto.format, "ooxml") \
            else None
    if enc.getvalue():
        (out / "encrypted.xlsx").write_bytes(enc.getvalue())
    with zipfile.ZipFile(out / "several.zip", "w") as z:
        z.write(out / "for_zip_a.xlsx", "Sổ trạm y tế.xlsx")
        z.write(out / "for_zip_b.xlsx", "hội nông dân/sổ.xlsx")
    # a Word document (LibreOffice Calc cannot write .docx; the smallest valid package, by hand)
    with zipfile.ZipFile(out / "bao_cao.docx", "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"/>')
        z.writestr("word/document.xml", "<w:document xmlns:w='x'/>")
    _hostile(out, data)
    xls = (out / "excel97.xls").read_bytes()
    (out / "panic.xls").write_bytes(H.xls_reader_panic(xls))
    (out / "dir_loop.xls").write_bytes(H.ole_directory_loop(xls))
    (out / "mini_loop.xls").write_bytes(H.ole_minifat_loop(xls) if _in_mini_stream(xls) else H.ole_fat_loop(xls))
    if shutil.which("ssconvert"):
        subprocess.run(["ssconvert", str(out / "for_gnumeric.xlsx"), str(out / "gnumeric.ods")], check=True,
                       capture_output=True)
    return {"workdir": wd, "dir": out}


def _in_mini_stream(xls: bytes) -> bool:
    import olefile

    with olefile.OleFileIO(io.BytesIO(xls)) as ole:
        return ole.get_size("Workbook") < ole.minisectorcutoff


def _hostile(out: Path, good: bytes) -> None:
    """Hand-built hostile files (the only hand-built bytes in the corpus)."""
    with zipfile.ZipFile(out / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            block = b"<!-- -->" * (1 << 17)
            for _ in range(512):             # 512 MiB of XML, ~0.5 MB compressed
                fh.write(block)
    lol = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
    laughs = f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY l0 "lol">{lol}]><workbook>&l9;</workbook>'
    xxe = '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]><workbook>&x;</workbook>'
    for name, payload in (("laughs.xlsx", laughs), ("xxe.xlsx", xxe)):
        with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out / name, "w") as z:
            for item in src.infolist():
                z.writestr(item, payload if item.filename == "xl/workbook.xml" else src.read(item))
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out / "huge.xlsx", "w") as z:
        for item in src.infolist():
            body = src.read(item)
            if item.filename.startswith("xl/worksheets/sheet2"):
                body = body.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
                                                     b"</sheetData>")
            z.writestr(item, body)
    with zipfile.ZipFile(out / "traversal.zip", "w") as z:
        z.writestr("../../ngoai_thu_muc.xlsx", good)
        z.writestr("/etc/cron.d/x.xlsx", good)


def cases() -> list[Case]:
    ok = P.SUBMITTED_OK
    bad = P.SUBMITTED_ERRORS

    def no_formula_in_master(report):
        mp = report.master
        with zipfile.ZipFile(mp) as z:
            for n in z.namelist():
                if n.startswith("xl/worksheets/"):
                    assert b"<f>" not in z.read(n), n
        row = next(r for r in report.picture.nominations if r.unit.id == "cc_van_hoa_xa_hoi")
        assert row.nomination.values["ghi_chu"].startswith("=HYPERLINK")
        assert row.nomination.values["nam_sinh"] == "1985"   # the cached value of =1980+5

    def legacy_converted(report):
        vals = {r.nomination.values["ten"]: r.nomination.values for r in report.picture.nominations
                if r.unit.id == "cong_doan"}
        assert "Hoàng Văn Thắng" in vals
        assert vals["Hoàng Văn Thắng"]["mo_hinh"] == "Mô hình nuôi bò về sinh"

    def name_normalised(report):
        names = [r.nomination.values["ten"] for r in report.picture.nominations if r.unit.id == "cong_doan"]
        assert "Nguyễn Thị Hoa" in names
        row = next(r for r in report.picture.nominations if r.nomination.values["ten"] == "Nguyễn Thị Hoa")
        assert "NGUY" in unicodedata.normalize("NFC", row.nomination.original_name)  # the original is kept

    def long_kept(report):
        row = next(r for r in report.picture.nominations if r.unit.id == "doan_thanh_nien")
        assert len(row.nomination.values["thanh_tich"]) > 20000

    def zip_both(report):
        assert report.picture.unit_status("tram_y_te").nominations == 1
        assert report.picture.unit_status("hoi_nong_dan").nominations == 1

    def ignored(report):
        assert not any("lo.xlsx" in f.name for f in report.picture.files if f.name != "clean.xlsx")

    def dup_both_places(report):
        dups = [p for p in report.picture.problems if p.code == "duplicate_person"]
        assert dups, "the same person nominated by two units is reported"
        for p in dups:  # the warning sits on one file and names the other place
            other = "dup_b.xlsx" if p.file == "dup_a.xlsx" else "dup_a.xlsx"
            assert other in p.message and "hai lần" in p.message

    def kept_as_material(report):
        assert [m.fmt for m in report.picture.materials] in (["pdf"], ["docx"])
        assert not [p for p in report.picture.problems if p.file in ("cong_van.pdf", "bao_cao.docx")]

    return [
        Case("lo.xlsx", "ban_tuyen_giao", [], ok, 2),
        Case("macro.xlsm", "cc_dia_chinh", ["macro"], ok, 1, "macro"),
        Case("excel97.xls", "van_phong_ubnd", [], ok, 1),
        Case("calc.ods", "mttq", [], ok, 1),
        Case("gnumeric.xlsx", "cong_an", [], ok, 1),
        Case("gnumeric.ods", "cong_an", [], ok, 1),
        Case("openpyxl_resaved.xlsx", "ban_chqs", [], ok, 1),
        Case("ghi_chu.csv", None, ["not_workbook"], None, message="CSV"),
        Case("cong_van.pdf", None, [], None, check=kept_as_material),      # replication material, no problem
        Case("bao_cao.docx", None, [], None, check=kept_as_material),
        Case("wrong_ext.xls", "ban_tuyen_giao", ["wrong_extension"], ok, 2, "đuôi"),
        Case("zero.xlsx", None, ["empty"], None, message="rỗng"),
        Case("cut.xlsx", None, ["refused"], None, message="hỏng"),
        Case("encrypted.xlsx", None, ["password"], None, message="gỡ mật khẩu rồi gửi lại"),
        Case("pw.xls", None, ["password"], None, message="gỡ mật khẩu rồi gửi lại"),
        Case("~$lo.xlsx", None, [], None, check=ignored, extra_files=[".an.xlsx"]),
        Case("several.zip", "tram_y_te", [], ok, 1, check=zip_both),
        Case("no_meta.xlsx", "doan_thanh_nien", ["identified_by_name"], ok, 1, "tên ghi trong sổ"),
        Case("meta_edited.xlsx", "truong_mam_non", ["meta_edited"], ok, 1, "_meta"),
        Case("other_unit.xlsx", None, ["unit_conflict"], None, message="chưa được tính"),
        Case("blank.xlsx", "cc_van_phong_thong_ke", ["no_nominations"], bad, 0, "Chưa có điển hình"),
        Case("renamed_sheet.xlsx", "hoi_nong_dan", ["sheet_renamed"], ok, 1, "đổi tên"),
        Case("rows_above.xlsx", "tram_y_te", ["rows_shifted"], ok, 1, "dịch"),
        Case("cols_inserted.xlsx", "cong_an", ["columns_moved"], ok, 1, "tiêu đề cột"),
        Case("col_deleted.xlsx", "ban_chqs", ["missing_column"], bad, 0, "Thành tích tiêu biểu"),
        Case("merged.xlsx", "truong_mam_non", ["merged_rows"], None, message="gộp"),
        Case("below_table.xlsx", "doan_thanh_nien", ["below_table"], ok, 2, "ngoài vùng bảng"),
        Case("on_instructions.xlsx", "cc_dia_chinh", ["typed_on_instructions"], ok, 1, "Hướng dẫn"),
        Case("unprotected.xlsx", "van_phong_ubnd", ["not_in_list"], bad, 0, "Không rõ"),
        Case("extra_sheet.xlsx", "mttq", ["extra_sheet"], ok, 1, "Ghi chú riêng"),
        Case("legacy.xlsx", "cong_doan", ["legacy_encoding"], ok, 1, "TCVN3", legacy_converted),
        Case("nfd_caps.xlsx", "cong_doan", [], ok, 1, check=name_normalised),
        Case("formulas.xlsx", "cc_van_hoa_xa_hoi", [], ok, 1, check=no_formula_in_master),
        Case("dates_text.xlsx", "hoi_nong_dan", ["bad_date"], ok, 1, "Ngày lập"),
        Case("long_text.xlsx", "doan_thanh_nien", [], ok, 1, check=long_kept),
        Case("twice.xlsx", "mttq", ["duplicate_person"], ok, 2, "hai lần"),
        Case("dup_a.xlsx", "cong_an", [], ok, 1, "", dup_both_places,
             extra_files=["dup_b.xlsx"]),
        Case("bomb.xlsx", None, ["refused"], None, message="bom nén"),
        Case("laughs.xlsx", None, ["refused"], None, message="DOCTYPE"),
        Case("xxe.xlsx", None, ["refused"], None, message="không an toàn"),
        Case("huge.xlsx", None, ["refused"], None, message="vùng dữ liệu quá lớn"),
        Case("traversal.zip", None, ["zip_traversal"], None, message="đường dẫn nguy hiểm"),
        Case("symlink.xlsx", None, ["symlink_outside"], None, message="symlink"),
        Case("dir_loop.xls", None, ["ole_damaged"], None, message="lưu lại dạng .xlsx"),
        Case("mini_loop.xls", None, ["ole_damaged"], None, message="lặp vòng"),
        Case("panic.xls", None, ["unreadable"], None, message="chương trình đọc bị lỗi"),
    ]


CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_odd_file(case: Case, corpus, tmp_path, catalogue):
    wd = tmp_path / "round"
    shutil.copytree(corpus["workdir"], wd)
    inbox = wd / "inbox"
    shutil.copyfile(corpus["dir"] / "clean.xlsx", inbox / "clean.xlsx")
    src = corpus["dir"]
    if case.name == "symlink.xlsx":
        os.symlink("/etc/passwd", inbox / case.name)
    elif case.name == "~$lo.xlsx":
        shutil.copyfile(src / "lo.xlsx", inbox / case.name)
        shutil.copyfile(src / "lo.xlsx", inbox / ".an.xlsx")
    else:
        if not (src / case.name).exists():
            pytest.skip(f"{case.name} could not be made on this machine")
        shutil.copyfile(src / case.name, inbox / case.name)
        for extra in case.extra_files:
            shutil.copyfile(src / extra, inbox / extra)
    before = {p.name: p.read_bytes() for p in inbox.iterdir() if p.is_file() and not p.is_symlink()}
    report = merge.run(catalogue, wd, now=NOW)
    # the run went on: the clean file of another unit is merged
    assert report.picture.unit_status(CLEAN_UNIT).nominations >= 2
    mine = [p for p in report.picture.problems if p.file.startswith(case.name)]
    for code in case.codes:
        hits = [p for p in mine if p.code == code]
        assert hits, (code, [(p.code, p.message) for p in mine])
        assert all(unicodedata.is_normalized("NFC", p.message) for p in hits)
    if case.message:
        assert any(case.message.lower() in p.message.lower() for p in mine), [p.message for p in mine]
    if not case.codes and case.check is None:
        assert not [p for p in mine if p.is_error], [p.message for p in mine]
    if case.unit and case.status:
        st = report.picture.unit_status(case.unit)
        assert st.status == case.status, (st.status, [p.message for p in mine])
        if case.nominations is not None:
            assert st.nominations == case.nominations
    elif not case.unit:
        others = [s for s in report.picture.units if s.unit.id != CLEAN_UNIT]
        assert all(s.status == P.NOT_SUBMITTED for s in others)
    if case.check:
        case.check(report)
    # the master lists the problem, by file name, in Vietnamese
    if case.codes:
        rows = CalamineWorkbook.from_path(str(master_path(wd, 2024))).get_sheet_by_name("Lỗi cần sửa").to_python()
        assert any(case.name in str(r[2]) for r in rows)
    # no library's English reaches the officer
    assert not [english_in(p.message) for p in mine if english_in(p.message)]
    # inbox/ originals are never modified
    after = {p.name: p.read_bytes() for p in inbox.iterdir() if p.is_file() and not p.is_symlink()}
    assert after == before


_ENGLISH = {"the", "a", "an", "is", "are", "not", "no", "of", "to", "for", "in", "at", "cannot", "could", "found",
            "invalid", "error", "expected", "expecting", "file", "format", "detect", "missing", "unexpected", "failed",
            "index", "out", "range", "slice", "panicked", "zip", "stream", "sector", "permission", "denied", "such"}


def english_in(text: str) -> str:
    """Three or more ASCII-only words in a row, two of them English function words (a library's message)."""
    run: list[str] = []
    for word in re.findall(r"[\w'-]+", text) + [""]:
        if re.fullmatch(r"[A-Za-z'-]*[A-Za-z][A-Za-z'-]*", word):
            run.append(word)
            continue
        if len(run) >= 3 and sum(w.lower() in _ENGLISH for w in run) >= 2:
            return " ".join(run)
        run = []
    return ""


def test_english_detector_finds_library_messages():
    assert english_in("Không đọc được tệp: Cannot detect file format.")
    assert english_in("lỗi (Cfb error: Sector 1048576 points past end of file)")
    assert english_in("Expecting 'table-cell', found 'Text'")
    assert not english_in("Tệp 'a.xls' bị hỏng — đề nghị đơn vị mở tệp bằng Excel, lưu lại dạng .xlsx rồi gửi lại.")
    assert not english_in("hãy mở thư trong Outlook, chọn Lưu thành (Save As) dạng .eml")


def test_broken_files_never_show_library_english(corpus, tmp_path, catalogue):
    """Files every library refuses in its own English: the master and the feedback speak Vietnamese only."""
    wd = tmp_path / "round"
    shutil.copytree(corpus["workdir"], wd)
    inbox = wd / "inbox"
    for name in ("panic.xls", "dir_loop.xls", "mini_loop.xls", "cut.xlsx", "gnumeric.ods", "zero.xlsx"):
        if (corpus["dir"] / name).exists():
            shutil.copyfile(corpus["dir"] / name, inbox / name)
    good = (corpus["dir"] / "clean.xlsx").read_bytes()
    # a workbook whose sheet list points to a part that is not there: python-calamine refuses it in English
    (inbox / "thieu_trang.xlsx").write_bytes(H.replace_parts(good, lambda n, b: b.replace(b'r:id="rId', b'r:id="xx')
                                                            if n == "xl/workbook.xml" else None))
    shutil.copyfile(corpus["dir"] / "clean.xlsx", inbox / "clean.xlsx")
    report = merge.run(catalogue, wd, now=NOW)
    assert report.picture.unit_status(CLEAN_UNIT).nominations >= 2
    texts = [p.message for p in report.picture.problems]
    wb = CalamineWorkbook.from_path(str(master_path(wd, 2024)))
    texts += [str(v) for n in wb.sheet_names for row in wb.get_sheet_by_name(n).to_python() for v in row]
    for fb in report.feedback:
        if fb.suffix == ".xlsx":
            fwb = CalamineWorkbook.from_path(str(fb))
            texts += [str(v) for n in fwb.sheet_names for row in fwb.get_sheet_by_name(n).to_python() for v in row]
    assert any("thieu_trang.xlsx" in p.file for p in report.picture.problems)
    assert not [english_in(t) for t in texts if english_in(t)]


def test_hostile_corpus_memory_is_bounded(corpus, tmp_path):
    """All hostile files in one inbox: merged in a child process under 500 MB peak, in bounded time."""
    wd = tmp_path / "round"
    shutil.copytree(corpus["workdir"], wd)
    for name in ("bomb.xlsx", "laughs.xlsx", "xxe.xlsx", "huge.xlsx", "traversal.zip", "cut.xlsx", "zero.xlsx",
                 "dir_loop.xls", "mini_loop.xls", "panic.xls", "clean.xlsx"):
        shutil.copyfile(corpus["dir"] / name, wd / "inbox" / name)
    os.symlink("/etc/passwd", wd / "inbox" / "link.xlsx")
    # the merge's own peak and the reading workers' peak (RUSAGE_CHILDREN: the largest waited-for child)
    code = ("import resource,sys,time; from hoacu_xlsx import catalogue, merge; t=time.time(); "
            f"rep = merge.run(catalogue.load(), __import__('pathlib').Path({str(wd)!r})); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.time()-t, "
            f"resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rep.picture.unit_status({CLEAN_UNIT!r})"
            ".nominations)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    peak_kb, seconds, workers_kb, clean = r.stdout.split()
    assert int(peak_kb) < 500 * 1024 and int(workers_kb) < 500 * 1024
    assert float(seconds) < 60
    assert int(clean) >= 2          # the other unit's file still merged
    assert not r.stderr.strip(), r.stderr      # no backtrace from a crashing reader on the officer's screen
    print(f"hostile corpus: peak RSS {int(peak_kb) // 1024} MB (workers {int(workers_kb) // 1024} MB), "
          f"{float(seconds):.1f} s")


def test_case_count_is_in_readme():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"{len(CASES)} trường hợp" in readme
