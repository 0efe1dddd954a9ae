"""Shared fixtures: the built-in catalogue, a working folder, generated workbooks,
and LibreOffice as the real offline client (skipped where it is not installed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hoacu_xlsx import catalogue as cat
from hoacu_xlsx.master import HEADER_ROW

MASTER_HEADER = HEADER_ROW + 1   # 1-based row of a master table's titles (row 1: the hidden column keys)


@pytest.fixture(scope="session")
def catalogue() -> cat.Catalogue:
    return cat.load()


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "outbox").mkdir()
    return tmp_path


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory, catalogue: cat.Catalogue) -> Path:
    """A working folder where `generate` has run once (read-only for tests: copy before changing)."""
    from hoacu_xlsx import generate

    wd = tmp_path_factory.mktemp("generated")
    generate.run(catalogue, wd)
    return wd


def generated_round(tmp_path_factory: pytest.TempPathFactory, catalogue: cat.Catalogue, name: str):
    """A generated round for a test module: (workdir, built workbooks by unit id, a folder for returns, sample rows)."""
    from hoacu_xlsx import demo, generate

    wd = tmp_path_factory.mktemp(name)
    built = {b.unit.id: b for b in generate.run(catalogue, wd).built}
    out = tmp_path_factory.mktemp(f"{name}_returns")

    def sample(aid: str, n: int, kind: int = 0) -> dict:
        return demo.sample_row(catalogue, aid, n, kind_index=kind)
    return wd, built, out, sample


def fill_with_openpyxl(built, rows_by_assignment: dict[str, list[dict]], dst: Path, *, preparer: bool = True) -> Path:
    """Type rows into a generated workbook's entry sheets with openpyxl, by its _meta (docs/meta_format.md)."""
    import openpyxl

    from hoacu_xlsx import demo

    wb = openpyxl.load_workbook(built.path)
    for aid, rows in rows_by_assignment.items():
        lay = built.meta.layouts[aid]
        ws = wb[lay.sheet]
        for i, row in enumerate(rows):
            for key, value in row.items():
                ws[f"{lay.columns[key]}{lay.first_data_row + i}"] = value
        if preparer:
            for key, value in demo.PREPARER.items():
                ws[lay.preparer[key]] = value
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return dst


def store_rows(wd: Path) -> dict[str, list]:
    """Every row of every table of a working folder's store: to show a command changed nothing."""
    import sqlite3

    con = sqlite3.connect(wd / "store" / "hoacu.sqlite3")
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    out = {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}"))) for t in tables}
    con.close()
    return out


def copy_workdir(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst


OFFICE_FIXTURES = {"libreoffice", "lo_files"}   # fixtures that start LibreOffice (directly or not)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test using LibreOffice through any fixture, however deep, is marked ``libreoffice``."""
    for item in items:
        if OFFICE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.libreoffice)


@pytest.fixture(scope="session")
def libreoffice():
    """The LibreOffice driver module, or skip when LibreOffice/python3-uno is missing."""
    from hoacu_xlsx import libreoffice

    if not libreoffice.available():
        pytest.skip("LibreOffice (soffice + python3-uno) không có trên máy này")
    return libreoffice
