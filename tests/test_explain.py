"""`cgraph explain` and `cgraph check`."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from cgraph import ops
from cgraph.cli import cli

from conftest import CASES


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def numbers(text):
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text)]


def test_tutorial_walkthrough_has_every_number_in_order():
    out = run("explain", "p = x + y; g = p * z", "x=1", "y=3", "z=-3").stdout
    # the tutorial's numbers, in its order: inputs, p = 4, g = -12, ∂g/∂g = 1, ∂g/∂p = z = -3,
    # ∂g/∂z = p = 4, then dp/dx = dp/dy = 1 and the chain rule (-3)·1 = -3 for x and y
    lines = [
        "p = x + y = 1 + 3 = 4",
        "g = p · z = 4 · (-3) = -12",
        "∂g/∂g = 1",
        "∂g/∂p = z = -3",
        "∂g/∂z = p = 4",
        "∂p/∂x = 1",
        "∂g/∂x = ∂g/∂p · ∂p/∂x = (-3) · 1 = -3",
        "∂p/∂y = 1",
        "∂g/∂y = ∂g/∂p · ∂p/∂y = (-3) · 1 = -3",
    ]
    at = 0
    for line in lines:
        found = out.find(line, at)
        assert found >= 0, line
        at = found + len(line)


def test_unnamed_nodes_get_names_defined_once():
    out = run("explain", "(x+y)*z", "x=1", "y=3", "z=-3", "--format", "text").stdout
    assert out.count("t2 = x + y = 1 + 3 = 4") == 1
    assert "f = t2 · z = 4 · (-3) = -12" in out


def test_sum_over_paths_is_explicit():
    out = run("explain", "a = sin(x); a*a + x", "x=0.5").stdout
    assert "∂f/∂a = 0.479426 + 0.479426 = 0.958851    (sum over 2 paths)" in out
    assert re.search(r"∂f/∂x = 1 \+ 0\.841471 = 1\.84147 +\(sum over 2 paths\)", out)


def test_the_two_operands_of_a_square_are_told_apart():
    """`a * a`: the two local partials and their chain-rule lines were the same text twice
    ("∂t2/∂a = a = 0.479426", twice), then a sum over 2 paths; they say which operand,
    as graph's edges say left and right."""
    out = run("explain", "a = sin(x); a*a + x", "x=0.5", "--format", "text").stdout
    lines = [line.strip() for line in out.splitlines()]
    assert len(set(lines) - {""}) == len([x for x in lines if x]), out  # no line twice
    for side in ("left", "right"):
        assert f"∂t2/∂a ({side}) = a = 0.479426" in lines
        assert f"∂f/∂a (via t2, {side}) = ∂f/∂t2 · ∂t2/∂a ({side}) = 1 · 0.479426 = " \
               "0.479426    (chain rule)" in lines
    md = run("explain", "x*x", "x=3", "--format", "markdown").stdout
    assert r"\frac{\partial f}{\partial x}\big|_{\text{right}} = x = 3" in md


def test_markdown_renders_math():
    out = run("explain", "(x+y)*z", "x=1", "y=3", "z=-3", "--format", "markdown").stdout
    assert "### Forward pass" in out and "### Backward pass" in out
    assert r"- $f = t_{2} \cdot z = 4 \cdot \left(-3\right) = -12$" in out
    assert all(line.count("$") % 2 == 0 for line in out.splitlines())


def test_the_o_suffix_picks_the_format_as_graph_does(tmp_path):
    """`-o page.html` writes the stepper page and `-o walk.md` Markdown (they were plain
    text); the rule for every command is tested in test_outputs.py."""
    args = ["explain", "(x+y)*z", "x=1", "y=3", "z=-3", "-o"]
    for name, start in [("p.html", "<!doctype html>"), ("p.HTM", "<!doctype html>"),
                        ("w.md", "### Forward pass"), ("w.txt", "Forward pass")]:
        r = CliRunner().invoke(cli, args + [str(tmp_path / name)])
        assert r.exit_code == 0 and r.stdout == "", r.output
        assert (tmp_path / name).read_text(encoding="utf-8").startswith(start), name


def test_explain_needs_bindings():
    r = run("explain", "x*y", "x=1")
    assert r.exit_code == 2 and "no value for y" in r.stderr


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_passes_on_every_op(name):
    text, points, _ = CASES[name]
    point = dict(zip("xyz", points[0]))
    r = run("check", text, *[f"{k}={v}" for k, v in point.items()], "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["ok"] is True


def test_check_fails_on_a_wrong_gradient(monkeypatch):
    wrong = ops.Op(**{**vars(ops.SIN), "partials": (lambda m, a, out: m.sin(a),)})
    monkeypatch.setitem(ops.FUNCTIONS, ("sin", 1), wrong)
    r = run("check", "sin(x)*y", "x=0.7", "y=2")
    assert r.exit_code == 1
    assert "gradient mismatch for x" in r.stderr
    rows = {line.split("\t")[0]: line.split("\t") for line in r.stdout.splitlines()}
    assert rows["x"][-1] == "MISMATCH" and rows["y"][-1] == "ok"


def test_check_warns_at_kinks():
    r = run("check", "abs(x) + max(y, 1)", "x=0", "y=1")
    assert "node 1 (abs(x)) sits on a kink" in r.stderr
    assert "max(y, 1)" in r.stderr
    for x, warned in [("0", True), ("0.5", False), ("1", True), ("2", False)]:
        r = run("check", "clamp(x, 0, 1)", f"x={x}")
        assert ("sits on a kink" in r.stderr) is warned, x


def test_check_tolerances_and_step():
    r = run("check", "exp(x)", "x=1", "--eps", "0.1", "--format", "json")
    assert r.exit_code == 1  # a coarse step: the central difference is off by ~0.17%
    r = run("check", "exp(x)", "x=1", "--eps", "0.1", "--rtol", "0.01", "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout)["variables"]["x"]["step"] == 0.1


def test_local_partials_treat_literals_as_numbers():
    out = run("explain", "x^2 + pi*x", "x=3", "--format", "text").stdout
    assert "∂t2/∂x = 2 · x = 6" in out  # the rule b·a^(b-1), simplified with b = 2
    assert "∂t4/∂x = pi = 3.14159" in out


def test_a_three_argument_op_in_latex():
    r = run("explain", "clamp(x, lo, 1)", "x=1", "lo=0", "--format", "markdown")
    assert r"f = \operatorname{clamp}\left(x, \mathrm{lo}, 1\right)" in r.stdout
    assert r"\frac{\partial f}{\partial \mathrm{lo}} = \operatorname{step}" in r.stdout


def test_a_comparison_in_latex_is_a_number_in_iverson_brackets():
    """`t_{7} = x = 1 = 1 = 1 = 1` was explain's LaTeX for `t7 = x == 1`: a comparison
    step now reads `[x = 1] = [1 = 1] = 1`, and where's local partial `[t_{2} \ne 0]`;
    in text, `(x == 1) = (1 == 1) = 1`."""
    out = run("explain", "f = where(x < y, x*2, y) + (x == 1)", "x=1", "y=3",
              "--format", "markdown").stdout
    assert r"$t_{2} = \left[x < y\right] = \left[1 < 3\right] = 1$" in out
    assert r"$t_{7} = \left[x = 1\right] = \left[1 = 1\right] = 1$" in out
    assert (r"\frac{\partial t_{5}}{\partial t_{4}} = \left[t_{2} \ne 0\right] = 1$"
            in out)
    assert r"\text{if } t_{2} \ne 0 \\ y & \text{otherwise}" in out
    # and in text, in parentheses: `t2 = x < y = 1 < 3 = 1` read as a chain of tests
    text = run("explain", "f = where(x < y, x*2, y) + (x == 1)", "x=1", "y=3",
               "--format", "text").stdout
    assert "  t2 = (x < y) = (1 < 3) = 1\n" in text and "  t7 = (x == 1) = (1 == 1) = 1\n" in text
    assert "    ∂t5/∂t4 = (t2 != 0) = 1\n" in text


def test_a_variable_used_everywhere_costs_linear_work(monkeypatch):
    """Each edge into x asked how many of x's users pass it a gradient, walking all of
    them: a 50,000-statement chain that uses x in every statement never finished. The
    count is taken once per input; the work (users walked) is linear in the edges."""
    import cgraph
    from cgraph import explain

    walked = []
    real = explain._paths

    def counted(g, j, users, *rest):
        walked.append(len(users))
        return real(g, j, users, *rest)

    monkeypatch.setattr(explain, "_paths", counted)
    n = 2000
    program = "a0 = x\n" + "".join(f"a{i} = sin(a{i - 1})*x + 1\n" for i in range(1, n))
    g = cgraph.parse(program)
    sections = explain.walkthrough(g.evaluate({"x": 0.5}))
    edges = sum(len(node.inputs) for node in g.nodes)
    assert sum(walked) <= 2 * edges, (sum(walked), edges)
    assert "sum over 2000 paths" in explain.to_text(sections)


@pytest.mark.parametrize("args", [
    ["p = x + y; g = p * z", "x=1", "y=3", "z=-3"],
    ["sigmoid(w*x + b)", "w=0.5", "x=1.5", "b=0.1", "--mode", "forward"],
])
def test_the_terminal_says_what_a_pipe_gets(args):
    """On a terminal the notes lost their parentheses (dim italic stood for them, and dim
    may not show: '= -3    chain rule') and a blank line ended the output; the README shows
    the piped text. Now the screen reads as the text, styles aside."""
    import subprocess
    import sys

    from terminal import env_for, on_terminal

    piped = subprocess.run([sys.executable, "-m", "cgraph", "explain", *args],
                           capture_output=True, text=True, env=env_for(), check=True).stdout
    shown = on_terminal(["explain", *args], 120)
    assert shown.status == 0 and shown.stderr == ""
    if "--mode" not in args:
        assert "(chain rule)" in shown.screen
    assert shown.screen == piped


@pytest.mark.parametrize("args, line", [
    (["-x + 1", "x=2"], "t1 = -x = -2"),  # was t1 = -x = -2 = -2
    (["-(2)*x + sin(0)*x", "x=2"], "t5 = sin(0) = 0"),  # was sin(0) = sin(0) = 0
    (["-(2)*x", "x=2"], "t1 = -2"),  # was -2 = -2 = -2
    (["-x + 1", "x=2", "--mode", "forward"], "t1̇ = -ẋ = -1"),
    (["-x + 1", "x=-2"], "t1 = -x = -(-2) = 2"),  # the substituted form is no repeat here
])
def test_a_term_that_reads_as_the_next_is_said_once(args, line):
    """explain said `t1 = -x = -2 = -2`: the substituted form read as the value. In text,
    Markdown and on a terminal (40 and 80 columns) each line now says a term once; the
    page keeps the repeat in its template, whose numbers change with its inputs."""
    from terminal import on_terminal

    from cgraph import explain

    text = run("explain", *args, "--format", "text").stdout
    assert line in [said.strip() for said in text.splitlines()], text
    markdown = run("explain", *args, "--format", "markdown").stdout
    for said in (text.splitlines(), re.findall(r"\$(.*)\$", markdown)):
        for one in said:
            terms = one.split("    (")[0].split(" = ")
            assert all(a != b for a, b in zip(terms[1:], terms[2:])), one
    for width in (40, 80):
        shown = on_terminal(["explain", *args], width)
        assert shown.status == 0 and f" {line}" in shown.screen, shown.screen
    if "--mode" not in args:  # the page: the step's template keeps every term
        import cgraph

        point = {k: float(v) for k, v in (a.split("=") for a in args[1:])}
        ev = cgraph.parse(args[0]).evaluate(point)
        step = next(s for sec in explain.walkthrough(ev) for s in sec.lines
                    if s.text() == line)
        pieces, holes = step.template()
        assert "\x00".join(pieces).count(" = ") == len(step.terms) - 1, pieces


@pytest.mark.parametrize("program, bindings, statement", [
    ("x", ["x=1"], r"- $f = x$"),
    ("a = x", ["x=1"], r"- $a = x$"),
    ("2", [], r"- $f = 2$"),
    ("p = x + y; g = p * z", ["x=1", "y=3", "z=-3"], r"- $p = x + y$"),
])
def test_the_graph_section_says_what_a_one_input_program_is(program, bindings, statement):
    """`explain x x=1 --diagrams` began its graph with "$x = \\operatorname{var}\\left(\\right)$"
    (and `explain 2` with "f = const()"): the op of a node without inputs, applied to
    nothing. The statement is the program's: its output is that input, f = x."""
    r = run("explain", program, *bindings, "--diagrams", "--format", "markdown")
    assert r.exit_code == 0, r.output
    graph = r.stdout.split("### The graph\n\n")[1]
    assert graph.splitlines()[0] == statement
    assert "operatorname{var}" not in r.stdout and "operatorname{const}" not in r.stdout


def test_a_negative_argument_of_a_function_takes_no_second_parentheses():
    """`tanh(x)` at x = -3 read `tanh((-3))` (LaTeX `\\tanh\\left(\\left(-3\\right)\\right)`,
    the page the same): a function's argument was put in parentheses as an operand of
    a product is. An operator's operand keeps them."""
    args = ("y = tanh(x) + max(x, -x) + x^2 + x*x", "x=-3")
    text = run("explain", *args, "--format", "text").stdout
    for line in ("t1 = tanh(x) = tanh(-3) = -0.995055", "t2 = -x = -(-3) = 3",
                 "t3 = max(x, t2) = max(-3, 3) = 3", "t6 = x^2 = (-3)^2 = 9",
                 "t8 = x · x = (-3) · (-3) = 9"):
        assert f"  {line}\n" in text, line
    assert "((" not in text
    latex = run("explain", *args, "--format", "markdown").stdout
    assert r"\tanh\left(-3\right) = -0.995055" in latex
    assert r"\left(\left(" not in latex
    from cgraph import explain, parse

    step = next(s for sec in explain.walkthrough(parse(args[0]).evaluate({"x": -3.0}))
                for s in sec.lines if s.text().startswith("t1 = tanh(x)"))
    assert [paren for _, paren in step.template()[1]] == [False, False]  # the page's holes


@pytest.mark.parametrize("program, bindings", [
    ("z = w*x + b; loss = (sigmoid(z) - t)^2", ["w=0.5", "x=1", "b=0.1", "t=1"]),
    ("(x+y)*z", ["x=1", "y=3", "z=-3"]),
    ("h[j] = tanh(W[j,1]*x + b[j]) for j in 1..2; loss = (h[1] + h[2] - t)^2",
     ["W[1,1]=0.5", "W[2,1]=-0.3", "b[1]=0.1", "b[2]=0.2", "x=1", "t=0.5"]),
    ("sq(a) = a*a; n(u) = tanh(w*u + b); n(sq(x+1)) + n(x)", ["w=0.5", "b=-1", "x=2"]),
    ("c = where(x < 2, -x^2, x/(1-x)); d = (c != 0) - 2^-x", ["x=1"]),
])
def test_the_graph_section_writes_each_statement_as_the_program_does(program, bindings):
    """The graph section's captions read `z = t2 + b` and `loss = t7^2`: the statement's
    last op over `t<id>` names that neither its picture (structure only) nor the text had
    introduced. Each caption is now the statement written out down to names and numbers,
    and evaluating it (as a cgraph program) at the values gives the statement's value."""
    import cgraph
    from cgraph import explain

    r = run("explain", program, *bindings, "--diagrams", "--format", "markdown")
    assert r.exit_code == 0, r.output
    captions = [line for line in r.stdout.split("### The graph\n\n")[1]
                .split("### Forward pass")[0].splitlines() if line.startswith("- $")]
    assert captions and not any(re.search(r"t_\{\d+\}", c) for c in captions), captions
    ev = cgraph.parse(program).evaluate({k: float(v) for k, v in
                                         (a.split("=") for a in bindings)})
    g = ev.graph
    known = {n.name: ev.values[n.id] for n in g.nodes if n.name}
    sections, _ = explain.with_diagrams(explain.walkthrough(ev), ev)
    steps = [s for s in sections[0].lines if isinstance(s, explain.Step)]
    assert len(steps) == len(captions)
    for step in steps:
        name, rhs = step.text().split(" = ", 1)
        assert not re.search(r"\bt\d+\b", rhs), rhs
        value = known.get(name, ev.value)
        got = cgraph.parse(rhs.replace("·", "*")).evaluate(known)
        assert got.value == pytest.approx(value, rel=1e-12), (step.text(), value)


def test_a_statement_too_long_to_write_out_keeps_its_parts_names():
    """A call nested in itself shares its argument: written out in full, f(f(…f(x)…)) 30
    deep would be 3^30 terms long. A part longer than formula's INLINE_MAX keeps its t<id>."""
    program = "f(a) = a*a + a; y = " + "f(" * 30 + "x" + ")" * 30
    r = run("explain", program, "x=0.5", "--diagrams", "--format", "markdown")
    assert r.exit_code == 0, r.output
    caption = r.stdout.split("### The graph\n\n")[1].splitlines()[0]
    assert caption.startswith(r"- $y = ") and len(caption) < 400, caption
