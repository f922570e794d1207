"""Forward and reverse passes: the tutorial's example, sums over paths, purity, scale."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cgraph

from conftest import (central_difference, close, coords, evaluated, expressions,
                      sympy_value_and_grad)


def test_tutorial_example():
    ev = cgraph.parse("(x+y)*z").evaluate({"x": 1, "y": 3, "z": -3})
    assert ev.value == -12.0
    assert ev.gradient() == {"x": -3.0, "y": -3.0, "z": 4.0}


def test_tutorial_example_with_named_intermediate():
    g = cgraph.parse("p = x + y; g = p * z")
    ev = g.evaluate({"x": 1, "y": 3, "z": -3})
    p = next(n for n in g.nodes if n.name == "p")
    assert g.output_name == "g" and ev.value == -12.0
    assert ev.values[p.id] == 4.0 and ev.grads[p.id] == -3.0  # ∂g/∂p = z
    assert ev.gradient() == {"x": -3.0, "y": -3.0, "z": 4.0}


def test_gradient_sums_over_all_paths():
    assert cgraph.parse("x*x").evaluate({"x": 3}).gradient() == {"x": 6.0}
    ev = cgraph.parse("a = sin(x); a*a + a").evaluate({"x": 0.7})
    assert close(ev.gradient()["x"], (2 * math.sin(0.7) + 1) * math.cos(0.7), rel=1e-15)


def test_backward_is_pure():
    g = cgraph.parse("p = x*y + sin(x); p*p")
    values = g.forward({"x": 0.3, "y": -1.2})
    first, second = g.backward(values), g.backward(values)
    assert first == second and first is not second


def test_dead_statement_gets_zero_gradient():
    g = cgraph.parse("unused = x * 100; y * 2")
    ev = g.evaluate({"x": 1.0, "y": 1.0})
    assert ev.gradient() == {"x": 0.0, "y": 2.0}


def test_nan_in_a_branch_that_does_not_reach_the_output_stays_there():
    ev = cgraph.parse("q = log(x); x * 2").evaluate({"x": -1.0})
    assert ev.gradient() == {"x": 2.0}
    assert ev.first_nonfinite().name == "q"


@given(st.lists(st.one_of(st.floats(), st.sampled_from([1e308, -1e308, math.inf, math.nan])),
                min_size=5, max_size=5))
def test_first_nonfinite_is_the_first_node_made_nonfinite_from_finite_inputs(values):
    """Any values (all finite whose sum overflows too): the first node that is not finite
    while its inputs are, found by its definition."""
    g = cgraph.parse("a = x + y; b = a * x; b - y")
    finite = [math.isfinite(v) for v in values]
    expected = next((n for n in g.nodes if n.inputs and not finite[n.id]
                     and all(finite[j] for j in n.inputs)), None)
    assert cgraph.Evaluation(g, {}, values, [0.0] * 5).first_nonfinite() is expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, coords, coords, coords)
def test_random_expressions_agree_with_finite_differences(text, x, y, z):
    g, point, ev = evaluated(text, x, y, z)
    for name, grad in ev.gradient().items():
        assert close(grad, central_difference(g, point, name), rel=1e-4, abs_=1e-5), name


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, coords, coords, coords)
def test_random_expressions_agree_with_sympy(text, x, y, z):
    g, point, ev = evaluated(text, x, y, z)
    value, grad = sympy_value_and_grad(g, point)
    assert close(ev.value, value, rel=1e-9, abs_=1e-12)
    for name, gv in ev.gradient().items():
        assert close(gv, grad[name], rel=1e-8, abs_=1e-10), name


# Scale, as correctness (timings live in benchmarks/).
@pytest.mark.slow
def test_100000_term_sum():
    n = 100_000
    text = " + ".join(f"{i % 7}*x" for i in range(n))
    ev = cgraph.parse(text).evaluate({"x": 2.0})
    total = sum(i % 7 for i in range(n))
    assert ev.value == 2.0 * total and ev.gradient() == {"x": float(total)}


def test_20000_nested_function_calls():
    n, x = 20_000, 0.9
    ev = cgraph.parse("sin(" * n + "x" + ")" * n).evaluate({"x": x})
    value, grad = x, 1.0
    for _ in range(n):  # the chain rule by hand, as the oracle
        grad *= math.cos(value)
        value = math.sin(value)
    assert close(ev.value, value, rel=1e-12) and close(ev.gradient()["x"], grad, rel=1e-9)


def test_20000_nested_parentheses():
    n = 20_000
    ev = cgraph.parse("(" * n + "x*y" + ")" * n + " + 1").evaluate({"x": 2.0, "y": 5.0})
    assert ev.value == 11.0 and ev.gradient() == {"x": 5.0, "y": 2.0}


def test_long_chain_of_named_statements():
    n = 20_000
    lines = ["t0 = x"] + [f"t{i} = sin(t{i - 1})*0.5 + t{i - 1}*0.25" for i in range(1, n)]
    ev = cgraph.parse("\n".join(lines)).evaluate({"x": 0.3})
    value, grad = 0.3, 1.0
    for _ in range(1, n):
        grad *= math.cos(value) * 0.5 + 0.25
        value = math.sin(value) * 0.5 + value * 0.25
    assert close(ev.value, value, rel=1e-12) and close(ev.gradient()["x"], grad, rel=1e-9)


@pytest.mark.parametrize("text", [
    "where(x - 0.5, abs(x), log(x - 1)) + max(x, y) * pi",  # three inputs, a NaN branch
    "sq(a) = a*a; h[j] = sq(x + j) for j in 1..3; sum(h[j] for j in 1..3) / y",
    "p = x < y; q = -p * sin(x)^2; q + 2",
])
def test_first_forward_reads_the_nodes_later_ones_the_tape_and_they_agree(text):
    """The first forward pass walks the nodes (no tape at the peak of a one-shot
    evaluation); a second one compiles the tape; both give every node the same value."""
    g = cgraph.parse(text)
    point = {"x": 0.25, "y": 1.5}
    first = g.forward(point)
    assert g._tape is None
    second = g.forward(point)
    assert g._tape is not None
    assert list(map(repr, first)) == list(map(repr, second))
    assert any(math.isnan(v) for v in first) == text.startswith("where")


def test_op_nodes_are_bare_and_read_as_nodes():
    """Nodes without a literal or a call label (variables, the parser's operators) are
    BareNodes (64 bytes, not 80): they read value and call as None."""
    g = cgraph.parse("f(a) = a*2; t = sin(x)*y; f(t) + 3")
    bare = [n.id for n in g.nodes if type(n).__name__ == "BareNode"]
    assert bare == [0, 1, 2, 3, 7]  # x, sin, y, t = ..*y, .. + 3; not 2, 3 nor f's a*2
    assert [(g.nodes[i].value, g.nodes[i].call) for i in bare] == [(None, None)] * 5
    assert g.nodes[5].call == "f#1" and g.nodes[3].name == "t"
