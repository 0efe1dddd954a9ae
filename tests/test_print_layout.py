"""Every workbook prints on A4, legibly, with header rows and page numbers — measured on LibreOffice's PDFs.

A round of 15 units x 5 nominations is filled by LibreOffice as the units would, merged, and the
unit workbook, the master and a feedback workbook are exported to PDF. ``pdfinfo`` gives page
size and orientation, ``pdftotext -bbox`` the word boxes; text height is compared with real 8 pt
text rendered the same way.
"""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from hoacu_xlsx import demo, merge, printing
from hoacu_xlsx.master import SHEET_NOMINATIONS, master_path
from tests.conftest import generated_round

A4 = (595.28, 841.89)
NOMINATIONS_PER_UNIT = 5


# --------------------------------------------------------------------------- print settings as written


def test_plan_fits_narrow_sheets_and_bands_wide_ones():
    narrow = printing.plan([10, 40, 40], landscape=False, font_pt=11)
    assert narrow.fit_width
    wide = printing.plan([5, 16, 24] + [30] * 12, landscape=True, font_pt=11, repeat_cols=(0, 2))
    assert not wide.fit_width and wide.scale * 11 / 100 >= printing.MIN_PT
    assert wide.col_breaks and all(b > 2 for b in wide.col_breaks)


def test_unit_workbook_print_settings(generated):
    wb = openpyxl.load_workbook(generated / "outbox" / "DTTT_2024_truong_th_thcs.xlsx")
    guide = wb["Hướng dẫn"]
    assert guide.page_setup.paperSize == 9 and guide.page_setup.orientation == "portrait"
    entry = wb["Mục 7"]
    ps = entry.page_setup
    assert ps.paperSize == 9 and ps.orientation == "landscape"
    assert ps.scale and ps.scale * 11 / 100 >= printing.MIN_PT
    assert entry.print_title_rows and entry.print_title_cols == "$A:$C"
    assert "&P" in entry.oddFooter.center.text and "Mục 7" in entry.oddHeader.center.text


# --------------------------------------------------------------------------- the round, printed


def pdf_pages(pdf: Path) -> list[dict]:
    """Per page: size (w, h), word boxes [(text, x0, y0, x1, y1)], its layout text and header line.

    LibreOffice places Vietnamese glyphs one by one, so pdftotext cuts accented words into
    pieces: texts are checked on the layout text, heights on ASCII words (digits, ids).
    """
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    sizes = [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    layout = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                            check=True).stdout.split("\f")
    pages = []
    for size, body, text in zip(sizes, re.findall(r"<page [^>]*>(.*?)</page>", xml, re.S), layout):
        words = [(html.unescape(t), float(a), float(b), float(c), float(d)) for a, b, c, d, t in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', body)]
        lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
        pages.append({"size": size, "words": words, "text": " ".join(lines), "header": lines[0] if lines else ""})
    assert len(pages) == len(sizes) > 0
    return pages


def is_a4(size: tuple[float, float], landscape: bool) -> bool:
    w, h = size
    want = (A4[1], A4[0]) if landscape else A4
    return abs(w - want[0]) < 2 and abs(h - want[1]) < 2


def heights(page: dict, pick) -> list[float]:
    return [w[4] - w[2] for w in page["words"] if pick(w[0])]


@pytest.fixture(scope="module")
def eight_pt(tmp_path_factory, libreoffice) -> float:
    """Word-box height of real 8 pt Times New Roman text, printed by LibreOffice at 100 %."""
    d = tmp_path_factory.mktemp("eight_pt")
    wb = xlsxwriter.Workbook(str(d / "tam_diem.xlsx"))
    ws = wb.add_worksheet("A")
    ws.write_string(0, 0, "2024 0912345678", wb.add_format({"font_name": "Times New Roman", "font_size": 8}))
    ws.set_paper(9)
    wb.close()
    page = pdf_pages(libreoffice.convert(d / "tam_diem.xlsx", "pdf", d))[0]
    return min(heights(page, str.isdigit))


@pytest.fixture(scope="module")
def printed(tmp_path_factory, catalogue, libreoffice):
    """LibreOffice fills every unit's workbook (one unit misses a required cell), merge, then PDFs."""
    wd, built, out, sr = generated_round(tmp_path_factory, catalogue, "print")
    jobs, n = [], 0
    for unit_id, b in built.items():
        rows = {}
        for a in catalogue.assignments_of(unit_id):
            rows[a.id] = [sr(a.id, n + i + 1, i) for i in range(NOMINATIONS_PER_UNIT)]
            n += NOMINATIONS_PER_UNIT
        if unit_id == "cong_an":
            del rows["8"][0]["thanh_tich"]
        jobs.append(demo.fill_job(b, rows, wd / "inbox" / b.path.name))
    libreoffice.fill(jobs)
    merge.run(catalogue, wd)
    pdf = wd / "pdf"
    feedback = wd / "feedback" / "PhanHoi_2024_cong_an.xlsx"
    return {
        "nominations": n,
        "unit": pdf_pages(libreoffice.convert(wd / "inbox" / "DTTT_2024_truong_th_thcs.xlsx", "pdf", pdf)),
        "master": pdf_pages(libreoffice.convert(master_path(wd, catalogue.year), "pdf", pdf)),
        "feedback": pdf_pages(libreoffice.convert(feedback, "pdf", pdf)),
        "master_path": master_path(wd, catalogue.year),
    }


def sheet_of(page: dict, titles: list[str]) -> list[str]:
    """Which sheets' print titles (page header) this page carries."""
    return [t for t in titles if t in page["header"]]


@pytest.mark.libreoffice
def test_every_page_is_a4_and_numbered(printed):
    for kind in ("unit", "master", "feedback"):
        pages = printed[kind]
        for i, page in enumerate(pages, start=1):
            assert is_a4(page["size"], True) or is_a4(page["size"], False), (kind, i, page["size"])
            assert f"Trang {i}/{len(pages)}" in page["text"], (kind, i)


@pytest.mark.libreoffice
def test_unit_workbook_prints_guide_portrait_and_entry_landscape_legibly(printed, eight_pt):
    pages = printed["unit"]
    guide = [p for p in pages if sheet_of(p, ["Hướng dẫn"])]
    entry = [p for p in pages if sheet_of(p, ["Mục 7"])]
    assert guide and entry and len(guide) + len(entry) == len(pages)
    assert all(is_a4(p["size"], False) for p in guide)
    assert all(is_a4(p["size"], True) for p in entry)
    assert len(entry) <= 3 * 2  # at most 3 bands of columns (12 criteria), 2 pages tall
    for p in entry:  # the header row and the number/kind/name columns repeat on every page
        assert "STT" in p["text"] and "Loại điển hình" in p["text"] and "Tên tập thể / Họ và tên" in p["text"]
    assert sum("Người mẫu Số" in p["text"] for p in entry) >= 3
    body = [h for p in entry for h in heights(p, str.isdigit)]  # row numbers, years, phones
    assert len(body) > 60 and min(body) >= eight_pt - 0.05, (min(body), eight_pt)


@pytest.mark.libreoffice
def test_master_sheets_print_on_their_own_pages_with_header_rows(printed, catalogue, eight_pt):
    from python_calamine import CalamineWorkbook

    from hoacu_xlsx import master

    titles = [master.SHEET_DASHBOARD, master.SHEET_UNITS, master.SHEET_NOMINATIONS, master.SHEET_PROBLEMS,
              master.SHEET_FILES, master.SHEET_EDITS]
    pages = printed["master"]
    heads = [f"{t} — Tổng hợp" for t in titles] + [f"{master.SHEET_TRACKING} — "]   # history.py's own title
    owners = [sheet_of(p, heads) for p in pages]
    assert all(len(o) == 1 for o in owners), [(i, o, p["header"], p["text"][:200]) for i, (o, p) in enumerate(zip(owners, pages)) if len(o) != 1]
    assert all(is_a4(p["size"], True) for p in pages)
    assert {o[0] for o in owners} == set(heads)
    noms = [p for p, o in zip(pages, owners) if o[0].startswith(SHEET_NOMINATIONS)]
    rows = CalamineWorkbook.from_path(str(printed["master_path"])).get_sheet_by_name(SHEET_NOMINATIONS).to_python()
    ids = {str(r[0]) for r in rows[2:] if r and str(r[0]).startswith("DH-")}   # below the hidden key row
    assert len(ids) >= printed["nominations"] - 1 >= 70
    seen = [{i for i in ids if i in p["text"]} for p in noms]
    assert set().union(*seen) == ids
    for p in noms:  # header row and the id/unit columns repeat on every page
        assert "Mã điển hình" in p["text"] and "Đơn vị" in p["text"]
    assert max(len(s) for s in seen) >= 25  # about 25 or more nominations a page
    assert len(noms) <= 4 * 3  # at most 4 bands of columns, 3 pages tall
    body = [h for p in noms for h in heights(p, lambda t: t.startswith("DH-"))]
    assert min(body) >= eight_pt - 0.05


@pytest.mark.libreoffice
def test_feedback_instructions_span_the_page(printed, eight_pt):
    pages = printed["feedback"]
    first = pages[0]
    assert "Cần sửa" in first["header"]
    assert is_a4(first["size"], False)
    assert "Đềnghịđơnvịsửacácôđượctômàu" in "".join(first["text"].split())  # glyph runs: compare without spaces
    assert "Nội dung cần sửa" in first["text"]
    date = next(w for w in first["words"] if "31/05/2024" in w[0])  # in the instruction line
    line = [w for w in first["words"] if abs(w[2] - date[2]) < 1]
    assert max(w[3] for w in line) - min(w[1] for w in line) > 300  # across the page, not in a 5-wide column
    assert date[4] - date[2] >= eight_pt - 0.05
