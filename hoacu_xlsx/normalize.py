"""Clean cell values the same way everywhere: text, names, years, phones, dates.

Units type on old PCs: decomposed Unicode (NFD), legacy Vietnamese encodings typed
with old fonts (TCVN3/ABC with .VnTime, VNI with VNI-Times — the text reaches the
cell as Latin-1 lookalike characters), capitals, stray spaces, years as 1985.0,
phones that lost their leading zero. Everything returned is Unicode NFC. Detection
of legacy encodings is conservative: when unsure, the text is left alone.
Standard library only (start-up time matters).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date, datetime, timedelta

from hoacu_xlsx.messages import reason

# --------------------------------------------------------------------------- text

_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\ufeff]+")


def clean_text(value: object) -> str:
    """Anything a cell holds -> NFC text, spaces collapsed and trimmed; 1985.0 -> '1985'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            value = int(value)
        else:
            value = repr(value)
    if isinstance(value, datetime):
        value = value.strftime("%d/%m/%Y %H:%M") if (value.hour or value.minute) else value.strftime("%d/%m/%Y")
    elif isinstance(value, date):
        value = value.strftime("%d/%m/%Y")
    text = unicodedata.normalize("NFC", str(value))
    return _SPACES.sub(" ", text).strip()


_LINE_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\ufeff\v\f]+")


def clean_multiline(value: object) -> str:
    """Like :func:`clean_text`, but the line breaks of a long text are kept (CRLF/CR -> LF; blank lines kept once)."""
    if not isinstance(value, str):
        return clean_text(value)
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    lines = [_LINE_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip("\n")


def is_decomposed(text: str) -> bool:
    return not unicodedata.is_normalized("NFC", text)


# --------------------------------------------------------------------------- legacy encodings

# TCVN3 (ABC): one byte per letter; the upper-case toned vowels use the lower-case glyphs.
_TCVN3 = {
    "¸": "á", "µ": "à", "¶": "ả", "·": "ã", "¹": "ạ",
    "¨": "ă", "¾": "ắ", "»": "ằ", "¼": "ẳ", "½": "ẵ", "Æ": "ặ",
    "©": "â", "Ê": "ấ", "Ç": "ầ", "È": "ẩ", "É": "ẫ", "Ë": "ậ",
    "®": "đ",
    "Ð": "é", "Ì": "è", "Î": "ẻ", "Ï": "ẽ", "Ñ": "ẹ",
    "ª": "ê", "Õ": "ế", "Ò": "ề", "Ó": "ể", "Ô": "ễ", "Ö": "ệ",
    "Ý": "í", "×": "ì", "Ø": "ỉ", "Ü": "ĩ", "Þ": "ị",
    "ã": "ó", "ß": "ò", "á": "ỏ", "â": "õ", "ä": "ọ",
    "«": "ô", "è": "ố", "å": "ồ", "æ": "ổ", "ç": "ỗ", "é": "ộ",
    "¬": "ơ", "í": "ớ", "ê": "ờ", "ë": "ở", "ì": "ỡ", "î": "ợ",
    "ó": "ú", "ï": "ù", "ñ": "ủ", "ò": "ũ", "ô": "ụ",
    "\u00ad": "ư", "ø": "ứ", "õ": "ừ", "ö": "ử", "÷": "ữ", "ù": "ự",
    "ý": "ý", "ú": "ỳ", "û": "ỷ", "ü": "ỹ", "þ": "ỵ",
    "¡": "Ă", "¢": "Â", "§": "Đ", "£": "Ê", "¤": "Ô", "¥": "Ơ", "¦": "Ư",
}
_TCVN3_TELL = set(_TCVN3) - {"ý"}

# VNI (VNI-Times): a base letter followed by mark characters.
_VNI_TONES_L = {"ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_TONES_U = {"Ù": "\u0301", "Ø": "\u0300", "Û": "\u0309", "Õ": "\u0303", "Ï": "\u0323"}
# circumflex + tone and breve + tone (after a/e/o)
_VNI_CIRC_L = {"â": "", "á": "\u0301", "à": "\u0300", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_VNI_CIRC_U = {"Â": "", "Á": "\u0301", "À": "\u0300", "Å": "\u0309", "Ã": "\u0303", "Ä": "\u0323"}
_VNI_BREVE_L = {"ê": "", "é": "\u0301", "è": "\u0300", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
_VNI_BREVE_U = {"Ê": "", "É": "\u0301", "È": "\u0300", "Ú": "\u0309", "Ü": "\u0303", "Ë": "\u0323"}
_VNI_SINGLE = {
    "ô": "ơ", "ö": "ư", "Ô": "Ơ", "Ö": "Ư", "ñ": "đ", "Ñ": "Đ",
    "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "Í": "Í", "Ì": "Ì", "Æ": "Ỉ", "Ó": "Ĩ", "Ò": "Ị",
    "î": "ỵ", "Î": "Ỵ",
}
_VNI_TELL = re.compile(r"[aeoyuAEOYU][ùøûõïÙØÛÕÏâáàåãäÂÁÀÅÃÄêéèúüëÊÉÈÚÜË]|[ôöÔÖ][ùøûõïÙØÛÕÏ]|ñ|Ñ")

_ONSETS = ("ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", "b", "c", "d", "đ", "g", "h", "k",
           "l", "m", "n", "p", "r", "s", "t", "v", "x", "")
_CODAS = ("ng", "nh", "ch", "c", "m", "n", "p", "t", "")
_NUCLEI = set("a ă â e ê i o ô ơ u ư y ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi oo ua uâ uê ui uô uơ uy "
              "ưa ưi ươ ưu yê iêu oai oay oeo uây uôi uya uyê uyu ươi ươu yêu".split())
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _is_syllable(word: str) -> bool:
    """Does ``word`` parse as one Vietnamese syllable (onset, vowel nucleus, coda, at most one tone)?"""
    decomposed = unicodedata.normalize("NFD", word.lower())
    if sum(ch in _TONES for ch in decomposed) > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    for onset in _ONSETS:
        if not base.startswith(onset):
            continue
        rest = base[len(onset):]
        for coda in _CODAS:
            if rest.endswith(coda):
                nucleus = rest[: len(rest) - len(coda)] if coda else rest
                if nucleus in _NUCLEI or (onset in ("gi", "qu") and nucleus == ""):
                    return True
    return False


def _vietnamese_score(text: str) -> float:
    """Share of words that parse as Vietnamese syllables."""
    words = re.findall(r"[^\W\d_]+", text)
    if not words:
        return 0.0
    return sum(_is_syllable(w) for w in words) / len(words)


def _from_tcvn3(text: str) -> str:
    return "".join(_TCVN3.get(ch, ch) for ch in text)


def _from_vni(text: str) -> str:
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch in _VNI_SINGLE and not (ch in "ôöÔÖ" and out and out[-1].lower() in "aeiouy" and False):
            base = _VNI_SINGLE[ch]
            if base in "ơưƠƯ" and nxt and (nxt in _VNI_TONES_L or nxt in _VNI_TONES_U):
                tone = _VNI_TONES_L.get(nxt) or _VNI_TONES_U.get(nxt)
                out.append(unicodedata.normalize("NFC", base + tone))
                i += 2
                continue
            out.append(base)
            i += 1
            continue
        if ch in "aeoAEO" and nxt and (nxt in _VNI_CIRC_L or nxt in _VNI_CIRC_U):
            tone = _VNI_CIRC_L.get(nxt, _VNI_CIRC_U.get(nxt, ""))
            out.append(unicodedata.normalize("NFC", ch + "\u0302" + tone))
            i += 2
            continue
        if ch in "aA" and nxt and (nxt in _VNI_BREVE_L or nxt in _VNI_BREVE_U):
            tone = _VNI_BREVE_L.get(nxt, _VNI_BREVE_U.get(nxt, ""))
            out.append(unicodedata.normalize("NFC", ch + "\u0306" + tone))
            i += 2
            continue
        if ch in "aeouyAEOUY" and nxt and (nxt in _VNI_TONES_L or nxt in _VNI_TONES_U):
            tone = _VNI_TONES_L.get(nxt) or _VNI_TONES_U.get(nxt)
            out.append(unicodedata.normalize("NFC", ch + tone))  # type: ignore[operator]
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_NATIVE = re.compile("[\u0100-\u1ef9]")   # letters of Unicode Vietnamese (and more): never legacy-encoded text


def detect_legacy(text: str) -> str | None:
    """'tcvn3', 'vni' or None. Conservative: needs several telltales and a Vietnamese-looking result."""
    if not text or text.isascii():
        return None
    if _NATIVE.search(text):
        return None  # genuine Unicode Vietnamese is present
    tcvn_hits = sum(1 for ch in text if ch in _TCVN3_TELL)
    vni_hits = len(_VNI_TELL.findall(text))
    best: tuple[float, str] | None = None
    before = _vietnamese_score(text)
    for enc, hits, conv in (("tcvn3", tcvn_hits, _from_tcvn3), ("vni", vni_hits, _from_vni)):
        if hits < 2 and not (hits == 1 and len(text) <= 12):
            continue
        after = _vietnamese_score(conv(text))
        if after >= 0.8 and after > before and (best is None or after > best[0]):
            best = (after, enc)
    return best[1] if best else None


def fix_legacy(text: str) -> tuple[str, str | None]:
    """Convert TCVN3/VNI text to Unicode; returns (text, encoding detected or None)."""
    enc = detect_legacy(text)
    if enc == "tcvn3":
        # ABC capitals with tone marks use lower-case glyphs: restore capitals in upper-case words
        words = []
        for w in re.split(r"(\s+)", text):
            conv = _from_tcvn3(w)
            plain = [ch for ch in w if ch.isalpha() and ch not in _TCVN3]
            words.append(conv.upper() if plain and all(ch.isupper() for ch in plain) and len(plain) > 1 else conv)
        return unicodedata.normalize("NFC", "".join(words)), enc
    if enc == "vni":
        return unicodedata.normalize("NFC", _from_vni(text)), enc
    return text, None


def to_tcvn3(text: str) -> str:
    """Unicode -> TCVN3 lookalike text (for tests of the detector; upper case uses lower glyphs)."""
    rev = {v: k for k, v in _TCVN3.items()}
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in rev:
            out.append(rev[ch])
        elif ch.lower() in rev and ch not in "ĂÂĐÊÔƠƯ":
            out.append(rev[ch.lower()])
        else:
            out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------- names and keys


def display_name(text: str) -> str:
    """'NGUYỄN VĂN AN' / 'nguyễn văn an' -> 'Nguyễn Văn An'; mixed case is kept as typed."""
    text = clean_text(text)
    letters = [ch for ch in text if ch.isalpha()]
    if not letters or not (all(c.isupper() for c in letters) or all(c.islower() for c in letters)):
        return text
    return " ".join(w[:1].upper() + w[1:].lower() for w in text.split(" "))


@functools.lru_cache(maxsize=1 << 16)
def fold_key(text: str) -> str:
    """Diacritic- and case-insensitive key: 'Nguyễn Văn Đức' -> 'nguyen van duc' (memoised: hot path)."""
    text = clean_text(text).replace("đ", "d").replace("Đ", "D")
    if not text.isascii():
        text = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return _SPACES.sub(" ", text.lower()).strip()


# --------------------------------------------------------------------------- numbers and dates


def parse_year(value: object) -> int | None:
    """1985, 1985.0, '1985', ' 1985.0 ', a date, '12/03/1985' -> 1985; blank -> None."""
    if value is None or value == "":
        return None
    if isinstance(value, (datetime, date)):
        return value.year
    if isinstance(value, bool):
        raise ValueError(reason("value.year"))
    if isinstance(value, (int, float)):
        if float(value).is_integer():
            return int(value)
        raise ValueError(reason("value.year_fraction"))
    text = clean_text(value)
    if not text:
        return None
    if re.fullmatch(r"\d{4}(\.0+)?", text):
        return int(float(text))
    try:
        return parse_date(text).year  # type: ignore[union-attr]
    except (ValueError, AttributeError):
        raise ValueError(reason("value.year_text", text=text)) from None


def parse_phone(value: object) -> str | None:
    """Vietnamese phone numbers as text, leading zero restored: 912345678 -> '0912345678'."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(reason("value.phone"))
        value = int(value)
    text = clean_text(value)
    if not text:
        return None
    digits = re.sub(r"[\s.\-()/]", "", text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if not digits.isdigit():
        raise ValueError(reason("value.phone_text", text=text))
    if not digits.startswith("0") and len(digits) in (9, 10):
        digits = "0" + digits
    if not 10 <= len(digits) <= 11:
        raise ValueError(reason("value.phone_short", text=text))
    return digits


_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_EPOCH_1904 = date(1904, 1, 1)


def parse_date(value: object, *, epoch_1904: bool = False) -> date | None:
    """Dates as objects, Excel serials or day-first text ('31/05/2024', 'ngày 31 tháng 5 năm 2024')."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 1 <= value < 2958466:
            raise ValueError(reason("value.date_serial"))
        base = _EXCEL_EPOCH_1904 if epoch_1904 else _EXCEL_EPOCH
        return base + timedelta(days=int(value))
    text = clean_text(value).lower()
    if not text:
        return None
    m = re.fullmatch(r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*(\d{2,4})", text)
    if m:
        d, mo, y = map(int, m.groups())
    elif m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text):
        y, mo, d = map(int, m.groups())
    elif m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2,4})", text):
        d, mo, y = map(int, m.groups())
    else:
        raise ValueError(reason("value.date_text", text=value))
    if y < 100:
        y += 2000 if y < 70 else 1900
    try:
        return date(y, mo, d)
    except ValueError:
        raise ValueError(reason("value.date_invalid", text=value)) from None


# --------------------------------------------------------------------------- formula-looking text


def looks_like_formula(text: object) -> bool:
    """Text Excel would take for a formula (= + - @, or a leading tab/CR)."""
    if not isinstance(text, str) or not text:
        return False
    return text[0] in "\t\r" or text.lstrip()[:1] in ("=", "+", "-", "@")


def csv_safe(text: str) -> str:
    """Neutralise formula-looking text for CSV (OWASP CSV injection advice)."""
    return "'" + text if looks_like_formula(text) else text


def truncate(text: str, limit: int) -> tuple[str, bool]:
    return (text, False) if len(text) <= limit else (text[: limit - 1] + "…", True)
