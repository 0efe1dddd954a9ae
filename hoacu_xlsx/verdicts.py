"""The officer's verdict on a returned file, as typed in the file log (Nhật ký tệp).

Blank: the tool decides. "Không tính": the file is set aside (rejected or withdrawn).
"Tính cho đơn vị: <mã hoặc tên>": the file is credited to that unit, whatever its hidden
identity says (this also settles a unit conflict). Case, spacing and diacritics do not matter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hoacu_xlsx import fields as F
from hoacu_xlsx import messages as T
from hoacu_xlsx.catalogue import Catalogue
from hoacu_xlsx.normalize import fold_key

EXCLUDE = "exclude"
ASSIGN = "assign"


class VerdictError(ValueError):
    """The verdict cannot be understood; the message is Vietnamese."""


@dataclass(frozen=True)
class Verdict:
    action: str                 # EXCLUDE | ASSIGN
    unit_id: str | None = None


_EXCLUDE = fold_key(F.FILE_VERDICT_EXCLUDE)
_ASSIGN = re.compile(r"^tinh\s*cho(?:\s*don\s*vi)?\s*[:\-]?\s*(.*)$")


def parse(text: str, catalogue: Catalogue) -> Verdict | None:
    """'Không tính' / 'Tính cho đơn vị: cong_an' / 'tinh cho don vi Công an xã' -> Verdict; blank -> None."""
    folded = fold_key(text or "")
    if not folded:
        return None
    if folded.rstrip(" .") == _EXCLUDE:
        return Verdict(EXCLUDE)
    m = _ASSIGN.match(folded)
    if not m:
        raise VerdictError(T.reason("verdict.unclear", text=text.strip(), exclude=F.FILE_VERDICT_EXCLUDE,
                                    assign=F.FILE_VERDICT_ASSIGN))
    target = m.group(1).strip(" .")
    for unit in catalogue.units:
        if target in (fold_key(unit.id), fold_key(unit.name)):
            return Verdict(ASSIGN, unit.id)
    raise VerdictError(T.reason("verdict.unknown_unit", target=target, assign=F.FILE_VERDICT_ASSIGN,
                                example=catalogue.units[0].id) if target else
                       T.reason("verdict.no_unit", assign=F.FILE_VERDICT_ASSIGN))
