"""`cgraph diff` on textbook and machine-learning derivatives, beside SymPy.

    python benchmarks/diff_corpus.py            # the table (about a minute: SymPy's simplify)
    python benchmarks/diff_corpus.py --quick    # the first 12 rows

For each program: the operations in cgraph's printed derivative (each shared `t1 = …` or
named intermediate counted once, as printed), SymPy's `count_ops` of `diff` and of
`simplify(diff(…))` (SymPy prints trees: a repeated subexpression counts each time), and the
time each took. SymPy gets the program as the same expression (sigmoid as 1/(1 + e^-a),
softplus as log(1 + e^a)). The corpus is also a test: tests/test_simplify.py checks every
derivative against SymPy's at random points.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

CE = "o = sigmoid(w*x + b); -(t*log(o) + (1 - t)*log(1 - o))"
GAUSS = "-0.5*log(2*pi*s^2) - (x - mu)^2/(2*s^2)"
POLY = "3*x^4 - 2*x^3 + x^2 - 5*x + 7"

# (program, variable, order)
CORPUS = [
    # product, quotient and chain rules
    ("x^2*sin(x)", "x", 1),
    ("sin(x)/x", "x", 1),
    ("(x^2 + 1)/(x - 3)", "x", 1),
    ("exp(sin(x)^2)", "x", 1),
    ("log(1 + x^2)", "x", 1),
    ("sqrt(x)*cos(x)", "x", 1),
    ("x*exp(x)", "x", 1),
    ("x^x", "x", 1),
    ("sin(x)*cos(x)", "x", 1),
    ("exp(-x^2/2)", "x", 1),
    ("1/(1 + x^2)", "x", 1),
    ("atan(x/2)", "x", 1),
    ("log(sin(x))", "x", 1),
    ("sin(cos(x))", "x", 1),
    ("x*log(x) - x", "x", 1),
    ("(x^2 - 1)/(x^2 + 1)", "x", 1),
    ("sqrt(1 - x^2)", "x", 1),
    ("(x + 1)^3*(x - 2)^2", "x", 1),
    ("tan(x)/x^2", "x", 1),
    # polynomials up to the 4th order
    (POLY, "x", 1),
    (POLY, "x", 2),
    (POLY, "x", 3),
    ("(x - 1)*(x - 2)*(x - 3)*(x - 4)", "x", 1),
    ("(2*x + 1)^4", "x", 1),
    ("x^4", "x", 3),
    # machine learning
    (CE, "b", 1),
    (CE, "w", 1),
    ("-(t*log(sigmoid(z)) + (1 - t)*log(1 - sigmoid(z)))", "z", 1),
    ("-log(exp(a)/(exp(a) + exp(b)))", "a", 1),
    ("-log(exp(a)/(exp(a) + exp(b) + exp(c)))", "a", 1),
    ("-log(exp(a)/(exp(a) + exp(b) + exp(c)))", "b", 1),
    ("log(exp(a) + exp(b))", "a", 1),
    ("tanh(w*x + b)", "w", 1),
    ("(tanh(w*x + b) - t)^2", "w", 1),
    ("softplus(w*x + b)", "w", 1),
    ("(softplus(w*x + b) - t)^2", "b", 1),
    (GAUSS, "mu", 1),
    (GAUSS, "s", 1),
    ("(w*x + b - y)^2", "w", 1),
    ("(w*x - y)^2 + 0.1*w^2", "w", 1),
    ("sigmoid(w*x + b)", "w", 1),
    ("tanh(v*tanh(w*x))", "w", 1),
    ("x/(1 + exp(-x))", "x", 1),
    # higher orders
    ("sigmoid(x)", "x", 2),
    ("tanh(x)", "x", 2),
    ("tanh(x)", "x", 3),
    ("x^2*sin(x)", "x", 2),
    ("x^2*sin(x)", "x", 3),
    ("exp(x)*sin(x)", "x", 2),
    ("log(x)*x^2", "x", 2),
    ("x/(1 + x^2)", "x", 2),
    ("exp(-x^2/2)", "x", 3),
]


def cgraph_ops(builder, root) -> int:
    """Operations in the printed derivative: op nodes it depends on, each once."""
    from cgraph.graph import reachable

    live = reachable(builder.nodes, [root])
    return sum(1 for n in builder.nodes if live[n.id] and n.inputs)


def measure(program: str, var: str, order: int, repeat: int = 3) -> dict:
    import sympy as sp

    import cgraph
    from cgraph.diff import differentiate
    from conftest import sympy_of

    graph = cgraph.parse(program)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        d = differentiate(graph, [var], order)
        d.text()
        times.append(time.perf_counter() - t)
    ours = cgraph_ops(d.builder, d.ids[var])
    expr = sympy_of(graph)
    sym = sp.Symbol(var, real=True)
    t = time.perf_counter()
    dexpr = sp.diff(expr, sym, order)
    t_diff = time.perf_counter() - t
    t = time.perf_counter()
    simple = sp.simplify(dexpr)
    t_simplify = time.perf_counter() - t
    return {"program": program, "var": var, "order": order, "text": d.program()[1][0][1],
            "ours": ours, "t_ours": statistics.median(times),
            "diff": sp.count_ops(dexpr), "t_diff": t_diff,
            "simplify": sp.count_ops(simple), "t_simplify": t_simplify,
            "sympy": str(simple)}


def main(argv=None) -> None:
    here = Path(__file__).parent
    sys.path.insert(0, str(here.parent / "tests"))  # conftest.sympy_of: the tests' oracle
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the first 12 rows only")
    args = parser.parse_args(argv)
    rows = [measure(*c) for c in (CORPUS[:12] if args.quick else CORPUS)]
    print("| program | d/d | n | cgraph ops | SymPy diff ops | SymPy simplify ops "
          "| cgraph ms | diff ms | simplify ms | cgraph prints |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| `{r['program']}` | {r['var']} | {r['order']} | {r['ours']} | {r['diff']} "
              f"| {r['simplify']} | {r['t_ours'] * 1e3:.1f} | {r['t_diff'] * 1e3:.1f} "
              f"| {r['t_simplify'] * 1e3:.0f} | `{r['text']}` |")
    n = len(rows)
    le_diff = sum(r["ours"] <= r["diff"] for r in rows)
    le_simp = sum(r["ours"] <= r["simplify"] for r in rows)
    t_ours = sum(r["t_ours"] for r in rows)
    t_simp = sum(r["t_simplify"] + r["t_diff"] for r in rows)
    print(f"\n{n} derivatives: cgraph has no more operations than SymPy's diff on "
          f"{le_diff}/{n}, no more than SymPy's simplify(diff) on {le_simp}/{n} "
          f"({100 * le_simp / n:.0f}%); total time cgraph {t_ours * 1e3:.0f} ms, SymPy "
          f"diff + simplify {t_simp:.1f} s.")
    worse = [r for r in rows if r["ours"] > r["simplify"]]
    for r in worse:
        print(f"  more than simplify: `{r['program']}` d/d{r['var']} (order {r['order']}): "
              f"{r['ours']} vs {r['simplify']}: `{r['text']}` vs SymPy `{r['sympy']}`")


if __name__ == "__main__":
    main()
