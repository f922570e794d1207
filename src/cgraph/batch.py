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

import math
import os
from types import SimpleNamespace
from typing import TYPE_CHECKING, Mapping

from .ops import CONST, OPS, VAR

if TYPE_CHECKING:  # graph.py imports this module: no import back at run time
    from .graph import Graph

# points per chunk: with the kept buffers, 128 KiB arrays stay in the allocator's heap and
# in cache (CPU time at 10^6 points, 1 thread: 44 ms, against 52 ms with 1 << 16)
CHUNK = 1 << 14


def array_namespace():
    """`m` for the partial rules over numpy arrays: each registry op by name."""
    import numpy as np

    return SimpleNamespace(**{op.name: (lambda rule: lambda *a: rule(np, *a))(op.array)
                              for op in OPS.values() if op.array})


class BatchResult:
    """What `evaluate_batch` returns. A plain class, not a dataclass: graph.py imports this
    module, so it is built at every start-up, where a dataclass costs about a millisecond."""

    __slots__ = ("value", "gradient")

    def __init__(self, value, gradient: dict):
        self.value = value  # numpy array of the output, one entry per point
        self.gradient = gradient  # variable -> numpy array of ∂output/∂variable

    def __repr__(self) -> str:
        return f"BatchResult(value={self.value!r}, gradient={self.gradient!r})"


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
        # (id, array rule, input ids, the numpy ufunc that is the rule, if one is)
        self.forward = [(n.id, n.op.array, n.inputs, n.op.ufunc and getattr(np, n.op.ufunc))
                        for n in nodes if varying[n.id] and n.op is not VAR]
        # (id, input ids, [(input id, rule, buffer key, the partial if it is a number)],
        # whether any partial needs the values), reversed
        self.backward = []
        probe = np.full(1, 0.5)
        for n in reversed(nodes):
            if active[n.id] and n.op is not VAR:
                edges = []
                for k, (j, rule) in enumerate(zip(n.inputs, n.op.partials, strict=True)):
                    if active[j]:
                        # a rule that gives a Python float for arrays is a number (add's 1,
                        # sub's -1, sign's 0): computed once here, not on every run
                        with np.errstate(all="ignore"):
                            p = rule(self.m, *[probe] * (len(n.inputs) + 1))
                        edges.append((j, rule, (n.id, k), p if type(p) is float else None))
                needs = any(e[3] is None for e in edges) or n.op.gate is not None
                self.backward.append((n.id, n.inputs, edges, needs, n.op.gate))
        self.gated = any(b[4] is not None for b in self.backward)
        # arrays plan.run may write with out=: kept between runs only while they are few
        self.buffer_count = (sum(1 for f in self.forward if f[3] is not None)
                             + sum(2 * len(b[2]) for b in self.backward))
        self.wrt_ids = {v: graph.variables[v] for v in wrt}
        self.out = graph.output
        self.active_out = active[self.out]

    def run(self, columns: Mapping[str, "object"], size: int, reduce: bool = False,
            buffers: dict | None = None):
        """Forward and reverse pass over one chunk: (value array, {var: gradient array}),
        or with `reduce` their sums over the chunk's points, as floats (for a mean: no
        per-point arrays are broadcast or copied out).

        `buffers` (kept by the caller between runs, one per thread) receives the arrays of
        ufunc ops, products and sums (`out=`): repeated runs then allocate almost nothing,
        and the allocator does not hand memory back to the system and fault it in again on
        every run (that cost descent 3/4 of its time). Results returned without `reduce`
        may live in these buffers: the caller copies them before the next run."""
        np = self.np
        ndarray = np.ndarray
        empty = np.empty

        if buffers is None:  # fresh arrays, freed as soon as the pass is done with them
            def buf(key):
                return empty(size)
        else:
            def buf(key):
                b = buffers.get(key)
                if b is None or len(b) < size:
                    b = buffers[key] = empty(size)
                return b if len(b) == size else b[:size]

        values: dict[int, object] = dict(self.constant)
        for i, name in self.inputs:
            values[i] = columns[name]
        for i, rule, args, ufunc in self.forward:
            here = [values[j] for j in args]
            if ufunc is not None and any(type(a) is ndarray for a in here):
                values[i] = ufunc(*here, out=buf(i))
            else:
                values[i] = rule(np, *here)
        out = values[self.out]
        grads: dict[int, object] = {}
        if self.active_out:
            grads[self.out] = 1.0
        m = self.m
        multiply, negative, add = np.multiply, np.negative, np.add
        gated = self.gated
        reach: dict[int, object] = {self.out: True}  # per row: does the node get a gradient
        for i, args, edges, needs, gate in self.backward:
            g = grads.pop(i, None)
            if g is None:
                continue
            if needs or gated:
                here = [values[j] for j in args]
                if gated:
                    rows = reach.pop(i, False)
                    flags = gate(*here) if gate else None
                here.append(values[i])
            g_array = type(g) is ndarray
            for j, rule, key, p in edges:
                if gated:  # where and comparisons: rows of a branch not taken get nothing
                    flag = rows if flags is None else np.logical_and(rows, flags[key[1]])
                    if flag is False or (flag is not True and not flag.any()):
                        continue
                    prev = reach.get(j, False)
                    reach[j] = flag if prev is False else np.logical_or(prev, flag)
                    term = g * (rule(m, *here) if p is None else p)
                    if flag is not True:
                        term = np.where(flag, term, 0.0)
                    prev = grads.get(j)
                    grads[j] = term if prev is None else prev + term
                    continue
                if p is None:
                    p = rule(m, *here)
                if type(p) is float:  # add, sub, neg: ±1 needs no multiplication
                    # (0 still multiplies: g may be NaN or infinite, as in the scalar pass)
                    if p == 1.0:
                        term = g
                    elif not g_array:
                        term = -g if p == -1.0 else g * p
                    elif p == -1.0:
                        term = negative(g, out=buf(key))
                    else:
                        term = multiply(g, p, out=buf(key))
                elif type(g) is float and g == 1.0:  # the output's seed: 1·p is p, exactly
                    term = p
                elif g_array or type(p) is ndarray:
                    term = multiply(g, p, out=buf(key))
                else:
                    term = g * p
                prev = grads.get(j)
                if prev is None:
                    grads[j] = term
                elif type(prev) is ndarray or type(term) is ndarray:
                    # j's own buffer: written only until j itself is processed
                    grads[j] = add(prev, term, out=buf(("sum", j)))
                else:
                    grads[j] = prev + term
        if reduce:
            def total(a):
                return float(a.sum()) if type(a) is ndarray else float(a) * size

            return total(out), {v: total(grads.get(i, 0.0)) for v, i in self.wrt_ids.items()}
        value = np.broadcast_to(np.asarray(out, dtype=float), (size,))
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
        self._buffers: list[dict] = []  # one set of plan.run's buffers per thread
        # kept between runs (descent's steps) up to 64 MiB a thread; past that, as before
        self.reuse = self.plan.buffer_count * min(chunk, 1 << 24) * 8 <= 64 << 20

    def _over_chunks(self, data, scalars, size: int, work_on) -> list:
        """Run `work_on(start, stop, part, buffers)` on each chunk of the points (on
        threads when there are several), each thread with buffers of its own that persist
        between calls."""
        import numpy as np

        chunk, pool, reuse = self.chunk, self._buffers, self.reuse

        def work(start: int):
            stop = min(start + chunk, size)
            if start == 0 and stop == size:
                part = dict(data)
            else:
                part = {k: v[start:stop] for k, v in data.items()}
            part.update(scalars)
            if not reuse:
                with np.errstate(all="ignore"):  # numpy's error state is per thread
                    return work_on(start, stop, part, None)
            buffers = pool.pop() if pool else {}  # list.pop and append are atomic
            try:
                with np.errstate(all="ignore"):
                    return work_on(start, stop, part, buffers)
            finally:
                pool.append(buffers)

        starts = range(0, size, chunk)
        if self.threads > 1 and len(starts) > 1:
            # imported here, like numpy: it costs 5 ms of start-up (logging) otherwise
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(self.threads) as pool_:
                return list(pool_.map(work, starts))
        return [work(s) for s in starts]

    def _size(self, data, size):
        if size is None:
            size = len(next(iter(data.values()))) if data else 1
        return size

    def __call__(self, data: Mapping[str, "object"], scalars: Mapping[str, float] = {},
                 size: int | None = None) -> BatchResult:
        import numpy as np

        size = self._size(data, size)
        value = np.empty(size)
        gradient = {v: np.empty(size) for v in self.wrt}
        plan = self.plan

        def work_on(start, stop, part, buffers):
            val, grads = plan.run(part, stop - start, False, buffers)
            value[start:stop] = val  # copied out of the buffers before they are reused
            for v, g in grads.items():
                gradient[v][start:stop] = g

        self._over_chunks(data, scalars, size, work_on)
        return BatchResult(value, gradient)

    def mean(self, data: Mapping[str, "object"], scalars: Mapping[str, float] = {},
             size: int | None = None) -> tuple[float, list[float]]:
        """The mean of the output over the points, and its gradient (the mean of the
        gradients): what descent needs, reduced inside the plan, chunk by chunk."""
        import numpy as np

        size = self._size(data, size)
        plan = self.plan
        if 0 < size <= self.chunk and self.reuse:  # one chunk (descent's usual case)
            part = dict(data)
            part.update(scalars)
            pool = self._buffers
            buffers = pool.pop() if pool else {}
            try:
                with np.errstate(all="ignore"):
                    parts = [plan.run(part, size, True, buffers)]
            finally:
                pool.append(buffers)
        else:
            parts = self._over_chunks(data, scalars, size, lambda start, stop, part, buffers:
                                      plan.run(part, stop - start, True, buffers))
        if not parts:
            return math.nan, [math.nan] * len(self.wrt)
        value = sum(val for val, _ in parts) / size
        return value, [sum(g[v] for _, g in parts) / size for v in self.wrt]


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
