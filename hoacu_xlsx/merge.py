"""The ``merge`` job: inbox -> store -> picture -> master and feedback.

Order matters for the officer's data: the current master is read back first (an open
or damaged master stops the merge before anything is written); new files are read (in
worker processes when there are many), archived and recorded in the store together
with what the officer typed in the master, in one transaction that is committed only
after the new master has replaced the old one (temp file, backup in ``ban_cu/``, one
rename). A merge killed at any point leaves the previous master and store intact, and
the next merge completes the work. A lock file keeps two merges from running at once.
"""

from __future__ import annotations

import gc
import hashlib
import sqlite3
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from hoacu_xlsx import messages as T
from hoacu_xlsx import picture as P
from hoacu_xlsx.catalogue import Catalogue
from hoacu_xlsx.readpool import read_many
from hoacu_xlsx.clock import from_timestamp, now_vn, parse_when
from hoacu_xlsx.problems import WARNING, Problem
from hoacu_xlsx.merge_lock import MergeBusy, MergeError, MergeLock
from hoacu_xlsx.picture_build import unit_conflicts, build_picture, catalogue_fingerprint
from hoacu_xlsx.store import STORE_DIR, FileRecord, Store

if TYPE_CHECKING:
    from hoacu_xlsx.intake.scan import ScanProgress

__all__ = ["MergeBusy", "MergeError", "MergeLock", "MergeReport", "run", "check_files", "status_picture"]

SHEET_FILES_NOTE = "sổ tổng hợp › Nhật ký tệp"


# --------------------------------------------------------------------------- report


@dataclass
class MergeReport:
    picture: P.Picture
    master: Path | None
    new_files: int
    known_files: int
    feedback: list[Path] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        pic = self.picture
        by = defaultdict(int)
        for s in pic.units:
            by[s.status] += 1
        counted = sum(1 for n in pic.nominations if n.state == P.NOM_CURRENT)
        errors = sum(p.is_error for p in pic.problems)
        warns = len(pic.problems) - errors
        lines = [
            f"Đã gộp: {self.new_files} tệp mới, {self.known_files} tệp đã có trong kho.",
            pic.deadline_text() + ".",
            f"Đơn vị: {len(pic.units)} — {P.SUBMITTED_OK}: {by[P.SUBMITTED_OK]}, {P.LATE}: {by[P.LATE]}, "
            f"{P.SUBMITTED_ERRORS}: {by[P.SUBMITTED_ERRORS]}, {P.NOT_SUBMITTED}: {by[P.NOT_SUBMITTED]}.",
            f"Điển hình được tính: {counted}. Lỗi: {errors}, cảnh báo: {warns}.",
        ]
        missing = [a for a in pic.assignments if a.assignment.nominations and not a.quota_met]
        if missing:
            lines.append("Chưa đạt chỉ tiêu: " + "; ".join(f"Mục {a.assignment.item}" for a in missing) + ".")
        if pic.materials:
            from hoacu_xlsx.materials import status_line

            lines.append(status_line(pic))
        if self.master:
            lines.append(f"Sổ tổng hợp: {self.master}")
        if self.feedback:
            lines.append(f"Phản hồi cho {len(self.feedback)} đơn vị có lỗi: {self.feedback[0].parent}")
        return lines


# --------------------------------------------------------------------------- the job


def _now() -> datetime:
    return now_vn()


def run(catalogue: Catalogue, workdir: Path, *, inbox: Path | None = None, now: datetime | None = None,
        progress: ScanProgress | None = None, write_feedback: bool = True,
        rescan: bool = True) -> MergeReport:
    """Merge everything in inbox/ (and everything the store already holds) into the master."""
    with MergeLock(workdir):
        return _run_locked(catalogue, workdir, inbox or workdir / "inbox", now or _now(), progress,
                           write_feedback, rescan)


def _run_locked(catalogue: Catalogue, workdir: Path, inbox: Path, now: datetime,
                progress: ScanProgress | None, write_feedback: bool,
                rescan: bool) -> MergeReport:
    from hoacu_xlsx import history as H
    from hoacu_xlsx import master as MS
    from hoacu_xlsx import master_read as MR
    from hoacu_xlsx import materials as MT

    mpath = MS.master_path(workdir, catalogue.year)
    notices: list[Problem] = []
    # the master's state first: an open or damaged master stops the merge before anything is written
    try:
        notices += [Problem(str(mpath), n, WARNING, "stale_lock") for n in MR.check_not_open(mpath)]
        state = None if _master_as_written(workdir, mpath) else MR.read_state(mpath)
    except (MR.MasterOpen, MS.MasterReadError) as exc:
        raise MergeError(str(exc)) from None
    if state is not None:
        notices += [Problem(str(mpath), n, WARNING, "added_sheet_values_only") for n in state.notices]

    store = Store.open(workdir)
    try:
        fresh, rejected, sightings = _record_inbox(catalogue, store, inbox, now, progress, rescan, notices)
        with _rolled_back_on_failure(store), _gc_paused():
            try:
                pic, extras = _officer_and_picture(catalogue, store, state, now, notices)
                extras.history = H.compute(catalogue, workdir, pic)   # this round linked to the earlier masters
                notices += extras.history.problems
                notices += [Problem(str(mpath.parent), n, WARNING, "material_copy")
                            for n in MT.place_copies(pic, mpath.parent, store)]
                MS.write_master(pic, mpath, extras, on_written=lambda tmp: _remember_master(store, mpath, tmp))
                store.commit()   # only now: a master that cannot be replaced leaves the store as it was
            except MS.MasterWriteError as exc:
                raise MergeError(str(exc)) from None
        fb: list[Path] = []
        if write_feedback:
            from hoacu_xlsx import feedback

            try:
                fb = feedback.write_feedback(pic, store, workdir / "feedback")
            except OSError as exc:
                notices.append(T.problem("feedback_failed", "feedback/", error=exc.strerror or exc))
        store.begin()
        store.save_outcomes((f.sha256, f.unit_id, f.outcome, f.version, f.errors, f.warnings) for f in pic.files)
        store.commit()
        return MergeReport(pic, mpath, len(fresh) + len(rejected), len(sightings) - len(fresh) - len(rejected),
                           fb, notices)
    finally:
        store.close()


def _file_sha256(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            size += len(chunk)
            h.update(chunk)
    return size, h.hexdigest()


def _remember_master(store: Store, mpath: Path, written: Path) -> None:
    """Record the bytes of the master just written (before it takes the master's name): committed with the store."""
    size, sha = _file_sha256(written)
    store.set_master_written(mpath.name, size, sha)


def _master_as_written(workdir: Path, mpath: Path) -> bool:
    """Is the master byte for byte the one the last merge wrote? Then nobody has typed anything in it and
    the store already holds all it shows: reading it back would find nothing new. In any doubt: False."""
    if not (workdir / STORE_DIR / "hoacu.sqlite3").is_file():
        return False
    try:
        size = mpath.stat().st_size
        with Store.open(workdir) as store:
            recorded = store.master_written(mpath.name)
        return recorded is not None and recorded[0] == size and _file_sha256(mpath) == recorded
    except Exception:
        return False


class _InboxScan:
    """What one pass over inbox/ finds, sorted as the scan goes: new workbooks to read (handed out as reading
    jobs, in order), refusals, materials, every sighting and email date, and the inbox index to save."""

    def __init__(self, known: dict[str, int | None], reader_version: int) -> None:
        self.known, self.reader_version = known, reader_version
        self.fresh: list[Any] = []              # new workbooks read (their bytes freed once stored)
        self.waiting: deque[Any] = deque()      # handed to the readers, in order, not yet stored
        self.rejected: list[Any] = []
        self.materials: list[Any] = []
        self.sightings: list[tuple[str, str]] = []
        self.email_info: list[tuple[str, str | None, str | None]] = []
        self.mtimes: dict[str, float] = {}
        self.index: dict[str, tuple[tuple[int, ...], list[tuple[Any, ...]]]] | None = None

    def jobs(self, inbox: Path, known_stats: Any, progress: Any) -> Iterator[Any]:
        """A reading job for each new workbook, as the scan finds it (the scan runs while the workers read)."""
        from hoacu_xlsx.intake import scan_inbox
        from hoacu_xlsx.intake.incoming import MATERIAL

        self.index, unindexed, queued = {}, set(), set()
        current = {sha for sha, v in self.known.items() if v == self.reader_version}
        for inc in scan_inbox(inbox, known=current, known_stats=known_stats, progress=progress, defer_parts=True):
            _index_entry(self.index, unindexed, inc)
            if inc.kind == MATERIAL:       # a write-up or photo: kept (materials.py), never read
                self.materials.append(inc)
                continue
            self.sightings.append((inc.sha256, inc.name))
            if inc.received_at:
                self.email_info.append((inc.sha256, inc.received_at.isoformat(), inc.sender))
            if inc.sha256 in current or inc.sha256 in queued:
                continue
            queued.add(inc.sha256)
            if inc.stat is not None:        # the stat the scan took when it read the file (scan.stat_key)
                self.mtimes[inc.sha256] = inc.stat[1] / 1e9
            else:                           # refused before it was read (too large, unreadable…)
                try:
                    self.mtimes[inc.sha256] = (inbox / inc.origin).stat().st_mtime
                except OSError:
                    pass
            if inc.fmt is None or any(p.is_error for p in inc.problems):
                self.rejected.append(inc)
            else:
                self.fresh.append(inc)
                self.waiting.append(inc)
                yield inc.data, inc.name, inc.sender, [p.to_dict() for p in inc.problems], not inc.parts_checked

    def refused_by_reader(self, inc: Any, payload: dict[str, Any]) -> None:
        """A workbook whose parts the reading worker refused (see scan_inbox's ``defer_parts``): from here
        on it is a refusal, as if the scan had refused it."""
        self.fresh.remove(inc)
        self.rejected.append(inc)
        inc.fmt, inc.data = None, b""
        inc.problems = [Problem(**d) for d in payload["intake"]]


def _record_inbox(catalogue: Catalogue, store: Store, inbox: Path, now: datetime,
                  progress: ScanProgress | None, rescan: bool,
                  notices: list[Problem]) -> tuple[list[Any], list[Any], list[tuple[str, str]]]:
    """Read new inbox files and record them in the store, in a transaction left open for the caller."""
    from hoacu_xlsx import materials as MT
    from hoacu_xlsx.reader import READER_VERSION

    scan = _InboxScan(store.reader_versions(), READER_VERSION)
    issued = store.issued()
    fingerprint = catalogue_fingerprint(catalogue, issued)
    stamp = now_vn().isoformat(timespec="seconds")   # the real clock: --now only moves the deadline arithmetic
    if not inbox.exists():
        notices.append(T.problem("no_inbox", str(inbox)))
    jobs = scan.jobs(inbox, store.inbox_index(), progress) if rescan and inbox.exists() else iter(())

    def record(inc: Any, payload: dict[str, Any] | bytes, archive: str | None) -> None:
        """``payload``: what was read, packed by the reading worker (bytes), or a refusal's own dict."""
        if isinstance(payload, dict):
            payload.setdefault("intake", [p.to_dict() for p in inc.problems])
        seen, seen_by = _first_seen(stamp, scan.mtimes.get(inc.sha256))
        store.add_file(FileRecord(
            inc.sha256, inc.name, inc.origin, inc.fmt, len(inc.data), seen,
            inc.received_at.isoformat() if inc.received_at else None, inc.sender, archive, READER_VERSION,
            payload if isinstance(payload, dict) else None,
            raw_blob=payload if isinstance(payload, bytes) else None, first_seen_source=seen_by))
        inc.data = b""  # stored and archived: free it

    store.begin()
    with _rolled_back_on_failure(store):
        for payload, examined in read_many(jobs, catalogue, issued, packed=True):   # stored as read
            inc = scan.waiting.popleft()
            if isinstance(payload, dict):
                scan.refused_by_reader(inc, payload)
                record(inc, payload, None)
                continue
            record(inc, payload, store.archive(inc.sha256, inc.data, inc.fmt, sync=False))
            if examined is not None:
                store.save_checked([(inc.sha256, f"{fingerprint}|{inc.sender or ''}", examined)])
        for inc in scan.rejected:
            record(inc, {"rejected": True}, None)
        MT.record(store, scan.materials, inbox, stamp)
        for sha, name in scan.sightings:
            store.note_sighting(sha, name)
        for sha, date_iso, sender in scan.email_info:
            store.set_email_info(sha, date_iso, sender)
        if scan.index is not None:
            store.save_inbox_index(scan.index)
        store.sync_archive()   # every archived copy on disk before the ledger pointing to it can commit
    return scan.fresh, scan.rejected, scan.sightings


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the picture and the master are built: they allocate hundreds of
    thousands of long-lived objects (few cycles), and every full collection walks them all again (measured:
    a third of the picture's time at 2,000 units). Collection resumes afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextmanager
def _rolled_back_on_failure(store: Store) -> Iterator[None]:
    """Whatever stops the block (a full disk, a MergeError, a kill signal) leaves the store as it was."""
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        store.rollback()
        raise MergeError(T.text("merge/store_write", root=store.root, error=exc)) from None
    except BaseException:
        store.rollback()
        raise


def _index_entry(index: dict[str, tuple[tuple[int, ...], list[tuple[Any, ...]]]], unindexed: set[str],
                 inc: Any) -> None:
    """Remember what each inbox file held, under the stat it had when read (see intake.scan.stat_key);
    a file any part of which was not read whole is left out, so it is looked at again next time."""
    if inc.origin in unindexed:
        return
    # only workbooks (and refusals) are replayed from the index: anything else kept from inbox/ needs its bytes
    if inc.stat is None or getattr(inc, "kind", "workbook") != "workbook" or \
            (inc.origin in index and index[inc.origin][0] != inc.stat):
        unindexed.add(inc.origin)
        index.pop(inc.origin, None)
        return
    held = index.setdefault(inc.origin, (inc.stat, []))[1]
    held.append((inc.sha256, inc.name, inc.received_at.isoformat() if inc.received_at else None, inc.sender))


class _InTransaction:
    """The store as seen by build_picture while the merge's transaction is open: its own small transaction
    (the checked-results cache) becomes a savepoint inside ours."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def begin(self) -> None:
        self._store.conn.execute("SAVEPOINT picture")

    def commit(self) -> None:
        self._store.conn.execute("RELEASE picture")

    def rollback(self) -> None:
        self._store.conn.execute("ROLLBACK TO picture")
        self._store.conn.execute("RELEASE picture")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _officer_and_picture(catalogue: Catalogue, store: Store, state: Any, now: datetime,
                         notices: list[Problem]) -> tuple[P.Picture, Any]:
    """Save the officer's content of the master, apply received-time overrides, build the picture and
    what the master shows besides it (inside the open transaction)."""
    from hoacu_xlsx import master as MS
    from hoacu_xlsx import master_sync as SY

    synced = SY.save_officer(state, store, now, catalogue.year) if state is not None else SY.as_written(store)
    current = store.received_overrides()
    bad: dict[str, str] = {}
    for key, when in synced.overrides.items():
        if not when and not current:
            continue   # an empty cell and no override stored: nothing to clear (saves a search per file)
        parsed = parse_when(when)
        for sha, _name in store.find_files(key):
            if parsed:
                store.set_received(sha, parsed.isoformat())
            elif not when and sha in current:
                store.clear_received(sha)
            elif when:
                bad[key] = when
    pic = build_picture(catalogue, _InTransaction(store), now)  # type: ignore[arg-type]
    extras = MS.MasterExtras(layouts=synced.layouts, unit_values=store.officer_rows("units"),
                             problem_values=store.officer_rows("problems"), file_values=store.officer_file_values(),
                             added_sheets=synced.added_sheets)
    overrides = store.received_overrides()
    for f in pic.files:
        fid = f.sha256[:12]
        typed = MS.cell_text(extras.file_values.get(fid, {}).get(MS.OVERRIDE_KEY))
        if typed and not parse_when(typed):
            extras.overrides[fid] = typed          # kept exactly as typed, and listed below
        elif f.sha256 in overrides:
            extras.overrides[fid] = P.format_dt(parse_when(overrides[f.sha256]))
    file_cols = MS.columns("files", extras)
    for i, f in enumerate(pic.files):
        typed = extras.overrides.get(f.sha256[:12], "")
        if typed and not parse_when(typed):
            pic.problems.append(T.problem(   # the officer's, not the unit's: not in the unit's feedback
                "bad_override", SHEET_FILES_NOTE, sheet=MS.SHEET_FILES,
                cell=MS.cell_of(file_cols, MS.OFFICER_PREFIX + MS.OVERRIDE_KEY, i), value=typed, typed=typed,
                name=f.name))
    extras.edits = SY.finish_edits(synced, store, pic)
    if extras.edits:
        msg = T.text("manual_edits", count=len(extras.edits), sheet=MS.SHEET_EDITS)
        pic.problems.append(Problem(MS.SHEET_EDITS, msg, WARNING, "manual_edits", None, MS.SHEET_EDITS))
        notices.append(Problem(MS.SHEET_EDITS, msg, WARNING, "manual_edits"))
    return pic, extras


def _first_seen(stamp: str, mtime: float | None) -> tuple[str, str]:
    """When the file arrived, and how we know: its time in inbox/ (saved from the email) if earlier than the clock."""
    if mtime is not None:
        seen = from_timestamp(mtime)
        if seen <= datetime.fromisoformat(stamp):
            return seen.isoformat(timespec="seconds"), "mtime"
    return stamp, "clock"


# --------------------------------------------------------------------------- validate without merging


@dataclass
class FileCheck:
    path: Path
    unit_name: str
    problems: list[Problem]
    nominations: int
    unreadable: bool


def check_files(catalogue: Catalogue, workdir: Path, paths: list[Path]) -> list[FileCheck]:
    """``validate``: the same checks as a merge, on the given files, storing nothing."""
    from hoacu_xlsx.intake import inspect_bytes
    from hoacu_xlsx.reader import locate, unit_hint_from_filename
    from hoacu_xlsx.validator import check, cross_duplicates

    issued: dict[str, str] = {}
    if (workdir / "store").exists():
        with Store.open(workdir) as store:
            issued = store.issued()
    out = []
    for path in paths:
        name = path.name
        try:
            data = path.read_bytes()
        except OSError as exc:
            out.append(FileCheck(path, "", [T.problem("unreadable/open", name, error=exc.strerror or exc)], 0, True))
            continue
        fmt, probs = inspect_bytes(data, name)
        if fmt is None or any(p.is_error for p in probs):
            out.append(FileCheck(path, "", probs, 0, True))
            continue
        raw, _ = next(read_many([(data, name, None, [])]))
        if "error" in raw:
            out.append(FileCheck(path, "", probs + [T.problem("unreadable/read", name, error=raw['error'])], 0, True))
            continue
        hint = unit_hint_from_filename(name)
        located = locate(raw, catalogue, issued, name, file_unit_hint=hint)
        if located.unit is not None:   # the same unit conflicts a merge would hold the file back for
            unit_conflicts(FileRecord("", name, None, None, 0, "", None, None, None, None), located, catalogue,
                            hint, probs)
        checked = check(located, catalogue, name)
        all_probs = probs + located.problems + checked.problems + cross_duplicates(checked.nominations)
        out.append(FileCheck(path, located.unit.name if located.unit else "", all_probs,
                             sum(n.valid for n in checked.nominations), False))
    return out


def status_picture(catalogue: Catalogue, workdir: Path, now: datetime | None = None) -> P.Picture:
    """``status``: the picture from the store as of the last merge (reads no inbox file, creates nothing)."""
    if not (workdir / STORE_DIR).is_dir():   # nothing merged yet
        with Store.in_memory(workdir) as store:
            return build_picture(catalogue, store, now or _now())
    with Store.open(workdir) as store:
        return build_picture(catalogue, store, now or _now())
