"""LALR(1) tables for grammar.lark: computed by Lark, validated, cached as JSON.

Lark turns the grammar into LALR(1) tables once; they are kept as JSON in the user's cache
directory, so later runs load them in about a millisecond without importing Lark (and never
unpickle anything). A cache file is used only if it passes `validate`: it must name this
cgraph's version, the installed Lark's version, the table format and the very grammar text
in use, have the right shape with every state and rule index in range, and every rule and
terminal in it must be what grammar.lark says (read by `GrammarFacts`, a small reader of
the Lark syntax this grammar uses; a test pins it to Lark). Anything else is recomputed,
never trusted and never fatal.

What is not checked: the automaton itself (which action each state takes) beyond its shape
and index ranges, and the helper rules Lark makes for `*` and `?` beyond their having no
action of their own. Checking those means recomputing the tables (about 25 ms plus 35 ms of
importing Lark); a file crafted to pass every check above can still parse differently.
"""

from __future__ import annotations

import json
import os
import re
import threading

from . import __version__

FORMAT = 2  # bump when the JSON layout below changes
MAX_CACHE_BYTES = 1 << 20  # a bigger file is not one cgraph wrote

# A rule's reduction kind, derived from the grammar (never read from the cache):
PASS = "pass"  # a `?rule` alternative with one kept child: the child passes through
SPLICE = "splice"  # an inlined `_rule` (and Lark's helpers for `*`, `?`): children go up
# ... otherwise the rule's alias (or its name): the builder callback of that name.


def grammar_path() -> str:
    return os.path.join(os.path.dirname(__file__), "grammar.lark")


def grammar_text() -> str:
    """The program grammar (grammar.lark), in Lark's EBNF."""
    with open(grammar_path(), encoding="utf-8") as fh:
        return fh.read()


_lark_version: str | None = None


def lark_version() -> str:
    """The installed Lark's version, read from its module file without importing it (once:
    finding the module costs about 2 ms, and loading the tables asks twice)."""
    global _lark_version
    if _lark_version is None:
        _lark_version = _read_lark_version()
    return _lark_version


def _read_lark_version() -> str:
    import importlib.util

    spec = importlib.util.find_spec("lark")
    if spec is None or not spec.origin:
        return "none"
    try:
        with open(spec.origin, encoding="utf-8") as fh:
            found = re.search(r"""^__version__\s*(?::\s*str\s*)?=\s*["']([^"']+)["']""",
                              fh.read(), re.M)
    except OSError:
        return "unknown"
    return found.group(1) if found else "unknown"


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


class Tables:
    """The tables as the driver uses them.

    `states[s]` maps a symbol to an action: `k >= 0` shifts (or, for a rule name, goes)
    to state k; `k < 0` reduces by rule `~k`.
    """

    def __init__(self, data: dict, facts: "GrammarFacts"):
        self.states: list[dict[str, int]] = data["states"]
        self.start: int = data["start"]
        self.end: int = data["end"]
        self.ignore = frozenset(data["ignore"])
        self.terminals: list[tuple[str, str]] = [tuple(t) for t in data["terminals"]]
        self.rules = [facts.rule(origin, tuple(expansion), alias)
                      for origin, expansion, alias in data["rules"]]
        # The terminals, longest patterns first (`**` before `*`); anything else is an
        # error. A keyword is a string of the rules that another terminal takes whole (NAME
        # takes "for"): as Lark's lexer reads it, a piece of that terminal whose text is the
        # keyword is the keyword's terminal ("for" is FOR, "format" and "for1" are NAMEs).
        self.pattern = "|".join(f"(?P<{n}>{r})" for n, r in self.terminals) \
            + r"|(?P<_BAD>.)"
        # The same regex for ASCII text: NAME's class leaves out superscripts and other
        # number signs, whose Unicode ranges cost ~0.3 ms to compile at every start-up; no
        # ASCII text holds them, so the class without them reads ASCII text alike (tested).
        # It is compiled with re.ASCII: on ASCII text, \w and \d are the same characters
        # either way, and the ASCII ones are read from a table (the lexer cuts a text 15%
        # faster). The full regex is compiled when a text is not ASCII (`lexer`).
        self.ascii_pattern = ascii_classes(self.pattern)
        self.ascii_lexer = re.compile(self.ascii_pattern, re.DOTALL | re.ASCII)
        self._lexer = None
        strings = {re.escape(k): k for k in facts.literals}
        self.keywords: dict[str, str] = {
            strings[r]: n for n, r in self.terminals
            if n not in facts.terminal_parts and r in strings
            and self.lexer_for(strings[r]).fullmatch(strings[r]).lastgroup != n}

    @property
    def lexer(self) -> re.Pattern:
        """The lexer's regex, every terminal as the grammar writes it."""
        if self._lexer is None:
            self._lexer = re.compile(self.pattern, re.DOTALL)
        return self._lexer

    def lexer_for(self, text: str) -> re.Pattern:
        return self.ascii_lexer if text.isascii() else self.lexer


def compute(grammar: str) -> dict:
    """Run Lark's LALR analysis and keep what the driver needs, as plain JSON data."""
    from lark import Lark
    from lark.parsers.lalr_analysis import Shift

    lark = Lark(grammar, parser="lalr")
    table = lark.parser.parser.parser.parse_table
    rules = list(lark.rules)
    rule_index = {id(r): k for k, r in enumerate(rules)}
    numbers = {s: k for k, s in enumerate(sorted(table.states))}
    states = [None] * len(numbers)
    for state, row in table.states.items():
        states[numbers[state]] = {str(sym): numbers[arg] if action is Shift
                                  else ~rule_index[id(arg)]
                                  for sym, (action, arg) in row.items()}
    terminals = sorted(lark.lexer_conf.terminals,
                       key=lambda t: (-t.priority, -t.pattern.max_width,
                                      -len(t.pattern.value), t.name))
    return {
        "format": FORMAT, "cgraph": __version__, "lark": lark_version(), "grammar": grammar,
        "states": states,
        "rules": [[str(r.origin.name), [str(s.name) for s in r.expansion],
                   str(r.alias) if r.alias else None] for r in rules],
        "start": numbers[table.start_states["start"]],
        "end": numbers[table.end_states["start"]],
        "ignore": sorted(str(n) for n in lark.lexer_conf.ignore),
        "terminals": [[str(t.name), t.pattern.to_regexp()] for t in terminals],
    }


# -- what the grammar says ---------------------------------------------------------------

_TOKEN = re.compile(r'''\s+|//[^\n]*|(?P<tok>"(?:[^"\\]|\\.)*"|/(?:[^/\\\n]|\\.)+/|->|
                        \??\w+|[|()?*+\[\]~.:]|%\w+)''', re.X)
_DEFINITION = re.compile(r"^(\??)(\w+)(?:\.\d+)?\s*:", re.M)


def _unescape_regex(body: str) -> str:
    """How Lark reads /.../: \\n, \\t, \\f, \\r become the characters, the rest stays."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "f": "\f", "r": "\r"}.get(
        m.group(1), m.group(0)), body)


def _string(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


class GrammarFacts:
    """What grammar.lark says, read from its text: the rules written out as plain sequences
    of names and strings, which rules are `?`-inlined, and every terminal's regex.

    Only the subset of Lark's syntax that grammar.lark uses is understood; a rule written
    with `*`, `?` or groups is recorded as not checkable token by token (its expansion by
    Lark is then only checked to have no action of its own).
    """

    def __init__(self, grammar: str):
        self.inline: set[str] = set()  # `?rule`
        self.plain: dict[str, list[tuple[tuple[str, ...], str | None]]] = {}
        self.ebnf: set[str] = set()  # rules with *, ?, groups: Lark expands them
        self.terminal_parts: dict[str, list[str]] = {}  # NAME -> its alternatives' regexes
        self.literals: set[str] = set()  # strings written in rules
        self.ignore_names: set[str] = set()
        self.ignore_regexes: set[str] = set()
        text = grammar
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith("%ignore"):
                arg = stripped[len("%ignore"):].strip()
                if arg.startswith("/"):
                    self.ignore_regexes.add(self._regex_of(arg))
                else:
                    self.ignore_names.add(arg)
        body_text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("%"))
        heads = list(_DEFINITION.finditer(body_text))
        for k, head in enumerate(heads):
            end = heads[k + 1].start() if k + 1 < len(heads) else len(body_text)
            tokens = [m.group("tok") for m in _TOKEN.finditer(body_text, head.end(), end)
                      if m.group("tok")]
            name = head.group(2)
            alternatives = self._split(tokens)
            if name.isupper() or name.lstrip("_").isupper():
                self.terminal_parts[name] = [self._regex_of(a[0]) for a in alternatives]
                continue
            if head.group(1):
                self.inline.add(name)
            for alt in alternatives:
                alias = None
                if "->" in alt:
                    at = alt.index("->")
                    alias, alt = alt[at + 1], alt[:at]
                if all(t.startswith('"') or re.fullmatch(r"\w+", t) for t in alt):
                    self.plain.setdefault(name, []).append((tuple(alt), alias))
                    self.literals.update(_string(t) for t in alt if t.startswith('"'))
                else:
                    self.ebnf.add(name)
                    self.literals.update(_string(t) for t in alt if t.startswith('"'))
        self.aliases = {alias for alts in self.plain.values() for _, alias in alts if alias}

    @staticmethod
    def _split(tokens):
        alternatives, current, depth = [], [], 0
        for t in tokens:
            if t == "(":
                depth += 1
            elif t == ")":
                depth -= 1
            if t == "|" and depth == 0:
                alternatives.append(current)
                current = []
            else:
                current.append(t)
        alternatives.append(current)
        return alternatives

    @staticmethod
    def _regex_of(token: str) -> str:
        if token.startswith('"'):
            return re.escape(_string(token))
        return _unescape_regex(token[1:token.rindex("/")])

    def terminal_regex_ok(self, name: str, regex: str) -> bool:
        """Whether `regex` is how Lark writes terminal `name`: its one alternative, or all of
        them joined as (?:a|b|...) in some order."""
        parts = self.terminal_parts[name]
        if len(parts) == 1:
            return regex == parts[0]
        if not (regex.startswith("(?:") and regex.endswith(")")):
            return False
        inner, at, left = regex[3:-1], 0, sorted(parts, key=len, reverse=True)
        while left:
            for p in left:
                end = at + len(p)
                if inner.startswith(p, at) and (end == len(inner) or inner[end] == "|"):
                    left.remove(p)
                    at = end + 1
                    break
            else:
                return False
        return at == len(inner) + 1

    def filtered(self, symbol: str) -> bool:
        """Tokens a reduction drops: `_NAME`s and anonymous strings ("(", "+")."""
        return symbol.startswith("_") and symbol.lstrip("_").isupper() or (
            symbol.isupper() and symbol not in self.terminal_parts)

    def rule(self, origin: str, expansion: tuple[str, ...], alias: str | None) -> Rule:
        keep = tuple(i for i, s in enumerate(expansion) if not self.filtered(s))
        if origin.startswith("_"):
            kind = SPLICE
        elif origin in self.inline and len(keep) == 1 and not alias:
            kind = PASS
        else:
            kind = alias or origin
        return Rule(origin, expansion, alias, keep, kind)


class Invalid(Exception):
    """A cache file that is not what cgraph would write for this grammar."""


def validate(data, grammar: str, facts: GrammarFacts) -> None:
    """Raise Invalid unless `data` is exactly the kind of tables `compute(grammar)` makes."""
    def need(ok, why):
        if not ok:
            raise Invalid(why)

    need(type(data) is dict, "not an object")
    need(set(data) == {"format", "cgraph", "lark", "grammar", "states", "rules", "start",
                       "end", "ignore", "terminals"}, "wrong keys")
    need(data["format"] == FORMAT and data["cgraph"] == __version__, "another format")
    need(data["grammar"] == grammar, "another grammar")
    need(data["lark"] == lark_version(), "another Lark")

    # terminals: exactly the grammar's, each regex as Lark writes it for this grammar
    terminals = data["terminals"]
    need(type(terminals) is list and terminals, "terminals")
    names: set[str] = set()
    anonymous: dict[str, str] = {}  # regex of an anonymous string terminal -> its name
    escaped_literals = {re.escape(s) for s in facts.literals}
    for t in terminals:
        need(type(t) is list and len(t) == 2 and all(type(x) is str for x in t), "terminal")
        name, regex = t
        need(re.fullmatch(r"[A-Z_][A-Z0-9_]*", name) and name not in names, "terminal name")
        names.add(name)
        if name in facts.terminal_parts:
            need(facts.terminal_regex_ok(name, regex), f"regex of {name}")
        elif name.startswith("__IGNORE"):
            need(regex in facts.ignore_regexes, f"regex of {name}")
        else:
            need(regex in escaped_literals and regex not in anonymous, f"regex of {name}")
            anonymous[regex] = name
    need(set(facts.terminal_parts) <= names, "a terminal is missing")
    need(escaped_literals == set(anonymous), "a string terminal is missing")
    ignore = data["ignore"]
    need(type(ignore) is list and set(ignore) <= names
         and facts.ignore_names <= set(ignore)
         and all(n in facts.ignore_names or n.startswith("__IGNORE") for n in ignore),
         "ignore")

    # rules: every plain alternative of the grammar exactly once, with its alias; the
    # rules Lark makes for `*`, `?` and groups have no action of their own
    rules = data["rules"]
    need(type(rules) is list and rules, "rules")
    expected = {}
    for origin, alternatives in facts.plain.items():
        for alt, alias in alternatives:
            symbols = tuple(anonymous[re.escape(_string(s))] if s.startswith('"')
                            else s.lstrip("?") for s in alt)
            expected[(origin, symbols)] = alias
    seen = set()
    nonterminals = {r[0] for r in rules if type(r) is list and r and type(r[0]) is str}
    for r in rules:
        need(type(r) is list and len(r) == 3, "rule shape")
        origin, expansion, alias = r
        need(type(origin) is str and type(expansion) is list
             and all(type(s) is str and (s in names or s in nonterminals) for s in expansion)
             and (alias is None or type(alias) is str), "rule fields")
        key = (origin, tuple(expansion))
        if key in expected:
            need(expected[key] == alias and key not in seen, f"rule {origin}")
            seen.add(key)
        else:
            need(alias is None and (origin in facts.ebnf or origin.startswith("__")),
                 f"rule {origin} is not in the grammar")
            need(facts.rule(origin, tuple(expansion), alias).kind in (SPLICE, origin),
                 f"rule {origin}")
    need(seen == set(expected), "a rule of the grammar is missing")

    # states: shape, and every index in range
    states = data["states"]
    need(type(states) is list and states, "states")
    symbols = names | nonterminals | {"$END"}
    for row in states:
        need(type(row) is dict, "state row")
        for sym, action in row.items():
            need(sym in symbols and type(action) is int, "action")
            if action >= 0:
                need(action < len(states), "shift target")
            else:
                need(~action < len(rules) and sym not in nonterminals, "reduced rule")
    for k in ("start", "end"):
        need(type(data[k]) is int and 0 <= data[k] < len(states), k)


def cache_path(root: str | None = None, grammar: str = "") -> str | None:
    """Where the tables are kept: $XDG_CACHE_HOME/cgraph (if absolute, as the XDG spec
    says) or ~/.cache/cgraph; None when there is no home to keep them in. The name holds
    cgraph's and Lark's versions and a CRC of the grammar (so checkouts with different
    grammars do not overwrite each other's file; the file itself holds the grammar)."""
    import zlib

    root = root if root is not None else os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(root):
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        root = os.path.join(home, ".cache")
    crc = zlib.crc32(grammar.encode("utf-8"))
    return os.path.join(root, "cgraph",
                        f"lalr-{__version__}-lark-{lark_version()}-{crc:08x}.json")


def _read(path: str):
    with open(path, "rb") as fh:
        raw = fh.read(MAX_CACHE_BYTES + 1)
    if len(raw) > MAX_CACHE_BYTES:
        raise Invalid("too big")
    return json.loads(raw.decode("utf-8"))


def _write(path: str, data: dict) -> None:
    """Write atomically (a temp file beside it, then rename); remove the temp file on any
    failure. A read-only or full cache directory is not an error: the tables stay in memory."""
    tmp = None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.{id(data):x}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, separators=(",", ":"))
        os.replace(tmp, path)  # atomic: concurrent runs never see half a file
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def load() -> Tables:
    """The tables for grammar.lark: from the cache if it is valid, else computed (and cached)."""
    grammar = grammar_text()
    facts = GrammarFacts(grammar)
    path = cache_path(grammar=grammar)
    if path is not None:
        try:
            data = _read(path)
            validate(data, grammar, facts)
            return Tables(data, facts)
        except Exception:  # noqa: BLE001 - absent, unreadable, stale or crafted: recompute
            pass
    data = compute(grammar)  # what Lark makes passes `validate` too (a test pins it)
    if path is not None:
        _write(path, data)
    return Tables(data, facts)


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
    derived from `Tables` (which the cache validation covers), each entry when first
    needed: a program meets a few dozen of the ~7,000, so nothing is worth caching on disk.
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
        # a terminal is kept by every rule that has it, or by none (GrammarFacts.filtered)
        self.quiet = {n for r in t.rules for k, n in enumerate(r.expansion)
                      if n in self.terminal_ids and k not in r.keep}
        self._lock = threading.Lock()
        self.start = self._pair(-1, t.start)

        # The lexer's regex made to cut the text for re.findall (see `splitter`).
        self.ascii_splitter = splitter(t, t.ascii_pattern, ascii=True)
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
            self._splitter = splitter(self.tables, self.tables.pattern)
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
    """The lexer's regex `pattern` made to cut a text with re.findall: group 1 is every
    piece of the text in order (comments and stray characters too), as strings, then ''
    at the end of the text (twice after spaces there).

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
