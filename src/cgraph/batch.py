"""Values and gradients over arrays of points, with numpy: the same registry, vectorized.

`evaluate_batch(graph, columns)` runs the forward and reverse passes once per chunk of
points instead of once per point. Each op's `array` rule and its partial rules (with `m` =
numpy) do the work, so batch and scalar results agree op for op. What makes it fast:

* a plan made once per graph: constant subgraphs are folded to scalars, nodes that do
  not reach the output are dropped, and only nodes that depend on a differentiated
  variable get adjoints or partials (a constant exponent's ∂/∂b is never computed);
* the plan compiled to a kernel, a straight list of numpy calls writing into reused
  buffers, run as one generated function (`_Kernel`); descent's means are summed inside it;
* chunks of points small enough to stay in cache, spread over the machine's cores with
  threads (numpy releases the GIL inside its loops).

Programs with `where` or comparisons (which rows get a gradient depends on the values)
run through `_Plan.run`, an interpreter over the same plan.
"""

from __future__ import annotations

import math
import os
from types import SimpleNamespace
from typing import TYPE_CHECKING, Mapping

from .ops import CONST, OPS, VAR

if TYPE_CHECKING:  # Graph.evaluate_batch imports this module: no import back
    from .graph import Graph

# points per chunk: 128 KiB arrays, a few of them live at a time (CPU time of the kernel at
# 10^5 points, 1 thread: 2.9 ms, against 3.1 with 1 << 12 and 3.5 with 1 << 11)
CHUNK = 1 << 14


def array_namespace():
    """`m` for the partial rules over numpy arrays: each registry op by name."""
    import numpy as np

    return SimpleNamespace(**{op.name: (lambda rule: lambda *a: rule(np, *a))(op.array)
                              for op in OPS.values() if op.array})


class BatchResult:
    """What `evaluate_batch` returns (a plain class: a dataclass costs about a millisecond
    to build, and `dataclasses` to import)."""

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
        self.forward_ops = [n.op for n in nodes if varying[n.id] and n.op is not VAR]
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


class _Value:
    """A value of a kernel being compiled: what register `reg` holds at run time. `array`:
    one number per point (else one per run: descent's weights and what follows from them);
    `level`: 1 if it depends on the data alone, 2 if on the run's scalars too."""

    __slots__ = ("k", "reg", "array", "level")
    __array_ufunc__ = None  # numpy scalars defer to the methods below

    def __init__(self, k, reg: int, array: bool, level: int):
        self.k, self.reg, self.array, self.level = k, reg, array, level

    # the partial rules' `+ - *` and unary `-`, recorded as numpy ufuncs
    def __add__(self, o):
        return self.k.apply(self.k.np.add, (self, o))

    def __radd__(self, o):
        return self.k.apply(self.k.np.add, (o, self))

    def __sub__(self, o):
        return self.k.apply(self.k.np.subtract, (self, o))

    def __rsub__(self, o):
        return self.k.apply(self.k.np.subtract, (o, self))

    def __mul__(self, o):
        return self.k.apply(self.k.np.multiply, (self, o))

    def __rmul__(self, o):
        return self.k.apply(self.k.np.multiply, (o, self))

    def __neg__(self):
        return self.k.apply(self.k.np.negative, (self,))


def _bind(fn, args, out, to_out):
    """The call fn(R[a], ..., out=R[out]) (or R[out] = fn(R[a], ...)) as a function of R,
    specialised by arity: a kernel step costs one Python call and its register reads."""
    if to_out:
        if len(args) == 1:
            (a,) = args
            return lambda R: fn(R[a], out=R[out])
        if len(args) == 2:
            a, b = args
            return lambda R: fn(R[a], R[b], out=R[out])
        return lambda R: fn(*[R[a] for a in args], out=R[out])
    if len(args) == 1:
        (a,) = args

        def one(R):
            R[out] = fn(R[a])
        return one
    if len(args) == 2:
        a, b = args

        def two(R):
            R[out] = fn(R[a], R[b])
        return two

    def many(R):
        R[out] = fn(*[R[a] for a in args])
    return many


class _Kernel:
    """A plan compiled to a straight list of numpy calls over registers, for one choice of
    which inputs are per-run scalars and whether the outputs are reduced to sums.

    The plan's forward pass, and its reverse pass with the partial rules applied to
    recording values (`_Value`), each op becoming one ufunc call, in the same order and
    with the same arguments as `_Plan.run`, so results are the same to the bit. On the way:

    * constants fold, `1·p` and `x^1` cost nothing, the same call on the same arguments is
      made once (a partial that is a forward value, `cos` when the program has it too);
    * with `reduce` (descent's mean), an output that is a product only summed becomes a
      dot product (no per-row array, no separate sum), and what depends on the data alone
      (not on the weights) is computed only when the data changes;
    * every array a call writes goes into a buffer (`out=`), buffers reused as soon as
      their value is dead (a few arrays of a chunk stay in cache), and without `reduce` the
      output and gradients are written straight into the caller's arrays;
    * each call is bound once to its registers (`_bind`), so a run is a loop of plain
      calls: no per-op dispatch, and no Python source generated or executed.
    """

    def __init__(self, plan: _Plan, scalars: frozenset, reduce: bool):
        self.np = plan.np
        self.reduce = reduce
        self.init: list = []  # register -> what it holds before a run: a constant, or None
        self.code: list[list] = []  # [function, argument registers, register, out=, level]
        self.seen: dict = {}  # (function, arguments) -> _Value: each call made once
        self.consts: dict = {}  # float's hex -> register
        values: dict[int, object] = dict(plan.constant)
        self.inputs = []  # (register, name, is an array)
        for i, name in plan.inputs:
            array = name not in scalars
            values[i] = v = self._register(array, 1 if array else 2)
            self.inputs.append((v.reg, name, array))
        for op, (i, _, args, _) in zip(plan.forward_ops, plan.forward):
            values[i] = self.apply_op(op, [values[j] for j in args])
        m = SimpleNamespace(**{op.name: (lambda op: lambda *a: self.apply_op(op, a))(op)
                               for op in OPS.values() if op.array})
        grads: dict[int, object] = {}
        if plan.active_out:
            grads[plan.out] = 1.0
        for i, args, edges, _, _ in plan.backward:  # as _Plan.run, without gates
            g = grads.pop(i, None)
            if g is None:
                continue
            here = [values[j] for j in args] + [values[i]]
            for j, rule, _, p in edges:
                if p is None:
                    p = rule(m, *here)
                if type(p) is float:
                    term = g if p == 1.0 else -g if p == -1.0 else g * p
                elif type(g) is float and g == 1.0:
                    term = p
                else:
                    term = g * p
                prev = grads.get(j)
                grads[j] = term if prev is None else prev + term
        outputs = [values[plan.out]] + [grads.get(i, 0.0) for i in plan.wrt_ids.values()]
        # with reduce: which outputs are one number per run (the sum is it times the size)
        self.per_run = [not (isinstance(o, _Value) and o.array) for o in outputs]
        if reduce:
            outputs = [self._total(o, outputs) for o in outputs]
        self.outputs = [o.reg if isinstance(o, _Value) else float(o) for o in outputs]
        self.scale = [1.0] * len(outputs)  # each sum's factor (see _hoist)
        if reduce:
            self._hoist()
        self._allocate(outputs)

    # -- recording ------------------------------------------------------------------------

    def _register(self, array: bool, level: int, init=None) -> _Value:
        self.init.append(init)
        return _Value(self, len(self.init) - 1, array, level)

    def _arg(self, a) -> int:
        if isinstance(a, _Value):
            return a.reg
        key = float(a).hex()  # -0.0 and 0.0 apart, NaN equal to itself
        if key not in self.consts:
            self.consts[key] = self._register(False, 0, float(a)).reg
        return self.consts[key]

    def apply(self, fn, args, out: bool = True, array: bool | None = None):
        """The call fn(*args): a float now if every argument is one, else recorded."""
        np = self.np
        if not any(isinstance(a, _Value) for a in args):
            with np.errstate(all="ignore"):
                return float(fn(*args))
        if fn is np.multiply:  # 1·p is p, exactly (0·p is not 0: p may be NaN)
            if type(args[0]) is float and args[0] == 1.0:
                return args[1]
            if type(args[1]) is float and args[1] == 1.0:
                return args[0]
        regs = tuple(self._arg(a) for a in args)
        key = (fn, regs)
        if key in self.seen:
            return self.seen[key]
        if array is None:
            array = any(isinstance(a, _Value) and a.array for a in args)
        level = max(a.level for a in args if isinstance(a, _Value))
        v = self.seen[key] = self._register(array, level)
        self.code.append([fn, regs, v.reg, out and array, level])
        return v

    def apply_op(self, op, args):
        """A registry op on recorded values: its ufunc, or its array rule as one call."""
        np = self.np
        if op.ufunc:
            return self.apply(getattr(np, op.ufunc), args)
        if op.name == "pow" and type(args[1]) is float and args[1] != 0.5:
            # _power's own shortcuts: a^1 is a; a^2 is numpy's square either way
            if args[1] == 1.0:
                return args[0]
            if args[1] == 2.0:
                return self.apply(np.square, args[:1])
            return self.apply(np.power, args)
        return self.apply(_rule_call(op.array, np), args, out=False)

    def _total(self, o, outputs):
        """The sum over the chunk of output o: a product only summed is a dot product."""
        np = self.np
        if not isinstance(o, _Value) or not o.array:
            return o  # a number per run: times the size, in `run`
        made = next((c for c in self.code if c[2] == o.reg), None)
        used = sum(o.reg in c[1] for c in self.code) + sum(p is o for p in outputs)
        if made is not None and used == 1 and made[0] in (np.multiply, np.square):
            a = made[1] * (3 - len(made[1]))  # square(a) is a·a
            if all(self.init[r] is None and self._is_array(r) for r in a):
                made[0], made[1], made[3] = np.dot, a, False
                return o
        return self.apply(np.add.reduce, (o,), out=False, array=False)

    def _hoist(self) -> None:
        """An array c·a (c a power of 2) only summed: the sums take a, and c multiplies
        the sums, exactly as it would each term (the 2 of a squared error's 2·r)."""
        np = self.np
        reductions = {np.dot, np.add.reduce}
        sums = {r for r in self.outputs if type(r) is int}  # (a float output is a number)
        for c in list(self.code):
            if c[0] is not np.multiply or not c[3]:
                continue
            factors = [self.init[r] for r in c[1] if self.init[r] is not None]
            if len(factors) != 1 or not (math.isfinite(factors[0]) and factors[0] != 0 and
                                         math.frexp(factors[0])[0] in (0.5, -0.5)):
                continue
            a = next(r for r in c[1] if self.init[r] is None)
            users = [u for u in self.code if c[2] in u[1]]
            if (c[2] in sums or not users
                    or any(u[0] not in reductions or u[2] not in sums for u in users)):
                continue
            for u in users:
                times = u[1].count(c[2])
                u[1] = tuple(a if r == c[2] else r for r in u[1])
                for k, r in enumerate(self.outputs):
                    if type(r) is int and r == u[2]:
                        self.scale[k] *= factors[0] ** times

    def _is_array(self, reg: int) -> bool:
        if any(reg == r for r, _, array in self.inputs if array):
            return True
        return any(c[2] == reg and c[3] for c in self.code)

    # -- layout ---------------------------------------------------------------------------

    def _allocate(self, outputs) -> None:
        """Drop calls no output needs; split off the data-only ones (with `reduce`); give
        each array a buffer, reusing the buffers of dead values."""
        live = {r for r in self.outputs if type(r) is int}
        code = []
        for c in reversed(self.code):
            if c[2] in live:
                code.append(c)
                live.update(c[1])
        code.reverse()
        first = [c for c in code if self.reduce and c[4] == 1]
        body = [c for c in code if not (self.reduce and c[4] == 1)]
        self.calls = first + body  # what runs, in order
        # without reduce, outputs are written straight into the caller's arrays
        self.dests: list[tuple[int, int]] = []  # (output index, register)
        made_here = {c[2] for c in body if c[3]}
        if not self.reduce:
            claimed = set()
            for k, r in enumerate(self.outputs):
                if type(r) is int and r in made_here and r not in claimed:
                    claimed.add(r)
                    self.dests.append((k, r))
        dest_regs = {r for _, r in self.dests}
        self.copies = [(k, r) for k, r in enumerate(self.outputs)  # the others: copied
                       if not (type(r) is int and (k, r) in self.dests)]
        self.own = [c[2] for c in first if c[3]]  # data-only arrays: kept between runs
        last: dict[int, int] = {}
        for t, c in enumerate(body):
            for r in c[1]:
                last[r] = t
        for r in self.outputs:
            if type(r) is int:
                last[r] = len(body)
        for t in range(len(body) - 1, -1, -1):
            fn, args, out, to_out, _ = body[t]
            if not to_out:  # an array rule may hand back an input itself (x^p at p = 1):
                for r in args:  # the input's buffer lives as long as the result
                    last[r] = max(last.get(r, t), last.get(out, t))
        self.buffer_of: dict[int, int] = {}
        free: list[int] = []
        count = 0
        for t, c in enumerate(body):
            for r in set(c[1]):  # dying here: its buffer may be this call's out=
                if last.get(r) == t and r in self.buffer_of:
                    free.append(self.buffer_of[r])
            if c[3] and c[2] not in dest_regs:
                if not free:
                    free.append(count)
                    count += 1
                self.buffer_of[c[2]] = free.pop()
        self.buffers = count
        self.first = self._compile(first) if first else None
        self.body = self._compile(body)

    @staticmethod
    def _compile(code):
        """One function of R (the registers) that makes the calls in order: each call is
        bound once to its registers, so running is a loop of plain calls (no generated
        source: nothing is compiled from text)."""
        steps = [_bind(fn, args, out, to_out) for fn, args, out, to_out, _ in code]

        def run(R):
            for step in steps:
                step(R)
        return run

    # -- running --------------------------------------------------------------------------

    def state(self, size: int) -> dict:
        """Registers for chunks of `size` points, with their buffers: one per thread."""
        np = self.np
        R = list(self.init)
        pool = [np.empty(size) for _ in range(self.buffers)]
        for r, b in self.buffer_of.items():
            R[r] = pool[b]
        for r in self.own:
            R[r] = np.empty(size)
        return {"R": R, "size": size, "key": None,
                "bytes": (self.buffers + len(self.own)) * size * 8}

    def run(self, state: dict, part: Mapping[str, object], size: int, dests=None):
        """One chunk's pass. With `reduce`: (sum of values, [sums of gradients]); else
        the outputs are written into `dests` (value array, then one per gradient)."""
        R = state["R"]
        for r, name, _ in self.inputs:
            R[r] = part[name]
        if self.first is not None:  # the data-only calls, only when the data is new
            key = [R[r] for r, _, array in self.inputs if array]
            old = state["key"]
            if old is None or any(a is not b for a, b in zip(key, old)):
                state["key"] = None
                self.first(R)
                state["key"] = key
        if not self.reduce:
            for k, r in self.dests:
                R[r] = dests[k]
            self.body(R)
            for k, r in self.copies:
                dests[k][...] = R[r] if type(r) is int else r
            return None
        self.body(R)
        sums = [float(R[r] if type(r) is int else r) * (size if one else scale)
                for r, one, scale in zip(self.outputs, self.per_run, self.scale)]
        return sums[0], sums[1:]


_CALLS: dict = {}


def _rule_call(rule, np):
    """An array rule as a function of its arrays alone (one per rule, so calls compare)."""
    f = _CALLS.get(rule)
    if f is None:
        f = _CALLS[rule] = lambda *a: rule(np, *a)
    return f


# kept between runs (descent's steps) up to 64 MiB a thread; past that, fresh each run
KEEP = 64 << 20


class _Pool:
    """States (registers and buffers) for chunks of a given size, one taken per thread."""

    def __init__(self, make, keep):
        self.make, self.keep = make, keep
        self.free: dict[int, list] = {}

    def take(self, size: int):
        free = self.free.get(size)
        return free.pop() if free else self.make(size)  # list.pop and append are atomic

    def give(self, size: int, state) -> None:
        if self.keep(state):
            if size not in self.free and len(self.free) >= 4:
                self.free.clear()  # chunks of many sizes (a CSV's): keep the latest few
            self.free.setdefault(size, []).append(state)


class _Interpreted:
    """A gated plan (where, comparisons: which rows get a gradient depends on values),
    run by `_Plan.run`, behind the kernel's interface."""

    def __init__(self, plan: _Plan, reduce: bool, chunk: int):
        self.plan, self.reduce = plan, reduce
        reuse = plan.buffer_count * min(chunk, 1 << 24) * 8 <= KEEP
        self.pool = _Pool(lambda size: {} if reuse else None, lambda state: reuse)

    def run(self, state, part, size: int, dests=None):
        value, grads = self.plan.run(part, size, self.reduce, state)
        if self.reduce:
            return value, list(grads.values())
        dests[0][...] = value  # copied out of the buffers before they are reused
        for d, g in zip(dests[1:], grads.values()):
            d[...] = g
        return None


_EXECUTORS: dict = {}  # threads -> a pool of that many, started once, kept for later calls


def _executor(threads: int):
    pool = _EXECUTORS.get(threads)
    if pool is None:
        # imported here, like numpy: it costs 5 ms of start-up (logging) otherwise
        from concurrent.futures import ThreadPoolExecutor

        pool = _EXECUTORS.setdefault(threads, ThreadPoolExecutor(threads))
    return pool


class BatchEvaluator:
    """A graph compiled for repeated batch runs (descent calls it once per step)."""

    def __init__(self, graph: Graph, fixed: Mapping[str, float], wrt: list[str],
                 chunk: int = CHUNK, threads: int | None = None):
        self.plan = _Plan(graph, fixed, list(wrt))
        self.wrt = list(wrt)
        self.chunk = chunk
        self.threads = threads or min(os.cpu_count() or 1, 4)
        self._kernels: dict = {}  # (names given as scalars, reduce) -> compiled kernel

    def _kernel(self, scalars, reduce: bool):
        key = (frozenset(scalars), reduce)
        kernel = self._kernels.get(key)
        if kernel is None:
            if self.plan.gated:
                kernel = _Interpreted(self.plan, reduce, self.chunk)
            else:
                kernel = _Kernel(self.plan, key[0], reduce)
                kernel.pool = _Pool(kernel.state, lambda state: state["bytes"] <= KEEP)
            kernel = self._kernels[key] = kernel
        return kernel

    def _over_chunks(self, kernel, data, scalars, size: int, dests=None) -> list:
        """kernel.run on each chunk of the points (on threads when there are several),
        each thread with a state of its own, kept between calls."""
        import numpy as np

        pool = kernel.pool
        count = -(-size // self.chunk)
        threads = min(self.threads, count)
        if threads > 1:  # as many chunks on every thread: none waits for the last one
            count = -(-count // threads) * threads
        chunk = -(-size // count) if count else 1

        def work(start: int):
            stop = min(start + chunk, size)
            if start == 0 and stop == size:
                part = dict(data)
                out = dests
            else:
                part = {k: v[start:stop] for k, v in data.items()}
                out = dests and [d[start:stop] for d in dests]
            part.update(scalars)
            n = stop - start
            state = pool.take(n)
            try:
                with np.errstate(all="ignore"):  # numpy's error state is per thread
                    return kernel.run(state, part, n, out)
            finally:
                pool.give(n, state)

        starts = range(0, size, chunk)
        if threads == 1:
            return [work(s) for s in starts]
        # the calling thread works too, taking chunks from the same list as the helpers: on
        # a busy machine, where a helper may not get a core soon, nobody waits for it
        todo = list(reversed(starts))
        done: dict[int, object] = {}

        def drain():
            while True:
                try:
                    start = todo.pop()  # atomic: each chunk is taken once
                except IndexError:
                    return
                done[start] = work(start)

        helpers = [_executor(threads - 1).submit(drain) for _ in range(threads - 1)]
        try:
            drain()
        finally:
            for h in helpers:
                if not h.cancel():  # not started yet: cancelled; else wait for its chunk
                    h.result()
        return [done[s] for s in starts]

    def _size(self, data, size):
        if size is None:
            size = len(next(iter(data.values()))) if data else 1
        return size

    def __call__(self, data: Mapping[str, "object"], scalars: Mapping[str, float] = {},
                 size: int | None = None) -> BatchResult:
        import numpy as np

        size = self._size(data, size)
        dests = [np.empty(size) for _ in range(1 + len(self.wrt))]
        self._over_chunks(self._kernel(scalars, False), data, scalars, size, dests)
        return BatchResult(dests[0], dict(zip(self.wrt, dests[1:])))

    def mean(self, data: Mapping[str, "object"], scalars: Mapping[str, float] = {},
             size: int | None = None) -> tuple[float, list[float]]:
        """The mean of the output over the points, and its gradient (the mean of the
        gradients): what descent needs, reduced inside the kernel, chunk by chunk.

        Arrays of the data passed again (the same objects, unchanged) are known: what
        depends on them alone is not computed again."""
        size = self._size(data, size)
        kernel = self._kernel(scalars, True)
        if 0 < size <= self.chunk:  # one chunk (descent's usual case): no more than that
            import numpy as np

            pool = kernel.pool
            state = pool.take(size)
            try:
                with np.errstate(all="ignore"):
                    value, grads = kernel.run(state, {**data, **scalars}, size)
            finally:
                pool.give(size, state)
            return value / size, [g / size for g in grads]
        parts = self._over_chunks(kernel, data, scalars, size)
        if not parts:
            return math.nan, [math.nan] * len(self.wrt)
        value = sum(val for val, _ in parts) / size
        return value, [sum(g[k] for _, g in parts) / size for k in range(len(self.wrt))]


def evaluate_batch(graph: Graph, columns: Mapping[str, "object"],
                   wrt: list[str] | None = None, *, chunk: int = CHUNK,
                   threads: int | None = None) -> BatchResult:
    """The output and its gradient at every point of `columns` (name -> array).

    Every variable is either a column or a scalar in `columns`; scalars hold a variable
    fixed. Columns are 1-d arrays of one length, or arrays of any shapes that broadcast
    together as numpy's do (np.meshgrid's, for a surface): the results then have that
    shape. `wrt` picks the gradients (default: every variable given as a column).
    """
    import numpy as np

    arrays = {k: np.asarray(v, dtype=float) for k, v in columns.items()}
    graph.check_bindings(arrays, unknown=False)
    fixed = {k: float(v) for k, v in arrays.items() if v.ndim == 0}
    data = {k: v for k, v in arrays.items() if v.ndim > 0}
    shape = None
    if any(v.ndim > 1 for v in data.values()):  # evaluated flat, then given their shape
        try:
            shape = np.broadcast_shapes(*(v.shape for v in data.values()))
        except ValueError:
            shapes = ", ".join(f"{k} {v.shape}" for k, v in data.items())
            raise ValueError(f"columns of shapes that do not broadcast together: "
                             f"{shapes}") from None
        data = {k: np.broadcast_to(v, shape).ravel() for k, v in data.items()}
    sizes = {v.shape[0] for v in data.values()}
    if len(sizes) > 1:
        raise ValueError(f"columns have different lengths: {sorted(sizes)}")
    if wrt is None:
        wrt = [v for v in graph.variables if v in data]
    run = evaluator(graph, fixed, list(wrt), chunk, threads)
    result = run(data, size=sizes.pop() if sizes else 1)
    if shape is not None:
        result.value = np.reshape(result.value, shape)
        result.gradient = {k: np.reshape(g, shape) for k, g in result.gradient.items()}
    return result


_EVALUATORS = None  # graph -> {its bindings and options: BatchEvaluator}, while it lives


def evaluator(graph: Graph, fixed: Mapping[str, float], wrt: list[str], chunk: int = CHUNK,
              threads: int | None = None) -> BatchEvaluator:
    """The graph's BatchEvaluator for these fixed values and gradients, compiled once
    and kept while the graph lives: a script calling evaluate_batch again (Dask's
    map_blocks, once per block), or descent again, does not pay the compile (0.5 ms)."""
    global _EVALUATORS
    import weakref

    if _EVALUATORS is None:
        _EVALUATORS = weakref.WeakKeyDictionary()
    key = (tuple(sorted((k, float(v).hex()) for k, v in fixed.items())), tuple(wrt), chunk,
           threads)
    try:
        kept = _EVALUATORS.setdefault(graph, {})
    except TypeError:  # a graph that takes no weak references: compiled every time
        return BatchEvaluator(graph, fixed, wrt, chunk, threads)
    run = kept.get(key)
    if run is None:
        if len(kept) >= 8:
            kept.clear()
        run = kept[key] = BatchEvaluator(graph, fixed, wrt, chunk, threads)
    return run
