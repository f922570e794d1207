"""The slow paths of reading bindings (bindings.py reads plain numbers, and imports this
module only for anything else): constant expressions (`pi/4`), lists for a family
(`w=[0.1,0.2]`), `--bindings FILE`, and the words for what is wrong with a binding, as the
user typed it, with what to type instead."""

from __future__ import annotations

import re

from . import numtext
from .errors import BindingError, CgraphError, NumberError, repeated
from .parser import parse, terminal

_ASSIGNMENT = re.compile(r"(?<![=<>!])=(?!=)")  # compiled when a value is not a number


def not_a_double(text: str, v: float, what: str, write: str | None,
                 json: bool = False) -> BindingError:
    """A number that float() reads as Infinity (beyond the doubles) or 0 (below them)."""
    return BindingError(f"{what}, {numtext.shown(text)}, is {numtext.beyond(v)}"
                        + _hint(v, write, json))


def misread_cell(where: str, text: str, v: float) -> str:
    """The same for a data file's cell (`where` is its file, line and column), whose
    Infinity is written as a binding's (`inf`)."""
    return f"{where}: {numtext.shown(text)} is {numtext.beyond(v)}" + _hint(v, "{}")


def _named(v: float) -> str:
    """Infinity, -Infinity, NaN (as cgraph prints them) or 0: what a text came out as."""
    return numtext.text(v) if v else "0"


def _hint(v: float, write: str | None, json: bool = False) -> str:
    """How to write, in this place, the value a text came out as (`x=inf`): in a list as
    JSON spells it (Infinity), else the short word (inf, -inf, nan)."""
    meaning = _named(v)
    if write is None:
        return ": it must be a finite number" if v else ""
    word = meaning if json or not v else "nan" if v != v else repr(v)
    return f"; write {write.format(word)} if you mean {'it' if word == meaning else meaning}"


def expression_value(text: str, what: str, write: str | None) -> float:
    """The value of a constant expression that is not a plain number (see constant_value)."""
    what = f"{what}, {numtext.shown(text)},"
    try:
        graph = parse(text)
    except NumberError as e:  # a number in it that is not the number written
        raise BindingError(f"{what} has a number, {numtext.shown(e.literal)}, "
                           f"{numtext.beyond(e.value)}" + _hint(e.value, write)) from None
    except CgraphError as e:
        raise BindingError(f"{what} " + (_misspelled(text.strip(), write) or
                                         f"is not a valid expression: {e.message}")) from None
    code = [line.split("#", 1)[0] for line in text.splitlines()]
    statements = [part for line in code for part in line.split(";") if part.strip()]
    if len(statements) != 1 or _ASSIGNMENT.search(statements[0]):
        raise BindingError(f"{what} must be one expression, not a program of statements or "
                           "assignments")
    if graph.variables:
        names = list(graph.variables)
        words = [n for n in names if n.lower() in ("inf", "infinity", "nan")]  # 2*inf
        alone = "" if not words else f" ({words[0]} is {_named(float(words[0]))} only on " \
            f"its own" + (f": {write.format(words[0])})" if write else ")")
        raise BindingError(f"{what} uses the name{'s' * (len(names) > 1)} {', '.join(names)}"
                           f": write a number or a constant expression such as pi/4{alone}")
    value = graph.forward({})[graph.output]
    if value - value != 0.0:  # Infinity or NaN from finite numbers: 1e308*10, 1/0, 0/0
        raise BindingError(f"{what} comes out as {_named(value)}" + _hint(value, write))
    return value


# number spellings of other languages: why cgraph does not read them, and what to write
# (patterns compiled only when a message needs them)
_SPELLINGS = [
    (r"[+-]?0[xX][0-9a-fA-F]+", lambda t: (
        "is hexadecimal, and cgraph reads decimal numbers", _decimal(t, 16))),
    (r"[+-]?0[oO][0-7]+", lambda t: (
        "is octal, and cgraph reads decimal numbers", _decimal(t, 8))),
    (r"[+-]?0[bB][01]+", lambda t: (
        "is binary, and cgraph reads decimal numbers", _decimal(t, 2))),
    (r"[+-]?(\d+_)+\d+(\.\d*)?([eE][+-]?\d+)?", lambda t: (
        "has '_' between digits", t.replace("_", ""))),
    (r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[jJ]", lambda t: (
        "is a complex number, and cgraph's numbers are real", None)),
    (r"[+-]?\d+,\d+", lambda t: (
        "is not one number: the decimal point is '.', and a list is in brackets",
        f"{t.replace(',', '.')} or [{t}]")),
    (r"[+-]?\d+(,\d+)+", lambda t: (
        "is not one number: a list is in brackets", f"[{t}]")),
    (r"[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?", lambda t: (
        "has an exponent without digits", None)),
]


def _decimal(text: str, base: int) -> str | None:
    """`0x10` -> "16", or None for a number too long to show (Python refuses to write an
    integer of more than 4,300 digits)."""
    return str(int(text, base)) if len(text) <= 50 else None


def _misspelled(text: str, write: str | None) -> str | None:
    """What is wrong with a number spelled as another language spells it, or None."""
    for pattern, why in _SPELLINGS:
        if re.fullmatch(pattern, text):
            reason, instead = why(text)
            if instead is None:
                return reason
            if write is None:
                return f"{reason} ({instead})"
            return f"{reason}: write " + " or ".join(write.format(v) for v in
                                                     instead.split(" or "))
    return None


def malformed(args, i: int, tangent: bool, in_file: bool = False) -> str:
    """What is wrong with `args[i]`, which is not NAME=VALUE (`in_file`: a line of a
    bindings file, which no shell cut at its spaces, and where no program goes)."""
    arg = args[i]
    name, sep, value = arg.partition("=")
    name = name.strip()
    what = f"--tangent {arg!r}" if tangent else f"malformed binding {arg!r}"
    write = "write NAME=VALUE, e.g. " + ("--tangent x=1" if tangent else "x=1.5")
    after = args[i + 1] if i + 1 < len(args) and not tangent and not in_file else None
    if after is not None and (after.startswith("=") if not sep else
                              not value.strip() and "=" not in after):
        # `x = 1`, `x =1`, `x= 1`: one binding cut in pieces by the shell at the spaces
        pieces = [arg, after] + args[i + 2:i + 3] * (after == "=")
        typed = " ".join(pieces)
        return (f"malformed binding {typed!r}: a binding is one argument, without spaces "
                f"around '=' ({''.join(p.strip() for p in pieces)})")
    if not sep:  # `x*2` after --file, or a second program: not a name either
        program = "" if tangent or in_file or re.fullmatch(terminal("NAME"), name) else \
            " (the program is one argument, the first, or --file's)"
        return f"{what}: {write}{program}"
    if not name:
        return f"{what} has no name before '=': {write}"
    if "[" in name:
        return (f"{what}: {name!r} is not an element of a family (a name, then integer "
                f"indices in brackets: w[1], W[2,3]): {write}")
    if not re.fullmatch(terminal("NAME"), name):
        return (f"{what}: {name!r} is not a name (a letter or '_', then letters, digits "
                f"or '_'): {write}")
    if value.startswith("="):
        return f"{what}: one '=' binds a value ({name}={value.lstrip('=')})"
    return f"{what} has no value after '=': {write}"



class _JsonNumber(str):
    """A number in JSON, as its text: read by `_json_number` once its place is known, so
    that 1e999 and 1e-400 are refused there (json.loads would give Infinity and 0) and a
    400-digit integer is not a traceback."""


def _json_number(v, what: str, write: str) -> float | None:
    """A JSON value as a number (Infinity and NaN as json.loads reads them), else None."""
    if isinstance(v, _JsonNumber):  # a number as JSON spells it: a decimal literal
        number = float(v)
        if numtext.misread(v, number):
            raise not_a_double(v, number, what, write, json=True)
        return number
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return None


def list_value(name: str, text: str, where: str = "", kind: str = "value"
               ) -> dict[str, float]:
    """`w=[0.1,0.2]` -> {"w[1]": 0.1, "w[2]": 0.2}."""
    import json

    try:
        values = json.loads(text, parse_float=_JsonNumber, parse_int=_JsonNumber)
    except ValueError:
        raise BindingError(f"{where}the {kind} of {name} is not a list of numbers: "
                           f"{text.strip()!r}") from None
    except RecursionError:  # (json's reader recurses once a level)
        raise BindingError(too_deep(f"{where}the {kind} of {name}")) from None
    return family_bindings(name, values, where, kind)


def too_deep(what: str) -> str:
    """The message for a list nested deeper than JSON's reader goes (about 1,000 levels;
    a family has one level an index)."""
    return f"{what} is nested too deeply to read (lists in lists: one level an index)"


def family_bindings(name: str, values, where: str = "", kind: str = "value"
                    ) -> dict[str, float]:
    """A (nested) list of numbers -> its elements, indexed from 1: w[1], W[2,3]."""
    out: dict[str, float] = {}
    stack = [((), values)]
    depth = None
    lengths: dict[int, int] = {}  # nesting level -> list length: every row alike
    while stack:  # a loop, not recursion, over the nested lists
        index, v = stack.pop()
        if isinstance(v, list):
            if not v:
                raise BindingError(f"{where}{name}: an empty list binds nothing")
            if lengths.setdefault(len(index), len(v)) != len(v):
                raise BindingError(f"{where}{name}: the lists are nested unevenly "
                                   "(rows of different lengths)")
            stack.extend((index + (k + 1,), x) for k, x in reversed(list(enumerate(v))))
            continue
        key = f"{name}[{','.join(map(str, index))}]" if index else name
        number = _json_number(v, f"{where}the {kind} of {key}",
                              "{} in the list" if index else "{}")
        if number is None:
            shown = repr(v) if not isinstance(v, (bool, type(None))) else \
                "null" if v is None else str(v).lower()  # as JSON spells them
            raise BindingError(f"{where}{name}: {shown} is not a number")
        if depth is None:
            depth = len(index)
        elif len(index) != depth:
            raise BindingError(f"{where}{name}: the lists are nested unevenly")
        out[key] = number
    return out


def json_bindings(text: str, where: str):
    """--bindings FILE's JSON object (or `descend --format json` output, for its weights):
    one (family, {name: value}) per entry, a family's elements together; `family` is the
    name a list bound, else None (a number, or one element: "w[1]": 2)."""
    import json

    def once_each(pairs):  # (json.loads keeps the last of two equal keys, silently)
        twice = repeated(key for key, _ in pairs)
        if twice is not None:
            raise BindingError(f'{where}"{twice}" is given twice: give it one value')
        return dict(pairs)

    try:
        data = json.loads(text, parse_float=_JsonNumber, parse_int=_JsonNumber,
                          object_pairs_hook=once_each)
    except ValueError as e:
        raise BindingError(f"{where}not valid JSON ({e})") from None
    except RecursionError:  # (json's reader recurses once a level)
        raise BindingError(too_deep(f"{where}a value")) from None
    if isinstance(data.get("weights"), dict) and "cost" in data:
        data = data["weights"]  # descend's output: its weights
    for name, value in data.items():
        number = _json_number(value, f"{where}the value of {name}", "{}") \
            if "[" in name else None
        if number is not None:  # w[1] as descend names it
            yield None, {name: number}
        elif not re.fullmatch(terminal("NAME"), name):
            raise BindingError(f"{where}{name!r} is not a name")
        else:
            yield name if isinstance(value, list) else None, family_bindings(name, value,
                                                                             where)
