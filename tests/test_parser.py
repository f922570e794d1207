"""The grammar: precedence, associativity, numbers, names, statements, errors."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

import cgraph
from cgraph.errors import CgraphError, NameResolutionError, ParseError
from lark import Lark

from cgraph.parser import grammar_text


def value(text, **point):
    return cgraph.parse(text).evaluate(point).value


@pytest.mark.parametrize("text,expected", [
    ("-x^2", -9.0), ("2^3^2", 512.0), ("2**3**2", 512.0), ("(2^3)^2", 64.0),
    ("1 - 2 - 3", -4.0), ("8 / 4 / 2", 1.0), ("2 + 3 * 4", 14.0), ("(2 + 3) * 4", 20.0),
    ("-2^-1", -0.5), ("2^-x", 2.0 ** -3), ("--x", 3.0), ("+x", 3.0), ("-x*2", -6.0),
    ("x^2^0.5", 3.0 ** (2.0 ** 0.5)), ("2*-x", -6.0), ("1 - -x", 4.0),
])
def test_precedence_and_associativity(text, expected):
    assert value(text, x=3.0) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("text,expected", [
    ("3", 3.0), ("3.5", 3.5), (".5", 0.5), ("3.", 3.0), ("1e-3", 1e-3), ("2.5E+2", 250.0),
    ("1E3", 1000.0), ("0.1e1", 1.0),
])
def test_numbers(text, expected):
    assert value(text) == expected


def test_constants_and_unicode_names():
    assert value("pi") == math.pi and value("e") == math.e
    ev = cgraph.parse("θ * café + _x1").evaluate({"θ": 2.0, "café": 3.0, "_x1": 1.0})
    assert ev.value == 7.0 and ev.gradient() == {"θ": 3.0, "café": 2.0, "_x1": 1.0}


def test_every_listed_function_with_its_arity():
    one = "sin cos tan asin acos atan sinh cosh tanh exp log log2 log10 sqrt abs sigmoid " \
          "relu softplus".split()
    for name in one:
        cgraph.parse(f"{name}(x)")
    for name in ("log", "pow", "max", "min", "atan2"):
        cgraph.parse(f"{name}(x, y)")


def test_statements_by_semicolon_and_newline_and_comments():
    g = cgraph.parse("# a model\np = x + y   # the sum\n\ng = p * z;\n")
    assert g.output_name == "g"
    assert [n.name for n in g.nodes] == ["x", "y", "p", "z", "g"]
    assert cgraph.parse("x; y; x*y").output_name == "f"


def test_variable_used_twice_is_one_node():
    g = cgraph.parse("x*x + x")
    assert sum(n.op.name == "var" for n in g.nodes) == 1
    assert g.evaluate({"x": 3.0}).gradient() == {"x": 7.0}


def test_named_intermediate_is_one_shared_node():
    g = cgraph.parse("p = x + y; g = p * p")
    assert sum(n.op.name == "add" for n in g.nodes) == 1
    assert g.evaluate({"x": 1.0, "y": 2.0}).gradient() == {"x": 6.0, "y": 6.0}


def test_alias_of_a_name():
    g = cgraph.parse("p = x; q = p * 2")
    assert g.evaluate({"x": 4.0}).value == 8.0 and list(g.variables) == ["x"]


@pytest.mark.parametrize("text,message,column", [
    ("(x+*y)", "unexpected '*'", 4),
    ("x +", "ends too early", 4),
    ("(x", "expected ')'", 3),
    ("x $ y", "unexpected character '$'", 3),
    ("sin(x", "expected ')'", 6),
    ("x y", "unexpected 'y'", 3),
    ("3x", "unexpected 'x'", 2),
])
def test_syntax_errors_point_at_the_column(text, message, column):
    with pytest.raises(ParseError) as err:
        cgraph.parse(text)
    assert message in err.value.message
    assert err.value.column == column
    rendered = err.value.render().splitlines()
    assert rendered[1].strip() == text
    assert rendered[2].index("^") - rendered[1].index(text[0]) == column - 1


@pytest.mark.parametrize("text,message", [
    ("sine(x)", "unknown function 'sine'; did you mean 'sin'?"),
    ("sigmod(x)", "did you mean 'sigmoid'?"),
    ("sin(x, y)", "sin() takes 1 argument, not 2"),
    ("atan2(x)", "atan2() takes 2 arguments, not 1"),
    ("log(x, y, z)", "log() takes 1 or 2 arguments, not 3"),
    ("pi = 3", "cannot assign to the constant 'pi'"),
    ("e = x; e", "cannot assign to the constant 'e'"),
    ("a = x; a = y", "'a' is assigned twice"),
    ("y = x * 2; x = 3", "'x' is assigned after it was used"),
])
def test_name_errors(text, message):
    with pytest.raises(NameResolutionError) as err:
        cgraph.parse(text)
    assert message in err.value.message


@pytest.mark.parametrize("text", ["", "  ", ";;", "# only a comment\n"])
def test_empty_program(text):
    with pytest.raises(ParseError, match="empty"):
        cgraph.parse(text)


def test_deep_nesting_does_not_recurse():
    depth = 20_000
    g = cgraph.parse("(" * depth + "x" + ")" * depth + " * 2")
    assert g.evaluate({"x": 1.5}).gradient() == {"x": 2.0}


# Hypothesis: strings generated from our own grammar never raise anything but our errors.
# Explicit strategies for the regex terminals keep generation fast (Lark's NAME is any
# Unicode identifier; drawing those, and whitespace between every token, is slow).
programs = from_lark(
    Lark(grammar_text(), parser="lalr"), start="start",
    explicit={
        "NAME": st.sampled_from(["x", "y", "θ", "sin", "log", "max", "pi", "e", "p", "sine"]),
        "NUMBER": st.sampled_from(["0", "1", "2.5", ".5", "1e-3", "3.", "1E+2", "1e308"]),
        "COMMENT": st.just("# note"),
        "_SEP": st.sampled_from([";", "\n"]),
        "__IGNORE_0": st.sampled_from([" ", "\t"]),
    })


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs)
def test_generated_programs_parse_and_evaluate_or_fail_cleanly(text):
    try:
        g = cgraph.parse(text)
    except CgraphError:
        return  # e.g. an unknown function name or assignment rules: our own error types
    ev = g.evaluate({v: 0.5 for v in g.variables})
    assert len(ev.grads) == len(g.nodes)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="xy()+-*/^.,;=e 0123456789sinlog\n#", max_size=40))
def test_arbitrary_text_never_raises_anything_but_our_errors(text):
    try:
        g = cgraph.parse(text)
        g.evaluate({v: 1.25 for v in g.variables})
    except CgraphError:
        pass


def test_lalr_tables_are_cached_as_json_and_rebuilt_when_bad(tmp_path, monkeypatch):
    import json

    from cgraph import parser

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(parser, "_tables", None)
    assert cgraph.parse("x*2").evaluate({"x": 2.0}).value == 4.0
    (cached,) = (tmp_path / "cgraph").glob("lalr-*.json")
    stored, fresh = json.loads(cached.read_text()), parser._Tables.compute(grammar_text())
    # Lark numbers states differently from run to run; the tables' shape is what is fixed
    assert len(stored["states"]) == len(fresh["states"])
    assert stored["rules"] == [list(r) for r in fresh["rules"]]
    assert stored["terminals"] == [list(t) for t in fresh["terminals"]]
    cached.write_text("{not json")  # a damaged cache is recomputed, never trusted
    monkeypatch.setattr(parser, "_tables", None)
    assert cgraph.parse("x*3").evaluate({"x": 2.0}).value == 6.0
    json.loads(cached.read_text())


def test_unwritable_cache_still_parses(tmp_path, monkeypatch):
    from cgraph import parser

    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file, not a directory
    monkeypatch.setattr(parser, "_tables", None)
    assert cgraph.parse("1 + 2").evaluate({}).value == 3.0


def test_suggestions_agree_with_difflib_on_typos():
    """did_you_mean does without difflib (start-up); difflib is the oracle for typos."""
    import difflib
    import random

    from cgraph.errors import did_you_mean

    names = cgraph.ops.function_names()
    rng = random.Random(9)
    for name in names:
        for _ in range(5):
            i = rng.randrange(len(name) + 1)
            typo = rng.choice([name[:i] + "x" + name[i:], name[:i] + name[i + 1:],
                               name[:i] + "q" + name[i + 1:]])
            want = difflib.get_close_matches(typo, sorted(names), n=1, cutoff=0.6)
            assert did_you_mean(typo, names) == (f"; did you mean '{want[0]}'?"
                                                 if want else ""), typo
