"""`cgraph eval` read without click (argv.py), with click as the oracle.

argv reads a command line only where it knows what click would make of it; then it must
hand eval's function exactly the parameters click would, and the process must show exactly
what the click path shows. Everything else it leaves to click.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cgraph import argv, eval_command
from cgraph.cli import cli
from cgraph.cli_click import given_options
from terminal import collect, env_for, start
from test_imports import _imported_by

PACKAGE = Path(argv.__file__).parent
EVAL = cli.commands["eval"]


def test_the_table_is_what_cli_py_declares():
    """argv_eval.py is generated from click's declaration; regenerate it with
    `python -m cgraph.argv > src/cgraph/argv_eval.py` when cli.py's eval changes."""
    assert argv.table_source(EVAL) == (PACKAGE / "argv_eval.py").read_text()


def test_argv_calls_the_function_click_calls():
    assert EVAL.callback is eval_command.eval_command


# -- the differential test: argv's parameters are click's, or argv declines ----------------

FILES = Path(tempfile.mkdtemp(prefix="cgraph-argv-"))
(FILES / "p.cg").write_text("x*y")
(FILES / "dir").mkdir()
EXISTING, DIRECTORY = str(FILES / "p.cg"), str(FILES / "dir")

OPTIONS = ["--file", "--bindings", "--format", "--wrt", "--output", "--mode", "--tangent",
           "--digits", "--strict", "--data", "-o", "--fields"]
ODD = ["-h", "--help", "--version", "-V", "--", "--frmat", "-x", "-f", "--Format", "-o",
       "--strict=1", "--strict=", "--fields=", "-", "--=x", "---format", "-o-", "-o=x",
       "-ojson", "--format=json=x", "--wrt=", "=x", "-oh", "--tangent=x=1"]
VALUES = ["json", "table", "tsv", "csv", "md", "JSON", "", "x", "x,y", "W[1,1],b", ",",
          " x , y ", "3", "0", "17", "18", "1e1", "2.0", "abc", "-3", "reverse", "forward",
          "-", "x=1", EXISTING, DIRECTORY, DIRECTORY + "/", "missing.json", "out.csv",
          "out/", "value,gradient", "nodes", "--wrt", "--help", "-h", "--"]
POSITIONAL = ["(x+y)*z", "x*y", "x=1", "y=2", "z=-3", "w=[1,2]", "x=2±0.1", "-x^2", "-",
              "x", ""]


def _tokens():
    option = st.sampled_from(OPTIONS)
    value = st.sampled_from(VALUES)
    pair = st.tuples(option, value).map(list)
    joined = st.tuples(option, value).map(
        lambda ov: [ov[0] + ov[1]] if ov[0] == "-o" else [f"{ov[0]}={ov[1]}"])
    single = st.one_of(st.sampled_from(POSITIONAL), option, st.sampled_from(ODD)).map(
        lambda t: [t])
    return st.lists(st.one_of(pair, pair, joined, single, single), max_size=8).map(
        lambda parts: [t for part in parts for t in part])


def _click_reads(args):
    """(parameters, options given) as click reads `cgraph eval ARGS`, or the exception."""
    parent = click.Context(cli, info_name="cgraph")
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # (--help prints its page)
            ctx = EVAL.make_context("eval", list(args), parent=parent)
    except (click.exceptions.Exit, click.ClickException) as e:
        return e
    return ctx.params, given_options(ctx)


def _check(args):
    ours = argv.read_eval(list(args))
    theirs = _click_reads(args)
    if ours is None:
        return False
    assert not isinstance(theirs, Exception), (args, theirs)
    assert ours == theirs, args
    return True


@settings(max_examples=1500, deadline=None)
@given(_tokens())
def test_argv_reads_what_click_reads_or_declines(args):
    _check(args)


@given(st.permutations(["(x+y)*z", "x=1", "y=3", "--format", "json", "--digits=3",
                        "--wrt", "x,y", "--output", "f", "-oout.json", "--strict",
                        "--tangent", "x=1", "--tangent=y=2"]).map(
    lambda p: [t for t in p]))
@settings(max_examples=200, deadline=None)
def test_argv_reads_every_order_of_a_long_command_line(args):
    """Permutations tear option/value pairs apart: click reads each as argv does."""
    _check(args)


@pytest.mark.parametrize("args", [
    ["(x+y)*z", "x=1", "y=3", "z=-3"],
    ["(x+y)*z", "x=1", "y=3", "z=-3", "--format", "json"],
    ["--file", EXISTING, "x=1", "y=2", "--fields", "value,gradient"],
    ["-", "x=1", "--format=tsv", "--digits", "4", "--wrt", "x"],
    ["x*y", "x=1", "y=2", "-o", "out.json", "--output", "f", "--strict"],
    ["x*y", "x=1", "y=2", "--mode", "forward", "--tangent", "x=1", "--tangent", "y=0"],
    ["x*y", "x=2±0.1", "y=3", "--bindings", "b.json"],
])
def test_argv_reads_the_usual_command_lines(args):
    assert _check(args)


@pytest.mark.parametrize("args", [
    ["eval", "x", "--help"], ["eval", "-h"], ["eval", "--", "-x", "x=1"], ["eval", "-x^2"],
    ["eval", "x", "--digits", "0"], ["eval", "x", "--format", "yaml"], ["--version"],
    ["eval", "x", "--wrt", "a", "--wrt", "b"], ["eval", "x", "--strict=yes"],
    ["eval", "x", "--file", DIRECTORY], ["diff", "x"], ["eval", "x", "--wrt"],
])
def test_argv_leaves_the_rest_to_click(args):
    assert argv.eval_call(args) is None


def test_argv_leaves_completion_and_the_switch_to_click(monkeypatch):
    assert argv.eval_call(["eval", "x"]) is not None
    monkeypatch.setenv("_CGRAPH_COMPLETE", "bash_complete")
    assert argv.eval_call(["eval", "x"]) is None
    monkeypatch.delenv("_CGRAPH_COMPLETE")
    monkeypatch.setenv("CGRAPH_CLICK", "1")
    assert argv.eval_call(["eval", "x"]) is None


# -- the real process: the same output, errors and exit status as the click path ----------

SAME = [
    ["(x+y)*z", "x=1", "y=3", "z=-3"],
    ["(x+y)*z", "x=1", "y=3", "z=-3", "--format", "json"],
    ["(x+y)*z", "x=1", "y=3", "z=-3", "--format", "table"],
    ["p = x + y; g = p * z", "x=1", "y=3", "z=-3", "--output", "p,g", "--format", "json"],
    ["x*y", "x=2±0.1", "y=3±0.2"],
    ["x*y", "x=1", "y=2", "--mode", "forward", "--tangent", "x=1"],
    ["--file", "p.cg", "x=1", "y=2", "--fields", "value,gradient"],
    ["--file", "p.cg", "x=1", "y=2", "-o", "out.json"],
    ["--file", "p.cg", "x=1", "y=2", "-o", "out.png"],          # usage error: the suffix
    ["-", "x=1", "y=2", "--format=tsv", "--digits", "3"],        # program on stdin
    ["(x+y)*z", "x=1", "y=3", "--format", "json"],               # no value for z
    ["(x+y)*z", "x=1", "y=3", "z=-3", "--format", "json", "--digits", "3"],
    ["(x+y)*z", "x=1", "y=3", "z=-3", "--fields", "value,nodez"],
    ["log(x)", "x=0", "--format", "json"],                       # warning, exit 0
    ["log(x)", "x=0", "--strict"],                               # exit 1
    ["(x+", "x=1"],                                              # syntax error
    ["x=1"],                                                     # the program forgotten
    ["p.cg", "x=1"],                                             # a file, not a program
    ["x*y", "x=1", "y=2", "--wrt", "q"],
    ["x*y", "x=1", "y=2", "--tangent", "x=1", "--mode", "reverse"],
    ["x*y", "x=1", "y=2", "--data", "p.cg", "--format", "json"],
    ["x*y", "x=\x1b[31m1"],                                      # an escape in a message
    ["x*y", "y=2", "--data", "d.csv"],                           # rows: CSV out
    ["x*y", "y=2", "--data", "d.csv", "-o", "out.parquet", "--wrt", "x"],
    ["x*y", "--bindings", "b.json", "y=3", "--format", "json"],
    ["x*y", "--bindings", "b.json", "--data", "-"],              # two standard inputs
]


def _both(args, tmp_path, input=b"x*y"):
    """(status, stdout, stderr, files written) by the process through argv and through
    click (CGRAPH_CLICK=1)."""
    shown = []
    for switch in ({}, {"CGRAPH_CLICK": "1"}):
        work = tmp_path / ("click" if switch else "argv")
        work.mkdir()
        (work / "p.cg").write_text("x*y")
        (work / "d.csv").write_text("x\n1\n2.5\n")
        (work / "b.json").write_text('{"x": 2, "y": 5}')
        r = subprocess.run([sys.executable, "-m", "cgraph", "eval", *args], input=input,
                           capture_output=True, env=env_for(switch), cwd=work)
        files = {p.name: p.read_bytes() for p in sorted(work.iterdir())}
        shown.append((r.returncode, r.stdout, r.stderr, files))
    return shown


@pytest.mark.parametrize("args", SAME)
def test_the_process_shows_what_the_click_path_shows(args, tmp_path):
    assert argv.read_eval(args) is not None  # (argv reads it: this compares something)
    ours, theirs = _both(args, tmp_path)
    assert ours == theirs


def test_a_closed_pipe_ends_as_on_the_click_path(tmp_path):
    big = " + ".join(f"x*{i}" for i in range(3000))
    for switch in ({}, {"CGRAPH_CLICK": "1"}):
        r = subprocess.run(f"{sys.executable} -m cgraph eval '{big}' x=1 --format json "
                           "| head -c 10", shell=True, capture_output=True,
                           env=env_for(switch))
        assert r.stdout == b'{"program"' and r.stderr == b""


@pytest.mark.parametrize("extra", [{}, {"NO_COLOR": "1"}])
@pytest.mark.parametrize("args,width", [
    (["(x+y)*z", "x=1", "y=3", "z=-3"], 80),
    (["(x+y)*z", "x=1", "y=3"], 80),
    (["(x+", "x=1"], 80),
    (["(x+y)*z", "x=1", "y=3", "z=-3", "--format", "json", "--digits", "3"], 30),  # usage
    (["log(x)*y + (x+", "x=0", "y=1"], 30),                                         # syntax
    (["log(x)*y", "x=0", "y=1", "--digits", "3"], 30),                              # warning
])
def test_a_terminal_sees_what_the_click_path_shows(args, width, extra):
    """On a real pty: the table (Rich, colours unless NO_COLOR), errors and warnings laid
    out for a narrow terminal."""
    shown = []
    for switch in ({}, {"CGRAPH_CLICK": "1"}):
        proc, out, err = start(["eval", *args], width=width, env={**extra, **switch})
        shown.append(collect(proc, out, err))
    assert shown[0] == shown[1]
    if len(args) == 4:
        assert shown[0].status == 0 and "∂" in shown[0].screen
        assert ("\x1b[" in shown[0].raw) == (not extra)


# -- what the process imports --------------------------------------------------------------

def test_eval_does_not_import_click(tmp_path):
    program = tmp_path / "sum.cg"
    program.write_text(" + ".join(f"x{i % 5}*w{i % 3}" for i in range(200)))
    bindings = [f"x{i}={1 + i / 100}" for i in range(5)] + [f"w{i}=0.5" for i in range(3)]
    for args in (["eval", "(x+y)*z", "x=1", "y=3", "z=-3", "--format", "json"],
                 ["eval", "--file", str(program), *bindings, "--fields", "value,gradient"]):
        found = _imported_by(*args)
        assert "cgraph.eval_formats" in found  # (the listing works)
        assert not {m for m in found if m == "click" or m.startswith("click.")}, args
    assert "click" in _imported_by("eval", "x", "x=1", "--wrt", "x", "--wrt", "x")


def test_a_recursion_error_is_one_line_on_both_paths():
    """Nothing recurses on the input, but were it to, the command says so in one line and
    exits 1 on either path: cli_support.with_program, which both call, turns it into an
    EvaluationError (the two paths each had their own clause for it)."""
    code = ("import sys, cgraph.graph as g\n"
            "def deep(*args, **kwargs):\n"
            "    raise RecursionError\n"
            "g.Graph.evaluate = deep\n"
            "sys.argv = ['cgraph'] + sys.argv[1:]\n"
            "from cgraph.__main__ import main\n"
            "main()\n")
    for forced in ({}, {"CGRAPH_CLICK": "1"}):
        r = subprocess.run([sys.executable, "-c", code, "eval", "x*y", "x=1", "y=2"],
                           capture_output=True, text=True, env={**env_for(), **forced})
        assert (r.returncode, r.stdout, r.stderr) == (
            1, "", "Error: the program is too deeply nested\n"), forced
