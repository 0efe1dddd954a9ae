"""The email round trip: drafts out, reminders, and sending through SMTP when asked.

Standard library only (``email``, ``smtplib``). Nothing is sent unless the officer
asks: ``generate --email`` and ``remind`` write ``.eml`` drafts (``X-Unsent: 1`` makes
Outlook open them as drafts; in Thunderbird use "Sửa như thư mới" / Edit As New
Message), and ``send`` is a dry run unless ``--gui-that`` is given. The SMTP password
comes from the ``HOACU_SMTP_PASSWORD`` environment variable or a prompt, never a file.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tomllib
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Callable, Iterable

from hoacu_xlsx.catalogue import Catalogue, Unit

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
PASSWORD_ENV = "HOACU_SMTP_PASSWORD"
REMINDER_DIR = "reminders"


def attachment_name(catalogue: Catalogue, unit: Unit) -> str:
    """The Vietnamese file name the unit sees (sent RFC 2231-encoded)."""
    return f"Đề xuất điển hình {catalogue.year} - {unit.name}.xlsx".replace("/", "-")


def _message(catalogue: Catalogue, unit: Unit, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage(policy=policy.SMTP)
    r = catalogue.receiver
    if r.email:
        msg["From"] = f"{r.title} <{r.email}>" if not r.name else f"{r.name} <{r.email}>"
    if unit.email:
        msg["To"] = f"{unit.name} <{unit.email}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = make_msgid(domain="hoacu-xlsx.local")
    msg["X-Unsent"] = "1"
    msg.set_content(body, charset="utf-8")
    return msg


def _signature(c: Catalogue) -> str:
    r = c.receiver
    lines = [r.title + (f" – {r.name}" if r.name else ""), c.issuer]
    lines += [x for x in (r.phone and f"Điện thoại: {r.phone}", r.email and f"Thư điện tử: {r.email}") if x]
    return "\n".join(lines)


def draft_for(catalogue: Catalogue, unit: Unit, workbook: Path) -> EmailMessage:
    c = catalogue
    items = ", ".join(f"Mục {a.item} ({a.title})" for a in c.assignments_of(unit.id))
    subject = f"[{c.issuer}] Đề xuất điển hình tiên tiến năm {c.year} – {unit.name} (hạn {c.deadline:%d/%m/%Y})"
    body = (
        f"Kính gửi: {unit.name}\n\n"
        f"Thực hiện {c.dispatch or 'công văn của ' + c.issuer}, đề nghị đơn vị xem xét lựa chọn, xây dựng và nhân "
        f"rộng ít nhất 01 điển hình tiên tiến trong nhiệm vụ được giao: {items}.\n\n"
        "Đơn vị mở tệp Excel đính kèm, đọc trang 'Hướng dẫn' (tiêu chuẩn trích nguyên văn công văn), điền danh sách "
        "điển hình ở trang 'Mục …' (mỗi điển hình một dòng, chọn trong các ô có danh sách), lưu tệp và gửi lại bằng "
        "cách trả lời thư này, giữ nguyên tệp đính kèm (không đổi tên trang, không chèn, xóa cột).\n\n"
        f"Hạn gửi: trước ngày {c.deadline:%d/%m/%Y}, về {c.issuer} (qua {c.receiver.title}).\n\n"
        f"Trân trọng.\n\n{_signature(c)}\n"
    )
    msg = _message(c, unit, subject, body)
    msg.add_attachment(workbook.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1],
                       filename=attachment_name(c, unit))
    return msg


def _write(path: Path, msg: EmailMessage) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(msg.as_bytes(policy=policy.SMTP))
    os.replace(tmp, path)
    return path


def write_drafts(catalogue: Catalogue, built: Iterable) -> tuple[list[Path], list[str]]:
    """One ``.eml`` draft beside each unit workbook; returns (drafts, units without an address)."""
    drafts, missing = [], []
    for b in built:
        drafts.append(_write(b.path.with_suffix(".eml"), draft_for(catalogue, b.unit, b.path)))
        if not b.unit.email:
            missing.append(b.unit.name)
    return drafts, missing


def _when_text(days_left: int, deadline: datetime | object) -> str:
    if days_left > 0:
        return f"còn {days_left} ngày nữa là hết hạn ({deadline:%d/%m/%Y})"
    if days_left == 0:
        return f"hôm nay ({deadline:%d/%m/%Y}) là hạn cuối"
    return f"đã quá hạn {-days_left} ngày (hạn {deadline:%d/%m/%Y})"


def write_reminders(catalogue: Catalogue, picture, outdir: Path, feedback_dir: Path) -> list[Path]:
    """Reminder drafts for units that have not submitted or whose files have errors."""
    from hoacu_xlsx import picture as P
    from hoacu_xlsx.feedback import feedback_name

    c = catalogue
    outdir.mkdir(parents=True, exist_ok=True)
    when = _when_text(picture.days_left, c.deadline)
    written = []
    for st in picture.units:
        if st.status not in (P.NOT_SUBMITTED, P.SUBMITTED_ERRORS):
            continue
        if st.status == P.NOT_SUBMITTED:
            subject = f"[{c.issuer}] Nhắc gửi đề xuất điển hình tiên tiến năm {c.year} – {st.unit.name}"
            detail = ("Đến nay UBND xã chưa nhận được sổ đề xuất điển hình tiên tiến của đơn vị. Đề nghị đơn vị "
                      "hoàn thành và gửi lại sổ đã được gửi kèm thư trước.")
        else:
            probs = [p for p in picture.problems if p.unit_id == st.unit.id and p.is_error][:8]
            subject = f"[{c.issuer}] Đề nghị sửa sổ đề xuất điển hình tiên tiến năm {c.year} – {st.unit.name}"
            lines = "\n".join(f"  - {p.where()}: {p.message}" for p in probs)
            detail = (f"Sổ đề xuất đơn vị gửi ({st.latest_file}) còn {st.errors} lỗi cần sửa, ví dụ:\n{lines}\n\n"
                      "Tệp đính kèm là bản sao sổ của đơn vị, các ô cần sửa đã được tô màu và có ghi chú; trang "
                      "'Cần sửa' liệt kê đầy đủ. Đề nghị đơn vị sửa trong sổ của mình rồi gửi lại.")
        body = (f"Kính gửi: {st.unit.name}\n\n{detail}\n\nThời hạn: {when}.\n\nTrân trọng.\n\n{_signature(c)}\n")
        msg = _message(c, st.unit, subject, body)
        fb = feedback_dir / feedback_name(c.year, st.unit.id)
        if st.status == P.SUBMITTED_ERRORS and fb.exists():
            msg.add_attachment(fb.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1],
                               filename=f"Phản hồi đề xuất điển hình {c.year} - {st.unit.name}.xlsx")
        written.append(_write(outdir / f"NhacNho_{c.year}_{st.unit.id}.eml", msg))
    return written


# --------------------------------------------------------------------------- SMTP


class MailError(Exception):
    """Sending cannot go on; the message is Vietnamese."""


@dataclass
class SmtpConfig:
    host: str
    port: int = 587
    security: str = "starttls"   # starttls | ssl | none
    user: str = ""
    from_addr: str = ""

    @classmethod
    def from_catalogue_file(cls, path: Path) -> "SmtpConfig":
        """The optional ``[smtp]`` table of the catalogue TOML (host, port, security, user, from)."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise MailError(f"Không đọc được cấu hình thư trong '{path}': {exc}.") from None
        smtp = data.get("smtp")
        if not isinstance(smtp, dict) or not smtp.get("host"):
            raise MailError(f"Chưa cấu hình máy chủ gửi thư: thêm bảng [smtp] (host, port, security, user, from) vào "
                            f"'{path}'.")
        security = str(smtp.get("security", "starttls")).lower()
        if security not in ("starttls", "ssl", "none"):
            raise MailError("Trường 'security' của [smtp] phải là starttls, ssl hoặc none.")
        return cls(str(smtp["host"]), int(smtp.get("port", 465 if security == "ssl" else 587)), security,
                   str(smtp.get("user", "")), str(smtp.get("from", "")))


def send_drafts(paths: list[Path], config: SmtpConfig, *, dry_run: bool = True,
                password: Callable[[], str] | None = None) -> list[str]:
    """Send .eml drafts through SMTP (dry run by default); returns Vietnamese report lines."""
    lines: list[str] = []
    msgs = []
    for p in paths:
        msg = BytesParser(policy=policy.SMTP).parsebytes(p.read_bytes())
        if not msg["To"]:
            lines.append(f"Bỏ qua {p.name}: thư chưa có địa chỉ người nhận (điền 'email' của đơn vị trong danh mục).")
            continue
        del msg["X-Unsent"]
        if config.from_addr and not msg["From"]:
            msg["From"] = config.from_addr
        if not msg["From"]:
            lines.append(f"Bỏ qua {p.name}: thiếu địa chỉ người gửi (điền [smtp] from hoặc receiver.email).")
            continue
        msgs.append((p, msg))
    if dry_run:
        lines += [f"(chạy thử) Sẽ gửi {p.name} tới {m['To']}" for p, m in msgs]
        lines.append(f"Chạy thử: chưa gửi thư nào ({len(msgs)} thư sẵn sàng). Thêm --gui-that để gửi thật.")
        return lines
    secret = os.environ.get(PASSWORD_ENV) or (password() if password and config.user else "")
    try:
        if config.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=30,
                                                     context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(config.host, config.port, timeout=30)
            if config.security == "starttls":
                server.starttls(context=ssl.create_default_context())
        with server:
            if config.user:
                server.login(config.user, secret)
            for p, m in msgs:
                server.send_message(m)
                lines.append(f"Đã gửi {p.name} tới {m['To']}")
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"Gửi thư qua {config.host}:{config.port} không được ({exc}). Những thư đã gửi: "
                        f"{sum(1 for x in lines if x.startswith('Đã gửi'))}.") from None
    return lines
