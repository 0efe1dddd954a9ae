"""The master tracking workbook: written with xlsxwriter, the officer's shared document.

The master is rewritten on every merge, yet nothing the officer typed in it is lost:
every table sheet carries a hidden first row of machine keys (one per column) and a
hidden last column with the row's key and a short hash of every tool-written cell.
Reading it back (:mod:`hoacu_xlsx.master_read`) therefore recognises the officer's
columns even when renamed or moved, keeps columns and sheets the officer added, and
finds hand edits of tool cells, which are listed in ``Sửa tay chưa áp dụng``.
The file is written to a temporary name, the previous master is kept in ``ban_cu/``
and the new one replaces it in one rename. All user text is written as text (never as
a formula).
"""

from __future__ import annotations

import functools
import hashlib
import re
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from hoacu_xlsx import backups
from hoacu_xlsx import fields as F
from hoacu_xlsx import messages as T
from hoacu_xlsx import picture as P
from hoacu_xlsx.atomic import remove_quietly, replace_file, temp_name
from hoacu_xlsx.printing import DEFAULT_FONT, setup_print
from hoacu_xlsx.problems import SEVERITY_LABEL, Problem
from hoacu_xlsx.reader import a1

MASTER_DIR = "master"

SHEET_DASHBOARD = "Tổng quan"
SHEET_UNITS = "Đơn vị"
SHEET_NOMINATIONS = "Điển hình"
SHEET_PROBLEMS = "Lỗi cần sửa"
SHEET_FILES = "Nhật ký tệp"
SHEET_EDITS = "Sửa tay chưa áp dụng"

ID_HEADER = "Mã điển hình"
FILE_ID_HEADER = "Mã tệp"
OVERRIDE_HEADER = "Sửa thời điểm nhận (dd/mm/yyyy hh:mm)"
# officer column of the file log: the officer's verdict on a file (see fields.FILE_VERDICT_*); key "quyet_dinh"
VERDICT_KEY = "quyet_dinh"
VERDICT_HEADER = "Quyết định của cán bộ về tệp"
OVERRIDE_KEY = "sua_thoi_diem"   # the officer's received-time text, as typed (officer_files values)
# officer columns of the nominations sheet: key -> header
OFFICER_COLUMNS = {
    "ket_qua": "Kết quả xét chọn",
    "hinh_thuc_ton_vinh": "Hình thức tôn vinh",
    "ghi_chu": "Ghi chú của cán bộ TĐKT",
    "noi_voi": "Nối với mã điển hình",   # identity.LINK_KEY: the officer links a row to an older version's row
}
LINK_NOTE_HEADER = "Nhận diện giữa các bản"
MATERIAL_MARK = "(đã nhận tệp)"   # after 'Tài liệu kinh nghiệm' when a write-up is linked (sheet Tài liệu nhân rộng)
SHEET_TRACKING = "Theo dõi nhiều năm"   # history.py writes it; derived, never read back
SHEET_MATERIALS = "Tài liệu nhân rộng"   # materials.py writes it; derived, never read back

# the hidden machinery of a table sheet
KEY_ROW, HEADER_ROW, FIRST_ROW = 0, 1, 2
# key-row cell of the hidden check column: "hoacu:kiem1:<sheet id>:<tool keys>"; the digit names the hash scheme
# (a new scheme gets a new digit: sheets of the old one are then read by name, with no false edits)
CHECK_PREFIX = "hoacu:kiem1:"
HEADER_KEY = "#tieu_de"            # row key of the header row in the check column
OFFICER_PREFIX = "cb:"             # key of a column the officer fills (values keep the key without the prefix)
ADDED_PREFIX = "them:"             # key the tool gives a column the officer added
DASHBOARD_CHECK_COL = 11           # hidden column of the dashboard: marker (row 1) and cell hashes (row 2)

SHEET_IDS = {"dashboard": SHEET_DASHBOARD, "units": SHEET_UNITS, "nominations": SHEET_NOMINATIONS,
             "problems": SHEET_PROBLEMS, "files": SHEET_FILES, "edits": SHEET_EDITS, "tracking": SHEET_TRACKING,
             "materials": SHEET_MATERIALS}   # tracking, materials: derived, not in DEFAULT_COLS, never read back

MASTER_OPEN = T.reason("master.open")
EDIT_ADVICE = "Sổ tổng hợp ghi lại theo dữ liệu đơn vị gửi: sửa trong sổ của đơn vị rồi gửi lại (hoặc ghi vào cột " \
              "của cán bộ). Xóa dòng này khi đã xử lý."


class MasterWriteError(Exception):
    """The master could not be replaced; the message is Vietnamese. The old master is intact."""


class MasterReadError(Exception):
    """The existing master cannot be read back; the message is Vietnamese."""


@dataclass(frozen=True)
class Col:
    """One column of a table sheet: its hidden key, its title, and who fills it."""

    key: str
    header: str
    width: float = 14
    kind: str = "tool"   # tool | officer | added
    wrap: bool = False   # long text: wrapped in its cell (line breaks shown)

    @property
    def officer(self) -> bool:
        return self.kind != "tool"


@dataclass
class Layout:
    """The officer's arrangement of a table sheet: column keys left to right, titles of their own columns."""

    order: list[str]
    headers: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"order": self.order, "headers": self.headers}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Layout":
        return cls(list(d.get("order", [])), dict(d.get("headers", {})))


@dataclass
class AddedSheet:
    """A sheet the officer added: cells (value, formula, style), column widths, row heights, merged cells."""

    name: str
    cells: list[tuple[int, int, Any, str, dict[str, Any]]] = field(default_factory=list)  # r, c, value, kind, fmt
    widths: dict[int, float] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "cells": self.cells, "widths": list(self.widths.items()),
                "heights": list(self.heights.items()), "merged": self.merged}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "AddedSheet":
        return cls(d["name"], [tuple(c) for c in d.get("cells", [])], {int(k): v for k, v in d.get("widths", [])},
                   {int(k): v for k, v in d.get("heights", [])}, [tuple(m) for m in d.get("merged", [])])


@dataclass
class MasterExtras:
    """What the master shows besides the picture: the officer's own columns, sheets and the edit list."""

    layouts: dict[str, Layout] = field(default_factory=dict)              # sheet id -> layout
    unit_values: dict[str, dict[str, str]] = field(default_factory=dict)   # unit id -> key -> value
    problem_values: dict[str, dict[str, str]] = field(default_factory=dict)
    file_values: dict[str, dict[str, str]] = field(default_factory=dict)   # file id -> key -> value
    overrides: dict[str, str] = field(default_factory=dict)                # file id -> received-time text shown
    edits: list[dict[str, str]] = field(default_factory=list)              # rows of Sửa tay chưa áp dụng
    added_sheets: list[AddedSheet] = field(default_factory=list)
    history: Any = None                                                    # history.History of earlier rounds


def master_path(workdir: Path, year: int) -> Path:
    return workdir / MASTER_DIR / f"tong_hop_{year}.xlsx"


def cell_text(v: Any) -> str:
    """A cell's value as the officer reads it (dates dd/mm/yyyy, whole numbers without .0)."""
    if type(v) is str:
        return v.strip()
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%d/%m/%Y %H:%M") if (v.hour or v.minute) else v.strftime("%d/%m/%Y")
    if isinstance(v, date):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_PAIRS = [a + b for a in _B64 for b in _B64]   # 12 bits -> 2 characters


@functools.lru_cache(maxsize=1 << 14, typed=True)
def cell_hash(v: Any) -> str:
    """4 characters (24 bits of CRC-32) that change when the officer edits a tool cell: cheap enough for every
    cell of every merge; one edit in 16 million would go unnoticed. (Cached: most cell values repeat, and rows
    come sorted by unit; the cache is small, as a province's long texts would otherwise all stay in it.)"""
    x = zlib.crc32(cell_text(v).encode()) & 0xFFFFFF
    return _PAIRS[x >> 12] + _PAIRS[x & 0xFFF]


def value_key(col_key: str) -> str:
    """The key under which a column's values are stored (officer columns drop the ``cb:`` prefix)."""
    return col_key[len(OFFICER_PREFIX):] if col_key.startswith(OFFICER_PREFIX) else col_key


def column_key(value_key_: str) -> str:
    return value_key_ if value_key_.startswith(ADDED_PREFIX) else OFFICER_PREFIX + value_key_


def problem_key(p: Problem) -> str:
    """A stable key of a problem row (the same problem keeps the officer's notes beside it)."""
    basis = "\x1f".join([p.code, p.file, p.sheet or "", p.cell or "", p.unit_id or "", p.message])
    return "L" + hashlib.blake2b(basis.encode(), digest_size=6).hexdigest()


# --------------------------------------------------------------------------- columns


def unit_cols() -> list[Col]:
    spec = [("ma_don_vi", "Mã đơn vị", 20), ("ten_don_vi", "Tên đơn vị", 34), ("loai", "Loại đơn vị", 22),
            ("nhiem_vu", "Nhiệm vụ", 12), ("trang_thai", "Trạng thái", 18), ("tep_moi", "Tệp mới nhất", 34),
            ("nhan", "Thời điểm nhận", 17), ("lan_dau", "Lần nộp đầu", 17), ("phien_ban", "Phiên bản", 9),
            ("so_dien_hinh", "Số điển hình", 11), ("so_loi", "Số lỗi", 8), ("so_canh_bao", "Số cảnh báo", 10),
            ("email", "Địa chỉ thư", 24)]
    return [Col(k, h, w) for k, h, w in spec]


def nomination_cols() -> list[Col]:
    cols = [Col("ma", ID_HEADER, 15), Col("don_vi", "Đơn vị", 28), Col("muc", "Mục", 8),
            Col("tinh_trang", "Tình trạng", 16)]
    cols += [Col(f.key, f.header, min(f.width, 30), wrap=f.width > 30) for f in F.HEAD_FIELDS]
    cols += [Col("ten_goc", "Tên như đơn vị ghi", 18), Col("tieu_chi", "Tiêu chí", 10),
             Col("chi_tiet_tieu_chi", "Chi tiết tiêu chí", 30)]
    cols += [Col(f.key, f.header, min(f.width, 24), wrap=f.width > 24) for f in F.TAIL_FIELDS]
    cols += [Col("tep", "Tệp nguồn", 26), Col("trang", "Trang", 9), Col("dong", "Dòng", 6),
             Col("nhan", "Thời điểm nhận", 16), Col("nhan_dien_ban", LINK_NOTE_HEADER, 30, wrap=True),
             Col("cac_nam_truoc", "Các năm trước", 40, wrap=True)]
    widths = {"ket_qua": 16, "hinh_thuc_ton_vinh": 22, "ghi_chu": 30, "noi_voi": 16}
    cols += [Col(OFFICER_PREFIX + k, h, widths[k], "officer") for k, h in OFFICER_COLUMNS.items()]
    return cols


def problem_cols() -> list[Col]:
    spec = [("muc_do", "Mức độ", 10), ("don_vi", "Đơn vị", 28), ("tep", "Tệp", 32), ("trang", "Trang", 12),
            ("o", "Ô", 7), ("gia_tri", "Giá trị", 18), ("noi_dung", "Nội dung cần sửa", 56), ("ma_loi", "Mã lỗi", 18)]
    return [Col(k, h, w, wrap=k == "noi_dung") for k, h, w in spec]


def file_cols() -> list[Col]:
    spec = [("ten_tep", "Tên tệp", 34), ("goc", "Tệp gốc trong inbox", 26), ("dinh_dang", "Định dạng", 9),
            ("kich_thuoc", "Kích thước (KB)", 10), ("nhan", "Thời điểm nhận", 17),
            ("nguon_nhan", "Nguồn thời điểm nhận", 20), ("nguoi_gui", "Người gửi", 24), ("don_vi", "Đơn vị", 28),
            ("nhan_dien", "Nhận diện theo", 14), ("phien_ban", "Phiên bản", 9), ("ket_qua", "Kết quả", 26),
            ("so_loi", "Số lỗi", 8), ("so_canh_bao", "Số cảnh báo", 10), ("so_dien_hinh", "Số điển hình", 11),
            ("ten_khac", "Cùng nội dung, nhận dưới tên", 30), ("ma_tep", FILE_ID_HEADER, 14)]
    return [Col(k, h, w) for k, h, w in spec] + [
        Col(OFFICER_PREFIX + OVERRIDE_KEY, OVERRIDE_HEADER, 22, "officer"),
        Col(OFFICER_PREFIX + VERDICT_KEY, VERDICT_HEADER, 26, "officer")]


def edit_cols() -> list[Col]:
    spec = [("trang", "Trang", 14), ("o", "Ô (sổ cũ)", 9), ("dong", "Dòng (mã)", 18), ("cot", "Cột", 22),
            ("so_ghi", "Sổ ghi", 26), ("can_bo_go", "Cán bộ đã gõ", 30), ("phat_hien", "Phát hiện lúc", 16),
            ("loi_khuyen", "Cách xử lý", 60)]
    return [Col(k, h, w) for k, h, w in spec]


DEFAULT_COLS = {"units": unit_cols, "nominations": nomination_cols, "problems": problem_cols, "files": file_cols,
                "edits": edit_cols}


def arrange(defaults: list[Col], layout: Layout | None) -> list[Col]:
    """The columns in the officer's order, with their titles for officer/added columns; missing tool columns
    come back at their usual place."""
    if layout is None or not layout.order:
        return list(defaults)
    by = {c.key: c for c in defaults}
    out: list[Col] = []
    for k in layout.order:
        if any(c.key == k for c in out):
            continue
        if k in by:
            c = by[k]
            if c.officer and layout.headers.get(k):
                c = replace(c, header=layout.headers[k])
            out.append(c)
        elif k.startswith(ADDED_PREFIX):
            out.append(Col(k, layout.headers.get(k) or "Cột cán bộ thêm", 16, "added"))
    for i, c in enumerate(defaults):
        if any(o.key == c.key for o in out):
            continue
        prev = next((j for j, o in enumerate(out) if i and o.key == defaults[i - 1].key), -1)
        out.insert(prev + 1, c)
    return out


def columns(sheet_id: str, extras: MasterExtras | None = None) -> list[Col]:
    """The columns a table sheet gets in the next master."""
    return arrange(DEFAULT_COLS[sheet_id](), (extras.layouts if extras else {}).get(sheet_id))


def cell_of(cols: list[Col], key: str, index: int) -> str:
    """A1 address of row ``index`` (0 = first data row) in column ``key``."""
    return a1(FIRST_ROW + index, next(i for i, col in enumerate(cols) if col.key == key))


# --------------------------------------------------------------------------- rows of the table sheets

Rows = Iterator[tuple[str, dict[str, Any]]]   # made lazily: iterate once


def _with_officer(values: dict[str, Any], officer: dict[str, str]) -> dict[str, Any]:
    for k, v in officer.items():
        values[column_key(k)] = v
    return values


def _unique(rows: Iterable[tuple[str, dict[str, Any]]]) -> Rows:
    """Row keys are unique within a sheet (a repeated key gets '#2', '#3' …). Lazy: a province's rows are
    made while they are written, never all held at once."""
    seen: dict[str, int] = {}
    for key, values in rows:
        seen[key] = seen.get(key, 0) + 1
        yield (key if seen[key] == 1 else f"{key}#{seen[key]}", values)


def unit_rows(pic: P.Picture, x: MasterExtras) -> Rows:
    return _unique((s.unit.id, _with_officer({
        "ma_don_vi": s.unit.id, "ten_don_vi": s.unit.name, "loai": s.unit.kind,
        "nhiem_vu": ", ".join(f"Mục {a}" for a in s.assignments), "trang_thai": s.status,
        "tep_moi": s.latest_file, "nhan": P.format_dt(s.received_at), "lan_dau": P.format_dt(s.first_received_at),
        "phien_ban": s.version or "", "so_dien_hinh": s.nominations, "so_loi": s.errors,
        "so_canh_bao": s.warnings, "email": s.unit.email or ""}, x.unit_values.get(s.unit.id, {})))
        for s in pic.units)


def _criteria_text(values: dict[str, str], n_keys: list[str]) -> tuple[str, str]:
    answered = [(k, values.get(k, "")) for k in n_keys if values.get(k)]
    met = sum(1 for _, v in answered if v == F.CRITERION_MET)
    summary = f"{met}/{len(answered)} Đạt" if answered else ""
    detail = "; ".join(f"TC{k.split('_')[1]}: {v}" for k, v in answered)
    return summary, detail


def nomination_rows(pic: P.Picture, history: Any = None) -> Rows:
    crit_keys_by: dict[str, list[str]] = {a.assignment.id: [c.key for c in a.assignment.criteria]
                                          for a in pic.assignments}
    order = {P.NOM_CURRENT: 0, P.NOM_ERROR: 1, P.NOM_WITHDRAWN: 2}
    ordered = sorted(pic.nominations, key=lambda r: (r.assignment.item, r.unit.name, order.get(r.state, 3),
                                                     r.nomination.row))
    with_material = {m.nomination_id for m in pic.materials if m.nomination_id}
    return _unique(_nomination_values(ordered, crit_keys_by, history, with_material))


def _nomination_values(ordered: list[P.NominationRow], crit_keys_by: dict[str, list[str]],
                       history: Any, with_material: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    for row in ordered:
        n = row.nomination
        v = n.values
        summary, detail = _criteria_text(v, crit_keys_by.get(n.assignment_id, []))
        original = " ".join(n.original_name.split())
        values: dict[str, Any] = {"ma": n.nomination_id, "don_vi": row.unit.name, "muc": f"Mục {row.assignment.item}",
                                  "tinh_trang": row.state}
        values.update({f.key: v.get(f.key, "") for f in F.HEAD_FIELDS})
        values.update({"ten_goc": n.original_name if original != v.get("ten", "") else "", "tieu_chi": summary,
                       "chi_tiet_tieu_chi": detail})
        values.update({f.key: v.get(f.key, "") for f in F.TAIL_FIELDS})
        if n.nomination_id in with_material:
            values["tai_lieu_kinh_nghiem"] = f"{values['tai_lieu_kinh_nghiem']} {MATERIAL_MARK}".strip()
        values.update({"tep": n.file, "trang": n.sheet, "dong": n.row, "nhan": P.format_dt(row.received_at),
                       "nhan_dien_ban": row.note,
                       "cac_nam_truoc": history.past_text(n.nomination_id) if history is not None else ""})
        yield n.nomination_id, _with_officer(values, row.officer)


def problem_rows(pic: P.Picture, x: MasterExtras) -> Rows:
    names = {u.id: u.name for u in pic.catalogue.units}
    probs = sorted(pic.problems, key=lambda p: (p.severity != "error", names.get(p.unit_id or "", "~"), p.file,
                                                p.sheet or "", p.cell or ""))
    return _unique(_problem_values(probs, names, x))


def _problem_values(probs: list[Problem], names: dict[str, str],
                    x: MasterExtras) -> Iterator[tuple[str, dict[str, Any]]]:
    for p in probs:
        key = problem_key(p)
        yield key, _with_officer({
            "muc_do": SEVERITY_LABEL.get(p.severity, p.severity), "don_vi": names.get(p.unit_id or "", p.unit_id or ""),
            "tep": p.file, "trang": p.sheet or "", "o": p.cell or "", "gia_tri": p.value or "", "noi_dung": p.message,
            "ma_loi": p.code}, x.problem_values.get(key, {}))


HOW_IDENTIFIED = {"token": "mã xác nhận", "meta": "trang _meta", "sheet": "tên trong sổ", "filename": "tên tệp",
                  "officer": "quyết định của cán bộ"}


def file_rows(pic: P.Picture, x: MasterExtras) -> Rows:
    return _unique(_file_values(f, x) for f in pic.files)


def _file_values(f: P.FileEntry, x: MasterExtras) -> tuple[str, dict[str, Any]]:
    fid = f.sha256[:12]
    values = _with_officer({
        "ten_tep": f.name, "goc": f.origin or "", "dinh_dang": f.fmt or "", "kich_thuoc": round(f.size / 1024, 1),
        "nhan": P.format_dt(f.received_at), "nguon_nhan": f.received_source, "nguoi_gui": f.sender or "",
        "don_vi": f.unit_name, "nhan_dien": HOW_IDENTIFIED.get(f.identified_by or "", ""),
        "phien_ban": f.version or "", "ket_qua": f.outcome, "so_loi": f.errors, "so_canh_bao": f.warnings,
        "so_dien_hinh": f.nominations, "ten_khac": "; ".join(f.seen_as), "ma_tep": fid},
        x.file_values.get(fid, {}))
    values[OFFICER_PREFIX + OVERRIDE_KEY] = x.overrides.get(fid, "")
    return fid, values


def edit_rows(x: MasterExtras) -> Rows:
    return _unique([(e["id"], dict(e)) for e in x.edits])


def table_rows(pic: P.Picture, sheet_id: str, x: MasterExtras | None = None) -> Rows:
    """The rows a table sheet gets: (row key, column key -> value)."""
    x = x or MasterExtras()
    if sheet_id == "units":
        return unit_rows(pic, x)
    if sheet_id == "nominations":
        return nomination_rows(pic, x.history)
    if sheet_id == "problems":
        return problem_rows(pic, x)
    if sheet_id == "files":
        return file_rows(pic, x)
    return edit_rows(x)


# --------------------------------------------------------------------------- writing


def write_master(picture: P.Picture, path: Path, extras: MasterExtras | None = None,
                 on_written: Callable[[Path], None] | None = None) -> Path | None:
    """Write the new master beside the old one, keep the old one in ``ban_cu/``, then replace it in one rename.

    ``on_written`` sees the complete temporary file before it replaces the master (merge records its hash).
    Returns the backup of the previous master (None when there was none).
    """
    extras = extras or MasterExtras()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MasterWriteError(T.text("master/mkdir", folder=path.parent, error=exc.strerror or exc)) from None
    tmp = temp_name(path)
    try:
        _write_workbook(picture, tmp, extras)
        if on_written is not None:
            on_written(tmp)
    except OSError as exc:
        remove_quietly(tmp)
        raise MasterWriteError(T.text("master/write", folder=path.parent, error=exc.strerror or exc)) from None
    except Exception as exc:
        remove_quietly(tmp)
        cause = getattr(exc, "orig_exception", None) or exc
        raise MasterWriteError(T.text("master/write_failed", folder=path.parent, error=cause)) from None
    try:
        backup = backups.backup_master(path, datetime.now())
    except OSError as exc:
        remove_quietly(tmp)
        raise MasterWriteError(T.text("master/backup", folder=backups.backup_dir(path), error=exc.strerror or exc)) \
            from None
    try:
        replace_file(tmp, path)
    except PermissionError:
        remove_quietly(tmp)
        if backup:
            remove_quietly(backup)
        raise MasterWriteError(T.text("master/open_write", master_open=MASTER_OPEN, path=path)) from None
    except OSError as exc:
        remove_quietly(tmp)
        if backup:
            remove_quietly(backup)
        raise MasterWriteError(T.text("master/replace", path=path, error=exc.strerror or exc)) from None
    backups.prune(path)
    return backup


_SHORT_ESCAPES = re.compile("(_x[0-9a-fA-F]{1,4}_)")


@contextmanager
def _escapes_libreoffice_reads_right() -> Iterator[None]:
    """LibreOffice reads '_xa_' inside a string as a line break (a short form of the '_x000A_' escape), so
    'cc_van_hoa_xa_hoi' would come back as 'cc_van_hoa\\nhoi' once the officer saves the master there.
    While the master is written, xlsxwriter escapes the underscore of every such pattern ('_x005F_'), which
    Excel, LibreOffice and calamine all read back as a plain '_'."""
    from xlsxwriter import xmlwriter

    saved = xmlwriter.re_control_chars_1
    xmlwriter.re_control_chars_1 = _SHORT_ESCAPES
    try:
        yield
    finally:
        xmlwriter.re_control_chars_1 = saved


@contextmanager
def _fast_deflate() -> Iterator[None]:
    """The master is rewritten on every merge: its ~50 MB of sheet XML (2,000 units) are deflated at level 1
    (measured: a third of the time of the default level 6, for a file ~17% larger)."""
    from xlsxwriter import workbook

    saved = workbook.ZipFile
    workbook.ZipFile = functools.partial(saved, compresslevel=1)
    try:
        yield
    finally:
        workbook.ZipFile = saved


def _write_workbook(picture: P.Picture, target: Path, x: MasterExtras) -> None:
    with _escapes_libreoffice_reads_right(), _fast_deflate():
        _write_sheets(picture, target, x)


def _write_sheets(picture: P.Picture, target: Path, x: MasterExtras) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(target), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_numbers": False, "strings_to_urls": False,
                                           "default_format_properties": DEFAULT_FONT})
    wb.set_properties({"title": f"Tổng hợp đề xuất điển hình tiên tiến năm {picture.catalogue.year}",
                       "author": picture.catalogue.issuer, "comments": "Tạo bởi hoacu-xlsx"})
    st = _Styles(wb)
    _dashboard(wb, st, picture, x)
    _units(wb, st, picture, x)
    _nominations(wb, st, picture, x)
    if x.history is not None:
        from hoacu_xlsx import history as H

        H.write_tracking(wb, st, x.history)
    if picture.materials:
        from hoacu_xlsx import materials as MT

        MT.write_sheet(wb, st, picture)
    _problems(wb, st, picture, x)
    _files(wb, st, picture, x)
    _edits(wb, st, picture, x)
    taken = set(SHEET_IDS.values())
    for sheet in x.added_sheets:
        _added_sheet(wb, sheet, taken)
    wb.close()


def _add_sheet(wb: Any, name: str, streaming: bool = True) -> Any:
    """A worksheet; small or free-form sheets are kept in memory (cells written in any order, merged cells)."""
    if streaming:
        return wb.add_worksheet(name)
    saved = wb.constant_memory
    wb.constant_memory = False   # read by add_worksheet only: this sheet alone is held in memory
    try:
        ws = wb.add_worksheet(name)
    finally:
        wb.constant_memory = saved
    ws.row_data_fh_closed = True   # no row file to close when the workbook closes
    return ws


class _Styles:
    """A handful of formats, made once (no format objects in loops: speed)."""

    def __init__(self, wb: Any) -> None:
        base = {"font_name": "Times New Roman", "font_size": 11}
        self.title = wb.add_format({**base, "bold": True, "font_size": 14, "font_color": "#C00000"})
        self.sub = wb.add_format({**base, "italic": True})
        self.bold = wb.add_format({**base, "bold": True})
        self.header = wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                     "valign": "vcenter", "align": "center"})
        self.officer_header = wb.add_format({**base, "bold": True, "bg_color": "#FFF2CC", "border": 1,
                                             "text_wrap": True, "valign": "vcenter", "align": "center"})
        self.officer = wb.add_format({**base, "bg_color": "#FFFBEA", "locked": False})
        self.text = wb.add_format(base)
        self.wrap = wb.add_format({**base, "text_wrap": True, "valign": "top"})
        self.ok = wb.add_format({"font_color": "#006100", "bg_color": "#C6EFCE"})
        self.bad = wb.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})
        self.warn = wb.add_format({"font_color": "#9C5700", "bg_color": "#FFEB9C"})
        self.warn_text = wb.add_format({**base, "bold": True, "font_color": "#9C5700"})
        self.grey = wb.add_format({"font_color": "#7F7F7F", "italic": True})


def _names(units: list[Any], most: int = 25) -> str:
    """Unit names for one cell; long lists (district rounds) are shortened."""
    names = [u.name for u in units]
    return ", ".join(names) if len(names) <= most else f"{', '.join(names[:most])} và {len(names) - most} đơn vị khác"


def _put(ws: Any, r: int, c: int, val: Any, fmt: Any = None) -> None:
    """Numbers as numbers, everything else as text (never a formula, whatever it looks like)."""
    if isinstance(val, (int, float)) and not isinstance(val, bool):
        ws.write_number(r, c, val, fmt)
    elif val not in (None, ""):
        ws.write_string(r, c, str(val), fmt)
    elif fmt is not None:
        ws.write_blank(r, c, None, fmt)


def _table_header(ws: Any, st: _Styles, row: int, headers: list[str], officer: set[str] | None = None) -> None:
    for c, h in enumerate(headers):
        ws.write_string(row, c, h, st.officer_header if officer and h in officer else st.header)


def _print_title(pic: P.Picture, sheet: str) -> str:
    return f"{sheet} — Tổng hợp đề xuất điển hình tiên tiến năm {pic.catalogue.year}"


def _table(wb: Any, st: _Styles, pic: P.Picture, sheet_id: str, cols: list[Col], rows: Rows, freeze_cols: int = 0,
           streaming: bool = True) -> tuple[Any, dict[str, int], int]:
    """A table sheet: hidden key row, header row, rows, hidden check column (row key | tool-cell hashes).

    Returns the worksheet, the column index of every key, and the last row index.
    """
    ws = _add_sheet(wb, SHEET_IDS[sheet_id], streaming)
    pos = {c.key: i for i, c in enumerate(cols)}
    tool = [c for c in cols if not c.officer]
    check = len(cols)
    for i, c in enumerate(cols):
        ws.set_column(i, i, c.width, st.officer if c.officer else None)
    ws.set_column(check, check, 14, None, {"hidden": True})
    ws.set_row(KEY_ROW, None, None, {"hidden": True})
    for i, c in enumerate(cols):
        ws.write_string(KEY_ROW, i, c.key)
    ws.write_string(KEY_ROW, check, f"{CHECK_PREFIX}{sheet_id}:{','.join(c.key for c in tool)}")
    for i, c in enumerate(cols):
        ws.write_string(HEADER_ROW, i, c.header, st.officer_header if c.officer else st.header)
    ws.write_string(HEADER_ROW, check, HEADER_KEY + "|" + "".join(cell_hash(c.header) for c in tool))
    last = _table_rows(ws, st, cols, rows, streaming)
    ws.autofilter(HEADER_ROW, 0, last, len(cols) - 1)
    ws.freeze_panes(FIRST_ROW, freeze_cols)
    setup_print(ws, title=_print_title(pic, SHEET_IDS[sheet_id]), landscape=True, repeat_rows=(KEY_ROW, HEADER_ROW),
                repeat_cols=(0, freeze_cols - 1) if freeze_cols else None, widths=[c.width for c in cols])
    return ws, pos, last


def _table_rows(ws: Any, st: _Styles, cols: list[Col], rows: Rows, streaming: bool) -> int:
    """The data rows of a table sheet and their check cells; returns the last row index (FIRST_ROW at least)."""
    fmts = [st.officer if c.officer else st.wrap if c.wrap else None for c in cols]
    keys = [c.key for c in cols]
    tool = [c.key for c in cols if not c.officer]
    r = HEADER_ROW
    if not streaming:   # a small sheet held in memory: cell by cell
        for r, (key, values) in enumerate(rows, start=FIRST_ROW):
            for i, k in enumerate(keys):
                _put(ws, r, i, values.get(k, ""), fmts[i])
            ws.write_string(r, len(cols), key + "|" + "".join(cell_hash(values.get(k, "")) for k in tool))
        return max(r, FIRST_ROW)
    from hoacu_xlsx.xlsx_rows import RowWriter

    out = RowWriter(ws, FIRST_ROW, [*fmts, None])
    tool_at = [i for i, c in enumerate(cols) if not c.officer]
    for r, (key, values) in enumerate(rows, start=FIRST_ROW):
        cells = [values.get(k, "") for k in keys]
        cells.append(key + "|" + "".join([cell_hash(cells[i]) for i in tool_at]))
        out.row(r, cells)
    out.close()
    return max(r, FIRST_ROW)


class _Recorder:
    """Passes writes on to a worksheet and remembers the text of every cell (for the dashboard's hashes)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.cells: dict[str, str] = {}

    def write_string(self, r: int, c: int, v: Any, *fmt: Any) -> None:
        self.cells[a1(r, c)] = cell_text(v)
        self.ws.write_string(r, c, v, *fmt)

    def write_number(self, r: int, c: int, v: Any, *fmt: Any) -> None:
        self.cells[a1(r, c)] = cell_text(v)
        self.ws.write_number(r, c, v, *fmt)

    def write_row(self, r: int, c: int, values: list[Any], *fmt: Any) -> None:
        for i, v in enumerate(values):
            write = self.write_number if isinstance(v, (int, float)) and not isinstance(v, bool) else self.write_string
            write(r, c + i, v, *fmt)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ws, name)


def _dashboard(wb: Any, st: _Styles, pic: P.Picture, x: MasterExtras) -> None:
    c = pic.catalogue
    ws = _Recorder(_add_sheet(wb, SHEET_DASHBOARD, streaming=False))
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, 46)
    ws.set_column(2, 2, 36)
    ws.set_column(3, 9, 13)
    ws.write_string(0, 0, f"TỔNG HỢP ĐỀ XUẤT ĐIỂN HÌNH TIÊN TIẾN NĂM {c.year} — {c.issuer.upper()}", st.title)
    ws.write_string(1, 0, c.round_title, st.sub)
    ws.write_string(2, 0, pic.deadline_text(), st.bold)
    ws.write_string(3, 0, f"Cập nhật lúc {P.format_dt(pic.now)}", st.sub)
    if x.edits:
        ws.write_string(4, 0, f"Có {len(x.edits)} chỗ sửa tay trong sổ chưa được áp dụng — xem trang "
                              f"'{SHEET_EDITS}'.", st.warn_text)
    top = _dashboard_totals(ws, st, pic) + 1
    last = _dashboard_assignments(ws, st, pic, top)
    ws.insert_chart(last + 2, 1, _dashboard_chart(wb, pic, top))
    if x.history is not None:   # replicated/repeated table under the chart (recorded like the rest)
        from hoacu_xlsx import history as H

        H.write_overview(ws, st, x.history)
    # hidden: what the tool wrote, so that hand edits of this sheet can be found and listed
    hashes = ";".join(f"{addr}={cell_hash(v)}" for addr, v in ws.cells.items())
    ws.ws.set_column(DASHBOARD_CHECK_COL, DASHBOARD_CHECK_COL, 10, None, {"hidden": True})
    ws.ws.write_string(0, DASHBOARD_CHECK_COL, f"{CHECK_PREFIX}dashboard:")
    ws.ws.write_string(1, DASHBOARD_CHECK_COL, hashes)
    setup_print(ws.ws, title=_print_title(pic, SHEET_DASHBOARD), landscape=True, widths=[8, 46, 36] + [13] * 7)
    ws.activate()


def _dashboard_totals(ws: _Recorder, st: _Styles, pic: P.Picture) -> int:
    """The round in numbers (units by status, nominations counted, items short of their quota); returns the
    row after them."""
    by = {s: 0 for s in (P.NOT_SUBMITTED, P.SUBMITTED_OK, P.SUBMITTED_ERRORS, P.LATE)}
    for s in pic.units:
        by[s.status] = by.get(s.status, 0) + 1
    counted = sum(1 for n in pic.nominations if n.state == P.NOM_CURRENT)
    totals = [
        ("Đơn vị được giao", len(pic.units)),
        ("Đã nộp", len(pic.units) - by[P.NOT_SUBMITTED]),
        (P.SUBMITTED_OK, by[P.SUBMITTED_OK]),
        (P.LATE, by[P.LATE]),
        (P.SUBMITTED_ERRORS, by[P.SUBMITTED_ERRORS]),
        (P.NOT_SUBMITTED, by[P.NOT_SUBMITTED]),
        ("Điển hình được tính", counted),
        ("Mục chưa đạt chỉ tiêu", sum(1 for a in pic.assignments if a.assignment.nominations and not a.quota_met)),
    ]
    for i, (label, n) in enumerate(totals):
        ws.write_string(5 + i, 1, label, st.bold)
        ws.write_number(5 + i, 2, n, st.text)
    return 5 + len(totals)


def _dashboard_assignments(ws: _Recorder, st: _Styles, pic: P.Picture, top: int) -> int:
    """One row per item of the catalogue under a header row at ``top``; returns the last row."""
    headers = ["Mục", "Phong trào / lĩnh vực", "Đơn vị được giao", "Số đơn vị được giao", "Đã nộp",
               "Số điển hình", "Chỉ tiêu", "Đạt chỉ tiêu", "Đơn vị nộp muộn", "Được chọn"]
    chosen = _chosen_by_assignment(pic)
    _table_header(ws, st, top, headers)
    ws.set_row(top, 32)
    r = top
    for a in pic.assignments:
        r += 1
        a_ = a.assignment
        longest = max(len(a_.title) / 44, len(_names(a.units_assigned)) / 34, len(_names(a.late_units)) / 12,
                      len(a.quota_text) / 12 if a_.nominations else 1, 1)
        ws.set_row(r, 15.75 * -(-int(longest * 10) // 10))  # wrapped cells: Excel does not size the row
        ws.write_string(r, 0, f"Mục {a_.item}", st.text)
        ws.write_string(r, 1, a_.title, st.wrap)
        ws.write_string(r, 2, _names(a.units_assigned), st.wrap)
        ws.write_number(r, 3, len(a.units_assigned), st.text)
        if a_.nominations:
            ws.write_number(r, 4, len(a.units_submitted), st.text)
            ws.write_number(r, 5, a.nominations, st.text)
            ws.write_string(r, 6, a.quota_text, st.wrap)
            ws.write_string(r, 7, "Đạt" if a.quota_met else "Chưa đạt", st.text)
            ws.write_string(r, 8, _names(a.late_units), st.wrap)
            ws.write_number(r, 9, chosen.get(a_.id, 0), st.text)
        else:
            ws.write_string(r, 6, "Nhiệm vụ, không đề xuất", st.grey)
    ws.conditional_format(top + 1, 7, r, 7, {"type": "cell", "criteria": "==", "value": '"Đạt"', "format": st.ok})
    ws.conditional_format(top + 1, 7, r, 7, {"type": "cell", "criteria": "==", "value": '"Chưa đạt"',
                                             "format": st.bad})
    return r


def _dashboard_chart(wb: Any, pic: P.Picture, top: int) -> Any:
    """Columns per item (the items table starts under ``top``): units assigned, submitted, nominations, chosen."""
    chart = wb.add_chart({"type": "column"})
    n_rows = [i for i, a in enumerate(pic.assignments) if a.assignment.nominations]
    if n_rows:
        first, last = top + 1 + n_rows[0], top + 1 + n_rows[-1]
        for name, col, colour in (("Đơn vị được giao", 3, "#BFBFBF"), ("Đơn vị đã nộp", 4, "#70AD47"),
                                  ("Số điển hình", 5, "#2E75B6"), ("Được chọn", 9, "#C00000")):
            chart.add_series({"name": name, "categories": [SHEET_DASHBOARD, first, 0, last, 0],
                              "values": [SHEET_DASHBOARD, first, col, last, col], "fill": {"color": colour}})
    chart.set_title({"name": "Theo mục: đơn vị được giao, đã nộp, điển hình đề xuất và được chọn"})
    # counts: whole numbers on the axis (a step of 1 while the bars are short)
    tallest = max([len(a.units_assigned) for a in pic.assignments] + [a.nominations for a in pic.assignments] + [1])
    axis: dict[str, Any] = {"name": "Số lượng", "major_gridlines": {"visible": True}, "min": 0,
                            "num_format": "0"}
    if tallest <= 12:
        axis["major_unit"] = 1
    chart.set_y_axis(axis)
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 360})
    return chart


def _chosen_by_assignment(pic: P.Picture) -> dict[str, int]:
    """Counted nominations the officer marked chosen, per assignment (the same reading as the papers)."""
    from hoacu_xlsx.report_figures import CHOSEN, decision

    out: dict[str, int] = {}
    for row in pic.nominations:
        if row.state == P.NOM_CURRENT and decision(row)[0] == CHOSEN:
            out[row.assignment.id] = out.get(row.assignment.id, 0) + 1
    return out


def _units(wb: Any, st: _Styles, pic: P.Picture, x: MasterExtras) -> None:
    ws, pos, last = _table(wb, st, pic, "units", columns("units", x), unit_rows(pic, x), freeze_cols=2)
    if "trang_thai" in pos:
        c = pos["trang_thai"]
        for label, fmt in ((P.SUBMITTED_OK, st.ok), (P.SUBMITTED_ERRORS, st.bad), (P.LATE, st.warn),
                           (P.NOT_SUBMITTED, st.grey)):
            ws.conditional_format(FIRST_ROW, c, last, c, {"type": "cell", "criteria": "==", "value": f'"{label}"',
                                                          "format": fmt})


def _nominations(wb: Any, st: _Styles, pic: P.Picture, x: MasterExtras) -> None:
    ws, pos, last = _table(wb, st, pic, "nominations", columns("nominations", x), nomination_rows(pic, x.history), freeze_cols=2)
    ws.set_row(HEADER_ROW, 45)
    decision = pos.get(OFFICER_PREFIX + "ket_qua")
    if decision is not None:
        ws.data_validation(FIRST_ROW, decision, max(last, 500), decision, {
            "validate": "list", "source": list(F.OFFICER_DECISIONS), "input_title": "Kết quả xét chọn",
            "input_message": "Chọn: Đang xem xét / Được chọn / Không chọn.", "error_type": "stop",
            "error_title": "Giá trị không hợp lệ", "error_message": "Chọn một giá trị trong danh sách."})
    if "tinh_trang" in pos:
        c = pos["tinh_trang"]
        ws.conditional_format(FIRST_ROW, c, last, c, {"type": "cell", "criteria": "==",
                                                      "value": f'"{P.NOM_WITHDRAWN}"', "format": st.grey})
        ws.conditional_format(FIRST_ROW, c, last, c, {"type": "cell", "criteria": "==", "value": f'"{P.NOM_ERROR}"',
                                                      "format": st.bad})


def _problems(wb: Any, st: _Styles, pic: P.Picture, x: MasterExtras) -> None:
    ws, pos, last = _table(wb, st, pic, "problems", columns("problems", x), problem_rows(pic, x))
    if "muc_do" in pos:
        c = pos["muc_do"]
        ws.conditional_format(FIRST_ROW, c, last, c, {"type": "cell", "criteria": "==", "value": '"Lỗi"',
                                                      "format": st.bad})
        ws.conditional_format(FIRST_ROW, c, last, c, {"type": "cell", "criteria": "==", "value": '"Cảnh báo"',
                                                      "format": st.warn})


def _files(wb: Any, st: _Styles, pic: P.Picture, x: MasterExtras) -> None:
    ws, pos, last = _table(wb, st, pic, "files", columns("files", x), file_rows(pic, x), freeze_cols=1)
    ws.set_row(HEADER_ROW, 32)
    verdict = pos.get(OFFICER_PREFIX + VERDICT_KEY)
    if verdict is not None:
        ws.data_validation(FIRST_ROW, verdict, max(last, 500), verdict, {
            "validate": "list", "source": [F.FILE_VERDICT_EXCLUDE], "error_type": "information",
            "input_title": "Quyết định về tệp",
            "input_message": f"Để trống: công cụ tự xử lý. '{F.FILE_VERDICT_EXCLUDE}': bỏ tệp này. "
                             f"'{F.FILE_VERDICT_ASSIGN} <mã đơn vị>': tính tệp cho đơn vị đó "
                             "(mã ở trang Đơn vị).",
            "error_title": "Quyết định về tệp",
            "error_message": f"Chỉ dùng '{F.FILE_VERDICT_EXCLUDE}' hoặc '{F.FILE_VERDICT_ASSIGN} <mã đơn vị>'."})


def _edits(wb: Any, st: _Styles, pic: P.Picture, x: MasterExtras) -> None:
    """Hand edits of tool cells and hand-added rows not applied: listed until the officer deletes the row."""
    ws, _pos, _last = _table(wb, st, pic, "edits", columns("edits", x), edit_rows(x), streaming=False)
    ws.set_row(HEADER_ROW, 30)
    if x.edits:
        ws.set_tab_color("#FFC000")


def _added_sheet(wb: Any, sheet: AddedSheet, taken: set[str]) -> None:
    """Write back a sheet the officer added: values, formulas (with their last values), styles, sizes, merges."""
    name = sheet.name
    n = 1
    while name in taken:
        n += 1
        name = f"{sheet.name[:26]} ({n})"
    taken.add(name)
    ws = _add_sheet(wb, name, streaming=False)
    for c, w in sheet.widths.items():
        ws.set_column(c, c, w)
    for r, h in sheet.heights.items():
        ws.set_row(r, h)
    formats: dict[str, Any] = {}

    def fmt_of(style: dict[str, Any]) -> Any:
        key = repr(sorted(style.items()))
        if key not in formats:
            formats[key] = wb.add_format(style) if style else None
        return formats[key]
    styles = {(r, c): style for r, c, _v, _k, style in sheet.cells}
    for r1, c1, r2, c2 in sheet.merged:   # first: merge_range blanks its cells, the anchor is written below
        ws.merge_range(r1, c1, r2, c2, "", fmt_of(styles.get((r1, c1), {})))
    for r, c, value, kind, style in sheet.cells:
        fmt = fmt_of(style)
        if kind == "formula":
            formula, cached = value
            ws.write_formula(r, c, formula, fmt, cached if cached is not None else "")   # "": recalculated
        elif kind == "number":
            ws.write_number(r, c, value, fmt)
        elif kind == "bool":
            ws.write_boolean(r, c, value, fmt)
        elif kind == "date":
            ws.write_datetime(r, c, datetime.fromisoformat(value), fmt)
        elif value not in (None, ""):
            ws.write_string(r, c, str(value), fmt)
        elif fmt is not None:
            ws.write_blank(r, c, None, fmt)
