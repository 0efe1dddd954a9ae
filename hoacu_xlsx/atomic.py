"""Replacing a file in one step: the old content or the new one, never half of each.

The new content is written to a temporary name in the same folder, flushed to disk
(fsync), then renamed over the target; on POSIX the folder is flushed too, so the
rename itself survives a power cut. Every place that replaces a user-visible file
should go through here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def temp_name(path: Path, keep_suffix: bool = False) -> Path:
    """A hidden temporary name beside ``path`` (same folder, so the rename is atomic).

    ``keep_suffix``: end it with ``path``'s suffix ('.x.123.tmp.xlsx') for writers that go by it.
    """
    if keep_suffix:
        return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (POSIX); a no-op where folders cannot be opened (Windows)."""
    if os.name == "nt":  # pragma: no cover - Windows
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_file(tmp: Path, path: Path) -> None:
    """Flush ``tmp`` and rename it over ``path`` (raises OSError/PermissionError, ``tmp`` left for the caller)."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def write_atomically(path: Path, write_fn: Callable[[Path], object], *, keep_suffix: bool = False) -> None:
    """Call ``write_fn(tmp)`` to write the whole new content, then replace ``path`` with it.

    On any failure the temporary file is removed and ``path`` is left as it was.
    """
    tmp = temp_name(path, keep_suffix)
    try:
        write_fn(tmp)
        replace_file(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (see :func:`write_atomically`)."""
    write_atomically(path, lambda tmp: tmp.write_bytes(data))
