"""Fill and save workbooks in LibreOffice Calc, as a unit would (run with Debian's python3).

    /usr/bin/python3 hoacu_xlsx/uno_fill.py JOBS.json

Debian's ``python3-uno`` gives the ``uno`` module to the system interpreter only, so
this script imports nothing from hoacu_xlsx. It starts one headless soffice with a
fresh profile and its own pipe, runs every job (open, apply operations, recalculate,
save as xlsx/ods/xls), prints one JSON result per job, and always stops soffice.

A job: {"src": path, "dst": path, "format": "xlsx"|"ods"|"xls", "ops": [...]} with ops
set, formula, insert_rows, delete_rows, insert_columns, delete_columns, move_column
(col, before: the column is cut and inserted before another, as the officer drags it),
rename_sheet, remove_sheet, move_sheet, add_sheet, unprotect, clear_validation, merge,
column_width (col, width in cm), bold (range), copy_lock_file (to: a copy of the lock
file LibreOffice keeps beside the open document), save_password.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

FILTERS = {"xlsx": "Calc MS Excel 2007 XML", "xlsm": "Calc MS Excel 2007 VBA XML", "ods": "calc8",
           "xls": "MS Excel 97"}


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def url(path):
    return uno.systemPathToFileUrl(os.path.abspath(path))


def start(soffice):
    profile = tempfile.mkdtemp(prefix="hoacu-lo-")
    pipe = "hoacu_" + uuid.uuid4().hex
    proc = subprocess.Popen(
        [soffice, "--headless", "--invisible", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
         "-env:UserInstallation=" + uno.systemPathToFileUrl(profile),
         "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % pipe],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.time() + 120
    while True:
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            break
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                stop(proc, None, profile)
                raise RuntimeError("LibreOffice did not start")
            time.sleep(0.25)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    return proc, desktop, profile


def stop(proc, desktop, profile):
    try:
        if desktop is not None:
            desktop.terminate()
    except Exception:
        pass
    try:
        proc.wait(timeout=20)
    except Exception:
        proc.kill()
        proc.wait()
    shutil.rmtree(profile, ignore_errors=True)


def col_index(letters):
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


class Unprotected:
    """Lift a sheet's (password-less) protection for an API change and put it back."""

    def __init__(self, sheet):
        self.sheet = sheet
        self.was = sheet.isProtected()

    def __enter__(self):
        if self.was:
            self.sheet.unprotect("")
        return self.sheet

    def __exit__(self, *exc):
        if self.was:
            self.sheet.protect("")


def _set(sheets, op):
    sheet = sheets.getByName(op["sheet"])
    cell = sheet.getCellRangeByName(op["cell"])
    with Unprotected(sheet):
        if op["op"] == "formula":
            cell.setFormula(op["formula"])
        elif isinstance(op["value"], bool):
            cell.setValue(1 if op["value"] else 0)
        elif isinstance(op["value"], (int, float)):
            cell.setValue(op["value"])
        elif op["value"] is None:
            cell.setString("")
        else:
            cell.setString(str(op["value"]))


def _rows_or_columns(sheets, op):
    """insert_rows / delete_rows (before or row: 1-based), insert_columns / delete_columns (before or col: a letter)."""
    sheet = sheets.getByName(op["sheet"])
    with Unprotected(sheet):
        if op["op"].endswith("_rows"):
            lines, start = sheet.getRows(), int(op.get("before", op.get("row", 1))) - 1
        else:
            lines, start = sheet.getColumns(), col_index(op.get("before", op.get("col", "A")))
        if op["op"].startswith("insert_"):
            lines.insertByIndex(start, int(op.get("count", 1)))
        else:
            lines.removeByIndex(start, int(op.get("count", 1)))


def _move_column(sheets, op):
    """The column is cut and inserted before another, as the officer drags it."""
    sheet = sheets.getByName(op["sheet"])
    with Unprotected(sheet):
        cols = sheet.getColumns()
        src, dst = col_index(op["col"]), col_index(op["before"])
        cols.insertByIndex(dst, 1)
        if src >= dst:
            src += 1
        whole = sheet.getCellRangeByPosition(src, 0, src, sheet.getRows().getCount() - 1).getRangeAddress()
        sheet.moveRange(sheet.getCellByPosition(dst, 0).getCellAddress(), whole)
        cols.removeByIndex(src, 1)


def _copy_lock_file(doc, op):
    folder, name = os.path.split(uno.fileUrlToSystemPath(doc.getURL()))
    lock = os.path.join(folder, ".~lock.%s#" % name)
    if os.path.exists(lock):
        shutil.copyfile(lock, op["to"])


def _clear_validation(sheets, op):
    sheet = sheets.getByName(op["sheet"])
    with Unprotected(sheet):
        rng = sheet.getCellRangeByName(op["range"])
        v = rng.Validation
        v.Type = uno.Enum("com.sun.star.sheet.ValidationType", "ANY")
        v.ShowErrorMessage = False
        rng.Validation = v


def _merge(sheets, op):
    sheet = sheets.getByName(op["sheet"])
    with Unprotected(sheet):
        sheet.getCellRangeByName(op["range"]).merge(True)


def _column_width(sheets, op):
    sheets.getByName(op["sheet"]).getColumns().getByIndex(col_index(op["col"])).Width = int(op["width"] * 1000)


def _bold(sheets, op):
    sheets.getByName(op["sheet"]).getCellRangeByName(op["range"]).CharWeight = 150.0


SHEET_OPS = {
    "set": _set, "formula": _set, "insert_rows": _rows_or_columns, "delete_rows": _rows_or_columns,
    "insert_columns": _rows_or_columns, "delete_columns": _rows_or_columns, "move_column": _move_column,
    "column_width": _column_width, "bold": _bold, "clear_validation": _clear_validation, "merge": _merge,
    "rename_sheet": lambda sheets, op: sheets.getByName(op["sheet"]).setName(op["name"]),
    "remove_sheet": lambda sheets, op: sheets.removeByName(op["sheet"]),
    "move_sheet": lambda sheets, op: sheets.moveByName(op["sheet"], int(op["to"])),
    "add_sheet": lambda sheets, op: sheets.insertNewByName(op["name"], sheets.getCount()),
    "unprotect": lambda sheets, op: sheets.getByName(op["sheet"]).unprotect(""),
}


def apply(doc, op):
    """One operation of a job on the open document (see the module's docstring for the list)."""
    kind = op["op"]
    if kind in SHEET_OPS:
        SHEET_OPS[kind](doc.Sheets, op)
    elif kind == "copy_lock_file":
        _copy_lock_file(doc, op)
    elif kind != "save_password":   # save_password is handled when saving
        raise ValueError("unknown op %r" % kind)


def run_job(desktop, job):
    doc = desktop.loadComponentFromURL(url(job["src"]), "_blank", 0, (prop("Hidden", True),))
    if doc is None:
        raise RuntimeError("cannot open %s" % job["src"])
    try:
        password = None
        for op in job.get("ops", []):
            if op["op"] == "save_password":
                password = op["password"]
            apply(doc, op)
        doc.calculateAll()
        fmt = job.get("format", "xlsx")
        args = [prop("FilterName", FILTERS[fmt]), prop("Overwrite", True)]
        if password:
            args.append(prop("Password", password))
        dst = job["dst"]
        os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
        doc.storeToURL(url(dst), tuple(args))
    finally:
        doc.close(True)


def main(argv):
    with open(argv[1], encoding="utf-8") as fh:
        spec = json.load(fh)
    jobs = spec["jobs"]
    proc, desktop, profile = start(spec.get("soffice") or "soffice")
    failed = 0
    try:
        for job in jobs:
            try:
                run_job(desktop, job)
                print(json.dumps({"dst": job["dst"], "ok": True}), flush=True)
            except Exception as exc:  # report and go on with the other jobs
                failed += 1
                print(json.dumps({"dst": job.get("dst"), "ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}),
                      flush=True)
    finally:
        stop(proc, desktop, profile)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
