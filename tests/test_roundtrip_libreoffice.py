"""The real client: LibreOffice Calc opens a generated workbook, a unit fills it, saves it.

Dropdowns, protection and `_meta` must survive; the rows must read back; converting
to .ods and .xls with `soffice --convert-to` must keep the rows and `_meta` readable.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from hoacu_xlsx import demo, merge, reader
from hoacu_xlsx.catalogue import Catalogue


@pytest.fixture(scope="module")
def filled(tmp_path_factory, catalogue: Catalogue, libreoffice):
    from hoacu_xlsx import generate

    wd = tmp_path_factory.mktemp("lo")
    gen = generate.run(catalogue, wd, units=["truong_th_thcs"])
    b = gen.built[0]
    rows = [demo.sample_row(catalogue, "7", 1, kind_index=0),
            demo.sample_row(catalogue, "7", 2, kind_index=1),
            demo.sample_row(catalogue, "7", 3, kind_index=2)]
    out = wd / "returned.xlsx"
    libreoffice.fill([{"src": str(b.path), "dst": str(out), "format": "xlsx",
                       "ops": demo.fill_ops(b.meta, "7", rows, demo.PREPARER)}])
    conv = {fmt: libreoffice.convert(out, fmt, wd / fmt) for fmt in ("ods", "xls")}
    return {"wd": wd, "built": b, "xlsx": out, "rows": rows, **conv}


def test_dropdowns_protection_and_meta_survive_libreoffice(filled):
    wb = openpyxl.load_workbook(filled["xlsx"])
    meta = {r[0]: r[1] for r in wb["_meta"].iter_rows(values_only=True) if r[0]}
    # LibreOffice has no "very hidden" state: the sheet comes back hidden, still out of the unit's way
    assert wb["_meta"].sheet_state in ("hidden", "veryHidden")
    assert meta["token"] == filled["built"].meta.token and meta["unit_id"] == "truong_th_thcs"
    ws = wb[meta["sheet:7"]]
    assert ws.protection.sheet
    kinds = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(kinds) >= 6
    first = meta["first_data_row:7"]
    assert not ws[f"{meta['field:7:ten']}{first}"].protection.locked


def test_rows_read_back_exactly(filled, catalogue):
    raw = reader.read_raw(filled["xlsx"].read_bytes())
    located = reader.locate(raw, catalogue, {filled["built"].meta.token: "truong_th_thcs"}, "returned.xlsx")
    assert located.unit.id == "truong_th_thcs" and located.identified_by == "token"
    table = located.tables[0]
    assert len(table.rows) == 3
    for typed, row in zip(filled["rows"], table.rows):
        for key, value in typed.items():
            got = reader.cell_value(row.cells[key].value)
            assert str(got) == str(value), (key, got, value)


def test_self_check_computes_in_libreoffice(filled):
    raw = reader.read_raw(filled["xlsx"].read_bytes())
    texts = [v for s in raw["sheets"] for _, _, v in s["cells"] if isinstance(v, str)]
    assert any(t.startswith("Đã đủ thông tin: 3 điển hình") for t in texts)


@pytest.mark.parametrize("fmt", ["ods", "xls"])
def test_converted_copies_keep_rows_and_meta(filled, catalogue, fmt):
    path: Path = filled[fmt]
    checks = merge.check_files(catalogue, filled["wd"], [path])
    assert not checks[0].unreadable, checks[0].problems
    assert checks[0].unit_name == "Trường TH&THCS xã Hòa Cư"
    assert checks[0].nominations == 3
    assert not [p for p in checks[0].problems if p.is_error]
