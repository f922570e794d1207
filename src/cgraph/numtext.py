"""How a number is spelled, in each medium cgraph writes, and how many digits each shows.

Every other module asks this one; nothing else spells NaN, an infinity or a default
number of digits.

=================  =========================  ==========================================
medium             function                   non-finite values / default digits
=================  =========================  ==========================================
table, text, TSV   `text(v, digits)`          `NaN`, `Infinity`, `-Infinity`; full
                                              precision unless `digits` is given
JSON               `json_value`, `json_text`, the strings `"NaN"`, `"Infinity"`, …
                   `json_texts`               (JSON has no such numbers); full precision
--data's CSV       `data.csv_column` (Arrow)  as in text; fewest digits that round-trip
LaTeX              `latex(v, digits)`         `\\mathrm{NaN}`, `\\infty`
diagram label      `text(v, DIAGRAM)`         as in text; 6 digits
program term       `term(v)`, `latex_term`    `(0 / 0)`, `(1 / 0)`, `(-1 / 0)`: a
                                              program that evaluates to the same number
=================  =========================  ==========================================

One spelling of a finite number, in every medium (`shortest`): the fewest significant digits
that read back as the same double, as Python's repr chooses them, with the exponent as
written by hand and by --data's CSV: `1e-7`, `1e+22`, `2.5e-8` (not repr's `1e-07`); `2`,
not `2.0`; `-0` keeps its sign. With `digits`, the same exponent form (`1.23457e-7`). JSON
numbers are spelled the same (valid JSON). Where the form changes from positional to
exponent follows repr (below 1e-4, from 1e16); --data's CSV (Arrow) switches below 1e-6
and from 1e10, the one difference (`0.00001` there, `1e-5` here: the same double).

Default digits, by where the number is shown (`--digits` overrides the first three):
"""

from __future__ import annotations

import math

from .ops import P_ATOM, P_UNARY

TABLE = 6  # eval's table, explain's steps
DIAGRAM = 6  # values and gradients on a diagram
LATEX = 6  # explain's Markdown (LaTeX) steps
DESCENT = 8  # descend's table of weights and costs
CHECK = 10  # check's table: analytic and numeric gradients
ERROR = 3  # an error or a norm in a line of text (check's TSV, descend's summary)
ERROR_CELL = 2  # an error in check's table
STOP = 4  # the gradient norm or cost change in descend's stop reason
SETTING = 6  # an option's value repeated in a message (descend's --until)
SHARE = 3  # a percentage (a share of the variance) or a size (megabytes) in a message

NAN, INF, NEG_INF = "NaN", "Infinity", "-Infinity"
_REPR = {"nan": NAN, "inf": INF, "-inf": NEG_INF}  # Python's repr -> ours
_JSON_REPR = {k: f'"{v}"' for k, v in _REPR.items()}


# How generated code spells NaN and infinity in each language `cgraph codegen` writes.
_CODE_NAN = {"python": "math.nan", "numpy": "np.nan", "c": "NAN", "js": "NaN"}
_CODE_INF = {"python": "math.inf", "numpy": "np.inf", "c": "INFINITY",
             "js": "Infinity"}


def unpadded(out: str) -> str:
    """Python's `1e-07` as `1e-7` (repr and %g pad the exponent to two digits; only one
    zero can be padding); any other text unchanged."""
    i = out.find("e")
    return out if i < 0 or out[i + 2:i + 3] != "0" else out[:i + 2] + out[i + 3:]


def shortest(v: float) -> str:
    """A finite number's one spelling: the shortest text that reads back as the same
    double (repr's digits), `1e-7`, `2` (not `2.0`), `-0`."""
    out = float.__repr__(v)
    if out.endswith(".0"):
        return out[:-2]
    return unpadded(out) if "e" in out else out


def python(value) -> str:
    """A Python value's repr with each float in the one spelling, `text`'s (`1e-7`, `2`,
    `NaN`): in lists, tuples, dicts and dataclasses (an `Uncertainty`), at any depth; the
    library's `Evaluation` prints so, as the tables do."""
    if isinstance(value, float):
        return text(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python(k)}: {python(v)}" for k, v in value.items()) + "}"
    if type(value) in (list, tuple):
        inner = ", ".join(python(v) for v in value)
        return f"[{inner}]" if type(value) is list else \
            f"({inner}{',' if len(value) == 1 else ''})"
    if hasattr(type(value), "__dataclass_fields__"):
        import dataclasses

        return f"{type(value).__name__}(" + ", ".join(
            f"{f.name}={python(getattr(value, f.name))}"
            for f in dataclasses.fields(value) if f.repr) + ")"
    return repr(value)


def code(v: float, lang: str) -> str:
    """A number as a literal of generated code (negative ones parenthesized)."""
    if v != v:
        return _CODE_NAN[lang]
    if v in (math.inf, -math.inf):
        return _CODE_INF[lang] if v > 0 else f"(-{_CODE_INF[lang]})"
    text = json_number(float(v))  # `2.0` stays a double in C, with the one exponent form
    return f"({text})" if text.startswith("-") else text


def nonfinite(v: float) -> str:
    """`NaN`, `Infinity` or `-Infinity` for a non-finite number."""
    return NAN if v != v else (INF if v > 0 else NEG_INF)


def text(v: float, digits: int | None = None) -> str:
    """Full precision (shortest round-trip) or `digits` significant digits; `2`, not `2.0`;
    `0`, not `-0`, when rounded."""
    if v - v != 0.0:
        return nonfinite(v)
    if digits is None:
        return shortest(float(v))
    out = f"{v:.{digits}g}"
    if out == "-0":
        out = "0"
    return unpadded(out) if "e" in out else out


def json_value(v: float):
    """A number as a JSON value: the float itself, or its non-finite name as a string."""
    return v if v - v == 0.0 else nonfinite(v)


def json_text(v: float) -> str:
    """A number as JSON text (`0.5`, `"NaN"`)."""
    return json_number(v) if v - v == 0.0 else f'"{nonfinite(v)}"'


def json_number(v: float) -> str:
    """A finite float as a JSON number, and as a literal of generated code (`code`):
    repr's text (`2.0` stays a float to JSON readers and to C) with the one exponent form,
    `1e-7`."""
    out = float.__repr__(v)
    return unpadded(out) if "e" in out else out


_PADDED = None


def nest(items) -> dict:
    """(path, value) pairs as nested JSON objects, one level per name in the path:
    (("x", "y"), v) -> {"x": {"y": v}}. A script reads `doc["W[1,2]"]["x"]` and never
    splits a key (an element's name holds a comma). check's and diff's JSON keys."""
    out: dict = {}
    for path, value in items:
        level = out
        for name in path[:-1]:
            level = level.setdefault(name, {})
        level[path[-1]] = value
    return out


def json_document(doc, separators=None) -> str:
    """`doc` as JSON, as every command writes it (`json.dumps`: other characters as
    themselves, no NaN), its numbers with the one exponent form (`1e-7`); strings (a
    program's text, names) untouched."""
    import json

    global _PADDED
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=separators)
    if "e-0" not in text and "e+0" not in text:
        return text
    if _PADDED is None:
        import re

        _PADDED = re.compile(r'"(?:[^"\\]|\\.)*"|(?<=[0-9])(e[-+])0(?=[0-9])')
    return _PADDED.sub(lambda m: m.group(1) or m.group(0), text)


def json_texts(values: list) -> list[str]:
    """JSON text for each float of a list (full precision): repr of the whole list,
    formatted in C (~5x faster than one at a time), exponents unpadded only when there
    are any."""
    if not len(values):
        return []
    whole = repr(values)
    texts = whole[1:-1].split(", ")
    if "e-0" in whole or "e+0" in whole:
        texts = [unpadded(t) for t in texts]
    if "nan" in texts or "inf" in texts or "-inf" in texts:
        spell = _JSON_REPR.get
        texts = [spell(t, t) for t in texts]
    return texts


def latex(v: float, digits: int | None = LATEX) -> str:
    """A computed value in LaTeX (explain's Markdown)."""
    if v != v:
        return r"\mathrm{NaN}"
    if v - v != 0.0:
        return r"\infty" if v > 0 else r"-\infty"
    return _latex_power(text(v, digits))


def _latex_power(out: str) -> str:
    """`2.5e-8` as `2.5 \\cdot 10^{-8}` (LaTeX has no e notation)."""
    if "e" not in out:
        return out
    mant, exp = out.split("e")
    return rf"{mant} \cdot 10^{{{int(exp)}}}"


def term(v: float) -> tuple[str, int]:
    """A number as a term of a cgraph program, with its precedence; exact."""
    if v - v != 0.0:
        return ("(0 / 0)" if v != v else "(1 / 0)" if v > 0 else "(-1 / 0)"), P_ATOM
    out = text(v)
    return out, (P_UNARY if out.startswith("-") else P_ATOM)


def atom(v: float) -> str:
    """A number as an atom of a program (parenthesized when negative or non-finite)."""
    if v >= 0.0 and v - v == 0.0:  # the common case, kept fast (shortest, inlined)
        out = repr(v)
        if out.endswith(".0"):
            return out[:-2]
        return unpadded(out) if "e" in out else out
    out, prec = term(v)
    return out if prec == P_ATOM else f"({out})"


def latex_term(v: float) -> tuple[str, int]:
    """A number as a term of a formula in LaTeX (`2.5 \\cdot 10^{-8}`), with its precedence."""
    out, prec = term(v)
    if "e" in out and "(" not in out:
        out, prec = _latex_power(out), min(prec, 2)
    return out, prec


def latex_atom(label: str) -> str:
    """A literal's label (`atom`'s text: `2`, `(-3)`, `1e-7`, `(1 / 0)`) as an atom in
    LaTeX: a power of ten in parentheses, `\\left(1 \\cdot 10^{-7}\\right)`."""
    inner = label[1:-1] if label.startswith("(") else label
    if "e" not in inner or "/" in inner:
        return label
    return rf"\left({_latex_power(inner)}\right)"


def misread(literal: str, v: float) -> bool:
    """Whether `v = float(literal)`, a decimal number's text, is not that number rounded:
    Infinity for one beyond the doubles (1e999), 0 for one not 0 but below them (1e-400).
    (Subnormal numbers, 5e-324, are doubles: read as written; a word, inf or NaN, is the
    value it names.)"""
    if v - v != 0.0:
        return not literal.strip().lstrip("+-")[:1].isalpha()
    mantissa = literal.lower().partition("e")[0]
    return not v and any(c.isdecimal() and int(c) for c in mantissa)


def beyond(v: float) -> str:
    """Why a literal that float() read as `v` (Infinity or 0) is not the number written."""
    if v:
        return "beyond the largest double (about 1.8e308)"
    return "below the smallest double (about 4.9e-324) and would read as 0"


def shown(text: str) -> str:
    """A value as messages quote it: cut in the middle when long (a 400-digit number)."""
    text = text.strip()
    return repr(text if len(text) <= 60 else f"{text[:40]}…{text[-12:]}")


def misread_literal(text: str, v: float) -> str:
    """What is wrong with a number in a program that float() reads as Infinity or 0: the
    words bindings use (binding_values.not_a_double), with a program's Infinity, 1/0."""
    return f"the number {shown(text)} is {beyond(v)}" + \
        ("; write 1/0 if you mean Infinity" if v else "; write 0 if you mean it")
