"""Program text -> Graph, built while Lark's LALR parser runs (no parse tree, no recursion).

The grammar lives in grammar.lark. Its aliases name the methods of `_GraphBuilder`, which
Lark calls at each reduction; they append nodes to a list, so the graph comes out already in
topological order. Lark's own errors become our `ParseError` with line, column and the
expected tokens in words.
"""

from __future__ import annotations

import threading
from importlib import resources

from lark import Lark, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import ops
from .errors import NameResolutionError, ParseError, did_you_mean
from .graph import Graph, Node

# Terminal names Lark reports, in the words a person would use.
_WORDS = {
    "NUMBER": "a number", "NAME": "a name", "LPAR": "'('", "RPAR": "')'", "PLUS": "'+'",
    "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "POW_OP": "'^'", "COMMA": "','",
    "EQUAL": "'='", "_SEP": "';' or a new line", "$END": "the end of the program",
}


class _GraphBuilder(Transformer):
    """Lark callbacks, one per grammar alias. State is per parse (see `parse`)."""

    def reset(self, source: str) -> None:
        self.source = source
        self.nodes: list[Node] = []
        self.scope: dict[str, int] = {}  # every name in the program -> its node id
        self.assigned: set[str] = set()
        self.output: tuple[str, int] | None = None

    def _add(self, op, inputs=(), name=None, value=None) -> int:
        i = len(self.nodes)
        self.nodes.append(Node(i, op, inputs, name, value))
        return i

    def _error(self, token, message: str):
        return NameResolutionError(message, self.source, token.line, token.column)

    # statements
    def assign(self, children):
        token, value = children
        name = str(token)
        if name in ops.CONSTANTS:
            raise self._error(token, f"cannot assign to the constant '{name}'")
        if name in self.assigned:
            raise self._error(token, f"'{name}' is assigned twice")
        if name in self.scope:
            raise self._error(token, f"'{name}' is assigned after it was used as an input")
        node = self.nodes[value]
        if node.name is None:
            node.name = name  # a named intermediate: one node, shared by its uses
        self.scope[name] = value  # otherwise an alias of an existing named node
        self.assigned.add(name)
        self.output = (name, value)

    def expression(self, children):
        self.output = ("f", children[0])

    # atoms
    def number(self, children):
        return self._add(ops.CONST, value=float(children[0]))

    def name(self, children):
        name = str(children[0])
        found = self.scope.get(name)
        if found is None:
            if name in ops.CONSTANTS:
                found = self._add(ops.CONST, name=name, value=ops.CONSTANTS[name])
            else:
                found = self._add(ops.VAR, name=name)
            self.scope[name] = found
        return found

    def call(self, children):
        token, args = children[0], tuple(children[1:])
        name = str(token)
        op = ops.lookup_function(name, len(args))
        if op is None:
            takes = ops.arities(name)
            if not takes:
                hint = did_you_mean(name, ops.function_names())
                raise self._error(token, f"unknown function '{name}'{hint}")
            counts = " or ".join(str(a) for a in takes)
            plural = "s" if takes[-1] != 1 else ""
            raise self._error(token, f"{name}() takes {counts} argument{plural}, "
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


_lock = threading.Lock()
_builder = _GraphBuilder()
_lark: Lark | None = None


def grammar_text() -> str:
    """The program grammar (grammar.lark), in Lark's EBNF."""
    return resources.files(__package__).joinpath("grammar.lark").read_text("utf-8")


def _parser() -> Lark:
    global _lark
    if _lark is None:
        grammar = grammar_text()
        # cache=True keeps the LALR tables in a file, so they are built once, not per run
        _lark = Lark(grammar, parser="lalr", lexer="contextual", transformer=_builder,
                     cache=True, maybe_placeholders=False)
    return _lark


def parse(text: str) -> Graph:
    """Parse a cgraph program into its computation graph.

    Raises ParseError (syntax) or NameResolutionError (unknown function, wrong arity,
    bad assignment), both carrying the line and column.
    """
    with _lock:
        parser = _parser()
        _builder.reset(text)
        try:
            parser.parse(text)
        except UnexpectedInput as e:
            raise _syntax_error(e, text) from None
        b = _builder
        nodes, output = b.nodes, b.output
        b.reset("")
    if output is None:
        raise ParseError("the program is empty", text, 1, 1)
    name, node = output
    return Graph(nodes, node, name, text)


def _syntax_error(e: UnexpectedInput, text: str) -> ParseError:
    if isinstance(e, UnexpectedCharacters):
        char = text[e.pos_in_stream] if e.pos_in_stream < len(text) else ""
        what = f"unexpected character {char!r}"
        expected = e.allowed
    elif isinstance(e, UnexpectedEOF):
        what, expected = "the program ends too early", e.expected
    else:
        assert isinstance(e, UnexpectedToken)
        tok = e.token
        if tok.type == "$END":
            what = "the program ends too early"
        elif tok.type == "_SEP" and str(tok) != ";":
            what = "the line ends too early"
        else:
            what = f"unexpected {str(tok)!r}"
        expected = e.expected
    words = sorted({_WORDS.get(t, t) for t in expected or ()})
    if words:
        what += "; expected " + (", ".join(words[:-1]) + " or " + words[-1]
                                 if len(words) > 1 else words[0])
    line = getattr(e, "line", None) or 1
    column = getattr(e, "column", None) or 1
    if what.startswith("the program ends") or line < 0 or column < 0:
        lines = text.splitlines() or [""]  # point just past the end of the text
        line, column = len(lines), len(lines[-1]) + 1
    return ParseError(what, text, line, column)
