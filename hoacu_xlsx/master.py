"""The master tracking workbook: written with xlsxwriter, read back for the officer's columns.

The master is rewritten on every merge, so the officer's own columns (decision,
form of honouring, notes, received-time corrections) are read back first and written
again — they survive every merge, and the store keeps a copy in case the master is
lost. The file is written to a temporary name and atomically replaced: it is never
half-written, and an open copy in Excel gets a clear message instead of damage.
All user text is written as text (never as a formula).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hoacu_xlsx import fields as F
from hoacu_xlsx import picture as P
from hoacu_xlsx.printing import DEFAULT_FONT, setup_print
from hoacu_xlsx.problems import SEVERITY_LABEL

MASTER_DIR = "master"

SHEET_DASHBOARD = "Tổng quan"
SHEET_UNITS = "Đơn vị"
SHEET_NOMINATIONS = "Điển hình"
SHEET_PROBLEMS = "Lỗi cần sửa"
SHEET_FILES = "Nhật ký tệp"

ID_HEADER = "Mã điển hình"
FILE_ID_HEADER = "Mã tệp"
OVERRIDE_HEADER = "Sửa thời điểm nhận (dd/mm/yyyy hh:mm)"
# officer column of the file log: the officer's verdict on a file (see fields.FILE_VERDICT_*); key "quyet_dinh"
VERDICT_KEY = "quyet_dinh"
VERDICT_HEADER = "Quyết định của cán bộ về tệp"
# officer columns of the nominations sheet: key -> header
OFFICER_COLUMNS = {
    "ket_qua": "Kết quả xét chọn",
    "hinh_thuc_ton_vinh": "Hình thức tôn vinh",
    "ghi_chu": "Ghi chú của cán bộ TĐKT",
    "noi_voi": "Nối với mã điển hình",   # identity.LINK_KEY: the officer links a row to an older version's row
}
LINK_NOTE_HEADER = "Nhận diện giữa các bản"


class MasterWriteError(Exception):
    """The master could not be replaced; the message is Vietnamese. The old master is intact."""


class MasterReadError(Exception):
    """The existing master cannot be read back; the message is Vietnamese."""


@dataclass
class OfficerEdits:
    nominations: dict[str, dict[str, str]] = field(default_factory=dict)   # id -> key -> value
    received: dict[str, str] = field(default_factory=dict)                 # file id (sha256[:12]) -> text


def master_path(workdir: Path, year: int) -> Path:
    return workdir / MASTER_DIR / f"tong_hop_{year}.xlsx"


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%d/%m/%Y %H:%M") if (v.hour or v.minute) else v.strftime("%d/%m/%Y")
    if isinstance(v, date):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


# --------------------------------------------------------------------------- reading back


def read_officer(path: Path) -> OfficerEdits:
    """The officer's columns as they are now in the master (found by header label)."""
    edits = OfficerEdits()
    if not path.exists():
        return edits
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        names = wb.sheet_names
        if SHEET_NOMINATIONS in names:
            rows = wb.get_sheet_by_name(SHEET_NOMINATIONS).to_python()
            hdr, cols = _header(rows, ID_HEADER)
            if cols:
                for row in rows[hdr + 1:]:
                    nid = _cell_text(row[cols[ID_HEADER]]) if cols[ID_HEADER] < len(row) else ""
                    if not nid:
                        continue
                    edits.nominations[nid] = {
                        key: _cell_text(row[cols[h]]) if h in cols and cols[h] < len(row) else ""
                        for key, h in OFFICER_COLUMNS.items() if h in cols}
        if SHEET_FILES in names:
            rows = wb.get_sheet_by_name(SHEET_FILES).to_python()
            hdr, cols = _header(rows, FILE_ID_HEADER)
            if cols and OVERRIDE_HEADER in cols:
                for row in rows[hdr + 1:]:
                    fid = _cell_text(row[cols[FILE_ID_HEADER]]) if cols[FILE_ID_HEADER] < len(row) else ""
                    if fid:
                        edits.received[fid] = _cell_text(row[cols[OVERRIDE_HEADER]])
        wb.close()
    except Exception as exc:
        raise MasterReadError(f"Không đọc được sổ tổng hợp '{path}' để giữ các cột cán bộ TĐKT đã ghi ({exc}). "
                              "Nếu tệp đang mở, hãy lưu và đóng lại rồi chạy lại; nếu tệp hỏng, đổi tên tệp đó đi "
                              "— kho dữ liệu vẫn giữ bản sao các cột này.") from None
    return edits


def _header(rows: list[list[Any]], must: str) -> tuple[int, dict[str, int]]:
    for i, row in enumerate(rows[:30]):
        labels = [_cell_text(v) for v in row]
        if must in labels:
            return i, {lbl: c for c, lbl in enumerate(labels) if lbl}
    return 0, {}


# --------------------------------------------------------------------------- writing


def write_master(picture: P.Picture, path: Path, received_overrides: dict[str, str] | None = None,
                 history: Any = None) -> None:
    """Write the master atomically (temporary file, then one rename); ``history``: a history.History."""
    import xlsxwriter

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MasterWriteError(f"Không tạo được thư mục '{path.parent}' để ghi sổ tổng hợp ({exc.strerror or exc}). "
                               "Kiểm tra quyền ghi hoặc dung lượng ổ đĩa; dữ liệu đã nhận vẫn được giữ trong kho.") \
            from None
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.xlsx")
    try:
        wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_formulas": False,
                                            "strings_to_numbers": False, "strings_to_urls": False,
                                            "default_format_properties": DEFAULT_FONT})
        wb.set_properties({"title": f"Tổng hợp đề xuất điển hình tiên tiến năm {picture.catalogue.year}",
                           "author": picture.catalogue.issuer, "comments": "Tạo bởi hoacu-xlsx"})
        st = _Styles(wb)
        _dashboard(wb, st, picture)
        if history is not None:  # history: replicated/repeated table under the dashboard
            from hoacu_xlsx import history as H
            H.write_overview(wb.get_worksheet_by_name(SHEET_DASHBOARD), st, history)
        _units(wb, st, picture)
        _nominations(wb, st, picture, history)
        if history is not None:  # history: the sheet "Theo dõi nhiều năm"
            H.write_tracking(wb, st, history)
        _problems(wb, st, picture)
        _files(wb, st, picture, received_overrides or {})
        wb.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
    except OSError as exc:
        _remove(tmp)
        raise MasterWriteError(f"Không ghi được sổ tổng hợp vào '{path.parent}' ({exc.strerror or exc}). Kiểm tra "
                               "quyền ghi hoặc dung lượng ổ đĩa; sổ cũ và dữ liệu đã nhận vẫn nguyên vẹn.") from None
    except Exception as exc:
        _remove(tmp)
        cause = getattr(exc, "orig_exception", None) or exc
        raise MasterWriteError(f"Không ghi được sổ tổng hợp vào '{path.parent}' ({cause}). Sổ cũ và dữ liệu đã nhận "
                               "vẫn nguyên vẹn.") from None
    try:
        os.replace(tmp, path)
    except PermissionError:
        _remove(tmp)
        raise MasterWriteError(f"Không thay được sổ tổng hợp '{path}': tệp đang được mở (Excel/LibreOffice). Hãy "
                               "đóng tệp rồi chạy lại; dữ liệu không bị mất.") from None
    except OSError as exc:
        _remove(tmp)
        raise MasterWriteError(f"Không thay được sổ tổng hợp '{path}' ({exc.strerror or exc}); sổ cũ vẫn nguyên vẹn, "
                               "dữ liệu không bị mất.") from None


def _remove(p: Path) -> None:
    try:
        p.unlink()
    except OSError:
        pass


class _Styles:
    """A handful of formats, made once (no format objects in loops: speed)."""

    def __init__(self, wb: Any) -> None:
        base = {"font_name": "Times New Roman", "font_size": 11}
        self.title = wb.add_format({**base, "bold": True, "font_size": 14, "font_color": "#C00000"})
        self.sub = wb.add_format({**base, "italic": True})
        self.bold = wb.add_format({**base, "bold": True})
        self.header = wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                     "valign": "vcenter", "align": "center"})
        self.officer_header = wb.add_format({**base, "bold": True, "bg_color": "#FFF2CC", "border": 1,
                                             "text_wrap": True, "valign": "vcenter", "align": "center"})
        self.officer = wb.add_format({**base, "bg_color": "#FFFBEA", "locked": False})
        self.text = wb.add_format(base)
        self.wrap = wb.add_format({**base, "text_wrap": True, "valign": "top"})
        self.ok = wb.add_format({"font_color": "#006100", "bg_color": "#C6EFCE"})
        self.bad = wb.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})
        self.warn = wb.add_format({"font_color": "#9C5700", "bg_color": "#FFEB9C"})
        self.grey = wb.add_format({"font_color": "#7F7F7F", "italic": True})


def _print_title(pic: P.Picture, sheet: str) -> str:
    return f"{sheet} — Tổng hợp đề xuất điển hình tiên tiến năm {pic.catalogue.year}"


def _names(units: list[Any], most: int = 25) -> str:
    """Unit names for one cell; long lists (district rounds) are shortened."""
    names = [u.name for u in units]
    return ", ".join(names) if len(names) <= most else f"{', '.join(names[:most])} và {len(names) - most} đơn vị khác"


def _table_header(ws: Any, st: _Styles, row: int, headers: list[str], officer: set[str] | None = None) -> None:
    for c, h in enumerate(headers):
        ws.write_string(row, c, h, st.officer_header if officer and h in officer else st.header)


def _dashboard(wb: Any, st: _Styles, pic: P.Picture) -> None:
    c = pic.catalogue
    ws = wb.add_worksheet(SHEET_DASHBOARD)
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, 46)
    ws.set_column(2, 2, 36)
    ws.set_column(3, 8, 13)
    ws.write_string(0, 0, f"TỔNG HỢP ĐỀ XUẤT ĐIỂN HÌNH TIÊN TIẾN NĂM {c.year} — {c.issuer.upper()}", st.title)
    ws.write_string(1, 0, c.round_title, st.sub)
    ws.write_string(2, 0, pic.deadline_text(), st.bold)
    ws.write_string(3, 0, f"Cập nhật lúc {P.format_dt(pic.now)}", st.sub)
    by = {s: 0 for s in (P.NOT_SUBMITTED, P.SUBMITTED_OK, P.SUBMITTED_ERRORS, P.LATE)}
    for s in pic.units:
        by[s.status] = by.get(s.status, 0) + 1
    counted = sum(1 for n in pic.nominations if n.state == P.NOM_CURRENT)
    totals = [
        ("Đơn vị được giao", len(pic.units)),
        ("Đã nộp", len(pic.units) - by[P.NOT_SUBMITTED]),
        (P.SUBMITTED_OK, by[P.SUBMITTED_OK]),
        (P.LATE, by[P.LATE]),
        (P.SUBMITTED_ERRORS, by[P.SUBMITTED_ERRORS]),
        (P.NOT_SUBMITTED, by[P.NOT_SUBMITTED]),
        ("Điển hình được tính", counted),
        ("Mục chưa đạt chỉ tiêu", sum(1 for a in pic.assignments if a.assignment.nominations and not a.quota_met)),
    ]
    for i, (label, n) in enumerate(totals):
        ws.write_string(5 + i, 1, label, st.bold)
        ws.write_number(5 + i, 2, n, st.text)
    top = 5 + len(totals) + 1
    headers = ["Mục", "Phong trào / lĩnh vực", "Đơn vị được giao", "Số đơn vị được giao", "Đã nộp",
               "Số điển hình", "Chỉ tiêu", "Đạt chỉ tiêu", "Đơn vị nộp muộn"]
    _table_header(ws, st, top, headers)
    ws.set_row(top, 32)
    r = top
    for a in pic.assignments:
        r += 1
        x = a.assignment
        longest = max(len(x.title) / 44, len(_names(a.units_assigned)) / 34, len(_names(a.late_units)) / 12,
                      len(a.quota_text) / 12 if x.nominations else 1, 1)
        ws.set_row(r, 15.75 * -(-int(longest * 10) // 10))  # wrapped cells: Excel does not size the row
        ws.write_string(r, 0, f"Mục {x.item}", st.text)
        ws.write_string(r, 1, x.title, st.wrap)
        ws.write_string(r, 2, _names(a.units_assigned), st.wrap)
        ws.write_number(r, 3, len(a.units_assigned), st.text)
        if x.nominations:
            ws.write_number(r, 4, len(a.units_submitted), st.text)
            ws.write_number(r, 5, a.nominations, st.text)
            ws.write_string(r, 6, a.quota_text, st.wrap)
            ws.write_string(r, 7, "Đạt" if a.quota_met else "Chưa đạt", st.text)
            ws.write_string(r, 8, _names(a.late_units), st.wrap)
        else:
            ws.write_string(r, 6, "Nhiệm vụ, không đề xuất", st.grey)
    ws.conditional_format(top + 1, 7, r, 7, {"type": "cell", "criteria": "==", "value": '"Đạt"', "format": st.ok})
    ws.conditional_format(top + 1, 7, r, 7, {"type": "cell", "criteria": "==", "value": '"Chưa đạt"',
                                             "format": st.bad})
    chart = wb.add_chart({"type": "column"})
    n_rows = [i for i, a in enumerate(pic.assignments) if a.assignment.nominations]
    if n_rows:
        first, last = top + 1 + n_rows[0], top + 1 + n_rows[-1]
        chart.add_series({"name": "Số điển hình", "categories": [SHEET_DASHBOARD, first, 0, last, 0],
                          "values": [SHEET_DASHBOARD, first, 5, last, 5], "fill": {"color": "#2E75B6"}})
        chart.add_series({"name": "Đơn vị đã nộp", "categories": [SHEET_DASHBOARD, first, 0, last, 0],
                          "values": [SHEET_DASHBOARD, first, 4, last, 4], "fill": {"color": "#70AD47"}})
        chart.add_series({"name": "Đơn vị được giao", "categories": [SHEET_DASHBOARD, first, 0, last, 0],
                          "values": [SHEET_DASHBOARD, first, 3, last, 3], "fill": {"color": "#BFBFBF"}})
    chart.set_title({"name": "Điển hình và đơn vị đã nộp theo mục"})
    chart.set_y_axis({"name": "Số lượng", "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 360})
    ws.insert_chart(r + 2, 1, chart)
    setup_print(ws, title=_print_title(pic, SHEET_DASHBOARD), landscape=True, widths=[8, 46, 36] + [13] * 6)
    ws.activate()


def _units(wb: Any, st: _Styles, pic: P.Picture) -> None:
    ws = wb.add_worksheet(SHEET_UNITS)
    headers = ["Mã đơn vị", "Tên đơn vị", "Loại đơn vị", "Nhiệm vụ", "Trạng thái", "Tệp mới nhất", "Thời điểm nhận",
               "Lần nộp đầu", "Phiên bản", "Số điển hình", "Số lỗi", "Số cảnh báo", "Địa chỉ thư"]
    widths = [20, 34, 22, 12, 18, 34, 17, 17, 9, 11, 8, 10, 24]
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    _table_header(ws, st, 0, headers)
    ws.freeze_panes(1, 2)
    for r, s in enumerate(pic.units, start=1):
        ws.write_row(r, 0, [s.unit.id, s.unit.name, s.unit.kind, ", ".join(f"Mục {a}" for a in s.assignments),
                            s.status, s.latest_file, P.format_dt(s.received_at),
                            P.format_dt(s.first_received_at)])
        if s.version:
            ws.write_number(r, 8, s.version)
        ws.write_row(r, 9, [s.nominations, s.errors, s.warnings, s.unit.email])
    n = len(pic.units)
    ws.autofilter(0, 0, max(n, 1), len(headers) - 1)
    setup_print(ws, title=_print_title(pic, SHEET_UNITS), landscape=True, repeat_rows=(0, 0), repeat_cols=(0, 1),
                widths=widths)
    for label, fmt in ((P.SUBMITTED_OK, st.ok), (P.SUBMITTED_ERRORS, st.bad), (P.LATE, st.warn),
                       (P.NOT_SUBMITTED, st.grey)):
        ws.conditional_format(1, 4, max(n, 1), 4, {"type": "cell", "criteria": "==", "value": f'"{label}"',
                                                   "format": fmt})


def _criteria_text(values: dict[str, str], n_keys: list[str]) -> tuple[str, str]:
    answered = [(k, values.get(k, "")) for k in n_keys if values.get(k)]
    met = sum(1 for _, v in answered if v == F.CRITERION_MET)
    summary = f"{met}/{len(answered)} Đạt" if answered else ""
    detail = "; ".join(f"TC{k.split('_')[1]}: {v}" for k, v in answered)
    return summary, detail


def _nominations(wb: Any, st: _Styles, pic: P.Picture, history: Any = None) -> None:
    ws = wb.add_worksheet(SHEET_NOMINATIONS)
    head = list(F.HEAD_FIELDS)
    tail = list(F.TAIL_FIELDS)
    officer = list(OFFICER_COLUMNS.values())
    headers = ([ID_HEADER, "Đơn vị", "Mục", "Tình trạng"] + [f.header for f in head]
               + ["Tên như đơn vị ghi", "Tiêu chí", "Chi tiết tiêu chí"] + [f.header for f in tail]
               + ["Tệp nguồn", "Trang", "Dòng", "Thời điểm nhận", LINK_NOTE_HEADER, "Các năm trước"] + officer)
    widths = ([15, 28, 8, 16] + [min(f.width, 30) for f in head] + [18, 10, 30] + [min(f.width, 24) for f in tail]
              + [26, 9, 6, 16, 30, 40, 16, 22, 30, 16])
    for i, w in enumerate(widths):
        ws.set_column(i, i, w, st.officer if headers[i] in officer else None)
    _table_header(ws, st, 0, headers, set(officer))
    ws.set_row(0, 45)
    ws.freeze_panes(1, 2)
    crit_keys_by: dict[str, list[str]] = {a.assignment.id: [c.key for c in a.assignment.criteria]
                                          for a in pic.assignments}
    order = {P.NOM_CURRENT: 0, P.NOM_ERROR: 1, P.NOM_WITHDRAWN: 2}
    rows = sorted(pic.nominations, key=lambda r: (r.assignment.item, r.unit.name, order.get(r.state, 3),
                                                  r.nomination.row))
    officer_col0 = len(headers) - len(officer)
    for r, row in enumerate(rows, start=1):
        n = row.nomination
        v = n.values
        summary, detail = _criteria_text(v, crit_keys_by.get(n.assignment_id, []))
        values: list[Any] = [n.nomination_id, row.unit.name, f"Mục {row.assignment.item}", row.state]
        values += [v.get(f.key, "") for f in head]
        original = " ".join(n.original_name.split())
        values += [n.original_name if original != v.get("ten", "") else "", summary, detail]
        values += [v.get(f.key, "") for f in tail]
        values += [n.file, n.sheet, n.row, P.format_dt(row.received_at), row.note]
        values += [history.past_text(n.nomination_id) if history is not None else ""]  # history: Các năm trước
        values += [row.officer.get(k, "") for k in OFFICER_COLUMNS]
        for c, val in enumerate(values):
            fmt = st.officer if c >= officer_col0 else None
            if isinstance(val, int):
                ws.write_number(r, c, val, fmt)
            elif val:
                ws.write_string(r, c, str(val), fmt)
            elif fmt is not None:
                ws.write_blank(r, c, None, fmt)
    last = max(len(rows), 1)
    ws.autofilter(0, 0, last, len(headers) - 1)
    ws.data_validation(1, officer_col0, max(last, 500), officer_col0, {
        "validate": "list", "source": list(F.OFFICER_DECISIONS), "input_title": "Kết quả xét chọn",
        "input_message": "Chọn: Đang xem xét / Được chọn / Không chọn.", "error_type": "stop",
        "error_title": "Giá trị không hợp lệ", "error_message": "Chọn một giá trị trong danh sách."})
    setup_print(ws, title=_print_title(pic, SHEET_NOMINATIONS), landscape=True, repeat_rows=(0, 0),
                repeat_cols=(0, 1), widths=widths)
    ws.conditional_format(1, 3, last, 3, {"type": "cell", "criteria": "==", "value": f'"{P.NOM_WITHDRAWN}"',
                                          "format": st.grey})
    ws.conditional_format(1, 3, last, 3, {"type": "cell", "criteria": "==", "value": f'"{P.NOM_ERROR}"',
                                          "format": st.bad})


def _problems(wb: Any, st: _Styles, pic: P.Picture) -> None:
    ws = wb.add_worksheet(SHEET_PROBLEMS)
    headers = ["Mức độ", "Đơn vị", "Tệp", "Trang", "Ô", "Giá trị", "Nội dung cần sửa", "Mã lỗi"]
    widths = [10, 24, 24, 12, 7, 18, 56, 18]
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    _table_header(ws, st, 0, headers)
    ws.freeze_panes(1, 0)
    names = {u.id: u.name for u in pic.catalogue.units}
    probs = sorted(pic.problems, key=lambda p: (p.severity != "error", names.get(p.unit_id or "", "~"), p.file,
                                                p.sheet or "", p.cell or ""))
    for r, p in enumerate(probs, start=1):
        ws.write_row(r, 0, [SEVERITY_LABEL.get(p.severity, p.severity), names.get(p.unit_id or "", p.unit_id or ""),
                            p.file, p.sheet or "", p.cell or "", p.value or ""])
        ws.write_string(r, 6, p.message, st.wrap)
        ws.write_string(r, 7, p.code or "")
    last = max(len(probs), 1)
    ws.autofilter(0, 0, last, len(headers) - 1)
    setup_print(ws, title=_print_title(pic, SHEET_PROBLEMS), landscape=True, repeat_rows=(0, 0), widths=widths)
    ws.conditional_format(1, 0, last, 0, {"type": "cell", "criteria": "==", "value": '"Lỗi"', "format": st.bad})
    ws.conditional_format(1, 0, last, 0, {"type": "cell", "criteria": "==", "value": '"Cảnh báo"',
                                          "format": st.warn})


def _files(wb: Any, st: _Styles, pic: P.Picture, overrides: dict[str, str]) -> None:
    ws = wb.add_worksheet(SHEET_FILES)
    headers = ["Tên tệp", "Tệp gốc trong inbox", "Định dạng", "Kích thước (KB)", "Thời điểm nhận",
               "Nguồn thời điểm nhận", "Người gửi", "Đơn vị", "Nhận diện theo", "Phiên bản", "Kết quả", "Số lỗi",
               "Số cảnh báo", "Số điển hình", "Cùng nội dung, nhận dưới tên", FILE_ID_HEADER, OVERRIDE_HEADER]
    widths = [34, 26, 9, 10, 17, 20, 24, 28, 14, 9, 26, 8, 10, 11, 30, 14, 22]
    for i, w in enumerate(widths):
        ws.set_column(i, i, w, st.officer if headers[i] == OVERRIDE_HEADER else None)
    _table_header(ws, st, 0, headers, {OVERRIDE_HEADER})
    ws.set_row(0, 32)
    ws.freeze_panes(1, 1)
    how = {"token": "mã xác nhận", "meta": "trang _meta", "sheet": "tên trong sổ", "filename": "tên tệp"}
    for r, f in enumerate(pic.files, start=1):
        ws.write_row(r, 0, [f.name, f.origin or "", f.fmt or "", round(f.size / 1024, 1),
                            P.format_dt(f.received_at),
                            f.received_source, f.sender or "", f.unit_name, how.get(f.identified_by or "", "")])
        if f.version:
            ws.write_number(r, 9, f.version)
        ws.write_row(r, 10, [f.outcome, f.errors, f.warnings, f.nominations, "; ".join(f.seen_as), f.sha256[:12]])
        ws.write_string(r, 16, overrides.get(f.sha256[:12], ""), st.officer)
    ws.autofilter(0, 0, max(len(pic.files), 1), len(headers) - 1)
    setup_print(ws, title=_print_title(pic, SHEET_FILES), landscape=True, repeat_rows=(0, 0), repeat_cols=(0, 0),
                widths=widths)
