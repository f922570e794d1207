"""Bindings: `NAME=VALUE` arguments (VALUE is any constant expression, `x=pi/4`, a
non-finite value as cgraph prints it, `Infinity`, `-inf`, `NaN`, or a list for an indexed
family, `w=[0.1,0.2]`, `W=[[1,2],[3,4]]`) and `--bindings FILE` (a JSON object,
`descend`'s JSON output, or NAME=VALUE lines).

`eval` also takes `NAME=VALUE±SIGMA` (or `VALUE+-SIGMA`): a value with a standard
uncertainty, both constant expressions, SIGMA finite and not negative.
"""

from __future__ import annotations

import re

from .errors import BindingError, CgraphError
from .ops import CONSTANTS
from .parser import parse

_NAME = re.compile(r"[^\W\d]\w*")
_ASSIGNMENT = re.compile(r"(?<![=<>!])=(?!=)")
# the non-finite values as cgraph prints them (Infinity, NaN) and as CSV files hold them
_NON_FINITE = re.compile(r"\s*[+-]?(inf|infinity|nan)\s*", re.I)
# a number as the grammar's NUMBER spells it, signed: float() gives what parsing it would
# (87 bindings of a big program cost 1.7 ms through the parser, 0.05 ms this way)
_LITERAL = re.compile(r" *[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)? *")


def constant_value(text: str, what: str = "value") -> float:
    """The value of a constant expression; BindingError if it is not one."""
    if _NON_FINITE.fullmatch(text) or _LITERAL.fullmatch(text):
        return float(text)
    try:
        graph = parse(text)
    except CgraphError as e:
        raise BindingError(f"{what}, {text!r}, is not a valid expression: {e.message}"
                           ) from None
    code = [line.split("#", 1)[0] for line in text.splitlines()]
    statements = [part for line in code for part in line.split(";") if part.strip()]
    if len(statements) != 1 or _ASSIGNMENT.search(statements[0]):
        raise BindingError(f"{what}, {text!r}, must be one expression, not a program of "
                           "statements or assignments")
    if graph.variables:
        names = ", ".join(graph.variables)
        raise BindingError(f"{what}, {text!r}, must be a constant expression such as 1.5 "
                           f"or pi/4, but it uses the name{'s' * (len(graph.variables) > 1)} "
                           f"{names}")
    return graph.forward({})[graph.output]


def parse_bindings(args, where: str = "") -> dict[str, float]:
    """`["x=1", "y=pi/2", "w=[1,2]"]` -> `{"x": 1.0, "y": 1.5707963267948966, "w[1]": 1.0,
    "w[2]": 2.0}`."""
    bindings, sigmas = parse_uncertain_bindings(args, where)
    if sigmas:
        name = next(iter(sigmas))
        raise BindingError(f"{where}{name}: only eval propagates an uncertainty (±); "
                           f"write {name}=VALUE here")
    return bindings


def parse_uncertain_bindings(args, where: str = "") -> tuple[dict[str, float],
                                                              dict[str, float]]:
    """`["x=2±0.1", "y=3"]` -> `({"x": 2.0, "y": 3.0}, {"x": 0.1})`."""
    bindings: dict[str, float] = {}
    sigmas: dict[str, float] = {}
    for arg in args:
        name, sep, value = arg.partition("=")
        name = name.strip()
        if not name.isascii():  # as the parser reads names: composed (NFC)
            import unicodedata

            name = unicodedata.normalize("NFC", name)
        if not sep or not _NAME.fullmatch(name) or not value.strip():
            raise BindingError(f"{where}malformed binding {arg!r}: write NAME=VALUE, "
                               "e.g. x=1.5")
        if value.strip().startswith("["):
            import json

            try:
                values = json.loads(value)
            except ValueError:
                raise BindingError(f"{where}the value of {name} is not a list of numbers: "
                                   f"{value.strip()!r}") from None
            _add(bindings, family_bindings(name, values, where), where)
            continue
        value, pm, sigma = _split_sigma(value)
        _add(bindings, {name: constant_value(value, f"{where}the value of {name}")}, where)
        if pm:
            s = constant_value(sigma, f"the uncertainty of {name}") if sigma.strip() else -1
            if not s >= 0.0 or s == float("inf"):
                raise BindingError(f"the uncertainty of {name} must be a finite number >= 0 "
                                   f"(a standard deviation), not {sigma.strip() or 'empty'}")
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
    for name, value in new.items():
        family = name.partition("[")[0]
        if family in CONSTANTS:
            raise BindingError(f"{where}cannot bind the constant '{family}'")
        if name in bindings:
            raise BindingError(f"{where}'{name}' is bound twice")
        bindings[name] = value


def family_bindings(name: str, values, where: str = "") -> dict[str, float]:
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
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            if depth is None:
                depth = len(index)
            elif len(index) != depth:
                raise BindingError(f"{where}{name}: the lists are nested unevenly")
            out[f"{name}[{','.join(map(str, index))}]" if index else name] = float(v)
        else:
            raise BindingError(f"{where}{name}: {v!r} is not a number")
    return out


def read_bindings_file(path: str) -> dict[str, float]:
    """Bindings from a file: a JSON object (name -> number, or a list for a family;
    `descend --format json` output is read for its weights), or NAME=VALUE lines."""
    import json

    from .files import read_text

    try:
        text = read_text(path)
    except ValueError:  # a path the system cannot take (an embedded NUL)
        raise BindingError(f"--bindings: cannot read {path!r}") from None
    where = f"--bindings {path}: "
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as e:
            raise BindingError(f"{where}not valid JSON ({e})") from None
        if isinstance(data.get("weights"), dict) and "cost" in data:
            data = data["weights"]  # descend's output: its weights
        bindings: dict[str, float] = {}
        for name, value in data.items():
            if "[" in name and isinstance(value, (int, float)):  # w[1] as descend names it
                _add(bindings, {name: float(value)}, where)
            elif not _NAME.fullmatch(name):
                raise BindingError(f"{where}{name!r} is not a name")
            else:
                _add(bindings, family_bindings(name, value, where), where)
        return bindings
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return parse_bindings([line for line in lines if line], where)
