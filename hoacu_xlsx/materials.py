"""Replication material (dispatch II–III): the write-ups and photos units send, kept, linked, copied, listed.

A unit that has written up its example's experience sends the .docx/.odt/.doc/.pdf (or
photos) with its workbook or on its own. Intake recognises them by content and never
parses them; here they are recorded by content (one row per distinct file, archived like
the workbooks), linked to a unit and a nomination each time the picture is built — so a
write-up that came before its workbook is linked once the workbook arrives — and copied
next to the master where the officer can open them from the sheet ``Tài liệu nhân rộng``.

Linking never guesses. Every piece of evidence names a set of units (nominations); a link
is made only when the sets agree on exactly one, otherwise the cell stays blank and the
note says why, in words the officer can act on.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

from hoacu_xlsx import messages as T
from hoacu_xlsx import normalize as N
from hoacu_xlsx import picture as P
from hoacu_xlsx.catalogue import Catalogue
from hoacu_xlsx.clock import parse_when
from hoacu_xlsx.intake.incoming import SEP, Incoming, label
from hoacu_xlsx.intake.scan import stat_key
from hoacu_xlsx.master import SHEET_MATERIALS
from hoacu_xlsx.store import MaterialRecord, Store

COPY_DIR = "tai_lieu_{year}"          # beside the master: master/tai_lieu_2024/<unit id>/<file>
NO_UNIT_DIR = "chua_ro_don_vi"
KIND_LABEL = {"docx": "Văn bản Word", "doc": "Văn bản Word 97–2003", "odt": "Văn bản LibreOffice", "pdf": "Tệp PDF",
              "jpg": "Ảnh", "png": "Ảnh"}
_EXT_OK = {"jpg": ("jpg", "jpeg"), "docx": ("docx",), "doc": ("doc",), "odt": ("odt",), "pdf": ("pdf",),
           "png": ("png",)}
_RENAME = "Đổi tên tệp trong inbox/ cho có {what} rồi chạy lại lệnh merge để gắn."

# --------------------------------------------------------------------------- recording (merge)


def record(store: Store, incomings: Iterable[Incoming], inbox: Path, stamp: str) -> int:
    """Archive and record materials found in inbox/ (inside the merge's transaction); the number of new ones."""
    from hoacu_xlsx.merge import _first_seen

    new = 0
    for inc in incomings:
        store.note_sighting(inc.sha256, inc.name)
        try:
            mtime: float | None = (inbox / inc.origin).stat().st_mtime
        except OSError:
            mtime = None
        seen, how = _first_seen(stamp, mtime)
        archive = store.archive(inc.sha256, inc.data, inc.fmt)
        new += store.add_material(MaterialRecord(
            inc.sha256, inc.name, inc.origin, inc.fmt or "bin", len(inc.data), seen, how,
            inc.received_at.isoformat() if inc.received_at else None, inc.sender, archive))
        inc.data = b""
    return new


# --------------------------------------------------------------------------- linking (build_picture)


def _tokens(text: str) -> list[str]:
    """'Kinh nghiệm - Lê Thị Mẫu_2.docx' -> ['kinh', 'nghiem', 'le', 'thi', 'mau', '2', 'docx']."""
    return [t for t in re.split(r"[^a-z0-9]+", N.fold_key(text.replace("_", " "))) if t]


def _spans(hay: list[str], needle: list[str]) -> list[tuple[int, int]]:
    """Where the words of ``needle`` stand together in ``hay`` (whole words only)."""
    n = len(needle)
    return [(i, i + n) for i in range(len(hay) - n + 1) if n and hay[i:i + n] == needle]


def _best(found: dict[str, list[tuple[int, int, int]]]) -> set[str]:
    """Keys matched somewhere not inside a longer match of another key ('Lê An' inside 'Lê An Bình')."""
    def inside(key: str, i: int, s: int, e: int) -> bool:
        return any(o != key and j == i and a <= s and e <= b and b - a > e - s
                   for o, spans in found.items() for j, a, b in spans)
    return {k for k, spans in found.items() if any(not inside(k, *span) for span in spans)}


def _named(names: list[str], labels: dict[str, list[list[str]]]) -> set[str]:
    """Keys whose label (as words, at least two) stands in one of the file names."""
    found: dict[str, list[tuple[int, int, int]]] = {}
    for i, name in enumerate(names):
        hay = _tokens(name)
        for key, lbls in labels.items():
            for words in lbls:
                if len(words) >= 2:
                    found.setdefault(key, []).extend((i, s, e) for s, e in _spans(hay, words))
    return _best({k: v for k, v in found.items() if v})


def _container(name: str) -> str | None:
    """'thu.eml › goi.zip › a.docx' -> 'thu.eml › goi.zip'; None for a file put straight in inbox/."""
    return name.rsplit(SEP, 1)[0] if SEP in name else None


class Linker:
    """What a material can be linked to: the round's credited workbooks, units and nominations."""

    def __init__(self, catalogue: Catalogue, files: list[P.FileEntry], nominations: list[P.NominationRow]) -> None:
        self.catalogue = catalogue
        self.books = [(n, f.unit_id) for f in files if f.unit_id for n in [f.name, *f.seen_as]]
        self.unit_labels = {u.id: [_tokens(x) for x in (u.id, u.name, u.short) if x] for u in catalogue.units}
        rows: dict[str, P.NominationRow] = {}
        for r in nominations:       # one row per id: the counted one when there are several versions
            if r.state != P.NOM_WITHDRAWN and (r.nomination.nomination_id not in rows or r.state == P.NOM_CURRENT):
                rows[r.nomination.nomination_id] = r
        self.rows = rows

    def unit_evidence(self, m: P.MaterialEntry, names: list[str]) -> list[tuple[str, set[str]]]:
        """(how, unit ids) from each source that names any unit."""
        out: list[tuple[str, set[str]]] = []
        boxes = {c for n in names if (c := _container(n))}
        sib = {uid for n, uid in self.books if any(n.startswith(c + SEP) for c in boxes)}
        if sib:
            out.append(("cùng thư/gói với sổ của đơn vị", sib))
        if m.sender:
            by_mail = {u.id for u in self.catalogue.units_by_email(m.sender)}
            if by_mail:
                out.append((f"địa chỉ người gửi {m.sender}", by_mail))
        by_name = _named([label(n) for n in names] + [c.rsplit(SEP, 1)[-1] for c in boxes], self.unit_labels)
        if by_name:
            out.append(("tên tệp", by_name))
        return out

    def nomination_evidence(self, names: list[str], unit_id: str | None) -> list[tuple[str, set[str]]]:
        rows = {k: r for k, r in self.rows.items() if unit_id is None or r.unit.id == unit_id}
        out: list[tuple[str, set[str]]] = []
        by_id = _named(names, {k: [_tokens(k)] for k in rows})
        if by_id:
            out.append(("mã điển hình trong tên tệp", by_id))
        by_name = _named([label(n) for n in names], {k: [_tokens(r.nomination.values.get("ten", ""))]
                                                     for k, r in rows.items()})
        if by_name:
            out.append(("tên điển hình trong tên tệp", by_name))
        stems = [w for n in names if len(w := _tokens(PurePosixPath(label(n)).stem)) >= 2]
        cited = {k for k, r in rows.items() for key in ("tai_lieu_kinh_nghiem", "ghi_chu")
                 if any(_spans(_tokens(r.nomination.values.get(key, "")), w) for w in stems)}
        if cited:
            out.append(("sổ ghi tên tệp ở cột 'Tài liệu kinh nghiệm'/'Ghi chú'", cited))
        return out

    def link(self, m: P.MaterialEntry) -> None:
        names = [m.name, *m.seen_as]
        units = self.unit_evidence(m, names)
        agreed = set.intersection(*(s for _, s in units)) if units else set()
        if len(agreed) == 1:
            m.unit = self.catalogue.unit(next(iter(agreed)))
            m.linked_by = "đơn vị theo " + "; ".join(how for how, _ in units)
        elif units:
            m.note = "Chưa gắn đơn vị: " + "; ".join(f"theo {how} là {self._unit_names(s)}" for how, s in units) + \
                ". " + _RENAME.format(what="mã đơn vị (xem trang Đơn vị)")
            return
        noms = self.nomination_evidence(names, m.unit.id if m.unit else None)
        picked = set.intersection(*(s for _, s in noms)) if noms else set()
        if len(picked) == 1:
            row = self.rows[next(iter(picked))]
            m.nomination_id, m.nominee = row.nomination.nomination_id, row.nomination.values.get("ten", "")
            if m.unit is None:
                m.unit = row.unit
                m.linked_by = "đơn vị theo điển hình"
            m.linked_by = "; ".join(x for x in (m.linked_by, "điển hình theo " + "; ".join(h for h, _ in noms)) if x)
        elif noms:
            m.note = "Chưa gắn điển hình: " + "; ".join(f"theo {how} có thể là {self._nominees(s)}" for how, s in noms) \
                + ". " + _RENAME.format(what="họ tên hoặc mã của đúng một điển hình")
        elif m.unit is None:
            m.note = ("Chưa rõ của đơn vị nào: tệp không gửi kèm sổ, địa chỉ người gửi và tên tệp không cho biết đơn "
                      "vị. " + _RENAME.format(what="mã đơn vị (xem trang Đơn vị) hoặc họ tên điển hình"))
        else:
            m.note = "Chưa rõ của điển hình nào. " + _RENAME.format(what="họ tên hoặc mã điển hình")

    def _unit_names(self, ids: set[str]) -> str:
        return " hoặc ".join(sorted(u.name for i in ids if (u := self.catalogue.unit(i))))

    def _nominees(self, ids: set[str]) -> str:
        rows = sorted((self.rows[i] for i in ids), key=lambda r: r.nomination.nomination_id)
        return " hoặc ".join(f"{r.nomination.values.get('ten', '')} ({r.nomination.nomination_id})" for r in rows)


def entries(catalogue: Catalogue, store: Store, files: list[P.FileEntry], nominations: list[P.NominationRow],
            now: Any) -> list[P.MaterialEntry]:
    """Every stored material, linked to what this round's picture holds."""
    stored = list(store.materials())
    if not stored:
        return []       # the linker indexes every unit and nomination: not for nothing
    seen = store.sightings()
    linker = Linker(catalogue, files, nominations)
    out = []
    for rec in stored:
        received = parse_when(rec.email_date or "") or parse_when(rec.first_seen) or now
        m = P.MaterialEntry(rec.sha256, rec.name, rec.origin, rec.fmt, rec.size or 0, min(received, now), rec.sender,
                            rec.archive, [n for n in seen.get(rec.sha256, []) if n != rec.name], copy=rec.copy or "")
        linker.link(m)
        out.append(m)
    out.sort(key=lambda m: (m.unit is None, m.unit.name if m.unit else "", m.nominee, m.received_at, m.name))
    return out


def status_line(pic: P.Picture) -> str:
    loose = sum(1 for m in pic.materials if not m.nomination_id)
    return f"Tài liệu nhân rộng: {len(pic.materials)} tệp, {loose} chưa gắn với điển hình."


# --------------------------------------------------------------------------- copies beside the master (merge)

_BAD_CHARS = re.compile(r'[\x00-\x1f<>:"/\\|?*#%]+')
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def safe_name(name: str, fmt: str) -> str:
    """A file name every system and a hyperlink accept: no path signs, '#' or '%', not too long, the right
    extension for what the file is (a .pdf that is really a Word file gets '.docx' added)."""
    base = unicodedata.normalize("NFC", label(name).replace("\\", "/").rsplit("/", 1)[-1])
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = " ".join(_BAD_CHARS.sub(" ", stem).split()).strip(" .")[:80] or "tai_lieu"
    if stem.lower() in _RESERVED:
        stem += "_"
    ext = _BAD_CHARS.sub("", ext).lower()
    return f"{stem}.{ext}" if ext in _EXT_OK.get(fmt, (fmt,)) else f"{stem}.{ext}.{fmt}" if ext else f"{stem}.{fmt}"


class _Copies:
    """Which bytes the copies beside the master hold. A copy is hashed once; after that, while its stat key
    (size, modification and change times, file id) is the same, it is known without reading it again:
    a province's photos and write-ups are not re-read on every merge. Any change of the file changes
    its change time, and it is hashed again."""

    def __init__(self, master_dir: Path, store: Store) -> None:
        self.master_dir, self.store = master_dir, store
        self.known = store.copy_stats()
        self.seen: dict[str, tuple[str, tuple[int, ...]]] = {}

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.master_dir).as_posix()

    def same(self, path: Path, sha256: str) -> bool:
        """Does ``path`` hold exactly the bytes ``sha256``?"""
        try:
            st = os.stat(path)
            if not stat.S_ISREG(st.st_mode):
                return False
            key, rel = stat_key(st), self._rel(path)
            if self.known.get(rel) != (sha256, key):
                if _digest(path) != sha256:
                    return False
            self.seen[rel] = (sha256, key)
            return True
        except (OSError, ValueError):
            return False

    def written(self, path: Path, sha256: str) -> None:
        """``path`` was just written (or moved) with the bytes ``sha256``."""
        try:
            self.seen[self._rel(path)] = (sha256, stat_key(os.stat(path)))
        except (OSError, ValueError):
            pass

    def save(self) -> None:
        self.store.save_copy_stats(self.seen)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _target(folder: Path, name: str, sha256: str, copies: _Copies) -> Path:
    """Where the copy goes: the name itself, or 'name (2)', 'name (3)' … — never over a different file."""
    stem, ext = os.path.splitext(name)
    n = 1
    while True:
        p = folder / (name if n == 1 else f"{stem} ({n}){ext}")
        if not p.exists() or copies.same(p, sha256):
            return p
        n += 1


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def place_copies(pic: P.Picture, master_dir: Path, store: Store) -> list[str]:
    """Copy every material once (by content) to master/tai_lieu_<year>/<unit id>/; Vietnamese notices on failure.

    A copy that is still right (same bytes, right folder) is kept; one whose unit changed is moved.
    """
    root = master_dir / COPY_DIR.format(year=pic.catalogue.year)
    copies = _Copies(master_dir, store)
    notices = []
    for m in pic.materials:
        folder = root / (m.unit.id if m.unit else NO_UNIT_DIR)
        old = master_dir / m.copy if m.copy else None
        if old is not None and old.parent == folder and copies.same(old, m.sha256):
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
            dest = _target(folder, safe_name(m.name, m.fmt), m.sha256, copies)
            if not dest.exists():
                if old is not None and copies.same(old, m.sha256):
                    os.replace(old, dest)
                elif (data := store.archived_bytes(m.archive or "")) is not None:
                    _write(dest, data)
                else:
                    notices.append(T.text("material_copy/lost", name=label(m.name)))
                    m.copy = ""
                    continue
                copies.written(dest, m.sha256)
        except OSError as exc:
            notices.append(T.text("material_copy", name=label(m.name), folder=folder, error=exc.strerror or exc))
            m.copy = ""
            continue
        m.copy = dest.relative_to(master_dir).as_posix()
        store.set_material_copy(m.sha256, m.copy)
    if pic.materials or copies.known:
        copies.save()
    return notices


# --------------------------------------------------------------------------- the master's sheet

FILE_HEADER = "Tệp (bấm để mở)"      # read back by history.py from earlier masters, with "Mã điển hình"
HEADERS = [("Đơn vị", 26), ("Mã điển hình", 15), ("Tên điển hình", 24), (FILE_HEADER, 34), ("Loại", 14),
           ("Kích thước (KB)", 10), ("Thời điểm nhận", 16), ("Người gửi", 24), ("Cách gắn", 30),
           ("Ghi chú cho cán bộ", 44), ("Tên khi nhận (trong inbox/)", 34)]


def write_sheet(wb: Any, st: Any, pic: P.Picture) -> None:
    """'Tài liệu nhân rộng': one row per material with a link to the copy beside the master (derived: the
    tool rewrites it on every merge and never reads it back)."""
    from hoacu_xlsx.printing import setup_print

    ws = wb.add_worksheet(SHEET_MATERIALS)
    for c, (h, w) in enumerate(HEADERS):
        ws.set_column(c, c, w)
        ws.write_string(0, c, h, st.header)
    ws.set_row(0, 30)
    link_col = 3
    for r, m in enumerate(pic.materials, start=1):
        values = [m.unit.name if m.unit else "", m.nomination_id, m.nominee, label(m.name),
                  KIND_LABEL.get(m.fmt, m.fmt), round(m.size / 1024, 1), P.format_dt(m.received_at), m.sender or "",
                  m.linked_by, m.note, "; ".join([m.name, *m.seen_as])]
        for c, v in enumerate(values):
            if c == link_col and m.copy:
                ok = ws.write_url(r, c, "external:" + m.copy, string=label(m.name),
                                  tip="Mở bản sao trong thư mục " + str(PurePosixPath(m.copy).parent))
                if ok == 0:
                    continue
            if isinstance(v, float):
                ws.write_number(r, c, v, st.text)
            elif v:
                ws.write_string(r, c, v, st.wrap if c in (8, 9) else st.text)
    last = max(len(pic.materials), 1)
    ws.autofilter(0, 0, last, len(HEADERS) - 1)
    ws.freeze_panes(1, 1)
    setup_print(ws, title=f"{SHEET_MATERIALS} — Tổng hợp đề xuất điển hình tiên tiến năm {pic.catalogue.year}",
                landscape=True, repeat_rows=(0, 0), widths=[w for _, w in HEADERS])
