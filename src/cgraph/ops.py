"""The registry of operations: one entry per op, the single source of truth for it.

Each entry holds how the op is written (symbol or function name, precedence, LaTeX), its
arity, its forward rule for floats (`scalar`, IEEE-safe) and for numpy arrays (`array`), and
its local partial derivatives, one rule per input, `(m, *inputs, out) -> ∂out/∂input`,
written against a namespace `m` of the registry's own ops. The same rules therefore serve

* the reverse pass on floats        (m = SCALAR: floats in, floats out),
* the batch reverse pass on arrays  (m = array namespace over numpy),
* symbolic differentiation          (m = a graph builder: the partials become new nodes),
* the narrated chain rule of `explain` (m = the builder, printed),
* generated code (m = a code emitter: `cgraph codegen`).

`code` spells the op's forward rule in C and JavaScript where the default spelling
(`name(args)` from <math.h>, `Math.name(args)`) is not the same IEEE function as `scalar`:
a template over atoms `{0}`, `{1}`, … per language, or under "ops" the op written with
other registry ops (`m.min(m.max(x, lo), hi)`). Python code reuses `scalar`, numpy `array`.

Partials only use `+`, `-`, `*`, unary `-` on their arguments (safe on floats, arrays and
symbolic nodes alike); division and powers go through `m.div` and `m.pow`, which stay IEEE
on floats. Adding a function, of any arity, is one `_fn(...)` call here and one line in the
tests (`CASES` in tests/conftest.py). A rule per input (as HIPS/autograd's defvjp) lets a
pass skip the partials of inputs that need none; `_op` refuses an op without one per input.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Callable

from . import scalar as S

# Printing precedence, loosest first; the grammar has the same levels.
P_COMPARE, P_SUM, P_PRODUCT, P_UNARY, P_POWER, P_ATOM = 0, 1, 2, 3, 4, 5


class Op:
    """One registry entry, read-only; ops compare by identity.

    A plain class, not a dataclass: this module is imported at every start-up, where the
    `dataclass` decorator and the import of `dataclasses` cost about 1 ms."""

    name: str  # registry key; the "op" field of JSON output
    arity: int
    scalar: Callable | None  # float forward rule (IEEE-safe)
    array: Callable | None  # (np, *arrays) -> array
    partials: tuple[Callable, ...]  # per input: (m, *inputs, out) -> ∂out/∂input
    spelling: str  # infix symbol ("+") or function name ("sin")
    infix: bool
    prec: int
    latex: str
    kinks: Callable | None  # (*inputs) -> signed distances from each kink, or None
    code: dict  # language -> template, where not the default
    ufunc: str | None  # the numpy ufunc that is the array rule, if one is
    # (*inputs) -> per input, whether it gets a gradient at all (floats or arrays of bools);
    # None: every input does. The passes skip the others entirely (no 0·NaN).
    gate: Callable | None

    def __init__(self, name: str, arity: int, scalar: Callable | None,
                 array: Callable | None, partials: tuple, spelling: str,
                 infix: bool = False, prec: int = P_ATOM, latex: str = "",
                 kinks: Callable | None = None, code: dict | None = None,
                 ufunc: str | None = None, gate: Callable | None = None):
        self.__dict__.update(name=name, arity=arity, scalar=scalar, array=array,
                             partials=partials, spelling=spelling, infix=infix, prec=prec,
                             latex=latex, kinks=kinks, code={} if code is None else code,
                             ufunc=ufunc, gate=gate)

    def __setattr__(self, name, value):
        raise AttributeError(f"an op is read-only (Op({self.name}).{name})")

    __delattr__ = __setattr__

    def __repr__(self) -> str:
        return f"Op({self.name})"

    def __reduce__(self):
        """Pickled as its registry name: ops compare by identity, so a graph sent to another
        process (Dask's workers, multiprocessing) must find the same entries there, not
        copies whose `is` tests fail."""
        return registered, (self.name,)


OPS: dict[str, Op] = {}


def registered(name: str) -> Op:
    """The registry entry named `name` (how a pickled op comes back)."""
    return OPS[name]


def _latex_call(name: str, arity: int) -> str:
    args = ", ".join("{%d}" % i for i in range(arity))
    return r"\operatorname{{%s}}\left(%s\right)" % (name, args)


FUNCTIONS: dict[tuple[str, int], Op] = {}  # (name as written, arity) -> op


def _ufunc_rule(name: str) -> Callable:
    def rule(np, *arrays):
        return getattr(np, name)(*arrays)

    return rule


def _op(name, arity, scalar, array, partials, *, spelling=None, infix=False, prec=P_ATOM,
        latex=None, callable_as=None, kinks=None, code=None, gate=None) -> Op:
    if len(partials) != arity:
        raise TypeError(f"op {name!r} takes {arity} inputs but has {len(partials)} "
                        "partial rules: give one per input")
    ufunc = None
    if isinstance(array, str):  # the name of a numpy ufunc: the batch pass gives it out=
        ufunc = array
        array = _ufunc_rule(array)
    op = Op(name, arity, scalar, array, tuple(partials), spelling or name, infix, prec,
            latex if latex is not None else _latex_call(spelling or name, arity), kinks,
            code or {}, ufunc, gate)
    OPS[name] = op
    if not infix:
        FUNCTIONS[(op.spelling, arity)] = op
    if callable_as:
        FUNCTIONS[(callable_as, arity)] = op
    return op


# Leaves. They have no rules: their values come from bindings or literals.
VAR = _op("var", 0, None, None, (), spelling="var")
CONST = _op("const", 0, None, None, (), spelling="const")
del FUNCTIONS[("var", 0)], FUNCTIONS[("const", 0)]


def _power(np, a, b):
    """np.power with IEEE pow's edges: numpy computes a ** 0.5 (a scalar exponent) as
    sqrt(a), which gives -0 at -0 and NaN at -inf where pow, and the scalar pass, give +0
    and +inf. a ** 1 is a itself (pow is exact there): x^2's partial 2·x^1 copies nothing.
    The exponent may also be a constant of generated code (codegen's numpy target runs
    this same rule, its `.value` the number it stands for)."""
    exponent = b if isinstance(b, float) else getattr(b, "value", None)
    if exponent is None:  # an array exponent: numpy calls pow element by element
        return np.power(a, b)
    if exponent == 1.0:
        return a
    r = np.power(a, b)
    if exponent == 0.5:
        r = np.where(a == -S.inf, S.inf, np.add(r, 0.0))  # -0 + 0 is +0
    return r


# Infix operators. Partial rules: one function per input, (m, *inputs, out) -> ∂out/∂input.
ADD = _op("add", 2, lambda a, b: a + b, "add",
          (lambda m, a, b, out: 1.0, lambda m, a, b, out: 1.0),
          spelling="+", infix=True, prec=P_SUM, latex="{0} + {1}")
SUB = _op("sub", 2, lambda a, b: a - b, "subtract",
          (lambda m, a, b, out: 1.0, lambda m, a, b, out: -1.0),
          spelling="-", infix=True, prec=P_SUM, latex="{0} - {1}")
MUL = _op("mul", 2, lambda a, b: a * b, "multiply",
          (lambda m, a, b, out: b, lambda m, a, b, out: a),
          spelling="*", infix=True, prec=P_PRODUCT, latex=r"{0} \cdot {1}")
DIV = _op("div", 2, S.div, "divide",
          (lambda m, a, b, out: m.div(1.0, b), lambda m, a, b, out: -m.div(out, b)),
          spelling="/", infix=True, prec=P_PRODUCT, latex=r"\frac{{{0}}}{{{1}}}")
POW = _op("pow", 2, S.pow, _power,
          (lambda m, a, b, out: b * m.pow(a, b - 1.0), lambda m, a, b, out: out * m.log(a)),
          spelling="^", infix=True, prec=P_POWER, latex="{0}^{{{1}}}", callable_as="pow",
          code={"js": "({0} === 1 || ({0} === -1 && ({1} === Infinity || {1} === -Infinity))"
                      " ? 1 : Math.pow({0}, {1}))"})
NEG = _op("neg", 1, lambda a: -a, "negative", (lambda m, a, out: -1.0,),
          spelling="-", infix=True, prec=P_UNARY, latex="-{0}")


def _fn(name, scalar_rule, array_rule, *partials, latex=None, **kw):
    """A function op: registered under its name, written `name(args)`."""
    return _op(name, len(partials), scalar_rule, array_rule, partials, latex=latex, **kw)


# Functions of one argument.
SIN = _fn("sin", S.sin, "sin", lambda m, a, out: m.cos(a),
          latex=r"\sin\left({0}\right)")
COS = _fn("cos", S.cos, "cos", lambda m, a, out: -m.sin(a),
          latex=r"\cos\left({0}\right)")
TAN = _fn("tan", S.tan, "tan", lambda m, a, out: 1.0 + out * out,
          latex=r"\tan\left({0}\right)")
ASIN = _fn("asin", S.asin, "arcsin",
           lambda m, a, out: m.div(1.0, m.sqrt(1.0 - a * a)),
           latex=r"\arcsin\left({0}\right)")
ACOS = _fn("acos", S.acos, "arccos",
           lambda m, a, out: -m.div(1.0, m.sqrt(1.0 - a * a)),
           latex=r"\arccos\left({0}\right)")
ATAN = _fn("atan", S.atan, "arctan",
           lambda m, a, out: m.div(1.0, 1.0 + a * a), latex=r"\arctan\left({0}\right)")
SINH = _fn("sinh", S.sinh, "sinh", lambda m, a, out: m.cosh(a),
           latex=r"\sinh\left({0}\right)")
COSH = _fn("cosh", S.cosh, "cosh", lambda m, a, out: m.sinh(a),
           latex=r"\cosh\left({0}\right)")
TANH = _fn("tanh", S.tanh, "tanh", lambda m, a, out: 1.0 - out * out,
           latex=r"\tanh\left({0}\right)")
EXP = _fn("exp", S.exp, "exp", lambda m, a, out: out,
          latex=r"\exp\left({0}\right)")
LOG = _fn("log", S.log, "log", lambda m, a, out: m.div(1.0, a),
          latex=r"\ln\left({0}\right)")
LOG2 = _fn("log2", S.log2, "log2",
           lambda m, a, out: m.div(1.0, a * m.log(2.0)), latex=r"\log_2\left({0}\right)")
LOG10 = _fn("log10", S.log10, "log10",
            lambda m, a, out: m.div(1.0, a * m.log(10.0)),
            latex=r"\log_{{10}}\left({0}\right)")
SQRT = _fn("sqrt", S.sqrt, "sqrt", lambda m, a, out: m.div(0.5, out),
           latex=r"\sqrt{{{0}}}")
ABS = _fn("abs", S.fabs, "abs", lambda m, a, out: m.sign(a),
          latex=r"\left|{0}\right|", kinks=lambda a: (a,), code={"c": "fabs({0})"})
SIGMOID = _fn("sigmoid", S.sigmoid, lambda np, a: np.exp(-np.logaddexp(0.0, -a)),
              lambda m, a, out: out * (1.0 - out), latex=r"\sigma\left({0}\right)",
              code={"c": "({0} >= 0.0 ? 1.0 / (1.0 + exp(-{0})) : exp({0}) / (1.0 + exp({0})))",
                    "js": "({0} >= 0 ? 1 / (1 + Math.exp(-{0})) : Math.exp({0}) / (1 + Math.exp({0})))"})
RELU = _fn("relu", S.relu, lambda np, a: np.where(a > 0.0, a, np.where(a != a, a, 0.0)),
           lambda m, a, out: m.step(a), kinks=lambda a: (a,),
           code={"c": "({0} <= 0.0 ? 0.0 : {0})", "js": "({0} <= 0 ? 0 : {0})"})
SOFTPLUS = _fn("softplus", S.softplus, lambda np, a: np.logaddexp(0.0, a),
               lambda m, a, out: m.sigmoid(a),
               code={"c": "({0} != {0} ? {0} : log1p(exp(-fabs({0}))) + ({0} > 0.0 ? {0} : 0.0))",
                     "js": "({0} !== {0} ? {0} : Math.log1p(Math.exp(-Math.abs({0})))"
                           " + ({0} > 0 ? {0} : 0))"})
# sign and step are the derivatives of abs, relu, max and min; as functions of their own
# they keep every printed derivative a cgraph program. Their own derivative is 0.
SIGN = _fn("sign", S.sign, "sign", lambda m, a, out: 0.0,
           kinks=lambda a: (a,),
           code={"c": "({0} > 0.0 ? 1.0 : ({0} < 0.0 ? -1.0 : ({0} == 0.0 ? 0.0 : {0})))",
                 "js": "({0} > 0 ? 1 : ({0} < 0 ? -1 : ({0} === 0 ? 0 : {0})))"})
STEP = _fn("step", S.step, lambda np, a: np.heaviside(a, 0.0), lambda m, a, out: 0.0,
           kinks=lambda a: (a,), code={"c": "({0} > 0.0 ? 1.0 : ({0} != {0} ? {0} : 0.0))",
                                      "js": "({0} > 0 ? 1 : ({0} !== {0} ? {0} : 0))"})

# Functions of two arguments.
LOGB = _op("logb", 2, S.logb, lambda np, a, b: np.log(a) / np.log(b),
           (lambda m, a, b, out: m.div(1.0, a * m.log(b)),
            lambda m, a, b, out: -m.div(out, b * m.log(b))),
           spelling="log", latex=r"\log_{{{1}}}\left({0}\right)",
           code={"c": "log({0}) / log({1})", "js": "Math.log({0}) / Math.log({1})"})
# at a tie each side of max and min gets half, as PyTorch does
MAX = _fn("max", S.maximum, "maximum",
          lambda m, a, b, out: m.div(1.0 + m.sign(a - b), 2.0),
          lambda m, a, b, out: m.div(1.0 - m.sign(a - b), 2.0),
          latex=r"\max\left({0}, {1}\right)", kinks=lambda a, b: (a - b,),
          code={"c": "({0} != {0} ? {0} : ({1} != {1} ? {1} : ({0} >= {1} ? {0} : {1})))",
                "js": "({0} !== {0} ? {0} : ({1} !== {1} ? {1} : ({0} >= {1} ? {0} : {1})))"})
MIN = _fn("min", S.minimum, "minimum",
          lambda m, a, b, out: m.div(1.0 - m.sign(a - b), 2.0),
          lambda m, a, b, out: m.div(1.0 + m.sign(a - b), 2.0),
          latex=r"\min\left({0}, {1}\right)", kinks=lambda a, b: (a - b,),
          code={"c": "({0} != {0} ? {0} : ({1} != {1} ? {1} : ({0} <= {1} ? {0} : {1})))",
                "js": "({0} !== {0} ? {0} : ({1} !== {1} ? {1} : ({0} <= {1} ? {0} : {1})))"})
ATAN2 = _fn("atan2", S.atan2, "arctan2",
            lambda m, a, b, out: m.div(b, a * a + b * b),
            lambda m, a, b, out: -m.div(a, a * a + b * b))


# Functions of three arguments.
# clamp(x, lo, hi) = min(max(x, lo), hi), as torch.clamp and numpy.clip (NaN in, NaN out;
# lo > hi gives hi). Partials as PyTorch's clamp_backward: x gets 1 for lo <= x <= hi (edges
# included), lo gets 1 where x < lo < hi, hi gets 1 where x > hi or hi < lo.
CLAMP = _fn("clamp", S.clamp, lambda np, x, lo, hi: np.minimum(np.maximum(x, lo), hi),
            lambda m, x, lo, hi, out: (1.0 - m.step(lo - x)) * (1.0 - m.step(x - hi)),
            lambda m, x, lo, hi, out: m.step(lo - x) * m.step(hi - lo),
            lambda m, x, lo, hi, out: 1.0 - (1.0 - m.step(x - hi)) * (1.0 - m.step(lo - hi)),
            kinks=lambda x, lo, hi: (x - lo, x - hi),
            code={"ops": lambda m, x, lo, hi: m.min(m.max(x, lo), hi)})

# Comparisons: 1 or 0 (NaN compares false, except !=), derivative 0 everywhere: no
# gradient reaches their inputs at all (`gate`). They jump where a = b, as step does: a
# kink for `check`, whose finite differences cannot be trusted across it.
def _compare(name, spelling, ufunc, latex):
    return _op(name, 2, getattr(S, name),
               lambda np, a, b: np.where(getattr(np, ufunc)(a, b), 1.0, 0.0),
               (lambda m, a, b, out: 0.0, lambda m, a, b, out: 0.0),
               spelling=spelling, infix=True, prec=P_COMPARE, latex=latex,
               kinks=lambda a, b: (a - b,),
               code={"c": f"(({{0}}) {spelling} ({{1}}) ? 1.0 : 0.0)",
                     "js": f"(({{0}}) {spelling} ({{1}}) ? 1 : 0)"},
               gate=lambda a, b: (False, False))


LT = _compare("lt", "<", "less", "{0} < {1}")
LE = _compare("le", "<=", "less_equal", r"{0} \le {1}")
GT = _compare("gt", ">", "greater", "{0} > {1}")
GE = _compare("ge", ">=", "greater_equal", r"{0} \ge {1}")
EQ = _compare("eq", "==", "equal", "{0} = {1}")
NE = _compare("ne", "!=", "not_equal", r"{0} \ne {1}")

# where(c, a, b): a where c != 0 (a NaN condition is not 0), b where c == 0. The branch
# not taken gets no gradient at all (`gate`; the passes skip it), not 0·(its derivative),
# so where(x > 0, sqrt(x), 0) at x = -1 has gradient 0, not NaN. In LaTeX, {0} is the test
# (`x > 0`, or `c \ne 0`: printing.latex_test).
WHERE = _fn("where", S.where, lambda np, c, a, b: np.where(c != 0, a, b),
            lambda m, c, a, b, out: 0.0,
            lambda m, c, a, b, out: m.ne(c, 0.0),
            lambda m, c, a, b, out: m.eq(c, 0.0),
            latex=r"\begin{{cases}} {1} & \text{{if }} {0} \\ {2} & "
                  r"\text{{otherwise}} \end{{cases}}",
            code={"c": "(({0}) != 0.0 ? ({1}) : ({2}))", "js": "(({0}) !== 0 ? ({1}) : ({2}))"},
            gate=lambda c, a, b: (False, c != 0, c == 0))


class BranchGuards:
    """where(c, u, v) in a reverse pass that builds expressions (symbolic diff, generated
    code): u gets a gradient only where c != 0, v only where c == 0, and nothing below the
    branch not taken either. `of[j]` is the condition node j's gradient is under (None:
    always); a term under a condition becomes where(condition, term, 0), so no 0·NaN
    appears, as in Graph.backward. `apply(op, args)` builds an op on the pass's values."""

    def __init__(self, graph, apply, zero):
        self.graph, self.apply, self.zero = graph, apply, zero
        self.of = {graph.output: None}

    def test(self, n, k, cond):
        """Node n's own condition for passing a derivative to input k (forwards or
        backwards): None (always), False (never: where's condition, a comparison's
        inputs), or the test that k's branch is the one taken. `cond` is the pass's value
        of where's condition."""
        if n.op.gate is None:
            return None
        if n.op is not WHERE or k == 0:
            return False
        if k == 2:
            test = self.apply(EQ, (cond, self.zero))
        elif self.graph.nodes[n.inputs[0]].op.prec == P_COMPARE:
            test = cond  # a comparison is 0 or 1 already
        else:
            test = self.apply(NE, (cond, self.zero))
        # a condition known now (generated code's constants carry their `value`) is no
        # condition: the branch is always or never taken, as the batch pass sees it
        known = getattr(test, "value", None)
        if known is not None:
            return None if known != 0 else False
        return test

    def edge(self, n, k, cond):
        """The condition input k of node n gets its gradient under (None: always), or
        False when it gets none: node n's own test under the condition n's gradient is."""
        mine = self.of.get(n.id)
        test = self.test(n, k, cond)
        if test is None or test is False:
            return mine if test is None else False
        return test if mine is None else self.apply(MUL, (mine, test))

    def term(self, edge, term):
        return term if edge is None else self.apply(WHERE, (edge, term, self.zero))

    def arrive(self, j, edge) -> None:
        """Input j got a gradient under `edge`: it is under either condition now."""
        if j not in self.of:
            self.of[j] = edge
        elif self.of[j] is not None:
            self.of[j] = None if edge is None else self.apply(MAX, (self.of[j], edge))


CONSTANTS: dict[str, float] = {"pi": 3.141592653589793, "e": 2.718281828459045}

SCALAR = SimpleNamespace(**{op.name: op.scalar for op in OPS.values() if op.scalar})


def function_names() -> list[str]:
    """Every function name a program may call, sorted."""
    return sorted({name for name, _ in FUNCTIONS})


def lookup_function(name: str, arity: int) -> Op | None:
    return FUNCTIONS.get((name, arity))


def arities(name: str) -> list[int]:
    return sorted(a for n, a in FUNCTIONS if n == name)
