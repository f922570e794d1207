"""Renderers for `eval`: pure functions from an Evaluation to text or a Rich renderable
(`FORMATS` maps each `--format` to one), and the non-finite warnings `--strict` turns into
errors.

All formats show the same rows (`rows`): every node with its op, its own formula, its value
and ∂output/∂node. JSON follows the contract exactly (a stable interface for scripts).
"""

from __future__ import annotations

import csv
import io
import json

from .graph import Evaluation
from .ops import CONST
from . import numtext
from .printing import node_expr, node_labels

COLUMNS = ("id", "op", "name", "expr", "value", "grad")


def rows(ev: Evaluation):
    """(id, op, name, label, expr, value, grad) for every node, in topological order.

    A constant (a literal, `pi`, `e`) is not something anyone differentiates by: its
    grad is None (JSON null, an empty cell in tables, TSV and CSV)."""
    graph = ev.graph
    labels = node_labels(graph)
    for n in graph.nodes:
        yield (n.id, n.op.name, n.name, labels[n.id], node_expr(graph, n, labels),
               ev.values[n.id], None if n.op is CONST else ev.grads[n.id])


def _grad_text(grad, digits=None) -> str:
    return "" if grad is None else numtext.text(grad, digits)


def json_chunks(ev: Evaluation, wrt=None, per_chunk: int = 2048):
    """The JSON object in pieces, so a 10^6-node result is never one string in memory.

    Node records are written directly (names and formulas are identifiers, numbers and
    operators: nothing in them needs escaping), several times faster than json.dumps."""
    graph = ev.graph
    head = {
        "program": graph.source,
        "output": graph.output_name,
        "value": numtext.json_value(ev.value),
        "inputs": {k: numtext.json_value(float(v)) for k, v in ev.bindings.items()},
        "gradient": {k: numtext.json_value(v) for k, v in ev.gradient(wrt).items()},
    }
    yield json.dumps(head, ensure_ascii=False, allow_nan=False)[:-1] + ', "nodes": ['
    labels = node_labels(graph)
    nodes = graph.nodes
    record = ('{"id": %d, "op": "%s", "name": %s, "expr": "%s", "inputs": [%s], '
              '"value": %s, "grad": %s}')
    for start in range(0, len(nodes), per_chunk):
        part = nodes[start:start + per_chunk]
        values = numtext.json_texts(ev.values[start:start + per_chunk])
        grads = numtext.json_texts(ev.grads[start:start + per_chunk])
        pieces = []
        for n, v, g in zip(part, values, grads):
            if n.op is CONST:
                g = "null"
            ids = ", ".join(map(str, n.inputs))
            name = f'"{n.name}"' if n.name else "null"
            pieces.append(record % (n.id, n.op.name, name, node_expr(graph, n, labels), ids,
                                    v, g))
        yield ("" if start == 0 else ", ") + ", ".join(pieces)
    yield "]}"


def to_json(ev: Evaluation, wrt=None) -> str:
    return "".join(json_chunks(ev, wrt))


def to_delimited(ev: Evaluation, delimiter: str, digits: int | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i, op, name, _, expr, value, grad in rows(ev):
        writer.writerow((i, op, name or "", expr, numtext.text(value, digits),
                         _grad_text(grad, digits)))
    return out.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("|", r"\|")


def gradient_pairs(ev: Evaluation, wrt=None, digits: int | None = None) -> list[str]:
    """`∂f/∂x = -3` for each variable."""
    f = ev.graph.output_name
    return [f"∂{f}/∂{v} = {numtext.text(g, digits)}" for v, g in ev.gradient(wrt).items()]


def summary_lines(ev: Evaluation, wrt=None, digits: int | None = None) -> tuple[str, str]:
    """`f = -12` and `∂f/∂x = -3   ∂f/∂y = -3   ∂f/∂z = 4`."""
    f = ev.graph.output_name
    value = f"{f} = {numtext.text(ev.value, digits)}"
    return value, "   ".join(gradient_pairs(ev, wrt, digits))


def to_markdown(ev: Evaluation, wrt=None, digits: int | None = None) -> str:
    f = ev.graph.output_name
    lines = [f"| # | node | op | expr | value | ∂{f}/∂node |",
             "|--:|---|---|---|--:|--:|"]
    for i, op, _, label, expr, value, grad in rows(ev):
        lines.append(f"| {i} | {_md_cell(label)} | {op} | `{expr}` | "
                     f"{numtext.text(value, digits)} | {_grad_text(grad, digits)} |")
    value, grads = summary_lines(ev, wrt, digits)
    lines += ["", f"**{value}**" + (f"; {grads.replace('   ', ', ')}" if grads else "")]
    return "\n".join(lines) + "\n"


def to_table(ev: Evaluation, wrt=None, digits: int = numtext.TABLE):
    """A Rich renderable: the node table, then the output value and the gradient."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from .layout import Fitted, Pairs

    graph = ev.graph
    f = graph.output_name
    title = Text(_one_line(graph.source), style="bold", overflow="fold")
    table = Table(header_style="bold", show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("node", no_wrap=True, overflow="fold", max_width=24)
    table.add_column("op", no_wrap=True)
    table.add_column("expr", overflow="fold", ratio=1, min_width=8)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column(f"∂{f}/∂node", justify="right", no_wrap=True)
    for i, op, name, label, expr, value, grad in rows(ev):
        style = "bold" if i == graph.output else None
        table.add_row(str(i), Text(label, style="cyan" if name else ""), op, expr,
                      numtext.text(value, digits), _grad_text(grad, digits), style=style)
    f_value, _ = summary_lines(ev, wrt, digits)
    return Group(title, Fitted(table), Text(""), Text(f_value, style="bold green"),
                 Pairs(gradient_pairs(ev, wrt, digits)))


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
