"""Problems found in returned files: one shape shared by every stage.

Intake, reader and validator all report through :class:`Problem`; the store keeps
them, the master lists them and the feedback writer marks them in the unit's file.
Messages are Vietnamese (NFC) because the officer and the units read them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields

ERROR = "error"      # keeps the row (or file) from counting
WARNING = "warning"  # reported, the row still counts

SEVERITY_LABEL = {ERROR: "Lỗi", WARNING: "Cảnh báo"}


@dataclass(frozen=True, slots=True)   # slots: a province round holds hundreds of thousands
class Problem:
    """One thing wrong with a file, a row or a cell."""

    file: str                    # name as the officer knows it (relative to inbox/)
    message: str                 # Vietnamese: what is wrong and what to do
    severity: str = ERROR
    code: str = ""               # stable machine code, e.g. "missing_column"
    unit_id: str | None = None
    sheet: str | None = None
    cell: str | None = None      # A1 reference, when there is one
    value: str | None = None     # the value found, as text
    sha256: str | None = None    # the content (file bytes) it belongs to: problems follow content, not names

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", unicodedata.normalize("NFC", self.message))

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict:
        return {f: getattr(self, f) for f in _FIELDS}

    def where(self) -> str:
        """Human-readable location: 'tệp › sheet › ô'."""
        parts = [self.file]
        if self.sheet:
            parts.append(f"trang '{self.sheet}'")
        if self.cell:
            parts.append(f"ô {self.cell}")
        return " › ".join(parts)

    def __str__(self) -> str:
        label = SEVERITY_LABEL.get(self.severity, self.severity)
        return f"[{label}] {self.where()}: {self.message}"


_FIELDS = tuple(f.name for f in fields(Problem))
