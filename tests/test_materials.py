"""Replication material (dispatch II–III): write-ups and photos kept, linked, copied and listed.

Units send the write-up of their example's experience (.docx, .pdf, photos) with their workbook
or on their own. After a merge they are no problem, the master lists them on 'Tài liệu nhân rộng'
with the unit and (when the file name says whose) the nomination, and each row links to a copy
beside the master that the officer can open.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote

import docx
import openpyxl
import pytest

from hoacu_xlsx import demo, merge
from hoacu_xlsx import history as H_
from hoacu_xlsx.master import master_path
from tests import hostile_files as H
from tests.conftest import fill_with_openpyxl, generated_round

NOW = datetime(2024, 6, 3, 9, 0).astimezone()
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def write_up(title: str) -> bytes:
    """A write-up of experience as a unit writes it (python-docx)."""
    d = docx.Document()
    d.add_heading(title, 1)
    d.add_paragraph("Kinh nghiệm, cách làm hay (tài liệu mẫu, không phải dữ liệu thật).")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def letter(sender: str, parts: list[tuple[str, bytes, tuple[str, str]]]) -> bytes:
    m = EmailMessage()
    m["From"], m["To"] = sender, "vanphong@example.vn"
    m["Date"], m["Subject"] = "Wed, 29 May 2024 10:00:00 +0700", "Sổ đề xuất và bài viết kinh nghiệm"
    m.set_content("Kính gửi Văn phòng UBND xã")
    for name, data, (main, sub) in parts:
        m.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return bytes(m)


def fill_openpyxl(built, rows: dict[str, list[dict]], dst: Path) -> bytes:
    """Type rows into a generated workbook with openpyxl, by its _meta."""
    return fill_with_openpyxl(built, rows, dst).read_bytes()


def two_rows(sample) -> list[dict]:
    a, b = sample("13", 1, 1), sample("13", 2, 1)
    a["ten"], b["ten"] = "Lê Thị Mẫu", "Hoàng Thị Mẫu"
    return [a, b]


def sheet(mpath: Path, name: str) -> list[dict]:
    wb = openpyxl.load_workbook(mpath)
    ws = wb[name]
    head = [c.value for c in ws[1]]
    rows = []
    for r in ws.iter_rows(min_row=2):
        rows.append({h: c for h, c in zip(head, r)})
    return rows


def by_file(rows: list[dict]) -> dict[str, dict]:
    return {r["Tệp (bấm để mở)"].value: r for r in rows}


def link_target(mpath: Path, cell) -> Path:
    """Where the relative hyperlink of a cell points, resolved from the master's folder as Excel does."""
    assert cell.hyperlink is not None and cell.hyperlink.target
    return mpath.parent / unquote(cell.hyperlink.target).replace("\\", "/")


def problems(report) -> list:
    return report.picture.problems


def hostile_docx_dtd() -> bytes:
    good = write_up("Có DTD")

    def edit(name: str, data: bytes) -> bytes:
        if name == "word/document.xml":
            return data.replace(b"?>", b"?><!DOCTYPE d [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]>", 1)
        return data
    return H.replace_parts(good, edit)


def docx_bomb() -> bytes:
    """A .docx with a 'photo' part that inflates 64 MB of zeros from about 64 KB (headers tell the truth)."""
    good = zipfile.ZipFile(io.BytesIO(write_up("Bom nén")))
    entries = [{"name": i.filename.encode(), "data": good.read(i.filename), "method": 0,
                "size": i.file_size, "crc": i.CRC} for i in good.infolist()]
    entries.append({"name": b"word/media/image1.png", "data": H.deflate_zeros(64), "size": 64 * 2**20, "crc": 0})
    return H.raw_zip(entries)


# --------------------------------------------------------------------------- without LibreOffice


@pytest.fixture(scope="module")
def plain_round(tmp_path_factory, catalogue):
    wd, built, out, sample = generated_round(tmp_path_factory, catalogue, "materials_plain")
    book = fill_openpyxl(built["hoi_lhpn"], {"13": two_rows(sample)}, out / "hoi_lhpn.xlsx")
    return wd, book


def test_write_up_in_an_email_is_kept_linked_and_opens_from_the_master(plain_round, tmp_path, catalogue):
    src, book = plain_round
    wd = shutil.copytree(src, tmp_path / "wd")
    inbox = wd / "inbox"
    kn = write_up("Kinh nghiệm của chị Lê Thị Mẫu")
    (inbox / "thu_hoi_phu_nu.eml").write_bytes(letter("Hội Phụ nữ <hoiphunu@example.vn>", [
        ("Sổ đề xuất Hội LHPN.xlsx", book, XLSX), ("Kinh nghiệm - Le Thi Mau.docx", kn, DOCX)]))
    (inbox / "DTTT_2024_hoi_lhpn ảnh hoạt động.docx").write_bytes(write_up("Ảnh hoạt động chung"))
    (inbox / "Kinh nghiem Mau.docx").write_bytes(write_up("Không rõ của ai"))
    (inbox / "ghi chú.txt").write_text("Kính gửi UBND xã", encoding="utf-8")
    report = merge.run(catalogue, wd, now=NOW)

    assert not [p for p in problems(report) if p.file.endswith(".docx")]
    txt = [p for p in problems(report) if p.file == "ghi chú.txt"]
    assert [p.code for p in txt] == ["not_workbook"] and "không phải sổ đề xuất" in txt[0].message
    mpath = master_path(wd, 2024)
    rows = by_file(sheet(mpath, "Tài liệu nhân rộng"))
    assert len(rows) == 3

    r = rows["Kinh nghiệm - Le Thi Mau.docx"]
    mine = r
    assert r["Đơn vị"].value == "Hội Liên hiệp Phụ nữ xã" and r["Tên điển hình"].value == "Lê Thị Mẫu"
    assert r["Mã điển hình"].value.startswith("DH-") and r["Người gửi"].value == "hoiphunu@example.vn"
    assert r["Thời điểm nhận"].value == "29/05/2024 10:00" and r["Loại"].value == "Văn bản Word"
    target = link_target(mpath, r["Tệp (bấm để mở)"])
    assert target.read_bytes() == kn
    assert target.parent == mpath.parent / "tai_lieu_2024" / "hoi_lhpn"

    r = rows["DTTT_2024_hoi_lhpn ảnh hoạt động.docx"]       # unit from the name, no nominee named
    assert r["Đơn vị"].value == "Hội Liên hiệp Phụ nữ xã" and r["Mã điển hình"].value is None
    assert "Chưa rõ của điển hình nào" in r["Ghi chú cho cán bộ"].value

    r = rows["Kinh nghiem Mau.docx"]                          # nothing says whose: blank, with a note
    assert r["Đơn vị"].value is None and "Chưa rõ của đơn vị nào" in r["Ghi chú cho cán bộ"].value
    assert link_target(mpath, r["Tệp (bấm để mở)"]).parent.name == "chua_ro_don_vi"

    noms = {x["Tên tập thể / Họ và tên cá nhân, chủ hộ"].value: x for x in sheet_rows_below_keys(mpath)}
    assert noms["Lê Thị Mẫu"]["Tài liệu kinh nghiệm"].value.endswith("(đã nhận tệp)")
    assert not noms["Hoàng Thị Mẫu"]["Tài liệu kinh nghiệm"].value.endswith("(đã nhận tệp)")
    assert "Tài liệu nhân rộng: 3 tệp, 2 chưa gắn với điển hình." in report.summary_lines()
    # the multi-year view carries it, and a later round reads it back from this master
    track = {x["Tên tập thể / Họ và tên cá nhân, chủ hộ"].value: x for x in sheet(mpath, "Theo dõi nhiều năm")}
    assert track["Lê Thị Mẫu"]["Tài liệu nhân rộng"].value == "2024: Kinh nghiệm - Le Thi Mau.docx"
    assert track["Hoàng Thị Mẫu"]["Tài liệu nhân rộng"].value is None
    assert H_.read_materials(mpath) == {mine["Mã điển hình"].value: ["Kinh nghiệm - Le Thi Mau.docx"]}

    again = merge.run(catalogue, wd, now=NOW)                   # nothing twice
    assert len(again.picture.materials) == 3
    assert len(sheet(mpath, "Tài liệu nhân rộng")) == 3
    copies = sorted(p.name for p in (mpath.parent / "tai_lieu_2024").rglob("*") if p.is_file())
    assert copies == sorted(["Kinh nghiệm - Le Thi Mau.docx", "DTTT_2024_hoi_lhpn ảnh hoạt động.docx",
                             "Kinh nghiem Mau.docx"])


def sheet_rows_below_keys(mpath: Path) -> list[dict]:
    """The nominations sheet: row 1 holds hidden column keys, row 2 the titles."""
    ws = openpyxl.load_workbook(mpath)["Điển hình"]
    head = [c.value for c in ws[2]]
    return [{h: c for h, c in zip(head, r)} for r in ws.iter_rows(min_row=3)]


def test_two_nominees_in_one_name_are_not_guessed(plain_round, tmp_path, catalogue):
    src, book = plain_round
    wd = shutil.copytree(src, tmp_path / "wd")
    (wd / "inbox" / "thu.eml").write_bytes(letter("x@example.vn", [
        ("so.xlsx", book, XLSX), ("Le Thi Mau va Hoang Thi Mau.docx", write_up("Hai người"), DOCX)]))
    report = merge.run(catalogue, wd, now=NOW)
    (m,) = report.picture.materials
    assert m.unit.id == "hoi_lhpn" and m.nomination_id == ""
    assert "Lê Thị Mẫu" in m.note and "Hoàng Thị Mẫu" in m.note and "Chưa gắn điển hình" in m.note


def test_a_second_copy_never_overwrites_a_different_file(plain_round, tmp_path, catalogue):
    src, _book = plain_round
    wd = shutil.copytree(src, tmp_path / "wd")
    (wd / "inbox" / "a").mkdir()
    (wd / "inbox" / "b").mkdir()
    one, two = write_up("Bản một"), write_up("Bản hai")
    (wd / "inbox" / "a" / "DTTT_2024_hoi_lhpn.docx").write_bytes(one)
    (wd / "inbox" / "b" / "DTTT_2024_hoi_lhpn.docx").write_bytes(two)
    merge.run(catalogue, wd, now=NOW)
    folder = master_path(wd, 2024).parent / "tai_lieu_2024" / "hoi_lhpn"
    got = {p.read_bytes() for p in folder.iterdir()}
    assert got == {one, two} and sorted(p.name for p in folder.iterdir()) == ["DTTT_2024_hoi_lhpn (2).docx",
                                                                             "DTTT_2024_hoi_lhpn.docx"]


def test_copies_are_hashed_once_and_again_only_when_changed(plain_round, tmp_path, catalogue, monkeypatch):
    """A province's photos are not re-read on every merge; a copy edited by hand is noticed, kept, and a fresh
    copy of what the unit sent is placed beside it."""
    from hoacu_xlsx import materials

    src, _book = plain_round
    wd = shutil.copytree(src, tmp_path / "wd")
    sent = write_up("Bản gửi")
    (wd / "inbox" / "DTTT_2024_hoi_lhpn.docx").write_bytes(sent)
    merge.run(catalogue, wd, now=NOW)
    folder = master_path(wd, 2024).parent / "tai_lieu_2024" / "hoi_lhpn"
    copy = folder / "DTTT_2024_hoi_lhpn.docx"
    assert copy.read_bytes() == sent

    hashed: list[Path] = []
    real = materials._digest
    monkeypatch.setattr(materials, "_digest", lambda p: hashed.append(p) or real(p))
    merge.run(catalogue, wd, now=NOW)
    assert hashed == [] and copy.read_bytes() == sent

    copy.write_bytes(sent[:-10] + b"0123456789")      # the officer edits the copy (same size)
    merge.run(catalogue, wd, now=NOW)
    assert hashed and copy.read_bytes() != sent
    assert (folder / "DTTT_2024_hoi_lhpn (2).docx").read_bytes() == sent
    hashed.clear()
    merge.run(catalogue, wd, now=NOW)
    assert hashed == []


@pytest.mark.parametrize("name,data,fragment", [
    ("co_dtd.docx", hostile_docx_dtd(), "DOCTYPE/ENTITY"),
    ("bom.docx", docx_bomb(), "bom nén"),
])
def test_a_hostile_write_up_is_refused_in_vietnamese(plain_round, tmp_path, catalogue, name, data, fragment):
    src, _book = plain_round
    wd = shutil.copytree(src, tmp_path / "wd")
    (wd / "inbox" / name).write_bytes(data)
    report = merge.run(catalogue, wd, now=NOW)
    assert report.picture.materials == []
    (p,) = [p for p in problems(report) if p.file == name]
    assert p.is_error and name in p.message and fragment in p.message
    assert not (master_path(wd, 2024).parent / "tai_lieu_2024").exists()


# --------------------------------------------------------------------------- LibreOffice as the unit


@pytest.mark.libreoffice
def test_libreoffice_round_with_write_up_pdf_and_photo(tmp_path_factory, tmp_path, catalogue, libreoffice):
    wd, built, out, sample = generated_round(tmp_path_factory, catalogue, "materials_lo")
    libreoffice.fill([demo.fill_job(built["hoi_lhpn"], {"13": two_rows(sample)}, out / "hoi_lhpn.xlsx")])
    kn = write_up("Kinh nghiệm của chị Hoàng Thị Mẫu")
    (out / "bai_viet.docx").write_bytes(write_up("Bài viết chung của Hội LHPN"))
    pdf = libreoffice.convert(out / "bai_viet.docx", "pdf", out)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    inbox = wd / "inbox"
    (inbox / "thu.eml").write_bytes(letter("hoiphunu@example.vn", [
        ("Sổ Hội LHPN.xlsx", (out / "hoi_lhpn.xlsx").read_bytes(), XLSX),
        ("Hoàng Thị Mẫu - kinh nghiệm.docx", kn, DOCX)]))
    shutil.copyfile(pdf, inbox / "DTTT_2024_hoi_lhpn bài viết.pdf")
    if shutil.which("pdftoppm"):       # a photo: the PDF's page rendered by poppler
        subprocess.run(["pdftoppm", "-jpeg", "-r", "20", "-singlefile", str(pdf), str(out / "anh")], check=True)
        shutil.copyfile(out / "anh.jpg", inbox / "Ảnh Hoàng Thị Mẫu.jpg")
    report = merge.run(catalogue, wd, now=NOW)
    assert not [p for p in problems(report) if p.file.endswith((".docx", ".pdf", ".jpg"))]
    mpath = master_path(wd, 2024)
    rows = by_file(sheet(mpath, "Tài liệu nhân rộng"))
    r = rows["Hoàng Thị Mẫu - kinh nghiệm.docx"]
    assert r["Đơn vị"].value == "Hội Liên hiệp Phụ nữ xã" and r["Tên điển hình"].value == "Hoàng Thị Mẫu"
    assert link_target(mpath, r["Tệp (bấm để mở)"]).read_bytes() == kn
    r = rows["DTTT_2024_hoi_lhpn bài viết.pdf"]
    assert r["Loại"].value == "Tệp PDF" and r["Đơn vị"].value == "Hội Liên hiệp Phụ nữ xã"
    assert link_target(mpath, r["Tệp (bấm để mở)"]).read_bytes() == pdf.read_bytes()
    if shutil.which("pdftoppm"):
        r = rows["Ảnh Hoàng Thị Mẫu.jpg"]       # on its own: the nominee's name gives unit and nomination
        assert r["Loại"].value == "Ảnh" and r["Tên điển hình"].value == "Hoàng Thị Mẫu"
    # LibreOffice resolves the links from the master's folder: convert the master and follow its hrefs
    ods = libreoffice.convert(mpath, "ods", tmp_path / "ods")
    import re

    content = zipfile.ZipFile(ods).read("content.xml").decode()
    hrefs = [unquote(h) for h in re.findall(r'xlink:href="([^"#]+)"', content) if "tai_lieu_2024" in h]
    assert len(hrefs) == len(rows)
    for h in hrefs:      # relative to the document itself ('../' leaves the .ods)
        assert os.path.normpath(ods / h).startswith(str(mpath.parent))
        assert Path(os.path.normpath(ods / h)).is_file()
    before = {p: p.stat().st_mtime_ns for p in (mpath.parent / "tai_lieu_2024").rglob("*") if p.is_file()}
    merge.run(catalogue, wd, now=NOW)
    after = {p: p.stat().st_mtime_ns for p in (mpath.parent / "tai_lieu_2024").rglob("*") if p.is_file()}
    assert before == after and len(sheet(mpath, "Tài liệu nhân rộng")) == len(rows)
