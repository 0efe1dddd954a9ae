"""The README is checked: every command it shows exists, and the _meta contract doc names every key written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parents[1]


def test_readme_commands_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```(?:bash)?\n(.*?)```", readme, re.S))
    shown = set(re.findall(r"^hoacu-xlsx (\w+)", blocks, re.M)) | set(re.findall(r"`hoacu-xlsx (\w+)", readme))
    r = subprocess.run([sys.executable, "-m", "hoacu_xlsx", "--help"], capture_output=True, text=True)
    listed = set(re.findall(r"^  (\w+)\s", r.stdout, re.M))
    assert shown and shown <= listed, shown - listed
    assert "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/hoacu-xlsx generate" in readme
    assert "bash .ci/run" in readme and ".venv/bin/python -m pytest" in (ROOT / ".ci" / "run").read_text()


def test_meta_doc_covers_every_key(generated):
    doc = (ROOT / "docs" / "meta_format.md").read_text(encoding="utf-8")
    wb = openpyxl.load_workbook(next((generated / "outbox").glob("*.xlsx")))
    for key, _ in wb["_meta"].iter_rows(values_only=True):
        if ":" not in key:
            assert f"`{key}`" in doc, key
            continue
        parts = key.split(":")
        assert f"`{parts[0]}:" in doc, key
        if len(parts) == 3:  # field:<a>:<key> and preparer:<a>:<key>: the key itself is documented
            assert f"`{parts[2]}`" in doc or parts[2].startswith("tc_"), key
