"""JavaScript forward and reverse passes for a graph, generated from the registry's rules.

`passes(graph)` is the source of one function `(inputs) -> {values, adjoints, partials}`:
straight-line code, one line per node and per input slot, doing exactly what
`Graph.forward` and `Graph.backward` do (the same order of summation, the same IEEE
arithmetic). The forward rules are spelled in JavaScript by `JS` below; the partials are
the registry's own rules, run with `m` = an emitter that writes JavaScript instead of
computing. The HTML stepper embeds it to recompute a page when an input changes.

`Math` functions are IEEE already (`Math.log(0)` is -Infinity, `Math.sqrt(-1)` NaN); the
helpers in `HELPERS` are where JavaScript and `cgraph.scalar` would otherwise differ
(`Math.pow(1, NaN)` is NaN, Python's is 1) or where there is no `Math` function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import numtext, ops
from .ops import CONST, VAR

if TYPE_CHECKING:
    from .graph import Graph

# Infix ops and their JavaScript; every other op is `Math.<name>` or a helper.
INFIX = {"add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})",
         "div": "({0} / {1})", "neg": "(-{0})"}

# Helpers mirroring cgraph.scalar where Math differs or has no such function.
HELPERS = {
    "pow": "(a, b) => (a === 1 || (a === -1 && (b === Infinity || b === -Infinity))) ? 1 "
           ": Math.pow(a, b)",
    "sigmoid": "(a) => { if (a >= 0) return 1 / (1 + Math.exp(-a)); const e = Math.exp(a); "
               "return e / (1 + e); }",
    "softplus": "(a) => a !== a ? a : Math.log1p(Math.exp(-Math.abs(a))) + (a > 0 ? a : 0)",
    "relu": "(a) => a <= 0 ? 0 : a",
    "sign": "(a) => a !== a ? a : (a > 0 ? 1 : (a < 0 ? -1 : 0))",
    "step": "(a) => a !== a ? a : (a > 0 ? 1 : 0)",
    "logb": "(a, b) => Math.log(a) / Math.log(b)",
    "max": "(a, b) => (a !== a || b !== b) ? NaN : (a >= b ? a : b)",
    "min": "(a, b) => (a !== a || b !== b) ? NaN : (a <= b ? a : b)",
    "clamp": "(x, lo, hi) => _min(_max(x, lo), hi)",
}
NEEDS = {"clamp": ("max", "min")}  # helpers that call other helpers
MATH = {"sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "log",
        "log2", "log10", "sqrt", "abs", "atan2"}


def spelling(op) -> str:
    """The op's forward rule in JavaScript, as a template over `{0}`, `{1}`, …"""
    args = ", ".join("{%d}" % i for i in range(op.arity))
    if op.name in INFIX:
        return INFIX[op.name]
    if op.name in HELPERS:
        return f"_{op.name}({args})"
    if op.name in MATH:
        return f"Math.{op.name}({args})"
    raise KeyError(f"no JavaScript spelling for the op {op.name!r}: add it to cgraph.jsgen")


class Js:
    """A JavaScript expression (or a number known now); arithmetic on it writes more."""

    __slots__ = ("text", "value", "emitter")

    def __init__(self, emitter: "_Emitter", text: str, value: float | None = None):
        self.emitter, self.text, self.value = emitter, text, value

    def _op(self, name, *args):
        return self.emitter.apply(ops.OPS[name], args)

    def __add__(self, o):
        return self._op("add", self, o)

    def __radd__(self, o):
        return self._op("add", o, self)

    def __sub__(self, o):
        return self._op("sub", self, o)

    def __rsub__(self, o):
        return self._op("sub", o, self)

    def __mul__(self, o):
        return self._op("mul", self, o)

    def __rmul__(self, o):
        return self._op("mul", o, self)

    def __neg__(self):
        return self._op("neg", self)


class _Emitter:
    def __init__(self):
        self.used: set[str] = set()

    def lift(self, a) -> Js:
        return a if isinstance(a, Js) else Js(self, numtext.js(float(a)), float(a))

    def apply(self, op, args) -> Js:
        args = [self.lift(a) for a in args]
        if all(a.value is not None for a in args):  # numbers: as Python computes them
            return self.lift(op.scalar(*(a.value for a in args)))
        if op.name in HELPERS:
            self.used.add(op.name)
            self.used.update(NEEDS.get(op.name, ()))
        return Js(self, spelling(op).format(*(a.text for a in args)))

    def namespace(self):
        emitter = self

        class M:
            def __getattr__(self, name):
                op = ops.OPS[name]
                return lambda *args: emitter.apply(op, args)

        return M()


def edge_ids(graph: "Graph") -> dict[tuple[int, int], int]:
    """An id for each input slot (node id, input index), in node order: the index of its
    local partial in `passes`' `partials` (and in `explain`'s numbers)."""
    ids = {}
    for n in graph.nodes:
        for k in range(len(n.inputs)):
            ids[n.id, k] = len(ids)
    return ids


def passes(graph: "Graph", name: str = "passes") -> str:
    """`function name(inputs)`: inputs are the variables' values in order of first use;
    returns Float64Arrays of every node's value and adjoint, and every input slot's local
    partial (by `explain.edge_ids`; 0 where the node does not reach the output)."""
    e = _Emitter()
    m = e.namespace()
    edge = edge_ids(graph)
    order = {v: k for k, v in enumerate(graph.variables)}
    nodes = graph.nodes
    v = [Js(e, f"v[{n.id}]") for n in nodes]
    body = []
    for n in nodes:
        if n.op is VAR:
            body.append(f"v[{n.id}] = inputs[{order[n.name]}];")
        elif n.op is CONST:
            body.append(f"v[{n.id}] = {numtext.js(n.value)};")
        else:
            body.append(f"v[{n.id}] = {e.apply(n.op, [v[j] for j in n.inputs]).text};")
    out = graph.output
    live = graph.reaches_output()
    body.append(f"d[{out}] = 1;")
    for n in reversed(nodes[: out + 1]):
        if not live[n.id] or not n.inputs:
            continue
        args = [v[j] for j in n.inputs] + [v[n.id]]
        for k, (j, rule) in enumerate(zip(n.inputs, n.op.partials, strict=True)):
            p = edge[n.id, k]
            body.append(f"p[{p}] = {e.lift(rule(m, *args)).text}; "
                        f"d[{j}] += d[{n.id}] * p[{p}];")
    helpers = sorted(e.used)
    lines = [f"function {name}(inputs) {{"]
    lines += [f"  const _{h} = {HELPERS[h]};" for h in helpers]
    lines.append(f"  const v = new Float64Array({len(nodes)}), d = new Float64Array("
                 f"{len(nodes)}), p = new Float64Array({len(edge)});")
    lines += ["  " + line for line in body]
    lines.append("  return {values: v, adjoints: d, partials: p};")
    lines.append("}")
    return "\n".join(lines) + "\n"
