"""Caps for one inbox file, and the one check every format shares: the used-range box."""

from __future__ import annotations

from dataclasses import dataclass

from hoacu_xlsx.intake.incoming import refusal, thousands


@dataclass(frozen=True)
class Limits:
    """Caps for one inbox file (containers included); defaults are far above a real ~30 KB workbook."""

    max_file_bytes: int = 50 * 2**20            # one file in inbox/, or one member/attachment
    max_uncompressed_bytes: int = 200 * 2**20   # everything inflated from one inbox file, all levels
    max_member_bytes: int = 100 * 2**20         # one zip part inflated
    max_ratio: int = 250                        # inflated/compressed, for parts inflating past 2 MB
    max_members: int = 5_000                    # parts of one zip
    max_rows: int = 100_000                     # bounding box of a sheet's cells with values
    max_cols: int = 1_000
    max_cells: int = 2_000_000                  # rows x cols of that box (calamine allocates it)
    max_cell_elements: int = 500_000            # <c> elements in one part (openpyxl keeps each one)
    max_strings: int = 1_000_000                # shared strings (calamine pre-allocates uniqueCount)
    max_depth: int = 3                          # containers inside containers (eml › zip › zip)
    max_ole_entries: int = 1_024                # directory entries of one .xls (Excel writes about ten)


def check_box(rows: int, cols: int, limits: Limits, name: str, where: str) -> None:
    """Refuse a sheet whose cells with values span more than the limits (calamine allocates the box)."""
    if rows > limits.max_rows or cols > limits.max_cols or rows * cols > limits.max_cells:
        at = f" ({where})" if where else ""
        raise refusal("refused/area_too_big", name, at=at, rows=thousands(rows), cols=thousands(cols),
                      max_rows=thousands(limits.max_rows), max_cols=thousands(limits.max_cols))
