"""Error propagation against the `uncertainties` package, and `±` bindings."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cgraph
from cgraph.bindings import parse_bindings, parse_uncertain_bindings
from cgraph.errors import BindingError
from cgraph.uncertainty import node_sigmas, propagate

from conftest import smooth_programs

uncertainties = pytest.importorskip("uncertainties")
umath = pytest.importorskip("uncertainties.umath")


def _ufloat_of(graph, point, sigmas):
    """The output as an `uncertainties` number, built node by node with its own rules."""
    table = {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "neg": lambda a: -a,
        "sin": umath.sin, "cos": umath.cos, "tan": umath.tan, "atan": umath.atan,
        "tanh": umath.tanh, "exp": umath.exp, "log": umath.log, "sqrt": umath.sqrt,
        "sigmoid": lambda a: 1 / (1 + umath.exp(-a)), "atan2": umath.atan2,
        "logb": lambda a, b: umath.log(a) / umath.log(b),
    }
    values = []
    for n in graph.nodes:
        if n.op is cgraph.ops.VAR:
            values.append(uncertainties.ufloat(point[n.name], sigmas.get(n.name, 0.0)))
        elif n.op is cgraph.ops.CONST:
            values.append(n.value)
        else:
            values.append(table[n.op.name](*(values[j] for j in n.inputs)))
    return values[graph.output]


@settings(max_examples=60, deadline=None)
@pytest.mark.filterwarnings("ignore:Using UFloat objects with std_dev==0")  # inputs held exact
@given(smooth_programs(), st.fixed_dictionaries(
    {v: st.floats(-2, 2) for v in "xyz"}), st.fixed_dictionaries(
    {v: st.floats(0, 0.5) for v in "xyz"}))
def test_matches_the_uncertainties_package(text, point, sigmas):
    graph = cgraph.parse(text)
    point = {v: point[v] for v in graph.variables}
    sigmas = {v: sigmas[v] for v in graph.variables}
    (u,) = propagate(graph, graph.forward(point), sigmas)
    expected = _ufloat_of(graph, point, sigmas)
    assert u.value == pytest.approx(expected.nominal_value, rel=1e-12, abs=1e-300)
    assert u.sigma == pytest.approx(expected.std_dev, rel=1e-9, abs=1e-12)
    if u.sigma:
        assert sum(u.shares().values()) == pytest.approx(1.0)
    # every node's σ by one forward pass equals the output's by the reverse pass
    assert node_sigmas(graph, graph.forward(point), sigmas)[graph.output] == pytest.approx(
        u.sigma, rel=1e-12, abs=1e-300)


def test_shares_and_several_outputs():
    graph = cgraph.parse("p = x + y; q = 3 * x")
    values = graph.forward({"x": 2, "y": 5})
    p, q = propagate(graph, values, {"x": 0.3, "y": 0.4}, graph.output_nodes(["p", "q"]))
    assert (p.value, p.sigma) == (7.0, pytest.approx(0.5))
    assert p.shares() == pytest.approx({"x": 0.36, "y": 0.64})
    assert (q.value, q.sigma, q.terms["y"]) == (6.0, pytest.approx(0.9), 0.0)


def test_plus_minus_bindings():
    assert parse_uncertain_bindings(["x=2±0.1", "y=3+-1e-2", "z=pi"]) == (
        {"x": 2.0, "y": 3.0, "z": math.pi}, {"x": 0.1, "y": 0.01})
    for bad, message in [("x=2±-0.1", "must be a finite number >= 0.*not -0.1"),
                         ("x=2±", "not empty"), ("x=2±1/0", "'1/0', comes out as Infinity: it must be a finite number"),
                         ("x=2±inf", "must be a finite number, not inf"),
                         ("x=2±y", "uses the name y: write a number")]:
        with pytest.raises(BindingError, match=message):
            parse_uncertain_bindings([bad])
    with pytest.raises(BindingError, match="only eval propagates an uncertainty"):
        parse_bindings(["x=2±0.1"])


def _run(*args):
    from click.testing import CliRunner

    from cgraph.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_eval_reports_value_plus_minus_sigma_and_shares():
    import json

    r = _run("eval", "g = 4*pi^2*L/T^2", "L=1.000±0.005", "T=2.006+-0.004",
             "--format", "table")
    assert "g = 9.81065 ± 0.0627456\n" in r.stdout
    assert "variance of g: L 61.1%, T 38.9%" in r.stdout
    doc = json.loads(_run("eval", "x*y", "x=2±0.1", "y=3±0.2", "--format", "json").stdout)
    assert doc["uncertainty"]["sigma"] == pytest.approx(0.5)
    assert doc["uncertainty"]["inputs"]["y"] == {"sigma": 0.2, "term": 0.4,
                                                 "share": pytest.approx(0.64)}
    assert [n["sigma"] for n in doc["nodes"]] == [0.1, 0.2, pytest.approx(0.5)]
    exact = _run("eval", "x*y", "x=1±0", "y=2±0", "--format", "table").stdout
    assert "f = 2 ± 0\n" in exact and "variance" not in exact  # not 'x 0%, y 0%': no shares
    tsv = _run("eval", "x*y", "x=2±0.1", "y=3").stdout
    assert tsv.splitlines()[0].endswith("\tgrad\tsigma")


@pytest.mark.parametrize("args, message", [
    (["eval", "x*y", "x=2±-0.1", "y=3"], "the uncertainty of x must be a finite number >= 0"),
    (["jacobian", "x*y", "x=2±0.1", "y=3"], "x: only eval propagates an uncertainty (±)"),
    (["eval", "x*y", "x=2±0.1", "y=3", "--mode", "forward"],
     "x: forward mode does not propagate an uncertainty"),
])
def test_bad_uncertainties_exit_2_with_one_line(args, message):
    r = _run(*args)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith(f"Error: {message}") and r.stderr.count("\n") == 1


def test_a_bindings_file_carries_uncertainties_and_the_command_line_wins(tmp_path):
    """NAME=VALUE lines take `±` as the command line does (eval said "only eval propagates
    an uncertainty"); a value given again on the command line replaces the file's with its
    uncertainty, or without one. The oracle is the `uncertainties` package."""
    import json

    path = tmp_path / "b.txt"
    path.write_text("x = 2±0.1  # a length\ny=3+-0.2\nz=0.5\n")
    x, y = uncertainties.ufloat(2, 0.1), uncertainties.ufloat(3, 0.2)
    for extra, want in (([], x * umath.sin(y) + 0.5), (["y=3"], x * math.sin(3) + 0.5),
                        (["z=0.5±0.3"], x * umath.sin(y) + uncertainties.ufloat(0.5, 0.3))):
        r = _run("eval", "x*sin(y) + z", "--bindings", str(path), *extra, "--format", "json")
        assert r.exit_code == 0, r.stderr
        doc = json.loads(r.stdout)
        assert doc["value"] == pytest.approx(want.nominal_value, rel=1e-15)
        assert doc["uncertainty"]["sigma"] == pytest.approx(want.std_dev, rel=1e-12)
    r = _run("check", "x*sin(y) + z", "--bindings", str(path))
    assert r.exit_code == 2 and "x: only eval propagates an uncertainty (±)" in r.stderr
    r = _run("check", "x*sin(y) + z", "--bindings", str(path), "x=2", "y=3")
    assert r.exit_code == 0, r.stderr
