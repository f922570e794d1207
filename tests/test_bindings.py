"""How every command reads the values typed on its command line: `x=1`, `--tangent x=…`,
`x=2±0.1`, lists, `--bindings FILE`. Real command-line runs (click's runner, and a
subprocess where the process itself matters); the messages are read as a user reads them:
one line on standard error, nothing on standard output, the contract's exit status."""

from __future__ import annotations

import json
import math
import os
import re
import struct
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

import cgraph
from cgraph.bindings import constant_value, parse_bindings
from cgraph.cli import cli
from cgraph.errors import BindingError


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def refused(*args) -> str:
    """The one line of a usage error (exit 2, nothing on standard output)."""
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert r.stdout == "" and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("Error: ")
    return r.stderr[len("Error: "):].rstrip("\n")


def bits(v: float) -> bytes:
    return struct.pack("<d", v)


# -- a value is the number written ------------------------------------------------------

# every command that takes bindings, with what it needs besides x=…
COMMANDS = {"eval": [], "graph": [], "explain": [], "check": [], "descend": ["--steps", "1"],
            "jacobian": [], "hessian": [], "diff": [], "codegen": []}


def test_every_command_that_takes_bindings_is_here():
    assert set(COMMANDS) == set(cli.commands) - {"help"}  # help takes no program


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_number_beyond_the_doubles_is_refused_by_every_command(command):
    """`x=1e999` was Infinity without a word (float() reads it so)."""
    args = [command, "x^2", *COMMANDS[command]]
    assert refused(*args, "x=1e999") == ("the value of x, '1e999', is beyond the largest "
                                         "double (about 1.8e308); write x=inf if you mean "
                                         "Infinity")
    assert refused(*args, "x=-1e400*1").endswith("has a number, '1e400', beyond the largest "
                                                 "double (about 1.8e308); write x=inf if you "
                                                 "mean Infinity")
    assert "below the smallest double" in refused(*args, "x=1e-400")


@pytest.mark.parametrize("value, message", [
    ("1e999", "is beyond the largest double (about 1.8e308); write x=inf if you mean "
              "Infinity"),
    ("-1E+309", "is beyond the largest double (about 1.8e308); write x=-inf if you mean "
                "-Infinity"),
    pytest.param("1" + "0" * 400, "is beyond the largest double", id="400 digits"),
    ("1e-400", "is below the smallest double (about 4.9e-324) and would read as 0; write "
               "x=0 if you mean it"),
    ("-0.0000001e-320", "is below the smallest double"),
    ("2*1e-400", "has a number, '1e-400', below the smallest double"),
    ("1/1e999", "has a number, '1e999', beyond the largest double"),
    ("1e308*10", "comes out as Infinity; write x=inf if you mean Infinity"),
    ("exp(1000)", "comes out as Infinity; write x=inf if you mean Infinity"),
    ("1/0", "comes out as Infinity; write x=inf if you mean Infinity"),
    ("-1/0", "comes out as -Infinity; write x=-inf if you mean -Infinity"),
    ("log(0)", "comes out as -Infinity; write x=-inf if you mean -Infinity"),
    ("0/0", "comes out as NaN; write x=nan if you mean NaN"),
    ("sqrt(-1)", "comes out as NaN; write x=nan if you mean NaN"),
])
def test_a_value_that_is_not_the_number_written_is_refused(value, message):
    text = refused("eval", "x", f"x={value}")
    assert text.startswith("the value of x, '") and message in text, text


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"(\d{1,3}(\.\d{0,3})?|\.\d{1,3})([eE][+-]?\d{1,4})?", fullmatch=True))
@example("1e999")
@example("0.0e-400")
@example("5e-324")
@example("000.000e999")
def test_a_program_reads_a_literal_by_the_rule_bindings_use(literal):
    """One rule for a number written in a program and as a binding's value: both are the
    number written (1e999 and 1e-400 are errors in both), with each place's words."""
    from cgraph.errors import NumberError

    try:
        value = constant_value(literal, "the value of x", "x={}")
    except BindingError as e:
        assert "double" in e.message
        value = None
    try:
        program = cgraph.parse(f"y = 2*{literal}").nodes[1].value
    except NumberError as e:
        assert value is None and (e.line, e.column) == (1, 7), e.render()
        assert e.message.startswith(f"the number '{literal}' is ")
        return
    assert bits(program) == bits(value), literal


def test_a_long_number_is_cut_in_the_message():
    text = refused("eval", "x", "x=" + "1" * 400)
    assert len(text) < 200 and "…" in text and text.endswith("write x=inf if you mean "
                                                             "Infinity")


@pytest.mark.parametrize("value, expected", [
    ("inf", math.inf), ("-Infinity", -math.inf), ("+INF", math.inf),
    ("5e-324", 5e-324), ("4.9406564584124654e-324", 5e-324), ("1e-320", 1e-320),
    ("2.2250738585072014e-308", 2.2250738585072014e-308),
    ("1.7976931348623157e308", 1.7976931348623157e308), ("0e-400", 0.0), ("-0.0", -0.0),
    ("000.000e999", 0.0), ("exp(-1000)", 0.0), ("1e-200*1e-200", 0.0),
    ("1e308*10/1e308", None),  # Infinity on the way: refused
])
def test_non_finite_words_subnormals_and_arithmetic_underflow_are_taken(value, expected):
    """What is written is a double: Infinity and NaN spelled out, subnormal numbers (cgraph
    prints them), a zero written as zero; an expression rounds as every IEEE computation
    does, to 0 included (exp(-1000)). Only an expression's non-finite value is refused."""
    r = run("eval", "x", f"x={value}", "--fields", "inputs")
    if expected is None:
        assert r.exit_code == 2 and "comes out as Infinity" in r.stderr
        return
    assert r.exit_code == 0 and r.stderr == "", r.output
    got = json.loads(r.stdout, parse_constant=float)["inputs"]["x"]
    got = {"Infinity": math.inf, "-Infinity": -math.inf}.get(got, got)
    assert bits(float(got)) == bits(expected)


def test_nan_is_taken_when_written():
    r = run("eval", "x", "x=NaN", "--fields", "inputs")
    assert json.loads(r.stdout)["inputs"] == {"x": "NaN"}


@settings(max_examples=400, deadline=None)
@given(st.floats())
def test_any_double_as_cgraph_or_python_prints_it_reads_back_exactly(v):
    """repr() (what --format json and CSV write, at full precision) of any double, subnormal
    and -0.0 included, binds that very double; json.dumps spelling in a list too."""
    (x,) = parse_bindings([f"x={v!r}"]).values()
    (w,) = parse_bindings([f"w=[{json.dumps(v)}]"]).values()
    for got in (x, w):
        assert bits(got) == bits(v) or (math.isnan(v) and math.isnan(got))


@settings(max_examples=100, deadline=None)
@given(st.floats())
def test_what_eval_prints_binds_back_as_the_same_double(v):
    """The round trip a user makes: eval's JSON value, typed back as a binding."""
    printed = json.loads(run("eval", "x", f"x={v!r}", "--fields", "value").stdout)["value"]
    back = json.loads(run("eval", "x", f"x={printed}", "--fields", "value").stdout)["value"]
    assert back == printed and (isinstance(back, str) or bits(back) == bits(v))


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[+-]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})([eE][+-]?\d{1,4})?",
                     fullmatch=True))
def test_a_number_binding_is_the_nearest_double_or_refused(text):
    """The oracle is Python's Decimal, exact at any exponent: a nonzero number whose double
    is Infinity or 0 is refused; any other is float()'s correctly rounded double."""
    exact = Decimal(text)
    nearest = float(text)
    if exact and (nearest == 0 or math.isinf(nearest)):
        with pytest.raises(BindingError, match="double"):
            constant_value(text)
    else:
        assert bits(constant_value(text)) == bits(nearest)


def test_lists_and_bindings_files_follow_the_same_rule(tmp_path):
    """A list element and a number in --bindings FILE are read by the same function: 1e999
    is refused there too, and a 400-digit integer is not an internal error (it was:
    'OverflowError: int too large to convert to float', exit 70)."""
    assert refused("eval", "w[1]", "w=[1e999]") == (
        "the value of w[1], '1e999', is beyond the largest double (about 1.8e308); write "
        "Infinity in the list if you mean it")
    assert "the value of w[2], '1000000000" in refused("eval", "w[1]+w[2]",
                                                      f"w=[1, 1{'0' * 400}]")
    assert "the value of W[2,1], '1e-400', is below" in refused("eval", "W[1,1]",
                                                                "W=[[1],[1e-400]]")
    assert json.loads(run("eval", "w[1]+w[2]", "w=[Infinity, 5e-324]", "--fields",
                          "inputs").stdout)["inputs"] == {"w[1]": "Infinity",
                                                          "w[2]": 5e-324}
    f = tmp_path / "b.json"
    f.write_text('{"x": 1e999}')
    assert refused("eval", "x", "--bindings", str(f)) == (
        f"--bindings {f}: the value of x, '1e999', is beyond the largest double (about "
        "1.8e308); write Infinity if you mean it")
    f.write_text('{"cost": 1, "weights": {"w[1]": -1e999}}')  # as descend writes it
    assert "the value of w[1], '-1e999', is beyond" in refused("eval", "w[1]", "--bindings",
                                                              str(f))
    f.write_text('{"w[1]": 1' + "0" * 5000 + "}")  # past Python's int() digit limit too
    assert "the value of w[1], '1000" in refused("eval", "w[1]", "--bindings", str(f))
    f.write_text("# lines\nx = 1e999\n")
    assert refused("eval", "x", "--bindings", str(f)).startswith(
        f"--bindings {f}, line 2: the value of x, '1e999', is beyond")


def test_uncertainties_follow_the_same_rule():
    assert refused("eval", "x", "x=1e999±0.1").startswith("the value of x, '1e999', is "
                                                           "beyond")
    assert refused("eval", "x", "x=2±1e999") == (
        "the uncertainty of x, '1e999', is beyond the largest double (about 1.8e308): it "
        "must be a finite number")
    assert refused("eval", "x", "x=2±1e-400").startswith("the uncertainty of x, '1e-400', "
                                                        "is below the smallest double")
    assert refused("eval", "x", "x=2±nan") == "the uncertainty of x must be a finite " \
                                              "number, not nan"


# -- tangents are named as tangents -----------------------------------------------------

@pytest.mark.parametrize("command", ["eval", "explain"])
@pytest.mark.parametrize("tangents, message", [
    (["x=abc"], "the tangent of x, 'abc', uses the name abc: write a number or a constant "
                "expression such as pi/4"),
    (["x=1e999"], "the tangent of x, '1e999', is beyond the largest double (about "
                  "1.8e308); write --tangent x=inf if you mean Infinity"),
    (["x=1/0"], "the tangent of x, '1/0', comes out as Infinity; write --tangent x=inf if "
                "you mean Infinity"),
    (["x=(1"], "the tangent of x, '(1', is not a valid expression"),
    (["x=1", "x=2"], "--tangent x is given twice (x=1, then x=2): give it one tangent"),
    (["x=2±0.1"], "the tangent of x, '2±0.1', has an uncertainty (±): a tangent is one "
                  "number"),
    (["x"], "--tangent 'x': write NAME=VALUE, e.g. --tangent x=1"),
    (["x="], "--tangent 'x=' has no value after '=': write NAME=VALUE, e.g. --tangent x=1"),
])
def test_a_bad_tangent_is_called_a_tangent(command, tangents, message):
    """It was 'the value of x, …' and 'x is bound twice' for a --tangent."""
    args = [a for t in tangents for a in ("--tangent", t)]
    text = refused(command, "x*y", "x=1", "y=2", "--mode", "forward", *args)
    assert text.startswith(message), text


# -- what a user types wrong --------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["x="], "malformed binding 'x=' has no value after '=': write NAME=VALUE, e.g. x=1.5"),
    (["=1"], "malformed binding '=1' has no name before '=': write NAME=VALUE, e.g. x=1.5"),
    (["x==1"], "malformed binding 'x==1': one '=' binds a value (x=1)"),
    (["2x=1"], "malformed binding '2x=1': '2x' is not a name (a letter or '_', then "
               "letters, digits or '_'): write NAME=VALUE, e.g. x=1.5"),
    (["x=1", "x=2"], "x is bound twice (x=1, then x=2): give it one value"),
    (["w=[1]", "w=[2,3]"], "w is bound twice (w=[1], then w=[2,3]): give it one value"),
    (["x", "=", "1"], None),
    (["x=1,5"], "the value of x, '1,5', is not one number: the decimal point is '.', and a "
                "list is in brackets: write x=1.5 or x=[1,5]"),
    (["x=1,2,3"], "the value of x, '1,2,3', is not one number: a list is in brackets: "
                  "write x=[1,2,3]"),
    (["x=0x10"], "the value of x, '0x10', is hexadecimal, and cgraph reads decimal "
                 "numbers: write x=16"),
    (["x=0b101"], "the value of x, '0b101', is binary, and cgraph reads decimal numbers: "
                  "write x=5"),
    (["x=1_000"], "the value of x, '1_000', has '_' between digits: write x=1000"),
    (["x=1e5j"], "the value of x, '1e5j', is a complex number, and cgraph's numbers are "
                 "real"),
    (["x=2.5e"], "the value of x, '2.5e', has an exponent without digits"),
    (["x=w[1]"], "the value of x, 'w[1]', uses the name w[1]: write a number or a constant "
                 "expression such as pi/4"),
    (["x=y+z"], "the value of x, 'y+z', uses the names y, z: write a number or a constant "
                "expression such as pi/4"),
])
def test_what_a_user_types_wrong_gets_a_message_that_says_what_to_type(args, message):
    if message is None:  # `x = 1`, `x =1`, `x= 1`: the shell cut one binding in pieces
        for pieces in (["x", "=", "1"], ["x", "=1"], ["x=", "1"]):
            assert refused("eval", "x", *pieces) == (
                f"malformed binding {' '.join(pieces)!r}: a binding is one argument, "
                "without spaces around '=' (x=1)")
        return
    assert refused("eval", "x", *args) == message


def test_a_second_program_is_told_where_the_program_goes(tmp_path):
    """`cgraph eval --file model.cg "x*2" w=1` was 'malformed binding 'x*2'' alone."""
    model = tmp_path / "model.cg"
    model.write_text("w*x\n")
    hint = "write NAME=VALUE, e.g. x=1.5 (the program is one argument, the first, or --file's)"
    assert refused("eval", "--file", str(model), "x*2", "w=1") == \
        f"malformed binding 'x*2': {hint}"
    assert refused("eval", "w*x", "w*2", "x=1") == f"malformed binding 'w*2': {hint}"
    assert refused("eval", "w*x", "w", "x=1") == "malformed binding 'w': write NAME=VALUE, " \
                                                 "e.g. x=1.5"


@pytest.mark.parametrize("args, message", [
    (["x=(1"], "the value of x, '(1', is not a valid expression: the program ends too "
               "early; expected ')'"),
    (["y=1"], "'y' is not a variable of the program (its variables: x)"),
    (["pi=3"], "cannot bind the constant 'pi'"),
    (["x=[1,2"], "the value of x is not a list of numbers: '[1,2'"),
    (["x=1;y=2"], "the value of x, '1;y=2', must be one expression"),
])
def test_other_binding_errors_stay_one_line(args, message):
    assert refused("eval", "x", *args).startswith(message)


def test_a_binding_reads_names_and_numbers_as_the_program_does():
    """The binding's NAME and its number fast path are made from the grammar's own
    terminals: a name the program has binds, a number reads as the program's literal
    (digits of other scripts included, since the grammar's \\d takes them)."""
    for program, binding in [("θ", "θ=2"), ("café", "café=2"), ("_a1", "_a1=2")]:
        assert run("eval", program, binding, "--fields", "value").stdout == \
            '{"value": 2.0}\n'
    for number in ["١٢", "٣.٥e١", "12.", ".5e-3"]:
        graph = cgraph.parse(number)
        assert parse_bindings([f"x={number}"]) == {"x": graph.forward({})[graph.output]}


def test_a_binding_error_from_a_real_process_is_one_line_and_exit_2():
    r = subprocess.run([sys.executable, "-m", "cgraph", "descend", "(w-1)^2", "w=1e999"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == ("Error: the value of w, '1e999', is beyond the largest double (about "
                        "1.8e308); write w=inf if you mean Infinity\n")


def test_a_data_column_name_is_read_as_a_binding_name_is(tmp_path):
    """é typed as e + U+0301 (NFD) in a CSV header is the program's é, as it is in a
    binding (it was "no column 'café' … (columns: café, y)", the two looking alike)."""
    data = tmp_path / "d.csv"
    data.write_text("cafe\u0301,y\n1,2\n", encoding="utf-8")
    for args in (["eval", "caf\u00e9*y", "--data", str(data)],
                 ["eval", "caf\u00e9*y", "cafe\u0301=1", "y=2", "--fields", "value"]):
        r = run(*args)
        assert r.exit_code == 0 and r.stderr == "", r.output
    assert run("eval", "caf\u00e9*y", "--data", str(data)).stdout.splitlines()[1] == \
        "1,2,2,2,1"


@pytest.mark.parametrize("program", ["x[1]*2", "W[1,2]*x[0] + W[2,1]", "sum(v[i] for i in 1..3)",
                                     "h[j] = tanh(sum(W[j,i] * x[i] for i in 1..2) + b[j]) "
                                     "for j in 1..4; sum(v[j] * h[j] for j in 1..4) + c + y"])
def test_the_missing_value_hint_says_what_binds_them(program):
    """"no value for x[1]; bind it as x[1]=VALUE": the command line refused that name (it is
    an element, README's "named w[1] in bindings"); a family nothing binds is now said as
    the list that binds it (W=[[…]] (4×2)). Doing what the hint says works."""
    hint = refused("eval", program).split(" as ", 1)[1].replace(" …, or all in a --bindings "
                                                                "FILE", "")
    bindings = []
    for k, m in enumerate(re.finditer(r"(\S+)=(VALUE|\[+…\]+ \(([\d×]+)\))", hint)):
        name, _, shape = m.groups()
        if shape is None:
            bindings.append(f"{name}={k + 1}")
        else:
            rows, _, cols = shape.partition("×")
            row = [k + 1] * int(cols or rows)
            bindings.append(f"{name}={json.dumps([row] * int(rows) if cols else row)}")
    assert bindings and len(hint.split()) == len(bindings) + hint.count("(")
    r = run("eval", program, *bindings, "--format", "json", "--fields", "value")
    assert r.exit_code == 0, (bindings, r.output)


def test_an_element_binding_is_the_element_of_a_list_binding():
    as_list = run("eval", "W[1,2]*x[1]", "W=[[0,3]]", "x=[2]", "--fields", "value,gradient")
    for elements in (["W[1,2]=3", "x[1]=2"], ["W[ 1, 2 ]=3", "x[01]=2"], ["W=[[0,3]]", "x[1]=2"]):
        r = run("eval", "W[1,2]*x[1]", *elements, "--fields", "value,gradient")
        assert r.exit_code == 0 and r.stdout == as_list.stdout, r.output
    r = run("eval", "x[1]*y", "x[1]=2±0.5", "y=1", "--fields", "uncertainty")
    assert json.loads(r.stdout)["uncertainty"]["sigma"] == 0.5, r.output
    assert refused("eval", "x[1]*2", "x=[1]", "x[1]=3") == \
        "x[1] is bound twice (x=[1], then x[1]=3): give it one value"
    # the element first, then the list (it said "'x[2]' is bound twice" only)
    assert refused("eval", "x[1]*x[2]", "x[2]=3", "x=[1,2]") == \
        "x[2] is bound twice (x[2]=3, then x=[1,2]): give it one value"
    assert refused("eval", "x[1]*2", "x[1]=[3]") == "the value of x[1] is one number, not a list: [3]"
    assert refused("eval", "x[1]*2", "pi[1]=3") == "cannot bind the constant 'pi'"
    assert "'x[a]' is not an element of a family (a name, then integer indices in " \
        "brackets: w[1], W[2,3])" in refused("eval", "x[1]*2", "x[a]=3")


def test_an_element_bound_alone_must_be_a_variable_of_the_program():
    """A list may bind more elements than the program uses (w=[1,2,3] for a w[1]); an
    element typed alone is a name like any other: w[5]=3 and W[2,3]=1 beside a bound w[1]
    were dropped without a word, and x[0]=1 for an x[1] said 'no value for x[1]' only."""
    ok = run("eval", "w[1]*2", "w=[1,2,3]", "--fields", "value")
    assert ok.exit_code == 0 and ok.stdout == '{"value": 2.0}\n'
    for extra in ["w[5]=3", "w[2,3]=3", "w[-1]=3"]:
        name = extra.partition("=")[0]
        assert refused("eval", "w[1]*2", "w[1]=1", extra) == \
            f"'{name}' is not a variable of the program; did you mean 'w[1]'? " \
            "(its variables: w[1])"
    assert refused("eval", "x[1]*x[2]", "x[0]=1", "x[-1]=2").startswith(
        "'x[0]' is not a variable of the program")


def test_an_element_typed_beside_a_list_must_be_a_variable_of_the_program(tmp_path):
    """`eval 'w[1]*2' 'w=[1,2]' 'w[7]=1'` ran without a word about w[7]: once a list bound
    w, every w[…] passed as one of the list's. The list's own elements may go unused (w[2]
    here); an element typed beside it is a name like any other, in either order, and a
    --bindings file's list excuses only its own elements."""
    ok = run("eval", "w[1]*2", "w=[1,2]", "--fields", "value")
    assert ok.exit_code == 0 and ok.stdout == '{"value": 2.0}\n'
    unused = "'w[7]' is not a variable of the program; did you mean 'w[1]'? " \
        "(its variables: w[1])"
    assert refused("eval", "w[1]*2", "w=[1,2]", "w[7]=1") == unused
    assert refused("eval", "w[1]*2", "w[7]=1", "w=[1,2]") == unused
    listed = tmp_path / "w.json"
    listed.write_text('{"W": [[1, 2], [3, 4]]}')
    assert refused("eval", "W[1,1]*W[2,2]", "--bindings", str(listed), "W[3,3]=1"
                   ).startswith("'W[3,3]' is not a variable of the program")
    # a list over a list: the command line's replaces the file's (W[3,3] is not bound)
    big = tmp_path / "big.json"
    big.write_text('{"W": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]}')
    both = run("eval", "W[1,1]*W[2,2]", "--bindings", str(big), "W=[[1,2],[3,4]]",
               "--fields", "value")
    assert both.exit_code == 0 and both.stdout == '{"value": 4.0}\n'


def test_a_list_on_the_command_line_replaces_the_files_whole_family(tmp_path):
    """A file's `w=[1,2,3]` under the command line's `w=[5,6]` gave 5, 6, 3: the merge
    overrode one element at a time. A list replaces the family, as a later value replaces
    an earlier one (the file's elements bound one by one too, and their uncertainties);
    an element on the command line still replaces one element."""
    program = "w[1] + 10*w[2] + 100*w[3]"
    listed = tmp_path / "w.json"
    listed.write_text('{"w": [1, 2, 3]}')
    assert refused("eval", program, "--bindings", str(listed), "w=[5,6]") == \
        "w[3] is out of range of the family bound: w has w[1] to w[2]"
    value = run("eval", program, "--bindings", str(listed), "w=[5,6,7]", "--fields", "value")
    assert value.exit_code == 0 and value.stdout == '{"value": 765.0}\n'
    element = run("eval", program, "--bindings", str(listed), "w[2]=9", "--fields", "value")
    assert element.exit_code == 0 and element.stdout == '{"value": 391.0}\n'
    lines = tmp_path / "w.txt"  # elements bound one by one, one with an uncertainty
    lines.write_text("w[3]=9±0.5\nw[4]=1\nx=2±0.1\n")
    assert refused("eval", program, "--bindings", str(lines), "w=[5,6]") == \
        "w[3] is out of range of the family bound: w has w[1] to w[2]"
    replaced = run("eval", "w[1] + w[2] + x", "--bindings", str(lines), "w=[5,6]",
                   "--format", "json")
    assert replaced.exit_code == 0, replaced.output
    result = json.loads(replaced.stdout)
    assert result["inputs"] == {"x": 2.0, "w[1]": 5.0, "w[2]": 6.0}
    assert result["uncertainty"]["sigma"] == 0.1
    # the file's list over nothing, and a list the command line does not touch, stay whole
    other = run("eval", "w[1] + w[2] + w[3] + y[1]", "--bindings", str(listed), "y=[1]",
                "--fields", "value")
    assert other.exit_code == 0 and other.stdout == '{"value": 7.0}\n'


def test_missing_variables_are_listed_family_by_family():
    """"no value for W[1,1], x[1], W[1,2], x[2], W[1,3], …" listed the variables in order of
    first use, where eval, descend and the page list a family's elements together: the
    message and its hints (and "its variables: …") now read as they do."""
    program = "sum(W[i,j]*x[j] for i in 1..2 for j in 1..3) + c"
    assert refused("eval", program) == \
        "no value for W[1,1], W[1,2], W[1,3], W[2,1], W[2,2], W[2,3], x[1], x[2], x[3], c; " \
        "bind them as W=[[…]] (2×3) x=[…] (3) c=VALUE"
    assert refused("eval", program, "W[1,1]=1", "x=[1,2,3]") == \
        "no value for W[1,2], W[1,3], W[2,1], W[2,2], W[2,3], c; bind them as W[1,2]=VALUE " \
        "W[1,3]=VALUE W[2,1]=VALUE W[2,2]=VALUE W[2,3]=VALUE c=VALUE"
    assert refused("eval", "w[1]*x[1] + w[2]*x[2]", "z=1").endswith(
        "(its variables: w[1], w[2], x[1], x[2])")


def test_a_missing_element_is_out_of_a_list_or_just_missing():
    """A list binds x[1] to x[n]: an element past it is out of the list's range. Elements
    bound one by one bind no range: one the program uses and nobody bound has no value
    (it said "x[1] is out of range of the family bound: x has x[0] to x[-1]")."""
    assert refused("eval", "x[1]*x[2]*x[3]", "x=[1,2]") == \
        "x[3] is out of range of the family bound: x has x[1] to x[2]"
    assert refused("eval", "W[2,2]", "W=[[1],[2]]") == \
        "W[2,2] is out of range of the family bound: W has W[1,1] to W[2,1]"
    assert refused("eval", "x[1]*x[2]", "x[2]=2") == \
        "no value for x[1]; bind it as x[1]=VALUE"
    assert refused("eval", "x[1]*x[2]*x[3]", "x[1]=1", "x[3]=3") == \
        "no value for x[2]; bind it as x[2]=VALUE"
    # the library takes no lists: its message names the elements, which it takes
    with pytest.raises(BindingError, match=r"bind them as x\[1\]=VALUE x\[2\]=VALUE$"):
        cgraph.parse("x[1]*x[2]").evaluate({})


def test_one_element_bound_alone_is_an_element_not_a_one_element_list(tmp_path):
    """`eval --file xor.cg 'W[1,1]=1'` said "W[1,2] is out of range of the family bound: W
    has W[1,1] to W[1,1]": one element makes the same name -> value as W=[[1]], and the
    check saw only that. The bindings now say which families a list bound, through the
    --bindings merge: an element alone leaves the others missing, W=[[1]] (typed, or a
    list in a --bindings file, JSON or NAME=VALUE lines) has a range."""
    xor = str(Path(__file__).parent.parent / "examples" / "xor.cg")
    alone = refused("eval", "--file", xor, "W[1,1]=1")
    assert alone.startswith("no value for W[1,2], W[2,1], W[2,2], W[3,1], "), alone
    assert refused("eval", "w[1]*w[2]", "w[1]=1") == "no value for w[2]; bind it as w[2]=VALUE"
    out_of_range = "W[1,2] is out of range of the family bound: W has W[1,1] to W[1,1]"
    assert refused("eval", "--file", xor, "W=[[1]]") == out_of_range
    assert refused("eval", "w[1]*w[2]", "w=[1]") == \
        "w[2] is out of range of the family bound: w has w[1] to w[1]"
    files = {"list.json": ('{"W": [[1]]}', out_of_range),
             "lines.txt": ("W=[[1]]\n", out_of_range),
             "element.json": ('{"W[1,1]": 1}', alone), "element.txt": ("W[1,1]=1\n", alone)}
    for name, (text, said) in files.items():
        (tmp_path / name).write_text(text)
        assert refused("eval", "--file", xor, "--bindings", str(tmp_path / name)) == said
    # the merge: a list in the file still binds unused elements under a command line's
    # element; an element in the file is no list under the command line's one
    (tmp_path / "w.json").write_text('{"w": [1, 2, 3]}')
    ok = run("eval", "w[1]*2", "--bindings", str(tmp_path / "w.json"), "w[1]=5",
             "--fields", "value")
    assert ok.exit_code == 0 and ok.stdout == '{"value": 10.0}\n', ok.output
    (tmp_path / "w1.json").write_text('{"w[1]": 1}')
    assert refused("eval", "w[1]*w[2]", "--bindings", str(tmp_path / "w1.json"),
                   "w[1]=5") == "no value for w[2]; bind it as w[2]=VALUE"
    assert refused("eval", "w[1]*w[2]", "--bindings", str(tmp_path / "w1.json"),
                   "w=[5]") == "w[2] is out of range of the family bound: w has w[1] to w[1]"


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=30),
                 st.text(alphabet="0123456789xXbBoOeEjJ_.,+-±[]() *^/=#;\n", max_size=30),
                 st.from_regex(r"[+-]?0[xXbBoO][0-9a-fA-F_]{0,40}", fullmatch=True)))
@example("0x" + "f" * 4000)  # its decimal has more digits than Python will write
@example("[1" + "0" * 5000 + "]")
def test_any_text_as_a_value_is_a_number_or_a_binding_error(text):
    """Whatever is typed after `x=`, reading it gives a float or a BindingError (exit 2):
    never another exception (a 400-digit list element and 0x with 4,000 digits were
    internal errors)."""
    from cgraph.bindings import parse_uncertain_bindings

    for arg in (f"x={text}", f"x=2±{text}", f"w=[{text}]", f"x={text}±1"):
        try:
            parse_uncertain_bindings([arg])
        except BindingError:
            pass


JSON = st.recursive(st.none() | st.booleans() | st.floats() | st.integers()
                    | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["x", "w", "w[1]", "W", "weights", "cost", "1x", "",
                                        "θ", "pi"]), JSON, max_size=4))
def test_any_json_object_as_a_bindings_file_is_read_or_refused_in_words(data):
    import tempfile

    from cgraph.bindings import read_bindings_file

    with tempfile.TemporaryDirectory() as where:
        path = f"{where}/b.json"
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps(data))
        try:
            values, sigmas = read_bindings_file(path)
        except BindingError as e:
            assert "\n" not in e.message
        else:
            assert all(isinstance(v, float) for v in values.values()) and sigmas == {}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=6)
       | st.text(max_size=4))
@example("x")
@example("_w1")
@example("1x")
@example("for")
@example("café")
@example("x²")
def test_is_name_reads_a_name_as_the_grammar_does(text):
    """bindings.is_name reads ASCII text with NAME's ASCII form (the full regex's Unicode
    classes cost 0.4 ms a start-up to compile): the answer is the full regex's, for any
    text."""
    import re

    from cgraph.bindings import is_name
    from cgraph.parser import terminal

    assert is_name(text) == (re.fullmatch(terminal("NAME"), text) is not None)


def test_a_list_nested_deeper_than_json_reads_is_the_value_s_fault(tmp_path):
    """json's reader recurses once a level: past about 1,000 it gave up with the message
    for a program nested too deeply, exit 1, though the program was fine."""
    deep = "[" * 3000 + "1" + "]" * 3000
    assert refused("eval", "w[1]", f"w={deep}") == (
        "the value of w is nested too deeply to read (lists in lists: one level an index)")
    path = tmp_path / "deep.json"
    path.write_text('{"w": ' + deep + "}")
    assert refused("eval", "w[1]", "--bindings", str(path)) == (
        f"--bindings {path}: a value is nested too deeply to read (lists in lists: one "
        "level an index)")


@pytest.mark.parametrize("text, said", [
    ('{"W": [[1,2],[3,4]], "W[1,1]": 9}', 'W[1,1] is bound twice ("W", then "W[1,1]"): give '
                                         'it one value'),
    ('{"W[1,1]": 9, "W": [[1,2],[3,4]]}', 'W[1,1] is bound twice ("W[1,1]", then "W"): give '
                                         'it one value'),
    ('{"x": 1, "x": 2}', '"x" is given twice: give it one value'),  # json kept the last
])
def test_a_bindings_file_binding_a_name_twice_says_by_which_keys(tmp_path, text, said):
    path = tmp_path / "b.json"
    path.write_text(text)
    assert refused("eval", "W[1,1]*W[2,2] + x", "--bindings", str(path)) == (
        f"--bindings {path}: {said}")


@pytest.mark.parametrize("option", ["--bindings", "--file", "--data"])
def test_an_empty_file_name_is_refused_not_ignored(option, tmp_path):
    """`--bindings "$F"` with F unset: an empty name was taken as no --bindings at all (the
    run went on without the file's values, or failed on a missing value), and --file '' or
    --data '' said "cannot read : No such file or directory". Each now names the option, as
    -o '' does (trial8's finding)."""
    bound = tmp_path / "b.txt"
    bound.write_text("y=2\n")
    args = ["x*y", "x=1", "y=2"] if option == "--data" else ["x*y", "x=1"]
    for command in ("eval", "descend"):
        if command == "descend" and option == "--data":
            continue
        assert refused(command, *args, option, "").startswith(
            f"{option}: an empty file name (write '-' for standard input) (see ")
    # the fast path (argv.py) and click say it alike
    for click_path in ("", "1"):
        r = subprocess.run([sys.executable, "-m", "cgraph", "eval", *args, option, ""],
                           capture_output=True, text=True, cwd=tmp_path,
                           env={**os.environ, "CGRAPH_CLICK": click_path})
        assert (r.returncode, r.stdout) == (2, "")
        assert r.stderr == (f"Error: {option}: an empty file name (write '-' for standard "
                            f"input) (see 'cgraph eval --help')\n")


def test_a_bindings_files_errors_name_their_line(tmp_path):
    """A NAME=VALUE file's messages say which line (comments and blank lines counted),
    without the command line's hints (a shell cutting `x = 1` at its spaces, a second
    program); a JSON array is named as such; an uncertainty without its value says so."""
    f = tmp_path / "b.txt"
    f.write_text("x=1\n# a comment\n\ny 2\n")
    assert refused("eval", "x", "--bindings", str(f)) == (
        f"--bindings {f}, line 4: malformed binding 'y 2': write NAME=VALUE, e.g. x=1.5")
    f.write_text("x=1\ny=2+\n")
    assert refused("eval", "x", "--bindings", str(f)).startswith(
        f"--bindings {f}, line 2: the value of y, '2+', is not a valid expression")
    f.write_text("x=1\n\nx=2\n")
    assert refused("eval", "x", "--bindings", str(f)) == (
        f"--bindings {f}, line 3: x is bound twice (x=1, then x=2): give it one value")
    f.write_text("[1, 2]")
    assert refused("eval", "x", "--bindings", str(f)) == (
        f"--bindings {f}: holds a JSON array; bindings in JSON are an object of names, "
        '{"x": 1.5, "w": [1, 2]} (or write NAME=VALUE lines)')
    assert refused("eval", "x", "x=±1") == (
        "the value of x is missing before ±: write x=VALUE±SIGMA, e.g. x=1±0.1")
    assert refused("eval", "x", "--mode", "forward", "x=1", "--tangent", "x=±1") == (
        "the tangent of x, '±1', has an uncertainty (±): a tangent is one number")
