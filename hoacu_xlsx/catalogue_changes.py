"""What changed in the catalogue since the workbooks went out.

``generate`` saves a snapshot of the catalogue next to the workbooks it wrote
(``outbox/.danh_muc_<năm>.json``); the next ``generate`` compares and tells the officer,
in Vietnamese, what changed and whether workbooks already sent still fit: a renamed unit
or a reworded criterion does (files are matched by token, unit id and criterion number),
an added item, criterion or nominee kind does not (those units need the new workbook).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from hoacu_xlsx.catalogue import Catalogue

SNAPSHOT = ".danh_muc_{year}.json"


def snapshot(c: Catalogue) -> dict[str, Any]:
    return {
        "year": c.year, "deadline": c.deadline.isoformat(),
        "units": {u.id: u.name for u in c.units},
        "assignments": {a.id: {"item": a.item, "title": a.title, "assignees": [u.id for u in c.assignees_of(a)],
                               "kinds": {k.id: k.label for k in a.nominee_kinds},
                               "criteria": {str(cr.number): cr.text for cr in a.criteria}}
                        for a in c.assignments},
    }


def snapshot_path(c: Catalogue, outdir: Path) -> Path:
    return outdir / SNAPSHOT.format(year=c.year)


def save(c: Catalogue, outdir: Path) -> None:
    path = snapshot_path(c, outdir)
    from hoacu_xlsx.atomic import write_bytes

    write_bytes(path, json.dumps(snapshot(c), ensure_ascii=False, indent=1).encode("utf-8"))


def previous(c: Catalogue, outdir: Path) -> dict[str, Any] | None:
    """The snapshot of the last generate of this year (None when there is none or it is unreadable)."""
    try:
        data = json.loads(snapshot_path(c, outdir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "assignments" in data else None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def describe(old: dict[str, Any], c: Catalogue) -> list[str]:
    """One Vietnamese line per change, then who needs the new workbook; [] when nothing changed."""
    new = snapshot(c)
    lines = _unit_changes(old.get("units", {}), new["units"])
    resend: set[str] = set()
    old_a, new_a = old.get("assignments", {}), new["assignments"]
    for aid, a in new_a.items():
        if aid not in old_a:
            lines.append(f"Thêm mục {a['item']} \"{_short(a['title'])}\".")
            resend.update(a["assignees"])
        elif _item_changes(old_a[aid], a, lines):
            resend.update(a["assignees"])
    for aid, a in old_a.items():
        if aid not in new_a:
            lines.append(f"Bỏ mục {a.get('item', aid)} \"{_short(a.get('title', ''))}\": dữ liệu mục này trong sổ "
                         "gửi về sẽ không được tính.")
    if old.get("deadline") and old["deadline"] != new["deadline"]:
        lines.append(f"Hạn nộp đổi: {_dmy(old['deadline'])} → {_dmy(new['deadline'])} (sổ đã gửi in hạn cũ).")
    if not lines:
        return []
    out = ["Danh mục đã thay đổi so với lần tạo sổ trước:"] + [f"  • {x}" for x in lines]
    names = [c.unit(u).name for u in sorted(resend) if c.unit(u)]
    out.append("Sổ đã gửi trước vẫn được tổng hợp (nhận diện theo mã sổ, mã đơn vị, số tiêu chí)"
               + (f"; nhưng hãy gửi lại sổ mới cho: {', '.join(names)}." if names else "."))
    return out


def _dmy(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def _unit_changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    out = []
    for uid, name in new.items():
        if uid not in old:
            out.append(f"Thêm đơn vị \"{uid}\" ({name}).")
        elif old[uid] != name:
            out.append(f"Đơn vị \"{uid}\" đổi tên: \"{old[uid]}\" → \"{name}\" (sổ đã gửi vẫn được nhận).")
    for uid, name in old.items():
        if uid not in new:
            out.append(f"Bỏ đơn vị \"{uid}\" ({name}): sổ đơn vị này gửi về sẽ không được tính.")
    return out


def _item_changes(old: dict[str, Any], new: dict[str, Any], lines: list[str]) -> bool:
    """Append the changes of one item; True when workbooks already sent no longer fit it."""
    head = f"Mục {new['item']}"
    structural = False
    if old.get("title") != new["title"]:
        lines.append(f"{head} đổi tên: \"{_short(old.get('title', ''))}\" → \"{_short(new['title'])}\".")
    added = [u for u in new["assignees"] if u not in old.get("assignees", [])]
    if added:
        lines.append(f"{head} giao thêm cho: {', '.join(added)}.")
        structural = True
    for kid, label in new["kinds"].items():
        was = old.get("kinds", {}).get(kid)
        if was is None:
            lines.append(f"{head} thêm loại điển hình \"{label}\".")
            structural = True
        elif was != label:
            lines.append(f"{head}: loại \"{was}\" đổi tên thành \"{label}\" — sổ đã gửi còn tên cũ.")
            structural = True
    old_c = old.get("criteria", {})
    for num, text in new["criteria"].items():
        if num not in old_c:
            lines.append(f"{head} thêm tiêu chí {num} \"{_short(text)}\" — sổ đã gửi chưa có cột này.")
            structural = True
        elif old_c[num] != text:
            lines.append(f"{head}, tiêu chí {num} sửa lời: \"{_short(old_c[num])}\" → \"{_short(text)}\" "
                         "(sổ đã gửi vẫn được nhận).")
    for num in old_c:
        if num not in new["criteria"]:
            lines.append(f"{head} bỏ tiêu chí {num}.")
    return structural
