"""The round's catalogue: units, assignments, criteria and deadline, from a workbook or TOML.

The catalogue is the officer's to edit: ``hoacu-xlsx init`` writes the built-in 2024
one into the working folder as ``danh_muc.xlsx`` (``catalogue_book`` reads and writes
that workbook into the same dict shape TOML gives), so :func:`parse` is the one model
behind both. Every mistake must come back as a Vietnamese message naming the file and
the sheet/row, line or field — never a traceback.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from hoacu_xlsx import messages as T

BUILTIN_NAME = "catalogue_2024.toml"
BOOK_FILE = "danh_muc.xlsx"     # the working folder's catalogue workbook (``init``)
DEFAULT_FILE = "danh_muc.toml"  # the TOML alternative (``init --toml``)
VILLAGE_KIND = "Thôn"           # units of this kind are villages (they get the assign_villages items)
REVIEW_RESULTS = ("Đang xem xét", "Được chọn", "Không chọn")

BASES = ("tap_the", "ca_nhan", "ho_gia_dinh")
KINDS = {
    "phong_trao": "Phong trào thi đua",
    "cuoc_van_dong": "Cuộc vận động",
    "linh_vuc": "Lĩnh vực",
    "nhiem_vu": "Nhiệm vụ",
}
_ID = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class CatalogueProblem:
    """One mistake in the catalogue, pyxform style: '[Đơn vị, dòng 7] mã đơn vị "x" trùng với dòng 5'."""

    message: str
    sheet: str = ""
    row: int = 0   # 1-based sheet row; 0 when the problem is the sheet (or file) itself

    def __str__(self) -> str:
        if self.sheet and self.row:
            return T.reason("catalogue.at_row", sheet=self.sheet, row=self.row, message=self.message)
        if self.sheet:
            return f"[{self.sheet}] {self.message}"
        return self.message


class CatalogueError(Exception):
    """A catalogue that cannot be used: every problem found, in Vietnamese, each naming its place."""

    def __init__(self, problems: str | list[CatalogueProblem], source: str = "") -> None:
        self.problems = [CatalogueProblem(problems)] if isinstance(problems, str) else list(problems)
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        if len(self.problems) == 1 and not self.problems[0].sheet:
            return self.problems[0].message
        head = T.text("catalogue/errors", source=self.source, count=len(self.problems))
        return "\n".join([head] + [f"  • {p}" for p in self.problems])


@dataclass(frozen=True)
class NomineeKind:
    id: str
    label: str
    base: str  # tap_the | ca_nhan | ho_gia_dinh: decides which personal fields are required


@dataclass(frozen=True)
class Criterion:
    key: str        # field key in the workbook: tc_1, tc_2, ...
    number: int
    text: str       # the dispatch's wording
    short: str      # column header summary
    applies_to: tuple[str, ...]  # nominee kind ids


@dataclass(frozen=True)
class Assignment:
    id: str
    item: int
    kind: str
    title: str
    assignees: tuple[str, ...]
    quota: int
    quota_scope: str  # each | joint
    nominee_kinds: tuple[NomineeKind, ...]
    criteria: tuple[Criterion, ...]
    nominations: bool = True
    assign_villages: bool = False
    note: str = ""
    duty: str = ""

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def heading(self) -> str:
        return f"Mục {self.item}. {self.title}"

    def kind_by_label(self, label: str) -> NomineeKind | None:
        for k in self.nominee_kinds:
            if k.label == label:
                return k
        return None

    def criteria_for(self, kind_id: str) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if kind_id in c.applies_to)


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    kind: str
    email: str = ""
    is_village: bool = False
    short: str = ""     # short name for tight places (officer's choice; may be blank)
    contact: str = ""   # the unit's contact person


@dataclass(frozen=True)
class Receiver:
    """The officer who receives the returns (printed in every unit workbook)."""

    title: str
    name: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Signer:
    """Who signs the commune's papers (report, tờ trình): Decree 30/2020 signer block."""

    authority: str = "TM. ỦY BAN NHÂN DÂN"   # "TM. UBND" line
    title: str = "CHỦ TỊCH"                  # position line
    name: str = ""                            # left blank for the officer to fill in


@dataclass
class Catalogue:
    year: int
    commune: str
    issuer: str
    round_title: str
    dispatch: str
    deadline: date
    receiver: Receiver
    units: list[Unit]
    assignments: list[Assignment]
    villages: list[str] = field(default_factory=list)
    source: str = field(default="", compare=False)
    # round details used by the papers (report, list, tờ trình) and the catalogue workbook
    dispatch_number: str = ""                 # e.g. "15/UBND-VP"; blank when unknown
    dispatch_date: date | None = None
    plan_period: str = "2021 – 2025"
    report_to: str = ""                       # the body the commune reports results to
    place: str = ""                           # place name of "…, ngày … tháng … năm …"; default: commune name
    signer: Signer = field(default_factory=Signer)
    honour_forms: tuple[str, ...] = ("Giấy khen của Chủ tịch UBND xã",)
    # optional mail settings by table name ("smtp", "imap"): raw key -> value, validated by the mail modules
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    review_results: tuple[str, ...] = REVIEW_RESULTS  # the officer's review decisions (master dropdown)
    # what the loader noticed but did not refuse (e.g. an extra sheet ignored); shown, never fatal
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def place_name(self) -> str:
        """'Hòa Cư' for 'xã Hòa Cư' unless the catalogue names the place."""
        if self.place:
            return self.place
        return re.sub(r"^(xã|phường|thị trấn|đặc khu)\s+", "", self.commune, flags=re.IGNORECASE)

    def unit(self, unit_id: str) -> Unit | None:
        return self._units.get(unit_id)

    def assignment(self, assignment_id: str) -> Assignment | None:
        return self._assignments.get(assignment_id)

    def __post_init__(self) -> None:
        self._units = {u.id: u for u in self.units}
        self._by_name: dict[str, Unit] | None = None          # made on first use
        self._by_email: dict[str, list[Unit]] | None = None
        self._assignments = {a.id: a for a in self.assignments}
        # who holds what, computed once (district rounds have thousands of units)
        self._held: dict[str, list[Assignment]] = {u.id: [] for u in self.units}
        self._assignees: dict[str, list[Unit]] = {a.id: [] for a in self.assignments}
        for a in self.assignments:
            named = set(a.assignees)
            for u in self.units:
                if u.id in named or (a.assign_villages and u.is_village):
                    self._held[u.id].append(a)
                    self._assignees[a.id].append(u)

    def assignments_of(self, unit_id: str, *, nominations_only: bool = True) -> list[Assignment]:
        """The assignments a unit holds, in the dispatch's order."""
        return [a for a in self._held.get(unit_id, []) if a.nominations or not nominations_only]

    def assignees_of(self, assignment: Assignment) -> list[Unit]:
        return list(self._assignees.get(assignment.id, []))

    def units_with_nominations(self) -> list[Unit]:
        """Units that get a nomination workbook (they hold at least one assignment with nominations)."""
        return [u for u in self.units if self.assignments_of(u.id)]

    def unit_by_name(self, name: str) -> Unit | None:
        """Identify a unit by the name written in its sheet (diacritic- and case-tolerant; the first such
        unit in the catalogue's order). Indexed once: a province's round looks up tens of thousands of names."""
        from hoacu_xlsx.normalize import fold_key

        if self._by_name is None:
            self._by_name = {}
            for u in self.units:
                self._by_name.setdefault(fold_key(u.name), u)
        return self._by_name.get(fold_key(name))

    def units_by_email(self, address: str) -> list[Unit]:
        """The units whose contact address is ``address`` (case-insensitive), in the catalogue's order."""
        if self._by_email is None:
            self._by_email = {}
            for u in self.units:
                if u.email:
                    self._by_email.setdefault(u.email.strip().lower(), []).append(u)
        return list(self._by_email.get(address.strip().lower(), []))


# --------------------------------------------------------------------------- loading


def builtin_path() -> Path:
    return Path(str(resources.files("hoacu_xlsx") / "data" / BUILTIN_NAME))


def builtin_text() -> str:
    return builtin_path().read_text(encoding="utf-8")


def resolve(config: str | Path | None, workdir: Path) -> Path:
    """The catalogue to use: --config, else danh_muc.xlsx, else danh_muc.toml, else the built-in one."""
    if config:
        return Path(config)
    for name in (BOOK_FILE, DEFAULT_FILE):
        local = workdir / name
        if local.exists():
            return local
    return builtin_path()


def is_book(path: str | Path) -> bool:
    return Path(path).suffix.lower() in (".xlsx", ".xlsm")


def load(path: str | Path | None = None) -> Catalogue:
    """A catalogue workbook (.xlsx) or TOML file; the built-in 2024 catalogue when no path is given."""
    path = Path(path) if path else builtin_path()
    if is_book(path):
        from hoacu_xlsx import catalogue_book

        data, notes = catalogue_book.read(path)
        cat = parse(data, source=str(path))
        cat.notes = tuple(notes)
        return cat
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(T.text("catalogue/unreadable", path=path, error=exc.strerror or exc)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CatalogueError(T.text("catalogue/not_utf8", path=path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(T.text("catalogue/toml_syntax", path=path, detail=_vi_toml_error(exc))) from None
    return parse(data, source=str(path))


# tomllib's reasons (Python 3.11–3.13), first match wins, and their Vietnamese in messages.REASONS; an
# unknown reason is dropped, the place is kept
_TOML_REASONS = (
    ("invalid value", "toml.invalid_value"),
    ("invalid statement", "toml.invalid_statement"),
    ("expected '=' after a key", "toml.no_equals"),
    ("cannot overwrite a value", "toml.value_redeclared"),
    ("cannot declare", "toml.table_redeclared"),
    ("cannot mutate", "toml.table_mutated"),
    ("unclosed array", "toml.unclosed_array"),
    ("unclosed inline table", "toml.unclosed_table"),
    ("unterminated string", "toml.unterminated_string"),
    ("illegal character '\\n'", "toml.newline_in_string"),
    ("illegal character", "toml.illegal_character"),
    ("invalid initial character for a key part", "toml.bad_key_character"),
    ("expected newline", "toml.trailing"),
    ("expected ']' at the end of a table declaration", "toml.table_bracket"),
    ("expected ']]' at the end of an array declaration", "toml.array_table_bracket"),
    ("expected a value", "toml.no_value"),
    ("invalid date or datetime", "toml.bad_date"),
    ("unescaped '\\' in a string", "toml.bad_escape"),
    ("invalid hex value", "toml.bad_hex"),
    ("invalid character", "toml.illegal_character"),
    ("end of document", "toml.early_end"),
    ("duplicate", "toml.duplicate"),
)


def _vi_toml_error(exc: tomllib.TOMLDecodeError) -> str:
    """'dòng 3, cột 8 (giá trị không hợp lệ …)': tomllib's English never reaches the officer."""
    text = str(exc)
    m = re.search(r"\(at line (\d+), column (\d+)\)", text)
    low = text.split(" (at ")[0].lower()
    reason = next((T.reason(key) for en, key in _TOML_REASONS if en in low), "")
    if m:
        place = T.reason("toml.place", line=m.group(1), column=m.group(2))
        return f"{place} ({reason})" if reason else place
    return reason or T.reason("toml.unknown")


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value.strip())
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    return value


class _Fields:
    """Typed access to one TOML table that names the field in its errors."""

    def __init__(self, data: Any, where: str, source: str) -> None:
        if not isinstance(data, dict):
            raise CatalogueError(T.text("catalogue/not_table", source=source, where=where))
        self.data, self.where, self.source = data, where, source

    def fail(self, key: str, what: str) -> CatalogueError:
        return CatalogueError(T.text("catalogue/field", source=self.source, field=key, where=self.where, what=what))

    def get(self, key: str, typ: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.fail(key, T.reason("catalogue.missing"))
            return default
        value = self.data[key]
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            names = {str: "catalogue.type_str", int: "catalogue.type_int", list: "catalogue.type_list",
                     bool: "catalogue.type_bool", date: "catalogue.type_date"}
            if not isinstance(typ, type):
                want = T.reason("catalogue.type_other")
            else:
                want = T.reason(names[typ]) if typ in names else str(typ)
            raise self.fail(key, T.reason("catalogue.wrong_type", want=want, value=value))
        return value

    def text(self, key: str, default: Any = ...) -> str:
        value = self.get(key, str, default)
        if default is ... and not value:
            raise self.fail(key, T.reason("catalogue.blank"))
        return value

    def ident(self, key: str) -> str:
        value = self.text(key)
        if not _ID.match(value):
            raise self.fail(key, T.reason("catalogue.bad_id", value=value))
        return value


def parse(data: dict, source: str = "") -> Catalogue:
    data = _nfc(data)
    top = _Fields(data, T.reason("catalogue.top"), source)
    deadline = top.get("deadline", date)
    receiver_t = _Fields(top.get("receiver", dict), T.reason("catalogue.receiver"), source)
    receiver = Receiver(
        title=receiver_t.text("title"),
        name=receiver_t.text("name", ""),
        email=receiver_t.text("email", ""),
        phone=receiver_t.text("phone", ""),
    )
    villages = top.get("villages", list, [])
    for v in villages:
        if not isinstance(v, str) or not v:
            raise top.fail("villages", T.reason("catalogue.bad_villages"))

    units: list[Unit] = []
    for i, u in enumerate(top.get("units", list), start=1):
        f = _Fields(u, T.reason("catalogue.unit_nth", number=i), source)
        kind = f.text("kind", "")
        units.append(Unit(id=f.ident("id"), name=f.text("name"), kind=kind, email=f.text("email", ""),
                          is_village=is_village_kind(kind), short=f.text("short_name", ""),
                          contact=f.text("contact", "")))
    for name in villages:
        units.append(Unit(id=village_id(name), name=name, kind=VILLAGE_KIND, is_village=True))
    _unique([u.id for u in units], T.reason("catalogue.unit_ids"), source)
    unit_ids = {u.id for u in units}

    assignments: list[Assignment] = []
    for i, a in enumerate(top.get("assignments", list), start=1):
        assignments.append(_parse_assignment(a, i, unit_ids, source))
    _unique([a.id for a in assignments], T.reason("catalogue.assignment_ids"), source)
    if not assignments:
        raise top.fail("assignments", T.reason("catalogue.no_assignments"))

    signer_t = _Fields(top.get("signer", dict, {}), T.reason("catalogue.signer"), source)
    signer = Signer(authority=signer_t.text("authority", Signer.authority), title=signer_t.text("title", Signer.title),
                    name=signer_t.text("name", ""))
    honour_forms = tuple(top.get("honour_forms", list, list(Catalogue.__dataclass_fields__["honour_forms"].default)))
    settings = {k: v for k in ("smtp", "imap") if isinstance(v := data.get(k), dict)}
    return Catalogue(
        year=top.get("year", int),
        commune=top.text("commune"),
        issuer=top.text("issuer"),
        round_title=top.text("round_title"),
        dispatch=top.text("dispatch", ""),
        deadline=deadline,
        receiver=receiver,
        units=units,
        assignments=assignments,
        villages=[u.name for u in units if u.is_village],
        source=source,
        dispatch_number=top.text("dispatch_number", ""),
        dispatch_date=top.get("dispatch_date", date, None),
        plan_period=top.text("plan_period", "2021 – 2025"),
        report_to=top.text("report_to", ""),
        place=top.text("place", ""),
        signer=signer,
        honour_forms=honour_forms,
        settings=settings,
        review_results=tuple(top.get("review_results", list, list(REVIEW_RESULTS))),
    )


def _parse_assignment(a: Any, i: int, unit_ids: set[str], source: str) -> Assignment:
    f = _Fields(a, T.reason("catalogue.assignment_nth", number=i), source)
    aid = f.text("id")
    f.where = T.reason("catalogue.assignment", id=aid)
    if not re.match(r"^[A-Za-z0-9_.-]+$", aid):
        raise f.fail("id", T.reason("catalogue.bad_assignment_id"))
    kind = f.text("kind")
    if kind not in KINDS:
        raise f.fail("kind", T.reason("catalogue.one_of", choices=", ".join(KINDS), value=kind))
    nominations = f.get("nominations", bool, True)
    assignees = tuple(f.get("assignees", list))
    for uid in assignees:
        if uid not in unit_ids:
            raise f.fail("assignees", T.reason("catalogue.unknown_unit", unit=uid))
    scope = f.text("quota_scope", "joint")
    if scope not in ("each", "joint"):
        raise f.fail("quota_scope", T.reason("catalogue.bad_scope", value=scope))
    quota = f.get("quota", int, 1 if nominations else 0)
    if quota < 0:
        raise f.fail("quota", T.reason("catalogue.negative"))

    kinds: list[NomineeKind] = []
    for j, k in enumerate(f.get("nominee_kinds", list, []), start=1):
        kf = _Fields(k, T.reason("catalogue.kind_nth", number=j, id=aid), source)
        base = kf.text("base")
        if base not in BASES:
            raise kf.fail("base", T.reason("catalogue.one_of", choices=", ".join(BASES), value=base))
        kinds.append(NomineeKind(id=kf.ident("id"), label=kf.text("label"), base=base))
    _unique([k.id for k in kinds], T.reason("catalogue.kind_ids", id=aid), source)
    _unique([k.label for k in kinds], T.reason("catalogue.kind_labels", id=aid), source)
    kind_ids = {k.id for k in kinds}

    criteria: list[Criterion] = []
    for n, c in enumerate(f.get("criteria", list, []), start=1):
        cf = _Fields(c, T.reason("catalogue.criterion_nth", number=n, id=aid), source)
        applies = tuple(cf.get("applies_to", list))
        for kid in applies:
            if kid not in kind_ids:
                raise cf.fail("applies_to", T.reason("catalogue.unknown_kind", kind=kid))
        if not applies:
            raise cf.fail("applies_to", T.reason("catalogue.blank"))
        text = cf.text("text")
        short = cf.text("short", "") or _shorten(text)
        n = cf.get("number", int, n)
        criteria.append(Criterion(key=f"tc_{n}", number=n, text=text, short=short, applies_to=applies))
    _unique([str(c.number) for c in criteria], T.reason("catalogue.criterion_numbers", id=aid), source)

    if nominations:
        if not kinds:
            raise f.fail("nominee_kinds", T.reason("catalogue.no_kinds"))
        for k in kinds:
            if not any(k.id in c.applies_to for c in criteria):
                raise f.fail("criteria", T.reason("catalogue.no_criteria_for", label=k.label))

    return Assignment(
        id=aid,
        item=f.get("item", int, i),
        kind=kind,
        title=f.text("title"),
        assignees=assignees,
        quota=quota,
        quota_scope=scope,
        nominee_kinds=tuple(kinds),
        criteria=tuple(criteria),
        nominations=nominations,
        assign_villages=f.get("assign_villages", bool, False),
        note=f.text("note", ""),
        duty=f.text("duty", ""),
    )


def _unique(values: list[str], what: str, source: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise CatalogueError(T.text("catalogue/duplicate_id", source=source, what=what, value=v))
        seen.add(v)


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def is_village_kind(kind: str) -> bool:
    from hoacu_xlsx.normalize import fold_key

    return fold_key(kind) == fold_key(VILLAGE_KIND)


def village_id(name: str) -> str:
    """ASCII id for a village named by the officer: 'Thôn Nà Cạn' -> 'thon_na_can'."""
    from hoacu_xlsx.normalize import fold_key

    slug = re.sub(r"[^a-z0-9]+", "_", fold_key(name)).strip("_")
    return slug if slug.startswith("thon") else f"thon_{slug}"
