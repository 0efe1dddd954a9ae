"""The store: schema version and upgrade of a store written by the release before versions
(tests/data/store_v1, made by tests/data/make_store_v1.py with that release), links, archive durability."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import zlib
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from hoacu_xlsx import merge, picture as P
from hoacu_xlsx.master import master_path
from hoacu_xlsx.store import DB_NAME, SCHEMA_VERSION, FileRecord, Store, StoreError

from tests.conftest import MASTER_HEADER

V1 = Path(__file__).parent / "data" / "store_v1"
NAME = "Tên tập thể / Họ và tên cá nhân, chủ hộ"


def old_store(tmp_path: Path) -> Path:
    wd = tmp_path / "round"
    shutil.copytree(V1, wd / "store")
    (wd / "inbox").mkdir()
    return wd


def columns(db: Path, table: str) -> set[str]:
    with sqlite3.connect(db) as con:
        return {r[1] for r in con.execute(f"PRAGMA table_info({table})")}


def test_fixture_is_a_store_of_the_old_layout():
    with sqlite3.connect(V1 / DB_NAME) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 0
    assert "first_seen_source" not in columns(V1 / DB_NAME, "files")


def test_old_store_is_upgraded_in_place_and_keeps_working(tmp_path, catalogue):
    wd = old_store(tmp_path)
    with Store.open(wd) as store:
        assert store.schema_version() == SCHEMA_VERSION
        (rec,) = list(store.files())
        assert rec.first_seen_source is None and rec.load_raw()["sheets"]
        assert store.links() == [] and len(store.officer_values()) == 2
    assert "first_seen_source" in columns(wd / "store" / DB_NAME, "files")
    with Store.open(wd) as store:                                        # opening again changes nothing
        assert store.schema_version() == SCHEMA_VERSION
    # the master is rebuilt from the upgraded store alone, the officer's decisions on the right people
    report = merge.run(catalogue, wd, now=datetime(2024, 5, 25, 9, 0).astimezone(), rescan=False)
    assert report.picture.unit_status("hoi_lhpn").status == P.SUBMITTED_OK
    ws = openpyxl.load_workbook(master_path(wd, 2024))["Điển hình"]
    cols = {c.value: c.column for c in ws[MASTER_HEADER]}
    got = {ws.cell(r, cols[NAME]).value: ws.cell(r, cols["Kết quả xét chọn"]).value for r in range(MASTER_HEADER + 1, ws.max_row + 1)}
    assert got == {"Lê Thị Hà": "Được chọn", "Lê Thị Hạ": "Không chọn"}
    ws = openpyxl.load_workbook(master_path(wd, 2024))["Nhật ký tệp"]
    assert ws.cell(MASTER_HEADER + 1, [c.value for c in ws[MASTER_HEADER]].index("Nguồn thời điểm nhận") + 1).value == P.SOURCE_LEGACY
    # and they stay there at the next merge (now stored under the new ids)
    merge.run(catalogue, wd, now=datetime(2024, 5, 25, 9, 0).astimezone(), rescan=False)
    ws = openpyxl.load_workbook(master_path(wd, 2024))["Điển hình"]
    assert {ws.cell(r, cols[NAME]).value: ws.cell(r, cols["Kết quả xét chọn"]).value
            for r in range(MASTER_HEADER + 1, ws.max_row + 1)} == got


def test_a_store_from_a_newer_release_is_refused_untouched(tmp_path):
    wd = old_store(tmp_path)
    db = wd / "store" / DB_NAME
    with sqlite3.connect(db) as con:
        con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    before = db.read_bytes()
    with pytest.raises(StoreError, match="phiên bản hoacu-xlsx mới hơn"):
        Store.open(wd)
    assert db.read_bytes() == before


def test_links_are_kept(tmp_path):
    with Store.open(tmp_path) as store:
        store.begin()
        store.save_link("DH-OLD", "DH-NEW", "auto", "Đã nối với bản trước: tên cũ 'Lê Thi Ha'")
        store.commit()
    with Store.open(tmp_path) as store:
        assert store.links() == [("DH-OLD", "DH-NEW", "auto", "Đã nối với bản trước: tên cũ 'Lê Thi Ha'")]
        store.delete_link("DH-OLD", "DH-NEW")
        assert store.links() == []


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to name synced files")
def test_archive_is_synced_before_it_gets_its_name(tmp_path, monkeypatch):
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    with Store.open(tmp_path) as store:
        rel = store.archive("ab" * 32, b"workbook bytes", "xlsx")
    dest = tmp_path / "store" / rel
    assert dest.read_bytes() == b"workbook bytes"
    assert any(p.startswith(str(dest.parent)) and dest.name in p and p.endswith(".tmp")   # the file, before rename
               for p in synced)
    assert str(dest.parent) in synced                                                   # and the rename itself


# --------------------------------------------------------------------------- one method at a time

def record(sha: str, name: str, first_seen: str = "2024-05-20T08:00:00+07:00", **kw) -> FileRecord:
    return FileRecord(sha, name, kw.pop("origin", name), "xlsx", 1234, first_seen, kw.pop("email_date", None),
                      kw.pop("sender", None), None, 2, raw=kw.pop("raw", {"sheets": []}))


def test_files_added_are_listed_in_arrival_order_with_their_raw_cells(tmp_path):
    with Store.open(tmp_path) as store:
        store.add_file(record("b" * 64, "sau.xlsx", "2024-05-21T08:00:00+07:00"))
        store.add_file(record("a" * 64, "truoc.xlsx", raw={"sheets": [{"name": "Mục 1", "cells": [[0, 0, "Lê Thị Hà"]]}]}))
    with Store.open(tmp_path) as store:                       # kept on disk, not only in this connection
        files = list(store.files())
        assert [f.name for f in files] == ["truoc.xlsx", "sau.xlsx"]
        assert files[0].load_raw()["sheets"][0]["cells"] == [[0, 0, "Lê Thị Hà"]]
        assert store.known_hashes() == {"a" * 64, "b" * 64}
        assert store.find_files("truoc") == [("a" * 64, "truoc.xlsx")]


def test_the_email_date_is_kept_once_and_an_officer_override_wins_until_cleared(tmp_path):
    sha = "c" * 64
    with Store.open(tmp_path) as store:
        store.add_file(record(sha, "thu.eml › Mục 1.xlsx"))
        store.set_email_info(sha, "2024-05-30T21:00:00+07:00", "btg@xa.gov.vn")
        store.set_email_info(sha, "2024-06-02T07:00:00+07:00", "khac@xa.gov.vn")   # a later copy: not over it
        [f] = store.files()
        assert (f.received_at, f.sender) == ("2024-05-30T21:00:00+07:00", "btg@xa.gov.vn")
        store.set_received(sha, "2024-05-31T10:00:00+07:00")
        assert store.received_overrides() == {sha: "2024-05-31T10:00:00+07:00"}
        store.clear_received(sha)
        assert store.received_overrides() == {}


def test_every_name_the_same_bytes_came_under_is_a_sighting_listed_once(tmp_path):
    with Store.open(tmp_path) as store:
        for name in ("a.xlsx", "thu.eml › a.xlsx", "a.xlsx"):
            store.note_sighting("d" * 64, name)
        assert sorted(store.sightings()["d" * 64]) == ["a.xlsx", "thu.eml › a.xlsx"]


def test_officer_values_are_kept_per_round(tmp_path):
    with Store.open(tmp_path) as store:
        store.save_officer_values({"2024|DH-1": {"ket_qua": "Được chọn"}, "2025|DH-1": {"ket_qua": "Không chọn"},
                                   "DH-OLD": {"ghi_chu": "trước khi tách đợt"}})
        assert store.officer_values_of_round(2024) == {"DH-1": {"ket_qua": "Được chọn"}}
        assert store.officer_values_of_round(2025) == {"DH-1": {"ket_qua": "Không chọn"}}
        store.save_officer_values({"2024|DH-1": {"ket_qua": "Không chọn"}})
        assert store.officer_values_of_round(2024) == {"DH-1": {"ket_qua": "Không chọn"}}
        store.save_officer_rows("Đơn vị", {"btg": {"Ghi chú": "gọi lại"}, "vp": {"Ghi chú": "đủ"}})
        store.save_officer_rows("Đơn vị", {"vp": {"Ghi chú": "đủ"}}, replace_all=True)   # the officer cleared one
        assert store.officer_rows("Đơn vị") == {"vp": {"Ghi chú": "đủ"}}


def test_checked_results_are_cached_by_content_and_fingerprint(tmp_path):
    with Store.open(tmp_path) as store:
        store.save_checked([("e" * 64, "fp1", {"problems": [{"code": "bad_year"}]})])
        store.save_checked([("e" * 64, "fp2", {"problems": []})])        # checked again: replaces
        assert store.checked_keys() == {"e" * 64: "fp2"}
        assert json.loads(zlib.decompress(store.checked_payload("e" * 64))) == {"problems": []}


def test_archiving_the_same_bytes_twice_keeps_one_copy(tmp_path):
    with Store.open(tmp_path) as store:
        first = store.archive("f" * 64, b"workbook bytes", "xlsx")
        again = store.archive("f" * 64, b"workbook bytes", "xlsx")
        assert first == again == f"archive/ff/{'f' * 64}.xlsx"
        assert store.archived_bytes(first) == b"workbook bytes"
        assert store.archived_bytes("archive/00/missing.xlsx") is None
    folder = tmp_path / "store" / "archive" / "ff"
    assert [p.name for p in folder.iterdir()] == [f"{'f' * 64}.xlsx"]      # no temporary file left beside it
