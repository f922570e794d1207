"""Generated gradient code: its speed, and its size and compile time on a large program.

    python benchmarks/codegen_speed.py            # about a minute on 2 cores
    python benchmarks/codegen_speed.py --quick    # smaller sizes

1. Throughput of value + gradient of `sin(x)*exp(-y^2) + log(1+x^2)*y` (points per second):
   the generated C (called once over arrays through ctypes, a loop of the generated
   function), the generated numpy, `eval --data`'s batch evaluator, numpy typed by hand,
   and per point the generated Python and scalar `eval`.
2. A program of 10^4 nodes (run.py's `chain`): the generated C's size and its compile time
   with `cc -O2` and `-O0`, beside SymPy's `ccode(diff(...))` of the same program, which is
   given a time limit.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import baselines  # noqa: E402
from run import POINT, chain  # noqa: E402

import cgraph  # noqa: E402
from cgraph.codegen import generate  # noqa: E402

PROGRAM = "sin(x)*exp(-y^2) + log(1+x^2)*y"


def best(fn, repeat=5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def throughput(n: int, tmp: Path) -> list[tuple[str, float, str]]:
    graph = cgraph.parse(PROGRAM)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n)
    rows = []

    c = tmp / "f.c"
    c.write_text(generate(graph, "c", name="f_grad") + """
void batch(long n, const double *x, const double *y, double *f, double *gx, double *gy)
{
    double grad[2];
    for (long i = 0; i < n; i++) {
        f[i] = f_grad(x[i], y[i], grad);
        gx[i] = grad[0];
        gy[i] = grad[1];
    }
}
""")
    lib = tmp / "f.so"
    subprocess.run(["cc", "-std=c99", "-O2", "-shared", "-fPIC", "-o", str(lib), str(c), "-lm"],
                   check=True)
    so = ctypes.CDLL(str(lib))
    f, gx, gy = np.empty(n), np.empty(n), np.empty(n)
    ptr = ctypes.POINTER(ctypes.c_double)
    args = [a.ctypes.data_as(ptr) for a in (x, y, f, gx, gy)]
    t = best(lambda: so.batch(ctypes.c_long(n), *args))
    rows.append(("generated C (cc -O2, one thread)", n / t, "f_grad in a loop over arrays"))
    want = graph.evaluate_batch({"x": x, "y": y})
    assert np.allclose(f, want.value, rtol=1e-13) and np.allclose(gx, want.gradient["x"],
                                                                  rtol=1e-12)

    py = tmp / "f_np.py"
    py.write_text(generate(graph, "numpy", name="f_grad"))
    fn = _load(py, "f_np").f_grad
    t = best(lambda: fn(x, y))
    rows.append(("generated numpy", n / t, "one thread"))
    t = best(lambda: graph.evaluate_batch({"x": x, "y": y}), 3)
    rows.append(("eval --data's batch evaluator", n / t, "numpy, chunks over threads"))
    t = best(lambda: baselines.numpy_by_hand(x, y))
    rows.append(("numpy by hand", n / t, "baselines.numpy_by_hand"))

    k = min(n, 20000)
    py = tmp / "f_py.py"
    py.write_text(generate(graph, "python", name="f_grad"))
    fn = _load(py, "f_py").f_grad
    xs, ys = x[:k].tolist(), y[:k].tolist()
    t = best(lambda: [fn(a, b) for a, b in zip(xs, ys)], 3)
    rows.append(("generated Python, per point", k / t, "a loop of calls"))
    t = best(lambda: [graph.evaluate({"x": a, "y": b}) for a, b in zip(xs, ys)], 3)
    rows.append(("scalar eval, per point", k / t, "Graph.evaluate in a loop"))
    return rows


def big_program(nodes: int, tmp: Path, sympy_limit: float) -> list[str]:
    text = chain(nodes)
    graph = cgraph.parse(text)
    lines = [f"program: run.py's chain({nodes}), {len(graph.nodes)} nodes, "
             f"variables {', '.join(graph.variables)}"]
    t = time.perf_counter()
    code = generate(graph, "c", name="f_grad")
    t_gen = time.perf_counter() - t
    src = tmp / "big.c"
    src.write_text(code)
    lines.append(f"cgraph codegen --lang c: {len(code):,} bytes, {code.count(chr(10)):,} lines, "
                 f"generated in {t_gen:.2f} s")
    for opt in ("-O0", "-O2"):
        t = time.perf_counter()
        subprocess.run(["cc", "-std=c99", "-Wall", "-Werror", opt, "-c", "-o",
                        str(tmp / "big.o"), str(src)], check=True)
        lines.append(f"  cc {opt} -Wall -Werror: {time.perf_counter() - t:.2f} s")
    script = f"""
import sys, time
sys.setrecursionlimit(10**5)
sys.path.insert(0, {str(Path(__file__).parent.parent / 'tests')!r})
import sympy as sp, cgraph
from conftest import sympy_of
g = cgraph.parse(open({str(tmp / 'big.cg')!r}).read())
e = sympy_of(g)
t = time.perf_counter()
d = [sp.diff(e, sp.Symbol(v, real=True)) for v in g.variables]
t_diff = time.perf_counter() - t
code = "\\n".join(sp.ccode(x) for x in d)
print(len(code), t_diff, time.perf_counter() - t)
"""
    (tmp / "big.cg").write_text(text)
    try:
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             timeout=sympy_limit)
        if run.returncode:
            last = (run.stderr.strip().splitlines() or ["crashed"])[-1]
            lines.append(f"SymPy ccode(diff(...)): failed ({last}), even with a recursion "
                         "limit of 10^5")
            return lines
        out = run.stdout.split()
        lines.append(f"SymPy ccode(diff(...)): {int(out[0]):,} bytes, diff {float(out[1]):.2f} s, "
                     f"diff + ccode {float(out[2]):.2f} s")
    except subprocess.TimeoutExpired:
        lines.append(f"SymPy ccode(diff(...)): did not finish in {sympy_limit:.0f} s")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args(argv)
    n = 10**5 if args.quick else 10**6
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        print(f"value and gradient of `{PROGRAM}` at {n:,} points\n")
        print("| implementation | points/s | note |\n|---|---:|---|")
        for name, rate, note in throughput(n, tmp):
            print(f"| {name} | {rate:,.0f} | {note} |")
        print()
        for line in big_program(2500 if args.quick else 10**4, tmp, 20 if args.quick else 60):
            print(line)
        assert POINT  # the chain's variables are x, c, d (POINT holds a point of them)


if __name__ == "__main__":
    main()
