"""``init --year``: start the next round from the latest catalogue in the working folder.

How one folder holds several rounds: everything named per year stays side by side
(``outbox/DTTT_<năm>_*``, ``master/tong_hop_<năm>.xlsx``, ``feedback/PhanHoi_<năm>_*``, the
catalogue kept as ``danh_muc_<năm>.xlsx``). What is not named per year — ``inbox/`` and the
store (which keys the officer's review decisions by unit, item and nominee, not by round)
— moves to ``dot_<năm cũ>/``, so the new round starts clean and the two never mix; the
old round can still be merged there with ``--dir dot_<năm> --config danh_muc_<năm>.xlsx``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from hoacu_xlsx import catalogue as cat
from hoacu_xlsx.catalogue import Catalogue

ROUND_DIR = "dot_{year}"
PER_ROUND_DIRS = ("inbox", "store")   # not named per year: they move with the closed round


class NewRoundError(Exception):
    """The new round cannot be started; the message is Vietnamese and nothing was changed."""


@dataclass
class NewRound:
    catalogue: Catalogue
    path: Path                         # the new danh_muc.xlsx
    kept: Path                         # where the previous round's catalogue now is
    previous_year: int
    moved: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        c = self.catalogue
        out = [f"Đã bắt đầu đợt năm {c.year} từ đợt năm {self.previous_year}: {self.path.name} (cùng đơn vị, nhiệm "
               f"vụ, tiêu chí).",
               f"Danh mục năm {self.previous_year} được giữ ở {self.kept.name}."]
        if self.moved:
            out.append(f"Tệp nhận về và kho dữ liệu của đợt {self.previous_year} đã chuyển sang "
                       f"{self.moved[0].parent.name}/ ({', '.join(p.name + '/' for p in self.moved)}).")
        out += [f"HẠN NỘP: {c.deadline:%d/%m/%Y} (dời theo năm) — hãy kiểm tra và sửa ở trang 'Đợt' của "
                f"{self.path.name}.",
                f"Giai đoạn: {c.plan_period}. Số công văn để trống — điền số, ngày công văn mới ở trang 'Đợt'.",
                "Từ 01/7/2025 (bỏ cấp huyện, sáp nhập xã): kiểm tra tên xã, cơ quan ban hành, đơn vị và thôn, nơi báo "
                "cáo kết quả, người ký; rồi chạy 'hoacu-xlsx generate'."]
        return out


def shift_year(d: date | None, years: int) -> date | None:
    """The same day ``years`` later (29/02 becomes 28/02 in a common year)."""
    if d is None:
        return None
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def next_period(period: str, year: int) -> str:
    """'2021 – 2025' for 2027 -> '2026 – 2030': five-year plan periods moved until they hold the year."""
    m = re.fullmatch(r"\s*(\d{4})\s*[–-]\s*(\d{4})\s*", period or "")
    if not m:
        return period
    start, end = int(m.group(1)), int(m.group(2))
    span = end - start + 1
    while year > end:
        start, end = start + span, end + span
    return f"{start} – {end}"


def next_catalogue(c: Catalogue, year: int) -> Catalogue:
    """The same round moved to ``year``: dates by the years between, the old year replaced in titles."""
    years = year - c.year

    def retitle(text: str) -> str:
        return re.sub(rf"(?<!\d){c.year}(?!\d)", str(year), text)

    return dataclasses.replace(
        c, year=year, deadline=shift_year(c.deadline, years), dispatch_date=shift_year(c.dispatch_date, years),
        round_title=retitle(c.round_title), dispatch=retitle(c.dispatch), dispatch_number="",
        plan_period=next_period(c.plan_period, year), source="", notes=())


def start(workdir: Path, year: int, config: str | Path | None = None) -> NewRound:
    """Keep the current catalogue as danh_muc_<old>.*, move inbox/ and store/ aside, write the new danh_muc.xlsx."""
    from hoacu_xlsx import catalogue_book

    src = cat.resolve(config, workdir)
    current = cat.load(src)
    if year <= current.year:
        raise NewRoundError(f"Danh mục đang dùng ({src.name}) là đợt năm {current.year}; năm của đợt mới phải sau "
                            f"{current.year}.")
    if not 2000 <= year <= 2100:
        raise NewRoundError(f"Năm {year} không hợp lệ.")
    in_folder = src.parent.resolve() == workdir.resolve() and src.name in (cat.BOOK_FILE, cat.DEFAULT_FILE)
    kept = workdir / f"danh_muc_{current.year}{src.suffix if in_folder else '.xlsx'}"
    archive = workdir / ROUND_DIR.format(year=current.year)
    moving = [workdir / d for d in PER_ROUND_DIRS if _has_content(workdir / d)]
    clash = [p for p in [kept] + [archive / d.name for d in moving] if p.exists()]
    if clash:
        raise NewRoundError(f"Đã có {', '.join(str(p) for p in clash)}: có vẻ đợt năm {current.year} đã được đóng. "
                            "Đổi tên hoặc chuyển các tệp này đi rồi chạy lại.")
    _no_merge_running(workdir)
    new = next_catalogue(current, year)
    if in_folder:
        os.replace(src, kept)
    else:
        catalogue_book.write(current, kept)
    moved = []
    for d in moving:
        archive.mkdir(exist_ok=True)
        os.replace(d, archive / d.name)
        moved.append(archive / d.name)
    _keep_mailbox_memory(archive, workdir)
    (workdir / "inbox").mkdir(exist_ok=True)
    path = catalogue_book.write(new, workdir / cat.BOOK_FILE)
    return NewRound(new, path, kept, current.year, moved)


def _keep_mailbox_memory(archive: Path, workdir: Path) -> None:
    """``fetch``'s memory of the mailbox belongs to the folder, not to a round: without it the new round
    would fetch last year's mail again (every old file then reported as another round's)."""
    import sqlite3
    from contextlib import closing

    from hoacu_xlsx.imap_state import STATE_RELPATH

    old = archive / STATE_RELPATH
    if not old.exists():
        return
    new = workdir / STATE_RELPATH
    new.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(old)) as src, closing(sqlite3.connect(new)) as dst:
        src.backup(dst)   # the WAL's content included


def _has_content(d: Path) -> bool:
    return d.is_dir() and any(d.iterdir())


def _no_merge_running(workdir: Path) -> None:
    if not (workdir / "store").is_dir():
        return
    from hoacu_xlsx.merge_lock import MergeBusy, MergeError, MergeLock

    try:
        with MergeLock(workdir):
            pass
    except (MergeBusy, MergeError) as exc:
        raise NewRoundError(f"{exc} Chưa đổi gì.") from None
