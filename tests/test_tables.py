"""The LALR table cache: a file that is not what cgraph wrote never changes a result,
never fails a run, never hangs; it is recomputed, and no temp file is left behind."""

from __future__ import annotations

import copy
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cgraph
from cgraph import parser, tables

PROBES = {"x + y*2": 5.0, "x - y - 2": -3.0, "2^3^2": 512.0, "atan2(y, x) * 4": 4 * 1.1071487177940904,
          "-x^2": -1.0, "a = x + y; a * (y - x)": 3.0, "max(x, y) / min(x, y)": 2.0}


def results():
    parser._tables = None  # load the tables afresh, from the cache if it is valid
    return {text: cgraph.parse(text).evaluate({"x": 1.0, "y": 2.0}).value
            for text in PROBES}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(parser, "_tables", None)
    assert results() == pytest.approx(PROBES)
    (path,) = (tmp_path / "cgraph").glob("lalr-*.json")
    return path


def grammar_facts():
    text = tables.grammar_text()
    return text, tables.GrammarFacts(text)


def test_what_lark_computes_passes_validation_and_is_cached(cache):
    text, facts = grammar_facts()
    fresh = tables.compute(text)
    tables.validate(fresh, text, facts)  # our reading of the grammar agrees with Lark's
    stored = json.loads(cache.read_text())
    tables.validate(stored, text, facts)
    assert stored["rules"] == fresh["rules"] and stored["terminals"] == fresh["terminals"]
    import zlib

    crc = zlib.crc32(tables.grammar_text().encode())
    assert cache.name == f"lalr-{cgraph.__version__}-lark-{tables.lark_version()}-{crc:08x}.json"


def test_lark_version_is_read_without_importing_lark():
    import importlib.metadata

    assert tables.lark_version() == importlib.metadata.version("lark")


def test_a_warm_run_does_not_import_lark(cache):
    import subprocess
    import sys

    code = ("import sys; sys.modules.pop('importlib.resources', None); "
            "import cgraph; cgraph.parse('x+1'); "
            "print('lark' in sys.modules, 'difflib' in sys.modules, "
            "'importlib.resources' in sys.modules, 'hashlib' in sys.modules)")
    env = dict(os.environ, XDG_CACHE_HOME=str(cache.parent.parent),
               PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["False", "False", "False", "False"]


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
    "older format": _set("format", tables.FORMAT - 1),
    "another cgraph": _set("cgraph", "0.0.0"),
    "another lark": _set("lark", "0.0.1"),
    "another grammar": _set("grammar", "start: NAME"),
    "unknown kind of ignore": _set("ignore", ["NAME"]),
    "extra key": _set("evil", 1),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_a_crafted_or_stale_cache_is_recomputed(cache, name):
    data = json.loads(cache.read_text())
    text, facts = grammar_facts()
    crafted = copy.deepcopy(data)
    MUTATIONS[name](crafted)
    with pytest.raises(tables.Invalid):
        tables.validate(crafted, text, facts)
    cache.write_text(json.dumps(crafted))
    assert results() == pytest.approx(PROBES)
    long_name = "x" * 40 + "é"  # where the catastrophic NAME regex would backtrack
    assert cgraph.parse(f"{long_name} * 2").evaluate({long_name: 1.5}).value == 3.0
    tables.validate(json.loads(cache.read_text()), text, facts)  # rewritten, valid
    assert os.listdir(cache.parent) == [cache.name]


@pytest.mark.parametrize("content", [
    b"", b"{not json", b"\xff\xfe garbage", b"[" * 100_000 + b"]" * 100_000, b"null",
    b'{"format": 2}', b" " * (tables.MAX_CACHE_BYTES + 10),
])
def test_a_corrupt_cache_file_is_recomputed(cache, content):
    cache.write_bytes(content)
    assert results() == pytest.approx(PROBES)
    json.loads(cache.read_text())


def test_a_cache_path_that_is_a_directory_still_parses(cache):
    cache.unlink()
    cache.mkdir()
    assert results() == pytest.approx(PROBES)
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]  # no temp file left


def test_a_failed_write_leaves_no_temp_file(cache, monkeypatch):
    cache.unlink()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tables.json, "dump", full_disk)
    assert results() == pytest.approx(PROBES)
    assert list(cache.parent.iterdir()) == []


def test_an_interrupted_write_leaves_no_temp_file(cache, monkeypatch):
    cache.unlink()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tables.json, "dump", interrupted)
    with pytest.raises(KeyboardInterrupt):
        results()
    assert list(cache.parent.iterdir()) == []


def test_an_unwritable_cache_works_from_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file, not a directory
    assert results() == pytest.approx(PROBES)


def test_a_relative_xdg_cache_home_is_ignored(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert results() == pytest.approx(PROBES)
    assert not (tmp_path / "relative").exists()
    assert list((tmp_path / "home" / ".cache" / "cgraph").glob("lalr-*.json"))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.one_of(st.sampled_from(" \t\f\r\n#;.e1x_(+*=\xa0\u2009"),
                                   st.characters()), max_size=40))
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
