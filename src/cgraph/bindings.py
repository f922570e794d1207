"""Bindings: `NAME=VALUE` arguments (VALUE is any constant expression, `x=pi/4`, a
non-finite value as cgraph prints it, `Infinity`, `-inf`, `NaN`, or a list for an indexed
family, `w=[0.1,0.2]`, `W=[[1,2],[3,4]]`), `--tangent NAME=VALUE` and `--bindings FILE` (a
JSON object, `descend`'s JSON output, or NAME=VALUE lines). This module reads plain numbers,
the start-up path of every command; anything else (an expression, a list, a file, a value
that is wrong and the message saying so) is binding_values.py's, imported only then.

`eval` also takes `NAME=VALUE±SIGMA` (or `VALUE+-SIGMA`): a value with a standard
uncertainty, both constant expressions, SIGMA finite and not negative.

A value is the number written, or an error: a literal beyond the doubles (`1e999`, which
float() reads as Infinity) or too small for them (`1e-400`, read as 0) is refused, and so is
an expression whose value is not finite (`1e308*10`, `1/0`, `0/0`): a value that is not
finite is written as one (`inf`, `-Infinity`, `nan`). Subnormal numbers (`5e-324`) are
doubles and are taken as they are (cgraph prints them so; they read back exactly).
"""

from __future__ import annotations

import re
from typing import Mapping

from .errors import BindingError
from .numtext import misread
from .ops import CONSTANTS

# one element of an indexed family, as tables print it and --bindings JSON takes it: W[1,2]
# (compiled when a binding first names one: not on every command's start-up path)
_ELEMENT = r"(.+?)\[\s*(-?\d+(?:\s*,\s*-?\d+)*)\s*\]"
# the non-finite values as cgraph prints them (Infinity, NaN) and as CSV files hold them
# (compiled by `re` when a value is not a plain number: 0.1 ms of every start-up at import)
_NON_FINITE = r"(?i)\s*[+-]?(inf|infinity|nan)\s*"
# Made from the grammar's own NAME (is_name) and NUMBER (_compile), so that a binding reads
# names and numbers as the program does:
_NAME: dict[bool, re.Pattern] = {}  # a name, in ASCII text (True) and in any text
# a number alone, signed: float() gives what parsing it would, so it skips the parser
# (87 bindings of a big program cost 1.7 ms through the parser, 0.05 ms this way)
_LITERAL = None


def _compile() -> None:
    global _LITERAL
    from .parser import terminal  # its tables are loaded once the program is parsed

    _LITERAL = re.compile(rf" *[+-]?(?:{terminal('NUMBER')}) *")


def is_name(name: str) -> bool:
    """Whether the program would read `name` as one NAME: with the grammar's regex in the
    form the lexer uses for ASCII text when the name is ASCII (the full one, whose Unicode
    classes cost ~0.4 ms to compile, only for other names)."""
    ascii = name.isascii()
    pattern = _NAME.get(ascii)
    if pattern is None:
        from .parser import terminal

        pattern = _NAME[ascii] = re.compile(terminal("NAME", ascii))
    return pattern.fullmatch(name) is not None


class Bindings(dict):
    """Bindings, name -> value, `lists`: the families a list bound (`w=[…]`, `"W": [[…]]`
    in a --bindings file), and `listed`: the elements those lists bound. A list may bind
    elements the program does not use, and an element it lacks is out of its range; an
    element bound on its own (`W[1,1]=1`, or `w[7]=1` beside `w=[1,2]`) is a name like any
    other, though `W=[[1]]` makes the same name -> value."""

    __slots__ = ("lists", "listed")

    def __init__(self, *args, lists=(), listed=()):
        super().__init__(*args)
        self.lists = set(lists)
        self.listed = set(listed)

    def add_list(self, family: str, elements) -> None:
        """Note that a list bound `family`, as these `elements`."""
        self.lists.add(family)
        self.listed.update(elements)

    def over(self, under: Mapping[str, float]) -> "Bindings":
        """These bindings (the command line's) over `under` (a --bindings file's): a name
        bound in both takes this value, and a family a list binds here is this list's
        alone: `w=[5,6]` over a file's `w=[1,2,3]` (or its `w[3]=9`) binds w[1] and w[2],
        as a later value replaces an earlier one, where `w[2]=9` replaces one element."""
        lists = getattr(under, "lists", set()) | self.lists
        listed = getattr(under, "listed", set())
        if self.lists:
            under = {name: v for name, v in under.items()
                     if name.partition("[")[0] not in self.lists}
            listed = {e for e in listed if e in under}
        return Bindings({**under, **self}, lists=lists, listed=self.listed | listed)


def binding_name(name: str) -> str | None:
    """`name` as a binding names a variable: a NAME, or one element of a family written as
    cgraph prints it (`w[1]`, `W[2,3]`; spaces inside the brackets dropped); else None."""
    if is_name(name):
        return name
    element = re.fullmatch(_ELEMENT, name) if name.endswith("]") else None
    if element is None or not is_name(element[1]):
        return None
    indices = ",".join(str(int(i)) for i in element[2].split(","))
    return f"{element[1]}[{indices}]"


def constant_value(text: str, what: str = "the value", write: str | None = "{}",
                   json: bool = False) -> float:
    """The value of a constant expression; BindingError if it is not one, or not the
    number written (see the module's notes). `what` names the value in messages ("the
    value of x"); `write` spells a value in this place for a hint ("x={}"), None where only
    a finite value will do; `json`: the text is a number in a JSON list or file."""
    if _LITERAL is None:
        _compile()
    if _LITERAL.fullmatch(text):
        v = float(text)
        if v and v - v == 0.0 or not misread(text, v):  # the number written, rounded
            return v
        from .binding_values import not_a_double

        raise not_a_double(text, v, what, write, json)
    if re.fullmatch(_NON_FINITE, text):
        if write is None:
            raise BindingError(f"{what} must be a finite number, not {text.strip()}")
        return float(text)
    from .binding_values import expression_value

    return expression_value(text, what, write)


def parse_bindings(args, where: str = "") -> Bindings:
    """`["x=1", "y=pi/2", "w=[1,2]"]` -> `{"x": 1.0, "y": 1.5707963267948966, "w[1]": 1.0,
    "w[2]": 2.0}`."""
    bindings, sigmas = parse_uncertain_bindings(args, where)
    if sigmas:
        name = next(iter(sigmas))
        raise BindingError(f"{where}{name}: only eval propagates an uncertainty (±); "
                           f"write {name}=VALUE here")
    return bindings


def parse_tangents(args) -> dict[str, float]:
    """`--tangent x=1 --tangent y=2` -> {"x": 1.0, "y": 2.0}: forward mode's direction,
    read as bindings are, with messages that speak of tangents."""
    return parse_uncertain_bindings(args, tangent=True)[0]


def parse_uncertain_bindings(args, where: str = "", tangent: bool = False,
                             places: list[str] | None = None
                             ) -> tuple[Bindings, dict[str, float]]:
    """`["x=2±0.1", "y=3"]` -> `({"x": 2.0, "y": 3.0}, {"x": 0.1})`. `places`, where each
    argument is (a file's lines: `--bindings b.txt, line 3: `), begins its messages
    instead of `where`."""
    bindings = Bindings()
    sigmas: dict[str, float] = {}
    given: dict[str, str] = {}  # name -> the argument that bound it
    kind = "tangent" if tangent else "value"
    for i, arg in enumerate(args):
        where = places[i] if places else where
        name, sep, value = arg.partition("=")
        name = name.strip()
        if not name.isascii():  # as the parser reads names: composed (NFC)
            import unicodedata

            name = unicodedata.normalize("NFC", name)
        name = binding_name(name) if sep else None
        if name is None or not value.strip() or value[0] == "=":
            from .binding_values import malformed

            raise BindingError(where + malformed(args, i, tangent, places is not None))
        def twice(name):  # twice, or an element of a list given, or a list's element
            first = given.get(name) or next(a for a in given.values()
                                            if a.startswith(name.partition("[")[0] + "="))
            return BindingError(f"{where}{'--tangent ' * tangent}{name} is "
                                f"{'given' if tangent else 'bound'} twice ({first}, "
                                f"then {arg}): give it one {kind}")

        if name in given or name in bindings:
            raise twice(name)
        if name.partition("[")[0] in CONSTANTS:
            raise BindingError(f"{where}cannot bind the constant '{name.partition('[')[0]}'")
        given[name] = arg
        what = f"{where}the {kind} of {name}"
        if value.strip().startswith("[") and "[" in name:
            raise BindingError(f"{what} is one number, not a list: {value.strip()}")
        if value.strip().startswith("["):
            from .binding_values import list_value

            new = list_value(name, value, where, kind)
            again = next((e for e in new if e in bindings), None)  # w[1]=2 w=[1]
            if again is not None:
                raise twice(again)
            _add(bindings, new, where)
            bindings.add_list(name, new)
            continue
        value, pm, sigma = _split_sigma(value)
        if pm and tangent:
            raise BindingError(f"{what}, {arg.partition('=')[2]!r}, has an uncertainty "
                               f"({pm}): a tangent is one number")
        if pm and not value.strip():  # `x=±1`
            raise BindingError(f"{what} is missing before {pm}: write {name}=VALUE{pm}SIGMA, "
                               f"e.g. {name}=1{pm}0.1")
        write = f"--tangent {name}={{}}" if tangent else f"{name}={{}}"
        bindings[name] = constant_value(value, what, write)
        if pm:
            s = constant_value(sigma, f"{where}the uncertainty of {name}", None) \
                if sigma.strip() else -1
            if not s >= 0.0:
                raise BindingError(f"{where}the uncertainty of {name} must be a finite "
                                   f"number >= 0 (a standard deviation), not "
                                   f"{sigma.strip() or 'empty'}")
            sigmas[name] = s
    return bindings, sigmas


def _split_sigma(text: str) -> tuple[str, str, str]:
    """`2±0.1` and `2+-0.1` -> ("2", "±", "0.1"); without an uncertainty, (text, "", "")."""
    for pm in ("±", "+-"):
        value, sep, sigma = text.partition(pm)
        if sep:
            return value, sep, sigma
    return text, "", ""


def _add(bindings: dict, new: dict, where: str = "") -> None:
    """Add `new` to `bindings`. A name bound twice is the caller's to report, since only it
    knows what bound the name first: the argument (`W=[[…]]`) or the file's key (`"W"`)."""
    for name, value in new.items():
        family = name.partition("[")[0]
        if family in CONSTANTS:
            raise BindingError(f"{where}cannot bind the constant '{family}'")
        bindings[name] = value


def read_bindings_file(path: str) -> tuple[Bindings, dict[str, float]]:
    """Bindings from a file: a JSON object (name -> number, or a list for a family;
    `descend --format json` output is read for its weights), or NAME=VALUE lines, which
    may carry an uncertainty as the command line's do (`x=2±0.1`). Returns (bindings,
    sigmas) as parse_uncertain_bindings does."""
    from .files import read_text

    try:
        text = read_text(path, "the bindings")
    except ValueError:  # a path the system cannot take (an embedded NUL)
        raise BindingError(f"--bindings: cannot read {path!r}") from None
    where = f"--bindings {path}: "
    if text.lstrip().startswith("["):  # JSON, but not an object of names
        raise BindingError(f"{where}holds a JSON array; bindings in JSON are an object of "
                           'names, {"x": 1.5, "w": [1, 2]} (or write NAME=VALUE lines)')
    if text.lstrip().startswith("{"):
        from .binding_values import json_bindings

        bindings = Bindings()
        keys: dict[str, str] = {}  # name -> the key that bound it ("W", or "W[1,1]")
        for family, new in json_bindings(text, where):
            key = family or next(iter(new), "")
            for name in new:
                if name in keys:  # as the command line says it (W=[[…]], then W[1,1]=9)
                    raise BindingError(f'{where}{name} is bound twice ("{keys[name]}", then '
                                       f'"{key}"): give it one value')
                keys[name] = key
            _add(bindings, new, where)
            if family is not None:
                bindings.add_list(family, new)
        return bindings, {}
    lines = [(n, line.split("#", 1)[0].strip()) for n, line in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line]
    return parse_uncertain_bindings([line for _, line in lines], where,
                                    places=[f"--bindings {path}, line {n}: " for n, _ in lines])
