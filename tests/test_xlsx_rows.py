"""The master's fast row writer produces exactly the XML xlsxwriter writes cell by cell."""

from __future__ import annotations

import re
import zipfile

import pytest
import xlsxwriter

from hoacu_xlsx import master as MS
from hoacu_xlsx.xlsx_rows import RowWriter

TRICKY = [" leading", "trailing ", "tab\tinside", "line\nbreak", "cr\rhere", "ctl\x01\x1f", "_x000A_ literal",
          "cc_van_hoa_xa_hoi", "a & b < c > d", '"quoted"', "Nguyễn Thị Hồng Nhung", "=SUM(A1:A2)", "\ufffe",
          "x" * 40000, "😀" * 20000, True, False, 0, 7, -3.25, 1e20, 123456789012345678, 0.1 + 0.2, None, ""]


def sheet_data(path, n: int) -> str:
    with zipfile.ZipFile(path) as z:
        xml = z.read(f"xl/worksheets/sheet{n}.xml").decode()
    return re.search(r"<sheetData>.*</sheetData>|<sheetData/>", xml, re.S).group(0), \
        re.search(r'<dimension ref="[^"]*"/>', xml).group(0)


@pytest.mark.parametrize("escaped", [False, True])
def test_rows_match_xlsxwriter_cell_by_cell(tmp_path, escaped):
    path = tmp_path / "t.xlsx"
    rows = [[TRICKY[(r * 7 + c) % len(TRICKY)] for c in range(9)] for r in range(len(TRICKY) + 3)]
    rows.append([None] * 9)                       # an empty row: not written at all
    with (MS._escapes_libreoffice_reads_right() if escaped else _nothing()):
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                             "strings_to_numbers": False, "strings_to_urls": False})
        fmt_a, fmt_b = wb.add_format({"bold": True}), wb.add_format({"text_wrap": True})
        col_fmt = wb.add_format({"bg_color": "#FFFBEA"})
        fmts = [None, fmt_a, None, fmt_b, None, fmt_a, None, None, None]
        sheets = [wb.add_worksheet("by_cell"), wb.add_worksheet("by_row")]
        for ws in sheets:
            ws.set_column(7, 7, 20, col_fmt)      # a column format applies to cells written without one
            ws.write_string(0, 0, "header")
            ws.set_row(3, 30)                     # a row with its own height
        for r, row in enumerate(rows, start=2):
            for c, v in enumerate(row):
                MS._put(sheets[0], r, c, v, fmts[c])
        out = RowWriter(sheets[1], 2, fmts)
        for r, row in enumerate(rows, start=2):
            out.row(r, row)
        out.close()
        wb.close()
    assert sheet_data(path, 1) == sheet_data(path, 2)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_rows_must_come_in_order(tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "t.xlsx"), {"constant_memory": True})
    out = RowWriter(wb.add_worksheet(), 2, [None])
    out.row(3, ["a"])
    with pytest.raises(ValueError):
        out.row(2, ["b"])
    wb.close()
