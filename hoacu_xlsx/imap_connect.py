"""Opening the officer's mailbox with IMAPClient, and every way that can fail said in Vietnamese.

No library text reaches the officer: each exception is mapped to what happened (wrong
password, server not reachable, certificate not trusted, folder missing, connection cut)
and what to do about it.
"""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, IMAPClientAbortError, IMAPClientError, LoginError

from hoacu_xlsx.imap_settings import ImapConfig, ImapSettingsError

NETWORK_ERRORS = (OSError, IMAPClientError, EOFError)   # ssl.SSLError is an OSError; abort is an IMAPClientError

_CERT_WHY = {
    10: "chứng chỉ đã hết hạn",
    18: "chứng chỉ tự ký, chưa được khai báo là tin cậy",
    19: "chứng chỉ do một nơi cấp chưa được khai báo là tin cậy",
    20: "không tìm thấy nơi cấp chứng chỉ trong danh sách tin cậy",
    62: "chứng chỉ không đúng tên máy chủ",
}


class MailboxError(Exception):
    """The mailbox cannot be opened or read; the message is Vietnamese."""


def _where(config: ImapConfig) -> str:
    return f"{config.host}:{config.port}"


def _cert_message(exc: ssl.SSLCertVerificationError, config: ImapConfig) -> str:
    why = _CERT_WHY.get(getattr(exc, "verify_code", 0), "chứng chỉ không kiểm tra được")
    return (f"Chứng chỉ bảo mật của máy chủ {_where(config)} không được tin cậy ({why}). Không nhận thư để giữ an "
            "toàn mật khẩu. Nếu máy chủ của đơn vị dùng chứng chỉ riêng: xin tệp chứng chỉ (.pem) từ người quản "
            "trị, rồi khai báo cafile = \"duong_dan/chung_chi.pem\" trong bảng [imap] của danh_muc.toml, hoặc chạy "
            "lệnh với --cafile TỆP.")


def network_reason(exc: BaseException, config: ImapConfig) -> str:
    """What went wrong on the wire, in Vietnamese (never the library's English text)."""
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"máy chủ không trả lời sau {config.timeout:g} giây"
    if isinstance(exc, socket.gaierror):
        return f"không tìm thấy máy chủ '{config.host}' (sai tên máy chủ hoặc máy tính không có mạng)"
    if isinstance(exc, ConnectionRefusedError):
        return "máy chủ từ chối kết nối (sai cổng, hoặc máy chủ thư không chạy)"
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, EOFError,
                        IMAPClientAbortError, ssl.SSLEOFError)):
        return "kết nối bị đóng đột ngột"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN):
        return "không có đường mạng tới máy chủ (kiểm tra mạng Internet)"
    if isinstance(exc, ssl.SSLError):
        return "lỗi mã hóa TLS"
    if isinstance(exc, OSError):
        code = errno.errorcode.get(exc.errno or 0, "")
        return f"lỗi mạng{' ' + code if code else ''}"
    return "máy chủ trả lời lỗi"


def _connect_message(exc: BaseException, config: ImapConfig) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _cert_message(exc, config)
    if isinstance(exc, CapabilityError):
        return (f"Máy chủ {_where(config)} không hỗ trợ STARTTLS: đặt security = \"ssl\" (cổng 993) trong bảng [imap], "
                "hoặc chạy với --security ssl --port 993.")
    if isinstance(exc, ssl.SSLError) and not isinstance(exc, ssl.SSLEOFError):
        return (f"Không bắt tay mã hóa TLS được với {_where(config)}: kiểm tra 'security' và 'port' trong bảng [imap] "
                "(thường là ssl với cổng 993, starttls với cổng 143).")
    return (f"Không kết nối được tới máy chủ thư {_where(config)}: {network_reason(exc, config)}. Kiểm tra 'host', "
            "'port', 'security' trong bảng [imap] và mạng Internet, rồi chạy lại.")


def open_mailbox(config: ImapConfig, password: str) -> IMAPClient:
    """Connect, secure and log in; MailboxError in Vietnamese on any failure."""
    try:
        ctx = config.ssl_context() if config.security != "none" else None
    except ImapSettingsError as exc:
        raise MailboxError(str(exc)) from None
    client = None
    try:
        client = IMAPClient(config.host, config.port, ssl=config.security == "ssl", ssl_context=ctx,
                            timeout=config.timeout)
        if config.security == "starttls":
            client.starttls(ctx)
        client.login(config.user, password)
        return client
    except LoginError:
        close(client)
        hint = (" Nếu máy chủ chỉ cho đăng nhập qua kết nối mã hóa, đặt security = \"ssl\"."
                if config.security == "none" else "")
        raise MailboxError(f"Máy chủ {config.host} không chấp nhận tên đăng nhập '{config.user}' hoặc mật khẩu. "
                           f"Kiểm tra lại mật khẩu (biến môi trường HOACU_IMAP_PASSWORD hoặc mật khẩu đã gõ); "
                           f"với Gmail/Outlook cần dùng mật khẩu ứng dụng.{hint}") from None
    except UnicodeError:
        close(client)
        raise MailboxError("Tên đăng nhập hoặc mật khẩu có ký tự có dấu: giao thức IMAP chỉ gửi được ký tự không dấu "
                           "(ASCII). Hãy dùng mật khẩu ứng dụng không dấu.") from None
    except NETWORK_ERRORS as exc:
        close(client)
        raise MailboxError(_connect_message(exc, config)) from None


def select(client: IMAPClient, config: ImapConfig, readonly: bool) -> int:
    """Open the folder (read-only unless marking) and return its UIDVALIDITY."""
    try:
        info = client.select_folder(config.folder, readonly=readonly)
    except IMAPClientAbortError:
        raise
    except IMAPClientError:
        raise MailboxError(_missing_folder(client, config)) from None
    return int(info.get(b"UIDVALIDITY") or 0)


def _missing_folder(client: IMAPClient, config: ImapConfig) -> str:
    try:
        names = [str(name) for _flags, _sep, name in client.list_folders()]
    except NETWORK_ERRORS:
        names = []
    listed = f" Các thư mục có trong hộp thư: {', '.join(sorted(names)[:30])}." if names else ""
    return (f"Không có thư mục '{config.folder}' trong hộp thư {config.user} (hoặc không mở được).{listed} Chọn thư "
            "mục bằng --thu-muc hoặc trường 'folder' của bảng [imap].")


def close(client: Any) -> None:
    """Log out politely; a connection that is already gone is just dropped."""
    if client is None:
        return
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            pass
