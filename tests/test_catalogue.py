"""The catalogue: the 2024 round as the dispatch describes it, and clear errors for broken files."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from hoacu_xlsx import catalogue as cat


def test_builtin_catalogue_follows_the_dispatch(catalogue):
    items = [a.item for a in catalogue.assignments]
    assert items == [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]  # the dispatch skips item 4
    assert catalogue.deadline.isoformat() == "2024-05-31"
    assert "Văn phòng – Thống kê" in catalogue.receiver.title
    assert catalogue.villages == []  # the dispatch names no village: never invent one
    each = {a.item for a in catalogue.assignments if a.quota_scope == "each"}
    assert each == {7, 8}
    publicity = catalogue.assignment("14")
    assert publicity is not None and not publicity.nominations
    for a in catalogue.assignments:
        if a.nominations:
            assert a.quota >= 1 and a.criteria and a.nominee_kinds
            for k in a.nominee_kinds:
                assert a.criteria_for(k.id), (a.id, k.id)


def test_narrow_nominee_kinds(catalogue):
    labels = lambda item: " ".join(k.label for k in catalogue.assignment(str(item)).nominee_kinds).lower()  # noqa
    assert "nông dân" in labels(10)
    assert "công nhân" in labels(11)
    assert "học sinh" in labels(7)
    assert "hộ gia đình" in labels(5)


def test_criteria_keep_the_dispatch_wording(catalogue):
    seed = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_da0a3486e38041d7.txt"
    if not seed.exists():
        pytest.skip("shared/seed not beside the checkout")
    text = " ".join(unicodedata.normalize("NFC", seed.read_text(encoding="utf-8")).split()).lower()
    for a in catalogue.assignments:
        for c in a.criteria:
            words = " ".join(c.text.split()).lower().rstrip(".")
            assert words[:40] in text, (a.id, c.text)


def test_every_text_is_nfc(catalogue):
    for u in catalogue.units:
        assert unicodedata.is_normalized("NFC", u.name)
    for a in catalogue.assignments:
        assert unicodedata.is_normalized("NFC", a.title)
        for c in a.criteria:
            assert unicodedata.is_normalized("NFC", c.text)


def test_units_named_in_items_1_to_13(catalogue):
    names = {u.name for u in catalogue.units_with_nominations()}
    for expected in ("Ban Tuyên giáo Đảng ủy xã", "Công an xã", "Trạm Y tế xã", "Hội Nông dân xã",
                     "Trường Mầm non xã Hòa Cư", "Trường TH&THCS xã Hòa Cư"):
        assert expected in names
    assert all(u.email == "" for u in catalogue.units)


def test_villages_become_units_for_item_11(tmp_path):
    text = cat.builtin_text().replace("villages = []", 'villages = ["Thôn Mẫu Một", "Thôn Mẫu Hai"]')
    p = tmp_path / "danh_muc.toml"
    p.write_text(text, encoding="utf-8")
    c = cat.load(p)
    village = c.unit("thon_mau_mot")
    assert village is not None and village.is_village
    assert [a.item for a in c.assignments_of(village.id)] == [11]


def test_syntax_error_names_file_and_line(tmp_path):
    p = tmp_path / "hong.toml"
    p.write_text(cat.builtin_text().replace('year = 2024', 'year = = 2024'), encoding="utf-8")
    with pytest.raises(cat.CatalogueError) as e:
        cat.load(p)
    msg = str(e.value)
    assert "hong.toml" in msg and "dòng" in msg


def test_unknown_assignee_names_the_field(tmp_path):
    p = tmp_path / "sai.toml"
    p.write_text(cat.builtin_text().replace('assignees = ["ban_tuyen_giao"]', 'assignees = ["khong_co"]', 1),
                 encoding="utf-8")
    with pytest.raises(cat.CatalogueError) as e:
        cat.load(p)
    assert "assignees" in str(e.value) and "khong_co" in str(e.value)


def test_cli_reports_broken_catalogue_without_traceback(tmp_path):
    p = tmp_path / "hong.toml"
    p.write_text("year = 2024\n[[units]]\nid = 'A B'\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "hoacu_xlsx", "generate", "--config", str(p), "--dir", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "hong.toml" in r.stderr


def test_init_writes_the_catalogue_workbook(tmp_path):
    r = subprocess.run([sys.executable, "-m", "hoacu_xlsx", "init", "--dir", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    book = tmp_path / "danh_muc.xlsx"
    assert book.exists() and not (tmp_path / "danh_muc.toml").exists()
    assert (tmp_path / "templates" / "nomination_template.xlsx").exists()
    assert cat.resolve(None, tmp_path) == book
    assert cat.load(book) == cat.load()  # the built-in 2024 dispatch, unchanged


def test_init_toml_writes_an_editable_copy(tmp_path):
    r = subprocess.run([sys.executable, "-m", "hoacu_xlsx", "init", "--toml", "--dir", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    copy = tmp_path / "danh_muc.toml"
    assert copy.read_text(encoding="utf-8") == cat.builtin_text()
    assert cat.resolve(None, tmp_path) == copy


def test_resolve_prefers_config_then_workbook_then_toml_then_builtin(tmp_path):
    from hoacu_xlsx import catalogue_book

    assert cat.resolve(None, tmp_path) == cat.builtin_path()
    (tmp_path / "danh_muc.toml").write_text(cat.builtin_text(), encoding="utf-8")
    assert cat.resolve(None, tmp_path) == tmp_path / "danh_muc.toml"
    catalogue_book.write(cat.load(), tmp_path / "danh_muc.xlsx")
    assert cat.resolve(None, tmp_path) == tmp_path / "danh_muc.xlsx"
    assert cat.resolve(tmp_path / "khac.toml", tmp_path) == tmp_path / "khac.toml"


TOML_BREAKS = [
    ("year = 2024", "year = = 2024", "dòng 21, cột 8 (giá trị không hợp lệ (chuỗi phải trong ngoặc kép"),
    ('commune = "xã Hòa Cư"', 'commune = "xã Hòa Cư', "dòng 22, cột 21 (xuống dòng giữa chuỗi (thiếu dấu ngoặc kép"),
    ("year = 2024", "year 2024", "dòng 21, cột 6 (thiếu dấu '=' sau tên trường)"),
    ("year = 2024", "year = 2024\nyear = 2025", "dòng 22, cột 12 (trường này đã được khai báo trước đó)"),
    ("deadline = 2024-05-31", "deadline = 2024-13-31", "dòng 26, cột 16 (thừa nội dung ở cuối dòng)"),
    ("villages = []", "villages = [", "dòng 29, cột 1 (giá trị không hợp lệ"),
]


@pytest.mark.parametrize("line, broken, words", TOML_BREAKS)
def test_toml_syntax_errors_are_vietnamese(tmp_path, line, broken, words):
    p = tmp_path / "hong.toml"
    p.write_text(cat.builtin_text().replace(line, broken, 1), encoding="utf-8")
    with pytest.raises(cat.CatalogueError) as e:
        cat.load(p)
    msg = str(e.value)
    assert msg.startswith(f"Tệp danh mục '{p}' sai cú pháp TOML: ")
    assert words in msg, msg
    for english in ("Invalid", "Expected", "Cannot", "Unclosed", "line", "column", "value"):
        assert english not in msg.split("TOML: ", 1)[1], msg


def test_catalogue_error_lists_every_problem():
    err = cat.CatalogueError([cat.CatalogueProblem('mã đơn vị "cong_an" trùng với dòng 5', "Đơn vị", 7),
                              cat.CatalogueProblem("thiếu trang 'Tiêu chí'", "Tiêu chí")], "danh_muc.xlsx")
    assert str(err).splitlines() == [
        "Danh mục 'danh_muc.xlsx' có 2 lỗi — sửa rồi chạy lại:",
        '  • [Đơn vị, dòng 7] mã đơn vị "cong_an" trùng với dòng 5',
        "  • [Tiêu chí] thiếu trang 'Tiêu chí'",
    ]
    assert str(cat.CatalogueError("một lỗi")) == "một lỗi"


def test_units_of_kind_thon_are_villages(tmp_path):
    village = '[[units]]\nid = "thon_ban_mau"\nname = "Thôn Bản Mẫu"\nkind = "Thôn"\n\n'
    text = cat.builtin_text().replace('[[units]]\nid = "ban_tuyen_giao"', village + '[[units]]\nid = "ban_tuyen_giao"')
    p = tmp_path / "danh_muc.toml"
    p.write_text(text, encoding="utf-8")
    c = cat.load(p)
    assert c.unit("thon_ban_mau").is_village
    assert c.villages == ["Thôn Bản Mẫu"]
    assert [a.item for a in c.assignments_of("thon_ban_mau")] == [11]


def test_units_found_by_written_name_and_by_address():
    """A province has tens of thousands of units: lookups are indexed, and give what a scan in the
    catalogue's order gave — the first unit with that name, every unit with that address."""
    base = cat.load()
    extra = [cat.Unit(id="hoi_a", name="Hội Nông dân thôn A", kind="Hội", email="chung@xa.gov.vn"),
             cat.Unit(id="hoi_a2", name="HỘI NÔNG DÂN THÔN  A", kind="Hội", email=" Chung@Xa.gov.vn "),
             cat.Unit(id="doan_b", name="Đoàn thanh niên thôn B", kind="Đoàn")]
    c = dataclasses.replace(base, units=[*base.units, *extra])
    assert c.unit_by_name("hoi nong dan thon a").id == "hoi_a"
    assert c.unit_by_name("Đoàn Thanh niên thôn B").id == "doan_b"
    assert c.unit_by_name("Hội Nông dân thôn C") is None
    assert [u.id for u in c.units_by_email("CHUNG@xa.gov.vn")] == ["hoi_a", "hoi_a2"]
    assert c.units_by_email("khac@xa.gov.vn") == []
