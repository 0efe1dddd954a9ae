"""The catalogue workbook ``danh_muc.xlsx``: the round as the officer edits it in Excel.

XLSForm's lesson: a form definition an officer can edit is a spreadsheet. This module
writes the catalogue as a workbook (xlsxwriter: dropdowns, input messages, frozen
headers, A4 print settings) and reads it back (python-calamine) into the SAME dict
shape the TOML parser takes, so :func:`hoacu_xlsx.catalogue.parse` stays the one model.
Reading reports every mistake at once, pyxform style: ``[Đơn vị, dòng 7] …``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hoacu_xlsx import messages as T
from hoacu_xlsx.atomic import write_atomically
from hoacu_xlsx.catalogue import (KINDS, VILLAGE_KIND, Catalogue, CatalogueError,
                                  CatalogueProblem, is_village_kind)
from hoacu_xlsx.normalize import fold_key

GUIDE, ROUND, UNITS, ITEMS, KINDS_SHEET, CRITERIA, LISTS = (
    "Hướng dẫn", "Đợt", "Đơn vị", "Nhiệm vụ", "Loại điển hình", "Tiêu chí", "Danh sách")
REQUIRED_SHEETS = (ROUND, UNITS, ITEMS, KINDS_SHEET, CRITERIA)

ALL_VILLAGES = "tất cả các thôn"           # in "Đơn vị được giao": the item goes to every village
SCOPES = {"joint": "Chung cho các đơn vị được giao", "each": "Riêng mỗi đơn vị"}
BASE_LABELS = {"tap_the": "Tập thể", "ca_nhan": "Cá nhân", "ho_gia_dinh": "Hộ gia đình"}
YES, NO = "Có", "Không"
UNIT_KINDS = ("Cơ quan Đảng", "Cơ quan chính quyền", "Công chức chuyên môn UBND xã", "Mặt trận, đoàn thể",
              "Đơn vị sự nghiệp", "Trường học", "Lực lượng vũ trang", VILLAGE_KIND)
MAX_ROWS = 500                              # rows the dropdowns and checks cover


@dataclass(frozen=True)
class Col:
    """One column of a table sheet: dict key, Vietnamese header, width, whether it must be filled."""

    key: str
    header: str
    width: float
    required: bool = False
    wrap: bool = False
    hint: str = ""


UNIT_COLS = (
    Col("id", "Mã đơn vị", 24, True, hint="Chữ thường không dấu, số, dấu gạch dưới (ví dụ: cong_an). Dùng trong tên "
        "tệp gửi đơn vị. Không đổi mã của đơn vị đã nhận sổ. Thôn để trống thì tự đặt theo tên."),
    Col("name", "Tên đầy đủ", 40, True, True, "Tên in trong sổ đề xuất, ví dụ: Công an xã."),
    Col("short_name", "Tên ngắn", 20, hint="Tên gọi ngắn (không bắt buộc)."),
    Col("kind", "Loại đơn vị", 28, True, hint="Chọn trong danh sách (trang Danh sách). Thôn: chọn 'Thôn'."),
    Col("email", "Thư điện tử", 30, hint="Địa chỉ thư của đơn vị (để gửi sổ và thư nhắc)."),
    Col("contact", "Người liên hệ", 26, hint="Họ tên, điện thoại người phụ trách ở đơn vị."),
)
ITEM_COLS = (
    Col("item", "Mục", 7, True, hint="Số mục theo công văn (số nguyên, không trùng)."),
    Col("id", "Mã nhiệm vụ", 12, hint="Để trống thì lấy số mục. Không đổi mã khi đã gửi sổ."),
    Col("kind", "Loại", 20, True, hint="Phong trào thi đua, Cuộc vận động, Lĩnh vực hoặc Nhiệm vụ (không đề xuất)."),
    Col("title", "Tên phong trào, cuộc vận động, lĩnh vực", 48, True, True),
    Col("assignees", "Đơn vị được giao", 30, True, True, "Mã đơn vị (trang Đơn vị), nhiều đơn vị cách nhau dấu phẩy; "
        f"ghi '{ALL_VILLAGES}' để giao cho mọi thôn."),
    Col("quota", "Chỉ tiêu tối thiểu", 11, hint="Số điển hình tối thiểu (để trống: 1)."),
    Col("quota_scope", "Cách tính chỉ tiêu", 24, hint="Chung cho các đơn vị được giao, hoặc riêng mỗi đơn vị."),
    Col("nominations", "Đề xuất điển hình", 12,
        hint="Có: đơn vị nhận sổ đề xuất. Không: nhiệm vụ khác (tuyên truyền…)."),
    Col("note", "Ghi chú", 36, wrap=True),
    Col("duty", "Nội dung nhiệm vụ (mục không đề xuất)", 48, wrap=True),
)
KIND_COLS = (
    Col("item", "Mục", 7, True, hint="Số mục trong trang Nhiệm vụ."),
    Col("id", "Mã loại", 16, True, hint="Chữ thường không dấu, số, gạch dưới; không trùng trong một mục."),
    Col("label", "Tên loại (hiện trong sổ)", 38, True, True, "Ví dụ: Cá nhân (nông dân)."),
    Col("base", "Thuộc nhóm", 16, True, hint="Tập thể, Cá nhân hoặc Hộ gia đình: quyết định các cột phải điền."),
)
CRITERIA_COLS = (
    Col("item", "Mục", 7, True, hint="Số mục trong trang Nhiệm vụ."),
    Col("number", "Số", 6, hint="Số tiêu chí trong mục (để trống: số tiếp theo). Không đổi số khi đã gửi sổ."),
    Col("applies_to", "Áp dụng cho (mã loại)", 24, True, True, "Mã loại điển hình (trang Loại điển hình) của mục "
        "này, nhiều loại cách nhau dấu phẩy."),
    Col("text", "Nội dung tiêu chí (trích nguyên văn công văn)", 70, True, True),
    Col("short", "Tiêu đề ngắn (tiêu đề cột trong sổ)", 36, wrap=True, hint="Để trống thì lấy phần đầu nội dung."),
)
LIST_COLS = (
    Col("honour_forms", "Hình thức tôn vinh", 40, wrap=True, hint="Danh sách chọn trong sổ tổng hợp."),
    Col("review_results", "Kết quả xét chọn", 24, hint="Danh sách chọn trong sổ tổng hợp."),
    Col("unit_kinds", "Loại đơn vị", 32, hint="Danh sách chọn ở cột Loại đơn vị (trang Đơn vị)."),
)
TABLES = {UNITS: UNIT_COLS, ITEMS: ITEM_COLS, KINDS_SHEET: KIND_COLS, CRITERIA: CRITERIA_COLS, LISTS: LIST_COLS}


@dataclass(frozen=True)
class RoundField:
    """One row of the ``Đợt`` sheet: dict path ('receiver.name'), label, type, whether it must be filled."""

    path: str
    label: str
    typ: str = "text"      # text | int | date | number | choice
    required: bool = False
    hint: str = ""
    choices: tuple[str, ...] = ()


_SEC = ("starttls", "ssl", "none")
ROUND_FIELDS = (
    RoundField("year", "Năm", "int", True, "Năm của đợt (ví dụ 2026). Có trong tên tệp và sổ tổng hợp."),
    RoundField("dispatch_number", "Số công văn", hint="Ví dụ: 15/UBND-VP. Để trống nếu chưa có."),
    RoundField("dispatch_date", "Ngày công văn", "date", hint="dd/mm/yyyy"),
    RoundField("dispatch", "Trích yếu công văn", hint="Công văn giao nhiệm vụ (in trong sổ đề xuất)."),
    RoundField("issuer", "Cơ quan ban hành", required=True, hint="Ví dụ: UBND xã Hòa Cư."),
    RoundField("commune", "Tên xã", required=True, hint="Ví dụ: xã Hòa Cư (xã sau sắp xếp từ 01/7/2025)."),
    RoundField("place", "Địa danh", hint="Địa danh ở dòng 'Hòa Cư, ngày … tháng … năm …'. Để trống: lấy theo tên xã."),
    RoundField("round_title", "Tên đợt", required=True),
    RoundField("deadline", "Hạn nộp", "date", True, "Ngày đơn vị phải gửi sổ (dd/mm/yyyy)."),
    RoundField("plan_period", "Giai đoạn", hint="Ví dụ: 2026 – 2030."),
    RoundField("receiver.title", "Cán bộ nhận – chức danh", required=True, hint="In trong mọi sổ đề xuất."),
    RoundField("receiver.name", "Cán bộ nhận – họ tên", hint="In trong mọi sổ đề xuất: nên điền."),
    RoundField("receiver.phone", "Cán bộ nhận – điện thoại", hint="In trong mọi sổ đề xuất: nên điền."),
    RoundField("receiver.email", "Cán bộ nhận – thư điện tử", hint="Đơn vị gửi sổ về địa chỉ này: nên điền."),
    RoundField("report_to", "Nơi báo cáo kết quả",
               hint="Từ 01/7/2025 (bỏ cấp huyện): thường là UBND tỉnh / Sở Nội vụ."),
    RoundField("signer.authority", "Người ký – thẩm quyền", hint="Ví dụ: TM. ỦY BAN NHÂN DÂN."),
    RoundField("signer.title", "Người ký – chức vụ", hint="Ví dụ: CHỦ TỊCH."),
    RoundField("signer.name", "Người ký – họ tên"),
    RoundField("smtp.host", "Gửi thư (SMTP) – máy chủ", hint="Không bắt buộc: chỉ cần khi gửi thư bằng hoacu-xlsx."),
    RoundField("smtp.port", "Gửi thư (SMTP) – cổng", "int", hint="587 (starttls) hoặc 465 (ssl)."),
    RoundField("smtp.security", "Gửi thư (SMTP) – bảo mật", "choice", choices=_SEC),
    RoundField("smtp.user", "Gửi thư (SMTP) – tài khoản"),
    RoundField("smtp.from", "Gửi thư (SMTP) – địa chỉ gửi"),
    RoundField("smtp.cafile", "Gửi thư (SMTP) – tệp chứng chỉ"),
    RoundField("smtp.timeout", "Gửi thư (SMTP) – thời gian chờ (giây)", "number"),
    RoundField("imap.host", "Nhận thư (IMAP) – máy chủ", hint="Không bắt buộc: chỉ cần khi lấy thư bằng hoacu-xlsx."),
    RoundField("imap.port", "Nhận thư (IMAP) – cổng", "int", hint="993 (ssl) hoặc 143 (starttls)."),
    RoundField("imap.security", "Nhận thư (IMAP) – bảo mật", "choice", choices=_SEC),
    RoundField("imap.user", "Nhận thư (IMAP) – tài khoản"),
    RoundField("imap.folder", "Nhận thư (IMAP) – thư mục"),
    RoundField("imap.cafile", "Nhận thư (IMAP) – tệp chứng chỉ"),
    RoundField("imap.timeout", "Nhận thư (IMAP) – thời gian chờ (giây)", "number"),
)
ROUND_HEADERS = ("Thông tin", "Giá trị", "Giải thích")

GUIDE_TEXT = (
    ("DANH MỤC ĐỢT ĐỀ XUẤT ĐIỂN HÌNH TIÊN TIẾN", "title"),
    ("Tệp này là danh mục của đợt: các đơn vị, nhiệm vụ được giao, loại điển hình, tiêu chí và hạn nộp. Sửa bằng "
     "Excel hoặc LibreOffice, lưu lại (dạng .xlsx), rồi chạy 'hoacu-xlsx generate' để tạo sổ cho các đơn vị.", ""),
    ("Các trang", "head"),
    ("• Đợt: năm, công văn, cơ quan ban hành, tên xã, hạn nộp, giai đoạn, cán bộ nhận sổ, nơi báo cáo kết quả, người "
     "ký; phần gửi/nhận thư (SMTP/IMAP) không bắt buộc. Mỗi dòng một thông tin: chỉ sửa cột 'Giá trị'.", ""),
    ("• Đơn vị: mỗi dòng một đơn vị (ban, ngành, đoàn thể, trường, thôn…). Thôn là đơn vị có loại 'Thôn': thêm thôn "
     "bằng cách thêm dòng, chọn loại 'Thôn'.", ""),
    ("• Nhiệm vụ: mỗi dòng một mục của công văn; 'Đơn vị được giao' ghi mã đơn vị, cách nhau dấu phẩy, hoặc "
     f"'{ALL_VILLAGES}'.", ""),
    ("• Loại điển hình: các loại được đề xuất ở từng mục (tập thể, cá nhân, hộ gia đình…).", ""),
    ("• Tiêu chí: tiêu chuẩn của từng mục, trích nguyên văn công văn, mỗi dòng một tiêu chí; 'Áp dụng cho' ghi mã "
     "loại điển hình.", ""),
    ("• Danh sách: các danh sách chọn (hình thức tôn vinh, kết quả xét chọn, loại đơn vị). Thêm dòng để thêm lựa chọn.",
     ""),
    ("Từ 01/7/2025: chính quyền địa phương hai cấp", "head"),
    ("Cấp huyện không còn; nhiều xã được sáp nhập và báo cáo trực tiếp lên tỉnh; giai đoạn kế hoạch mới là "
     "2026 – 2030. Khi lập đợt mới, hãy kiểm tra: tên xã và cơ quan ban hành (trang Đợt), các đơn vị và thôn sau sắp "
     "xếp (trang Đơn vị), nơi báo cáo kết quả (nay thường là UBND tỉnh), người ký, tên phong trào còn nhắc tên "
     "huyện cũ (trang Nhiệm vụ).", ""),
    ("Lưu ý", "head"),
    ("• Không đổi tên trang, tên cột, mã đơn vị, mã nhiệm vụ hay số tiêu chí khi đã gửi sổ: sổ đã gửi được nhận diện "
     "theo các mã này. Đổi tên đơn vị, sửa lời tiêu chí thì được — lệnh generate sẽ báo những gì đã đổi.", ""),
    ("• Có lỗi thì 'hoacu-xlsx' báo mọi lỗi một lần, dạng [Trang, dòng N] nội dung, và không tạo sổ nào.", ""),
    ("• Đợt năm sau: 'hoacu-xlsx init --year <năm>' giữ danh mục này thành danh_muc_<năm cũ>.xlsx và tạo danh mục "
     "mới với cùng đơn vị, nhiệm vụ, tiêu chí; hạn nộp được dời sang năm mới — hãy kiểm tra lại.", ""),
)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _fold(text: str) -> str:
    return fold_key(_nfc(text))


def suggest(wanted: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """The closest choice to a misspelled name (diacritic- and case-insensitive), or None."""
    folded = {_fold(c): c for c in choices}
    hit = difflib.get_close_matches(_fold(wanted), list(folded), n=1, cutoff=0.6)
    return folded[hit[0]] if hit else None


# --------------------------------------------------------------------------- writing


def write(catalogue: Catalogue, path: str | Path) -> Path:
    """Write the catalogue as ``danh_muc.xlsx`` (to a temporary file, then renamed: never half-written)."""
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write_book(tmp: Path) -> None:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                            "strings_to_numbers": False})
        fmt = _formats(wb)
        _write_guide(wb, fmt)
        _write_round(wb, fmt, catalogue)
        for sheet, cols in TABLES.items():
            _write_table(wb, fmt, sheet, cols, _rows(sheet, catalogue))
        wb.close()

    write_atomically(path, write_book, keep_suffix=True)
    return path


def _formats(wb: Any) -> dict[str, Any]:
    base = {"font_name": "Times New Roman", "font_size": 12, "valign": "top"}
    return {
        "title": wb.add_format({**base, "bold": True, "font_size": 14}),
        "head": wb.add_format({**base, "bold": True, "text_wrap": True, "bg_color": "#DDEBF7", "border": 1}),
        "label": wb.add_format({**base, "bold": True, "text_wrap": True}),
        "text": wb.add_format(base),
        "wrap": wb.add_format({**base, "text_wrap": True}),
        "hint": wb.add_format({**base, "text_wrap": True, "italic": True, "font_color": "#595959"}),
        "date": wb.add_format({**base, "num_format": "dd/mm/yyyy", "align": "left"}),
    }


def _print_setup(ws: Any, landscape: bool) -> None:
    ws.set_paper(9)  # A4
    if landscape:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.6, right=0.4, top=0.6, bottom=0.7)
    ws.set_footer("&CTrang &P / &N")


def _put(ws: Any, r: int, c: int, value: Any, fmt: dict[str, Any], style: str) -> None:
    if isinstance(value, date):
        ws.write_datetime(r, c, datetime(value.year, value.month, value.day), fmt["date"])
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(r, c, value, fmt[style])
    elif value in (None, ""):
        ws.write_blank(r, c, None, fmt[style])
    else:
        ws.write_string(r, c, str(value), fmt[style])


def _write_guide(wb: Any, fmt: dict[str, Any]) -> None:
    ws = wb.add_worksheet(GUIDE)
    ws.set_column(0, 0, 110, fmt["wrap"])
    for r, (text, style) in enumerate(GUIDE_TEXT):
        ws.write_string(r, 0, text, fmt[style or "wrap"])
    _print_setup(ws, landscape=False)


def _write_round(wb: Any, fmt: dict[str, Any], catalogue: Catalogue) -> None:
    ws = wb.add_worksheet(ROUND)
    for c, (head, width) in enumerate(zip(ROUND_HEADERS, (36, 60, 60))):
        ws.write_string(0, c, head, fmt["head"])
        ws.set_column(c, c, width, fmt["wrap"])
    values = round_values(catalogue)
    for r, f in enumerate(ROUND_FIELDS, start=1):
        ws.write_string(r, 0, f.label, fmt["label"])
        _put(ws, r, 1, values.get(f.path, ""), fmt, "wrap")
        _put(ws, r, 2, f.hint, fmt, "hint")
        check = _round_check(f)
        if check:
            ws.data_validation(r, 1, r, 1, check)
    ws.freeze_panes(1, 1)
    ws.repeat_rows(0)
    _print_setup(ws, landscape=True)


def round_values(catalogue: Catalogue) -> dict[str, Any]:
    """The ``Đợt`` sheet's values by dict path."""
    c = catalogue
    out: dict[str, Any] = {
        "year": c.year, "dispatch_number": c.dispatch_number, "dispatch_date": c.dispatch_date,
        "dispatch": c.dispatch, "issuer": c.issuer, "commune": c.commune, "place": c.place,
        "round_title": c.round_title, "deadline": c.deadline, "plan_period": c.plan_period,
        "receiver.title": c.receiver.title, "receiver.name": c.receiver.name, "receiver.phone": c.receiver.phone,
        "receiver.email": c.receiver.email, "report_to": c.report_to, "signer.authority": c.signer.authority,
        "signer.title": c.signer.title, "signer.name": c.signer.name,
    }
    for table, values in c.settings.items():
        for key, value in values.items():
            out[f"{table}.{key}"] = value
    return out


def _round_check(f: RoundField) -> dict[str, Any] | None:
    msg = {"input_title": f.label[:32], "input_message": (f.hint or f.label)[:255]}
    if f.typ == "int" and f.path == "year":
        return {"validate": "integer", "criteria": "between", "minimum": 2000, "maximum": 2100, **msg,
                "error_title": "Năm không hợp lệ", "error_message": "Ghi năm bằng số, ví dụ 2026."}
    if f.typ == "int":
        return {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 65535, **msg}
    if f.typ == "number":
        return {"validate": "decimal", "criteria": ">", "value": 0, **msg}
    if f.typ == "date":
        return {"validate": "date", "criteria": "between", "minimum": date(2000, 1, 1),
                "maximum": date(2100, 12, 31), **msg, "error_title": "Ngày không hợp lệ",
                "error_message": "Ghi ngày dạng dd/mm/yyyy, ví dụ 31/05/2026."}
    if f.typ == "choice":
        return {"validate": "list", "source": list(f.choices), **msg}
    return {"validate": "any", **msg} if f.hint else None


def _rows(sheet: str, c: Catalogue) -> list[dict[str, Any]]:
    if sheet == UNITS:
        return [{"id": u.id, "name": u.name, "short_name": u.short, "kind": u.kind, "email": u.email,
                 "contact": u.contact} for u in c.units]
    if sheet == ITEMS:
        return [{"item": a.item, "id": a.id, "kind": KINDS.get(a.kind, a.kind), "title": a.title,
                 "assignees": ", ".join(list(a.assignees) + ([ALL_VILLAGES] if a.assign_villages else [])),
                 "quota": a.quota, "quota_scope": SCOPES[a.quota_scope], "nominations": YES if a.nominations else NO,
                 "note": a.note, "duty": a.duty} for a in c.assignments]
    if sheet == KINDS_SHEET:
        return [{"item": a.item, "id": k.id, "label": k.label, "base": BASE_LABELS[k.base]}
                for a in c.assignments for k in a.nominee_kinds]
    if sheet == CRITERIA:
        return [{"item": a.item, "number": k.number, "applies_to": ", ".join(k.applies_to), "text": k.text,
                 "short": k.short} for a in c.assignments for k in a.criteria]
    kinds = list(dict.fromkeys(list(UNIT_KINDS) + [u.kind for u in c.units if u.kind]))
    lists = {"honour_forms": list(c.honour_forms), "review_results": list(c.review_results), "unit_kinds": kinds}
    n = max(len(v) for v in lists.values())
    return [{k: (v[i] if i < len(v) else "") for k, v in lists.items()} for i in range(n)]


def _write_table(wb: Any, fmt: dict[str, Any], sheet: str, cols: tuple[Col, ...], rows: list[dict[str, Any]]) -> None:
    ws = wb.add_worksheet(sheet)
    for c, col in enumerate(cols):
        ws.set_column(c, c, col.width, fmt["wrap" if col.wrap else "text"])
        ws.write_string(0, c, col.header + (" *" if col.required else ""), fmt["head"])
    for r, row in enumerate(rows, start=1):
        for c, col in enumerate(cols):
            _put(ws, r, c, row.get(col.key, ""), fmt, "wrap" if col.wrap else "text")
    checks = _table_checks(sheet, cols)
    for c, col in enumerate(cols):
        check = checks.get(col.key) or ({"validate": "any"} if col.hint else None)
        if check:
            if col.hint:
                check = {**check, "input_title": col.header[:32], "input_message": col.hint[:255]}
            ws.data_validation(1, c, MAX_ROWS, c, check)
    ws.freeze_panes(1, 0)
    ws.repeat_rows(0)
    ws.autofilter(0, 0, max(len(rows), 1), len(cols) - 1)
    _print_setup(ws, landscape=sheet in (UNITS, ITEMS, CRITERIA))


def _ref(sheet: str, cols: tuple[Col, ...], key: str) -> str:
    from hoacu_xlsx.cells import col_letter

    letter = col_letter([c.key for c in cols].index(key))
    return f"='{sheet}'!${letter}$2:${letter}${MAX_ROWS + 1}"


def _table_checks(sheet: str, cols: tuple[Col, ...]) -> dict[str, dict[str, Any]]:
    """Dropdowns and type checks per column key (typing stays possible where a value may be a list)."""
    listed = {"validate": "list", "error_type": "information"}
    whole = {"validate": "integer", "criteria": ">=", "value": 0,
             "error_title": "Không phải số", "error_message": "Ghi một số nguyên."}
    items = {"validate": "list", "source": _ref(ITEMS, ITEM_COLS, "item"), "error_type": "warning",
             "error_title": "Mục chưa có", "error_message": "Số mục này chưa có trong trang Nhiệm vụ."}
    if sheet == UNITS:
        from hoacu_xlsx.cells import col_letter

        a = col_letter(0)
        return {"id": {"validate": "custom", "value": f"=COUNTIF(${a}$2:${a}${MAX_ROWS + 1},{a}2)<=1",
                       "error_title": "Mã trùng", "error_message": "Mã đơn vị này đã có ở dòng khác."},
                "kind": {**listed, "source": _ref(LISTS, LIST_COLS, "unit_kinds"), "error_type": "warning"}}
    if sheet == ITEMS:
        return {"item": {**whole, "criteria": ">=", "value": 1},
                "kind": {"validate": "list", "source": list(KINDS.values())},
                "assignees": {**listed, "source": _ref(UNITS, UNIT_COLS, "id")},
                "quota": whole,
                "quota_scope": {"validate": "list", "source": list(SCOPES.values())},
                "nominations": {"validate": "list", "source": [YES, NO]}}
    if sheet == KINDS_SHEET:
        return {"item": items, "base": {"validate": "list", "source": list(BASE_LABELS.values())}}
    if sheet == CRITERIA:
        return {"item": items, "number": {**whole, "value": 1},
                "applies_to": {**listed, "source": _ref(KINDS_SHEET, KIND_COLS, "id")}}
    return {}


# --------------------------------------------------------------------------- reading


_ID = re.compile(r"^[a-z0-9_]+$")
_ITEM_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
_SPLIT = re.compile(r"[,;]+")
_VILLAGE_WORDS = {_fold(ALL_VILLAGES), _fold("các thôn"), _fold("tất cả thôn")}


def read(path: str | Path) -> tuple[dict[str, Any], list[str]]:
    """The workbook as the dict TOML gives (for ``catalogue.parse``) and notes; every problem at once."""
    path = Path(path)
    book = _Book(path, _open(path))
    data = book.build()
    if book.problems:
        raise CatalogueError(book.problems, str(path))
    return data, book.notes


def _open(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's cells (values of formulas as last saved); one clear message for a file that is no workbook."""
    from python_calamine import CalamineWorkbook

    if not path.is_file():
        raise CatalogueError(T.text("catalogue/no_book", path=path))
    try:
        wb = CalamineWorkbook.from_path(str(path))
        try:
            return {_nfc(name): wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
                    for name in wb.sheet_names}
        finally:
            wb.close()
    except Exception:  # calamine raises many error types for broken or foreign files
        raise CatalogueError(T.text("catalogue/not_a_book", path=path)) from None


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return YES if v else NO
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, datetime):
        v = v.date()
    if isinstance(v, date):
        return v.strftime("%d/%m/%Y")
    return _nfc(str(v)).strip()


def _code(v: Any) -> str:
    """An id-like cell (unit ids, kind ids and lists of them): ``_xHH_`` undone if LibreOffice decoded it.

    LibreOffice (24.x) reads ``cc_van_hoa_xa_hoi`` from an .xlsx as ``cc_van_hoa`` + newline + ``hoi``: it
    takes ``_xa_`` for the OOXML escape of U+000A. Ids never hold control characters, so one is put back
    as the shortest escape that produces it ('xã' is in many ids: ``_xa_``).
    """
    return re.sub(r"[\x00-\x1f]", lambda m: f"_x{ord(m.group()):x}_", _text(v))


def _tokens(v: Any, known: set[str] | None) -> list[str]:
    """A comma list of ids; a line break separates too, unless it is LibreOffice's decoded ``_xa_`` of a known id."""
    out: list[str] = []
    for part in _SPLIT.split(_text(v)):
        repaired = _code(part)
        if known is not None and repaired in known or "\n" not in part:
            out.append(repaired)
        else:
            out += [_code(x) for x in part.split("\n")]
    return [t.strip() for t in out if t.strip()]


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)) and float(v).is_integer():
        return int(v)
    t = _text(v)
    return int(t) if re.fullmatch(r"-?\d+", t) else None


def _number(v: Any) -> int | float | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return int(v) if float(v).is_integer() else float(v)
    try:
        f = float(_text(v).replace(",", "."))
    except ValueError:
        return None
    return int(f) if f.is_integer() else f


def _date(v: Any) -> date | None:
    """A date cell, an Excel serial number, or text 'dd/mm/yyyy' (also d-m-yyyy, d.m.yyyy, yyyy-mm-dd)."""
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool) and 20000 < v < 80000:
        from datetime import timedelta

        return date(1899, 12, 30) + timedelta(days=int(v))
    t = _text(v)
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", t)
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", t)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    except ValueError:
        return None
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", _fold(text)).strip("_")


def _lower_first(label: str) -> str:
    return label[:1].lower() + label[1:]


def _choice(value: str, options: dict[str, str]) -> str | None:
    """The key whose label (or key) matches the typed value, case- and diacritic-insensitively."""
    f = _fold(value)
    for key, label in options.items():
        if f in (_fold(label), _fold(key)):
            return key
    return None


@dataclass
class _Table:
    """A table sheet as read: where it is, which column holds which key, and its non-blank rows."""

    canonical: str
    name: str
    header_row: int                                  # 1-based
    cols: dict[str, int]
    rows: list[tuple[int, dict[str, Any]]]           # (1-based row, raw values by key)


class _Book:
    """Reads the sheets into the TOML dict shape, collecting every problem instead of stopping at the first."""

    def __init__(self, path: Path, sheets: dict[str, list[list[Any]]]) -> None:
        self.path, self.sheets = path, sheets
        self.problems: list[CatalogueProblem] = []
        self.notes: list[str] = []
        self.found: dict[str, str] = {}          # canonical sheet name -> name in the workbook
        self.kind_rows: dict[tuple[int, str], int] = {}   # (item, kind id) -> row in Loại điển hình
        self.kinds_read = self.criteria_read = False

    def problem(self, sheet: str, row: int, message: str) -> None:
        self.problems.append(CatalogueProblem(message, sheet, row))

    def build(self) -> dict[str, Any]:
        self._match_sheets()
        data = self._round()
        lists = self._lists(data)
        units = self._units(lists)
        items = self._items(units)
        self._kinds(items)
        self._criteria(items)
        self._cross_check(items)
        data["units"] = list((units or {}).values())   # None only with a problem already reported
        data["assignments"] = [a for a, _row in (items or {}).values()]
        return data

    # -- sheets and columns

    def _match_sheets(self) -> None:
        known = (GUIDE,) + REQUIRED_SHEETS + (LISTS,)
        left = list(self.sheets)
        for want in known:
            hit = next((n for n in left if _fold(n) == _fold(want)), None)
            if hit is not None:
                self.found[want] = hit
                left.remove(hit)
        for want in REQUIRED_SHEETS:
            if want in self.found:
                continue
            guess = next((n for n in left if suggest(n, [want])), None)
            if guess is not None:
                left.remove(guess)
                self.problem(guess, 0, T.text("catalogue/sheet_misnamed", sheet=want))
            else:
                self.problem(want, 0, T.text("catalogue/sheet_missing", sheet=want, sheets=", ".join(REQUIRED_SHEETS)))
        for name in left:
            self.notes.append(T.text("catalogue/extra_sheet", sheet=name))

    def _table(self, canonical: str) -> _Table | None:
        """Find the header row (the row, among the first ten, naming most columns) and the data rows."""
        name = self.found.get(canonical)
        if name is None:
            return None
        cols = TABLES[canonical]
        grid = self.sheets[name]
        labels = {_fold(c.header): c.key for c in cols}

        def heads(row: list[Any]) -> dict[str, int]:
            out: dict[str, int] = {}
            for i, v in enumerate(row):
                key = labels.get(_fold(_text(v).rstrip("* ").strip()))
                if key and key not in out:
                    out[key] = i
            return out

        scored = [(len(heads(row)), r) for r, row in enumerate(grid[:10])]
        best, hr = max(scored, default=(0, 0), key=lambda x: (x[0], -x[1]))
        if best == 0:
            self.problem(name, 0, T.text("catalogue/no_header", headers=", ".join(c.header for c in cols)))
            return None
        found = heads(grid[hr])
        if not self._columns_usable(name, hr + 1, grid[hr], found, cols):
            return None  # its rows are not checked: one message for the column, not one per row
        rows = []
        for r in range(hr + 1, len(grid)):
            values = {k: grid[r][i] if i < len(grid[r]) else None for k, i in found.items()}
            if any(_text(v) for v in values.values()):
                rows.append((r + 1, values))
        return _Table(canonical, name, hr + 1, found, rows)

    def _columns_usable(self, sheet: str, hr: int, header: list[Any], found: dict[str, int],
                        cols: tuple[Col, ...]) -> bool:
        """Report misspelled and missing columns; False when a column the rows need is not there."""
        missing = [c for c in cols if c.key not in found]
        usable = True
        extra = [_text(v) for i, v in enumerate(header) if _text(v) and i not in found.values()]
        for col in missing:
            guess = next((e for e in extra if suggest(e.rstrip("* "), [col.header])), None)
            if guess is not None:
                extra.remove(guess)
                self.problem(sheet, hr, T.text("catalogue/column_misnamed", typed=guess, header=col.header))
                usable = False
            elif col.required:
                self.problem(sheet, hr, T.text("catalogue/column_missing", header=col.header))
                usable = False
        for e in extra:
            self.notes.append(T.text("catalogue/extra_column", column=e, sheet=sheet))
        return usable

    # -- Đợt

    def _round(self) -> dict[str, Any]:
        name = self.found.get(ROUND)
        if name is None:
            return {}
        grid = self.sheets[name]
        by_label = {_fold(f.label): f for f in ROUND_FIELDS} | {f.path: f for f in ROUND_FIELDS}
        start = 1 if grid and _fold(_text(grid[0][0] if grid[0] else "")) == _fold(ROUND_HEADERS[0]) else 0
        seen: dict[str, int] = {}
        data: dict[str, Any] = {}
        for r in range(start, len(grid)):
            row = grid[r] + [None, None]
            label, raw = _text(row[0]), row[1]
            if not label:
                if _text(raw):
                    self.problem(name, r + 1, T.text("catalogue/round_value_unlabelled", value=_text(raw),
                                                     column=ROUND_HEADERS[0]))
                continue
            f = by_label.get(_fold(label)) or by_label.get(label)
            if f is None:
                guess = suggest(label, [x.label for x in ROUND_FIELDS])
                if guess:
                    self.problem(name, r + 1, T.text("catalogue/round_label_unknown", label=label, guess=guess))
                else:
                    self.notes.append(T.text("catalogue/extra_round_row", row=r + 1, sheet=name, label=label))
                continue
            if f.path in seen:
                self.problem(name, r + 1, T.text("catalogue/round_label_duplicate", label=f.label, row=seen[f.path]))
                continue
            seen[f.path] = r + 1
            value = self._round_value(name, r + 1, f, raw)
            if value is not None:
                table, _, key = f.path.rpartition(".")
                (data.setdefault(table, {}) if table else data)[key] = value
        for f in ROUND_FIELDS:
            if f.required and f.path not in seen:
                self.problem(name, 0, T.text("catalogue/round_row_missing", label=f.label))
        return data

    def _round_value(self, sheet: str, row: int, f: RoundField, raw: Any) -> Any:
        """The typed value of one ``Đợt`` row; None when blank (the model's default applies) or wrong."""
        label, text = _lower_first(f.label), _text(raw)
        if not text:
            if f.required:
                self.problem(sheet, row, T.text("catalogue/blank", label=label))
            return None
        value: Any = text
        if f.typ == "date":
            value = _date(raw)
            if value is None:
                self.problem(sheet, row, T.text("catalogue/not_date", label=label, value=text))
        elif f.typ == "int":
            value = _int(raw)
            lo, hi = (2000, 2100) if f.path == "year" else (1, 65535)
            if value is None or not lo <= value <= hi:
                self.problem(sheet, row, T.text("catalogue/not_whole_between", label=label, value=text, low=lo,
                                                high=hi))
                value = None
        elif f.typ == "number":
            value = _number(raw)
            if value is None or value <= 0:
                self.problem(sheet, row, T.text("catalogue/not_positive", label=label, value=text))
                value = None
        elif f.typ == "choice" and text.lower() not in f.choices:
            self.problem(sheet, row, T.text("catalogue/not_a_choice", label=label, value=text,
                                            choices=", ".join(f.choices)))
            value = None
        elif f.typ == "choice":
            value = text.lower()
        elif f.path in ("receiver.email", "smtp.from") and not _looks_like_email(text):
            self.problem(sheet, row, T.text("catalogue/not_email", label=label, value=text))
        return value

    # -- Danh sách

    def _lists(self, data: dict[str, Any]) -> dict[str, list[str]]:
        table = self._table(LISTS) if LISTS in self.found else None
        lists: dict[str, list[str]] = {c.key: [] for c in LIST_COLS}
        for _row, values in table.rows if table else []:
            for key, v in values.items():
                if _text(v):
                    lists[key].append(_text(v))
        for key in ("honour_forms", "review_results"):
            if lists[key]:
                data[key] = list(dict.fromkeys(lists[key]))
        lists["unit_kinds"] = lists["unit_kinds"] or list(UNIT_KINDS)
        if not any(is_village_kind(k) for k in lists["unit_kinds"]):
            lists["unit_kinds"].append(VILLAGE_KIND)
        return lists


    # -- Đơn vị

    def _units(self, lists: dict[str, list[str]]) -> dict[str, dict[str, Any]] | None:
        """Unit dicts by id (None when the sheet could not be read: references are then not checked)."""
        from hoacu_xlsx.catalogue import village_id

        table = self._table(UNITS)
        if table is None:
            return None
        kinds = {_fold(k): k for k in lists["unit_kinds"]}
        units: dict[str, dict[str, Any]] = {}
        rows: dict[str, int] = {}
        unit_id = T.reason("catalogue_column.unit_id")
        for r, v in table.rows:
            name, kind, uid = _text(v.get("name")), _text(v.get("kind")), _code(v.get("id"))
            if not name:
                self.problem(table.name, r, T.text("catalogue/blank", label=T.reason("catalogue_column.unit_name")))
            if kind and _fold(kind) not in kinds:
                guess = suggest(kind, list(kinds.values()))
                self.problem(table.name, r, T.text("catalogue/unit_kind_unknown", kind=kind, sheet=LISTS)
                             + _did_you_mean(guess))
            kind = kinds.get(_fold(kind), kind)
            if not uid and is_village_kind(kind) and name:
                uid = village_id(name)
            if not uid:
                self.problem(table.name, r, T.text("catalogue/blank", label=unit_id))
                continue
            if not _ID.match(uid):
                self.problem(table.name, r, T.text("catalogue/not_slug", label=unit_id, value=uid, slug=_slug(uid)))
                uid = _slug(uid)  # references to the id it was meant to be are not reported twice
            if uid in rows:
                self.problem(table.name, r, T.text("catalogue/duplicate", label=unit_id, value=uid, row=rows[uid]))
                continue
            email = _text(v.get("email"))
            if email and not _looks_like_email(email):
                self.problem(table.name, r, T.text("catalogue/not_email", label=T.reason("catalogue_column.unit_email"),
                                                   value=email))
            rows[uid] = r
            units[uid] = {"id": uid, "name": name, "kind": kind, "email": email,
                          "short_name": _text(v.get("short_name")), "contact": _text(v.get("contact"))}
        if not table.rows:
            self.problem(table.name, 0, T.text("catalogue/no_units"))
        return units

    # -- Nhiệm vụ

    def _items(self, units: dict[str, dict[str, Any]] | None) -> dict[int, tuple[dict[str, Any], int]] | None:
        """Assignment dicts by item number, with their row (None when the sheet could not be read)."""
        table = self._table(ITEMS)
        if table is None:
            return None
        items: dict[int, tuple[dict[str, Any], int]] = {}
        ids: dict[str, int] = {}
        item_label = T.reason("catalogue_column.item")
        for r, v in table.rows:
            item = self._whole(table.name, r, item_label, v.get("item"), required=True, least=1)
            a = self._item_fields(table.name, r, v, units)
            if item is None:
                continue
            aid = _code(v.get("id")) or str(item)
            if item in items:
                self.problem(table.name, r, T.text("catalogue/item_duplicate", item=item, row=items[item][1]))
            elif not _ITEM_ID.match(aid):
                self.problem(table.name, r, T.text("catalogue/bad_item_id", value=aid))
            elif aid in ids:
                self.problem(table.name, r, T.text("catalogue/duplicate", label=T.reason("catalogue_column.item_id"),
                                                   value=aid, row=ids[aid]))
            else:
                ids[aid] = r
                items[item] = ({"id": aid, "item": item, **a, "nominee_kinds": [], "criteria": []}, r)
        if not table.rows:
            self.problem(table.name, 0, T.text("catalogue/no_items"))
        return items

    def _whole(self, sheet: str, r: int, label: str, raw: Any, *, required: bool = False,
               least: int = 0) -> int | None:
        text = _text(raw)
        if not text:
            if required:
                self.problem(sheet, r, T.text("catalogue/blank", label=label))
            return None
        value = _int(raw)
        if value is None or value < least:
            self.problem(sheet, r, T.text("catalogue/not_whole_from" if least else "catalogue/not_whole_non_negative",
                                          label=label, value=text, least=least))
            return None
        return value

    def _item_fields(self, sheet: str, r: int, v: dict[str, Any],
                     units: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
        out: dict[str, Any] = {"title": _text(v.get("title")), "note": _text(v.get("note")),
                               "duty": _text(v.get("duty"))}
        if not out["title"]:
            self.problem(sheet, r, T.text("catalogue/blank", label=T.reason("catalogue_column.item_title")))
        kind = _text(v.get("kind"))
        out["kind"] = _choice(kind, KINDS) or "phong_trao"
        kind_label = T.reason("catalogue_column.item_kind")
        if not kind:
            self.problem(sheet, r, T.text("catalogue/blank", label=kind_label))
        elif _choice(kind, KINDS) is None:
            guess = suggest(kind, list(KINDS.values()))
            self.problem(sheet, r, T.text("catalogue/not_a_choice", label=kind_label, value=kind,
                                          choices=", ".join(KINDS.values())) + _did_you_mean(guess))
        nom = _text(v.get("nominations"))
        out["nominations"] = _choice(nom, {"yes": YES, "no": NO}) != "no" if nom else True
        if nom and _choice(nom, {"yes": YES, "no": NO}) is None:
            self.problem(sheet, r, T.text("catalogue/not_either", label=T.reason("catalogue_column.nominations"),
                                          value=nom, first=YES, second=NO))
        quota = self._whole(sheet, r, T.reason("catalogue_column.quota"), v.get("quota"))
        out["quota"] = quota if quota is not None else (1 if out["nominations"] else 0)
        scope = _text(v.get("quota_scope"))
        out["quota_scope"] = _choice(scope, SCOPES) or "joint"
        if scope and _choice(scope, SCOPES) is None:
            self.problem(sheet, r, T.text("catalogue/not_either", label=T.reason("catalogue_column.quota_scope"),
                                          value=scope, first=SCOPES["joint"], second=SCOPES["each"]))
        out["assignees"], out["assign_villages"] = self._assignees(sheet, r, v.get("assignees"), units)
        return out

    def _assignees(self, sheet: str, r: int, raw: Any,
                   units: dict[str, dict[str, Any]] | None) -> tuple[list[str], bool]:
        tokens = _tokens(raw, set(units) if units is not None else None)
        if not tokens:
            self.problem(sheet, r, T.text("catalogue/blank", label=T.reason("catalogue_column.assignees")))
            return [], False
        ids: list[str] = []
        villages = False
        by_name = {_fold(u["name"]): uid for uid, u in (units or {}).items()}
        for token in tokens:
            if _fold(token) in _VILLAGE_WORDS:
                villages = True
            elif units is None or token in units:
                ids.append(token)
            elif _fold(token) in by_name:
                ids.append(by_name[_fold(token)])
            else:
                guess = suggest(token, list(units))
                self.problem(sheet, r, T.text("catalogue/unit_unknown", unit=token, sheet=UNITS) + _did_you_mean(guess))
        return list(dict.fromkeys(ids)), villages

    # -- Loại điển hình, Tiêu chí

    def _item_of(self, sheet: str, r: int, raw: Any, items: dict[int, tuple[dict[str, Any], int]] | None
                 ) -> dict[str, Any] | None:
        item = self._whole(sheet, r, T.reason("catalogue_column.item"), raw, required=True, least=1)
        if item is None or items is None:
            return None
        if item not in items:
            self.problem(sheet, r, T.text("catalogue/item_unknown", item=item, sheet=ITEMS))
            return None
        return items[item][0]

    def _kinds(self, items: dict[int, tuple[dict[str, Any], int]] | None) -> None:
        table = self._table(KINDS_SHEET)
        self.kinds_read = table is not None
        if table is None:
            return
        seen: dict[tuple[int, str, str], int] = {}
        id_label, name_label = T.reason("catalogue_column.kind_id"), T.reason("catalogue_column.kind_label")
        base_label = T.reason("catalogue_column.kind_base")
        for r, v in table.rows:
            a = self._item_of(table.name, r, v.get("item"), items)
            kid, label, base = _code(v.get("id")), _text(v.get("label")), _text(v.get("base"))
            ok = True
            if not kid:
                self.problem(table.name, r, T.text("catalogue/blank", label=id_label))
                ok = False
            elif not _ID.match(kid):
                self.problem(table.name, r, T.text("catalogue/not_slug", label=id_label, value=kid, slug=_slug(kid)))
                ok = False
            if not label:
                self.problem(table.name, r, T.text("catalogue/blank", label=name_label))
                ok = False
            key = _choice(base, BASE_LABELS)
            if not base:
                self.problem(table.name, r, T.text("catalogue/blank", label=base_label))
            elif key is None:
                guess = suggest(base, list(BASE_LABELS.values()))
                self.problem(table.name, r, T.text("catalogue/not_a_choice", label=base_label, value=base,
                                                   choices=", ".join(BASE_LABELS.values())) + _did_you_mean(guess))
            if a is None or not ok:
                continue
            for what, value, shown in (("id", kid, kid), ("label", _fold(label), label)):
                if (a["item"], what, value) in seen:
                    self.problem(table.name, r, T.text("catalogue/kind_duplicate",
                                                       label=id_label if what == "id" else name_label, value=shown,
                                                       item=a["item"], row=seen[(a["item"], what, value)]))
                    ok = False
                seen.setdefault((a["item"], what, value), r)
            if ok:
                a["nominee_kinds"].append({"id": kid, "label": label, "base": key or "tap_the"})
                self.kind_rows[(a["item"], kid)] = r

    def _criteria(self, items: dict[int, tuple[dict[str, Any], int]] | None) -> None:
        table = self._table(CRITERIA)
        self.criteria_read = table is not None
        if table is None:
            return
        numbers: dict[tuple[int, int], int] = {}
        pending: list[tuple[int, dict[str, Any]]] = []
        for r, v in table.rows:
            a = self._item_of(table.name, r, v.get("item"), items)
            number = self._whole(table.name, r, T.reason("catalogue_column.number"), v.get("number"), least=1)
            text, applies = _text(v.get("text")), self._applies(table.name, r, v.get("applies_to"), a)
            if not text:
                self.problem(table.name, r, T.text("catalogue/blank",
                                                   label=T.reason("catalogue_column.criterion_text")))
            if a is None or not text or not applies:
                continue
            if number is not None and (a["item"], number) in numbers:
                self.problem(table.name, r, T.text("catalogue/criterion_duplicate", number=number, item=a["item"],
                                                   row=numbers[(a["item"], number)]))
                continue
            if number is not None:
                numbers[(a["item"], number)] = r
            crit = {"applies_to": applies, "text": text, "short": _text(v.get("short")), "number": number}
            a["criteria"].append(crit)
            pending.append((a["item"], crit))
        for item, crit in pending:  # a blank number: the next one after the item's highest
            if crit["number"] is None:
                crit["number"] = 1 + max((n for (i, n) in numbers if i == item), default=0)
                numbers[(item, crit["number"])] = 0

    def _applies(self, sheet: str, r: int, raw: Any, a: dict[str, Any] | None) -> list[str]:
        if not _text(raw):
            self.problem(sheet, r, T.text("catalogue/applies_blank"))
            return []
        if a is None:
            return []
        if not self.kinds_read:  # the kinds could not be read: check the references once they can
            return _tokens(raw, None)
        kinds = {k["id"]: k["id"] for k in a["nominee_kinds"]}
        kinds |= {_fold(k["label"]): k["id"] for k in a["nominee_kinds"]}
        out: list[str] = []
        for token in _tokens(raw, {k["id"] for k in a["nominee_kinds"]}):
            kid = kinds.get(token) or kinds.get(_fold(token))
            if kid:
                out.append(kid)
            else:
                guess = suggest(token, [k["id"] for k in a["nominee_kinds"]])
                self.problem(sheet, r, T.text("catalogue/kind_unknown", kind=token, sheet=KINDS_SHEET, item=a["item"])
                             + _did_you_mean(guess))
                return []
        return list(dict.fromkeys(out))

    def _cross_check(self, items: dict[int, tuple[dict[str, Any], int]] | None) -> None:
        """What the dispatch needs of each item: kinds to nominate, and criteria for every kind."""
        if items is None or not self.kinds_read or not self.criteria_read:
            return
        items_sheet, kinds_sheet = self.found[ITEMS], self.found[KINDS_SHEET]
        for a, row in items.values():
            if a["nominations"] and not a["nominee_kinds"]:
                self.problem(items_sheet, row, T.text("catalogue/item_without_kinds", item=a["item"],
                                                      sheet=KINDS_SHEET))
            for k in a["nominee_kinds"]:
                if a["nominations"] and not any(k["id"] in c["applies_to"] for c in a["criteria"]):
                    self.problem(kinds_sheet, self.kind_rows[(a["item"], k["id"])],
                                 T.text("catalogue/kind_without_criteria", label=k["label"], item=a["item"],
                                        sheet=CRITERIA))


def _did_you_mean(guess: str | None) -> str:
    """' — có phải là 'x'?' after a problem when a close name was found, else nothing."""
    return T.reason("catalogue.did_you_mean", guess=guess) if guess else ""


def _looks_like_email(text: str) -> bool:
    return bool(re.fullmatch(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+", text))
