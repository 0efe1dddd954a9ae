"""Walk inbox/: every file, in a stable order, read safely; containers unpacked; nothing written.

Links are never followed out of inbox/, FIFOs and devices are never read, oversize files are
refused before being read. Each file (or zip member, or attachment) becomes an
:class:`Incoming`: a workbook to read, or a Vietnamese refusal naming it; one file never
stops the scan.
"""

from __future__ import annotations

import errno
import os
import stat
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Iterator

from hoacu_xlsx import messages as T
from hoacu_xlsx.intake.email_parts import from_email
from hoacu_xlsx.intake.incoming import (MATERIAL, SEP, WORKBOOK, Ctx, Incoming, Pool, Refused, StopOrigin, ignored,
                                        label, megabytes, refusal, rejected, sha256_hex)
from hoacu_xlsx.intake.limits import Limits
from hoacu_xlsx.intake.sniff import inspect
from hoacu_xlsx.intake.zipparts import inflate, member_name, open_zip, safe_member
from hoacu_xlsx.problems import ERROR, Problem

# wraps the inbox entries as they are taken (a progress bar): (entries, how many) -> the same entries
ScanProgress = Callable[[Iterable[Any], int], Iterable[Any]]

# --------------------------------------------------------------------------- containers


def _member(zf, info, mname: str, name: str, depth: int, ctx: Ctx) -> Iterator[Incoming]:
    """One member of a plain .zip: refused when its name is dangerous, else inflated and classified."""
    display = f"{name}{SEP}{mname}"
    if not safe_member(mname):
        yield rejected(display, ctx, info.filename.encode("utf-8", "replace"),
                       T.text("zip_traversal", name=label(name), member=mname), "zip_traversal")
        return
    try:
        member = inflate(zf, info, display, ctx, cap=ctx.limits.max_file_bytes)
    except StopOrigin:
        raise
    except Refused as exc:
        yield rejected(display, ctx, info.filename.encode("utf-8", "replace"), exc.message, exc.code)
        return
    yield from classify(member, display, depth + 1, ctx)


def _from_zip(data: bytes, name: str, depth: int, ctx: Ctx) -> Iterator[Incoming]:
    zf = open_zip(data, name, ctx.limits)
    found = False
    for info in zf.infolist():
        if info.is_dir() or info.filename.endswith("\\"):
            continue
        mname = member_name(info)
        if safe_member(mname) and any(ignored(p) for p in mname.replace("\\", "/").split("/") if p):
            continue
        found = True
        yield from _member(zf, info, mname, name, depth, ctx)
    if not found:
        yield rejected(name, ctx, data, T.text("empty_container", name=label(name)), "empty_container")


def classify(data: bytes, name: str, depth: int, ctx: Ctx) -> Iterator[Incoming]:
    """One file's bytes (top level, zip member or attachment) -> Incoming(s)."""
    try:
        kind, fmt, probs = inspect(data, name, ctx)
    except StopOrigin:
        raise
    except Refused as exc:
        yield Incoming(name, ctx.origin, b"", None, sha256_hex(data + b"\x00" + name.encode("utf-8", "replace")),
                       ctx.received_at, ctx.sender, [Problem(name, exc.message, ERROR, exc.code)])
        return
    if kind in (WORKBOOK, MATERIAL):
        yield Incoming(name, ctx.origin, data, fmt, sha256_hex(data), ctx.received_at, ctx.sender, probs, kind,
                       parts_checked=not (ctx.defer_parts and fmt in ("xlsx", "xlsm")))
        return
    ctx.defer_parts = False          # a container's members are checked whole here: they share its budget
    if depth >= ctx.limits.max_depth:
        raise refusal("too_deep", name, stop=True)
    if kind == "zip":
        yield from _from_zip(data, name, depth, ctx)
    else:
        yield from from_email(data, name, depth, ctx, classify)


def _origin_ctx(rel: str, limits: Limits, defer_parts: bool = False) -> Ctx:
    """The context of one inbox file: its inflation budget, shared by everything inside it."""
    return Ctx(rel, limits, Pool(limits.max_uncompressed_bytes), defer_parts=defer_parts)


def _from_origin(data: bytes, rel: str, ctx: Ctx) -> Iterator[Incoming]:
    """Everything from one inbox file; a hostile container ends with one refusal for the whole file."""
    try:
        yield from classify(data, rel, 0, ctx)
    except Refused as exc:
        msg = exc.message if exc.message.endswith(".") else exc.message + "."
        if f"'{PurePosixPath(rel).name}'" not in msg:     # the refusal named an inner file: name the inbox file too
            msg = T.text("refused/origin", name=PurePosixPath(rel).name, message=f"{msg[:1].lower()}{msg[1:]}")
        yield rejected(rel, ctx, data, msg, exc.code)


def check_parts(data: bytes, name: str, limits: Limits = Limits()) -> tuple[list[Problem], bool]:
    """The checks ``scan_inbox(defer_parts=True)`` left to the reading worker, run as the scan would have run
    them on the file: its refusal ([] when it passes), and whether a part holds a formula error value."""
    ctx = _origin_ctx(name, limits)
    refused = [p for inc in _from_origin(data, name, ctx) if not inc.ok for p in inc.problems]
    return refused, ctx.error_values


# --------------------------------------------------------------------------- the folder


def stat_key(st: os.stat_result) -> tuple[int, ...]:
    """What tells a file is unchanged since it was read: size, modification time, file id, change time.

    A rewritten, replaced, renamed-over or re-permissioned file changes at least one of them."""
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def _read_file(path: Path, rel: str, limits: Limits) -> tuple[bytes, tuple[int, ...]]:
    """Read a regular file without following a link or blocking on a FIFO; oversize files are never read.

    Returns the bytes and the file's stat key taken before reading (a file changed while being read
    gets a new key, so it is read again next time)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Refused(T.text("not_regular_file", name=rel), "not_regular_file")
        if st.st_size > limits.max_file_bytes:
            raise Refused(T.text("too_large", name=PurePosixPath(rel).name, size=megabytes(st.st_size),
                                 limit=megabytes(limits.max_file_bytes)), "too_large")
        chunks, total = [], 0
        while b := os.read(fd, 1 << 20):
            total += len(b)
            if total > limits.max_file_bytes:     # grew while being read
                raise Refused(T.text("too_large/grew", name=PurePosixPath(rel).name), "too_large")
            chunks.append(b)
        return b"".join(chunks), stat_key(st)
    finally:
        os.close(fd)


def os_reason(exc: OSError) -> str:
    """Why the system refused to open a file, in Vietnamese (the system's English text never shown)."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return T.reason("os.denied")
    if exc.errno == errno.ENOENT:
        return T.reason("os.gone")
    if exc.errno == errno.ELOOP:
        return T.reason("os.loop")
    if exc.errno in (errno.EBUSY, errno.ETXTBSY):
        return T.reason("os.busy")
    return T.reason("os.other")


def _inside(root: Path, target: Path) -> bool:
    return target == root or root in target.parents


def _linked_dirs(root: Path, d: Path, dirnames: list[str], limits: Limits) -> Iterator[Incoming]:
    """Prune ignored and linked sub-folders (never walked); report links that point out of inbox/."""
    dirnames.sort()
    for dn in list(dirnames):
        p = d / dn
        if ignored(dn):
            dirnames.remove(dn)
        elif p.is_symlink():
            dirnames.remove(dn)      # its files are either outside or seen at their real place
            rel = p.relative_to(root).as_posix()
            if not _inside(root, p.resolve()):
                yield rejected(rel, Ctx(rel, limits, Pool(0)), b"", T.text("symlink_outside/folder", name=rel),
                               "symlink_outside")


Remembered = dict[str, tuple[tuple[int, ...], list[tuple[str, str, str | None, str | None]]]]


def _remembered(p: Path, rel: str, known: set[str] | None, known_stats: Remembered | None) -> list[Incoming] | None:
    """What an inbox file held when last read, if it is unchanged since and all of it is already stored."""
    entry = (known_stats or {}).get(rel)
    if entry is None or not known:
        return None
    key, held = entry
    try:
        st = os.stat(p, follow_symlinks=False)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or stat_key(st) != tuple(key) or not held \
            or any(sha not in known for sha, *_ in held):
        return None
    return [Incoming(name, rel, b"", None, sha, datetime.fromisoformat(when) if when else None, sender,
                     stat=tuple(key), unchanged=True) for sha, name, when, sender in held]


def _one_file(root: Path, p: Path, limits: Limits, known: set[str] | None,
              known_stats: Remembered | None = None, defer_parts: bool = False) -> Iterator[Incoming]:
    rel = p.relative_to(root).as_posix()
    ctx = Ctx(rel, limits, Pool(0))
    if p.is_symlink():
        target = p.resolve()
        if not _inside(root, target):
            yield rejected(rel, ctx, b"", T.text("symlink_outside", name=p.name), "symlink_outside")
            return
        p = target
    if (same := _remembered(p, rel, known, known_stats)) is not None:
        yield from same
        return
    try:
        data, key = _read_file(p, rel, limits)
    except Refused as exc:
        yield rejected(rel, ctx, b"", exc.message, exc.code)
        return
    except OSError as exc:
        yield rejected(rel, ctx, b"", T.text("unreadable", name=PurePosixPath(rel).name, reason=os_reason(exc)),
                       "unreadable")
        return
    if known and (sha := sha256_hex(data)) in known:
        yield Incoming(rel, rel, b"", None, sha, stat=key)
        return
    for inc in _from_origin(data, rel, _origin_ctx(rel, limits, defer_parts)):
        inc.stat = key
        yield inc


def scan_inbox(inbox: Path, limits: Limits = Limits(), known: set[str] | None = None,
               known_stats: Remembered | None = None,
               progress: ScanProgress | None = None,
               defer_parts: bool = False) -> Iterator[Incoming]:
    """Every candidate workbook in inbox/ (sub-folders too), in a stable order; never writes anything.

    Files whose bytes are in ``known`` (already read and stored) are yielded without their data and
    without being checked again: re-merging thousands of files stays cheap. ``known_stats`` (the
    store's inbox index: path -> stat key and what the file held) goes further: a file whose stat key
    is unchanged and whose contents are all in ``known`` is not even read or hashed; its remembered
    contents are yielded with ``unchanged`` set. Every yielded Incoming carries the ``stat`` key of its
    inbox file when that file was read whole (None: refused before or while reading, never indexed).
    The folder is listed first (names only), so ``progress`` gets the number of entries; the files
    are read lazily, one at a time, as the caller takes what they hold.

    ``defer_parts``: an .xlsx/.xlsm file of inbox/ itself (not one inside a .zip or email) is checked
    here from its zip headers only, and yielded with ``parts_checked`` False: inflating and scanning
    its XML parts (:func:`check_parts`) is then the reader's job, in its worker process. The merge
    does this so that this scan, which feeds the workers, does not hold them up.
    """
    root = Path(inbox).resolve()
    entries: list[Incoming | Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        d = Path(dirpath)
        entries.extend(_linked_dirs(root, d, dirnames, limits))
        entries.extend(d / fn for fn in sorted(filenames) if not ignored(fn))
    for entry in (progress(entries, len(entries)) if progress else entries):
        if isinstance(entry, Incoming):
            yield entry
        else:
            yield from _one_file(root, entry, limits, known, known_stats, defer_parts)
