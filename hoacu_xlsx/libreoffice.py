"""Drive LibreOffice Calc headless: the real offline client of the tests and the demo.

UNO only imports under Debian's own python3 (package python3-uno), so filling runs
``uno_fill.py`` in a subprocess with that interpreter — one soffice start for a whole
batch of files — and conversions use ``soffice --convert-to``. Standard library only.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("uno_fill.py")
_CANDIDATE_PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")


class LibreOfficeError(RuntimeError):
    """LibreOffice is missing or a job failed; the message is Vietnamese."""


@functools.lru_cache(maxsize=1)
def find_soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for path in ("/usr/lib/libreoffice/program/soffice", "/opt/libreoffice/program/soffice"):
        if os.path.exists(path):
            return path
    return None


@functools.lru_cache(maxsize=1)
def uno_python() -> str | None:
    """An interpreter that can ``import uno`` (Debian's python3 with python3-uno)."""
    for cand in _CANDIDATE_PYTHONS:
        if os.path.exists(cand):
            r = subprocess.run([cand, "-c", "import uno"], capture_output=True)
            if r.returncode == 0:
                return cand
    return None


def available() -> bool:
    return find_soffice() is not None and uno_python() is not None


def _require() -> tuple[str, str]:
    soffice, py = find_soffice(), uno_python()
    if soffice is None:
        raise LibreOfficeError("Không tìm thấy LibreOffice (soffice). Cài gói Debian 'libreoffice-calc-nogui'.")
    if py is None:
        raise LibreOfficeError("Không tìm thấy cầu nối Python–UNO của LibreOffice. Cài gói Debian 'python3-uno'.")
    return soffice, py


def fill(jobs: list[dict[str, Any]], timeout: float = 900) -> list[dict[str, Any]]:
    """Open, change and save each job's workbook in one LibreOffice session; raise if any job failed."""
    soffice, py = _require()
    with tempfile.TemporaryDirectory(prefix="hoacu-jobs-") as tmp:
        spec = Path(tmp) / "jobs.json"
        spec.write_text(json.dumps({"soffice": soffice, "jobs": jobs}, ensure_ascii=False), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        try:
            r = subprocess.run([py, str(SCRIPT), str(spec)], capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            raise LibreOfficeError(f"LibreOffice không xong trong {int(timeout)} giây.") from None
    results = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    bad = [x for x in results if not x.get("ok")]
    if r.returncode != 0 or bad or len(results) != len(jobs):
        detail = "; ".join(f"{x.get('dst')}: {x.get('error')}" for x in bad) or r.stderr[-800:]
        raise LibreOfficeError(f"LibreOffice không điền được sổ: {detail}")
    return results


def convert(src: Path, fmt: str, outdir: Path, timeout: float = 300) -> Path:
    """``soffice --convert-to`` (xlsx, ods, xls, pdf …) with a throwaway profile; returns the new file."""
    soffice, _ = _require()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hoacu-lo-") as profile:
        cmd = [soffice, "--headless", "--norestore", "--nologo", f"-env:UserInstallation=file://{profile}",
               "--convert-to", fmt, "--outdir", str(outdir), str(src)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    out = outdir / (Path(src).stem + "." + fmt.split(":")[0])
    if r.returncode != 0 or not out.exists():
        raise LibreOfficeError(f"LibreOffice không chuyển được '{src}' sang {fmt}: {r.stderr[-400:]}")
    return out
