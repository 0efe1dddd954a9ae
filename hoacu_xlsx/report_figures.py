"""The figures of the commune's papers, computed once from the round's picture.

The report, the list, the tờ trình and the meeting chart all render this one structure,
so their numbers cannot differ from each other, and each number comes straight from the
picture the master shows (units assigned, submitted, late, nominations, quota) plus the
officer's decisions typed into the master.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hoacu_xlsx import fields as F
from hoacu_xlsx import picture as P
from hoacu_xlsx.normalize import fold_key

CHOSEN, NOT_CHOSEN, UNDECIDED = F.OFFICER_DECISIONS[1], F.OFFICER_DECISIONS[2], F.OFFICER_DECISIONS[0]
_DECISIONS = {fold_key(d): d for d in F.OFFICER_DECISIONS}
GROUPS = (("tap_the", "I", "TẬP THỂ"), ("ca_nhan", "II", "CÁ NHÂN"), ("ho_gia_dinh", "III", "HỘ GIA ĐÌNH"))
NO_FORM = "Chưa ghi hình thức tôn vinh"


@dataclass
class ItemFigures:
    """One item (assignment) of the dispatch: who had to act, who did, what came of it."""

    item: int
    assignment_id: str
    title: str
    nominations: bool              # False: a duty (e.g. item 14), no nominations asked
    assigned: list[str]            # unit names
    on_time: list[str]
    late: list[str]
    not_submitted: list[str]
    proposed: int                  # valid nominations counted in the master
    chosen: int
    not_chosen: int
    undecided: int
    quota_met: bool
    quota_text: str
    duty: str = ""


@dataclass
class Chosen:
    """A nominee the officer chose, with the form of honour to propose."""

    row: P.NominationRow
    form: str
    form_defaulted: bool           # the officer left the form blank: the catalogue's first form is used

    @property
    def base(self) -> str:
        n = self.row.nomination
        if n.kind_base:
            return n.kind_base
        kind = self.row.assignment.kind_by_label(n.values.get("loai_dien_hinh", ""))
        return kind.base if kind else "ca_nhan"


@dataclass
class RoundFigures:
    year: int
    items: list[ItemFigures]
    units_total: int
    submitted: list[str]
    on_time: list[str]
    late: list[str]
    not_submitted: list[str]
    chosen: list[Chosen] = field(default_factory=list)
    undecided: list[P.NominationRow] = field(default_factory=list)
    unreadable_decisions: list[tuple[P.NominationRow, str]] = field(default_factory=list)
    chosen_not_counted: list[P.NominationRow] = field(default_factory=list)

    @property
    def is_draft(self) -> bool:
        return bool(self.undecided)

    @property
    def nomination_items(self) -> list[ItemFigures]:
        return [i for i in self.items if i.nominations]

    @property
    def duties(self) -> list[ItemFigures]:
        return [i for i in self.items if not i.nominations]

    def chosen_by_base(self, base: str) -> int:
        return sum(1 for c in self.chosen if c.base == base)


def decision(row: P.NominationRow) -> tuple[str, str]:
    """The officer's decision as one of the three labels, and the raw text when it was not understood."""
    raw = (row.officer.get("ket_qua") or "").strip()
    if not raw:
        return UNDECIDED, ""
    label = _DECISIONS.get(fold_key(raw))
    return (label, "") if label else (UNDECIDED, raw)


def compute(pic: P.Picture) -> RoundFigures:
    """Every figure of the papers from one picture."""
    cat = pic.catalogue
    default_form = cat.honour_forms[0] if cat.honour_forms else NO_FORM
    by_item: dict[str, dict[str, int]] = {a.assignment.id: {CHOSEN: 0, NOT_CHOSEN: 0, UNDECIDED: 0}
                                          for a in pic.assignments}
    fig = RoundFigures(cat.year, [], len(pic.units), [], [], [], [])
    rows = sorted(pic.nominations, key=lambda r: (r.assignment.item, r.unit.name, r.nomination.row))
    for row in rows:
        label, raw = decision(row)
        if row.state != P.NOM_CURRENT:
            if label == CHOSEN:
                fig.chosen_not_counted.append(row)
            continue
        by_item.setdefault(row.assignment.id, {CHOSEN: 0, NOT_CHOSEN: 0, UNDECIDED: 0})[label] += 1
        if raw:
            fig.unreadable_decisions.append((row, raw))
        if label == CHOSEN:
            form = (row.officer.get("hinh_thuc_ton_vinh") or "").strip()
            fig.chosen.append(Chosen(row, form or default_form, not form))
        elif label == UNDECIDED:
            fig.undecided.append(row)
    for s in pic.units:
        if s.status == P.NOT_SUBMITTED:
            fig.not_submitted.append(s.unit.name)
        else:
            fig.submitted.append(s.unit.name)
            (fig.late if s.late else fig.on_time).append(s.unit.name)
    for a in pic.assignments:
        x = a.assignment
        late = {u.id for u in a.late_units}
        done = {u.id for u in a.units_submitted}
        counts = by_item[x.id]
        duty_text = x.duty or x.note
        fig.items.append(ItemFigures(
            item=x.item, assignment_id=x.id, title=x.title, nominations=x.nominations,
            assigned=[u.name for u in a.units_assigned],
            on_time=[u.name for u in a.units_submitted if u.id not in late],
            late=[u.name for u in a.late_units],
            not_submitted=[u.name for u in a.units_assigned if u.id not in done],
            proposed=a.nominations, chosen=counts[CHOSEN], not_chosen=counts[NOT_CHOSEN],
            undecided=counts[UNDECIDED], quota_met=a.quota_met, quota_text=a.quota_text, duty=duty_text))
    return fig
