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
