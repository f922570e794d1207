"""`cgraph jacobian`: the matrix ∂outputᵢ/∂varⱼ, by forward or reverse mode.

Reverse mode gives one row (one output, every variable) per backward pass; forward mode
gives one column (every output, one variable) per tangent pass. So the cheaper mode is
the one with fewer passes: forward when there are fewer variables than outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from . import numtext
from .errors import InputError
from .forward import tangents
from .graph import Graph

MODES = ("forward", "reverse")


@dataclass
class Jacobian:
    outputs: list[str]
    variables: list[str]
    matrix: list[list[float]]  # matrix[i][j] = ∂outputs[i]/∂variables[j]
    mode: str
    values: list[float]  # the outputs' values

    @property
    def passes(self) -> int:
        return len(self.variables) if self.mode == "forward" else len(self.outputs)

    @property
    def passes_text(self) -> str:
        return f"{self.passes} pass{'es' if self.passes != 1 else ''}"

    def why(self, asked: bool = False) -> str:
        """`forward mode (2 variables < 3 outputs): 2 passes, one per variable`."""
        m, n = len(self.outputs), len(self.variables)
        outputs = f"{m} output{'s' if m != 1 else ''}"
        variables = f"{n} variable{'s' if n != 1 else ''}"
        reason = ("as asked" if asked else f"{variables} < {outputs}"
                  if self.mode == "forward" else f"{outputs} <= {variables}")
        per = "variable" if self.mode == "forward" else "output"
        return f"{self.mode} mode ({reason}): {self.passes_text}, one per {per}"


def nonfinite(jac: Jacobian) -> list[str]:
    """The entries of the matrix that are not finite, as `∂f/∂x`, row by row."""
    return [f"∂{f}/∂{v}" for f, row in zip(jac.outputs, jac.matrix)
            for v, d in zip(jac.variables, row) if d - d != 0]


def choose_mode(n_outputs: int, n_variables: int) -> str:
    """Forward mode when it needs fewer passes (one per variable) than reverse (one per
    output); reverse on a tie, since its pass also gives every node's adjoint."""
    return "forward" if n_variables < n_outputs else "reverse"


def jacobian(graph: Graph, bindings: Mapping[str, float], outputs=None, wrt=None,
             mode: str | None = None) -> Jacobian:
    """The Jacobian of the named `outputs` (default: the program's output) with respect to
    `wrt` (default: every variable) at the point `bindings`."""
    targets = graph.output_nodes(outputs)
    wrt = graph.wrt_names(wrt)
    if mode is None:
        mode = choose_mode(len(targets), len(wrt))
    elif mode not in MODES:
        raise InputError(f"--mode: '{mode}' is not one of {', '.join(MODES)}")
    values = graph.forward(bindings)
    ids = [i for _, i in targets]
    if mode == "reverse":
        matrix = []
        for i in ids:
            adjoint = graph.backward(values, output=i)
            matrix.append([adjoint[graph.variables[v]] for v in wrt])
    else:
        columns = []
        for v in wrt:
            t = tangents(graph, values, {graph.variables[v]: 1.0}, ids)
            columns.append([0.0 if t[i] is None else t[i] for i in ids])
        matrix = [list(row) for row in zip(*columns)]
    return Jacobian([n for n, _ in targets], wrt, matrix, mode, [values[i] for i in ids])


# -- rendering ----------------------------------------------------------------------------

def to_json(jac: Jacobian) -> str:

    doc = {"outputs": jac.outputs, "variables": jac.variables,
           "matrix": [[numtext.json_value(x) for x in row] for row in jac.matrix]}
    return numtext.json_document(doc) + "\n"


def to_delimited(jac: Jacobian, delimiter: str, digits: int | None = None) -> str:
    """A header row of variables, then one row per output, the output's name first."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["output", *jac.variables])
    for name, row in zip(jac.outputs, jac.matrix):
        writer.writerow([name, *(numtext.text(x, digits) for x in row)])
    return out.getvalue()


def to_latex(jac: Jacobian, digits: int | None = None) -> str:
    """A `pmatrix`: rows the outputs, columns the variables."""
    rows = " \\\\\n  ".join(" & ".join(numtext.latex(x, digits) for x in row)
                              for row in jac.matrix)
    return f"\\begin{{pmatrix}}\n  {rows}\n\\end{{pmatrix}}\n"


def to_table(jac: Jacobian, digits: int = numtext.TABLE, verbose: bool = False):
    """The matrix, and under it which mode made it (unless --verbose said so, and why, on
    standard error: once is enough)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from .layout import Fitted

    table = Table(header_style="bold", show_edge=False, pad_edge=False)
    table.add_column("∂", style="cyan")
    for v in jac.variables:
        table.add_column(v, justify="right", no_wrap=True)
    for name, row in zip(jac.outputs, jac.matrix):
        table.add_row(name, *(numtext.text(x, digits) for x in row))
    by = "" if verbose else f", by {jac.mode} mode: {jac.passes_text}"
    return Group(Fitted(table), Text(f"(∂row/∂column{by})", style="dim"))


FORMATS = {
    "table": lambda j, o: to_table(j, o.digits or numtext.TABLE, o.verbose),
    "tsv": lambda j, o: to_delimited(j, "\t", o.digits),
    "csv": lambda j, o: to_delimited(j, ",", o.digits),
    "json": lambda j, o: to_json(j),
    "latex": lambda j, o: to_latex(j, o.digits),
}
