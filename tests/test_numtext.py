"""One number policy: every medium's spelling comes from cgraph.numtext, and only from it."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cgraph
from cgraph import numtext

SRC = Path(numtext.__file__).parent
EDGES = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("v,text,six", [
    (2.0, "2", "2"), (-0.0, "-0", "0"), (1 / 3, "0.3333333333333333", "0.333333"),
    (1e-300, "1e-300", "1e-300"), (math.nan, "NaN", "NaN"), (-math.inf, "-Infinity",
                                                             "-Infinity"),
])
def test_text(v, text, six):
    assert numtext.text(v) == text and numtext.text(v, 6) == six
    if math.isfinite(v):
        assert float(numtext.text(v)) == v  # full precision round-trips


def test_json_spellings_agree_and_parse():
    values = [0.5, -2.0, *EDGES]
    texts = numtext.json_texts(values)
    assert texts == [numtext.json_text(v) for v in values]
    assert json.loads("[" + ", ".join(texts) + "]") == [0.5, -2.0, "NaN", "Infinity",
                                                          "-Infinity"]
    assert [numtext.json_value(v) for v in values[2:]] == ["NaN", "Infinity", "-Infinity"]


def test_csv_column_spells_like_text():
    """--data's CSV (Arrow's digits) spells NaN and the infinities as text does."""
    from cgraph.data import csv_column

    column = np.array([0.25, 2.0, *EDGES])
    assert csv_column(column).to_pylist() == ["0.25", "2", "NaN", "Infinity", "-Infinity"]
    assert csv_column(np.array([])).to_pylist() == []


def test_latex_and_program_terms():
    assert [numtext.latex(v) for v in EDGES] == [r"\mathrm{NaN}", r"\infty", r"-\infty"]
    assert [numtext.term(v)[0] for v in EDGES] == ["(0 / 0)", "(1 / 0)", "(-1 / 0)"]
    assert numtext.latex_term(2.5e-8)[0] == r"2.5 \cdot 10^{-8}"
    assert [numtext.atom(v) for v in (3.0, -3.0, math.inf)] == ["3", "(-3)", "(1 / 0)"]


def test_no_other_module_spells_a_number():
    """NaN/Infinity spellings and digit counts (`:.6g`) appear in numtext.py only."""
    pattern = re.compile(r'"(NaN|Infinity|-Infinity)"|:\.\d+g\}|:g\}|float\.__repr__'
                         r'|repr\(float\(')
    offenders = [f"{path.name}:{n}" for path in SRC.glob("*.py") if path.name != "numtext.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []


# -- one spelling: the shortest text that reads back, the exponent as written by hand -------

PADDED = re.compile(r"[0-9]e[-+]0[0-9]")  # Python's 1e-07: the padding nobody writes
DOUBLES = st.floats(allow_nan=False, allow_infinity=False)


def _same(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


@settings(max_examples=2000)
@given(DOUBLES)
def test_every_double_is_spelled_so_it_reads_back(v):
    """Any finite double, -0 and subnormals included: the text reads back as the same double
    (float(), a JSON reader, and cgraph's own parser for a program's literal), is never
    longer than repr's, and has no padded exponent (`1e-7`, `1e+22`, as --data's CSV)."""
    import cgraph

    out = numtext.text(v)
    assert _same(float(out), v) and not PADDED.search(out) and not out.endswith(".0")
    assert len(out) <= len(repr(v)) and out == numtext.shortest(v)
    assert _same(json.loads(numtext.json_text(v)), v)
    assert numtext.json_texts([v, v]) == [numtext.json_text(v)] * 2
    assert _same(cgraph.parse(numtext.atom(v)).evaluate({}).value, v)
    assert _same(float(numtext.code(v, "python").strip("()")), v)


@settings(max_examples=500)
@given(DOUBLES, st.integers(1, 17))
def test_rounded_numbers_read_as_percent_g_without_the_padding(v, digits):
    out = numtext.text(v, digits)
    assert float(out) == float(f"{v:.{digits}g}") and not PADDED.search(out)


@pytest.mark.parametrize("v,text", [
    (1e-7, "1e-7"), (1e22, "1e+22"), (-2.5e-8, "-2.5e-8"), (1e-5, "1e-5"), (1e16, "1e+16"),
    (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (1e-100, "1e-100"),
    (0.0001, "0.0001"), (123456789012345.0, "123456789012345"), (-0.0, "-0"),
])
def test_the_spelling(v, text):
    """repr's digits and where it switches to an exponent; the exponent as the CSV writes it."""
    assert numtext.text(v) == text
    assert numtext.text(v, 6) == {"-0": "0", "1.7976931348623157e+308": "1.79769e+308",
                                  "123456789012345": "1.23457e+14",
                                  "5e-324": "4.94066e-324"}.get(text, text)


def test_csv_writes_the_same_exponent():
    """--data's CSV (Arrow) and text agree wherever both use an exponent."""
    from cgraph.data import csv_column

    values = [1e-7, 1e22, -2.5e-8, 5e-324, 1e-300, 1.5e300, 1.2345678901234568e17]
    assert csv_column(np.array(values)).to_pylist() == [numtext.text(v) for v in values]


_JSON = st.recursive(
    st.none() | st.booleans() | DOUBLES | st.integers() | st.text(alphabet="0123456789e+-.\\\"x ")
    | st.sampled_from(["1e-07", '"2e+05"', "\\", 'a\\"1e-07']),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(alphabet="e-0\\\"1"), inner),
    max_leaves=20)


@given(_JSON)
def test_json_documents_read_back_unchanged_with_the_one_exponent(value):
    """json_document rewrites only numbers: the document reads back as json.dumps's does
    (strings that look like padded numbers, escaped quotes, keys untouched)."""
    dumped = json.dumps(value, ensure_ascii=False, allow_nan=False)
    out = numtext.json_document(value)
    assert json.loads(out) == json.loads(dumped)
    assert json.dumps(json.loads(out), ensure_ascii=False) == dumped  # strings byte for byte
    outside = re.sub(r'"(?:[^"\\]|\\.)*"', '""', out)
    assert not PADDED.search(outside)


LITERALS = "x*1e-7 + 1e22*y^2"


@pytest.mark.parametrize("args", [
    ["eval", "--format", "json"], ["eval", "--format", "tsv"], ["eval", "--format", "csv"],
    ["eval", "--format", "markdown"], ["explain", "--format", "text"],
    ["explain", "--format", "markdown"], ["graph"], ["graph", "--format", "dot"],
    ["diff"], ["diff", "--format", "json"], ["check", "--format", "tsv"],
    ["check", "--format", "json"], ["hessian", "--format", "json"],
    ["hessian", "--format", "csv"], ["jacobian", "--format", "json"], ["codegen"],
    ["codegen", "--lang", "c"], ["eval", "--mode", "forward", "--tangent", "x=1e-7"],
])
def test_every_command_spells_literals_and_results_alike(args):
    """A literal 1e-7 printed as `1e-07`, a result 2e-7 as `2e-07`, in every output."""
    from click.testing import CliRunner

    from cgraph.cli import cli

    point = [] if args[0] == "codegen" else ["x=2", "y=3e-8"]
    r = CliRunner().invoke(cli, [*args, LITERALS, *point])
    assert r.exit_code in (0, 1), r.output  # check's x row is a mismatch (exit 1)
    assert not PADDED.search(r.stdout + r.stderr), r.stdout
    assert re.search(r"e[-+](7|22)\b|10\^\{(-7|22)\}", r.stdout), r.stdout
    if "json" in args:
        json.loads(r.stdout)


def test_descend_spells_numbers_alike():
    from click.testing import CliRunner

    from cgraph.cli import cli

    for fmt in ("json", "table"):
        r = CliRunner().invoke(cli, ["descend", "(w - 1e-7)^2", "w=0", "--steps", "3",
                                     "--format", fmt])
        assert r.exit_code == 0 and "e-" in r.stdout and not PADDED.search(r.stdout), r.stdout


def test_the_table_on_a_terminal_spells_literals_as_written():
    from terminal import on_terminal

    shown = on_terminal(["eval", LITERALS, "x=2", "y=3e-8"], 100)
    assert shown.status == 0, shown.stderr
    rows = [line.split("│") for line in shown.lines if line.count("│") >= 4]
    assert [r[1].strip() for r in rows if r[2].strip() == "const"] == ["1e-7", "1e+22", "2"]
    assert "f = 9e+6" in shown.screen and "∂f/∂x = 1e-7" in shown.screen
    assert not PADDED.search(shown.screen)


def test_explain_writes_powers_of_ten_that_katex_renders(tmp_path):
    """Markdown's maths had `1e-07` (e as a variable, minus as subtraction) and, once values
    became `3 \\cdot 10^{-8}`, a power of one (`3 \\cdot 10^{-8}^{2}`: a double superscript).
    Now every literal and value is a power of ten, in parentheses where it is an operand,
    and KaTeX renders every line."""
    from click.testing import CliRunner

    from cgraph.cli import cli

    out = CliRunner().invoke(cli, ["explain", "--format", "markdown",
                                   LITERALS + " - 1e-7*x*(-2e-30)", "x=2", "y=3e-8"]).stdout
    maths = re.findall(r"\$([^$]+)\$", out)
    assert len(maths) > 20 and not [m for m in maths if re.search(r"[0-9]e[-+]?[0-9]", m)]
    assert r"\left(3 \cdot 10^{-8}\right)^{2}" in out
    import renderers

    assert renderers.katex_errors(maths, tmp_path) == []


@pytest.mark.renderers
def test_diagram_labels_spell_literals_as_written(tmp_path):
    """What Graphviz and mermaid-cli draw: `1e-7` for the literal, `t2 = 2e-7` on its
    edge, never `1e-07`."""
    import renderers
    from click.testing import CliRunner

    from cgraph.cli import cli

    renderers.require_dot()
    renderers.require_mmdc()
    renderers.require_browser()
    run = lambda *a: CliRunner().invoke(cli, ["graph", LITERALS, "x=2", "y=3e-8",  # noqa
                                              "--grads", *a]).stdout
    dot = tmp_path / "g.dot"
    dot.write_text(run("--format", "dot"), encoding="utf-8")
    labels = [o.get("label", "") for o in renderers.dot_drawing(dot)["objects"]]
    labels += [e.get("label", "") for e in renderers.dot_drawing(dot).get("edges", [])]
    assert "1e-7" in labels and "1e+22" in labels and "t2 = 2e-7" in labels, labels
    assert not PADDED.search(" ".join(labels))
    mmd = tmp_path / "g.mmd"
    mmd.write_text(run(), encoding="utf-8")
    done = renderers.mermaid_renders([mmd])
    assert done.returncode == 0, done.stderr
    drawing = renderers.mermaid_drawing(mmd.with_suffix(".svg"))
    boxes = [line for _, _, lines in drawing.nodes.values() for line in lines]
    edges = [e.label for e in drawing.edges]
    assert "1e-7" in boxes and "1e+22" in boxes and "t2 = 2e-7" in edges, (boxes, edges)
    assert not PADDED.search(" ".join(boxes + edges))


def test_the_library_repr_and_the_parser_spell_numbers_as_the_tables_do():
    """`repr(Evaluation)` (the dataclass's repr) and the parser's 'must be an integer, not
    1e-07' used Python's spelling; now `text`'s: `1e-7`, `1e+22`, `2`, `NaN`, an
    Uncertainty's numbers too."""
    from click.testing import CliRunner

    from cgraph.cli import cli
    from cgraph.uncertainty import evaluate

    graph = cgraph.parse("x*1e-7 + y + log(z)")
    shown = repr(evaluate(graph, {"x": 2.0, "y": 1e22, "z": -1.0}, {"x": 1e-7}))
    assert not PADDED.search(shown), shown
    assert "bindings={'x': 2, 'y': 1e+22, 'z': -1}" in shown
    assert "values=[2, 1e-7, 2e-7, 1e+22, 1e+22, -1, NaN, NaN]" in shown
    assert "inputs={'x': 1e-7" in shown and shown.startswith("Evaluation(graph=<Graph ")
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    pasted = repr(cgraph.parse("x*1e-7 + y").evaluate({"x": 2, "y": 0.5}))
    assert f'>>> cgraph.parse("x*1e-7 + y").evaluate({{"x": 2, "y": 0.5}})\n{pasted}\n' in readme
    r = CliRunner().invoke(cli, ["eval", "x[1e-7]", "x=1"])
    assert r.exit_code == 2 and "must be an integer, not 1e-7 " in r.stderr, r.stderr


@settings(max_examples=300)
@given(st.recursive(DOUBLES, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3)
                    | st.tuples(inner, inner), max_leaves=8))
def test_python_spelling_reads_back_as_the_same_numbers(value):
    """numtext.python, which the repr uses: Python reads its text back (ast.literal_eval)
    as the same numbers in the same lists, tuples and dicts; only -0, spelled `-0` as in the
    tables, reads back as Python's integer 0, without its sign."""
    import ast

    def same(a, b):
        if isinstance(a, float):
            return _same(float(b), a) or (a == 0 and type(b) is int and b == 0)
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))

    assert same(value, ast.literal_eval(numtext.python(value)))
