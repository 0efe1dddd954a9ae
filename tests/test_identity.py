"""Identity that follows people: decisions never move between two people, and follow one person
whose name or birth year the unit corrects — returns filled by LibreOffice, master read back with openpyxl."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from hoacu_xlsx import demo, identity as I, merge, picture as P
from hoacu_xlsx.master import master_path
from hoacu_xlsx.store import Store
from hoacu_xlsx.validator import Nomination, cross_duplicates, nomination_id
from tests.conftest import MASTER_HEADER, generated_round

NOW = datetime(2024, 5, 25, 12, 0).astimezone()
NAME = "Tên tập thể / Họ và tên cá nhân, chủ hộ"
DECISION = "Kết quả xét chọn"
LINK = "Nối với mã điển hình"
NOTE = "Nhận diện giữa các bản"


# --------------------------------------------------------------------------- pure rules


def test_person_key_keeps_diacritics_and_folds_the_rest():
    import unicodedata

    assert I.person_key("Lê Thị Hà") != I.person_key("Lê Thị Hạ")
    assert I.person_key("  LÊ  THỊ HÀ ") == I.person_key("Lê Thị Hà")
    assert I.person_key(unicodedata.normalize("NFD", "Lê Thị Hà")) == I.person_key("Lê Thị Hà")
    assert I.person_key("Nguyễn Thị Hoà") == I.person_key("Nguyễn Thị Hòa")      # old/new tone placement
    assert nomination_id("u", "13", "Lê Thị Hà", "1980", 0) != nomination_id("u", "13", "Lê Thị Hạ", "1980", 0)


def _nom(name: str, year: str = "1980", pos: str = "", feat: str = "", row: int = 7) -> Nomination:
    values = {"ten": name, "nam_sinh": year, "chuc_vu_don_vi": pos, "thanh_tich": feat, "loai_dien_hinh": "Cá nhân"}
    return Nomination(nomination_id("u", "13", name, year, 0), "u", "13", values, name, "a.xlsx", "Mục 13", row,
                      "ca_nhan")


def test_cross_duplicates_only_for_equal_names():
    assert cross_duplicates([_nom("Lê Thị Hà"), _nom("Lê Thị Hạ")]) == []
    (p,) = cross_duplicates([_nom("Lê Thị Hà"), _nom("LÊ THỊ  HÀ")])
    assert p.code == "duplicate_person" and "có thể trùng" in p.message


def test_match_links_only_clear_unique_pairs():
    old = _nom("Lê Thi Ha", pos="Chi hội trưởng")
    new = _nom("Lê Thị Hà", pos="Chi hội trưởng")
    assert I.match([old], [new]).links == [(old, new)]
    # a close name and nothing else equal: listed, not linked
    far = _nom("Lê Thị Hà", year="1990", pos="Hội viên", feat="khác")
    got = I.match([old], [far])
    assert got.links == [] and got.candidates == [(far, [old])]
    # two old rows that could both be the new one: never guess
    twin = _nom("Le Thi Ha", pos="Chi hội trưởng", row=8)
    got = I.match([old, twin], [new])
    assert got.links == [] and got.candidates == [(new, [old, twin])]
    # names that differ by a number are different collectives
    assert not I.close_names("Tổ hội 1", "Tổ hội 3")


# --------------------------------------------------------------------------- real returns


def person(sr, n: int, name: str, year: int, pos: str, feat: str) -> dict:
    row = sr("13", n, 1)
    row.update(ten=name, nam_sinh=year, chuc_vu_don_vi=pos, thanh_tich=feat)
    return row


@pytest.fixture(scope="module")
def returns(tmp_path_factory, catalogue, libreoffice):
    wd, built, out, sr = generated_round(tmp_path_factory, catalogue, "identity")
    ha = lambda n: person(sr, n, "Lê Thị Hà", 1980, "Chi hội trưởng mẫu", "Thành tích mẫu của chị Hà")  # noqa: E731
    ha_ = lambda n: person(sr, n, "Lê Thị Hạ", 1980, "Hội viên mẫu", "Thành tích mẫu của chị Hạ")   # noqa: E731
    plan = {
        "swap_v1": [ha(1), ha_(2)],
        "swap_v2": [ha_(2), ha(1)],                           # the unit re-sorted its rows
        "fix_v1": [person(sr, 3, "Lê Thi Ha", 1980, "Chi hội trưởng mẫu", "Thành tích A (mẫu)"),
                   person(sr, 4, "Trần Văn Bình", 1975, "Tổ trưởng mẫu", "Thành tích B (mẫu)")],
        "fix_v2": [person(sr, 3, "Lê Thị Hà", 1980, "Chi hội trưởng mẫu", "Thành tích A (mẫu)"),   # diacritics fixed
                   person(sr, 4, "Trần Văn Bình", 1976, "Tổ trưởng mẫu", "Thành tích B (mẫu)")],  # birth year fixed
        "vague_v1": [person(sr, 5, "Nguyễn Văn An", 1980, "Xã viên mẫu", "Thành tích C (mẫu)")],
        "vague_v2": [person(sr, 5, "Nguyễn Văn Anh", 1990, "Chủ nhiệm mẫu", "Thành tích D (mẫu)")],
    }
    libreoffice.fill([demo.fill_job(built["hoi_lhpn"], {"13": rows}, out / f"{name}.xlsx")
                      for name, rows in plan.items()])
    return wd, out


def round_with(returns, tmp_path: Path, name: str, when: datetime) -> Path:
    src, out = returns
    wd = tmp_path / "round"
    if not wd.exists():
        shutil.copytree(src, wd)
    dst = wd / "inbox" / f"{name}.xlsx"
    shutil.copyfile(out / f"{name}.xlsx", dst)
    os.utime(dst, (when.timestamp(), when.timestamp()))
    return wd


def master_rows(wd: Path) -> list[dict]:
    ws = openpyxl.load_workbook(master_path(wd, 2024))["Điển hình"]
    header = [c.value for c in ws[MASTER_HEADER]]
    return [dict(zip(header, (c.value for c in r))) for r in ws.iter_rows(min_row=MASTER_HEADER + 1) if r[0].value]


def type_in_master(wd: Path, by_name: dict[str, dict[str, str]]) -> None:
    """The officer types into the master's officer columns, on the rows of the given names."""
    mp = master_path(wd, 2024)
    wb = openpyxl.load_workbook(mp)
    ws = wb["Điển hình"]
    cols = {c.value: c.column for c in ws[MASTER_HEADER]}
    for r in range(MASTER_HEADER + 1, ws.max_row + 1):
        typed = by_name.get(ws.cell(r, cols[NAME]).value, {})
        for header, value in typed.items():
            ws.cell(r, cols[header]).value = value
    wb.save(mp)


@pytest.mark.libreoffice
def test_resorted_rows_keep_each_persons_decision(returns, tmp_path, catalogue):
    wd = round_with(returns, tmp_path, "swap_v1", datetime(2024, 5, 20, 9, 0))
    merge.run(catalogue, wd, now=NOW)
    type_in_master(wd, {"Lê Thị Hà": {DECISION: "Được chọn"}, "Lê Thị Hạ": {DECISION: "Không chọn"}})
    round_with(returns, tmp_path, "swap_v2", datetime(2024, 5, 21, 9, 0))
    report = merge.run(catalogue, wd, now=NOW)
    current = {r[NAME]: r for r in master_rows(wd) if r["Tình trạng"] == P.NOM_CURRENT}
    assert current["Lê Thị Hà"][DECISION] == "Được chọn"
    assert current["Lê Thị Hạ"][DECISION] == "Không chọn"
    assert current["Lê Thị Hà"]["Tệp nguồn"] == "swap_v2.xlsx"
    assert not [p for p in report.picture.problems if p.code == "duplicate_person"]
    assert all(r["Tình trạng"] != P.NOM_WITHDRAWN for r in master_rows(wd))


@pytest.mark.libreoffice
def test_corrected_name_and_birth_year_carry_the_decision(returns, tmp_path, catalogue):
    wd = round_with(returns, tmp_path, "fix_v1", datetime(2024, 5, 20, 9, 0))
    merge.run(catalogue, wd, now=NOW)
    type_in_master(wd, {"Lê Thi Ha": {DECISION: "Được chọn", "Ghi chú của cán bộ TĐKT": "Đã gặp"},
                        "Trần Văn Bình": {DECISION: "Không chọn"}})
    round_with(returns, tmp_path, "fix_v2", datetime(2024, 5, 21, 9, 0))
    merge.run(catalogue, wd, now=NOW)
    rows = master_rows(wd)
    by = {r[NAME]: r for r in rows}
    assert by["Lê Thị Hà"]["Tình trạng"] == P.NOM_CURRENT
    assert by["Lê Thị Hà"][DECISION] == "Được chọn" and by["Lê Thị Hà"]["Ghi chú của cán bộ TĐKT"] == "Đã gặp"
    assert by["Lê Thị Hà"][NOTE] == "Đã nối với bản trước: tên cũ 'Lê Thi Ha'"
    assert by["Trần Văn Bình"][DECISION] == "Không chọn" and by["Trần Văn Bình"]["Năm sinh"] == "1976"
    assert "năm sinh cũ 1975" in by["Trần Văn Bình"][NOTE]
    assert "Lê Thi Ha" not in by and len(rows) == 2                      # not listed as withdrawn
    with Store.open(wd) as store:
        assert sorted(how for _o, _n, how, _t in store.links()) == ["auto", "auto"]
    # stable: the next merge (the officer changes nothing) keeps the same picture
    merge.run(catalogue, wd, now=NOW)
    assert master_rows(wd) == rows


@pytest.mark.libreoffice
def test_unclear_match_lists_candidates_and_the_officer_links(returns, tmp_path, catalogue):
    wd = round_with(returns, tmp_path, "vague_v1", datetime(2024, 5, 20, 9, 0))
    merge.run(catalogue, wd, now=NOW)
    type_in_master(wd, {"Nguyễn Văn An": {DECISION: "Được chọn"}})
    old_id = next(r["Mã điển hình"] for r in master_rows(wd) if r[NAME] == "Nguyễn Văn An")
    round_with(returns, tmp_path, "vague_v2", datetime(2024, 5, 21, 9, 0))
    merge.run(catalogue, wd, now=NOW)
    by = {r[NAME]: r for r in master_rows(wd)}
    assert by["Nguyễn Văn Anh"][DECISION] in (None, "")                   # never guessed
    assert by["Nguyễn Văn An"]["Tình trạng"] == P.NOM_WITHDRAWN and by["Nguyễn Văn An"][DECISION] == "Được chọn"
    ws = openpyxl.load_workbook(master_path(wd, 2024))["Lỗi cần sửa"]
    hits = [[c.value for c in r] for r in ws.iter_rows(min_row=MASTER_HEADER + 1) if r[7].value == "link_candidates"]
    assert len(hits) == 1 and hits[0][0] == "Cảnh báo"
    assert "Nguyễn Văn Anh" in hits[0][6] and "Nguyễn Văn An'" in hits[0][6] and old_id in hits[0][6]
    # the officer links the rows: the decision follows, the old row is no longer "withdrawn"
    type_in_master(wd, {"Nguyễn Văn Anh": {LINK: old_id}})
    merge.run(catalogue, wd, now=NOW)
    by = {r[NAME]: r for r in master_rows(wd)}
    assert by["Nguyễn Văn Anh"][DECISION] == "Được chọn" and by["Nguyễn Văn Anh"][LINK] == old_id
    assert old_id in by["Nguyễn Văn Anh"][NOTE] and "Nguyễn Văn An" not in by
    # clearing the cell undoes the link: the old row is listed again
    type_in_master(wd, {"Nguyễn Văn Anh": {LINK: None}})
    merge.run(catalogue, wd, now=NOW)
    by = {r[NAME]: r for r in master_rows(wd)}
    assert by["Nguyễn Văn An"]["Tình trạng"] == P.NOM_WITHDRAWN and not by["Nguyễn Văn Anh"][NOTE]
    with Store.open(wd) as store:
        assert store.links() == []
