"""The round's picture computed from the store: which file is each unit's current version, what
counts, what is late, what the officer decided about files and links.

Everything the master, ``status``, the feedback and the papers show comes from here, so the
master can always be rebuilt from the store alone. Checked results are cached in the store per
content and catalogue fingerprint, so a file is examined once.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hoacu_xlsx import fields as F
from hoacu_xlsx import messages as T
from hoacu_xlsx import picture as P
from hoacu_xlsx.catalogue import Catalogue
from hoacu_xlsx.clock import EMAIL_DATE_SLACK, is_late, parse_when, to_vn
from hoacu_xlsx.problems import Problem
from hoacu_xlsx.store import FileRecord, Store, unpack


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
            probs.append(T.problem("unreadable/read", rec.name, error=raw['error']))
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
            out["conflict"] = unit_conflicts(rec, located, catalogue, hint, probs)
    checked = check(located, catalogue, rec.name)
    probs += checked.problems
    out["problems"] = [p.to_dict() for p in probs]
    names = _nomination_fields()
    out["nominations"] = [{f: getattr(n, f) for f in names} for n in checked.nominations]
    return out


_HOW = {"token": "how.token", "meta": "how.meta", "sheet": "how.sheet", "filename": "how.filename"}   # REASONS


def unit_conflicts(rec: FileRecord, located: Any, catalogue: Catalogue, hint: str | None,
                    probs: list[Problem]) -> list[str]:
    """Units that the file's name, sender or 'Đơn vị:' cell name, other than the one it is identified as."""
    unit = located.unit
    others: list[tuple[str, str]] = []          # (unit id, what says so)
    if hint and catalogue.unit(hint) and hint != unit.id:
        others.append((hint, T.reason("conflict.filename", name=rec.name.rsplit(' › ', 1)[-1])))
    if rec.sender:
        owners = [u.id for u in catalogue.units_by_email(rec.sender)]
        if owners and unit.id not in owners:
            others.append((owners[0], T.reason("conflict.sender", sender=rec.sender)))
        elif not owners and unit.email:
            probs.append(T.problem("sender_mismatch", rec.name, unit_id=unit.id, sender=rec.sender, unit=unit.name,
                                   email=unit.email.strip().lower()))
    sheet_unit = catalogue.unit_by_name(located.sheet_unit_name) if located.sheet_unit_name else None
    if sheet_unit is not None and sheet_unit.id != unit.id:
        others.append((sheet_unit.id, T.reason("conflict.sheet_unit", name=located.sheet_unit_name)))
    for other_id, why in others:
        other = catalogue.unit(other_id)
        probs.append(T.problem(
            "unit_conflict", rec.name, unit_id=unit.id, value=other.id,
            how=T.reason(_HOW.get(located.identified_by or '', "how.book")), unit=unit.name, why=why,
            other=other.name, assign=F.FILE_VERDICT_ASSIGN, other_id=other.id, own_id=unit.id,
            exclude=F.FILE_VERDICT_EXCLUDE))
    return sorted({o for o, _ in others})


def examine_safe(rec: FileRecord, catalogue: Catalogue, issued: dict[str, str],
                 force_unit: str | None = None) -> dict[str, Any]:
    """:func:`examine`, but a file that trips the checks becomes a problem, never a stopped merge."""
    try:
        return examine(rec, catalogue, issued, force_unit)
    except Exception as exc:
        prob = T.problem("check_failed", rec.name, error=type(exc).__name__, detail=str(exc)[:150])
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
    from hoacu_xlsx import materials as MT
    return P.Picture(catalogue, now, summaries, statuses, nominations, files.notices + problems, entries,
                     MT.entries(catalogue, store, entries, nominations, now))


_SHARED_MAX = 48   # values up to this length repeat across nominations; longer ones (achievements) are unique


def _nomination(n: dict[str, Any], shared: dict[str, str]) -> Any:
    """A nomination from the checked-results cache, slimmed for a province's 150,000: only the name's cell of
    its references is kept (the one problems point to), and short values, which repeat ('Đạt', 'Nam', a
    commune's name), are one string each (``shared``) instead of one per cell."""
    from hoacu_xlsx.validator import Nomination

    refs = n.get("refs") or {}
    n["refs"] = {"ten": refs["ten"]} if "ten" in refs else {}
    n["values"] = {k: shared.setdefault(v, v) if type(v) is str and len(v) <= _SHARED_MAX else v
                   for k, v in n["values"].items()}
    return Nomination(**n)


def _problem(p: dict[str, Any], sha256: str, shared: dict[str, str]) -> Problem:
    """A problem from the checked-results cache, tied to its content; its file and sheet names are shared
    by all the problems of the file."""
    p["sha256"] = sha256
    for k in ("file", "sheet", "unit_id"):
        if type(v := p.get(k)) is str:
            p[k] = shared.setdefault(v, v)
    return Problem(**p)


def _examine_files(catalogue: Catalogue, store: Store, now: datetime) -> _Files:
    """Examine (or take from the cache) every stored file, with its times and the officer's verdict."""
    issued = store.issued()
    overrides = store.received_overrides()
    verdicts = store.officer_file_values()
    fingerprint = catalogue_fingerprint(catalogue, issued)
    cache = store.checked_keys()
    seen = store.sightings()
    fresh: list[tuple[str, str, Any]] = []
    shared: dict[str, str] = {}
    out = _Files()
    for rec in store.files():
        arrived, received, source, time_probs = _received(rec, overrides, now)
        entry = P.FileEntry(rec.sha256, rec.name, rec.origin, rec.fmt, rec.size, received, source, rec.sender,
                            None, "", None, None, P.FILE_REJECTED, archive=rec.archive, arrived_at=arrived)
        entry.seen_as = [n for n in seen.get(rec.sha256, []) if n != rec.name]
        out.entries.append(entry)
        key = f"{fingerprint}|{rec.sender or ''}"
        if cache.get(rec.sha256) == key:
            result = unpack(store.checked_payload(rec.sha256))
        else:
            result = examine_safe(rec, catalogue, issued)
            fresh.append((rec.sha256, key, result))
        verdict = _verdict(rec, verdicts, catalogue, entry, out.notices)
        if verdict is not None and verdict.unit_id and (verdict.unit_id != result["unit_id"] or result["conflict"]):
            result = examine_safe(rec, catalogue, issued, force_unit=verdict.unit_id)
        fprobs = [_problem(p, rec.sha256, shared) for p in result["problems"]]
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
        out.nominations[rec.sha256] = [_nomination(n, shared) for n in result["nominations"]]
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
        notices.append(T.problem("bad_verdict", SHEET_FILES, sheet=SHEET_FILES,
                                 cell=T.reason("where.file_id", file_id=rec.sha256[:12]), value=entry.verdict,
                                 sha256=rec.sha256, name=rec.name, file_id=rec.sha256[:12], header=VERDICT_HEADER,
                                 error=exc))
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
            why = T.reason("email_date.late", first=P.format_dt(first), source=label)
            label += " (ngày gửi thư bất thường)"
        else:
            received, label = sent, P.SOURCE_EMAIL
            why = T.reason("email_date.early",
                           first=P.format_dt(first)) if sent < first - EMAIL_DATE_SLACK else ""
            label += " — cần kiểm tra" if why else ""
        if why:
            probs.append(T.problem("email_date_odd", rec.name, value=P.format_dt(sent), sha256=rec.sha256,
                                   sent=P.format_dt(sent), why=why))
    if received > now:
        received, label = now, label + " — sau ngày đang xem, coi như nhận hôm đó"
    return first, received, label, probs
