"""Program text -> Graph, built while the LALR parser runs: no parse tree, no recursion.

Lark compiles grammar.lark into LALR(1) tables (kept as JSON in the user cache, so they
are built once, not per run).
The loop below drives those tables itself: one regular expression made from the grammar's
own terminals splits the text, and each reduction calls the `_GraphBuilder` method named by
the rule's alias, which appends a node. The graph therefore comes out in topological
order. Driving the tables directly (instead of `Lark.parse` with a transformer) skips
Lark's per-token objects and callback wrappers: about 3x faster on 10^5-node programs.
"""

from __future__ import annotations

import re
import threading
from importlib import resources

from . import ops
from .errors import NameResolutionError, ParseError, did_you_mean
from .graph import Graph, Node

# Terminal names, in the words a person would use.
_WORDS = {
    "NUMBER": "a number", "NAME": "a name", "LPAR": "'('", "RPAR": "')'", "PLUS": "'+'",
    "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "POW_OP": "'^'", "COMMA": "','",
    "EQUAL": "'='", "_SEP": "';' or a new line", "$END": "the end of the program",
}


def grammar_text() -> str:
    """The program grammar (grammar.lark), in Lark's EBNF."""
    return resources.files(__package__).joinpath("grammar.lark").read_text("utf-8")


class _GraphBuilder:
    """One method per grammar alias; each gets the rule's kept children. Per-parse state."""

    def __init__(self, source: str):
        self.source = source
        self.nodes: list[Node] = []
        self.scope: dict[str, int] = {}  # every name in the program -> its node id
        self.assigned: set[str] = set()
        self.output: tuple[str, int] | None = None

    def _add(self, op, inputs=(), name=None, value=None) -> int:
        i = len(self.nodes)
        self.nodes.append(Node(i, op, inputs, name, value))
        return i

    def _error(self, match, message: str):
        return NameResolutionError(message, self.source, *_line_column(self.source,
                                                                       match.start()))

    # statements
    def assign(self, c):
        match, value = c
        name = match.group()
        if name in ops.CONSTANTS:
            raise self._error(match, f"cannot assign to the constant '{name}'")
        if name in self.assigned:
            raise self._error(match, f"'{name}' is assigned twice")
        if name in self.scope:
            raise self._error(match, f"'{name}' is assigned after it was used as an input")
        node = self.nodes[value]
        if node.name is None:
            node.name = name  # a named intermediate: one node, shared by its uses
        self.scope[name] = value  # otherwise an alias of an existing named node
        self.assigned.add(name)
        self.output = (name, value)

    def expression(self, c):
        self.output = ("f", c[0])

    # atoms
    def number(self, c):
        return self._add(ops.CONST, value=float(c[0].group()))

    def name(self, c):
        name = c[0].group()
        found = self.scope.get(name)
        if found is None:
            if name in ops.CONSTANTS:
                found = self._add(ops.CONST, name=name, value=ops.CONSTANTS[name])
            else:
                found = self._add(ops.VAR, name=name)
            self.scope[name] = found
        return found

    def call(self, c):
        match, args = c[0], tuple(c[1:])
        name = match.group()
        op = ops.lookup_function(name, len(args))
        if op is None:
            takes = ops.arities(name)
            if not takes:
                hint = did_you_mean(name, ops.function_names())
                raise self._error(match, f"unknown function '{name}'{hint}")
            counts = " or ".join(str(a) for a in takes)
            plural = "s" if takes[-1] != 1 else ""
            raise self._error(match, f"{name}() takes {counts} argument{plural}, "
                                     f"not {len(args)}")
        return self._add(op, args)

    # operators
    def add(self, c):
        return self._add(ops.ADD, (c[0], c[1]))

    def sub(self, c):
        return self._add(ops.SUB, (c[0], c[1]))

    def mul(self, c):
        return self._add(ops.MUL, (c[0], c[1]))

    def div(self, c):
        return self._add(ops.DIV, (c[0], c[1]))

    def pow(self, c):
        return self._add(ops.POW, (c[0], c[2]))

    def neg(self, c):
        return self._add(ops.NEG, (c[0],))

    def pos(self, c):
        return c[0]


class _Splice(list):
    """The children of an inlined rule (`_args`, Lark's `*` helpers), for the parent."""


class _Tables:
    """LALR(1) tables for grammar.lark, and a lexer made from its terminals.

    Lark computes them from the grammar. They are kept as JSON in the user's cache
    directory, keyed by a hash of the grammar, so later runs load them in about a
    millisecond without importing Lark at all (and never unpickle anything).
    """

    def __init__(self, tables: dict):
        self.states = {int(k): {sym: (kind == "s", arg) for sym, (kind, arg) in row.items()}
                       for k, row in tables["states"].items()}
        self.start, self.end = tables["start"], tables["end"]
        self.ignore = frozenset(tables["ignore"])
        self.lexer = re.compile("|".join(f"(?P<{name}>{regex})"
                                         for name, regex in tables["terminals"])
                                + r"|(?P<_BAD>.)", re.DOTALL)
        self.rules = [tuple(r) for r in tables["rules"]]

    @staticmethod
    def compute(grammar: str) -> dict:
        """Run Lark's LALR analysis and keep what the driver needs, as plain data."""
        from lark import Lark
        from lark.parsers.lalr_analysis import Shift

        lark = Lark(grammar, parser="lalr")
        table = lark.parser.parser.parser.parse_table
        rules = list(lark.rules)
        rule_index = {id(r): k for k, r in enumerate(rules)}
        states = {str(state): {sym: ("s", arg) if action is Shift
                               else ("r", rule_index[id(arg)])
                               for sym, (action, arg) in row.items()}
                  for state, row in table.states.items()}
        # longest patterns first, so `**` is tried before `*`
        terminals = sorted(lark.lexer_conf.terminals,
                           key=lambda t: (-t.priority, -t.pattern.max_width,
                                          -len(t.pattern.value), t.name))
        rule_rows = []
        for rule in rules:
            keep = [i for i, sym in enumerate(rule.expansion)
                    if not (sym.is_term and sym.filter_out)]
            if rule.origin.name.startswith("_"):
                kind = "splice"
            elif rule.options.expand1 and len(keep) == 1 and not rule.alias:
                kind = "pass"
            else:
                kind = rule.alias or rule.origin.name
            rule_rows.append([len(rule.expansion), rule.origin.name, keep, kind])
        return {
            "states": states, "rules": rule_rows,
            "start": table.start_states["start"], "end": table.end_states["start"],
            "ignore": sorted(lark.lexer_conf.ignore),
            "terminals": [[t.name, t.pattern.to_regexp()] for t in terminals],
        }

    @classmethod
    def load(cls) -> "_Tables":
        import hashlib
        import json
        import os

        grammar = grammar_text()
        key = hashlib.sha256(grammar.encode()).hexdigest()[:16]
        root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                                 ".cache")
        path = os.path.join(root, "cgraph", f"lalr-{key}.json")
        try:
            with open(path, encoding="utf-8") as fh:
                return cls(json.load(fh))
        except (OSError, ValueError, KeyError, TypeError):
            pass  # not there yet, or unreadable: compute it
        tables = cls.compute(grammar)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(tables, fh)
            os.replace(tmp, path)  # atomic: concurrent runs never see half a file
        except OSError:
            pass  # a read-only home: work from memory
        return cls(tables)


_tables: _Tables | None = None
_lock = threading.Lock()


def _get_tables() -> _Tables:
    global _tables
    with _lock:
        if _tables is None:
            _tables = _Tables.load()
    return _tables


def parse(text: str) -> Graph:
    """Parse a cgraph program into its computation graph.

    Raises ParseError (syntax) or NameResolutionError (unknown function, wrong arity,
    bad assignment), both carrying the line and column.
    """
    import gc

    tables = _get_tables()
    builder = _GraphBuilder(text)
    # The cyclic GC rescans every node we allocate; pausing it is 1.5-3x faster on big
    # programs, and nothing built here forms a cycle.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        _drive(tables, builder, text)
    finally:
        if was_enabled:
            gc.enable()
    if builder.output is None:
        raise ParseError("the program is empty", text, 1, 1)
    name, node = builder.output
    graph = Graph(builder.nodes, node, name, text)
    graph.statements = {n: i for n, i in builder.scope.items() if n in builder.assigned}
    return graph


def _drive(t: _Tables, builder: _GraphBuilder, text: str) -> None:
    """The LALR(1) loop: shift tokens, reduce rules, call the builder at each reduction.

    Reductions are inlined, and the commonest kind (a one-symbol rule that passes its
    child through, such as atom -> power -> unary -> product) only swaps the top state.
    """
    states, ignore = t.states, t.ignore
    # per rule: (size, origin, keep, how, callback); how: 0 pass-through of a single
    # symbol, 1 pass-through, 2 splice into the parent, 3 builder callback
    # 4 builder callback on one symbol (number, name), 5 on a binary operator's operands
    rules = []
    for size, origin, keep, kind in t.rules:
        callback = getattr(builder, kind, None)
        if kind == "pass":
            how = 0 if size == 1 else 1
        elif kind == "splice":
            how = 2
        elif callback and size == 1 and list(keep) == [0]:
            how = 4
        elif callback and size == 3 and list(keep) == [0, 2] and kind != "pow":
            how = 5
        else:
            how = 3
        rules.append((size, origin, tuple(keep), how, callback))
    state_stack = [t.start]
    values: list = []
    push_state, push_value = state_stack.append, values.append

    def reduce(rule_id):
        size, origin, keep, how, callback = rules[rule_id]
        if how == 0:
            state_stack[-1] = states[state_stack[-2]][origin][1]
            return
        if size:
            args = values[-size:]
            del values[-size:]
            del state_stack[-size:]
        else:
            args = ()
        if how == 1:
            result = args[keep[0]]
        else:
            kept = []
            for i in keep:
                v = args[i]
                if type(v) is _Splice:
                    kept.extend(v)
                elif v is not None:  # statements leave nothing: the program list stays empty
                    kept.append(v)
            result = _Splice(kept) if how == 2 else (callback(kept) if callback else None)
        push_value(result)
        push_state(states[state_stack[-1]][origin][1])

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
            if action[0]:  # shift
                push_state(action[1])
                push_value(m)
                break
            size, origin, _, how, callback = rules[action[1]]
            if how == 0:  # the fast paths, inline
                state_stack[-1] = states[state_stack[-2]][origin][1]
            elif how == 4:
                values[-1] = callback((values[-1],))
                state_stack[-1] = states[state_stack[-2]][origin][1]
            elif how == 5:
                right = values.pop()
                values.pop()
                values[-1] = callback((values[-1], right))
                del state_stack[-2:]
                state_stack[-1] = states[state_stack[-2]][origin][1]
            else:
                reduce(action[1])
    while True:
        row = states[state_stack[-1]]
        action = row.get("$END")
        if action is None:
            raise _syntax_error(text, len(text), "the program ends too early", row)
        if action[0] or state_stack[-1] == t.end:
            return
        reduce(action[1])
        if state_stack[-1] == t.end:
            return


def _line_column(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


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
    return ParseError(what, text, *_line_column(text, pos))
