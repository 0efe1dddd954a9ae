"""Write one nomination workbook per unit (xlsxwriter, styled by the template).

Each workbook explains itself (instructions sheet), holds one entry sheet per
assignment of the unit with dropdowns, input hints and a live self-check that needs
no macros, protects everything but the input cells, and carries the very hidden
``_meta`` sheet that identifies it when it comes back (see ``docs/meta_format.md``).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from hoacu_xlsx import fields as F
from hoacu_xlsx import meta as M
from hoacu_xlsx.atomic import write_atomically
from hoacu_xlsx.catalogue import Assignment, Catalogue, Unit
from hoacu_xlsx.cells import a1, col_letter
from hoacu_xlsx.printing import DEFAULT_FONT, setup_print
from hoacu_xlsx.template import Style

INSTRUCTIONS_SHEET = "Hướng dẫn"
LISTS_SHEET = "DanhMuc"
HEADER_ROW = 7           # 1-based row of the table header on entry sheets (older files: 12 — readers follow _meta)
DATA_ROWS = 30           # empty rows offered for nominees (units propose 1–5; 30 leaves room)
NUMERIC_META = ("format_version", "year", "header_row:", "first_data_row:", "last_data_row:")
_INLINE_LIMIT = 255      # Excel's limit for a comma-separated list typed into the validation
_CHARS_PER_LINE = 105    # of the instructions text across columns B:C (36 + 46 wide: A4 portrait)


def entry_sheet_name(a: Assignment) -> str:
    name = re.sub(r"[\[\]:*?/\\']", "", f"Mục {a.id}")
    return name[:31]


def file_name(unit: Unit, year: int) -> str:
    """ASCII-safe name that shows unit and year: 'DTTT_2024_ban_tuyen_giao.xlsx'."""
    return f"DTTT_{year}_{unit.id}.xlsx"


@dataclass
class Built:
    unit: Unit
    path: Path
    meta: M.Meta


def new_token() -> str:
    return secrets.token_hex(12)


def build_all(catalogue: Catalogue, outdir: Path, style: Style, units: list[Unit] | None = None) -> list[Built]:
    outdir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    done = []
    for unit in units if units is not None else catalogue.units_with_nominations():
        path = outdir / file_name(unit, catalogue.year)
        done.append(Built(unit, path, build_workbook(path, catalogue, unit, style, new_token(), stamp)))
    return done


def build_workbook(path: Path, catalogue: Catalogue, unit: Unit, style: Style, token: str, generated_at: str,
                   prefill: dict[str, list[dict[str, Any]]] | None = None,
                   preparer: dict[str, str] | None = None) -> M.Meta:
    """Write ``path`` for ``unit``; return the ``_meta`` contents written.

    ``prefill`` (assignment id -> rows of field values) writes rows as if a unit had typed
    them: the benchmarks and tests use it to make returned workbooks in bulk.
    """
    meta: list[M.Meta] = []
    write_atomically(path, lambda tmp: meta.append(_write_book(tmp, catalogue, unit, style, token, generated_at,
                                                               prefill, preparer)))
    return meta[0]


def _write_book(tmp: Path, catalogue: Catalogue, unit: Unit, style: Style, token: str, generated_at: str,
                prefill: dict[str, list[dict[str, Any]]] | None, preparer: dict[str, str] | None) -> M.Meta:
    """The workbook's whole content, written to the temporary ``tmp``."""
    assignments = catalogue.assignments_of(unit.id)
    duties = [a for a in catalogue.assignments_of(unit.id, nominations_only=False) if not a.nominations]
    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False, "in_memory": True,
                                         "default_format_properties": DEFAULT_FONT})
    wb.set_properties({"title": f"Đề xuất điển hình tiên tiến năm {catalogue.year} – {unit.name}",
                       "author": catalogue.issuer, "company": catalogue.issuer,
                       "comments": "Tạo bởi hoacu-xlsx"})
    fmts = _Formats(wb, style)
    meta = M.Meta(
        format_version=M.FORMAT_VERSION, year=str(catalogue.year), unit_id=unit.id, unit_name=unit.name,
        assignment_ids=[a.id for a in assignments], token=token, generated_at=generated_at,
        deadline=catalogue.deadline.isoformat(),
    )
    ctx = _Ctx(catalogue, unit, style, fmts)
    _write_instructions(wb.add_worksheet(INSTRUCTIONS_SHEET), ctx, assignments, duties)
    entry_sheets = [(a, wb.add_worksheet(entry_sheet_name(a), worksheet_class=_Sheet)) for a in assignments]
    lists_ws = wb.add_worksheet(LISTS_SHEET)
    list_refs = _write_lists(lists_ws, catalogue, assignments)
    lists_ws.hide()
    lists_ws.protect()
    for a, ws in entry_sheets:
        meta.layouts[a.id] = _write_entry_sheet(ws, ctx, a, list_refs[a.id], (prefill or {}).get(a.id, []),
                                                preparer or {})
    meta_ws = wb.add_worksheet(M.SHEET)
    _write_meta(meta_ws, meta)
    if entry_sheets:
        entry_sheets[0][1].activate()
    wb.close()
    return meta


# --------------------------------------------------------------------------- helpers


class _Sheet(Worksheet):
    """Our formulas use only classic functions: skip xlsxwriter's ~60 regex rewrites per formula."""

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        return formula[1:] if formula.startswith("=") else formula


class _Formats:
    """xlsxwriter formats built once per workbook from the template's roles."""

    def __init__(self, wb: xlsxwriter.Workbook, style: Style) -> None:
        self.wb, self.style = wb, style
        self._cache: dict[tuple, Any] = {}

    def get(self, role: str, **extra: Any) -> Any:
        key = (role, tuple(sorted(extra.items())))
        if key not in self._cache:
            props = {**self.style.formats[role], **extra}
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]

    def raw(self, role: str) -> dict[str, Any]:
        return self.style.formats[role]


@dataclass
class _Ctx:
    catalogue: Catalogue
    unit: Unit
    style: Style
    fmts: _Formats

    def text(self, role: str, muc: str = "") -> str:
        t = self.style.texts.get(role, "")
        return t.replace("{co_quan}", self.catalogue.issuer.upper()).replace("{don_vi}", self.unit.name) \
            .replace("{nam}", str(self.catalogue.year)).replace("{muc}", muc)


def _header_block(ws: Any, ctx: _Ctx, last_col: int, half: int) -> None:
    """Org and national header lines (rows 1–2) and the title (row 4) of the Hướng dẫn sheet."""
    f = ctx.fmts
    _span(ws, 0, 0, half, ctx.text("org"), f.get("org"))
    _span(ws, 1, 0, half, ctx.text("unit"), f.get("unit"))
    _span(ws, 0, half + 1, last_col, ctx.text("national"), f.get("national"))
    _span(ws, 1, half + 1, last_col, ctx.text("motto"), f.get("motto"))
    _span(ws, 3, 0, last_col, ctx.text("title"), f.get("title"))


def _span(ws: Any, row: int, c1: int, c2: int, text: str, fmt: Any) -> None:
    """Write text across columns c1..c2 (merged when more than one)."""
    if c2 > c1:
        ws.merge_range(row, c1, row, c2, text, fmt)
    else:
        ws.write_string(row, c1, text, fmt)


def _deadline_text(ctx: _Ctx) -> str:
    c = ctx.catalogue
    r = c.receiver
    who = r.title + (f" ({r.name})" if r.name else "")
    contact = ", ".join(x for x in (r.email, r.phone) if x)
    return (f"Hạn gửi: trước ngày {c.deadline:%d/%m/%Y} — gửi về {c.issuer} qua {who}"
            + (f"; liên hệ: {contact}" if contact else ""))


def _write_instructions(ws: Any, ctx: _Ctx, assignments: list[Assignment], duties: list[Assignment]) -> None:
    f = ctx.fmts
    ws.set_column(0, 0, 3)
    ws.set_column(1, 1, 36)
    ws.set_column(2, 2, 46)
    _header_block(ws, ctx, 2, half=1)
    ws.hide_gridlines(2)
    body, heading = f.get("body"), f.get("heading")
    row = 5
    for kind, text in _instruction_lines(ctx, assignments, duties):
        fmt = heading if kind == "h" else (f.get("body", bold=True) if kind == "b" else body)
        _span(ws, row, 1, 2, text, fmt)
        if len(text) > _CHARS_PER_LINE:  # merged cells never auto-fit: size the row for its lines
            ws.set_row(row, 15.75 * -(-len(text) // _CHARS_PER_LINE))
        row += 1
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
    setup_print(ws, title=f"{ctx.unit.name} — {INSTRUCTIONS_SHEET}", landscape=False, widths=(3, 36, 46),
                font_pt=_smallest_font(ctx.style, ("body", "heading")), area=(0, 0, row, 2))


def _instruction_lines(ctx: _Ctx, assignments: list[Assignment], duties: list[Assignment]) -> list[tuple[str, str]]:
    """The Hướng dẫn text: (kind, text) with kind h = heading, b = bold line, p = paragraph."""
    c = ctx.catalogue
    lines: list[tuple[str, str]] = [
        ("h", "1. ĐƠN VỊ ĐƯỢC GIAO"),
        ("p", f"{ctx.unit.name}. Thực hiện {c.dispatch or 'công văn của ' + c.issuer}, đơn vị xem xét lựa chọn, "
              "xây dựng và nhân rộng điển hình tiên tiến trong nhiệm vụ dưới đây, rồi điền vào sổ này và gửi lại."),
        ("p", _deadline_text(ctx) + "."),
        ("h", "2. NHIỆM VỤ VÀ TIÊU CHUẨN"),
    ]
    for a in assignments:
        lines.append(("b", f"{a.heading} — {a.kind_label}. Trang nhập: '{entry_sheet_name(a)}'."))
        lines.append(("p", _quota_text(c, a)))
        if a.note:
            lines.append(("p", a.note))
        for k in a.nominee_kinds:
            lines.append(("b", f"Tiêu chuẩn đối với: {k.label}"))
            for cr in a.criteria_for(k.id):
                lines.append(("p", f"   TC{cr.number}. {cr.text}."))
    for d in duties:
        lines.append(("b", f"{d.heading} — nhiệm vụ, không đề xuất điển hình."))
        lines.append(("p", d.duty or d.title))
    per_item = ("Mỗi mục (mỗi trang 'Mục …') cần ít nhất 01 điển hình cho mục đó."
                if len(assignments) > 1 else "Cần ít nhất 01 điển hình cho mục này.")
    return lines + [
        ("h", "3. CÁCH ĐIỀN"),
        ("p", "• Mỗi điển hình (tập thể, cá nhân hoặc hộ gia đình) ghi trên một dòng của bảng, bắt đầu từ dòng đầu tiên "
              f"ngay dưới tiêu đề cột. {per_item}"),
        ("p", "• Các ô có mũi tên là ô chọn: bấm vào ô rồi chọn trong danh sách, không gõ khác danh sách."),
        ("p", "• Cột tiêu chí (TC1, TC2, ...): chọn 'Đạt' hoặc 'Chưa đạt' cho từng tiêu chí. Nội dung đầy đủ của mỗi "
              "tiêu chí ở phần 2 phía trên."),
        ("p", "• Màu nền của ô trong bảng: ô màu đỏ nhạt là ô bắt buộc còn trống — phải điền mới gửi được; ô màu vàng "
              "nhạt là ô nên điền còn trống — để trống vẫn gửi được nhưng nên điền đủ; ô màu xám là tiêu chí không "
              "áp dụng cho loại điển hình của dòng đó — để trống."),
        ("p", "• Cột 'Tự kiểm tra' cho biết dòng còn thiếu bao nhiêu ô bắt buộc; ô 'Tình trạng' phía trên bảng cho "
              "biết cả trang đã đủ chưa."),
        ("p", f"• Năm sinh là số 4 chữ số, từ 1900 đến {c.year} (ví dụ 1985). Điện thoại ghi đủ số, ví dụ 0912345678."),
        ("p", "• Điền họ tên, chức vụ, điện thoại người lập biểu và ngày lập phía trên bảng."),
        ("p", "• Không đổi tên, xóa hay thêm trang; không chèn, xóa cột. Sổ không dùng macro, mở được bằng "
              "Microsoft Excel, LibreOffice Calc hoặc WPS."),
        ("p", "• In: mỗi trang giấy A4 in tiêu đề cột và số trang; bảng rộng được in thành nhiều trang theo chiều "
              "ngang, mỗi trang lặp lại cột STT, Loại điển hình và Tên."),
        ("p", "• Lưu tệp (giữ định dạng .xlsx) và gửi lại qua thư điện tử. Nếu cần thêm dòng hoặc gặp khó khăn, "
              "liên hệ cán bộ TĐKT."),
    ]


def _smallest_font(style: Style, roles: tuple[str, ...]) -> float:
    """The smallest font size among the roles that print (the officer's template may change them)."""
    return min(float(style.formats.get(r, {}).get("font_size", 11)) for r in roles)


def _quota_text(c: Catalogue, a: Assignment) -> str:
    names = [u.name for u in c.assignees_of(a)]
    listed = ", ".join(names) if len(names) <= 12 else f"{', '.join(names[:10])} và {len(names) - 10} đơn vị khác"
    scope = ("Mỗi đơn vị được giao" if a.quota_scope == "each" else "Các đơn vị được giao (tính chung)")
    return (f"Đơn vị được giao: {listed}. {scope} đề xuất ít nhất {a.quota:02d} điển hình tiên tiến cho mục này. "
            f"Loại điển hình: {', '.join(k.label for k in a.nominee_kinds)}.")


def _write_lists(ws: Any, c: Catalogue, assignments: list[Assignment]) -> dict[str, dict[str, str]]:
    """Write every closed list into the hidden list sheet; return per assignment list-name -> source."""
    refs: dict[str, dict[str, str]] = {}
    col = 0
    written: dict[tuple[str, ...], str] = {}
    for a in assignments:
        refs[a.id] = {}
        for name, values in F.lists_for(c, a).items():
            inline = ",".join(values)
            if len(inline) <= _INLINE_LIMIT and not any("," in v or '"' in v for v in values):
                refs[a.id][name] = values  # type: ignore[assignment]
                continue
            if values not in written:
                ws.write_string(0, col, f"{name}:{a.id}" if name == "kinds" else name)
                for i, v in enumerate(values, start=1):
                    ws.write_string(i, col, v)
                letter = col_letter(col)
                written[values] = f"={LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}"
                col += 1
            refs[a.id][name] = written[values]
    return refs


def _recommended(fd: F.Field, a: Assignment, kind_id: str, base: str) -> bool:
    return F.field_recommended(fd, kind_id, base)


def _kind_condition(a: Assignment, kind_ids: set[str], ref: str) -> str | None:
    """Excel condition 'the row's nominee kind is one of kind_ids'; None means always."""
    labels = [k.label for k in a.nominee_kinds if k.id in kind_ids]
    if len(labels) == len(a.nominee_kinds):
        return None
    if not labels:
        return "FALSE"
    terms = [f'{ref}="{_q(lbl)}"' for lbl in labels]
    return terms[0] if len(terms) == 1 else f"OR({','.join(terms)})"


def _q(s: str) -> str:
    return s.replace('"', '""')


_PRINTED_ROLES = ("input", "criterion", "check", "header", "stt", "label", "status", "input_box")
# The top block sits in columns A..J, the first printed band of every entry sheet (0-based rows/columns).
# preparer fields (per PREPARER_FIELDS): (row, label columns, input columns)
_PREPARER_SPOTS = ((3, (0, 1), (2, 2)), (3, (3, 4), (5, 6)), (3, (7, 7), (8, 8)), (4, (0, 1), (2, 2)))
STATUS_ROW = 4           # 'Tình trạng' label in D:E, the live status in F:J
LEGEND_ROW = 5           # what the cell colours mean


def _write_entry_sheet(ws: Any, ctx: _Ctx, a: Assignment, lists: dict[str, Any],
                       prefill: list[dict[str, Any]], preparer: dict[str, str]) -> M.SheetLayout:
    """One assignment's entry sheet: a short top block, the table, self-checks, print settings."""
    fields = F.fields_for(a)
    # columns: A = STT, then fields, then 'Tự kiểm tra', then a hidden count
    col_of = {fd.key: i + 1 for i, fd in enumerate(fields)}
    check_col = len(fields) + 1
    hr = HEADER_ROW - 1                  # 0-based header row
    first, last = hr + 1, hr + DATA_ROWS  # 0-based data rows
    layout = M.SheetLayout(a.id, entry_sheet_name(a), HEADER_ROW,
                           {fd.key: col_letter(col_of[fd.key]) for fd in fields},
                           first + 1, last + 1)
    _entry_top(ws, ctx, a, preparer, layout)
    _entry_status(ws, ctx, col_of, check_col, first, last)
    widths = _entry_table(ws, ctx, a, fields, col_of, check_col, prefill)
    for fd in fields:
        _validate(ws, fd, lists, ctx.catalogue, first, last, col_of[fd.key])
    _entry_highlights(ws, ctx, a, fields, col_of, first, last)
    ws.freeze_panes(hr + 1, col_of["ten"] + 1)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True,
                    "format_columns": True, "format_rows": True})
    setup_print(ws, title=f"{ctx.unit.name} — {a.heading}", landscape=True, repeat_rows=(hr, hr),
                repeat_cols=(0, col_of["ten"]), widths=widths, font_pt=_smallest_font(ctx.style, _PRINTED_ROLES),
                area=(0, 0, last, check_col))
    return layout


def _entry_top(ws: Any, ctx: _Ctx, a: Assignment, preparer: dict[str, str],
               layout: M.SheetLayout) -> None:
    """Title, assignment, unit and deadline, preparer: short rows (the long texts are on Hướng dẫn)."""
    f = ctx.fmts
    _span(ws, 0, 0, 9, ctx.text("title"), f.get("title"))
    ws.set_row(0, 21)
    muc = f"{a.heading} ({a.kind_label})"
    _span(ws, 1, 0, 9, ctx.text("subtitle", muc) or muc, f.get("subtitle"))
    ws.set_row(1, 33 if len(muc) > 110 else 18)
    # unit line (the reader's fallback identification) and deadline
    label = f.get("label")
    _span(ws, 2, 0, 1, F.UNIT_LABEL, label)
    ws.merge_range(2, 2, 2, 4, ctx.unit.name, f.get("label", align="left"))
    ws.merge_range(2, 5, 2, 9, f"Hạn gửi: trước ngày {ctx.catalogue.deadline:%d/%m/%Y} — nơi gửi, cách điền, "
                   "nội dung đầy đủ các tiêu chí: xem trang Hướng dẫn", f.get("body", italic=True, text_wrap=False))
    box = f.get("input_box", locked=False)
    date_box = f.get("input_box", locked=False, num_format="dd/mm/yyyy")
    for (key, text), (row, (l1, l2), (i1, i2)) in zip(F.PREPARER_FIELDS, _PREPARER_SPOTS):
        _span(ws, row, l1, l2, text + ":", label)
        fmt = date_box if key == "ngay_lap" else box
        if i2 > i1:
            ws.merge_range(row, i1, row, i2, "", fmt)
        if key in preparer:
            ws.write_string(row, i1, preparer[key], fmt)
        else:
            ws.write_blank(row, i1, None, fmt)
        layout.preparer[key] = a1(row, i1)


def _entry_status(ws: Any, ctx: _Ctx, col_of: dict[str, int], check_col: int, first: int, last: int) -> None:
    """The live 'Tình trạng' cell and the colour legend (red / yellow / grey)."""
    f = ctx.fmts
    ten_col = col_letter(col_of["ten"])
    loai_col = col_letter(col_of["loai_dien_hinh"])
    cnt_letter = col_letter(check_col + 1)
    rng = lambda L: f"${L}${first + 1}:${L}${last + 1}"  # noqa: E731
    empty = "Chưa nhập điển hình nào (cần ít nhất 01 điển hình cho mục này)"
    status = (f'=IF(COUNTA({rng(ten_col)})+COUNTA({rng(loai_col)})=0,"{empty}",'
              f'IF(SUM({rng(cnt_letter)})=0,"Đã đủ thông tin: "&COUNTA({rng(ten_col)})&" điển hình — có thể gửi",'
              f'"Còn thiếu "&SUM({rng(cnt_letter)})&" ô bắt buộc (ô màu đỏ) — chưa gửi được"))')
    _span(ws, STATUS_ROW, 3, 4, "Tình trạng:", f.get("label"))
    ws.merge_range(STATUS_ROW, 5, STATUS_ROW, 9, "", f.get("status"))
    ws.write_formula(STATUS_ROW, 5, status, f.get("status"), empty)
    status_cell = a1(STATUS_ROW, 5)
    ws.conditional_format(status_cell, {"type": "text", "criteria": "begins with", "value": "Còn thiếu",
                                        "format": f.wb.add_format({"font_color": "#C00000"})})
    ws.conditional_format(status_cell, {"type": "text", "criteria": "begins with", "value": "Đã đủ",
                                        "format": f.wb.add_format({"font_color": "#00703C"})})
    _span(ws, LEGEND_ROW, 0, 1, "Màu nền ô:", f.get("label"))
    font = {k: v for k, v in f.raw("input").items() if k in ("font_name", "font_size")}
    legend = (("missing", 2, 2, "Đỏ: bắt buộc, còn trống"), ("recommended", 3, 5, "Vàng: nên điền"),
              ("not_applicable", 6, 6, "Xám: không áp dụng"))
    for role, c1, c2, text in legend:
        _span(ws, LEGEND_ROW, c1, c2, text, f.get(role, border=1, align="center", **font))


def _entry_table(ws: Any, ctx: _Ctx, a: Assignment, fields: list[F.Field], col_of: dict[str, int],
                 check_col: int, prefill: list[dict[str, Any]]) -> list[float]:
    """Header row, widths, input cells and the per-row self-check; returns the column widths."""
    f, style = ctx.fmts, ctx.style
    hr = HEADER_ROW - 1
    first, last = hr + 1, hr + DATA_ROWS
    count_col = check_col + 1
    hfmt = f.get("header")
    ws.set_row(hr, style.header_height)
    ws.write_string(hr, 0, F.STT_HEADER, hfmt)
    widths = [style.widths["stt"]]
    for fd in fields:
        ws.write_string(hr, col_of[fd.key], fd.header, hfmt)
        widths.append(style.widths["criterion"] if fd.criterion else style.widths.get(fd.key, fd.width))
    widths.append(style.widths["check"])
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    ws.write_string(hr, check_col, F.CHECK_HEADER, hfmt)
    ws.write_string(hr, count_col, "_so_o_thieu", hfmt)
    ws.set_column(count_col, count_col, 6, None, {"hidden": True})

    stt_fmt, check_fmt = f.get("stt"), f.get("check")
    fmts = {"criterion": f.get("criterion", locked=False), "text": f.get("input", locked=False, num_format="@"),
            "year": f.get("input", locked=False, num_format="0", align="center"), "other": f.get("input", locked=False)}
    kind_of = {fd.key: ("criterion" if fd.criterion else "text" if fd.kind in ("phone", "text", "long")
                        else fd.kind if fd.kind == "year" else "other") for fd in fields}
    first_in, last_in = col_letter(1), col_letter(len(fields))
    loai_col = col_letter(col_of["loai_dien_hinh"])
    cnt_letter = col_letter(count_col)
    terms = []
    for fd in fields:
        req_kinds = {k.id for k in a.nominee_kinds if F.field_required(fd, a, k.id, k.base)}
        if req_kinds:
            cond = _kind_condition(a, req_kinds, f"${loai_col}{{r}}")
            terms.append(f'({col_letter(col_of[fd.key])}{{r}}="")' + (f"*({cond})" if cond else ""))
    count_tpl = "+".join(terms) or "0"
    for r in range(first, last + 1):
        rn = r + 1
        ws.write_number(r, 0, r - first + 1, stt_fmt)
        typed = prefill[r - first] if r - first < len(prefill) else {}
        for fd in fields:
            _write_input(ws, r, col_of[fd.key], typed.get(fd.key), fmts[kind_of[fd.key]], kind_of[fd.key])
        nonempty = f"COUNTA(${first_in}{rn}:${last_in}{rn})>0"
        ws.write_formula(r, count_col, f"=IF({nonempty},{count_tpl.format(r=rn)},0)", check_fmt, 0)
        ws.write_formula(r, check_col, f'=IF(NOT({nonempty}),"",IF({cnt_letter}{rn}=0,"Đủ","Thiếu "&{cnt_letter}{rn}&" ô"))',
                         check_fmt, "")
    return widths + [0]


def _write_input(ws: Any, r: int, c: int, value: Any, fmt: Any, kind: str) -> None:
    """One input cell, blank or prefilled as a unit would type it (years as numbers)."""
    if isinstance(value, str) and kind == "year" and value.strip().isdigit():
        value = int(value)
    if value is None:
        ws.write_blank(r, c, None, fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(r, c, value, fmt)
    else:
        ws.write_string(r, c, str(value), fmt)


def _entry_highlights(ws: Any, ctx: _Ctx, a: Assignment, fields: list[F.Field], col_of: dict[str, int],
                      first: int, last: int) -> None:
    """Conditional formats: not applicable criteria (grey), missing required (red), recommended (yellow)."""
    f = ctx.fmts
    row1 = first + 1
    loai_col = col_letter(col_of["loai_dien_hinh"])
    first_in, last_in = col_letter(1), col_letter(len(fields))
    na_fmt = f.wb.add_format(f.raw("not_applicable"))
    miss_fmt = f.wb.add_format(f.raw("missing"))
    rec_fmt = f.wb.add_format(f.raw("recommended"))
    for fd in fields:
        L = col_letter(col_of[fd.key])
        area = f"{L}{row1}:{L}{last + 1}"
        if fd.criterion:
            na_kinds = {k.id for k in a.nominee_kinds} - set(fd.criterion.applies_to)
            na_cond = _kind_condition(a, na_kinds, f"${loai_col}{row1}")
            if na_cond and na_cond != "FALSE":
                ws.conditional_format(area, {"type": "formula", "criteria": f"={na_cond}", "format": na_fmt,
                                             "stop_if_true": True})
        for which, fmt in ((F.field_required, miss_fmt), (_recommended, rec_fmt)):
            kinds = {k.id for k in a.nominee_kinds if which(fd, a, k.id, k.base)}
            if not kinds:
                continue
            cond = _kind_condition(a, kinds, f"${loai_col}{row1}")
            crit = f'AND(COUNTA(${first_in}{row1}:${last_in}{row1})>0,{L}{row1}=""' + (f",{cond})" if cond else ")")
            ws.conditional_format(area, {"type": "formula", "criteria": "=" + crit, "format": fmt})


def _validate(ws: Any, fd: F.Field, lists: dict[str, Any], c: Catalogue, first: int, last: int, col: int) -> None:
    title = _cut(fd.header, 32)
    opts: dict[str, Any] = {"input_title": title, "input_message": _cut(fd.hint, 255), "show_input": True}
    lname = F.list_name(fd, c)
    if lname:
        source = lists[lname]
        opts.update({
            "validate": "list", "source": list(source) if isinstance(source, tuple) else source,
            "error_type": "stop", "error_title": "Giá trị không hợp lệ",
            "error_message": _cut("Vui lòng chọn một giá trị trong danh sách (bấm mũi tên bên phải ô).", 255),
        })
    elif fd.kind == "year":
        opts.update({
            "validate": "integer", "criteria": "between", "minimum": 1900, "maximum": c.year,
            "error_type": "stop", "error_title": "Năm sinh không hợp lệ",
            "error_message": f"Năm sinh là số nguyên 4 chữ số, từ 1900 đến {c.year}.",
        })
    elif fd.kind == "long":
        opts.update({"validate": "length", "criteria": "<=", "value": 4000, "error_type": "stop",
                     "error_title": "Nội dung quá dài", "error_message": "Tối đa 4.000 ký tự."})
    else:
        opts.update({"validate": "any"})
    ws.data_validation(first, col, last, col, opts)


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _write_meta(ws: Any, meta: M.Meta) -> None:
    for i, (key, value) in enumerate(meta.rows()):
        ws.write_string(i, 0, key)
        if key.startswith(NUMERIC_META) and str(value).isdigit():
            ws.write_number(i, 1, int(value))
        else:
            ws.write_string(i, 1, unicodedata.normalize("NFC", str(value)))
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 40)
    ws.very_hidden()
    ws.protect()
