"""One merge at a time in a working folder: an OS-level lock on ``store/merge.lock``.

The OS releases it even when the process is killed, so a crashed merge never blocks the next one.
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
            raise MergeError(T.text("merge/lock_file", path=self.path, error=exc.strerror or exc)) from None
        try:
            if os.name == "nt":  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(self.fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.fh.close()
            raise MergeBusy(T.text("merge/busy")) from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fh:
            self.fh.close()
