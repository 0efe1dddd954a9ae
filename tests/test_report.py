"""`report`: the officer's decisions in the master become the list, the report and the tờ trình.

Returns are typed with openpyxl by the `_meta` contract, merged, then the officer types
decisions into the master (openpyxl load/save) and runs `hoacu-xlsx report`. The .docx are
opened with python-docx and checked as a reader of Decree 30/2020 would check them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from docx import Document
from docx.shared import Mm, Pt

from hoacu_xlsx import cli, merge, papers
from hoacu_xlsx.report_figures import compute
from tests.conftest import generated_round
from tests.papers_round import NOW, dashboard_rows, decide, write_return

ROOT = Path(__file__).resolve().parents[1]
DEADLINE_OK = datetime(2024, 5, 20, 9, 0).timestamp()
LATE = datetime(2024, 6, 5, 9, 0).timestamp()
CHOSEN = ["Tập thể mẫu 1", "Người mẫu Số 2", "Người mẫu Số 4", "Người mẫu Số 5"]
NOT_LISTED = ["Tập thể mẫu 3", "Người mẫu Số 6", "Người mẫu Số 7", "Tập thể mẫu 8", "Người mẫu Số 9"]
OTHER_FORM = "Bằng khen của Chủ tịch UBND huyện"


@pytest.fixture(scope="module")
def decided(tmp_path_factory, catalogue):
    """A merged round with the officer's decisions typed into the master (not yet reported)."""
    wd, built, _out, sr = generated_round(tmp_path_factory, catalogue, "papers")
    broken = sr("8", 9, 1)
    del broken["thanh_tich"]                   # a row with an error: not counted, whatever the officer types
    plan = [("ban_tuyen_giao", {"1": [sr("1", 1, 0), sr("1", 2, 1)]}, DEADLINE_OK),
            ("hoi_lhpn", {"13": [sr("13", 3, 0), sr("13", 4, 1)]}, DEADLINE_OK),
            ("cc_dia_chinh", {"2": [sr("2", 5, 2), sr("2", 6, 1)]}, LATE),
            ("cong_an", {"8": [sr("8", 7, 1), sr("8", 8, 0), broken]}, DEADLINE_OK)]
    for unit, rows, when in plan:
        path = write_return(built[unit], rows, wd / "inbox" / f"{unit}.xlsx")
        os.utime(path, (when, when))
    merge.run(catalogue, wd, now=NOW)
    decide(wd, {"Tập thể mẫu 1": "Được chọn", "Người mẫu Số 2": ("Được chọn", OTHER_FORM),
                "Tập thể mẫu 3": "Không chọn", "Người mẫu Số 4": "được chọn", "Người mẫu Số 5": "Được chọn",
                "Người mẫu Số 7": "Đang xem xét", "Tập thể mẫu 8": "Có", "Người mẫu Số 9": "Được chọn"})
    return wd


def run_report(wd: Path):
    return CliRunner().invoke(cli.main, ["--dir", str(wd), "report", "--now", "10/06/2024"])


@pytest.fixture(scope="module")
def reported(decided):
    r = run_report(decided)
    assert r.exit_code == 0, r.output
    return decided, r.output


def doc(wd: Path, name: str) -> Document:
    return Document(str(wd / "reports" / f"{name}_2024.docx"))


def all_text(d: Document) -> str:
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        parts += [c.text for row in t.rows for c in row.cells]
    for s in d.sections:
        for h in (s.header, s.first_page_header):
            parts += [p.text for p in h.paragraphs]
    return "\n".join(parts)


def effective(run, paragraph, d: Document, attr: str):
    """A run's font name or size as Word shows it: the run, else its paragraph style, else Normal."""
    for source in (run.font, paragraph.style.font, d.styles["Normal"].font):
        value = getattr(source, attr)
        if value is not None:
            return value
    return None


def heading_cells(d: Document) -> list:
    return [p for row in d.tables[0].rows for c in row.cells for p in c.paragraphs if p.text.strip()]


@pytest.mark.parametrize("name,symbol,landscape", [("bao_cao_ket_qua", "BC-UBND", False),
                                                   ("to_trinh", "TTr-UBND", False),
                                                   ("danh_sach_de_nghi", "TTr-UBND", True)])
def test_decree30_layout(reported, name, symbol, landscape):
    wd, _ = reported
    d = doc(wd, name)
    s = d.sections[0]
    short, long_ = sorted([s.page_width, s.page_height])
    assert abs(short - Mm(210)) < Mm(1) and abs(long_ - Mm(297)) < Mm(1)
    assert (s.page_width > s.page_height) == landscape
    twip = 635  # Word stores margins in twips: allow one twip of rounding
    assert Mm(20) - twip <= s.top_margin <= Mm(25) and Mm(20) - twip <= s.bottom_margin <= Mm(25)
    assert Mm(30) - twip <= s.left_margin <= Mm(35) and Mm(15) - twip <= s.right_margin <= Mm(20)
    for p in d.paragraphs:
        for run in p.runs:
            if run.text.strip():
                assert effective(run, p, d, "name") == "Times New Roman", run.text
                assert Pt(13) <= effective(run, p, d, "size") <= Pt(14), run.text
    cells = {p.text: p for p in heading_cells(d)}
    issuer = cells["UBND XÃ HÒA CƯ"]
    assert issuer.runs[0].bold
    qh = cells["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]
    assert qh.runs[0].bold and Pt(12) <= effective(qh.runs[0], qh, d, "size") <= Pt(13)
    tn = cells["Độc lập - Tự do - Hạnh phúc"]
    assert tn.runs[0].bold and Pt(13) <= effective(tn.runs[0], tn, d, "size") <= Pt(14)
    assert tn._p.pPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pBdr") is not None
    assert f"Số: …/{symbol}" in cells
    date = cells["Hòa Cư, ngày … tháng … năm 2024"]
    assert date.runs[0].italic
    # the issuer's rule is a short bordered paragraph under it, in the same cell
    left = d.tables[0].rows[0].cells[0].paragraphs
    assert any(p._p.pPr is not None and p._p.pPr.find(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pBdr") is not None for p in left[1:])


@pytest.mark.parametrize("name", ["bao_cao_ket_qua", "to_trinh"])
def test_recipients_and_signer(reported, name):
    wd, _ = reported
    d = doc(wd, name)
    sig = d.tables[-1].rows[0].cells
    left = [p for p in sig[0].paragraphs if p.text]
    assert left[0].text == "Nơi nhận:" and left[0].runs[0].bold and left[0].runs[0].italic
    assert left[0].runs[0].font.size == Pt(12)
    assert all(p.runs[0].font.size == Pt(11) for p in left[1:])
    assert left[-1].text == "- Lưu: VT."
    expected = "- Như trên;" if name == "to_trinh" else "- UBND huyện Cao Lộc;"
    assert left[1].text == expected
    right = [p.text for p in sig[1].paragraphs if p.text]
    assert right == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]
    body = "\n".join(p.text for p in d.paragraphs)
    if name == "to_trinh":
        assert "Kính gửi: Chủ tịch UBND xã Hòa Cư." in body
        assert "TỜ TRÌNH" in body


def list_table_rows(wd: Path) -> list[list[str]]:
    t = doc(wd, "danh_sach_de_nghi").tables[1]
    return [[c.text for c in row.cells] for row in t.rows]


def test_list_groups_chosen_by_form_then_kind(reported):
    wd, _ = reported
    rows = list_table_rows(wd)
    assert rows[0][:2] == ["STT", "Họ và tên / Tên tập thể"] and rows[0][3] == "Tóm tắt thành tích"
    t = doc(wd, "danh_sach_de_nghi").tables[1]
    assert t.rows[0]._tr.trPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader") \
        is not None
    flat = [(r[0], r[1]) for r in rows[1:]]
    assert flat == [("A", "GIẤY KHEN CỦA CHỦ TỊCH UBND XÃ"), ("I", "TẬP THỂ"), ("1", "Tập thể mẫu 1"),
                    ("II", "CÁ NHÂN"), ("1", "Người mẫu Số 4"), ("III", "HỘ GIA ĐÌNH"), ("1", "Người mẫu Số 5"),
                    ("B", OTHER_FORM.upper()), ("II", "CÁ NHÂN"), ("1", "Người mẫu Số 2")]
    by_name = {r[1]: r for r in rows}
    assert "tạm ghi theo danh mục" in by_name["Tập thể mẫu 1"][5]           # form left blank: said so
    assert by_name["Tập thể mẫu 1"][4] == "Giấy khen của Chủ tịch UBND xã"
    assert "tạm ghi" not in by_name["Người mẫu Số 2"][5]
    assert by_name["Người mẫu Số 4"][2] == "Chức vụ mẫu"                     # individual: position
    assert by_name["Người mẫu Số 5"][2] == "Thôn mẫu (dữ liệu mẫu)"           # household: address
    assert "Thành tích mẫu" in by_name["Người mẫu Số 4"][3]
    text = all_text(doc(wd, "danh_sach_de_nghi"))
    for name in NOT_LISTED:
        assert name not in "\n".join(r[1] for r in rows), name
    assert "Tổng cộng: 4 điển hình (1 tập thể, 2 cá nhân, 1 hộ gia đình)." in text


def test_list_xlsx_prints_on_a4_with_header_rows(reported):
    wd, _ = reported
    wb = openpyxl.load_workbook(wd / "reports" / "danh_sach_de_nghi_2024.xlsx")
    ws = wb.active
    header = next(r[0].row for r in ws.iter_rows() if r[0].value == "STT")
    assert ws.print_title_rows == f"${header}:${header}"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)  # OOXML default 1
    assert ws.page_setup.fitToHeight == 0
    assert "&P" in ws.oddFooter.center.text
    names = [ws.cell(r, 2).value for r in range(header + 1, ws.max_row + 1)]
    assert set(CHOSEN) <= set(names) and not set(NOT_LISTED) & set(names)
    assert "DỰ THẢO" in (ws.oddHeader.right.text or "")


def test_report_figures_equal_the_master(reported, catalogue):
    wd, _ = reported
    fig = compute(merge.status_picture(catalogue, wd, NOW))
    master = dashboard_rows(wd)
    table = doc(wd, "bao_cao_ket_qua").tables[1]
    in_doc = {int(row.cells[0].text): [c.text for c in row.cells] for row in table.rows[1:]}
    assert set(in_doc) == {i.item for i in fig.nomination_items} == {
        n for n, r in master.items() if r["Đạt chỉ tiêu"]}
    for i in fig.nomination_items:
        m = master[i.item]
        assert len(i.assigned) == m["Số đơn vị được giao"]
        assert len(i.on_time) + len(i.late) == m["Đã nộp"]
        assert i.proposed == m["Số điển hình"]
        assert i.chosen == m["Được chọn"]          # the dashboard counts the officer's choices as the papers do
        assert ("Đạt" if i.quota_met else "Chưa đạt") == m["Đạt chỉ tiêu"]
        assert sorted(i.late) == sorted(x for x in (m["Đơn vị nộp muộn"] or "").split(", ") if x)
        row = in_doc[i.item]
        assert row[2:9] == [str(len(i.assigned)), str(len(i.on_time)), str(len(i.late)),
                            str(len(i.not_submitted)), str(m["Số điển hình"]), str(i.chosen), m["Đạt chỉ tiêu"]]
    items = {i.item: i for i in fig.items}
    assert (items[1].chosen, items[13].chosen, items[2].chosen, items[8].chosen) == (2, 1, 1, 0)
    assert items[2].late == ["Công chức Địa chính – Nông lâm"] and items[1].late == []
    assert items[13].not_chosen == 1 and items[8].undecided == 2
    body = "\n".join(p.text for p in doc(wd, "bao_cao_ket_qua").paragraphs)
    assert f"chưa gửi {len(fig.not_submitted)} đơn vị" in body
    assert "Văn phòng UBND xã" in body.split("Đơn vị chưa gửi:")[1].split("\n")[0]


def test_duty_item_says_what_the_dispatch_asks(reported, catalogue):
    wd, _ = reported
    body = "\n".join(p.text for p in doc(wd, "bao_cao_ket_qua").paragraphs)
    duty = catalogue.assignment("14").duty
    assert f"- Mục 14 (Tuyên truyền các mô hình, điển hình tiên tiến), giao Công chức Văn hóa – Xã hội: {duty}" \
        in body


def test_undecided_make_drafts_and_are_named(reported):
    wd, out = reported
    assert "DỰ THẢO: còn 3 điển hình chưa có kết quả xét chọn" in out
    for name in ("Người mẫu Số 6", "Người mẫu Số 7", "Tập thể mẫu 8"):
        assert name in out.split("DỰ THẢO")[1]
    assert "Không hiểu kết quả xét chọn 'Có' của Tập thể mẫu 8" in out
    assert "Người mẫu Số 9 (Công an xã, Mục 8) được ghi 'Được chọn' nhưng có lỗi – chưa tính: không đưa vào" in out
    for name in ("bao_cao_ket_qua", "to_trinh", "danh_sach_de_nghi"):
        d = doc(wd, name)
        assert d.sections[0].first_page_header.paragraphs[0].text == "DỰ THẢO"
        body = "\n".join(p.text for p in d.paragraphs)
        assert "DỰ THẢO: còn 3 điển hình chưa có kết quả xét chọn: Người mẫu Số 6 (Công chức Địa chính – Nông " \
               "lâm, Mục 2)" in body


def test_all_decided_is_final(decided, tmp_path, catalogue):
    wd = shutil.copytree(decided, tmp_path / "final")
    decide(wd, {"Người mẫu Số 6": "Không chọn", "Người mẫu Số 7": "Không chọn", "Tập thể mẫu 8": "Không chọn"})
    r = run_report(wd)
    assert r.exit_code == 0, r.output
    assert "DỰ THẢO" not in r.output
    for name in ("bao_cao_ket_qua", "to_trinh", "danh_sach_de_nghi"):
        assert "DỰ THẢO" not in all_text(doc(wd, name)), name
    ws = openpyxl.load_workbook(wd / "reports" / "danh_sach_de_nghi_2024.xlsx").active
    assert not (ws.oddHeader.right.text or "")


def test_init_copies_templates_and_report_uses_the_officers_copy(decided, tmp_path):
    wd = shutil.copytree(decided, tmp_path / "own")
    r = CliRunner().invoke(cli.main, ["--dir", str(wd), "init"])
    assert r.exit_code == 0, r.output
    for name in papers.TEMPLATES:
        assert (wd / "templates" / name).read_bytes() == papers.shipped_template(name).read_bytes()
    d = Document(str(wd / "templates" / "to_trinh.docx"))
    p = next(p for p in d.paragraphs if p.text.startswith("Kính trình"))
    p.runs[0].text = "Kính trình ông Chủ tịch {{ co_quan_ten }} xem xét, phê duyệt./."
    d.save(str(wd / "templates" / "to_trinh.docx"))
    r = run_report(wd)
    assert r.exit_code == 0, r.output
    assert "to_trinh.docx" in r.output.split("templates/")[1]
    body = "\n".join(p.text for p in doc(wd, "to_trinh").paragraphs)
    assert "Kính trình ông Chủ tịch UBND xã Hòa Cư xem xét, phê duyệt./." in body


def test_a_wrong_placeholder_is_named_in_vietnamese(decided, tmp_path):
    wd = shutil.copytree(decided, tmp_path / "wrong")
    (wd / "templates").mkdir(exist_ok=True)
    d = Document(str(papers.shipped_template("bao_cao.docx")))
    d.paragraphs[-1].add_run("{{ so_nguoi_du }}")
    d.save(str(wd / "templates" / "bao_cao.docx"))
    r = run_report(wd)
    assert r.exit_code == 5
    assert "bao_cao.docx" in r.output and "'so_nguoi_du'" in r.output and "undefined" not in r.output


def _placeholders(path: Path) -> set[str]:
    """Every name a template uses: variables, loop variables' fields (as 'list.field')."""
    with zipfile.ZipFile(path) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("word/") and n.endswith(".xml"))
    text = re.sub(r"<[^>]+>", "", xml)
    loops = dict(re.findall(r"\{%\w*\s*for (\w+) in (\w+)", text))
    used = set()
    for expr in re.findall(r"\{\{\s*([\w.]+)\s*\}\}", text) + re.findall(r"\{%\w*\s*if ([\w.]+)", text):
        head, _, rest = expr.partition(".")
        used.add(f"{loops[head]}.{rest}" if head in loops else expr)
    return used | set(loops.values())


def test_every_placeholder_is_documented_and_provided(reported, catalogue):
    wd, _ = reported
    doc_text = (ROOT / "docs" / "report_templates.md").read_text(encoding="utf-8")
    ctx = papers.context(catalogue, compute(merge.status_picture(catalogue, wd, NOW)))
    for name in papers.TEMPLATES:
        used = _placeholders(papers.shipped_template(name))
        assert used, name
        for ph in used:
            assert f"`{ph}`" in doc_text, (name, ph)
            head, _, rest = ph.partition(".")
            value = ctx[head]
            if rest:
                assert any(rest in v for v in value) if isinstance(value, list) else rest in value, ph
    documented = set(re.findall(r"^\| `([\w.]+)`", doc_text, re.M))
    for ph in documented:
        head, _, rest = ph.partition(".")
        assert head in ctx, ph


def test_shipped_templates_are_the_scripts_output(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "make_doc_templates.py"), str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for name in papers.TEMPLATES:
        with zipfile.ZipFile(tmp_path / name) as made, zipfile.ZipFile(papers.shipped_template(name)) as shipped:
            for part in ("word/document.xml", "word/styles.xml", "word/header1.xml", "word/header2.xml"):
                assert made.read(part) == shipped.read(part), (name, part)
