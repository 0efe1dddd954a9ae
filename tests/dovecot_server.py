"""A throwaway Dovecot IMAP server for the fetch tests and benchmark (a real server, not a mock).

``Dovecot.start(tls=...)`` writes a configuration into a fresh temporary folder — passwd-file
user with a ``{PLAIN}`` password, Maildir, logs, base and state dirs all inside it — and runs
``/usr/sbin/dovecot -F`` as a normal child process on a free port of 127.0.0.1. As root
(CI), the login and mail processes run as ``nobody`` (Dovecot refuses root for both); as
another user, everything runs as that user. With ``tls=True`` the listener is implicit TLS
(``ssl = required``) with a self-signed certificate made by ``openssl req -x509``.
"""

from __future__ import annotations

import grp
import os
import pwd
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "tdkt@hoacu.test", "mat-khau-thu"


def available() -> bool:
    return os.path.exists(DOVECOT) and shutil.which("openssl") is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost / 127.0.0.1 (the CA file a test trusts is the cert itself)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def _accounts() -> tuple[str, str, str, str]:
    """(internal user, login user, mail user, mail group)."""
    if os.geteuid() == 0:
        return "root", "nobody", "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
    me = pwd.getpwuid(os.geteuid())
    return me.pw_name, me.pw_name, me.pw_name, grp.getgrgid(me.pw_gid).gr_name


class Dovecot:
    def __init__(self, root: Path, port: int, tls: bool, cafile: Path | None, proc: subprocess.Popen) -> None:
        self.root, self.port, self.tls, self.cafile, self.proc = root, port, tls, cafile, proc

    @classmethod
    def start(cls, tls: bool = False) -> "Dovecot":
        root = Path(tempfile.mkdtemp(prefix="hoacu-dovecot-"))
        root.chmod(0o755)        # login and mail processes (nobody) must reach their files
        internal, login, mail_user, mail_group = _accounts()
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir()
        if os.geteuid() == 0:
            shutil.chown(root / "mail", mail_user, mail_group)
        (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
        port = free_port()
        cafile = None
        if tls:
            cafile, key = make_certificate(root)
            ssl_part = f"ssl = required\nssl_cert = <{cafile}\nssl_key = <{key}\n"
            listeners = (f"  inet_listener imap {{\n    port = 0\n  }}\n  inet_listener imaps {{\n"
                         f"    address = 127.0.0.1\n    port = {port}\n    ssl = yes\n  }}\n")
        else:
            ssl_part = "ssl = no\n"
            listeners = (f"  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n"
                         f"  inet_listener imaps {{\n    port = 0\n  }}\n")
        conf = f"""protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
{ssl_part}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = 0
mail_uid = {mail_user}
mail_gid = {mail_group}
mail_location = maildir:{root}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={root}/mail/%n
}}
service imap-login {{
{listeners}}}
"""
        (root / "dovecot.conf").write_text(conf, encoding="utf-8")
        proc = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL,
                                stderr=open(root / "stderr.log", "wb"))
        server = cls(root, port, tls, cafile, proc)
        server._wait_ready()
        return server

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("Dovecot did not start: " + self.log())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("Dovecot did not listen: " + self.log())

    def log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in (self.root / "dovecot.log", self.root / "stderr.log")
                       if p.exists())

    def client(self):
        """An IMAPClient logged in as the test user (for appending and looking at the server)."""
        import ssl

        from imapclient import IMAPClient

        ctx = ssl.create_default_context(cafile=str(self.cafile)) if self.tls else None
        c = IMAPClient("127.0.0.1", self.port, ssl=self.tls, ssl_context=ctx, timeout=30)
        c.login(USER, PASSWORD)
        return c

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class CuttingProxy:
    """A TCP relay to the server that drops both sides once the server has sent ``cut_after`` message bodies.

    A message body in an IMAP FETCH reply starts with ``BODY[] {<size>}``: when the n-th such
    marker passes, a few bytes of it are forwarded and the connection is cut — a network
    failure half-way through a message.
    """

    MARK = b"BODY[] {"

    def __init__(self, upstream_port: int, cut_after: int) -> None:
        self.upstream_port, self.cut_after = upstream_port, cut_after
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.seen = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                down, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(down,), daemon=True).start()

    def _relay(self, down: socket.socket) -> None:
        up = socket.create_connection(("127.0.0.1", self.upstream_port))
        tail = b""
        try:
            while True:
                ready, _, _ = select.select([down, up], [], [], 30)
                if not ready:
                    return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is down:
                        up.sendall(data)
                        continue
                    window = tail + data
                    self.seen += window.count(self.MARK) - tail.count(self.MARK)
                    tail = window[-len(self.MARK):]
                    if self.seen >= self.cut_after:
                        down.sendall(data[: data.find(self.MARK) + 200] if self.MARK in data else data[:100])
                        return
                    down.sendall(data)
        finally:
            for s in (down, up):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self) -> None:
        self.sock.close()
