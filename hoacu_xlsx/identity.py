"""Who a nomination row is: identity that follows people across versions, not spellings.

Two keys, for two jobs:

* :func:`person_key` tells people apart. It folds what does not change a name — case,
  spacing, Unicode form (NFC/NFD), legacy TCVN3/VNI text, old/new tone placement
  ("Hoà"/"Hòa") — but keeps every diacritic: "Lê Thị Hà" and "Lê Thị Hạ" are two people.
  Nomination ids are built on it, so the officer's decisions never move between them.
* :func:`loose_key` (no diacritics) only proposes that a row of a newer version may be the
  same nominee as a row that disappeared from the older one (a corrected spelling).

:func:`match` pairs disappeared rows with new rows when it is clear (same kind; close name;
same birth year, position or achievement text; unique both ways) and lists the candidates
for the officer when it is not. It never guesses.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from hoacu_xlsx import messages as T
from hoacu_xlsx import normalize as N

# combining tone marks -> a digit appended to the syllable (Telex order: sắc huyền hỏi ngã nặng)
_TONES = {"\u0301": "1", "\u0300": "2", "\u0309": "3", "\u0303": "4", "\u0323": "5"}
MAX_EDITS = 2
# the fields that, equal and non-empty, make a close name "clearly the same nominee"
EVIDENCE = (("nam_sinh", "năm sinh"), ("chuc_vu_don_vi", "chức vụ"), ("thanh_tich", "thành tích"))


def _syllable_key(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    tones = "".join(_TONES[ch] for ch in decomposed if ch in _TONES)
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    return base + tones


def person_key(name: str) -> str:
    """'  LÊ THỊ  HÀ ' -> 'lê thi5 ha2'; keeps diacritics, so 'Hà' and 'Hạ' differ."""
    text = N.clean_text(name)
    text, _ = N.fix_legacy(text)
    return " ".join(_syllable_key(w) for w in text.lower().split(" ") if w)


def loose_key(name: str) -> str:
    """No diacritics, no case: 'Lê Thị Hà' == 'Le Thi Ha' == 'Lê Thị Hạ'."""
    return N.fold_key(name)


def edit_distance(a: str, b: str, limit: int = MAX_EDITS) -> int:
    """Levenshtein distance, stopping early once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def close_names(a: str, b: str) -> bool:
    """Same name up to diacritics, or a couple of typing slips — but never a different number ('Tổ 1'/'Tổ 3')."""
    if re.findall(r"\d+", a) != re.findall(r"\d+", b):
        return False
    la, lb = loose_key(a), loose_key(b)
    if la == lb:
        return True
    ka, kb = N.clean_text(a).lower(), N.clean_text(b).lower()
    return min(len(la), len(lb)) >= 6 and edit_distance(ka, kb) <= MAX_EDITS


def shared_evidence(old: Any, new: Any) -> list[str]:
    """What else, besides a close name, is equal (Vietnamese labels)."""
    out = []
    for key, label in EVIDENCE:
        a, b = old.values.get(key, ""), new.values.get(key, "")
        if a and a == b:
            out.append(label)
    return out


@dataclass
class Pairing:
    """The outcome of matching one (unit, assignment)'s disappeared rows with its new rows."""

    links: list[tuple[Any, Any]]                 # (old nomination, new nomination): clearly the same
    candidates: list[tuple[Any, list[Any]]]      # (new nomination, old nominations it might be)


def match(gone: list[Any], new: list[Any]) -> Pairing:
    """Pair rows only when the match is clear and unique in both directions; list the rest."""
    close = {id(n): [g for g in gone if g.values.get("loai_dien_hinh") == n.values.get("loai_dien_hinh")
                     and close_names(g.values.get("ten", ""), n.values.get("ten", ""))] for n in new}
    sure = {id(n): [g for g in close[id(n)] if shared_evidence(g, n)] for n in new}
    claimed: dict[int, int] = {}
    for n in new:
        for g in sure[id(n)]:
            claimed[id(g)] = claimed.get(id(g), 0) + 1
    out = Pairing([], [])
    for n in new:
        s = sure[id(n)]
        if len(s) == 1 and len(close[id(n)]) == 1 and claimed[id(s[0])] == 1:
            out.links.append((s[0], n))
        elif close[id(n)]:
            out.candidates.append((n, close[id(n)]))
    return out


def link_note(old: Any, new: Any, by_officer: bool = False) -> str:
    """What the row says about its link, e.g. "Đã nối với bản trước: tên cũ 'Lê Thi Ha'"."""
    changes = []
    if old.values.get("ten", "") != new.values.get("ten", ""):
        changes.append(f"tên cũ '{old.values.get('ten', '')}'")
    if old.values.get("nam_sinh", "") != new.values.get("nam_sinh", ""):
        changes.append(f"năm sinh cũ {old.values.get('nam_sinh') or '(trống)'}")
    head = f"Cán bộ đã nối với mã {old.nomination_id}" if by_officer else "Đã nối với bản trước"
    return head + (": " + ", ".join(changes) if changes else f" (mã cũ {old.nomination_id})")


LINK_KEY = "noi_voi"   # the officer's column "Nối với mã điển hình" (master.OFFICER_COLUMNS)


class Links:
    """The nomination rows of current versions, with decisions carried along links between ids.

    A link (old id -> new id) says a row of a newer version is the same nominee as a row that
    disappeared from an older one: made here when clear (``auto``) or typed by the officer in
    "Nối với mã điển hình" (``officer``). Links live in the store (stable from merge to merge);
    the linked old row is no longer listed as withdrawn, and the new row says what changed.
    """

    def __init__(self, store: Any, officer: dict[str, dict[str, str]], year: int) -> None:
        self.store, self.officer, self.year = store, officer, year
        self.links: dict[tuple[str, str], tuple[str, str]] = {(o, n): (h, t) for o, n, h, t in store.links()}
        self.added: dict[tuple[str, str], tuple[str, str]] = {}
        self.dropped: list[tuple[str, str]] = []
        self.carried: dict[str, dict[str, str]] = {}
        self.problems: list[Any] = []

    # -- the graph
    def _succ(self, old: str) -> list[str]:
        return [n for (o, n) in self.links if o == old]

    def _pred(self, new: str) -> list[str]:
        return [o for (o, n) in self.links if n == new]

    def _leads_to(self, old: str, targets: set[str], depth: int = 0) -> bool:
        return depth < 50 and any(n in targets or self._leads_to(n, targets, depth + 1) for n in self._succ(old))

    def _link(self, old: Any, new: Any, how: str) -> None:
        key = (old.nomination_id, new.nomination_id)
        if self.links.get(key, ("",))[0] != how:
            self.links[key] = self.added[key] = (how, link_note(old, new, how == "officer"))

    # -- rows
    def rows_for(self, unit: Any, a: Any, entry: Any, noms_by_sha: dict[str, list[Any]],
                 older: list[Any]) -> list[Any]:
        """The rows of one (unit, assignment): current ones, then withdrawn ones not linked to a current row."""
        from hoacu_xlsx import picture as P

        cur = [n for n in noms_by_sha[entry.sha256] if n.assignment_id == a.id]
        ids = {n.nomination_id for n in cur}
        prior: dict[str, tuple[Any, Any]] = {}
        for old in older:                                   # oldest first: the latest occurrence wins
            for n in noms_by_sha[old.sha256]:
                if n.assignment_id == a.id:
                    prior[n.nomination_id] = (n, old)
        gone = {i: v for i, v in prior.items() if i not in ids}
        self._officer_links(unit, a, cur, gone, entry)
        new = [n for n in cur if n.nomination_id not in prior and not self._pred(n.nomination_id)]
        free = [g for i, (g, _) in gone.items() if not self._succ(i)]
        pairing = match(free, new)
        for old, n in pairing.links:
            self._link(old, n, "auto")
        for n, cands in pairing.candidates:
            self.problems.append(self._candidates_problem(unit, n, cands, entry))
        rows = [P.NominationRow(n, unit, a, P.NOM_CURRENT if n.valid else P.NOM_ERROR, entry.received_at,
                                self._values(n), self._note(n.nomination_id)) for n in cur]
        for i, (n, old) in gone.items():
            if not self._leads_to(i, ids):
                rows.append(P.NominationRow(n, unit, a, P.NOM_WITHDRAWN, old.received_at, self.officer.get(i, {})))
        return rows

    def _officer_links(self, unit: Any, a: Any, cur: list[Any], gone: dict[str, tuple[Any, Any]], entry: Any) -> None:
        """Apply what the officer typed in "Nối với mã điển hình"; a cleared cell undoes the link."""
        for n in cur:
            target = (self.officer.get(n.nomination_id, {}).get(LINK_KEY) or "").strip().upper()
            for (o, nn), (how, _) in list(self.links.items()):   # the officer's word replaces other links
                if nn == n.nomination_id and o != target and (how == "officer" or target):
                    del self.links[(o, nn)]
                    self.dropped.append((o, nn))
            if not target:
                continue
            if target in gone:
                self._link(gone[target][0], n, "officer")
            else:
                self.problems.append(T.problem(
                    "bad_link", n.file, unit_id=unit.id, sheet=n.sheet, cell=n.refs.get("ten"), value=target,
                    sha256=entry.sha256, target=target, name=n.values.get('ten', ''), nomination_id=n.nomination_id,
                    unit=unit.name, item=a.item))

    def _candidates_problem(self, unit: Any, n: Any, cands: list[Any], entry: Any) -> Any:
        def who(x: Any) -> str:
            return T.reason("link.who", name=x.values.get('ten', ''), nomination_id=x.nomination_id,
                            born=x.values.get('nam_sinh') or '—', file=x.file, row=x.row)
        return T.problem("link_candidates", n.file, unit_id=unit.id, sheet=n.sheet, cell=n.refs.get("ten"),
                         value=n.values.get("ten", ""), sha256=entry.sha256, row=n.row, who=who(n),
                         candidates=T.reason("link.or").join(who(c) for c in cands))

    def _note(self, new_id: str) -> str:
        return "; ".join(t for (o, n), (_, t) in self.links.items() if n == new_id)

    # -- the officer's columns
    def _decided(self, values: dict[str, str] | None) -> bool:
        return bool(values) and any(v for k, v in values.items() if k != LINK_KEY)  # type: ignore[union-attr]

    def _inherited(self, nid: str, depth: int = 0) -> dict[str, str] | None:
        """The officer's values of ``nid``, or (when it has none) of what it was linked from."""
        if self._decided(self.officer.get(nid)):
            return self.officer[nid]
        for old in self._pred(nid) if depth < 50 else []:
            if (v := self._inherited(old, depth + 1)) is not None:
                return v
        return None

    def _values(self, n: Any) -> dict[str, str]:
        """The officer's columns for a current row; decisions are carried (and stored) when a link is new."""
        nid = n.nomination_id
        own = self.officer.get(nid)
        fresh = any(k[1] == nid for k in self.added)
        if not self._decided(own) and (own is None or fresh):
            src = next((v for old in self._pred(nid) if (v := self._inherited(old)) is not None), None)
            if src is None and own is None and n.legacy_id and n.legacy_id != nid:
                src = self.officer.get(n.legacy_id)      # a store from before identity.py: keyed by the old id
            if src is not None:
                carried = {k: v for k, v in src.items() if k != LINK_KEY}
                carried[LINK_KEY] = (own or {}).get(LINK_KEY, "")
                self.carried[nid] = self.officer[nid] = carried
                return carried
        return own or {}

    def save(self) -> None:
        """Persist new and undone links and carried decisions (a small transaction of its own)."""
        if not (self.added or self.dropped or self.carried):
            return
        try:
            self.store.begin()
            for o, n in self.dropped:
                self.store.delete_link(o, n)
            for (o, n), (how, note) in self.added.items():
                self.store.save_link(o, n, how, note)
            from hoacu_xlsx.history import officer_keys

            self.store.save_officer_values(officer_keys(self.carried, self.year))   # the officer's columns are per round
            self.store.commit()
        except Exception:  # recomputed at the next merge; the master still shows them now
            self.store.rollback()
