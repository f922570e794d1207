"""`cgraph check`: reverse-mode gradients against central finite differences."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

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
    # where the step left where the program is finite (`at x - 6.06e-06 it is NaN`), and
    # a smaller step that stays inside (None: none useful, the point is too close to it)
    outside: str | None = None
    inside: float | None = None
    # the difference at another step s, to look for a step at which it agrees
    differ: Callable[[float], float] | None = field(default=None, repr=False, compare=False)
    point: float = 0.0  # the value of the variable stepped
    # the output's size at x ± step (0: not known, as for a Hessian entry): where it is so
    # large that its rounding moves the difference more than the tolerances allow, the
    # finite differences cannot see the derivative (1e12 + 1e-3*y: ∂f/∂y's difference is 0)
    size: float = 0.0
    # a Hessian entry's two keys in JSON, {first: {second: row}} (None: a gradient's row)
    pair: tuple | None = None
    # its keys in JSON when not (variable,) or pair: with several outputs, the output's
    # name first, ("q", "x") for ∂q/∂x, ("q", "x", "y") for ∂²q/∂x∂y
    path: tuple | None = None

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numeric)

    @property
    def rel_error(self) -> float:
        error = self.abs_error
        if error != error:  # NaN: max(0, NaN) is 0, and 0 is no error
            return error
        scale = max(abs(self.analytic), abs(self.numeric))
        return error / scale if scale else 0.0

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
        def sides(s, x=x, name=name):  # every node's value at x + s and at x - s
            return [graph.forward({**ev.bindings, name: x + d}) for d in (s, -s)]

        def differ(s, sides=sides):  # the central difference at step s
            return _central(*sides(s), s, graph.output)
        up, down = sides(h)
        numeric = _central(up, down, h, graph.output)
        rows.append(Row(name, analytic, numeric, h, differ=differ, point=x,
                        size=max(abs(up[graph.output]), abs(down[graph.output]))))
        if not math.isfinite(numeric) and math.isfinite(analytic) \
                and math.isfinite(ev.value):
            _left_domain(rows[-1], name, x, lambda s, sides=sides: [
                _not_finite(values[graph.output]) for values in sides(s)])
        for n in kinky:
            signs = zip(base_side[n.id], _kink_sides(n, up), _kink_sides(n, down))
            if n.id not in warnings and any(_straddles(s) for s in signs):
                warnings[n.id] = n
    labels = node_labels(graph)
    notes = [f"node {n.id} ({node_expr(graph, n, labels)}) sits on a kink here: finite "
             "differences cannot be trusted for it" for n in warnings.values()]
    return rows, notes


def _central(up: list[float], down: list[float], s: float, output: int) -> float:
    """The central difference of the output, from every node's values at x + s and x - s."""
    return (up[output] - down[output]) / (2 * s)


TRIES = 15  # steps tried below the one that failed, a tenth at a time
INSIDE = 1e-3  # a suggested step: this fraction of the largest (a power of 10 below the
# one that left) whose both sides are finite, for a truncation error of about INSIDE²


def _left_domain(row: Row, name: str, x: float, at) -> None:
    """The central difference of a finite derivative is not finite: say on which side the
    step left where the program is finite, and find a smaller step that stays inside.
    `at(s)`: for x + s and x - s, None where what is compared is finite there, else what is
    not (`it is NaN`)."""
    bad = [(sign, what) for sign, what in zip("+-", at(row.step)) if what]
    if not bad:
        return
    sign, what = bad[0]
    row.outside = f"at {name} {sign} {numtext.text(row.step, numtext.ERROR)} {what}"
    for k in range(1, TRIES + 1):
        s = row.step * 10.0 ** -k
        if s <= _floor(x):
            return
        if not any(at(s)):
            step = float(f"{s * INSIDE:.0e}")
            if step > _floor(x) and not any(at(step)):
                row.inside = step
            return


def _floor(x: float) -> float:
    """The smallest step worth taking at x: below it, rounding error rules the difference."""
    return 1e3 * 2.0 ** -52 * max(abs(x), 2.0 ** -1022)


def agreeing_step(row: Row, rtol: float, atol: float) -> float | None:
    """The largest step, a tenth at a time below the row's own, at which the difference
    agrees with the analytic derivative (None: none does: the derivative is wrong, or the
    point is too close to where the program changes fast for any step to see it)."""
    if row.differ is None or not row.finite:
        return None
    for k in range(1, TRIES + 1):
        s = float(f"{row.step * 10.0 ** -k:.0e}")
        if s <= _floor(row.point):
            break
        if Row(row.variable, row.analytic, row.differ(s), s).ok(rtol, atol):
            return s
    return None


ROUNDING = 4  # ulps of the output each side may be off by, in a few operations' rounding


def lost_in_rounding(row: Row, rtol: float, atol: float) -> bool:
    """The mismatch is within what rounding the output at its size can do to a central
    difference at the row's step (ROUNDING ulps each side, over 2·step), which is more
    than the tolerances: the finite differences cannot see the derivative there."""
    if not row.size or not row.finite or row.ok(rtol, atol):
        return False
    rounding = ROUNDING * math.ulp(row.size) / row.step
    return rounding > atol + rtol * abs(row.analytic) and row.abs_error <= rounding


def _not_finite(v: float, what: str = "it") -> str | None:
    return None if math.isfinite(v) else f"{what} is {numtext.text(v)}"


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
            for r in more:  # a Hessian entry's label names its output already
                r.path = (name,) + (r.pair or (r.variable,))
                if not r.pair:
                    r.variable = f"∂{name}/∂{r.variable}"
        rows += more
        notes += [n for n in more_notes if n not in notes]
    return rows, notes


def check_hessian(graph, bindings, wrt=None, eps: float | None = None) -> list[Row]:
    """One row per Hessian entry ∂²f/∂xᵢ∂xⱼ (i <= j): forward-over-reverse against central
    differences of the reverse-mode gradient, (∇f(x + h·eⱼ) - ∇f(x - h·eⱼ))ᵢ / 2h."""
    from .hessian import entry, hessian

    h = hessian(graph, bindings, wrt)
    rows = []
    columns = {}
    inside = math.isfinite(graph.forward(bindings)[graph.output])

    def sides(v, x, s):  # the evaluations at x + s and x - s
        return [graph.evaluate({**bindings, v: x + d}) for d in (s, -s)]

    for j, v in enumerate(h.variables):
        x = bindings[v]
        step = eps if eps is not None else DEFAULT_EPS * max(1.0, abs(x))
        evs = sides(v, x, step)
        up, down = (e.gradient(h.variables) for e in evs)
        numeric = {u: (up[u] - down[u]) / (2 * step) for u in h.variables}
        if inside and not all(math.isfinite(e.value) for e in evs):
            # log's gradient 1/x is finite at x - h < 0, where log is not: no difference
            numeric = dict.fromkeys(numeric, math.nan)
        columns[v] = (step, numeric)
    for i, u in enumerate(h.variables):
        for j, v in enumerate(h.variables[i:], i):
            step, numeric = columns[v]
            def differ(s, v=v, u=u, x=bindings[v]):
                evs = sides(v, x, s)
                if not all(math.isfinite(e.value) for e in evs):
                    return math.nan
                up, down = (e.gradient([u])[u] for e in evs)
                return (up - down) / (2 * s)
            rows.append(Row(entry(graph.output_name, u, v), float(h.matrix[i, j]),
                            numeric[u], step, differ=differ, point=bindings[v], pair=(u, v)))
            if inside and not math.isfinite(numeric[u]) and math.isfinite(rows[-1].analytic):
                def at(s, v=v, u=u, x=bindings[v]):
                    return [_not_finite(e.value) or _not_finite(
                        e.gradient([u])[u], f"∂{graph.output_name}/∂{u}")
                        for e in sides(v, x, s)]
                _left_domain(rows[-1], v, bindings[v], at)
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
    said: dict = field(default_factory=dict, repr=False, compare=False)  # failure's

    def mismatches(self) -> list[str]:
        return [r.variable for r in self.rows if not r.ok(self.rtol, self.atol)]

    def failure(self, what: str = "gradient") -> str | None:
        """The error message when the check fails (exit 1), or None (worked out once: the
        search for a step that agrees costs forward passes)."""
        if what not in self.said:
            self.said[what] = self._failure(what)
        return self.said[what]

    def _failure(self, what: str) -> str | None:
        bad = self.mismatches()
        if not bad:
            return None
        nonfinite = [r.variable for r in self.rows if not r.finite]
        mismatch = [v for v in bad if v not in nonfinite]
        parts = []
        if mismatch:
            parts.append(f"{what} mismatch for " + listed(mismatch))
            rows = {r.variable: r for r in self.rows}
            steps = {v: agreeing_step(rows[v], self.rtol, self.atol) for v in mismatch[:10]}
            agree = [v for v, step in steps.items() if step is not None]
            lost = [v for v in mismatch if v not in agree
                    and lost_in_rounding(rows[v], self.rtol, self.atol)]
            if lost:
                size = numtext.text(max(rows[v].size for v in lost), numtext.ERROR)
                parts[-1] += ((f"; for {listed(lost)}, " if lost != mismatch else "; ")
                              + f"the output (about {size}) is rounded more coarsely than "
                              "the step moves it: finite differences cannot check it here")
            if agree:
                step = numtext.text(min(steps[v] for v in agree))
                parts[-1] += ("; at a smaller step the difference agrees"
                              + ("" if agree == mismatch else f" for {listed(agree)}")
                              + f" (--eps {step}): the step is too large for the program here")
        if nonfinite:
            parts.append("not finite (nothing to compare) for " + listed(nonfinite))
        left = [r for r in self.rows if r.outside and r.variable in nonfinite]
        if left:
            where = "; ".join(r.outside for r in left[:3]) + (
                f"; and {len(left) - 3:,} more" if len(left) > 3 else "")
            parts[-1] += (": the finite-difference step leaves where the program is finite "
                          f"({where})")
            inside = [r.inside for r in left]
            if None in inside:
                parts[-1] += (", and no step stays inside that is not lost in rounding: "
                              "the point is too close to the edge")
            else:
                parts[-1] += f"; a smaller step stays inside: --eps {numtext.text(min(inside))}"
        return "; ".join(parts)


# -- rendering ----------------------------------------------------------------------------

def verdict(row: Row, rtol: float, atol: float) -> str:
    if not row.finite:
        return "NOT FINITE"
    return "ok" if row.ok(rtol, atol) else "MISMATCH"


def to_json(rows, notes, rtol, atol) -> str:
    """`variables`: a gradient's rows by variable; a Hessian's nested by its two variables,
    {"x": {"x": …, "y": …}, "y": {"y": …}} (i <= j); with several outputs, under each
    output's name ({"q": {"x": …}}): a script never splits a key (an element's name holds a
    comma), and diff's JSON nests the same way."""
    num = numtext.json_value
    variables = numtext.nest(
        (r.path or r.pair or (r.variable,), {"analytic": num(r.analytic), "numeric": num(r.numeric),
                  "abs_error": num(r.abs_error), "rel_error": num(r.rel_error),
                  "step": num(r.step), "ok": r.ok(rtol, atol)})  # x = inf: inf
        for r in rows)
    doc = {"ok": all(r.ok(rtol, atol) for r in rows), "rtol": rtol, "atol": atol,
           "variables": variables, "warnings": notes}
    return numtext.json_document(doc)


def to_tsv(rows, rtol, atol, digits=None) -> str:
    num = numtext.text
    first = "entry" if rows and rows[0].pair else "variable"  # a Hessian's: ∂²f/∂x∂y
    lines = [f"{first}\tanalytic\tnumeric\tabs_error\trel_error\tverdict"]
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
    table.add_column("entry" if rows and rows[0].pair else "variable", style="cyan")
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
