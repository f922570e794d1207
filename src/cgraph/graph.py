"""The computation graph as data, and its forward and reverse passes.

A `Graph` is a list of `Node`s in topological order (every node after its inputs). The
passes are plain loops over that list, never recursion, so depth costs nothing; `backward`
returns a fresh list of adjoints, so running it twice gives the same answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from . import ops
from .errors import BindingError, did_you_mean
from .ops import CONST, VAR, Op


class Node:
    """One vertex: a variable, a constant, or an op applied to earlier nodes."""

    __slots__ = ("id", "op", "inputs", "name", "value")

    def __init__(self, id: int, op: Op, inputs: tuple[int, ...] = (), name: str | None = None,
                 value: float | None = None):
        self.id = id
        self.op = op
        self.inputs = inputs
        self.name = name  # variable name, or the name an assignment gave this node
        self.value = value  # the literal, for constants

    def __repr__(self) -> str:
        label = f" {self.name}" if self.name else ""
        return f"<Node {self.id} {self.op.name}{label} {self.inputs}>"


class Graph:
    """A program's computation graph: `nodes` in topological order, and its output node."""

    def __init__(self, nodes: list[Node], output: int, output_name: str = "f",
                 source: str = ""):
        self.nodes = nodes
        self.output = output
        self.output_name = output_name
        self.source = source
        self.variables: dict[str, int] = {
            n.name: n.id for n in nodes if n.op is VAR}  # in order of first use
        self._tape = None

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        return f"<Graph {len(self.nodes)} nodes, output {self.output_name}>"

    # -- inputs -------------------------------------------------------------------------

    def check_bindings(self, bindings: Mapping[str, float], *, unknown: bool = True,
                       missing: bool = True) -> None:
        """Raise BindingError for a binding of a name the program does not use (`unknown`)
        or a variable left unbound (`missing`)."""
        extra = [k for k in bindings if k not in self.variables] if unknown else []
        if extra:
            name = extra[0]
            hint = did_you_mean(name, self.variables)
            known = ", ".join(self.variables) or "none"
            raise BindingError(f"'{name}' is not a variable of the program{hint} "
                               f"(its variables: {known})")
        if missing:
            missing = [v for v in self.variables if v not in bindings]
            if missing:
                raise BindingError("no value for " + ", ".join(missing) + "; bind it as "
                                   + " ".join(f"{v}=VALUE" for v in missing))

    # -- passes -------------------------------------------------------------------------

    def tape(self):
        """The op nodes as (id, scalar rule, input ids), compiled once per graph."""
        if self._tape is None:
            self._tape = [(n.id, n.op.scalar, n.inputs) for n in self.nodes
                          if n.op is not VAR and n.op is not CONST]
        return self._tape

    def forward(self, bindings: Mapping[str, float]) -> list[float]:
        """Every node's value, indexed by node id. Bindings of other names are ignored."""
        self.check_bindings(bindings, unknown=False)
        values = [0.0] * len(self.nodes)
        for n in self.nodes:
            if n.op is VAR:
                values[n.id] = float(bindings[n.name])
            elif n.op is CONST:
                values[n.id] = n.value
        for i, fn, args in self.tape():
            if len(args) == 2:
                values[i] = fn(values[args[0]], values[args[1]])
            else:
                values[i] = fn(values[args[0]])
        return values

    def backward(self, values: Sequence[float], output: int | None = None) -> list[float]:
        """Adjoints ∂output/∂node for every node, as a fresh list (reverse mode).

        Contributions are summed over all paths. A node whose adjoint is 0 passes nothing
        on, so a NaN or infinity in a branch that does not reach the output stays there.
        """
        out = self.output if output is None else output
        adjoint = [0.0] * len(self.nodes)
        adjoint[out] = 1.0
        m = ops.SCALAR
        nodes = self.nodes
        for i in range(out, -1, -1):
            g = adjoint[i]
            if g == 0.0:
                continue
            n = nodes[i]
            args = n.inputs
            if not args:
                continue
            if len(args) == 2:
                a, b = args
                pa, pb = n.op.partials(m, values[a], values[b], values[i])
                adjoint[a] += g * pa
                adjoint[b] += g * pb
            else:
                a = args[0]
                (pa,) = n.op.partials(m, values[a], values[i])
                adjoint[a] += g * pa
        return adjoint

    def evaluate(self, bindings: Mapping[str, float]) -> "Evaluation":
        """Forward and reverse pass together."""
        values = self.forward(bindings)
        return Evaluation(self, dict(bindings), values, self.backward(values))

    # -- structure ----------------------------------------------------------------------

    def users(self) -> list[list[int]]:
        """For each node, the ids of the nodes that take it as an input (in order)."""
        users: list[list[int]] = [[] for _ in self.nodes]
        for n in self.nodes:
            for j in n.inputs:
                users[j].append(n.id)
        return users

    def reaches_output(self) -> list[bool]:
        """Whether each node lies on a path to the output."""
        live = [False] * len(self.nodes)
        live[self.output] = True
        for n in reversed(self.nodes):
            if live[n.id]:
                for j in n.inputs:
                    live[j] = True
        return live


@dataclass
class Evaluation:
    """The result of `Graph.evaluate`: values and adjoints of every node."""

    graph: Graph
    bindings: dict[str, float]
    values: list[float]
    grads: list[float]

    @property
    def value(self) -> float:
        return self.values[self.graph.output]

    def gradient(self, wrt: Iterable[str] | None = None) -> dict[str, float]:
        """∂output/∂v for each variable v (all of them, in order of first use, or `wrt`)."""
        names = self.graph.variables if wrt is None else wrt
        return {v: self.grads[self.graph.variables[v]] for v in names}

    def first_nonfinite(self) -> Node | None:
        """The first node whose value is non-finite although all its inputs are finite."""
        finite = [v - v == 0.0 for v in self.values]
        for n in self.graph.nodes:
            if n.inputs and not finite[n.id] and all(finite[j] for j in n.inputs):
                return n
        return None

    def nonfinite_gradients(self) -> list[str]:
        return [v for v, g in self.gradient().items() if not math.isfinite(g)]
