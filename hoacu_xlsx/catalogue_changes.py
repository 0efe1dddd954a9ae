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

from hoacu_xlsx import messages as T
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
            lines.append(T.text("catalogue_changes/item_added", item=a["item"], title=_short(a["title"])))
            resend.update(a["assignees"])
        elif _item_changes(old_a[aid], a, lines):
            resend.update(a["assignees"])
    for aid, a in old_a.items():
        if aid not in new_a:
            lines.append(T.text("catalogue_changes/item_removed", item=a.get("item", aid),
                                title=_short(a.get("title", ""))))
    if old.get("deadline") and old["deadline"] != new["deadline"]:
        lines.append(T.text("catalogue_changes/deadline", old=_dmy(old["deadline"]), new=_dmy(new["deadline"])))
    if not lines:
        return []
    out = [T.text("catalogue_changes/head")] + [f"  • {x}" for x in lines]
    names = [c.unit(u).name for u in sorted(resend) if c.unit(u)]
    out.append(T.text("catalogue_changes/still_merged/resend" if names else "catalogue_changes/still_merged",
                      units=", ".join(names)))
    return out


def _dmy(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def _unit_changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    out = []
    for uid, name in new.items():
        if uid not in old:
            out.append(T.text("catalogue_changes/unit_added", unit=uid, name=name))
        elif old[uid] != name:
            out.append(T.text("catalogue_changes/unit_renamed", unit=uid, old=old[uid], new=name))
    for uid, name in old.items():
        if uid not in new:
            out.append(T.text("catalogue_changes/unit_removed", unit=uid, name=name))
    return out


def _item_changes(old: dict[str, Any], new: dict[str, Any], lines: list[str]) -> bool:
    """Append the changes of one item; True when workbooks already sent no longer fit it."""
    item = new["item"]
    structural = False
    if old.get("title") != new["title"]:
        lines.append(T.text("catalogue_changes/item_renamed", item=item, old=_short(old.get("title", "")),
                            new=_short(new["title"])))
    added = [u for u in new["assignees"] if u not in old.get("assignees", [])]
    if added:
        lines.append(T.text("catalogue_changes/assignees_added", item=item, units=", ".join(added)))
        structural = True
    for kid, label in new["kinds"].items():
        was = old.get("kinds", {}).get(kid)
        if was is None:
            lines.append(T.text("catalogue_changes/kind_added", item=item, label=label))
            structural = True
        elif was != label:
            lines.append(T.text("catalogue_changes/kind_renamed", item=item, old=was, new=label))
            structural = True
    old_c = old.get("criteria", {})
    for num, text in new["criteria"].items():
        if num not in old_c:
            lines.append(T.text("catalogue_changes/criterion_added", item=item, number=num, text=_short(text)))
            structural = True
        elif old_c[num] != text:
            lines.append(T.text("catalogue_changes/criterion_reworded", item=item, number=num,
                                old=_short(old_c[num]), new=_short(text)))
    for num in old_c:
        if num not in new["criteria"]:
            lines.append(T.text("catalogue_changes/criterion_removed", item=item, number=num))
    return structural
