"""Shared test helpers: SymPy and central-difference oracles, every op's CASES line, and the
random-expression strategy. Test modules import from here, never from each other."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume
from hypothesis import strategies as st

import cgraph
from cgraph import ops


def sympy_of(graph):
    """The graph as a SymPy expression, built node by node (a loop, like the passes)."""
    import sympy as sp

    table = {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "neg": lambda a: -a,
        "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "asin": sp.asin, "acos": sp.acos,
        "atan": sp.atan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "exp": sp.exp,
        "log": sp.log, "log2": lambda a: sp.log(a, 2), "log10": lambda a: sp.log(a, 10),
        "sqrt": sp.sqrt, "abs": sp.Abs, "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
        "relu": lambda a: sp.Max(a, 0), "softplus": lambda a: sp.log(1 + sp.exp(a)),
        "sign": sp.sign, "step": lambda a: sp.Heaviside(a, 0),
        "logb": lambda a, b: sp.log(a) / sp.log(b), "max": sp.Max, "min": sp.Min,
        "atan2": sp.atan2,
    }
    exprs = []
    for n in graph.nodes:
        if n.op is ops.VAR:
            exprs.append(sp.Symbol(n.name, real=True))
        elif n.op is ops.CONST:
            exprs.append({"pi": sp.pi, "e": sp.E}.get(n.name) or sp.Float(n.value, 30)
                         if n.name else sp.nsimplify(n.value) if n.value == int(n.value)
                         else sp.Float(n.value, 30))
        else:
            exprs.append(table[n.op.name](*(exprs[j] for j in n.inputs)))
    return exprs[graph.output], table


def sympy_value_and_grad(graph, point):
    import sympy as sp

    expr, _ = sympy_of(graph)
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


# op name -> (program, points away from kinks and domain edges)
CASES = {
    "add": ("x + y", [(0.3, -1.7), (2.5, 4.0)]),
    "sub": ("x - y", [(0.3, -1.7), (-2.5, 4.0)]),
    "mul": ("x * y", [(0.3, -1.7), (2.5, 4.0)]),
    "div": ("x / y", [(0.3, -1.7), (2.5, 4.0)]),
    "pow": ("x ^ y", [(0.3, -1.7), (2.5, 1.5)]),
    "neg": ("-x", [(0.3,), (-2.0,)]),
    "sin": ("sin(x)", [(0.3,), (-2.0,)]),
    "cos": ("cos(x)", [(0.3,), (-2.0,)]),
    "tan": ("tan(x)", [(0.3,), (-1.2,)]),
    "asin": ("asin(x)", [(0.3,), (-0.8,)]),
    "acos": ("acos(x)", [(0.3,), (-0.8,)]),
    "atan": ("atan(x)", [(0.3,), (-2.0,)]),
    "sinh": ("sinh(x)", [(0.3,), (-2.0,)]),
    "cosh": ("cosh(x)", [(0.3,), (-2.0,)]),
    "tanh": ("tanh(x)", [(0.3,), (-2.0,)]),
    "exp": ("exp(x)", [(0.3,), (-2.0,)]),
    "log": ("log(x)", [(0.3,), (20.0,)]),
    "log2": ("log2(x)", [(0.3,), (20.0,)]),
    "log10": ("log10(x)", [(0.3,), (20.0,)]),
    "sqrt": ("sqrt(x)", [(0.3,), (20.0,)]),
    "abs": ("abs(x)", [(0.3,), (-2.0,)]),
    "sigmoid": ("sigmoid(x)", [(0.3,), (-2.0,)]),
    "relu": ("relu(x)", [(0.3,), (-2.0,)]),
    "softplus": ("softplus(x)", [(0.3,), (-2.0,)]),
    "sign": ("sign(x)", [(0.3,), (-2.0,)]),
    "step": ("step(x)", [(0.3,), (-2.0,)]),
    "logb": ("log(x, y)", [(0.3, 2.0), (20.0, 10.0)]),
    "max": ("max(x, y)", [(0.3, -1.7), (2.5, 4.0)]),
    "min": ("min(x, y)", [(0.3, -1.7), (2.5, 4.0)]),
    "atan2": ("atan2(x, y)", [(0.3, -1.7), (2.5, 4.0)]),
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
