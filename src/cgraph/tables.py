"""LALR(1) tables for grammar.lark, shipped in the package, and recast for the driver.

Lark turns the grammar into LALR(1) tables when a developer runs `python3 -m
cgraph.tablegen`, which writes them as plain literals in `_lalr_tables.py` (a test fails
when that module is not what grammar.lark makes). A run imports that module, whose .pyc
makes loading the tables an unmarshal: no Lark, no grammar text and no cache file.
`Automaton` below recasts the tables for the driver (parser.py).
"""

from __future__ import annotations

import os
import re
import threading

# A rule's reduction kind (tablegen.py derives each rule's from the grammar):
PASS = "pass"  # a `?rule` alternative with one kept child: the child passes through
SPLICE = "splice"  # an inlined `_rule` (and Lark's helpers for `*`, `?`): children go up
# ... otherwise the rule's alias (or its name): the builder callback of that name.


def grammar_path() -> str:
    return os.path.join(os.path.dirname(__file__), "grammar.lark")


def grammar_text() -> str:
    """The program grammar (grammar.lark), in Lark's EBNF."""
    with open(grammar_path(), encoding="utf-8") as fh:
        return fh.read()


class Rule:
    """One rule of the grammar as Lark expanded it, with what a reduction of it does."""

    __slots__ = ("origin", "expansion", "alias", "keep", "kind", "size")

    def __init__(self, origin: str, expansion: tuple[str, ...], alias: str | None,
                 keep: tuple[int, ...], kind: str):
        self.origin = origin
        self.expansion = expansion
        self.alias = alias
        self.keep = keep  # positions of the children a reduction keeps
        self.kind = kind  # PASS, SPLICE, or a builder callback's name
        self.size = len(expansion)


def lexer_pattern(terminals) -> str:
    """The lexer's regex: the terminals as named groups, in order (longest patterns first:
    `**` before `*`); anything else is an error (_BAD)."""
    return "|".join(f"(?P<{n}>{r})" for n, r in terminals) + r"|(?P<_BAD>.)"


class Tables:
    """The tables as the driver uses them, from `_lalr_tables` (what tablegen.py wrote).

    `states[s]` maps a symbol to an action: `k >= 0` shifts (or, for a rule name, goes)
    to state k; `k < 0` reduces by rule `~k`.
    """

    def __init__(self, source=None):
        if source is None:
            from . import _lalr_tables as source
        self.states: tuple[dict[str, int], ...] = source.STATES
        self.start: int = source.START
        self.end: int = source.END
        self.ignore = frozenset(source.IGNORE)
        self.terminals: tuple[tuple[str, str], ...] = source.TERMINALS
        self.rules = [Rule(*r) for r in source.RULES]
        # A keyword is a string of the rules that another terminal takes whole (NAME
        # takes "for"): as Lark's lexer reads it, a piece of that terminal whose text is
        # the keyword is the keyword's terminal ("for" is FOR, "format" and "for1" are NAMEs).
        self.keywords: dict[str, str] = source.KEYWORDS
        self.pattern = lexer_pattern(self.terminals)
        # The same alternatives in the order the splitter tries them (which cuts any text
        # as `pattern` does, faster: tablegen.splitter_alternatives), stray characters last
        self.split_pattern = "|".join(source.SPLITTER) + "|."
        # The same regex for ASCII text: NAME's class leaves out superscripts and other
        # number signs, whose Unicode ranges cost ~0.3 ms to compile at every start-up; no
        # ASCII text holds them, so the class without them reads ASCII text alike (tested).
        # It is compiled with re.ASCII: on ASCII text, \w and \d are the same characters
        # either way, and the ASCII ones are read from a table (the lexer cuts a text 15%
        # faster). The full regex is compiled when a text is not ASCII (`lexer`).
        self.ascii_pattern = ascii_classes(self.pattern)
        self.ascii_lexer = re.compile(self.ascii_pattern, re.DOTALL | re.ASCII)
        self._lexer = None

    @property
    def lexer(self) -> re.Pattern:
        """The lexer's regex, every terminal as the grammar writes it."""
        if self._lexer is None:
            self._lexer = re.compile(self.pattern, re.DOTALL)
        return self._lexer

    def lexer_for(self, text: str) -> re.Pattern:
        return self.ascii_lexer if text.isascii() else self.lexer


def load() -> Tables:
    """The tables for grammar.lark, as shipped in the package."""
    return Tables()


# -- the tables recast for the driver -------------------------------------------------------

SHIFT, CHAIN_SHIFT, REDUCE, ERROR, ACCEPT, QUIET_SHIFT, QUIET_CHAIN_SHIFT, UNKNOWN = range(8)
IGNORED, BAD = 254, 255  # terminal ids of tokens the driver skips, and of stray characters
# (ids fit a byte: a text's kinds are a bytes object, cut into segments by a bytes regex)
_UNKNOWN = (UNKNOWN,)


SHORT = 24  # tokens: a statement this short is one replay segment (see Automaton)


class Automaton:
    """The LALR(1) tables above, recast so that the driver does one lookup per token.

    The driver's stack holds *pairs* (state below, state on top) instead of states. A
    reduction by a one-symbol rule (`atom: NAME`, and the pass-throughs `sum: product`,
    `product: unary` ...) pops one state and goes from the state below, so from a pair its
    result is known in advance: for each pair and lookahead terminal, every one-symbol
    reduction the LALR tables would make next is collapsed into one entry, which names
    the rules whose callbacks to run (pass-throughs have none; no rule: None) and what
    comes after them:

        (SHIFT, pair to push)
        (CHAIN_SHIFT, pair to push, top pair after the chain, rules of the chain)
        (QUIET_SHIFT, ...), (QUIET_CHAIN_SHIFT, ...): the same for a token that no rule
            keeps ("(", "+", ...): the driver keeps values of kept symbols only
        (REDUCE, rule, top pair after the chain, rules of the chain)
        (ERROR, the LALR state that has no action, top pair, rules of the chain)
        (ACCEPT, None, top pair, rules of the chain)            (only on $END)

        (UNKNOWN,): not derived yet: `derive(pair, terminal)` derives and stores it

    `gotos[pair][rule]` is the pair pushed after reducing by `rule` with `pair` exposed
    (None: not derived yet, `goto(pair, rule)`).
    The driver thus makes the same reductions in the same order as the LALR tables say,
    calling the same callbacks, and detects an error in the same state. Everything here is
    derived from `Tables` (which tablegen.py checks against the grammar), each entry when
    first needed: a program meets a few dozen of the ~7,000, so none is worth shipping.
    """

    def __init__(self, t: Tables):
        self.tables = t
        names = [n for n, _ in t.terminals] + ["$END"]
        self.terminal_names = names
        self.terminal_ids = {n: k for k, n in enumerate(names)}
        self.end_id = self.terminal_ids["$END"]
        self.pairs: list[tuple[int, int]] = []
        self.actions: list[list[tuple]] = []
        self.gotos: list[list[int | None]] = []
        self._index: dict[tuple[int, int], int] = {}
        # rules whose reduction does something to the value: not a pass-through, nor an
        # inlined rule of one kept child (`_args: test`: its parent takes the child as is)
        self._chained = [r.size == 1 and r.kind != PASS and
                         not (r.kind == SPLICE and len(r.keep) == 1) for r in t.rules]
        # a terminal is kept by every rule that has it, or by none (tablegen.GrammarFacts.filtered)
        self.quiet = {n for r in t.rules for k, n in enumerate(r.expansion)
                      if n in self.terminal_ids and k not in r.keep}
        self._lock = threading.Lock()
        self.start = self._pair(-1, t.start)

        # The lexer's regex made to cut the text for re.findall (see `splitter`).
        self.ascii_splitter = splitter(t, ascii_classes(t.split_pattern), ascii=True)
        self._splitter = None
        self.kinds: dict[str, int] = {}  # piece of text -> terminal id, as met
        # The driver replays what it did on a segment of tokens when the same kinds come
        # again in the same state (parser.py): a statement of up to SHORT tokens is one
        # segment (one replay a statement: chains of short statements parse 10-14% faster
        # than cut at each "+"); longer ones end after a separator, "+" or "-", so a long
        # sum repeats its terms' segments.
        sep = re.escape(bytes([self.terminal_ids["_SEP"]]))
        cut = re.escape(bytes(self.terminal_ids[n] for n in ("_SEP", "PLUS", "MINUS")))
        self.segments = re.compile(b"[^%s]{0,%d}%s|[^%s]*[%s]|[^%s]+"
                                   % (sep, SHORT, sep, cut, cut, cut))
        lexer = t.ascii_lexer  # (its groups are the full lexer's)
        self._group_ids = [BAD] * (lexer.groups + 1)  # the lexer's group -> terminal id
        for name, group in lexer.groupindex.items():
            self._group_ids[group] = (IGNORED if name in t.ignore else BAD if name == "_BAD"
                                      else self.terminal_ids[name])
        self._keywords = {k: self.terminal_ids[n] for k, n in t.keywords.items()}
        # Brackets, for `join_lines`: the terminals of "(", "[" and of ")", "]"
        by_regex = {r: self.terminal_ids[n] for n, r in t.terminals}
        self.opens = bytes(by_regex[re.escape(c)] for c in "([")
        self.closes = bytes(by_regex[re.escape(c)] for c in ")]")
        self.sep_id = self.terminal_ids["_SEP"]
        kept = set(self.opens + self.closes) | {self.sep_id}
        self._not_brackets = bytes(k for k in range(256) if k not in kept)
        self._pairs = [bytes((o, c)) for o, c in zip(self.opens, self.closes)]
        self.brackets = re.compile(b"[" + re.escape(bytes(sorted(kept))) + b"]")

    @property
    def splitter(self) -> re.Pattern:
        """`Tables.lexer` made to cut the text (see `ascii_splitter`)."""
        if self._splitter is None:
            self._splitter = splitter(self.tables, self.tables.split_pattern)
        return self._splitter

    def splitter_for(self, text: str) -> re.Pattern:
        return self.ascii_splitter if text.isascii() else self.splitter

    def _pair(self, below: int, top: int) -> int:
        with self._lock:
            k = self._index.get((below, top))
            if k is None:
                k = len(self.pairs)
                self.pairs.append((below, top))
                self.actions.append([_UNKNOWN] * len(self.terminal_names))
                self.gotos.append([None] * len(self.tables.rules))
                self._index[(below, top)] = k
            return k

    def goto(self, pair: int, rule: int) -> int:
        top = self.pairs[pair][1]
        target = self._pair(top, self.tables.states[top][self.tables.rules[rule].origin])
        self.gotos[pair][rule] = target
        return target

    def derive(self, pair: int, a: int) -> tuple:
        entry = self.actions[pair][a] = self._action(pair, a)
        return entry

    def _action(self, pair: int, a: int) -> tuple:
        t = self.tables
        states, rules, name = t.states, t.rules, self.terminal_names[a]
        below, top = self.pairs[pair]
        chain: list[int] = []
        state = top

        def entry(how, what):
            calls = tuple(chain) or None
            return (how, what, self._pair(below, state), calls)

        while True:
            act = states[state].get(name)
            if act is None:
                return entry(ERROR, state)
            if name == "$END" and (act >= 0 or state == t.end):
                return entry(ACCEPT, None)
            if act >= 0:
                quiet = name in self.quiet
                if state == top:
                    return (QUIET_SHIFT if quiet else SHIFT, self._pair(state, act))
                return entry(QUIET_CHAIN_SHIFT if quiet else CHAIN_SHIFT,
                             self._pair(state, act))
            rule = rules[~act]
            if rule.size != 1 or below < 0:
                return entry(REDUCE, ~act)
            if self._chained[~act]:
                chain.append(~act)
            state = states[below][rule.origin]
            if name == "$END" and state == t.end:
                return entry(ACCEPT, None)

    def join_lines(self, kinds: bytes, pieces: list[str]) -> bytes:
        """The kinds with every new line inside ( ) or [ ] made IGNORED: while a bracket is
        open, a statement goes on over lines, as in Python (a ';' there stays a separator,
        and an error). Brackets are counted whatever their kind: a ")" that closes a "["
        is a syntax error before any new line after it matters.

        Cheap when no new line is inside brackets: the brackets and separators alone, with
        "()" and "[]" taken out a few times over, show no open bracket before the last
        separator (taking out a pair leaves every separator at the depth it was)."""
        s = kinds.translate(None, self._not_brackets)
        for _ in range(8):
            last = s.rfind(self.sep_id)
            if last < 0 or all(s.find(o, 0, last) < 0 for o in self.opens):
                return kinds
            shorter = s
            for pair in self._pairs:
                shorter = shorter.replace(pair, b"")
            if len(shorter) == len(s):
                break
            s = shorter
        out, depth, opens, sep = bytearray(kinds), 0, self.opens, self.sep_id
        for m in self.brackets.finditer(kinds):
            k = m.start()
            a = kinds[k]
            if a == sep:
                if depth > 0 and pieces[k] == "\n":
                    out[k] = IGNORED
            elif a in opens:
                depth += 1
            else:
                depth -= 1
        return bytes(out)

    def is_end(self, pair: int) -> bool:
        return self.pairs[pair][1] == self.tables.end

    def kinds_of(self, pieces: list[str], text: str) -> bytes:
        """The terminal id of each piece (IGNORED, BAD) that `splitter_for(text)` cut out of
        `text`, in order.

        The lexer's regex tried on the piece alone picks the same terminal as it did in the
        text: its terminals look past their match only to refuse a number's dot followed by
        a dot (`1..3`), and a piece cut out of the text never goes on that way. A piece that
        is a keyword is the keyword's terminal (`Tables.keywords`)."""
        kinds = self.kinds
        try:  # (every piece met before: the common case for small programs, no set made)
            return bytes(map(kinds.__getitem__, pieces))
        except KeyError:
            pass
        new = set(pieces).difference(kinds)
        ids, keywords = self._group_ids, self._keywords
        match = self.tables.lexer_for(text).match
        found = dict.fromkeys(new)
        del new
        for p in found:
            found[p] = keywords[p] if p in keywords else ids[match(p).lastindex]
        if len(kinds) + len(found) <= 4096:  # a small program's names: keep them
            kinds.update(found)
        else:  # a big program, or many programs: start again (a new dict: a parse in
            found.update(kinds)  # another thread may be reading the old one)
            kinds = found
            self.kinds = {}
        return bytes(map(kinds.__getitem__, pieces))


def splitter(t: Tables, pattern: str, spaces: bool = True, ascii: bool = False) -> re.Pattern:
    """The lexer's regex `pattern` (`Tables.pattern`, or its alternatives as the splitter
    orders them, `Tables.split_pattern`) made to cut a text with re.findall: group 1 is
    every piece of the text in order (comments and stray characters too), as strings,
    then '' at the end of the text (twice after spaces there).

    The run of spaces before a piece (an ignored terminal that is a run of one class of
    characters, `[ \t\f\r]+`) is cut with the piece and left out: spaces are a third of
    a program's pieces. The pieces are the lexer's all the same, as no other terminal can
    start where the lexer takes spaces (a test pins this to the lexer for any text).
    `spaces=False`: spaces are pieces too; `ascii`: for ASCII text only (re.ASCII, as
    `Tables.ascii_lexer`)."""
    runs = [r for n, r in t.terminals
            if n in t.ignore and r.endswith("+") and _CLASS.fullmatch(r[:-1])]
    before = runs[0][:-1] + "*" if runs and spaces else ""
    return re.compile(f"{before}({_without_groups(pattern)}|\\Z)",
                      re.DOTALL | (re.ASCII if ascii else 0))


_CLASS = re.compile(r"\[\^?\]?(?:\\.|[^\]\\])*\]")  # a character class: [...], [^...]
_NON_ASCII = re.compile(r"[^\x00-\x7f](?:-[^\x00-\x7f])?")  # a character or a range


def ascii_classes(pattern: str) -> str:
    """The regex with the non-ASCII characters and ranges taken out of its classes, which
    reads ASCII text as the regex does; the regex itself when that cannot be done (one
    outside a class, or a class left empty)."""
    ascii = _CLASS.sub(lambda m: _NON_ASCII.sub("", m.group()), pattern)
    if not ascii.isascii() or any(c.group() in ("[]", "[^]") for c in _CLASS.finditer(ascii)):
        return pattern
    return ascii


def _without_groups(pattern: str) -> str:
    """A regex with every group made non-capturing, `(?P<name>` included."""
    out, k, in_class = [], 0, False
    while k < len(pattern):
        c = pattern[k]
        if c == "\\":
            out.append(pattern[k:k + 2])
            k += 2
            continue
        if in_class:
            in_class = c != "]" or (out and out[-1] in ("[", "[^"))
        elif c == "[":
            in_class = True
            if pattern.startswith("[^", k):
                out.append("[^")
                k += 2
                continue
        elif c == "(":
            if pattern.startswith("(?P<", k):
                k = pattern.index(">", k) + 1
                out.append("(?:")
                continue
            if not pattern.startswith("(?", k):
                out.append("(?:")
                k += 1
                continue
        out.append(c)
        k += 1
    return "".join(out)
