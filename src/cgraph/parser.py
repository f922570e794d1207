"""Program text -> Graph, built while the LALR parser runs: no parse tree, no recursion.

Lark compiles grammar.lark into LALR(1) tables (tables.py: computed once, validated and
cached). The loop below drives those tables itself: one regular expression made from the grammar's
own terminals splits the text, and each reduction calls the `GraphBuilder` method named by
the rule's alias, which appends a node. The graph therefore comes out in topological
order. Driving the tables directly (instead of `Lark.parse` with a transformer) skips
Lark's per-token objects and callback wrappers: about 3x faster on 10^5-node programs.
"""

from __future__ import annotations

import threading

from . import tables
from .builder import GraphBuilder
from .errors import ParseError, line_column
from .graph import Graph, Node

# Terminal names, in the words a person would use.
_WORDS = {
    "NUMBER": "a number", "NAME": "a name", "LPAR": "'('", "RPAR": "')'", "PLUS": "'+'",
    "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "_POW": "'^'", "COMMA": "','",
    "EQUAL": "'='", "_SEP": "';' or a new line", "$END": "the end of the program",
    "LSQB": "'['", "RSQB": "']'", "FOR": "'for'", "IN": "'in'", "__ANON_0": "'..'",
    "COMPARE": "a comparison",
}


grammar_text = tables.grammar_text


class _Splice(list):
    """The children of an inlined rule (`_args`, Lark's `*` helpers), for the parent."""


# How a reduction is carried out, decided once per rule from its kind (see tables.py):
UNIT = "unit"  # a one-symbol pass-through rule (atom -> power -> unary ...): only the
#                top state changes
PASS = "pass"  # a pass-through of one kept child among dropped tokens: "(" sum ")"
SPLICE = "splice"  # the kept children go up to the parent rule as they are
ONE = "one"  # a builder callback on the rule's one kept child: number, name, open_call
BINARY = "binary"  # an infix operator: a node of `op` on the two operands
ACTION = "action"  # any other builder callback, given the kept children
NOTHING = "nothing"  # a rule without a callback (the program): leaves nothing


def _plans(rules, builder):
    """Per rule: (how, size, origin, keep, callback or op)."""
    plans = []
    for r in rules:
        if r.kind == tables.PASS:
            how, fn = (UNIT if r.size == 1 else PASS), None
        elif r.kind == tables.SPLICE:
            how, fn = SPLICE, None
        elif r.kind in builder.BINARY and r.keep == (0, 2) and r.size == 3:
            how, fn = BINARY, builder.BINARY[r.kind]
        else:
            fn = getattr(builder, r.kind, None)
            how = NOTHING if fn is None else ONE if len(r.keep) == 1 else ACTION
        plans.append((how, r.size, r.origin, r.keep, fn))
    return plans


_tables: tables.Tables | None = None
_lock = threading.Lock()


def _get_tables() -> tables.Tables:
    global _tables
    with _lock:
        if _tables is None:
            _tables = tables.load()
    return _tables


def parse(text: str) -> Graph:
    """Parse a cgraph program into its computation graph.

    Raises ParseError (syntax) or NameResolutionError (unknown function, wrong arity,
    bad assignment), both carrying the line and column.
    """
    import gc

    t = _get_tables()
    builder = GraphBuilder(text)
    # The cyclic GC rescans every node we allocate; pausing it is 1.5-3x faster on big
    # programs, and nothing built here forms a cycle.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        _drive(t, builder, text)
    finally:
        if was_enabled:
            gc.enable()
    builder.finish()
    if builder.output is None:
        raise ParseError("the program is empty", text, 1, 1)
    name, node = builder.output
    graph = Graph(builder.nodes, node, name, text)
    graph.statements = {n: i for n, i in builder.scope.items() if n in builder.assigned}
    return graph


def _drive(t: tables.Tables, builder: GraphBuilder, text: str) -> None:
    """The LALR(1) loop: shift tokens, reduce rules, call the builder at each reduction.

    `states[s][symbol]` is k >= 0 to shift (or go) to state k, and ~rule to reduce. The
    common reductions (UNIT, ONE, BINARY) are inlined in the token loop; the others go
    through `reduce`.
    """
    states, ignore, end = t.states, t.ignore, t.end
    plans = _plans(t.rules, builder)
    nodes, node = builder.nodes, Node
    state_stack = [t.start]
    values: list = []
    push_state, push_value = state_stack.append, values.append

    def reduce(rule_id):
        how, size, origin, keep, fn = plans[rule_id]
        if how is UNIT:
            state_stack[-1] = states[state_stack[-2]][origin]
            return
        if size:
            args = values[-size:]
            del values[-size:]
            del state_stack[-size:]
        else:
            args = ()
        if how is PASS:
            result = args[keep[0]]
        elif how is BINARY:
            result = len(nodes)
            nodes.append(node(result, fn, (args[0], args[2])))
        elif how is NOTHING:
            result = None
        else:
            kept = []
            for i in keep:
                v = args[i]
                if type(v) is _Splice:
                    kept.extend(v)
                elif v is not None:  # statements leave nothing: the program list stays empty
                    kept.append(v)
            result = _Splice(kept) if how is SPLICE else fn(kept)
        push_value(result)
        push_state(states[state_stack[-1]][origin])

    for m in t.lexer.finditer(text):
        kind = m.lastgroup
        if kind in ignore:
            continue
        if kind == "_BAD":
            raise _syntax_error(text, m.start(), f"unexpected character {m.group()!r}",
                                states[state_stack[-1]])
        while True:
            action = states[state_stack[-1]].get(kind)
            if action is None:
                raise _unexpected(text, m, kind, states[state_stack[-1]])
            if action >= 0:  # shift
                push_state(action)
                push_value(m)
                break
            how, size, origin, keep, fn = plans[~action]
            if how is UNIT:
                state_stack[-1] = states[state_stack[-2]][origin]
            elif how is ONE:
                if size == 1:
                    values[-1] = fn((values[-1],))
                else:
                    kept = values[keep[0] - size]
                    del values[1 - size:]
                    del state_stack[1 - size:]
                    values[-1] = fn((kept,))
                state_stack[-1] = states[state_stack[-2]][origin]
            elif how is BINARY:
                right = values.pop()
                values.pop()
                i = len(nodes)
                nodes.append(node(i, fn, (values[-1], right)))
                values[-1] = i
                del state_stack[-2:]
                state_stack[-1] = states[state_stack[-2]][origin]
            else:
                reduce(~action)
    while True:
        row = states[state_stack[-1]]
        action = row.get("$END")
        if action is None:
            raise _syntax_error(text, len(text), "the program ends too early", row)
        if action >= 0 or state_stack[-1] == end:
            return
        reduce(~action)
        if state_stack[-1] == end:
            return


def _unexpected(text, m, kind, row) -> ParseError:
    if kind == "_SEP" and m.group() != ";":
        return _syntax_error(text, m.start(), "the line ends too early", row)
    return _syntax_error(text, m.start(), f"unexpected {m.group()!r}", row)


def _syntax_error(text: str, pos: int, what: str, row) -> ParseError:
    expected = sorted({_WORDS.get(k, k) for k in row if k.isupper() or k == "$END"})
    if expected:
        what += "; expected " + (", ".join(expected[:-1]) + " or " + expected[-1]
                                 if len(expected) > 1 else expected[0])
    if pos >= len(text):  # point just past the end of the last line
        lines = text.splitlines() or [""]
        return ParseError(what, text, len(lines), len(lines[-1]) + 1)
    return ParseError(what, text, *line_column(text, pos))
