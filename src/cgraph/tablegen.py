"""The LALR(1) tables of grammar.lark, computed by Lark and written out as a Python module.

    python3 -m cgraph.tablegen           # rewrite src/cgraph/_lalr_tables.py from grammar.lark
    python3 -m cgraph.tablegen --check   # exit 1 if that module is not what grammar.lark makes

A developer runs this after changing grammar.lark; tests/test_tables.py runs the same
generation and fails when the shipped module is stale, so grammar.lark stays the single
source of truth. No command runs it: cgraph imports the generated module, whose .pyc makes
loading the tables an unmarshal and a few dozen dict displays (no Lark, no grammar text, no
cache file, nothing to check at start-up). Lark is needed here and in the tests only.

Lark computes the tables; they are checked against what grammar.lark says, read by
`GrammarFacts` (a small reader of the Lark syntax this grammar uses: its rules, aliases,
`?` and `_` rules and terminals; `validate` fails on tables that do not match it). The
states are numbered in a canonical order (Lark's own numbering follows Python's string
hashing, which changes from run to run), and what the driver needs that follows from the
grammar (each rule's kept children and kind, the keywords, the lexer's regexes) is worked
out here, once.
"""

from __future__ import annotations

import os
import re
import sys

from .tables import PASS, SPLICE, grammar_text, lexer_pattern

MODULE = "_lalr_tables.py"


def module_path() -> str:
    return os.path.join(os.path.dirname(__file__), MODULE)


def compute(grammar: str) -> dict:
    """Run Lark's LALR analysis and keep what the driver needs, as plain data; the states
    numbered in the order a breadth-first walk from the start meets them (symbols in sorted
    order), so that the same grammar always gives the same numbers."""
    from lark import Lark
    from lark.parsers.lalr_analysis import Shift

    lark = Lark(grammar, parser="lalr")
    table = lark.parser.parser.parser.parse_table
    rules = list(lark.rules)
    rule_index = {id(r): k for k, r in enumerate(rules)}
    rows = {state: {str(sym): (action is Shift, arg) for sym, (action, arg) in row.items()}
            for state, row in table.states.items()}
    order = [table.start_states["start"]]
    numbers = {order[0]: 0}
    for state in order:  # (grows as it goes)
        for sym in sorted(rows[state]):
            shift, target = rows[state][sym]
            if shift and target not in numbers:
                numbers[target] = len(order)
                order.append(target)
    assert len(order) == len(rows), "a state the start does not reach"
    states = [{sym: numbers[arg] if shift else ~rule_index[id(arg)]
               for sym, (shift, arg) in sorted(rows[state].items())} for state in order]
    terminals = sorted(lark.lexer_conf.terminals,
                       key=lambda t: (-t.priority, -t.pattern.max_width,
                                      -len(t.pattern.value), t.name))
    return {
        "states": states,
        "rules": [[str(r.origin.name), [str(s.name) for s in r.expansion],
                   str(r.alias) if r.alias else None] for r in rules],
        "start": 0,
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
        return self.alternatives(name, regex) is not None

    def alternatives(self, name: str, regex: str) -> list[str] | None:
        """The alternatives of terminal `name` in the order `regex` (as Lark writes it)
        tries them; None when `regex` is not how Lark writes the terminal."""
        parts = self.terminal_parts[name]
        if len(parts) == 1:
            return parts if regex == parts[0] else None
        if not (regex.startswith("(?:") and regex.endswith(")")):
            return None
        inner, at, left, out = regex[3:-1], 0, sorted(parts, key=len, reverse=True), []
        while left:
            for p in left:
                end = at + len(p)
                if inner.startswith(p, at) and (end == len(inner) or inner[end] == "|"):
                    left.remove(p)
                    out.append(p)
                    at = end + 1
                    break
            else:
                return None
        return out if at == len(inner) + 1 else None

    def filtered(self, symbol: str) -> bool:
        """Tokens a reduction drops: `_NAME`s and anonymous strings ("(", "+")."""
        return symbol.startswith("_") and symbol.lstrip("_").isupper() or (
            symbol.isupper() and symbol not in self.terminal_parts)

    def rule(self, origin: str, expansion: tuple[str, ...], alias: str | None) -> tuple:
        """The rule as the driver keeps it: (origin, expansion, alias, the positions of the
        children a reduction keeps, its kind: PASS, SPLICE or a builder callback's name)."""
        keep = tuple(i for i, s in enumerate(expansion) if not self.filtered(s))
        if origin.startswith("_"):
            kind = SPLICE
        elif origin in self.inline and len(keep) == 1 and not alias:
            kind = PASS
        else:
            kind = alias or origin
        return (origin, expansion, alias, keep, kind)


class Invalid(Exception):
    """Tables that are not what the grammar says."""


def validate(data, grammar: str, facts: GrammarFacts) -> None:
    """Raise Invalid unless `data` is exactly the kind of tables `compute(grammar)` makes:
    the right shape with every state and rule index in range, and every rule and terminal
    in it what grammar.lark says. (Not checked: which action each state takes, and the
    helper rules Lark makes for `*` and `?` beyond their having no action of their own;
    the differential test against Lark covers those.)"""
    def need(ok, why):
        if not ok:
            raise Invalid(why)

    need(type(data) is dict, "not an object")
    need(set(data) == {"states", "rules", "start", "end", "ignore", "terminals"},
         "wrong keys")

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
            need(facts.rule(origin, tuple(expansion), alias)[4] in (SPLICE, origin),
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


def keywords(terminals: list[tuple[str, str]], facts: GrammarFacts) -> dict[str, str]:
    """The keywords: strings of the rules that another terminal takes whole (NAME takes
    "for"). As Lark's lexer reads them, a piece of that terminal whose text is the keyword
    is the keyword's terminal ("for" is FOR, "format" and "for1" are NAMEs)."""
    lexer = re.compile(lexer_pattern(terminals), re.DOTALL)
    strings = {re.escape(k): k for k in facts.literals}
    return {strings[r]: n for n, r in terminals
            if n not in facts.terminal_parts and r in strings
            and lexer.fullmatch(strings[r]).lastgroup != n}


# -- the order the splitter tries the terminals in ------------------------------------------


def _sre():
    """Python's regex parser and its constants (their module names changed in 3.11)."""
    try:
        from re import _constants as c, _parser as p
    except ImportError:  # Python 3.10
        import sre_constants as c  # noqa: F401
        import sre_parse as p
    return p, c


class _First:
    """The characters a regex's match may start with: `chars`, when they are a few listed
    ones, else None and only `test(ch)` tells (a negated class, \\w, \\d ...)."""

    def __init__(self, chars=None, test=None):
        self.chars = frozenset(chars) if test is None else None
        self.test = test or self.chars.__contains__

    def __or__(self, other):
        if self.chars is not None and other.chars is not None:
            return _First(self.chars | other.chars)
        return _First(test=lambda ch, a=self.test, b=other.test: a(ch) or b(ch))

    def meets(self, other) -> bool:
        """Whether some character may start both (when neither is listed: assumed)."""
        if self.chars is None and other.chars is None:
            return True
        listed, other = (self, other) if self.chars is not None else (other, self)
        return any(map(other.test, listed.chars))


_NONE, _ANY = _First(()), _First(test=lambda ch: True)
_CATEGORIES = {"DIGIT": r"\d", "NOT_DIGIT": r"\D", "SPACE": r"\s", "NOT_SPACE": r"\S",
               "WORD": r"\w", "NOT_WORD": r"\W"}


def _first(items) -> tuple[_First, bool]:
    """What a parsed regex (re's parser's items) may start with, and whether it may match
    the empty string. Anything not understood below may start with anything, and be empty."""
    _, c = _sre()
    first = _NONE
    for op, av in items:
        if op is c.LITERAL:
            return first | _First((chr(av),)), False
        if op is c.NOT_LITERAL or op is c.ANY:
            return first | _ANY, False
        if op is c.IN:
            return first | _class(av), False
        if op is c.SUBPATTERN and not av[1] and not av[2]:  # (no flags set inside)
            f, empty = _first(av[3])
        elif op is c.BRANCH:
            parts = [_first(b) for b in av[1]]
            f, empty = _NONE, any(e for _, e in parts)
            for g, _ in parts:
                f = f | g
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            f, empty = _first(av[2])
            empty = empty or av[0] == 0
        else:  # (an anchor, a look-around, a flag, a back reference ...)
            return _ANY, True
        first = first | f
        if not empty:
            return first, False
    return first, True


def _class(items) -> _First:
    """The first characters of a class [...] (re's parser's items)."""
    _, c = _sre()
    chars, tests, negate = set(), [], False
    for op, av in items:
        if op is c.NEGATE:
            negate = True
        elif op is c.LITERAL:
            chars.add(chr(av))
        elif op is c.RANGE and av[1] - av[0] < 256:
            chars.update(map(chr, range(av[0], av[1] + 1)))
        elif op is c.CATEGORY and str(av).replace("CATEGORY_", "") in _CATEGORIES:
            escape = _CATEGORIES[str(av).replace("CATEGORY_", "")]
            # (the ASCII lexer reads \\w, \\d as ASCII: a character either way)
            tests.append(lambda ch, e=escape: bool(re.fullmatch(e, ch) or
                                                   re.fullmatch(e, ch, re.ASCII)))
        else:
            return _ANY
    if not negate and not tests:
        return _First(chars)
    if negate:  # (listed characters are taken out: assume none is, which is wider)
        return _ANY
    return _First(test=lambda ch: ch in chars or any(t(ch) for t in tests))


def splitter_alternatives(terminals: list[tuple[str, str]], facts: GrammarFacts) -> list[str]:
    """The lexer's alternatives in the order the splitter (tables.splitter) tries them: the
    one the regex engine makes fastest, cutting every text into the same pieces.

    re tries a regex's alternatives in order, and rules one out at once when it starts with
    a character or a class that the next character is not; it enters any other (a group
    of alternatives, a repeat) to find out. So: the terminals' own alternatives
    (`<=|>=|...`) are made the splitter's, and those that start with a character or class
    come first (multi-character ones, then the single characters merged into one class),
    the others after, each group in the lexer's order. An alternative never goes before
    an earlier one that may start with the same character (`==` stays before `=`, `**`
    before `*`, NAME before `for`): at any place, the alternatives that may match there
    all start with its character, so they keep their order, and the first that matches is
    the lexer's. A test pins the pieces to the lexer's for any text."""
    p, c = _sre()
    alts = [a for n, r in terminals
            for a in (facts.alternatives(n, r) if n in facts.terminal_parts else [r])]
    info = []
    for a in alts:
        items = list(p.parse(a))
        first, empty = _first(items)
        single = len(items) == 1 and items[0][0] is c.LITERAL
        quick = bool(items) and items[0][0] in (c.LITERAL, c.IN)
        info.append((_ANY if empty else first, 1 if single else 0 if quick else 2))
    after = [{j for j in range(k) if info[j][0].meets(info[k][0])} for k in range(len(alts))]
    order: list[int] = []
    while len(order) < len(alts):  # (the earliest group first, then the lexer's order)
        k = min((k for k in range(len(alts)) if k not in order and after[k] <= set(order)),
                key=lambda k: (info[k][1], k))
        order.append(k)
    out: list[str] = []
    merged = ""  # single characters in a row, merged into one class
    for k in order:
        if info[k][1] == 1:
            merged += _in_class(alts[k])
            continue
        if merged:
            out.append(f"[{merged}]")
            merged = ""
        out.append(alts[k])
    return out + ([f"[{merged}]"] if merged else [])


def _in_class(regex: str) -> str:
    """A one-character regex as written inside a class."""
    p, _ = _sre()
    ch = chr(list(p.parse(regex))[0][1])
    return "\\" + ch if ch in "\\]^-[" else "\\n" if ch == "\n" else ch


def module_text(grammar: str) -> str:
    """The source of the tables' module for this grammar (the same text for the same
    grammar and Lark, whatever the run)."""
    facts = GrammarFacts(grammar)
    data = compute(grammar)
    validate(data, grammar, facts)
    terminals = [tuple(t) for t in data["terminals"]]
    rules = [facts.rule(origin, tuple(expansion), alias)
             for origin, expansion, alias in data["rules"]]
    lines = [
        '"""The LALR(1) tables of grammar.lark (see tables.py), as Lark computes them.',
        "",
        "Generated by `python3 -m cgraph.tablegen` from grammar.lark: do not edit. The",
        "test suite fails when this file is not what that command writes.",
        '"""',
        "",
        "# fmt: off",
        f"START = {data['start']!r}",
        f"END = {data['end']!r}  # the state after a whole program, before $END",
        f"IGNORE = {tuple(data['ignore'])!r}",
        "# (name, regex), in the order the lexer tries them",
        "TERMINALS = (",
        *(f"    {t!r}," for t in terminals),
        ")",
        f"KEYWORDS = {keywords(terminals, facts)!r}",
        "# the terminals' alternatives in the order the splitter tries them (see",
        "# tablegen.splitter_alternatives)",
        "SPLITTER = (",
        *(f"    {a!r}," for a in splitter_alternatives(terminals, facts)),
        ")",
        "# (origin, expansion, alias, positions of the kept children, kind)",
        "RULES = (",
        *(f"    {r!r}," for r in rules),
        ")",
        "# STATES[s][symbol]: k >= 0 shifts (or, for a rule's name, goes) to state k;",
        "# k < 0 reduces by rule ~k",
        "STATES = (",
        *(f"    {row!r}," for row in data["states"]),
        ")",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv not in ([], ["--check"]):
        print("usage: python3 -m cgraph.tablegen [--check]", file=sys.stderr)
        return 2
    try:
        import lark  # noqa: F401
    except ImportError:
        print("python3 -m cgraph.tablegen needs Lark: python3 -m pip install -e '.[test]'",
              file=sys.stderr)
        return 2
    text = module_text(grammar_text())
    path = module_path()
    try:
        with open(path, encoding="utf-8") as fh:
            current = fh.read()
    except FileNotFoundError:
        current = None
    if argv == ["--check"]:
        if current != text:
            print(f"{path} is not what grammar.lark makes: run python3 -m cgraph.tablegen",
                  file=sys.stderr)
            return 1
        return 0
    if current != text:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {path}")
    else:
        print(f"{path} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
