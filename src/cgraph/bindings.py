"""`NAME=VALUE` arguments: VALUE is any constant expression (`x=pi/4`, `y=-1e-3`), or a
non-finite value as cgraph prints it (`Infinity`, `-inf`, `NaN`).

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


def constant_value(text: str, what: str = "value") -> float:
    """The value of a constant expression; BindingError if it is not one."""
    if _NON_FINITE.fullmatch(text):
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


def parse_bindings(args) -> dict[str, float]:
    """`["x=1", "y=pi/2"]` -> `{"x": 1.0, "y": 1.5707963267948966}`."""
    bindings, sigmas = parse_uncertain_bindings(args)
    if sigmas:
        name = next(iter(sigmas))
        raise BindingError(f"{name}: only eval propagates an uncertainty (±); "
                           f"write {name}=VALUE here")
    return bindings


def parse_uncertain_bindings(args) -> tuple[dict[str, float], dict[str, float]]:
    """`["x=2±0.1", "y=3"]` -> `({"x": 2.0, "y": 3.0}, {"x": 0.1})`."""
    bindings: dict[str, float] = {}
    sigmas: dict[str, float] = {}
    for arg in args:
        name, sep, value = arg.partition("=")
        name = name.strip()
        if not sep or not _NAME.fullmatch(name) or not value.strip():
            raise BindingError(f"malformed binding {arg!r}: write NAME=VALUE, e.g. x=1.5")
        if name in CONSTANTS:
            raise BindingError(f"cannot bind the constant '{name}'")
        if name in bindings:
            raise BindingError(f"'{name}' is bound twice")
        value, pm, sigma = _split_sigma(value)
        bindings[name] = constant_value(value, f"the value of {name}")
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
