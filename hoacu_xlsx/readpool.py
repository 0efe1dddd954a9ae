"""Read workbooks in worker processes, where a crash or a runaway allocation costs one file only.

python-calamine is native code. On a hostile file it can abort its process (a Rust panic,
or an allocation failing) or allocate without bound; a panic that it turns into a Python
exception arrives as ``PanicException``, a ``BaseException``. So no workbook is ever read in
the merge's own process:

* a few long-lived worker processes (both cores when there are many files) read one file at
  a time, handed out by the parent; results come back in job order, with only a window of
  files in flight, so memory stays flat however many files there are;
* each worker caps its own address space (``RLIMIT_AS``, POSIX only: Windows has no such
  limit without extra packages, there only the time limit applies) and each file has a time
  limit;
* a file whose worker dies, runs out of memory, overruns the time limit or raises anything
  becomes a Vietnamese problem for that file; a new worker replaces the dead one and the
  other files go on.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from multiprocessing.connection import Connection, wait
from typing import Any, Iterable, Iterator, NamedTuple

from hoacu_xlsx.catalogue import Catalogue
from hoacu_xlsx.messages import reason


class Job(NamedTuple):
    """One workbook to read (plain 4-tuples are accepted too)."""

    data: bytes
    name: str
    sender: str | None
    intake: list[dict]                  # the intake's problems, as dicts
    check_parts: bool = False           # its XML parts are not scanned yet (intake.scan.check_parts): first that


# raw payload, examined (None without catalogue); both store-packed bytes when ``packed``, except a refusal of
# the part checks: ({"rejected": True, "intake": [problem dicts]}, None), never packed
Result = tuple[Any, Any]

PARALLEL_MIN_FILES = 24      # below this, one worker is enough
WINDOW = 128                 # files handed out or waiting to be yielded, at most
MEMORY_LIMIT = 1 << 30       # address space a worker may add to its size at start (POSIX)
FILE_SECONDS = 60.0          # a normal workbook reads in milliseconds

CRASHED = reason("read.crashed")
ODS_UNREADABLE = reason("read.ods_unreadable")


# --------------------------------------------------------------------------- in the worker

_CONTEXT: dict[str, Any] = {}  # catalogue and issued tokens, set once per worker process


def _limit_memory(extra: int) -> None:
    """Cap this process's address space at its current size plus ``extra`` (POSIX; elsewhere nothing)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows: only the time limit applies
        return
    try:
        with open("/proc/self/statm") as fh:
            size = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        size = 1 << 30
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = size + extra
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (ValueError, OSError):  # pragma: no cover - a platform that refuses the limit
        pass


def read_workbook(data: bytes, error_values: bool | None = None) -> dict[str, Any]:
    """Raw cells of one workbook; an .ods python-calamine refuses for its layout is read from a compact copy."""
    from hoacu_xlsx import ods_compat
    from hoacu_xlsx.reader import ReadError, read_raw

    try:
        return read_raw(data, error_values)
    except ReadError:
        if not ods_compat.is_ods(data):
            raise
    compact = ods_compat.without_indentation(data)
    if compact is None:
        raise ReadError(ODS_UNREADABLE)
    try:
        return read_raw(compact)
    except ReadError:
        raise ReadError(ODS_UNREADABLE) from None


def read_one(job: Job, packed: bool = False) -> Result:
    """Read one workbook and, when the catalogue is known, check it too; never raises.

    ``packed``: both come back as the store keeps them (see store.pack), so the merge's own process,
    which records every file, does not spend its time encoding them."""
    from hoacu_xlsx.reader import ReadError

    data, name, sender, intake, check_parts = Job(*job)
    payload: dict[str, Any] = {"intake": intake}
    try:
        error_values = None
        if check_parts:
            from hoacu_xlsx.intake.scan import check_parts as scan_parts

            refused, error_values = scan_parts(data, name)
            if refused:
                return {"rejected": True, "intake": [p.to_dict() for p in refused]}, None
        payload.update(read_workbook(data, error_values))
    except ReadError as exc:
        payload["error"] = str(exc)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - PanicException, MemoryError…: one hostile file never stops the run
        payload["error"] = CRASHED
        payload["error_code"] = "reader_crashed"
    return _packed((payload, _examined(payload, name, len(data), sender)), packed)


def _packed(result: Result, packed: bool) -> Result:
    if not packed:
        return result
    from hoacu_xlsx.store import pack

    payload, examined = result
    return pack(payload), None if examined is None else pack(examined)


def _examined(payload: dict[str, Any], name: str, size: int, sender: str | None) -> dict[str, Any] | None:
    if not _CONTEXT:
        return None
    from hoacu_xlsx.picture_build import examine_safe
    from hoacu_xlsx.store import FileRecord

    rec = FileRecord("", name, None, None, size, "", None, sender, None, None, raw=payload)
    return examine_safe(rec, _CONTEXT["catalogue"], _CONTEXT["issued"])


def _set_context(catalogue: Catalogue | None, issued: dict[str, str]) -> None:
    _CONTEXT.clear()
    if catalogue is not None:
        _CONTEXT.update(catalogue=catalogue, issued=issued)


def _silence_stderr() -> None:
    """A native reader's panic prints an English backtrace: never on the officer's screen."""
    import faulthandler

    faulthandler.disable()   # it writes to its own copy of stderr
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:  # pragma: no cover - no /dev/null: the message stays, the run goes on
        pass


def _serve(conn: Connection, catalogue: Catalogue | None, issued: dict[str, str], memory: int,
           packed: bool) -> None:
    """A worker's life: cap memory, then read each file it is sent until told to stop."""
    _silence_stderr()
    _limit_memory(memory)
    _set_context(catalogue, issued)
    parent = os.getppid()
    while True:
        try:
            if not conn.poll(1.0):
                if os.getppid() != parent:      # the merge was killed: never outlive it
                    return
                continue
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        index, job = msg
        conn.send((index, read_one(job, packed)))


# --------------------------------------------------------------------------- in the merge


class _Worker:
    """One worker process and the file it is reading (if any)."""

    def __init__(self, catalogue: Catalogue | None, issued: dict[str, str], memory: int, packed: bool) -> None:
        ctx = multiprocessing.get_context()
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, catalogue, issued, memory, packed), daemon=True)
        self.proc.start()
        child.close()
        self.index: int | None = None
        self.since = 0.0

    def give(self, index: int, job: Job) -> bool:
        try:
            self.conn.send((index, job))
        except (OSError, ValueError):
            return False
        self.index, self.since = index, time.monotonic()
        return True

    def stop(self, kill: bool = False) -> None:
        if not kill:
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                kill = True
        if kill and self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=5)
        if self.proc.is_alive():  # pragma: no cover - a worker that ignores SIGKILL
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def _failed(job: Job, message: str, code: str, catalogue: Catalogue | None, issued: dict[str, str],
            packed: bool) -> Result:
    """The result of a file whose worker died or overran: a problem for that file only."""
    data, name, sender, intake, _ = Job(*job)
    payload = {"intake": intake, "error": message, "error_code": code}
    if catalogue is None:
        return _packed((payload, None), packed)
    from hoacu_xlsx.picture_build import examine_safe
    from hoacu_xlsx.store import FileRecord

    rec = FileRecord("", name, None, None, len(data), "", None, sender, None, None, raw=payload)
    return _packed((payload, examine_safe(rec, catalogue, issued)), packed)


class _Pool:
    """Long-lived workers; a dead or overrunning one is replaced, its file reported."""

    def __init__(self, n: int, catalogue: Catalogue | None, issued: dict[str, str], memory: int,
                 seconds: float, packed: bool) -> None:
        self.args = (catalogue, issued, memory, packed)
        self.catalogue, self.issued, self.seconds, self.packed = catalogue, issued, seconds, packed
        self.workers = [_Worker(*self.args) for _ in range(n)]

    def idle(self) -> list[_Worker]:
        return [w for w in self.workers if w.index is None]

    def give(self, w: _Worker, index: int, job: Job) -> None:
        """Hand a file to a worker; a worker found dead before it got the file is replaced, not blamed."""
        if not w.give(index, job):
            w = self._replace(w)
            if not w.give(index, job):
                raise OSError("cannot start a reading worker")

    def _replace(self, w: _Worker, kill: bool = True) -> _Worker:
        w.stop(kill=kill)
        new = _Worker(*self.args)
        self.workers[self.workers.index(w)] = new
        return new

    def _outcome(self, w: _Worker, ready: set) -> tuple[int, Result] | str | None:
        """A finished file's (index, result), 'crashed', 'timeout', or None while it is still being read."""
        if w.conn in ready or w.proc.sentinel in ready:
            if w.conn.poll():
                try:
                    return w.conn.recv()
                except (EOFError, OSError):
                    pass
            return "crashed"
        return "timeout" if time.monotonic() - w.since >= self.seconds else None

    def collect(self, jobs: dict[int, Job]) -> Iterator[tuple[int, Result]]:
        """Wait for the busy workers; yield (index, result) for each file finished, crashed or overrun."""
        busy = [w for w in self.workers if w.index is not None]
        if not busy:
            return
        timeout = max(0.0, min(w.since for w in busy) + self.seconds - time.monotonic())
        ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout))
        for w in busy:
            index, outcome = w.index, self._outcome(w, ready)
            assert index is not None
            if outcome is None:
                continue
            if isinstance(outcome, tuple):
                w.index = None
                yield outcome
                continue
            self._replace(w)
            msg = CRASHED if outcome == "crashed" else reason("read.timed_out", seconds=f"{self.seconds:g}".replace(".", ","))
            yield index, _failed(jobs[index], msg, f"reader_{outcome}", self.catalogue, self.issued, self.packed)

    def close(self) -> None:
        for w in self.workers:
            w.stop(kill=w.index is not None)


def read_many(jobs: Iterable[Job], catalogue: Catalogue | None = None, issued: dict[str, str] | None = None,
              workers: int | None = None, *, memory: int = MEMORY_LIMIT,
              seconds: float = FILE_SECONDS, packed: bool = False) -> Iterator[Result]:
    """Read (and check) workbooks in worker processes; (payload, examined) per job, in job order
    (store-packed bytes with ``packed``).

    ``jobs`` is taken lazily, at most a window ahead of what has been yielded: a caller that finds its
    files while they are read (the merge scans inbox/ this way) keeps its own process busy in parallel
    with the workers, and only the files in flight are held in memory."""
    source = iter(jobs)
    head = list(itertools.islice(source, PARALLEL_MIN_FILES))
    if not head:
        return
    if workers is None:
        workers = 1 if len(head) < PARALLEL_MIN_FILES else min(os.cpu_count() or 1, 8)
    source = itertools.chain(head, source)
    pool = _Pool(max(1, min(workers, len(head))), catalogue, issued or {}, memory, seconds, packed)
    in_flight: dict[int, Job] = {}
    done: dict[int, Result] = {}
    handed = yielded = 0
    more = True
    try:
        while more or yielded < handed:
            for w in pool.idle():
                if not more or handed - yielded >= WINDOW:
                    break
                job = next(source, None)
                if job is None:
                    more = False
                    break
                in_flight[handed] = job
                pool.give(w, handed, job)
                handed += 1
            while yielded in done:
                yield done.pop(yielded)
                yielded += 1
            if yielded < handed and yielded not in done:
                for index, result in pool.collect(in_flight):
                    del in_flight[index]          # its bytes are no longer needed here
                    done[index] = result
    finally:
        pool.close()
