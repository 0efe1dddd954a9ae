"""Streaming checks of one XML part of a workbook package, fed in inflated chunks.

* XML attacks — any ``<!DOCTYPE``/``<!ENTITY`` in any part is refused (Excel and LibreOffice
  never write one): stops "billion laughs" and external entities (XXE); odd XML encodings
  (UTF-7, UTF-32, EBCDIC…) that could hide one are refused too;
* huge used ranges — python-calamine allocates the whole rectangle of a sheet and
  pre-allocates ``<sst uniqueCount>`` strings: the bounding box of cells *with values* in
  .xlsx sheet XML and .ods tables (repeated rows/columns counted) is measured, and element
  counts are capped for openpyxl.

A few regular expressions over bounded chunks (no XML parser): about a millisecond for a
normal 30 KB workbook.
"""

from __future__ import annotations

import codecs
import re

from hoacu_xlsx import messages as T
from hoacu_xlsx.cells import col_index
from hoacu_xlsx.intake.incoming import Refused, refusal, thousands
from hoacu_xlsx.intake.limits import Limits, check_box

_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.I)
_XMLDECL_ENC = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""", re.I)
_SAFE_ENC = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252",
             "utf-16", "utf-16le", "utf-16be", "utf16"}
_C_ANY = re.compile(rb"<(?:[\w.-]+:)?c(?=[\s/>])")
_C_VAL = re.compile(rb'<c r="([A-Za-z]{1,3})([0-9]{1,7})"[^>]*(?<!/)>')
_C_BARE = re.compile(rb"<c[>/\t\r\n]")
_C_PREFIXED = re.compile(rb"<[\w.-]+:c[\s/>]")
_C_BADREF = re.compile(rb'<c r="(?![A-Za-z]{1,3}[0-9]{1,7}")')
_C_FAR = re.compile(rb'<c r="(?:[A-Za-z]{3}|[A-Za-z]{1,2}[0-9]{4})')
_XL_TOK = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*)>")
_REF = re.compile(rb"([A-Za-z]{1,3})([0-9]{1,7})$")
_SST = re.compile(rb"""<(?:[\w.-]+:)?sst\s[^>]*?\buniqueCount\s*=\s*["'](\d+)""")
_ODS_TOK = re.compile(rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*)>")
_ROWS_REP = re.compile(rb'number-rows-repeated="(\d+)"')
_COLS_REP = re.compile(rb'number-columns-repeated="(\d+)"')
_DTD16 = re.compile(rb"<\x00!\x00(?:\s\x00)*(?:[Dd]\x00[Oo]\x00[Cc]\x00|[Ee]\x00[Nn]\x00[Tt]\x00|[Ee]\x00[Ll]\x00|"
                    rb"[Aa]\x00[Tt]\x00)"
                    rb"|\x00<\x00!\x00(?:\s\x00)*(?:[Dd]\x00[Oo]|[Ee]\x00[Nn]|[Ee]\x00[Ll]|[Aa]\x00[Tt])")
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_MAX_CARRY = 8 * 2**20



def _col_number(letters: bytes) -> int:
    """1-based column number of the letters of a cell reference (b'A' -> 1)."""
    return col_index(letters) + 1


class PartScanner:
    """Checks one XML part fed in chunks: no DTD, sane encoding, bounded used range and counts.

    Chunks are cut at the last '<' so that no tag straddles two scans (a well-formed tag
    holds no '<'); the carry is capped.
    """

    def __init__(self, name: str, part: str, kind: str, limits: Limits) -> None:
        self.name, self.part, self.kind, self.lim = name, part, kind, limits
        self.started = False
        self.decoder = None            # for UTF-16 parts: bytes -> str -> UTF-8 bytes
        self.carry = b""
        # xlsx state
        self.max_row = self.max_col = 0
        self.cells = self.strings = 0
        self.slow = False
        self.first = True
        self.error_values = False      # a cell t="e" seen (the reader then looks for its error text)
        # refs within ZZ999 cannot break the limits: the box is then not measured (saves ~1 ms a file)
        self.small_ok = limits.max_cols >= 702 and limits.max_rows >= 999 and limits.max_cells >= 702 * 999
        self.cur_row = self.cur_col = 0
        # ods state
        self.t_row = self.t_last = self.t_maxcol = 0
        self.r_rep = 1
        self.r_col = self.r_maxcol = 0
        self.r_has = False
        self.table = ""

    def _refuse_xml(self, what: str) -> Refused:
        return refusal("refused/unsafe_xml", self.name, what=what, part=self.part)

    def _start(self, chunk: bytes) -> bytes:
        self.started = True
        head = chunk[:4]
        if head[:3] == b"\xef\xbb\xbf":
            chunk = chunk[3:]
        elif head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:2] in (b"<\x00", b"\x00<"):
            if head[:4] in (b"\xff\xfe\x00\x00", b"<\x00\x00\x00"):
                raise self._refuse_xml(T.reason("xml.utf32"))
            enc = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else \
                "utf-16-le" if head[:2] == b"<\x00" else "utf-16-be"
            self.decoder = codecs.getincrementaldecoder(enc)("replace")
            return self.decoder.decode(chunk).encode("utf-8")
        stripped = chunk.lstrip(b" \t\r\n")
        if not stripped:
            self.started = False
            return b""
        # every part is scanned, XML or not: a reader may follow a relationship to any part name
        m = _XMLDECL_ENC.match(stripped[:200])
        if m:
            enc = m.group(1).decode("ascii", "replace").strip().lower()
            if enc not in _SAFE_ENC or enc.startswith("utf-16") or enc == "utf16":
                raise self._refuse_xml(T.reason("xml.encoding", encoding=enc))
        return chunk

    def feed(self, chunk: bytes) -> None:
        if self.decoder is not None:
            chunk = self.decoder.decode(chunk).encode("utf-8")
        elif not self.started:
            chunk = self._start(chunk)
            if not self.started:
                return
        buf = self.carry + chunk if self.carry else chunk
        cut = buf.rfind(b"<")
        if cut <= 0:
            self.carry = buf
            if len(buf) > _MAX_CARRY:
                self._scan(buf[:-64])      # a huge text run: no tag inside, keep a tail for the next check
                self.carry = buf[-64:]
            return
        self.carry = buf[cut:]
        self._scan(buf[:cut])

    def close(self) -> None:
        if self.carry:
            self._scan(self.carry)
            self.carry = b""
        if self.kind == "ods" and self.table:
            self._end_table()

    # ---- one complete run of tags
    def _scan(self, seg: bytes) -> None:
        if b"<!" in seg and _DTD.search(seg):
            raise self._refuse_xml(T.reason("xml.doctype"))
        if b"\x00" in seg and _DTD16.search(seg):     # UTF-16 markup hidden in a byte-oriented part
            raise self._refuse_xml(T.reason("xml.doctype"))
        if self.kind == "xlsx":
            self._scan_xlsx(seg)
        elif self.kind == "ods":
            self._scan_ods(seg)

    def _count_strings(self, seg: bytes, first: bool) -> None:
        """Shared strings: the declared uniqueCount (calamine pre-allocates it) and the <si> elements."""
        if first and b"uniqueCount" in seg:
            m = _SST.search(seg)
            if m and int(m.group(1)[:12]) > self.lim.max_strings:
                raise self._too_many(T.reason("xml.strings"), int(m.group(1)[:12]))
        self.strings += seg.count(b"<si") + seg.count(b":si")     # may over-count: only a cap
        if self.strings > self.lim.max_strings:
            raise self._too_many(T.reason("xml.strings"), self.strings)

    def _scan_xlsx(self, seg: bytes) -> None:
        lim = self.lim
        first, self.first = self.first, False
        if b"<si" in seg or b":si" in seg or first:
            self._count_strings(seg, first)
        if b"<c" not in seg and b":c" not in seg:
            return
        if not self.error_values and b't="e"' in seg:
            self.error_values = True
        # Fast path: every cell tag is '<c r="A1"' with r first and double-quoted (Excel, LibreOffice,
        # openpyxl, xlsxwriter, Gnumeric write that); one regex pass finds anything else.
        plain = seg.count(b"<c ")
        odd = (plain != seg.count(b'<c r="') or _C_BARE.search(seg) is not None
               or (b":c" in seg and _C_PREFIXED.search(seg) is not None) or _C_BADREF.search(seg) is not None)
        self.cells += plain if not odd else len(_C_ANY.findall(seg))
        if self.cells > lim.max_cell_elements:
            raise self._too_many(T.reason("xml.cells"), self.cells)
        if not odd and not self.slow:
            if plain and (not self.small_ok or _C_FAR.search(seg)):   # some ref past ZZ999: measure
                vals = _C_VAL.findall(seg)
                if vals:
                    letters, digits = zip(*vals)
                    self._grow(max(map(int, digits)), max(map(_col_number, set(letters))))
            return
        if not self.slow:      # a cell without a (readable) reference: follow positions like the reader does
            self.slow = True
            self.cur_row, self.cur_col = self.max_row, self.max_col
            if self.small_ok and self.cells:      # earlier cells were bounded, not measured
                self.cur_row, self.cur_col = max(self.cur_row, 999), max(self.cur_col, 702)
        self._follow_positions(seg)

    def _follow_positions(self, seg: bytes) -> None:
        """Slow path: place each <row>/<c> by its r= attribute or by position, as the readers do."""
        for m in _XL_TOK.finditer(seg):
            tag, attrs = m.groups()
            r = next((a.group(2) if a.group(2) is not None else a.group(3)
                      for a in _ATTR.finditer(attrs) if a.group(1) == b"r"), None)
            if tag == b"row":
                self.cur_row = int(r.strip()[:9]) if r and r.strip().isdigit() else self.cur_row + 1
                self.cur_col = 0
                continue
            if r is not None:
                ref = _REF.match(r.strip())
                if not ref:
                    raise self._refuse_xml(T.reason("xml.bad_ref", ref=r[:20].decode("ascii", "replace")))
                self.cur_col, self.cur_row = _col_number(ref.group(1)), int(ref.group(2))
            else:
                self.cur_col += 1
            if not attrs.endswith(b"/"):
                self._grow(self.cur_row, self.cur_col)

    def _grow(self, row: int, col: int) -> None:
        if row > self.max_row:
            self.max_row = row
        if col > self.max_col:
            self.max_col = col
        check_box(self.max_row, self.max_col, self.lim, self.name, T.reason("xml.part", part=self.part))

    def _too_many(self, what: str, count: int) -> Refused:
        return refusal("refused/xml_too_many", self.name, what=what, count=thousands(count), part=self.part)

    # ---- OpenDocument tables: rows/cells repeated; empty repeats (LibreOffice's padding) cost nothing
    def _scan_ods(self, seg: bytes) -> None:
        if b"table:" not in seg:
            return
        for m in _ODS_TOK.finditer(seg):
            close, tag, attrs = m.groups()
            selfclose = attrs.endswith(b"/")
            if tag == b"table":
                if close:
                    self._end_table()
                else:
                    nm = re.search(rb'table:name="([^"]*)"', attrs)
                    self.table = nm.group(1).decode("utf-8", "replace") if nm else "?"
                    self.t_row = self.t_last = self.t_maxcol = 0
                continue
            if tag == b"table-row":
                if close:
                    self._end_row()
                else:
                    rep = _ROWS_REP.search(attrs)
                    self.r_rep = int(rep.group(1)[:10]) if rep else 1
                    self.r_col = self.r_maxcol = 0
                    self.r_has = False
                    if selfclose:
                        self._end_row()
                continue
            if close:
                continue
            rep = _COLS_REP.search(attrs)
            self.r_col += int(rep.group(1)[:10]) if rep else 1
            if not selfclose or b"value-type" in attrs:
                self.r_has = True
                self.r_maxcol = self.r_col
                if self.r_col > self.lim.max_cols:
                    check_box(self.t_row + 1, self.r_col, self.lim, self.name, f"trang '{self.table}'")

    def _end_row(self) -> None:
        self.t_row += self.r_rep
        if self.r_has:
            self.t_last = self.t_row
            self.t_maxcol = max(self.t_maxcol, self.r_maxcol)
            check_box(self.t_last, self.t_maxcol, self.lim, self.name, f"trang '{self.table}'")
        self.r_rep, self.r_has = 1, False

    def _end_table(self) -> None:
        check_box(self.t_last, self.t_maxcol, self.lim, self.name, f"trang '{self.table}'")
        self.table = ""

