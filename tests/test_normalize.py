"""Cell values cleaned the same way everywhere: what a unit types on an old PC comes out right."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from hoacu_xlsx import normalize as N

SENTENCES = [
    "Trường Mầm non xã Hòa Cư đạt danh hiệu tập thể lao động xuất sắc",
    "Hội Nông dân xã phối hợp với các đơn vị liên quan lựa chọn nông dân điển hình",
    "Ông Hoàng Văn Thắng, dân tộc Tày, thôn mẫu, có mô hình nuôi ong lấy mật",
    "Khởi nghiệp trong thanh niên; gia đình 5 không, 3 sạch",
]


def test_clean_text_spaces_numbers_nfc():
    assert N.clean_text("  Nguyễn\u00a0\u00a0Văn\tAn \u200b") == "Nguyễn Văn An"
    assert N.clean_text(1985.0) == "1985"
    assert N.clean_text(None) == ""
    assert N.clean_text("Hoa\u0300") == "Hoà"            # decomposed -> composed
    assert N.is_decomposed("Hoa\u0300") and not N.is_decomposed("Hoà")


@pytest.mark.parametrize("text", SENTENCES)
def test_tcvn3_round_trip(text):
    legacy = N.to_tcvn3(text)
    assert legacy != text
    fixed, enc = N.fix_legacy(legacy)
    assert enc == "tcvn3" and fixed == text


def test_vni_is_detected_and_converted():
    fixed, enc = N.fix_legacy("Hoaøng Vaên Thaéng")
    assert (fixed, enc) == ("Hoàng Văn Thắng", "vni")
    fixed, enc = N.fix_legacy("Tröôøng Maàm non xaõ Hoøa Cö ñaït danh hieäu")
    assert enc == "vni" and fixed == "Trường Mầm non xã Hòa Cư đạt danh hiệu"


@pytest.mark.parametrize("text", SENTENCES + ["café Müller", "Señor José", "Größe", "Naïve façade", "ÀÉÎÕÜ",
                                              "Nguyen Van An", "Email: a@b.vn", "Mô hình", "Đạt", "Chưa đạt"])
def test_ordinary_text_is_never_converted(text):
    assert N.fix_legacy(text) == (text, None)


def test_names():
    assert N.display_name("NGUYỄN VĂN AN") == "Nguyễn Văn An"
    assert N.display_name("đặng thị hà") == "Đặng Thị Hà"
    assert N.display_name("Nguyễn văn An") == "Nguyễn văn An"   # mixed case is the unit's choice
    assert N.fold_key("  Nguyễn  Văn ĐỨC ") == N.fold_key("nguyen van duc") == "nguyen van duc"


def test_years():
    assert N.parse_year(1985) == N.parse_year(1985.0) == N.parse_year(" 1985.0 ") == 1985
    assert N.parse_year(date(1985, 3, 2)) == N.parse_year("02/03/1985") == 1985
    assert N.parse_year("") is None
    with pytest.raises(ValueError):
        N.parse_year("tám lăm")


def test_phones():
    assert N.parse_phone(912345678) == N.parse_phone(912345678.0) == "0912345678"
    assert N.parse_phone("+84 912 345 678") == N.parse_phone("0912.345.678") == "0912345678"
    assert N.parse_phone("02053 123 456") == "02053123456"
    with pytest.raises(ValueError):
        N.parse_phone("gọi anh Ba")


def test_dates():
    d = date(2024, 5, 31)
    for v in ("31/05/2024", "31-05-2024", "31.05.2024", "2024-05-31", "31/5/24", "ngày 31 tháng 5 năm 2024",
              45443, 45443.0, datetime(2024, 5, 31, 8, 0)):
        assert N.parse_date(v) == d, v
    assert N.parse_date(43981, epoch_1904=True) == d
    with pytest.raises(ValueError):
        N.parse_date("32/13/2024")


def test_formula_looking_text():
    for t in ("=SUM(A1)", "+84912", "-1", "@x", "\tcmd"):
        assert N.looks_like_formula(t)
        assert N.csv_safe(t).startswith("'")
    assert not N.looks_like_formula("Nguyễn Văn An")
