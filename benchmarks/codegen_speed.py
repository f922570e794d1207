"""Generated gradient code: its speed, and its size and compile time on a large program.

    python benchmarks/codegen_speed.py            # about 10 minutes on 2 cores
    python benchmarks/codegen_speed.py --quick    # smaller sizes

1. Throughput of value + gradient of `sin(x)*exp(-y^2) + log(1+x^2)*y` (points per second):
   the generated C (called once over arrays through ctypes, a loop of the generated
   function), the generated numpy, `eval --data`'s batch evaluator, numpy typed by hand,
   and per point the generated Python and scalar `eval`.
2. Programs of 10^3, 3·10^3 and 10^4 nodes (four shapes: baselines' chain and sum, run.py's
   `chain`, a network of tanh units): the generated C's compile time (`cc -O0` and `-O2`,
   CPU seconds) and run time per call, as one function (`split=0`) and in parts (the
   default), the time to compile the generated Python, and node's time to load the JS and
   call it once. Then SymPy's `ccode(diff(...))` of run.py's chain, given a time limit.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import resource
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


def network(nodes: int, inputs: int = 20) -> str:
    """A wide model: tanh units over `inputs` inputs, about `nodes` nodes (its weights,
    inputs and units are indexed names: one argument per weight)."""
    units = max(1, nodes // (4 * inputs))
    return (f"h[j] = tanh(sum(W[j,i] * x[i] for i in 1..{inputs}) + b[j]) for j in 1..{units}\n"
            f"sigmoid(sum(v[j] * h[j] for j in 1..{units}) + c)")


def shapes(nodes: int) -> dict[str, str]:
    return {"chain": baselines.peer_program("chain", baselines.peer_size("chain", nodes))[0],
            "sum": baselines.peer_program("sum", baselines.peer_size("sum", nodes))[0],
            "sin chain": chain(nodes), "network": network(nodes)}


def cpu(command: list[str]) -> float:
    """CPU seconds (user + system) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def per_call(obj: Path, graph, tmp: Path) -> float:
    """Microseconds per call of the compiled f_grad (a C loop around it, cc -O2)."""
    n = len(graph.variables)
    args = ", ".join(f"{0.1 + 0.8 * k / max(1, n):.3f} + e" for k in range(n))
    (tmp / "drive.c").write_text(f"""#include <stdio.h>
#include <time.h>
double f_grad({", ".join(["double"] * n)}, double grad[{n}]);
static double grad[{n}];
int main(void)
{{
    double s = 0.0; long calls = 0; clock_t start = clock();
    while (clock() - start < CLOCKS_PER_SEC / 2) {{
        double e = 1e-9 * (double)calls++;
        s += f_grad({args}, grad) + grad[0];
    }}
    printf("%.3f %g\\n", 1e6 * (double)(clock() - start) / CLOCKS_PER_SEC / calls, s);
    return 0;
}}
""")
    subprocess.run(["cc", "-std=c99", "-O2", "-o", str(tmp / "drive"), str(tmp / "drive.c"),
                    str(obj), "-lm"], check=True)
    return float(subprocess.run([str(tmp / "drive")], capture_output=True, text=True,
                                check=True).stdout.split()[0])


def compile_times(sizes: list[int], tmp: Path) -> list[str]:
    """The generated C's compile time as one function (split=0) and in parts (the default),
    cc -O0 and -O2, CPU seconds; the run time per call of each; the time to compile the
    generated Python (what importing it costs) and to load the JS in node."""
    rows = ["| program | nodes | statements | C bytes (parts) | cc -O0 one / parts | "
            "cc -O2 one / parts | µs per call one / parts | Python compile | node load + "
            "first call |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    print("\n".join(rows), flush=True)
    for nodes in sizes:
        for kind, text in shapes(nodes).items():
            graph = cgraph.parse(text)
            times, calls, codes = {}, {}, {}
            for layout, split in (("one", 0), ("parts", None)):
                code = codes[layout] = generate(graph, "c", name="f_grad", split=split)
                src = tmp / f"{layout}.c"
                src.write_text(code)
                for opt in ("-O0", "-O2"):
                    obj = tmp / f"{layout}{opt}.o"
                    times[layout, opt] = cpu(["cc", "-std=c99", "-Wall", "-Werror", opt, "-c",
                                              "-o", str(obj), str(src)])
                calls[layout] = per_call(tmp / f"{layout}-O2.o", graph, tmp)
            statements = sum(line.startswith("    const double")
                             for line in codes["one"].splitlines())
            py = generate(graph, "python", name="f_grad")
            t = time.process_time()
            compile(py, "f_grad.py", "exec")
            t_py = time.process_time() - t
            js = tmp / "f.js"
            js.write_text(generate(graph, "js", name="f_grad") + "\nf_grad("
                          + ", ".join(["0.5"] * len(graph.variables)) + ");\n")
            t_js = cpu(["node", str(js)])
            rows.append(f"| {kind} | {len(graph.nodes):,} | {statements:,} | {len(code):,} | "
                        f"{times['one', '-O0']:.2f} / {times['parts', '-O0']:.2f} s | "
                        f"{times['one', '-O2']:.2f} / {times['parts', '-O2']:.2f} s | "
                        f"{calls['one']:.1f} / {calls['parts']:.1f} | {t_py:.2f} s | "
                        f"{t_js:.2f} s |")
            print(rows[-1], flush=True)
    return rows


def sympy_row(nodes: int, tmp: Path, sympy_limit: float) -> str:
    """SymPy's `ccode(diff(...))` of run.py's chain, with a time limit."""
    text = chain(nodes)
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
    name = f"SymPy ccode(diff(...)) of run.py's chain({nodes})"
    try:
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             timeout=sympy_limit)
        if run.returncode:
            last = (run.stderr.strip().splitlines() or ["crashed"])[-1]
            return f"{name}: failed ({last}), even with a recursion limit of 10^5"
        out = run.stdout.split()
        return (f"{name}: {int(out[0]):,} bytes, diff {float(out[1]):.2f} s, "
                f"diff + ccode {float(out[2]):.2f} s")
    except subprocess.TimeoutExpired:
        return f"{name}: did not finish in {sympy_limit:.0f} s"


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
        sizes = [1000, 3000] if args.quick else [1000, 3000, 10**4]
        print("generated C: one function (split=0) against parts (the default); CPU seconds\n")
        compile_times(sizes, tmp)
        print()
        print(sympy_row(2500 if args.quick else 10**4, tmp, 20 if args.quick else 60))
        assert POINT  # the chain's variables are x, c, d (POINT holds a point of them)

if __name__ == "__main__":
    main()
