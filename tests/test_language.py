"""The language for models: indexed families, comprehensions, indexed assignments,
functions, comparisons and where, bindings from files. Everything expands at parse time
into ordinary scalar nodes, so each construct is checked against the same program
expanded by hand."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings

import cgraph
from cgraph.errors import BindingError, NameResolutionError, ParseError

from conftest import close, sympy_value_and_grad
from programs import seeds


def same_graph(short: str, expanded: str, point: dict):
    """`short` and its hand expansion: the same node count, value and gradient."""
    a, b = cgraph.parse(short), cgraph.parse(expanded)
    assert len(a.nodes) == len(b.nodes), (short, expanded)
    assert sorted(a.variables) == sorted(b.variables)
    ea, eb = a.evaluate(point), b.evaluate(point)
    assert close(ea.value, eb.value, rel=1e-12)
    ga, gb = ea.gradient(), eb.gradient()
    assert all(close(ga[v], gb[v], rel=1e-12) for v in ga), (ga, gb)
    return a


def test_family_and_sum():
    g = same_graph("sum(w[i] * x[i] for i in 1..3)",
                   "w[1] * x[1] + w[2] * x[2] + w[3] * x[3]",
                   {f"{n}[{i}]": 0.5 * i + (n == "x") for n in "wx" for i in (1, 2, 3)})
    assert list(g.variables) == ["w[1]", "x[1]", "w[2]", "x[2]", "w[3]", "x[3]"]


def test_prod_max_min_and_two_indices():
    point = {f"W[{i},{j}]": math.sin(3 * i + j) for i in (1, 2) for j in (1, 2, 3)}
    same_graph("prod(W[i,j] for i in 1..2 for j in 1..3)",
               "W[1,1] * W[1,2] * W[1,3] * W[2,1] * W[2,2] * W[2,3]", point)
    same_graph("max(W[2,j] for j in 1..3)", "max(max(W[2,1], W[2,2]), W[2,3])", point)
    same_graph("min(W[1,j] * j for j in 2..3)", "min(W[1,2] * 2, W[1,3] * 3)", point)


def test_indexed_assignment_constants_and_index_arithmetic():
    short = "n = 3\nh[j] = tanh(w[2*j-1] + w[2*j]) for j in 1..n\nout = sum(h[j] for j in 1..n)"
    expanded = ("n = 3\nh1 = tanh(w[1] + w[2]); h2 = tanh(w[3] + w[4]); h3 = tanh(w[5] + w[6])"
                "\nout = h1 + h2 + h3")
    g = same_graph(short, expanded, {f"w[{i}]": i / 7 for i in range(1, 7)})
    assert [n.name for n in g.nodes if n.op.name == "tanh"] == ["h[1]", "h[2]", "h[3]"]
    assert g.output_name == "out"


def test_nested_comprehension_uses_the_outer_index():
    short = "sum(v[j] * tanh(sum(W[j,i] * x[i] for i in 1..2)) for j in 1..2)"
    expanded = ("v[1] * tanh(W[1,1] * x[1] + W[1,2] * x[2]) + "
                "v[2] * tanh(W[2,1] * x[1] + W[2,2] * x[2])")
    point = {"v[1]": 0.3, "v[2]": -0.4, "x[1]": 1.0, "x[2]": 0.5, "W[1,1]": 0.1,
             "W[1,2]": 0.2, "W[2,1]": -0.3, "W[2,2]": 0.4}
    same_graph(short, expanded, point)


def test_functions_with_call_provenance():
    short = "sq(a) = a * a\nneuron(u, v) = tanh(u * w + v)\nneuron(sq(x + 1), b) + neuron(x, 1)"
    expanded = "t = x + 1\ns = t * t\ntanh(s * w + b) + tanh(x * w + 1)"
    g = same_graph(short, expanded, {"x": 0.3, "w": -0.7, "b": 0.2})
    calls = [n.call for n in g.nodes if n.call]
    assert calls == ["sq#1"] + ["neuron#1"] * 3 + ["neuron#2"] * 3
    assert all(n.call is None for n in g.nodes if n.op.name == "var")


def test_a_function_may_use_earlier_ones_and_globals():
    same_graph("sq(a) = a * a; cube(a) = sq(a) * a; cube(x) + k", "x * x * x + k",
               {"x": 1.5, "k": 2.0})


# Hypothesis: random family/comprehension/function programs equal their hand expansion.
def _program(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 4)
    fn = rng.choice(["tanh", "sin", "sigmoid", "exp"])
    op = rng.choice(["+", "-", "*"])
    red = rng.choice(["sum", "prod", "max", "min"])
    scale = rng.choice(["", "i * ", "2 * "])
    body = f"{scale}{fn}(w[i] {op} x[i])"
    lines_short = [f"n = {n}", f"g(a, b) = a {op} {fn}(b)",
                   f"s = {red}({body} for i in 1..n)",
                   f"h[k] = g(s, w[k]) for k in 1..n", "sum(h[k] for k in 1..n)"]
    terms = [f"{scale.replace('i', str(i))}{fn}(w[{i}] {op} x[{i}])" for i in range(1, n + 1)]
    if red in ("sum", "prod"):
        joined = f" {'+' if red == 'sum' else '*'} ".join(f"({t})" for t in terms)
    else:
        joined = f"({terms[0]})"
        for t in terms[1:]:
            joined = f"{red}({joined}, {t})"
    lines_long = [f"n = {n}", f"s = {joined}"]
    lines_long += [f"h{k} = s {op} {fn}(w[{k}])" for k in range(1, n + 1)]
    lines_long.append(" + ".join(f"h{k}" for k in range(1, n + 1)))
    point = {f"{v}[{i}]": rng.uniform(-1, 1) for v in "wx" for i in range(1, n + 1)}
    return "\n".join(lines_short), "\n".join(lines_long), point


@settings(max_examples=60, deadline=None)
@given(seeds)
def test_generated_programs_equal_their_hand_expansion(seed):
    short, expanded, point = _program(seed)
    same_graph(short, expanded, point)


def test_a_large_sum_expands_linearly_without_recursion():
    g = cgraph.parse("sum(w[i] * i for i in 1..100000)")
    assert len(g.nodes) == 4 * 100000 - 1  # w[i], i, the product, and a sum for each
    assert g.nodes[g.output].op.name == "add"


# -- ranges that use an index: triangular sums, pairwise terms ------------------------------
# The oracle is the same sum built in SymPy from its mathematical definition (Python loops
# over the index sets), not from cgraph's graph: values and every partial derivative.

def _sym(name):
    import sympy as sp

    return sp.Symbol(name, real=True)


def _x(i):
    return _sym(f"x[{i}]")


TRIANGULAR = [
    # pairwise products, i < j, in one comprehension (the last i has no j: no terms)
    ("sum(x[i] * x[j] for i in 1..4 for j in i+1..4)",
     lambda sp: sum(_x(i) * _x(j) for i in range(1, 5) for j in range(i + 1, 5))),
    # a quadratic form over the upper triangle, through a function and an assigned size
    ("n = 3\nq(u, v) = u * v\nsum(A[i,j] * q(x[i], x[j]) for i in 1..n for j in i..n)",
     lambda sp: sum(_sym(f"A[{i},{j}]") * _x(i) * _x(j)
                    for i in range(1, 4) for j in range(i, 4))),
    # a nested sum whose inner range ends at the outer index
    ("sum(a[i] * sum(b[j] for j in 1..i) for i in 1..3)",
     lambda sp: sum(_sym(f"a[{i}]") * sum(_sym(f"b[{j}]") for j in range(1, i + 1))
                    for i in range(1, 4))),
    # the inner sum of the last term is empty: 0, so tanh(0)
    ("sum(tanh(sum(x[i] * x[j] for j in i+1..3)) for i in 1..3)",
     lambda sp: sum(sp.tanh(sum((_x(i) * _x(j) for j in range(i + 1, 4)), sp.Integer(0)))
                    for i in range(1, 4))),
    # a pairwise potential
    ("sum(1 / ((x[i] - x[j])^2 + 1) for i in 1..4 for j in i+1..4)",
     lambda sp: sum(1 / ((_x(i) - _x(j)) ** 2 + 1)
                    for i in range(1, 5) for j in range(i + 1, 5))),
    # cumulative sums as a family, then their product
    ("c[i] = sum(x[j] for j in 1..i) for i in 1..4\nprod(c[i] for i in 1..4)",
     lambda sp: sp.Mul(*(sum(_x(j) for j in range(1, i + 1)) for i in range(1, 5)))),
    # a range whose bounds are index arithmetic, three deep
    ("sum(sum(sum(x[i] * x[j] * x[k] for k in j..2*i) for j in i..3) for i in 1..2)",
     lambda sp: sum(_x(i) * _x(j) * _x(k) for i in range(1, 3) for j in range(i, 4)
                    for k in range(j, 2 * i + 1))),
    # a function's parameter as a bound, called with constants and with an index
    ("tri(n) = sum(x[j] * j for j in 1..n)\ntri(2) * sum(tri(k) for k in 1..3)",
     lambda sp: sum(_x(j) * j for j in range(1, 3))
     * sum(_x(j) * j for k in range(1, 4) for j in range(1, k + 1))),
    # max over a triangle, min of maxima
    ("min(max(x[i] + x[j] for j in i..3) for i in 1..3)",
     lambda sp: sp.Min(*(sp.Max(*(_x(i) + _x(j) for j in range(i, 4)))
                         for i in range(1, 4)))),
]


@pytest.mark.parametrize("program,oracle", TRIANGULAR)
def test_ranges_that_use_an_index_agree_with_sympy(program, oracle):
    import sympy as sp

    expr = oracle(sp)
    names = sorted(str(s) for s in expr.free_symbols)
    g = cgraph.parse(program)
    assert sorted(g.variables) == names
    rng = random.Random(program)
    for _ in range(3):
        point = {v: rng.uniform(-1.5, 1.5) for v in names}
        subs = {_sym(v): sp.Float(x, 30) for v, x in point.items()}
        ev = g.evaluate(point)
        assert close(ev.value, float(expr.evalf(30, subs=subs)), rel=1e-12)
        grad = ev.gradient()
        for v in names:
            want = float(sp.diff(expr, _sym(v)).evalf(30, subs=subs))
            assert close(grad[v], want, rel=1e-10, abs_=1e-12), (v, grad[v], want)


def test_a_triangular_sum_is_the_terms_written_out():
    """Node for node: an empty range makes no node, not a 0 added."""
    same_graph("sum(x[i] * x[j] for i in 1..3 for j in i+1..3)",
               "x[1] * x[2] + x[1] * x[3] + x[2] * x[3]",
               {f"x[{i}]": i / 3 for i in (1, 2, 3)})
    same_graph("h[i,j] = x[i] * x[j] for i in 1..3 for j in i..3\nh[2,3] + h[3,3]",
               "x[1] * x[1]; x[1] * x[2]; x[1] * x[3]; x[2] * x[2]; t = x[2] * x[3]\n"
               "u = x[3] * x[3]; t + u", {f"x[{i}]": i / 3 for i in (1, 2, 3)})
    # a bound worked out from a parameter leaves no node behind (the argument stays)
    same_graph("tri(n) = sum(x[j] for j in 1..n+1)\ntri(2*3)",
               "t = 2*3\nx[1] + x[2] + x[3] + x[4] + x[5] + x[6] + x[7]",
               {f"x[{i}]": i / 7 for i in range(1, 8)})


# Hypothesis: random ranges whose bounds are index arithmetic, in one comprehension or
# nested, against the sum (product, max, min) written out term by term.
REDUCE = {"sum": " + ", "prod": " * "}


def _bound(rng, earlier):
    """A bound: a constant plus a multiple of each earlier index (written even when 0, so
    that every range after the first uses an index and may be empty)."""
    text = str(rng.randint(-1, 3))
    coefficients = [rng.choice([-1, 0, 1, 2]) for _ in earlier]
    for a, name in zip(coefficients, earlier):
        text += f" {'-' if a < 0 else '+'} {abs(a)}*{name}"
    return text, (lambda env, c=int(text.split()[0]), co=coefficients:
                  c + sum(a * env[n] for a, n in zip(co, earlier)))


def _written_out(red, terms):
    if not terms:
        return {"sum": "0", "prod": "1"}.get(red)  # max/min of nothing: an error
    if red in REDUCE:
        return REDUCE[red].join(f"({t})" for t in terms)
    out = terms[0]
    for t in terms[1:]:
        out = f"{red}({out}, {t})"
    return out


def _nested_ranges(seed):
    rng = random.Random(seed)
    names = ["i", "j", "k"][:rng.randint(1, 3)]
    families = ["x", "y", "z"]
    clauses = []
    for d, name in enumerate(names):
        if d == 0:  # numbers only: may not be empty
            lo = rng.randint(-1, 2)
            lo_text, hi_text = str(lo), str(lo + rng.randint(0, 2))
            clauses.append((name, lo_text, hi_text, lambda env, v=lo: v,
                            lambda env, v=int(hi_text): v))
        else:
            (lo_text, lo), (hi_text, hi) = _bound(rng, names[:d]), _bound(rng, names[:d])
            clauses.append((name, lo_text, hi_text, lo, hi))
    body = " * ".join(f"{f}[{n}]" for f, n in zip(families, names)) + f" + {names[-1]}"
    nested = rng.random() < 0.5
    reds = [rng.choice(["sum", "prod", "max", "min"]) for _ in names]

    def term(env):
        return body.replace(" + " + names[-1], f" + {env[names[-1]]}").replace(
            "[i]", f"[{env.get('i')}]").replace("[j]", f"[{env.get('j')}]").replace(
            "[k]", f"[{env.get('k')}]")

    def loops(d, env):
        """The index values, as the clauses from d on run them."""
        if d == len(clauses):
            yield env
            return
        name, _, _, lo, hi = clauses[d]
        for v in range(lo(env), hi(env) + 1):
            yield from loops(d + 1, dict(env, **{name: v}))

    def nest(d, env):
        name, _, _, lo, hi = clauses[d]
        terms = []
        for v in range(lo(env), hi(env) + 1):
            e = dict(env, **{name: v})
            terms.append(term(e) if d == len(clauses) - 1 else nest(d + 1, e))
        if any(t is None for t in terms):
            return None
        return _written_out(reds[d], terms)

    fors = [f"for {n} in {lo}..{hi}" for n, lo, hi, _, _ in clauses]
    if nested:
        short = body
        for d in range(len(names) - 1, -1, -1):
            short = f"{reds[d]}({short} {fors[d]})"
        expanded = nest(0, {})
    else:
        short = f"{reds[0]}({body} {' '.join(fors)})"
        expanded = _written_out(reds[0], [term(env) for env in loops(0, {})])
    return short, expanded


@settings(max_examples=150, deadline=None)
@given(seeds)
def test_ranges_that_use_an_index_equal_the_terms_written_out(seed):
    short, expanded = _nested_ranges(seed)
    if expanded is None:  # a max or min over no terms
        with pytest.raises(NameResolutionError, match="has no terms"):
            cgraph.parse(short)
        return
    a, b = cgraph.parse(short), cgraph.parse(expanded)
    assert sorted(a.variables) == sorted(b.variables), (short, expanded)
    rng = random.Random(seed)
    point = {v: rng.uniform(-1, 1) for v in a.variables}
    ea, eb = a.evaluate(point), b.evaluate(point)
    assert close(ea.value, eb.value, rel=1e-12), (short, expanded)
    ga, gb = ea.gradient(), eb.gradient()
    assert all(close(ga[v], gb[v], rel=1e-12) for v in point), (short, expanded)


# (line, column): a bound's error points just after its clause's index, as before; an empty
# range, a misplaced index and a reduction of nothing at the start of their name
@pytest.mark.parametrize("text,message,where", [
    # a bound that uses a variable, not an index: at once, inside a nest, through a call
    ("sum(x[j] for i in 1..2 for j in 1..y)", "not 'y'", (1, 29)),
    ("sum(sum(x[j] for j in 1..y) for i in 1..2)", "the end of a range must be an integer "
     "known before evaluation (an integer, an index variable or a constant), not 'y'", (1, 19)),
    ("exp(sum(x[j] for j in i..3))", "the start of a range must be an integer known", (1, 19)),
    ("tri(n) = sum(x[j] for j in 1..n)\n1 + tri(y)", "not 'y'", (1, 24)),
    ("sum(sum(x[j] for j in 1..i) for i in 1..2) + sum(x[j] for j in 1..i)",
     "the end of a range: index variable 'i' is used outside its comprehension", (1, 60)),
    # a bound that is not an integer
    ("m = 2.5\nsum(x[j] for i in 1..3 for j in m..i)",
     "the start of a range must be an integer, not 2.5", (2, 29)),
    ("tri(n) = sum(x[j] for j in 1..n)\ntri(2.5)", "must be an integer, not 2.5", (1, 24)),
    ("sum(sum(x[j] for j in 1..sin(i)) for i in 1..2)", "not an expression", (1, 19)),
    # an index used before its `for`, or in its own range
    ("sum(x[i,j] for j in i..3 for i in 1..2)", "the range of 'j' uses 'i' before its "
     "`for i in …`", (1, 16)),
    ("sum(x[j] for j in 1..j)", "the range of 'j' uses 'j' itself", (1, 14)),
    # empty: a range of numbers only, in any clause; max/min of no terms; no element
    ("sum(x[i,j] for i in 1..2 for j in 3..2)", "the range 3..2 of 'j' is empty", (1, 30)),
    ("sum(max(x[j] for j in i+1..3) for i in 1..3)",
     "max() has no terms: the range 4..3 of 'j' is empty", (1, 5)),
    ("h[i,j] = x for i in 1..2 for j in i+3..i", "'h' gets no element: the range 5..2 of "
     "'j' is empty each time", (1, 1)),
    # sizes
    ("sum(x for i in 1..2000 for j in 1..i)", "would make at least 1,001,000 nodes (at "
     "least 500,500 × 2); the limit is 1,000,000", (1, 1)),
    ("sum(sum(x[j] for j in 1..i) for i in 1..1000)", "(expansions before it made", (1, 5)),
])
def test_range_errors_point_at_the_place(text, message, where):
    err = language_error(text, message)
    assert isinstance(err, NameResolutionError) and (err.line, err.column) == where


def test_nested_comprehensions_that_wait_for_an_index_nest_50_deep():
    def nest(depth):  # each range runs from the index around it to itself
        s = "x[i1]"
        for k in range(depth, 1, -1):
            s = f"sum({s} for i{k} in i{k - 1}..i{k - 1})"
        return f"sum({s} for i1 in 1..2)"

    assert cgraph.parse(nest(51)).evaluate({"x[1]": 2.0, "x[2]": 3.0}).value == 5.0
    with pytest.raises(NameResolutionError, match="nest 50 deep at most"):
        cgraph.parse(nest(52))


def test_a_range_error_in_a_nest_exits_2_with_one_message_line():
    r = cgraph_cli("eval", "sum(sum(x[j] for j in 1..y) for i in 1..2)")
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 3 and lines[0].endswith("not 'y' (at line 1, column 19)")


# -- comparisons and where -----------------------------------------------------------------

@pytest.mark.parametrize("x", [-1.0, 0.0, 4.0, float("nan")])
def test_where_gives_no_gradient_to_the_branch_not_taken(x):
    g = cgraph.parse("where(x > 0, sqrt(x), 0)")
    ev = g.evaluate({"x": x})
    batch = g.evaluate_batch({"x": np.array([x, 4.0])})
    if x > 0:
        assert ev.value == 2.0 and ev.gradient()["x"] == 0.25
    else:  # NaN x: x > 0 is 0, so the else branch, as in IEEE comparisons
        assert ev.value == 0.0 and ev.gradient()["x"] == 0.0
    assert close(batch.value[0], ev.value) and close(batch.gradient["x"][0],
                                                     ev.gradient()["x"])
    assert batch.gradient["x"][1] == 0.25


def test_where_gradients_agree_with_sympy_piecewise_away_from_the_switch():
    g = cgraph.parse("where(x * y >= 1, x^2 * y, sin(x) - y) + (x < y) * x")
    for point in ({"x": 2.0, "y": 1.5}, {"x": 0.3, "y": -2.0}, {"x": -0.5, "y": 0.25}):
        ev = g.evaluate(point)
        value, grad = sympy_value_and_grad(g, point)
        assert close(ev.value, value, rel=1e-12)
        assert all(close(ev.gradient()[v], grad[v], rel=1e-10) for v in point)


def test_a_nan_in_the_untaken_branch_below_other_ops_stays_out():
    g = cgraph.parse("u = log(x) * 3 + 1\nwhere(x > 0, u, -x) * 2")
    ev = g.evaluate({"x": -2.0})
    assert ev.value == 4.0 and ev.gradient() == {"x": -2.0}
    batch = g.evaluate_batch({"x": np.array([-2.0, math.e])})
    assert list(batch.gradient["x"]) == [-2.0, pytest.approx(6 / math.e)]


def test_comparisons_do_not_chain():
    with pytest.raises(ParseError):
        cgraph.parse("a < b < c")
    assert cgraph.parse("(a < b) + (b != c)").evaluate({"a": 1, "b": 2, "c": 2}).value == 1


# -- errors: one line of message, with a caret ----------------------------------------------

@pytest.mark.parametrize("text,message", [
    ("h[j] = x * j for j in 1..3\nh[4]", "h[4] is out of range"),
    ("sum(w[i] for i in 1..3) + i", "index variable 'i' is used outside its comprehension"),
    ("w[i] + 1", "must be an integer known before evaluation"),
    ("sum(x for i in 1..2.5)", "must be an integer, not 2.5"),
    ("sum(x for i in 3..1)", "the range 3..1 of 'i' is empty"),
    ("sum(x for i in 1..y)", "must be an integer known before evaluation"),
    ("sq(a) = a * a\nsq(1, 2)", "sq() takes 1 argument, not 2"),
    ("sin(a) = a + 1\nsin(2)", "shadows the builtin function 'sin'"),
    ("pi(a) = a\npi(1)", "shadows the constant 'pi'"),
    ("sum(a) = a\nx", "shadows the builtin function 'sum'"),
    ("f(a) = f(a) + 1\nf(2)", "'f' calls itself (f -> f): recursion is not allowed"),
    ("sum(x * i for i in 1..2000000)",
     "would make 8,000,000 nodes (2,000,000 × 4); the limit is 1,000,000"),
    ("sum(x, y)", "sum() takes a comprehension"),
    ("sin(x for i in 1..3)", "only sum, prod, max and min take a comprehension"),
    ("w = 1\nw[1]", "'w' is a plain name, not an indexed family"),
    ("w[1] + w", "'w' is an indexed family"),
])
def test_language_errors_point_at_the_place(text, message):
    language_error(text, message)


def language_error(text, message):
    """The error parsing `text` raises: its message says `message`, and it renders as the
    message, the program's line and a caret under the place."""
    with pytest.raises((NameResolutionError, ParseError)) as err:
        cgraph.parse(text)
    assert message in err.value.message
    rendered = err.value.render().splitlines()
    assert len(rendered) == 3 and rendered[2].strip() == "^"
    return err.value


def cgraph_cli(*args, input=None):
    return subprocess.run([sys.executable, "-m", "cgraph", *args], input=input,
                          capture_output=True, text=True)


def test_errors_exit_2_with_one_message_line_and_a_caret():
    r = cgraph_cli("eval", "sum(x for i in 3..1)")
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0].startswith("Error: the range 3..1") and lines[-1].strip() == "^"
    assert "Traceback" not in r.stderr


# -- bindings ---------------------------------------------------------------------------

def test_family_bindings_on_the_command_line(tmp_path):
    r = cgraph_cli("eval", "sum(w[i] * x[i] for i in 1..2) + W[2,1]", "w=[0.5, 2]",
                   "x=[1,3]", "W=[[1,2],[3,4]]", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["value"] == 0.5 + 6 + 3
    assert out["gradient"]["w[2]"] == 3 and out["gradient"]["W[2,1]"] == 1


@pytest.mark.parametrize("args,message", [
    (["W=[1,2]"], "'W' is bound with 1 index(es) (W[1]) but the program uses 2 (W[1,1])"),
    (["W=[[1],[2]]"], "W[1,2] is out of range of the family bound"),
    (["W=[[1,2],[3]]", "x=1"], "nested unevenly"),
    (["W=[1,"], "is not a list of numbers"),
])
def test_family_bound_with_the_wrong_shape(args, message):
    with pytest.raises(BindingError, match=None) as err:
        from cgraph.bindings import parse_bindings

        g = cgraph.parse("W[1,1] + W[1,2]")
        g.check_bindings(parse_bindings(args))
    assert message in err.value.message


def test_bindings_file_json_lines_and_descend_output(tmp_path):
    prog = tmp_path / "p.cg"
    prog.write_text("(sum(w[i] * x[i] for i in 1..2) + b - y)^2")
    init = tmp_path / "init.json"
    init.write_text(json.dumps({"w": [0.0, 0.0], "b": 0}))
    data = tmp_path / "d.csv"
    data.write_text("x[1],x[2],y\n1,0,1\n0,1,2\n1,1,3\n")
    fit = cgraph_cli("descend", "--file", str(prog), "--bindings", str(init), "--data",
                     str(data), "--optimizer", "adam", "--lr", "0.1", "--epochs", "300",
                     "--format", "json")
    assert fit.returncode == 0, fit.stderr
    (tmp_path / "fit.json").write_text(fit.stdout)
    weights = json.loads(fit.stdout)["weights"]
    assert abs(weights["w[1]"] - 1) < 0.05 and abs(weights["w[2]"] - 2) < 0.05
    back = cgraph_cli("eval", "--file", str(prog), "--bindings", str(tmp_path / "fit.json"),
                      "--data", str(data))
    assert back.returncode == 0, back.stderr
    lines = tmp_path / "b.txt"
    lines.write_text("# weights\nw=[1, 2]\nb = 0\n\nx=[1,1]\n")
    r = cgraph_cli("eval", "--file", str(prog), "--bindings", str(lines), "y=3", "b=1",
                   "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["value"] == 1.0  # b=1 on the command line wins


def test_a_bad_bindings_file_is_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"w": [1, "two"]}')
    r = cgraph_cli("eval", "w[1]", "--bindings", str(bad))
    assert r.returncode == 2 and "'two' is not a number" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_calls_inside_comprehensions_are_numbered_in_order():
    g = cgraph.parse("neuron(a, k) = tanh(w[k] * a + b[k])\n"
                     "h[j] = neuron(x[1], j) for j in 1..3\n"
                     "sum(neuron(h[j], j) for j in 1..2) + sin(neuron(x[2], 1)) + neuron(y, 2)")
    tanh = [n.call for n in g.nodes if n.op.name == "tanh"]
    assert tanh == [f"neuron#{k}" for k in range(1, 8)]
    for n in g.nodes:  # a call's nodes are exactly its body's three ops
        if n.call:
            assert n.op.name in ("mul", "add", "tanh")


def test_diagrams_group_each_call_in_a_cluster(tmp_path):
    """Mermaid subgraphs and DOT clusters, one per call, accepted by the real renderers."""
    import re

    from renderers import (dot_renders, mermaid_renders, require_dot, require_mermaid_parse,
                           require_mmdc)

    program = "sq(a) = a * a\nnéuron(u) = tanh(w * u + b)\nnéuron(sq(x)) + néuron(x)"
    mmd = cgraph_cli("graph", program, "w=0.5", "b=-1", "x=2")
    dot = cgraph_cli("graph", program, "w=0.5", "b=-1", "x=2", "--format", "dot")
    assert mmd.returncode == 0 and dot.returncode == 0, mmd.stderr + dot.stderr
    subgraphs = re.findall(r'^  subgraph (\S+)\["([^"]+)"\]$', mmd.stdout, re.M)
    assert [title for _, title in subgraphs] == ["sq#35;1", "néuron#35;1", "néuron#35;2"]
    assert len({name for name, _ in subgraphs}) == 3
    block = mmd.stdout.split(f"subgraph {subgraphs[1][0]}")[1].split("\n  end")[0]
    assert len(re.findall(r"^    n\d+", block, re.M)) == 3  # the call's *, + and tanh
    assert dot.stdout.count("subgraph cluster_") == 3
    require_dot()
    (tmp_path / "g.dot").write_text(dot.stdout)
    r = dot_renders(tmp_path / "g.dot")
    assert r.returncode == 0, r.stderr
    svg = (tmp_path / "g.svg").read_text()
    assert svg.count('class="cluster"') == 3 and "néuron#2" in svg
    require_mermaid_parse()
    require_mmdc()
    (tmp_path / "g.mmd").write_text(mmd.stdout)
    r = mermaid_renders([tmp_path / "g.mmd"])
    assert r.returncode == 0, r.stderr
    svg = (tmp_path / "g.svg").read_text()
    assert svg.count('class="cluster') >= 3 and "néuron#2" in svg


def test_graph_draws_no_gradient_edge_into_a_branch_not_taken():
    r = cgraph_cli("graph", "where(x > 0, sqrt(x), 0)", "x=-1", "--grads")
    assert r.returncode == 0
    grad_edges = [line for line in r.stdout.splitlines() if "<-." in line]
    assert grad_edges == ['  n5 <-.->|"∂f/∂f = 1"| n6']
    r = cgraph_cli("graph", "where(x > 0, sqrt(x), 0)", "x=4", "--grads")
    assert sum("<-." in line for line in r.stdout.splitlines()) == 3  # f, where, sqrt


def test_decomposed_letters_are_the_composed_ones():
    """é typed as e + U+0301 (NFD, as macOS file names and some editors write it) is the
    letter é, in programs and in bindings alike."""
    from click.testing import CliRunner

    from cgraph.cli import cli

    nfd, nfc = "cafe\u0301", "caf\u00e9"
    graph = cgraph.parse(f"{nfd}^2 + {nfc}")
    assert list(graph.variables) == [nfc]
    for name in (nfd, nfc):
        r = CliRunner().invoke(cli, ["eval", f"{nfd} * 3", f"{name}=2", "--format", "json",
                                     "--fields", "value,gradient"])
        assert r.exit_code == 0, r.output
        assert r.output == '{"value": 6.0, "gradient": {"caf\u00e9": 3.0}}\n', r.output
