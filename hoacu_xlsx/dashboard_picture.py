"""The round at a glance for the commune meeting: one A4 landscape page with a chart.

Drawn without a plotting library: a small workbook holds the figures and a native
column chart (xlsxwriter), and LibreOffice prints it to PDF — the same LibreOffice the
officer already has for the units' workbooks. Where LibreOffice is missing, the workbook
itself stays in reports/ and prints from Excel with the same page setup.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hoacu_xlsx.atomic import remove_quietly, replace_file, temp_name
from hoacu_xlsx.report_figures import RoundFigures

SHEET = "Tổng quan"
MET, NOT_MET = "#70AD47", "#C00000"


@dataclass
class Picture:
    workbook: Path
    pdf: Path | None
    problem: str = ""      # Vietnamese: why there is no PDF


def _axis_step(largest: int) -> int:
    """A whole-number step giving at most ~10 gridlines."""
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if largest / step <= 10:
            return step
    return max(1, largest // 10)


def write_workbook(fig: RoundFigures, issuer: str, dst: Path) -> Path:
    """Figures and chart on one A4 landscape page (temporary file, then one replace)."""
    import xlsxwriter

    items = fig.nomination_items
    tmp = temp_name(dst, keep_suffix=True)
    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_numbers": False})
    base = {"font_name": "Times New Roman", "font_size": 11}
    title = wb.add_format({**base, "bold": True, "font_size": 15})
    sub = wb.add_format({**base, "italic": True})
    head = wb.add_format({**base, "bold": True, "border": 1, "align": "center", "valign": "vcenter",
                          "text_wrap": True, "bg_color": "#F2F2F2"})
    cell = wb.add_format({**base, "border": 1, "align": "center"})
    ok = wb.add_format({**base, "border": 1, "align": "center", "bold": True, "font_color": "#006100"})
    bad = wb.add_format({**base, "border": 1, "align": "center", "bold": True, "font_color": NOT_MET})
    ws = wb.add_worksheet(SHEET)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 6, 12)
    ws.write_string(0, 0, f"KẾT QUẢ XÂY DỰNG ĐIỂN HÌNH TIÊN TIẾN NĂM {fig.year} — {issuer.upper()}", title)
    ws.write_string(1, 0, f"Đơn vị: {fig.units_total} được giao, {len(fig.submitted)} đã gửi ({len(fig.late)} "
                          f"muộn), {len(fig.not_submitted)} chưa gửi. Điển hình được chọn: {len(fig.chosen)}."
                    + (" DỰ THẢO: còn điển hình chưa có kết quả xét chọn." if fig.is_draft else ""), sub)
    top = 25
    headers = ["Mục", "Đơn vị được giao", "Đã gửi", "Điển hình đề xuất", "Được chọn", "Chỉ tiêu"]
    ws.write_row(top, 0, headers, head)
    ws.set_row(top, 30)
    for r, i in enumerate(items, start=top + 1):
        label = f"Mục {i.item} — " + ("đạt" if i.quota_met else "CHƯA ĐẠT")
        ws.write_string(r, 0, label, cell)
        ws.write_row(r, 1, [len(i.assigned), len(i.on_time) + len(i.late), i.proposed, i.chosen], cell)
        ws.write_string(r, 5, "Đạt" if i.quota_met else "Chưa đạt", ok if i.quota_met else bad)
    if items:
        first, last = top + 1, top + len(items)
        chart = wb.add_chart({"type": "column"})
        cats = [SHEET, first, 0, last, 0]
        for col, name, color in ((1, "Đơn vị được giao", "#BFBFBF"), (2, "Đơn vị đã gửi", "#2E75B6")):
            chart.add_series({"name": name, "categories": cats, "values": [SHEET, first, col, last, col],
                              "fill": {"color": color}, "data_labels": {"value": True}})
        chart.add_series({"name": "Điển hình được chọn", "categories": cats,
                          "values": [SHEET, first, 4, last, 4], "data_labels": {"value": True},
                          "points": [{"fill": {"color": MET if i.quota_met else NOT_MET}} for i in items]})
        largest = max([len(i.assigned) for i in items] + [i.chosen for i in items] + [1])
        step = _axis_step(largest)
        chart.set_y_axis({"name": "Số lượng", "min": 0, "max": -(-largest // step) * step + step,
                          "major_unit": step, "num_format": "0", "major_gridlines": {"visible": True}})
        chart.set_x_axis({"num_font": {"rotation": -30}})
        chart.set_title({"name": "Đơn vị được giao, đã gửi và điển hình được chọn theo mục"})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 1000, "height": 440})
        ws.insert_chart(2, 0, chart, {"x_offset": 4, "y_offset": 8})
    ws.write_string(top + len(items) + 2, 0, "Cột “Điển hình được chọn” màu xanh: mục đạt chỉ tiêu; màu đỏ: mục "
                                             "chưa đạt chỉ tiêu (tên mục ghi “CHƯA ĐẠT”).", sub)
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.6, right=0.6, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 1)
    ws.hide_gridlines(2)
    try:
        wb.close()
        replace_file(tmp, dst)
    except BaseException:
        remove_quietly(tmp)
        raise
    return dst


def write(fig: RoundFigures, issuer: str, outdir: Path) -> Picture:
    """reports/tong_quan_<year>.xlsx and, through LibreOffice, reports/tong_quan_<year>.pdf."""
    from hoacu_xlsx import libreoffice

    book = write_workbook(fig, issuer, outdir / f"tong_quan_{fig.year}.xlsx")
    if not libreoffice.available():
        return Picture(book, None, "không có LibreOffice để in ra PDF; mở tệp .xlsx bằng Excel để in")
    try:
        with tempfile.TemporaryDirectory(prefix="hoacu-pdf-") as tmp:
            made = libreoffice.convert(book, "pdf", Path(tmp))
            pdf = outdir / made.name
            shutil.move(str(made), str(pdf))
    except (libreoffice.LibreOfficeError, OSError) as exc:
        return Picture(book, None, f"LibreOffice không in được ra PDF ({exc})")
    return Picture(book, pdf)
