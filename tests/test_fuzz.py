"""No input produces a traceback: random programs, bytes, CSV files and option values
thrown at every command (found from the click group, so a new command or option is
covered without touching this file).

Every run must end with an exit status of the contract (0, 1, 2; 130 is Ctrl-C), no
traceback, and nothing on standard output when the status is 2 (a usage or input error
is found before anything is written). Most examples go through click's CliRunner (fast);
a few through a real process with random bytes on standard input."""

from __future__ import annotations

import itertools
import subprocess
import sys

import click
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cgraph.cli import cli
from cgraph.cli_click import NameList, Number
from terminal import env_for

COMMANDS = sorted(cli.commands)
_counter = itertools.count()

PIECES = st.sampled_from(["x", "y", "2", "1e308", "0", "(", ")", "+", "-", "*", "/", "^",
                          "**", ",", ";", "\n", "=", "sin", "log", "max", "pi", "e", "p",
                          " ", ".5", "#", "θ", "$", "relu", "sqrt", "-", "w", "--", "-h"])
PROGRAMS = st.lists(PIECES, max_size=14).map("".join)
BINDINGS = st.lists(st.sampled_from(["x=0", "x=1", "y=-1", "x=1e308", "y=0", "p=1", "w=0.5",
                                     "x=1;y=2", "x=", "=1", "θ=2", "w=nan", "y=1/0"]),
                    max_size=4)
CELL = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                 st.sampled_from(["", " ", "abc", '"1.5"', '"', '""', "1,5", "nan", "-inf",
                                  '"a\nb"', "\ufeff", "θ"]))
HEADER = st.lists(st.sampled_from(["x", "y", "w", '"x"', "p", "", "x", " y "]), min_size=1,
                  max_size=4)


@st.composite
def csv_text(draw) -> bytes:
    header = draw(HEADER)
    rows = draw(st.lists(st.lists(CELL, min_size=1, max_size=5), max_size=6))
    text = ",".join(header) + "\n" + "".join(",".join(r) + draw(
        st.sampled_from(["\n", "\r\n", "\n\n"])) for r in rows)
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + data
    if draw(st.integers(0, 4)) == 0:
        data += draw(st.binary(max_size=8))
    return data


def file_values(tmp):
    """A path to a new file holding random bytes, a random CSV or a program."""
    contents = st.one_of(st.binary(max_size=40), csv_text(), PROGRAMS.map(str.encode))

    def write(data: bytes) -> str:
        path = tmp / f"in{next(_counter)}.csv"
        path.write_bytes(data)
        return str(path)

    return st.one_of(contents.map(write), st.sampled_from(["-", str(tmp / "missing.csv"),
                                                            str(tmp)]))


def output_values(tmp):
    suffix = st.sampled_from([".mmd", ".dot", ".csv", ".jpg", "", ".svg", "/"])
    return suffix.map(lambda s: str(tmp / f"out{next(_counter)}{s}"))


def values_for(param: click.Option, tmp):
    """Random values for one option, from its click type: in range and out of it."""
    t = param.type
    if param.name in ("output_path", "trace"):
        return output_values(tmp)
    if param.name in ("program_file", "data_path"):
        return file_values(tmp)
    if isinstance(t, click.Choice):
        return st.one_of(st.sampled_from(list(t.choices) or ["x"]), st.just("bogus"))
    if isinstance(t, Number) or t is click.FLOAT or isinstance(t, click.FloatRange):
        return st.one_of(st.sampled_from(["0", "-1", "nan", "inf", "-inf", "1e-300", "abc",
                                          "0.01", "1e308", "1.5"]),
                         st.floats().map(repr))
    if isinstance(t, (click.IntRange,)) or t is click.INT:
        return st.one_of(st.integers(-3, 60).map(str), st.sampled_from(["x", "1e3", ""]))
    if isinstance(t, NameList):
        return st.sampled_from(["x", "x,y", "q", ",", "w", "θ", "x,x"])
    return st.text(max_size=5)


@st.composite
def invocation(draw, tmp):
    name = draw(st.sampled_from(COMMANDS))
    command = cli.commands[name]
    args = [name]
    for param in command.params:
        if not isinstance(param, click.Option) or "--help" in param.opts:
            continue
        if not draw(st.integers(0, 5)) == 0:  # each option in one run out of six
            continue
        opt = param.opts[-1]
        if param.is_flag:
            args.append(opt)
        else:
            args += [opt, draw(values_for(param, tmp))]
    if name == "descend" and "--steps" not in args and "--data" not in args:
        args += ["--steps", "5"]  # keep each run short
    if "--epochs" in args:
        args[args.index("--epochs") + 1] = "2"
    args += ["--", draw(PROGRAMS), *draw(BINDINGS)]
    return args


def check(code: int, stdout: str, output: str) -> None:
    assert code in (0, 1, 2, 130), code
    assert "Traceback" not in output, output
    if code == 2:
        assert stdout == "", stdout


def test_every_command_and_option_is_fuzzed(tmp_path_factory):
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run_one(data):
        tmp = tmp_path_factory.mktemp("fuzz", numbered=True)
        args = data.draw(invocation(tmp))
        stdin = data.draw(st.one_of(st.binary(max_size=30), csv_text()))
        result = CliRunner().invoke(cli, args, input=stdin)
        if result.exception is not None:
            assert isinstance(result.exception, SystemExit), (args, repr(result.exception))
        check(result.exit_code, result.stdout, result.output)

    run_one()


def test_random_bytes_through_a_real_process(tmp_path_factory):
    @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run_one(data):
        tmp = tmp_path_factory.mktemp("fuzzp", numbered=True)
        args = data.draw(invocation(tmp))
        stdin = data.draw(st.one_of(st.binary(max_size=60), csv_text()))
        r = subprocess.run([sys.executable, "-m", "cgraph", *args], input=stdin,
                           capture_output=True, env=env_for(), timeout=60)
        check(r.returncode, r.stdout.decode("utf-8", "replace"),
              (r.stdout + r.stderr).decode("utf-8", "replace"))

    run_one()
