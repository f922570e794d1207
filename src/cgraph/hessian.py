"""`cgraph hessian`: second partials by forward-over-reverse, on the tape.

A Hessian-vector product H·v is the forward-mode derivative, along v, of the reverse pass:
run the reverse pass on dual numbers (value, tangent) whose tangents are the forward-mode
tangents along v. The registry's partial rules, run with `m` = `DUAL` (a dual-number
namespace), give each local partial together with its own tangent, which is where the
second-order terms come from; `DUAL` itself is derived from the registry (an op's value
is its scalar rule, its tangent Σₖ partialₖ · tangentₖ), so there is no second table.

Unit vectors v = eⱼ give the Hessian column by column: n passes for n variables. The
tangents are numpy arrays holding a block of unit vectors at once, so a block costs one
Python-level pass over the tape (and numpy work proportional to its width).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Mapping

import numpy as np

from . import numtext, ops
from .errors import InputError
from .forward import Dual, _parts, _plus, scale, tangents
from .graph import Graph

MAX_VARIABLES = 4096  # a 4096² matrix of float64 is 134 MB
BLOCK_FLOATS = 1 << 21  # tangent floats per node list held at once (16 MiB)


def _scale(d, c):
    return None if d is None else scale(d, c)


def _lift(op: ops.Op):
    """The op on dual numbers: its scalar rule for the value, its partials for the tangent."""
    fn, rules = op.scalar, op.partials

    def on_duals(*args):
        parts = [_parts(a) for a in args]
        numbers = [v for v, _ in parts]
        out = fn(*numbers)
        numbers.append(out)
        d = None
        for k, (_, t) in enumerate(parts):
            if t is not None:
                d = _plus(d, scale(t, rules[k](ops.SCALAR, *numbers)))
        return out if d is None else Dual(out, d)

    on_duals.__name__ = op.name
    return on_duals


DUAL = SimpleNamespace(**{op.name: _lift(op) for op in ops.OPS.values() if op.scalar})


@dataclass
class Hessian:
    output: str
    variables: list[str]
    value: float
    gradient: list[float]
    matrix: np.ndarray  # matrix[i, j] = ∂²output/∂varᵢ∂varⱼ
    passes: int

    def eigenvalues(self) -> np.ndarray:
        return np.linalg.eigvalsh(self.matrix)

    def classify(self, tol: float = 1e-8) -> str | None:
        """What the point is, when the gradient is ~0 there: minimum, maximum, saddle or
        degenerate (a zero eigenvalue); None when it is not a stationary point."""
        scale = max(1.0, abs(self.value))
        if not np.all(np.isfinite(self.matrix)) or any(
                not abs(g) <= tol * scale for g in self.gradient):
            return None
        ev = self.eigenvalues()
        small = tol * max(1.0, float(np.max(np.abs(ev))))
        if np.any(np.abs(ev) <= small):
            return "degenerate"
        if np.all(ev > 0):
            return "minimum"
        if np.all(ev < 0):
            return "maximum"
        return "saddle"

    def asymmetry(self) -> float:
        """max |Hᵢⱼ - Hⱼᵢ|: forward-over-reverse computes both, in different orders."""
        return float(np.max(np.abs(self.matrix - self.matrix.T))) if self.matrix.size else 0.0


def entry(f: str, x: str, y: str) -> str:
    """One entry of the matrix as a person writes it: `∂²f/∂x∂y`, `∂²f/∂x²` on the
    diagonal; names hold no ∂, so `∂²f/∂W[1,2]∂x` splits where a comma would not.
    Where the result spells in ASCII, `d2f/dx^2` and `d2f/dW[1,2] dx` (the codec's
    `d2f/dW[1,2]2` would read as a name's digit). check's Hessian rows and the warnings
    say it so."""
    from .streams import ascii_only

    if ascii_only():
        return f"d2{f}/d{x}^2" if x == y else f"d2{f}/d{x} d{y}"
    return f"∂²{f}/∂{x}²" if x == y else f"∂²{f}/∂{x}∂{y}"


def nonfinite(h: Hessian) -> list[str]:
    """The entries of the matrix that are not finite, as `∂²f/∂x∂y` (`∂²f/∂x²` on the
    diagonal), each pair once (the upper triangle, row by row)."""
    f, names = h.output, h.variables
    return [entry(f, x, names[j])
            for i, x in enumerate(names) for j in range(i, len(names))
            if not math.isfinite(h.matrix[i, j]) or not math.isfinite(h.matrix[j, i])]


def size_check(n: int) -> None:
    """Refuse a Hessian too big to hold, saying how big it would be."""
    if n > MAX_VARIABLES:
        mb = n * n * 8 / 1e6
        size = (f"{numtext.text(mb / 1000, numtext.SHARE)} GB" if mb >= 1000
                else f"{numtext.text(mb, numtext.SHARE)} MB")
        raise InputError(f"a Hessian of {n:,} variables has {n * n:,} entries ({size} as "
                         f"float64) and needs {n:,} passes; the limit is "
                         f"{MAX_VARIABLES:,} variables (use --wrt to pick some)")


def hvp_block(graph: Graph, values, seed: Mapping[int, object], output: int):
    """Forward-over-reverse for the seeded directions: (adjoint values, adjoint tangents)
    of every node, the tangents being H·v for each direction v held in the seed's arrays."""
    nodes = graph.nodes
    tangent = tangents(graph, values, seed, [output])
    gated = graph.gated()  # where: which inputs get a gradient depends on the values
    if gated:  # found as the pass goes, as in Graph.backward
        live = [False] * len(nodes)
        live[output] = True
    else:
        live = graph.reaches_output(output)  # the graph's cached list: read, never written
    adj_v = [0.0] * len(nodes)
    adj_d: list = [None] * len(nodes)
    adj_v[output] = 1.0
    m = DUAL
    for i in range(output, -1, -1):
        if not live[i]:
            continue
        args = nodes[i].inputs
        if not args:
            continue
        g, gd = adj_v[i], adj_d[i]
        rules = nodes[i].op.partials
        gate = nodes[i].op.gate if gated else None
        flags = gate(*(values[a] for a in args)) if gate is not None else None
        inputs = [values[a] if tangent[a] is None else Dual(values[a], tangent[a])
                  for a in args]
        inputs.append(values[i] if tangent[i] is None else Dual(values[i], tangent[i]))
        for k, a in enumerate(args):
            if flags is not None and not flags[k]:
                continue  # the branch not taken: no gradient at all, as Graph.backward
            if gated:
                live[a] = True
            p, pd = _parts(rules[k](m, *inputs))
            adj_v[a] += g * p  # exactly Graph.backward's sum
            adj_d[a] = _plus(adj_d[a], _plus(_scale(gd, p), _scale(pd, g)))
    return adj_v, adj_d


def hessian(graph: Graph, bindings: Mapping[str, float], wrt=None, output=None,
            block: int | None = None) -> Hessian:
    """The Hessian of the output (or the named `output`) with respect to `wrt` (default:
    every variable) at `bindings`: n Hessian-vector products, `block` columns per pass
    over the tape (default: as many as BLOCK_FLOATS allows)."""
    (name, out), = graph.output_nodes([output] if output else None)
    wrt = graph.wrt_names(wrt)
    n = len(wrt)
    size_check(n)
    values = graph.forward(bindings)
    ids = [graph.variables[v] for v in wrt]
    block = block or max(1, min(n, BLOCK_FLOATS // max(1, len(graph.nodes))))
    matrix = np.zeros((n, n))
    gradient = None
    with np.errstate(all="ignore"):  # IEEE: inf and NaN are values here, not warnings
        for start in range(0, n, block):
            width = min(block, n - start)
            seed = {}
            for k in range(width):
                unit = np.zeros(width)
                unit[k] = 1.0
                seed[ids[start + k]] = unit
            adj_v, adj_d = hvp_block(graph, values, seed, out)
            if gradient is None:
                gradient = [adj_v[i] for i in ids]
            for r, i in enumerate(ids):
                if adj_d[i] is not None:
                    matrix[r, start:start + width] = adj_d[i]
    return Hessian(name, wrt, values[out], gradient, matrix, n)


# -- rendering ----------------------------------------------------------------------------

def to_json(h: Hessian) -> str:

    num = numtext.json_value
    doc = {"output": h.output, "variables": h.variables, "value": num(h.value),
           "gradient": {v: num(g) for v, g in zip(h.variables, h.gradient)},
           "matrix": [[num(x) for x in row] for row in h.matrix.tolist()]}
    return numtext.json_document(doc) + "\n"


def to_delimited(h: Hessian, delimiter: str, digits: int | None = None) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["variable", *h.variables])
    for v, row in zip(h.variables, h.matrix.tolist()):
        writer.writerow([v, *(numtext.text(x, digits) for x in row)])
    return out.getvalue()


def describe(h: Hessian) -> str | None:
    """`the gradient is ~0: a minimum (eigenvalues 0.3994, 1002)`, or None."""
    kind = h.classify()
    if kind is None:
        return None
    ev = ", ".join(numtext.text(x, 4) for x in h.eigenvalues().tolist())
    what = "degenerate point" if kind == "degenerate" else kind  # an adjective alone
    article = "an" if what[0] in "aeiou" else "a"
    plural = "eigenvalue" if len(h.variables) == 1 else "eigenvalues"
    return f"the gradient is ~0: {article} {what} ({plural} {ev})"


def to_table(h: Hessian, digits: int = numtext.TABLE):
    """The matrix, the value and gradient, and what the point is when it is stationary."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from .layout import Fitted, Pairs

    num = numtext.text
    table = Table(header_style="bold", show_edge=False, pad_edge=False)
    table.add_column(f"∂²{h.output}", style="cyan")
    for v in h.variables:
        table.add_column(v, justify="right", no_wrap=True)
    for v, row in zip(h.variables, h.matrix.tolist()):
        table.add_row(v, *(num(x, digits) for x in row))
    grads = Pairs([f"∂{h.output}/∂{v} = {num(g, digits)}"
                   for v, g in zip(h.variables, h.gradient)])
    products = f"{h.passes} Hessian-vector product{'s' if h.passes != 1 else ''}"
    parts = [Fitted(table), Text(f"(∂²{h.output}/∂row∂column, by {products})", style="dim"),
             Text(""), Text(f"{h.output} = {num(h.value, digits)}", style="bold green"), grads]
    note = describe(h)
    if note:
        parts.append(Text(note, style="bold"))
    return Group(*parts)


FORMATS = {
    "table": lambda h, o: to_table(h, o.digits or numtext.TABLE),
    "tsv": lambda h, o: to_delimited(h, "\t", o.digits),
    "csv": lambda h, o: to_delimited(h, ",", o.digits),
    "json": lambda h, o: to_json(h),
}
