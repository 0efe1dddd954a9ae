"""Reading in worker processes: a file that crashes, exhausts or stalls the reader costs that file only.

The hostile files are real bytes: an .xls whose directory chain points back to itself
(python-calamine allocates until the worker's memory cap aborts it) and an .xls whose
BOUNDSHEET record points past its stream (python-calamine panics). They are given to the
pool directly: the intake refuses the first one before any reader sees it.
"""

from __future__ import annotations

import io
import shutil

import pytest

import hoacu_xlsx.reader  # noqa: F401 - imported before the workers fork, as in a merge
from hoacu_xlsx import readpool
from tests import hostile_files as H


@pytest.fixture(scope="module")
def real_xls(tmp_path_factory) -> bytes:
    if not shutil.which("soffice"):
        pytest.skip("soffice is not installed")
    from hoacu_xlsx import libreoffice

    d = tmp_path_factory.mktemp("xls")
    (d / "so.xlsx").write_bytes(H.xlsx("Nguyễn Thị Mẫu"))
    return libreoffice.convert(d / "so.xlsx", "xls", d).read_bytes()


def cells(payload: dict) -> list:
    return [c for s in payload.get("sheets", []) for c in s["cells"]]


@pytest.mark.parametrize("workers", [1, 2])
def test_crashing_files_cost_only_themselves(real_xls, workers):
    good = H.xlsx("Trạm Y tế")
    jobs = [(good, "a.xlsx", None, []), (H.ole_directory_loop(real_xls), "vong_thu_muc.xls", None, []),
            (real_xls, "that.xls", None, []), (H.xls_reader_panic(real_xls), "hoang.xls", None, []),
            (good, "b.xlsx", None, [])]
    got = list(readpool.read_many(jobs, workers=workers))
    assert len(got) == 5 and all(examined is None for _, examined in got)
    ok = [got[i][0] for i in (0, 2, 4)]
    assert all("error" not in p for p in ok), ok
    assert [0, 0, "Trạm Y tế"] in cells(ok[0]) and [0, 0, "Nguyễn Thị Mẫu"] in cells(ok[1])
    for i in (1, 3):
        p = got[i][0]
        assert p["error_code"] == "reader_crashed" and "sheets" not in p
        assert "lưu lại dạng .xlsx rồi gửi lại" in p["error"] and "vượt quá bộ nhớ" in p["error"]


def test_order_is_kept_across_many_files_and_crashes(real_xls):
    bad = H.xls_reader_panic(real_xls)
    jobs = [(H.xlsx(f"Người {i}") if i % 7 else bad, f"{i}.xlsx", None, []) for i in range(40)]
    got = list(readpool.read_many(jobs, workers=2))
    for i, (payload, _) in enumerate(got):
        if i % 7:
            assert [0, 0, f"Người {i}"] in cells(payload)
        else:
            assert payload["error_code"] == "reader_crashed"


def test_a_file_over_the_time_limit_is_stopped_and_the_next_one_read():
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True})
    ws = wb.add_worksheet()
    for r in range(25_000):              # 250,000 cells: about a second to read, far over 0.3 s
        for c in range(10):
            ws.write_number(r, c, r * c + 0.5)
    wb.close()
    jobs = [(H.xlsx("trước"), "a.xlsx", None, []), (buf.getvalue(), "to.xlsx", None, []),
            (H.xlsx("sau"), "b.xlsx", None, [])]
    got = [p for p, _ in readpool.read_many(jobs, workers=1, seconds=0.3)]
    assert got[1]["error_code"] == "reader_timeout" and "quá 0,3 giây" in got[1]["error"]
    assert [0, 0, "trước"] in cells(got[0]) and [0, 0, "sau"] in cells(got[2])


@pytest.mark.libreoffice     # Gnumeric's ssconvert: an office program too
def test_gnumeric_ods_is_read(tmp_path):
    if not shutil.which("ssconvert"):
        pytest.skip("Gnumeric ssconvert is not installed")
    import subprocess

    (tmp_path / "a.xlsx").write_bytes(H.xlsx("Hội Nông dân"))
    subprocess.run(["ssconvert", str(tmp_path / "a.xlsx"), str(tmp_path / "g.ods")], check=True, capture_output=True)
    data = (tmp_path / "g.ods").read_bytes()
    ((payload, _),) = readpool.read_many([(data, "g.ods", None, [])])
    assert [0, 0, "Hội Nông dân"] in cells(payload) and [1, 1, 1980] in cells(payload)


def test_unreadable_ods_gets_a_vietnamese_way_out():
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content>\n  <table:table>")
    ((payload, _),) = readpool.read_many([(buf.getvalue(), "x.ods", None, [])])
    assert "LibreOffice hoặc Excel" in payload["error"] and ".xlsx" in payload["error"]
    assert "Cannot" not in payload["error"] and "Expecting" not in payload["error"]


def test_jobs_are_taken_lazily_a_window_ahead():
    """The merge hands its inbox scan to read_many as a generator: files must be taken as they are read, so
    that the scan runs beside the workers and only the files in flight are held in memory."""
    good = H.xlsx("Trạm Y tế")
    taken = []

    def jobs():
        for i in range(readpool.WINDOW * 3):
            taken.append(i)
            yield good, f"{i}.xlsx", None, []

    results = readpool.read_many(jobs(), workers=2)
    first, _ = next(results)
    assert "error" not in first and [0, 0, "Trạm Y tế"] in cells(first)
    assert len(taken) <= readpool.WINDOW + 2          # not the whole inbox before the first file is stored
    rest = list(results)
    assert len(rest) == readpool.WINDOW * 3 - 1 and len(taken) == readpool.WINDOW * 3
    assert all("error" not in p for p, _ in rest)
