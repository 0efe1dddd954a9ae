"""Drafting the round's emails: workbooks out, reminders — as ``.eml`` files the officer sends.

Standard library only (``email``). Nothing is sent here (sending: :mod:`hoacu_xlsx.smtp_send`,
fetching returns from the mailbox: :mod:`hoacu_xlsx.fetch`):

* ``generate --email`` writes ``<workbook>.eml`` beside each unit workbook, and
  ``remind`` writes ``reminders/NhacNho_{year}_{unit}.eml``. Both are complete messages
  (From, To, Subject, Date, Message-ID, UTF-8 text and HTML body, the workbook attached
  with its Vietnamese name encoded per RFC 2231 as ``filename*=utf-8''…``).
* ``X-Unsent: 1`` makes Outlook open the file as a draft ready to send. Thunderbird
  opens any ``.eml`` read-only: the officer chooses "Edit As New Message" ("Sửa như thư
  mới") there, then Send.
* ``send`` / ``remind --send`` deliver the same files through the SMTP server of the
  catalogue's ``[smtp]`` table — a dry run unless ``--gui-that`` is given. The password
  comes from ``HOACU_SMTP_PASSWORD`` or a prompt the caller supplies; it is never stored.

"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import date, datetime
from email import policy
from email.errors import HeaderParseError
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from hoacu_xlsx.catalogue import Catalogue, Unit

if TYPE_CHECKING:  # imported lazily at run time: mail must not pull in the merge machinery
    from hoacu_xlsx.builder import Built
    from hoacu_xlsx.picture import Picture

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
REMINDER_DIR = "reminders"
REMINDER_PREFIX = "NhacNho"
MAX_PROBLEMS_LISTED = 5          # a reminder quotes the first few; the feedback workbook has them all
_FILENAME_BAD = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')   # not allowed in Windows file names
_ADDRESS_SPLIT = re.compile(r"[;,]")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _safe_filename(name: str) -> str:
    """A file name every mail client and Windows can save: forbidden characters become '-'."""
    return _nfc(_FILENAME_BAD.sub("-", name)).strip(" .") or "tep.xlsx"


def attachment_name(catalogue: Catalogue, unit: Unit) -> str:
    """The Vietnamese file name the unit sees (sent RFC 2231-encoded)."""
    return _safe_filename(f"Đề xuất điển hình {catalogue.year} - {unit.name}.xlsx")


def feedback_attachment_name(catalogue: Catalogue, unit: Unit) -> str:
    return _safe_filename(f"Phản hồi đề xuất điển hình {catalogue.year} - {unit.name}.xlsx")


# --------------------------------------------------------------------------- addresses


def parse_addresses(text: str, display_name: str = "") -> list[Address]:
    """Addresses from a catalogue field ('a@x.vn; b@x.vn' allowed); ValueError when one is not an address.

    Address objects, not formatted strings, so a unit name with a comma or quotes cannot
    break the header.
    """
    out = []
    for part in _ADDRESS_SPLIT.split(text or ""):
        part = part.strip()
        if not part:
            continue
        if part.count("@") != 1 or any(c.isspace() for c in part):
            raise ValueError(part)
        local, domain = part.split("@")
        if not local or "." not in domain:
            raise ValueError(part)
        try:
            out.append(Address(display_name=_nfc(display_name), addr_spec=part))
        except (ValueError, IndexError, HeaderParseError):
            raise ValueError(part) from None
    return out


def _sender(catalogue: Catalogue) -> list[Address]:
    r = catalogue.receiver
    try:
        return parse_addresses(r.email, r.name or r.title)[:1]
    except ValueError:
        return []


# --------------------------------------------------------------------------- building messages


def _html(body: str) -> str:
    paras = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>\n" for p in body.strip().split("\n\n"))
    return ('<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"></head>\n'
            f'<body style="font-family: Arial, sans-serif; font-size: 11pt">\n{paras}</body></html>\n')


def _words(text: str, header_name: str) -> str:
    """``text`` as RFC 2047 encoded words folded at 76 columns, or as is when it is short ASCII.

    Done here rather than left to ``policy.SMTP``: Python's folder (3.11) drops the space
    between two encoded words when it folds at a space, so a long subject would reach the
    unit as "…Ban Tuyên giáoĐảng ủy xã". ``Header`` keeps spaces inside the encoded text.
    """
    text = _nfc(text)
    if text.isascii() and len(text) + len(header_name) + 2 <= 78:
        return text
    return Header(text, "utf-8", header_name=header_name).encode(linesep="\n", maxlinelen=76)


def _address_header(addresses: list[Address], header_name: str) -> str:
    """Pre-folded address list: each display name encoded, each <addr> on its own line."""
    parts = []
    for a in addresses:
        if not a.display_name:
            parts.append(a.addr_spec)
            continue
        name = a.display_name
        if name.isascii():
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
            parts.append(f"{name}\n <{a.addr_spec}>")
        else:
            parts.append(f"{_words(name, header_name)}\n <{a.addr_spec}>")
    return ",\n ".join(parts)


def _message(catalogue: Catalogue, to: list[Address], subject: str, body: str,
             now: datetime | None = None) -> EmailMessage:
    """A draft: UTF-8 text with an HTML alternative, dated, with a Message-ID and ``X-Unsent: 1``."""
    msg = EmailMessage(policy=policy.SMTP)
    sender = _sender(catalogue)
    if sender:
        msg.set_raw("From", _address_header(sender, "From"))
    if to:
        msg.set_raw("To", _address_header(to, "To"))
    msg.set_raw("Subject", _words(subject, "Subject"))
    msg["Date"] = format_datetime((now or datetime.now()).astimezone())
    domain = sender[0].domain if sender else "hoacu-xlsx.invalid"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["X-Unsent"] = "1"
    body = _nfc(body)
    msg.set_content(body, charset="utf-8", cte="quoted-printable")
    msg.add_alternative(_html(body), subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def _attach(msg: EmailMessage, data: bytes, filename: str) -> None:
    """The workbook with its MIME type and Vietnamese name (RFC 2231: ``filename*=utf-8''…``).

    No ``name=`` on Content-Type: Python's folder then mangles the long subtype into an
    encoded word, which no client reads. A long name is split into RFC 2231 continuations
    (``filename*0*=utf-8''…; filename*1*=…``), which Outlook, Thunderbird and webmail join.
    """
    msg.add_attachment(data, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=filename)


def _signature(c: Catalogue) -> str:
    r = c.receiver
    lines = [r.title + (f" – {r.name}" if r.name else ""), c.issuer]
    lines += [x for x in (r.phone and f"Điện thoại: {r.phone}", r.email and f"Thư điện tử: {r.email}") if x]
    return "\n".join(lines)


def _send_back_to(c: Catalogue) -> str:
    r = c.receiver
    who = r.title + (f" ({r.name})" if r.name else "")
    where = f", theo địa chỉ {r.email}" if r.email else " (trả lời thư này)"
    return f"{c.issuer}, qua {who}{where}"


def _dispatch(c: Catalogue) -> str:
    return c.dispatch or f"công văn của {c.issuer} về {c.round_title[:1].lower() + c.round_title[1:]}"


def draft_for(catalogue: Catalogue, unit: Unit, workbook: Path, *, now: datetime | None = None) -> EmailMessage:
    """The message that sends a unit its nomination workbook."""
    c = catalogue
    items = "\n".join(f"  - Mục {a.item}: {a.title}" for a in c.assignments_of(unit.id))
    subject = f"[{c.issuer}] Đề xuất điển hình tiên tiến năm {c.year} – {unit.name} (hạn {c.deadline:%d/%m/%Y})"
    body = (
        f"Kính gửi: {unit.name}\n\n"
        f"Thực hiện {_dispatch(c)}, đề nghị đơn vị xem xét lựa chọn, xây dựng và nhân rộng ít nhất 01 điển "
        f"hình tiên tiến (tập thể, cá nhân hoặc hộ gia đình) trong nhiệm vụ được giao:\n{items}\n\n"
        "Cách thực hiện:\n"
        "  1. Mở tệp Excel đính kèm (Microsoft Excel, LibreOffice Calc hoặc WPS; không cần macro).\n"
        "  2. Đọc trang 'Hướng dẫn': tiêu chuẩn trích nguyên văn công văn.\n"
        "  3. Điền danh sách điển hình ở trang 'Mục …', mỗi điển hình một dòng; các ô có mũi tên thì chọn trong "
        "danh sách. Ô 'Tình trạng' phía trên bảng cho biết đã đủ thông tin chưa.\n"
        "  4. Lưu tệp (giữ định dạng .xlsx, không đổi tên trang, không chèn, xóa cột) và gửi lại dưới dạng tệp "
        "đính kèm.\n\n"
        f"Hạn gửi: trước ngày {c.deadline:%d/%m/%Y}.\n"
        f"Gửi về: {_send_back_to(c)}.\n\n"
        f"Trân trọng.\n\n{_signature(c)}\n"
    )
    try:
        to = parse_addresses(unit.email, unit.name)
    except ValueError:
        to = []
    msg = _message(c, to, subject, body, now)
    _attach(msg, workbook.read_bytes(), attachment_name(c, unit))
    return msg


def _write(path: Path, msg: EmailMessage) -> Path:
    """Write atomically: a half-written .eml must never be sent or opened."""
    from hoacu_xlsx.atomic import write_bytes

    write_bytes(path, msg.as_bytes(policy=policy.SMTP))
    return path


def address_problem(unit: Unit) -> str | None:
    """Why a unit's draft has no usable To address, or None when it has one."""
    if not unit.email.strip():
        return unit.name
    try:
        parse_addresses(unit.email)
    except ValueError as exc:
        return f"{unit.name} (địa chỉ không hợp lệ: '{exc}')"
    return None


def write_drafts(catalogue: Catalogue, built: Iterable[Built], *,
                 now: datetime | None = None) -> tuple[list[Path], list[str]]:
    """One ``<workbook stem>.eml`` draft beside each unit workbook.

    Returns (drafts written, units "chưa có địa chỉ thư"). A unit without a usable address
    still gets its draft, so the officer can type the address in the mail client.
    """
    drafts, missing = [], []
    for b in built:
        drafts.append(_write(b.path.with_suffix(".eml"), draft_for(catalogue, b.unit, b.path, now=now)))
        problem = address_problem(b.unit)
        if problem:
            missing.append(problem)
    return drafts, missing


# --------------------------------------------------------------------------- reminders


def when_text(days_left: int, deadline: date) -> str:
    """The deadline as the reminder words it: còn N ngày / hôm nay là hạn cuối / đã quá hạn N ngày."""
    d = f"{deadline:%d/%m/%Y}"
    if days_left > 0:
        return f"Hạn gửi là ngày {d}: còn {days_left} ngày."
    if days_left == 0:
        return f"Hôm nay ({d}) là hạn cuối: đề nghị đơn vị gửi ngay trong ngày."
    return f"Hạn gửi là ngày {d}: đã quá hạn {-days_left} ngày. Đề nghị đơn vị gửi ngay."


def reminder_name(year: int, unit_id: str) -> str:
    return f"{REMINDER_PREFIX}_{year}_{unit_id}.eml"


def _problem_lines(picture: Picture, unit_id: str) -> tuple[int, list[str]]:
    """(number of errors, first few problems worded for the unit) — errors first, then warnings."""
    mine = [p for p in picture.problems if p.unit_id == unit_id]
    errors = [p for p in mine if p.is_error]
    shown = (errors + [p for p in mine if not p.is_error])[:MAX_PROBLEMS_LISTED]
    lines = []
    for p in shown:
        where = " › ".join(x for x in (p.sheet and f"trang '{p.sheet}'", p.cell and f"ô {p.cell}") if x)
        lines.append(f"  - {where + ': ' if where else ''}{p.message}")
    return len(errors), lines


def reminder_for(catalogue: Catalogue, picture: Picture, status, feedback_dir: Path,
                 outbox: Path | None = None, *, now: datetime | None = None) -> EmailMessage:
    """The reminder of one unit: not submitted, or submitted with problems (feedback attached)."""
    from hoacu_xlsx import picture as P
    from hoacu_xlsx.builder import file_name
    from hoacu_xlsx.feedback import feedback_name

    c, unit = catalogue, status.unit
    when = when_text(picture.days_left, c.deadline)
    attach: tuple[Path, str] | None = None
    if status.status == P.NOT_SUBMITTED:
        subject = f"[{c.issuer}] Nhắc gửi đề xuất điển hình tiên tiến năm {c.year} – {unit.name}"
        detail = (f"Thực hiện {_dispatch(c)}, đến nay {c.issuer} chưa nhận được sổ đề xuất điển hình tiên tiến "
                  "của đơn vị. Đề nghị đơn vị điền sổ đề xuất đã được gửi kèm thư trước")
        blank = outbox / file_name(unit, c.year) if outbox else None
        if blank and blank.is_file():
            attach = (blank, attachment_name(c, unit))
            detail += " (gửi lại kèm theo thư này)"
        detail += " và gửi lại."
    else:
        n_errors, lines = _problem_lines(picture, unit.id)
        errors = max(n_errors, status.errors)
        subject = f"[{c.issuer}] Đề nghị sửa sổ đề xuất điển hình tiên tiến năm {c.year} – {unit.name}"
        parts = [f"{c.issuer} đã nhận sổ đề xuất của đơn vị ({status.latest_file})"]
        if errors:
            parts.append(f", nhưng sổ còn {errors} lỗi cần sửa")
        if status.nominations == 0:
            parts.append(", và chưa có điển hình nào hợp lệ (cần ít nhất 01)" if errors
                         else ", nhưng chưa có điển hình nào hợp lệ (cần ít nhất 01)")
        detail = "".join(parts) + "."
        if lines:
            shown = f"{len(lines)} vấn đề đầu tiên" if len(lines) > 1 else "vấn đề"
            detail += f"\n\nCụ thể ({shown}):\n" + "\n".join(lines)
        fb = feedback_dir / feedback_name(c.year, unit.id)
        if fb.is_file():
            attach = (fb, feedback_attachment_name(c, unit))
            detail += ("\n\nTệp đính kèm là bản sao sổ của đơn vị: các ô cần sửa được tô màu và có ghi chú, trang "
                       "tóm tắt ở đầu sổ liệt kê đầy đủ. Đề nghị đơn vị sửa trong sổ của mình rồi gửi lại.")
        else:
            detail += "\n\nĐề nghị đơn vị sửa trong sổ của mình rồi gửi lại."
    body = (f"Kính gửi: {unit.name}\n\n{detail}\n\n{when}\n"
            f"Gửi về: {_send_back_to(c)}.\n\nTrân trọng.\n\n{_signature(c)}\n")
    try:
        to = parse_addresses(unit.email, unit.name)
    except ValueError:
        to = []
    msg = _message(c, to, subject, body, now)
    if attach:
        _attach(msg, attach[0].read_bytes(), attach[1])
    return msg


def write_reminders(catalogue: Catalogue, picture: Picture, outdir: Path, feedback_dir: Path,
                    now: datetime | None = None, *, outbox: Path | None = None) -> list[Path]:
    """``NhacNho_{year}_{unit}.eml`` for each unit not submitted or with problems (``SUBMITTED_ERRORS``).

    The wording follows ``picture.days_left`` (the picture's own ``now``, which ``remind
    --now`` sets); ``now`` only dates the messages (default: the real time — sending
    re-dates them anyway). With ``outbox``, a unit that has not submitted gets its blank workbook again.
    Reminders left from an earlier run for units that are now fine are removed, so that
    ``send reminders/*.eml`` never nags a unit that has already done its part.
    """
    from hoacu_xlsx import picture as P

    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for st in picture.units:
        if st.status not in (P.NOT_SUBMITTED, P.SUBMITTED_ERRORS):
            continue
        msg = reminder_for(catalogue, picture, st, feedback_dir, outbox, now=now)
        written.append(_write(outdir / reminder_name(catalogue.year, st.unit.id), msg))
    keep = {p.name for p in written}
    for old in outdir.glob(f"{REMINDER_PREFIX}_{catalogue.year}_*.eml"):
        if old.name not in keep:
            old.unlink(missing_ok=True)
    return written
