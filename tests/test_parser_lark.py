"""The driver against Lark itself: the same programs accepted and rejected, the same trees.

Our driver (parser.py) runs Lark's LALR tables with its own loop; here it runs with a
builder that makes a tree of its reductions, which must equal `Lark(grammar,
parser="lalr").parse(text)` for every program, valid or not.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from cgraph import parser, tables
from cgraph.errors import ParseError
from cgraph.tables import grammar_text

from programs import random_expression, random_program, render, seeds, wrap



class JoinLines:
    """Lark's postlexer for our rule (as its Indenter counts brackets, `paren_level`): a new
    line inside ( ) or [ ] is not a separator, the statement goes on."""

    always_accept = ()

    def process(self, stream):
        depth = 0
        for token in stream:
            if token.type in ("LPAR", "LSQB"):
                depth += 1
            elif token.type in ("RPAR", "RSQB"):
                depth -= 1
            elif token.type == "_SEP" and token.value == "\n" and depth > 0:
                continue
            yield token


# Our lexer is Lark's basic one: a keyword ("for") is never a NAME, whatever the state.
LARK = Lark(grammar_text(), parser="lalr", lexer="basic", postlex=JoinLines())


class TreeBuilder:
    """Every reduction makes (alias or rule name, *kept children); tokens are their text."""

    BINARY: dict = {}  # no shortcut: every reduction goes through __getattr__

    def __init__(self):
        self.tree = None
        self.tokens = None  # the driver's Tokens: a token's value is its index there

    def __getattr__(self, kind):
        def make(kept):
            node = (kind, *(self.tokens.pieces[c] if type(c) is int else c for c in kept))
            if kind == "start":
                self.tree = node
            return node
        return make


def ours(text):
    builder = TreeBuilder()
    try:
        parser._drive(parser._get_tables(), builder, text)
    except ParseError:
        return "rejected"
    return builder.tree or ("start",)


def lark(text):
    try:
        tree = LARK.parse(text)
    except UnexpectedInput:
        return "rejected"
    stack, done = [(tree, False)], []  # Tree -> tuples, with a loop
    while stack:
        node, visited = stack.pop()
        if isinstance(node, Token):
            done.append(str(node))
        elif visited:
            k = len(node.children)
            kids = done[len(done) - k:] if k else []
            del done[len(done) - k:]
            done.append((node.data, *kids))
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(node.children))
    return done[0]


def same(text):
    assert ours(text) == lark(text), text


@settings(max_examples=1000, deadline=None)
@given(seeds)
def test_valid_programs_give_lark_s_tree(seed):
    text, _ = random_program(seed)
    result = ours(text)
    assert result != "rejected"
    assert result == lark(text), text


from_grammar = from_lark(
    LARK, start="start",
    explicit={
        "NAME": st.sampled_from(["x", "y", "θ", "sin", "max", "pi", "e", "_1"]),
        "NUMBER": st.sampled_from(["0", "1", "2.5", ".5", "1e-3", "3.", "1E+2"]),
        "COMMENT": st.just("# note"),
        "_SEP": st.sampled_from([";", "\n"]),
        "__IGNORE_0": st.sampled_from([" ", "\t"]),
    })


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_grammar)
def test_programs_from_the_grammar_give_lark_s_tree(text):
    same(text)


TOKENS = ["x", "y", "2", ".5", "1e3", "3.", "+", "-", "*", "/", "^", "**", "(", ")", ",",
          "=", ";", "\n", "sin", "max", "#c\n", " ", "$", "e", "[", "]", "for", "in", "..",
          "sum", "i", "<", "<=", "==", "!=", ">", ">=", "1..3", "format", "in2", "\n", "(\n",
          "²", "x₁"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=14))
def test_random_token_strings_are_accepted_and_rejected_as_lark_does(tokens):
    same("".join(tokens))
    same(" ".join(tokens))


@pytest.mark.parametrize("text", [
    "", ";", "x", "-x^2", "2^3^2", "a = b; a", "f(x, y, z)", "f()", "(x", "x)", "x = ",
    "1 - 2 - 3", "-2^-1", "x**-y**2", "max(1, 2,)", "(((x)))", "a=1\n\nb=2;;c", "x # c",
    "+-+-x", "2*-x", "sum(w[i] for i in 1..3)", "h[j] = x for j in 1..2", "f(a) = a",
    "W[1,2]", "x < y", "a < b < c", "1..2", "for", "format = 1", "x[1] = 2", "f(a)(b)",
    "sum(x for i in 1..2 for j in 3..4)", "1...2", "where(x >= 1, x, -x)",
    # new lines inside brackets: the statement goes on; outside, it ends
    "z = (w*x\n + 1)\nz", "z = (w*x # c\n\n  + 1) # d\nz", "f(x,\n y)", "W[1,\n2]",
    "sum(w[i]\n for i\n in 1..3)", "(x\n", "(x\n;y)", "x +\n1", "(x)\n)", "x)\n(y",
    "[\n", "for²", "x²", "in²", "for ²",
])
def test_edge_cases(text):
    same(text)


@settings(max_examples=200, deadline=None)
@given(seeds)
def test_rendering_keeps_the_tree(seed):
    """The generator's own check: rendering with and without spaces parses the same."""
    import random

    e = random_expression(random.Random(seed), ["x", "y"], 10)
    assert ours(render(e, "")) == ours(render(e, " ")) != "rejected"


def plain_lalr(text):
    """The LALR(1) loop on Lark's tables as they are, state by state, with no pair automaton,
    on the tokens as our lexer's regex cuts them and `JoinLines` keeps them: "accepted", or
    the error message the parser gives where this loop stops."""
    t = parser._get_tables()
    auto = tables.Automaton(t)
    states, rules = t.states, t.rules
    pieces = [m.group() for m in t.lexer.finditer(text)]
    kinds = [t.keywords.get(m.group(), m.lastgroup) for m in t.lexer.finditer(text)]
    kept = {token.start_pos for token in JoinLines().process(
        Token(k, p, start_pos=j) for j, (k, p) in enumerate(zip(kinds, pieces)))}
    ids = bytes(tables.IGNORED if k in t.ignore or j not in kept else
                tables.BAD if k == "_BAD" else auto.terminal_ids[k]
                for j, k in enumerate(kinds))

    def stop(i):
        return str(parser.syntax_error(t, auto, parser.Tokens(
            text, pieces, tables.splitter(t, t.pattern, spaces=False)),
                                       ids, i))

    stack = [t.start]
    for j, kind in enumerate(kinds):
        if kind in t.ignore or j not in kept:
            continue
        if kind == "_BAD":
            return stop(j)
        while True:
            action = states[stack[-1]].get(kind)
            if action is None:
                return stop(j)
            if action >= 0:
                stack.append(action)
                break
            rule = rules[~action]
            if rule.size:
                del stack[-rule.size:]
            stack.append(states[stack[-1]][rule.origin])
    while True:
        action = states[stack[-1]].get("$END")
        if action is None:
            return stop(len(kinds))
        if action >= 0 or stack[-1] == t.end:
            return "accepted"
        rule = rules[~action]
        if rule.size:
            del stack[-rule.size:]
        stack.append(states[stack[-1]][rule.origin])
        if stack[-1] == t.end:
            return "accepted"


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=14))
def test_errors_are_found_where_the_plain_lalr_loop_finds_them(tokens):
    """The pair automaton stops at the token where the tables' own loop stops (and the
    message, made from that token, is the same)."""
    same_error("".join(tokens))


@settings(max_examples=300, deadline=None)
@given(seeds)
def test_wrapped_programs_give_the_tree_of_the_unwrapped_one(seed):
    """New lines inside brackets: the same tree as the program on one line, and Lark's."""
    import random

    text, _ = random_program(seed)
    wrapped = wrap(text, random.Random(seed))
    assert ours(wrapped) == ours(text) == lark(wrapped) != "rejected", wrapped
    same_error(wrapped)


def lark_accepts(text):
    """Lark's own answer, from its interactive parser: the terminals it would take where it
    stops (`accepts()` just before the token it cannot take), None if it accepts all."""
    ip = LARK.parse_interactive(text)
    tokens = LARK.lex(text)
    while True:
        try:
            token = next(tokens)
        except StopIteration:
            break
        except UnexpectedInput:  # a character no terminal takes
            return ip.accepts()
        before = ip.accepts()
        try:
            ip.feed_token(token)
        except UnexpectedInput:
            return before
    before = ip.accepts()
    try:
        ip.feed_eof()
    except UnexpectedInput:
        return before
    return None


def our_expected(text):
    try:
        parser._drive(parser._get_tables(), TreeBuilder(), text)
    except ParseError as e:
        return e.expected
    return None


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=12))
def test_the_expected_tokens_are_what_lark_would_accept(tokens):
    """'expected ...' lists every terminal Lark's parser would take where it stops (LALR's
    error state, after the reductions it made on the wrong token, knows fewer: "(w*x" then
    a new line used to say "expected ')', '+' or '-'")."""
    text = "".join(tokens)
    want = lark_accepts(text)
    assert our_expected(text) == (None if want is None else frozenset(want)), text


@pytest.mark.parametrize("text,listed", [
    ("z = (w*x", "')', '*', '+', '-', '/', '[', '^' or a comparison"),
    ("z = (w*x;", "')', '*', '+', '-', '/', '[', '^' or a comparison"),
    ("f(x", "')', '*', '+', ',', '-', '/', '[', '^', 'for' or a comparison"),
])
def test_expected_lists_are_complete(text, listed):
    with pytest.raises(ParseError) as err:
        parser.parse(text)
    assert err.value.message.endswith(listed)


def same_error(text):
    try:
        parser._drive(parser._get_tables(), TreeBuilder(), text)
        ours = "accepted"
    except ParseError as e:
        ours = str(e)
    assert ours == plain_lalr(text), text


# The driver replays a segment of tokens (a short statement whole, a long one up to each
# "+" or "-") it has seen in the same state (recorded the second time, replayed from the
# third): programs that repeat their pieces, in the same and in other contexts, and
# statements either side of tables.SHORT pieces.
REPEATS = [
    "t = a*b + c*d - e/f + g\n" * 4, "t = a * b + c * d - e / f + g - h * i\n" * 4,
    "t = a*b + c*d - e/f + g\nt = a * b + c * d - e / f + g - h * i\n" * 3,
    "t1 = sin(t0)*c + t0*d\n" * 4 + "t9 = sin(t8)*c + t8*d",
    " + ".join(["1.5*sin(1*x)"] * 6), "x - y - x - y - (x - y - (x - y - (x - y)))",
    "1 + (1 + (1 + (1 + 2) + 2) + 2) + 2", "f(x + 1, y + 1, (z + 1) + 1) + f(x + 1)",
    "a = x + 1\nb = x + 1\nc = (x + 1\nd = x + 1", "x +\nx +\nx +", "-x + -x + -x + -",
    "h[j] = x + j for j in 1..2\n" * 2 + "h[j] = x + j for j in 1..2 +",
]


@pytest.mark.parametrize("text", REPEATS)
def test_repeated_segments(text):
    same(text)
    same_error(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=8), st.integers(2, 5),
       st.sampled_from(["\n", "+", "-", " + ", "(", ""]))
def test_repeated_token_strings_as_lark_and_the_plain_loop(tokens, times, joint):
    text = joint.join(["".join(tokens)] * times)
    same(text)
    same_error(text)


@pytest.mark.parametrize("text", ["2x (\n", "2x (1)", "(2x\n(1))", "2x #c\n(1)"])
def test_the_product_hint_reads_past_spaces_as_the_plain_loop_does(text):
    """The hint for `2x (` names the operand the same whether the lexer cut the space as a
    piece of its own (the plain loop's) or with the next piece (ours): a name followed by
    '(' after spaces or a comment is a call."""
    same_error(text)
