"""Whole rows written straight into an xlsxwriter constant-memory worksheet, as xlsxwriter writes them.

xlsxwriter spends ~20 µs on each cell (a tuple per cell, a dispatch on its class, several regular
expressions per string); the master has ~40 columns × tens of thousands of rows and is rewritten on
every merge. :class:`RowWriter` produces the same ``<row>``/``<c>`` XML (tests compare it with
xlsxwriter's own, byte for byte) at a fraction of the cost. One difference, on purpose: a string that
looks like xlsxwriter's rich-string XML (``<r>…</r>``) is written as the text it is, never as XML.
"""

from __future__ import annotations

import math
import re
from typing import Any

from xlsxwriter import xmlwriter
from xlsxwriter.utility import _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.worksheet import Worksheet

STR_MAX = 32767
_CARE = re.compile("_x|[\x00-\x08\x0b-\x1f\ufffe\uffff]")   # xlsxwriter's _xHHHH_ escapes may apply
_XML = re.compile("[&<>]")


class RowWriter:
    """Rows for a worksheet opened with ``constant_memory``, from ``first_row`` down, one format per column.

    Values follow the master's rule (``master._put``): numbers as numbers, anything else not empty as
    text, an empty value only as a formatted blank."""

    def __init__(self, ws: Worksheet, first_row: int, formats: list[Any]) -> None:
        if not ws.constant_memory:
            raise ValueError("RowWriter needs a constant_memory worksheet")
        ws._write_single_row(first_row)          # rows xlsxwriter still holds go out first
        self.ws = ws
        self.next_row = first_row
        self.formats = formats
        self.opens: list[str] = []               # '<c r="B' per column
        self.styles: list[str] = []              # '" s="3"' per column: its format, else its column's
        for c, fmt in enumerate(formats):
            if fmt is None:
                info = ws.col_info.get(c)
                fmt = getattr(info, "column_format", None) if info is not None else None
            self.opens.append(f'<c r="{xl_col_to_name(c)}')
            self.styles.append(f'" s="{fmt._get_xf_index()}"' if fmt is not None else '"')
        self.texts = _texts()
        self.pending: list[str] = []             # rows not yet handed to the worksheet's file
        self.plain_rows = ws.excel_version == 2007
        self.cols: tuple[int | None, int | None] = (None, None)
        self.first: int | None = None
        self.last: int | None = None

    def row(self, r: int, values: list[Any]) -> None:
        """Write row ``r`` (rows must come in order): one value per column, from column 0."""
        if r < self.next_row:
            raise ValueError(f"row {r} written out of order")
        rn = str(r + 1)
        texts = self.texts
        parts: list[str] = []
        first = last = None
        opens, styles, formats = self.opens, self.styles, self.formats
        for c, v in enumerate(values):
            t = type(v)
            if t is str:
                if not v:
                    if formats[c] is None:
                        continue
                    parts.append(f"{opens[c]}{rn}{styles[c]}/>")
                else:
                    x = texts.get(v)
                    if x is None:
                        x = _inline(v)
                        if len(v) <= _SHORT:     # short values repeat; long texts would only fill memory
                            texts[v] = x
                    parts.append(f'{opens[c]}{rn}{styles[c]} t="inlineStr"><is>{x}</is></c>')
            elif (t is int or t is float or isinstance(v, (int, float))) and t is not bool:
                if t is float and (math.isnan(v) or math.isinf(v)):
                    raise TypeError("NAN/INF not supported in write_number() without 'nan_inf_to_errors' "
                                    "Workbook() option")
                parts.append(f"{opens[c]}{rn}{styles[c]}><v>{v:.16G}</v></c>")
            elif v is not None:
                parts.append(f'{opens[c]}{rn}{styles[c]} t="inlineStr"><is>{_inline(str(v))}</is></c>')
            elif formats[c] is not None:
                parts.append(f"{opens[c]}{rn}{styles[c]}/>")
            else:
                continue
            if first is None:
                first = c
            last = c
        self.next_row = r + 1
        if first is None:
            return
        ws = self.ws
        if self.plain_rows and r not in ws.row_info:
            self.pending.append(f'<row r="{rn}">')
        else:   # a row with its own height or format: its tag as xlsxwriter writes it
            self._flush()
            ws._write_row(r, None, ws.row_info.get(r))
        parts.append("</row>")
        self.pending.append("".join(parts))
        if len(self.pending) > 512:
            self._flush()
        lo, hi = self.cols
        self.cols = (first if lo is None else min(lo, first), last if hi is None else max(hi, last))
        if self.first is None:
            self.first = r
        self.last = r

    def _flush(self) -> None:
        if self.pending:
            self.ws.fh.write("".join(self.pending))
            self.pending.clear()

    def close(self) -> None:
        """Write what is pending; tell the worksheet how far its data reaches (its dimension, autofilter and
        print area use it)."""
        self._flush()
        ws = self.ws
        if self.first is not None and self.last is not None:
            lo, hi = self.cols
            ws._check_dimensions(self.first, lo)
            ws._check_dimensions(self.last, hi)
        ws.previous_row = self.next_row


_TEXTS: dict[Any, dict[str, str]] = {}   # escape pattern -> text -> its <t> element (values repeat a lot)
_TEXTS_MAX = 1 << 17
_SHORT = 48


def _texts() -> dict[str, str]:
    """The cache of rendered texts for the escape pattern in force (the master patches it while writing)."""
    texts = _TEXTS.setdefault(xmlwriter.re_control_chars_1, {})
    if len(texts) > _TEXTS_MAX:
        texts.clear()
    return texts


def _inline(s: str) -> str:
    """``<t>`` of an inline string, escaped exactly as xlsxwriter does."""
    if len(s) > STR_MAX // 2 and _utf16_len(s) > STR_MAX:
        s = _utf16_truncate(s, STR_MAX)
    if _CARE.search(s):
        s = Worksheet._escape_control_characters(s)
    preserve = ' xml:space="preserve"' if s[:1].isspace() or s[-1:].isspace() else ""
    if _XML.search(s):
        s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<t{preserve}>{s}</t>"
