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

import dataclasses
import functools
import hashlib
import json
import os
import sqlite3
import zlib
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from hoacu_xlsx import picture as P
from hoacu_xlsx.catalogue import Catalogue
from hoacu_xlsx.problems import ERROR, WARNING, Problem
from hoacu_xlsx.store import FileRecord, Store

SHEET_FILES_NOTE = "sổ tổng hợp › Nhật ký tệp"
PARALLEL_MIN_FILES = 24
READ_BATCH = 128   # below this, a worker pool costs more than it saves
LOCK_NAME = "merge.lock"


class MergeError(Exception):
    """The merge cannot go on; the message is Vietnamese. Nothing already merged is lost."""


class MergeBusy(MergeError):
    pass


# --------------------------------------------------------------------------- lock


class MergeLock:
    """An OS-level lock on store/merge.lock: released by the OS even if the process is killed."""

    def __init__(self, workdir: Path) -> None:
        self.path = workdir / "store" / LOCK_NAME
        self.fh: Any = None

    def __enter__(self) -> "MergeLock":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fh = open(self.path, "a+")
        except OSError as exc:
            raise MergeError(f"Không tạo được tệp khóa '{self.path}': {exc.strerror or exc}. "
                             "Kiểm tra quyền ghi của thư mục làm việc.") from None
        try:
            if os.name == "nt":  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(self.fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.fh.close()
            raise MergeBusy("Đang có phiên gộp khác đang chạy trong thư mục này; hãy đợi phiên đó xong rồi chạy lại.") \
                from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fh:
            self.fh.close()


# --------------------------------------------------------------------------- reading


_CONTEXT: dict[str, Any] = {}  # catalogue and issued tokens, set once per worker process


def _set_context(catalogue: Catalogue | None, issued: dict[str, str]) -> None:
    _CONTEXT.clear()
    if catalogue is not None:
        _CONTEXT.update(catalogue=catalogue, issued=issued)


def _read_one(job: tuple[bytes, str, str | None, list[dict]]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Read one workbook and, when the catalogue is known, check it too (both in the worker)."""
    from hoacu_xlsx.reader import ReadError, read_raw

    data, name, sender, intake = job
    payload: dict[str, Any] = {"intake": intake}
    try:
        payload.update(read_raw(data))
    except ReadError as exc:
        payload["error"] = str(exc)
    except Exception as exc:  # never let one hostile file stop the run
        payload["error"] = f"lỗi khi đọc tệp ({type(exc).__name__}: {str(exc)[:150]})"
    examined = None
    if _CONTEXT:
        rec = FileRecord("", name, None, None, len(data), "", None, sender, None, None, raw=payload)
        examined = examine_safe(rec, _CONTEXT["catalogue"], _CONTEXT["issued"])
    return payload, examined


def read_many(jobs: list[tuple[bytes, str, str | None, list[dict]]], catalogue: Catalogue | None = None,
              issued: dict[str, str] | None = None, workers: int | None = None
              ) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Read (and check) workbooks in order, in worker processes when there are enough to pay off.

    Work is handed out in batches so that only a batch of file contents and results is in
    flight at a time (peak memory stays flat however many files there are).
    """
    if len(jobs) < PARALLEL_MIN_FILES or (workers or os.cpu_count() or 1) < 2:
        _set_context(catalogue, issued or {})
        try:
            yield from (_read_one(j) for j in jobs)
        finally:
            _set_context(None, {})
        return
    n = workers or min(os.cpu_count() or 2, 8)
    with ProcessPoolExecutor(max_workers=n, initializer=_set_context, initargs=(catalogue, issued or {})) as pool:
        for start in range(0, len(jobs), READ_BATCH):
            batch = jobs[start:start + READ_BATCH]
            yield from pool.map(_read_one, batch, chunksize=max(1, len(batch) // (n * 4)))


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
        if self.master:
            lines.append(f"Sổ tổng hợp: {self.master}")
        if self.feedback:
            lines.append(f"Phản hồi cho {len(self.feedback)} đơn vị có lỗi: {self.feedback[0].parent}")
        return lines


# --------------------------------------------------------------------------- the job


def _now() -> datetime:
    return datetime.now().astimezone()


def _parse_when(text: str) -> datetime | None:
    """Officer-typed or stored times: ISO, or dd/mm/yyyy [hh:mm]."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        dt = None
        for fmt in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y %H:%M", "%d-%m-%Y"):
            try:
                dt = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.astimezone()


def run(catalogue: Catalogue, workdir: Path, *, inbox: Path | None = None, now: datetime | None = None,
        progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None, write_feedback: bool = True,
        rescan: bool = True) -> MergeReport:
    """Merge everything in inbox/ (and everything the store already holds) into the master."""
    with MergeLock(workdir):
        return _run_locked(catalogue, workdir, inbox or workdir / "inbox", now or _now(), progress,
                           write_feedback, rescan)


def _run_locked(catalogue: Catalogue, workdir: Path, inbox: Path, now: datetime,
                progress: Callable[[Iterable[Any], int], Iterable[Any]] | None, write_feedback: bool,
                rescan: bool) -> MergeReport:
    from hoacu_xlsx import master as MS
    from hoacu_xlsx import master_read as MR

    mpath = MS.master_path(workdir, catalogue.year)
    notices: list[Problem] = []
    # the master's state first: an open or damaged master stops the merge before anything is written
    try:
        notices += [Problem(str(mpath), n, WARNING, "stale_lock") for n in MR.check_not_open(mpath)]
        state = MR.read_state(mpath)
    except (MR.MasterOpen, MS.MasterReadError) as exc:
        raise MergeError(str(exc)) from None
    notices += [Problem(str(mpath), n, WARNING, "added_sheet_values_only") for n in state.notices]

    store = Store.open(workdir)
    try:
        fresh, rejected, sightings = _record_inbox(catalogue, store, inbox, now, progress, rescan, notices)
        try:
            pic, extras = _officer_and_picture(catalogue, store, state, now, notices)
            MS.write_master(pic, mpath, extras)
            store.commit()   # only now: a master that cannot be replaced leaves the store as it was
        except MS.MasterWriteError as exc:
            store.rollback()
            raise MergeError(str(exc)) from None
        except (OSError, sqlite3.Error) as exc:
            store.rollback()
            raise MergeError(f"Không ghi được kho dữ liệu '{store.root}' ({exc}); ổ đĩa có thể đã đầy hoặc thư mục "
                             "không cho ghi. Lần gộp này được hủy, không mất dữ liệu đã có; hãy chạy lại sau khi "
                             "khắc phục.") from None
        except BaseException:
            store.rollback()
            raise
        fb: list[Path] = []
        if write_feedback:
            from hoacu_xlsx import feedback

            try:
                fb = feedback.write_feedback(pic, store, workdir / "feedback")
            except OSError as exc:
                notices.append(Problem("feedback/", f"Không ghi được thư mục phản hồi: {exc.strerror or exc}.",
                                       WARNING, "feedback_failed"))
        store.begin()
        store.save_outcomes((f.sha256, f.unit_id, f.outcome, f.version, f.errors, f.warnings) for f in pic.files)
        store.commit()
        return MergeReport(pic, mpath, len(fresh) + len(rejected), len(sightings) - len(fresh) - len(rejected),
                           fb, notices)
    finally:
        store.close()


def _record_inbox(catalogue: Catalogue, store: Store, inbox: Path, now: datetime,
                  progress: Callable[[Iterable[Any], int], Iterable[Any]] | None, rescan: bool,
                  notices: list[Problem]) -> tuple[list[Any], list[Any], list[tuple[str, str]]]:
    """Read new inbox files and record them in the store, in a transaction left open for the caller."""
    from hoacu_xlsx.reader import READER_VERSION

    known = store.reader_versions()
    fresh: list[Any] = []                    # incoming workbooks to read
    rejected: list[Any] = []
    sightings: list[tuple[str, str]] = []
    email_info: list[tuple[str, str | None, str | None]] = []
    mtimes: dict[str, float] = {}
    queued: set[str] = set()
    if rescan and inbox.exists():
        from hoacu_xlsx.intake import scan_inbox

        for inc in scan_inbox(inbox, known={sha for sha, v in known.items() if v == READER_VERSION}):
            sightings.append((inc.sha256, inc.name))
            if inc.received_at:
                email_info.append((inc.sha256, inc.received_at.isoformat(), inc.sender))
            if known.get(inc.sha256) == READER_VERSION or inc.sha256 in queued:
                continue
            queued.add(inc.sha256)
            try:
                mtimes[inc.sha256] = (inbox / inc.origin).stat().st_mtime
            except OSError:
                pass
            if inc.fmt is None or any(p.is_error for p in inc.problems):
                rejected.append(inc)
            else:
                fresh.append(inc)
    elif not inbox.exists():
        notices.append(Problem(str(inbox), "Không có thư mục inbox/; chỉ dựng lại sổ tổng hợp từ kho dữ liệu.",
                               WARNING, "no_inbox"))
    issued = store.issued()
    fingerprint = catalogue_fingerprint(catalogue, issued)
    reading: Iterable[Any] = read_many(
        [(inc.data, inc.name, inc.sender, [p.to_dict() for p in inc.problems]) for inc in fresh],
        catalogue, issued)
    if progress and fresh:
        reading = progress(reading, len(fresh))

    stamp = now.isoformat(timespec="seconds")

    def record(inc: Any, payload: dict[str, Any], archive: str | None) -> None:
        payload.setdefault("intake", [p.to_dict() for p in inc.problems])
        store.add_file(FileRecord(
            inc.sha256, inc.name, inc.origin, inc.fmt, len(inc.data), _first_seen(stamp, mtimes.get(inc.sha256)),
            inc.received_at.isoformat() if inc.received_at else None, inc.sender, archive, READER_VERSION,
            payload))
        inc.data = b""  # stored and archived: free it

    store.begin()
    try:
        for inc, (payload, examined) in zip(fresh, reading):   # stored as read: a batch in memory at a time
            record(inc, payload, store.archive(inc.sha256, inc.data, inc.fmt))
            if examined is not None:
                store.save_checked([(inc.sha256, f"{fingerprint}|{inc.sender or ''}", examined)])
        for inc in rejected:
            record(inc, {"rejected": True}, None)
        for sha, name in sightings:
            store.note_sighting(sha, name)
        for sha, date_iso, sender in email_info:
            store.set_email_info(sha, date_iso, sender)
    except (OSError, sqlite3.Error) as exc:
        store.rollback()
        raise MergeError(f"Không ghi được kho dữ liệu '{store.root}' ({exc}); ổ đĩa có thể đã đầy hoặc thư mục "
                         "không cho ghi. Lần gộp này được hủy, không mất dữ liệu đã có; hãy chạy lại sau khi "
                         "khắc phục.") from None
    except BaseException:
        store.rollback()
        raise
    return fresh, rejected, sightings


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

    synced = SY.save_officer(state, store, now)
    current = store.received_overrides()
    bad: dict[str, str] = {}
    for key, when in synced.overrides.items():
        parsed = _parse_when(when)
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
        if typed and not _parse_when(typed):
            extras.overrides[fid] = typed          # kept exactly as typed, and listed below
        elif f.sha256 in overrides:
            extras.overrides[fid] = P.format_dt(_parse_when(overrides[f.sha256]))
    file_cols = MS.columns("files", extras)
    for i, f in enumerate(pic.files):
        typed = extras.overrides.get(f.sha256[:12], "")
        if typed and not _parse_when(typed):
            pic.problems.append(Problem(   # the officer's, not the unit's: not in the unit's feedback
                SHEET_FILES_NOTE, f"Không hiểu thời điểm nhận '{typed}' cán bộ ghi cho tệp '{f.name}'; ghi dạng "
                                  "dd/mm/yyyy hh:mm. Chưa áp dụng: cột 'Thời điểm nhận' cho biết thời điểm đang dùng.",
                WARNING, "bad_override", None, MS.SHEET_FILES,
                MS.cell_of(file_cols, MS.OFFICER_PREFIX + MS.OVERRIDE_KEY, i), typed))
    extras.edits = SY.finish_edits(synced, store, pic)
    if extras.edits:
        msg = (f"Có {len(extras.edits)} chỗ sửa tay trong sổ tổng hợp chưa được áp dụng (sửa ô do công cụ ghi, hoặc "
               f"thêm dòng tay) — xem trang '{MS.SHEET_EDITS}'; xóa dòng ở đó khi đã xử lý.")
        pic.problems.append(Problem(MS.SHEET_EDITS, msg, WARNING, "manual_edits", None, MS.SHEET_EDITS))
        notices.append(Problem(MS.SHEET_EDITS, msg, WARNING, "manual_edits"))
    return pic, extras


def _first_seen(stamp: str, mtime: float | None) -> str:
    """When the file arrived: its modification time in inbox/ (saved from the email) if earlier than now."""
    if mtime is None:
        return stamp
    seen = datetime.fromtimestamp(mtime).astimezone()
    return min(seen.isoformat(timespec="seconds"), stamp, key=lambda s: datetime.fromisoformat(s))


# --------------------------------------------------------------------------- picture


def _is_late(received: datetime, catalogue: Catalogue) -> bool:
    """Late when received after the end of the deadline day (local time)."""
    return received.date() > catalogue.deadline


CHECK_VERSION = 2  # bump when reader/validator logic changes: cached results are then recomputed


def catalogue_fingerprint(catalogue: Catalogue, issued: dict[str, str]) -> str:
    """What a file's checked result depends on, besides its bytes."""
    from hoacu_xlsx.reader import READER_VERSION

    basis = repr((CHECK_VERSION, READER_VERSION, catalogue.year, catalogue.units, catalogue.assignments,
                  catalogue.villages, sorted(issued.items())))
    return hashlib.sha256(basis.encode()).hexdigest()[:24]


@functools.lru_cache(maxsize=1)
def _nomination_fields() -> tuple[str, ...]:
    from hoacu_xlsx.validator import Nomination

    return tuple(f.name for f in dataclasses.fields(Nomination))


def examine(rec: FileRecord, catalogue: Catalogue, issued: dict[str, str]) -> dict[str, Any]:
    """Identify, locate and validate one stored file; a JSON-able result (cached in the store)."""
    from hoacu_xlsx.reader import locate, unit_hint_from_filename
    from hoacu_xlsx.validator import check

    raw = rec.load_raw() or {}
    probs = [Problem(**p) for p in raw.get("intake", [])]
    out: dict[str, Any] = {"unit_id": None, "identified_by": None, "tables": [], "nominations": [],
                           "rejected": True, "unidentified": False}
    if raw.get("rejected") or raw.get("error") or "sheets" not in raw:
        if raw.get("error"):
            probs.append(Problem(rec.name, f"Không đọc được tệp: {raw['error']}.", ERROR, "unreadable"))
        out["problems"] = [p.to_dict() for p in probs]
        return out
    located = locate(raw, catalogue, issued, rec.name, file_unit_hint=unit_hint_from_filename(rec.name))
    probs += located.problems
    foreign = any(p.code == "other_units_file" for p in located.problems)
    out["rejected"] = foreign
    out["unidentified"] = located.unit is None
    if located.unit is not None and not foreign:
        out["unit_id"], out["identified_by"] = located.unit.id, located.identified_by
        out["tables"] = [t.assignment_id for t in located.tables]
        if rec.sender:
            want = (located.unit.email or "").strip().lower()
            if want and rec.sender.lower() != want:
                probs.append(Problem(rec.name, f"Thư gửi từ {rec.sender}, không phải địa chỉ của "
                                               f"{located.unit.name} ({want}).", WARNING, "sender_mismatch",
                                     located.unit.id))
    checked = check(located, catalogue, rec.name)
    probs += checked.problems
    out["problems"] = [p.to_dict() for p in probs]
    names = _nomination_fields()
    out["nominations"] = [{f: getattr(n, f) for f in names} for n in checked.nominations] \
        if not foreign else []
    return out


def examine_safe(rec: FileRecord, catalogue: Catalogue, issued: dict[str, str]) -> dict[str, Any]:
    """:func:`examine`, but a file that trips the checks becomes a problem, never a stopped merge."""
    try:
        return examine(rec, catalogue, issued)
    except Exception as exc:
        prob = Problem(rec.name, f"Không kiểm tra được tệp ({type(exc).__name__}: {str(exc)[:150]}); đề nghị đơn vị "
                                 "dùng lại sổ gốc và gửi lại.", ERROR, "check_failed")
        return {"unit_id": None, "identified_by": None, "tables": [], "nominations": [], "rejected": True,
                "unidentified": True, "problems": [prob.to_dict()]}


def build_picture(catalogue: Catalogue, store: Store, now: datetime) -> P.Picture:
    """Everything the master shows, computed from the store alone (so it can always be rebuilt)."""
    from hoacu_xlsx.validator import Nomination, cross_duplicates

    issued = store.issued()
    overrides = store.received_overrides()
    officer = store.officer_values()
    fingerprint = catalogue_fingerprint(catalogue, issued)
    cache = store.checked_keys()
    seen = store.sightings()
    fresh: list[tuple[str, str, Any]] = []
    problems: list[Problem] = []
    entries: list[P.FileEntry] = []
    checked_by_file: dict[str, list[Nomination]] = {}
    tables_by_file: dict[str, set[str]] = {}
    for rec in store.files():
        received, source = _received(rec, overrides)
        entry = P.FileEntry(rec.sha256, rec.name, rec.origin, rec.fmt, rec.size, received, source, rec.sender,
                            None, "", None, None, P.FILE_REJECTED, archive=rec.archive)
        entry.seen_as = [n for n in seen.get(rec.sha256, []) if n != rec.name]
        entries.append(entry)
        key = f"{fingerprint}|{rec.sender or ''}"
        if cache.get(rec.sha256) == key:
            result = json.loads(zlib.decompress(store.checked_payload(rec.sha256)))
        else:
            result = examine_safe(rec, catalogue, issued)
            fresh.append((rec.sha256, key, result))
        fprobs = [Problem(**p) for p in result["problems"]]
        if result["unidentified"]:
            entry.outcome = P.FILE_UNIDENTIFIED
        if result["unit_id"]:
            unit = catalogue.unit(result["unit_id"])
            entry.unit_id, entry.unit_name, entry.identified_by = unit.id, unit.name, result["identified_by"]
        checked_by_file[rec.sha256] = [Nomination(**n) for n in result["nominations"]]
        tables_by_file[rec.sha256] = set(result["tables"])
        entry.errors = sum(p.is_error for p in fprobs)
        entry.warnings = len(fprobs) - entry.errors
        problems.extend(fprobs)
    if fresh:
        try:
            store.begin()
            store.save_checked(fresh)
            store.commit()
        except Exception:  # a cache: never worth failing the merge for
            store.rollback()

    # versions: per unit, by received time; per (unit, assignment) the newest file with that table is current
    by_unit: dict[str, list[P.FileEntry]] = defaultdict(list)
    for e in entries:
        if e.unit_id:
            by_unit[e.unit_id].append(e)
    current: dict[tuple[str, str], P.FileEntry] = {}
    older: dict[tuple[str, str], list[P.FileEntry]] = defaultdict(list)
    for uid, es in by_unit.items():
        es.sort(key=lambda e: (e.received_at, e.name))
        for i, e in enumerate(es, start=1):
            e.version = i
            e.outcome = P.FILE_REPLACED
            for aid in tables_by_file.get(e.sha256, ()):
                if (uid, aid) in current:
                    older[(uid, aid)].append(current[(uid, aid)])
                current[(uid, aid)] = e
    current_files = {e.sha256 for e in current.values()}
    for uid, es in by_unit.items():
        if es and not any(e.sha256 in current_files for e in es):
            es[-1].outcome = P.FILE_CURRENT  # identified but no usable table: still the unit's latest word
            current_files.add(es[-1].sha256)
    for e in entries:
        if e.sha256 in current_files:
            e.outcome = P.FILE_CURRENT

    # nominations: current ones, then withdrawn ones from older versions
    nominations: list[P.NominationRow] = []
    recv = {e.sha256: e.received_at for e in entries}
    for (uid, aid), e in current.items():
        unit, a = catalogue.unit(uid), catalogue.assignment(aid)
        noms = checked_by_file[e.sha256]
        ids = set()
        for n in noms:
            if n.assignment_id != aid:
                continue
            ids.add(n.nomination_id)
            state = P.NOM_CURRENT if n.valid else P.NOM_ERROR
            nominations.append(P.NominationRow(n, unit, a, state, recv[e.sha256], officer.get(n.nomination_id, {})))
        e.nominations += sum(1 for n in noms if n.assignment_id == aid and n.valid)
        gone: dict[str, Any] = {}
        for old in older.get((uid, aid), []):
            for n in checked_by_file[old.sha256]:
                if n.assignment_id == aid and n.nomination_id not in ids:
                    gone[n.nomination_id] = (n, old)
        for n, old in gone.values():
            nominations.append(P.NominationRow(n, unit, a, P.NOM_WITHDRAWN, recv[old.sha256],
                                               officer.get(n.nomination_id, {})))
    problems += cross_duplicates([r.nomination for r in nominations if r.state == P.NOM_CURRENT])
    cur_problem_files = {e.name for e in entries if e.sha256 in current_files}
    counted_by_unit: dict[str, int] = defaultdict(int)
    for r in nominations:
        if r.state == P.NOM_CURRENT:
            counted_by_unit[r.unit.id] += 1

    # units
    statuses: list[P.UnitStatus] = []
    for unit in catalogue.units_with_nominations():
        held = [a.id for a in catalogue.assignments_of(unit.id)]
        es = by_unit.get(unit.id, [])
        st = P.UnitStatus(unit, P.NOT_SUBMITTED, assignments=held)
        if es:
            latest = es[-1]
            cur = [e for e in es if e.sha256 in current_files]
            st.latest_file, st.received_at, st.version = latest.name, latest.received_at, latest.version
            st.first_received_at = es[0].received_at
            st.late = _is_late(es[0].received_at, catalogue)
            st.nominations = counted_by_unit[unit.id]
            st.errors = sum(e.errors for e in cur)
            st.warnings = sum(e.warnings for e in cur)
            if st.errors or st.nominations == 0:
                st.status = P.SUBMITTED_ERRORS
            elif st.late:
                st.status = P.LATE
            else:
                st.status = P.SUBMITTED_OK
        statuses.append(st)

    # assignments
    summaries: list[P.AssignmentSummary] = []
    status_of = {s.unit.id: s for s in statuses}
    for a in catalogue.assignments:
        assigned = catalogue.assignees_of(a)
        per_unit: dict[str, int] = defaultdict(int)
        for r in nominations:
            if r.assignment.id == a.id and r.state == P.NOM_CURRENT:
                per_unit[r.unit.id] += 1
        submitted = [u for u in assigned if (u.id, a.id) in current]
        total = sum(per_unit.values())
        if not a.nominations:
            met = True
        elif a.quota_scope == "each":
            met = bool(assigned) and all(per_unit.get(u.id, 0) >= a.quota for u in assigned)
        else:
            met = total >= a.quota
        late = [u for u in submitted if status_of.get(u.id) and status_of[u.id].late]
        summaries.append(P.AssignmentSummary(a, assigned, submitted, total, dict(per_unit), met, late))

    # problems of replaced files stay in the file log only; the problem list shows current files and rejects
    identified = {e.name for e in entries if e.unit_id}
    shown = [p for p in problems if p.file in cur_problem_files or p.file not in identified]
    entries.sort(key=lambda e: (e.received_at, e.name))
    return P.Picture(catalogue, now, summaries, statuses, nominations, shown, entries)


def _received(rec: FileRecord, overrides: dict[str, str]) -> tuple[datetime, str]:
    if rec.sha256 in overrides and (dt := _parse_when(overrides[rec.sha256])):
        return dt, "cán bộ TĐKT sửa"
    if rec.email_date and (dt := _parse_when(rec.email_date)):
        return dt, "ngày gửi thư (Date)"
    return _parse_when(rec.first_seen) or datetime.now().astimezone(), "lần đầu thấy tệp"


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
            out.append(FileCheck(path, "", [Problem(name, f"Không mở được tệp: {exc.strerror or exc}.", ERROR,
                                                    "unreadable")], 0, True))
            continue
        fmt, probs = inspect_bytes(data, name)
        if fmt is None or any(p.is_error for p in probs):
            out.append(FileCheck(path, "", probs, 0, True))
            continue
        raw, _ = _read_one((data, name, None, []))
        if "error" in raw:
            out.append(FileCheck(path, "", probs + [Problem(name, f"Không đọc được tệp: {raw['error']}.", ERROR,
                                                            "unreadable")], 0, True))
            continue
        located = locate(raw, catalogue, issued, name, file_unit_hint=unit_hint_from_filename(name))
        checked = check(located, catalogue, name)
        all_probs = probs + located.problems + checked.problems + cross_duplicates(checked.nominations)
        out.append(FileCheck(path, located.unit.name if located.unit else "", all_probs,
                             sum(n.valid for n in checked.nominations), False))
    return out


def status_picture(catalogue: Catalogue, workdir: Path, now: datetime | None = None) -> P.Picture:
    """``status``: the picture from the store as of the last merge (reads no inbox file)."""
    with Store.open(workdir) as store:
        return build_picture(catalogue, store, now or _now())
