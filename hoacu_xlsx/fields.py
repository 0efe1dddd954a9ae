"""The nomination fields: keys, Vietnamese headers, dropdown lists, required rules.

One table serves the workbook builder (columns, dropdowns, self-check formulas), the
reader (headers are matched by label), the validator (lists, required fields) and the
master writer (column titles), so the four can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from hoacu_xlsx.catalogue import Assignment, Catalogue, Criterion

# --------------------------------------------------------------------------- closed lists

GENDERS = ("Nam", "Nữ")
CRITERION_ANSWERS = ("Đạt", "Chưa đạt")
CRITERION_MET = "Đạt"
CRITERION_NOT_MET = "Chưa đạt"
NOT_APPLICABLE = "Không áp dụng"

# Section II of the dispatch: forms of publicity.
PUBLICITY_FORMS = (
    "Trang web của đơn vị",
    "Trang thông tin điện tử của huyện",
    "Chương trình truyền thanh, truyền hình",
    "Báo cáo viên, tuyên truyền viên, hội viên nòng cốt",
    "Tham quan, học hỏi kinh nghiệm tại đơn vị",
    "Kết hợp nhiều hình thức trên",
)

# Section II / III.2: the example writes up its experience as replication material.
EXPERIENCE_DOC = ("Đã có", "Đang viết", "Chưa có")

# The 54 ethnic groups of Viet Nam (General Statistics Office list).
ETHNIC_GROUPS = (
    "Kinh", "Tày", "Thái", "Mường", "Khmer", "Hoa", "Nùng", "Mông", "Dao", "Gia Rai",
    "Ê Đê", "Ba Na", "Sán Chay", "Chăm", "Cơ Ho", "Xơ Đăng", "Sán Dìu", "Hrê", "Ra Glai",
    "Mnông", "Thổ", "Xtiêng", "Khơ Mú", "Bru Vân Kiều", "Cơ Tu", "Giáy", "Tà Ôi", "Mạ",
    "Giẻ Triêng", "Co", "Chơ Ro", "Xinh Mun", "Hà Nhì", "Chu Ru", "Lào", "La Chí",
    "Kháng", "Phù Lá", "La Hủ", "La Ha", "Pà Thẻn", "Lự", "Ngái", "Chứt", "Lô Lô",
    "Mảng", "Cơ Lao", "Bố Y", "Cống", "Si La", "Pu Péo", "Rơ Măm", "Brâu", "Ơ Đu",
)
assert len(ETHNIC_GROUPS) == 54

# Officer columns of the master (typed by hand, kept across merges).
OFFICER_DECISIONS = ("Đang xem xét", "Được chọn", "Không chọn")
# the officer's verdict on a returned file (Nhật ký tệp): blank = the tool decides;
# "Không tính" = reject/withdraw the file; "Tính cho đơn vị: <mã đơn vị>" = credit it to that unit
FILE_VERDICT_EXCLUDE = "Không tính"
FILE_VERDICT_ASSIGN = "Tính cho đơn vị:"


@dataclass(frozen=True)
class Field:
    """One column of an entry sheet."""

    key: str
    header: str
    width: float
    hint: str                       # input message shown when the cell is selected
    list_name: str | None = None    # closed-choice field: name of its list
    required: frozenset[str] = frozenset()  # nominee bases for which the field is required
    kind: str = "text"              # text | long | year | phone | list | criterion
    criterion: Criterion | None = None
    recommended: frozenset[str] = frozenset()  # bases for which a blank is a warning, not an error

    def required_for(self, base: str) -> bool:
        return base in self.required

    def recommended_for(self, base: str) -> bool:
        return base in self.recommended


ALL = frozenset({"tap_the", "ca_nhan", "ho_gia_dinh"})
PERSON = frozenset({"ca_nhan"})
NONE: frozenset[str] = frozenset()

# Fields before the criteria columns.
HEAD_FIELDS: tuple[Field, ...] = (
    Field("loai_dien_hinh", "Loại điển hình", 18, "Chọn loại điển hình trong danh sách.", "kinds", ALL, "list"),
    Field("ten", "Tên tập thể / Họ và tên cá nhân, chủ hộ", 28,
          "Tập thể: ghi tên đầy đủ. Cá nhân: họ và tên. Hộ gia đình: họ tên chủ hộ.", None, ALL),
    Field("gioi_tinh", "Giới tính", 9, "Chọn Nam hoặc Nữ (cá nhân).", "genders", PERSON, "list"),
    Field("nam_sinh", "Năm sinh", 9, "Năm sinh, 4 chữ số, ví dụ 1985 (cá nhân, chủ hộ).", None,
          frozenset({"ca_nhan"}), "year"),
    Field("dan_toc", "Dân tộc", 11, "Chọn dân tộc trong danh sách (cá nhân).", "ethnic", NONE, "list",
          recommended=PERSON),
    Field("chuc_vu_don_vi", "Chức vụ, đơn vị công tác", 22,
          "Cá nhân: chức vụ, nơi công tác/học tập. Tập thể: đơn vị chủ quản.", None, NONE, recommended=PERSON),
    Field("dia_chi", "Địa chỉ (thôn)", 16, "Thôn hoặc địa chỉ nơi ở / trụ sở.", None, NONE, recommended=ALL),
    Field("mo_hinh", "Tên mô hình, cách làm hay", 28,
          "Tên mô hình hoặc cách làm hay mà điển hình đại diện.", None, NONE, "long", recommended=ALL),
    Field("thanh_tich", "Thành tích tiêu biểu", 36,
          "Tóm tắt thành tích nổi bật (số liệu, kết quả, khen thưởng).", None, ALL, "long"),
)

# Fields after the criteria columns.
TAIL_FIELDS: tuple[Field, ...] = (
    Field("can_bo_theo_doi", "Cán bộ theo dõi, hỗ trợ", 20,
          "Họ tên cán bộ được đơn vị phân công theo dõi, hỗ trợ xây dựng điển hình.", None, NONE,
          recommended=ALL),
    Field("hinh_thuc_tuyen_truyen", "Hình thức tuyên truyền dự kiến", 24,
          "Chọn hình thức tuyên truyền dự kiến (Mục II công văn).", "publicity", NONE, "list", recommended=ALL),
    Field("tai_lieu_kinh_nghiem", "Tài liệu kinh nghiệm", 13,
          "Điển hình đã viết lại kinh nghiệm, cách làm hay để làm tài liệu nhân rộng chưa?",
          "experience", NONE, "list", recommended=ALL),
    Field("dien_thoai", "Điện thoại liên hệ", 14, "Số điện thoại, ví dụ 0912345678.", None, frozenset(), "phone"),
    Field("ghi_chu", "Ghi chú", 20, "Ghi chú thêm (nếu có).", None, frozenset(), "long"),
)

STT_HEADER = "STT"
UNIT_LABEL = "Đơn vị:"   # above each entry table; the reader's fallback finds the unit name next to it
CHECK_HEADER = "Tự kiểm tra"

# The preparer of the sheet (one per entry sheet, above the table).
PREPARER_FIELDS: tuple[tuple[str, str], ...] = (
    ("nguoi_lap", "Người lập biểu"),
    ("chuc_vu", "Chức vụ"),
    ("dien_thoai", "Điện thoại"),
    ("ngay_lap", "Ngày lập (dd/mm/yyyy)"),
)


def criterion_header(c: Criterion) -> str:
    """Header of a criterion column: 'TC1. <short>' — the reader matches the 'TC1' prefix."""
    return f"TC{c.number}. {c.short}"


def criterion_field(c: Criterion) -> Field:
    hint = f"Tiêu chí {c.number}: {c.text}"
    if len(hint) > 250:
        hint = hint[:249] + "…"
    return Field(c.key, criterion_header(c), 12, hint, "answers", frozenset(), "criterion", c)


def fields_for(assignment: Assignment) -> list[Field]:
    """Every input field of an assignment's entry sheet, in column order."""
    return [*HEAD_FIELDS, *(criterion_field(c) for c in assignment.criteria), *TAIL_FIELDS]


def field_required(f: Field, assignment: Assignment, kind_id: str, base: str) -> bool:
    """Is the field required (a blank is an error) for a row of this nominee kind?"""
    if f.criterion is not None:
        return kind_id in f.criterion.applies_to
    return f.required_for(base)


def field_recommended(f: Field, kind_id: str, base: str) -> bool:
    """Should the field be filled (a blank is a warning) for a row of this nominee kind?"""
    return f.criterion is None and f.recommended_for(base)


def lists_for(catalogue: Catalogue, assignment: Assignment) -> dict[str, tuple[str, ...]]:
    """The closed lists an entry sheet uses, by list name."""
    lists = {
        "kinds": tuple(k.label for k in assignment.nominee_kinds),
        "genders": GENDERS,
        "ethnic": ETHNIC_GROUPS,
        "answers": CRITERION_ANSWERS,
        "publicity": PUBLICITY_FORMS,
        "experience": EXPERIENCE_DOC,
    }
    if catalogue.villages:
        lists["villages"] = tuple(catalogue.villages)
    return lists


def list_name(f: Field, catalogue: Catalogue) -> str | None:
    """The field's list, counting the village list that dia_chi gets when villages exist."""
    if f.key == "dia_chi" and catalogue.villages:
        return "villages"
    return f.list_name
