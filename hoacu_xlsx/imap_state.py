"""What ``fetch`` already took from the mailbox: ``store/fetch.sqlite3``, its own file beside the store.

A message is known by (account, folder, UIDVALIDITY, UID) — the IMAP way to name a message
for good — and also by its Message-ID and size, so the same message seen again under another
folder or after the server renumbered its UIDs is not saved twice. Each saved message is
committed right after its file is in ``inbox/``: a run cut half-way keeps what it saved, and
the next run starts after it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

STATE_RELPATH = Path("store") / "fetch.sqlite3"
SAVED, DUPLICATE, NO_ATTACHMENT = "saved", "duplicate", "no_attachment"
RULES_VERSION = 1   # raise when the "has a useful attachment" rule changes: skipped messages are looked at again

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    account TEXT NOT NULL, folder TEXT NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,
    outcome TEXT NOT NULL, message_id TEXT, size INTEGER, file TEXT, rules INTEGER NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (account, folder, uidvalidity, uid));
CREATE INDEX IF NOT EXISTS messages_mid ON messages (message_id, size);
CREATE TABLE IF NOT EXISTS runs (
    started TEXT NOT NULL, finished TEXT NOT NULL, account TEXT NOT NULL, folder TEXT NOT NULL, ok INTEGER NOT NULL,
    saved INTEGER NOT NULL, skipped INTEGER NOT NULL, too_big INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class LastRun:
    started: datetime
    finished: datetime
    account: str
    folder: str
    ok: bool
    saved: int
    skipped: int
    too_big: int


class FetchState:
    """The small SQLite table of fetched/skipped messages and of runs."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=30)
        # WAL without a sync per commit: a power cut may forget the last few records, and then the same
        # messages are fetched again and found already saved (same name, same bytes): nothing is duplicated
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.db.commit()

    @classmethod
    def open(cls, workdir: Path) -> "FetchState":
        return cls(workdir / STATE_RELPATH)

    def close(self) -> None:
        self.db.close()

    def known_uids(self, account: str, folder: str, uidvalidity: int) -> set[int]:
        """UIDs that need no second look: saved, duplicates, and skipped under the current rules."""
        rows = self.db.execute(
            "SELECT uid FROM messages WHERE account=? AND folder=? AND uidvalidity=? AND (outcome<>? OR rules=?)",
            (account, folder, uidvalidity, NO_ATTACHMENT, RULES_VERSION))
        return {r[0] for r in rows}

    def fetched_uids(self, account: str, folder: str, uidvalidity: int) -> set[int]:
        rows = self.db.execute(
            "SELECT uid FROM messages WHERE account=? AND folder=? AND uidvalidity=? AND outcome IN (?, ?)",
            (account, folder, uidvalidity, SAVED, DUPLICATE))
        return {r[0] for r in rows}

    def file_for(self, message_id: str | None, size: int) -> str | None:
        """The inbox file an identical message (same Message-ID and size) was saved as, if any."""
        if not message_id:
            return None
        row = self.db.execute("SELECT file FROM messages WHERE message_id=? AND size=? AND outcome=? LIMIT 1",
                              (message_id, size, SAVED)).fetchone()
        return row[0] if row else None

    def record(self, account: str, folder: str, uidvalidity: int, uid: int, outcome: str,
               message_id: str | None = None, size: int | None = None, file: str | None = None) -> None:
        """Remember one message, committed at once (a cut run keeps everything recorded so far)."""
        self.db.execute("INSERT OR REPLACE INTO messages VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (account, folder, uidvalidity, uid, outcome, message_id or None, size, file, RULES_VERSION,
                         datetime.now().astimezone().isoformat(timespec="seconds")))
        self.db.commit()

    def record_run(self, started: datetime, account: str, folder: str, ok: bool, saved: int, skipped: int,
                   too_big: int) -> None:
        self.db.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?)",
                        (started.isoformat(timespec="seconds"),
                         datetime.now().astimezone().isoformat(timespec="seconds"), account, folder, int(ok), saved,
                         skipped, too_big))
        self.db.commit()


def last_run(workdir: Path) -> LastRun | None:
    """The latest fetch run, read without creating anything (for ``status``); None when never fetched."""
    path = workdir / STATE_RELPATH
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            row = db.execute("SELECT * FROM runs ORDER BY finished DESC, rowid DESC LIMIT 1").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    if row is None:
        return None
    return LastRun(datetime.fromisoformat(row[0]), datetime.fromisoformat(row[1]), row[2], row[3], bool(row[4]),
                   row[5], row[6], row[7])
