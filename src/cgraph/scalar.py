"""IEEE-754 scalar maths: Python's `math` raises where IEEE returns inf or NaN; these don't.

`1/0` is inf, `log(0)` is -inf, `log(-1)` and `sqrt(-1)` are NaN, `exp(1000)` is inf,
`0^0` is 1, a negative base to a fractional power is NaN. Nothing here raises.
"""

from __future__ import annotations

import math

inf = math.inf
nan = math.nan


def _odd_integer(b: float) -> bool:
    return math.isfinite(b) and b == math.floor(b) and math.fmod(b, 2.0) != 0.0


def div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return nan
        return math.copysign(inf, a) * math.copysign(1.0, b)


def pow(a: float, b: float) -> float:  # noqa: A001 - the op's name
    try:
        return math.pow(a, b)
    except OverflowError:
        return -inf if a < 0.0 and _odd_integer(b) else inf
    except ValueError:
        if a == 0.0:  # zero to a negative power
            return math.copysign(inf, a) if _odd_integer(b) else inf
        return nan  # negative base, fractional exponent


# Each function below is plain Python over `math`, `inf` and `nan`, with no closures: the
# Python target of `cgraph codegen` copies their source, so generated code computes exactly
# what `eval` computes.


def sin(a: float) -> float:
    return math.sin(a) if a - a == 0.0 else nan  # sin(±inf) is NaN


def cos(a: float) -> float:
    return math.cos(a) if a - a == 0.0 else nan


def tan(a: float) -> float:
    return math.tan(a) if a - a == 0.0 else nan


def asin(a: float) -> float:
    return math.asin(a) if -1.0 <= a <= 1.0 else nan


def acos(a: float) -> float:
    return math.acos(a) if -1.0 <= a <= 1.0 else nan


def sinh(a: float) -> float:
    try:
        return math.sinh(a)
    except OverflowError:
        return math.copysign(inf, a)


def cosh(a: float) -> float:
    try:
        return math.cosh(a)
    except OverflowError:
        return inf


def sqrt(a: float) -> float:
    return math.sqrt(a) if a >= 0.0 else nan  # sqrt(-0.0) is -0.0, sqrt(NaN) is NaN


atan = math.atan
tanh = math.tanh
atan2 = math.atan2
fabs = abs


def exp(a: float) -> float:
    try:
        return math.exp(a)
    except OverflowError:
        return inf


def log(a: float) -> float:
    return math.log(a) if a > 0.0 else (-inf if a == 0.0 else nan)  # log(inf) is inf


def log2(a: float) -> float:
    return math.log2(a) if a > 0.0 else (-inf if a == 0.0 else nan)


def log10(a: float) -> float:
    return math.log10(a) if a > 0.0 else (-inf if a == 0.0 else nan)


def logb(a: float, b: float) -> float:
    return div(log(a), log(b))


def sigmoid(a: float) -> float:
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = exp(a)  # a < 0 or NaN
    return e / (1.0 + e)


def softplus(a: float) -> float:
    if a != a:
        return nan
    return math.log1p(exp(-abs(a))) + (a if a > 0.0 else 0.0)


def relu(a: float) -> float:
    return 0.0 if a <= 0.0 else a  # NaN stays NaN


def sign(a: float) -> float:
    if a != a:
        return nan
    return 1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0)


def step(a: float) -> float:
    """Heaviside step with step(0) = 0: the derivative of relu, as PyTorch takes it."""
    if a != a:
        return nan
    return 1.0 if a > 0.0 else 0.0


def maximum(a: float, b: float) -> float:
    if a != a or b != b:
        return nan
    return a if a >= b else b


def minimum(a: float, b: float) -> float:
    if a != a or b != b:
        return nan
    return a if a <= b else b


def clamp(x: float, lo: float, hi: float) -> float:
    return minimum(maximum(x, lo), hi)


def is_finite(v: float) -> bool:
    return v - v == 0.0


def where(c: float, a: float, b: float) -> float:
    """a where c != 0 (as IEEE says: a NaN condition is not 0), else b."""
    return a if c != 0.0 else b


def lt(a: float, b: float) -> float:
    return 1.0 if a < b else 0.0


def le(a: float, b: float) -> float:
    return 1.0 if a <= b else 0.0


def gt(a: float, b: float) -> float:
    return 1.0 if a > b else 0.0


def ge(a: float, b: float) -> float:
    return 1.0 if a >= b else 0.0


def eq(a: float, b: float) -> float:
    return 1.0 if a == b else 0.0


def ne(a: float, b: float) -> float:
    return 1.0 if a != b else 0.0
