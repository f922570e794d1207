"""How cgraph's modules import each other: no cycles, and nothing heavy at start-up."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import cgraph

PACKAGE = Path(cgraph.__file__).parent


def _local_imports(path: Path) -> set[str]:
    """The cgraph modules a module imports, at the top or inside functions (a lazy import
    is still a dependency), leaving out `if TYPE_CHECKING:` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
            and getattr(block.test, "id", None) == "TYPE_CHECKING"
            for n in ast.walk(block)}
    found = set()
    for n in ast.walk(tree):
        if id(n) in skip or not isinstance(n, ast.ImportFrom) or n.level != 1:
            continue
        found |= {n.module.split(".")[0]} if n.module else {a.name for a in n.names}
    return found


def test_no_import_cycles():
    deps = {p.stem: _local_imports(p) for p in PACKAGE.glob("*.py")}
    for start in deps:
        stack, seen = [(start, [start])], set()
        while stack:
            mod, path = stack.pop()
            for nxt in deps.get(mod, ()):
                assert nxt != start, " -> ".join(path + [start])
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))


def test_import_cgraph_leaves_numpy_rich_lark_and_difflib_for_later():
    heavy = ("numpy", "rich", "lark", "concurrent.futures", "difflib")
    code = ("import sys, cgraph; cgraph.parse('x*y').evaluate({'x': 1, 'y': 2}); "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"



def _imported_by(*args: str) -> set[str]:
    """The modules `cgraph ARGS` imports: `python -X importtime` lists each as it loads."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-m", "cgraph", *args],
                         capture_output=True, text=True, check=True).stderr
    return {line.split("|")[2].strip() for line in err.splitlines()
            if line.startswith("import time:") and line.count("|") == 2}


# Not needed by one evaluation; each costs start-up time (dataclasses ~1 ms with its
# decorator, cgraph.batch 1 ms, numpy ~60 ms, lark ~35 ms, json 1.2 ms: eval writes JSON
# with json's C string encoder alone; the parser's tables are shipped in
# cgraph._lalr_tables: their generator, cgraph.tablegen, is for developers)
NOT_FOR_ONE_EVALUATION = {"dataclasses", "copy", "cgraph.batch", "numpy", "lark", "difflib",
                          "csv", "cgraph.forward", "cgraph.uncertainty", "concurrent.futures",
                          "cgraph.tablegen", "json"}


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_eval_imports_only_what_one_evaluation_needs(fmt):
    found = _imported_by("eval", "(x+y)*z", "x=1", "y=3", "z=-3", "--format", fmt)
    assert "cgraph.eval_formats" in found  # (the listing works)
    # a table is drawn by rich, which imports dataclasses and copy itself
    unwanted = NOT_FOR_ONE_EVALUATION | {"rich"} if fmt == "json" else \
        NOT_FOR_ONE_EVALUATION - {"dataclasses", "copy"}
    assert not found & unwanted, sorted(found & unwanted)


def test_eval_of_a_file_for_its_value_and_gradient_imports_only_what_it_needs(tmp_path):
    """What a script runs on a big program (issue 16's whole-process rows)."""
    program = tmp_path / "p.cg"
    program.write_text("t0 = x\nt1 = t0*c + d\nt2 = t1*c + d\n")
    found = _imported_by("eval", "--file", str(program), "x=0.5", "c=0.9", "d=0.3",
                         "--fields", "value,gradient")
    assert "cgraph._lalr_tables" in found  # (the listing works)
    unwanted = NOT_FOR_ONE_EVALUATION | {"rich"}
    assert not found & unwanted, sorted(found & unwanted)


RUNS_TEXT = {"eval", "exec", "compile", "__import__"}  # builtins that run text as Python
UNSAFE = {"pickle", "marshal", "shelve", "dill", "cloudpickle"}


def test_nothing_is_run_as_python_text():
    """No module calls eval/exec/compile or loads pickles: nothing a user typed (nor any
    text cgraph builds) is ever run as Python. Calls like `np.exp` or `re.compile` are
    attributes, not these builtins."""
    found = []
    for path in sorted(PACKAGE.glob("*.py")):
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                    and n.func.id in RUNS_TEXT):
                found.append(f"{path.name}:{n.lineno} {n.func.id}()")
            names = ([a.name for a in n.names] if isinstance(n, ast.Import) else
                     [n.module or ""] if isinstance(n, ast.ImportFrom) else [])
            found += [f"{path.name}:{n.lineno} import {m}" for m in names
                      if m.split(".")[0] in UNSAFE]
    assert not found, found
