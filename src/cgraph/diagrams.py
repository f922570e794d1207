"""Computation graphs as Mermaid flowcharts and Graphviz DOT, in the tutorial's style.

Both renderers read one `Diagram` model: variables and constants are boxes (`x = 1` when
bound), operations are circles showing their symbol or function name, the edge out of an
operation carries its name and value (`add -->|p = 4| mul`), the output gets a box of its own,
and with gradients each node receives one dashed edge back from its first user, labelled
`∂g/∂node = value` (the sum over all paths). Node ids are generated (`n0`, `n1`, …), never a
user's name, and every label is quoted and escaped for its format, so any program renders.
The output is a pure function of its inputs: the same program gives the same bytes.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field

from . import numtext, stepper
from .errors import EvaluationError
from .graph import Evaluation, Graph
from .ops import CONST, VAR
from .printing import node_expr, node_labels

MERMAID_MAX_EDGES = 500
BIG_GRAPH = 100  # nodes; past this, widely used leaves get reference boxes (see `build`)
HUB_USES = 3  # Mermaid's default `maxEdges`; GitHub renders with the defaults


@dataclass
class Box:
    id: str
    kind: str  # "leaf", "op", "output", or "ref" (a reference copy of a widely used leaf)
    title: str  # name, literal, op symbol
    value: str | None = None
    grad: str | None = None


@dataclass
class Edge:
    src: str
    dst: str
    label: str | None = None
    grad: bool = False  # a dashed gradient edge, drawn backwards


@dataclass
class Diagram:
    boxes: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    big: bool = False  # past BIG_GRAPH nodes: layout shortcuts (see `build`, `render_dot`)
    graph: Graph | None = None  # what it was built from (the HTML page draws it itself)
    evaluation: Evaluation | None = None  # when values are shown
    grads: bool = False


def _op_title(op) -> str:
    if op.infix and op.arity == 2:
        return op.spelling
    return "neg" if op.name == "neg" else op.spelling


def build(graph: Graph, ev: Evaluation | None = None, *, values: bool = True,
          grads: bool = False, digits: int | None = numtext.DIAGRAM) -> Diagram:
    """The diagram of `graph`; with `ev`, values (and gradients when `grads`) on it."""
    labels = node_labels(graph)
    num = lambda v: numtext.text(v, digits)  # noqa: E731
    show_values = ev is not None and values
    show_grads = ev is not None and grads
    live = graph.reaches_output()
    f = graph.output_name
    d = Diagram(big=len(graph.nodes) > BIG_GRAPH, graph=graph,
                evaluation=ev if show_values else None, grads=show_grads)
    users = graph.users()
    # In big graphs a leaf used all over (a weight in every layer) would pull edges across
    # the whole layout, and Graphviz's time explodes (minutes for 1,000 nodes). There it is
    # drawn once with its value, plus a small reference box beside each further use.
    hubs = set()
    if d.big:
        hubs = {n.id for n in graph.nodes
                if (n.op is VAR or n.op is CONST) and len(users[n.id]) > HUB_USES}

    for n in graph.nodes:
        nid = f"n{n.id}"
        value = num(ev.values[n.id]) if show_values else None
        grad = num(ev.grads[n.id]) if show_grads else None
        if n.op is VAR or n.op is CONST:
            d.boxes.append(Box(nid, "leaf", labels[n.id], value, grad))
        else:
            d.boxes.append(Box(nid, "op", _op_title(n.op), value, grad))
        for j in n.inputs:
            src = graph.nodes[j]
            if j in hubs and n.id != users[j][0]:
                # a reference copy of a widely used leaf, beside each further user
                proxy = f"n{j}_{n.id}"
                d.boxes.append(Box(proxy, "ref", labels[j]))
                d.edges.append(Edge(proxy, nid))
                continue
            label = None
            if src.op is not VAR and src.op is not CONST:
                parts = [src.name] if src.name else []
                if show_values:
                    parts.append(num(ev.values[j]))
                label = " = ".join(parts) or None
            d.edges.append(Edge(f"n{j}", nid, label))

    out = graph.nodes[graph.output]
    out_id = f"n{len(graph.nodes)}"
    if out.op is not VAR and out.op is not CONST:
        value = num(ev.value) if show_values else None
        d.boxes.append(Box(out_id, "output", f, value, num(1.0) if show_grads else None))
        d.edges.append(Edge(f"n{out.id}", out_id, f"{f} = {value}" if value else None))
        if show_grads:
            d.edges.append(Edge(out_id, f"n{out.id}", f"∂{f}/∂{f} = {num(1.0)}", grad=True))

    if show_grads:  # in the order the reverse pass visits them
        for n in reversed(graph.nodes):
            live_users = [u for u in users[n.id] if live[u]]
            if not live[n.id] or not live_users or n.id == graph.output:
                continue
            label = labels[n.id]
            if not n.name and n.op is not CONST:
                label = f"({node_expr(graph, n, labels)})"
            d.edges.append(Edge(f"n{live_users[0]}", f"n{n.id}",
                                f"∂{f}/∂{label} = {num(ev.grads[n.id])}", grad=True))
    return d


# -- Mermaid ------------------------------------------------------------------------------

def _mermaid_text(text: str) -> str:
    """A double-quoted Mermaid label: `"` `<` `>` `#` as entity codes."""
    text = text.replace("#", "#35;").replace('"', "#quot;")
    return '"' + text.replace("<", "#lt;").replace(">", "#gt;") + '"'


def render_mermaid(d: Diagram, direction: str = "LR", fence: bool = False) -> str:
    lines = [f"flowchart {direction}"]
    for b in d.boxes:
        if b.kind == "op":
            lines.append(f"  {b.id}(({_mermaid_text(b.title)}))")
        elif b.kind == "ref":
            lines.append(f"  {b.id}({_mermaid_text(b.title)})")
        else:
            label = f"{b.title} = {b.value}" if b.value is not None else b.title
            lines.append(f"  {b.id}[{_mermaid_text(label)}]")
    for e in d.edges:
        arrow = "-.->" if e.grad else "-->"
        label = f"|{_mermaid_text(e.label)}|" if e.label else ""
        lines.append(f"  {e.src} {arrow}{label} {e.dst}")
    for b in d.boxes:
        if b.kind == "op":
            lines.append(f"  class {b.id} op")
    lines.append("  classDef op fill:#fff5d6,stroke:#b58900")
    text = "\n".join(lines) + "\n"
    return f"```mermaid\n{text}```\n" if fence else text


# -- DOT ----------------------------------------------------------------------------------

def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _record_field(text: str) -> str:
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text


def render_dot(d: Diagram, direction: str = "LR") -> str:
    lines = [
        "digraph cgraph {",
        f"  rankdir={direction};",
        '  node [fontname="Helvetica", fontsize=12];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for b in d.boxes:
        if b.kind == "op":
            lines.append(f"  {b.id} [shape=circle, width=0.45, fixedsize=true, "
                         f'style=filled, fillcolor="#fff5d6", label={_dot_string(b.title)}];')
            continue
        if b.kind == "ref":
            lines.append(f"  {b.id} [shape=box, style=\"rounded,dashed\", "
                         f"label={_dot_string(b.title)}];")
            continue
        fields = [b.title]
        if b.value is not None:
            fields.append(f"value {b.value}")
        if b.grad is not None:
            fields.append(f"grad {b.grad}")
        label = "{" + " | ".join(_record_field(x) for x in fields) + "}"
        style = ', style="rounded,bold"' if b.kind == "output" else ', style=rounded'
        lines.append(f"  {b.id} [shape=record{style}, label={_dot_string(label)}];")
    # Edge labels become extra nodes in dot's layout; in big graphs `xlabel` places them
    # after the layout instead: 2,000 nodes with gradients render in ~1 s instead of ~12 s.
    label_attr = "xlabel" if d.big else "label"
    for e in d.edges:
        attrs = []
        if e.label:
            attrs.append(f"{label_attr}={_dot_string(e.label)}")
        if e.grad:
            attrs += ["style=dashed", 'color="#268bd2"', 'fontcolor="#268bd2"',
                      "constraint=false"]
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {e.src} -> {e.dst}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


FORMATS = {
    "mermaid": lambda d, o: render_mermaid(d, o.direction, o.fence),
    "dot": lambda d, o: render_dot(d, o.direction),
    "html": lambda d, o: stepper.page(d.graph, d.evaluation, grads=d.grads, digits=o.digits),
}

IMAGE_SUFFIXES = (".svg", ".png", ".pdf")


def write_image(dot_source: str, path: str) -> None:
    """Render DOT through Graphviz's `dot` into an .svg, .png or .pdf file."""
    dot = shutil.which("dot")
    if dot is None:
        raise EvaluationError(
            f"cannot write {path}: Graphviz is not installed (no 'dot' on PATH). Install it "
            "(apt-get install graphviz, brew install graphviz, or https://graphviz.org), "
            "or write the diagram as text with --format dot")
    fmt = path.rsplit(".", 1)[-1].lower()
    done = subprocess.run([dot, f"-T{fmt}", "-o", path], input=dot_source.encode(),
                          capture_output=True)
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise EvaluationError(f"Graphviz could not write {path}: "
                              + (message[0] if message else f"exit {done.returncode}"))
