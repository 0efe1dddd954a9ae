"""Build the shipped docxtpl templates of the commune's papers (python-docx).

Run ``python tools/make_doc_templates.py`` after changing this script and commit its output
(``hoacu_xlsx/data/templates/*.docx``). The templates follow Decree 30/2020/NĐ-CP: A4,
margins 20/20/30/15 mm, Times New Roman, the two-column heading (issuing body | Quốc hiệu,
Tiêu ngữ), title, body, "Nơi nhận" and signer blocks. Every Jinja tag sits in one run with
plain formatting, so the templates survive being opened and saved in Word or LibreOffice;
the placeholders are documented in docs/report_templates.md.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

OUT = Path(__file__).resolve().parents[1] / "hoacu_xlsx" / "data" / "templates"
FONT = "Times New Roman"
BODY_PT = 14
CENTER, LEFT, RIGHT, JUSTIFY = (WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.RIGHT,
                                WD_ALIGN_PARAGRAPH.JUSTIFY)
_PPR_AFTER_BORDER = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
                     "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
                     "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
                     "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                     "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


# --------------------------------------------------------------------------- page and styles


def new_document(landscape: bool = False) -> Any:
    """An empty A4 document with Decree 30 margins and Times New Roman as the Normal style."""
    doc = Document()
    s = doc.sections[0]
    s.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    s.page_width, s.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    s.top_margin, s.bottom_margin, s.left_margin, s.right_margin = Mm(20), Mm(20), Mm(30), Mm(15)
    s.header_distance, s.footer_distance = Mm(8), Mm(8)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    rfonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), FONT)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(theme), None)
    pf = normal.paragraph_format
    pf.space_before, pf.space_after, pf.line_spacing = Pt(0), Pt(6), 1.0
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "vi-VN")
    normal.element.get_or_add_rPr().append(lang)
    doc.core_properties.author = "hoacu-xlsx"
    doc.core_properties.language = "vi-VN"
    return doc


def text_width(doc: Any) -> int:
    s = doc.sections[0]
    return s.page_width - s.left_margin - s.right_margin


def para(container: Any, text: str = "", *, size: float | None = None, bold: bool = False, italic: bool = False,
         align: Any = None, first_line: float | None = None, after: float | None = None,
         keep_next: bool = False) -> Any:
    """One paragraph with one run: Jinja tags inside stay whole."""
    p = container.add_paragraph()
    if text:
        r = p.add_run(text)
        r.bold, r.italic = bold or None, italic or None
        if size:
            r.font.size = Pt(size)
    pf = p.paragraph_format
    if align is not None:
        pf.alignment = align
    if first_line is not None:
        pf.first_line_indent = Mm(first_line)
    if after is not None:
        pf.space_after = Pt(after)
    if keep_next:
        pf.keep_with_next = True
    return p


def rule_under(p: Any, indent_mm: float = 0) -> Any:
    """A rule under the paragraph (its bottom border), shortened by equal indents both sides."""
    pPr = p._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "auto")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    pPr.insert_element_before(bdr, *_PPR_AFTER_BORDER)
    if indent_mm:
        p.paragraph_format.left_indent = p.paragraph_format.right_indent = Mm(indent_mm)
    return p


def short_rule(container: Any, indent_mm: float) -> Any:
    """An empty, tight paragraph that only draws a short centred rule."""
    p = para(container, after=4, size=2)
    r = p.add_run("")
    r.font.size = Pt(2)
    p.paragraph_format.line_spacing = Pt(3)
    return rule_under(p, indent_mm)


def page_field(p: Any) -> None:
    r = p.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        r._r.append(el)


def headers(doc: Any, page_numbers: bool) -> None:
    """The draft mark on every page (top right); page numbers top centre from page 2 (Decree 30)."""
    s = doc.sections[0]
    s.different_first_page_header_footer = True
    for hdr in (s.first_page_header, s.header):
        p = hdr.paragraphs[0]
        p.alignment = RIGHT
        r = p.add_run("{{ du_thao }}")
        r.bold = True
        r.font.size = Pt(12)
    if page_numbers:
        p = s.header.add_paragraph()
        p.alignment = CENTER
        page_field(p)


# --------------------------------------------------------------------------- tables


def new_table(doc: Any, rows: int, widths_mm: list[float], grid: bool = False) -> Any:
    """A fixed-layout table: widths on the grid (LibreOffice reads these) and on every cell (Word)."""
    t = doc.add_table(rows=rows, cols=len(widths_mm))
    if grid:
        t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    t._tbl.tblPr.append(layout)
    for col, w in zip(t.columns, widths_mm):
        col.width = Mm(w)
    for row in t.rows:
        for cell, w in zip(row.cells, widths_mm):
            cell.width = Mm(w)
    return t


def borderless_table(doc: Any, rows: int, widths_mm: list[float]) -> Any:
    return new_table(doc, rows, widths_mm)


def cell_para(cell: Any, text: str = "", **kw: Any) -> Any:
    """Write into a cell: the first (empty) paragraph, then new ones."""
    first = cell.paragraphs[0]
    if len(cell.paragraphs) == 1 and not first.text:
        p = first
        if text:
            r = p.add_run(text)
            r.bold, r.italic = kw.get("bold") or None, kw.get("italic") or None
            if kw.get("size"):
                r.font.size = Pt(kw["size"])
        if kw.get("keep_next"):
            p.paragraph_format.keep_with_next = True
        if kw.get("align") is not None:
            p.paragraph_format.alignment = kw["align"]
        p.paragraph_format.space_after = Pt(kw.get("after", 0))
        return p
    kw.setdefault("after", 0)
    return para(cell, text, **kw)


def _on(tag: str) -> Any:
    el = OxmlElement(tag)
    el.set(qn("w:val"), "true")
    return el


def mark_header_row(row: Any) -> None:
    """Repeat the row at the top of every page (w:tblHeader) and keep it whole."""
    trPr = row._tr.get_or_add_trPr()
    for tag in ("w:cantSplit", "w:tblHeader"):
        trPr.append(_on(tag))


def shade(cell: Any, fill: str) -> None:
    tcPr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    for k, v in (("w:val", "clear"), ("w:color", "auto"), ("w:fill", fill)):
        shd.set(qn(k), v)
    tcPr.append(shd)


# --------------------------------------------------------------------------- common blocks


def heading(doc: Any, symbol: str) -> None:
    """Decree 30 heading: issuing body and number (left), Quốc hiệu, Tiêu ngữ, place and date (right)."""
    width = text_width(doc) / 36000  # EMU -> mm
    left = 62.0
    right = width - left
    t = borderless_table(doc, 2, [left, right])
    c = t.rows[0].cells
    cell_para(c[0], "{{ co_quan }}", bold=True, size=13, align=CENTER)
    short_rule(c[0], left * 0.33)
    cell_para(c[1], "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=12.5, align=CENTER)
    tieu_ngu = cell_para(c[1], "Độc lập - Tự do - Hạnh phúc", bold=True, size=13.5, align=CENTER)
    rule_under(tieu_ngu, max(2.0, (right - 70) / 2))
    c = t.rows[1].cells
    cell_para(c[0], f"Số: …/{symbol}", size=13, align=CENTER)
    cell_para(c[1], "{{ dia_danh }}, ngày … tháng … năm {{ nam }}", italic=True, size=14, align=CENTER)
    para(doc, after=0)


def title(doc: Any, name: str, summary: str) -> None:
    para(doc, name, bold=True, align=CENTER, after=0, keep_next=True)
    para(doc, summary, bold=True, align=CENTER, after=0, keep_next=True)
    short_rule(doc, text_width(doc) / 36000 * 0.4)
    para(doc, after=0)


def body(doc: Any, text: str, *, bold: bool = False, italic: bool = False) -> Any:
    return para(doc, text, bold=bold, italic=italic, align=JUSTIFY, first_line=10)


def signature(doc: Any, recipients: list[str]) -> None:
    """'Nơi nhận' bottom left (12 pt bold italic, then 11 pt lines), signer block bottom right."""
    width = text_width(doc) / 36000
    para(doc, after=0)
    t = borderless_table(doc, 1, [width * 0.48, width * 0.52])
    left, right = t.rows[0].cells
    cell_para(left, "Nơi nhận:", bold=True, italic=True, size=12)
    for line in recipients:
        cell_para(left, line, size=11)
    cell_para(right, "{{ nguoi_ky.quyen_han }}", bold=True, size=14, align=CENTER)
    cell_para(right, "{{ nguoi_ky.chuc_vu }}", bold=True, size=14, align=CENTER)
    for _ in range(4):
        cell_para(right, "", align=CENTER)
    cell_para(right, "{{ nguoi_ky.ho_ten }}", bold=True, size=14, align=CENTER)


def draft_paragraph(doc: Any, text: str) -> None:
    """A paragraph that only appears in drafts ({%p if du_thao %})."""
    para(doc, "{%p if du_thao %}", after=0)
    body(doc, text, italic=True)
    para(doc, "{%p endif %}", after=0)


# --------------------------------------------------------------------------- the three papers


def bao_cao() -> Any:
    doc = new_document()
    headers(doc, page_numbers=True)
    heading(doc, "BC-UBND")
    title(doc, "BÁO CÁO", "Kết quả xây dựng, nhân rộng điển hình tiên tiến năm {{ nam }}")
    body(doc, "Thực hiện {{ cong_van }}, {{ co_quan_ten }} báo cáo kết quả xây dựng, nhân rộng các mô hình, "
              "điển hình tiên tiến năm {{ nam }} như sau:")
    body(doc, "I. KẾT QUẢ THỰC HIỆN", bold=True)
    body(doc, "1. Tình hình gửi đề xuất", bold=True)
    body(doc, "Có {{ tong.don_vi }} cơ quan, đơn vị được giao xây dựng, đề xuất điển hình tiên tiến; "
              "đã gửi đề xuất {{ tong.da_nop }} đơn vị ({{ tong.dung_han }} đơn vị đúng hạn, {{ tong.nop_muon }} "
              "đơn vị gửi muộn), chưa gửi {{ tong.chua_nop }} đơn vị.")
    body(doc, "Đơn vị gửi muộn: {{ ds_nop_muon }}.")
    body(doc, "Đơn vị chưa gửi: {{ ds_chua_nop }}.")
    body(doc, "2. Kết quả theo từng phong trào thi đua, lĩnh vực", bold=True)
    figures_table(doc)
    body(doc, "Tổng số điển hình được đề xuất: {{ tong.de_xuat }}; được chọn: {{ tong.duoc_chon }}. "
              "Số mục đạt chỉ tiêu: {{ tong.muc_dat }}/{{ tong.muc }}; mục chưa đạt chỉ tiêu: {{ ds_chua_dat }}.")
    para(doc, "{%p for m in muc %}", after=0)
    body(doc, "- Mục {{ m.muc }}: {{ m.nhan_xet }}")
    para(doc, "{%p endfor %}", after=0)
    body(doc, "3. Nhiệm vụ tuyên truyền, nhân rộng", bold=True)
    para(doc, "{%p for n in nhiem_vu %}", after=0)
    body(doc, "- Mục {{ n.muc }} ({{ n.ten }}), giao {{ n.don_vi }}: {{ n.nhiem_vu }}")
    body(doc, "Kết quả thực hiện: …")
    para(doc, "{%p endfor %}", after=0)
    body(doc, "II. ĐỀ NGHỊ TÔN VINH, KHEN THƯỞNG", bold=True)
    body(doc, "Qua xét chọn, {{ co_quan_ten }} đề nghị tôn vinh, khen thưởng {{ tong.duoc_chon }} điển hình "
              "tiên tiến, gồm {{ tong.chon_tap_the }} tập thể, {{ tong.chon_ca_nhan }} cá nhân và "
              "{{ tong.chon_ho }} hộ gia đình (có danh sách kèm theo), cụ thể:")
    para(doc, "{%p for h in hinh_thuc %}", after=0)
    body(doc, "- {{ h.ten }}: {{ h.mo_ta }}.")
    para(doc, "{%p endfor %}", after=0)
    draft_paragraph(doc, "DỰ THẢO: còn {{ so_chua_quyet }} điển hình chưa có kết quả xét chọn: {{ ds_chua_quyet }}.")
    body(doc, "III. PHƯƠNG HƯỚNG, NHIỆM VỤ", bold=True)
    body(doc, "Tiếp tục xây dựng, nhân rộng các mô hình, điển hình tiên tiến giai đoạn {{ giai_doan }}; tuyên "
              "truyền, biểu dương các điển hình được tôn vinh để cán bộ, đảng viên và Nhân dân học tập, làm theo.")
    body(doc, "Trên đây là báo cáo kết quả xây dựng, nhân rộng điển hình tiên tiến năm {{ nam }} của "
              "{{ co_quan_ten }}./.")
    signature(doc, ["- {{ gui_den }};", "- Lưu: VT."])
    return doc


FIGURE_COLUMNS = [("Mục", 13), ("Phong trào thi đua, lĩnh vực", 42), ("Đơn vị được giao", 15),
                  ("Gửi đúng hạn", 15), ("Gửi muộn", 14), ("Chưa gửi", 14), ("Điển hình đề xuất", 17),
                  ("Được chọn", 15), ("Chỉ tiêu", 20)]
FIGURE_FIELDS = ["m.muc", "m.ten", "m.giao", "m.dung_han", "m.muon", "m.chua_nop", "m.de_xuat", "m.duoc_chon",
                 "m.chi_tieu"]


def figures_table(doc: Any) -> None:
    t = new_table(doc, 4, [w for _, w in FIGURE_COLUMNS], grid=True)
    mark_header_row(t.rows[0])
    for cell, (label, _) in zip(t.rows[0].cells, FIGURE_COLUMNS):
        cell_para(cell, label, bold=True, size=12, align=CENTER)
        shade(cell, "F2F2F2")
    cell_para(t.rows[1].cells[0], "{%tr for m in muc %}", size=12)
    for cell, key in zip(t.rows[2].cells, FIGURE_FIELDS):
        cell_para(cell, "{{ " + key + " }}", size=12, align=LEFT if key == "m.ten" else CENTER)
    cell_para(t.rows[3].cells[0], "{%tr endfor %}", size=12)
    para(doc, after=0)


def to_trinh() -> Any:
    doc = new_document()
    headers(doc, page_numbers=True)
    heading(doc, "TTr-UBND")
    title(doc, "TỜ TRÌNH", "Về việc đề nghị tôn vinh, khen thưởng điển hình tiên tiến năm {{ nam }}")
    para(doc, "Kính gửi: {{ kinh_gui }}.", align=CENTER, after=12)
    body(doc, "Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022;", italic=True)
    body(doc, "Căn cứ Nghị định số 98/2023/NĐ-CP ngày 31 tháng 12 năm 2023 của Chính phủ quy định chi tiết thi "
              "hành một số điều của Luật Thi đua, khen thưởng;", italic=True)
    body(doc, "Căn cứ {{ cong_van }};", italic=True)
    body(doc, "Căn cứ kết quả xét chọn điển hình tiên tiến năm {{ nam }} của các cơ quan, đơn vị,", italic=True)
    body(doc, "{{ co_quan_ten }} kính trình {{ kinh_gui }} xem xét, tôn vinh, khen thưởng {{ tong.duoc_chon }} "
              "điển hình tiên tiến năm {{ nam }}, gồm {{ tong.chon_tap_the }} tập thể, {{ tong.chon_ca_nhan }} "
              "cá nhân và {{ tong.chon_ho }} hộ gia đình, cụ thể:")
    para(doc, "{%p for h in hinh_thuc %}", after=0)
    body(doc, "- {{ h.ten }}: {{ h.mo_ta }}.")
    para(doc, "{%p endfor %}", after=0)
    body(doc, "(Có danh sách kèm theo)", italic=True)
    draft_paragraph(doc, "DỰ THẢO: còn {{ so_chua_quyet }} điển hình chưa có kết quả xét chọn: {{ ds_chua_quyet }}.")
    body(doc, "Kính trình {{ kinh_gui }} xem xét, quyết định./.")
    signature(doc, ["- Như trên;", "- Lưu: VT."])
    return doc


LIST_COLUMNS = [("STT", 13), ("Họ và tên / Tên tập thể", 45), ("Chức vụ – Đơn vị (địa chỉ với hộ gia đình)", 42),
                ("Tóm tắt thành tích", 75), ("Hình thức đề nghị", 32), ("Ghi chú", 45)]
LIST_FIELDS = ["r.stt", "r.ten", "r.chuc_vu_don_vi", "r.thanh_tich", "r.hinh_thuc", "r.ghi_chu"]


def danh_sach() -> Any:
    doc = new_document(landscape=True)
    headers(doc, page_numbers=False)
    s = doc.sections[0]
    s.first_page_footer.paragraphs[0].alignment = CENTER
    page_field(s.first_page_footer.paragraphs[0])
    s.footer.paragraphs[0].alignment = CENTER
    page_field(s.footer.paragraphs[0])
    heading(doc, "TTr-UBND")
    para(doc, "DANH SÁCH ĐỀ NGHỊ TÔN VINH, KHEN THƯỞNG", bold=True, align=CENTER, after=0)
    para(doc, "Điển hình tiên tiến năm {{ nam }}", bold=True, align=CENTER, after=0)
    para(doc, "(Kèm theo Tờ trình số …/TTr-UBND ngày … tháng … năm {{ nam }} của {{ co_quan_ten }})", italic=True,
         align=CENTER, after=8)
    t = new_table(doc, 8, [w for _, w in LIST_COLUMNS], grid=True)
    mark_header_row(t.rows[0])
    for cell, (label, _) in zip(t.rows[0].cells, LIST_COLUMNS):
        cell_para(cell, label, bold=True, size=13, align=CENTER)
        shade(cell, "F2F2F2")
    control = {1: "{%tr for r in dong %}", 2: "{%tr if r.tieu_de %}", 4: "{%tr else %}", 6: "{%tr endif %}",
               7: "{%tr endfor %}"}
    for i, tag in control.items():
        cell_para(t.rows[i].cells[0], tag, size=13)
    # a group heading row: "A"/"I" in the STT column, the heading across the other columns
    head = t.rows[3].cells
    merged = head[1].merge(head[-1])
    cell_para(head[0], "{{ r.stt }}", bold=True, size=13, align=CENTER, keep_next=True)
    cell_para(merged, "{{ r.ten }}", bold=True, size=13, keep_next=True)
    t.rows[3]._tr.get_or_add_trPr().append(_on("w:cantSplit"))
    for cell, key in zip(t.rows[5].cells, LIST_FIELDS):
        cell_para(cell, "{{ " + key + " }}", size=13, align=CENTER if key in ("r.stt", "r.hinh_thuc") else LEFT)
    para(doc, after=0)
    body(doc, "Tổng cộng: {{ tong.duoc_chon }} điển hình ({{ tong.chon_tap_the }} tập thể, {{ tong.chon_ca_nhan }} "
              "cá nhân, {{ tong.chon_ho }} hộ gia đình).")
    draft_paragraph(doc, "DỰ THẢO: còn {{ so_chua_quyet }} điển hình chưa có kết quả xét chọn: {{ ds_chua_quyet }}.")
    return doc


BUILDERS = {"bao_cao.docx": bao_cao, "to_trinh.docx": to_trinh, "danh_sach.docx": danh_sach}


def main(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in BUILDERS.items():
        path = out / name
        build().save(str(path))
        written.append(path)
    return written


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(p)
