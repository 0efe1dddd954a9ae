"""The store: a SQLite database and a content-addressed archive in ``store/``.

It remembers every file ever seen (by SHA-256 of its bytes), what was read from it,
the tokens ``generate`` issued, the officer's own columns of the master and any
received-time overrides. The master can be rebuilt from the store alone, and a merge
re-reads only files whose bytes it has not seen before.

Writes happen in one transaction per merge, so a merge killed at any moment leaves
the previous state intact (SQLite's journal), and a rerun completes.

The layout has a version (``PRAGMA user_version``); opening a store written by an older
release upgrades it in place, in one transaction (see :data:`MIGRATIONS`). Stores from
before versions existed read 0 and have layout 1.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from hoacu_xlsx.atomic import temp_name, write_bytes

STORE_DIR = "store"
DB_NAME = "hoacu.sqlite3"
ARCHIVE_DIR = "archive"
SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS issued (
    token TEXT PRIMARY KEY, year INTEGER, unit_id TEXT NOT NULL, file_name TEXT, generated_at TEXT
);
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT PRIMARY KEY,
    name TEXT NOT NULL,          -- as first seen, relative to inbox/
    origin TEXT,                 -- the inbox file it came from (zip/eml containers)
    fmt TEXT,
    size INTEGER,
    first_seen TEXT NOT NULL,    -- ISO time this content was first seen
    first_seen_source TEXT,      -- 'mtime' (file time in inbox/) | 'clock' (the merge's clock), NULL in layout 1
    email_date TEXT,             -- Date header of the email that carried it
    sender TEXT,
    archive TEXT,                -- path relative to store/
    reader_version INTEGER,
    raw BLOB                     -- zlib(JSON) of what the reader got (None when rejected)
);
-- what a merge asks of every file before reading inbox/, answered without the wide rows holding the blobs
CREATE INDEX IF NOT EXISTS files_reader ON files(sha256, reader_version);
CREATE TABLE IF NOT EXISTS sightings (
    sha256 TEXT NOT NULL, name TEXT NOT NULL, seen_at TEXT NOT NULL,
    PRIMARY KEY (sha256, name)
);
CREATE TABLE IF NOT EXISTS received_override (
    sha256 TEXT PRIMARY KEY, received_at TEXT NOT NULL, set_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS officer (
    nomination_id TEXT PRIMARY KEY, values_json TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS officer_files (
    file_id TEXT PRIMARY KEY,    -- sha256[:12], the master's "Mã tệp"
    values_json TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS nomination_links (
    old_id TEXT NOT NULL, new_id TEXT NOT NULL,
    how TEXT NOT NULL,           -- 'auto' (clearly the same nominee) | 'officer' (typed in "Nối với mã điển hình")
    note TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,
    PRIMARY KEY (old_id, new_id)
);
CREATE TABLE IF NOT EXISTS officer_rows (
    sheet TEXT NOT NULL,         -- what the row belongs to: units, problems, edits, layout, sheets
    row_key TEXT NOT NULL, values_json TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (sheet, row_key)
);
CREATE TABLE IF NOT EXISTS checked (
    sha256 TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS materials (
    sha256 TEXT PRIMARY KEY,     -- a write-up or photo kept as replication material (never read)
    name TEXT NOT NULL, origin TEXT, fmt TEXT, size INTEGER,
    first_seen TEXT NOT NULL, first_seen_source TEXT, email_date TEXT, sender TEXT,
    archive TEXT,                -- path relative to store/
    copy TEXT                    -- the officer's copy, relative to master/ (written by merge)
);
CREATE TABLE IF NOT EXISTS inbox_index (
    origin TEXT PRIMARY KEY,     -- an inbox file, relative to inbox/
    stat TEXT NOT NULL,          -- JSON [size, mtime_ns, file id (inode), ctime_ns] when it was last read
    yielded TEXT NOT NULL        -- JSON [[sha256, name, email Date, sender], ...]: what it held (a container: several)
);
CREATE TABLE IF NOT EXISTS copy_stats (
    path TEXT PRIMARY KEY,       -- a material's copy beside the master, relative to master/
    sha256 TEXT NOT NULL,        -- the bytes it held when last hashed
    stat TEXT NOT NULL           -- JSON [size, mtime_ns, file id, ctime_ns] then: unchanged -> not hashed again
);
CREATE TABLE IF NOT EXISTS master_written (
    path TEXT PRIMARY KEY,       -- the master's file name in master/
    size INTEGER NOT NULL, sha256 TEXT NOT NULL, written_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outcomes (
    sha256 TEXT PRIMARY KEY, unit_id TEXT, outcome TEXT, version INTEGER,
    errors INTEGER, warnings INTEGER, merged_at TEXT
);
"""


def pack(value: Any) -> bytes:
    """How the store keeps JSON-able values: compact JSON, deflated (level 1: a merge packs thousands; the
    gain of stronger levels on these small blobs is a few percent of their size for several times the time)."""
    return zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), 1)


def unpack(blob: bytes) -> Any:
    return json.loads(zlib.decompress(blob))


def _now() -> str:
    from hoacu_xlsx.clock import now_vn

    return now_vn().isoformat(timespec="seconds")


def _add_column(conn: sqlite3.Connection, table: str, column: str, decl: str) -> None:
    if column not in {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}:
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")


def _to_v2(conn: sqlite3.Connection) -> None:
    """Layout 1 -> 2: where first-seen times came from; nomination links (the tables are made by SCHEMA)."""
    _add_column(conn, "files", "first_seen_source", "TEXT")


# version reached -> step from the version before it (each step is idempotent)
MIGRATIONS = {2: _to_v2}


@dataclass
class FileRecord:
    sha256: str
    name: str
    origin: str | None
    fmt: str | None
    size: int
    first_seen: str
    email_date: str | None
    sender: str | None
    archive: str | None
    reader_version: int | None
    raw: Any | None = None          # decoded JSON (when adding a file)
    raw_blob: bytes | None = None   # as stored; decoded on demand by load_raw()
    first_seen_source: str | None = None   # 'mtime' | 'clock' | None (stored before layout 2)
    raw_loader: Callable[[], bytes | None] | None = None   # fetches raw_blob when first needed (Store.files)

    def load_raw(self) -> Any | None:
        if self.raw is None and self.raw_blob is None and self.raw_loader is not None:
            self.raw_blob, self.raw_loader = self.raw_loader(), None
        if self.raw is None and self.raw_blob is not None:
            self.raw = unpack(self.raw_blob)
        return self.raw

    @property
    def received_at(self) -> str:
        """Received time used for lateness: the email's Date if known, else first seen."""
        return self.email_date or self.first_seen


@dataclass
class MaterialRecord:
    sha256: str
    name: str
    origin: str | None
    fmt: str
    size: int
    first_seen: str
    first_seen_source: str | None
    email_date: str | None
    sender: str | None
    archive: str | None
    copy: str | None = None


class StoreError(Exception):
    """The store cannot be used; the message is Vietnamese."""


class Store:
    def __init__(self, root: Path, conn: sqlite3.Connection) -> None:
        self.root = root
        self.conn = conn
        self._unsynced: list[Path] = []   # archive copies not yet forced to disk (see sync_archive)
        self._folders: set[Path] = set()  # archive folders known to exist (one mkdir each, not one per file)

    @classmethod
    def open(cls, workdir: Path) -> "Store":
        root = workdir / STORE_DIR
        try:
            root.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(root / DB_NAME, timeout=30, isolation_level=None)
            cls._refuse_newer(conn)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            cls._upgrade(conn)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"Không mở được kho dữ liệu '{root / DB_NAME}': {exc}.") from None
        return cls(root, conn)

    @classmethod
    def in_memory(cls, workdir: Path) -> "Store":
        """An empty store that touches no disk (``status`` before the first merge)."""
        conn = sqlite3.connect(":memory:", isolation_level=None)
        cls._upgrade(conn)
        return cls(workdir / STORE_DIR, conn)

    @staticmethod
    def _refuse_newer(conn: sqlite3.Connection) -> None:
        """A store from a newer release is left exactly as it is (checked before anything is written)."""
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreError(f"Kho dữ liệu được tạo bởi phiên bản hoacu-xlsx mới hơn (cấu trúc {version}, phiên bản "
                             f"này hiểu đến {SCHEMA_VERSION}). Hãy cập nhật hoacu-xlsx; kho không bị thay đổi.")

    @staticmethod
    def _upgrade(conn: sqlite3.Connection) -> None:
        """Create or upgrade the layout to SCHEMA_VERSION in one transaction."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0] or 1
            if version > SCHEMA_VERSION:   # upgraded by a newer release meanwhile
                raise StoreError("Kho dữ liệu vừa được một phiên bản hoacu-xlsx mới hơn nâng cấp; hãy cập nhật "
                                 "hoacu-xlsx.")
            for stmt in SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            for target in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[target](conn)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            conn.close()
            raise

    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    # -- transactions
    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    # -- tokens issued by generate
    def record_issued(self, year: int, rows: Iterable[tuple[str, str, str, str]]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO issued(token, year, unit_id, file_name, generated_at) VALUES (?,?,?,?,?)",
            [(t, year, u, f, g) for t, u, f, g in rows])

    def issued(self) -> dict[str, str]:
        """token -> unit_id"""
        return dict(self.conn.execute("SELECT token, unit_id FROM issued"))

    # -- files
    def known_hashes(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT sha256 FROM files")}

    def reader_versions(self) -> dict[str, int | None]:
        return dict(self.conn.execute("SELECT sha256, reader_version FROM files"))

    def add_file(self, rec: FileRecord) -> None:
        raw = pack(rec.raw) if rec.raw is not None else rec.raw_blob
        self.conn.execute(
            "INSERT OR REPLACE INTO files(sha256,name,origin,fmt,size,first_seen,email_date,sender,archive,"
            "reader_version,raw,first_seen_source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (rec.sha256, rec.name, rec.origin, rec.fmt, rec.size, rec.first_seen, rec.email_date, rec.sender,
             rec.archive, rec.reader_version, raw, rec.first_seen_source))

    def note_sighting(self, sha256: str, name: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO sightings(sha256, name, seen_at) VALUES (?,?,?)",
                          (sha256, name, _now()))

    def sightings(self) -> dict[str, list[str]]:
        """sha256 -> every name the same bytes arrived under."""
        out: dict[str, list[str]] = {}
        for sha, name in self.conn.execute("SELECT sha256, name FROM sightings ORDER BY seen_at, name"):
            out.setdefault(sha, []).append(name)
        return out

    def set_email_info(self, sha256: str, email_date: str | None, sender: str | None) -> None:
        if email_date:
            self.conn.execute("UPDATE files SET email_date=COALESCE(email_date, ?), sender=COALESCE(sender, ?) "
                              "WHERE sha256=?", (email_date, sender, sha256))

    def files(self) -> Iterator[FileRecord]:
        """Every stored file, oldest first; what the reader got is fetched only if asked for (load_raw): a
        merge needs it only for files whose checks must run again."""
        for row in list(self.conn.execute(
                "SELECT sha256,name,origin,fmt,size,first_seen,email_date,sender,archive,reader_version,"
                "first_seen_source FROM files ORDER BY first_seen, name")):
            yield FileRecord(*row[:10], first_seen_source=row[10], raw_loader=functools.partial(self._raw, row[0]))

    def _raw(self, sha256: str) -> bytes | None:
        row = self.conn.execute("SELECT raw FROM files WHERE sha256=?", (sha256,)).fetchone()
        return row[0] if row else None

    # -- archive
    def archive(self, sha256: str, data: bytes, fmt: str | None, sync: bool = True) -> str:
        """Copy the bytes into the content-addressed archive (atomic; idempotent).

        With ``sync=False`` the copy is not forced to disk here: the caller calls :meth:`sync_archive`
        before the ledger that points to it commits (one flush for a whole merge instead of two per file).
        A copy already there is kept only if it holds exactly these bytes (a crash before a flush can leave
        it short or empty)."""
        rel = Path(ARCHIVE_DIR) / sha256[:2] / f"{sha256}.{fmt or 'bin'}"
        dest = self.root / rel
        try:   # rare (a merge stopped before its commit): compare, the bytes are at hand
            whole = dest.stat().st_size == len(data) and dest.read_bytes() == data
        except OSError:
            whole = False
        if not whole:
            if dest.parent not in self._folders:
                dest.parent.mkdir(parents=True, exist_ok=True)
                self._folders.add(dest.parent)
            if sync:   # complete and on disk before it gets its name and before the ledger pointing to it commits
                write_bytes(dest, data)
            else:      # complete before it gets its name; forced to disk by sync_archive() before the commit
                tmp = temp_name(dest)
                with open(tmp, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, dest)
                self._unsynced.append(dest)
        return rel.as_posix()

    def sync_archive(self) -> None:
        """Force the copies written with ``sync=False`` to disk (before the ledger pointing to them commits)."""
        if not self._unsynced:
            return
        if hasattr(os, "sync"):
            os.sync()                      # POSIX: one flush of everything, waited for on Linux
        else:  # pragma: no cover - Windows
            for path in self._unsynced:
                with open(path, "rb+") as fh:
                    os.fsync(fh.fileno())
        self._unsynced.clear()

    def archived_bytes(self, rel: str) -> bytes | None:
        try:
            return (self.root / rel).read_bytes()
        except OSError:
            return None

    # -- links between nomination ids of successive versions (identity.py)
    def links(self) -> list[tuple[str, str, str, str]]:
        """(old_id, new_id, how, note), oldest first."""
        return list(self.conn.execute("SELECT old_id, new_id, how, note FROM nomination_links ORDER BY created_at"))

    def save_link(self, old_id: str, new_id: str, how: str, note: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO nomination_links VALUES (?,?,?,?,?)",
                          (old_id, new_id, how, note, _now()))

    def delete_link(self, old_id: str, new_id: str) -> None:
        self.conn.execute("DELETE FROM nomination_links WHERE old_id=? AND new_id=?", (old_id, new_id))

    # -- received time overrides
    def set_received(self, sha256: str, when: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO received_override VALUES (?,?,?)", (sha256, when, _now()))

    def clear_received(self, sha256: str) -> None:
        self.conn.execute("DELETE FROM received_override WHERE sha256=?", (sha256,))

    def received_overrides(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT sha256, received_at FROM received_override"))

    def find_files(self, needle: str) -> list[tuple[str, str]]:
        """(sha256, name) of stored files whose name or hash matches ``needle``."""
        like = f"%{needle}%"
        return list(self.conn.execute(
            "SELECT sha256, name FROM files WHERE sha256 LIKE ? OR name LIKE ? ORDER BY first_seen",
            (needle + "%", like)))

    # -- officer columns of the master
    def officer_values(self) -> dict[str, dict[str, str]]:
        """Every stored row: keys are "<year>|<nomination id>" (see history.officer_keys), or a bare id when
        written before rounds were told apart."""
        return {k: json.loads(v) for k, v in self.conn.execute("SELECT nomination_id, values_json FROM officer")}

    def officer_values_of_round(self, year: int) -> dict[str, dict[str, str]]:
        """The officer's columns of one round's nominations, by nomination id."""
        prefix = f"{year}|"
        return {k[len(prefix):]: v for k, v in self.officer_values().items() if k.startswith(prefix)}

    def save_officer_values(self, values: dict[str, dict[str, str]]) -> None:
        now = _now()
        self.conn.executemany(
            "INSERT OR REPLACE INTO officer(nomination_id, values_json, updated_at) VALUES (?,?,?)",
            [(k, json.dumps(v, ensure_ascii=False), now) for k, v in values.items()])

    # -- officer columns of the file log (Nhật ký tệp): verdicts on files, keyed by file id (sha256[:12])
    def officer_file_values(self) -> dict[str, dict[str, str]]:
        return {k: json.loads(v) for k, v in self.conn.execute("SELECT file_id, values_json FROM officer_files")}

    def save_officer_file_values(self, values: dict[str, dict[str, str]]) -> None:
        now = _now()
        self.conn.executemany(
            "INSERT OR REPLACE INTO officer_files(file_id, values_json, updated_at) VALUES (?,?,?)",
            [(k, json.dumps(v, ensure_ascii=False), now) for k, v in values.items()])

    # -- the officer's other content of the master: columns added to Đơn vị / Lỗi cần sửa (by unit id /
    #    problem key), the list of hand edits, column layouts and sheets the officer added (JSON)
    def officer_rows(self, sheet: str) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in
                self.conn.execute("SELECT row_key, values_json FROM officer_rows WHERE sheet=?", (sheet,))}

    def officer_rows_as_saved(self, sheet: str) -> list[Any]:
        """The rows of ``sheet`` in the order they were last saved (a replace_all save keeps its order)."""
        return [json.loads(v) for (v,) in
                self.conn.execute("SELECT values_json FROM officer_rows WHERE sheet=? ORDER BY rowid", (sheet,))]

    def save_officer_rows(self, sheet: str, values: dict[str, Any], replace_all: bool = False) -> None:
        """Save rows of ``sheet``; with ``replace_all`` the rows not given are removed (the officer cleared them)."""
        now = _now()
        if replace_all:
            self.conn.execute("DELETE FROM officer_rows WHERE sheet=?", (sheet,))
        self.conn.executemany(
            "INSERT OR REPLACE INTO officer_rows(sheet, row_key, values_json, updated_at) VALUES (?,?,?,?)",
            [(sheet, k, json.dumps(v, ensure_ascii=False), now) for k, v in values.items()])

    # -- replication material (materials.py): kept by content, linked to units and nominations when shown
    def add_material(self, rec: "MaterialRecord") -> bool:
        """Record a material once (by its bytes); False when it was already known (email info filled in)."""
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO materials(sha256,name,origin,fmt,size,first_seen,first_seen_source,email_date,"
            "sender,archive) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (rec.sha256, rec.name, rec.origin, rec.fmt, rec.size, rec.first_seen, rec.first_seen_source,
             rec.email_date, rec.sender, rec.archive))
        if not cur.rowcount and rec.email_date:
            self.conn.execute("UPDATE materials SET email_date=COALESCE(email_date, ?), sender=COALESCE(sender, ?) "
                              "WHERE sha256=?", (rec.email_date, rec.sender, rec.sha256))
        return bool(cur.rowcount)

    def materials(self) -> list["MaterialRecord"]:
        return [MaterialRecord(*row) for row in self.conn.execute(
            "SELECT sha256,name,origin,fmt,size,first_seen,first_seen_source,email_date,sender,archive,copy "
            "FROM materials ORDER BY first_seen, name")]

    def set_material_copy(self, sha256: str, copy: str) -> None:
        self.conn.execute("UPDATE materials SET copy=? WHERE sha256=?", (copy, sha256))

    def copy_stats(self) -> dict[str, tuple[str, tuple[int, ...]]]:
        """Copy path (relative to master/) -> (sha256 of its bytes, its stat key when they were hashed)."""
        return {path: (sha, tuple(json.loads(st))) for path, sha, st in
                self.conn.execute("SELECT path, sha256, stat FROM copy_stats")}

    def save_copy_stats(self, entries: dict[str, tuple[str, tuple[int, ...]]]) -> None:
        """Replace the table with ``entries`` (copies no longer checked drop out)."""
        self.conn.execute("DELETE FROM copy_stats")
        self.conn.executemany("INSERT INTO copy_stats VALUES (?,?,?)",
                              [(path, sha, json.dumps(list(st))) for path, (sha, st) in entries.items()])

    # -- cached validation results (valid while the catalogue, tokens and code version are the same)
    def checked_keys(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT sha256, fingerprint FROM checked"))

    def checked_payload(self, sha256: str) -> bytes:
        return self.conn.execute("SELECT payload FROM checked WHERE sha256=?", (sha256,)).fetchone()[0]

    def save_checked(self, rows: list[tuple[str, str, Any]]) -> None:
        """(sha256, fingerprint, result) rows; a result may come already packed (bytes, from a reading worker)."""
        if not rows:
            return
        self.conn.executemany("INSERT OR REPLACE INTO checked VALUES (?,?,?)",
                              [(sha, fp, p if isinstance(p, bytes) else pack(p)) for sha, fp, p in rows])

    # -- the inbox index: files unchanged since the last merge are not read or hashed again
    def inbox_index(self) -> dict[str, tuple[tuple[int, ...], list[tuple[str, str, str | None, str | None]]]]:
        """origin -> (stat it had when read, [(sha256, name, email Date ISO, sender)] of what it held)."""
        return {o: (tuple(json.loads(st)), [tuple(y) for y in json.loads(yd)])  # type: ignore[misc]
                for o, st, yd in self.conn.execute("SELECT origin, stat, yielded FROM inbox_index")}

    def save_inbox_index(self, entries: dict[str, tuple[tuple[int, ...], list[tuple[Any, ...]]]]) -> None:
        """Replace the index with ``entries`` (files gone from inbox/ drop out)."""
        self.conn.execute("DELETE FROM inbox_index")
        self.conn.executemany("INSERT INTO inbox_index VALUES (?,?,?)",
                              [(o, json.dumps(list(st)), json.dumps(yd, ensure_ascii=False))
                               for o, (st, yd) in entries.items()])

    # -- the master as this tool last wrote it: if the file is still byte for byte that, nobody edited it
    def master_written(self, name: str) -> tuple[int, str] | None:
        row = self.conn.execute("SELECT size, sha256 FROM master_written WHERE path=?", (name,)).fetchone()
        return (row[0], row[1]) if row else None

    def set_master_written(self, name: str, size: int, sha256: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO master_written VALUES (?,?,?,?)", (name, size, sha256, _now()))

    # -- outcomes of the last merge (for status and history)
    def save_outcomes(self, rows: Iterable[tuple[str, str | None, str, int | None, int, int]]) -> None:
        now = _now()
        self.conn.execute("DELETE FROM outcomes")
        self.conn.executemany("INSERT INTO outcomes VALUES (?,?,?,?,?,?,?)", [(*r, now) for r in rows])
