"""The catalogue workbook danh_muc.xlsx: what the officer edits in Excel/LibreOffice, and what they are told.

Edits are made the way the officer makes them: with openpyxl (an Excel-like writer) and,
in the LibreOffice tests, through Calc's UNO API; then `generate` runs from the edited book.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any, Callable

import openpyxl
import pytest

from hoacu_xlsx import catalogue as cat
from hoacu_xlsx import catalogue_book as book
from hoacu_xlsx import generate

SHEETS = ["Hướng dẫn", "Đợt", "Đơn vị", "Nhiệm vụ", "Loại điển hình", "Tiêu chí", "Danh sách"]


def write_book(folder: Path, c: cat.Catalogue | None = None) -> Path:
    return book.write(c or cat.load(), folder / "danh_muc.xlsx")


def edit(path: Path, change: Callable[[openpyxl.Workbook], None]) -> Path:
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    return path


def row_of(ws: Any, column: str, value: Any) -> int:
    """The sheet row whose cell in ``column`` holds ``value`` (as the officer would look it up)."""
    for cell in ws[column]:
        if cell.value == value:
            return cell.row
    raise LookupError(value)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(cat.CatalogueError) as e:
        cat.load(path)
    return [str(p) for p in e.value.problems]


def round_row(label: str) -> int:
    return next(i for i, f in enumerate(book.ROUND_FIELDS, start=2) if f.label == label)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hoacu_xlsx", *args], capture_output=True, text=True)


# --------------------------------------------------------------------------- round trip


def test_builtin_round_trip_gives_the_same_catalogue(tmp_path):
    builtin = cat.load()
    again = cat.load(write_book(tmp_path, builtin))
    assert again == builtin
    assert again.notes == ()


def test_round_trip_keeps_every_field(tmp_path):
    text = cat.builtin_text().replace("villages = []", 'villages = ["Thôn Mẫu Một", "Thôn Mẫu Hai"]')
    text = text.replace('dispatch_number = ""', 'dispatch_number = "15/UBND-VP"\ndispatch_date = 2024-02-20')
    text = text.replace('honour_forms = ["Giấy khen của Chủ tịch UBND xã"]',
                        'honour_forms = ["Giấy khen của Chủ tịch UBND xã", "Biểu dương"]\n'
                        'review_results = ["Chờ", "Chọn", "Không"]\nplace = "Hòa Cư"')
    text = text.replace('name = "Công an xã"\nkind = "Lực lượng vũ trang"\nemail = ""',
                        'name = "Công an xã"\nkind = "Lực lượng vũ trang"\nemail = "ca@example.vn"\n'
                        'short_name = "CA xã"\ncontact = "Đồng chí Mẫu (dữ liệu mẫu)"')
    text += ('\n[smtp]\nhost = "smtp.example.vn"\nport = 587\nsecurity = "starttls"\nuser = "tdkt@example.vn"\n'
             'from = "tdkt@example.vn"\ntimeout = 20\n\n[imap]\nhost = "imap.example.vn"\nport = 993\n'
             'security = "ssl"\nfolder = "INBOX"\n')
    src = tmp_path / "day_du.toml"
    src.write_text(text, encoding="utf-8")
    original = cat.load(src)
    assert original.unit("cong_an").short == "CA xã" and original.dispatch_date == date(2024, 2, 20)
    again = cat.load(write_book(tmp_path, original))
    assert again == original
    assert again.settings == {"smtp": {"host": "smtp.example.vn", "port": 587, "security": "starttls",
                                       "user": "tdkt@example.vn", "from": "tdkt@example.vn", "timeout": 20},
                              "imap": {"host": "imap.example.vn", "port": 993, "security": "ssl",
                                       "folder": "INBOX"}}
    assert again.villages == ["Thôn Mẫu Một", "Thôn Mẫu Hai"]


# --------------------------------------------------------------------------- what the officer sees


def test_workbook_is_set_up_for_editing_and_printing(tmp_path):
    wb = openpyxl.load_workbook(write_book(tmp_path))
    assert wb.sheetnames == SHEETS
    for name in SHEETS:
        ws = wb[name]
        assert ws.page_setup.paperSize == 9, name                          # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name            # fit to 1 page wide (1 = default)
        assert ws.page_setup.fitToWidth in (None, 1), name
        assert ws.page_setup.fitToHeight == 0, name                        # as many pages tall as needed
        assert "&P" in ws.oddFooter.center.text, name                      # page numbers
        if name != "Hướng dẫn":
            assert ws.print_title_rows in ("1:1", "$1:$1"), name                     # header row on every page
            assert ws.freeze_panes in ("A2", "B2"), name
    items = wb["Nhiệm vụ"]
    assert [c.value for c in items[1]][:5] == ["Mục *", "Mã nhiệm vụ", "Loại *",
                                               "Tên phong trào, cuộc vận động, lĩnh vực *", "Đơn vị được giao *"]
    assert items.column_dimensions["D"].width >= 40
    assert items["D2"].alignment.wrap_text
    checks = {str(dv.sqref): dv for dv in items.data_validations.dataValidation}
    assignees = checks["E2:E501"]
    assert assignees.type == "list" and assignees.formula1 == "'Đơn vị'!$A$2:$A$501"
    assert assignees.errorStyle == "information"                             # a comma list can still be typed
    assert "dấu phẩy" in assignees.prompt and assignees.showInputMessage
    assert checks["G2:G501"].formula1 == '"Chung cho các đơn vị được giao,Riêng mỗi đơn vị"'
    assert checks["H2:H501"].formula1 == '"Có,Không"'
    kinds = {str(dv.sqref): dv for dv in wb["Loại điển hình"].data_validations.dataValidation}
    assert kinds["D2:D501"].formula1 == '"Tập thể,Cá nhân,Hộ gia đình"'
    units = {str(dv.sqref): dv for dv in wb["Đơn vị"].data_validations.dataValidation}
    assert units["D2:D501"].formula1 == "'Danh sách'!$C$2:$C$501"
    assert units["A2:A501"].type == "custom" and "COUNTIF" in units["A2:A501"].formula1
    rnd = wb["Đợt"]
    deadline = rnd.cell(round_row("Hạn nộp"), 2)
    assert deadline.value.date() == date(2024, 5, 31) and deadline.number_format == "dd/mm/yyyy"
    round_checks = {str(dv.sqref): dv for dv in rnd.data_validations.dataValidation}
    assert round_checks[f"B{round_row('Hạn nộp')}"].type == "date"
    assert round_checks[f"B{round_row('Gửi thư (SMTP) – bảo mật')}"].formula1 == '"starttls,ssl,none"'
    guide = " ".join(str(c.value) for c in wb["Hướng dẫn"]["A"] if c.value)
    for words in ("01/7/2025", "2026 – 2030", "Đơn vị", "Tiêu chí", "init --year", "[Trang, dòng N]"):
        assert words in guide


# --------------------------------------------------------------------------- every message, exactly


def _set(sheet: str, cell: str, value: Any) -> Callable[[openpyxl.Workbook], None]:
    def change(wb: openpyxl.Workbook) -> None:
        wb[sheet][cell] = value
    return change


def _set_unit(unit_id: str, column: str, value: Any) -> Callable[[openpyxl.Workbook], None]:
    def change(wb: openpyxl.Workbook) -> None:
        ws = wb["Đơn vị"]
        ws[f"{column}{row_of(ws, 'A', unit_id)}"] = value
    return change


def _delete_criteria_of(item: int) -> Callable[[openpyxl.Workbook], None]:
    def change(wb: openpyxl.Workbook) -> None:
        ws = wb["Tiêu chí"]
        rows = [c.row for c in ws["A"] if c.value == item]
        ws.delete_rows(rows[0], len(rows))
    return change


def _rename_sheet(old: str, new: str) -> Callable[[openpyxl.Workbook], None]:
    def change(wb: openpyxl.Workbook) -> None:
        wb[old].title = new
    return change


MESSAGES = {
    "duplicate_unit_id": (_set_unit("ban_chqs", "A", "cong_an"),
                          ['[Đơn vị, dòng 10] mã đơn vị "cong_an" trùng với dòng 9',
                           '[Nhiệm vụ, dòng 8] đơn vị "ban_chqs" không có trong trang Đơn vị']),
    "malformed_unit_id": (_set_unit("cong_an", "A", "Công An"),
                          ['[Đơn vị, dòng 9] mã đơn vị "Công An" chỉ được gồm chữ thường không dấu, số và dấu gạch '
                           "dưới — có phải là 'cong_an'?"]),
    "blank_unit_name": (_set_unit("cc_dia_chinh", "B", None),
                        ["[Đơn vị, dòng 3] tên đầy đủ không được để trống"]),
    "unknown_unit_kind": (_set_unit("ban_tuyen_giao", "D", "Hợp tác xã"),
                          ["[Đơn vị, dòng 2] loại đơn vị \"Hợp tác xã\" không có trong trang Danh sách "
                           "(cột 'Loại đơn vị')"]),
    "bad_unit_email": (_set_unit("mttq", "E", "mttq.hoacu"),
                       ['[Đơn vị, dòng 6] thư điện tử "mttq.hoacu" không phải địa chỉ thư điện tử']),
    "unknown_assignee": (_set("Nhiệm vụ", "E2", "ban_tuyen_giao, abc"),
                         ['[Nhiệm vụ, dòng 2] đơn vị "abc" không có trong trang Đơn vị']),
    "misspelled_assignee": (_set("Nhiệm vụ", "E8", "cong_ann, ban_chqs"),
                            ["[Nhiệm vụ, dòng 8] đơn vị \"cong_ann\" không có trong trang Đơn vị — có phải là "
                             "'cong_an'?"]),
    "blank_assignees": (_set("Nhiệm vụ", "E2", None),
                        ["[Nhiệm vụ, dòng 2] đơn vị được giao không được để trống"]),
    "duplicate_item": (_set("Nhiệm vụ", "A14", 13),
                       ["[Nhiệm vụ, dòng 14] mục 13 trùng với dòng 13"]),
    "item_not_a_number": (_set("Nhiệm vụ", "F3", "một"),
                          ['[Nhiệm vụ, dòng 3] chỉ tiêu tối thiểu "một" không phải số nguyên không âm']),
    "unknown_item_kind": (_set("Nhiệm vụ", "C2", "Phong trào"),
                          ["[Nhiệm vụ, dòng 2] loại \"Phong trào\" phải là một trong: Phong trào thi đua, Cuộc vận "
                           "động, Lĩnh vực, Nhiệm vụ — có phải là 'Phong trào thi đua'?"]),
    "unknown_scope": (_set("Nhiệm vụ", "G8", "Chung"),
                      ["[Nhiệm vụ, dòng 8] cách tính chỉ tiêu \"Chung\" phải là 'Chung cho các đơn vị được giao' "
                       "hoặc 'Riêng mỗi đơn vị'"]),
    "unknown_yes_no": (_set("Nhiệm vụ", "H2", "Chưa"),
                       ["[Nhiệm vụ, dòng 2] đề xuất điển hình \"Chưa\" phải là 'Có' hoặc 'Không'"]),
    "wrong_date": (_set("Đợt", f"B{round_row('Hạn nộp')}", "31/13/2026"),
                   [f'[Đợt, dòng {round_row("Hạn nộp")}] hạn nộp "31/13/2026" không phải ngày (dd/mm/yyyy)']),
    "wrong_year": (_set("Đợt", "B2", "hai nghìn"),
                   ['[Đợt, dòng 2] năm "hai nghìn" không phải số nguyên từ 2000 đến 2100']),
    "blank_round_value": (_set("Đợt", f"B{round_row('Cán bộ nhận – chức danh')}", None),
                          [f"[Đợt, dòng {round_row('Cán bộ nhận – chức danh')}] cán bộ nhận – chức danh không được "
                           "để trống"]),
    "misspelled_round_label": (_set("Đợt", f"A{round_row('Hạn nộp')}", "Hạn nộp hồ sơ"),
                               [f"[Đợt, dòng {round_row('Hạn nộp')}] \"Hạn nộp hồ sơ\" không phải thông tin của đợt "
                                "— có phải là 'Hạn nộp'?", "[Đợt] thiếu dòng 'Hạn nộp'"]),
    "bad_security": (_set("Đợt", f"B{round_row('Gửi thư (SMTP) – bảo mật')}", "tls"),
                     [f"[Đợt, dòng {round_row('Gửi thư (SMTP) – bảo mật')}] gửi thư (SMTP) – bảo mật \"tls\" phải "
                      "là một trong: starttls, ssl, none"]),
    "unknown_nominee_kind": (_set("Tiêu chí", "C2", "tap_the, abc"),
                             ['[Tiêu chí, dòng 2] loại điển hình "abc" không có trong trang Loại điển hình cho mục 1']),
    "item_missing_for_criterion": (_set("Tiêu chí", "A2", 4),
                                   ["[Tiêu chí, dòng 2] mục 4 không có trong trang Nhiệm vụ"]),
    "duplicate_criterion_number": (_set("Tiêu chí", "B3", 1),
                                   ["[Tiêu chí, dòng 3] tiêu chí số 1 của mục 1 trùng với dòng 2"]),
    "bad_base": (_set("Loại điển hình", "D2", "Nhóm"),
                 ["[Loại điển hình, dòng 2] thuộc nhóm \"Nhóm\" phải là một trong: Tập thể, Cá nhân, Hộ gia đình"]),
    "duplicate_kind": (lambda wb: wb["Loại điển hình"].append([1, "tap_the", "Tập thể khác", "Tập thể"]),
                       ['[Loại điển hình, dòng 27] mã loại "tap_the" của mục 1 trùng với dòng 2']),
    "kind_without_criteria": (_delete_criteria_of(10),
                              ['[Loại điển hình, dòng 21] loại "Cá nhân (nông dân)" của mục 10 chưa có tiêu chí nào '
                               "(trang Tiêu chí)"]),
    "misspelled_sheet": (_rename_sheet("Tiêu chí", "Tieu chi cu"),
                         ["[Tieu chi cu] tên trang không đúng — có phải là 'Tiêu chí'?"]),
    "missing_sheet": (lambda wb: wb.remove(wb["Loại điển hình"]),
                      ["[Loại điển hình] thiếu trang 'Loại điển hình' (mọi trang: Đợt, Đơn vị, Nhiệm vụ, Loại điển "
                       "hình, Tiêu chí)"]),
    "misspelled_column": (_set("Đơn vị", "B1", "Tên đầy đủ đơn vị"),
                          ["[Đơn vị, dòng 1] cột \"Tên đầy đủ đơn vị\" không có trong mẫu — có phải là 'Tên đầy đủ'?"]),
    "missing_column": (lambda wb: wb["Đơn vị"].delete_cols(1),
                       ["[Đơn vị, dòng 1] thiếu cột 'Mã đơn vị'"]),
}


@pytest.mark.parametrize("kind", list(MESSAGES))
def test_every_catalogue_message_names_sheet_row_and_fix(tmp_path, kind):
    change, expected = MESSAGES[kind]
    path = edit(write_book(tmp_path), change)
    assert problems_of(path) == expected


def test_accents_and_case_are_forgiven(tmp_path):
    """What an officer types without a Vietnamese keyboard still reads: folded names and dropdown values."""
    def change(wb: openpyxl.Workbook) -> None:
        wb["Đơn vị"].title = "Don vi"
        wb["Nhiệm vụ"]["C2"] = "phong trao thi dua"
        wb["Nhiệm vụ"]["G8"] = "rieng moi don vi"
        wb["Loại điển hình"]["D2"] = "tap the"
    c = cat.load(edit(write_book(tmp_path), change))
    assert c == cat.load()


def test_extra_sheet_and_column_are_noted_not_refused(tmp_path):
    def change(wb: openpyxl.Workbook) -> None:
        wb.create_sheet("Ghi chép")["A1"] = "việc cần làm"
        wb["Đơn vị"]["H1"] = "Ghi chú riêng"
    c = cat.load(edit(write_book(tmp_path), change))
    assert c == cat.load()
    assert c.notes == ("Trang 'Ghi chép' không thuộc danh mục nên không được đọc.",
                       "Cột 'Ghi chú riêng' của trang 'Đơn vị' không thuộc danh mục nên không được đọc.")


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not really a zip", "năm = 2024\n".encode()])
def test_a_file_that_is_no_workbook_gets_one_clear_message(tmp_path, content):
    path = tmp_path / "danh_muc.xlsx"
    path.write_bytes(content)
    assert problems_of(path) == [
        f"Tệp danh mục '{path}' không đọc được như sổ Excel (.xlsx): tệp bị hỏng, có mật khẩu hoặc không phải tệp "
        "Excel. Hãy mở tệp bằng Excel hoặc LibreOffice và lưu lại dạng .xlsx (không đặt mật khẩu), hoặc chạy "
        "'hoacu-xlsx init --force' để có danh mục mới."]


def test_cli_lists_every_problem_at_once_and_generates_nothing(tmp_path):
    def change(wb: openpyxl.Workbook) -> None:
        _set("Đợt", f"B{round_row('Hạn nộp')}", "31/13/2026")(wb)
        _set_unit("ban_chqs", "A", "cong_an")(wb)
        _set_unit("cc_dia_chinh", "B", None)(wb)
        _set("Nhiệm vụ", "E2", "ban_tuyen_giao, abc")(wb)
        wb.create_sheet("Nháp")
    edit(write_book(tmp_path), change)
    r = cli("generate", "--dir", str(tmp_path))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr + r.stdout
    assert r.stderr.splitlines() == [
        f"Danh mục '{tmp_path / 'danh_muc.xlsx'}' có 5 lỗi — sửa rồi chạy lại:",
        f'  • [Đợt, dòng {round_row("Hạn nộp")}] hạn nộp "31/13/2026" không phải ngày (dd/mm/yyyy)',
        "  • [Đơn vị, dòng 3] tên đầy đủ không được để trống",
        '  • [Đơn vị, dòng 10] mã đơn vị "cong_an" trùng với dòng 9',
        '  • [Nhiệm vụ, dòng 2] đơn vị "abc" không có trong trang Đơn vị',
        '  • [Nhiệm vụ, dòng 8] đơn vị "ban_chqs" không có trong trang Đơn vị',
    ]
    assert not (tmp_path / "outbox").exists() or not any((tmp_path / "outbox").iterdir())


def test_cli_refuses_a_corrupt_catalogue_workbook(tmp_path):
    (tmp_path / "danh_muc.xlsx").write_bytes(b"\x00" * 64)
    r = cli("generate", "--dir", str(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "không đọc được như sổ Excel" in r.stderr and "danh_muc.xlsx" in r.stderr
    assert not (tmp_path / "outbox").exists() or not any((tmp_path / "outbox").iterdir())


# --------------------------------------------------------------------------- edit, then generate


NEW_NAME = "Công an xã Hòa Cư (tên mới, dữ liệu mẫu)"
NEW_VILLAGE = "Thôn Mẫu Mới"
NEW_CRITERION = "Tiêu chí mẫu thêm (dữ liệu mẫu)"


def cells_of(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    out = [str(v) for name in wb.sheet_names for row in wb.get_sheet_by_name(name).to_python() for v in row if v]
    wb.close()
    return out


def assert_outbox_follows_the_edit(folder: Path) -> None:
    r = cli("generate", "--dir", str(folder))
    assert r.returncode == 0, r.stderr
    outbox = folder / "outbox"
    village = outbox / "DTTT_2024_thon_mau_moi.xlsx"
    assert village.exists(), sorted(p.name for p in outbox.iterdir())
    assert NEW_VILLAGE in cells_of(village)
    police = cells_of(outbox / "DTTT_2024_cong_an.xlsx")
    assert NEW_NAME in police
    assert f"TC11. {NEW_CRITERION}" in police                  # the added criterion is a column of item 8
    assert "Công an xã" not in police                          # the old name is gone
    assert f"TC11. {NEW_CRITERION}" in cells_of(outbox / "DTTT_2024_ban_chqs.xlsx")


def test_officer_edits_with_openpyxl_then_generates(tmp_path):
    def change(wb: openpyxl.Workbook) -> None:
        units = wb["Đơn vị"]
        units[f"B{row_of(units, 'A', 'cong_an')}"] = NEW_NAME
        units.append([None, NEW_VILLAGE, None, "Thôn", None, None])          # a village: id made from its name
        wb["Tiêu chí"].append([8, None, "tap_the, chien_si", NEW_CRITERION, NEW_CRITERION])
    edit(write_book(tmp_path), change)
    c = cat.load(tmp_path / "danh_muc.xlsx")
    assert c.unit("thon_mau_moi").is_village and c.villages == [NEW_VILLAGE]
    assert_outbox_follows_the_edit(tmp_path)


@pytest.mark.libreoffice
def test_officer_edits_in_libreoffice_then_generates(tmp_path, libreoffice):
    src = write_book(tmp_path / "src")
    police_row = 1 + [u.id for u in cat.load().units].index("cong_an") + 1
    ops = [
        {"op": "set", "sheet": "Đơn vị", "cell": f"B{police_row}", "value": NEW_NAME},
        {"op": "insert_rows", "sheet": "Đơn vị", "before": 2, "count": 1},     # the new village goes on top
        {"op": "set", "sheet": "Đơn vị", "cell": "B2", "value": NEW_VILLAGE},
        {"op": "set", "sheet": "Đơn vị", "cell": "D2", "value": "Thôn"},
        {"op": "insert_rows", "sheet": "Tiêu chí", "before": 2, "count": 1},
        {"op": "set", "sheet": "Tiêu chí", "cell": "A2", "value": 8},
        {"op": "set", "sheet": "Tiêu chí", "cell": "C2", "value": "tap_the, chien_si"},
        {"op": "set", "sheet": "Tiêu chí", "cell": "D2", "value": NEW_CRITERION},
        {"op": "set", "sheet": "Tiêu chí", "cell": "E2", "value": NEW_CRITERION},
    ]
    libreoffice.fill([{"src": str(src), "dst": str(tmp_path / "danh_muc.xlsx"), "format": "xlsx", "ops": ops}])
    c = cat.load(tmp_path / "danh_muc.xlsx")
    assert c.deadline == date(2024, 5, 31)                                   # LibreOffice kept the date a date
    assert c.unit("cong_an").name == NEW_NAME and c.unit("thon_mau_moi").is_village
    assert [cr.number for cr in c.assignment("8").criteria][0] == 11         # listed first, numbered next
    assert_outbox_follows_the_edit(tmp_path)


@pytest.mark.libreoffice
def test_libreoffice_saved_errors_are_reported_by_row(tmp_path, libreoffice):
    src = write_book(tmp_path / "src")
    ops = [{"op": "insert_rows", "sheet": "Nhiệm vụ", "before": 3, "count": 1},
           {"op": "set", "sheet": "Nhiệm vụ", "cell": "A3", "value": 15},
           {"op": "set", "sheet": "Nhiệm vụ", "cell": "C3", "value": "Phong trào thi đua"},
           {"op": "set", "sheet": "Nhiệm vụ", "cell": "D3", "value": "Phong trào mẫu (dữ liệu mẫu)"},
           {"op": "set", "sheet": "Nhiệm vụ", "cell": "E3", "value": "thon_khong_co"}]
    libreoffice.fill([{"src": str(src), "dst": str(tmp_path / "danh_muc.xlsx"), "format": "xlsx", "ops": ops}])
    assert problems_of(tmp_path / "danh_muc.xlsx") == [
        '[Nhiệm vụ, dòng 3] đơn vị "thon_khong_co" không có trong trang Đơn vị',
        "[Nhiệm vụ, dòng 3] mục 15 đề xuất điển hình nhưng chưa có loại điển hình nào (trang Loại điển hình)"]


# --------------------------------------------------------------------------- rounds and warnings


def test_generate_warns_about_a_past_deadline_and_a_missing_contact(tmp_path):
    write_book(tmp_path)
    r = cli("generate", "--dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "CHÚ Ý: hạn nộp 31/05/2024 đã qua" in r.stderr and "CHÚ Ý" not in r.stdout
    assert "Chưa có họ tên, điện thoại, thư điện tử của cán bộ nhận sổ" in r.stderr
    c = cat.load(tmp_path / "danh_muc.xlsx")
    assert generate.round_alerts(c, date(2024, 3, 1))[0] == []
    import dataclasses

    filled = dataclasses.replace(c, receiver=cat.Receiver(c.receiver.title, "Cán bộ Mẫu", "tdkt@example.vn",
                                                          "0900000000"))
    assert generate.round_alerts(filled, date(2024, 3, 1)) == ([], [])


def test_generate_reports_catalogue_changes_and_old_workbooks_still_merge(tmp_path):
    from hoacu_xlsx import demo, merge
    from hoacu_xlsx import picture as P

    first = generate.run(cat.load(write_book(tmp_path)), tmp_path, today=date(2024, 3, 1))
    assert first.changes == []
    old = {b.unit.id: b for b in first.built}["cong_an"]
    sent = tmp_path / "sent_cong_an.xlsx"
    wb = openpyxl.load_workbook(old.path)                     # the unit fills the workbook it got earlier
    lay = old.meta.layouts["8"]
    for key, value in demo.sample_row(cat.load(), "8", 1).items():
        if key in lay.columns:
            wb[lay.sheet][f"{lay.columns[key]}{lay.first_data_row}"] = value
    wb.save(sent)

    def change(wb: openpyxl.Workbook) -> None:
        units = wb["Đơn vị"]
        units[f"B{row_of(units, 'A', 'cong_an')}"] = NEW_NAME
        crit = wb["Tiêu chí"]
        crit[f"D{[c.row for c in crit['A'] if c.value == 8][1]}"] = "Hoàn thành xuất sắc mọi nhiệm vụ (lời mới)"
    edit(tmp_path / "danh_muc.xlsx", change)
    r = cli("generate", "--dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert f'Đơn vị "cong_an" đổi tên: "Công an xã" → "{NEW_NAME}" (sổ đã gửi vẫn được nhận).' in r.stdout
    assert ('Mục 8, tiêu chí 2 sửa lời: "Hoàn thành xuất sắc các nhiệm vụ" → "Hoàn thành xuất sắc mọi nhiệm vụ '
            '(lời mới)" (sổ đã gửi vẫn được nhận).') in r.stdout

    (tmp_path / "inbox" / "DTTT_2024_cong_an.xlsx").write_bytes(sent.read_bytes())
    report = merge.run(cat.load(tmp_path / "danh_muc.xlsx"), tmp_path)
    police = next(s for s in report.picture.units if s.unit.id == "cong_an")
    assert police.unit.name == NEW_NAME
    assert police.status in (P.SUBMITTED_OK, P.LATE) and police.nominations == 1
    assert not [p for p in report.picture.problems if p.is_error]

    def add(wb: openpyxl.Workbook) -> None:
        wb["Tiêu chí"].append([8, None, "tap_the", NEW_CRITERION, NEW_CRITERION])
    edit(tmp_path / "danh_muc.xlsx", add)
    again = generate.run(cat.load(tmp_path / "danh_muc.xlsx"), tmp_path, today=date(2024, 3, 1))
    assert again.changes == [
        "Danh mục đã thay đổi so với lần tạo sổ trước:",
        f'  • Mục 8 thêm tiêu chí 11 "{NEW_CRITERION}" — sổ đã gửi chưa có cột này.',
        f"Sổ đã gửi trước vẫn được tổng hợp (nhận diện theo mã sổ, mã đơn vị, số tiêu chí); nhưng hãy gửi lại sổ "
        f"mới cho: Ban Chỉ huy Quân sự xã, {NEW_NAME}."]


def test_next_round_moves_dates_titles_and_plan_period():
    from hoacu_xlsx import new_round

    c = cat.load()
    nxt = new_round.next_catalogue(c, 2027)
    assert (nxt.year, nxt.deadline, nxt.plan_period) == (2027, date(2027, 5, 31), "2026 – 2030")
    assert nxt.round_title == "Xây dựng, nhân rộng các mô hình, điển hình tiên tiến năm 2027"
    assert nxt.units == c.units and nxt.assignments == c.assignments
    assert new_round.next_catalogue(c, 2025).plan_period == "2021 – 2025"
    assert new_round.next_period("2021 – 2025", 2031) == "2031 – 2035"
    assert new_round.shift_year(date(2024, 2, 29), 1) == date(2025, 2, 28)


def test_a_new_round_remembers_the_mail_already_fetched(tmp_path):
    from hoacu_xlsx.imap_state import FetchState

    assert cli("init", "--dir", str(tmp_path)).returncode == 0
    state = FetchState.open(tmp_path)
    state.record("tdkt@example.vn", "INBOX", 7, 42, "saved", "<m1@example.vn>", 1000, "thu_1.eml")
    state.close()
    r = cli("init", "--year", "2025", "--dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "dot_2024" / "store" / "fetch.sqlite3").exists()      # the closed round keeps its copy
    state = FetchState.open(tmp_path)
    try:                                  # and the new round will not fetch last year's messages again
        assert state.known_uids("tdkt@example.vn", "INBOX", 7) == {42}
        assert state.file_for("<m1@example.vn>", 1000) == "thu_1.eml"
    finally:
        state.close()


def test_a_folder_runs_2024_then_2025_and_a_2024_file_is_reported_as_such(tmp_path):
    from hoacu_xlsx import merge
    from hoacu_xlsx import picture as P

    assert cli("init", "--dir", str(tmp_path)).returncode == 0
    assert cli("generate", "--dir", str(tmp_path)).returncode == 0
    old_file = tmp_path / "outbox" / "DTTT_2024_cong_an.xlsx"
    assert old_file.exists()

    r = cli("init", "--year", "2025", "--dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "HẠN NỘP: 31/05/2025" in r.stdout and "trang 'Đợt'" in r.stdout
    assert (tmp_path / "danh_muc_2024.xlsx").exists()
    assert cat.load(tmp_path / "danh_muc_2024.xlsx") == cat.load()             # the closed round, unchanged
    assert (tmp_path / "dot_2024" / "store").is_dir() and not (tmp_path / "store").exists()
    new = cat.load(tmp_path / "danh_muc.xlsx")
    assert (new.year, new.deadline) == (2025, date(2025, 5, 31))

    r = cli("generate", "--dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "Kho dữ liệu store/" not in r.stderr                                # the rounds do not mix
    for unit in ("cong_an", "ban_tuyen_giao"):
        assert (tmp_path / "outbox" / f"DTTT_2024_{unit}.xlsx").exists()
        assert (tmp_path / "outbox" / f"DTTT_2025_{unit}.xlsx").exists()

    (tmp_path / "inbox" / old_file.name).write_bytes(old_file.read_bytes())
    report = merge.run(new, tmp_path)
    other = [p for p in report.picture.problems if p.code == "other_year"]
    assert [p.message for p in other] == [
        f"Tệp '{old_file.name}' là sổ của đợt năm 2024 (Công an xã), không phải đợt năm 2025 đang tổng hợp; tệp "
        "không được tính. Nếu đơn vị gửi nhầm sổ cũ, đề nghị gửi lại sổ năm 2025."]
    police = next(s for s in report.picture.units if s.unit.id == "cong_an")
    assert police.status == P.NOT_SUBMITTED                                      # not credited
    v = cli("validate", "--dir", str(tmp_path), str(tmp_path / "inbox" / old_file.name))
    assert "là sổ của đợt năm 2024" in v.stdout

    again = cli("init", "--year", "2025", "--dir", str(tmp_path))
    assert again.returncode == 2 and "năm của đợt mới phải sau 2025" in again.stderr


def test_generate_warns_when_the_store_holds_another_round(tmp_path):
    write_book(tmp_path)
    assert cli("generate", "--dir", str(tmp_path)).returncode == 0
    from hoacu_xlsx import new_round

    book.write(new_round.next_catalogue(cat.load(), 2026), tmp_path / "danh_muc.xlsx")   # year edited by hand
    r = cli("generate", "--dir", str(tmp_path))
    assert "Kho dữ liệu store/ của thư mục này đang giữ sổ đợt năm 2024" in r.stderr
    assert "init --year 2026" in r.stderr


def test_ids_survive_libreoffices_xa_decoding_and_line_breaks_still_separate(tmp_path):
    """LibreOffice reads 'cc_van_hoa_xa_hoi' from .xlsx as 'cc_van_hoa' + line break + 'hoi' (it takes _xa_ for an
    escape); the reader puts it back, while a line break typed between two ids (Alt+Enter) still separates them."""
    def change(wb: openpyxl.Workbook) -> None:
        units = wb["Đơn vị"]
        units[f"A{row_of(units, 'A', 'cc_van_hoa_xa_hoi')}"] = "cc_van_hoa\nhoi"
        items = wb["Nhiệm vụ"]
        items["E5"] = "cc_van_hoa\nhoi"
        items["E8"] = "cong_an\nban_chqs"
    assert cat.load(edit(write_book(tmp_path), change)) == cat.load()
