"""Examples followed year to year: earlier rounds read back from their masters and linked.

The dispatch asks the commune to build and *replicate* examples over a plan period;
no single round shows that. Each earlier round's master (``master/tong_hop_<year>.xlsx``)
is the record of what was nominated and what the officer decided, so it is read back
(by header label, tolerant of added rows and columns) and every nomination of this
round is linked to the same example in earlier rounds.

Linking never guesses: the same example is the same unit, the same nominee kind
base, the same name after folding case, spacing and Unicode form (diacritics kept:
"Lê Thị Hà" is not "Lê Thị Hạ") and the same birth year when both have one — and
only when exactly one earlier example and exactly one row of the round fit each
other. Everything else that looks alike is reported to the officer as "có thể là".
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from hoacu_xlsx import fields as F
from hoacu_xlsx import messages as T
from hoacu_xlsx import normalize as N
from hoacu_xlsx import picture as P
from hoacu_xlsx.catalogue import Catalogue
from hoacu_xlsx.problems import Problem

PAST_HEADER = "Các năm trước"
SHEET_TRACKING = "Theo dõi nhiều năm"
CHOSEN = F.OFFICER_DECISIONS[1]          # "Được chọn"
MASTER_NAME = re.compile(r"^tong_hop_(\d{4})\.xlsx$")
HEADER_SCAN_ROWS = 30

# labels of the master's nominations sheet (see master._nominations)
ID_LABEL = "Mã điển hình"
UNIT_LABEL = "Đơn vị"
UNIT_ID_LABEL = "Mã đơn vị"              # optional: an identity column a later master may carry
ITEM_LABEL = "Mục"
STATE_LABEL = "Tình trạng"
DECISION_LABEL = "Kết quả xét chọn"      # master.OFFICER_COLUMNS["ket_qua"]
HONOUR_LABEL = "Hình thức tôn vinh"      # master.OFFICER_COLUMNS["hinh_thuc_ton_vinh"]
_FIELD_LABEL = {f.key: f.header for f in F.HEAD_FIELDS}
# older or reworded headers of the name column, matched after folding
_NAME_ALIASES = ("ho va ten", "ten tap the")


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Entry:
    """One nomination in one round, as far as linking and the tracking sheet need it."""

    year: int
    unit_key: str          # catalogue unit id, or "~<folded name>" for a unit the catalogue no longer has
    unit_name: str
    item: int | None
    kind_label: str
    base: str
    name: str
    birth: str = ""
    decision: str = ""
    honour: str = ""
    nomination_id: str = ""

    @property
    def strict_name(self) -> str:
        """Case, spacing and Unicode form folded; diacritics kept."""
        return N.clean_text(self.name).casefold()

    @property
    def loose_key(self) -> tuple[str, str, str]:
        """Unit, kind base and the name without diacritics: who could possibly be the same."""
        return self.unit_key, self.base, N.fold_key(self.name)

    @property
    def chosen(self) -> bool:
        return self.decision == CHOSEN

    def label(self) -> str:
        """'Lê Thị Hà (1980), Mục 10' for messages."""
        who = f"{self.name} ({self.birth})" if self.birth else self.name
        return f"{who}, Mục {self.item}" if self.item is not None else who

    def outcome(self) -> str:
        """'đề xuất, được chọn – Giấy khen của Chủ tịch UBND xã'."""
        text = "đề xuất"
        if self.decision:
            text += ", " + self.decision[:1].lower() + self.decision[1:]
        if self.honour:
            text += " – " + self.honour
        return text


@dataclass
class PastRounds:
    years: list[int] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    materials: dict[tuple[int, str], list[str]] = field(default_factory=dict)   # (year, nomination id) -> files


@dataclass
class Track:
    """One example across rounds: at most one entry per year, in year order."""

    entries: list[Entry]
    maybe: list[tuple["Track", str]] = field(default_factory=list)   # earlier examples it may be, and why

    @property
    def latest(self) -> Entry:
        return self.entries[-1]

    def births(self) -> set[str]:
        return {e.birth for e in self.entries if e.birth}

    def in_year(self, year: int) -> Entry | None:
        return next((e for e in self.entries if e.year == year), None)


@dataclass
class ItemCount:
    item: int
    title: str
    nominations: int = 0
    repeated: int = 0       # the same example nominated again
    replicated: int = 0     # a new example, for a unit that had examples in this item before
    new: int = 0            # a new example, the unit's first in this item
    uncertain: int = 0      # may be an earlier example: the officer decides


@dataclass
class History:
    year: int
    past_years: list[int]
    tracks: list[Track]
    current: dict[str, Track]          # nomination id of this round -> its track
    counts: list[ItemCount]
    problems: list[Problem] = field(default_factory=list)
    materials: dict[tuple[int, str], list[str]] = field(default_factory=dict)   # (year, nomination id) -> files

    def materials_text(self, track: "Track") -> str:
        """'2024: Kinh nghiệm.docx; 2025: Bài viết.pdf' — the write-ups received for one example."""
        return "; ".join(f"{e.year}: {', '.join(names)}" for e in track.entries
                         if (names := self.materials.get((e.year, e.nomination_id))))

    def totals(self) -> dict[str, int]:
        keys = ("nominations", "repeated", "replicated", "new", "uncertain")
        return {k: sum(getattr(c, k) for c in self.counts) for k in keys}

    def past_text(self, nomination_id: str) -> str:
        """The cell 'Các năm trước' of one nomination of this round."""
        track = self.current.get(nomination_id)
        if track is None:
            return ""
        parts = [f"{e.year}: {e.outcome()}" + (f" (Mục {e.item})" if e.item != track.latest.item else "")
                 for e in track.entries if e.year < self.year]
        text = "; ".join(parts)
        if track.maybe:
            maybe = "; ".join(f"{_track_brief(t, self.year)} ({why})" for t, why in track.maybe)
            text = (text + ". " if text else "") + f"Có thể là (cán bộ kiểm tra): {maybe}"
        return text

    def summary(self) -> dict[str, Any]:
        """For ``status --json``."""
        return {"past_years": self.past_years, **self.totals(),
                "by_item": [vars(c).copy() for c in self.counts],
                "warnings": [p.message for p in self.problems]}

    def status_line(self) -> str:
        t = self.totals()
        years = ", ".join(map(str, self.past_years)) or "chưa có sổ năm trước"
        return (f"Qua các năm ({years}): {t['repeated']} điển hình đề xuất lại, {t['replicated']} điển hình nhân "
                f"rộng, {t['new']} điển hình mới, {t['uncertain']} chưa chắc (cán bộ kiểm tra).")


def _track_brief(track: Track, before: int) -> str:
    """'2024 – Lê Thị Hà (1980), Mục 10: đề xuất, được chọn'."""
    return "; ".join(f"{e.year} – {e.label()}: {e.outcome()}" for e in track.entries if e.year < before)


# --------------------------------------------------------------------------- reading earlier masters


def past_masters(workdir: Path, year: int) -> list[tuple[int, Path]]:
    """The masters of rounds before ``year`` in master/, oldest first."""
    folder = workdir / "master"
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        m = MASTER_NAME.match(p.name)
        if m and int(m.group(1)) < year:
            found.append((int(m.group(1)), p))
    return sorted(found)


def load(workdir: Path, year: int, catalogue: Catalogue) -> PastRounds:
    """Every earlier round's nominations; a master that cannot be read is one warning, never a crash."""
    out = PastRounds()
    for y, path in past_masters(workdir, year):
        try:
            entries = list(read_master(path, y, catalogue))
        except _Unreadable as exc:
            out.problems.append(T.problem("history_master_unreadable", str(path), year=y, name=path.name,
                                          reason=exc))
            continue
        out.years.append(y)
        out.entries += entries
        out.materials.update({(y, nid): names for nid, names in read_materials(path).items()})
    return out


def read_materials(path: Path) -> dict[str, list[str]]:
    """Nomination id -> file names on an earlier master's 'Tài liệu nhân rộng' (none when it has no such sheet)."""
    from python_calamine import CalamineWorkbook

    from hoacu_xlsx.master import SHEET_MATERIALS
    from hoacu_xlsx.materials import FILE_HEADER

    out: dict[str, list[str]] = defaultdict(list)
    try:
        wb = CalamineWorkbook.from_path(str(path))
        try:
            if SHEET_MATERIALS not in wb.sheet_names:
                return {}
            rows = wb.get_sheet_by_name(SHEET_MATERIALS).to_python()
        finally:
            wb.close()
    except Exception:   # advice only: the nominations of that year are still followed
        return {}
    head = [N.clean_text(v) for v in (rows[0] if rows else [])]
    if ID_LABEL not in head or FILE_HEADER not in head:
        return {}
    i, f = head.index(ID_LABEL), head.index(FILE_HEADER)
    for row in rows[1:]:
        nid, name = (N.clean_text(row[i]) if i < len(row) else ""), (N.clean_text(row[f]) if f < len(row) else "")
        if nid and name:
            out[nid].append(name)
    return dict(out)


class _Unreadable(Exception):
    """A past master that cannot be used; the message is Vietnamese."""


def read_master(path: Path, year: int, catalogue: Catalogue) -> Iterator[Entry]:
    """The counted nominations of one earlier master, streamed row by row from its nominations sheet."""
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception:
        raise _Unreadable(T.reason("history.damaged")) from None
    try:
        from hoacu_xlsx.master import SHEET_NOMINATIONS

        if SHEET_NOMINATIONS not in wb.sheet_names:
            raise _Unreadable(T.reason("history.no_sheet", sheet=SHEET_NOMINATIONS))
        try:
            rows = wb.get_sheet_by_name(SHEET_NOMINATIONS).iter_rows()
            yield from _entries(rows, year, catalogue)
        except _Unreadable:
            raise
        except Exception:
            raise _Unreadable(T.reason("history.sheet_broken", sheet=SHEET_NOMINATIONS)) from None
    finally:
        wb.close()


def _entries(rows: Iterable[list[Any]], year: int, catalogue: Catalogue) -> Iterator[Entry]:
    rows = iter(rows)
    cols: dict[str, int] = {}
    for _ in range(HEADER_SCAN_ROWS):
        row = next(rows, None)
        if row is None:
            break
        labels = [N.clean_text(v) for v in row]
        if ID_LABEL in labels:
            cols = _columns(labels)
            break
    missing = [lbl for lbl in (UNIT_LABEL, STATE_LABEL) if lbl not in cols] + (
        [] if "ten" in cols else [T.reason("history.name_column")])
    if not cols or missing:
        raise _Unreadable(T.reason("history.no_header", label=ID_LABEL) if not cols
                          else T.reason("history.missing_columns", columns=", ".join(f"'{m}'" for m in missing)))
    kinds = _kind_bases(catalogue)
    for row in rows:
        def cell(key: str) -> str:
            c = cols.get(key)
            return N.clean_text(row[c]) if c is not None and c < len(row) else ""

        if cell(STATE_LABEL) != P.NOM_CURRENT or not cell("ten"):
            continue
        unit_name = cell(UNIT_LABEL)
        unit = catalogue.unit(cell(UNIT_ID_LABEL)) or catalogue.unit_by_name(unit_name)
        kind = cell("loai_dien_hinh")
        birth = cell("nam_sinh")
        yield Entry(year, unit.id if unit else "~" + N.fold_key(unit_name), unit.name if unit else unit_name,
                    _item(cell(ITEM_LABEL)), kind, kinds.get(kind) or _guess_base(kind), cell("ten"),
                    birth if birth.isdigit() else "", cell(DECISION_LABEL), cell(HONOUR_LABEL), cell(ID_LABEL))


def _columns(labels: list[str]) -> dict[str, int]:
    """Column of each wanted label (first occurrence); field columns under their field key."""
    by_label: dict[str, int] = {}
    for c, lbl in enumerate(labels):
        if lbl:
            by_label.setdefault(lbl, c)
    cols = {lbl: by_label[lbl] for lbl in (ID_LABEL, UNIT_LABEL, UNIT_ID_LABEL, ITEM_LABEL, STATE_LABEL,
                                           DECISION_LABEL, HONOUR_LABEL) if lbl in by_label}
    for key in ("ten", "loai_dien_hinh", "nam_sinh"):
        if _FIELD_LABEL[key] in by_label:
            cols[key] = by_label[_FIELD_LABEL[key]]
    if "ten" not in cols:
        cols.update({"ten": c for lbl, c in reversed(by_label.items())
                     if N.fold_key(lbl).startswith(_NAME_ALIASES)})
    return cols


def _item(text: str) -> int | None:
    m = re.search(r"\d+", text)
    return int(m.group()) if m else None


def _kind_bases(catalogue: Catalogue) -> dict[str, str]:
    return {k.label: k.base for a in catalogue.assignments for k in a.nominee_kinds}


def _guess_base(label: str) -> str:
    """The base of a kind label the catalogue no longer has, from its wording."""
    folded = N.fold_key(label)
    for prefix, base in (("tap the", "tap_the"), ("ho gia dinh", "ho_gia_dinh"), ("gia dinh", "ho_gia_dinh"),
                         ("ca nhan", "ca_nhan")):
        if folded.startswith(prefix):
            return base
    return folded


# --------------------------------------------------------------------------- linking


def current_entries(picture: P.Picture) -> list[Entry]:
    """This round's counted nominations as entries (decisions as the officer typed them so far)."""
    out = []
    for r in picture.nominations:
        if r.state != P.NOM_CURRENT:
            continue
        v = r.nomination.values
        kind = r.assignment.kind_by_label(v.get("loai_dien_hinh", ""))
        base = r.nomination.kind_base or (kind.base if kind else _guess_base(v.get("loai_dien_hinh", "")))
        birth = v.get("nam_sinh", "")
        out.append(Entry(picture.catalogue.year, r.unit.id, r.unit.name, r.assignment.item,
                         v.get("loai_dien_hinh", ""), base, v.get("ten", ""), birth if birth.isdigit() else "",
                         r.officer.get("ket_qua", ""), r.officer.get("hinh_thuc_ton_vinh", ""),
                         r.nomination.nomination_id))
    return out


def link_rounds(entries: Iterable[Entry]) -> tuple[list[Track], dict[int, Track]]:
    """Group entries of all rounds into examples, round by round (oldest first).

    Returns the tracks and, by ``id(entry)``, the track each entry ended in.
    """
    by_year: dict[int, list[Entry]] = defaultdict(list)
    for e in entries:
        by_year[e.year].append(e)
    tracks: list[Track] = []
    index: dict[tuple[str, str, str], list[Track]] = defaultdict(list)
    where: dict[int, Track] = {}
    for year in sorted(by_year):
        rows = by_year[year]
        sure = [[t for t in index.get(e.loose_key, ()) if same_example(t, e)] for e in rows]
        claims = Counter(id(t) for ts in sure for t in ts)
        born: list[Track] = []
        for e, ts in zip(rows, sure):
            if len(ts) == 1 and claims[id(ts[0])] == 1:
                ts[0].entries.append(e)
                where[id(e)] = ts[0]
                continue
            track = Track([e])
            for t in index.get(e.loose_key, ()):
                why = _why_maybe(t, e, t in ts)
                if why:
                    track.maybe.append((t, why))
            born.append(track)
            where[id(e)] = track
        for t in born:
            tracks.append(t)
            index[t.latest.loose_key].append(t)
    return tracks, where


def same_example(track: Track, e: Entry) -> bool:
    """Same unit, kind base and name (diacritics kept), birth years equal where both are known."""
    last = track.latest
    if last.year >= e.year or (last.unit_key, last.base) != (e.unit_key, e.base):
        return False
    if last.strict_name != e.strict_name:
        return False
    births = track.births()
    return not (e.birth and births and e.birth not in births)


def _why_maybe(track: Track, e: Entry, sure: bool) -> str:
    """Why an earlier example may be this one (blank: it may not). Same loose key assumed."""
    if track.latest.year >= e.year:
        return ""
    if sure:
        return "nhiều điển hình cùng tên, cùng năm sinh — không tự ghép"
    if track.latest.strict_name != e.strict_name:
        births = track.births()
        if e.birth and births and e.birth not in births:
            return ""
        return "tên chỉ giống khi bỏ dấu"
    return "cùng tên nhưng khác năm sinh"


def link(past: PastRounds, picture: P.Picture) -> History:
    """This round's nominations linked to earlier rounds, and the counts per item."""
    mine = current_entries(picture)
    tracks, where = link_rounds([*past.entries, *mine])
    year = picture.catalogue.year
    current = {e.nomination_id: where[id(e)] for e in mine}
    had_item: set[tuple[str, int | None]] = {(e.unit_key, e.item) for e in past.entries}
    counts = {a.assignment.item: ItemCount(a.assignment.item, a.assignment.title)
              for a in picture.assignments if a.assignment.nominations}
    for e in mine:
        c = counts.setdefault(e.item or 0, ItemCount(e.item or 0, ""))
        track = current[e.nomination_id]
        c.nominations += 1
        if len(track.entries) > 1:
            c.repeated += 1
        elif track.maybe:
            c.uncertain += 1
        elif (e.unit_key, e.item) in had_item:
            c.replicated += 1
        else:
            c.new += 1
    materials = dict(past.materials)
    for m in picture.materials:
        if m.nomination_id:
            materials.setdefault((year, m.nomination_id), []).append(m.name.rsplit(" › ", 1)[-1])
    return History(year, past.years, tracks, current, sorted(counts.values(), key=lambda c: c.item),
                   list(past.problems), materials)


def compute(catalogue: Catalogue, workdir: Path, picture: P.Picture) -> History:
    """Earlier masters read and linked to this round; any failure is a warning, never a stopped merge."""
    try:
        return link(load(workdir, catalogue.year, catalogue), picture)
    except Exception as exc:  # history is advice: it must never cost the officer a merge
        empty = link(PastRounds(), picture)
        empty.problems.append(T.problem("history_failed", str(workdir / "master"), error=type(exc).__name__))
        return empty


# --------------------------------------------------------------------------- one store, several rounds


def officer_keys(values: dict[str, dict[str, str]], year: int) -> dict[str, dict[str, str]]:
    """The officer's columns keyed by round: a nomination id is the same for the same person every year
    (unit, item, name, birth year), and a decision of 2024 must never show as the decision of 2025."""
    return {f"{year}|{nid}": v for nid, v in values.items()}


def officer_of_round(stored: dict[str, dict[str, str]], year: int, workdir: Path) -> dict[str, dict[str, str]]:
    """The stored officer columns of one round, by nomination id.

    Values saved before rounds were told apart carry no year; they belong to the folder's
    first round, so they are used only when no earlier round's master is in master/.
    """
    prefix = f"{year}|"
    mine = {k[len(prefix):]: v for k, v in stored.items() if k.startswith(prefix)}
    if past_masters(workdir, year):
        return mine
    return {**{k: v for k, v in stored.items() if "|" not in k}, **mine}


# --------------------------------------------------------------------------- writing into the master


def write_overview(ws: Any, st: Any, hist: History, first_row: int | None = None) -> int:
    """The replicated/repeated table on the dashboard, below what is there; returns the last row written."""
    r = first_row if first_row is not None else ws.dim_rowmax + 22   # below the dashboard's chart
    years = ", ".join(map(str, hist.past_years))
    ws.write_string(r, 0, "NHÂN RỘNG VÀ ĐỀ XUẤT LẠI SO VỚI CÁC NĂM TRƯỚC", st.bold)
    note = (f"Đối chiếu với sổ tổng hợp năm {years} trong master/ (xem trang '{SHEET_TRACKING}')." if years else
            "Chưa có sổ tổng hợp của năm trước trong master/: mọi điển hình năm nay được tính là mới.")
    ws.write_string(r + 1, 0, note, st.sub)
    r += 1
    for p in hist.problems:
        r += 1
        ws.write_string(r, 0, p.message, st.sub)
    r += 1
    headers = ["Mục", "Phong trào / lĩnh vực", "Điển hình năm nay", "Đề xuất lại (đã đề xuất năm trước)",
               "Nhân rộng (điển hình mới ở đơn vị đã có)", "Mới (đơn vị lần đầu có ở mục)", "Chưa chắc (cán bộ xem)"]
    for c, h in enumerate(headers):
        ws.write_string(r, c, h, st.header)
    ws.set_row(r, 45)
    for c in hist.counts:
        r += 1
        ws.set_row(r, 15.75 * max(1, -(-len(c.title) // 50)))   # wrapped title: Excel does not size the row
        ws.write_string(r, 0, f"Mục {c.item}", st.text)
        ws.write_string(r, 1, c.title, st.wrap)
        ws.write_row(r, 2, [c.nominations, c.repeated, c.replicated, c.new, c.uncertain], st.text)
    r += 1
    t = hist.totals()
    ws.write_string(r, 1, "Cộng", st.bold)
    ws.write_row(r, 2, [t["nominations"], t["repeated"], t["replicated"], t["new"], t["uncertain"]], st.bold)
    return r


def write_tracking(wb: Any, st: Any, hist: History) -> None:
    """The sheet 'Theo dõi nhiều năm': each example across rounds, printable on A4 with a filter."""
    from hoacu_xlsx.master import SHEET_MATERIALS   # its column: the write-ups received, year by year

    ws = wb.add_worksheet(SHEET_TRACKING)
    years = sorted({*hist.past_years, hist.year})
    headers = ["Đơn vị", "Mục", _FIELD_LABEL["loai_dien_hinh"], _FIELD_LABEL["ten"], _FIELD_LABEL["nam_sinh"]]
    for y in years:
        headers += [f"{y}: đề xuất", f"{y}: kết quả", f"{y}: hình thức tôn vinh"]
    headers += ["Số năm được đề xuất", "Có thể trùng với (cán bộ kiểm tra)", SHEET_MATERIALS]
    widths = [26, 8, 16, 26, 8] + [10, 12, 22] * len(years) + [10, 40, 36]
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    for c, h in enumerate(headers):
        ws.write_string(0, c, h, st.header)
    ws.set_row(0, 45)
    ws.freeze_panes(1, 4)
    tracks = sorted(hist.tracks, key=lambda t: (t.latest.item or 0, t.latest.unit_name, N.fold_key(t.latest.name),
                                                t.latest.strict_name, t.entries[0].year))
    from hoacu_xlsx.xlsx_rows import RowWriter   # a province has tens of thousands of tracks: rows as XML

    count = 5 + 3 * len(years)
    out = RowWriter(ws, 1, [st.text] * (count + 1) + [st.wrap, st.wrap])
    for r, t in enumerate(tracks, start=1):
        last = t.latest
        cells: list[Any] = [last.unit_name, f"Mục {last.item}" if last.item is not None else "", last.kind_label,
                            last.name, ", ".join(sorted(t.births()))]
        for y in years:
            e = t.in_year(y)
            cells += [None] * 3 if e is None else \
                [f"Mục {e.item}" if e.item is not None else "Có", e.decision, e.honour]
        maybe = "; ".join(f"{_track_brief(m, last.year + 1)} ({why})" for m, why in t.maybe)
        if maybe:
            ws.set_row(r, 15.75 * max(1, -(-len(maybe) // 40)))   # wrapped: Excel does not size the row
        out.row(r, cells + [len(t.entries), maybe or None, hist.materials_text(t) or None])
    out.close()
    ws.autofilter(0, 0, max(len(tracks), 1), len(headers) - 1)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_footer("&CTrang &P/&N")
    ws.set_header(f"&C{SHEET_TRACKING} — đề xuất điển hình tiên tiến các năm {years[0]}–{years[-1]}")

