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


# How many threads the OpenBLAS that numpy loaded has, asked of OpenBLAS itself ("none": no
# OpenBLAS is loaded; its functions' names are those threadpoolctl tries)
_BLAS_THREADS = """
def blas_threads():
    import ctypes
    paths = {line.split()[-1] for line in open("/proc/self/maps")
             if "openblas" in line.lower() and line.split()[-1].startswith("/")}
    for path in sorted(paths):
        lib = ctypes.CDLL(path)
        for prefix in ("", "scipy_"):
            for suffix in ("", "64_"):
                get = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
                if get is not None:
                    return get()
    return "none"
"""

# Runs the command line as `cgraph` does, and says at its end (atexit: the process then
# leaves at once) whether numpy was imported and how many threads OpenBLAS has
_AT_THE_END = _BLAS_THREADS + """
import atexit, sys
atexit.register(lambda: sys.stderr.write(f"\\n{'numpy' in sys.modules} {blas_threads()}\\n"))
sys.argv[0] = "cgraph"
from cgraph.__main__ import main
main()
"""


@pytest.mark.parametrize("args", [
    ["hessian", "x*y", "x=1", "y=2"],
    ["eval", "x*y", "x=1+-0.1", "y=2"],  # uncertainties
    ["check", "x*y", "x=1", "y=2", "--hessian"],
    ["descend", "(a-1)^2+100*(b-a^2)^2", "a=-1", "b=1", "--optimizer", "newton",
     "--steps", "3"],
    ["descend", "(w*x-y)^2", "w=0", "--wrt", "w", "--epochs", "2", "--data", "DATA"],
    ["eval", "x*y", "--data", "DATA"],
], ids=["hessian", "uncertainty", "check-hessian", "newton", "descend-data", "eval-data"])
def test_commands_that_import_numpy_start_no_blas_threads(args, tmp_path):
    """Every command that imports numpy has OpenBLAS on one thread: none makes a BLAS call
    that threads would speed up, and OpenBLAS's idle threads spin for ~0.1 s of CPU after
    the import (only eval --data avoided it, by a helper of its own). A user's setting of
    OpenBLAS's threads (any of the variables it reads) is kept."""
    import os

    if not os.path.exists("/proc/self/maps"):
        pytest.skip("OpenBLAS is found in /proc/self/maps")
    blas = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")  # what it reads
    env = {k: v for k, v in os.environ.items() if k not in blas}
    probe = subprocess.run([sys.executable, "-c", f"{_BLAS_THREADS}\nimport numpy\n"
                            "print(blas_threads())"],
                           env=env, capture_output=True, text=True, check=True)
    if probe.stdout.strip() in ("none", "1"):
        pytest.skip(f"this numpy's BLAS starts no threads of its own ({probe.stdout})")
    data = tmp_path / "data.csv"
    data.write_text("x,y\n1,2\n3,4\n")
    args = [str(data) if a == "DATA" else a for a in args]

    def at_the_end(**extra) -> str:
        done = subprocess.run([sys.executable, "-c", _AT_THE_END, *args],
                              env={**env, **extra}, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stderr.splitlines()[-1]

    assert at_the_end() == "True 1"
    assert at_the_end(OPENBLAS_NUM_THREADS="2") == "True 2"
    assert at_the_end(OMP_NUM_THREADS="2") == "True 2"
