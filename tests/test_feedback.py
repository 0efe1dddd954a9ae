"""The feedback workbook a unit with errors gets back: its own file with the cells marked, a 'Cần sửa' sheet
listing what to fix, and nothing once the unit has fixed everything. Returns written by xlsxwriter."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from hoacu_xlsx import builder, demo, merge, template
from hoacu_xlsx.feedback import SUMMARY_SHEET, feedback_name
from tests.conftest import generated_round

NOW = datetime(2024, 5, 20, 12, 0).astimezone()
UNIT = "ban_tuyen_giao"


@pytest.fixture(scope="module")
def gen(tmp_path_factory, catalogue):
    wd, built, _out, sample = generated_round(tmp_path_factory, catalogue, "feedback")
    return wd, built, sample


def send(gen, catalogue, wd: Path, rows: list[dict], name: str, received: datetime) -> None:
    """The unit's return dropped into inbox/, received (file time) at ``received``."""
    _wd, built, _sample = gen
    b = built[UNIT]
    path = wd / "inbox" / name
    builder.build_workbook(path, catalogue, b.unit, template.load_style(None), b.meta.token,
                           b.meta.generated_at, {b.meta.assignment_ids[0]: rows}, demo.PREPARER)
    os.utime(path, (received.timestamp(), received.timestamp()))


@pytest.fixture()
def round_with_errors(gen, catalogue, tmp_path):
    wd = tmp_path / "round"
    shutil.copytree(gen[0], wd)
    sample = gen[2]
    bad = sample("1", 1, 1) | {"nam_sinh": 1850}
    del bad["gioi_tinh"]
    send(gen, catalogue, wd, [bad, sample("1", 2, 0)], "DTTT_2024_ban_tuyen_giao.xlsx", datetime(2024, 5, 20, 8, 0))
    merge.run(catalogue, wd, now=NOW)
    return wd


def feedback_file(wd: Path, catalogue) -> Path:
    return wd / "feedback" / feedback_name(catalogue.year, UNIT)


def test_the_unit_gets_its_own_file_with_the_wrong_cells_marked(round_with_errors, catalogue):
    path = feedback_file(round_with_errors, catalogue)
    assert path.exists()
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == SUMMARY_SHEET and "Mục 1" in wb.sheetnames
    ws = wb["Mục 1"]
    year, gender = ws["E8"], ws["D8"]
    assert year.value == 1850                                     # the unit's value is left as typed
    assert year.fill.fgColor.rgb == "FFFFC7CE"                     # red: an error
    assert "Năm sinh 1850 nằm ngoài khoảng 1900–2024." in year.comment.text
    assert "Chưa điền 'Giới tính' (bắt buộc với loại 'Cá nhân')." in gender.comment.text
    assert ws["C9"].comment is None                                # the good row is not marked


def test_the_to_fix_sheet_lists_each_problem_with_its_cell(round_with_errors, catalogue):
    ws = openpyxl.load_workbook(feedback_file(round_with_errors, catalogue))[SUMMARY_SHEET]
    assert ws["A2"].value == "Đơn vị: Ban Tuyên giáo Đảng ủy xã"
    header = [c.value for c in ws[7]]
    assert header == ["STT", "Mức độ", "Trang", "Ô", "Giá trị", "Nội dung cần sửa"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=8) if r[0].value]
    errors = [r for r in rows if r[1] == "Lỗi"]
    assert ["Mục 1", "D8"] in [r[2:4] for r in errors]
    assert ["Mục 1", "E8", "1850", "Năm sinh 1850 nằm ngoài khoảng 1900–2024."] in [r[2:6] for r in errors]
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert rows.index(errors[-1]) == len(errors) - 1              # errors first, then warnings


def test_the_feedback_is_removed_once_the_unit_has_fixed_everything(round_with_errors, gen, catalogue):
    wd = round_with_errors
    sample = gen[2]
    send(gen, catalogue, wd, [sample("1", 1, 1), sample("1", 2, 0)], "DTTT_2024_ban_tuyen_giao (1).xlsx",
         datetime(2024, 5, 21, 8, 0))                              # the corrected file, the day after
    merge.run(catalogue, wd, now=datetime(2024, 5, 21, 9, 0).astimezone())
    assert not feedback_file(wd, catalogue).exists()
