"""Renderers for `eval`: pure functions from an Evaluation to text or a Rich renderable
(`FORMATS` maps each `--format` to one), and the non-finite warnings `--strict` turns into
errors.

All formats show the same rows (`rows`): every node with its op, its own formula, its value
and the numbers beside it (`columns`): ∂output/∂node, one column per output with several
outputs; forward mode's tangent instead; and σ when the inputs carry uncertainties. JSON
follows the contract exactly (a stable interface for scripts).
"""

from __future__ import annotations

import io
from bisect import bisect_left

from .graph import Evaluation
from .ops import CONST
from . import numtext
from .printing import inputs, node_expr, node_labels, op_template, reading_order

try:  # json.dumps's own string encoder, without importing json, whose decoder and encoder
    # compile six regular expressions (1.2 ms of every eval, which reads no JSON)
    from _json import encode_basestring as _json_string
except ImportError:  # (a Python without json's C part)
    from json.encoder import py_encode_basestring as _json_string


class Column:
    """One column of numbers beside the nodes' values (a plain class: a dataclass costs
    0.5 ms of every start-up)."""

    def __init__(self, key: str, heading: str, values: list, gradient: bool = False):
        # the TSV/CSV header and the JSON node field: grad, grad_p, tangent, sigma
        self.key = key
        self.heading = heading  # the table's and Markdown's: ∂f/∂node, ṅ = ∂n/∂x, σ
        self.values = values
        self.gradient = gradient  # a literal is not differentiated by: no number for it


SUMMARY_SEP = "   "  # between the `name = value` pairs of a summary line
SHARE_SEP = ", "  # between the `x 6.38%` shares of the variance line


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
        from .streams import ascii_only  # (σ may be a name's letter: the codec keeps it)

        cols.append(Column("sigma", "sigma" if ascii_only() else "σ", ev.sigmas))
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


def calls(graph) -> list[str] | None:
    """Which call of a program's function made each node (`neuron#2`, or '' for a node no
    call made): the `call` column of every format, JSON's `"call"` field; None when the
    program makes no calls (no column then)."""
    made = [n.call or "" for n in graph.nodes]
    return made if any(made) else None


def _cell(x, digits=None) -> str:
    return "" if x is None else numtext.text(x, digits)


def json_keys(forward: bool = False, several: bool = False,
              uncertain: bool = False) -> list[str]:
    """The top-level keys of eval's JSON document, in its order (what `--fields` selects):
    forward mode's, several outputs' (`--output p,q`), or one output's (with `uncertainty`
    when the inputs carry one)."""
    if forward:
        return ["program", "mode", "output", "value", "inputs", "tangent", "derivative",
                "nodes"]
    if several:
        return ["program", "outputs", "inputs", "nodes"]
    return (["program", "output", "value", "inputs", "gradient"]
            + ["uncertainty"] * uncertain + ["nodes"])


def _keys_of(ev) -> list[str]:
    return json_keys(hasattr(ev, "tangents"), bool(getattr(ev, "outputs", None)),
                     bool(getattr(ev, "uncertainty", None)))


def check_fields(fields, keys: list[str]) -> None:
    """InputError for a `--fields` list that names no key, one the document does not
    have, or one twice."""
    from .errors import InputError, did_you_mean

    known = f"(the JSON document's keys: {', '.join(keys)})"
    if not fields:
        raise InputError(f"--fields: no key given {known}")
    seen = set()
    for name in fields:
        if name not in keys:
            hint = did_you_mean(name, keys)
            if not hint and "outputs" in keys and name in json_keys(uncertain=True):
                hint = f"; with several outputs, each one's {name} is in outputs"
            raise InputError(f"--fields: '{name}' is not a key of the JSON document{hint} "
                             f"{known}")
        if name in seen:
            raise InputError(f"--fields: '{name}' is given twice")
        seen.add(name)


def _json_head(ev, wrt, keys: list[str]) -> dict:
    """The document's keys before `nodes`, those of `keys` only (nothing else is built)."""
    graph = ev.graph
    num = numtext.json_value
    parts = {"program": lambda: graph.source,
             "inputs": lambda: {k: num(float(v))
                                for k, v in inputs(graph.variables, ev.bindings).items()}}
    if hasattr(ev, "tangents"):
        parts.update({"mode": lambda: "forward", "output": lambda: graph.output_name,
                      "value": lambda: num(ev.value),
                      "tangent": lambda: {k: num(v) for k, v in ev.seed.items()},
                      "derivative": lambda: num(ev.tangent(graph.output))})
    elif ev.outputs:
        parts["outputs"] = lambda: _json_outputs(ev, wrt)
    else:
        parts.update({
            "output": lambda: graph.output_name, "value": lambda: num(ev.value),
            "gradient": lambda: {k: num(v) for k, v in ev.gradient(
                wrt or reading_order(graph.variables)).items()},
            "uncertainty": lambda: _json_uncertainty(
                {u.output: u for u in ev.uncertainty}[graph.output_name])})
    return {k: parts[k]() for k in keys if k != "nodes"}


def _json_outputs(ev, wrt) -> dict:
    """Each output's value and gradient (and uncertainty), by name."""
    graph = ev.graph
    num = numtext.json_value
    uncertainty = {u.output: u for u in ev.uncertainty or ()}
    out = {}
    for (name, i), adjoint in zip(ev.outputs, ev.adjoints):
        names = wrt or reading_order(graph.variables)
        entry = {"value": num(ev.values[i]), "gradient": {
            v: num(adjoint[graph.variables[v]]) for v in names}}
        if name in uncertainty:
            entry["uncertainty"] = _json_uncertainty(uncertainty[name])
        out[name] = entry
    return out


def _json_uncertainty(u) -> dict:
    num = numtext.json_value
    shares = u.shares()
    return {"sigma": num(u.sigma), "inputs": {
        v: {"sigma": num(s), "term": num(u.terms[v]), "share": num(shares[v])}
        for v, s in u.inputs.items()}}


def json_dumps(value) -> str:
    """`json.dumps(value, ensure_ascii=False, allow_nan=False)` for what the head of eval's
    document holds: dicts with string keys, lists, strings, numbers, None and booleans (a
    test holds it to json.dumps)."""
    if isinstance(value, dict):
        return "{" + ", ".join([f"{_json_string(k)}: {json_dumps(v)}"
                                for k, v in value.items()]) + "}"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, float):
        if value - value != 0.0:
            raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
        return numtext.json_number(value)
    if value is None or isinstance(value, bool):
        return "null" if value is None else "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join([json_dumps(v) for v in value]) + "]"
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def json_chunks(ev: Evaluation, wrt=None, fields=None, per_chunk: int = 4096):
    """The JSON object in pieces, so a 10^6-node result is never one string in memory;
    with `fields`, only those top-level keys (in the document's order), and without
    `nodes` no node record is built.

    Node records are written directly, several times faster than json.dumps (names and
    formulas are identifiers, numbers and operators: nothing in them needs escaping): one
    %-template per op holds everything but the node's own ids, labels and numbers."""
    keys = _keys_of(ev)
    if fields is not None:
        check_fields(fields, keys)
        keys = [k for k in keys if k in fields]
    head = json_dumps(_json_head(ev, wrt, keys))
    if "nodes" not in keys:
        yield head
        return
    yield head[:-1] + (', "nodes": [' if len(head) > 2 else '"nodes": [')
    graph = ev.graph
    labels = node_labels(graph)
    nodes = graph.nodes
    cols = columns(ev)
    numbers = "".join(f', "{c.key}": %s' for c in cols) + "}"
    templates = {}
    for n in nodes:
        if n.op not in templates:
            k = len(n.inputs)
            templates[n.op] = (
                '{"id": %d, "op": "' + n.op.name.replace("%", "%%") + '", "name": %s, '
                '"expr": "' + (op_template(n.op) if k else "%s") + '", "inputs": ['
                + ", ".join(["%d"] * k) + '], "value": %s' + numbers)
    # a literal is not differentiated by: no gradient for constants
    constants = [n.id for n in nodes if n.op is CONST]
    gradients = [i for i, c in enumerate(cols) if c.gradient]
    for start in range(0, len(nodes), per_chunk):
        stop = start + per_chunk
        texts = [numtext.json_texts(c.values[start:stop]) for c in cols]
        for i in constants[bisect_left(constants, start):bisect_left(constants, stop)]:
            for c in gradients:
                texts[c][i - start] = "null"
        pieces = []
        append = pieces.append
        for n, more in zip(nodes[start:stop],
                           zip(numtext.json_texts(ev.values[start:stop]), *texts)):
            ins = n.inputs
            name = n.name
            name = f'"{name}"' if name else "null"
            k = len(ins)
            if k == 2:
                a, b = ins
                piece = templates[n.op] % ((n.id, name, labels[a], labels[b], a, b) + more)
            elif k == 1:
                a = ins[0]
                piece = templates[n.op] % ((n.id, name, labels[a], a) + more)
            elif k == 0:
                piece = templates[n.op] % ((n.id, name, labels[n.id]) + more)
            else:
                piece = templates[n.op] % ((n.id, name, *[labels[j] for j in ins], *ins)
                                           + more)
            if n.call:  # made by a call of a program's function: "neuron#2"
                piece = f'{piece[:-1]}, "call": "{n.call}"}}'
            append(piece)
        yield ("" if start == 0 else ", ") + ", ".join(pieces)
    yield "]}"


def to_json(ev: Evaluation, wrt=None, fields=None) -> str:
    return "".join(json_chunks(ev, wrt, fields))


def to_delimited(ev: Evaluation, delimiter: str, digits: int | None = None) -> str:
    import csv  # here, not at the top: JSON and tables do without it

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    made = calls(ev.graph)
    writer.writerow(("id", "op", "name", "expr", "value", *(c.key for c in columns(ev)),
                     *["call"] * bool(made)))
    for i, op, name, _, expr, value, *more in rows(ev):
        writer.writerow((i, op, name or "", expr, numtext.text(value, digits),
                         *(_cell(x, digits) for x in more), *([made[i]] if made else ())))
    return out.getvalue()


def _md_cell(text: str) -> str:
    """Text as Markdown shows it as written: `|` and the `_` that would open or close
    emphasis (a name's first or last, `__a__` is bold a; `a_b` is plain) escaped."""
    text = text.replace("|", r"\|")
    if "_" in text:
        import re

        text = re.sub(r"(?<![^\W_])_+|_+(?![^\W_])",
                      lambda m: m.group().replace("_", r"\_"), text)
    return text


def summary_lines(ev: Evaluation, wrt=None,
                  digits: int | None = None) -> list[tuple[list[str], str]]:
    """`f = -12` and `∂f/∂x = -3   ∂f/∂y = -3   ∂f/∂z = 4`; with several outputs, a value
    line and then a gradient line for each; `f = 4 ± 0.5` and the variance's shares when
    the inputs carry uncertainties; forward mode's derivative. Each line is its pairs and
    the separator between them: a narrow terminal wraps between pairs, never inside one."""
    num = numtext.text
    graph = ev.graph
    if hasattr(ev, "tangents"):
        name, along = forward_derivative(ev, digits)
        d = num(ev.tangent(graph.output), digits)
        return [([f"{graph.output_name} = {num(ev.value, digits)}"], SUMMARY_SEP),
                ([f"{name} = {d}" + (f" (along {along})" if along else "")], SUMMARY_SEP)]
    outputs = ev.outputs or [(graph.output_name, graph.output)]
    adjoints = ev.adjoints or [ev.grads]
    uncertainty = {u.output: u for u in ev.uncertainty or ()}
    values = []
    for name, i in outputs:
        pm = f" ± {num(uncertainty[name].sigma, digits)}" if name in uncertainty else ""
        values.append(f"{name} = {num(ev.values[i], digits)}{pm}")
    lines = [(values, SUMMARY_SEP)]
    for (name, _), adjoint in zip(outputs, adjoints):
        lines.append(([f"∂{name}/∂{v} = {num(adjoint[graph.variables[v]], digits)}"
                       for v in (wrt if wrt is not None else reading_order(graph.variables))],
                      SUMMARY_SEP))
    for name, _ in outputs:
        sigma = uncertainty[name].sigma if name in uncertainty else 0.0
        if sigma > 0 and sigma - sigma == 0:  # (shares of no variance, or of an infinite
            shares = [f"{v} {numtext.text(100 * s, numtext.SHARE)}%"  # one, say nothing)
                      for v, s in uncertainty[name].shares().items()]
            if shares:
                shares[0] = f"variance of {name}: {shares[0]}"
                lines.append((shares, SHARE_SEP))
    return [line for line in lines if line[0]]


def to_markdown(ev: Evaluation, wrt=None, digits: int | None = None) -> str:
    cols = columns(ev)
    made = calls(ev.graph)
    lines = ["| # | node | op | expr | value | " + " | ".join(_md_cell(c.heading) for c in cols)
             + " | call" * bool(made) + " |",
             "|--:|---|---|---|--:|" + "--:|" * len(cols) + "---|" * bool(made)]
    for i, op, _, label, expr, value, *more in rows(ev):
        lines.append(f"| {i} | {_md_cell(label)} | {op} | `{expr}` | "
                     f"{numtext.text(value, digits)} | "
                     + " | ".join(_cell(x, digits) for x in more)
                     + (f" | {made[i]}" if made else "") + " |")
    (value, _), *rest = summary_lines(ev, wrt, digits)
    value = _md_cell(SUMMARY_SEP.join(value))
    rest = [_md_cell(", ".join(pairs)) for pairs, _ in rest]
    lines += ["", f"**{value}**" + (f"; {rest[0]}" if rest else "")] + rest[1:]
    return "\n".join(lines) + "\n"


def to_table(ev: Evaluation, wrt=None, digits: int = numtext.TABLE):
    """A Rich renderable: the node table, then the output value and the gradient."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from .layout import Fitted, Pairs, Program
    from .parser import one_line

    graph = ev.graph
    outputs = {i for _, i in getattr(ev, "outputs", None) or [(None, graph.output)]}
    title = Text(one_line(graph.source), style="bold", overflow="fold")
    table = Table(header_style="bold", show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("node", overflow="fold", max_width=24)
    table.add_column("op", no_wrap=True)
    table.add_column("expr", overflow="fold", ratio=1, min_width=8)
    table.add_column("value", justify="right", no_wrap=True)
    for c in columns(ev):
        table.add_column(c.heading, justify="right", no_wrap=True)
    made = calls(graph)
    if made:  # which call of a program's function made the node
        table.add_column("call", style="dim", no_wrap=True)
    for i, op, name, label, expr, value, *more in rows(ev):
        style = "bold" if i in outputs else None
        cells = [str(i), Text(label, style="cyan" if name else ""), op, expr,
                 numtext.text(value, digits), *(_cell(x, digits) for x in more)]
        if made:
            cells.append(made[i])
        table.add_row(*cells, style=style)
    (value, sep), *rest = summary_lines(ev, wrt, digits)
    footer = [Pairs(value, sep, style="bold green")]
    footer += [Pairs(pairs, sep) for pairs, sep in rest]
    return Group(Program(title), Fitted(table), Text(""), *footer)


def _json_lines(ev: Evaluation, wrt=None, fields=None):
    yield from json_chunks(ev, wrt, fields)
    yield "\n"


FORMATS = {
    "table": lambda ev, o: to_table(ev, o.wrt, o.digits or numtext.TABLE),
    "tsv": lambda ev, o: to_delimited(ev, "\t", o.digits),
    "csv": lambda ev, o: to_delimited(ev, ",", o.digits),
    "json": lambda ev, o: _json_lines(ev, o.wrt, o.fields),
    "markdown": lambda ev, o: to_markdown(ev, o.wrt, o.digits),
}

# `eval -o FILE`: what its suffix holds (see cli_support.by_suffix); a .txt file gets the
# table
SUFFIXES = {".tsv": "tsv", ".csv": "csv", ".json": "json", ".md": "markdown",
            ".markdown": "markdown", ".txt": ("text", ("table",))}


def forward_derivative(ev, digits: int | None = None) -> tuple[str, str | None]:
    """Forward mode's derivative as its summary names it: (`∂f/∂x`, None) along x = 1
    alone, else (`ḟ`, `ẋ = 1, ẏ = 2`), the name and the direction."""
    f, x = ev.graph.output_name, ev.unit
    if x:
        return f"∂{f}/∂{x}", None
    from .forward import dotted

    num = numtext.text
    return dotted(f), ", ".join(f"{dotted(v)} = {num(t, digits)}" for v, t in ev.seed.items())


def nonfinite_gradients(ev: Evaluation, wrt=None) -> list[str]:
    """The gradient's entries that are not finite, as `∂f/∂x`: each output's (`∂q/∂y`
    with several), by the variables asked for (`--wrt`; all of them without), in the
    order the gradient is shown."""
    graph = ev.graph
    variables = graph.variables
    names = wrt or reading_order(variables)
    outputs = ev.outputs or [(graph.output_name, graph.output)]
    adjoints = ev.adjoints or [ev.grads]
    return [f"∂{out}/∂{v}" for (out, _), adjoint in zip(outputs, adjoints) for v in names
            if adjoint[variables[v]] - adjoint[variables[v]] != 0.0]


def nonfinite_messages(ev: Evaluation, wrt=None) -> list[str]:
    """What `--strict` objects to: where a non-finite value first appears, and which
    entries of the gradient asked for (`wrt`) are not finite: `non-finite gradient: ∂f/∂y`
    (with `--wrt x` a NaN ∂f/∂y is in the table's column, but not in the gradient shown, and
    fails no --strict). In forward mode (a ForwardEvaluation) the derivative looked at is
    the one it computes, the output's tangent: `non-finite derivative: ∂f/∂x` (or
    `ḟ along ẋ = 1, ẏ = 2`), not a gradient it does not compute."""
    messages = []
    forward = hasattr(ev, "tangents")
    values = Evaluation(ev.graph, ev.bindings, ev.values, []) if forward else ev
    node = values.first_nonfinite()
    if node is not None:
        labels = node_labels(ev.graph)
        expr = node_expr(ev.graph, node, labels)
        what = f"{labels[node.id]} = {expr}" if expr != labels[node.id] else expr
        messages.append(f"node {node.id} ({what}) is "
                        f"{numtext.text(ev.values[node.id])}, from finite inputs")
    if forward:
        d = ev.tangent(ev.graph.output)
        if d - d != 0.0:
            name, along = forward_derivative(ev)
            messages.append(f"non-finite derivative: {name}"
                            + (f" along {along}" if along else ""))
        return messages
    bad = nonfinite_gradients(ev, wrt)
    if bad:
        from .errors import listed

        messages.append("non-finite gradient: " + listed(bad))
    return messages
