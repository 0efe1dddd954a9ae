"""`generate`: one self-explaining, protected workbook per unit, with the `_meta` contract."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from hoacu_xlsx import builder, fields, meta, template


def _meta_of(path: Path) -> dict[str, object]:
    wb = openpyxl.load_workbook(path)
    ws = wb[meta.SHEET]
    return {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r[0]}


def test_one_workbook_per_unit_with_ascii_names(generated, catalogue):
    files = sorted(p.name for p in (generated / "outbox").glob("*.xlsx"))
    units = catalogue.units_with_nominations()
    assert len(files) == len(units) == 15
    for name in files:
        assert name.isascii() and "2024" in name
    for u in units:
        assert builder.file_name(u, 2024) in files


def test_unit_sees_only_its_own_assignments(generated, catalogue):
    for u in catalogue.units_with_nominations():
        path = generated / "outbox" / builder.file_name(u, 2024)
        wb = openpyxl.load_workbook(path)
        own = [a.id for a in catalogue.assignments_of(u.id)]
        entry = [n for n in wb.sheetnames if n.startswith("Mục")]
        assert entry == [builder.entry_sheet_name(catalogue.assignment(a)) for a in own]
        m = _meta_of(path)
        assert m["unit_id"] == u.id and m["assignment_ids"] == ",".join(own)


def test_meta_sheet_is_very_hidden_and_complete(generated, catalogue):
    path = generated / "outbox" / "DTTT_2024_truong_th_thcs.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb[meta.SHEET].sheet_state == "veryHidden"
    m = _meta_of(path)
    for key in ("format_version", "year", "unit_id", "unit_name", "assignment_ids", "token", "generated_at",
                "deadline"):
        assert m.get(key) not in (None, ""), key
    assert m["deadline"] == "2024-05-31" and m["year"] == 2024
    a = catalogue.assignment("7")
    sheet = wb[m["sheet:7"]]
    hr = m["header_row:7"]
    for f in fields.fields_for(a):
        col = m[f"field:7:{f.key}"]
        assert sheet[f"{col}{hr}"].value == f.header
    # tokens are unique per generated file
    tokens = {_meta_of(p)["token"] for p in (generated / "outbox").glob("*.xlsx")}
    assert len(tokens) == 15


def test_dropdowns_hints_and_stop_alerts(generated, catalogue):
    path = generated / "outbox" / "DTTT_2024_hoi_nong_dan.xlsx"
    wb = openpyxl.load_workbook(path)
    m = _meta_of(path)
    ws = wb[m["sheet:10"]]
    first = m["first_data_row:10"]
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    def dv_for(key):
        col = m[f"field:10:{key}"]
        for ref, dv in dvs.items():
            if ref.startswith(f"{col}{first}:"):
                return dv
        raise AssertionError(key)
    for key in ("loai_dien_hinh", "gioi_tinh", "dan_toc", "hinh_thuc_tuyen_truyen", "tai_lieu_kinh_nghiem", "tc_1"):
        dv = dv_for(key)
        assert dv.type == "list" and dv.errorStyle in (None, "stop") and dv.showErrorMessage
        assert dv.prompt, key
    # the 54 ethnic groups do not fit Excel's 255-character inline list: they come from the hidden list sheet
    assert dv_for("dan_toc").formula1.startswith(builder.LISTS_SHEET)
    assert wb[builder.LISTS_SHEET].sheet_state == "hidden"
    assert dv_for("nam_sinh").type == "whole"
    assert "nông dân" in dv_for("loai_dien_hinh").formula1.lower()


def test_protection_leaves_only_input_cells_editable(generated):
    path = generated / "outbox" / "DTTT_2024_cong_an.xlsx"
    wb = openpyxl.load_workbook(path)
    m = _meta_of(path)
    ws = wb[m["sheet:8"]]
    assert ws.protection.sheet and not ws.protection.password
    hr, first, last = m["header_row:8"], m["first_data_row:8"], m["last_data_row:8"]
    assert last - first + 1 >= 30
    ten = m["field:8:ten"]
    assert ws[f"{ten}{hr}"].protection.locked
    assert not ws[f"{ten}{first}"].protection.locked
    assert not ws[f"{ten}{last}"].protection.locked
    assert ws[f"A{first}"].protection.locked  # STT
    assert wb["Hướng dẫn"].protection.sheet


def test_self_check_without_macros(generated):
    path = generated / "outbox" / "DTTT_2024_cong_an.xlsx"
    assert b"vbaProject" not in path.read_bytes()
    wb = openpyxl.load_workbook(path)
    m = _meta_of(path)
    ws = wb[m["sheet:8"]]
    cf_rules = [r for rng in ws.conditional_formatting for r in rng.rules]
    assert any(r.type == "expression" for r in cf_rules)
    status = [c.value for row in ws.iter_rows(max_row=m["header_row:8"]) for c in row
              if isinstance(c.value, str) and c.value.startswith("=") and "Còn thiếu" in c.value]
    assert status, "a status cell counts what is still missing"


def test_instructions_carry_the_dispatch_criteria(generated, catalogue):
    wb = openpyxl.load_workbook(generated / "outbox" / "DTTT_2024_doan_thanh_nien.xlsx")
    text = " ".join(str(c.value) for row in wb["Hướng dẫn"].iter_rows() for c in row if c.value)
    a = catalogue.assignment("12")
    for c in a.criteria:
        assert c.text in text
    assert "31/05/2024" in text
    assert "Văn phòng – Thống kê" in text


def test_item_14_duty_is_explained_to_its_unit(generated):
    wb = openpyxl.load_workbook(generated / "outbox" / "DTTT_2024_cc_van_hoa_xa_hoi.xlsx")
    assert [n for n in wb.sheetnames if n.startswith("Mục")] == ["Mục 5"]
    text = " ".join(str(c.value) for row in wb["Hướng dẫn"].iter_rows() for c in row if c.value)
    assert "Mục 14" in text and "Thi đua yêu nước" in text


def test_restyled_template_shows_in_next_generate(tmp_path, catalogue):
    from hoacu_xlsx import generate

    tpath = template.write_default_template(tmp_path / "templates" / "nomination_template.xlsx")
    wb = openpyxl.load_workbook(tpath)
    ws = wb.worksheets[0]
    from openpyxl.styles import Font, PatternFill
    ws["A10"].font = Font(name="Arial", size=13, bold=True, color="FF7030A0")
    ws["A10"].fill = PatternFill("solid", fgColor="FFFFE699")
    ws["H2"].value = "Độc lập – Tự do – Hạnh phúc (mẫu sửa)"
    ws.column_dimensions["C"].width = 41
    wb.save(tpath)
    generate.run(catalogue, tmp_path, units=["cong_an"])
    out = openpyxl.load_workbook(tmp_path / "outbox" / "DTTT_2024_cong_an.xlsx")
    m = {r[0]: r[1] for r in out[meta.SHEET].iter_rows(values_only=True)}
    ws = out[m["sheet:8"]]
    header = ws[f"{m['field:8:ten']}{m['header_row:8']}"]
    assert header.font.name == "Arial" and header.font.b and float(header.font.sz) == 13
    assert header.fill.fgColor.rgb.endswith("FFE699")
    assert ws.column_dimensions[m["field:8:ten"]].width == pytest.approx(41, abs=1)
    texts = [c.value for row in out["Hướng dẫn"].iter_rows(max_row=2) for c in row if c.value]
    assert "Độc lập – Tự do – Hạnh phúc (mẫu sửa)" in texts


def test_shipped_template_is_the_builtin_look():
    shipped = Path(__file__).resolve().parents[1] / "templates" / "nomination_template.xlsx"
    style = template.load_style(shipped)
    assert style.texts["national"] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert style.formats["header"]["font_name"] == "Times New Roman"


def test_help_is_vietnamese():
    for args in ([], ["generate"], ["merge"], ["validate"], ["status"], ["init"]):
        r = subprocess.run([sys.executable, "-m", "hoacu_xlsx", *args, "--help"], capture_output=True, text=True)
        assert r.returncode == 0, (args, r.stderr)
        assert "Cách dùng:" in r.stdout and "Tùy chọn" in r.stdout
        assert "Usage:" not in r.stdout and "Show this message" not in r.stdout
        assert re.search(r"[ạảấầẩẫậắằẳẵặẹẻẽếềểễệịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ]", r.stdout)


def test_entry_sheet_explains_itself_in_a_short_frozen_top(generated, catalogue):
    """Header row near the top and frozen with the name columns; colours explained; per-item quota; no 'ô tô'."""
    path = generated / "outbox" / "DTTT_2024_truong_th_thcs.xlsx"
    wb = openpyxl.load_workbook(path)
    m = _meta_of(path)
    ws = wb[m["sheet:7"]]
    hr = m["header_row:7"]
    assert hr <= 8
    assert ws.freeze_panes == f"{chr(ord(m['field:7:ten']) + 1)}{hr + 1}"
    top = " ".join(str(c.value) for row in ws.iter_rows(max_row=hr - 1) for c in row if c.value)
    for legend in ("Đỏ: bắt buộc, còn trống", "Vàng: nên điền", "Xám: không áp dụng"):
        assert legend in top
    assert "cần ít nhất 01 điển hình cho mục này" in top
    guide = " ".join(str(c.value) for row in wb["Hướng dẫn"].iter_rows() for c in row if c.value)
    assert "ô màu vàng nhạt là ô nên điền" in guide and "ô màu xám" in guide
    assert "ít nhất 01 điển hình tiên tiến cho mục này" in guide
    for text in (top, guide):
        assert "ô tô" not in text.lower()


def test_birth_year_is_a_whole_number_cell(generated, catalogue):
    path = generated / "outbox" / "DTTT_2024_hoi_nong_dan.xlsx"
    wb = openpyxl.load_workbook(path)
    m = _meta_of(path)
    ws = wb[m["sheet:10"]]
    col, first, last = m["field:10:nam_sinh"], m["first_data_row:10"], m["last_data_row:10"]
    assert ws[f"{col}{first}"].number_format == "0" and ws[f"{col}{last}"].number_format == "0"
    dv = next(dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith(f"{col}{first}:"))
    assert (dv.type, dv.formula1, dv.formula2) == ("whole", "1900", str(catalogue.year))


def test_workbook_generated_before_the_new_layout_still_merges(tmp_path, catalogue):
    """A workbook made by the previous layout (header on row 12), filled and returned, merges without errors."""
    from hoacu_xlsx import demo, generate, merge

    generate.run(catalogue, tmp_path, units=["truong_th_thcs"])
    old = Path(__file__).parent / "data" / "old_layout" / "DTTT_2024_truong_th_thcs.xlsx"
    m = _meta_of(old)
    assert m["header_row:7"] == 12 and m["header_row:7"] != builder.HEADER_ROW
    wb = openpyxl.load_workbook(old)
    ws = wb[m["sheet:7"]]
    rows = [demo.sample_row(catalogue, "7", n, kind_index=n) for n in range(3)]
    for i, row in enumerate(rows):
        for key, value in row.items():
            ws[f"{m[f'field:7:{key}']}{m['first_data_row:7'] + i}"] = value
    ws[m["preparer:7:nguoi_lap"]] = "Người lập mẫu"
    (tmp_path / "inbox").mkdir(exist_ok=True)
    wb.save(tmp_path / "inbox" / old.name)
    report = merge.run(catalogue, tmp_path)
    pic = report.picture
    assert sum(1 for n in pic.nominations if n.unit.id == "truong_th_thcs") == 3
    assert not [p for p in pic.problems if p.is_error], pic.problems
    assert not [p for p in pic.problems if p.code in ("rows_shifted", "meta_edited", "columns_moved")]
