"""Cell addresses: column letters <-> 0-based indexes, 'B12' <-> (row, column).

One implementation for every module that writes or reads A1 references (builder,
reader, feedback, master, the intake's XML scan).
"""

from __future__ import annotations

import re

_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def col_letter(c: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    s = ""
    c += 1
    while c:
        c, rem = divmod(c - 1, 26)
        s = chr(65 + rem) + s
    return s


def col_index(letters: str | bytes) -> int:
    """'A' -> 0, 'aa' -> 26 (bytes too, as the intake reads them); ValueError on anything but letters."""
    if isinstance(letters, (bytes, bytearray)):
        letters = letters.decode("ascii", "replace")
    n = 0
    for ch in letters.upper():
        if not "A" <= ch <= "Z":
            raise ValueError(letters)
        n = n * 26 + ord(ch) - 64
    if not n:
        raise ValueError(letters)
    return n - 1


def a1(r: int, c: int) -> str:
    """0-based (row, column) -> 'B12'."""
    return f"{col_letter(c)}{r + 1}"


def parse_a1(ref: str) -> tuple[int, int]:
    """'B12' (or '$B$12') -> 0-based (11, 1); ValueError when it is not one cell's address."""
    m = _A1.match(ref.strip())
    if not m:
        raise ValueError(ref)
    return int(m.group(2)) - 1, col_index(m.group(1))
