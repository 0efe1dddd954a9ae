"""The problem texts of the returned-file checks, the merge and the catalogue: all in hoacu_xlsx/messages.py,
Vietnamese, NFC, fillable."""

from __future__ import annotations

import ast
import re
import string
import unicodedata
from pathlib import Path

import pytest

from hoacu_xlsx import messages as T
from hoacu_xlsx.problems import ERROR, WARNING

PKG = Path(T.__file__).parent
MODULES = sorted(p for p in PKG.rglob("*.py"))
VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]", re.I)
# calls whose arguments carry a problem's text and code
PROBLEM_CALLS = {"Problem", "Refused", "StopOrigin", "rejected", "CatalogueProblem"}
# local calls that take a problem's finished text: the catalogue workbook's problem(sheet, row, text) and the
# TOML parser's fail(field, what)
LOCAL_PROBLEM_CALLS = {("catalogue_book.py", "problem"), ("catalogue.py", "fail")}
CODE = re.compile(r"^[a-z][a-z0-9_]+$")


def rel(p: Path) -> str:
    return p.relative_to(PKG).as_posix()


def calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            yield name, node


def has_vietnamese_literal(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and VIETNAMESE.search(n.value)
               for n in ast.walk(node))


# local wrappers that hand their key and fields on to messages.problem
WRAPPERS = {("reader.py", "note"): "problem", ("validator.py", "problem"): "problem"}   # t.problem: _TableCheck


def message_keys(path: Path) -> list[tuple[str, str, set[str]]]:
    """(function, key, keyword names) of every messages.problem/text/reason call (and wrapper) with a literal key."""
    source = path.read_text(encoding="utf-8")
    out = []
    for name, node in calls(path):
        f = node.func
        via_module = isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "T"
        fn = (name if via_module and name in ("problem", "text", "reason")
              else "refusal" if name == "refusal" and isinstance(f, ast.Name)
              else "reason" if name == "reason" and "from hoacu_xlsx.messages import reason" in source
              else WRAPPERS.get((rel(path), name)))
        if fn and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            out.append((fn, node.args[0].value, {k.arg for k in node.keywords if k.arg}))
        elif fn and node.args and isinstance(node.args[0], ast.IfExp):   # "a" if cond else "b"
            for branch in (node.args[0].body, node.args[0].orelse):
                if isinstance(branch, ast.Constant):
                    out.append((fn, branch.value, {k.arg for k in node.keywords if k.arg}))
    return out


def placeholders(template: str) -> set[str]:
    return {f.split(".")[0].split("[")[0] for _, f, _, _ in string.Formatter().parse(template) if f}


def test_every_text_is_vietnamese_nfc_with_a_known_severity():
    for key, (severity, template) in T.TEXTS.items():
        assert severity in (ERROR, WARNING), key
        assert unicodedata.normalize("NFC", template) == template, key
        assert VIETNAMESE.search(template), f"{key}: not Vietnamese: {template!r}"
        assert CODE.match(T.code_of(key)), key
    for key, template in T.REASONS.items():
        assert unicodedata.normalize("NFC", template) == template, key
        # a reason may be a bare word ("ô"), a parenthesised list or TOML's own spelling ("true/false")
        assert (VIETNAMESE.search(template) or key in ("email.only", "what.html", "catalogue.type_bool")), \
            f"{key}: not Vietnamese: {template!r}"


def test_one_code_may_have_several_wordings_but_keeps_its_code():
    assert T.code_of("bad_year/range") == "bad_year"
    p = T.problem("bad_year/range", "a.xlsx", cell="E9", year=1850, last=2025)
    assert (p.code, p.severity, p.cell) == ("bad_year", ERROR, "E9")
    assert p.message == "Năm sinh 1850 nằm ngoài khoảng 1900–2025."
    assert T.problem("not_in_list", "a.xlsx", severity=WARNING, text="x", header="Thôn").severity == WARNING


@pytest.mark.parametrize("path", MODULES, ids=rel)
def test_modules_hold_no_problem_text_of_their_own(path):
    """A Problem/Refused/CatalogueProblem built in place takes its text from messages.py."""
    if path.name == "messages.py":
        return
    for name, node in calls(path):
        if name in PROBLEM_CALLS or (rel(path), name) in LOCAL_PROBLEM_CALLS:
            assert not has_vietnamese_literal(node), f"{rel(path)}:{node.lineno}: text not in messages.py"


# exceptions whose Vietnamese text the officer reads when a merge stops (or that end in a problem's text)
ERROR_CALLS = {"MergeError", "MergeBusy", "MasterWriteError", "MasterReadError", "MasterOpen", "VerdictError",
               "_Unreadable", "CatalogueError"}
NOTICE_LISTS = {"notices", "notes"}   # merge's notices; what the catalogue workbook holds that is not read


def is_notice(node: ast.Call) -> bool:
    """``notices.append(...)`` / ``state.notices.append(...)`` / ``self.notes.append(...)``: a notice to the officer."""
    f = node.func
    return (isinstance(f, ast.Attribute) and f.attr == "append"
            and ((isinstance(f.value, ast.Name) and f.value.id in NOTICE_LISTS)
                 or (isinstance(f.value, ast.Attribute) and f.value.attr in NOTICE_LISTS)))


@pytest.mark.parametrize("path", MODULES, ids=rel)
def test_errors_and_notices_take_their_text_from_messages(path):
    """The merge's and the catalogue's stopping errors and the officer's notices are worded in messages.py too."""
    if path.name == "messages.py":
        return
    for name, node in calls(path):
        if name in ERROR_CALLS or is_notice(node):
            assert not has_vietnamese_literal(node), f"{rel(path)}:{node.lineno}: text not in messages.py"


def test_every_code_has_a_text():
    codes = {T.code_of(k) for k in T.TEXTS}
    missing = []
    for path in MODULES:
        if path.name == "messages.py":
            continue
        for name, node in calls(path):
            if name not in PROBLEM_CALLS:
                continue
            for arg in [*node.args[1:], *(k.value for k in node.keywords if k.arg == "code")]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and CODE.match(arg.value):
                    if arg.value not in codes and arg.value != "refused":
                        missing.append(f"{rel(path)}:{node.lineno}: {arg.value}")
    assert not missing


def test_every_key_used_exists_and_its_placeholders_are_passed():
    """Each call site passes every field its template names (no KeyError when a file hits that check)."""
    problems = []
    used = set()
    for path in MODULES:
        for fn, key, kws in message_keys(path):
            table = T.REASONS if fn == "reason" else T.TEXTS
            if key not in table:
                problems.append(f"{rel(path)}: unknown key {key!r}")
                continue
            used.add(key)
            template = table[key] if fn == "reason" else table[key][1]
            given = kws | ({"file", "sheet"} if fn == "problem" else set()) | ({"name"} if fn == "refusal" else set())
            if lacking := placeholders(template) - given:
                problems.append(f"{rel(path)}: {key} lacks {sorted(lacking)}")
    assert not problems
    # every whole message is used somewhere (REASONS may be picked by a computed key: encoding.*, ole.*)
    assert set(T.TEXTS) - used == set()


def test_a_filled_message_is_nfc_even_when_the_file_sent_nfd():
    nfd = unicodedata.normalize("NFD", "Lê Thị Hạ")
    p = T.problem("duplicate_person", "a.xlsx", name=nfd, born="1980", first_file="b.xlsx", first_sheet="Mục 1",
                  first_row=9)
    assert unicodedata.is_normalized("NFC", p.message)
    assert p.message == ("'Lê Thị Hạ' (1980) có thể trùng: được đề xuất hai lần, tại đây và tại b.xlsx › "
                         "trang 'Mục 1' dòng 9.")


# Vietnamese the catalogue code needs that is no message: the place-name prefixes Catalogue.place_name strips from
# the officer's commune name (input it matches), an item's heading "Mục 3. <title>" as the dispatch numbers it
# (printed in every workbook, filled into messages as {heading}), and the data-validation popups danh_muc.xlsx
# carries (part of that workbook, as builder.py's are of the unit workbooks). Sheet names, column headers, hints
# and the guide are the workbook's format too; they sit in module-level constants, which this test does not read.
CATALOGUE_FORMAT_FUNCTIONS = {("catalogue.py", "place_name"), ("catalogue.py", "heading"),
                              ("catalogue_book.py", "_round_check"), ("catalogue_book.py", "_table_checks")}


def vietnamese_in_functions(path: Path) -> list[str]:
    """'function:line' of each Vietnamese string literal inside a function (docstrings left out)."""
    found: list[str] = []
    for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(fn, ast.FunctionDef) or (rel(path), fn.name) in CATALOGUE_FORMAT_FUNCTIONS:
            continue
        docstring = fn.body[0].value if ast.get_docstring(fn, clean=False) is not None else None
        for n in ast.walk(fn):
            if (isinstance(n, ast.Constant) and isinstance(n.value, str) and n is not docstring
                    and VIETNAMESE.search(n.value)):
                found.append(f"{fn.name}:{n.lineno}")
    return found


@pytest.mark.parametrize("name", ["catalogue.py", "catalogue_book.py", "catalogue_changes.py"])
def test_the_catalogue_modules_word_nothing_themselves(name):
    """The catalogue's checks, notes and change lines are built from messages.py: no function writes Vietnamese."""
    assert vietnamese_in_functions(PKG / name) == []


def test_every_toml_reason_has_a_text():
    from hoacu_xlsx.catalogue import _TOML_REASONS

    assert [key for _, key in _TOML_REASONS if key not in T.REASONS] == []


def test_a_catalogue_problem_reads_as_before():
    from hoacu_xlsx.catalogue import CatalogueError, CatalogueProblem

    blank = T.text("catalogue/blank", label=T.reason("catalogue_column.unit_name"))
    err = CatalogueError([CatalogueProblem(blank, "Đơn vị", 7), CatalogueProblem(T.text("catalogue/no_items"),
                                                                                    "Nhiệm vụ")], "danh_muc.xlsx")
    assert str(err) == ("Danh mục 'danh_muc.xlsx' có 2 lỗi — sửa rồi chạy lại:\n"
                        "  • [Đơn vị, dòng 7] tên đầy đủ không được để trống\n"
                        "  • [Nhiệm vụ] chưa có nhiệm vụ nào")
