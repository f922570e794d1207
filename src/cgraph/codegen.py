"""`cgraph codegen`: a program's value and gradient as one function in Python, numpy, C or JS.

The function is straight-line reverse mode, generated from the SAME graph and the SAME
registry rules that `eval` runs: the forward pass spells each op's forward rule, and the
reverse pass runs each op's partial rules with `m` = a code emitter (as `symbolic` runs them
with a graph builder), so every partial becomes lines of code. Expressions are hash-consed,
so a subexpression shared by the forward pass and the partials is computed once, and the
adjoints are summed in the order `Graph.backward` sums them. The arithmetic is therefore
the same IEEE arithmetic as `eval`'s:

* python: the forward rules are `cgraph.scalar`'s own functions, copied into the output
  (Python's `math.log(0)` raises; those helpers return -inf, as eval does);
* numpy: the forward rules are the registry's `array` rules, as `eval --data` runs them;
* c, js: `<math.h>` and `Math`, with the registry's `code` templates where the default
  spelling is not the same function (sigmoid, softplus, JS's `Math.pow(1, NaN)`, ...).

Nothing but each language's standard maths is needed. `generate(graph, lang)` returns the
source text; `all_nodes=True` also returns every node's value and adjoint (the HTML stepper
shows them). A long C or JS body is written in parts that pass values through an array
(`Body`): compilers take time super-linear in a function's size.
"""

from __future__ import annotations

import heapq
import inspect
import json
import keyword
import math
import re

from . import numtext, ops, scalar
from .errors import InputError, listed
from .graph import Graph
from .forward import Dual, _parts, _plus
from .ops import ADD, CONST, DIV, MUL, NEG, SUB, VAR
from .printing import op_template, temp_prefix

LANGS = ("python", "numpy", "c", "js")

# Past SPLIT[lang] statements, C and JS code is written in parts of at most PART statements
# (see Body). One C function of 30,000 statements takes GCC -O2 a minute or more: register
# allocation and scheduling are super-linear in a function's size. V8 gives each local of a
# JS function a slot of the function's frame: one function of 10^5 locals overflows node's
# stack. Python and numpy compile and run a long function in linear time: one function.
SPLIT = {"c": 2000, "js": 50000}
PART = 250
# Past this many doubles (32 KiB) C's tape is on the heap (malloc), not the stack: a thread's
# stack may be 8 MiB (the main thread's, as a rule) or much less (64 KiB), and a 10^6-node
# program's tape would not fit in it.
STACK_TAPE = 4096
_TAPE = {  # the split code's spelling: a part's head and end, a load, the tape, an indent
    "c": ("static void {part}(double *{t}{out})\n{{", "}}", "const double {v} = {t}[{s}];",
          "double {t}[{n}];", "    "),
    "js": ("function {part}({t}{out}) {{", "}}", "const {v} = {t}[{s}];",
           "const {t} = new Float64Array({n});", "  "),
}

_C_KEYWORDS = set("""auto break case char const continue default do double else enum extern
float for goto if inline int long register restrict return short signed sizeof static struct
switch typedef union unsigned void volatile while""".split())
_JS_KEYWORDS = set("""break case catch class const continue debugger default delete do else
enum export extends false finally for function if import in instanceof let new null return
super switch this throw true try typeof var void while with yield await static implements
interface package private protected public""".split())
_MATH_NAMES = {name for name in dir(math) if not name.startswith("_")} | {"fabs", "log1p"}
# Macros of <math.h> (C99's, and glibc's M_ constants, defined unless -std=c99 is strict)
# and what the heap tape takes from <stdlib.h>: a parameter so named is rewritten by the
# preprocessor (`double HUGE_VAL` compiles, and the function then crashes).
_C_MACROS = set("""HUGE_VAL HUGE_VALF HUGE_VALL FP_INFINITE FP_NAN FP_NORMAL FP_SUBNORMAL
FP_ZERO FP_FAST_FMA FP_FAST_FMAF FP_FAST_FMAL FP_ILOGB0 FP_ILOGBNAN MATH_ERRNO MATH_ERREXCEPT
math_errhandling errno M_E M_LOG2E M_LOG10E M_LN2 M_LN10 M_PI M_PI_2 M_PI_4 M_1_PI M_2_PI
M_2_SQRTPI M_SQRT2 M_SQRT1_2 malloc free NULL EXIT_SUCCESS EXIT_FAILURE RAND_MAX
MB_CUR_MAX""".split())
# Per language: its keywords, and the names its generated code uses (its library, the
# arrays it declares): neither can name the function or a variable.
_RESERVED = {
    "python": (set(keyword.kwlist), {"math", "np", "abs", "shape", "float"}),
    "c": (_C_KEYWORDS, {"NAN", "INFINITY", "grad", "main"} | _MATH_NAMES | _C_MACROS),
    "js": (_JS_KEYWORDS, set("arguments eval Math NaN Infinity undefined Float64Array".split())),
}
_RESERVED["numpy"] = _RESERVED["python"]


class Code:
    """An atom of generated code (a variable, a temporary or a literal), with the number
    it stands for when it is a constant. Arithmetic on it emits code."""

    __slots__ = ("e", "text", "value")

    def __init__(self, emitter: "Emitter", text: str, value: float | None = None):
        self.e, self.text, self.value = emitter, text, value

    def _lift(self, o) -> "Code | None":
        if isinstance(o, Code):
            return o
        return self.e.literal(float(o)) if isinstance(o, (int, float)) else None

    def _apply(self, op, *args):
        args = tuple(self._lift(a) for a in args)
        return NotImplemented if any(a is None for a in args) else self.e.apply(op, args)

    def __add__(self, o):
        return self._apply(ADD, self, o)

    def __radd__(self, o):
        return self._apply(ADD, o, self)

    def __sub__(self, o):
        return self._apply(SUB, self, o)

    def __rsub__(self, o):
        return self._apply(SUB, o, self)

    def __mul__(self, o):
        return self._apply(MUL, self, o)

    def __rmul__(self, o):
        return self._apply(MUL, o, self)

    def __truediv__(self, o):
        return self._apply(DIV, self, o)

    def __rtruediv__(self, o):
        return self._apply(DIV, o, self)

    def __neg__(self):
        return self.e.apply(NEG, (self,))

    # comparisons appear in the registry's numpy rules (relu's np.where)
    def __gt__(self, o):
        return self.e.raw("%s > %s", (self, self._lift(o)))

    def __ne__(self, o):
        return self.e.raw("%s != %s", (self, self._lift(o)))

    def __eq__(self, o):
        return self.e.raw("%s == %s", (self, self._lift(o)))

    __hash__ = object.__hash__


# forward.scale in each language: t·c, except 0 where t is 0 and c is not finite
_SCALE = {
    "python": "({p} if {c} - {c} == 0.0 or {t} != 0.0 else 0.0)",
    "numpy": "np.where(({c} - {c} == 0.0) | ({t} != 0.0), {p}, 0.0)",
    "c": "(({c} - {c} == 0.0 || {t} != 0.0) ? {p} : 0.0)",
    "js": "(({c} - {c} === 0 || {t} !== 0) ? {p} : 0)",
}
_SCALE_ZERO = {lang: t.replace("{p}", "0.0 * {c}").replace(" or {t} != 0.0", "")
               .replace(" | ({t} != 0.0)", "").replace(" || {t} != 0.0", "")
               .replace(" || {t} !== 0", "") for lang, t in _SCALE.items()}


class DualCode(Dual):
    """`hessian.Dual` over `Code`: value + tangent·ε in generated code, so the registry's
    partial rules give each partial with its own tangent (forward-over-reverse)."""

    __slots__ = ()

    @staticmethod
    def scale(d, c):
        return None if d is None else d.e.scale(d, c)


_scale = DualCode.scale


class _Numpy:
    """What the registry's `array` rules see as `np`: each numpy function emits a call."""

    def __init__(self, emitter: "Emitter"):
        self._e = emitter

    def __getattr__(self, name: str):
        e = self._e

        def call(*args):
            args = tuple(a if isinstance(a, Code) else e.literal(float(a)) for a in args)
            if all(a.value is not None for a in args):  # as numpy computes it at run time
                import numpy as np

                with np.errstate(all="ignore"):
                    return e.literal(float(getattr(np, name)(*(a.value for a in args))))
            return e.raw(f"np.{name}(" + ", ".join(["%s"] * len(args)) + ")", args)

        return call


class Emitter:
    """Hash-consed straight-line code: each distinct expression is one temporary."""

    def __init__(self, lang: str, prefix: str):
        self.lang = lang
        self.prefix = prefix
        self.lines: list[str] = []
        self.memo: dict[str, Code] = {}
        self.helpers: list = []  # scalar functions the Python target copies
        self.negated: dict[str, Code] = {}  # temporary -> a, where it is -a
        self.names: dict[str, str] = {}  # temporary -> the program's name for it
        self.np = _Numpy(self)
        self.temp = re.compile(r"(?<![\w.])" + re.escape(prefix) + r"\d+(?!\w)")

    def rename(self, text: str) -> str:
        """Temporaries that the program named, under their names."""
        if not self.names:
            return text
        return self.temp.sub(lambda m: self.names.get(m.group(0), m.group(0)), text)

    # -- atoms ----------------------------------------------------------------------
    def literal(self, v: float) -> Code:
        return Code(self, numtext.code(v, self.lang), v)

    def raw(self, template: str, args: tuple) -> Code:
        """`template % args`, as a temporary (reused if the same text was emitted)."""
        return self.expr(template % tuple(a.text for a in args))

    def expr(self, text: str) -> Code:
        found = self.memo.get(text)
        if found is None:
            name = f"{self.prefix}{len(self.memo) + 1}"
            self.lines.append(self.assign(name, text))
            found = self.memo[text] = Code(self, name)
        return found

    def assign(self, name: str, expr: str) -> str:
        if self.lang == "c":
            return f"const double {name} = {expr};"
        if self.lang == "js":
            return f"const {name} = {expr};"
        return f"{name} = {expr}"

    # -- ops --------------------------------------------------------------------------
    def apply(self, op, args: tuple[Code, ...]) -> Code:
        """The op's forward rule on `args`, in the target language."""
        if all(a.value is not None for a in args):
            return self.fold(op, args)
        if op is MUL:  # ±1 · a is a or -a exactly, in IEEE arithmetic
            for one, other in (args, args[::-1]):
                if one.value == 1.0:
                    return other
                if one.value == -1.0:
                    return self.apply(NEG, (other,))
        if op is NEG and args[0].text in self.negated:  # -(-a) is a exactly
            return self.negated[args[0].text]
        if op is ops.POW and args[1].value == 1.0:  # a^1 is a exactly (pow is exact there)
            return args[0]
        lang = self.lang
        if op in (ADD, SUB, MUL, NEG) or (op is DIV and lang != "python"):
            out = self.raw(op_template(op), args)
            if op is NEG:
                self.negated[out.text] = args[0]
            return out
        if lang == "numpy":
            return op.array(self.np, *args)
        if lang == "python":
            return self.raw(self._python_call(op), args)
        if lang not in op.code and "ops" in op.code:
            return op.code["ops"](self.namespace(), *args)
        template = op.code.get(lang)
        if op is ops.POW and args[1].value is not None and scalar.is_finite(args[1].value):
            template = None  # JS's Math.pow differs from C's only at ±1 to NaN or ±inf
        if template is None:
            name = "pow" if op is ops.POW else op.spelling
            name = name if lang == "c" else f"Math.{name}"
            template = f"{name}(" + ", ".join("{%d}" % i for i in range(op.arity)) + ")"
        return self.expr(template.format(*(a.text for a in args)))

    def fold(self, op, args) -> Code:
        """A constant: computed now, as the target computes it at run time."""
        values = [a.value for a in args]
        if self.lang == "numpy" and op not in (ADD, SUB, MUL, NEG, DIV):
            return op.array(self.np, *args)  # _Numpy folds constants with numpy itself
        return self.literal(float(op.scalar(*values)))

    def _python_call(self, op) -> str:
        fn = op.scalar
        args = ", ".join(["%s"] * op.arity)
        if fn is abs:
            return f"abs({args})"
        if getattr(fn, "__module__", None) == "math":
            return f"math.{fn.__name__}({args})"
        if fn not in self.helpers:
            self.helpers.append(fn)
        return f"_cg_{fn.__name__}({args})"

    def scale(self, t: Code, c) -> Code:
        """A tangent times a partial, as `forward.scale`: an exact 0 tangent stays 0 where
        the partial is infinite or NaN (so a column equals what `cgraph hessian` gives)."""
        c = c if isinstance(c, Code) else self.literal(float(c))
        if t.value is not None and t.value != 0.0 or c.value is not None and \
                scalar.is_finite(c.value):
            return t * c
        if t.value is not None:  # 0 times a partial that may not be finite
            return self.literal(0.0) if c.value is not None else self.expr(
                _SCALE_ZERO[self.lang].format(c=c.text))
        product = t * c
        return self.expr(_SCALE[self.lang].format(t=t.text, c=c.text, p=product.text))

    def dual_namespace(self):
        """`m` for the partial rules on DualCode: an op's value is its forward rule, its
        tangent Σₖ partialₖ · tangentₖ (as `hessian.DUAL`, in code)."""
        e, m = self, self.namespace()

        def lift(op):
            def on_duals(*args):
                parts = [_parts(a) for a in args]
                numbers = [e.literal(float(v)) if not isinstance(v, Code) else v
                           for v, _ in parts]
                out = e.apply(op, tuple(numbers))
                numbers.append(out)
                d = None
                for k, (_, t) in enumerate(parts):
                    if t is not None:
                        d = _plus(d, e.scale(t, op.partials[k](m, *numbers)))
                return out if d is None else DualCode(out, d)

            return on_duals

        class M:
            def __getattr__(self, name):
                return lift(ops.OPS[name])

        return M()

    def namespace(self):
        """`m` for the partial rules: each registry op applied to Code or numbers."""
        e = self

        class M:
            def __getattr__(self, name):
                op = ops.OPS[name]
                return lambda *args: e.apply(op, tuple(
                    a if isinstance(a, Code) else e.literal(float(a)) for a in args))

        return M()


def _python_helpers(fns) -> str:
    """The source of the `scalar` functions the code calls (and those they call), renamed
    `_cg_<name>` so they cannot clash with the caller's names."""
    names = {n for n, f in vars(scalar).items() if inspect.isfunction(f)
             and f.__module__ == scalar.__name__}
    todo, seen = [f.__name__ for f in fns], []
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.append(name)
        src = inspect.getsource(getattr(scalar, name))
        todo += [n for n in re.findall(r"(?<![\w.])(\w+)\(", src) if n in names]
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, names)) + r")(?=\()")
    out = []
    for name in sorted(seen):
        src = inspect.getsource(getattr(scalar, name))
        src = pattern.sub(lambda m: "_cg_" + m.group(1), src)
        src = re.sub(r"(?<![\w.])(inf|nan)\b", r"math.\1", src)
        src = re.sub(r"\s+#.*$", "", src, flags=re.M)  # comments name the originals
        out.append(src.rstrip() + "\n")
    return "\n\n".join(out)


def command(program, lang: str, name: str | None, wrt: list[str] | None,
            hessian: bool = False, module: bool = False) -> str:
    """`cgraph codegen`: the generated source for a parsed program (no bindings: the
    function takes the variables as arguments); `module`: JS for an ES module (`-o
    grad.mjs`), whose function is exported."""
    if program.bindings:
        names = listed(program.bindings)
        raise InputError(f"codegen takes no bindings ({names}): the generated function takes "
                         "the variables as its arguments")
    return generate(program.graph, lang, name=name, wrt=wrt, hessian=hessian, module=module)


def _identifier(name: str, lang: str, taken: set) -> str:
    """`name` as an identifier of `lang`: kept where it is one and not reserved, else
    spelled in ASCII (C) with an element's indices after `_` (`W[1,2]` is `W_1_2`, `w[-1]`
    is `w_m1`), in Python in the form Python reads it (NFKC: `ｘ` is `x`), and suffixed with
    `_` until it is free. A name of C's implementation (`_`
    then a capital or `_`: `_Bool`, `__LINE__`) gets a `v` in front in C, as does one spelled as
    the Python helpers are (`_cg_exp`: see _python_helpers)."""
    keywords, used = _RESERVED[lang]
    ident = name
    if not ident.isidentifier():  # w[1] -> w_1 (not `_` -> '')
        ident = re.sub(r"\W+", "_", name.replace("-", "m")).rstrip("_")
    if lang == "c" and not ident.isascii():
        ident = "".join(c if c.isascii() else f"_u{ord(c):04x}" for c in ident)
    elif lang in ("python", "numpy") and not ident.isascii():  # Python reads ｘ as x, ﬁ
        import unicodedata  # as fi, ℌ as H (NFKC): two such names would be one argument

        ident = unicodedata.normalize("NFKC", ident)
        from .streams import ascii_only

        if not ident.isascii() and ascii_only():  # standard output would spell θ `\u03b8`,
            ident = "".join(c if c.isascii() else f"_u{ord(c):04x}" for c in ident)  # no name
    if re.match(r"_[A-Z_]" if lang == "c" else "_cg_", ident):
        ident = "v" + ident
    while ident in keywords or ident in used or ident in taken:
        ident += "_"
    return ident


def _summary(graph: Graph) -> str:
    from .parser import one_line

    return one_line(graph.source, 160) or graph.output_name


def generate(graph: Graph, lang: str = "python", name: str | None = None,
             wrt: list[str] | None = None, all_nodes: bool = False,
             hessian: bool = False, split: int | None = None, module: bool = False) -> str:
    """The source of one function computing `graph`'s output and its gradient.

    Its arguments are the program's variables (in order of first use); it returns the
    value and ∂output/∂v for each v in `wrt` (default: every variable). With `all_nodes`
    (python, numpy, js) it also returns every node's value and adjoint, by node id; with
    `hessian`, the matrix of second partials too (forward-over-reverse, as `cgraph
    hessian` computes it: one tangent pass per column). With `module` (js only) the
    function is exported, for an ES module (`.mjs`) that other modules import."""
    if lang not in LANGS:
        raise InputError(f"--lang: unknown language '{lang}' (one of {', '.join(LANGS)})")
    wrt = list(graph.variables) if wrt is None else list(wrt)
    graph.check_names(wrt)
    if all_nodes and lang == "c":
        raise InputError("all_nodes is not offered for C")
    if module and lang != "js":
        raise InputError(f"module is JS's (an ES module), not {lang}'s")
    keywords, used = _RESERVED[lang]
    if name is None:  # the output's name and _grad, spelled as --name must be (h[2]: h_2)
        name = re.sub(r"\W+", "_", graph.output_name.replace("-", "m")).strip("_")
        name += "_grad"
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):  # θ, 損失, _: f_grad
            name = "f_grad"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise InputError(f"--name: '{name}' is not a function name: ASCII letters, digits and _, "
                         "not starting with a digit")
    if name in keywords or name in used:
        why = "a keyword" if name in keywords else "a name the generated code uses"
        raise InputError(f"--name: '{name}' is {why} in {lang}; choose another name")
    taken = {name}
    params = {}
    for v in graph.variables:
        params[v] = _identifier(v, lang, taken)
        taken.add(params[v])
    e, *code = _emit(graph, lang, params, set(taken), wrt, all_nodes, hessian, False)
    split = SPLIT.get(lang) if split is None else split
    if lang in SPLIT and split > 0 and len(e.lines) > split:  # see Body
        e, *code = _emit(graph, lang, params, set(taken), wrt, all_nodes, hessian, True)
    else:
        split = None
    return _WRITERS[lang](e, graph, name, params, wrt, *code, split,
                          **({"module": True} if module else {}))


def _emit(graph: Graph, lang: str, params: dict, taken: set, wrt: list, all_nodes: bool,
          hessian: bool, early: bool):
    """The emitter holding the function's statements, and the code of its value, gradient,
    every node's value and adjoint (all_nodes) and Hessian. `early` emits each node's
    partials right after its value (the same expressions, in another order: see Body)."""
    named = {n.name for n in graph.nodes if n.name and n.op is not VAR and n.op is not CONST}
    e = Emitter(lang, temp_prefix(taken | named | {"shape"}))
    m = e.namespace()
    nodes = graph.nodes
    live = graph.reaches_output()
    forward = [True] * len(nodes) if all_nodes else live
    values: list[Code | None] = [None] * len(nodes)
    for n in nodes:
        if not forward[n.id]:
            continue
        if n.op is VAR:
            values[n.id] = Code(e, params[n.name])
        elif n.op is CONST:
            values[n.id] = e.literal(n.value)
        else:
            args = tuple(values[j] for j in n.inputs)
            if all(a.value is not None for a in args):  # eval computes it with `scalar`
                values[n.id] = e.literal(float(n.op.scalar(*(a.value for a in args))))
            else:
                values[n.id] = e.apply(n.op, args)
                if early:
                    for rule in n.op.partials:
                        rule(m, *args, values[n.id])
                t = values[n.id].text
                if n.name and t.startswith(e.prefix) and t not in e.names and n.op is not VAR:
                    e.names[t] = _identifier(n.name, lang, taken)  # the user's name for it
                    taken.add(e.names[t])
    # reverse pass, in Graph.backward's order: only nodes that depend on a wrt variable
    active = [False] * len(nodes)
    for n in nodes:
        active[n.id] = live[n.id] and (all_nodes or (n.op is VAR and n.name in wrt)
                                       or any(active[j] for j in n.inputs))
    out = graph.output
    adjoint: dict[int, Code] = {out: e.literal(1.0)} if active[out] else {}
    zero = e.literal(0.0)
    guards = ops.BranchGuards(graph, e.apply, zero)  # where: see BranchGuards
    for n in reversed(nodes[: out + 1]):
        g = adjoint.get(n.id)
        if g is None or not n.inputs or not active[n.id]:
            continue
        args = [values[j] for j in n.inputs] + [values[n.id]]
        for k, (j, rule) in enumerate(zip(n.inputs, n.op.partials)):
            if not active[j]:
                continue
            edge = guards.edge(n, k, args[0])
            if edge is False:
                continue
            p = rule(m, *args)
            term = e.apply(MUL, (g, p if isinstance(p, Code) else e.literal(float(p))))
            term = guards.term(edge, term)
            adjoint[j] = e.apply(ADD, (adjoint[j], term)) if j in adjoint else term
            guards.arrive(j, edge)
    grads = []
    for v in wrt:
        g = adjoint.get(graph.variables[v], zero)
        if lang != "numpy":  # as eval: its adjoints start at +0.0 (no -0.0)
            g = Code(e, f"0.0 + {g.text}") if g.value is None else e.literal(0.0 + g.value)
        grads.append(g)
    extra = None
    if all_nodes:
        extra = ([values[n.id] for n in nodes], [adjoint.get(n.id, zero) for n in nodes])
    hess = None
    if hessian:
        columns = [_hessian_column(e, graph, values, adjoint, active, guards,
                                   graph.variables[v], wrt) for v in wrt]
        hess = [[columns[c][r] for c in range(len(wrt))] for r in range(len(wrt))]
    return e, values[out], grads, extra, hess


def _hessian_column(e: Emitter, graph, values, adjoint, active, guards, var: int,
                    wrt) -> list:
    """∂²out/∂w∂var for each w in wrt: `hessian.hvp_block` for the unit vector of var,
    written as code (the same operations in the same order; a where's branch not taken
    passes neither a tangent nor an adjoint, as there)."""
    nodes = graph.nodes
    m = e.namespace()
    zero = e.literal(0.0)
    tangent: list = [None] * len(nodes)
    tangent[var] = e.literal(1.0)
    live = graph.reaches_output()
    for n in nodes:  # forward tangents, as forward.tangents
        if not n.inputs or not live[n.id]:
            continue
        total = None
        for k, a in enumerate(n.inputs):
            if tangent[a] is None:
                continue
            taken = guards.test(n, k, values[n.inputs[0]])
            if taken is False:
                continue
            numbers = [values[j] for j in n.inputs] + [values[n.id]]
            term = guards.term(taken, e.scale(tangent[a], n.op.partials[k](m, *numbers)))
            total = term if total is None else total + term
        tangent[n.id] = total
    dm = e.dual_namespace()
    adj_d: dict[int, Code] = {}
    for n in reversed(nodes[: graph.output + 1]):
        if not n.inputs or not active[n.id] or n.id not in adjoint:
            continue
        g, gd = adjoint[n.id], adj_d.get(n.id)
        inputs = [values[j] if tangent[j] is None else DualCode(values[j], tangent[j])
                  for j in n.inputs + (n.id,)]
        for k, j in enumerate(n.inputs):
            if not active[j]:
                continue
            edge = guards.edge(n, k, values[n.inputs[0]])
            if edge is False:
                continue
            p, pd = _parts(n.op.partials[k](dm, *inputs))
            p = p if isinstance(p, Code) else e.literal(float(p))
            term = _plus(_scale(gd, p), _scale(pd, g))
            if term is not None:
                term = guards.term(edge, term)
            adj_d[j] = _plus(adj_d.get(j), term)
    return [adj_d.get(graph.variables[w]) or zero for w in wrt]


def _used_lines(e: Emitter, roots: list[str]) -> list[str]:
    """The emitted assignments that the returned expressions need, in order and not yet
    renamed (nothing unused: C's -Wall -Werror rejects an unused variable)."""
    temp = e.temp
    need = set()
    for text in roots:
        need.update(temp.findall(text))
    keep = []
    for line in reversed(e.lines):
        lhs = temp.search(line).group(0)
        if lhs in need:
            keep.append(line)
            rhs = line.split("=", 1)[1]
            need.update(temp.findall(rhs))
    return keep[::-1]


class Body:
    """The statements of a function body and the expressions it returns, renamed; in parts
    of at most min(split, PART) statements when `split` is given (by `generate`, for a long
    C or JS body).

    Split, each part is a function of the tape (an array of doubles): it loads each value it
    needs from earlier parts (and the arguments) just before its first use, runs its
    statements, and stores the values later parts or the returned expressions need. A slot
    is reused once its value's last reader has run. `roots` then read the tape."""

    def __init__(self, e: Emitter, roots: list[str], params, name: str, split: int | None,
                 sinks: list[str | None] | None = None):
        self.e, self.lines = e, _used_lines(e, roots)
        self.roots = [e.rename(r) for r in roots]
        self.parts: list[list[str]] = []
        self.entry: list[str] = []  # split: the tape, the arguments and calls of the parts
        self.written: set[int] = set()  # the roots the entry writes to their sinks
        self.slots = 0
        self.heap: tuple[str, str] | None = None  # C's tape on the heap: (tape, a local)
        if split:
            self._split(roots, list(params.values()), name, min(split, PART),
                        sinks or [None] * len(roots))
        else:
            self.statements = [e.rename(line) for line in self.lines]

    def _split(self, roots, params, name, size, sinks):
        e = self.e
        head, end, load, tape, indent = _TAPE[e.lang]
        temp = e.temp
        ident = re.compile(r"(?<![\w.])[^\W\d]\w*")
        names = set(params) | set(e.names.values())
        t = "tape"
        while t in names:
            t += "_"
        part = f"{name}_part"
        while any(re.fullmatch(re.escape(part) + r"\d+", n) for n in names):
            part += "_"
        count = -(-len(self.lines) // size)
        size = -(-len(self.lines) // count)  # parts of equal size
        chunks = [self.lines[k:k + size] for k in range(0, len(self.lines), size)]
        made = {p: -1 for p in params}  # value -> the part that computes it (-1: the entry)
        for k, chunk in enumerate(chunks):
            for line in chunk:
                made[temp.search(line).group(0)] = k
        # a root with a sink whose values all come from one part is written by that part,
        # right after its last value (nothing goes through the tape for it)
        at = {temp.search(line).group(0): i for i, line in enumerate(self.lines)}
        inside: dict[str, list[int]] = {}  # value -> the roots complete once it is computed
        for i, (sink, root) in enumerate(zip(sinks, roots)):
            used = ident.findall(root)
            home = made.get(used[0], -1) if used else -1
            if sink and home >= 0 and all(made.get(v, -1) == home for v in used):
                inside.setdefault(max(used, key=at.get), []).append(i)
                self.written.add(i)
        arrays = sorted({sinks[i].split("[")[0] for i in self.written})
        out = "".join(f", double *{a}" if e.lang == "c" else f", {a}" for a in arrays)
        reads = []  # per part: the values it loads, in order of first use
        last = {}  # value -> the last part that reads it (len(chunks): the returns)
        outer = [r for i, r in enumerate(roots) if i not in self.written]
        for k, chunk in enumerate(chunks + [outer]):
            seen = {}
            for line in chunk:
                rhs = line.split("=", 1)[1] if k < len(chunks) else line
                for v in ident.findall(rhs):
                    if made.get(v, k) < k and (k < len(chunks) or made[v] >= 0):
                        seen[v] = last[v] = k
            reads.append(list(seen))
        slot, free, busy, slots = {}, [], [], 0  # busy: (the last reader, its slot)
        for v in sorted(last, key=made.get):  # the arguments, then part by part
            while busy and busy[0][0] < made[v]:  # free once its last reader has run
                heapq.heappush(free, heapq.heappop(busy)[1])
            if free:
                slot[v] = heapq.heappop(free)
            else:
                slot[v], slots = slots, slots + 1
            heapq.heappush(busy, (last[v], slot[v]))
        self.slots = slots
        self.roots = [r if i in self.written else
                      e.rename(temp.sub(lambda m: f"{t}[{slot[m.group(0)]}]", r))
                      for i, r in enumerate(roots)]
        # each argument stored just before the first part that reads it, each root with a
        # sink written just after the part that completes it: GCC's alias walks over a long
        # run of stores and loads of the tape are quadratic (a model with 10^3 arguments)
        first = {}
        for k, read in enumerate(reads[:-1]):
            for v in read:
                if made[v] < 0:
                    first.setdefault(v, k)
        ready = [max((made[v] for v in temp.findall(r)), default=-1) for r in roots]
        self.entry = [tape.format(t=t, n=max(1, slots))]
        if e.lang == "c" and slots > STACK_TAPE:
            self.entry = self._heap(t, names, slots, sinks)
        for k, chunk in enumerate(chunks):
            body = []
            pending = set(reads[k])
            for line in chunk:
                for v in ident.findall(line.split("=", 1)[1]):
                    if v in pending:
                        pending.discard(v)
                        body.append(load.format(v=e.rename(v), t=t, s=slot[v]))
                body.append(e.rename(line))
                v = temp.search(line).group(0)
                if v in slot:
                    body.append(f"{t}[{slot[v]}] = {e.rename(v)};")
                body += [f"{sinks[i]} = {e.rename(roots[i])};" for i in inside.get(v, ())]
            self.parts.append(head.format(part=f"{part}{k + 1}", t=t, out=out).splitlines()
                              + [indent + b for b in body] + [end.format()])
            self.entry += [f"{t}[{slot[p]}] = {p};" for p in params if first.get(p) == k]
            self.entry.append(f"{part}{k + 1}({t}{''.join(', ' + a for a in arrays)});")
            for i, sink in enumerate(sinks):
                if sink and ready[i] == k and i not in self.written:
                    self.entry.append(f"{sink} = {self.roots[i]};")
                    self.written.add(i)
        self.statements = []

    def _heap(self, t: str, names: set, slots: int, sinks) -> list[str]:
        """C's tape from malloc: out of memory, every output is NaN. `self.heap` names the
        tape and a local for the value, which `_c` returns after freeing the tape."""
        local = f"{t}_value"
        while local in names:
            local += "_"
        self.heap = (t, local)
        sizes: dict[str, int] = {}
        for sink in sinks:
            if sink:
                array = sink.split("[")[0]
                sizes[array] = sizes.get(array, 0) + 1
        fill = [f"        for (long {t}_i = 0; {t}_i < {n}; {t}_i++) {a}[{t}_i] = NAN;"
                for a, n in sizes.items()]
        return ["double *" + t + f" = malloc({slots} * sizeof *{t});  /* {slots:,} doubles, "
                "too many for the stack */", f"if (!{t}) {{  /* no memory for them */",
                *(f[4:] for f in fill), "    return NAN;", "}"]


def _python(e, graph, name, params, wrt, value, grads, extra, hess, split=None,
            numpy=False):
    f = graph.output_name
    args = ", ".join(params.values())
    wrap = "np.broadcast_to({}, shape)".format if numpy else str
    returns = [wrap(value.text), _tuple([wrap(g.text) for g in grads])]
    if hess:
        returns.append(_tuple([_tuple([wrap(c.text) for c in row]) for row in hess]))
    if extra:
        returns += ["[" + ", ".join(c.text for c in part) + "]" for part in extra]
    body = [e.rename(line) for line in _used_lines(e, returns)]
    returns = [e.rename(r) for r in returns]
    names = [f"d{f}_d{v}" for v in wrt]
    summary = _summary(graph).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    kind = ("numbers or numpy arrays that broadcast together" if numpy else "floats")
    doc = [f'"""Value, gradient{" and Hessian" if hess else ""} of the cgraph program `{summary}`.', "",
           f"Arguments: {args or 'none'} ({kind}).",
           f"Returns ({f}, {_tuple(names)}{', hessian' if hess else ''}): the value of {f} "
           f"and its derivatives" + (",\nthen the Hessian, row by row (the rows and columns "
                                    "in the gradient's order)" if hess else "")
           + (",\nas arrays of the broadcast shape" if numpy else "")
           + (",\nthen every node's value and adjoint by node id" if extra else "") + ".",
           "Generated by `cgraph codegen`: straight-line reverse mode with the IEEE "
           "arithmetic of", "`cgraph eval" + (" --data" if numpy else "")
           + "` (inf and NaN where Python's math would raise).", '"""']
    doc = "\n".join(doc).splitlines()
    lines = [f"def {name}({args}):"] + ["    " + d if d else "" for d in doc]
    if numpy:
        lines += [f"    {p} = np.asarray({p}, dtype=float)" for p in params.values()]
        lines.append("    with np.errstate(all=\"ignore\"):")
        lines += ["        " + b for b in body or ["pass"]]
        shapes = ", ".join(f"{p}.shape" for p in params.values())
        lines.append(f"    shape = np.broadcast_shapes({shapes})")
    else:
        lines += ["    " + b for b in body]
    lines.append(f"    return {', '.join(returns)}")
    text = "\n".join(lines) + "\n"
    head = []
    if numpy:
        head.append("import numpy as np\n")
    elif "math." in text or e.helpers:
        head.append("import math\n")
    if e.helpers and not numpy:
        head.append(_python_helpers(e.helpers))
    return "\n\n".join(head + [text])


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _c(e, graph, name, params, wrt, value, grads, extra, hess, split):
    f = graph.output_name
    cells = [c for row in hess or [] for c in row]
    sinks = [None] + [f"grad[{k}]" for k in range(len(grads))] + [
        f"hess[{k}]" for k in range(len(cells))]
    body = Body(e, [value.text] + [g.text for g in grads] + [c.text for c in cells], params,
                name, split, sinks)
    outputs = [f"    {sink} = {root};" for k, (sink, root) in enumerate(zip(sinks, body.roots))
               if sink and k not in body.written]
    sig = [f"double {p}" for p in params.values()]
    if wrt:
        sig.append(f"double grad[{len(wrt)}]")
    if hess:
        sig.append(f"double hess[{len(cells)}]")
    writes = ", ".join(f"grad[{k}] = d{f}/d{v}" for k, v in enumerate(wrt))
    if hess:
        writes += f", and hess[{len(wrt)}*i + j] = d²{f}/d(i)d(j) in that order"
    comment = [f"/* {name}: value and gradient of the cgraph program `{_summary(graph)}`.",
               f" * Returns {f}" + (f"; writes {writes}." if wrt else "."),
               " * Generated by `cgraph codegen`: straight-line reverse mode with the IEEE",
               " * arithmetic of `cgraph eval`. Needs C99 and <math.h> (link with -lm); do not",
               " * compile with -ffast-math, which gives up inf and NaN. */"]
    if body.parts:
        comment[-1:] = [" * compile with -ffast-math, which gives up inf and NaN.",
                        f" * Its {len(body.lines):,} statements run in "
                        f"{len(body.parts)} parts (above), which pass",
                        f" * values through tape[] ({body.slots:,} doubles on the "
                        + ("heap: when malloc fails," if body.heap else "stack). */")]
    if body.heap:
        comment.append(" * it returns NaN and writes NaN to every output). */")
    comment = [c.replace("*/", "* /") if k < len(comment) - 1 else c
               for k, c in enumerate(comment)]
    lines = ["#include <math.h>", *["#include <stdlib.h>"] * bool(body.heap), ""]
    if body.parts:
        lines.append(f"/* The parts of {name} (below), in order. */")
        for part in body.parts:
            lines += part + [""]
    lines += comment
    lines.append(f"double {name}({', '.join(sig) or 'void'})")
    lines.append("{")
    lines += ["    " + b for b in body.statements + body.entry]
    lines += outputs
    if body.heap:
        t, local = body.heap
        lines += [f"    const double {local} = {body.roots[0]};", f"    free({t});",
                  f"    return {local};", "}"]
    else:
        lines += [f"    return {body.roots[0]};", "}"]
    return "\n".join(lines) + "\n"


def _js(e, graph, name, params, wrt, value, grads, extra, hess, split, module=False):
    f = graph.output_name
    gradient = ", ".join(f"{json.dumps(v)}: {g.text}" for v, g in zip(wrt, grads))
    result = f"value: {value.text}, gradient: {{{gradient}}}"
    if hess:
        matrix = "[" + ", ".join("[" + ", ".join(c.text for c in row) + "]"
                                 for row in hess) + "]"
        result += f", hessian: {matrix}"
    if extra:
        parts = ["[" + ", ".join(c.text for c in part) + "]" for part in extra]
        result += f", values: {parts[0]}, adjoints: {parts[1]}"
    body = Body(e, [result], params, name, split)
    summary = _summary(graph).replace("*/", "* /")
    keys = ", ".join(f"{v}: d{f}/d{v}" for v in wrt)
    lines = ["/**", f" * {name}({', '.join(params.values())}): value and gradient of the "
             f"cgraph program `{summary}`.",
             f" * Returns {{value: {f}, gradient: {{{keys}}}"
             + (", hessian: [[...]] (rows and columns in the gradient's order)" if hess else "")
             + (", values: [...], adjoints: [...]}: every node's value and adjoint by id."
                if extra else "}."),
             " * Generated by `cgraph codegen`: straight-line reverse mode with the IEEE",
             " * arithmetic of `cgraph eval`, using only Math."]
    if body.parts:
        lines += [f" * Its {len(body.lines):,} statements run in "
                  f"{len(body.parts)} parts, which pass values through a Float64Array."]
    export = "export " if module else ""  # a script (.js) defines it; a module exports it
    lines += [" */", f"{export}function {name}({', '.join(params.values())}) {{"]
    for part in body.parts:
        lines += ["  " + p for p in part]
    lines += ["  " + b for b in body.statements + body.entry]
    lines.append(f"  return {{{body.roots[0]}}};")
    lines.append("}")
    return "\n".join(lines) + "\n"


_WRITERS = {"python": _python, "numpy": lambda *a: _python(*a, numpy=True), "c": _c, "js": _js}

# `codegen -o FILE`: the languages its suffix holds, the first without --lang (see
# cli_support.by_suffix)
SUFFIXES = {".py": ("python", ("python", "numpy")), ".c": "c", ".js": "js",
            ".mjs": ("js module", ("js",))}
