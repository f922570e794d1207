"""Forward mode: tangents pushed from the inputs to the outputs, one direction per pass.

A tangent ṅ is the derivative of node n along a chosen direction of the inputs (`x=1`
gives ṅ = ∂n/∂x). It is the chain rule read forwards: ṅ = Σₖ ∂n/∂inputₖ · inputₖ̇, with
the SAME registry partial rules the reverse pass uses, so there is no second table.

Activity: a node none of whose inputs depends on the seeded variables has no tangent at
all (None, shown as 0), rather than 0·(its partials): an infinite partial of a branch that
does not depend on x (`sqrt(y)` at y=0) must not turn ∂f/∂x into NaN, exactly as the
reverse pass never multiplies along a path that does not lead from x to the output.
With `outputs`, nodes that lead to none of them are skipped, as `Graph.backward` skips them.

A tangent may be a float or a numpy array (several directions at once: the Hessian
propagates a block of unit vectors in one pass).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Mapping, Sequence

from . import ops
from .errors import InputError
from .graph import Graph, reachable


def tangents(graph: Graph, values: Sequence[float], seed: Mapping[int, object],
             outputs: Sequence[int] | None = None, m=ops.SCALAR) -> list:
    """Every node's tangent (None where it does not depend on the seed), by node id.

    `seed` maps variable node ids to their tangents (floats or arrays); `m` is the
    namespace the partial rules run on (floats by default)."""
    nodes = graph.nodes
    tangent: list = [None] * len(nodes)
    for i, t in seed.items():
        tangent[i] = t
    live = reachable(nodes, outputs) if outputs is not None else None
    for i, _, args in graph.tape():
        if live is not None and not live[i]:
            continue
        total = None
        gate = nodes[i].op.gate  # where: the branch not taken passes no tangent at all
        flags = gate(*(values[j] for j in args)) if gate is not None else None
        for k, a in enumerate(args):
            t = tangent[a]
            if t is None or (flags is not None and not flags[k]):
                continue
            if total is None:  # the rules only see the node's numbers
                rules = nodes[i].op.partials
                numbers = [values[j] for j in args]
                numbers.append(values[i])
            term = scale(t, rules[k](m, *numbers))
            total = term if total is None else total + term
        tangent[i] = total
    return tangent


class Dual:
    """value + tangent·ε with ε² = 0; a tangent of None is an exact (structural) zero.

    `scale` multiplies a tangent by a partial (`forward.scale` here; `codegen.DualCode`,
    the same numbers as code, brings its own)."""

    __slots__ = ("v", "d")

    def __init__(self, v: float, d):
        self.v = v
        self.d = d

    def __repr__(self) -> str:
        return f"Dual({self.v}, {self.d})"

    @staticmethod
    def scale(d, c):
        return None if d is None else scale(d, c)

    def __add__(self, o):
        if isinstance(o, Dual):
            return type(self)(self.v + o.v, _plus(self.d, o.d))
        return type(self)(self.v + o, self.d)

    __radd__ = __add__

    def __sub__(self, o):
        if isinstance(o, Dual):
            return type(self)(self.v - o.v, _plus(self.d, _neg(o.d)))
        return type(self)(self.v - o, self.d)

    def __rsub__(self, o):
        return type(self)(o - self.v, _neg(self.d))

    def __mul__(self, o):
        if isinstance(o, Dual):
            return type(self)(self.v * o.v, _plus(self.scale(self.d, o.v),
                                                  self.scale(o.d, self.v)))
        return type(self)(self.v * o, self.scale(self.d, o))

    __rmul__ = __mul__

    def __neg__(self):
        return type(self)(-self.v, _neg(self.d))


def _plus(a, b):
    if a is None:
        return b
    return a if b is None else a + b


def _neg(d):
    return None if d is None else -d


def _parts(x):
    return (x.v, x.d) if isinstance(x, Dual) else (x, None)


def scale(t, c):
    """The tangent t times the partial c. In a block of directions (t an array), an exact 0
    is another direction's structural zero: it stays 0 even when c is infinite or NaN, so
    a block gives what one pass per direction gives."""
    if c - c == 0.0 or not hasattr(t, "shape"):
        return t * c
    import numpy as np

    return np.where(t != 0.0, t * c, 0.0)


def dotted(name: str) -> str:
    """`ẋ`: the name with a dot above (precomposed where Unicode has the letter); `x'` on
    standard output that spells in ASCII, where the dot, cgraph's, would read as \\u1e8b."""
    from .streams import ascii_only

    if ascii_only():
        return name + "'"
    return unicodedata.normalize("NFC", name + "\u0307")


def parse_seed(graph: Graph, seed: Mapping[str, float] | None) -> dict[int, float]:
    """`{"x": 1}` -> {node id of x: 1.0}; default: the first variable, with tangent 1."""
    if not seed:
        if not graph.variables:
            raise InputError("--tangent: the program has no variables")
        return {next(iter(graph.variables.values())): 1.0}
    graph.check_names(seed, "--tangent")
    return {graph.variables[v]: float(t) for v, t in seed.items()}


@dataclass
class ForwardEvaluation:
    """Values and tangents of every node along one direction (`seed`)."""

    graph: Graph
    bindings: dict[str, float]
    seed: dict[str, float]
    values: list[float]
    tangents: list  # float, or None for a node that does not depend on the seed

    @property
    def value(self) -> float:
        return self.values[self.graph.output]

    def tangent(self, i: int) -> float:
        t = self.tangents[i]
        return 0.0 if t is None else t

    @property
    def unit(self) -> str | None:
        """`x` when the seed is x=1 alone (the tangents are then ∂n/∂x), else None."""
        if len(self.seed) == 1 and next(iter(self.seed.values())) == 1.0:
            return next(iter(self.seed))
        return None


def evaluate_forward(graph: Graph, bindings: Mapping[str, float],
                     seed: Mapping[str, float] | None = None,
                     output=None) -> ForwardEvaluation:
    """The forward pass and, alongside it, every node's tangent along `seed` (default: the
    first variable); `output` names the statement reported as the output (one only: the
    tangents of several outputs are a Jacobian's column)."""
    targets = graph.output_nodes(output)
    if len(targets) > 1:
        raise InputError("forward mode follows one output (for several, cgraph jacobian "
                         "--mode forward)")
    graph = graph.with_output(*targets[0])
    ids = parse_seed(graph, seed)
    values = graph.forward(bindings)
    names = {i: n for n, i in graph.variables.items()}
    return ForwardEvaluation(graph, dict(bindings), {names[i]: t for i, t in ids.items()},
                             values, tangents(graph, values, ids))
