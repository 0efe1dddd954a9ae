"""Saved emails (.eml) in inbox/: Date and From for every attachment, attachments unpacked.

Forwarded emails attached to an email keep their own Date/From. Write-ups and photos
(.docx, .odt, .doc, .pdf, attached .jpg/.png) come out as material; parts that are plainly
neither (logos inside the text, signatures, plain text) are skipped; an email with neither
a workbook nor material gets one message listing what it did hold.
"""

from __future__ import annotations

import email
import unicodedata
from datetime import datetime, timezone
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import PurePosixPath
from typing import Callable, Iterator

from hoacu_xlsx import messages as T
from hoacu_xlsx.intake.incoming import SEP, Ctx, Incoming, ignored, label, refusal, rejected
from hoacu_xlsx.intake.sniff import extension, material_format, sniff
from hoacu_xlsx.problems import Problem

Classify = Callable[[bytes, str, int, Ctx], Iterator[Incoming]]

_SKIP_ATTACH = ("png", "jpg", "jpeg", "gif", "bmp", "p7s", "p7m", "asc", "sig", "vcf", "ics", "htm", "html", "txt")
_WORKBOOK_TYPES = ("application/zip", "application/x-zip-compressed", "application/vnd.ms-excel", "message/rfc822",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   "application/vnd.oasis.opendocument.spreadsheet")


def _header_text(value: str) -> str:
    """RFC 2047 words inside a (quoted) parameter, which mailers send although the RFC forbids it."""
    if "=?" in value:
        try:
            value = str(make_header(decode_header(value)))
        except (ValueError, LookupError, UnicodeError, TypeError):
            pass
    return unicodedata.normalize("NFC", value.replace("\r", "").replace("\n", "").strip())


def _leaf_parts(msg: Message, depth: int = 0) -> Iterator[Message]:
    """Leaf parts and attached messages (not descended into: their own Date/From apply), bounded depth."""
    if msg.get_content_type() == "message/rfc822" and depth:
        yield msg
    elif msg.is_multipart() and depth < 50:
        for sub in msg.iter_parts() if hasattr(msg, "iter_parts") else msg.get_payload():
            yield from _leaf_parts(sub, depth + 1)
    else:
        yield msg


def _date_and_sender(msg: Message, name: str) -> tuple[datetime | None, str | None, list[Problem]]:
    """The email's Date (UTC when it names no zone) and From address; a warning when Date is unreadable."""
    received_at, raw_date, warnings = None, "", []
    try:
        raw_date = str(msg["Date"] or "")
        if raw_date:
            received_at = parsedate_to_datetime(raw_date)
            if received_at.tzinfo is None:      # "-0000": UTC with no local zone known
                received_at = received_at.replace(tzinfo=timezone.utc)
    except (TypeError, ValueError, IndexError, AttributeError):
        received_at = None
        warnings.append(T.problem("bad_date_header", name, name=label(name), date=raw_date[:60]))
    try:
        sender = parseaddr(str(msg["From"] or ""))[1].strip().lower() or None
    except Exception:   # the email package raises many types on hostile headers
        sender = None
    return received_at, sender, warnings


def _file_name(part: Message) -> str:
    try:
        fname = part.get_filename() or part.get_param("name", header="content-type") or ""
    except Exception:   # malformed parameters
        fname = ""
    return _header_text(str(fname))


def _forwarded_bytes(part: Message, name: str, depth: int, ctx: Ctx) -> bytes | None:
    """The bytes of an email attached to the email (None when the email package cannot give them)."""
    inner = part.get_payload()
    inner_msg = inner[0] if isinstance(inner, list) and inner else inner
    if depth + 1 > ctx.limits.max_depth:
        raise refusal("too_deep/email", name, stop=True)
    try:
        return inner_msg.as_bytes() if hasattr(inner_msg, "as_bytes") else bytes(inner_msg)
    except Exception:   # an attached message the email package cannot serialise: nothing to read
        return None


def _material(part: Message, payload: bytes) -> bool:
    """A PDF, or a photo attached as a file (not a logo shown inside the text): kept as replication material."""
    fmt = material_format(payload)
    if fmt == "pdf":
        return True
    disposition = part.get_content_disposition()
    return fmt is not None and (disposition == "attachment" or (disposition is None and "Content-ID" not in part))


def _skipped(base: str, ctype: str, payload: bytes) -> bool:
    """Inline pictures, signatures, plain text: neither a workbook nor material, never worth a message of its own."""
    k = sniff(payload)
    return (extension(base) in _SKIP_ATTACH or ctype.startswith("image/") or k in ("image", "pdf")
            or (k in ("text", "html") and extension(base) not in ("xlsx", "xlsm", "xls", "ods", "zip", "eml")))


def _nothing_found(name: str, winmail: bool, others: list[str]) -> str:
    if winmail:
        return T.text("email_without_workbook/winmail", name=label(name))
    listed = T.reason("email.only", names=", ".join(others[:5])) if others else ""
    return T.text("email_without_workbook", name=label(name), listed=listed)


def from_email(data: bytes, name: str, depth: int, ctx: Ctx, classify: Classify) -> Iterator[Incoming]:
    """Every workbook attached to one email (forwarded emails included)."""
    try:
        msg = email.message_from_bytes(data, policy=policy.default)
    except Exception:   # the email package raises many types on hostile input
        yield rejected(name, ctx, data, T.text("bad_email", name=label(name)), "bad_email")
        return
    received_at, sender, warnings = _date_and_sender(msg, name)
    sub = Ctx(ctx.origin, ctx.limits, ctx.pool, received_at or ctx.received_at, sender or ctx.sender)
    found, others, winmail = False, [], False
    for part in _leaf_parts(msg):
        ctype, fname = part.get_content_type(), _file_name(part)
        if part.get_content_disposition() != "attachment" and not fname and ctype not in _WORKBOOK_TYPES:
            continue
        base = PurePosixPath(fname.replace("\\", "/")).name if fname else ""
        if ctype == "message/rfc822":
            inner = _forwarded_bytes(part, name, depth, ctx)
            if inner is not None:      # read with its own Date/From
                found = True
                yield from from_email(inner, f"{name}{SEP}{base or 'thư chuyển tiếp.eml'}", depth + 1, sub, classify)
            continue
        if base.lower() == "winmail.dat" or ctype == "application/ms-tnef":
            winmail = True
            continue
        try:
            payload = part.get_payload(decode=True) or b""
        except Exception:   # undecodable transfer encoding
            payload = b""
        base = base or f"tệp đính kèm.{ctype.split('/')[-1]}"
        if ignored(base):
            continue
        if not _material(part, payload) and _skipped(base, ctype, payload):
            others.append(base)
            continue
        found = True
        for inc in classify(payload, f"{name}{SEP}{base}", depth + 1, sub):
            inc.problems = [Problem(inc.name, p.message, p.severity, p.code) for p in warnings] + inc.problems
            yield inc
    if not found:
        yield rejected(name, sub, data, _nothing_found(name, winmail, others), "email_without_workbook")
