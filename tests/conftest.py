"""Shared oracles: SymPy for exact derivatives, central differences for numeric ones."""

from __future__ import annotations

import math

import pytest

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
