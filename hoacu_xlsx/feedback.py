"""Feedback for units: their own workbook back, problem cells marked, a summary sheet on top.

For each unit whose current file has errors, the officer gets
``feedback/PhanHoi_<year>_<unit>.xlsx`` to email straight back: a copy of the
returned workbook (from the store's archive) with every problem cell filled and
carrying a Vietnamese comment, and a first sheet "Cần sửa" listing everything to fix.
Files are rewritten only when their content would change, and removed once a unit
is clean.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path
from typing import Any

from hoacu_xlsx import picture as P
from hoacu_xlsx.atomic import write_atomically
from hoacu_xlsx.cells import col_letter
from hoacu_xlsx.printing import setup_print_openpyxl
from hoacu_xlsx.problems import SEVERITY_LABEL, Problem
from hoacu_xlsx.store import Store

SUMMARY_SHEET = "Cần sửa"
_ERROR_FILL = "FFFFC7CE"
_WARN_FILL = "FFFFEB9C"


def feedback_name(year: int, unit_id: str) -> str:
    return f"PhanHoi_{year}_{unit_id}.xlsx"


def write_feedback(picture: P.Picture, store: Store, outdir: Path) -> list[Path]:
    """Write (or refresh) one feedback workbook per unit with errors; return their paths."""
    year = picture.catalogue.year
    wanted: dict[str, Path] = {}
    for st in picture.units:
        if st.status != P.SUBMITTED_ERRORS:
            continue
        entries = [f for f in picture.files if f.unit_id == st.unit.id and f.outcome == P.FILE_CURRENT]
        if not entries:
            continue
        entry = entries[-1]
        names = {e.name for e in entries}
        probs = [p for p in picture.problems if p.file in names]
        if not any(p.is_error for p in probs) and st.nominations:
            continue
        path = outdir / feedback_name(year, st.unit.id)
        sig = hashlib.sha256(("|".join(sorted(names)) + "".join(str(p) for p in probs)).encode()).hexdigest()[:32]
        wanted[st.unit.id] = path
        if _signature(path) == sig:
            continue
        outdir.mkdir(parents=True, exist_ok=True)
        data = store.archived_bytes(entry.archive) if entry.archive else None
        _write_one(path, picture, st, entry, probs, data, sig)
    if outdir.exists():
        keep = set(wanted.values())
        for old in outdir.glob(f"PhanHoi_{year}_*.xlsx"):
            if old not in keep:
                try:
                    old.unlink()
                except OSError:
                    pass
    return sorted(wanted.values())


def _signature(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as z:
            core = z.read("docProps/core.xml").decode("utf-8", "replace")
        m = re.search(r"<cp:keywords>([0-9a-f]{32})</cp:keywords>", core)
        return m.group(1) if m else None
    except (OSError, KeyError, zipfile.BadZipFile):
        return None


def _write_one(path: Path, pic: P.Picture, st: P.UnitStatus, entry: P.FileEntry, probs: list[Problem],
               data: bytes | None, sig: str) -> None:
    from openpyxl import Workbook, load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    wb = None
    copied = False
    if data and entry.fmt in ("xlsx", "xlsm"):
        try:
            wb = load_workbook(io.BytesIO(data), keep_vba=False)
            copied = True
        except Exception:
            wb = None
    if wb is None:
        wb = Workbook()
        wb.active.title = "Tệp của đơn vị"
        wb.active["A1"] = ("Tệp gửi về không phải định dạng .xlsx nên không kèm bản sao; đơn vị sửa trực tiếp trong "
                           "tệp của mình theo danh sách ở trang 'Cần sửa'.")
    # mark every problem cell
    marked = 0
    for p in probs:
        if not (copied and p.sheet and p.cell and p.sheet in wb.sheetnames):
            continue
        try:
            cell = wb[p.sheet][p.cell]
        except (ValueError, KeyError):
            continue
        if type(cell).__name__ == "MergedCell":
            continue
        cell.fill = PatternFill("solid", fgColor=_ERROR_FILL if p.is_error else _WARN_FILL)
        text = f"{SEVERITY_LABEL.get(p.severity, p.severity)}: {p.message}"
        if cell.comment is not None and cell.comment.text:
            text = cell.comment.text + "\n" + text
        cell.comment = Comment(text[:30000], "Cán bộ TĐKT")
        cell.comment.width, cell.comment.height = 320, 140
        marked += 1
    _write_summary(wb.create_sheet(SUMMARY_SHEET, 0), pic, st, entry, probs)
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    wb.properties.keywords = sig
    wb.properties.title = f"Phản hồi – {st.unit.name}"
    write_atomically(path, wb.save, keep_suffix=True)


_SUMMARY_WIDTHS = (5, 10, 12, 7, 20, 52)   # STT, Mức độ, Trang, Ô, Giá trị, Nội dung: A4 portrait at >= 8 pt
_LINE_CHARS = 100                           # characters of one wrapped line across A:F


def _write_summary(ws: Any, pic: P.Picture, st: P.UnitStatus, entry: P.FileEntry, probs: list[Problem]) -> None:
    """The 'Cần sửa' sheet: what to do (across the page width, wrapped), then one row per problem."""
    from openpyxl.styles import Alignment, Font, PatternFill

    c = pic.catalogue
    body = Font(name="Times New Roman", size=11)
    bold = Font(name="Times New Roman", bold=True, size=12)
    wrap = Alignment(wrap_text=True, vertical="top")
    errors = sum(p.is_error for p in probs)
    lines = [
        (f"PHẢN HỒI SỔ ĐỀ XUẤT ĐIỂN HÌNH TIÊN TIẾN NĂM {c.year}",
         Font(name="Times New Roman", bold=True, size=14, color="FFC00000")),
        (f"Đơn vị: {st.unit.name}", bold),
        (f"Tệp đã nhận: {entry.name} (nhận lúc {entry.received_at:%d/%m/%Y %H:%M})", body),
        (f"{pic.deadline_text()}. Đề nghị đơn vị sửa các ô được tô màu (di chuột vào ô để xem ghi chú) rồi gửi "
         f"lại cho {c.receiver.title}.", body),
        (f"Có {errors} lỗi (tô đỏ, phải sửa) và {len(probs) - errors} cảnh báo (tô vàng, nên xem lại).", body),
    ]
    last_col = len(_SUMMARY_WIDTHS)
    for row, (text, font) in enumerate(lines, start=1):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_col)
        cell = ws.cell(row, 1, text)
        cell.font, cell.alignment = font, wrap
        ws.row_dimensions[row].height = 16.5 * max(1, -(-len(text) // _LINE_CHARS)) + (3 if row == 1 else 0)
    head = 7
    for i, h in enumerate(["STT", "Mức độ", "Trang", "Ô", "Giá trị", "Nội dung cần sửa"], start=1):
        cell = ws.cell(head, i, h)
        cell.font = Font(name="Times New Roman", bold=True, size=11)
        cell.fill = PatternFill("solid", fgColor="FFDDEBF7")
    for r, p in enumerate(sorted(probs, key=lambda p: (not p.is_error, p.sheet or "", p.cell or "")), start=head + 1):
        values = [r - head, SEVERITY_LABEL.get(p.severity, p.severity), p.sheet or "", p.cell or ""]
        for i, v in enumerate(values, start=1):
            ws.cell(r, i, v).font = body
        for i, text in ((5, p.value or ""), (6, p.message)):
            _set_text(ws.cell(r, i), text)
            ws.cell(r, i).font, ws.cell(r, i).alignment = body, wrap
    for i, w in enumerate(_SUMMARY_WIDTHS):
        ws.column_dimensions[col_letter(i)].width = w
    setup_print_openpyxl(ws, title=f"{st.unit.name} — {SUMMARY_SHEET}", landscape=False,
                         repeat_rows=(head - 1, head - 1), widths=_SUMMARY_WIDTHS)


def _set_text(cell: Any, text: str) -> None:
    """openpyxl would store '=…' as a formula: keep such text as text."""
    cell.value = text
    if text.startswith("="):
        cell.data_type = "s"
