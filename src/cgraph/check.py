"""`cgraph check`: reverse-mode gradients against central finite differences."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from . import numtext
from .errors import listed
from .graph import Evaluation
from .printing import node_expr, node_labels, reading_order

# The step that balances truncation (h²) and rounding (ε/h) errors of a central difference.
DEFAULT_EPS = 6.055454452393343e-06  # cbrt(2**-52)


@dataclass
class Row:
    variable: str
    analytic: float
    numeric: float
    step: float

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numeric)

    @property
    def rel_error(self) -> float:
        scale = max(abs(self.analytic), abs(self.numeric))
        return self.abs_error / scale if scale else 0.0

    @property
    def finite(self) -> bool:
        return math.isfinite(self.analytic) and math.isfinite(self.numeric)

    def ok(self, rtol: float, atol: float) -> bool:
        """Both sides finite and within the tolerances: NaN against NaN (or an infinity
        against the same) checks nothing, so it does not pass."""
        return self.finite and self.abs_error <= atol + rtol * abs(self.numeric)


def _kink_sides(node, values) -> tuple[float, ...]:
    """For a node with kinks, the signed distance from each: the signs tell the branch."""
    return node.op.kinks(*(values[j] for j in node.inputs))


def check(ev: Evaluation, eps: float | None = None) -> tuple[list[Row], list[str]]:
    """One row per variable, and warnings for kinks the finite differences straddle."""
    graph = ev.graph
    kinky = [n for n in graph.nodes if n.op.kinks]
    base_side = {n.id: _kink_sides(n, ev.values) for n in kinky}
    warnings: dict[int, str] = {}
    rows = []
    gradient = ev.gradient()
    for name in reading_order(gradient):  # as eval lists them: W[1,1], W[1,2], …, x[1], …
        analytic = gradient[name]
        x = ev.bindings[name]
        h = eps if eps is not None else DEFAULT_EPS * max(1.0, abs(x))
        up = graph.forward({**ev.bindings, name: x + h})
        down = graph.forward({**ev.bindings, name: x - h})
        numeric = (up[graph.output] - down[graph.output]) / (2 * h)
        rows.append(Row(name, analytic, numeric, h))
        for n in kinky:
            sides = zip(base_side[n.id], _kink_sides(n, up), _kink_sides(n, down))
            if n.id not in warnings and any(_straddles(s) for s in sides):
                warnings[n.id] = n
    labels = node_labels(graph)
    notes = [f"node {n.id} ({node_expr(graph, n, labels)}) sits on a kink here: finite "
             "differences cannot be trusted for it" for n in warnings.values()]
    return rows, notes


def check_outputs(graph, bindings, outputs=None, eps: float | None = None,
                  hessian: bool = False) -> tuple[list[Row], list[str]]:
    """`check` (or `check_hessian`) of each named output; with several, each row's label
    says whose partial it is (`∂p/∂x`)."""
    graph.wrt_names()  # none: an error, as in diff, jacobian and hessian (not an empty table)
    targets = graph.output_nodes(outputs)
    rows, notes = [], []
    for name, node in targets:
        g = graph.with_output(name, node)
        if hessian:
            more, more_notes = check_hessian(g, bindings, eps=eps), []
        else:
            more, more_notes = check(g.evaluate(bindings), eps)
        if len(targets) > 1:
            for r in more:
                r.variable = f"∂{name}/∂{r.variable}"
        rows += more
        notes += [n for n in more_notes if n not in notes]
    return rows, notes


def check_hessian(graph, bindings, wrt=None, eps: float | None = None) -> list[Row]:
    """One row per Hessian entry ∂²f/∂xᵢ∂xⱼ (i <= j): forward-over-reverse against central
    differences of the reverse-mode gradient, (∇f(x + h·eⱼ) - ∇f(x - h·eⱼ))ᵢ / 2h."""
    from .hessian import hessian

    h = hessian(graph, bindings, wrt)
    rows = []
    columns = {}
    for j, v in enumerate(h.variables):
        x = bindings[v]
        step = eps if eps is not None else DEFAULT_EPS * max(1.0, abs(x))
        up = graph.evaluate({**bindings, v: x + step}).gradient(h.variables)
        down = graph.evaluate({**bindings, v: x - step}).gradient(h.variables)
        columns[v] = (step, {u: (up[u] - down[u]) / (2 * step) for u in h.variables})
    for i, u in enumerate(h.variables):
        for j, v in enumerate(h.variables[i:], i):
            step, numeric = columns[v]
            rows.append(Row(f"{u},{v}", float(h.matrix[i, j]), numeric[u], step))
    return rows


def _straddles(sides) -> bool:
    signs = {(s > 0) - (s < 0) for s in sides if s == s}
    return 0 in signs or len(signs) > 1


@dataclass
class Report:
    """What `cgraph check` shows: the rows, the kink warnings, and the tolerances."""

    rows: list[Row]
    notes: list[str]
    rtol: float
    atol: float

    def mismatches(self) -> list[str]:
        return [r.variable for r in self.rows if not r.ok(self.rtol, self.atol)]

    def failure(self, what: str = "gradient") -> str | None:
        """The error message when the check fails (exit 1), or None."""
        bad = self.mismatches()
        if not bad:
            return None
        nonfinite = [r.variable for r in self.rows if not r.finite]
        mismatch = [v for v in bad if v not in nonfinite]
        parts = []
        if mismatch:
            parts.append(f"{what} mismatch for " + listed(mismatch))
        if nonfinite:
            parts.append("not finite (nothing to compare) for " + listed(nonfinite))
        return "; ".join(parts)


# -- rendering ----------------------------------------------------------------------------

def verdict(row: Row, rtol: float, atol: float) -> str:
    if not row.finite:
        return "NOT FINITE"
    return "ok" if row.ok(rtol, atol) else "MISMATCH"


def to_json(rows, notes, rtol, atol) -> str:
    num = numtext.json_value
    doc = {
        "ok": all(r.ok(rtol, atol) for r in rows), "rtol": rtol, "atol": atol,
        "variables": {r.variable: {
            "analytic": num(r.analytic), "numeric": num(r.numeric),
            "abs_error": num(r.abs_error), "rel_error": num(r.rel_error),
            "step": r.step, "ok": r.ok(rtol, atol)} for r in rows},
        "warnings": notes,
    }
    return json.dumps(doc, ensure_ascii=False, allow_nan=False)


def to_tsv(rows, rtol, atol, digits=None) -> str:
    num = numtext.text
    lines = ["variable\tanalytic\tnumeric\tabs_error\trel_error\tverdict"]
    for r in rows:
        lines.append("\t".join([r.variable, num(r.analytic, digits), num(r.numeric, digits),
                                num(r.abs_error, numtext.ERROR),
                                num(r.rel_error, numtext.ERROR),
                                verdict(r, rtol, atol)]))
    return "\n".join(lines) + "\n"


def to_table(rows, rtol, atol, digits=numtext.CHECK):
    from rich.table import Table

    from .layout import Fitted, Pairs

    num = numtext.text
    table = Table(header_style="bold", show_edge=False, pad_edge=False)
    table.add_column("variable", style="cyan")
    for col in ("analytic", "numeric", "abs error", "rel error"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("verdict")
    for r in rows:
        ok = r.ok(rtol, atol)
        table.add_row(r.variable, num(r.analytic, digits), num(r.numeric, digits),
                      num(r.abs_error, numtext.ERROR_CELL),
                      num(r.rel_error, numtext.ERROR_CELL),
                      "[green]ok[/]" if ok else f"[bold red]{verdict(r, rtol, atol)}[/]")
    # the rule, broken (where it must) before its relation, each side whole; its right
    # side before its + only where that side is wider than a line
    rule = Pairs(["pass when", "|analytic - numeric|",
                  [f"<= {num(atol)}", f"+ {num(rtol)}·|numeric|"]], sep=" ", hang=4)
    return Fitted(table, rule)


FORMATS = {
    "table": lambda r, o: to_table(r.rows, r.rtol, r.atol),
    "tsv": lambda r, o: to_tsv(r.rows, r.rtol, r.atol),
    "json": lambda r, o: to_json(r.rows, r.notes, r.rtol, r.atol) + "\n",
}
