"""Every op in the registry: value and local derivatives against SymPy and central
differences at generic points (away from kinks), plus IEEE behaviour at the edges.

Adding an op to the registry means adding its line to conftest.CASES (program, points and
SymPy oracle); test_every_op_has_a_case_with_its_sympy_oracle fails until then.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import cgraph
from cgraph import ops

from conftest import CASES, central_difference, close, sympy_value_and_grad



def _cases():  # a list: pytest deprecates parametrizing from a generator
    return [pytest.param(text, dict(zip("xyz", p)), id=f"{name}{p}")
            for name, (text, points, _) in CASES.items() for p in points]


def test_every_op_has_a_case_with_its_sympy_oracle():
    """Adding an op is one registry entry plus its CASES line, which holds the SymPy oracle
    (so no other table in the tests can miss it)."""
    assert set(CASES) == set(ops.OPS) - {"var", "const"}
    for name, case in CASES.items():
        op = ops.OPS[name]
        graph = cgraph.parse(case.program)
        assert graph.nodes[graph.output].op is op and len(graph.variables) == op.arity
        assert all(len(p) == op.arity for p in case.points), name


def test_every_op_has_one_partial_rule_per_input():
    for op in ops.OPS.values():
        assert len(op.partials) == op.arity, op.name
    with pytest.raises(TypeError, match="one per input"):
        ops._op("broken", 2, min, None, (lambda m, a, b, out: 1.0,))
    assert "broken" not in ops.OPS


@pytest.mark.parametrize("text,point", _cases())
def test_value_and_gradient_match_sympy(text, point):
    graph = cgraph.parse(text)
    ev = graph.evaluate(point)
    value, grad = sympy_value_and_grad(graph, point)
    assert close(ev.value, value, rel=1e-12)
    for name, g in ev.gradient().items():
        assert close(g, grad[name], rel=1e-10), name


@pytest.mark.parametrize("text,point", _cases())
def test_gradient_matches_central_differences(text, point):
    graph = cgraph.parse(text)
    ev = graph.evaluate(point)
    for name, g in ev.gradient().items():
        assert close(g, central_difference(graph, point, name), rel=1e-5, abs_=1e-7), name
    assert len(ev.gradient()) == graph.nodes[graph.output].op.arity  # every input is reached


@pytest.mark.parametrize("text,point", _cases())
def test_scalar_and_array_rules_agree(text, point):
    """The numpy forward and partials of each op equal the scalar ones."""
    graph = cgraph.parse(text)
    op = graph.nodes[graph.output].op
    args = [point[k] for k in "xyz"[: op.arity]]
    scalar = op.scalar(*args)
    array = op.array(np, *(np.array([a]) for a in args))[0]
    assert close(scalar, float(array), rel=1e-13)


# The contract's edge semantics, and PyTorch's choices at kinks.
EDGES = [
    ("1/0", {}, math.inf), ("-1/0", {}, -math.inf), ("0/0", {}, math.nan),
    ("log(0)", {}, -math.inf), ("log(-1)", {}, math.nan), ("sqrt(-1)", {}, math.nan),
    ("exp(1000)", {}, math.inf), ("0^0", {}, 1.0), ("(-8)^(1/3)", {}, math.nan),
    ("0^-1", {}, math.inf), ("(-2)^3", {}, -8.0), ("10^400", {}, math.inf),
    ("(-10)^401", {}, -math.inf), ("asin(2)", {}, math.nan), ("sinh(1000)", {}, math.inf),
    ("cosh(-1000)", {}, math.inf), ("sin(1/0)", {}, math.nan), ("log2(0)", {}, -math.inf),
    ("log10(-1)", {}, math.nan), ("log(0, 2)", {}, -math.inf), ("sigmoid(-1000)", {}, 0.0),
    ("sigmoid(1000)", {}, 1.0), ("softplus(1000)", {}, 1000.0), ("relu(0/0)", {}, math.nan),
    ("max(0/0, 1)", {}, math.nan), ("min(1, 0/0)", {}, math.nan), ("tan(pi/2)", {},
                                                                   math.tan(math.pi / 2)),
    ("clamp(0/0, 0, 1)", {}, math.nan), ("clamp(0.5, 0/0, 1)", {}, math.nan),
    ("clamp(0.5, 0, 0/0)", {}, math.nan), ("clamp(0.5, 1, 0)", {}, 0.0),
    ("clamp(1/0, 0, 1)", {}, 1.0), ("clamp(-1/0, -1/0, 1)", {}, -math.inf),
]


@pytest.mark.parametrize("text,point,expected", EDGES, ids=[e[0] for e in EDGES])
def test_ieee_edges(text, point, expected):
    assert close(cgraph.parse(text).evaluate(point).value, expected, rel=1e-12)


@pytest.mark.parametrize("text,x,expected", [
    ("abs(x)", 0.0, 0.0), ("relu(x)", 0.0, 0.0), ("sqrt(x)", 0.0, math.inf),
    ("max(x, 1)", 1.0, 0.5), ("min(x, 1)", 1.0, 0.5),
])
def test_derivatives_at_kinks_follow_pytorch(text, x, expected):
    assert close(cgraph.parse(text).evaluate({"x": x}).gradient()["x"], expected)


def test_check_warns_where_a_comparison_flips():
    """`(x > 0)*x` is step(x)*x: check warned for step at x = 1e-7 (the step 6e-6 crosses
    0) but not for the comparison, nor for where's condition, and only said "gradient
    mismatch" for a gradient that is right (trial7's finding)."""
    from click.testing import CliRunner

    from cgraph.cli import cli

    def check(*args):
        return CliRunner().invoke(cli, ["check", *args, "--format", "tsv"])

    for program, node in [("(x > 0)*x + x", "node 2 (x > 0)"),
                          ("step(x)*x + x", "node 1 (step(x))"),
                          ("where(x > 0, x, x + 1)", "node 2 (x > 0)"),
                          ("where(x <= y, x, y)", "node 2 (x <= y)"),
                          ("(x == 1e-7) + x", "node 2 (x == 1e-7)")]:
        r = check(program, "x=1e-7", *(["y=1e-7"] if "y" in program else []))
        assert f"warning: {node}" in r.stderr and "sits on a kink" in r.stderr, r.stderr
    for program in ["(x > 0)*x + x", "where(x > 0, x, x + 1)", "(x == 1e-7) + x"]:
        r = check(program, "x=0.5")  # away from the jump: nothing to say, and it passes
        assert r.exit_code == 0 and r.stderr == "", (program, r.stderr)


# (x, lo, hi) -> value, [∂/∂x, ∂/∂lo, ∂/∂hi], as torch 2.13.0 (CPU) gives them for
# torch.clamp(x, lo, hi) on float64 tensors with requires_grad (run by hand, recorded here).
TORCH_CLAMP = [
    ((0.5, 0, 1), 0.5, [1, 0, 0]), ((0, 0, 1), 0, [1, 0, 0]), ((1, 0, 1), 1, [1, 0, 0]),
    ((-1, 0, 1), 0, [0, 1, 0]), ((2, 0, 1), 1, [0, 0, 1]), ((0.5, 1, 0), 0, [0, 0, 1]),
    ((-1, 0, 0), 0, [0, 0, 0]), ((0, 0, 0), 0, [1, 0, 0]), ((2, 0, 0), 0, [0, 0, 1]),
    ((0.5, 1, 1), 1, [0, 0, 0]), ((1, 1, 0), 0, [0, 0, 1]), ((math.inf, 0, 1), 1, [0, 0, 1]),
]


@pytest.mark.parametrize("args,value,grads", TORCH_CLAMP, ids=[str(t[0]) for t in TORCH_CLAMP])
def test_clamp_follows_pytorch_at_its_edges(args, value, grads):
    ev = cgraph.parse("clamp(x, lo, hi)").evaluate(dict(zip(["x", "lo", "hi"], args)))
    assert ev.value == value
    assert list(ev.gradient().values()) == grads
    batch = cgraph.parse("clamp(x, lo, hi)").evaluate_batch(
        {k: np.array([float(v)]) for k, v in zip(["x", "lo", "hi"], args)})
    assert [float(batch.gradient[k][0]) for k in ["x", "lo", "hi"]] == grads


@pytest.mark.parametrize("op", [o for o in ops.OPS.values() if o.scalar])
@pytest.mark.parametrize("v", [0.0, -0.0, 1e308, -1e308, math.inf, -math.inf, math.nan, -1.0])
def test_no_op_raises_on_any_float(op, v):
    args = [v] * op.arity
    op.scalar(*args)
    for rule in op.partials:
        rule(ops.SCALAR, *args, op.scalar(*args))


@pytest.mark.parametrize("op", [o for o in ops.OPS.values() if o.scalar])
def test_numpy_agrees_with_scalar_at_the_edges(op):
    """numpy follows IEEE-754: an independent oracle for our scalar edge handling."""
    specials = [0.0, -0.0, 2.0, -2.0, 0.5, math.inf, -math.inf, math.nan, 1e308, -1e308]
    with np.errstate(all="ignore"):
        for args in itertools.product(specials, repeat=op.arity):
            want = float(op.array(np, *(np.array([v]) for v in args))[0])
            assert close(op.scalar(*args), want, rel=1e-12), (op.name, args)
