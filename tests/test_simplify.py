"""The normal form of derivatives: textbook-short, equal to SymPy's, and still linear."""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import pytest

import cgraph
from cgraph.diff import differentiate

from conftest import close, sympy_of

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
from diff_corpus import CE, CORPUS  # noqa: E402


def printed(program, wrt="x", order=1):
    return differentiate(cgraph.parse(program), [wrt], order).program()[1][0][1]


def _value(d, point):
    g = cgraph.parse(d.text())
    return g.forward(point)[g.output]


@pytest.mark.parametrize("program,var,order", CORPUS, ids=[f"{p} d{v}{o}" for p, v, o in CORPUS])
def test_corpus_equals_sympy(program, var, order):
    import sympy as sp

    graph = cgraph.parse(program)
    d = differentiate(graph, [var], order)
    expr = sympy_of(graph)
    want = sp.lambdify(list(sp.ordered(expr.free_symbols)),
                       sp.diff(expr, sp.Symbol(var, real=True), order), "mpmath")
    rng = random.Random(program)
    for _ in range(3):
        point = {v: rng.uniform(0.2, 0.9) for v in graph.variables}
        args = [point[s.name] for s in sp.ordered(expr.free_symbols)]
        assert close(_value(d, point), float(want(*args)), rel=1e-9, abs_=1e-12), d.text()
    assert "+ -" not in d.text() and "- -" not in d.text()


def test_textbook_forms():
    assert printed(CE, "b") == "o - t"
    assert printed(CE, "w") == "x * (o - t)"
    assert printed("-(t*log(sigmoid(z)) + (1 - t)*log(1 - sigmoid(z)))", "z") == "sigmoid(z) - t"
    assert printed("x^2*sin(x)", order=3) == "6 * cos(x) - x^2 * cos(x) - 6 * x * sin(x)"
    assert printed("(x - 1)*(x - 2)*(x - 3)*(x - 4)") == "4 * x^3 - 30 * x^2 + 70 * x - 50"
    assert printed("-log(exp(a)/(exp(a) + exp(b)))", "a") == "exp(a) / (exp(a) + exp(b)) - 1"
    assert printed("x^x") == "x^x + x^x * log(x)"


def test_like_terms_collect_across_a_whole_sum_and_signs_fold():
    assert printed("x*y + 3*y*x - 2*(y*x) + x*y*2 - y", "x") == "4 * y"  # not pairwise
    assert printed("-(-(x^2))") == "2 * x"
    assert printed("y - x*3") == "-3"
    assert printed("sin(x) - 4*x^2*y") == "cos(x) - 8 * x * y"  # never "+ -8 * x * y"
    assert printed("x*y*z + z*y*x", "z") == "2 * x * y"  # commutative order is normalised


def test_product_cancels_against_quotient():
    assert printed("o = sigmoid(x); log(o)") == "1 - o"  # o·(1-o)·(1/o)
    assert printed("log(x^3)") == "3 / x"
    assert printed("x^2 / x") == "1"


def test_wide_sum_collects_to_one_term():
    program = " + ".join(f"x^{k % 3 + 1} * y * {k}" for k in range(300))
    d = differentiate(cgraph.parse(program), ["y"])
    assert len(d.text()) < 100  # 300 terms collect to three


def test_derivative_of_a_long_chain_stays_linear():
    lines = ["a0 = x"] + [f"a{i} = sin(a{i - 1}) * x + a{i - 1} * 0.5" for i in range(1, 400)]
    for n in (200, 400):
        d = differentiate(cgraph.parse("\n".join(lines[:n])))
        size = len(d.text())
        if n == 200:
            small = size
    assert size < 2.5 * small
    g = cgraph.parse(d.text())
    point = {"x": 0.3}
    want = cgraph.parse("\n".join(lines)).evaluate(point).gradient()["x"]
    assert close(g.forward(point)[g.output], want, rel=1e-9)


def test_partials_reuse_the_ops_own_output():
    """sigmoid's o·(1-o), tanh's 1-t², exp's exp: the forward node itself, one node."""
    for program, order, op in [("tanh(x)", 3, "tanh"), ("sigmoid(x)", 2, "sigmoid"),
                               ("exp(2*x)", 3, "exp")]:
        d = differentiate(cgraph.parse(program), ["x"], order)
        g = d.builder.graph(d.ids["x"])
        assert sum(n.op.name == op for n in g.nodes) == 1, d.text()
    assert printed("exp(x)", order=3) == "exp(x)"


HUGE = ["1e308*x*x", "1e308*x + 1e308*x", "x*1e200*1e200", "(1e200*x)^2", "x/5e-324",
        "sin(1e308*x)*2*x", "exp(x)*1e308*1e308", "3*(1e308*x) - (-1e308*x)",
        "1e300*x*x*x / 1e-10"]


@pytest.mark.parametrize("program", HUGE)
def test_numbers_too_big_to_collect_are_left_as_written(program):
    """Collecting numbers must not overflow into `1 / 0`: the derivative printed still
    says what it computes, and computes what the reverse pass gives (here, infinity)."""
    graph = cgraph.parse(program)
    d = differentiate(graph, ["x"])
    assert "1 / 0" not in d.text(), d.text()
    point = {"x": 0.75}
    assert _value(d, point) == graph.evaluate(point).gradient()["x"], d.text()


INFINITE = ["(1/0)*x", "x*(1/0)", "-(1/0)*x", "2*x*(1/0)", "(1/0)*sin(x)", "x^(1/0)",
            "x^-(1/0)", "pow(x, 1/0)", "(2*x)^(1/0)", "(1/0)*x^2"]


@pytest.mark.parametrize("program", INFINITE)
def test_an_infinite_constant_is_differentiated(program):
    """Infinity (1/0; a literal 1e999 is an error now) is what eval gives: diff printed an
    internal error for `1e999*x` (two numbers, 1 and Infinity, the fold left alone) and for
    `x^1e999` (int(inf))."""
    graph = cgraph.parse(program)
    d = differentiate(graph, ["x"])
    for x in (0.5, 2.0):
        want = graph.evaluate({"x": x}).gradient()["x"]
        got = _value(d, {"x": x})
        assert got == want or (math.isnan(got) and math.isnan(want)), (d.text(), x)


def test_a_literal_division_by_zero_still_prints_as_one():
    assert printed("x/0") == "1 / 0"


# -- numbers that are not finite: diff says what eval computes ------------------------------

NOT_FINITE = ["0*(1/0)*x", "x^(0/0)", "x*(0/0)", "0*log(0)*x", "x*(1/0)*0",
              "(1/0)*x - (1/0)*x", "3*(1/0)*x - 2*(1/0)*x", "x - x + 0/0*x",
              "sin(x)*0/0", "(0/0)*x^2 + x", "0*(x/0)", "y*x*(1/0) - x*y*(1/0)"]


@pytest.mark.parametrize("program", NOT_FINITE)
def test_zero_times_a_number_that_is_not_finite_is_not_zero(program):
    """`diff "0*1e999*x"` printed `df_dx = 0` where eval gives NaN: the normal form dropped
    0·∞ and ∞ - ∞ as 0. SymPy, where it speaks (nan, zoo), says the same as eval."""
    import sympy as sp

    graph = cgraph.parse(program)
    d = differentiate(graph, ["x"])
    point = {"x": 0.75, "y": 1.25}
    got = _value(d, point)
    want = graph.evaluate({v: point[v] for v in graph.variables}).gradient()["x"]
    assert close(got, want), (d.text(), got, want)
    expr = sp.sympify(program.replace("^", "**"))
    oracle = sp.diff(expr, sp.Symbol("x")).subs({sp.Symbol(k): v for k, v in point.items()})
    if oracle.has(sp.nan, sp.zoo) or oracle in (sp.oo, -sp.oo):
        assert not math.isfinite(got), (d.text(), oracle)


def _programs_with_numbers_that_are_not_finite():
    from hypothesis import strategies as st

    leaves = st.sampled_from(["x", "y", "0", "1", "2", "-1.5", "(1/0)", "(0/0)", "(-1/0)",
                              "log(0)", "exp(1000)", "(1e308*10)"])

    def grow(inner):
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})")
        divided = st.tuples(inner, st.sampled_from(["2", "0", "(1/0)", "(x^2 + 1)"])).map(
            lambda t: f"({t[0]} / {t[1]})")
        powered = st.tuples(inner, st.sampled_from(["2", "0", "(0/0)", "(1/0)", "-1"])).map(
            lambda t: f"({t[0]})^{t[1]}")
        unary = st.tuples(st.sampled_from(["sin", "cos", "-"]), inner).map(
            lambda t: f"{t[0]}({t[1]})")
        return binary | divided | powered | unary

    return st.recursive(leaves, grow, max_leaves=8)


def test_diff_and_eval_agree_where_numbers_are_not_finite():
    """Hypothesis: any small program over x, y, 0, 1/0, 0/0, log(0), … ; the derivative
    diff prints, parsed and evaluated at a random point, is what eval's gradient is there
    (NaN where it is NaN, the same infinity, or close)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(_programs_with_numbers_that_are_not_finite(), st.floats(0.25, 2.0),
           st.floats(-2.0, -0.25), st.sampled_from(["x", "y"]))
    def check(program, x, y, wrt):
        graph = cgraph.parse(f"f = {program} + x*y")
        d = differentiate(graph, [wrt])
        got = _value(d, {"x": x, "y": y})
        want = graph.evaluate({"x": x, "y": y}).gradient()[wrt]
        assert close(got, want, rel=1e-9, abs_=1e-9), (program, d.text(), got, want)

    check()
