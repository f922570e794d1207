"""Renderers for `eval`: pure functions from an Evaluation to text or a Rich renderable.

All formats show the same rows (`rows`): every node with its op, its own formula, its value
and ∂output/∂node. JSON follows the contract exactly (a stable interface for scripts).
"""

from __future__ import annotations

import csv
import io
import json

from .graph import Evaluation
from .printing import format_number, node_expr, node_labels

COLUMNS = ("id", "op", "name", "expr", "value", "grad")


def rows(ev: Evaluation):
    """(id, op, name, label, expr, value, grad) for every node, in topological order."""
    graph = ev.graph
    labels = node_labels(graph)
    for n in graph.nodes:
        yield (n.id, n.op.name, n.name, labels[n.id], node_expr(graph, n, labels),
               ev.values[n.id], ev.grads[n.id])


def _json_number(v: float):
    if v - v == 0.0:
        return v
    return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")


def _json_text(v: float) -> str:
    if v - v == 0.0:
        return repr(v)
    return '"NaN"' if v != v else ('"Infinity"' if v > 0 else '"-Infinity"')


def json_chunks(ev: Evaluation, wrt=None, per_chunk: int = 2048):
    """The JSON object in pieces, so a 10^6-node result is never one string in memory.

    Node records are written directly (names and formulas are identifiers, numbers and
    operators: nothing in them needs escaping), several times faster than json.dumps."""
    graph = ev.graph
    head = {
        "program": graph.source,
        "output": graph.output_name,
        "value": _json_number(ev.value),
        "inputs": {k: _json_number(float(v)) for k, v in ev.bindings.items()},
        "gradient": {k: _json_number(v) for k, v in ev.gradient(wrt).items()},
    }
    yield json.dumps(head, ensure_ascii=False, allow_nan=False)[:-1] + ', "nodes": ['
    labels = node_labels(graph)
    nodes = graph.nodes
    record = ('{"id": %d, "op": "%s", "name": %s, "expr": "%s", "inputs": [%s], '
              '"value": %s, "grad": %s}')
    for start in range(0, len(nodes), per_chunk):
        part = nodes[start:start + per_chunk]
        values = _json_numbers(ev.values[start:start + per_chunk])
        grads = _json_numbers(ev.grads[start:start + per_chunk])
        pieces = []
        for n, v, g in zip(part, values, grads):
            ids = ", ".join(map(str, n.inputs))
            name = f'"{n.name}"' if n.name else "null"
            pieces.append(record % (n.id, n.op.name, name, node_expr(graph, n, labels), ids,
                                    v, g))
        yield ("" if start == 0 else ", ") + ", ".join(pieces)
    yield "]}"


def _json_numbers(values: list) -> list[str]:
    """JSON text for a list of floats: repr of the whole list formats them all in C."""
    texts = repr(values)[1:-1].split(", ") if values else []
    if "nan" in texts or "inf" in texts or "-inf" in texts:
        texts = [_json_text(v) for v in values]
    return texts


def to_json(ev: Evaluation, wrt=None) -> str:
    return "".join(json_chunks(ev, wrt))


def to_delimited(ev: Evaluation, delimiter: str, digits: int | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i, op, name, _, expr, value, grad in rows(ev):
        writer.writerow((i, op, name or "", expr, format_number(value, digits),
                         format_number(grad, digits)))
    return out.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("|", r"\|")


def summary_lines(ev: Evaluation, wrt=None, digits: int | None = None) -> tuple[str, str]:
    """`f = -12` and `∂f/∂x = -3   ∂f/∂y = -3   ∂f/∂z = 4`."""
    f = ev.graph.output_name
    value = f"{f} = {format_number(ev.value, digits)}"
    grads = "   ".join(f"∂{f}/∂{v} = {format_number(g, digits)}"
                       for v, g in ev.gradient(wrt).items())
    return value, grads


def to_markdown(ev: Evaluation, wrt=None, digits: int | None = None) -> str:
    f = ev.graph.output_name
    lines = [f"| # | node | op | expr | value | ∂{f}/∂node |",
             "|--:|---|---|---|--:|--:|"]
    for i, op, _, label, expr, value, grad in rows(ev):
        lines.append(f"| {i} | {_md_cell(label)} | {op} | `{expr}` | "
                     f"{format_number(value, digits)} | {format_number(grad, digits)} |")
    value, grads = summary_lines(ev, wrt, digits)
    lines += ["", f"**{value}**" + (f"; {grads.replace('   ', ', ')}" if grads else "")]
    return "\n".join(lines) + "\n"


def to_table(ev: Evaluation, wrt=None, digits: int = 6):
    """A Rich renderable: the node table, then the output value and the gradient."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    graph = ev.graph
    f = graph.output_name
    title = Text(_one_line(graph.source), style="bold", no_wrap=True, overflow="ellipsis")
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
                      format_number(value, digits), format_number(grad, digits), style=style)
    value, grads = summary_lines(ev, wrt, digits)
    footer = Text.assemble((value, "bold green"), "\n", grads)
    return Group(title, table, Text(""), footer)


def _one_line(text: str) -> str:
    """The program as a one-line title: statements joined by '; ', long ones shortened."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    text = "; ".join(line for line in lines if line)
    return text if len(text) <= 200 else text[:199] + "…"
