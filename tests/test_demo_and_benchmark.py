"""The demo runs a whole round with LibreOffice as the units; the benchmark runs at tiny N so it cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.libreoffice
def test_demo_round(tmp_path, libreoffice):
    out = tmp_path / "demo"
    r = subprocess.run([sys.executable, "-m", "hoacu_xlsx", "demo", "--out", str(out)], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "master" in r.stdout and str(out) in r.stdout
    rows = CalamineWorkbook.from_path(str(out / "master" / "tong_hop_2024.xlsx")).get_sheet_by_name("Đơn vị") \
        .to_python()
    status = {row[0]: row for row in rows[1:]}
    assert status["ban_tuyen_giao"][4] == "Đã nộp – hợp lệ"
    assert status["truong_mam_non"][4] == "Đã nộp – có lỗi"
    assert status["hoi_nong_dan"][4] == "Nộp muộn"
    assert status["doan_thanh_nien"][8] == 2           # sent twice: version 2 is the one that counts
    assert status["tram_y_te"][9] == 1                 # the .ods return is read
    assert status["hoi_lhpn"][4] == "Chưa nộp"
    assert (out / "feedback" / "PhanHoi_2024_truong_mam_non.xlsx").exists()


def test_benchmark_runs_at_tiny_n(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--n", "6", "--dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    for label in ("merge / sàn", "cách thường / merge", "thêm 1 / merge đầy đủ", "cách thường / generate",
                  "/ import click", "bộ nhớ đỉnh của merge"):
        assert label in r.stdout, label
