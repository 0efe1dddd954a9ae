"""Copies of the previous master in ``master/ban_cu/``, made just before it is replaced.

A backup is a hard link to the old master's bytes (instant, and atomic: the name
appears only for a complete file); where links are not possible (FAT drives, some
network shares) it is a copy written through :mod:`hoacu_xlsx.atomic`. The newest
``KEEP`` backups are kept; leftovers of a killed copy (hidden ``.tmp`` files) are
removed the next time.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

from hoacu_xlsx.atomic import remove_quietly, write_atomically

BACKUP_DIR = "ban_cu"
KEEP = 20


def backup_dir(master: Path) -> Path:
    return master.parent / BACKUP_DIR


def backups(master: Path) -> list[Path]:
    """This master's backups, oldest first (the name carries the time)."""
    folder = backup_dir(master)
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob(f"{master.stem}_*{master.suffix}") if not p.name.startswith(".")]
    return sorted(found, key=_order)


def _order(p: Path) -> tuple[str, int]:
    """<stem>_<yyyymmdd-hhmmss>[-n]: by time, then by n (a second backup in the same second)."""
    parts = p.stem.rsplit("_", 1)[-1].split("-")
    return "-".join(parts[:2]), int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 1


def backup_master(master: Path, now: datetime) -> Path | None:
    """Keep the current master under ``ban_cu/<stem>_<yyyymmdd-hhmmss>.xlsx``; None when there is none."""
    if not master.is_file():
        return None
    folder = backup_dir(master)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".*.tmp"):
        remove_quietly(stale)
    stamp = now.strftime("%Y%m%d-%H%M%S")
    dest = folder / f"{master.stem}_{stamp}{master.suffix}"
    n = 1
    while dest.exists():
        n += 1
        dest = folder / f"{master.stem}_{stamp}-{n}{master.suffix}"
    try:
        os.link(master, dest)
    except OSError:
        write_atomically(dest, lambda tmp: shutil.copyfile(master, tmp))
    return dest


def prune(master: Path, keep: int = KEEP) -> None:
    """Remove all but the newest ``keep`` backups."""
    old = backups(master)
    for p in old[:max(len(old) - keep, 0)]:
        remove_quietly(p)
