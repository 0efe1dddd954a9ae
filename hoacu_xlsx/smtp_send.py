"""Sending the drafts through the officer's SMTP server (``send``, ``remind --send``).

Standard library only (``smtplib``, ``ssl``). A dry run unless the officer asks
(``--gui-that``); the password comes from ``HOACU_SMTP_PASSWORD`` or a prompt the caller
supplies and is never stored. Every failure is a :class:`MailError` in Vietnamese.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.errors import HeaderParseError
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from hoacu_xlsx.mail import parse_addresses

if TYPE_CHECKING:
    from hoacu_xlsx.catalogue import Catalogue

PASSWORD_ENV = "HOACU_SMTP_PASSWORD"

class MailError(Exception):
    """Sending cannot go on; the message is Vietnamese."""


SECURITIES = ("starttls", "ssl", "none")


@dataclass
class SmtpConfig:
    """The officer's SMTP server; the password is deliberately not a field."""

    host: str
    port: int = 587
    security: str = "starttls"   # starttls | ssl | none
    user: str = ""
    from_addr: str = ""
    cafile: str = ""             # extra CA certificate(s) to trust, e.g. a commune server's own
    timeout: float = 30.0

    def ssl_context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.cafile or None)
        except (OSError, ssl.SSLError) as exc:
            raise MailError(f"Không đọc được tệp chứng chỉ '{self.cafile}' ([smtp] cafile): {exc}.") from None

    @classmethod
    def from_catalogue(cls, catalogue: "Catalogue") -> "SmtpConfig":
        """The catalogue's optional SMTP settings (TOML ``[smtp]`` or the catalogue workbook)."""
        smtp = catalogue.settings.get("smtp")
        if not smtp or not smtp.get("host"):
            raise MailError("Chưa cấu hình máy chủ gửi thư (SMTP). Chạy 'hoacu-xlsx init' để có danh mục danh_muc.xlsx "
                            "trong thư mục làm việc, rồi điền các dòng 'Gửi thư (SMTP)' ở trang 'Đợt' (hoặc bảng [smtp] "
                            "nếu dùng danh_muc.toml).")
        return cls.from_table(smtp, catalogue.source or "danh mục")

    @classmethod
    def from_table(cls, smtp: object, source: str = "danh mục") -> "SmtpConfig":
        def bad(key: str, what: str) -> MailError:
            return MailError(f"Tệp '{source}': trường '{key}' của bảng [smtp] {what}.")

        if not isinstance(smtp, dict):
            raise MailError(f"Tệp '{source}': [smtp] phải là một bảng (table).")
        for key in ("host", "security", "user", "from", "cafile"):
            if key in smtp and not isinstance(smtp[key], str):
                raise bad(key, f"phải là chuỗi, đang là {smtp[key]!r}")
        host = smtp.get("host", "").strip()
        if not host:
            raise bad("host", "không được để trống")
        security = smtp.get("security", "starttls").strip().lower()
        if security not in SECURITIES:
            raise bad("security", f"phải là starttls, ssl hoặc none (đang là '{security}')")
        port = smtp.get("port", 465 if security == "ssl" else 587)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise bad("port", f"phải là số cổng từ 1 đến 65535, đang là {port!r}")
        from_addr = smtp.get("from", "").strip()
        if from_addr:
            try:
                parse_addresses(from_addr)
            except ValueError:
                raise bad("from", f"không phải địa chỉ thư hợp lệ ('{from_addr}')") from None
        timeout = smtp.get("timeout", 30)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise bad("timeout", "phải là số giây lớn hơn 0")
        return cls(host, port, security, smtp.get("user", "").strip(), from_addr, smtp.get("cafile", "").strip(),
                   float(timeout))


def _load_draft(path: Path) -> EmailMessage:
    return BytesParser(policy=policy.SMTP).parsebytes(path.read_bytes())  # type: ignore[return-value]


def prepare_for_sending(msg: EmailMessage, config: SmtpConfig, now: datetime | None = None) -> str | None:
    """Turn a draft into a message to send; return why it cannot be sent, or None.

    ``X-Unsent`` goes (it would make the recipient's Outlook open the mail as a draft) and
    the Date becomes the sending time.
    """
    try:
        to = msg.get_all("To") or []
        has_to = any(getattr(h, "addresses", ()) for h in to)
    except (HeaderParseError, ValueError, IndexError):
        return "địa chỉ người nhận (To) không đọc được"
    if not has_to:
        return "thư chưa có địa chỉ người nhận (điền 'email' của đơn vị trong danh mục rồi tạo lại thư)"
    del msg["X-Unsent"]
    if not msg["From"]:
        if not config.from_addr:
            return "thiếu địa chỉ người gửi (điền 'from' trong [smtp] hoặc 'email' trong [receiver])"
        msg["From"] = config.from_addr
    del msg["Date"]
    msg["Date"] = format_datetime((now or datetime.now()).astimezone())
    return None


def _recipients(msg: EmailMessage) -> str:
    return ", ".join(a.addr_spec for h in (msg.get_all("To") or []) for a in h.addresses)


def send_drafts(paths: list[Path], config: SmtpConfig | None, *, dry_run: bool = True,
                password: Callable[[], str] | None = None) -> list[str]:
    """Send ``.eml`` drafts through SMTP — a dry run unless ``dry_run=False``.

    Returns Vietnamese lines saying what would be / was sent and what was skipped. A
    draft the server refuses is reported and the others still go; a connection or login
    failure raises MailError. The password is read from ``HOACU_SMTP_PASSWORD``, else
    from ``password()`` (a prompt), only when really sending and a user is configured.
    A dry run needs no server settings (``config`` None): it only checks the drafts.
    """
    if config is None and not dry_run:
        raise MailError("Chưa cấu hình máy chủ gửi thư (SMTP).")
    lines: list[str] = []
    ready = _ready_drafts(paths, config, lines)
    if dry_run:
        return lines + _dry_run_lines(ready, config)
    if not ready:
        lines.append("Không có thư nào để gửi.")
        return lines
    assert config is not None
    secret = _password(config, password)
    sent: list[str] = []
    try:
        with _connect(config, secret) as server:
            for p, m in ready:
                ok, line = _send_one(server, p, m, config)
                lines.append(line)
                if ok:
                    sent.append(p.name)
    except smtplib.SMTPAuthenticationError:
        raise MailError(f"Máy chủ {config.host} không chấp nhận tên đăng nhập '{config.user}' hoặc mật khẩu.") from None
    except UnicodeEncodeError:
        raise MailError("Tên đăng nhập hoặc mật khẩu có ký tự có dấu: thư viện SMTP chỉ gửi được ký tự không dấu "
                        "(ASCII). Hãy dùng mật khẩu ứng dụng không dấu.") from None
    except (OSError, smtplib.SMTPException) as exc:
        done = f" ({', '.join(sent)})" if sent else ""
        raise MailError(f"Gửi thư qua {config.host}:{config.port} không được ({_smtp_reason(exc)}). "
                        f"Đã gửi {len(sent)}/{len(ready)} thư{done}; chạy lại chỉ với các thư còn lại.") from None
    lines.append(f"Đã gửi {len(sent)}/{len(ready)} thư qua {config.host}:{config.port}.")
    return lines


def _ready_drafts(paths: list[Path], config: SmtpConfig | None, lines: list[str]) -> list[tuple[Path, EmailMessage]]:
    """The drafts that can go; a line for each one skipped (unreadable, no recipient…)."""
    ready: list[tuple[Path, EmailMessage]] = []
    for p in paths:
        try:
            msg = _load_draft(p)
        except OSError as exc:
            lines.append(f"Bỏ qua {p.name}: không đọc được tệp ({exc.strerror or exc}).")
            continue
        why = prepare_for_sending(msg, config or SmtpConfig(host=""))
        if why:
            lines.append(f"Bỏ qua {p.name}: {why}.")
            continue
        ready.append((p, msg))
    return ready


def _dry_run_lines(ready: list[tuple[Path, EmailMessage]], config: SmtpConfig | None) -> list[str]:
    via = f" qua {config.host}:{config.port}" if config else ""
    lines = [f"(chạy thử) Sẽ gửi {p.name} tới {_recipients(m)}{via}" for p, m in ready]
    if config is None:
        lines.append("Chưa cấu hình máy chủ gửi thư (SMTP) trong danh mục: cần có trước khi gửi thật.")
    lines.append(f"Chạy thử: chưa gửi thư nào ({len(ready)} thư sẵn sàng). Thêm --gui-that để gửi thật.")
    return lines


def _password(config: SmtpConfig, password: Callable[[], str] | None) -> str:
    """The SMTP password ("" when the server needs no login): the environment, else the prompt."""
    if not config.user:
        return ""
    secret = os.environ.get(PASSWORD_ENV) or (password() if password else "")
    if not secret:
        raise MailError(f"Chưa có mật khẩu thư điện tử cho '{config.user}': đặt biến môi trường {PASSWORD_ENV} "
                        "hoặc chạy lệnh trong cửa sổ dòng lệnh để được hỏi mật khẩu.")
    return secret


def _connect(config: SmtpConfig, secret: str) -> smtplib.SMTP:
    """A connection, encrypted as configured, logged in when a user is configured."""
    if config.security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                                 context=config.ssl_context())
    else:
        server = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    try:
        if config.security == "starttls":
            server.starttls(context=config.ssl_context())
        if config.user:
            server.login(config.user, secret)
    except BaseException:
        server.close()
        raise
    return server


def _send_one(server: smtplib.SMTP, p: Path, m: EmailMessage, config: SmtpConfig) -> tuple[bool, str]:
    """Send one draft: (sent, its line). A draft the server refuses is a line, and the others still go."""
    try:
        refused = server.send_message(m, from_addr=config.from_addr or None)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
        return False, f"KHÔNG gửi được {p.name} tới {_recipients(m)}: máy chủ từ chối ({_smtp_reason(exc)})."
    line = f"Đã gửi {p.name} tới {_recipients(m)}"
    if refused:   # some recipients of the message were refused, the others got it
        line += f" — trừ {_smtp_reason(smtplib.SMTPRecipientsRefused(refused))}"
    return True, line


def _smtp_reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                         for r, (code, msg) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        err = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{exc.smtp_code} {err}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
