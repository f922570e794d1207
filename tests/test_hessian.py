"""Forward mode, Jacobians and Hessians against SymPy, finite differences and each other."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cgraph
from cgraph.errors import InputError
from cgraph.forward import evaluate_forward
from cgraph import hessian as hessian_module
from cgraph.hessian import MAX_VARIABLES, hessian
from cgraph.jacobian import choose_mode, jacobian

from conftest import CASES, smooth_programs, sympy_of

NAMES = ("x", "y", "z")
programs = smooth_programs()
points = st.fixed_dictionaries({v: st.integers(-8, 8).map(lambda k: k / 4) for v in NAMES})


def _sympy_jacobian_and_hessian(graph, point, outputs):
    import sympy as sp

    symbols = [sp.Symbol(v, real=True) for v in graph.variables]
    subs = {s: sp.Rational(str(point[s.name])) for s in symbols}
    exprs = {}
    for name, i in outputs:
        sub = cgraph.Graph(graph.nodes[: i + 1], i)
        exprs[name] = sympy_of(sub)
    jac = [[float(sp.diff(e, s).evalf(30, subs=subs)) for s in symbols] for e in exprs.values()]
    last = list(exprs.values())[-1]
    hess = [[float(sp.diff(last, a, b).evalf(30, subs=subs)) for b in symbols] for a in symbols]
    return np.array(jac), np.array(hess)


def _close(a, b, rel):
    """Element-wise, relative to each entry, with an absolute floor at the matrix's scale."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    return np.all(np.abs(a - b) <= rel * np.maximum(np.abs(b), scale * 1e-3))


@settings(max_examples=20, deadline=None)
@given(programs, points)
def test_jacobian_and_hessian_match_sympy(text, point):
    graph = cgraph.parse(text)
    point = {v: point[v] for v in graph.variables}
    outputs = graph.output_nodes(["p", "q"])
    jac_s, hess_s = _sympy_jacobian_and_hessian(graph, point, outputs)
    for mode in ("forward", "reverse"):
        jac = jacobian(graph, point, ["p", "q"], mode=mode)
        assert _close(jac.matrix, jac_s, 1e-9), (mode, jac.matrix, jac_s)
    h = hessian(graph, point)
    assert _close(h.matrix, hess_s, 1e-9), (h.matrix, hess_s)


@settings(max_examples=60, deadline=None)
@given(programs, points)
def test_forward_and_reverse_agree_to_a_few_ulps(text, point):
    graph = cgraph.parse(text)
    point = {v: point[v] for v in graph.variables}
    fwd = np.array(jacobian(graph, point, ["p", "q"], mode="forward").matrix)
    rev = np.array(jacobian(graph, point, ["p", "q"], mode="reverse").matrix)
    # the same products of the same partials, summed in another order
    assert np.all(np.abs(fwd - rev) <= 64 * np.spacing(np.maximum(abs(fwd), abs(rev)) + 1)), \
        (fwd, rev)


@settings(max_examples=60, deadline=None)
@given(programs, points)
def test_hessian_is_symmetric_and_matches_differences_of_the_gradient(text, point):
    graph = cgraph.parse(text)
    point = {v: point[v] for v in graph.variables}
    h = hessian(graph, point)
    scale = max(1.0, float(np.max(np.abs(h.matrix))))
    assert h.asymmetry() <= 1e-12 * scale
    assert h.gradient == list(graph.evaluate(point).gradient().values())
    for j, v in enumerate(h.variables):
        step = 1e-5 * max(1.0, abs(point[v]))
        up = graph.evaluate({**point, v: point[v] + step}).gradient()
        down = graph.evaluate({**point, v: point[v] - step}).gradient()
        column = [(up[u] - down[u]) / (2 * step) for u in h.variables]
        assert _close(h.matrix[:, j], column, 1e-4), (v, h.matrix[:, j], column)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_op_second_order_matches_sympy(name):
    """The dual-number namespace of every op (its partials, differentiated once more)."""
    import sympy as sp

    case = CASES[name]
    # composed with a square, so that an op's own second derivative and its first both count
    graph = cgraph.parse(f"u = {case.program}; u * u + u")
    expr = sympy_of(graph)
    for point in case.points:
        bind = dict(zip(("x", "y", "z"), point))
        bind = {v: bind[v] for v in graph.variables}
        symbols = [sp.Symbol(v, real=True) for v in graph.variables]
        subs = {s: sp.Float(bind[s.name], 30) for s in symbols}
        want = np.array([[float(sp.diff(expr, a, b).evalf(30, subs=subs)) for b in symbols]
                         for a in symbols])
        h = hessian(graph, bind)
        assert _close(h.matrix, want, 1e-9), (name, point, h.matrix, want)
        fwd = jacobian(graph, bind, mode="forward").matrix
        rev = jacobian(graph, bind, mode="reverse").matrix
        assert np.allclose(fwd, rev, rtol=1e-14, atol=0), (name, fwd, rev)


_EDGY_UNARY = ("sqrt({})", "log({})", "abs({})", "relu({})", "1/({})", "({})^0.5", "exp({})",
               "asin({})", "-({})", "({})^2")
_EDGY_BINARY = ("({}) * ({})", "({}) + ({})", "({}) / ({})", "max({}, {})", "({})^({})")


def _edgy(depth):
    leaf = st.sampled_from(("x", "y", "z", "0", "2"))
    if depth == 0:
        return leaf
    sub = _edgy(depth - 1)
    return leaf | st.builds(lambda f, a: f.format(a), st.sampled_from(_EDGY_UNARY), sub) | \
        st.builds(lambda f, a, b: f.format(a, b), st.sampled_from(_EDGY_BINARY), sub, sub)


@settings(max_examples=80, deadline=None)
@given(_edgy(3), st.fixed_dictionaries({v: st.sampled_from([-1.0, 0.0, 0.5, 2.0, 1e308])
                                        for v in NAMES}))
def test_a_block_of_columns_equals_one_column_per_pass_even_with_inf_and_nan(text, point):
    """IEEE: a block's other directions are structural zeros, never 0·inf = NaN."""
    graph = cgraph.parse(text)
    assume(graph.variables)
    point = {v: point[v] for v in graph.variables}
    blocked = hessian(graph, point).matrix
    assert np.array_equal(blocked, hessian(graph, point, block=1).matrix, equal_nan=True)


def test_forward_tangents_narrate_the_tutorial():
    graph = cgraph.parse("p = x + y; g = p * z")
    fe = evaluate_forward(graph, {"x": 1, "y": 3, "z": -3}, {"x": 1})
    assert [fe.tangent(i) for i in range(len(graph.nodes))] == [1, 0, 1, 0, -3]
    assert fe.unit == "x"
    fe = evaluate_forward(graph, {"x": 1, "y": 3, "z": -3})  # default: the first variable
    assert fe.seed == {"x": 1.0}


def test_forward_mode_skips_what_does_not_depend_on_the_seed():
    # sqrt(y) has an infinite partial at y = 0; it does not depend on x, so df/dx = 1
    graph = cgraph.parse("x + sqrt(y)")
    fe = evaluate_forward(graph, {"x": 1, "y": 0}, {"x": 1})
    assert fe.tangent(graph.output) == 1.0
    assert graph.evaluate({"x": 1, "y": 0}).gradient()["x"] == 1.0


def test_dead_nodes_are_skipped_by_the_jacobian():
    graph = cgraph.parse("d = log(x - 5); f = x * 2")  # d is dead for f, NaN at x = 1
    assert jacobian(graph, {"x": 1}, mode="forward").matrix == [[2.0]]
    assert jacobian(graph, {"x": 1}, ["d", "f"], mode="forward").matrix[1] == [2.0]


@pytest.mark.slow
def test_a_hundred_thousand_nodes():
    text = "+".join(f"sin(x*{k % 7})*y" for k in range(20_000))
    graph = cgraph.parse(text)
    assert len(graph.nodes) > 100_000
    point = {"x": 0.3, "y": 2.0}
    jac = jacobian(graph, point, mode="forward")
    rev = graph.evaluate(point).gradient()
    assert jac.matrix[0] == pytest.approx([rev["x"], rev["y"]], rel=1e-12)
    h = hessian(graph, point)
    assert h.matrix[1, 1] == 0.0 and h.asymmetry() <= 1e-9 * np.max(np.abs(h.matrix))


@pytest.mark.parametrize("text, point, kind", [
    ("(a-1)^2 + 100*(b-a^2)^2", {"a": 1, "b": 1}, "minimum"),
    ("-(a^2) - b^2", {"a": 0, "b": 0}, "maximum"),
    ("a^2 - b^2", {"a": 0, "b": 0}, "saddle"),
    ("a^4 + b^2", {"a": 0, "b": 0}, "degenerate"),
    ("a^2 + b^2", {"a": 1, "b": 0}, None),
])
def test_classify_stationary_points(text, point, kind):
    assert hessian(cgraph.parse(text), point).classify() == kind


def test_the_summary_line_reads_as_a_sentence():
    from cgraph.hessian import describe

    assert describe(hessian(cgraph.parse("abs(x)"), {"x": 0})) == (
        "the gradient is ~0: a degenerate point (eigenvalue 0)")
    assert describe(hessian(cgraph.parse("a^2 - b^2"), {"a": 0, "b": 0})) == (
        "the gradient is ~0: a saddle (eigenvalues -2, 2)")


def test_several_outputs_are_refused_as_such():
    """`--output p,q` was "'p,q' is not a named node (named nodes: p, q)"."""
    from click.testing import CliRunner

    from cgraph.cli import cli

    r = CliRunner().invoke(cli, ["hessian", "p = x*y; q = p^2", "x=1", "y=2", "--output",
                                 "p,q"])
    assert r.exit_code == 2 and "one statement" in r.stderr and "jacobian" in r.stderr
    assert "not a named node" not in r.stderr


def test_mode_choice_and_refusals():
    assert choose_mode(3, 2) == "forward" and choose_mode(1, 5) == "reverse"
    assert choose_mode(2, 2) == "reverse"
    graph = cgraph.parse("p = x * y; q = p + x")
    with pytest.raises(InputError, match="'x' is a variable, not a statement"):
        jacobian(graph, {"x": 1, "y": 2}, ["x"])
    with pytest.raises(InputError, match="'r' is not a named node.*named nodes: p, q"):
        jacobian(graph, {"x": 1, "y": 2}, ["r"])
    with pytest.raises(InputError, match="--tangent: 'w'"):
        evaluate_forward(graph, {"x": 1, "y": 2}, {"w": 1})
    n = 10_000
    big = cgraph.parse("+".join(f"v{i}" for i in range(n)))
    with pytest.raises(InputError, match=r"10,000 variables has 100,000,000 entries "
                                         r"\(800 MB as float64\).*limit is 4,096"):
        hessian(big, {f"v{i}": 1.0 for i in range(n)})
    assert MAX_VARIABLES == 4096


def test_hessian_of_the_chained_rosenbrock_function_is_tridiagonal():
    n = 50
    text = " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(n - 1))
    point = {f"x{i}": math.cos(i) for i in range(n)}
    h = hessian(cgraph.parse(text), point, wrt=list(point))
    x = np.array([math.cos(i) for i in range(n)])
    exact = np.zeros((n, n))  # by hand: the textbook Hessian of the chained Rosenbrock
    for i in range(n - 1):
        exact[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        exact[i + 1, i + 1] += 200
        exact[i, i + 1] += -400 * x[i]
        exact[i + 1, i] += -400 * x[i]
    assert np.allclose(h.matrix, exact, rtol=1e-12, atol=1e-10)
    # one column per pass gives the same numbers as a block of columns per pass
    assert np.array_equal(hessian(cgraph.parse(text), point, list(point), block=1).matrix,
                          h.matrix)


def test_check_hessian_catches_a_wrong_second_order_rule(monkeypatch):
    from cgraph import ops
    from cgraph.check import check_hessian

    graph = cgraph.parse("sin(x) * y + x^3")
    point = {"x": 0.7, "y": -1.3}
    rows = check_hessian(graph, point)
    assert [r.variable for r in rows] == ["∂²f/∂x²", "∂²f/∂x∂y", "∂²f/∂y²"]
    assert all(r.ok(1e-5, 1e-8) for r in rows)
    # A wrong rule for cos, ∂cos(a)/∂a = +sin(a): the gradient of this program never uses
    # it (∂sin(a)/∂a = cos(a) is evaluated, not differentiated), so `check` passes; the
    # Hessian differentiates cos(a) and must catch it.
    wrong = ops.Op("cos", 1, ops.COS.scalar, ops.COS.array,
                   (lambda m, a, out: m.sin(a),), "cos")
    monkeypatch.setattr(hessian_module.DUAL, "cos", hessian_module._lift(wrong))
    rows = check_hessian(graph, point)
    assert [r.ok(1e-5, 1e-8) for r in rows] == [False, True, True]
    assert graph.evaluate(point).gradient() == pytest.approx(
        {"x": math.cos(0.7) * -1.3 + 3 * 0.7 ** 2, "y": math.sin(0.7)}, rel=1e-15)


# -- the command line ---------------------------------------------------------------------

def _run(*args):
    from click.testing import CliRunner

    from cgraph.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_hessian_command_formats():
    import json

    doc = json.loads(_run("hessian", "x^2*y + sin(x*y)", "x=1", "y=2", "--format",
                          "json").stdout)
    assert list(doc) == ["output", "variables", "value", "gradient", "matrix"]
    assert doc["variables"] == ["x", "y"] and doc["matrix"][0][1] == doc["matrix"][1][0]
    assert doc["gradient"] == pytest.approx({"x": 4 + 2 * math.cos(2),
                                             "y": 1 + math.cos(2)})
    assert _run("hessian", "a*b^2", "a=1", "b=3").stdout == (
        "variable\ta\tb\na\t0\t6\nb\t6\t2\n")
    assert _run("hessian", "p = a*b; q = p^2", "a=1", "b=3", "--output", "p",
                "--wrt", "b").stdout == "variable\tb\nb\t0\n"


def test_hessian_on_a_terminal_says_what_the_point_is():
    """A real pseudo-terminal: the default format there is the table, with the verdict."""
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    env = dict(os.environ, COLUMNS="80", NO_COLOR="1")
    proc = subprocess.run([sys.executable, "-m", "cgraph", "hessian", "x^2 - y^2 + x*y",
                           "x=0", "y=0"], stdout=follower, stderr=subprocess.PIPE, env=env,
                          timeout=60)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    text = out.decode().replace("\r\n", "\n")
    assert proc.returncode == 0
    assert "the gradient is ~0: a saddle (eigenvalues -2.236, 2.236)" in text
    assert "∂²f" in text and "by 2 Hessian-vector products" in text


def test_hessian_refuses_ten_thousand_variables(tmp_path):
    n = 10_000
    program = tmp_path / "wide.cg"
    program.write_text("+".join(f"v{i}^2" for i in range(n)))
    r = _run("hessian", "--file", str(program), *(f"v{i}=1" for i in range(n)))
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == ("Error: a Hessian of 10,000 variables has 100,000,000 entries "
                        "(800 MB as float64) and needs 10,000 passes; the limit is 4,096 "
                        "variables (use --wrt to pick some)\n")


def test_check_hessian_exits_1_on_a_wrong_rule(monkeypatch):
    args = ("check", "sin(x) * y + x^3", "x=0.7", "y=-1.3")
    ok = _run(*args, "--hessian")
    assert ok.exit_code == 0 and ok.stdout.splitlines()[0] == (
        "entry\tanalytic\tnumeric\tabs_error\trel_error\tverdict")
    wrong = cgraph.ops.Op("cos", 1, cgraph.ops.COS.scalar, cgraph.ops.COS.array,
                          (lambda m, a, out: m.sin(a),), "cos")
    monkeypatch.setattr(hessian_module.DUAL, "cos", hessian_module._lift(wrong))
    assert _run(*args).exit_code == 0  # the gradient never differentiates cos
    bad = _run(*args, "--hessian")
    assert bad.exit_code == 1 and "∂²f/∂x²\t" in bad.stdout and "MISMATCH" in bad.stdout
    assert bad.stderr == "Error: Hessian mismatch for ∂²f/∂x²\n"


FAMILY = "W[1,2]^2*x + sin(x*W[1,2]) + W[2,1]*x"
FAMILY_POINT = ("W[1,2]=1", "x=2", "W[2,1]=0.5")


def test_check_hessian_json_nests_entries_by_their_two_variables():
    """Keys were `W[1,2],x`: an element's name holds a comma, so a script could not split
    them. Now {"W[1,2]": {"x": …}}: each key is one variable, the pairs are the upper
    triangle of `cgraph hessian`'s matrix (same order), and each analytic value is that
    matrix's entry."""
    import json

    doc = json.loads(_run("check", FAMILY, *FAMILY_POINT, "--hessian", "--format",
                          "json").stdout)
    h = json.loads(_run("hessian", FAMILY, *FAMILY_POINT, "--format", "json").stdout)
    names = h["variables"]
    assert list(doc["variables"]) == names
    for i, u in enumerate(names):
        assert list(doc["variables"][u]) == names[i:]
        for j, v in enumerate(names[i:], i):
            assert doc["variables"][u][v]["analytic"] == h["matrix"][i][j]
            assert doc["variables"][u][v]["ok"] is True


def test_check_hessian_rows_say_the_entry_as_hessian_names_it():
    """The table and TSV name an entry `∂²f/∂W[1,2]∂x` (`∂²f/∂x²` on the diagonal), the
    spelling of hessian's own warnings; with several outputs the output is in the name,
    and JSON nests under the output's name, {"p": {"x": {"y": …}}}, as diff's does."""
    import json

    tsv = _run("check", FAMILY, *FAMILY_POINT, "--hessian").stdout.splitlines()
    assert tsv[0].startswith("entry\t")
    assert [line.split("\t")[0] for line in tsv[1:]] == [
        "∂²f/∂W[1,2]²", "∂²f/∂W[1,2]∂W[2,1]", "∂²f/∂W[1,2]∂x", "∂²f/∂W[2,1]²",
        "∂²f/∂W[2,1]∂x", "∂²f/∂x²"]
    for line in tsv[1:]:  # split on ∂, which no name holds
        _, top, *names = line.split("\t")[0].split("∂")
        assert top == "²f/" and all(n.rstrip("²") in ("W[1,2]", "x", "W[2,1]") for n in names)
    several = ("p = x*y^2; q = x^3", "x=1", "y=2", "--hessian", "--output", "p,q")
    rows = _run("check", *several).stdout.splitlines()[1:]
    assert [r.split("\t")[0] for r in rows] == ["∂²p/∂x²", "∂²p/∂x∂y", "∂²p/∂y²",
                                               "∂²q/∂x²", "∂²q/∂x∂y", "∂²q/∂y²"]
    doc = json.loads(_run("check", *several, "--format", "json").stdout)["variables"]
    assert {k: {u: list(w) for u, w in v.items()} for k, v in doc.items()} == {
        "p": {"x": ["x", "y"], "y": ["y"]}, "q": {"x": ["x", "y"], "y": ["y"]}}
    assert doc["p"]["x"]["y"]["analytic"] == 4.0  # ∂/∂y of ∂p/∂x = y^2: 2y
    gradient = json.loads(_run("check", *several[:-3], "--output", "p,q", "--format",
                               "json").stdout)["variables"]
    assert {k: list(v) for k, v in gradient.items()} == {"p": ["x", "y"], "q": ["x", "y"]}
    assert gradient["p"]["y"]["analytic"] == 4.0  # ∂p/∂y = 2xy


def test_check_hessian_table_on_a_terminal():
    from terminal import on_terminal

    for env, names in (({}, ["∂²f/∂W[1,2]²", "∂²f/∂W[1,2]∂W[2,1]", "∂²f/∂W[1,2]∂x"]),
                       ({"PYTHONIOENCODING": "ascii"},
                        ["d2f/dW[1,2]^2", "d2f/dW[1,2] dW[2,1]", "d2f/dW[1,2] dx"])):
        shown = on_terminal(["check", FAMILY, *FAMILY_POINT, "--hessian"], 100, env)
        assert shown.status == 0, shown.stderr
        rows = [re.split("[│|]", line)[0].strip() for line in shown.lines[1:]
                if re.search("[│|]", line)]
        assert rows[:3] == names and shown.lines[0].startswith("entry"), shown.screen


def test_newton_from_the_command_line():
    import json

    r = _run("descend", "(a-1)^2 + 100*(b-a^2)^2", "a=-1", "b=1", "--optimizer", "newton",
             "--until", "1e-10")
    doc = json.loads(r.stdout)
    assert doc["optimizer"] == "newton" and doc["steps"] == 20 and r.stderr == ""
    assert doc["weights"] == pytest.approx({"a": 1.0, "b": 1.0}, abs=1e-9)
    r = _run("descend", "x^4/4 - x^2/2 + y^2", "x=0.1", "y=1", "--optimizer", "newton",
             "--until", "1e-12")
    assert r.stderr.startswith("warning: step 1: the Hessian is not positive definite")


@pytest.mark.parametrize("command", ["eval", "diff", "codegen", "descend", "jacobian",
                                     "hessian"])
def test_a_variable_given_twice_in_wrt_is_refused_by_every_command(command):
    """`hessian "x^2" x=1 --wrt x,x` printed [[0, 2], [0, 2]] (the Hessian is 2); jacobian
    and codegen repeated the column. One check, in Graph.check_names, serves them all."""
    from click.testing import CliRunner

    from cgraph.cli import cli

    binding = [] if command in ("diff", "codegen") else ["x=1", "y=2"]
    r = CliRunner().invoke(cli, [command, "x^2*y", *binding, "--wrt", "x,y,x"])
    assert r.exit_code == 2 and "--wrt: 'x' is given twice" in r.stderr, r.output
    with pytest.raises(InputError, match="'x' is given twice"):
        hessian(cgraph.parse("x^2"), {"x": 1}, ["x", "x"])


@pytest.mark.parametrize("command", ["jacobian", "hessian"])
def test_a_value_that_stops_being_finite_is_a_warning_as_in_eval(command):
    """CONTRACT: where a non-finite value first appears from finite inputs, a warning on
    standard error names that node (eval, explain and graph did; these two said nothing)."""
    from click.testing import CliRunner

    from cgraph.cli import cli

    r = CliRunner().invoke(cli, [command, "y = log(x) * 2; y + x", "x=0"])
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines()[0] == ("warning: node 1 (t1 = log(x)) is -Infinity, from "
                                        "finite inputs")
    eval_warning = CliRunner().invoke(cli, ["eval", "y = log(x) * 2; y + x", "x=0"]).stderr
    assert eval_warning.splitlines()[0] == r.stderr.splitlines()[0]
    r = CliRunner().invoke(cli, [command, "x^2 + 1", "x=3"])
    assert r.exit_code == 0 and r.stderr == ""


def test_a_derivative_that_is_not_finite_is_a_warning_as_in_eval():
    """sqrt(x)*y at x=0: every value is finite (sqrt(0) = 0), but ∂f/∂x is not, and eval
    says 'non-finite gradient: ∂f/∂x'; jacobian and hessian showed Infinity and said nothing
    (trial7's finding). The warning names exactly the entries of the matrix, read back from
    the command's own JSON, that are not finite."""
    import json
    import math

    from click.testing import CliRunner

    from cgraph.cli import cli

    assert "non-finite gradient: ∂f/∂x" in CliRunner().invoke(
        cli, ["eval", "sqrt(x)*y", "x=0", "y=1"]).stderr
    r = CliRunner().invoke(cli, ["jacobian", "a = sqrt(x); b = x*y", "x=0", "y=1",
                                 "--output", "a,b", "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    bad = [f"∂{o}/∂{v}" for o, row in zip(doc["outputs"], doc["matrix"])
           for v, d in zip(doc["variables"], row) if not math.isfinite(float(d))]
    assert bad == ["∂a/∂x"]
    assert r.stderr == "warning: non-finite derivative: ∂a/∂x\n"
    r = CliRunner().invoke(cli, ["hessian", "sqrt(x)*y", "x=0", "y=1", "--format", "json"])
    assert r.exit_code == 0, r.output
    h = json.loads(r.stdout)["matrix"]
    assert not math.isfinite(float(h[0][0])) and not math.isfinite(float(h[0][1]))
    assert math.isfinite(float(h[1][1]))
    assert r.stderr == "warning: non-finite second derivatives: ∂²f/∂x², ∂²f/∂x∂y\n"
    for command in ("jacobian", "hessian"):
        assert CliRunner().invoke(cli, [command, "sqrt(x)*y", "x=1", "y=1"]).stderr == ""
