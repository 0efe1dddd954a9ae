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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from hoacu_xlsx import fields as F
from hoacu_xlsx import picture as P
from hoacu_xlsx.catalogue import Catalogue
from hoacu_xlsx.readpool import read_many
from hoacu_xlsx.clock import EMAIL_DATE_SLACK, from_timestamp, is_late, now_vn, parse_when, to_vn
from hoacu_xlsx.problems import ERROR, WARNING, Problem
from hoacu_xlsx.store import STORE_DIR, FileRecord, Store

SHEET_FILES_NOTE = "sổ tổng hợp › Nhật ký tệp"
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
    return now_vn()


def _parse_when(text: str) -> datetime | None:
    """Officer-typed or stored times: ISO, or dd/mm/yyyy [hh:mm] (Vietnam time)."""
    return parse_when(text)


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
    from hoacu_xlsx import history as H
    from hoacu_xlsx import master as MS
    from hoacu_xlsx import master_read as MR

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
        try:
            pic, extras = _officer_and_picture(catalogue, store, state, now, notices)
            extras.history = H.compute(catalogue, workdir, pic)   # this round linked to the earlier masters
            notices += extras.history.problems
            MS.write_master(pic, mpath, extras, on_written=lambda tmp: _remember_master(store, mpath, tmp))
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
    index: dict[str, tuple[tuple[int, ...], list[tuple[Any, ...]]]] | None = None
    if rescan and inbox.exists():
        from hoacu_xlsx.intake import scan_inbox

        index = {}
        unindexed: set[str] = set()
        for inc in scan_inbox(inbox, known={sha for sha, v in known.items() if v == READER_VERSION},
                              known_stats=store.inbox_index()):
            _index_entry(index, unindexed, inc)
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
    jobs = [(inc.data, inc.name, inc.sender, [p.to_dict() for p in inc.problems]) for inc in fresh]
    reading: Iterable[Any] = read_many(jobs, catalogue, issued)
    if progress and fresh:
        reading = progress(reading, len(fresh))

    stamp = now_vn().isoformat(timespec="seconds")   # the real clock: --now only moves the deadline arithmetic

    def record(inc: Any, payload: dict[str, Any], archive: str | None) -> None:
        payload.setdefault("intake", [p.to_dict() for p in inc.problems])
        seen, seen_by = _first_seen(stamp, mtimes.get(inc.sha256))
        store.add_file(FileRecord(
            inc.sha256, inc.name, inc.origin, inc.fmt, len(inc.data), seen,
            inc.received_at.isoformat() if inc.received_at else None, inc.sender, archive, READER_VERSION,
            payload, first_seen_source=seen_by))
        inc.data = b""  # stored and archived: free it

    store.begin()
    try:
        for i, (inc, (payload, examined)) in enumerate(zip(fresh, reading)):   # stored as read
            jobs[i] = (b"", inc.name, inc.sender, [])   # its bytes are freed once stored (the pool is past it)
            record(inc, payload, store.archive(inc.sha256, inc.data, inc.fmt, sync=False))
            if examined is not None:
                store.save_checked([(inc.sha256, f"{fingerprint}|{inc.sender or ''}", examined)])
        for inc in rejected:
            record(inc, {"rejected": True}, None)
        for sha, name in sightings:
            store.note_sighting(sha, name)
        for sha, date_iso, sender in email_info:
            store.set_email_info(sha, date_iso, sender)
        if index is not None:
            store.save_inbox_index(index)
        store.sync_archive()   # every archived copy on disk before the ledger pointing to it can commit
    except (OSError, sqlite3.Error) as exc:
        store.rollback()
        raise MergeError(f"Không ghi được kho dữ liệu '{store.root}' ({exc}); ổ đĩa có thể đã đầy hoặc thư mục "
                         "không cho ghi. Lần gộp này được hủy, không mất dữ liệu đã có; hãy chạy lại sau khi "
                         "khắc phục.") from None
    except BaseException:
        store.rollback()
        raise
    return fresh, rejected, sightings


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


def _first_seen(stamp: str, mtime: float | None) -> tuple[str, str]:
    """When the file arrived, and how we know: its time in inbox/ (saved from the email) if earlier than the clock."""
    if mtime is not None:
        seen = from_timestamp(mtime)
        if seen <= datetime.fromisoformat(stamp):
            return seen.isoformat(timespec="seconds"), "mtime"
    return stamp, "clock"


# --------------------------------------------------------------------------- picture


def _is_late(received: datetime, catalogue: Catalogue) -> bool:
    """Late when received after 23:59:59 of the deadline day, Vietnam time (whatever the sender's zone)."""
    return is_late(received, catalogue.deadline)


CHECK_VERSION = 3  # bump when reader/validator logic changes: cached results are then recomputed


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


def examine(rec: FileRecord, catalogue: Catalogue, issued: dict[str, str],
            force_unit: str | None = None) -> dict[str, Any]:
    """Identify, locate and validate one stored file; a JSON-able result (cached in the store).

    ``force_unit``: the officer credited the file to this unit (never cached). A file whose
    hidden identity contradicts its name, sender or 'Đơn vị:' cell gets ``conflict``: it is not
    credited until the officer settles it.
    """
    from hoacu_xlsx.reader import locate, unit_hint_from_filename
    from hoacu_xlsx.validator import check

    raw = rec.load_raw() or {}
    probs = [Problem(**p) for p in raw.get("intake", [])]
    out: dict[str, Any] = {"unit_id": None, "identified_by": None, "tables": [], "nominations": [],
                           "rejected": True, "unidentified": False, "conflict": []}
    if raw.get("rejected") or raw.get("error") or "sheets" not in raw:
        if raw.get("error"):
            probs.append(Problem(rec.name, f"Không đọc được tệp: {raw['error']}.", ERROR, "unreadable"))
        out["problems"] = [p.to_dict() for p in probs]
        return out
    hint = unit_hint_from_filename(rec.name)
    located = locate(raw, catalogue, issued, rec.name, file_unit_hint=hint, force_unit=force_unit)
    probs += located.problems
    out["rejected"] = any(p.code == "other_year" for p in located.problems)   # a past round's file never counts
    out["unidentified"] = located.unit is None
    if located.unit is not None:
        out["unit_id"], out["identified_by"] = located.unit.id, located.identified_by
        out["tables"] = [t.assignment_id for t in located.tables]
        if force_unit is None:
            out["conflict"] = _unit_conflicts(rec, located, catalogue, hint, probs)
    checked = check(located, catalogue, rec.name)
    probs += checked.problems
    out["problems"] = [p.to_dict() for p in probs]
    names = _nomination_fields()
    out["nominations"] = [{f: getattr(n, f) for f in names} for n in checked.nominations]
    return out


_HOW = {"token": "mã xác nhận ẩn của sổ", "meta": "trang ẩn _meta", "sheet": "tên ghi trong sổ",
        "filename": "tên tệp"}


def _unit_conflicts(rec: FileRecord, located: Any, catalogue: Catalogue, hint: str | None,
                    probs: list[Problem]) -> list[str]:
    """Units that the file's name, sender or 'Đơn vị:' cell name, other than the one it is identified as."""
    unit = located.unit
    others: list[tuple[str, str]] = []          # (unit id, what says so)
    if hint and catalogue.unit(hint) and hint != unit.id:
        others.append((hint, f"tên tệp '{rec.name.rsplit(' › ', 1)[-1]}'"))
    if rec.sender:
        owners = [u.id for u in catalogue.units if u.email and u.email.strip().lower() == rec.sender.lower()]
        if owners and unit.id not in owners:
            others.append((owners[0], f"người gửi thư {rec.sender}"))
        elif not owners and unit.email:
            probs.append(Problem(rec.name, f"Thư gửi từ {rec.sender}, không phải địa chỉ của {unit.name} "
                                           f"({unit.email.strip().lower()}).", WARNING, "sender_mismatch", unit.id))
    sheet_unit = catalogue.unit_by_name(located.sheet_unit_name) if located.sheet_unit_name else None
    if sheet_unit is not None and sheet_unit.id != unit.id:
        others.append((sheet_unit.id, f"ô 'Đơn vị:' trong sổ ghi '{located.sheet_unit_name}'"))
    for other_id, why in others:
        other = catalogue.unit(other_id)
        probs.append(Problem(
            rec.name, f"Không rõ tệp của đơn vị nào: theo {_HOW.get(located.identified_by or '', 'sổ')} là sổ của "
                      f"{unit.name}, nhưng {why} là của {other.name}. Tệp CHƯA được tính cho đơn vị nào (bản trước "
                      f"của đơn vị vẫn được dùng). Cán bộ TĐKT ghi '{F.FILE_VERDICT_ASSIGN} {other.id}' (hoặc "
                      f"{unit.id}) hay '{F.FILE_VERDICT_EXCLUDE}' vào cột quyết định của tệp này ở trang "
                      "Nhật ký tệp.", ERROR, "unit_conflict", unit.id, value=other.id))
    return sorted({o for o, _ in others})


def examine_safe(rec: FileRecord, catalogue: Catalogue, issued: dict[str, str],
                 force_unit: str | None = None) -> dict[str, Any]:
    """:func:`examine`, but a file that trips the checks becomes a problem, never a stopped merge."""
    try:
        return examine(rec, catalogue, issued, force_unit)
    except Exception as exc:
        prob = Problem(rec.name, f"Không kiểm tra được tệp ({type(exc).__name__}: {str(exc)[:150]}); đề nghị đơn vị "
                                 "dùng lại sổ gốc và gửi lại.", ERROR, "check_failed")
        return {"unit_id": None, "identified_by": None, "tables": [], "nominations": [], "rejected": True,
                "unidentified": True, "conflict": [], "problems": [prob.to_dict()]}


@dataclass
class _Files:
    """What build_picture learns about every stored file before versions are decided."""

    entries: list[P.FileEntry] = field(default_factory=list)
    problems: dict[str, list[Problem]] = field(default_factory=dict)      # sha256 -> its problems
    nominations: dict[str, list[Any]] = field(default_factory=dict)       # sha256 -> Nomination list
    tables: dict[str, set[str]] = field(default_factory=dict)             # sha256 -> assignment ids
    notices: list[Problem] = field(default_factory=list)                  # about the officer's entries


def build_picture(catalogue: Catalogue, store: Store, now: datetime) -> P.Picture:
    """Everything the master shows, computed from the store alone (so it can always be rebuilt).

    ``now`` is "today" for the deadline arithmetic (``--now`` previews): a file first seen later
    counts as received at ``now``; nothing is stored from it.
    """
    from hoacu_xlsx import identity as I

    now = to_vn(now)
    files = _examine_files(catalogue, store, now)
    entries = files.entries
    by_unit, current, older = _versions(entries, files.tables)
    current_files = {e.sha256 for e in entries if e.outcome == P.FILE_CURRENT}

    from hoacu_xlsx import history as H
    links = I.Links(store, H.officer_of_round(store.officer_values(), catalogue.year, store.root.parent),
                    catalogue.year)
    nominations: list[P.NominationRow] = []
    for (uid, aid), e in current.items():
        nominations += links.rows_for(catalogue.unit(uid), catalogue.assignment(aid), e,
                                      files.nominations, older.get((uid, aid), []))
        e.nominations += sum(1 for n in files.nominations[e.sha256] if n.assignment_id == aid and n.valid)
    links.save()
    problems = links.problems + _duplicates(nominations)
    statuses = _unit_statuses(catalogue, by_unit, current_files, nominations)
    summaries = _assignment_summaries(catalogue, current, statuses, nominations)

    # problems belong to content: those of the current files and of files credited to no unit are shown
    # (a corrected file re-sent under an old name does not inherit the old version's problems)
    shown_files = current_files | {e.sha256 for e in entries if e.outcome in
                                   (P.FILE_REJECTED, P.FILE_UNIDENTIFIED, P.FILE_CONFLICT)}
    for sha in shown_files:
        problems += files.problems.get(sha, [])
    entries.sort(key=lambda e: (e.arrived_at, e.received_at, e.name))
    return P.Picture(catalogue, now, summaries, statuses, nominations, files.notices + problems, entries)


def _examine_files(catalogue: Catalogue, store: Store, now: datetime) -> _Files:
    """Examine (or take from the cache) every stored file, with its times and the officer's verdict."""
    from hoacu_xlsx.validator import Nomination

    issued = store.issued()
    overrides = store.received_overrides()
    verdicts = store.officer_file_values()
    fingerprint = catalogue_fingerprint(catalogue, issued)
    cache = store.checked_keys()
    seen = store.sightings()
    fresh: list[tuple[str, str, Any]] = []
    out = _Files()
    for rec in store.files():
        arrived, received, source, time_probs = _received(rec, overrides, now)
        entry = P.FileEntry(rec.sha256, rec.name, rec.origin, rec.fmt, rec.size, received, source, rec.sender,
                            None, "", None, None, P.FILE_REJECTED, archive=rec.archive, arrived_at=arrived)
        entry.seen_as = [n for n in seen.get(rec.sha256, []) if n != rec.name]
        out.entries.append(entry)
        key = f"{fingerprint}|{rec.sender or ''}"
        if cache.get(rec.sha256) == key:
            result = json.loads(zlib.decompress(store.checked_payload(rec.sha256)))
        else:
            result = examine_safe(rec, catalogue, issued)
            fresh.append((rec.sha256, key, result))
        verdict = _verdict(rec, verdicts, catalogue, entry, out.notices)
        if verdict is not None and verdict.unit_id and (verdict.unit_id != result["unit_id"] or result["conflict"]):
            result = examine_safe(rec, catalogue, issued, force_unit=verdict.unit_id)
        fprobs = [dataclasses.replace(Problem(**p), sha256=rec.sha256) for p in result["problems"]]
        fprobs += [dataclasses.replace(p, unit_id=result["unit_id"]) for p in time_probs]
        if result["unidentified"]:
            entry.outcome = P.FILE_UNIDENTIFIED
        if result["unit_id"]:
            unit = catalogue.unit(result["unit_id"])
            entry.unit_name, entry.identified_by = unit.name, result["identified_by"]
            if verdict is not None and verdict.action == "exclude":
                entry.outcome = P.FILE_EXCLUDED
            elif result.get("conflict") and verdict is None:
                entry.outcome = P.FILE_CONFLICT
            else:
                entry.unit_id = unit.id                    # credited: takes part in the unit's versions
        elif verdict is not None and verdict.action == "exclude":
            entry.outcome = P.FILE_EXCLUDED
        out.nominations[rec.sha256] = [Nomination(**n) for n in result["nominations"]]
        out.tables[rec.sha256] = set(result["tables"])
        out.problems[rec.sha256] = fprobs
        entry.errors = sum(p.is_error for p in fprobs)
        entry.warnings = len(fprobs) - entry.errors
    if fresh:
        try:
            store.begin()
            store.save_checked(fresh)
            store.commit()
        except Exception:  # a cache: never worth failing the merge for
            store.rollback()
    return out


def _verdict(rec: FileRecord, verdicts: dict[str, dict[str, str]], catalogue: Catalogue, entry: P.FileEntry,
             notices: list[Problem]) -> Any:
    """The officer's verdict on this file, if any; one that cannot be understood is reported and ignored."""
    from hoacu_xlsx import verdicts as V
    from hoacu_xlsx.master import SHEET_FILES, VERDICT_HEADER, VERDICT_KEY

    entry.verdict = (verdicts.get(rec.sha256[:12]) or {}).get(VERDICT_KEY, "").strip()
    try:
        return V.parse(entry.verdict, catalogue)
    except V.VerdictError as exc:
        notices.append(Problem(SHEET_FILES, f"Quyết định của cán bộ cho tệp '{rec.name}' (mã tệp {rec.sha256[:12]}), "
                                            f"cột '{VERDICT_HEADER}': {exc}. Quyết định này chưa được áp dụng.",
                               WARNING, "bad_verdict", None, SHEET_FILES, f"Mã tệp {rec.sha256[:12]}", entry.verdict,
                               rec.sha256))
        return None


def _versions(entries: list[P.FileEntry], tables: dict[str, set[str]]) -> tuple[
        dict[str, list[P.FileEntry]], dict[tuple[str, str], P.FileEntry], dict[tuple[str, str], list[P.FileEntry]]]:
    """Per credited unit, versions by arrival; per (unit, assignment) the newest file with that table is current."""
    by_unit: dict[str, list[P.FileEntry]] = defaultdict(list)
    for e in entries:
        if e.unit_id:
            by_unit[e.unit_id].append(e)
    current: dict[tuple[str, str], P.FileEntry] = {}
    older: dict[tuple[str, str], list[P.FileEntry]] = defaultdict(list)
    for uid, es in by_unit.items():
        es.sort(key=lambda e: (e.arrived_at, e.received_at, e.name))
        for i, e in enumerate(es, start=1):
            e.version = i
            e.outcome = P.FILE_REPLACED
            for aid in tables.get(e.sha256, ()):
                if (uid, aid) in current:
                    older[(uid, aid)].append(current[(uid, aid)])
                current[(uid, aid)] = e
    current_files = {e.sha256 for e in current.values()}
    for uid, es in by_unit.items():
        if es and not any(e.sha256 in current_files for e in es):
            current_files.add(es[-1].sha256)   # identified but no usable table: still the unit's latest word
    for e in entries:
        if e.sha256 in current_files:
            e.outcome = P.FILE_CURRENT
    return by_unit, current, older


def _duplicates(nominations: list[P.NominationRow]) -> list[Problem]:
    from hoacu_xlsx.validator import cross_duplicates

    return cross_duplicates([r.nomination for r in nominations if r.state == P.NOM_CURRENT])


def _unit_statuses(catalogue: Catalogue, by_unit: dict[str, list[P.FileEntry]], current_files: set[str],
                   nominations: list[P.NominationRow]) -> list[P.UnitStatus]:
    counted_by_unit: dict[str, int] = defaultdict(int)
    for r in nominations:
        if r.state == P.NOM_CURRENT:
            counted_by_unit[r.unit.id] += 1
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
    return statuses


def _assignment_summaries(catalogue: Catalogue, current: dict[tuple[str, str], P.FileEntry],
                          statuses: list[P.UnitStatus], nominations: list[P.NominationRow]
                          ) -> list[P.AssignmentSummary]:
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
    return summaries


def _received(rec: FileRecord, overrides: dict[str, str], now: datetime
              ) -> tuple[datetime, datetime, str, list[Problem]]:
    """(arrived, received, source, problems) of a file — the rule of README "Thời điểm nhận và nộp muộn".

    arrived (orders versions): the officer's override, else first seen (earliest of the file's time in
    inbox/ and the clock of the merge that first saw it). received (lateness, shown): the override, else
    the email's Date unless it is later than first seen (a sender's clock ahead), else first seen. A Date
    later than first seen or more than 2 days before it is reported. Nothing counts as received after ``now``.
    """
    if rec.sha256 in overrides and (dt := parse_when(overrides[rec.sha256])):
        return dt, min(dt, now), P.SOURCE_OFFICER, []
    first = parse_when(rec.first_seen) or now
    label = {"mtime": P.SOURCE_MTIME, "clock": P.SOURCE_CLOCK}.get(rec.first_seen_source or "", P.SOURCE_LEGACY)
    probs: list[Problem] = []
    received = first
    if rec.email_date and (sent := parse_when(rec.email_date)):
        if sent > first:
            why = (f"muộn hơn lúc tệp đến ({P.format_dt(first)}); có thể đồng hồ máy người gửi bị sai. Không dùng "
                   f"ngày này: thời điểm nhận lấy theo {label}")
            label += " (ngày gửi thư bất thường)"
        else:
            received, label = sent, P.SOURCE_EMAIL
            why = (f"sớm hơn lúc tệp đến ({P.format_dt(first)}) quá 2 ngày: thư lưu vào inbox/ muộn, hoặc đồng hồ "
                   "máy người gửi sai. Thời điểm nhận lấy theo ngày gửi thư") if sent < first - EMAIL_DATE_SLACK else ""
            label += " — cần kiểm tra" if why else ""
        if why:
            probs.append(Problem(rec.name, f"Ngày gửi ghi trong thư ({P.format_dt(sent)}, giờ Việt Nam) {why}; cán bộ "
                                           "có thể sửa ở cột 'Sửa thời điểm nhận' của trang Nhật ký tệp.", WARNING,
                                 "email_date_odd", value=P.format_dt(sent), sha256=rec.sha256))
    if received > now:
        received, label = now, label + " — sau ngày đang xem, coi như nhận hôm đó"
    return first, received, label, probs


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
        raw, _ = next(read_many([(data, name, None, [])]))
        if "error" in raw:
            out.append(FileCheck(path, "", probs + [Problem(name, f"Không đọc được tệp: {raw['error']}.", ERROR,
                                                            "unreadable")], 0, True))
            continue
        hint = unit_hint_from_filename(name)
        located = locate(raw, catalogue, issued, name, file_unit_hint=hint)
        if located.unit is not None:   # the same unit conflicts a merge would hold the file back for
            _unit_conflicts(FileRecord("", name, None, None, 0, "", None, None, None, None), located, catalogue,
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
