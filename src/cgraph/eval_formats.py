"""Renderers for `eval`: pure functions from an Evaluation to text or a Rich renderable
(`FORMATS` maps each `--format` to one), and the non-finite warnings `--strict` turns into
errors.

All formats show the same rows (`rows`): every node with its op, its own formula, its value
and the numbers beside it (`columns`): ∂output/∂node, one column per output with several
outputs; forward mode's tangent instead; and σ when the inputs carry uncertainties. JSON
follows the contract exactly (a stable interface for scripts).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from .graph import Evaluation
from .ops import CONST
from . import numtext
from .printing import node_expr, node_labels


@dataclass
class Column:
    key: str  # the TSV/CSV header and the JSON node field: grad, grad_p, tangent, sigma
    heading: str  # the table's and Markdown's: ∂f/∂node, ṅ = ∂n/∂x, σ
    values: list
    gradient: bool = False  # a literal is not differentiated by: no number for constants


SUMMARY_SEP = "   "  # between the `name = value` pairs of a summary line


def columns(ev) -> list[Column]:
    """The numbers shown beside each node's value."""
    if hasattr(ev, "tangents"):  # forward mode (cgraph.forward.ForwardEvaluation)
        x = ev.unit
        cols = [Column("tangent", f"∂node/∂{x}" if x else "tangent",
                       [ev.tangent(i) for i in range(len(ev.values))])]
    elif ev.outputs:
        cols = [Column(f"grad_{name}", f"∂{name}/∂node", adjoint, gradient=True)
                for (name, _), adjoint in zip(ev.outputs, ev.adjoints)]
    else:
        cols = [Column("grad", f"∂{ev.graph.output_name}/∂node", ev.grads, gradient=True)]
    if getattr(ev, "sigmas", None) is not None:
        cols.append(Column("sigma", "σ", ev.sigmas))
    return cols


def rows(ev: Evaluation):
    """(id, op, name, label, expr, value, *columns) for every node, in topological order.

    A constant (a literal, `pi`, `e`) is not something anyone differentiates by: its
    gradients are None (JSON null, an empty cell in tables, TSV and CSV)."""
    graph = ev.graph
    labels = node_labels(graph)
    cols = columns(ev)
    for n in graph.nodes:
        const = n.op is CONST
        yield (n.id, n.op.name, n.name, labels[n.id], node_expr(graph, n, labels),
               ev.values[n.id], *(None if const and c.gradient else c.values[n.id]
                                  for c in cols))


def _cell(x, digits=None) -> str:
    return "" if x is None else numtext.text(x, digits)


def _json_head(ev, wrt) -> dict:
    graph = ev.graph
    num = numtext.json_value
    head = {"program": graph.source}
    if hasattr(ev, "tangents"):
        head.update({"mode": "forward", "output": graph.output_name, "value": num(ev.value),
                     "inputs": {k: num(float(v)) for k, v in ev.bindings.items()},
                     "tangent": {k: num(v) for k, v in ev.seed.items()},
                     "derivative": num(ev.tangent(graph.output))})
        return head
    uncertainty = {u.output: u for u in ev.uncertainty or ()}
    if ev.outputs:
        head["outputs"] = {}
        for (name, i), adjoint in zip(ev.outputs, ev.adjoints):
            entry = {"value": num(ev.values[i]), "gradient": {
                v: num(adjoint[graph.variables[v]]) for v in (wrt or graph.variables)}}
            if name in uncertainty:
                entry["uncertainty"] = _json_uncertainty(uncertainty[name])
            head["outputs"][name] = entry
        head["inputs"] = {k: num(float(v)) for k, v in ev.bindings.items()}
        return head
    head.update({
        "output": graph.output_name,
        "value": num(ev.value),
        "inputs": {k: num(float(v)) for k, v in ev.bindings.items()},
        "gradient": {k: num(v) for k, v in ev.gradient(wrt).items()},
    })
    if uncertainty:
        head["uncertainty"] = _json_uncertainty(uncertainty[graph.output_name])
    return head


def _json_uncertainty(u) -> dict:
    num = numtext.json_value
    shares = u.shares()
    return {"sigma": num(u.sigma), "inputs": {
        v: {"sigma": num(s), "term": num(u.terms[v]), "share": num(shares[v])}
        for v, s in u.inputs.items()}}


def json_chunks(ev: Evaluation, wrt=None, per_chunk: int = 2048):
    """The JSON object in pieces, so a 10^6-node result is never one string in memory.

    Node records are written directly (names and formulas are identifiers, numbers and
    operators: nothing in them needs escaping), several times faster than json.dumps."""
    graph = ev.graph
    head = _json_head(ev, wrt)
    yield json.dumps(head, ensure_ascii=False, allow_nan=False)[:-1] + ', "nodes": ['
    labels = node_labels(graph)
    nodes = graph.nodes
    cols = columns(ev)
    record = ('{"id": %d, "op": "%s", "name": %s, "expr": "%s", "inputs": [%s], '
              '"value": %s' + "".join(f', "{c.key}": %s' for c in cols) + '}')
    for start in range(0, len(nodes), per_chunk):
        part = nodes[start:start + per_chunk]
        values = numtext.json_texts(ev.values[start:start + per_chunk])
        numbers = [numtext.json_texts(c.values[start:start + per_chunk]) for c in cols]
        pieces = []
        for n, v, *more in zip(part, values, *numbers):
            if n.op is CONST:
                more = ["null" if c.gradient else x for c, x in zip(cols, more)]
            ids = ", ".join(map(str, n.inputs))
            name = f'"{n.name}"' if n.name else "null"
            piece = record % (n.id, n.op.name, name, node_expr(graph, n, labels), ids, v,
                              *more)
            if n.call:  # made by a call of a program's function: "neuron#2"
                piece = f'{piece[:-1]}, "call": "{n.call}"}}'
            pieces.append(piece)
        yield ("" if start == 0 else ", ") + ", ".join(pieces)
    yield "]}"


def to_json(ev: Evaluation, wrt=None) -> str:
    return "".join(json_chunks(ev, wrt))


def to_delimited(ev: Evaluation, delimiter: str, digits: int | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(("id", "op", "name", "expr", "value", *(c.key for c in columns(ev))))
    for i, op, name, _, expr, value, *more in rows(ev):
        writer.writerow((i, op, name or "", expr, numtext.text(value, digits),
                         *(_cell(x, digits) for x in more)))
    return out.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("|", r"\|")


def summary_lines(ev: Evaluation, wrt=None, digits: int | None = None) -> list[str]:
    """`f = -12` and `∂f/∂x = -3   ∂f/∂y = -3   ∂f/∂z = 4`; with several outputs, a value
    line and then a gradient line for each; `f = 4 ± 0.5` and the variance's shares when
    the inputs carry uncertainties; forward mode's derivative."""
    num = numtext.text
    graph = ev.graph
    if hasattr(ev, "tangents"):
        f, x = graph.output_name, ev.unit
        d = num(ev.tangent(graph.output), digits)
        from .forward import dotted

        seed = ", ".join(f"{dotted(v)} = {num(t, digits)}" for v, t in ev.seed.items())
        return [f"{f} = {num(ev.value, digits)}",
                f"∂{f}/∂{x} = {d}" if x else f"{dotted(f)} = {d} (along {seed})"]
    outputs = ev.outputs or [(graph.output_name, graph.output)]
    adjoints = ev.adjoints or [ev.grads]
    uncertainty = {u.output: u for u in ev.uncertainty or ()}
    values = []
    for name, i in outputs:
        pm = f" ± {num(uncertainty[name].sigma, digits)}" if name in uncertainty else ""
        values.append(f"{name} = {num(ev.values[i], digits)}{pm}")
    lines = [SUMMARY_SEP.join(values)]
    for (name, _), adjoint in zip(outputs, adjoints):
        lines.append(SUMMARY_SEP.join(
            f"∂{name}/∂{v} = {num(adjoint[graph.variables[v]], digits)}"
            for v in (wrt if wrt is not None else graph.variables)))
    for name, _ in outputs:
        if name in uncertainty:
            shares = uncertainty[name].shares()
            lines.append(f"variance of {name}: " + ", ".join(
                f"{v} {numtext.text(100 * s, numtext.SHARE)}%" for v, s in shares.items()))
    return lines


def to_markdown(ev: Evaluation, wrt=None, digits: int | None = None) -> str:
    cols = columns(ev)
    lines = ["| # | node | op | expr | value | " + " | ".join(c.heading for c in cols) + " |",
             "|--:|---|---|---|--:|" + "--:|" * len(cols)]
    for i, op, _, label, expr, value, *more in rows(ev):
        lines.append(f"| {i} | {_md_cell(label)} | {op} | `{expr}` | "
                     f"{numtext.text(value, digits)} | "
                     + " | ".join(_cell(x, digits) for x in more) + " |")
    value, *rest = summary_lines(ev, wrt, digits)
    rest = [line.replace(SUMMARY_SEP, ", ") for line in rest if line]
    lines += ["", f"**{value}**" + (f"; {rest[0]}" if rest else "")] + rest[1:]
    return "\n".join(lines) + "\n"


def to_table(ev: Evaluation, wrt=None, digits: int = numtext.TABLE):
    """A Rich renderable: the node table, then the output value and the gradient."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from .layout import Fitted, Pairs

    graph = ev.graph
    outputs = {i for _, i in getattr(ev, "outputs", None) or [(None, graph.output)]}
    title = Text(_one_line(graph.source), style="bold", overflow="fold")
    table = Table(header_style="bold", show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("node", no_wrap=True, overflow="fold", max_width=24)
    table.add_column("op", no_wrap=True)
    table.add_column("expr", overflow="fold", ratio=1, min_width=8)
    table.add_column("value", justify="right", no_wrap=True)
    for c in columns(ev):
        table.add_column(c.heading, justify="right", no_wrap=True)
    calls = any(n.call for n in graph.nodes)
    if calls:  # which call of a program's function made the node
        table.add_column("call", style="dim", no_wrap=True)
    for i, op, name, label, expr, value, *more in rows(ev):
        style = "bold" if i in outputs else None
        cells = [str(i), Text(label, style="cyan" if name else ""), op, expr,
                 numtext.text(value, digits), *(_cell(x, digits) for x in more)]
        if calls:
            cells.append(graph.nodes[i].call or "")
        table.add_row(*cells, style=style)
    value, *rest = summary_lines(ev, wrt, digits)
    # summary lines are `name = value` pairs joined by three spaces: on a narrow terminal
    # they wrap between pairs, never inside one
    footer = [Pairs(value.split(SUMMARY_SEP), style="bold green")]
    footer += [Pairs(line.split(SUMMARY_SEP)) for line in rest if line]
    return Group(title, Fitted(table), Text(""), *footer)


def _one_line(text: str) -> str:
    """The program as a one-line title: statements joined by '; ', long ones shortened."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    text = "; ".join(line for line in lines if line)
    return text if len(text) <= 200 else text[:199] + "…"


def _json_lines(ev: Evaluation, wrt=None):
    yield from json_chunks(ev, wrt)
    yield "\n"


FORMATS = {
    "table": lambda ev, o: to_table(ev, o.wrt, o.digits or numtext.TABLE),
    "tsv": lambda ev, o: to_delimited(ev, "\t", o.digits),
    "csv": lambda ev, o: to_delimited(ev, ",", o.digits),
    "json": lambda ev, o: _json_lines(ev, o.wrt),
    "markdown": lambda ev, o: to_markdown(ev, o.wrt, o.digits),
}


def nonfinite_messages(ev: Evaluation) -> list[str]:
    """What `--strict` objects to: where a non-finite value first appears, and which
    gradients are not finite."""
    messages = []
    node = ev.first_nonfinite()
    if node is not None:
        labels = node_labels(ev.graph)
        expr = node_expr(ev.graph, node, labels)
        what = f"{labels[node.id]} = {expr}" if expr != labels[node.id] else expr
        messages.append(f"node {node.id} ({what}) is "
                        f"{numtext.text(ev.values[node.id])}, from finite inputs")
    bad = ev.nonfinite_gradients()
    if bad:
        messages.append("non-finite gradient for " + ", ".join(bad))
    return messages
