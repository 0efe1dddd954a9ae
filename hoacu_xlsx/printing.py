"""Print settings for every sheet a person reads: A4, legible, header rows repeated.

One plan, two writers: :func:`plan` decides from the column widths whether a sheet fits
one page wide with text still at least ``MIN_PT`` points on paper; if it does not, it
prints at the smallest legible scale and cuts the columns into bands (manual column page
breaks) with the title columns repeated on every page. :func:`setup_print` applies the
plan to an xlsxwriter worksheet, :func:`setup_print_openpyxl` to an openpyxl one (the
feedback copies), so the three kinds of workbook print alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

A4 = 9                        # paper code of A4 in Excel/OOXML
A4_PT = (595.28, 841.89)      # width, height in points (portrait)
MIN_PT = 8.0                  # smallest text height on paper we accept
MARGINS_IN = {"left": 0.5, "right": 0.4, "top": 0.75, "bottom": 0.7}
HEADER_MARGIN_IN = 0.3
SLACK = 0.94                  # LibreOffice/Excel measure columns slightly differently: keep some room
PAGE_NUMBERS = "Trang &P/&N"
# The workbook's default font: column widths are counted in its digit width. Times New Roman is on every
# Windows PC and its metric twin Liberation Serif ships with LibreOffice on Linux, so a column measures
# the same everywhere (Calibri's twin Carlito is often missing, and the fallback font is a third wider).
DEFAULT_FONT = {"font_name": "Times New Roman", "font_size": 11}


@dataclass
class Plan:
    """How a sheet prints: fit to one page wide, or a fixed scale with column bands."""

    fit_width: bool
    scale: int = 100
    col_breaks: list[int] = field(default_factory=list)   # 0-based first column of each new band


DIGIT_PX = 7.4                # digit width of DEFAULT_FONT at 96 dpi (Excel rounds to 7, LibreOffice 7.33)


def column_points(width: float) -> float:
    """Points of a column ``width`` characters wide (widths count digits of DEFAULT_FONT plus 5 px)."""
    return 0.0 if width <= 0 else (width * DIGIT_PX + 5) * 0.75


def printable_width(landscape: bool) -> float:
    paper = A4_PT[1] if landscape else A4_PT[0]
    return paper - (MARGINS_IN["left"] + MARGINS_IN["right"]) * 72


def plan(widths: Sequence[float], *, landscape: bool, font_pt: float, fit_width: bool = True,
         repeat_cols: tuple[int, int] | None = None) -> Plan:
    """Fit to one page wide if the text stays >= MIN_PT; else the legible scale and column bands."""
    avail = printable_width(landscape) * SLACK
    total = sum(column_points(w) for w in widths)
    if fit_width and total * MIN_PT <= avail * font_pt:
        return Plan(True)
    scale = min(100, math.ceil(MIN_PT / font_pt * 100))
    room = avail * 100 / scale
    start = 0
    if repeat_cols is not None:
        room -= sum(column_points(w) for w in widths[repeat_cols[0]:repeat_cols[1] + 1])
        start = repeat_cols[1] + 1
    breaks: list[int] = []
    used = 0.0
    for col in range(start, len(widths)):
        w = column_points(widths[col])
        if used + w > room and used > 0:
            breaks.append(col)
            used = 0.0
        used += w
    return Plan(False, scale, breaks)


def header_text(title: str) -> str:
    """A header/footer section text: '&' doubled, within Excel's 255-character limit."""
    text = title.replace("&", "&&")
    return text if len(text) <= 200 else text[:199] + "…"


def setup_print(ws: Any, *, title: str, landscape: bool, repeat_rows: tuple[int, int] | None = None,
                repeat_cols: tuple[int, int] | None = None, widths: Sequence[float] = (), font_pt: float = 11,
                fit_width: bool = True, area: tuple[int, int, int, int] | None = None,
                gridlines: bool = False) -> Plan:
    """Print settings of an xlsxwriter worksheet (rows/columns 0-based); returns the plan used."""
    p = plan(widths, landscape=landscape, font_pt=font_pt, fit_width=fit_width, repeat_cols=repeat_cols)
    ws.set_paper(A4)
    ws.set_landscape() if landscape else ws.set_portrait()
    ws.set_margins(**MARGINS_IN)
    ws.set_header(f'&C&"Times New Roman,Bold"&10{header_text(title)}', {"margin": HEADER_MARGIN_IN})
    ws.set_footer(f'&C&"Times New Roman,Regular"&10{PAGE_NUMBERS}', {"margin": HEADER_MARGIN_IN})
    if repeat_rows is not None:
        ws.repeat_rows(*repeat_rows)
    if repeat_cols is not None and not p.fit_width:
        ws.repeat_columns(*repeat_cols)
    if area is not None:
        ws.print_area(*area)
    if gridlines:
        ws.hide_gridlines(0)  # 0: show on screen and print
    if p.fit_width:
        ws.fit_to_pages(1, 0)
    else:
        ws.set_print_scale(p.scale)
        if p.col_breaks:
            ws.set_v_pagebreaks(p.col_breaks)
        ws.print_across()
    return p


def setup_print_openpyxl(ws: Any, *, title: str, landscape: bool, repeat_rows: tuple[int, int] | None = None,
                         widths: Sequence[float] = (), font_pt: float = 11, fit_width: bool = True) -> Plan:
    """The same settings for an openpyxl worksheet (rows 0-based, as above)."""
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.worksheet.pagebreak import Break, ColBreak
    from openpyxl.worksheet.properties import PageSetupProperties

    p = plan(widths, landscape=landscape, font_pt=font_pt, fit_width=fit_width)
    ws.page_setup.paperSize = A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_margins = PageMargins(header=HEADER_MARGIN_IN, footer=HEADER_MARGIN_IN, **MARGINS_IN)
    ws.oddHeader.center.text = header_text(title)
    ws.oddHeader.center.font = "Times New Roman,Bold"
    ws.oddHeader.center.size = 10
    ws.oddFooter.center.text = PAGE_NUMBERS
    ws.oddFooter.center.size = 10
    if repeat_rows is not None:
        ws.print_title_rows = f"{repeat_rows[0] + 1}:{repeat_rows[1] + 1}"
    if p.fit_width:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    else:
        ws.page_setup.scale = p.scale
        ws.col_breaks = ColBreak()
        for col in p.col_breaks:
            ws.col_breaks.append(Break(id=col))
    return p
