"""What the intake hands on (:class:`Incoming`), how it refuses (:class:`Refused`), and shared wording."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from hoacu_xlsx import messages as T
from hoacu_xlsx.problems import ERROR, Problem

if TYPE_CHECKING:
    from hoacu_xlsx.intake.limits import Limits

WORKBOOK_FORMATS = ("xlsx", "xlsm", "xls", "ods")
# write-ups of experience and photos a unit sends besides its workbook (dispatch II–III): kept, never read
MATERIAL_FORMATS = ("docx", "odt", "doc", "pdf", "jpg", "png")
WORKBOOK, MATERIAL = "workbook", "material"
IGNORED_NAMES = {"thumbs.db", "desktop.ini", "readme.md", "ehthumbs.db", "__macosx"}
SEP = " › "


@dataclass
class Incoming:
    """One candidate workbook, one kept material (``kind == MATERIAL``), or a refused file from inbox/."""

    name: str                       # "sub/a.xlsx", "thu.eml › Mục 1.xlsx", "goi.zip › x/a.xlsx"
    origin: str                     # the inbox file it came from
    data: bytes                     # workbook bytes; b"" when rejected
    fmt: str | None                 # xlsx | xlsm | xls | ods, by content
    sha256: str
    received_at: datetime | None = None
    sender: str | None = None
    problems: list[Problem] = field(default_factory=list)
    kind: str = WORKBOOK            # WORKBOOK (fmt in WORKBOOK_FORMATS) | MATERIAL (fmt in MATERIAL_FORMATS)
    stat: tuple[int, ...] | None = None   # the inbox file's stat when it was read (see scan.stat_key); None: not indexed
    unchanged: bool = False               # remembered from the inbox index: the file was not read again
    parts_checked: bool = True            # False: its parts' XML is left to the reading worker (scan.check_parts)

    @property
    def ok(self) -> bool:
        return self.fmt is not None and not any(p.is_error for p in self.problems)


class Refused(Exception):
    """This file (or member) is refused; the message is Vietnamese and names it."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.message, self.code = message, code


class StopOrigin(Refused):
    """The whole inbox file is hostile (its inflation budget is spent, or nesting too deep)."""


class Pool:
    """Bytes still allowed to be inflated from one inbox file, shared by every level inside it."""

    def __init__(self, left: int) -> None:
        self.left = left


@dataclass
class Ctx:
    """Where a file came from, while its container is being unpacked."""

    origin: str
    limits: "Limits"
    pool: Pool
    received_at: datetime | None = None
    sender: str | None = None
    defer_parts: bool = False       # a top-level .xlsx: only the zip headers here, its parts in the reading worker
    error_values: bool = False      # some scanned part holds a cell with a formula error value (t="e")


def label(name: str) -> str:
    """The part of a display name the unit knows: the attachment or member name."""
    return name.rsplit(SEP, 1)[-1]


def thousands(x: int) -> str:
    """Vietnamese thousands separator: 1048576 -> '1.048.576'."""
    return f"{x:,}".replace(",", ".")


def megabytes(x: int) -> str:
    return f"{x / 2**20:.1f}".replace(".", ",") + " MB"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ignored(base: str) -> bool:
    """Lock files, hidden files and desktop clutter: skipped silently, in inbox/ and inside containers."""
    low = base.lower()
    return (base.startswith("~$") or base.startswith(".~lock.") or base.startswith(".")
            or low in IGNORED_NAMES or low.endswith(".tmp"))


def refusal(key: str, name: str, *, stop: bool = False, **fields: object) -> Refused:
    """A refusal worded by ``messages.TEXTS[key]``, naming the file as the unit knows it."""
    return (StopOrigin if stop else Refused)(T.text(key, name=label(name), **fields), T.code_of(key))


def password(name: str) -> Refused:
    return refusal("password", name)


def not_workbook(name: str, what: str) -> Refused:
    return refusal("not_workbook", name, what=what)


def rejected(name: str, ctx: Ctx, data: bytes, message: str, code: str, severity: str = ERROR) -> Incoming:
    """A refused file as an Incoming without data."""
    # keyed by name too: two different broken files with the same bytes (two empty files) both get reported
    return Incoming(name, ctx.origin, b"", None, sha256_hex(data + b"\x00" + name.encode("utf-8", "replace")),
                    ctx.received_at, ctx.sender, [Problem(name, message, severity, code)])
