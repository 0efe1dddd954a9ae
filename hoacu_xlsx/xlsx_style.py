"""An openpyxl cell's look as xlsxwriter format properties.

Two places copy formatting from a workbook someone edited into one xlsxwriter writes: the
officer's layout template (``template.py``) and the sheets the officer added to the master
(``master_read.py``). Only the basics travel: font, fill, alignment, borders, number format.
"""

from __future__ import annotations

from typing import Any

_BORDERS = {"thin": 1, "medium": 2, "dashed": 3, "dotted": 4, "thick": 5, "double": 6, "hair": 7}
_DEFAULT_FONT = ("Calibri", 11.0)


def rgb(color: Any) -> str | None:
    """'#RRGGBB' of an openpyxl colour given as RGB (theme and indexed colours are not resolved)."""
    if color is None or getattr(color, "type", "rgb") != "rgb" or not isinstance(getattr(color, "rgb", None), str):
        return None
    value = color.rgb[-6:]
    return f"#{value}" if len(value) == 6 else None


def format_properties(cell: Any, *, keep_default_font: bool = True, number_format: bool = False) -> dict[str, Any]:
    """The cell's basic formatting; ``keep_default_font=False`` leaves out openpyxl's Calibri 11 (the target
    workbook's own default then applies)."""
    out: dict[str, Any] = {}
    f = cell.font
    if f is not None:
        if f.name and (keep_default_font or f.name != _DEFAULT_FONT[0]):
            out["font_name"] = f.name
        if f.sz and (keep_default_font or float(f.sz) != _DEFAULT_FONT[1]):
            out["font_size"] = float(f.sz)
        for attr, key, value in (("b", "bold", True), ("i", "italic", True), ("u", "underline", 1),
                                 ("strike", "font_strikeout", True)):
            if getattr(f, attr, None):
                out[key] = value
        if (col := rgb(f.color)) and col != "#000000":
            out["font_color"] = col
    fill = cell.fill
    if fill is not None and fill.fill_type == "solid" and (col := rgb(fill.fgColor) or rgb(fill.start_color)):
        out["bg_color"] = col
    al = cell.alignment
    if al is not None:
        if al.horizontal in ("left", "center", "right", "justify", "fill", "centerContinuous"):
            out["align"] = "center_across" if al.horizontal == "centerContinuous" else al.horizontal
        if al.vertical in ("top", "bottom", "center", "justify"):
            out["valign"] = "vcenter" if al.vertical == "center" else al.vertical
        if al.wrap_text:
            out["text_wrap"] = True
    b = cell.border
    if b is not None:
        for side in ("left", "right", "top", "bottom"):
            s = getattr(b, side)
            if s is not None and s.style in _BORDERS:
                out[side] = _BORDERS[s.style]
    if number_format and cell.number_format and cell.number_format != "General":
        out["num_format"] = cell.number_format
    return out
