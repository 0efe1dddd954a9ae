"""Incremental merge: an unchanged inbox file is not read again, an untouched master is not read back —
and neither shortcut ever hides a change (a rewritten file, a master the officer saved, a killed merge)."""

from __future__ import annotations

import os
import zipfile
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from hoacu_xlsx import builder, demo, intake, master_read, merge, template
from hoacu_xlsx.intake import scan as scan_mod
from hoacu_xlsx.master import SHEET_NOMINATIONS, master_path
from hoacu_xlsx.store import Store
from tests import hostile_files as H
from tests.conftest import MASTER_HEADER

NOW = datetime(2024, 5, 20, 12, 0).astimezone()


def returned(cat, unit_id: str, folder: Path, n: int = 3) -> tuple[Path, tuple[str, str, str, str]]:
    """A filled return written by xlsxwriter in the project's format, and its issued token."""
    unit = cat.unit(unit_id)
    a = cat.assignments_of(unit_id)[0]
    rows = [demo.sample_row(cat, a.id, k, kind_index=k) for k in range(n)]
    token = builder.new_token()
    path = folder / builder.file_name(unit, cat.year)
    builder.build_workbook(path, cat, unit, template.load_style(None), token, "2024-03-01T08:00:00+07:00",
                           {a.id: rows}, demo.PREPARER)
    return path, (token, unit_id, path.name, "2024-03-01T08:00:00+07:00")


def units_with_items(cat, k: int) -> list[str]:
    return [u.id for u in cat.units_with_nominations() if any(a.nominations for a in cat.assignments_of(u.id))][:k]


@pytest.fixture()
def merged(tmp_path, catalogue):
    """A workdir with three returns merged once."""
    wd = tmp_path / "wd"
    (wd / "inbox").mkdir(parents=True)
    issued = []
    for uid in units_with_items(catalogue, 3):
        _p, tok = returned(catalogue, uid, wd / "inbox")
        issued.append(tok)
    with Store.open(wd) as st:
        st.record_issued(catalogue.year, issued)
    merge.run(catalogue, wd, now=NOW, write_feedback=False)
    return wd


def no_reading(*_a, **_k):
    raise AssertionError("read again")


# --------------------------------------------------------------------------- the inbox index


def index_of(inbox: Path, **kw) -> tuple[dict, set[str]]:
    """The index a merge would save after scanning ``inbox``, and the hashes it would know."""
    index: dict = {}
    for inc in intake.scan_inbox(inbox, **kw):
        merge._index_entry(index, set(), inc)
    return index, {sha for _st, held in index.values() for sha, *_ in held}


def test_an_unchanged_file_is_not_read_and_a_changed_one_is(tmp_path, monkeypatch):
    (tmp_path / "a.xlsx").write_bytes(H.xlsx())
    index, known = index_of(tmp_path)
    monkeypatch.setattr(scan_mod, "_read_file", no_reading)
    (inc,) = intake.scan_inbox(tmp_path, known=known, known_stats=index)
    assert inc.unchanged and inc.name == "a.xlsx" and inc.sha256 in known
    monkeypatch.undo()
    (tmp_path / "a.xlsx").write_bytes(H.xlsx() + b"\0")           # changed in place: read and hashed again
    (inc,) = intake.scan_inbox(tmp_path, known=known, known_stats=index)
    assert not inc.unchanged and inc.sha256 not in known


def test_same_stat_but_content_not_stored_is_read(tmp_path):
    (tmp_path / "a.xlsx").write_bytes(H.xlsx())
    index, _known = index_of(tmp_path)
    (inc,) = intake.scan_inbox(tmp_path, known={"other"}, known_stats=index)   # e.g. a new reader version
    assert not inc.unchanged and inc.data


def test_a_container_is_remembered_with_every_member_and_the_email_date(tmp_path, monkeypatch):
    with zipfile.ZipFile(tmp_path / "goi.zip", "w") as z:
        z.writestr("x/a.xlsx", H.xlsx())
        z.writestr("x/b.xlsx", H.xlsx() + b"")
    msg = EmailMessage()
    msg["From"], msg["Date"], msg["Subject"] = "dv@xa.vn", "Mon, 04 Mar 2024 09:30:00 +0700", "Sổ"
    msg.set_content("Gửi sổ")
    msg.add_attachment(H.xlsx(), maintype="application", subtype="octet-stream", filename="so.xlsx")
    (tmp_path / "thu.eml").write_bytes(bytes(msg))
    first = {i.name: i for i in intake.scan_inbox(tmp_path)}
    index, known = index_of(tmp_path)
    monkeypatch.setattr(scan_mod, "_read_file", no_reading)
    again = {i.name: i for i in intake.scan_inbox(tmp_path, known=known, known_stats=index)}
    assert again.keys() == first.keys() and all(i.unchanged for i in again.values())
    for name, inc in again.items():
        assert (inc.sha256, inc.origin, inc.received_at, inc.sender) == \
            (first[name].sha256, first[name].origin, first[name].received_at, first[name].sender)


def test_a_file_refused_before_reading_is_not_indexed(tmp_path):
    (tmp_path / "a.xlsx").write_bytes(H.xlsx())
    (tmp_path / "lon.xlsx").write_bytes(H.xlsx() * 3)
    index, _ = index_of(tmp_path, limits=intake.Limits(max_file_bytes=len(H.xlsx()) + 10))
    assert set(index) == {"a.xlsx"}           # the oversize file is refused anew every time, never remembered


# --------------------------------------------------------------------------- merges


def test_rerun_with_one_new_file_reads_only_that_file(merged, catalogue, monkeypatch):
    path, tok = returned(catalogue, units_with_items(catalogue, 4)[3], merged / "inbox")
    with Store.open(merged) as st:
        st.record_issued(catalogue.year, [tok])
    read = []
    real = scan_mod._read_file
    monkeypatch.setattr(scan_mod, "_read_file", lambda p, rel, lim: read.append(rel) or real(p, rel, lim))
    monkeypatch.setattr(master_read, "read_state", no_reading)      # the master is as the last merge wrote it
    report = merge.run(catalogue, merged, now=NOW, write_feedback=False)
    assert read == [path.name]
    assert (report.new_files, report.known_files) == (1, 3)
    units = {n.unit.id for n in report.picture.nominations}
    assert len(units) == 4


def test_the_progress_bar_counts_the_inbox_files_while_they_are_scanned(merged, catalogue):
    """The scan runs beside the reading workers (lazily): the bar gets the number of inbox files up front
    and advances as each is taken, whether it is read or remembered."""
    path, tok = returned(catalogue, units_with_items(catalogue, 4)[3], merged / "inbox")
    with Store.open(merged) as st:
        st.record_issued(catalogue.year, [tok])
    seen: list[tuple[int, list]] = []

    def progress(items, n):
        taken: list = []
        seen.append((n, taken))
        for item in items:
            taken.append(item)
            yield item

    report = merge.run(catalogue, merged, now=NOW, write_feedback=False, progress=progress)
    assert [(n, len(taken)) for n, taken in seen] == [(4, 4)]
    assert path in seen[0][1] and report.new_files == 1


def test_a_master_the_officer_saved_is_read_back(merged, catalogue, monkeypatch):
    mpath = master_path(merged, catalogue.year)
    wb = openpyxl.load_workbook(mpath)
    ws = wb[SHEET_NOMINATIONS]
    col = next(c.column for c in ws[MASTER_HEADER] if c.value == "Ghi chú của cán bộ TĐKT")
    ws.cell(MASTER_HEADER + 1, col, "Đã gọi điện xác minh")
    wb.save(mpath)
    calls = []
    real = master_read.read_state
    monkeypatch.setattr(master_read, "read_state", lambda p: calls.append(p) or real(p))
    merge.run(catalogue, merged, now=NOW, write_feedback=False)
    assert calls == [mpath]
    rows = CalamineWorkbook.from_path(str(mpath)).get_sheet_by_name(SHEET_NOMINATIONS).to_python()
    assert "Đã gọi điện xác minh" in [v for r in rows for v in r]
    calls.clear()
    merge.run(catalogue, merged, now=NOW, write_feedback=False)      # now as written: not read again
    assert calls == []
    rows = CalamineWorkbook.from_path(str(mpath)).get_sheet_by_name(SHEET_NOMINATIONS).to_python()
    assert "Đã gọi điện xác minh" in [v for r in rows for v in r]


def test_a_merge_killed_after_replacing_the_master_leaves_it_to_be_read_back(merged, catalogue, monkeypatch):
    """The master's hash is committed with the store: a merge stopped in between never vouches for the file."""
    def killed(self):
        raise KeyboardInterrupt

    _path, tok = returned(catalogue, units_with_items(catalogue, 4)[3], merged / "inbox")   # the master changes
    with Store.open(merged) as st:
        st.record_issued(catalogue.year, [tok])
    monkeypatch.setattr(Store, "commit", killed)
    with pytest.raises(KeyboardInterrupt):
        merge.run(catalogue, merged, now=NOW, write_feedback=False)
    monkeypatch.undo()
    mpath = master_path(merged, catalogue.year)
    with Store.open(merged) as st:
        size, sha = st.master_written(mpath.name)
    assert (size, sha) != merge._file_sha256(mpath)
    assert not merge._master_as_written(merged, mpath)


def test_archive_copies_are_flushed_once_before_the_ledger_commits(tmp_path, catalogue, monkeypatch):
    wd = tmp_path / "wd"
    (wd / "inbox").mkdir(parents=True)
    toks = [returned(catalogue, uid, wd / "inbox")[1] for uid in units_with_items(catalogue, 2)]
    with Store.open(wd) as st:
        st.record_issued(catalogue.year, toks)
    events = []
    real_commit = Store.commit
    monkeypatch.setattr(os, "sync", lambda: events.append("sync"))
    monkeypatch.setattr(Store, "commit", lambda self: events.append("commit") or real_commit(self))
    merge.run(catalogue, wd, now=NOW, write_feedback=False)
    assert events.count("sync") == 1 and events.index("sync") < events.index("commit")


def test_a_short_archive_copy_left_by_a_crash_is_written_again(tmp_path):
    with Store.open(tmp_path) as st:
        rel = st.archive("cd" * 32, b"workbook bytes", "xlsx", sync=False)
        (st.root / rel).write_bytes(b"")                      # what a power cut before the flush can leave
        st.archive("cd" * 32, b"workbook bytes", "xlsx", sync=False)
        assert (st.root / rel).read_bytes() == b"workbook bytes"
