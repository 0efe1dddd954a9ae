"""The look of the nomination workbooks, taken from ``templates/nomination_template.xlsx``.

The template is a small sample sheet the officer may restyle in Excel or LibreOffice
(fonts, colours, borders, column widths, the wording of the header lines). The builder
reads each role's cell once per ``generate`` and writes every workbook with xlsxwriter
in those styles — far faster than loading and saving the template per unit.

Roles sit at fixed cells of the first sheet (see ``ROLE_CELLS``); the second sheet of
the template explains them in Vietnamese.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from hoacu_xlsx.xlsx_style import format_properties

TEMPLATE_RELPATH = Path("templates") / "nomination_template.xlsx"

# role -> (cell on the template's first sheet, default text)
ROLE_CELLS: dict[str, tuple[str, str]] = {
    "org": ("A1", "{co_quan}"),
    "national": ("H1", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    "unit": ("A2", "{don_vi}"),
    "motto": ("H2", "Độc lập - Tự do - Hạnh phúc"),
    "title": ("A4", "DANH SÁCH ĐỀ XUẤT ĐIỂN HÌNH TIÊN TIẾN NĂM {nam}"),
    "subtitle": ("A5", "{muc}"),
    "label": ("A7", "Người lập biểu:"),
    "input_box": ("C7", ""),
    "status": ("A8", "Tình trạng tự kiểm tra"),
    "header": ("A10", "STT"),
    "stt": ("A11", "1"),
    "input": ("B11", ""),
    "criterion": ("K11", ""),
    "check": ("Q11", ""),
    "missing": ("A13", "Ô bắt buộc còn trống"),
    "not_applicable": ("A14", "Tiêu chí không áp dụng"),
    "recommended": ("A15", "Ô nên điền còn trống"),
    "heading": ("A16", "Tiêu đề mục trong trang Hướng dẫn"),
    "body": ("A17", "Nội dung trang Hướng dẫn"),
}
# Template columns whose widths set the entry sheet's column widths, by role.
WIDTH_COLUMNS: dict[str, str] = {
    "stt": "A", "loai_dien_hinh": "B", "ten": "C", "gioi_tinh": "D", "nam_sinh": "E",
    "dan_toc": "F", "chuc_vu_don_vi": "G", "dia_chi": "H", "mo_hinh": "I", "thanh_tich": "J",
    "criterion": "K", "can_bo_theo_doi": "L", "hinh_thuc_tuyen_truyen": "M",
    "tai_lieu_kinh_nghiem": "N", "dien_thoai": "O", "ghi_chu": "P", "check": "Q",
}
HEADER_ROW = 10

# Built-in look, used to write the default template (and when a role cell is blank).
DEFAULT_FORMATS: dict[str, dict[str, Any]] = {
    "org": {"font_name": "Times New Roman", "font_size": 12, "align": "center", "valign": "vcenter"},
    "national": {"font_name": "Times New Roman", "font_size": 12, "bold": True, "align": "center"},
    "unit": {"font_name": "Times New Roman", "font_size": 12, "bold": True, "align": "center"},
    "motto": {"font_name": "Times New Roman", "font_size": 13, "bold": True, "underline": 1, "align": "center"},
    "title": {"font_name": "Times New Roman", "font_size": 14, "bold": True, "align": "center",
              "font_color": "#C00000"},
    "subtitle": {"font_name": "Times New Roman", "font_size": 12, "bold": True, "italic": True,
                 "align": "center", "text_wrap": True, "valign": "vcenter"},
    "label": {"font_name": "Times New Roman", "font_size": 11, "bold": True, "align": "right"},
    "input_box": {"font_name": "Times New Roman", "font_size": 11, "bg_color": "#FFF9E0", "border": 1},
    "status": {"font_name": "Times New Roman", "font_size": 12, "bold": True, "font_color": "#1F4E79"},
    "header": {"font_name": "Times New Roman", "font_size": 11, "bold": True, "align": "center",
               "valign": "vcenter", "text_wrap": True, "border": 1, "bg_color": "#DDEBF7"},
    "stt": {"font_name": "Times New Roman", "font_size": 11, "align": "center", "border": 1,
            "bg_color": "#F2F2F2"},
    "input": {"font_name": "Times New Roman", "font_size": 11, "border": 1, "valign": "top",
              "text_wrap": True, "bg_color": "#FFFFFF"},
    "criterion": {"font_name": "Times New Roman", "font_size": 11, "border": 1, "align": "center",
                  "valign": "top", "bg_color": "#FFFFFF"},
    "check": {"font_name": "Times New Roman", "font_size": 11, "italic": True, "border": 1,
              "bg_color": "#F2F2F2", "font_color": "#7F7F7F"},
    "missing": {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
    "not_applicable": {"bg_color": "#D9D9D9", "font_color": "#808080", "pattern": 1},
    "recommended": {"bg_color": "#FFF2CC"},
    "heading": {"font_name": "Times New Roman", "font_size": 12, "bold": True, "font_color": "#1F4E79"},
    "body": {"font_name": "Times New Roman", "font_size": 11, "text_wrap": True, "valign": "top"},
}
DEFAULT_WIDTHS: dict[str, float] = {  # narrow enough to print on A4 landscape in 3–4 bands at >= 8 pt
    "stt": 5, "loai_dien_hinh": 16, "ten": 24, "gioi_tinh": 8, "nam_sinh": 8, "dan_toc": 10,
    "chuc_vu_don_vi": 20, "dia_chi": 14, "mo_hinh": 24, "thanh_tich": 30, "criterion": 12,
    "can_bo_theo_doi": 18, "hinh_thuc_tuyen_truyen": 20, "tai_lieu_kinh_nghiem": 12,
    "dien_thoai": 12, "ghi_chu": 18, "check": 12,
}
DEFAULT_HEADER_HEIGHT = 66.0


@dataclass
class Style:
    """What the builder takes from the template: per-role formats, texts, widths."""

    formats: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: dict(v) for k, v in DEFAULT_FORMATS.items()})
    texts: dict[str, str] = field(default_factory=lambda: {k: v[1] for k, v in ROLE_CELLS.items()})
    widths: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WIDTHS))
    header_height: float = DEFAULT_HEADER_HEIGHT
    source: str = "mặc định"


def write_default_template(path: Path) -> Path:
    """Write the built-in template (the file shipped in ``templates/``)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Mẫu")
    for role, (cell, text) in ROLE_CELLS.items():
        fmt = wb.add_format(DEFAULT_FORMATS[role])
        if role == "stt":
            ws.write_number(cell, 1, fmt)
        else:
            ws.write_string(cell, text, fmt) if text else ws.write_blank(cell, None, fmt)
    for key, col in WIDTH_COLUMNS.items():
        ws.set_column(f"{col}:{col}", DEFAULT_WIDTHS[key])
        if key not in ("stt",):
            ws.write_string(f"{col}{HEADER_ROW}", _width_label(key), wb.add_format(DEFAULT_FORMATS["header"]))
    ws.set_row(HEADER_ROW - 1, DEFAULT_HEADER_HEIGHT)
    notes = wb.add_worksheet("Giải thích")
    body = wb.add_format({"text_wrap": True, "valign": "top"})
    notes.set_column("A:A", 100)
    lines = [
        "MẪU TRÌNH BÀY SỔ ĐỀ XUẤT ĐIỂN HÌNH TIÊN TIẾN",
        "Sửa phông chữ, cỡ chữ, màu, viền, độ rộng cột ở trang 'Mẫu' rồi lưu lại (giữ định dạng .xlsx). "
        "Lần chạy 'hoacu-xlsx generate' sau sẽ dùng kiểu trình bày này cho mọi sổ.",
        "Không chuyển các ô sang vị trí khác: mỗi ô mẫu giữ vai trò cố định:",
    ]
    lines += [f"  {cell}: {_ROLE_HELP[role]}" for role, (cell, _) in ROLE_CELLS.items()]
    lines += [
        "Hàng 10: độ rộng từng cột (A: STT, B: Loại điển hình, C: Tên, ..., K: các cột tiêu chí, Q: Tự kiểm tra) "
        "và chiều cao hàng tiêu đề bảng.",
        "Có thể dùng các chỗ thay thế: {co_quan} (tên cơ quan ban hành, chữ in hoa), {don_vi} (tên đơn vị), "
        "{nam} (năm), {muc} (tên mục nhiệm vụ).",
    ]
    for i, line in enumerate(lines):
        notes.write_string(i, 0, line, body)
    wb.close()
    return path


_ROLE_HELP = {
    "org": "dòng tên cơ quan (góc trái, hàng 1)",
    "national": "Quốc hiệu (góc phải, hàng 1)",
    "unit": "tên đơn vị (góc trái, hàng 2)",
    "motto": "Tiêu ngữ (góc phải, hàng 2)",
    "title": "tiêu đề sổ",
    "subtitle": "tên mục nhiệm vụ dưới tiêu đề",
    "label": "nhãn (Người lập biểu, Chức vụ, ...)",
    "input_box": "ô nhập thông tin người lập biểu",
    "status": "ô tình trạng tự kiểm tra",
    "header": "ô tiêu đề cột của bảng",
    "stt": "ô số thứ tự",
    "input": "ô nhập dữ liệu của bảng",
    "criterion": "ô chọn Đạt/Chưa đạt của tiêu chí",
    "check": "ô 'Tự kiểm tra' cuối mỗi dòng",
    "missing": "màu tô ô bắt buộc còn trống",
    "not_applicable": "màu tô tiêu chí không áp dụng cho loại điển hình của dòng",
    "recommended": "màu tô ô nên điền còn trống",
    "heading": "tiêu đề các phần trong trang Hướng dẫn",
    "body": "chữ nội dung trong trang Hướng dẫn",
}


def _width_label(key: str) -> str:
    from hoacu_xlsx import fields

    if key == "criterion":
        return "TC (tiêu chí)"
    if key == "check":
        return fields.CHECK_HEADER
    for f in (*fields.HEAD_FIELDS, *fields.TAIL_FIELDS):
        if f.key == key:
            return f.header
    return key


def load_style(path: Path | None) -> Style:
    """Read the template's role cells into xlsxwriter format dicts (defaults if no file)."""
    style = Style()
    if path is None or not path.exists():
        return style
    from openpyxl import load_workbook

    wb = load_workbook(path)  # the officer's own file: trusted, and openpyxl uses defusedxml
    ws = wb.worksheets[0]
    style.source = str(path)
    for role, (ref, _default) in ROLE_CELLS.items():
        cell = ws[ref]
        fmt = format_properties(cell)
        if role in _FILL_ROLES and "bg_color" not in fmt:
            fmt = {}  # a highlight without a fill would hide the warning: keep the built-in colour
        if fmt:
            style.formats[role] = {**DEFAULT_FORMATS[role], **fmt} if not _has_font(cell) else fmt
        if role not in ("stt", "input", "criterion", "check", "input_box") and isinstance(cell.value, str):
            style.texts[role] = cell.value
    for key, col in WIDTH_COLUMNS.items():
        dim = ws.column_dimensions.get(col)
        if dim is not None and dim.width:
            style.widths[key] = float(dim.width)
    rd = ws.row_dimensions.get(HEADER_ROW)
    if rd is not None and rd.height:
        style.header_height = float(rd.height)
    wb.close()
    return style


_FILL_ROLES = ("missing", "not_applicable", "recommended")


def _has_font(cell: Any) -> bool:
    return bool(cell.font and cell.font.name)


def find_template(workdir: Path, explicit: str | Path | None = None) -> Path | None:
    """The template to use: --template, else the working folder's, else none (built-in look)."""
    if explicit:
        return Path(explicit)
    local = workdir / TEMPLATE_RELPATH
    return local if local.exists() else None
