"""The LALR tables shipped in the package: what `python3 -m cgraph.tablegen` makes from
grammar.lark (the single source of truth), the same whatever the run, checked against the
grammar, and loaded without Lark."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cgraph import tables, tablegen


@pytest.fixture(scope="module")
def generated():
    """What the generator makes now from grammar.lark, with Lark."""
    return tablegen.module_text(tables.grammar_text())


def test_the_shipped_tables_are_what_grammar_lark_makes(generated):
    with open(tablegen.module_path(), encoding="utf-8") as fh:
        shipped = fh.read()
    assert shipped == generated, \
        "src/cgraph/_lalr_tables.py is stale: run python3 -m cgraph.tablegen"


def test_the_generated_tables_do_not_depend_on_the_run(generated):
    """Lark numbers its states as Python's string hashes fall, which change from run to
    run: the generator renumbers them, so any run writes the same module."""
    code = "from cgraph import tables, tablegen; " \
           "print(tablegen.module_text(tables.grammar_text()), end='')"
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=os.pathsep.join(sys.path))
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout
        assert out == generated


def test_the_check_command_fails_on_a_stale_module(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tablegen, "module_path", lambda: str(tmp_path / "t.py"))
    assert tablegen.main(["--check"]) == 1  # (none yet)
    assert tablegen.main([]) == 0
    assert tablegen.main(["--check"]) == 0
    (tmp_path / "t.py").write_text((tmp_path / "t.py").read_text().replace(
        "'add'", "'mul'", 1))
    assert tablegen.main(["--check"]) == 1
    assert "run python3 -m cgraph.tablegen" in capsys.readouterr().err


def test_a_run_does_not_import_lark_nor_read_the_grammar():
    code = ("import sys, builtins; opened = []; real = builtins.open\n"
            "builtins.open = lambda f, *a, **k: opened.append(str(f)) or real(f, *a, **k)\n"
            "for m in ('importlib.resources', 'json', 'zlib', 'hashlib'):\n"
            "    sys.modules.pop(m, None)  # (site may have imported them)\n"
            "before = set(sys.modules)\n"
            "import cgraph; cgraph.parse('x+1')\n"
            "print(sorted(m for m in ('lark', 'cgraph.tablegen', 'json', 'difflib', "
            "'importlib.resources', 'hashlib', 'zlib') if m in set(sys.modules) - before), "
            "[f for f in opened if f.endswith('.lark')])")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.split() == ["[]", "[]"]


def test_commands_run_where_lark_is_not_installed(tmp_path):
    """Lark is a development dependency only (pyproject's `test` extra)."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nsys.modules['lark'] = None  # as if not installed\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]),
               XDG_CACHE_HOME=str(tmp_path / "cache"))  # (empty: no tables computed before)
    out = subprocess.run([sys.executable, "-m", "cgraph", "eval", "(x+y)*z; oops(", "x=1"],
                         env=env, capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.startswith("Error: ") and "lark" not in \
        out.stderr.lower()
    out = subprocess.run([sys.executable, "-m", "cgraph", "eval", "(x+y)*z", "x=1", "y=3",
                          "z=-3", "--fields", "value"], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == '{"value": -12.0}'
    out = subprocess.run([sys.executable, "-m", "cgraph.tablegen", "--check"], env=env,
                         capture_output=True, text=True)  # (the developer's command)
    assert out.returncode == 2 and out.stderr == \
        "python3 -m cgraph.tablegen needs Lark: python3 -m pip install -e '.[test]'\n"


def test_the_loaded_tables_are_the_generated_ones():
    from cgraph import _lalr_tables as shipped

    t = tables.load()
    assert t.states == shipped.STATES and t.start == 0 and t.end == shipped.END
    assert [(r.origin, r.expansion, r.alias, r.keep, r.kind) for r in t.rules] == \
        list(shipped.RULES)


def grammar_facts():
    text = tables.grammar_text()
    return text, tablegen.GrammarFacts(text)


@pytest.fixture(scope="module")
def computed():
    return tablegen.compute(tables.grammar_text())


def test_what_lark_computes_passes_validation(computed):
    text, facts = grammar_facts()
    tablegen.validate(computed, text, facts)  # our reading of the grammar agrees with Lark's


def _rule(data, alias):
    return next(r for r in data["rules"] if r[2] == alias)


def _swap_aliases(data):
    add, mul = _rule(data, "add"), _rule(data, "mul")
    add[2], mul[2] = "mul", "add"  # x+y*2 would be x*(y+2) = 4


def _swap_sub_operands(data):
    sub = _rule(data, "sub")
    sub[1] = list(reversed(sub[1]))


def _drop_rule(data):
    data["rules"] = [r for r in data["rules"] if r[2] != "pow"]


def _extra_rule(data):
    data["rules"].append(["sum", ["sum", "STAR", "product"], "add"])


def _catastrophic_regex(data):
    for t in data["terminals"]:
        if t[0] == "NAME":
            t[1] = r"(?:[^\W\d]+)+\w*!?"  # backtracks exponentially on a long name


def _bad_regex(data):
    data["terminals"][0][1] = "("


def _shift_out_of_range(data):
    row = next(r for r in data["states"] if r)
    key = next(iter(row))
    row[key] = len(data["states"]) + 5


def _reduce_out_of_range(data):
    row = next(r for r in data["states"] if any(v < 0 for v in r.values()))
    key = next(k for k, v in row.items() if v < 0)
    row[key] = ~(len(data["rules"]) + 3)


def _set(key, value):
    def change(data):
        data[key] = value
    return change


MUTATIONS = {
    "swapped aliases": _swap_aliases,
    "reversed operands": _swap_sub_operands,
    "missing rule": _drop_rule,
    "extra rule": _extra_rule,
    "catastrophic regex": _catastrophic_regex,
    "regex that does not compile": _bad_regex,
    "shift out of range": _shift_out_of_range,
    "reduce out of range": _reduce_out_of_range,
    "start out of range": _set("start", -1),
    "end not an int": _set("end", "0"),
    "states not a list": _set("states", {"0": {}}),
    "rules wrong shape": _set("rules", [[1, 2]]),
    "unknown kind of ignore": _set("ignore", ["NAME"]),
    "extra key": _set("evil", 1),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_tables_that_are_not_what_the_grammar_says_are_refused(computed, name):
    """The generator refuses tables its reading of grammar.lark disagrees with (a grammar
    written with syntax that reading does not know, say) rather than write them."""
    text, facts = grammar_facts()
    crafted = copy.deepcopy(computed)
    MUTATIONS[name](crafted)
    with pytest.raises(tablegen.Invalid):
        tablegen.validate(crafted, text, facts)


# Pieces of programs where the lexer's terminals meet: every string of the grammar, the
# starts and ends of numbers, names and keywords run together, spaces, comments, characters
# that other scripts and typeset text have
FRAGMENTS = ["<=", ">=", "==", "!=", "<", ">", "=", "**", "*", "^", "..", ".", ";", "\n",
             ",", "(", ")", "[", "]", "+", "-", "/", "for", "in", "fo", "i", "format", "in1",
             "x", "_", "é", "θ", "x²", "₁", "1", "1.", ".5", "1..3", "1e5", "2E-3", "1e",
             " ", "\t", "\f", "\r", "#c", "#", "\xa0", "\u2009", "\u2212", "\uff1d"]
texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.characters()),
                 max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(texts, st.text(alphabet=st.one_of(
    st.sampled_from(" \t\f\r\n#;.e1x_(+*=\xa0\u2009"), st.characters()), max_size=40)))
def test_the_splitter_cuts_the_text_as_the_lexer_does(text):
    """The driver cuts a text with `tables.splitter`, which leaves out the spaces before
    each piece: its pieces must be the grammar's own lexer's, its spaces left out, for any
    text (a piece that could start where spaces are would be cut otherwise)."""
    from cgraph import parser

    t = parser._get_tables()
    auto = tables.Automaton(t)
    lexed = [(m.group(), m.lastgroup) for m in t.lexer.finditer(text)]
    spaces = [n for n, r in t.terminals if n in t.ignore and r.startswith("[")]
    assert spaces  # (else the splitter leaves nothing out, and this tests nothing)
    cut = auto.splitter_for(text).findall(text)
    while cut and not cut[-1]:  # (the end of the text, as the driver drops it)
        cut.pop()
    assert cut == [p for p, name in lexed if name not in spaces]
    starts = [m.start() for m in t.lexer.finditer(text)]
    tokens = parser.Tokens(text, [], auto.splitter_for(text))
    kept = [s for s, (_, name) in zip(starts, lexed) if name not in spaces]
    assert [tokens.start(i) for i in range(len(kept))] == kept


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40))
def test_the_ascii_lexer_reads_ascii_text_as_the_full_one(text):
    """ASCII text is cut by a lexer without NAME's non-ASCII exclusions (they cost ~0.3 ms
    a start-up to compile): it must cut and classify any ASCII text exactly as the
    grammar's own regex does."""
    from cgraph import parser

    t = parser._get_tables()
    auto = tables.Automaton(t)
    assert auto.ascii_splitter.findall(text) == auto.splitter.findall(text)
    assert [m.lastgroup for m in t.ascii_lexer.finditer(text)] == \
        [m.lastgroup for m in t.lexer.finditer(text)]


def _lexer_order(t):
    """An automaton whose splitters try the terminals in the lexer's order (the order of
    grammar.lark's terminals as Lark sorts them), not the splitter's."""
    auto = tables.Automaton(t)
    auto.ascii_splitter = tables.splitter(t, t.ascii_pattern, ascii=True)
    auto._splitter = tables.splitter(t, t.pattern)
    return auto


@settings(max_examples=400, deadline=None)
@given(texts)
def test_the_splitter_s_order_cuts_and_fails_as_the_lexer_s_order(text):
    """The splitter tries the terminals' alternatives in the order that cuts fastest
    (tablegen.splitter_alternatives): on any text, the pieces and a parse's error (its
    message, line and column) are those of the splitter in the lexer's order."""
    import cgraph
    from cgraph import parser
    from cgraph.errors import CgraphError

    t = parser._get_tables()
    old = _lexer_order(t)
    assert parser._automaton.splitter_for(text).findall(text) == \
        old.splitter_for(text).findall(text)

    def parsed():
        try:
            cgraph.parse(text)
            return "accepted"
        except CgraphError as err:
            return err.render()

    ours = parsed()
    saved, parser._automaton = parser._automaton, old
    try:
        assert parsed() == ours
    finally:
        parser._automaton = saved


def test_the_splitter_keeps_each_alternative_after_those_that_start_alike():
    """`==` before `=`, `**` before `*`, a name before a keyword; nothing goes past an
    alternative that may match nothing (`x?`) or whose first character is not known (a
    look-ahead); the quick ones (a character or class first) before the others (`[a-z]+`),
    single characters in a row merged into one class."""
    facts = tablegen.GrammarFacts('A: "=" | "=="\nB: "**" | "*"\n'
                                  'N: /[a-z]+/\nK: "if"\nE: /x?/\nL: /(?=y)y/\n')
    terminals = [("N", "[a-z]+"), ("A", "(?:==|=)"), ("E", "x?"), ("B", "(?:\\*\\*|\\*)"),
                 ("K", "if"), ("L", "(?=y)y"), ("P", "\\+"), ("Q", "\\-")]
    assert tablegen.splitter_alternatives(terminals, facts) == \
        ["==", "[=]", "[a-z]+", "x?", "\\*\\*", "if", "[*]", "(?=y)y", "[+\\-]"]
