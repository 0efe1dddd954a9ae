"""Benchmarks: hoacu-xlsx against the plain way and the floor, measured in one run.

    python3 benchmarks/bench.py                      # N = 2,000 returned workbooks
    python3 benchmarks/bench.py --n 200              # smaller corpus
    python3 benchmarks/bench.py --scale 2000,20000   # province size too (minutes), and how it grows

Builds a synthetic round of N units (sample names, each holding one assignment) and N
returned workbooks with 5–10 nominations each in the project's own format, then prints,
side by side on the same files:

* merge: ``hoacu-xlsx merge`` vs the plain way (pandas.read_excel with openpyxl per
  file + concat + to_excel) and vs the floor (python-calamine reads every sheet on every core,
  xlsxwriter in constant-memory mode writes the nomination rows, nothing else);
* incremental merge: one new file added to N merged ones, vs the full merge; a rerun with nothing new;
* generate: N workbooks vs openpyxl load-fill-save per unit, and vs copying a file N times;
* report: the officer's papers from the merged round (the chart needs LibreOffice; without it the
  rest is timed);
* memory: peak RSS of a full merge (a separate process);
* start-up: ``hoacu-xlsx --help`` vs ``python -c "import click"``.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hoacu_xlsx import builder, catalogue as C, demo, merge, template  # noqa: E402
from hoacu_xlsx.store import Store  # noqa: E402


def synthetic_catalogue(n: int) -> C.Catalogue:
    """The 2024 catalogue plus n sample units, spread over the assignments with nominations."""
    cat = C.load()
    items = [a for a in cat.assignments if a.nominations]
    units = [C.Unit(id=f"dv_mau_{i:05d}", name=f"Đơn vị mẫu {i:05d}", kind="Đơn vị mẫu") for i in range(n)]
    extra: dict[str, list[str]] = {a.id: [] for a in items}
    for i, u in enumerate(units):
        extra[items[i % len(items)].id].append(u.id)
    assignments = [dataclasses.replace(a, assignees=tuple(a.assignees) + tuple(extra.get(a.id, [])))
                   for a in cat.assignments]
    return C.Catalogue(cat.year, cat.commune, cat.issuer, cat.round_title, cat.dispatch, cat.deadline,
                       cat.receiver, [*cat.units, *units], assignments, [], "synthetic")


def sample_units(cat: C.Catalogue) -> list[C.Unit]:
    return [u for u in cat.units if u.id.startswith("dv_mau_")]


def build_corpus(cat: C.Catalogue, units: list[C.Unit], folder: Path) -> list[tuple[str, str, str, str]]:
    """One returned workbook per unit (5–10 nominations); returns the issued tokens."""
    style = template.load_style(None)
    folder.mkdir(parents=True, exist_ok=True)
    issued = []
    for i, u in enumerate(units):
        a = cat.assignments_of(u.id)[0]
        rows = [demo.sample_row(cat, a.id, i * 10 + k, kind_index=k) for k in range(5 + i % 6)]
        for k, r in enumerate(rows):
            r["ten"] = f"{r['ten']} {u.name}"
        token = builder.new_token()
        path = folder / builder.file_name(u, cat.year)
        builder.build_workbook(path, cat, u, style, token, "2024-03-01T08:00:00+07:00", {a.id: rows},
                               demo.PREPARER)
        issued.append((token, u.id, path.name, "2024-03-01T08:00:00+07:00"))
    return issued


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def fresh_workdir(base: Path, name: str, corpus: Path, issued: list, year: int) -> Path:
    wd = base / name
    if wd.exists():
        shutil.rmtree(wd)
    (wd / "inbox").mkdir(parents=True)
    for p in corpus.iterdir():
        os.link(p, wd / "inbox" / p.name)
    with Store.open(wd) as st:
        st.record_issued(year, issued)
    return wd


def plain_merge(files: list[Path], out: Path) -> int:
    """The plain way: pandas + openpyxl per file, concat, to_excel."""
    import pandas as pd

    frames = []
    for f in files:
        sheets = pd.read_excel(f, sheet_name=None, engine="openpyxl", header=None)
        for name, df in sheets.items():
            if name.startswith("Mục"):
                body = df.iloc[builder.HEADER_ROW:].dropna(how="all")
                frames.append(body)
    allrows = pd.concat(frames, ignore_index=True)
    allrows.to_excel(out, index=False)
    return len(allrows)


def _floor_rows(path: str) -> list[list[Any]]:
    """What a merge must read from one workbook: every sheet through python-calamine, the nomination rows kept."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(path)
    out = []
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python()
        if name.startswith("Mục"):
            out += [row for row in rows[builder.HEADER_ROW:] if any(v not in ("", None) for v in row[1:5])]
    return out


def floor_merge(files: list[Path], out: Path) -> int:
    """The floor: python-calamine reads every sheet on every core, xlsxwriter (constant memory) writes the
    nomination rows as they come back; nothing else."""
    import multiprocessing

    import xlsxwriter

    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    ws = wb.add_worksheet("rows")
    r = 0
    with multiprocessing.Pool(os.cpu_count() or 1) as pool:
        for rows in pool.imap(_floor_rows, [str(f) for f in files], chunksize=16):
            for row in rows:
                ws.write_row(r, 0, row)
                r += 1
    wb.close()
    return r


def plain_generate(template_file: Path, cat: C.Catalogue, units: list[C.Unit], out: Path) -> None:
    """The plain way to generate: openpyxl loads the template workbook, fills it, saves it, per unit."""
    import openpyxl

    out.mkdir(parents=True, exist_ok=True)
    for u in units:
        wb = openpyxl.load_workbook(template_file)
        m = wb["_meta"]
        for row in m.iter_rows():
            if row[0].value == "unit_id":
                row[1].value = u.id
            elif row[0].value == "unit_name":
                row[1].value = u.name
            elif row[0].value == "token":
                row[1].value = builder.new_token()
        for ws in wb.worksheets:
            if ws.title.startswith("Mục"):
                ws["C3"] = u.name   # the 'Đơn vị:' line of the top block
        wb.save(out / builder.file_name(u, cat.year))


def floor_generate(template_file: Path, units: list[C.Unit], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for u in units:
        shutil.copyfile(template_file, out / f"{u.id}.xlsx")


def peak_rss_of_merge(workdir: Path, catalogue_json: Path) -> float:
    """Peak RSS (MB) of a full merge in a fresh child process: its RSS and its reading workers' summed
    (pages the workers share with it are counted twice: an upper bound).

    Sampled with psutil every 20 ms: Linux carries a process's ru_maxrss over fork and exec, so a
    child of this (by now large) benchmark process would otherwise report this process's size.
    """
    import psutil

    code = (
        "import sys, json, pathlib; sys.path.insert(0, %r);"
        "from benchmarks.bench import synthetic_catalogue; from hoacu_xlsx import merge;"
        "cat = synthetic_catalogue(json.load(open(%r))['n']);"
        "merge.run(cat, pathlib.Path(%r), write_feedback=False)"
    ) % (str(ROOT), str(catalogue_json), str(workdir))
    proc = subprocess.Popen([sys.executable, "-c", code])
    peak = 0
    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            procs = [ps, *ps.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in procs))
        except psutil.Error:
            pass
        time.sleep(0.02)
    if proc.returncode:
        raise RuntimeError("merge failed in the memory run")
    return peak / 2**20


def startup(cmd: list[str], runs: int = 7) -> float:
    """Median start-up time, as a user's machine runs it: byte-code caches written by a first run (an
    environment with PYTHONDONTWRITEBYTECODE would otherwise compile every module on every start)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def time_report(cat: C.Catalogue, wd: Path) -> tuple[float | None, str]:
    """The ``report`` command on the merged round; without LibreOffice the chart is left out of the timing."""
    from hoacu_xlsx import papers
    from hoacu_xlsx.report_figures import compute

    if shutil.which("soffice"):
        secs, _ = timed(lambda: papers.run(cat, wd))
        return secs, "có biểu đồ (LibreOffice)"

    def without_chart() -> None:
        merged = merge.run(cat, wd, rescan=False, write_feedback=False)
        papers.write_all(cat, compute(merged.picture), wd)
    secs, _ = timed(without_chart)
    return secs, "không có biểu đồ (thiếu LibreOffice)"


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="number of returned workbooks (default 2000)")
    ap.add_argument("--scale", type=str, default=None,
                    help="several N, comma-separated (e.g. 2000,20000): each measured, then compared; the plain "
                         "way runs at the smallest N only")
    ap.add_argument("--dir", type=Path, default=None, help="working folder (default: a temporary one)")
    ap.add_argument("--skip-plain", action="store_true", help="skip the slow plain-way runs")
    ap.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = ap.parse_args(argv)
    sizes = sorted(int(x) for x in args.scale.split(",")) if args.scale else [args.n]
    results = []
    for i, n in enumerate(sizes):
        results.append(run_one(n, args.dir / f"n{n}" if args.dir and len(sizes) > 1 else args.dir,
                               args.skip_plain or i > 0, args.json))
    if len(results) > 1:
        print_scale(results)
    return results


def print_scale(results: list[dict[str, Any]]) -> None:
    small = results[0]
    print()
    print(f"Tăng theo N (so với N = {small['n']}):")
    for r in results[1:]:
        k = r["n"] / small["n"]
        for key, label in (("merge_s", "merge toàn bộ"), ("incremental_s", "merge thêm 1 tệp"),
                           ("generate_s", "generate"), ("report_s", "report"), ("merge_peak_rss_mb", "bộ nhớ đỉnh")):
            if r.get(key) and small.get(key):
                print(f"  N = {r['n']}: {label:20s} × {r[key] / small[key]:6.1f}  (N × {k:.0f})")


def run_one(n: int, workdir: Path | None, skip_plain: bool, as_json: bool) -> dict[str, Any]:
    base = workdir or Path(tempfile.mkdtemp(prefix="hoacu-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"n": n, "machine": f"{platform.machine()}, {os.cpu_count()} lõi, "
                                              f"Python {platform.python_version()}",
                           "load": " ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else ""}
    cat = synthetic_catalogue(n + 1)        # one more unit: its file arrives after the full merge
    units = sample_units(cat)[:n]
    late_unit = sample_units(cat)[n]
    print(f"Dựng bộ {n} sổ gửi về mẫu trong {base} ...", flush=True)
    corpus = base / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    t_corpus, issued = timed(lambda: build_corpus(cat, units, corpus))
    files = sorted(corpus.iterdir())
    new_dir = base / "new"
    new_issued = build_corpus(cat, [late_unit], new_dir)
    res["corpus_s"] = t_corpus
    (base / "cat.json").write_text(json.dumps({"n": n + 1}))

    # ---- merge
    wd = fresh_workdir(base, "merge", corpus, issued + new_issued, cat.year)
    res["merge_s"], report = timed(lambda: merge.run(cat, wd, write_feedback=False))
    res["nominations"] = sum(1 for r in report.picture.nominations)
    res["floor_merge_s"], _ = timed(lambda: floor_merge(files, base / "floor.xlsx"))
    if not skip_plain:
        res["plain_merge_s"], _ = timed(lambda: plain_merge(files, base / "plain.xlsx"))
    # ---- a rerun with nothing new, then one new file among N merged
    res["rerun_s"], _ = timed(lambda: merge.run(cat, wd, write_feedback=False))
    shutil.copyfile(next(new_dir.iterdir()), wd / "inbox" / "moi.xlsx")
    res["incremental_s"], _ = timed(lambda: merge.run(cat, wd, write_feedback=False))
    # ---- report on the merged round
    res["report_s"], res["report_note"] = time_report(cat, wd)
    # ---- generate
    gen_dir = base / "gen"
    style = template.load_style(None)
    res["generate_s"], _ = timed(lambda: builder.build_all(cat, gen_dir, style, units))
    tpl_file = next(gen_dir.iterdir())
    if not skip_plain:
        res["plain_generate_s"], _ = timed(lambda: plain_generate(tpl_file, cat, units, base / "gen_plain"))
    res["floor_generate_s"], _ = timed(lambda: floor_generate(tpl_file, units, base / "gen_floor"))
    # ---- memory
    wd_mem = fresh_workdir(base, "mem", corpus, issued + new_issued, cat.year)
    res["merge_peak_rss_mb"] = peak_rss_of_merge(wd_mem, base / "cat.json")
    # ---- start-up
    exe = shutil.which("hoacu-xlsx")
    help_cmd = [exe, "--help"] if exe else [sys.executable, "-m", "hoacu_xlsx", "--help"]
    res["help_s"] = startup(help_cmd)
    res["import_click_s"] = startup([sys.executable, "-c", "import click"])

    print_report(res)
    if as_json:
        print(json.dumps(res, ensure_ascii=False, indent=2))
    if not workdir:
        shutil.rmtree(base, ignore_errors=True)
    return res


def print_report(r: dict[str, Any]) -> None:
    def ratio(a: str, b: str) -> str:
        return f"{r[a] / r[b]:.2f}×" if r.get(a) and r.get(b) else "—"

    print()
    print(f"Máy: {r['machine']}; tải lúc bắt đầu {r['load']}; N = {r['n']} sổ, {r['nominations']} điển hình")
    rows = [
        ("merge (hoacu-xlsx)", r["merge_s"], ""),
        ("  sàn: calamine đọc (mọi lõi) + xlsxwriter ghi", r["floor_merge_s"], f"merge / sàn = {ratio('merge_s', 'floor_merge_s')}"
         "  (mục tiêu ≤ 1.5×)"),
        ("  cách thường: pandas+openpyxl", r.get("plain_merge_s"), f"cách thường / merge = "
         f"{ratio('plain_merge_s', 'merge_s')}  (mục tiêu ≥ 10×)"),
        ("merge thêm 1 tệp", r["incremental_s"], f"thêm 1 / merge đầy đủ = "
         f"{100 * r['incremental_s'] / r['merge_s']:.1f}%  (mục tiêu ≤ 5%)"),
        ("merge chạy lại, không có gì mới", r["rerun_s"], f"/ merge đầy đủ = {100 * r['rerun_s'] / r['merge_s']:.1f}%"),
        ("report (hoacu-xlsx)", r["report_s"], r["report_note"]),
        ("generate (hoacu-xlsx)", r["generate_s"], ""),
        ("  cách thường: openpyxl nạp-điền-lưu", r.get("plain_generate_s"),
         f"cách thường / generate = {ratio('plain_generate_s', 'generate_s')}  (mục tiêu ≥ 3×)"),
        ("  sàn: chép tệp N lần", r["floor_generate_s"], f"generate / sàn = {ratio('generate_s', 'floor_generate_s')}"),
        ("hoacu-xlsx --help", r["help_s"], f"/ import click = {ratio('help_s', 'import_click_s')}  (mục tiêu ≤ 1.5×)"),
        ("python -c 'import click'", r["import_click_s"], ""),
    ]
    for name, secs, note in rows:
        s = f"{secs:8.2f} s" if secs is not None else "       —"
        print(f"{name:42s} {s}   {note}")
    limit = "≤ 300 MB" if r["n"] <= 2000 else "≤ 1 GB"
    print(f"{'bộ nhớ đỉnh của merge':42s} {r['merge_peak_rss_mb']:8.0f} MB   (mục tiêu {limit})")


if __name__ == "__main__":
    main()
