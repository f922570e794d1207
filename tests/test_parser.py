"""The grammar: precedence, associativity, numbers, names, statements, errors."""

from __future__ import annotations

import json
import math

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cgraph
from cgraph import ops
from cgraph.errors import CgraphError, NameResolutionError, ParseError
from conftest import sympy_value_and_grad
from programs import VARIABLES, random_program, seeds


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


ONE = "sin cos tan asin acos atan sinh cosh tanh exp log log2 log10 sqrt abs sigmoid relu " \
      "softplus sign step".split()
TWO = ["log", "pow", "max", "min", "atan2"]
THREE = ["clamp", "where"]
LISTED = [(n, 1) for n in ONE] + [(n, 2) for n in TWO] + [(n, 3) for n in THREE]


@pytest.mark.parametrize("name,arity", LISTED)
def test_every_listed_function_with_its_arity(name, arity):
    """Each function the README lists is a call of its registry op on its arguments, and
    its value is SymPy's."""
    args = ["x", "y", "z"][:arity]
    g = cgraph.parse(f"{name}({', '.join(args)})")
    out = g.nodes[g.output]
    assert out.op is ops.lookup_function(name, arity)
    assert [g.nodes[i].name for i in out.inputs] == args
    point = {"x": 0.375, "y": 0.625, "z": 0.875}
    point = {k: point[k] for k in args}
    assert g.evaluate(point).value == pytest.approx(sympy_value_and_grad(g, point)[0],
                                                    rel=1e-12)


def test_the_listed_functions_are_all_there_are():
    assert set(LISTED) == set(ops.FUNCTIONS)


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
    ("(x", "')'", 3),
    ("x $ y", "unexpected character '$'", 3),
    ("sin(x", "')'", 6),
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
    # an unknown function: a product only where the name is a value elsewhere
    ("f(2) + x", "unknown function 'f'; define it before its use: f(a) = …"),
    ("g(x, 2)", "unknown function 'g'; define it before its use: g(a, b) = …"),
    ("x(1)", "unknown function 'x'; define it before its use: x(a) = …"),
    ("f(2) + f", "unknown function 'f'; write f*(2) for a product"),
    ("x + x (1)", "unknown function 'x'; write x*(1) for a product"),
    ("f(2) # f\n + f (3)", "unknown function 'f'; define it before its use: f(a) = …"),
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


@settings(max_examples=300, deadline=None)
@given(seeds)
def test_generated_programs_parse_and_agree_with_a_reference_evaluator(seed):
    """Valid programs (assignments, ';' and new lines, comments, every precedence level,
    calls) parse, and their value is what plain Python arithmetic says."""
    text, expected = random_program(seed)
    g = cgraph.parse(text)
    got = g.evaluate(VARIABLES).value
    if expected is not None:
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-300), text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="xy()+-*/^.,;=e 0123456789sinlog\n#", max_size=40))
def test_arbitrary_text_never_raises_anything_but_our_errors(text):
    try:
        g = cgraph.parse(text)
        g.evaluate({v: 1.25 for v in g.variables})
    except CgraphError:
        pass


@pytest.mark.parametrize("text,error,line,column", [
    # the names and numbers before the error were read and let go (parser.Tokens.take):
    # the place of the error is still found in the text
    ("a = x * 2.5  # note\nb = sin(a) * a + 1.5\nc = foo(b)", NameResolutionError, 3, 5),
    ("a = x * 2.5\nb = sin(a) * a\nb + 2 +", ParseError, 3, 8),
    ("a = x * 2.5\n\tb = a * a $ 2", ParseError, 2, 12),
    ("a = x * 2.5\nb = a * a\na = b", NameResolutionError, 3, 1),
    # after lines wrapped inside brackets, errors are still at their place
    ("a = (x *\n  2.5)  # note\nb = sin(a\n) $ 2", ParseError, 4, 3),
    ("f = max(x,\n        y,\n        foo(x))", NameResolutionError, 3, 9),
    ("a = [x,\n y]", ParseError, 1, 5),
])
def test_error_places_after_tokens_are_let_go(text, error, line, column):
    with pytest.raises(error) as info:
        cgraph.parse(text)
    assert (info.value.line, info.value.column) == (line, column), str(info.value)


# -- new lines inside brackets, x² -------------------------------------------------------

@pytest.mark.parametrize("text", [
    "z = (w*x\n     + 1)\nz",
    "z = (w*x   # the product\n\n     + 1)  # and one\nz",
    "z = (\n  w*x\n  + 1\n)\nz",
    "z = max(w*x,\n        0) + 1 - max(0,\n 0)\nz",
    "v[i] = w*x for i in 1..2\nz = sum(v[i]\n        for i in 1..2) / 2 + 1 - v[\n1] + v[1]",
])
def test_a_new_line_inside_brackets_goes_on_with_the_statement(text):
    assert value(text, w=2.0, x=3.0) == 7.0


@pytest.mark.parametrize("text,message,line,column", [
    # outside brackets a new line still ends the statement, a trailing operator too
    ("z = w*x +\n1", "the line ends too early", 1, 10),
    ("z = (w*x\n+ 1)\n* 2", "unexpected '*'", 3, 1),
    # ';' inside brackets is a separator, and an error there
    ("z = (w*x;\n+ 1)", "unexpected ';'", 1, 9),
    # a bracket opened on an earlier line and never closed: its own error, at it
    ("z = (w*x\n     + 1", "this '(' is never closed", 1, 5),
    ("z = (w*x\n     + 1\n", "this '(' is never closed", 1, 5),
    ("z = max(w, (x\n  + 1)\ny = 2", "this '(' is never closed", 1, 8),
    ("z = w[1,\n  2", "this '[' is never closed", 1, 6),
    ("z = (w*x\ny = 2", "this '(' is never closed", 1, 5),
    # on its own line, what could come
    ("z = (w*x\n", "the program ends too early; expected '(', ')', '*', '+', '-', '/', "
                   "'[', '^' or a comparison", 1, 9),
    ("z = (w*x\ny = 2)", "unexpected 'y'", 2, 1),
])
def test_wrapping_errors(text, message, line, column):
    with pytest.raises(ParseError) as err:
        cgraph.parse(text)
    assert message in err.value.message
    assert (err.value.line, err.value.column) == (line, column), str(err.value)


@pytest.mark.parametrize("text,message", [
    ("x²", "unexpected character '²'; write x^2 for a power"),
    ("2*x³ + 1", "unexpected character '³'; write x^3 for a power"),
    ("x⁻¹", "unexpected character '⁻'; write x^-1 for a power"),
    ("(x + 1)²", "write (x + 1)^2 for a power"),
    ("sin(x)²", "write sin(x)^2 for a power"),
    ("w[2]²", "write w[2]^2 for a power"),
    ("x₁ + 1", "unexpected character '₁'; write x1 or x_1"),
    ("x½", "unexpected character '½'; expected "),
    ("²x", "unexpected character '²'; expected "),
    ("café² + 1", "write café^2 for a power"),
])
def test_superscripts_and_subscripts_are_not_name_characters(text, message):
    with pytest.raises(ParseError) as err:
        cgraph.parse(text)
    assert err.value.message.startswith(message) if message.startswith("unexpected") \
        else message in err.value.message


PASTED = {"\u2212": "write '-'", "\u2013": "write '-'", "\u00d7": "write '*'",
          "\u00b7": "write '*'", "\u22c5": "write '*'", "\u00f7": "write '/'",
          "\u00a0": "a no-break space (U+00A0): retype it as a plain space",
          "\u200b": "a zero-width space (U+200B): delete it",
          "\u2028": "a line separator (U+2028): retype it as a new line",
          # the seed tutorial's own ∗, and full-width forms a Chinese input method types
          "\u2217": "write '*'", "\uff0b": "write '+'", "\uff0a": "write '*'",
          "\uff08": "write '('", "\uff09": "write ')'",
          "\u3000": "an ideographic space (U+3000): retype it as a plain space",
          # a comparison or a root as typeset
          "\u2264": "write '<='", "\u2265": "write '>='", "\u2260": "write '!='",
          "\u221a": "write sqrt(…)"}


@pytest.mark.parametrize("text,first,line,column", [
    # operators and spaces from text copied out of a PDF or a web page
    ("x \u2212 1", "unexpected character '\u2212'; write '-'", 1, 3),
    ("y = 2\nz = x \u00d7 y", "unexpected character '\u00d7'; write '*'", 2, 7),
    ("x\u00b72", "unexpected character '\u00b7'; write '*'", 1, 2),
    ("x\u22c52", "unexpected character '\u22c5'; write '*'", 1, 2),
    ("x \u00f7 2", "unexpected character '\u00f7'; write '/'", 1, 3),
    ("x\u00a0+ 1", "unexpected character '\\xa0'; a no-break space (U+00A0): retype it as "
                   "a plain space", 1, 2),
    ("x\u200b+1", "unexpected character '\\u200b'; a zero-width space (U+200B): delete it",
     1, 2),
    # copied from the seed tutorial (g = ( x + y ) ∗ z), typed with a Chinese input method
    ("g = ( x + y ) \u2217 z", "unexpected character '\u2217'; write '*'", 1, 15),
    ("\uff08x+y\uff09*2", "unexpected character '\uff08'; write '('", 1, 1),
    ("x \uff0b 1", "unexpected character '\uff0b'; write '+'", 1, 3),
    # a comparison or a root as a paper typesets it
    ("where(x \u2264 1, x, 1)", "unexpected character '\u2264'; write '<='", 1, 9),
    ("y = x \u2265 0", "unexpected character '\u2265'; write '>='", 1, 7),
    ("x \u2260 0", "unexpected character '\u2260'; write '!='", 1, 3),
    ("\u221ax + 1", "unexpected character '\u221a'; write sqrt(…)", 1, 1),
    # two operands side by side: the product a person meant, where '*' could come
    ("2x", "unexpected 'x'; write 2*x for a product", 1, 2),
    ("y = 1\n2.5 x", "unexpected 'x'; write 2.5*x for a product", 2, 5),
    ("2(x+1)", "unexpected '('; write 2*(x+1) for a product", 1, 2),
    ("(x+1)(x-1)", "unexpected '('; write (x+1)*(x-1) for a product", 1, 6),
    ("2sin(x)^2", "unexpected 'sin'; write 2*sin(x) for a product", 1, 2),
    ("w[1](x)", "unexpected '('; write w[1]*(x) for a product", 1, 5),
    # x(1) where x is bound (x=2 on the command line) or assigned; z(2), f(2) where not
    ("x(1)", "unknown function 'x'; write x*(1) for a product", 1, 1),
    ("x = 2; x(y + 1)", "unknown function 'x'; write x*(y + 1) for a product", 1, 8),
    ("z(2)", "unknown function 'z'; define it before its use: z(a) = …", 1, 1),
    ("f(2)+x", "unknown function 'f'; define it before its use: f(a) = …", 1, 1),
    # a literal is the number written, as a binding's value is: not Infinity, not 0
    ("y = x + 1e999", "the number '1e999' is beyond the largest double (about 1.8e308); "
                      "write 1/0 if you mean Infinity", 1, 9),
    ("x*2.5e-400", "the number '2.5e-400' is below the smallest double (about 4.9e-324) "
                   "and would read as 0; write 0 if you mean it", 1, 3),
    # not a product: two numbers (a thousands separator), two names (sin x), a near name
    ("1 000", "unexpected '000'; expected ", 1, 3),
    ("sin x", "unexpected 'x'; expected ", 1, 5),
    ("sine(x)", "unknown function 'sine'; did you mean 'sin'?", 1, 1),
])
def test_hints_for_what_was_meant_through_the_command(text, first, line, column):
    """The whole of standard error, as a person sees it: one message line with the hint,
    the line of the program and a caret under the place; exit status 2."""
    import subprocess
    import sys

    from terminal import env_for

    r = subprocess.run([sys.executable, "-m", "cgraph", "eval", text, "x=2", "y=1"],
                       capture_output=True, env=env_for({"NO_COLOR": "1"}))
    err = r.stderr.decode()
    assert r.returncode == 2 and r.stdout == b"", err
    message, shown, caret = err.splitlines()
    assert message.startswith(f"Error: {first}"), err
    assert message.endswith(f" (at line {line}, column {column})"), err
    if not first.endswith("expected "):
        assert message == f"Error: {first} (at line {line}, column {column})"
    assert shown == "  " + text.splitlines()[line - 1]
    assert caret == " " * (column + 1) + "^"


def test_a_name_bound_in_a_bindings_file_is_a_product_as_on_the_command_line(tmp_path):
    """f(2) with f bound by --bindings FILE is the product f*(2), as with f=3 on the
    command line (it said 'define it before its use: f(a) = …')."""
    from cgraph.cli import cli
    from click.testing import CliRunner

    for bound, product in [({"f": 3}, True), ({"g": 3}, False), ({"f": [1, 2]}, False)]:
        (tmp_path / "b.json").write_text(json.dumps(bound))
        r = CliRunner().invoke(cli, ["eval", "f(2)", "--bindings", str(tmp_path / "b.json")])
        hint = "write f*(2) for a product" if product else "define it before its use"
        assert r.exit_code == 2 and f"unknown function 'f'; {hint}" in r.stderr, bound
    (tmp_path / "bad.json").write_text("{")  # a file that does not read: no hint from it
    r = CliRunner().invoke(cli, ["eval", "f(2)", "--bindings", str(tmp_path / "bad.json")])
    assert r.exit_code == 2 and "define it before its use" in r.stderr


@pytest.mark.parametrize("text,column", [
    ("成本 = 預測 ∗ 2", 9),  # wide characters: two columns each on a terminal
    ("x +\t* 2", 5),  # a tab
    ("cafe\u0301 + * 2", 5 + 3),  # é as e + U+0301: read (and shown) composed, NFC
    # a Hangul vowel jamo after a letter takes no column (no syllable to compose): the
    # blanks before the caret counted it as one, where the window counted none
    ("x\u1161\u1161 + * 2", 7), ("成本\u1161 + * 2", 7),
])
def test_the_caret_stands_under_the_character_on_a_terminal(text, column):
    """The caret was placed by counting characters: under '測' for the '∗' of
    '成本 = 預測 ∗ 2'. It stands where a terminal shows the character (Rich's cell widths
    as the oracle), on a real pty."""
    from rich.cells import cell_len

    from terminal import on_terminal

    import unicodedata

    shown = on_terminal(["eval", text, "x=1"], 80)
    *message, line, caret = shown.stderr.splitlines()  # (the message broken at spaces)
    message = " ".join(message)
    assert shown.status == 2 and message.endswith(f"(at line 1, column {column})"), message
    text = unicodedata.normalize("NFC", text)
    assert line == "  " + text
    before = ("  " + text[:column - 1]).expandtabs(8)
    assert len(caret.expandtabs(8)) - 1 == cell_len(before) and caret.endswith("^"), caret


@pytest.mark.parametrize("width", (30, 40, 80))
@pytest.mark.parametrize("text, bad", [
    ("成本" * 12 + " + 預測 ∗ 2", "∗"),  # 48 columns of wide characters before the place
    ("x + " * 40 + "* 2" + " + y" * 30, "*"),  # a long sum, the place in its middle
    ("\t" * 5 + "x + * 2", "*"),  # tabs
    ("x\u1161" * 40 + " + * 2", "*"),  # characters of no width, in and before the window
])
def test_a_long_line_and_its_caret_fit_the_terminal(text, bad, width):
    """At 30 columns the program's line and the caret line each wrapped (a 100-character
    window, wider still in wide characters), the caret two rows under its character.
    On a terminal the window is what fits its width, wide characters counted as it shows
    them; each cut is marked '…', and the caret stands under the character (Rich's cell
    widths as the oracle)."""
    from rich.cells import cell_len

    from terminal import on_terminal

    shown = on_terminal(["eval", text, "x=1"], width)
    *message, line, caret = shown.stderr.splitlines()  # (the message broken at spaces)
    message = " ".join(message)
    assert shown.status == 2 and message.startswith("Error: unexpected "), shown.stderr
    assert cell_len(line.expandtabs(8)) <= width and len(caret.expandtabs(8)) <= width
    at = len(caret.expandtabs(8)) - 1
    before = next(k for k in range(len(line) + 1)
                  if cell_len(line[:k].expandtabs(8)) >= at)
    assert cell_len(line[:before].expandtabs(8)) == at and line[before] == bad, shown.stderr
    body = line[2:].removeprefix("…").removesuffix("…")
    assert body in text and cell_len(body.expandtabs(8)) >= width // 3, line
    assert line.startswith("  …") == (not text.startswith(body)), line
    assert line.endswith("…") == (not text.endswith(body)), line


@pytest.mark.parametrize("width", (30, 40, 80, None))
@pytest.mark.parametrize("text", [
    "+".join(f"a{i}" for i in range(60)) + " + θ + ) + b",  # cut on the left, θ before it
    "θ + 成本 + ) + " + " + ".join(f"b{i}" for i in range(40)),  # cut on the right
    "x\u1161 + 𝑥 + )",  # a character of no width; one beyond the first plane
])
def test_on_an_ascii_standard_error_the_caret_stands_under_the_character(text, width):
    """Where standard error spells in ASCII (PYTHONIOENCODING=ascii, a C locale), the
    window's `…` is written `...` and θ `\\u03b8`, but the caret was placed for one column
    each: it stood 2 columns left of its place per cut and 5 per θ. Each character now
    counts as wide as its spelling, on a real pty of each width (the window still fits)
    and into a pipe (None)."""
    import subprocess

    from terminal import env_for, on_terminal

    if width is None:
        done = subprocess.run([sys.executable, "-m", "cgraph", "eval", text, "b0=1"],
                              capture_output=True, env=env_for({"PYTHONIOENCODING": "ascii"}))
        status, said = done.returncode, done.stderr.decode("ascii")
    else:
        shown = on_terminal(["eval", text, "b0=1"], width, env=env_for(
            {"PYTHONIOENCODING": "ascii"}))
        status, said = shown.status, shown.stderr
    *message, line, caret = said.splitlines()
    assert status == 2 and "unexpected ')'" in " ".join(message), said
    assert line.isascii() and caret.strip() == "^", said
    assert line[len(caret) - 1] == ")", said
    if width is not None:
        assert len(line) <= width and len(caret) <= width, said


@settings(max_examples=150, deadline=None)
@given(seeds, st.sampled_from(sorted(PASTED)), st.integers(0, 10 ** 6))
def test_a_pasted_character_anywhere_is_one_error_with_its_hint(seed, pasted, where):
    """A valid program with one pasted character put anywhere outside a comment: exit 2 and
    the character's hint, at its line and column, never a traceback."""
    from click.testing import CliRunner

    from cgraph.cli import cli
    from cgraph.errors import line_column

    text, _ = random_program(seed)
    code = [k for k in range(len(text) + 1) if "#" not in text[:k].rsplit("\n", 1)[-1]]
    pos = code[where % len(code)]
    text = text[:pos] + pasted + text[pos:]
    r = CliRunner().invoke(cli, ["eval", "--", text,  # (a program may begin with "--")
                                 *(f"{n}={v}" for n, v in VARIABLES.items())])
    assert r.exit_code == 2 and r.stdout == "" and isinstance(r.exception, SystemExit), \
        (text, r.output)
    line, column = line_column(text, pos)
    first = r.stderr.splitlines()[0]
    assert first == f"Error: unexpected character {pasted!r}; {PASTED[pasted]} " \
                    f"(at line {line}, column {column})", (text, r.stderr)
    assert "Traceback" not in r.stderr


def test_names_are_identifiers():
    """Letters, digits and '_' (\\w), but not the numbers \\w also takes that a person may
    type or paste (², ½ in Latin-1; ⁴, ₁, ⅓, ①, ❶ from General Punctuation to the
    Dingbats): there, a name is a Python identifier."""
    import re

    from cgraph.parser import _get_tables

    name = re.compile(dict(_get_tables().terminals)["NAME"])
    for c in map(chr, [*range(0x80, 0x100), *range(0x2000, 0x2C00)]):
        if re.fullmatch(r"\w", c):
            assert bool(name.fullmatch("x" + c)) == ("x" + c).isidentifier(), hex(ord(c))
            assert bool(name.fullmatch(c)) == c.isidentifier(), hex(ord(c))


def test_a_binding_s_name_is_a_name_as_the_grammar_spells_it():
    from cgraph.bindings import parse_bindings
    from cgraph.errors import BindingError

    assert parse_bindings(["θ=1", "x2=2"]) == {"θ": 1.0, "x2": 2.0}
    for wrong in ("x²=3", "2x=1", "x₁=1"):
        with pytest.raises(BindingError):
            parse_bindings([wrong])


def test_one_line_titles_join_wrapped_lines_with_a_space():
    """The title of a table, a page or generated code: a statement wrapped inside brackets
    is one statement there too, not two joined by ';'."""
    from cgraph.parser import one_line

    text = "a = 1  # x\n\nb = (a\n  + 2)  # c\nc = [a,\n b]; d = c"
    assert one_line(text) == "a = 1; b = (a + 2); c = [a, b]; d = c"
    assert one_line("x + " * 100) == ("x + " * 100)[:199] + "…"
    assert one_line("# nothing but a note") == ""


@pytest.mark.parametrize("program", ["x + 1\ny +\n", "f = sin(x) ^\nf\n", "a = 2 *\nb = a\n",
                                     "x = 1\ny = x -  \n"])
def test_a_crlf_line_that_ends_too_early_is_placed_as_its_lf_twin(program):
    """"the line ends too early" in a CRLF file stood one column too far, on the \\n after
    the \\r (the caret after a blank): the line ends where its \\r is, as with \\n alone."""
    places = []
    for text in (program, program.replace("\n", "\r\n")):
        with pytest.raises(ParseError) as err:
            cgraph.parse(text)
        places.append((err.value.message, err.value.line, err.value.column))
    assert places[0] == places[1] and "the line ends too early" in places[0][0], places


def test_an_error_near_the_start_of_a_huge_text_places_only_the_pieces_near_it():
    """A syntax error at column 1 of a megabyte of NUL bytes (a binary file given as a
    program) placed every piece of the text (a tuple each, 133 bytes of memory a character,
    1.45 GB for 10 MB; a 300 MB file took 24 GB before the kernel killed it) to look for
    a pasted character in the 'word' they form. The pieces are placed as far as the error
    needs; the word is looked at for 64 pieces at most (tracemalloc: 14 bytes a
    character, the list of pieces and their kinds)."""
    import tracemalloc

    text = "\x00" * 200_000
    tracemalloc.start()
    try:
        with pytest.raises(ParseError) as err:
            cgraph.parse(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (err.value.line, err.value.column) == (1, 1)
    assert "unexpected character '\\x00'" in err.value.message
    assert peak / len(text) < 40, peak / len(text)


@pytest.mark.parametrize("text, line, column", [
    ("a = 1\rb = a * 2\r", 1, 7), ("a = 1\r\nb = a + 2\rc\n", 2, 11),
    ("x\r  y", 1, 5),
])
def test_a_lone_carriage_return_is_named_as_the_error(text, line, column):
    """A file saved with classic Mac line ends (a carriage return alone) is one line to
    cgraph, and the error after it hinted 'write 1*b for a product'. The error names the
    carriage return; a CRLF line end is a line end, and gets no such hint."""
    with pytest.raises(ParseError) as err:
        cgraph.parse(text)
    assert "a carriage return alone does not end a line" in err.value.message
    assert (err.value.line, err.value.column) == (line, column)
    with pytest.raises(ParseError) as err:
        cgraph.parse(text.replace("\r\n", "\n").replace("\r", "\r\n") + "$")
    assert "carriage return" not in err.value.message
