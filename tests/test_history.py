"""Examples followed year to year: linking rules, earlier masters read back, and two rounds in one folder.

The two-round folder is the officer's real sequence: the 2024 round is generated, units'
returns (typed by openpyxl into the generated workbooks by the ``_meta`` contract) are
merged, the officer marks one nominee "Được chọn" in the master with openpyxl and merges
again; then the 2025 round (a catalogue file with the year changed) runs in the same folder.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from hoacu_xlsx import catalogue as C
from hoacu_xlsx import demo, generate, history as H, merge, picture as P
from hoacu_xlsx.cli import main
from hoacu_xlsx.master import master_path
from hoacu_xlsx.validator import Nomination

from tests.conftest import fill_with_openpyxl

NAME = "Tên tập thể / Họ và tên cá nhân, chủ hộ"
HONOUR = "Giấy khen của Chủ tịch UBND xã"


# --------------------------------------------------------------------------- linking rules (pure)


def entry(year: int, name: str, birth: str = "", unit: str = "hoi_nong_dan", base: str = "ca_nhan", item: int = 10,
          decision: str = "", honour: str = "") -> H.Entry:
    return H.Entry(year, unit, unit, item, "Cá nhân", base, name, birth, decision, honour, f"{year}-{name}-{birth}")


def tracks_of(*entries: H.Entry) -> tuple[list[H.Track], dict[int, H.Track]]:
    return H.link_rounds(list(entries))


def test_same_person_is_linked_across_case_spacing_and_unicode_form():
    import unicodedata

    a = entry(2024, "Nguyễn Văn Mẫu", "1970")
    b = entry(2025, unicodedata.normalize("NFD", "  NGUYỄN   văn MẪU "), "1970")
    tracks, where = tracks_of(a, b)
    assert len(tracks) == 1 and where[id(a)] is where[id(b)]
    assert not where[id(b)].maybe


def test_name_equal_only_without_diacritics_is_possible_not_linked():
    ha, ha_dot = entry(2024, "Lê Thị Hà", "1980"), entry(2025, "Lê Thị Hạ", "1980")
    tracks, where = tracks_of(ha, ha_dot)
    assert len(tracks) == 2
    maybe = where[id(ha_dot)].maybe
    assert [(t.latest.name, why) for t, why in maybe] == [("Lê Thị Hà", "tên chỉ giống khi bỏ dấu")]


def test_birth_year_must_agree_when_both_have_one():
    a, b = entry(2024, "Lê Văn Mẫu", "1970"), entry(2025, "Lê Văn Mẫu", "1971")
    tracks, where = tracks_of(a, b)
    assert len(tracks) == 2
    assert [why for _, why in where[id(b)].maybe] == ["cùng tên nhưng khác năm sinh"]
    # one side without a birth year: still the same example
    c, d = entry(2024, "Lê Văn Mẫu"), entry(2025, "Lê Văn Mẫu", "1970")
    assert len(tracks_of(c, d)[0]) == 1


def test_other_unit_or_other_kind_is_another_example():
    a = entry(2024, "Tập thể mẫu", base="tap_the", unit="cong_an")
    assert len(tracks_of(a, entry(2025, "Tập thể mẫu", base="tap_the", unit="ban_chqs"))[0]) == 2
    assert len(tracks_of(a, entry(2025, "Tập thể mẫu", base="ca_nhan", unit="cong_an"))[0]) == 2


def test_two_past_rows_for_one_current_row_are_never_guessed():
    a, b = entry(2024, "Trần Văn Mẫu", item=2), entry(2024, "Trần Văn Mẫu", item=11)
    now = entry(2025, "Trần Văn Mẫu", "1975")
    tracks, where = tracks_of(a, b, now)
    assert len(tracks) == 3
    assert {t.latest.item for t, _ in where[id(now)].maybe} == {2, 11}
    assert all("không tự ghép" in why for _, why in where[id(now)].maybe)


def test_two_current_rows_for_one_past_row_are_never_guessed():
    past = entry(2024, "Trần Văn Mẫu")
    x, y = entry(2025, "Trần Văn Mẫu", item=2), entry(2025, "Trần Văn Mẫu", item=11)
    tracks, where = tracks_of(past, x, y)
    assert len(tracks) == 3 and where[id(past)].entries == [past]
    assert [t.latest for t, _ in where[id(x)].maybe] == [past]


def test_an_example_skipping_a_year_is_still_followed():
    a, b = entry(2024, "Hộ mẫu", base="ho_gia_dinh"), entry(2026, "Hộ mẫu", base="ho_gia_dinh")
    tracks, where = tracks_of(a, entry(2025, "Người khác"), b)
    assert where[id(a)] is where[id(b)] and [e.year for e in where[id(b)].entries] == [2024, 2026]


def _picture(catalogue: C.Catalogue, rows: list[tuple[str, str, str, str, int]]) -> P.Picture:
    """A picture of counted nominations: (unit id, assignment id, name, birth year, kind index)."""
    noms = []
    for i, (uid, aid, name, birth, k) in enumerate(rows):
        a = catalogue.assignment(aid)
        kind = a.nominee_kinds[k]
        n = Nomination(f"DH-{i}", uid, aid, {"ten": name, "nam_sinh": birth, "loai_dien_hinh": kind.label}, name,
                       "f.xlsx", a.id, i + 13, kind.base)
        noms.append(P.NominationRow(n, catalogue.unit(uid), a, P.NOM_CURRENT, None))
    summaries = [P.AssignmentSummary(a, [], [], 0, {}, False, []) for a in catalogue.assignments]
    return P.Picture(catalogue, datetime(2025, 5, 1), summaries, [], noms, [], [])


def test_counts_repeated_replicated_new_and_uncertain(catalogue):
    import dataclasses

    c25 = dataclasses.replace(catalogue, year=2025)
    past = H.PastRounds([2024], [entry(2024, "Nguyễn Văn Mẫu", "1970", decision="Được chọn", honour=HONOUR),
                                 entry(2024, "Lê Thị Hà", "1980")])
    hist = H.link(past, _picture(c25, [("hoi_nong_dan", "10", "Nguyễn Văn Mẫu", "1970", 0),
                                       ("hoi_nong_dan", "10", "Người mẫu Mới", "1985", 0),
                                       ("hoi_nong_dan", "10", "Lê Thị Hạ", "1980", 0),
                                       ("cong_an", "8", "Tập thể mẫu", "", 0)]))
    by = {c.item: c for c in hist.counts}
    assert (by[10].nominations, by[10].repeated, by[10].replicated, by[10].new, by[10].uncertain) == (3, 1, 1, 0, 1)
    assert (by[8].nominations, by[8].new, by[8].replicated) == (1, 1, 0)
    assert hist.past_text("DH-0") == f"2024: đề xuất, được chọn – {HONOUR}"
    assert hist.past_text("DH-1") == ""
    assert hist.past_text("DH-2").startswith("Có thể là (cán bộ kiểm tra): 2024 – Lê Thị Hà (1980), Mục 10")


def test_officer_columns_belong_to_their_round(tmp_path):
    stored = H.officer_keys({"DH-1": {"ket_qua": "Được chọn"}}, 2024)
    assert H.officer_of_round(stored, 2024, tmp_path) == {"DH-1": {"ket_qua": "Được chọn"}}
    assert H.officer_of_round(stored, 2025, tmp_path) == {}
    legacy = {"DH-1": {"ket_qua": "Được chọn"}}          # saved before rounds were told apart
    assert H.officer_of_round(legacy, 2024, tmp_path) == legacy
    (tmp_path / "master").mkdir()
    (tmp_path / "master" / "tong_hop_2024.xlsx").write_bytes(b"")
    assert H.officer_of_round(legacy, 2025, tmp_path) == {}   # an earlier round exists: legacy values are its own


# --------------------------------------------------------------------------- earlier masters read back


def _write_master_like(path: Path, header_row: int, rows: list[dict[str, str]], extra: list[str]) -> None:
    """A nominations sheet as a reworked master might have it: rows above the header, columns moved, added."""
    wb = openpyxl.Workbook()
    wb.active.title = "Tổng quan"
    ws = wb.create_sheet("Điển hình")
    headers = extra + ["Tình trạng", NAME, "Mã điển hình", "Mục", "Năm sinh", "Đơn vị", "Loại điển hình",
                       "Hình thức tôn vinh", "Kết quả xét chọn"]
    for r in range(1, header_row):
        ws.cell(r, 1, f"__id:{r}")
        ws.row_dimensions[r].hidden = True
    for c, h in enumerate(headers, start=1):
        ws.cell(header_row, c, h)
    for i, row in enumerate(rows, start=header_row + 1):
        for c, h in enumerate(headers, start=1):
            if h in row:
                ws.cell(i, c, row[h])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def test_earlier_master_read_by_labels_only_counted_rows(tmp_path, catalogue):
    base = {"Đơn vị": "HỘI NÔNG DÂN XÃ", "Mục": "Mục 10", "Loại điển hình": "Cá nhân (nông dân)"}
    _write_master_like(tmp_path / "master" / "tong_hop_2024.xlsx", 3, [
        {**base, "Mã điển hình": "DH-A", NAME: "Nguyễn Văn Mẫu", "Năm sinh": 1970, "Tình trạng": "Đang dùng",
         "Kết quả xét chọn": "Được chọn", "Hình thức tôn vinh": HONOUR},
        {**base, "Mã điển hình": "DH-B", NAME: "Người rút", "Tình trạng": P.NOM_WITHDRAWN},
        {**base, "Mã điển hình": "DH-C", NAME: "Người lỗi", "Tình trạng": P.NOM_ERROR},
        {**base, "Đơn vị": "Tổ mẫu đã giải thể", "Mã điển hình": "DH-D", NAME: "Tập thể mẫu",
         "Loại điển hình": "Tập thể (cũ)", "Tình trạng": "Đang dùng"},
    ], extra=["Cột riêng của cán bộ"])
    _write_master_like(tmp_path / "master" / "tong_hop_2025.xlsx", 1, [], extra=[])   # not earlier than 2025
    past = H.load(tmp_path, 2025, catalogue)
    assert past.problems == [] and past.years == [2024]
    a, d = past.entries
    assert (a.unit_key, a.unit_name, a.item, a.base, a.birth, a.chosen, a.honour) == \
        ("hoi_nong_dan", "Hội Nông dân xã", 10, "ca_nhan", "1970", True, HONOUR)
    assert (d.unit_key, d.base) == ("~to mau da giai the", "tap_the")


@pytest.mark.parametrize("content", [b"PK\x03\x04 not really a zip", b""])
def test_damaged_earlier_master_is_one_warning_naming_the_file(tmp_path, catalogue, content):
    (tmp_path / "master").mkdir()
    (tmp_path / "master" / "tong_hop_2024.xlsx").write_bytes(content)
    _write_master_like(tmp_path / "master" / "tong_hop_2023.xlsx", 1, [], extra=[])
    wb = openpyxl.load_workbook(tmp_path / "master" / "tong_hop_2023.xlsx")
    del wb["Điển hình"]
    wb.save(tmp_path / "master" / "tong_hop_2023.xlsx")
    past = H.load(tmp_path, 2025, catalogue)
    assert past.entries == [] and past.years == []
    msgs = [p.message for p in past.problems]
    assert len(msgs) == 2
    assert "tong_hop_2023.xlsx" in msgs[0] and "không có trang 'Điển hình'" in msgs[0]
    assert "tong_hop_2024.xlsx" in msgs[1] and "tệp hỏng" in msgs[1]
    assert all(p.code == "history_master_unreadable" and p.severity == "warning" for p in past.problems)


# --------------------------------------------------------------------------- two rounds in one folder


def _fill(built, rows_by_assignment: dict[str, list[dict]], dst: Path, when: datetime) -> None:
    """Type rows into a generated workbook with openpyxl, by its _meta, saved at ``when``."""
    fill_with_openpyxl(built, rows_by_assignment, dst)
    os.utime(dst, (when.timestamp(), when.timestamp()))


def _row(catalogue: C.Catalogue, aid: str, n: int, name: str, birth: int | None = None, kind: int = 0) -> dict:
    row = demo.sample_row(catalogue, aid, n, kind_index=kind)
    row["ten"] = name
    if birth:
        row["nam_sinh"] = birth
    return row


def catalogue_2025(workdir: Path) -> Path:
    """Until ``init --year`` exists: the built-in catalogue with year and deadline changed, as a --config file."""
    text = C.builtin_text().replace("year = 2024", "year = 2025").replace("deadline = 2024-05-31",
                                                                          "deadline = 2025-05-31")
    path = workdir / "danh_muc_2025.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _mark_chosen(mpath: Path, name: str) -> None:
    """The officer decides in the master, with openpyxl, by header label."""
    wb = openpyxl.load_workbook(mpath)
    ws = wb["Điển hình"]
    header = next(r for r in ws.iter_rows() if any(c.value == "Mã điển hình" for c in r))
    cols = {c.value: c.column for c in header}
    rows = [r for r in range(header[0].row + 1, ws.max_row + 1) if ws.cell(r, cols[NAME]).value == name]
    assert len(rows) == 1
    ws.cell(rows[0], cols["Kết quả xét chọn"]).value = "Được chọn"
    ws.cell(rows[0], cols["Hình thức tôn vinh"]).value = HONOUR
    wb.save(mpath)


@pytest.fixture(scope="module")
def round_2024(tmp_path_factory, catalogue) -> Path:
    """The 2024 round, merged, decided by the officer and merged again."""
    wd = tmp_path_factory.mktemp("rounds")
    built = {b.unit.id: b for b in generate.run(catalogue, wd).built}
    _fill(built["hoi_nong_dan"], {"10": [_row(catalogue, "10", 1, "Nguyễn Văn Mẫu", 1970),
                                         _row(catalogue, "10", 2, "Lê Thị Hà", 1980)]},
          wd / "inbox" / "hoi_nong_dan_2024.xlsx", datetime(2024, 5, 20, 9))
    _fill(built["ban_tuyen_giao"], {"1": [_row(catalogue, "1", 3, "Tập thể mẫu A")]},
          wd / "inbox" / "ban_tuyen_giao_2024.xlsx", datetime(2024, 5, 21, 9))
    merge.run(catalogue, wd, now=datetime(2024, 6, 1, 8).astimezone())
    _mark_chosen(master_path(wd, 2024), "Nguyễn Văn Mẫu")
    merge.run(catalogue, wd, now=datetime(2024, 6, 2, 8).astimezone())
    return wd


def run_2025(wd: Path) -> merge.MergeReport:
    """The 2025 round in the same folder: generate, returns, merge."""
    c25 = C.load(catalogue_2025(wd))
    built = {b.unit.id: b for b in generate.run(c25, wd).built}
    _fill(built["hoi_nong_dan"], {"10": [_row(c25, "10", 1, "NGUYỄN  VĂN MẪU", 1970),
                                         _row(c25, "10", 4, "Trần Văn Mẫu Mới", 1985),
                                         _row(c25, "10", 2, "Lê Thị Hạ", 1980)]},
          wd / "inbox" / "hoi_nong_dan_2025.xlsx", datetime(2025, 5, 20, 9))
    _fill(built["cong_an"], {"8": [_row(c25, "8", 5, "Tập thể mẫu B")]},
          wd / "inbox" / "cong_an_2025.xlsx", datetime(2025, 5, 22, 9))
    return merge.run(c25, wd, now=datetime(2025, 5, 25, 8).astimezone())


@pytest.fixture(scope="module")
def rounds(round_2024, tmp_path_factory) -> tuple[Path, merge.MergeReport]:
    wd = tmp_path_factory.mktemp("rounds_2025")
    shutil.copytree(round_2024, wd, dirs_exist_ok=True)
    return wd, run_2025(wd)


def sheet(path: Path, name: str) -> list[dict]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()
    hi = next(i for i, r in enumerate(rows) if "Mã điển hình" in r or "Đơn vị" in r)
    return [dict(zip(rows[hi], r)) for r in rows[hi + 1:] if any(v not in ("", None) for v in r)]


def test_2025_master_shows_the_2024_nomination_and_decision(rounds):
    wd, report = rounds
    noms = {n[NAME]: n for n in sheet(master_path(wd, 2025), "Điển hình")}
    assert noms["Nguyễn Văn Mẫu"]["Các năm trước"] == f"2024: đề xuất, được chọn – {HONOUR}"
    # the 2024 decision is history, not this year's decision
    assert noms["Nguyễn Văn Mẫu"]["Kết quả xét chọn"] == "" and noms["Nguyễn Văn Mẫu"]["Hình thức tôn vinh"] == ""
    assert noms["Trần Văn Mẫu Mới"]["Các năm trước"] == ""
    assert "Tập thể mẫu A" not in noms          # a 2024 file does not count in 2025
    assert not [p for p in report.notices if p.code.startswith("history")]


def test_lookalike_name_is_reported_as_possible_never_linked(rounds):
    wd, _ = rounds
    noms = {n[NAME]: n for n in sheet(master_path(wd, 2025), "Điển hình")}
    text = noms["Lê Thị Hạ"]["Các năm trước"]
    assert text == "Có thể là (cán bộ kiểm tra): 2024 – Lê Thị Hà (1980), Mục 10: đề xuất (tên chỉ giống khi bỏ dấu)"
    tracks = [t for t in sheet(master_path(wd, 2025), H.SHEET_TRACKING) if t[NAME] in ("Lê Thị Hà", "Lê Thị Hạ")]
    assert [(t[NAME], t["2024: đề xuất"], t["2025: đề xuất"]) for t in tracks] == \
        [("Lê Thị Hà", "Mục 10", ""), ("Lê Thị Hạ", "", "Mục 10")]


def test_tracking_sheet_lists_the_example_across_years_and_prints(rounds):
    wd, _ = rounds
    mpath = master_path(wd, 2025)
    rows = {r[NAME]: r for r in sheet(mpath, H.SHEET_TRACKING)}
    mau = rows["Nguyễn Văn Mẫu"]
    assert (mau["Đơn vị"], mau["Mục"], mau["Năm sinh"], mau["2024: đề xuất"], mau["2024: kết quả"],
            mau["2024: hình thức tôn vinh"], mau["2025: đề xuất"], mau["Số năm được đề xuất"]) == \
        ("Hội Nông dân xã", "Mục 10", "1970", "Mục 10", "Được chọn", HONOUR, "Mục 10", 2)
    assert rows["Tập thể mẫu A"]["2024: đề xuất"] == "Mục 1" and rows["Tập thể mẫu A"]["2025: đề xuất"] == ""
    ws = openpyxl.load_workbook(mpath)[H.SHEET_TRACKING]
    assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"
    # one page wide (fitToWidth defaults to 1 when absent), as many pages tall as needed
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)
    assert ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows.replace("$", "") == "1:1" and ws.auto_filter.ref.startswith("A1:")
    assert "&P" in ws.oddFooter.center.text


def test_overview_and_status_count_replicated_and_repeated(rounds):
    wd, _ = rounds
    rows = CalamineWorkbook.from_path(str(master_path(wd, 2025))).get_sheet_by_name("Tổng quan").to_python()
    top = next(i for i, r in enumerate(rows) if r[0] == "NHÂN RỘNG VÀ ĐỀ XUẤT LẠI SO VỚI CÁC NĂM TRƯỚC")
    table = {r[0]: r[2:7] for r in rows[top:] if str(r[0]).startswith("Mục")}
    assert table["Mục 10"] == [3, 1, 1, 0, 1]      # this year, repeated, replicated, new, uncertain
    assert table["Mục 8"] == [1, 0, 0, 1, 0]
    assert table["Mục 1"] == [0, 0, 0, 0, 0]
    config = str(wd / "danh_muc_2025.toml")
    out = CliRunner().invoke(main, ["status", "--dir", str(wd), "--config", config, "--json"])
    assert out.exit_code == 0, out.output
    hist = json.loads(out.output)["history"]
    assert (hist["past_years"], hist["repeated"], hist["replicated"], hist["new"], hist["uncertain"]) == \
        ([2024], 1, 1, 1, 1)
    assert {c["item"]: c["repeated"] for c in hist["by_item"]}[10] == 1
    text = CliRunner().invoke(main, ["status", "--dir", str(wd), "--config", config])
    assert "Qua các năm (2024): 1 điển hình đề xuất lại, 1 điển hình nhân rộng, 1 điển hình mới, 1 chưa chắc" \
        in text.output


def test_2024_decisions_survive_in_the_store_for_their_own_round(rounds, catalogue):
    wd, _ = rounds
    m24 = master_path(wd, 2024)
    m24.unlink()
    merge.run(catalogue, wd, now=datetime(2024, 6, 3, 8).astimezone(), rescan=False)
    noms = {n[NAME]: n for n in sheet(m24, "Điển hình")}
    assert noms["Nguyễn Văn Mẫu"]["Kết quả xét chọn"] == "Được chọn"
    assert noms["Nguyễn Văn Mẫu"]["Hình thức tôn vinh"] == HONOUR


def test_damaged_2024_master_warns_and_the_2025_merge_completes(round_2024, tmp_path):
    wd = tmp_path / "wd"
    shutil.copytree(round_2024, wd)
    m24 = master_path(wd, 2024)
    m24.write_bytes(m24.read_bytes()[:3000])       # cut short, as a failed copy leaves it
    report = run_2025(wd)
    warns = [p for p in report.notices if p.code == "history_master_unreadable"]
    assert len(warns) == 1 and "tong_hop_2024.xlsx" in warns[0].message
    noms = {n[NAME]: n for n in sheet(master_path(wd, 2025), "Điển hình")}
    assert set(noms) == {"Nguyễn Văn Mẫu", "Trần Văn Mẫu Mới", "Lê Thị Hạ", "Tập thể mẫu B"}
    assert all(n["Các năm trước"] == "" for n in noms.values())
    rows = CalamineWorkbook.from_path(str(master_path(wd, 2025))).get_sheet_by_name("Tổng quan").to_python()
    assert any("tong_hop_2024.xlsx" in str(r[0]) for r in rows)


@pytest.mark.libreoffice
def test_2025_returns_typed_in_libreoffice_are_linked(round_2024, tmp_path, libreoffice):
    wd = tmp_path / "wd"
    shutil.copytree(round_2024, wd)
    c25 = C.load(catalogue_2025(wd))
    built = {b.unit.id: b for b in generate.run(c25, wd).built}
    dst = tmp_path / "hoi_nong_dan_2025.xlsx"
    libreoffice.fill([demo.fill_job(built["hoi_nong_dan"], {"10": [_row(c25, "10", 1, "nguyễn văn mẫu", 1970),
                                                                  _row(c25, "10", 2, "Lê Thị Hạ", 1980)]}, dst)])
    shutil.copyfile(dst, wd / "inbox" / dst.name)
    merge.run(c25, wd, now=datetime(2025, 5, 25, 8).astimezone())
    noms = {n[NAME]: n for n in sheet(master_path(wd, 2025), "Điển hình")}
    assert noms["Nguyễn Văn Mẫu"]["Các năm trước"] == f"2024: đề xuất, được chọn – {HONOUR}"
    assert noms["Lê Thị Hạ"]["Các năm trước"].startswith("Có thể là (cán bộ kiểm tra): 2024 – Lê Thị Hà")
    assert date(2025, 5, 31) == c25.deadline


def test_first_round_counts_every_example_as_new(round_2024):
    mpath = master_path(round_2024, 2024)
    noms = sheet(mpath, "Điển hình")
    assert noms and all(n["Các năm trước"] == "" for n in noms)
    rows = CalamineWorkbook.from_path(str(mpath)).get_sheet_by_name("Tổng quan").to_python()
    assert any(str(r[0]).startswith("Chưa có sổ tổng hợp của năm trước") for r in rows)
    total = next(r for r in rows if r[1] == "Cộng")
    assert total[2:7] == [3, 0, 0, 3, 0]
