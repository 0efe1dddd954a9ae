"""validator.py on its own: rows as the reader hands them over, checked against the built-in catalogue."""

from __future__ import annotations

import unicodedata

import pytest

from hoacu_xlsx import demo
from hoacu_xlsx import fields as F
from hoacu_xlsx import normalize as N
from hoacu_xlsx.cells import col_letter
from hoacu_xlsx.reader import Cell, Located, Table, TableRow
from hoacu_xlsx.validator import check, cross_duplicates

UNIT, AID, FILE = "ban_tuyen_giao", "1", "DTTT_2024_ban_tuyen_giao.xlsx"
HEADER = 7


@pytest.fixture(scope="module")
def columns(catalogue) -> dict[str, str]:
    return {fd.key: col_letter(i + 1) for i, fd in enumerate(F.fields_for(catalogue.assignment(AID)))}


def person(catalogue, n: int, **changes) -> dict:
    """A complete 'Cá nhân' row of Mục 1; ``changes`` set (or, with None, blank) fields."""
    row = demo.sample_row(catalogue, AID, n, kind_index=1)
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


def checked(catalogue, columns, rows: list[dict], preparer: dict | None = None):
    table = Table(AID, "Mục 1", HEADER, columns)
    for i, values in enumerate(rows):
        r = HEADER + 1 + i
        table.rows.append(TableRow(r, {k: Cell(f"{columns[k]}{r}", v) for k, v in values.items()}))
    for key, value in ({"nguoi_lap": "Nguyễn Văn Lập"} if preparer is None else preparer).items():
        table.preparer[key] = Cell("C4", value)
    return check(Located(catalogue.unit(UNIT), "token", None, [table], []), catalogue, FILE)


def by_code(out, code: str) -> list:
    return [p for p in out.problems if p.code == code]


def test_a_complete_row_counts_without_problems(catalogue, columns):
    out = checked(catalogue, columns, [person(catalogue, 1)])
    [n] = out.nominations
    assert n.valid and n.values["ten"] == "Người mẫu Số 1" and n.values["nam_sinh"] == "1976"
    assert out.problems == []


def test_a_required_blank_is_an_error_a_recommended_blank_a_warning(catalogue, columns):
    out = checked(catalogue, columns, [person(catalogue, 1, nam_sinh=None, dan_toc=None)])
    [req] = by_code(out, "required_blank")
    assert req.is_error and req.cell == "E8"
    assert req.message == "Chưa điền 'Năm sinh' (bắt buộc với loại 'Cá nhân')."
    [rec] = by_code(out, "recommended_blank")
    assert not rec.is_error and rec.cell == "F8"
    assert rec.message == "Nên điền 'Dân tộc' để theo dõi, nhân rộng điển hình."
    assert not out.nominations[0].valid


def test_a_criterion_of_another_kind_is_ignored_with_a_warning(catalogue, columns):
    a = catalogue.assignment(AID)
    assert "ca_nhan" not in a.criteria[0].applies_to          # TC1 is for collectives only
    out = checked(catalogue, columns, [person(catalogue, 1, tc_1="Đạt")])
    [p] = by_code(out, "criterion_not_applicable")
    assert p.message == "Tiêu chí TC1 không áp dụng cho loại 'Cá nhân'; giá trị này được bỏ qua."
    assert out.nominations[0].valid


def test_a_blank_criterion_that_applies_is_an_error(catalogue, columns):
    out = checked(catalogue, columns, [person(catalogue, 1, tc_2=None)])
    [p] = by_code(out, "criterion_blank")
    assert p.is_error and p.cell == "L8" and p.message.startswith("Chưa đánh giá tiêu chí TC2")


@pytest.mark.parametrize("typed, code, message", [
    (1899, "bad_year", "Năm sinh 1899 nằm ngoài khoảng 1900–2024."),
    (2031, "bad_year", "Năm sinh 2031 nằm ngoài khoảng 1900–2024."),
    ("một chín tám lăm", "bad_year", "Năm sinh 'một chín tám lăm' không hợp lệ; ghi 4 chữ số, ví dụ 1985."),
])
def test_birth_years_outside_1900_to_the_round_year_are_errors(catalogue, columns, typed, code, message):
    out = checked(catalogue, columns, [person(catalogue, 1, nam_sinh=typed)])
    [p] = by_code(out, code)
    assert p.is_error and p.message == message and p.cell == "E8"


@pytest.mark.parametrize("typed", [1900, 2024, 1985.0, "1985", "12/03/1985"])
def test_birth_years_inside_the_bounds_are_kept_as_four_digits(catalogue, columns, typed):
    out = checked(catalogue, columns, [person(catalogue, 1, nam_sinh=typed)])
    assert not by_code(out, "bad_year")
    assert out.nominations[0].values["nam_sinh"] == str(int(typed) if not isinstance(typed, str) or "/" not in typed
                                                         else 1985)


def test_the_same_person_twice_in_one_file_is_a_warning_pointing_at_the_first_row(catalogue, columns):
    out = checked(catalogue, columns, [person(catalogue, 1), person(catalogue, 2),
                                       person(catalogue, 1, ten="NGƯỜI MẪU SỐ 1")])
    [dup] = cross_duplicates(out.nominations)
    assert (dup.code, dup.is_error, dup.cell) == ("duplicate_person", False, "C10")
    assert dup.message == ("'Người Mẫu Số 1' (1976) có thể trùng: được đề xuất hai lần, tại đây và tại "
                           f"{FILE} › trang 'Mục 1' dòng 8.")


def test_namesakes_differing_by_one_diacritic_are_two_people(catalogue, columns):
    out = checked(catalogue, columns, [person(catalogue, 1, ten="Lê Thị Hà", nam_sinh=1980),
                                       person(catalogue, 2, ten="Lê Thị Hạ", nam_sinh=1980)])
    ha, ha_dot = out.nominations
    assert ha.nomination_id != ha_dot.nomination_id
    assert cross_duplicates(out.nominations) == []


def test_nomination_ids_do_not_depend_on_row_order(catalogue, columns):
    rows = [person(catalogue, 1, ten="Lê Thị Hà"), person(catalogue, 2, ten="Trần Văn Bình")]
    first = {n.values["ten"]: n.nomination_id for n in checked(catalogue, columns, rows).nominations}
    again = {n.values["ten"]: n.nomination_id for n in checked(catalogue, columns, rows[::-1]).nominations}
    assert first == again and len(set(first.values())) == 2


def test_tcvn3_text_is_converted_with_a_warning_and_nfd_text_silently(catalogue, columns):
    legacy = N.to_tcvn3("Nguyễn Văn Đức")
    assert legacy != "Nguyễn Văn Đức"
    nfd = unicodedata.normalize("NFD", "Lê Thị Hạnh")
    out = checked(catalogue, columns, [person(catalogue, 1, ten=legacy), person(catalogue, 2, ten=nfd)])
    assert [n.values["ten"] for n in out.nominations] == ["Nguyễn Văn Đức", "Lê Thị Hạnh"]
    [warn] = by_code(out, "legacy_encoding")
    assert (warn.is_error, warn.cell, warn.value) == (False, "C8", legacy)
    assert "bảng mã cũ TCVN3 (ABC, phông .VnTime); đã chuyển sang Unicode thành 'Nguyễn Văn Đức'" in warn.message


def test_long_texts_keep_line_breaks_names_do_not(catalogue, columns):
    out = checked(catalogue, columns, [person(catalogue, 1, thanh_tich="Ý một\nÝ hai", ten="Lê Văn\nAn")])
    values = out.nominations[0].values
    assert values["thanh_tich"] == "Ý một\nÝ hai"
    assert "\n" not in values["ten"]


def test_a_formula_error_in_a_required_cell_is_an_error_naming_the_error(catalogue, columns):
    out = checked(catalogue, columns, [person(catalogue, 1, ten={"$err": "#REF!"})])
    [p] = by_code(out, "formula_error")
    assert p.is_error and p.value == "#REF!"
    assert p.message.startswith("Ô có lỗi công thức #REF! ở cột 'Tên tập thể / Họ và tên cá nhân, chủ hộ'")


def test_a_table_without_rows_and_without_preparer(catalogue, columns):
    out = checked(catalogue, columns, [], preparer={})
    [none] = by_code(out, "no_nominations")
    assert none.is_error and none.cell == "C8" and "(cần ít nhất 01)" in none.message
    assert by_code(out, "no_preparer")
