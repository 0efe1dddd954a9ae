"""``fetch``: the officer's mailbox as the inbox — messages with a workbook saved whole as .eml in inbox/.

Safe by default: the folder is opened read-only and bodies are read with ``BODY.PEEK[]``, so
nothing on the server changes (not even the "read" mark) unless ``--danh-dau`` asks to add
the keyword ``$HoacuFetched``; nothing is ever deleted or moved. Whether a message is worth
taking is decided from its BODYSTRUCTURE (attachment names and types) before any body is
downloaded. Bodies come one at a time and go to disk atomically (temporary file, then a
link under the final name, which never replaces an existing file); each saved message is
recorded in ``store/fetch.sqlite3`` at once (see :mod:`hoacu_xlsx.imap_state`), so a run cut
half-way keeps what it saved and the next run fetches only the rest.

IMAPClient (not raw ``imaplib``) parses the FETCH responses, literals, BODYSTRUCTURE,
UIDVALIDITY, and does TLS with a verifying context. The few headers needed to name a file are asked
for as one literal (``BODY.PEEK[HEADER.FIELDS (...)]``), cheaper to parse than an ENVELOPE.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator
from urllib.parse import unquote

from hoacu_xlsx import messages as T
from hoacu_xlsx.imap_settings import ImapConfig
from hoacu_xlsx.imap_state import DUPLICATE, NO_ATTACHMENT, SAVED, FetchState
from hoacu_xlsx.merge_lock import FolderLock

WORKBOOK_EXT = {"xlsx", "xlsm", "xls", "ods"}
WRITEUP_EXT = {"docx", "doc", "pdf", "odt", "jpg", "jpeg", "png"}
USEFUL_EXT = WORKBOOK_EXT | WRITEUP_EXT | {"zip", "eml", "dat"}   # winmail.dat: intake explains it to the officer
USEFUL_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.ms-excel",
    "application/vnd.ms-excel.sheet.macroenabled.12", "application/vnd.oasis.opendocument.spreadsheet",
    "application/zip", "application/x-zip-compressed", "application/ms-tnef", "application/pdf",
    "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
}
FLAG = b"$HoacuFetched"
BATCH = 200                       # UIDs per BODYSTRUCTURE/ENVELOPE request
NAME_PREFIX = "thu_"
_TMP_PREFIX = ".hoacu-fetch-"     # dot files are ignored by intake, so a concurrent merge never reads one
_MAX_DEPTH = 20

Progress = Callable[[int, int], None]   # (messages looked at, messages to look at)


class FetchError(Exception):
    """Fetching cannot go on; the message is Vietnamese. ``report`` says what was saved before it stopped."""

    def __init__(self, message: str, report: "FetchReport | None" = None) -> None:
        super().__init__(message)
        self.report = report


class FetchLock(FolderLock):
    """One fetch at a time in a working folder: a second one would delete the first's half-written files
    (clean_leftovers) and race it for the same messages."""

    lock_name = "fetch.lock"
    error = busy = FetchError

    def busy_message(self) -> str:
        return T.text("fetch/busy")


@dataclass
class Candidate:
    """One new message as its headers and BODYSTRUCTURE describe it (the body is not downloaded yet)."""

    uid: int
    size: int
    message_id: str
    when: datetime | None
    sender: str
    subject: str
    attachments: list[str]

    def label(self) -> str:
        when = f"{self.when:%d/%m/%Y %H:%M}" if self.when else "không rõ ngày"
        return f"{when}, từ {self.sender or 'không rõ người gửi'}, tiêu đề '{self.subject or '(không có tiêu đề)'}'"


@dataclass
class FetchReport:
    """What one run did, as lines the officer reads."""

    config: ImapConfig
    examined: int = 0
    saved: list[Path] = field(default_factory=list)
    duplicates: int = 0
    without_attachment: int = 0
    too_big: list[str] = field(default_factory=list)
    marked: int = 0

    def lines(self) -> list[str]:
        c = self.config
        out = [f"Hộp thư {c.user} trên {c.host}, thư mục '{c.folder}': {self.examined} thư mới được xem."]
        out += [f"  Đã lưu {p.name}" for p in self.saved]
        out.append(f"Đã lưu {len(self.saved)} thư có tệp đính kèm vào {self.saved[0].parent}." if self.saved
                   else "Không có thư mới có tệp đính kèm cần nhận.")
        if self.duplicates:
            out.append(f"{self.duplicates} thư đã nhận trước đây (cùng Message-ID, ở thư mục khác hoặc đã đánh số "
                       "lại) — không lưu lại.")
        if self.without_attachment:
            out.append(f"{self.without_attachment} thư không có tệp đính kèm cần nhận (sổ Excel/LibreOffice, tệp nén, "
                       "bài viết .docx/.pdf/ảnh) — bỏ qua, không tải về.")
        out += self.too_big
        if self.marked:
            out.append(f"Đã gắn nhãn {FLAG.decode()} cho {self.marked} thư đã nhận trên máy chủ.")
        return out


# --------------------------------------------------------------------------- BODYSTRUCTURE


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.decode("latin-1")
    return "" if value is None else str(value)


def _words(value: Any) -> str:
    """RFC 2047 encoded words (subjects, names, and file names mailers send that way) as NFC text."""
    text = _text(value)
    if "=?" in text:
        try:
            text = str(make_header(decode_header(text)))
        except (ValueError, LookupError, UnicodeError, TypeError):
            pass
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _params(raw: Any) -> dict[str, str]:
    """A BODYSTRUCTURE parameter list as a dict, RFC 2231 continuations (``name*0*``) joined and decoded."""
    if not isinstance(raw, (tuple, list)):
        return {}
    pieces: dict[str, list[tuple[int, bool, str]]] = {}
    for i in range(0, len(raw) - 1, 2):
        key, value = _text(raw[i]).lower(), _text(raw[i + 1])
        m = re.fullmatch(r"([^*]+)(?:\*(\d+))?(\*)?", key)
        if m:
            pieces.setdefault(m[1], []).append((int(m[2] or 0), bool(m[3]), value))
    out = {}
    for name, parts in pieces.items():
        text = ""
        for n, encoded, value in sorted(parts):
            if encoded:
                if n == 0 and value.count("'") >= 2:
                    value = value.split("'", 2)[2]
                value = unquote(value, encoding="utf-8", errors="replace")
            text += value
        out[name] = _words(text)
    return out


def _leaves(body: Any, depth: int = 0) -> Iterator[tuple[str, str, str]]:
    """(content type, file name, disposition) of every leaf part, forwarded messages included."""
    if depth > _MAX_DEPTH or not isinstance(body, (tuple, list)) or not body:
        return
    if isinstance(body[0], (tuple, list)):             # multipart: parts..., subtype, ...
        # imapclient nests the top level's parts in a list; inside a forwarded message they stay inline
        parts = body[0] if isinstance(body[0], list) else itertools.takewhile(lambda x: isinstance(x, tuple), body)
        for part in parts:
            yield from _leaves(part, depth + 1)
        return
    ctype = f"{_text(body[0])}/{_text(body[1])}".lower() if len(body) > 1 else ""
    params = _params(body[2]) if len(body) > 2 else {}
    if ctype == "message/rfc822" and len(body) > 8:
        yield ctype, params.get("name", ""), ""
        yield from _leaves(body[8], depth + 1)
        return
    ext_at = 8 if ctype.startswith("text/") else 7     # single part: md5, then (disposition (params))
    disp, fname = "", params.get("name", "")
    if len(body) > ext_at + 1 and isinstance(body[ext_at + 1], (tuple, list)) and body[ext_at + 1]:
        d = body[ext_at + 1]
        disp = _text(d[0]).lower()
        fname = _params(d[1] if len(d) > 1 else None).get("filename", "") or fname
    yield ctype, fname, disp


def _ext(name: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def useful_attachments(body: Any) -> list[str]:
    """Names of the parts worth taking: workbooks, zips, write-ups (documents, PDFs, photos attached).

    Pictures count only when attached, not when shown inside the text (a signature logo).
    """
    found = []
    for ctype, fname, disp in _leaves(body):
        ext = _ext(fname)
        if ctype.startswith("image/") or ext in ("jpg", "jpeg", "png"):
            if disp == "attachment" and (ext in ("jpg", "jpeg", "png") or ctype in ("image/jpeg", "image/png")):
                found.append(fname or ctype)
        elif ext in USEFUL_EXT and (ext != "dat" or fname.lower().endswith("winmail.dat")):
            found.append(fname)
        elif ctype in USEFUL_TYPES:
            found.append(fname or ctype)
    return found


# --------------------------------------------------------------------------- naming and saving


def slug(text: str, limit: int) -> str:
    """ASCII letters, digits, '.', '@' and '-' only (Vietnamese folded: 'Đoàn' -> 'doan'), at most ``limit``."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9.@]+", "-", text).strip("-.")
    return text[:limit].rstrip("-.")


def eml_name(c: Candidate) -> str:
    """``thu_<yyyy-mm-dd_hhmm>_<sender>_<subject>.eml``: sortable by date, recognisable, safe on Windows."""
    when = f"{c.when:%Y-%m-%d_%H%M}" if c.when else "khong-ro-ngay"
    parts = [NAME_PREFIX + when, slug(c.sender, 40) or "khong-ro", slug(c.subject, 50) or "khong-tieu-de"]
    return "_".join(parts) + ".eml"


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def save_message(inbox: Path, name: str, data: bytes, when: datetime | None) -> Path:
    """Write ``data`` under ``name`` (or ``name_2``, ``_3`` … — never over an earlier file), atomically.

    A file already there with the same bytes (a run cut between saving and recording) is reused.
    """
    inbox.mkdir(parents=True, exist_ok=True)
    tmp = inbox / f"{_TMP_PREFIX}{uuid.uuid4().hex}.tmp"
    tmp.write_bytes(data)     # no fsync: it tripled the run time; see the README on power cuts
    if when:
        ts = when.timestamp()
        os.utime(tmp, (ts, ts))
    stem = name[:-4]
    try:
        for n in range(1, 10_000):
            target = inbox / (name if n == 1 else f"{stem}_{n}.eml")
            if _same_bytes(target, data):
                return target
            try:
                os.link(tmp, target)      # fails if target exists: never overwrites
                return target
            except FileExistsError:
                continue
            except OSError:               # no hard links here (some network or FAT drives)
                if target.exists():
                    continue
                os.replace(tmp, target)
                return target
        raise FetchError(f"Không đặt được tên tệp cho thư '{name}' trong {inbox}.")
    finally:
        tmp.unlink(missing_ok=True)


def clean_leftovers(inbox: Path) -> None:
    """Temporary files of a run that was killed while writing."""
    for p in inbox.glob(f"{_TMP_PREFIX}*.tmp"):
        p.unlink(missing_ok=True)


# --------------------------------------------------------------------------- describing messages


HEADERS = "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)]"


def _headers(item: dict[bytes, Any]) -> Message:
    """The few headers asked for, as one literal (far cheaper for imapclient to parse than an ENVELOPE)."""
    raw = next((v for k, v in item.items() if k.startswith(b"BODY[HEADER")), b"") or b""
    return BytesHeaderParser(policy=compat32).parsebytes(raw if isinstance(raw, bytes) else b"")


def _when(value: str) -> datetime | None:
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return dt.astimezone() if dt.tzinfo else dt


def describe(uid: int, item: dict[bytes, Any]) -> Candidate:
    h = _headers(item)
    sender = parseaddr(" ".join(str(h.get("From", "")).split()))[1].strip().lower()
    when = _when(str(h.get("Date", ""))) or item.get(b"INTERNALDATE")
    size = int(item.get(b"RFC822.SIZE") or 0)
    mid = "".join(str(h.get("Message-ID", "")).split())
    return Candidate(uid, size, mid, when, sender, _words(h.get("Subject", "")),
                     useful_attachments(item.get(b"BODYSTRUCTURE")))


def _mb(n: float) -> str:
    return f"{n / 2**20:.1f}".replace(".", ",") + " MB"


# --------------------------------------------------------------------------- the run


def account_of(config: ImapConfig) -> str:
    return f"{config.user.lower()}@{config.host.lower()}"


@dataclass
class _Job:
    """Everything one run needs while it walks the folder."""

    client: Any
    state: FetchState
    config: ImapConfig
    uidvalidity: int
    inbox: Path
    max_bytes: int
    report: FetchReport

    def record(self, c: Candidate, outcome: str, file: str | None = None) -> None:
        self.state.record(account_of(self.config), self.config.folder, self.uidvalidity, c.uid, outcome,
                          c.message_id, c.size, file)

    def take(self, c: Candidate) -> None:
        """Save one message if it has something useful, is new and not too big."""
        r = self.report
        r.examined += 1
        if not c.attachments:
            self.record(c, NO_ATTACHMENT)
            r.without_attachment += 1
            return
        prior = self.state.file_for(c.message_id, c.size)
        if prior:
            self.record(c, DUPLICATE, prior)
            r.duplicates += 1
            return
        if c.size > self.max_bytes:
            r.too_big.append(f"Bỏ qua thư quá lớn ({_mb(c.size)}, giới hạn {_mb(self.max_bytes)}): {c.label()} — lưu "
                             "tay thư hoặc tệp đính kèm vào inbox/, hoặc chạy lại với --toi-da-mb lớn hơn.")
            return
        body = self.client.fetch([c.uid], ["BODY.PEEK[]"]).get(c.uid, {}).get(b"BODY[]")
        if body is None:          # expunged by another client meanwhile: nothing to save
            return
        path = save_message(self.inbox, eml_name(c), body, c.when)
        self.record(c, SAVED, path.name)
        r.saved.append(path)


def _walk(job: _Job, since: date | None, mark: bool, progress: Progress | None) -> None:
    """Look at every new UID in batches (headers and structure only), bodies one at a time."""
    client, cfg = job.client, job.config
    uids = sorted(client.search(["SINCE", since] if since else ["ALL"]))
    known = job.state.known_uids(account_of(cfg), cfg.folder, job.uidvalidity)
    todo = [u for u in uids if u not in known]
    if progress:
        progress(0, len(todo))
    done = 0
    for i in range(0, len(todo), BATCH):
        batch = todo[i:i + BATCH]
        info = client.fetch(batch, [HEADERS, "BODYSTRUCTURE", "RFC822.SIZE", "INTERNALDATE"])
        for uid in batch:
            if uid in info:
                job.take(describe(uid, info[uid]))
            done += 1
            if progress:
                progress(done, len(todo))
    if mark:
        ids = sorted(job.state.fetched_uids(account_of(cfg), cfg.folder, job.uidvalidity) & set(uids))
        for i in range(0, len(ids), BATCH):
            client.add_flags(ids[i:i + BATCH], [FLAG], silent=True)
        job.report.marked = len(ids)


def run(config: ImapConfig, workdir: Path, password: str, *, since: date | None = None,
        max_bytes: int = 25 * 2**20, mark: bool = False, progress: Progress | None = None) -> FetchReport:
    """Fetch the new messages with a useful attachment from ``config.folder`` into ``workdir/inbox``.

    Raises FetchError (Vietnamese) when the mailbox cannot be opened or the connection is
    lost; its ``report`` lists what was saved (and recorded) before that, or when another fetch is
    running in the same folder.
    """
    with FetchLock(workdir):
        return _run_locked(config, workdir, password, since, max_bytes, mark, progress)


def _run_locked(config: ImapConfig, workdir: Path, password: str, since: date | None, max_bytes: int, mark: bool,
                progress: Progress | None) -> FetchReport:
    from hoacu_xlsx import imap_connect as IC

    inbox = workdir / "inbox"
    if inbox.is_dir():
        clean_leftovers(inbox)
    report = FetchReport(config)
    started = datetime.now().astimezone()
    try:
        state = FetchState.open(workdir)
    except (OSError, sqlite3.Error) as exc:
        raise FetchError(f"Không mở được tệp ghi nhớ thư đã nhận '{workdir / 'store'}' "
                         f"({getattr(exc, 'strerror', None) or 'không ghi được'}).") from None
    client, ok = None, False
    try:
        client = IC.open_mailbox(config, password)
        job = _Job(client, state, config, IC.select(client, config, readonly=not mark), inbox, max_bytes, report)
        _walk(job, since, mark, progress)
        ok = True
        return report
    except IC.MailboxError as exc:
        raise FetchError(str(exc), report) from None
    except sqlite3.Error:
        raise FetchError(f"Không ghi được tệp ghi nhớ thư đã nhận '{state.path}' (ổ đĩa đầy hoặc không cho ghi). "
                         f"{_kept(report)}", report) from None
    except IC.NETWORK_ERRORS as exc:
        if isinstance(exc, OSError) and exc.filename:       # the disk, not the network
            raise FetchError(f"Không ghi được tệp '{exc.filename}' ({exc.strerror or 'lỗi ghi đĩa'}). "
                             f"{_kept(report)}", report) from None
        raise FetchError(f"Kết nối tới máy chủ thư {config.host}:{config.port} bị ngắt giữa chừng "
                         f"({IC.network_reason(exc, config)}). {_kept(report)}", report) from None
    finally:
        IC.close(client)
        try:
            state.record_run(started, account_of(config), config.folder, ok, len(report.saved),
                             report.without_attachment, len(report.too_big))
        except sqlite3.Error:
            pass      # only the "last fetched" line of status misses this run
        finally:
            state.close()


def _kept(report: FetchReport) -> str:
    return (f"{len(report.saved)} thư đã lưu trước đó vẫn ở trong inbox/ và đã được ghi nhận; chạy lại lệnh để nhận "
            "tiếp các thư còn lại (thư đã nhận không bị tải lại).")
