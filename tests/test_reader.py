"""reader.py on its own: returned workbooks written by xlsxwriter (the builder) and edited with openpyxl
as units edit them — the table found, the unit identified, what is reported. No LibreOffice."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from hoacu_xlsx import builder, demo, template
from hoacu_xlsx.reader import formula_error, locate, read_raw, unit_hint_from_filename

UNIT, AID, TOKEN = "ban_tuyen_giao", "1", "TOKEN-BTG"


def returned(path: Path, catalogue, rows: list[dict], unit: str = UNIT, token: str = TOKEN) -> Path:
    """The unit's workbook as generate writes it, with ``rows`` typed in (and a preparer)."""
    builder.build_workbook(path, catalogue, catalogue.unit(unit), template.load_style(None), token,
                           "2024-05-01T08:00:00+07:00", prefill={AID: rows},
                           preparer={"nguoi_lap": "Nguyễn Văn Lập", "ngay_lap": "20/05/2024"})
    return path


def sample(catalogue, n: int, kind: int = 1) -> dict:
    return demo.sample_row(catalogue, AID, n, kind_index=kind)


def edited(path: Path, change) -> bytes:
    """The workbook after ``change(openpyxl workbook)``, as bytes."""
    wb = openpyxl.load_workbook(path)
    change(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def located(data: bytes, catalogue, issued=None, file: str = "tra_ve.xlsx", **kw):
    return locate(read_raw(data), catalogue, {TOKEN: UNIT} if issued is None else issued, file, **kw)


def codes(loc) -> set[str]:
    return {p.code for p in loc.problems}


def names(table) -> list[str]:
    return [r.cells["ten"].value for r in table.rows]


@pytest.fixture()
def book(tmp_path, catalogue) -> Path:
    return returned(tmp_path / "DTTT_2024_ban_tuyen_giao.xlsx", catalogue, [sample(catalogue, 1), sample(catalogue, 2)])


def test_the_table_is_found_where_meta_says_and_the_unit_by_its_token(book, catalogue):
    loc = located(book.read_bytes(), catalogue)
    assert (loc.unit.id, loc.identified_by) == (UNIT, "token")
    [table] = loc.tables
    assert (table.assignment_id, table.sheet, table.header_row) == (AID, "Mục 1", 7)
    assert names(table) == ["Người mẫu Số 1", "Người mẫu Số 2"]
    assert table.rows[0].cells["ten"].ref == "C8"
    assert table.preparer["nguoi_lap"].value == "Nguyễn Văn Lập"
    assert not [p for p in loc.problems if p.is_error]


def test_inserted_rows_and_a_column_are_followed_by_the_header_labels(book, catalogue):
    def insert(wb):
        ws = wb["Mục 1"]
        ws.insert_rows(2, 3)       # three rows above the table
        ws.insert_cols(1)          # one column before everything

    loc = located(edited(book, insert), catalogue)
    [table] = loc.tables
    assert table.header_row == 10
    assert names(table) == ["Người mẫu Số 1", "Người mẫu Số 2"]
    assert table.rows[0].cells["ten"].ref == "D11"
    assert {"rows_shifted", "columns_moved"} <= codes(loc)
    shifted = next(p for p in loc.problems if p.code == "rows_shifted")
    assert shifted.message == ("Dòng tiêu đề cột đã dịch từ dòng 7 sang dòng 10 (có chèn/xóa dòng); vẫn đọc được.")
    assert not shifted.is_error


def _copy_row(wb, src: int, dst: int) -> None:
    ws = wb["Mục 1"]
    for merged in [m for m in ws.merged_cells.ranges if m.min_row <= dst <= m.max_row]:
        ws.unmerge_cells(str(merged))
    for c in range(1, ws.max_column + 1):
        ws.cell(dst, c).value = ws.cell(src, c).value


@pytest.mark.parametrize("edit", ["none", "rows_above", "header_again_below", "header_again_above",
                                  "one_header_edited", "one_header_blank"])
def test_the_header_row_named_by_meta_is_a_shortcut_never_a_different_answer(book, catalogue, edit):
    """_find_header stops at the row _meta names when it holds every column: the answer must be the one the
    scan of every row gives, however the unit edited the sheet."""
    from hoacu_xlsx.reader import Grid, _find_header

    changes = {"none": lambda wb: None, "rows_above": lambda wb: wb["Mục 1"].insert_rows(2, 2),
               "header_again_below": lambda wb: _copy_row(wb, 7, 20),
               "header_again_above": lambda wb: _copy_row(wb, 7, 2),
               "one_header_edited": lambda wb: setattr(wb["Mục 1"]["C7"], "value", "Họ tên người được đề xuất"),
               "one_header_blank": lambda wb: setattr(wb["Mục 1"]["E7"], "value", None)}
    raw = read_raw(edited(book, changes[edit]))
    grid = Grid(next(s for s in raw["sheets"] if s["name"] == "Mục 1"))
    a = catalogue.assignment(AID)
    assert _find_header(grid, a, 6) == _find_header(grid, a)
    assert _find_header(grid, a) is not None


def test_a_renamed_sheet_is_still_read_and_reported(book, catalogue):
    loc = located(edited(book, lambda wb: setattr(wb["Mục 1"], "title", "Danh sách")), catalogue)
    assert names(loc.tables[0]) == ["Người mẫu Số 1", "Người mẫu Số 2"]
    renamed = next(p for p in loc.problems if p.code == "sheet_renamed")
    assert renamed.message == "Trang 'Mục 1' đã bị đổi tên thành 'Danh sách'; vẫn đọc được."


def test_a_deleted_required_column_is_an_error_naming_the_column(book, catalogue):
    loc = located(edited(book, lambda wb: wb["Mục 1"].delete_cols(5)), catalogue)    # E: Năm sinh
    missing = next(p for p in loc.problems if p.code == "missing_column")
    assert missing.is_error and missing.value == "Năm sinh"
    assert "Thiếu cột 'Năm sinh' (cột bắt buộc đã bị xóa)" in missing.message


def test_token_not_issued_falls_back_to_the_unit_id_in_meta(book, catalogue):
    loc = located(book.read_bytes(), catalogue, issued={"OTHER": "cc_dia_chinh"})
    assert (loc.unit.id, loc.identified_by) == (UNIT, "meta")
    assert "unknown_token" in codes(loc)


def test_meta_unit_edited_the_token_wins(book, catalogue):
    def edit(wb):
        ws = wb["_meta"]
        ws["B3"] = "cc_dia_chinh"
    loc = located(edited(book, edit), catalogue)
    assert (loc.unit.id, loc.identified_by) == (UNIT, "token")
    assert "meta_edited" in codes(loc)


def test_without_meta_the_unit_name_in_the_sheet_identifies_it(book, catalogue):
    loc = located(edited(book, lambda wb: wb.remove(wb["_meta"])), catalogue)
    assert (loc.unit.id, loc.identified_by) == (UNIT, "sheet")
    warning = next(p for p in loc.problems if p.code == "identified_by_name")
    assert warning.message == ("Không dùng được thông tin nhận diện ẩn (không có trang _meta); đã nhận diện đơn vị "
                               "theo tên ghi trong sổ: Ban Tuyên giáo Đảng ủy xã.")
    assert names(loc.tables[0]) == ["Người mẫu Số 1", "Người mẫu Số 2"]


def test_without_meta_or_unit_name_the_file_name_identifies_it_or_nothing_does(book, catalogue):
    def strip(wb):
        wb.remove(wb["_meta"])
        wb["Mục 1"]["C3"] = None
    data = edited(book, strip)
    hint = unit_hint_from_filename(book.name)
    assert hint == UNIT
    loc = located(data, catalogue, file_unit_hint=hint)
    assert (loc.unit.id, loc.identified_by) == (UNIT, "filename")
    assert "identified_by_filename" in codes(loc)
    nobody = located(data, catalogue)
    assert nobody.unit is None and nobody.tables == []
    [err] = [p for p in nobody.problems if p.is_error]
    assert err.code == "unidentified" and "Không xác định được đơn vị gửi sổ" in err.message


def test_a_workbook_of_another_year_is_reported_and_not_credited(book, catalogue):
    def old(wb):
        wb["_meta"]["B2"] = 2023
    loc = located(edited(book, old), catalogue)
    assert loc.unit is None and loc.tables == []
    [p] = loc.problems
    assert (p.code, p.is_error, p.value) == ("other_year", True, "2023")
    assert "là sổ của đợt năm 2023 (Ban Tuyên giáo Đảng ủy xã), không phải đợt năm 2024" in p.message


def test_line_breaks_in_a_cell_are_kept_in_the_raw_cells(tmp_path, catalogue):
    row = sample(catalogue, 1) | {"thanh_tich": "Dòng một\nDòng hai"}
    raw = read_raw(returned(tmp_path / "a.xlsx", catalogue, [row]).read_bytes())
    sheet = next(s for s in raw["sheets"] if s["name"] == "Mục 1")
    assert [7, 9, "Dòng một\nDòng hai"] in sheet["cells"]


def test_formula_error_values_are_kept_not_read_as_blank(tmp_path):
    path = tmp_path / "loi.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Mục 1")
    ws.write_formula("C8", "=VLOOKUP(1,Z1:Z2,2,0)", None, "#N/A")
    ws.write_formula("D8", "=FOO()", None, "#NAME?")
    ws.write_string("E8", "1985")
    wb.close()
    cells = {(r, c): v for r, c, v in read_raw(path.read_bytes())["sheets"][0]["cells"]}
    assert formula_error(cells[(7, 2)]) == "#N/A"
    assert formula_error(cells[(7, 3)]) == "#NAME?"
    assert formula_error(cells[(7, 4)]) is None


def test_typing_on_the_instructions_sheet_and_extra_sheets_are_warned(book, catalogue):
    def extra(wb):
        wb["Hướng dẫn"]["E3"] = "Nguyễn Văn Nhầm"
        wb.create_sheet("Ghi chép")["A1"] = "ghi chú riêng"
    loc = located(edited(book, extra), catalogue)
    typed = next(p for p in loc.problems if p.code == "typed_on_instructions")
    assert (typed.sheet, typed.cell) == ("Hướng dẫn", "E3")
    extra_sheet = next(p for p in loc.problems if p.code == "extra_sheet")
    assert extra_sheet.message == "Trang thêm 'Ghi chép' không thuộc mẫu; nội dung của trang này không được đọc."
