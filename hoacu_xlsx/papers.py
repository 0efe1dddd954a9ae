"""The commune's papers: the list of proposals (.docx and .xlsx), the report and the tờ trình.

The three .docx come from docxtpl templates the officer may edit (the working folder's
``templates/`` copy wins over the shipped one); the .xlsx list is written with xlsxwriter
for printing from Excel. Every paper is written to a temporary name and then replaced in
one step, and every failure comes back as a Vietnamese message naming the file.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from hoacu_xlsx import picture as P
from hoacu_xlsx.atomic import replace_file, temp_name
from hoacu_xlsx.catalogue import Catalogue
from hoacu_xlsx.report_figures import GROUPS, Chosen, RoundFigures

TEMPLATE_DIR = "templates"
REPORT_DIR = "reports"
TEMPLATES = ("bao_cao.docx", "to_trinh.docx", "danh_sach.docx")
DRAFT = "DỰ THẢO"
LIST_HEADERS = ("STT", "Họ và tên / Tên tập thể", "Chức vụ – Đơn vị (địa chỉ với hộ gia đình)", "Tóm tắt thành tích",
                "Hình thức đề nghị", "Ghi chú")
_FORM_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class PapersError(Exception):
    """A paper could not be written; the message is Vietnamese and names the file."""


# --------------------------------------------------------------------------- templates


def shipped_template(name: str) -> Path:
    return Path(str(resources.files("hoacu_xlsx") / "data" / "templates" / name))


def template_path(workdir: Path, name: str) -> Path:
    """The working folder's copy when present (the officer's wording), else the shipped template."""
    local = workdir / TEMPLATE_DIR / name
    return local if local.exists() else shipped_template(name)


def copy_templates(workdir: Path, force: bool = False) -> list[tuple[Path, bool]]:
    """``init``: copy the shipped paper templates into templates/ (kept unless ``force``)."""
    out = []
    for name in TEMPLATES:
        dst = workdir / TEMPLATE_DIR / name
        written = force or not dst.exists()
        if written:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shipped_template(name), dst)
        out.append((dst, written))
    return out


# --------------------------------------------------------------------------- context


def names(values: list[str], none: str = "không có") -> str:
    return "; ".join(values) if values else none


def nominee_label(row: P.NominationRow) -> str:
    """'Người mẫu Số 1 (Hội LHPN xã, Mục 13)': who, proposed by whom, for which item."""
    return f"{row.nomination.values.get('ten', '') or row.nomination.original_name} ({row.unit.name}, " \
           f"Mục {row.assignment.item})"


def _forms(fig: RoundFigures, catalogue: Catalogue) -> list[str]:
    """Forms of honour in the catalogue's order, then any other form the officer typed."""
    used = [c.form for c in fig.chosen]
    return [f for f in catalogue.honour_forms if f in used] + list(dict.fromkeys(f for f in used
                                                                                 if f not in catalogue.honour_forms))


def _count_text(chosen: list[Chosen]) -> str:
    parts = [f"{sum(1 for c in chosen if c.base == base)} {label.lower()}" for base, _, label in GROUPS]
    return ", ".join(p for p in parts if not p.startswith("0 ")) or "0 điển hình"


def _item_comment(i: Any) -> str:
    late = f" ({len(i.late)} gửi muộn: {names(i.late)})" if i.late else ""
    missing = f"; chưa gửi: {names(i.not_submitted)}" if i.not_submitted else ""
    quota = "đạt chỉ tiêu" if i.quota_met else "chưa đạt chỉ tiêu"
    return (f"{i.title} — giao {len(i.assigned)} đơn vị, đã gửi {len(i.on_time) + len(i.late)}{late}{missing}; "
            f"đề xuất {i.proposed} điển hình, được chọn {i.chosen}; {quota} ({i.quota_text}).")


def context(catalogue: Catalogue, fig: RoundFigures) -> dict[str, Any]:
    """The placeholders of the templates (documented in docs/report_templates.md)."""
    c = catalogue
    cong_van = c.dispatch or f"kế hoạch {c.round_title}"
    if c.dispatch_number:
        when = f" ngày {c.dispatch_date:%d/%m/%Y}" if c.dispatch_date else ""
        cong_van = f"Công văn số {c.dispatch_number}{when} của {c.issuer}" + (
            f" ({c.dispatch})" if c.dispatch else "")
    items = fig.nomination_items
    forms = _forms(fig, c)
    undecided = [nominee_label(r) for r in fig.undecided]
    return {
        "nam": c.year,
        "co_quan": c.issuer.upper(),
        "co_quan_ten": c.issuer,
        "dia_danh": c.place_name,
        "cong_van": cong_van,
        "giai_doan": c.plan_period,
        "gui_den": c.report_to or "…",
        "kinh_gui": f"Chủ tịch {c.issuer}",
        "nguoi_ky": {"quyen_han": c.signer.authority, "chuc_vu": c.signer.title, "ho_ten": c.signer.name},
        "du_thao": DRAFT if fig.is_draft else "",
        "so_chua_quyet": len(undecided),
        "ds_chua_quyet": names(undecided),
        "ds_nop_muon": names(fig.late),
        "ds_chua_nop": names(fig.not_submitted),
        "ds_chua_dat": names([f"Mục {i.item}" for i in items if not i.quota_met]),
        "tong": {
            "don_vi": fig.units_total, "da_nop": len(fig.submitted), "dung_han": len(fig.on_time),
            "nop_muon": len(fig.late), "chua_nop": len(fig.not_submitted),
            "de_xuat": sum(i.proposed for i in items), "duoc_chon": len(fig.chosen),
            "chon_tap_the": fig.chosen_by_base("tap_the"), "chon_ca_nhan": fig.chosen_by_base("ca_nhan"),
            "chon_ho": fig.chosen_by_base("ho_gia_dinh"), "muc": len(items),
            "muc_dat": sum(1 for i in items if i.quota_met),
        },
        "muc": [{"muc": i.item, "ten": i.title, "giao": len(i.assigned), "dung_han": len(i.on_time),
                 "muon": len(i.late), "chua_nop": len(i.not_submitted), "de_xuat": i.proposed,
                 "duoc_chon": i.chosen, "chi_tieu": "Đạt" if i.quota_met else "Chưa đạt",
                 "nhan_xet": _item_comment(i)} for i in items],
        "nhiem_vu": [{"muc": i.item, "ten": i.title, "don_vi": names(i.assigned, "…"),
                      "nhiem_vu": i.duty or "…"} for i in fig.duties],
        "hinh_thuc": [{"ten": f, "mo_ta": _count_text([x for x in fig.chosen if x.form == f])} for f in forms],
        "dong": list_rows(fig, forms),
    }


def _position(ch: Chosen) -> str:
    v = ch.row.nomination.values
    if ch.base == "ho_gia_dinh":
        return v.get("dia_chi", "")
    return v.get("chuc_vu_don_vi", "") or v.get("dia_chi", "")


def _achievement(ch: Chosen) -> str:
    v = ch.row.nomination.values
    model, done = v.get("mo_hinh", ""), v.get("thanh_tich", "")
    return f"Mô hình “{model}”: {done}" if model and done else (done or model)


def _note(ch: Chosen) -> str:
    parts = [f"Mục {ch.row.assignment.item} – {ch.row.unit.name}"]
    if ch.form_defaulted:
        parts.append("Hình thức tạm ghi theo danh mục (sổ tổng hợp để trống)")
    if note := (ch.row.officer.get("ghi_chu") or "").strip():
        parts.append(note)
    return ". ".join(parts)


def list_rows(fig: RoundFigures, forms: list[str]) -> list[dict[str, Any]]:
    """The list's rows: a heading per form of honour (A, B, …) when there are several, then I/II/III groups."""
    rows: list[dict[str, Any]] = []
    for fi, form in enumerate(forms):
        of_form = [c for c in fig.chosen if c.form == form]
        if len(forms) > 1:
            rows.append({"tieu_de": True, "stt": _FORM_LETTERS[fi % 26], "ten": form.upper()})
        for base, roman, label in GROUPS:
            group = [c for c in of_form if c.base == base]
            if not group:
                continue
            rows.append({"tieu_de": True, "stt": roman, "ten": label})
            for n, ch in enumerate(group, start=1):
                rows.append({"tieu_de": False, "stt": n, "ten": ch.row.nomination.values.get("ten", ""),
                             "chuc_vu_don_vi": _position(ch), "thanh_tich": _achievement(ch), "hinh_thuc": form,
                             "ghi_chu": _note(ch)})
    return rows


# --------------------------------------------------------------------------- writing


def _jinja_env() -> Any:
    import jinja2

    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)


def _template_problem(exc: Exception) -> str:
    """Jinja's English message, said in Vietnamese (the name of the placeholder when there is one)."""
    text = str(getattr(exc, "message", None) or exc)
    m = re.search(r"'([^']+)' is undefined", text) or re.search(r"has no attribute '([^']+)'", text)
    if m:
        return f"ô giữ chỗ '{m.group(1)}' không có trong danh sách ô giữ chỗ được hỗ trợ"
    line = getattr(exc, "lineno", None)
    return "thẻ {{ … }} hoặc {% … %} viết sai" + (f" (gần dòng {line} của nội dung mẫu)" if line else "")


def render_docx(template: Path, ctx: dict[str, Any], dst: Path) -> Path:
    """Render one docxtpl template into ``dst`` (temporary file, then one replace)."""
    import jinja2
    from docxtpl import DocxTemplate

    tmp = temp_name(dst, keep_suffix=True)
    try:
        tpl = DocxTemplate(str(template))
        tpl.render(ctx, jinja_env=_jinja_env(), autoescape=True)
        tpl.save(str(tmp))
    except jinja2.TemplateError as exc:
        _remove(tmp)
        raise PapersError(f"Mẫu '{template}' có lỗi: {_template_problem(exc)}. Sửa mẫu theo "
                          "docs/report_templates.md, hoặc xóa tệp mẫu để dùng mẫu có sẵn.") from None
    except OSError as exc:
        _remove(tmp)
        raise PapersError(f"Không ghi được '{dst}': {exc.strerror or exc}.") from None
    except Exception as exc:  # a damaged .docx the officer saved: say which file, never a traceback
        _remove(tmp)
        raise PapersError(f"Không đọc được mẫu '{template}' ({type(exc).__name__}). Mở và lưu lại tệp bằng Word/"
                          "LibreOffice Writer dạng .docx, hoặc xóa tệp mẫu để dùng mẫu có sẵn.") from None
    _replace(tmp, dst)
    return dst


def _replace(tmp: Path, dst: Path) -> None:
    try:
        replace_file(tmp, dst)
    except OSError as exc:
        _remove(tmp)
        raise PapersError(f"Không thay được '{dst}' ({exc.strerror or exc}): tệp có thể đang mở trong Word/Excel. "
                          "Hãy đóng tệp rồi chạy lại.") from None


def _remove(p: Path) -> None:
    try:
        p.unlink()
    except OSError:
        pass


def write_list_xlsx(catalogue: Catalogue, ctx: dict[str, Any], dst: Path) -> Path:
    """The list for Excel: A4 landscape, header row repeated, 1 page wide, page numbers in the footer."""
    import xlsxwriter

    tmp = temp_name(dst, keep_suffix=True)
    try:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_numbers": False,
                                            "strings_to_urls": False})
        wb.set_properties({"title": f"Danh sách đề nghị tôn vinh, khen thưởng năm {catalogue.year}",
                           "author": catalogue.issuer, "comments": "Tạo bởi hoacu-xlsx"})
        base = {"font_name": "Times New Roman", "font_size": 12, "text_wrap": True, "valign": "top"}
        title = wb.add_format({**base, "bold": True, "font_size": 14, "align": "center"})
        sub = wb.add_format({**base, "italic": True, "align": "center"})
        head = wb.add_format({**base, "bold": True, "border": 1, "align": "center", "valign": "vcenter",
                              "bg_color": "#F2F2F2"})
        group = wb.add_format({**base, "bold": True, "border": 1})
        group_c = wb.add_format({**base, "bold": True, "border": 1, "align": "center"})
        cell = wb.add_format({**base, "border": 1})
        cell_c = wb.add_format({**base, "border": 1, "align": "center"})
        ws = wb.add_worksheet("Danh sách")
        widths = (6, 26, 24, 48, 18, 26)
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        top = 0
        if ctx["du_thao"]:
            ws.merge_range(top, 0, top, 5, f"{DRAFT} — còn {ctx['so_chua_quyet']} điển hình chưa có kết quả xét "
                                           f"chọn: {ctx['ds_chua_quyet']}", wb.add_format({**base, "bold": True,
                                                                                             "font_color": "#C00000"}))
            top += 1
        ws.merge_range(top, 0, top, 5, "DANH SÁCH ĐỀ NGHỊ TÔN VINH, KHEN THƯỞNG", title)
        ws.merge_range(top + 1, 0, top + 1, 5, f"Điển hình tiên tiến năm {catalogue.year}", title)
        ws.merge_range(top + 2, 0, top + 2, 5, f"(Kèm theo Tờ trình số …/TTr-UBND ngày … tháng … năm "
                                               f"{catalogue.year} của {catalogue.issuer})", sub)
        hr = top + 4
        ws.write_row(hr, 0, LIST_HEADERS, head)
        ws.set_row(hr, 32)
        r = hr
        for row in ctx["dong"]:
            r += 1
            if row["tieu_de"]:
                ws.write_string(r, 0, row["stt"], group_c)
                ws.merge_range(r, 1, r, 5, row["ten"], group)
                continue
            ws.write_number(r, 0, row["stt"], cell_c)
            texts = [str(row[k]) for k in ("ten", "chuc_vu_don_vi", "thanh_tich", "hinh_thuc", "ghi_chu")]
            for c, text in enumerate(texts, start=1):
                ws.write_string(r, c, text, cell_c if c == 4 else cell)
            ws.set_row(r, _row_height(texts, widths[1:]))
        ws.write_string(r + 2, 1, f"Tổng cộng: {ctx['tong']['duoc_chon']} điển hình "
                                  f"({ctx['tong']['chon_tap_the']} tập thể, {ctx['tong']['chon_ca_nhan']} cá nhân, "
                                  f"{ctx['tong']['chon_ho']} hộ gia đình).", wb.add_format({**base, "text_wrap": False}))
        ws.set_landscape()
        ws.set_paper(9)
        ws.set_margins(left=30 / 25.4, right=15 / 25.4, top=20 / 25.4, bottom=20 / 25.4)
        ws.repeat_rows(hr)
        ws.fit_to_pages(1, 0)
        ws.center_horizontally()
        ws.set_header(f"&R&\"Times New Roman,Bold\"{DRAFT}" if ctx["du_thao"] else "")
        ws.set_footer("&C&\"Times New Roman\"Trang &P/&N")
        wb.close()
    except OSError as exc:
        _remove(tmp)
        raise PapersError(f"Không ghi được '{dst}': {exc.strerror or exc}.") from None
    _replace(tmp, dst)
    return dst


def _row_height(texts: list[str], widths: tuple[float, ...], line_pt: float = 15.5) -> float:
    """Excel does not size rows of wrapped text: estimate the lines of the fullest cell (12 pt text)."""
    lines = 1
    for text, width in zip(texts, widths):
        per_line = max(1, int(width * 0.95))
        need = sum(-(-max(len(part), 1) // per_line) for part in text.split("\n"))
        lines = max(lines, need)
    return lines * line_pt + 3


@dataclass
class Papers:
    report: Path
    submission: Path
    list_docx: Path
    list_xlsx: Path
    templates: dict[str, Path]


def write_all(catalogue: Catalogue, fig: RoundFigures, workdir: Path) -> Papers:
    """The four papers into reports/."""
    out = workdir / REPORT_DIR
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PapersError(f"Không tạo được thư mục '{out}': {exc.strerror or exc}.") from None
    ctx = context(catalogue, fig)
    y = catalogue.year
    used = {name: template_path(workdir, name) for name in TEMPLATES}
    return Papers(
        report=render_docx(used["bao_cao.docx"], ctx, out / f"bao_cao_ket_qua_{y}.docx"),
        submission=render_docx(used["to_trinh.docx"], ctx, out / f"to_trinh_{y}.docx"),
        list_docx=render_docx(used["danh_sach.docx"], ctx, out / f"danh_sach_de_nghi_{y}.docx"),
        list_xlsx=write_list_xlsx(catalogue, ctx, out / f"danh_sach_de_nghi_{y}.xlsx"),
        templates=used,
    )


# --------------------------------------------------------------------------- the ``report`` job


@dataclass
class ReportResult:
    figures: RoundFigures
    papers: Papers
    chart: Any            # dashboard_picture.Picture

    def lines(self) -> list[str]:
        fig, p = self.figures, self.papers
        out = [f"Đã ghi vào {p.report.parent}:"]
        out += [f"  • {path.name}" for path in (p.report, p.submission, p.list_docx, p.list_xlsx)]
        out.append(f"  • {(self.chart.pdf or self.chart.workbook).name}"
                   + (f" ({self.chart.problem})" if self.chart.problem else ""))
        local = [n for n, path in p.templates.items() if path != shipped_template(n)]
        if local:
            out.append(f"Dùng mẫu của cán bộ trong templates/: {', '.join(local)}.")
        if not fig.submitted:
            out.append("Chưa đơn vị nào gửi đề xuất vào kho dữ liệu: hãy lưu tệp nhận được vào inbox/ và chạy "
                       "'hoacu-xlsx merge' trước.")
        out.append(f"Được chọn: {len(fig.chosen)} điển hình" + (f" ({_count_text(fig.chosen)})." if fig.chosen else "."))
        defaulted = sum(1 for c in fig.chosen if c.form_defaulted)
        if defaulted:
            out.append(f"{defaulted} điển hình được chọn chưa ghi hình thức tôn vinh: tạm ghi hình thức đầu tiên của "
                       "danh mục (có ghi chú trong danh sách).")
        if fig.undecided:
            out.append(f"{DRAFT}: còn {len(fig.undecided)} điển hình chưa có kết quả xét chọn: "
                       f"{names([nominee_label(r) for r in fig.undecided])}.")
        for row, raw in fig.unreadable_decisions:
            out.append(f"Không hiểu kết quả xét chọn '{raw}' của {nominee_label(row)}: coi như chưa xét; ghi "
                       "'Được chọn', 'Không chọn' hoặc 'Đang xem xét'.")
        for row in fig.chosen_not_counted:
            out.append(f"{nominee_label(row)} được ghi 'Được chọn' nhưng {row.state.lower()}: không đưa vào danh "
                       "sách.")
        return out


def run(catalogue: Catalogue, workdir: Path, now: Any = None) -> ReportResult:
    """Bring the officer's latest decisions from the master into the store, then write every paper."""
    from hoacu_xlsx import dashboard_picture, merge
    from hoacu_xlsx.report_figures import compute

    merged = merge.run(catalogue, workdir, now=now, rescan=False, write_feedback=False)
    fig = compute(merged.picture)
    papers = write_all(catalogue, fig, workdir)
    try:
        chart = dashboard_picture.write(fig, catalogue.issuer, workdir / REPORT_DIR)
    except OSError as exc:
        raise PapersError(f"Không ghi được biểu đồ tổng quan vào '{workdir / REPORT_DIR}': "
                          f"{exc.strerror or exc}.") from None
    return ReportResult(fig, papers, chart)
