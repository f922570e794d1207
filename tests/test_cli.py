"""`cgraph eval` through click's CliRunner, and a few real subprocess runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import click
from click.testing import CliRunner

import cgraph
from cgraph import __version__
from cgraph.cli import cli

TUTORIAL = ["(x+y)*z", "x=1", "y=3", "z=-3"]


def run(*args, input=None, env=None):
    result = CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)
    return result


def test_json_is_the_contract():
    r = run("eval", *TUTORIAL, "--format", "json")
    assert r.exit_code == 0 and r.stderr == ""
    doc = json.loads(r.stdout)
    assert doc["program"] == "(x+y)*z" and doc["output"] == "f" and doc["value"] == -12.0
    assert doc["inputs"] == {"x": 1.0, "y": 3.0, "z": -3.0}
    assert doc["gradient"] == {"x": -3.0, "y": -3.0, "z": 4.0}
    add = doc["nodes"][2]
    assert add == {"id": 2, "op": "add", "name": None, "expr": "x + y", "inputs": [0, 1],
                   "value": 4.0, "grad": -3.0}
    assert doc["nodes"][-1]["expr"] == "t2 * z"
    ids = [n["id"] for n in doc["nodes"]]
    assert all(i in ids[: ids.index(n["id"])] for n in doc["nodes"] for i in n["inputs"])


def test_json_named_intermediate_and_wrt():
    r = run("eval", "p = x + y; g = p * z", "x=1", "y=3", "z=-3", "--format", "json",
            "--wrt", "z,x")
    doc = json.loads(r.stdout)
    assert doc["output"] == "g" and doc["gradient"] == {"z": 4.0, "x": -3.0}
    assert [n["expr"] for n in doc["nodes"]][2:] == ["x + y", "z", "p * z"]


def test_json_non_finite_numbers_are_strings_and_full_precision():
    r = run("eval", "a = log(x); b = 1/y; a + b + 0*z", "x=0", "y=0", "z=0.1",
            "--format", "json")
    doc = json.loads(r.stdout)  # strict: json.loads would accept NaN, so check the text too
    assert "NaN" not in r.stdout.replace('"NaN"', "")
    assert doc["nodes"][1]["value"] == "-Infinity" and doc["nodes"][4]["value"] == "Infinity"
    r = run("eval", "x/3", "x=1", "--format", "json")
    assert json.loads(r.stdout)["value"] == 1 / 3


def test_temporaries_never_collide_with_user_names():
    doc = json.loads(run("eval", "t2 * (x + y)", "t2=1", "x=1", "y=2", "--format",
                         "json").stdout)
    names = {"t2", "x", "y"}
    exprs = [n["expr"] for n in doc["nodes"]]
    assert exprs[-1] != "t2 * t3" and exprs[-1].startswith("t2 * ")
    assert exprs[-1].split(" * ")[1] not in names


def test_tsv_and_csv():
    r = run("eval", "-", "x=0.5", "--format", "tsv", input="x^2 + sin(x)\n")
    lines = r.stdout.splitlines()
    assert lines[0].split("\t") == ["id", "op", "name", "expr", "value", "grad"]
    assert lines[-1].split("\t")[3] == "t2 + t3"
    assert float(lines[-1].split("\t")[4]) == 0.25 + 0.479425538604203
    r = run("eval", "max(x, y)", "x=1", "y=2", "--format", "csv")
    assert r.stdout.splitlines()[-1] == '2,max,,"max(x, y)",2,1'


def test_default_format_is_tsv_when_not_a_terminal():
    assert run("eval", *TUTORIAL).stdout.startswith("id\top\tname\texpr\tvalue\tgrad\n")


def test_table_and_markdown():
    r = run("eval", *TUTORIAL, "--format", "table")
    assert "f = -12" in r.stdout and "∂f/∂x = -3" in r.stdout and "∂f/∂z = 4" in r.stdout
    assert "\x1b[" not in r.stdout
    md = run("eval", *TUTORIAL, "--format", "markdown").stdout
    assert md.splitlines()[0].startswith("| # | node |") and "**f = -12**" in md


def test_markdown_shows_names_as_written_when_rendered():
    """A CommonMark renderer (markdown-it, which rich brings) shows every name as typed: `__a__`
    was bold "a" and `_b_` italic "b" in the node column, heading and gradient line."""
    from markdown_it import MarkdownIt

    md = run("eval", "_o_ = __a__ * _b_ + a_b", "__a__=1", "_b_=2", "a_b=3",
             "--format", "markdown").stdout
    html = MarkdownIt().enable("table").render(md)
    assert "<em>" not in html and "<strong>a<" not in html
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html)
    assert ["__a__", "_b_", "a_b", "_o_"] == [c for c in cells if c in ("__a__", "_b_", "a_b",
                                                                         "_o_")]
    assert "∂_o_/∂node" in cells
    assert "<strong>_o_ = 5</strong>; ∂_o_/∂__a__ = 2, ∂_o_/∂_b_ = 1, ∂_o_/∂a_b = 1" in html


def test_table_of_200_nodes_fits_80_columns_without_truncation():
    long = "a_rather_long_input_name"
    text = "; ".join(f"v{i} = atan2(v{i - 1} * {long}, {long}_number_two + v{i - 1})"
                     if i else "v0 = x" for i in range(40))
    r = run("eval", text, "x=0.5", f"{long}=2", f"{long}_number_two=3", "--format", "table",
            env={"COLUMNS": "80"})
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert len([n for n in lines if "│" in n]) >= 200
    assert max(len(line) for line in lines) <= 80
    table = lines[next(i for i, line in enumerate(lines) if "┃" in line):]  # after the title
    assert "…" not in "\n".join(table)  # nothing cut: long cells fold onto more lines
    # the longest expr is folded across lines, not cut: its pieces are all there
    expr_cells = "".join(line.split("│")[3].strip() for line in lines if line.count("│") == 5)
    assert f"v38*{long}" in expr_cells.replace(" ", "")
    assert f"{long}_number_two+v38" in expr_cells.replace(" ", "")


def test_digits():
    r = run("eval", "x/3", "x=1", "--format", "tsv", "--digits", "3")
    assert r.stdout.splitlines()[-1].split("\t")[4] == "0.333"


def test_program_from_file_and_stdin(tmp_path):
    model = tmp_path / "model.cg"
    model.write_text("# a neuron\nz = w*x + b\ny = sigmoid(z)\nloss = (y - t)^2\n")
    r = run("eval", "--file", str(model), "w=0.8", "x=1.2", "b=-0.1", "t=0.5", "--wrt", "w,b",
            "--format", "json")
    doc = json.loads(r.stdout)
    assert doc["output"] == "loss" and list(doc["gradient"]) == ["w", "b"]
    r = run("eval", "--file", "-", "x=2", "--format", "json", input="x^3")
    assert json.loads(r.stdout)["gradient"] == {"x": 12.0}


def test_program_starting_with_a_minus_sign():
    r = run("eval", "-x^2", "x=3", "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["value"] == -9.0
    r = run("eval", "--format", "json", "-x^2", "x=3")
    assert json.loads(r.stdout)["value"] == -9.0
    r = run("eval", "--format", "json", "--", "-x*y", "x=3", "y=2")
    assert json.loads(r.stdout)["value"] == -6.0


def test_bindings_are_constant_expressions():
    r = run("eval", "sin(x) + y", "x=pi/2", "y=-1e-3", "--format", "json")
    assert json.loads(r.stdout)["inputs"] == {"x": 1.5707963267948966, "y": -0.001}


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r" ?[+-]?(\d{1,20}(\.\d{0,20})?|\.\d{1,20})([eE][+-]?\d{1,3})? ?",
                     fullmatch=True))
def test_a_number_binding_is_what_parsing_it_gives(text):
    """Plain numbers skip the parser (a big program's bindings): the same float, sign of
    zero included, as the constant expression parsed and evaluated; or, for a number no
    double holds (1e999 would be Infinity, 1e-400 would be 0), an error in both."""
    from cgraph.bindings import constant_value
    from cgraph.errors import BindingError, NumberError

    try:
        graph = cgraph.parse(text)
    except NumberError:
        with pytest.raises(BindingError, match="double"):
            constant_value(text)
        return
    parsed = graph.forward({})[graph.output]
    assert repr(constant_value(text)) == repr(parsed), text


def test_bindings_take_the_non_finite_values_cgraph_prints():
    """cgraph prints Infinity and NaN, and --data reads them: a binding takes them back
    (x=inf was 'must be a constant expression, but it uses inf')."""
    r = run("eval", "log(x) + y + z", "x=Infinity", "y=-inf", "z=NaN", "--format", "json")
    assert json.loads(r.stdout)["inputs"] == {"x": "Infinity", "y": "-Infinity", "z": "NaN"}
    assert json.loads(run("eval", "x", "x=+INF", "--format", "json").stdout)["value"] == (
        "Infinity")
    r = run("eval", "x", "x=2*inf")  # a word on its own, not a name inside an expression
    assert r.exit_code == 2 and "uses the name inf: write a number or a constant " \
        "expression such as pi/4 (inf is Infinity only on its own: x=inf)" in r.stderr


@pytest.mark.parametrize("args,code,message", [
    (["eval", "(x+*y)", "x=1", "y=2"], 2, "unexpected '*'"),
    (["eval", "sine(x)", "x=1"], 2, "did you mean 'sin'?"),
    (["eval", "ln(x)", "x=1"], 2, "did you mean 'log'?"),  # other notations' names
    (["eval", "arcsin(x)", "x=1"], 2, "did you mean 'asin'?"),
    (["eval", "sin(x, y)", "x=1", "y=1"], 2, "takes 1 argument"),
    (["eval", "x + y", "x=1"], 2, "no value for y"),
    (["eval", "x + y", "x=1"], 2, "no value for y; bind it as y=VALUE"),
    (["eval", "x + y"], 2, "no value for x, y; bind them as x=VALUE y=VALUE"),
    (["eval", "sin + 1"], 2,  # a function named without its brackets is a variable
     "no value for sin; bind it as sin=VALUE ('sin' alone is a variable; the function is "
     "sin(…))"),
    (["eval", "2*π*x", "x=1"], 2,  # pasted from a formula: π is a letter, so a name
     "no value for π; bind it as π=VALUE (π is a variable here; the constant is pi)"),
    (["eval", "x", "x=1", "x=2"], 2, "x is bound twice (x=1, then x=2): give it one value"),
    (["eval", "x", "x"], 2, "malformed binding 'x'"),
    (["eval", "x", "x=1+"], 2, "not a valid expression"),
    (["eval", "x", "x=y"], 2, "the value of x, 'y', uses the name y: write a number or a "
                               "constant expression such as pi/4"),
    (["eval", "x", "x=1", "xx=2"], 2, "'xx' is not a variable of the program"),
    (["eval", "x * pi", "x=1", "pi=3"], 2, "cannot bind the constant 'pi'"),
    (["eval", "pi = 3; pi"], 2, "cannot assign to the constant 'pi'"),
    (["eval", "a = x; a = 2*x", "x=1"], 2, "assigned twice"),
    (["eval", "x", "x=1", "--wrt", "y"], 2, "--wrt: 'y' is not a variable"),
    (["eval", "x", "x=1", "--format", "xml"], 2, "Invalid value for '--format'"),
    (["eval", "x", "x=1", "--bogus"], 2, "No such option"),
    (["eval"], 2, "missing PROGRAM"),
    (["eval", "log(x)", "x=0", "--strict"], 1, "is -Infinity"),
    (["eval", ""], 2, "empty"),
])
def test_exit_status_and_message(args, code, message):
    r = run(*args)
    assert r.exit_code == code, r.output
    assert r.stdout == ""
    assert message in r.stderr
    assert "Traceback" not in r.stderr


_WIDE = "; ".join(f"s{i} = sqrt(x{i})" for i in range(200)) + "; " + \
    " + ".join(f"s{i}" for i in range(200))  # 200 variables, 200 named statements
_ALL = lambda v: [f"x{i}={v}" for i in range(200)]  # noqa: E731


@pytest.mark.parametrize("args,code,start", [
    (["eval", _WIDE], 2, "no value for x0, x1, x2, "),
    (["eval", _WIDE, "y=1"], 2, "'y' is not a variable of the program (its variables: x0, "),
    (["eval", _WIDE, *_ALL(1), "--output", "q"], 2, "--output: 'q' is not a named node of "
                                                    "the program (named nodes: s0, s1, "),
    (["codegen", _WIDE, *_ALL(1)], 2, "codegen takes no bindings (x0, "),
    (["check", _WIDE, *_ALL(-1)], 1, "not finite (nothing to compare) for x0, "),
    (["check", _WIDE, *_ALL(1), "--eps", "1e-300"], 1, "gradient mismatch for x0, "),
    (["eval", _WIDE, *_ALL(-1), "--format", "json"], 0, "warning: node 1"),
    (["graph", _WIDE, "--grads"], 2, "--grads needs a value for every variable, e.g. x0=1 "),
])
def test_a_message_about_a_big_program_names_a_few_names_not_all(args, code, start):
    """A message that lists names stays one short line on a big program: with 3,000
    variables it was 20-55 KB on one line ("no value for x0, …, x2999; bind them as
    x0=VALUE …")."""
    r = run(*args)
    assert r.exit_code == code, r.stderr[:300]
    lines = r.stderr.splitlines()
    assert lines and all(len(line) < 300 for line in lines), [len(x) for x in lines]
    assert lines[0].removeprefix("Error: ").startswith(start)
    assert re.search(r" and 19[01] more|x9=1 …$", r.stderr.rstrip()), r.stderr


def _integer_options():
    for name, command in sorted(cli.commands.items()):
        for param in command.params:
            if isinstance(param, click.Option) and isinstance(param.type, click.types.IntParamType):
                yield name, max(param.opts, key=len), param.type


@pytest.mark.parametrize("command, option, kind", list(_integer_options()))
def test_every_integer_option_says_whole_number_and_its_range(command, option, kind):
    r = run(command, "x", "x=1", option, "abc")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith(f"Error: {option}: 'abc' is not a whole number (see ")
    r = run(command, "x", "x=1", option, "1.5")
    assert f"{option}: '1.5' is not a whole number" in r.stderr
    below = kind.min - 1
    r = run(command, "x", "x=1", option, str(below))
    words = f"{kind.min} to {kind.max}" if kind.max is not None else f"at least {kind.min}"
    assert r.exit_code == 2 and f"Error: {option}: {below} is out of range ({words}) (see" in r.stderr
    assert r.stderr.count("\n") == 1
    if kind.max is not None:
        r = run(command, "x", "x=1", option, "1e400")
        assert f"{option}: 1e400 is out of range ({words})" in r.stderr


def test_an_integer_option_takes_a_whole_number_in_any_spelling():
    for spelling in ("3", "3.0", "3e0", " 3"):
        r = run("eval", "x/3", "x=1", "--digits", spelling, "--format", "tsv")
        assert r.exit_code == 0 and "0.333\t" in r.stdout, (spelling, r.stderr)


def test_a_number_option_names_itself_first():
    r = run("descend", "(w-1)^2", "w=0", "--lr", "-1")
    assert r.stderr.startswith("Error: --lr: -1 is not greater than 0 (see ")


@pytest.mark.parametrize("command", ["eval", "graph", "explain", "diff", "check",
                                     "jacobian", "hessian", "descend"])
@pytest.mark.parametrize("args, example", [
    (["x=1", "y=2"], '"x*y" x=1 y=2'),          # read as the program `x=1`: y unknown
    (["x=2±0.1", "y=3"], '"x*y" x=2±0.1 y=3'),  # as a program: a syntax error
    (["x=2±0.1"], '"x*2" x=2±0.1'),
    (["w=[1,2]", "y=1"], "PROGRAM w=[1,2] y=1"),
    (["x=1", "x=1"], '"x*2" x=1'),            # the example binds x once
    (["x=1", "y=2", "x=3"], '"x*y" y=2 x=3'),
])
def test_a_binding_where_the_program_goes_says_the_program_comes_first(command, args,
                                                                       example):
    r = run(command, *args)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == (f"Error: missing PROGRAM: {args[0]!r} looks like a binding, and the "
                        f"program comes first (e.g. cli {command} {example}) "
                        f"(see 'cli {command} --help')\n")


def test_wrt_names_an_element_with_its_commas_and_a_family_says_so():
    """`--wrt 'W[1,1],b'` names W[1,1] and b (it was split at every comma: "'W[1' is not a
    variable of the program"), written as a binding may be (`W[1, 01]`); `--wrt W`, a
    family, says to name its elements."""
    program, bind = "W[1,1]*W[1,2]*b", ["W=[[1,2]]", "b=3"]
    for wrt, gradient in [("W[1,1],b", '{"W[1,1]": 6.0, "b": 2.0}'),
                          ("W[1, 2], W[1,01]", '{"W[1,2]": 3.0, "W[1,1]": 6.0}')]:
        r = run("eval", program, *bind, "--wrt", wrt, "--fields", "gradient")
        assert r.exit_code == 0 and r.stdout == '{"gradient": %s}\n' % gradient, r.stderr
    r = run("eval", program, *bind, "--wrt", "W")
    assert r.exit_code == 2 and r.stderr.startswith(
        "Error: --wrt: 'W' is a family: name its elements (W[1,1], W[1,2]), or leave --wrt "
        "out for every variable")
    r = run("eval", program, *bind, "--wrt", "W[1,1]]")
    assert r.exit_code == 2 and "'W[1,1]]' is not a variable of the program" in r.stderr


@pytest.mark.parametrize("command", ["eval", "codegen"])
def test_a_file_name_where_the_program_goes_says_use_file(command, tmp_path, monkeypatch):
    """`cgraph eval model.cg x=1` read the file's name as a program: 'unexpected character
    '.''. A program that does not parse and names a file says to read it with --file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.cg").write_text("w*x\n")
    r = run(command, "model.cg", "w=1", "x=[0, 1]")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == (f"Error: 'model.cg' is the name of a file, not a program: read the "
                        f"program from it with --file (cli {command} --file model.cg w=1 "
                        f"'x=[0, 1]') (see 'cli {command} --help')\n")
    r = run(command, "other.cg")  # no such file: the syntax error
    assert r.exit_code == 2 and "unexpected character '.'" in r.stderr


def test_a_program_that_is_one_constant_assignment_runs_with_a_hint(tmp_path):
    """`cgraph eval x=1` is a valid program (x is assigned the constant 1), so it runs;
    but a user who forgot the program typed it, so stderr says how to give one."""
    r = run("eval", "x=1", "--format", "tsv")
    assert r.exit_code == 0 and r.stdout.splitlines()[1].split("\t")[:5] == \
        ["0", "const", "x", "x", "1"]
    assert r.stderr == ("warning: the program 'x=1' sets x to a constant and has no "
                        "variables; if it is a binding, the program comes first (e.g. cli "
                        "eval \"x*2\" x=1)\n")
    for program in ("x = 1", "y=x^2", "x=1; y=2*x", "1"):  # not one binding-like word
        r = run("eval", program, "x=1" if "x^" in program else "--strict", "--format", "tsv")
        assert "comes first" not in r.stderr, (program, r.stderr)
    r = run("codegen", "x=1", "y=2")  # codegen takes no bindings: its own message
    assert "codegen takes no bindings" in r.stderr
    path = tmp_path / "prog.cg"  # a file or standard input holding `x=1` is a program, meant
    path.write_text("x=1\n")
    r = run("eval", "--file", str(path), "--format", "tsv")
    assert r.exit_code == 0 and r.stderr == ""
    r = run("eval", "-", "--format", "tsv", input="x=1\n")
    assert r.exit_code == 0 and r.stderr == ""


def test_syntax_error_shows_the_line_and_a_caret():
    r = run("eval", "x + (y * )", "x=1", "y=1")
    lines = r.stderr.splitlines()
    assert lines[0].startswith("Error: unexpected ')'") and "expected" in lines[0]
    assert lines[1] == "  x + (y * )" and lines[2] == "           ^"


def test_non_finite_warns_on_stderr_and_exits_0():
    r = run("eval", "sqrt(x) + log(x)", "x=0", "--format", "json")
    assert r.exit_code == 0
    assert "warning: node 2 (t2 = log(x)) is -Infinity" in r.stderr
    assert "non-finite gradient: ∂f/∂x" in r.stderr


def test_the_gradient_warning_names_the_entries_asked_for():
    """trial7: `eval "sqrt(x)*y + x" x=0 y=1 --wrt y` warned 'non-finite gradient for x' and
    --strict failed on it, though the gradient shown is ∂f/∂y = 0; with several outputs
    only the first output's gradient was looked at (q's NaN ∂q/∂y went unsaid). Now the
    warning names each entry as the summary shows it, of the variables asked for."""
    import json

    import sympy

    program, point = "sqrt(x)*y + x", ["x=0", "y=1"]
    whole = run("eval", program, *point, "--fields", "gradient")
    assert whole.stderr == "warning: non-finite gradient: ∂f/∂x\n"
    assert json.loads(whole.stdout)["gradient"] == {"x": "Infinity", "y": 0.0}
    asked = run("eval", program, *point, "--wrt", "y", "--fields", "gradient", "--strict")
    assert asked.exit_code == 0 and asked.stderr == "", asked.stderr
    strict = run("eval", program, *point, "--wrt", "x,y", "--strict")
    assert strict.exit_code == 1
    assert strict.stderr == "Error: non-finite gradient: ∂f/∂x (--strict)\n"
    # several outputs: each one's entries (SymPy's limits: ∂p/∂x = y/(2√x), ∂q/∂y = x/(2√y)
    # are 0/0 at the origin, NaN in IEEE arithmetic: both named)
    x, y = sympy.symbols("x y", nonnegative=True)
    assert sympy.diff(sympy.sqrt(x) * y, x).subs({x: 0, y: 0}) is sympy.nan
    several = run("eval", "p = sqrt(x)*y; q = x*sqrt(y)", "x=0", "y=0", "--output", "p,q",
                  "--format", "json")
    doc = json.loads(several.stdout)["outputs"]
    assert doc["p"]["gradient"]["x"] == "NaN" and doc["q"]["gradient"]["y"] == "NaN"
    assert several.stderr == "warning: non-finite gradient: ∂p/∂x, ∂q/∂y\n"
    only = run("eval", "p = sqrt(x)*y; q = x*sqrt(y)", "x=0", "y=0", "--output", "p,q",
               "--wrt", "y")
    assert only.stderr == "warning: non-finite gradient: ∂q/∂y\n"


def test_forward_mode_warns_and_fails_on_the_derivative_it_computes():
    """`eval --mode forward --strict` failed on the reverse gradient of every variable
    (`sqrt(x) + y` at x = 0 along ẏ: 'non-finite gradient: ∂f/∂x', though forward mode
    computes ∂f/∂y = 1), and without --strict said nothing of a non-finite tangent. Now it
    looks at what it computes, the output's tangent, and says it as the summary names it.
    SymPy: ∂/∂x of sqrt(x) + y at 0 is infinite, ∂/∂y is 1."""
    import sympy

    x, y = sympy.symbols("x y", nonnegative=True)
    expr = sympy.sqrt(x) + y
    assert sympy.limit(sympy.diff(expr, x), x, 0, "+") is sympy.oo
    assert sympy.diff(expr, y) == 1
    program, point = "sqrt(x) + y", ["x=0", "y=2"]

    def forward(*tangents, strict=()):
        return run("eval", program, *point, "--mode", "forward", "--format", "json",
                   *[a for t in tangents for a in ("--tangent", t)], *strict)

    along_y = forward("y=1", strict=["--strict"])
    assert along_y.exit_code == 0 and along_y.stderr == "", along_y.stderr
    assert json.loads(along_y.stdout)["derivative"] == 1.0
    along_x = forward("x=1")
    assert json.loads(along_x.stdout)["derivative"] == "Infinity"
    assert along_x.stderr == "warning: non-finite derivative: ∂f/∂x\n"
    strict = forward("x=1", strict=["--strict"])
    assert strict.exit_code == 1
    assert strict.stderr == "Error: non-finite derivative: ∂f/∂x (--strict)\n"
    both = forward("x=1", "y=2", strict=["--strict"])
    assert both.exit_code == 1
    assert both.stderr == "Error: non-finite derivative: ḟ along ẋ = 1, ẏ = 2 (--strict)\n"
    # a value that stops being finite is said in forward mode as in reverse mode
    nan = run("eval", "log(x) + y", "x=-1", "y=2", "--mode", "forward", "--tangent", "y=1")
    assert nan.stderr == "warning: node 1 (t1 = log(x)) is NaN, from finite inputs\n"


def test_version_and_help():
    assert run("--version").stdout.strip() == f"cgraph, version {__version__}"
    assert "Forward and reverse pass" in run("eval", "--help").stdout
    listed = re.findall(r"^  (\w+)  ", run("--help").stdout.split("Commands:")[1], re.M)
    assert sorted(listed) == sorted(cli.commands)


@pytest.mark.parametrize("args, message", [
    (["evl"], "Error: No such command 'evl'. Did you mean 'eval'? (see 'cgraph --help')\n"),
    (["jacobain"], "Error: No such command 'jacobain'. Did you mean 'jacobian'? "
                   "(see 'cgraph --help')\n"),
    (["zzz"], "Error: No such command 'zzz' (see 'cgraph --help')\n"),
    (["--x"], "Error: No such option '--x' (see 'cgraph help --help')\n"),
    (["-x"], "Error: No such option '-x' (see 'cgraph help --help')\n"),
    (["-0*x"], "Error: No such option '-0' (see 'cgraph help --help')\n"),
])
def test_help_on_an_unknown_topic_is_a_usage_error(args, message):
    """`cgraph help` was "No such command 'help'"; a topic that is no command is the usage
    error `cgraph evl` gets, with its did-you-mean, one line, exit 2 (and no hint about
    programs that begin with '--': help takes none). `cgraph help -x` was an internal
    error (exit 70): the leading-dash program of the other commands was given to help,
    which takes no program."""
    r = CliRunner().invoke(cli, ["help", *args], prog_name="cgraph")
    assert (r.exit_code, r.stdout, r.stderr) == (2, "", message)


@pytest.mark.parametrize("args", [[], ["eval"], ["graph"], ["help"]])
def test_help_says_what_help_says(args):
    """`cgraph help [COMMAND]` prints `cgraph [COMMAND] --help`, exit 0."""
    asked = CliRunner().invoke(cli, ["help", *args], prog_name="cgraph")
    shown = CliRunner().invoke(cli, [*args, "--help"], prog_name="cgraph")
    assert asked.exit_code == shown.exit_code == 0 and asked.stderr == ""
    assert asked.stdout == shown.stdout and "Usage: cgraph " in asked.stdout


def test_help_completes_its_topic_with_the_commands():
    env = {"_CGRAPH_COMPLETE": "bash_complete", "COMP_WORDS": "cgraph help e",
           "COMP_CWORD": "2"}
    r = CliRunner().invoke(cli, [], env=env, prog_name="cgraph")
    assert r.stdout.split() == ["plain,eval", "plain,explain"], r.output


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_help_names_every_value_not_its_python_type(name):
    """Every option's value has a name in --help (N, X,Y, FILE), never click's type
    (`INTEGER RANGE`, `FLOAT`, `TEXT`)."""
    shown = CliRunner().invoke(cli, [name, "--help"], env={"COLUMNS": "200"}).stdout
    raw = re.findall(r"^ +-.*?\b(INTEGER RANGE|INTEGER|FLOAT|TEXT|PATH)\b", shown, re.M)
    assert not raw, (name, raw)


def test_a_mistyped_option_gets_did_you_mean_not_the_program_hint():
    """`--fromat` is an option typo: click's "Did you mean '--format'?" alone; the hint that
    a program starting with '--' goes after '--' stays for what could be a program."""
    r = run("eval", "x", "x=1", "--fromat", "json")
    assert r.exit_code == 2 and "Did you mean one of: '--format'" in r.stderr
    assert "goes after '--'" not in r.stderr
    r = run("eval", "--x^2", "x=3")
    assert r.exit_code == 2 and "goes after '--'" in r.stderr


def test_an_unknown_option_after_the_program_gets_no_program_hint():
    """`cgraph diff "x*x" -o out.txt` (diff has no -o) said "(a program that begins with
    '--', or is '-h', goes after '--': cgraph diff -- '-o…' x=1)": the program was already
    given, so -o is an option, and the hint's command is nothing the user meant. The hint
    is for an option where the program would be."""
    for command in ["diff", "check", "jacobian", "hessian", "descend"]:
        r = run(command, "x*x", "x=1", "-o", "out.txt")
        assert r.exit_code == 2 and "No such option '-o'" in r.stderr, (command, r.stderr)
        assert "goes after '--'" not in r.stderr, (command, r.stderr)
    r = run("diff", "--file", "model.cg", "--frob")
    assert r.exit_code == 2 and "goes after '--'" not in r.stderr
    for args in [["--x^2", "x=3"], ["--digits", "3", "--x^2"], ["--x", "x=1"]]:
        r = run("eval", *args)
        assert r.exit_code == 2 and "goes after '--'" in r.stderr, (args, r.stderr)


# Real processes: the installed entry point, python -m, pipes.
CGRAPH = shutil.which("cgraph")


def sh(cmd, **kw):
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    env.update(kw.pop("env", {}))
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, env=env, **kw)


@pytest.mark.skipif(CGRAPH is None, reason="cgraph is not installed on PATH")
def test_installed_command_runs_the_tutorial():
    r = sh('cgraph eval "(x+y)*z" x=1 y=3 z=-3 --format json | '
           f'{sys.executable} -c "import json,sys; print(json.load(sys.stdin)[\'gradient\'])"')
    assert r.returncode == 0 and r.stdout.strip() == "{'x': -3.0, 'y': -3.0, 'z': 4.0}"


def test_python_dash_m():
    r = sh(f'{sys.executable} -m cgraph eval "x*x" x=3 --format json')
    assert json.loads(r.stdout)["gradient"] == {"x": 6.0}


def test_broken_pipe_is_quiet():
    program = " + ".join(f"x*{i}" for i in range(3000))
    r = sh(f"{sys.executable} -m cgraph eval - x=1 --format tsv | head -1", input=program)
    assert r.stdout == "id\top\tname\texpr\tvalue\tgrad\n"
    assert r.stderr == ""


def test_no_ansi_when_not_a_terminal_and_no_color_honoured():
    r = sh(f'{sys.executable} -m cgraph eval "x*2" x=1 --format table')
    assert "\x1b[" not in r.stdout and "f = 2" in r.stdout
    forced = sh(f'{sys.executable} -m cgraph eval "x*2" x=1 --format table',
                env={"FORCE_COLOR": "1"})
    assert "\x1b[" in forced.stdout  # the check above can fail
    r = sh(f'{sys.executable} -m cgraph eval "x*2" x=1 --format table',
           env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in r.stdout


@pytest.mark.slow
def test_100000_term_sum_through_stdin():
    n = 100_000
    program = " + ".join(f"{i % 5}*x" for i in range(n))
    r = sh(f"{sys.executable} -m cgraph eval - x=3 --format json", input=program)
    doc = json.loads(r.stdout)
    total = sum(i % 5 for i in range(n))
    assert doc["value"] == 3.0 * total and doc["gradient"] == {"x": float(total)}


CALLS = "sq(a) = a * a\nneuron(u) = tanh(w * u + b)\nneuron(sq(x)) + neuron(x) + 2"


@pytest.mark.parametrize("extra", [[], ["--mode", "forward"], ["--digits", "3"]])
@pytest.mark.parametrize("program, bindings", [
    (CALLS, ["w=0.5", "b=-1", "x=2"]),
    ("p = x * y; q = p + 1", ["x=2", "y=3"]),  # no calls: no column
])
def test_every_format_says_which_call_made_each_node(program, bindings, extra):
    """TSV, CSV and Markdown had no `call` column where the table and JSON have one. The
    oracle is JSON's "call" field (test_eval_json checks it against the graph)."""
    import csv
    import io

    def out(fmt):
        more = [a for a in extra if fmt != "json" or a not in ("--digits", "3")]
        r = run("eval", program, *bindings, *more, "--format", fmt, env={"COLUMNS": "200"})
        assert r.exit_code == 0, r.output
        return r.stdout

    nodes = json.loads(out("json"))["nodes"]
    want = [n.get("call", "") for n in nodes]
    has = any(want)
    assert has == (program == CALLS)
    for fmt, delimiter in [("tsv", "\t"), ("csv", ",")]:
        header, *rows = list(csv.reader(io.StringIO(out(fmt)), delimiter=delimiter))
        assert ("call" in header) == has and len(rows) == len(nodes), fmt
        if has:
            assert header[-1] == "call" and [row[-1] for row in rows] == want, fmt
            assert all(len(row) == len(header) for row in rows)
    table = out("markdown").split("\n\n")[0].splitlines()
    cells = [[c.strip() for c in line[1:-1].split("|")] for line in table]
    assert (cells[0][-1] == "call") == has and len(cells) == len(nodes) + 2
    if has:
        assert [row[-1] for row in cells[2:]] == want
        assert all(len(row) == len(cells[0]) for row in cells)
    table = [line for line in out("table").splitlines() if "│" in line]
    assert [line.split("│")[-1].strip() if has else "" for line in table] == want


def test_every_command_lists_the_variables_as_eval_does():
    """eval, descend and the page list a family's elements together (W[1,1], W[1,2], …,
    x[1], x[2], b[1], …), but explain's Result, check's rows, jacobian's columns,
    hessian's rows and columns and diff's derivatives still came in order of first use
    (W[1,1], x[1], W[1,2], x[2], b[1], …): a student comparing explain with eval found
    the same gradients in another order. The oracle is eval's JSON gradient."""
    from pathlib import Path

    ex = Path(__file__).parent.parent / "examples"
    point = ["--file", str(ex / "xor.cg"), "--bindings", str(ex / "xor-init.json"),
             "x=[0,1]", "y=1"]

    def out(*args):
        r = run(*args, env={"COLUMNS": "200"})
        assert r.exit_code == 0, r.output
        return r.stdout

    order = list(json.loads(out("eval", *point, "--format", "json"))["gradient"])
    assert order[:3] == ["W[1,1]", "W[1,2]", "W[2,1]"]  # family by family, as README says
    result = out("explain", *point, "--format", "text").split("\nResult\n")[1]
    assert re.findall(r"∂loss/∂(\S+) =", result) == order
    rows = [line.split("\t")[0] for line in out("check", *point, "--format", "tsv")
            .splitlines()[1:]]
    assert rows == order
    assert out("jacobian", *point, "--format", "tsv").splitlines()[0].split("\t")[1:] == order
    hessian = json.loads(out("hessian", *point, "--format", "json"))
    assert hessian["variables"] == order and list(hessian["gradient"]) == order
    derivatives = out("diff", "--file", str(ex / "xor.cg"))
    assert re.findall(r"^dloss_d(\S+) =", derivatives, re.M) == order
    # --wrt keeps the order asked for
    asked = json.loads(out("hessian", *point, "--wrt", "b[2],W[1,1]", "--format", "json"))
    assert asked["variables"] == ["b[2]", "W[1,1]"]


@pytest.mark.parametrize("option, command", [("--wrt", "eval"), ("--output", "eval"),
                                             ("--wrt", "diff"), ("--wrt", "descend")])
@pytest.mark.parametrize("empty", ["", " , ", ","])
def test_a_names_option_that_names_nothing_is_a_usage_error(option, command, empty):
    """`--wrt ''` was taken as no --wrt at all: the gradient of every variable."""
    r = CliRunner().invoke(cli, [command, "x*y", "x=1", "y=2", option, empty],
                           prog_name="cgraph")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == (f"Error: Invalid value for '{option}': {empty!r} names nothing: give "
                        f"names (X,Y), or leave the option out (see 'cgraph {command} "
                        "--help')\n")


@pytest.mark.parametrize("args", [["EVAL", "x"], ["help", "EVAL"], ["Eval"]])
def test_a_command_typed_in_capitals_is_told_of_its_name(args):
    """click's "Did you mean" is case-sensitive: `cgraph EVAL` got none (trial6)."""
    r = CliRunner().invoke(cli, args, prog_name="cgraph")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == (f"Error: No such command {args[-1] if args[0] == 'help' else args[0]!r}."
                        " Did you mean 'eval'? (see 'cgraph --help')\n")
