"""The ``demo`` job: a whole round in a throwaway folder, with LibreOffice as the units.

It generates the workbooks, has LibreOffice Calc fill several of them by the ``_meta``
contract exactly as a unit would (some clean, some with typical mistakes, one late,
one sent twice, one saved as .ods), drops them into ``inbox/`` with the dates they
"arrived", merges, and says where to look. All names are plainly samples.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hoacu_xlsx import meta as M
from hoacu_xlsx.catalogue import Catalogue


def read_meta(path: Path) -> M.Meta:
    """The ``_meta`` of a generated (or returned) workbook."""
    from hoacu_xlsx.reader import Grid, _meta_of, read_raw

    meta, issue = _meta_of([Grid(s) for s in read_raw(path.read_bytes())["sheets"]])
    if meta is None:
        raise ValueError(issue)
    return meta


def fill_ops(meta: M.Meta, assignment_id: str, rows: list[dict[str, Any]],
             preparer: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """LibreOffice 'set' operations that type ``rows`` into an entry sheet, addressed by ``_meta``."""
    lay = meta.layouts[assignment_id]
    ops: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        r = lay.first_data_row + i
        for key, value in row.items():
            ops.append({"op": "set", "sheet": lay.sheet, "cell": f"{lay.columns[key]}{r}", "value": value})
    for key, value in (preparer or {}).items():
        ops.append({"op": "set", "sheet": lay.sheet, "cell": lay.preparer[key], "value": value})
    return ops


def fill_job(built: Any, rows_by_assignment: dict[str, list[dict[str, Any]]], dst: str | Path, fmt: str = "xlsx",
             extra: list[dict[str, Any]] | tuple = ()) -> dict[str, Any]:
    """A LibreOffice job: open a generated workbook, type the rows (and preparer) as a unit would, save as fmt."""
    ops: list[dict[str, Any]] = []
    for aid, rows in rows_by_assignment.items():
        ops += fill_ops(built.meta, aid, rows, PREPARER)
    return {"src": str(built.path), "dst": str(dst), "format": fmt, "ops": ops + list(extra)}


def sample_row(catalogue: Catalogue, assignment_id: str, n: int, *, kind_index: int = 0) -> dict[str, Any]:
    """A complete, valid sample nomination (names say they are samples)."""
    a = catalogue.assignment(assignment_id)
    assert a is not None
    kind = a.nominee_kinds[kind_index % len(a.nominee_kinds)]
    row: dict[str, Any] = {
        "loai_dien_hinh": kind.label,
        "ten": (f"Tập thể mẫu {n}" if kind.base == "tap_the" else f"Người mẫu Số {n}"),
        "dia_chi": "Thôn mẫu (dữ liệu mẫu)",
        "mo_hinh": f"Mô hình mẫu {n} (dữ liệu mẫu)",
        "thanh_tich": "Thành tích mẫu: hoàn thành xuất sắc nhiệm vụ năm 2023 (dữ liệu mẫu)",
        "can_bo_theo_doi": "Cán bộ mẫu",
        "hinh_thuc_tuyen_truyen": "Chương trình truyền thanh, truyền hình",
        "tai_lieu_kinh_nghiem": "Đang viết",
        "dien_thoai": f"09120000{n:02d}",
    }
    if kind.base == "ca_nhan":
        row.update({"gioi_tinh": "Nữ" if n % 2 else "Nam", "nam_sinh": 1975 + n, "dan_toc": "Tày",
                    "chuc_vu_don_vi": "Chức vụ mẫu"})
    elif kind.base == "ho_gia_dinh":
        row.update({"nam_sinh": 1970 + n})
    for c in a.criteria_for(kind.id):
        row[c.key] = "Đạt"
    return row


PREPARER = {"nguoi_lap": "Người lập mẫu", "chuc_vu": "Cán bộ mẫu", "dien_thoai": "0912000000",
            "ngay_lap": "20/05/2024"}


@dataclass
class DemoResult:
    workdir: Path
    lines: list[str]


def _stamp(path: Path, when: datetime) -> None:
    ts = when.timestamp()
    os.utime(path, (ts, ts))


def run(catalogue: Catalogue, workdir: Path) -> DemoResult:
    from hoacu_xlsx import generate, libreoffice, merge

    if not libreoffice.available():
        raise RuntimeError("Lệnh demo cần LibreOffice (soffice) và cầu nối python3-uno để điền sổ như đơn vị. "
                           "Trên Debian/Ubuntu: sudo apt-get install libreoffice-calc-nogui python3-uno; trên "
                           "Windows: cài LibreOffice từ libreoffice.org (lệnh demo chỉ chạy được trên Linux).")
    workdir.mkdir(parents=True, exist_ok=True)
    for sub in ("inbox", "outbox"):
        (workdir / sub).mkdir(exist_ok=True)
    gen = generate.run(catalogue, workdir)
    by_unit = {b.unit.id: b for b in gen.built}
    stage = workdir / "_dien_so"
    stage.mkdir(exist_ok=True)

    def job(unit_id: str, rows_by_assignment: dict[str, list[dict[str, Any]]], dst: str,
            fmt: str = "xlsx") -> dict[str, Any]:
        return fill_job(by_unit[unit_id], rows_by_assignment, stage / dst, fmt)

    sr = lambda aid, n, k=0: sample_row(catalogue, aid, n, kind_index=k)  # noqa: E731
    # typical mistakes: a value pasted over a dropdown, a missing birth year, a criterion not met
    bad = sr("7", 3, 1)
    bad["gioi_tinh"] = "nam giới"
    del bad["nam_sinh"]
    first_tc = catalogue.assignment("7").criteria_for(catalogue.assignment("7").nominee_kinds[1].id)[0].key
    bad[first_tc] = "Chưa đạt"
    plan = [
        (job("ban_tuyen_giao", {"1": [sr("1", 1, 0), sr("1", 2, 1)]}, "ban_tuyen_giao.xlsx"), "20/05/2024 09:15"),
        (job("cong_an", {"8": [sr("8", 3, 1)]}, "cong_an.xlsx"), "28/05/2024 14:00"),
        (job("truong_mam_non", {"7": [sr("7", 1, 0), bad]}, "truong_mam_non.xlsx"), "29/05/2024 10:30"),
        (job("tram_y_te", {"9": [sr("9", 5, 1)]}, "tram_y_te.ods", "ods"), "30/05/2024 16:45"),
        (job("hoi_nong_dan", {"10": [sr("10", 6)]}, "hoi_nong_dan.xlsx"), "05/06/2024 08:00"),
        (job("doan_thanh_nien", {"12": [sr("12", 7, 1)]}, "doan_thanh_nien_lan1.xlsx"), "15/05/2024 11:00"),
        (job("doan_thanh_nien", {"12": [sr("12", 7, 1), sr("12", 8, 0)]}, "doan_thanh_nien_lan2.xlsx"),
         "25/05/2024 15:20"),
    ]
    libreoffice.fill([j for j, _ in plan])
    for j, when in plan:
        src = Path(j["dst"])
        dst = workdir / "inbox" / src.name
        shutil.copyfile(src, dst)
        _stamp(dst, datetime.strptime(when, "%d/%m/%Y %H:%M"))
    shutil.rmtree(stage, ignore_errors=True)
    report = merge.run(catalogue, workdir, now=datetime(2024, 6, 10, 9, 0).astimezone())
    lines = [
        f"Đã chạy thử trọn một vòng trong {workdir} (dữ liệu mẫu, coi như hôm nay là 10/06/2024):",
        f"  • outbox/: {len(gen.built)} sổ đề xuất đã tạo;",
        f"  • inbox/: {len(plan)} tệp LibreOffice đã điền như đơn vị — 2 sạch, 1 có lỗi thường gặp, 1 lưu .ods, "
        "1 nộp muộn, 1 đơn vị gửi hai lần;",
        *("  " + line for line in report.summary_lines()),
        "Mở sổ tổng hợp trong master/ và các tệp phản hồi trong feedback/ để xem kết quả.",
    ]
    return DemoResult(workdir, lines)
