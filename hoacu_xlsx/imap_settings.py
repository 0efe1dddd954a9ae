"""The officer's mailbox settings: the ``[imap]`` table of the catalogue, checked, plus command-line overrides.

Read only from ``catalogue.settings["imap"]`` (the TOML table, or the same keys from the
catalogue workbook), so wherever the catalogue came from the rules are the same. The
password is deliberately not a setting: it comes from ``HOACU_IMAP_PASSWORD`` or a prompt.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PASSWORD_ENV = "HOACU_IMAP_PASSWORD"
SECURITIES = ("ssl", "starttls", "none")
DEFAULT_FOLDER = "INBOX"
_KEYS = ("host", "port", "security", "user", "folder", "cafile", "timeout")


class ImapSettingsError(Exception):
    """The [imap] settings are missing or wrong; the message is Vietnamese and names the field."""


@dataclass(frozen=True)
class ImapConfig:
    """Where the officer's mail is; ``cafile`` trusts a server's own certificate (relative to the working folder)."""

    host: str
    user: str
    port: int = 993
    security: str = "ssl"        # ssl (port 993) | starttls (port 143) | none
    folder: str = DEFAULT_FOLDER
    cafile: str = ""
    timeout: float = 60.0

    def ssl_context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.cafile or None)
        except (OSError, ssl.SSLError) as exc:
            why = getattr(exc, "strerror", None) or "không phải tệp chứng chỉ PEM"
            raise ImapSettingsError(f"Không đọc được tệp chứng chỉ '{self.cafile}' (trường 'cafile' của [imap] hoặc "
                                    f"--cafile): {why}.") from None


def _bad(key: str, what: str) -> ImapSettingsError:
    return ImapSettingsError(f"Cấu hình hộp thư: trường '{key}' của bảng [imap] {what}.")


def _text(table: dict[str, Any], key: str, default: str = "") -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise _bad(key, f"phải là chuỗi chữ, đang là {value!r}")
    return value.strip()


def _port(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise _bad("port", f"phải là số cổng từ 1 đến 65535, đang là {value!r}")
    return value


def _timeout(value: Any) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 3600:
        raise _bad("timeout", f"phải là số giây từ 1 đến 3600, đang là {value!r}")
    return float(value)


def from_settings(table: Any, overrides: dict[str, Any] | None = None, workdir: Path | None = None) -> ImapConfig:
    """Check ``[imap]`` merged with the command-line ``overrides`` (None values ignored)."""
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise ImapSettingsError("Cấu hình hộp thư: [imap] phải là một bảng (table) gồm host, port, security, user.")
    merged = dict(table)
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    unknown = sorted(set(merged) - set(_KEYS))
    if unknown:
        raise _bad(unknown[0], f"không có trong danh sách trường dùng được ({', '.join(_KEYS)})")
    host = _text(merged, "host")
    if not host:
        if not table:
            raise ImapSettingsError(
                "Chưa cấu hình hộp thư: thêm bảng [imap] (host, port, security, user) vào danh_muc.toml trong thư "
                "mục làm việc (chạy 'hoacu-xlsx init' nếu chưa có tệp này), hoặc dùng --host và --user.")
        raise _bad("host", "không được để trống (tên máy chủ IMAP, ví dụ imap.example.vn)")
    if any(c.isspace() for c in host) or "/" in host:
        raise _bad("host", f"không phải tên máy chủ hợp lệ ('{host}')")
    security = _text(merged, "security", "ssl").lower()
    if security not in SECURITIES:
        raise _bad("security", f"phải là ssl, starttls hoặc none (đang là '{security}')")
    port = _port(merged.get("port", 993 if security == "ssl" else 143))
    user = _text(merged, "user")
    if not user:
        raise _bad("user", "không được để trống (tên đăng nhập hộp thư, thường là địa chỉ thư)")
    folder = _text(merged, "folder", DEFAULT_FOLDER) or DEFAULT_FOLDER
    cafile = _text(merged, "cafile")
    if cafile:
        path = Path(cafile).expanduser()
        if not path.is_absolute() and workdir is not None:
            path = workdir / path
        if not path.is_file():
            raise _bad("cafile", f"chỉ tới tệp không có: '{path}'")
        cafile = str(path)
    return ImapConfig(host, user, port, security, folder, cafile, _timeout(merged.get("timeout", 60)))
