"""`cgraph jacobian` and `--output` through the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cgraph.cli import cli

POLAR = ["r = sqrt(x^2 + y^2); t = atan2(y, x)", "x=1", "y=1", "--output", "r,t"]


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_formats():
    doc = json.loads(run("jacobian", *POLAR, "--format", "json").stdout)
    assert doc["outputs"] == ["r", "t"] and doc["variables"] == ["x", "y"]
    assert doc["matrix"] == [[pytest.approx(2 ** -0.5)] * 2, [-0.5, 0.5]]
    assert run("jacobian", *POLAR).stdout == (
        "output\tx\ty\nr\t0.7071067811865475\t0.7071067811865475\nt\t-0.5\t0.5\n")
    assert run("jacobian", *POLAR, "--format", "csv", "--digits", "3").stdout == (
        "output,x,y\nr,0.707,0.707\nt,-0.5,0.5\n")
    assert run("jacobian", *POLAR, "--format", "latex").stdout == (
        "\\begin{pmatrix}\n  0.7071067811865475 & 0.7071067811865475 \\\\\n"
        "  -0.5 & 0.5\n\\end{pmatrix}\n")
    table = run("jacobian", *POLAR, "--format", "table").stdout
    assert "0.707107" in table and "reverse mode: 2 passes" in table


@pytest.mark.parametrize("args, mode, why", [
    (["--output", "p,q,s"], "forward", "2 variables < 3 outputs"),
    (["--output", "p,q"], "reverse", "2 outputs <= 2 variables"),
    (["--output", "p,q,s", "--mode", "reverse"], "reverse", "as asked"),
])
def test_verbose_says_which_mode(args, mode, why):
    r = run("jacobian", "p = x*y; q = x + y; s = sin(p)", "x=1", "y=2", *args, "--verbose")
    assert r.exit_code == 0
    assert r.stderr.startswith(f"{mode} mode ({why}): ")
    assert run("jacobian", "p = x*y; q = x + y; s = sin(p)", "x=1", "y=2",
               *args).stderr == ""


def test_verbose_on_a_terminal_says_the_mode_once():
    """The table's caption said "by forward mode: 2 passes" under --verbose's "forward
    mode (2 variables < 3 outputs): 2 passes, one per variable": the mode twice."""
    from terminal import on_terminal

    args = ["jacobian", "p = x*y; q = x + y; s = sin(p)", "x=1", "y=2", "--output", "p,q,s"]
    shown = on_terminal([*args, "--verbose"], 80)
    assert shown.status == 0
    assert shown.stderr.strip() == "forward mode (2 variables < 3 outputs): 2 passes, one " \
                                   "per variable"
    assert "(∂row/∂column)" in shown.screen and "mode" not in shown.screen
    plain = on_terminal(args, 80)  # without --verbose the caption says it
    assert plain.stderr == "" and "(∂row/∂column, by forward mode: 2 passes)" in plain.screen


@pytest.mark.parametrize("args, message", [
    (["eval", "p = x*y; q = p + 1", "x=1", "y=2", "--output", "r"],
     "--output: 'r' is not a named node of the program (named nodes: p, q)"),
    (["eval", "p = x*y; q = p + 1", "x=1", "y=2", "--output", "x"],
     "--output: 'x' is a variable, not a statement (named nodes: p, q)"),
    (["eval", "(x+y)*z", "x=1", "y=1", "z=1", "--output", "t2"],
     "--output: 't2' is not a named node of the program (named nodes: f)"),
    (["jacobian", "p = x*y; q = p + 1", "x=1", "y=2", "--output", "p,pp"],
     "--output: 'pp' is not a named node of the program; did you mean 'p'? "
     "(named nodes: p, q)"),
    (["jacobian", "p = x*y", "x=1", "y=2", "--wrt", "z"],
     "--wrt: 'z' is not a variable of the program"),
])
def test_bad_outputs_exit_2_with_one_line(args, message):
    r = run(*args)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"Error: {message}\n"


def test_one_output_is_byte_for_byte_what_it_was():
    program = ["p = x + y; g = p * z", "x=1", "y=3", "z=-3"]
    for fmt in ("tsv", "csv", "json", "markdown", "table"):
        plain = run("eval", *program, "--format", fmt).stdout
        assert run("eval", *program, "--format", fmt, "--output", "g").stdout == plain


def test_several_outputs_in_every_format():
    program = ["p = x + y; g = p * z", "x=1", "y=3", "z=-3", "--output", "p,g"]
    assert run("eval", *program).stdout.splitlines()[0] == (
        "id\top\tname\texpr\tvalue\tgrad_p\tgrad_g")
    doc = json.loads(run("eval", *program, "--format", "json").stdout)
    assert doc["outputs"]["p"] == {"value": 4.0, "gradient": {"x": 1.0, "y": 1.0, "z": 0.0}}
    assert doc["outputs"]["g"]["gradient"] == {"x": -3.0, "y": -3.0, "z": 4.0}
    assert doc["nodes"][3]["grad_p"] == 0.0 and doc["nodes"][3]["grad_g"] == 4.0
    assert "**p = 4   g = -12**; ∂p/∂x = 1, ∂p/∂y = 1, ∂p/∂z = 0\n∂g/∂x = -3" in run(
        "eval", *program, "--format", "markdown").stdout


def test_several_outputs_with_data(tmp_path):
    data = tmp_path / "points.csv"
    data.write_text("x,y\n1,3\n2,0.5\n")
    r = run("eval", "p = x + y; g = p * x", "--data", str(data), "--output", "p,g")
    assert r.stdout == ("x,y,p,dp_dx,dp_dy,g,dg_dx,dg_dy\n"
                        "1,3,4,1,1,4,5,1\n2,0.5,2.5,1,1,5,4.5,2\n")
    assert run("eval", "p = x + y; g = p * x", "--data", str(data)).stdout == (
        "x,y,g,dg_dx,dg_dy\n1,3,4,5,1\n2,0.5,5,4.5,2\n")


def test_diff_and_check_take_several_outputs():
    program = ["p = x*y; q = sin(p) + x", "--output", "p,q"]
    assert run("diff", *program).stdout == (
        "p = x * y\ndp_dx = y\ndp_dy = x\ndq_dx = y * cos(p) + 1\ndq_dy = x * cos(p)\n")
    doc = json.loads(run("diff", *program, "x=1", "y=2", "--format", "json").stdout)
    assert doc["outputs"] == ["p", "q"] and doc["names"]["q"]["y"] == "dq_dy"
    assert doc["values"]["q"]["x"] == pytest.approx(1 + 2 * __import__("math").cos(2))
    r = run("check", *program, "x=1", "y=2")
    assert r.exit_code == 0
    assert [line.split("\t")[0] for line in r.stdout.splitlines()[1:]] == [
        "∂p/∂x", "∂p/∂y", "∂q/∂x", "∂q/∂y"]
    assert run("diff", "p = x*y; q = sin(p) + x", "--output", "q").stdout == run(
        "diff", "p = x*y; q = sin(p) + x").stdout
