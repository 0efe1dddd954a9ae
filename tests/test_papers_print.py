"""The papers as printed: LibreOffice turns every document and the .xlsx list into PDF, measured
with pdfinfo/pdftotext — page size and orientation, and the list's header row on page 2.

A long round (~60 chosen) forces the list over several pages. One unit's return is typed by
LibreOffice Calc; some of the officer's decisions are typed into the master by LibreOffice too.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document

from hoacu_xlsx import cli, demo, merge, papers
from tests.conftest import generated_round
from tests.papers_round import NOW, decide, decision_ops, write_return
from hoacu_xlsx.master import master_path

pytestmark = pytest.mark.libreoffice
PER_UNIT = 4
LO_UNIT = "hoi_nong_dan"


def pdfinfo(path: Path) -> tuple[int, float, float]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))
    w, h = map(float, re.search(r"^Page size:\s+([\d.]+) x ([\d.]+)", out, re.M).groups())
    return pages, w, h


def page_text(path: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-layout"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def is_a4(w: float, h: float, landscape: bool) -> bool:
    short, long_ = sorted((w, h))
    return abs(short - 595.3) < 2 and abs(long_ - 841.9) < 2 and (w > h) == landscape


@pytest.fixture(scope="module")
def long_round(tmp_path_factory, catalogue, libreoffice):
    wd, built, out, _sr = generated_round(tmp_path_factory, catalogue, "print")
    n = 0
    names: dict[str, str] = {}
    lo_jobs = []
    for unit in catalogue.units_with_nominations():
        a = catalogue.assignments_of(unit.id)[0]
        rows = []
        for k in range(PER_UNIT):
            n += 1
            row = demo.sample_row(catalogue, a.id, n, kind_index=k)
            if "nam_sinh" in row:
                row["nam_sinh"] = 1960 + n % 40   # sample years grow with n: keep them valid
            rows.append(row)
            names[row["ten"]] = unit.id
        if unit.id == LO_UNIT:
            lo_jobs.append(demo.fill_job(built[unit.id], {a.id: rows}, out / f"{unit.id}.xlsx"))
        else:
            write_return(built[unit.id], {a.id: rows}, wd / "inbox" / f"{unit.id}.xlsx")
    libreoffice.fill(lo_jobs)
    (wd / "inbox" / f"{LO_UNIT}.xlsx").write_bytes((out / f"{LO_UNIT}.xlsx").read_bytes())
    merge.run(catalogue, wd, now=NOW)
    ordered = list(names)
    undecided = ordered[-1]
    by_lo = {name: "Được chọn" for name in ordered[:5]}
    decide(wd, {name: "Được chọn" for name in ordered[5:-1]})
    mpath = master_path(wd, 2024)
    libreoffice.fill([{"src": str(mpath), "dst": str(mpath), "format": "xlsx", "ops": decision_ops(wd, by_lo)}])
    r = CliRunner().invoke(cli.main, ["--dir", str(wd), "report", "--now", "10/06/2024"])
    assert r.exit_code == 0, r.output
    pdf = {}
    for name in ("bao_cao_ket_qua_2024.docx", "to_trinh_2024.docx", "danh_sach_de_nghi_2024.docx",
               "danh_sach_de_nghi_2024.xlsx"):
        pdf[name] = libreoffice.convert(wd / "reports" / name, "pdf", wd / "pdf" / name.replace(".", "_"))
    return {"wd": wd, "names": ordered, "undecided": undecided, "lo_unit_names": [k for k, v in names.items()
                                                                                  if v == LO_UNIT],
            "pdf": pdf, "output": r.output}


def test_report_and_submission_print_portrait_with_heading(long_round):
    for name, symbol in (("bao_cao_ket_qua_2024.docx", "BC-UBND"), ("to_trinh_2024.docx", "TTr-UBND")):
        path = long_round["pdf"][name]
        pages, w, h = pdfinfo(path)
        assert is_a4(w, h, landscape=False), name
        first = page_text(path, 1)
        for line in ("UBND XÃ HÒA CƯ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     f"Số: …/{symbol}", "Hòa Cư, ngày … tháng … năm 2024", "DỰ THẢO"):
            assert line in first, (name, line)
        last = page_text(path, pages)
        assert "Nơi nhận:" in last and "CHỦ TỊCH" in last, name
    assert pdfinfo(long_round["pdf"]["to_trinh_2024.docx"])[0] == 1


@pytest.mark.parametrize("name", ["danh_sach_de_nghi_2024.docx", "danh_sach_de_nghi_2024.xlsx"])
def test_long_list_repeats_its_header_row_on_every_page(long_round, name):
    path = long_round["pdf"][name]
    pages, w, h = pdfinfo(path)
    assert is_a4(w, h, landscape=True)
    assert pages >= 2
    for p in range(2, pages + 1):
        text = page_text(path, p)
        if not re.search(r"Mục \d+ –", text):   # a last page with only the closing lines: no table there
            continue
        assert "STT" in text and "Tóm tắt thành tích" in text and "Hình thức đề" in text, (name, p)
    everything = page_text(path)
    chosen = long_round["names"][:-1]
    assert len(chosen) >= 55
    squeezed = re.sub(r"\s+", " ", everything)
    for person in chosen:
        assert re.search(re.escape(person) + r"(?!\d)", squeezed), (name, person)
    assert not re.search(re.escape(long_round["undecided"]) + r"(?!\d)", squeezed.split("DỰ THẢO")[0]
                         if name.endswith(".docx") else squeezed.split("Tổng cộng")[0].split("DANH SÁCH")[1])
    if name.endswith(".xlsx"):
        assert f"Trang 2/{pages}" in page_text(path, 2)


def test_lo_filled_return_and_lo_typed_decisions_reach_the_list(long_round):
    d = Document(str(long_round["wd"] / "reports" / "danh_sach_de_nghi_2024.docx"))
    listed = {row.cells[1].text for row in d.tables[1].rows}
    assert set(long_round["lo_unit_names"]) <= listed
    assert set(long_round["names"][:5]) <= listed        # typed into the master by LibreOffice
    assert long_round["undecided"] not in listed
    assert "DỰ THẢO: còn 1 điển hình chưa có kết quả xét chọn" in long_round["output"]


def test_meeting_chart_is_one_a4_landscape_page(long_round, catalogue):
    path = long_round["wd"] / "reports" / "tong_quan_2024.pdf"
    pages, w, h = pdfinfo(path)
    assert pages == 1 and is_a4(w, h, landscape=True)
    text = page_text(path)
    assert "KẾT QUẢ XÂY DỰNG ĐIỂN HÌNH TIÊN TIẾN NĂM 2024" in text
    for a in catalogue.assignments:
        if a.nominations:
            assert f"Mục {a.item} —" in text
    assert "Điển hình được chọn" in text and "Đơn vị được giao" in text


def test_templates_survive_libreoffice_writer(long_round, tmp_path, libreoffice, catalogue):
    """The officer opens each template in Writer and saves it as .docx: the report still renders."""
    import shutil

    wd = shutil.copytree(long_round["wd"], tmp_path / "lo_templates")
    shutil.rmtree(wd / "reports")
    for name in papers.TEMPLATES:
        saved = libreoffice.convert(papers.shipped_template(name), "docx", tmp_path / "saved")
        (wd / "templates").mkdir(exist_ok=True)
        shutil.copyfile(saved, wd / "templates" / name)
    r = CliRunner().invoke(cli.main, ["--dir", str(wd), "report", "--now", "10/06/2024"])
    assert r.exit_code == 0, r.output
    assert "Dùng mẫu của cán bộ trong templates/" in r.output
    for name in ("bao_cao_ket_qua", "to_trinh", "danh_sach_de_nghi"):
        d = Document(str(wd / "reports" / f"{name}_2024.docx"))
        text = "\n".join([p.text for p in d.paragraphs] + [c.text for t in d.tables for row in t.rows
                                                           for c in row.cells])
        assert "{{" not in text and "{%" not in text, name
        assert "UBND XÃ HÒA CƯ" in text and "Hòa Cư, ngày … tháng … năm 2024" in text, name
    d = Document(str(wd / "reports" / "danh_sach_de_nghi_2024.docx"))
    listed = {row.cells[1].text for row in d.tables[1].rows}
    assert set(long_round["names"][:-1]) <= listed
    header = d.tables[1].rows[0]._tr.trPr
    assert header.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader") is not None
