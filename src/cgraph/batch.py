"""Values and gradients over arrays of points, with numpy: the same registry, vectorized.

`evaluate_batch(graph, columns)` runs the forward and reverse passes once per chunk of
points instead of once per point. Each op's `array` rule and its partial rules (with `m` =
numpy) do the work, so batch and scalar results agree op for op. What makes it fast:

* a plan compiled once per graph: constant subgraphs are folded to scalars, nodes that do
  not reach the output are dropped, and only nodes that depend on a differentiated
  variable get adjoints or partials (a constant exponent's ∂/∂b is never computed);
* partials that are the numbers ±1 (add, sub, neg) cost no multiplication;
* chunks of points small enough to stay in cache, spread over the machine's cores with
  threads (numpy releases the GIL inside its loops).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Mapping

from .ops import CONST, OPS, VAR

if TYPE_CHECKING:  # graph.py imports this module: no import back at run time
    from .graph import Graph

CHUNK = 1 << 16  # points per chunk: measured best on 2 cores (512 KiB arrays)


def array_namespace():
    """`m` for the partial rules over numpy arrays: each registry op by name."""
    import numpy as np

    return SimpleNamespace(**{op.name: (lambda rule: lambda *a: rule(np, *a))(op.array)
                              for op in OPS.values() if op.array})


@dataclass
class BatchResult:
    value: "object"  # numpy array of the output, one entry per point
    gradient: dict  # variable -> numpy array of ∂output/∂variable


class _Plan:
    """What to compute for a graph, a set of input names and a set of wrt variables."""

    def __init__(self, graph: Graph, fixed: Mapping[str, float], wrt: list[str]):
        """`fixed` variables are folded in as constants; all others are given to `run`
        (as arrays, or as scalars that change between runs, like descent's weights)."""
        import numpy as np

        self.np = np
        self.m = array_namespace()
        nodes = graph.nodes
        live = graph.reaches_output()
        # constant: value known without the data (literals, fixed bindings, and ops on them)
        self.constant: dict[int, float] = {}
        varying = [False] * len(nodes)
        active = [False] * len(nodes)
        wrt_set = set(wrt)
        for n in nodes:
            if not live[n.id]:
                continue
            if n.op is CONST:
                self.constant[n.id] = n.value
            elif n.op is VAR:
                if n.name in fixed:
                    self.constant[n.id] = float(fixed[n.name])
                else:
                    varying[n.id] = True
                active[n.id] = n.name in wrt_set
            elif all(j in self.constant for j in n.inputs):
                with np.errstate(all="ignore"):
                    self.constant[n.id] = float(n.op.scalar(*(self.constant[j]
                                                              for j in n.inputs)))
            else:
                varying[n.id] = True
                active[n.id] = any(active[j] for j in n.inputs)
        self.inputs = [(n.id, n.name) for n in nodes if n.op is VAR and varying[n.id]]
        self.forward = [(n.id, n.op.array, n.inputs) for n in nodes
                        if varying[n.id] and n.op is not VAR]
        self.backward = []  # (id, [(input id, rule)]) for active op nodes, reversed
        for n in reversed(nodes):
            if active[n.id] and n.op is not VAR:
                edges = [(j, rule) for j, rule in zip(n.inputs, n.op.partials, strict=True)
                         if active[j]]
                self.backward.append((n.id, n.inputs, edges))
        self.wrt_ids = {v: graph.variables[v] for v in wrt}
        self.out = graph.output
        self.active_out = active[self.out]

    def run(self, columns: Mapping[str, "object"], size: int):
        """Forward and reverse pass over one chunk: (value array, {var: gradient array})."""
        np = self.np
        values: dict[int, object] = dict(self.constant)
        for i, name in self.inputs:
            values[i] = columns[name]
        for i, rule, args in self.forward:
            values[i] = rule(np, *(values[j] for j in args))
        out = values[self.out]
        value = np.broadcast_to(np.asarray(out, dtype=float), (size,))
        grads: dict[int, object] = {}
        if self.active_out:
            grads[self.out] = 1.0
        m = self.m
        for i, args, edges in self.backward:
            g = grads.pop(i, None)
            if g is None:
                continue
            here = [values[j] for j in args]
            here.append(values[i])
            for j, rule in edges:
                p = rule(m, *here)
                if type(p) is float:  # add, sub, neg: ±1 needs no multiplication
                    # (0 still multiplies: g may be NaN or infinite, as in the scalar pass)
                    term = g if p == 1.0 else (-g if p == -1.0 else g * p)
                else:
                    term = g * p
                prev = grads.get(j)
                grads[j] = term if prev is None else prev + term
        gradient = {}
        for v, i in self.wrt_ids.items():
            g = grads.get(i, 0.0)
            gradient[v] = np.broadcast_to(np.asarray(g, dtype=float), (size,))
        return value, gradient


class BatchEvaluator:
    """A graph compiled for repeated batch runs (descent calls it once per step)."""

    def __init__(self, graph: Graph, fixed: Mapping[str, float], wrt: list[str],
                 chunk: int = CHUNK, threads: int | None = None):
        self.plan = _Plan(graph, fixed, list(wrt))
        self.wrt = list(wrt)
        self.chunk = chunk
        self.threads = threads or min(os.cpu_count() or 1, 4)

    def __call__(self, data: Mapping[str, "object"], scalars: Mapping[str, float] = {},
                 size: int | None = None) -> BatchResult:
        import numpy as np

        if size is None:
            size = len(next(iter(data.values()))) if data else 1
        value = np.empty(size)
        gradient = {v: np.empty(size) for v in self.wrt}
        chunk, plan = self.chunk, self.plan

        def work(start: int) -> None:
            stop = min(start + chunk, size)
            part = {k: v[start:stop] for k, v in data.items()}
            part.update(scalars)
            with np.errstate(all="ignore"):
                val, grads = plan.run(part, stop - start)
            value[start:stop] = val
            for v, g in grads.items():
                gradient[v][start:stop] = g

        starts = range(0, size, chunk)
        if self.threads > 1 and len(starts) > 1:
            # imported here, like numpy: it costs 5 ms of start-up (logging) otherwise
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(self.threads) as pool:
                list(pool.map(work, starts))
        else:
            for s in starts:
                work(s)
        return BatchResult(value, gradient)


def evaluate_batch(graph: Graph, columns: Mapping[str, "object"],
                   wrt: list[str] | None = None, *, chunk: int = CHUNK,
                   threads: int | None = None) -> BatchResult:
    """The output and its gradient at every point of `columns` (name -> 1-d array).

    Every variable is either a column or a scalar in `columns`; scalars hold a variable
    fixed. `wrt` picks the gradients (default: every variable given as a column).
    """
    import numpy as np

    arrays = {k: np.asarray(v, dtype=float) for k, v in columns.items()}
    graph.check_bindings(arrays, unknown=False)
    fixed = {k: float(v) for k, v in arrays.items() if v.ndim == 0}
    data = {k: v for k, v in arrays.items() if v.ndim > 0}
    sizes = {v.shape[0] for v in data.values()}
    if len(sizes) > 1:
        raise ValueError(f"columns have different lengths: {sorted(sizes)}")
    if wrt is None:
        wrt = [v for v in graph.variables if v in data]
    run = BatchEvaluator(graph, fixed, wrt, chunk, threads)
    return run(data, size=sizes.pop() if sizes else 1)
