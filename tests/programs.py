"""Shared Hypothesis strategies for programs, and a reference evaluator (the oracle)."""

from __future__ import annotations

import math

from hypothesis import strategies as st

VARIABLES = {"x": 0.5, "y": -1.25, "z": 2.0}
NUMBERS = ["0", "1", "2", "2.5", ".5", "3.", "1e-1", "2.5E+1", "0.75"]
UNARY = {"sin": math.sin, "cos": math.cos, "tanh": math.tanh, "exp": math.exp,
         "sqrt": math.sqrt, "log": math.log, "abs": abs, "atan": math.atan}
BINARY_FUNCTIONS = {"max": max, "min": min, "atan2": math.atan2}
# infix operator -> (precedence of the node, of its left operand, of its right operand)
INFIX = {"+": (1, 1, 2), "-": (1, 1, 2), "*": (2, 2, 3), "/": (2, 2, 3), "^": (4, 5, 3),
         "**": (4, 5, 3)}


def _pow(a, b):
    r = a ** b
    if isinstance(r, complex):
        raise ValueError("complex")
    return r


APPLY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
         "/": lambda a, b: a / b, "^": _pow, "**": _pow}


def random_expression(rng, names, leaves=8):
    """A random expression tree, as nested tuples: ("num", text), ("name", n), ("neg", e),
    ("pos", e), ("infix", op, a, b), ("call", f, *args), ("paren", e)."""
    if leaves <= 1 or (leaves < 4 and rng.random() < 0.1):
        if rng.random() < 0.4:
            return ("num", rng.choice(NUMBERS))
        return ("name", rng.choice(names))
    kind = rng.choices(["unary", "infix", "call1", "call2", "paren"], [2, 8, 2, 1, 1])[0]
    if kind == "unary":
        return (rng.choice(["neg", "pos"]), random_expression(rng, names, leaves - 1))
    if kind == "paren":
        return ("paren", random_expression(rng, names, leaves - 1))
    if kind == "call1":
        return ("call", rng.choice(sorted(UNARY)), random_expression(rng, names, leaves - 1))
    split = rng.randint(1, leaves - 1)
    a, b = random_expression(rng, names, split), random_expression(rng, names, leaves - split)
    if kind == "call2":
        return ("call", rng.choice(sorted(BINARY_FUNCTIONS)), a, b)
    return ("infix", rng.choice(sorted(INFIX)), a, b)


seeds = st.integers(0, 2 ** 64 - 1)


def precedence(e) -> int:
    kind = e[0]
    if kind == "infix":
        return INFIX[e[1]][0]
    if kind in ("neg", "pos"):
        return 3
    return 5


def render(e, space=" ") -> str:
    """Program text with the fewest parentheses the grammar needs (a loop, not recursion,
    is not needed here: the trees are small)."""
    kind = e[0]
    if kind in ("num", "name"):
        return e[1]
    if kind == "paren":
        return f"({render(e[1], space)})"
    if kind in ("neg", "pos"):
        inner = render(e[1], space)
        if precedence(e[1]) < 3:
            inner = f"({inner})"
        return ("-" if kind == "neg" else "+") + inner
    if kind == "call":
        return f"{e[1]}(" + f",{space}".join(render(a, space) for a in e[2:]) + ")"
    _, op, a, b = e
    _, left, right = INFIX[op]
    ta, tb = render(a, space), render(b, space)
    if precedence(a) < left:
        ta = f"({ta})"
    if precedence(b) < right:
        tb = f"({tb})"
    return f"{ta}{space}{op}{space}{tb}"


def reference(e, env):
    """The value by plain Python arithmetic; None where Python raises or a value is not
    finite (0/0, sqrt(-1), exp(1000)...): IEEE arithmetic answers those differently."""
    try:
        return _reference(e, env)
    except (ArithmeticError, ValueError):
        return None


def _reference(e, env):
    r = _reference_step(e, env)
    if not math.isfinite(r):  # overflow to infinity does not raise in Python
        raise ValueError("not finite")
    return r


def _reference_step(e, env):
    kind = e[0]
    if kind == "num":
        return float(e[1])
    if kind == "name":
        return env[e[1]]
    if kind == "paren" or kind == "pos":
        return _reference(e[1], env)
    if kind == "neg":
        return -_reference(e[1], env)
    if kind == "call":
        fn = UNARY.get(e[1]) or BINARY_FUNCTIONS[e[1]]
        return float(fn(*(_reference(a, env) for a in e[2:])))
    return float(APPLY[e[1]](_reference(e[2], env), _reference(e[3], env)))


def random_program(seed: int):
    """(text, expected value or None): up to three assignments, then the output expression,
    separated by ';' or new lines, with comments and blank lines here and there; the value
    is the reference evaluator's at VARIABLES."""
    import random

    rng = random.Random(seed)
    env, names, lines = dict(VARIABLES), list(VARIABLES), []
    for k in range(rng.randint(0, 3)):
        e = random_expression(rng, names, rng.randint(1, 10))
        value = reference(e, env)
        if value is None:
            continue
        env[f"t{k}"] = value
        names.append(f"t{k}")
        lines.append(f"t{k} = {render(e, rng.choice(['', ' ']))}")
    e = random_expression(rng, names, rng.randint(2, 12))
    lines.append(render(e, rng.choice(["", " "])))
    text = ""
    for k, line in enumerate(lines):
        if k:
            text += rng.choice([";", "\n", "\n\n", "  # note\n", " ; "])
        text += line
    return text + rng.choice(["", "\n", "  # the output", ";"]), reference(e, env)


def wrap(text: str, rng) -> str:
    """The program with new lines (and comments, blank lines, indents) put in at random token
    boundaries inside brackets: after '(', '[' and ',', before ')' and ']', at spaces. It
    means the same program."""
    out, depth = [], 0
    for k, c in enumerate(text):
        if c in ")]" and depth and rng.random() < 0.3:
            out.append(rng.choice(["\n", "\n  ", "\n\n"]))
        out.append(c)
        depth += (c in "([") - (c in ")]")
        if depth > 0 and c in "([, " and rng.random() < 0.3:
            out.append(rng.choice(["\n", "\n    ", "  # wrapped\n  ", "\n\n", "\r\n"]))
    return "".join(out)
