"""A new officer's first steps: the README's set-up line, Vietnamese --help, and commands that
do not create folders or demand settings they do not need."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hoacu_xlsx import cli

ROOT = Path(__file__).resolve().parents[1]
ENGLISH = re.compile(r"\b(TEXT|PATH|FILE|DIRECTORY|INTEGER|FLOAT|OPTIONS|COMMAND|ARGS|Usage|Options|Commands|"
                     r"Show this message)\b")


def _commands() -> list[str]:
    return sorted(cli.main.list_commands(None))  # type: ignore[arg-type]


def test_help_is_vietnamese_and_complete():
    runner = CliRunner()
    top = runner.invoke(cli.main, ["--help"], terminal_width=100)
    assert top.exit_code == 0 and not ENGLISH.search(top.output), top.output
    for name in _commands():
        cmd = cli.main.get_command(None, name)  # type: ignore[arg-type]
        first = cmd.help.split(". ")[0].rstrip(".")
        # the list shows each command's whole first sentence, not a cut "..."
        flat = " ".join(top.output.split())
        assert " ".join(first.split()) in flat, name
        r = runner.invoke(cli.main, [name, "--help"], terminal_width=100)
        assert r.exit_code == 0 and r.output.startswith("Cách dùng:"), name
        assert not ENGLISH.search(r.output), (name, ENGLISH.search(r.output).group(0), r.output)


def test_status_in_an_empty_folder_creates_nothing(tmp_path):
    r = CliRunner().invoke(cli.main, ["--dir", str(tmp_path), "status"])
    assert r.exit_code == 0, r.output
    assert "Chưa nộp" in r.output
    assert list(tmp_path.iterdir()) == []


def test_a_mistyped_dir_is_refused_and_not_created(tmp_path):
    wrong = tmp_path / "thu_muc_go_sai"
    for args in (["--dir", str(wrong), "merge"], ["generate", "--dir", str(wrong)], ["--dir", str(wrong), "status"]):
        r = CliRunner().invoke(cli.main, args)
        assert r.exit_code == 2, (args, r.output)
        assert "Không có thư mục làm việc" in r.output and str(wrong) in r.output
        assert not wrong.exists()
    r = CliRunner().invoke(cli.main, ["init", "--dir", str(wrong)])   # init is how a folder is made
    assert r.exit_code == 0 and wrong.is_dir()


def test_send_dry_run_needs_no_smtp_settings(tmp_path):
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["To"] = "donvi@example.vn"
    msg["From"] = "tdkt@example.vn"
    msg["Subject"] = "Thử"
    msg.set_content("Nội dung")
    draft = tmp_path / "thu.eml"
    draft.write_bytes(bytes(msg))
    r = CliRunner().invoke(cli.main, ["--dir", str(tmp_path), "send", str(draft)])
    assert r.exit_code == 0, r.output
    assert "(chạy thử) Sẽ gửi thu.eml tới donvi@example.vn" in r.output
    assert "Chưa cấu hình máy chủ gửi thư (SMTP)" in r.output
    r = CliRunner().invoke(cli.main, ["--dir", str(tmp_path), "send", "--gui-that", str(draft)])
    assert r.exit_code == 4 and "Chưa cấu hình máy chủ gửi thư" in r.output


def _readme_setup_line() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Cài đặt", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return next(line for line in block.splitlines() if line.strip() and not line.startswith("#"))


@pytest.mark.slow
def test_readme_setup_line_works_in_a_fresh_folder(tmp_path):
    """The README's first command, run as written in a clean copy of the project (a fresh .venv)."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if files.returncode != 0:
        pytest.skip("not a git checkout")
    copy = tmp_path / "hoacu-xlsx"
    for rel in files.stdout.splitlines():
        if (ROOT / rel).is_file():
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, copy / rel)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    line = _readme_setup_line()
    assert ".venv" in line   # Debian's system python refuses pip install: the README must use a venv
    python_dir = str(Path(sys.executable).resolve().parent)
    env["PATH"] = f"{python_dir}{os.pathsep}{env.get('PATH', '')}"
    r = subprocess.run(["bash", "-c", line], cwd=copy, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    books = sorted((copy / "outbox").glob("DTTT_2024_*.xlsx"))
    assert len(books) == 15, books
