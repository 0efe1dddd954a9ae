"""Benchmark of ``hoacu-xlsx fetch`` against the floor, on a throwaway Dovecot, in one run.

    python3 benchmarks/bench_fetch.py            # N = 2,000 messages
    python3 benchmarks/bench_fetch.py --n 200

Appends N messages, each with a small workbook (xlsxwriter) attached, plus N/10 messages
without an attachment, to a fresh Dovecot (see tests/dovecot_server.py), then measures in
separate processes, on the same mailbox:

* fetch: ``hoacu_xlsx.fetch.run`` with its progress bar (stderr), from an empty working folder;
* floor: a plain imapclient loop — select read-only, search, fetch every message's
  ``BODY.PEEK[]`` one at a time, write it to a file; nothing else (it also takes the
  messages without an attachment, which fetch skips from their BODYSTRUCTURE).

Prints wall time and peak RSS of each (psutil samples the child every 10 ms) and the ratios.
Not a test: speed is reported, not asserted.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import dovecot_server as D  # noqa: E402


def small_workbook(i: int) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Mục 1")
    ws.write_row(0, 0, ["STT", "Tên", "Thành tích"])
    for r in range(1, 8):
        ws.write_row(r, 0, [r, f"Người mẫu {i}-{r}", "Thành tích mẫu (dữ liệu mẫu)"])
    wb.close()
    return buf.getvalue()


def message(i: int, attach: bool) -> bytes:
    m = EmailMessage()
    m["From"] = f"Đơn vị mẫu {i} <dv{i}@hoacu.test>"
    m["Subject"] = f"Gửi sổ đề xuất điển hình – đơn vị mẫu {i}" if attach else f"Thông báo {i}"
    m["Date"] = "Mon, 20 May 2024 09:15:00 +0700"
    m["Message-ID"] = f"<bench-{i}-{int(attach)}@hoacu.test>"
    m.set_content("Kính gửi cán bộ TĐKT (dữ liệu mẫu).")
    if attach:
        m.add_attachment(small_workbook(i), maintype="application",
                         subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename=f"Đề xuất {i}.xlsx")
    return m.as_bytes()


def fill(server: D.Dovecot, n: int) -> None:
    c = server.client()
    try:
        chunk: list[bytes] = []
        for i in range(n):
            chunk.append(message(i, True))
            if i % 10 == 0:
                chunk.append(message(i, False))
            if len(chunk) >= 100 or i == n - 1:
                c.multiappend("INBOX", chunk)       # one transaction per 100 messages (APPEND syncs each)
                chunk = []
    finally:
        c.logout()


# --------------------------------------------------------------------------- the two jobs (run in a child)


def job_fetch(port: int, out: Path) -> None:
    import click

    from hoacu_xlsx import fetch as F
    from hoacu_xlsx import imap_settings as IS

    cfg = IS.from_settings({"host": "127.0.0.1", "port": port, "security": "none", "user": D.USER})
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Đang nhận thư", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    report = F.run(cfg, out, D.PASSWORD, progress=progress)
    if bar is not None:
        bar.__exit__(None, None, None)
    print(len(report.saved))


def job_floor(port: int, out: Path) -> None:
    from imapclient import IMAPClient

    out.mkdir(parents=True, exist_ok=True)
    c = IMAPClient("127.0.0.1", port, ssl=False)
    c.login(D.USER, D.PASSWORD)
    c.select_folder("INBOX", readonly=True)
    n = 0
    for uid in c.search():
        body = c.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
        (out / f"{uid}.eml").write_bytes(body)
        n += 1
    c.logout()
    print(n)


def measure(kind: str, port: int, out: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, child's stdout) of one job in a child process."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", kind, "--port", str(port), "--out", str(out)],
                            stdout=subprocess.PIPE, text=True)
    ps, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            peak = max(peak, ps.memory_info().rss)
        except psutil.Error:
            pass
        time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    stdout = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed with exit code {proc.returncode}")
    return elapsed, peak / 2**20, stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="messages with a workbook (default 2000)")
    ap.add_argument("--child", choices=("fetch", "floor"), help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        (job_fetch if args.child == "fetch" else job_floor)(args.port, args.out)
        return
    if not D.available():
        raise SystemExit("Dovecot (/usr/sbin/dovecot) or openssl is missing")
    server = D.Dovecot.start()
    try:
        t0 = time.perf_counter()
        fill(server, args.n)
        print(f"N = {args.n} messages with a workbook + {(args.n + 9) // 10} without, appended in "
              f"{time.perf_counter() - t0:.1f} s")
        with tempfile.TemporaryDirectory(prefix="hoacu-bench-fetch-") as tmp:
            ft, frss, fout = measure("fetch", server.port, Path(tmp) / "wd")
            lt, lrss, lout = measure("floor", server.port, Path(tmp) / "floor")
            saved = len(list((Path(tmp) / "wd" / "inbox").glob("*.eml")))
    finally:
        server.remove()
    print(f"fetch : {ft:7.2f} s, peak RSS {frss:6.1f} MB, {fout} messages saved ({saved} files)")
    print(f"floor : {lt:7.2f} s, peak RSS {lrss:6.1f} MB, {lout} messages fetched (plain imapclient loop)")
    print(f"fetch / floor = {ft / lt:.2f}x time, {frss / lrss:.2f}x peak RSS")


if __name__ == "__main__":
    main()
