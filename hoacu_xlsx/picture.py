"""The merged picture of a round: what the master and ``status`` show.

The merge computes it from the store; the master writer, the feedback writer and
``status`` only render it. Keeping it a plain data structure lets the master be
rebuilt from the store alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from hoacu_xlsx.catalogue import Assignment, Catalogue, Unit
from hoacu_xlsx.clock import to_vn
from hoacu_xlsx.problems import Problem
from hoacu_xlsx.validator import Nomination

# unit status labels (the brief's wording)
NOT_SUBMITTED = "Chưa nộp"
SUBMITTED_OK = "Đã nộp – hợp lệ"
SUBMITTED_ERRORS = "Đã nộp – có lỗi"
LATE = "Nộp muộn"

# nomination states
NOM_CURRENT = "Đang dùng"
NOM_WITHDRAWN = "Đã rút ở bản mới"
NOM_ERROR = "Có lỗi – chưa tính"

# file outcomes
FILE_CURRENT = "Bản đang dùng"
FILE_REPLACED = "Bản cũ (đã có bản mới hơn)"
FILE_REJECTED = "Không đọc được / bị từ chối"
FILE_UNIDENTIFIED = "Không xác định được đơn vị"
FILE_CONFLICT = "Chưa tính: đơn vị không khớp, chờ cán bộ quyết định"
FILE_EXCLUDED = "Không tính (cán bộ TĐKT quyết định)"

# where a received time came from (the file log's "Nguồn thời điểm nhận")
SOURCE_OFFICER = "cán bộ TĐKT sửa"
SOURCE_EMAIL = "ngày gửi thư (Date)"
SOURCE_MTIME = "giờ lưu tệp vào inbox/"
SOURCE_CLOCK = "lần đầu lệnh merge thấy tệp"
SOURCE_LEGACY = "lần đầu thấy tệp"            # stored before the source was recorded


def format_dt(value: datetime | None) -> str:
    """Times as the officer reads them, in Vietnam time: dd/mm/yyyy hh:mm."""
    return to_vn(value).strftime("%d/%m/%Y %H:%M") if value else ""


@dataclass
class FileEntry:
    sha256: str
    name: str
    origin: str | None
    fmt: str | None
    size: int
    received_at: datetime
    received_source: str           # Vietnamese, one of SOURCE_* (plus a remark when the email Date was odd)
    sender: str | None
    unit_id: str | None
    unit_name: str
    identified_by: str | None
    version: int | None            # 1, 2, ... per unit by received time
    outcome: str
    errors: int = 0
    warnings: int = 0
    nominations: int = 0
    archive: str | None = None
    seen_as: list[str] = field(default_factory=list)   # other names the same bytes arrived under
    arrived_at: datetime | None = None  # when the commune got it (override or first seen): orders versions
    verdict: str = ""                   # the officer's verdict as typed in the file log ("" = the tool decides)


@dataclass
class UnitStatus:
    unit: Unit
    status: str
    latest_file: str = ""
    received_at: datetime | None = None
    first_received_at: datetime | None = None
    late: bool = False
    version: int | None = None
    nominations: int = 0           # valid, counted
    errors: int = 0
    warnings: int = 0
    assignments: list[str] = field(default_factory=list)   # assignment ids held


@dataclass
class AssignmentSummary:
    assignment: Assignment
    units_assigned: list[Unit]
    units_submitted: list[Unit]
    nominations: int               # valid, counted
    per_unit: dict[str, int]       # unit id -> valid nominations
    quota_met: bool
    late_units: list[Unit]

    @property
    def quota_text(self) -> str:
        a = self.assignment
        if a.quota_scope == "each":
            done = sum(1 for u in self.units_assigned if self.per_unit.get(u.id, 0) >= a.quota)
            return f"Mỗi đơn vị ≥ {a.quota:02d}: {done}/{len(self.units_assigned)} đơn vị đạt"
        return f"Chung ≥ {a.quota:02d}: có {self.nominations}"


@dataclass(slots=True)
class NominationRow:
    nomination: Nomination
    unit: Unit
    assignment: Assignment
    state: str
    received_at: datetime | None
    officer: dict[str, str] = field(default_factory=dict)
    note: str = ""                  # identity across versions, e.g. "Đã nối với bản trước: tên cũ '…'"


@dataclass
class MaterialEntry:
    """A write-up or photo kept as replication material, and what it was linked to (see materials.py)."""

    sha256: str
    name: str                       # as first seen, relative to inbox/ ("thu.eml › Kinh nghiệm.docx")
    origin: str | None
    fmt: str                        # docx | odt | doc | pdf | jpg | png
    size: int
    received_at: datetime
    sender: str | None
    archive: str | None             # relative to store/
    seen_as: list[str] = field(default_factory=list)
    unit: Unit | None = None
    nomination_id: str = ""
    nominee: str = ""
    linked_by: str = ""             # Vietnamese: how the unit / nomination was found
    note: str = ""                  # Vietnamese: why a link is missing, for the officer
    copy: str = ""                  # the officer's copy, relative to master/ (set by merge)


@dataclass
class Picture:
    catalogue: Catalogue
    now: datetime
    assignments: list[AssignmentSummary]
    units: list[UnitStatus]
    nominations: list[NominationRow]
    problems: list[Problem]
    files: list[FileEntry]
    materials: list[MaterialEntry] = field(default_factory=list)

    @property
    def deadline(self) -> date:
        return self.catalogue.deadline

    @property
    def days_left(self) -> int:
        """Days until the deadline (negative: overdue), counted in Vietnam."""
        return (self.deadline - to_vn(self.now).date()).days

    def deadline_text(self) -> str:
        d = self.days_left
        when = f"{self.deadline:%d/%m/%Y}"
        if d > 0:
            return f"Hạn nộp {when}: còn {d} ngày"
        if d == 0:
            return f"Hạn nộp {when}: hôm nay là hạn cuối"
        return f"Hạn nộp {when}: đã quá hạn {-d} ngày"

    def unit_status(self, unit_id: str) -> UnitStatus | None:
        for s in self.units:
            if s.unit.id == unit_id:
                return s
        return None
