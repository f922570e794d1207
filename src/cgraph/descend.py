"""`cgraph descend`: gradient descent on a program's output, the tutorial's training loop.

Each step is a forward pass to the cost, a backward pass to ∂cost/∂W for the trainable
weights W (every other binding held fixed), and an optimizer update. The graph is built
once; with data, the cost is the mean of the program over the rows, evaluated by the
batch evaluator (compiled once) over all rows of a mini-batch at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import numtext
from .batch import evaluator
from .errors import EvaluationError, InputError, Interrupted
from .graph import Graph
from .optimizers import OPTIMIZERS
from .printing import counted
from .scalar import is_finite


@dataclass
class Step:
    step: int
    cost: float
    weights: list[float]
    grads: list[float]


@dataclass
class Run:
    wrt: list[str]
    start_weights: list[float]
    start_cost: float | None = None
    history: list[Step] = field(default_factory=list)  # 100-200 steps, for the plot
    stopped: str = ""
    notes: list[str] = field(default_factory=list)  # warnings for standard error (the
    # run's own, then the optimizer's: Newton's damping)
    weights: list[float] = field(default_factory=list)
    cost: float = math.nan
    grad_norm: float = math.nan
    steps: int = 0


def _stop(v: float, digits: int = numtext.STOP) -> str:
    return numtext.text(v, digits)


def _norm(g) -> float:
    return math.sqrt(sum(x * x for x in g))


def _finite(values) -> bool:
    return all(map(is_finite, values))


GROWING = 20  # steps in a row the cost may grow before a warning says so


def check_options(lr: float, until: float | None, seed: int) -> None:
    """InputError for an option value descent cannot use."""
    if not (math.isfinite(lr) and lr > 0):
        raise InputError(f"--lr must be a positive number, not {numtext.text(lr)} "
                         "(a step against the gradient is what goes downhill)")
    if until is not None and not (math.isfinite(until) and until > 0):
        raise InputError(f"--until must be a positive number, not {numtext.text(until)}")
    if seed < 0:
        raise InputError(f"--seed must be 0 or more, not {seed}")


def descend(graph: Graph, bindings: dict, wrt: list[str], *, lr: float = 0.01,
            steps: int = 1000, until: float | None = None, optimizer: str = "gd",
            data: dict | None = None, batch_size: int | None = None, seed: int = 0,
            epochs: int | None = None, trace=None, on_step=None) -> Run:
    """Run gradient descent; returns the whole run (stops, final weights, notes).

    `trace`, if given, is called with every Step as it is taken (--trace streams them to
    a file; nothing is kept in memory)."""
    check_options(lr, until, seed)
    graph.check_names(wrt)
    for v in wrt:
        if data is not None and v in data:  # binding it would clash with the column
            raise InputError(f"--wrt: '{v}' is a column of the --data file: its values "
                             "come from the rows and are not trained")
        if v not in bindings:
            raise InputError(f"--wrt: '{v}' needs a starting value, e.g. {v}=0")
    if not wrt:
        raise InputError("nothing to train: give --wrt, or bind the weights as NAME=VALUE")
    if optimizer == "newton":
        if data is not None:
            raise InputError("--optimizer newton needs one program's Hessian: "
                             "it does not take --data")
        from .hessian import size_check

        size_check(len(wrt))
        opt = OPTIMIZERS[optimizer](lr, *_second_order(graph, bindings, wrt))
    else:
        opt = OPTIMIZERS[optimizer](lr)
    weights = [float(bindings[v]) for v in wrt]
    run = Run(list(wrt), list(weights))
    cost_and_grad = (_scalar_objective(graph, bindings, wrt) if data is None
                     else _data_objective(graph, bindings, wrt, data, batch_size, seed))
    per_epoch = cost_and_grad.batches if data is not None else 1
    total = steps if data is None else (epochs or 100) * per_epoch
    # Mini-batches: each step's cost is one batch's, so the stop rule and the growing-cost
    # note look at an epoch's mean cost and mean gradient, once an epoch; the start and the
    # end are reported as the whole data's cost.
    whole = _data_objective(graph, bindings, wrt, data, None, seed) if per_epoch > 1 else None
    unit = "epoch" if whole is not None else "step"
    epoch_cost, epoch_grads = 0.0, None
    previous = None
    growing = 0
    every = 1  # the plot's stride: every step at first, doubled whenever 200 are kept
    try:
        for k in range(1, total + 1):
            cost, grads = cost_and_grad(weights, k - 1)
            if run.start_cost is None:
                run.start_cost = cost if whole is None else whole(weights, 0)[0]
            if not _finite([cost]) or not _finite(grads):
                raise EvaluationError(_nonfinite_cause(k, cost, grads, weights, run, bindings,
                                                       data, growing))
            norm = _norm(grads)
            run.cost, run.grad_norm, run.steps, run.weights = cost, norm, k - 1, list(weights)
            seen = (cost, norm)  # what the stop rule sees: this step, or a whole epoch
            if whole is not None:
                epoch_cost += cost
                epoch_grads = list(grads) if epoch_grads is None else \
                    [a + b for a, b in zip(epoch_grads, grads)]
                seen = None
                if k % per_epoch == 0:
                    seen = (epoch_cost / per_epoch, _norm([g / per_epoch for g in epoch_grads]))
                    epoch_cost, epoch_grads = 0.0, None
            if seen is not None:
                now, norm = seen
                if until is not None and norm < until:
                    run.stopped = (f"gradient norm {_stop(norm)} < "
                                   f"{_stop(until, numtext.SETTING)}")
                elif until is not None and previous is not None and abs(previous - now) < until:
                    run.stopped = (f"cost change {_stop(abs(previous - now))} < "
                                   f"{_stop(until, numtext.SETTING)}")
                if run.stopped:
                    if whole is not None:  # the whole data's, at the weights it stopped at
                        cost, grads = whole(run.weights, 0)
                        run.cost, run.grad_norm = cost, _norm(grads)
                    break
                growing = growing + 1 if previous is not None and now > previous else 0
                if growing == GROWING:
                    n = k // per_epoch
                    run.notes.append(f"the cost grew for {GROWING} {unit}s in a row ({unit}s "
                                     f"{n - GROWING} to {n}, up to {numtext.text(now)}); "
                                     "the step size --lr may be too large")
                previous = now
            if trace is not None:
                trace(Step(k, cost, weights, grads))
            if (k - 1) % every == 0:
                run.history.append(Step(k, cost, [], []))
                if len(run.history) > 200:
                    run.history, every = run.history[::2], every * 2
            try:
                weights = opt.step(weights, grads)
            except FloatingPointError as e:
                raise EvaluationError(f"diverged at step {k}: {e}") from None
            if not _finite(weights):
                raise EvaluationError(f"diverged at step {k}: a weight is no longer finite; "
                                      "try a smaller --lr")
            if on_step:
                on_step(k, total)
        else:
            cost, grads = (cost_and_grad if whole is None else whole)(weights, total)
            run.cost, run.grad_norm, run.steps, run.weights = cost, _norm(grads), total, weights
            run.stopped = (counted(total, "step") if data is None else
                           f"{counted(total // per_epoch, 'epoch')} ({counted(total, 'step')})")
    except Interrupted as e:  # Ctrl-C: say where the run was, or its weights are lost
        if run.start_cost is not None and not e.note:
            e.note = where_it_stopped(run)
        raise
    run.notes += getattr(opt, "notes", [])
    return run


def where_it_stopped(run: Run) -> str:
    """An interrupted run's last point, numbered as --trace numbers its rows: the cost
    and the weights it had moved (the first ten, on a big model). A weight still at its
    starting value is left out: a variable bound without --wrt whose gradient is 0 is
    trained by name only, and the value to start again from is the one given."""
    from .errors import listed

    moved = [f"{v}={numtext.text(w)}" for v, w, w0 in
             zip(run.wrt, run.weights, run.start_weights) if not _same(w, w0)]
    point = f"at {listed(moved)}" if moved else "the weights as given"
    return f"at step {run.steps + 1:,} the cost was {numtext.text(run.cost)}, {point}"


def _same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def _nonfinite_cause(k, cost, grads, weights, run, bindings, data, growing) -> str:
    """Why the cost (or its gradient) is not finite: the data, the weights, or the step."""
    what = (f"the cost is {numtext.text(cost)}" if not _finite([cost])
            else "the gradient is not finite")
    if data is not None:
        import numpy as np

        for name, column in data.items():
            bad = np.flatnonzero(~np.isfinite(column))
            if len(bad):
                return (f"{what} at step {k} because the data is not finite: column "
                        f"'{name}' is {numtext.text(float(column[bad[0]]))} in data row "
                        f"{bad[0] + 1} ({len(bad):,} non-finite in all)")
    fixed = [(n, v) for n, v in bindings.items() if n not in run.wrt and not is_finite(v)]
    if fixed:
        return (f"{what} at step {k} because the binding {fixed[0][0]} = "
                f"{numtext.text(fixed[0][1])} is not finite")
    point = ", ".join(f"{v}={numtext.text(w)}" for v, w in zip(run.wrt, weights))
    # a finite cost whose derivative is not (sqrt(w) at w=0): say which, not that the
    # program is not finite
    why = "the program is not finite there"
    if _finite([cost]):
        v, g = next((v, g) for v, g in zip(run.wrt, grads) if not _finite([g]))
        why = (f"the cost is {numtext.text(cost)} there, but its derivative by {v} is "
               f"{numtext.text(g)}")
    if k == 1:
        return f"{what} at the starting weights ({point}): {why}; start somewhere else"
    if growing >= 3 or not _finite([cost]):
        return (f"diverged at step {k}: {what} after the cost grew from "
                f"{numtext.text(run.start_cost)}; the step size is too large, try a "
                "smaller --lr")
    return f"{what} at step {k} (weights {point}): {why}"


def _scalar_objective(graph: Graph, bindings: dict, wrt: list[str]):
    point = dict(bindings)
    ids = [graph.variables[v] for v in wrt]
    out = graph.output

    def cost_and_grad(weights, _step):
        point.update(zip(wrt, weights))
        values = graph.forward(point)
        adjoint = graph.backward(values)
        return values[out], [adjoint[i] for i in ids]

    return cost_and_grad


def _second_order(graph: Graph, bindings: dict, wrt: list[str]):
    """(hessian_at, cost_at) for Newton's method, at weights in `wrt` order."""
    from .hessian import hessian

    point = dict(bindings)

    def hessian_at(weights):
        point.update(zip(wrt, weights))
        return hessian(graph, point, wrt).matrix

    def cost_at(weights):
        return graph.forward({**point, **dict(zip(wrt, weights))})[graph.output]

    return hessian_at, cost_at


def _data_objective(graph, bindings, wrt, data, batch_size, seed):
    """Mean cost and gradient over the data's rows (or over mini-batches of them)."""
    import numpy as np

    fixed = {k: v for k, v in bindings.items() if k not in wrt}
    evaluate = evaluator(graph, fixed, wrt)  # compiled once per graph, kept
    rows = len(next(iter(data.values())))
    size = min(batch_size or rows, rows)
    batches = -(-rows // size)
    rng = np.random.default_rng(seed)
    order = np.arange(rows)
    current = {}

    def cost_and_grad(weights, step):
        k = step % batches
        if size < rows and k == 0:
            rng.shuffle(order)  # a new epoch: a fresh permutation of the rows
            current.clear()
        if k not in current:
            pick = order[k * size:(k + 1) * size] if size < rows else slice(None)
            current.clear()
            current[k] = {name: col[pick] for name, col in data.items()}
        part = current[k]
        return evaluate.mean(part, dict(zip(wrt, weights)))

    cost_and_grad.batches = batches
    return cost_and_grad


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(costs: list[float], width: int = 60) -> str:
    """The cost curve in one line of block characters (log scale when it spans decades)."""
    costs = [c for c in costs if math.isfinite(c)]
    if len(costs) < 2:
        return ""
    if len(costs) > width:
        costs = [costs[i * (len(costs) - 1) // (width - 1)] for i in range(width)]
    if min(costs) > 0 and max(costs) / min(costs) > 100:
        costs = [math.log10(c) for c in costs]
    lo, hi = min(costs), max(costs)
    if hi == lo:
        return SPARKS[0] * len(costs)
    return "".join(SPARKS[int((c - lo) / (hi - lo) * (len(SPARKS) - 1))] for c in costs)


# -- rendering ----------------------------------------------------------------------------

def to_json(run: Run, optimizer: str, lr: float) -> str:
    num = numtext.json_value
    doc = {
        "weights": {v: num(w) for v, w in zip(run.wrt, run.weights)},
        "cost": num(run.cost),
        "gradient_norm": num(run.grad_norm),
        "steps": run.steps,
        "stopped": run.stopped,
        "start": {"weights": {v: num(w) for v, w in zip(run.wrt, run.start_weights)},
                  "cost": num(run.start_cost)},
        "optimizer": optimizer, "lr": None if optimizer == "newton" else lr,  # not used
    }
    return numtext.json_document(doc)


# `descend --trace FILE`: CSV only (see cli_support.by_suffix): its rows stream out as the
# steps are taken, and an interrupted run keeps them; a Parquet file cut short has no
# footer and cannot be read at all
TRACE_SUFFIXES = {".csv": "csv"}


class TraceFile:
    """--trace: one CSV row per step (step, cost, each weight, each gradient), written as
    the steps are taken to a temporary file beside the target. The file is renamed into
    place when the run ends, however it ends: on divergence or Ctrl-C the rows so far are
    the record of what went wrong."""

    def __init__(self, path: str, wrt: list[str], inputs=()):
        from .files import check_target, is_standard_output

        if is_standard_output(path):  # the rows and the result, one after the other (or the
            # trace renamed over the result): neither reads
            import os

            if os.path.isfile(path):  # `--trace run.csv > run.csv`: the file is right
                raise InputError(f"--trace {path}: standard output goes to that file too, "
                                 "and carries descend's result; send the result elsewhere "
                                 "(> result.json) or the trace to another file")
            raise InputError(f"--trace {path}: standard output carries descend's result; "
                             "write the trace to a file (--trace run.csv) or to standard "
                             "error (--trace /dev/stderr)")
        check_target(path, inputs)  # now, before any work
        self.path, self.inputs, self.wrt = path, inputs, list(wrt)
        self.out = None  # opened at the first step: an input error leaves no file
        self.last = 0  # the last step written

    def __call__(self, step: Step) -> None:
        if self.out is None:
            from .data import csv_record, distinct
            from .files import AtomicWriter

            self.out = AtomicWriter(self.path, self.inputs, keep_partial=True)
            header = ["step", "cost"] + self.wrt + [f"grad_{v}" for v in self.wrt]
            self.out.write(csv_record(distinct(header)))
        self.out.write(",".join([str(step.step), numtext.text(step.cost),
                                 *map(numtext.text, step.weights),
                                 *map(numtext.text, step.grads)]) + "\n")
        self.last = step.step

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if self.out is None:
            return False
        if isinstance(error, Interrupted):  # the kept rows, on stderr
            kept = f"the trace {self.path} is incomplete: it stops after step {self.last:,}"
            error.note = f"{kept}; {error.note}" if error.note else kept
        return self.out.__exit__(kind, error, tb)

def to_table(run: Run, digits: int = numtext.DESCENT, plot: bool = False):
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from .layout import Fitted, Pairs

    num = numtext.text

    table = Table(header_style="bold", show_edge=False, pad_edge=False)
    table.add_column("")
    table.add_column("start", justify="right")
    table.add_column("final", justify="right")
    for v, a, b in zip(run.wrt, run.start_weights, run.weights):
        table.add_row(Text(v, style="cyan"), num(a, digits), num(b, digits))
    table.add_row(Text("cost", style="bold"), num(run.start_cost, digits),
                  num(run.cost, digits))
    parts = [Fitted(table), Text(""),
             Pairs([f"gradient norm {num(run.grad_norm, numtext.ERROR)}",
                    f"after {counted(run.steps, 'step')};", f"stopped: {run.stopped}"], sep=" ")]
    if plot:
        parts.append(_Spark([s.cost for s in run.history]))
    return Group(*parts)


class _Spark:
    """The cost curve, as wide as the terminal allows (at most 60 characters)."""

    def __init__(self, costs):
        self.costs = costs

    def __rich_console__(self, console, options):
        from rich.text import Text

        line = sparkline(self.costs, width=max(2, min(60, options.max_width - 5)))
        if line:
            yield Text.assemble(("cost ", "dim"), (line, "green"))


FORMATS = {
    "table": lambda run, o: to_table(run, plot=o.terminal),
    "json": lambda run, o: to_json(run, o.optimizer, o.lr) + "\n",
}
