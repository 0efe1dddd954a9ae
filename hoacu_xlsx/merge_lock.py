"""One merge (or one fetch) at a time in a working folder: an OS-level lock on a file in ``store/``.

The OS releases it even when the process is killed, so a crashed run never blocks the next one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hoacu_xlsx import messages as T

LOCK_NAME = "merge.lock"


class MergeError(Exception):
    """The merge cannot go on; the message is Vietnamese. Nothing already merged is lost."""


class MergeBusy(MergeError):
    pass


class FolderLock:
    """An OS-level lock on ``store/<lock_name>``: released by the OS even if the process is killed.
    Subclasses name the file, the message when it is taken, and the exceptions raised."""

    lock_name = LOCK_NAME
    error: type[Exception] = MergeError     # the lock file cannot be made
    busy: type[Exception] = MergeBusy       # another run holds it

    def __init__(self, workdir: Path) -> None:
        self.path = workdir / "store" / self.lock_name
        self.fh: Any = None

    def __enter__(self) -> "FolderLock":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fh = open(self.path, "a+")
        except OSError as exc:
            raise self.error(T.text("merge/lock_file", path=self.path, error=exc.strerror or exc)) from None
        try:
            if os.name == "nt":  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(self.fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.fh.close()
            raise self.busy(self.busy_message()) from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fh:
            self.fh.close()

    def busy_message(self) -> str:
        return T.text("merge/busy")


class MergeLock(FolderLock):
    """One merge at a time (``new-round`` takes it too, to move the store away safely)."""
