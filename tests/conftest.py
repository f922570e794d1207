"""Shared test helpers: SymPy and central-difference oracles, every op's CASES line, and the
random-expression strategy. Test modules import from here, never from each other."""

from __future__ import annotations

import math
import os
import signal
from typing import Callable, NamedTuple

import pytest
from hypothesis import assume, settings
from hypothesis import strategies as st

import cgraph
from cgraph import ops

# No Hypothesis test has a deadline: a deadline is a wall-clock assertion (speed goes to
# benchmarks/), and it fails by chance on a loaded machine. One did: an example's first call
# imported pyarrow.compute (270 ms on a loaded machine; 0.2 ms when replayed), and Hypothesis
# reported "Unreliable test timings". Without a deadline, the too_slow health check allows
# 30 s of input generation instead of 1 s.
settings.register_profile("cgraph", deadline=None)
# CI runs one fixed, reproducible set of Hypothesis examples (a failure there is the same
# failure on every rerun, and a landing does not hang on a lucky draw); a developer's run
# draws new examples every time and keeps exploring.
settings.register_profile("ci", settings.get_profile("cgraph"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "cgraph")

# The suite starts its commands as a shell starts one: with Ctrl-C (SIGINT) at its default.
# A runner started in the background of a script (`python3 -m pytest &`, no job control)
# ignores SIGINT and every child inherits that; Python then leaves SIGINT ignored until
# cgraph's __main__ installs its handler, so a Ctrl-C landing in Python's own start-up was
# lost, and the start-up Ctrl-C test waited 30 s for a descent of 10^8 steps. A handler
# (here Python's own) is reset to the default at exec; SIG_IGN is not.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def sympy_of(graph):
    """The graph as a SymPy expression, built node by node (a loop, like the passes)."""
    import sympy as sp

    exprs = []
    for n in graph.nodes:
        if n.op is ops.VAR:
            exprs.append(sp.Symbol(n.name, real=True))
        elif n.op is ops.CONST:
            exprs.append({"pi": sp.pi, "e": sp.E}.get(n.name) or sp.Float(n.value, 30)
                         if n.name else sp.nsimplify(n.value) if n.value == int(n.value)
                         else sp.Float(n.value, 30))
        else:
            exprs.append(CASES[n.op.name].sympy(sp, *(exprs[j] for j in n.inputs)))
    return exprs[graph.output]


def sympy_value_and_grad(graph, point):
    import sympy as sp

    expr = sympy_of(graph)
    subs = {sp.Symbol(k, real=True): sp.Float(v, 30) for k, v in point.items()}
    value = float(expr.evalf(30, subs=subs))
    grad = {k: float(sp.diff(expr, sp.Symbol(k, real=True)).evalf(30, subs=subs))
            for k in point}
    return value, grad


def central_difference(graph, point, name, eps=None):
    """(f(x+h) - f(x-h)) / 2h, with h scaled to the variable's magnitude."""
    x = point[name]
    h = eps or 1e-6 * max(1.0, abs(x))
    up = dict(point, **{name: x + h})
    down = dict(point, **{name: x - h})
    f = lambda p: graph.forward(p)[graph.output]  # noqa: E731
    return (f(up) - f(down)) / (2 * h)


def close(a, b, rel=1e-6, abs_=1e-8):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


@pytest.fixture
def evaluate():
    def run(text, **point):
        return cgraph.parse(text).evaluate(point)
    return run


class Case(NamedTuple):
    program: str  # the op applied to the variables x, y, z in order
    points: list  # points away from kinks and domain edges
    sympy: Callable  # (sympy module, *arguments) -> the op in SymPy: the oracle


# One line per op of the registry (test_ops checks that there is one for every op).
CASES = {
    "add": Case("x + y", [(0.3, -1.7), (2.5, 4.0)], lambda sp, a, b: a + b),
    "sub": Case("x - y", [(0.3, -1.7), (-2.5, 4.0)], lambda sp, a, b: a - b),
    "mul": Case("x * y", [(0.3, -1.7), (2.5, 4.0)], lambda sp, a, b: a * b),
    "div": Case("x / y", [(0.3, -1.7), (2.5, 4.0)], lambda sp, a, b: a / b),
    "pow": Case("x ^ y", [(0.3, -1.7), (2.5, 1.5)], lambda sp, a, b: a ** b),
    "neg": Case("-x", [(0.3,), (-2.0,)], lambda sp, a: -a),
    "sin": Case("sin(x)", [(0.3,), (-2.0,)], lambda sp, a: sp.sin(a)),
    "cos": Case("cos(x)", [(0.3,), (-2.0,)], lambda sp, a: sp.cos(a)),
    "tan": Case("tan(x)", [(0.3,), (-1.2,)], lambda sp, a: sp.tan(a)),
    "asin": Case("asin(x)", [(0.3,), (-0.8,)], lambda sp, a: sp.asin(a)),
    "acos": Case("acos(x)", [(0.3,), (-0.8,)], lambda sp, a: sp.acos(a)),
    "atan": Case("atan(x)", [(0.3,), (-2.0,)], lambda sp, a: sp.atan(a)),
    "sinh": Case("sinh(x)", [(0.3,), (-2.0,)], lambda sp, a: sp.sinh(a)),
    "cosh": Case("cosh(x)", [(0.3,), (-2.0,)], lambda sp, a: sp.cosh(a)),
    "tanh": Case("tanh(x)", [(0.3,), (-2.0,)], lambda sp, a: sp.tanh(a)),
    "exp": Case("exp(x)", [(0.3,), (-2.0,)], lambda sp, a: sp.exp(a)),
    "log": Case("log(x)", [(0.3,), (20.0,)], lambda sp, a: sp.log(a)),
    "log2": Case("log2(x)", [(0.3,), (20.0,)], lambda sp, a: sp.log(a, 2)),
    "log10": Case("log10(x)", [(0.3,), (20.0,)], lambda sp, a: sp.log(a, 10)),
    "sqrt": Case("sqrt(x)", [(0.3,), (20.0,)], lambda sp, a: sp.sqrt(a)),
    "abs": Case("abs(x)", [(0.3,), (-2.0,)], lambda sp, a: sp.Abs(a)),
    "sigmoid": Case("sigmoid(x)", [(0.3,), (-2.0,)], lambda sp, a: 1 / (1 + sp.exp(-a))),
    "relu": Case("relu(x)", [(0.3,), (-2.0,)], lambda sp, a: sp.Max(a, 0)),
    "softplus": Case("softplus(x)", [(0.3,), (-2.0,)], lambda sp, a: sp.log(1 + sp.exp(a))),
    "sign": Case("sign(x)", [(0.3,), (-2.0,)], lambda sp, a: sp.sign(a)),
    "step": Case("step(x)", [(0.3,), (-2.0,)], lambda sp, a: sp.Heaviside(a, 0)),
    "logb": Case("log(x, y)", [(0.3, 2.0), (20.0, 10.0)],
                  lambda sp, a, b: sp.log(a) / sp.log(b)),
    "max": Case("max(x, y)", [(0.3, -1.7), (2.5, 4.0)], lambda sp, a, b: sp.Max(a, b)),
    "min": Case("min(x, y)", [(0.3, -1.7), (2.5, 4.0)], lambda sp, a, b: sp.Min(a, b)),
    "atan2": Case("atan2(x, y)", [(0.3, -1.7), (2.5, 4.0)],
                   lambda sp, a, b: sp.atan2(a, b)),
    "clamp": Case("clamp(x, y, z)", [(0.3, -1.0, 2.0), (-1.7, -1.0, 2.0), (2.5, -1.0, 2.0)],
                   lambda sp, a, b, c: sp.Min(sp.Max(a, b), c)),
    "lt": Case("x < y", [(0.3, -1.7), (2.5, 4.0)],
               lambda sp, a, b: sp.Piecewise((1, a < b), (0, True))),
    "le": Case("x <= y", [(0.3, -1.7), (2.5, 4.0)],
               lambda sp, a, b: sp.Piecewise((1, a <= b), (0, True))),
    "gt": Case("x > y", [(0.3, -1.7), (2.5, 4.0)],
               lambda sp, a, b: sp.Piecewise((1, a > b), (0, True))),
    "ge": Case("x >= y", [(0.3, -1.7), (2.5, 4.0)],
               lambda sp, a, b: sp.Piecewise((1, a >= b), (0, True))),
    "eq": Case("x == y", [(0.3, -1.7), (2.5, 4.0)],
               lambda sp, a, b: sp.Piecewise((1, sp.Eq(a, b)), (0, True))),
    "ne": Case("x != y", [(0.3, -1.7), (2.5, 4.0)],
               lambda sp, a, b: sp.Piecewise((1, sp.Ne(a, b)), (0, True))),
    "where": Case("where(x, y, z)", [(1.0, 0.3, -1.7), (0.0, 2.5, 4.0)],
                  lambda sp, c, a, b: sp.Piecewise((a, sp.Ne(c, 0)), (b, True))),
}


# A strategy of our own: well-conditioned expressions, to check gradients numerically.
_leaf = st.sampled_from(["x", "y", "z", "0.5", "2", "1.5"])
_unary = ["sin", "cos", "tanh", "sigmoid", "atan", "softplus", "exp"]


def _extend(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(_unary), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, children).map(lambda t: f"({t[0]}) / (2 + sin({t[1]}))"),
        children.map(lambda c: f"({c})^2"),
    )


expressions = st.recursive(_leaf, _extend, max_leaves=12)
coords = st.floats(-1.5, 1.5, allow_nan=False)


def evaluated(text, x, y, z):
    """The graph, the point (its variables only) and the evaluation, if well-conditioned."""
    g = cgraph.parse(text)
    point = {k: v for k, v in {"x": x, "y": y, "z": z}.items() if k in g.variables}
    ev = g.evaluate(point)
    assume(math.isfinite(ev.value) and abs(ev.value) < 1e6)
    return g, point, ev


# Programs that are smooth everywhere (no kinks, no domain edges), over x, y, z: SymPy's
# derivatives, finite differences and the `uncertainties` package agree with them anywhere.
SMOOTH_UNARY = ("sin({})", "cos({})", "tanh({})", "atan({})", "sigmoid({})", "exp(sin({}))",
                "log(1 + ({})^2)", "sqrt(2 + ({})^2)", "({})^2", "({})^3", "-({})")
SMOOTH_BINARY = ("({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (1 + ({})^2)",
                 "atan2({}, 2 + ({})^2)", "log(2 + ({})^2, 3 + ({})^2)")


def smooth_expressions(depth: int = 3):
    from hypothesis import strategies as st

    leaf = st.sampled_from(("x", "y", "z")) | st.sampled_from(("2", "0.5", "pi"))
    if depth == 0:
        return leaf
    sub = smooth_expressions(depth - 1)
    return (leaf | st.builds(lambda f, a: f.format(a), st.sampled_from(SMOOTH_UNARY), sub)
            | st.builds(lambda f, a, b: f.format(a, b), st.sampled_from(SMOOTH_BINARY),
                        sub, sub))


def smooth_programs(depth: int = 3):
    """Two named outputs sharing subexpressions: `p = …; q = (…) * p + x`."""
    from hypothesis import strategies as st

    expr = smooth_expressions(depth)
    return st.builds(lambda a, b: f"p = {a}; q = ({b}) * p + x", expr, expr)
