"""`_meta` survives the clients: LibreOffice (twice) and Gnumeric give back every key, value and id.

LibreOffice reads ``_x`` + 1–4 hex digits + ``_`` as an escaped control character
(``cc_van_hoa_xa_hoi`` -> ``cc_van_hoa`` + line feed + ``hoi``) and saves it that way;
the reader puts such characters back (docs/meta_format.md).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hoacu_xlsx import meta as M
from hoacu_xlsx import reader


def meta_cells(path: Path) -> dict[str, str]:
    """Every key/value row of `_meta`, decoded as the reader does."""
    grid = next(reader.Grid(s) for s in reader.read_raw(path.read_bytes())["sheets"] if s["name"] == M.SHEET)
    rows: dict[int, list] = {}
    for (r, c), v in grid.cells.items():
        if c < 2:
            rows.setdefault(r, [None, None])[c] = v
    return {M.cell_text(k): M.cell_text(v) for k, v in rows.values() if k is not None}


def test_short_escapes_damaged_by_libreoffice_are_put_back():
    assert M.cell_text("cc_van_hoa\nhoi") == "cc_van_hoa_xa_hoi"
    assert M.cell_text("thon\x01b") == "thon_x1_b"
    meta = M.parse_rows([["format_version", 1], ["unit_id", "cc_van_hoa\nhoi"], ["assignment_ids", "5"],
                         ["token", "ab"], ["sheet:5", "Mục 5"], ["field:5:ten", "c"]])
    assert meta.unit_id == "cc_van_hoa_xa_hoi" and meta.layouts["5"].columns["ten"] == "C"


@pytest.fixture(scope="module")
def through_clients(tmp_path_factory, generated, libreoffice):
    """Every generated workbook saved by LibreOffice (one value typed), again by LibreOffice, and by Gnumeric."""
    out = tmp_path_factory.mktemp("meta_roundtrip")
    originals = sorted((generated / "outbox").glob("*.xlsx"))
    saved: dict[str, list[tuple[Path, Path]]] = {"libreoffice": [], "libreoffice_twice": [], "gnumeric": []}
    jobs = []
    for src in originals:
        meta = M.parse_rows([[k, v] for k, v in meta_cells(src).items()])
        lay = meta.layouts[meta.assignment_ids[0]]
        dst = out / "lo" / src.name
        dst.parent.mkdir(exist_ok=True)
        jobs.append({"src": str(src), "dst": str(dst), "format": "xlsx",
                     "ops": [{"op": "set", "sheet": lay.sheet, "cell": lay.preparer["nguoi_lap"], "value": "Mẫu"}]})
        saved["libreoffice"].append((src, dst))
    libreoffice.fill(jobs)
    again = [{"src": j["dst"], "dst": str(out / "lo2" / Path(j["dst"]).name), "format": "xlsx", "ops": []}
             for j in jobs]
    (out / "lo2").mkdir()
    libreoffice.fill(again)
    saved["libreoffice_twice"] = [(src, Path(j["dst"])) for src, j in zip(originals, again)]
    if shutil.which("ssconvert"):
        (out / "gnumeric").mkdir()
        for src in originals:
            dst = out / "gnumeric" / src.name
            subprocess.run(["ssconvert", str(src), str(dst)], check=True, capture_output=True, timeout=120)
            saved["gnumeric"].append((src, dst))
    return saved


@pytest.mark.libreoffice
@pytest.mark.parametrize("client", ["libreoffice", "libreoffice_twice", "gnumeric"])
def test_every_meta_key_and_value_comes_back_unchanged(through_clients, catalogue, client):
    pairs = through_clients[client]
    if not pairs:
        pytest.skip("Gnumeric (ssconvert) không có trên máy này")
    assert len(pairs) == len(catalogue.units_with_nominations())
    for src, dst in pairs:
        written, back = meta_cells(src), meta_cells(dst)
        assert back == written, (dst.name, {k: (v, back.get(k)) for k, v in written.items() if back.get(k) != v})
        assert written["unit_id"] in src.name


@pytest.mark.libreoffice
@pytest.mark.parametrize("client", ["libreoffice", "libreoffice_twice", "gnumeric"])
def test_no_unit_is_warned_that_meta_was_edited(through_clients, catalogue, client):
    for src, dst in through_clients[client]:
        written = meta_cells(src)
        raw = reader.read_raw(dst.read_bytes())
        located = reader.locate(raw, catalogue, {written["token"]: written["unit_id"]}, dst.name)
        assert located.unit is not None and located.unit.id == written["unit_id"]
        assert located.identified_by == "token"
        assert not [p for p in located.problems if p.code in ("meta_edited", "unknown_token")], located.problems
        assert located.meta is not None and located.meta.unit_id == written["unit_id"]
