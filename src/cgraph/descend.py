"""`cgraph descend`: gradient descent on a program's output, the tutorial's training loop.

Each step is a forward pass to the cost, a backward pass to ∂cost/∂W for the trainable
weights W (every other binding held fixed), and an optimizer update. The graph is built
once; with data, the cost is the mean of the program over the rows, evaluated by the
batch evaluator (compiled once) over all rows of a mini-batch at a time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from . import numtext
from .batch import BatchEvaluator
from .data import csv_lines
from .errors import EvaluationError, InputError
from .graph import Graph
from .optimizers import OPTIMIZERS
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
    history: list[Step] = field(default_factory=list)  # every step, for --trace and plots
    stopped: str = ""
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


def descend(graph: Graph, bindings: dict, wrt: list[str], *, lr: float = 0.01,
            steps: int = 1000, until: float | None = None, optimizer: str = "gd",
            data: dict | None = None, batch_size: int | None = None, seed: int = 0,
            epochs: int | None = None, trace: bool = False, on_step=None) -> Run:
    """Run gradient descent; returns the whole run (stops, final weights, optional trace)."""
    graph.check_names(wrt)
    for v in wrt:
        if v not in bindings:
            raise InputError(f"--wrt: '{v}' needs a starting value, e.g. {v}=0")
    if not wrt:
        raise InputError("nothing to train: give --wrt, or bind the weights as NAME=VALUE")
    opt = OPTIMIZERS[optimizer](lr)
    weights = [float(bindings[v]) for v in wrt]
    run = Run(list(wrt), list(weights))
    cost_and_grad = (_scalar_objective(graph, bindings, wrt) if data is None
                     else _data_objective(graph, bindings, wrt, data, batch_size, seed))
    per_epoch = cost_and_grad.batches if data is not None else 1
    total = steps if data is None else (epochs or 100) * per_epoch
    previous = None
    for k in range(1, total + 1):
        cost, grads = cost_and_grad(weights, k - 1)
        if run.start_cost is None:
            run.start_cost = cost
        if not _finite([cost]) or not _finite(grads):
            raise EvaluationError(f"diverged at step {k}: the cost is {numtext.text(cost)}"
                                  + ("" if _finite(grads) else " and the gradient is not "
                                     "finite") + "; try a smaller --lr")
        norm = _norm(grads)
        run.cost, run.grad_norm, run.steps, run.weights = cost, norm, k - 1, list(weights)
        if until is not None and norm < until:
            run.stopped = f"gradient norm {_stop(norm)} < {_stop(until, numtext.SETTING)}"
            break
        if until is not None and previous is not None and abs(previous - cost) < until:
            run.stopped = (f"cost change {_stop(abs(previous - cost))} < "
                           f"{_stop(until, numtext.SETTING)}")
            break
        previous = cost
        if trace:
            run.history.append(Step(k, cost, list(weights), list(grads)))
        elif k == 1 or k % max(1, total // 200) == 0:
            run.history.append(Step(k, cost, [], []))
        weights = opt.step(weights, grads)
        if not _finite(weights):
            raise EvaluationError(f"diverged at step {k}: a weight is no longer finite; "
                                  "try a smaller --lr")
        if on_step:
            on_step(k, total)
    else:
        cost, grads = cost_and_grad(weights, total)
        run.cost, run.grad_norm, run.steps, run.weights = cost, _norm(grads), total, weights
        run.stopped = (f"{total} steps" if data is None
                       else f"{total // per_epoch} epochs ({total} steps)")
    return run


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


def _data_objective(graph, bindings, wrt, data, batch_size, seed):
    """Mean cost and gradient over the data's rows (or over mini-batches of them)."""
    import numpy as np

    fixed = {k: v for k, v in bindings.items() if k not in wrt}
    evaluate = BatchEvaluator(graph, fixed, wrt)
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
        "optimizer": optimizer, "lr": lr,
    }
    return json.dumps(doc, ensure_ascii=False, allow_nan=False)


def trace_csv(run: Run) -> str:
    header = ["step", "cost"] + run.wrt + [f"grad_{v}" for v in run.wrt]
    columns = [[str(s.step) for s in run.history],
               [numtext.text(s.cost) for s in run.history]]
    for k in range(len(run.wrt)):
        columns.append([numtext.text(s.weights[k]) for s in run.history])
    for k in range(len(run.wrt)):
        columns.append([numtext.text(s.grads[k]) for s in run.history])
    return ",".join(header) + "\n" + csv_lines(columns)


def to_table(run: Run, digits: int = numtext.DESCENT, plot: bool = False):
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    num = numtext.text

    table = Table(header_style="bold", show_edge=False, pad_edge=False)
    table.add_column("")
    table.add_column("start", justify="right")
    table.add_column("final", justify="right")
    for v, a, b in zip(run.wrt, run.start_weights, run.weights):
        table.add_row(Text(v, style="cyan"), num(a, digits), num(b, digits))
    table.add_row(Text("cost", style="bold"), num(run.start_cost, digits),
                  num(run.cost, digits))
    parts = [table, Text(""),
             Text(f"gradient norm {num(run.grad_norm, numtext.ERROR)} after {run.steps} steps; "
                  f"stopped: {run.stopped}")]
    if plot:
        line = sparkline([s.cost for s in run.history])
        if line:
            parts.append(Text.assemble(("cost ", "dim"), (line, "green")))
    return Group(*parts)


FORMATS = {
    "table": lambda run, o: to_table(run, plot=o.terminal),
    "json": lambda run, o: to_json(run, o.optimizer, o.lr) + "\n",
}
