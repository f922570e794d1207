"""Computation graphs as Mermaid flowcharts and Graphviz DOT, in the tutorial's style.

Both renderers read one `Diagram` model: variables are boxes (`x = 1` when bound), literals
are small plain nodes (`2`), operations are circles showing their symbol or function name,
the edge out of an operation carries its handle and value (`add -->|p = 4| mul`; an unnamed
operation's handle is `t<id>`, as in `explain`), and the output gets a box of its own.

With gradients, every forward edge u -> v gets a dashed gradient edge back along it,
labelled with what flows back along that edge: `∂g/∂p = -3` when it is u's only path to the
output; when u is used more than once, each edge carries its own contribution
(`∂f/∂x via a = 0.841`; `x * x` sends `1.5 + 1.5` along one edge) and u itself shows the sum (`∂f/∂x = 1.84 (sum of 2 paths)`).
Literals get no gradient. Every name in a label is one the picture shows.

Node ids are generated (`n0`, `n1`, …), never a user's name, and every label is quoted and
escaped for its format, so any program renders. The output is a pure function of its
inputs: the same program gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ops
from .graph import Evaluation, Graph
from .ops import CONST, VAR
from .printing import format_number, node_labels

MERMAID_MAX_EDGES = 500
BIG_GRAPH = 100  # nodes; past this, widely used leaves get reference boxes (see `build`)
HUB_USES = 3


@dataclass
class Box:
    id: str
    kind: str  # "var", "const", "op", "output", or "ref" (a copy of a widely used leaf)
    title: str  # name, literal, op symbol
    value: str | None = None
    grad: str | None = None  # ∂output/∂node, the sum over all its paths
    handle: str | None = None  # how labels refer to the node (`x`, `p`, `t3`)
    paths: int = 0  # edges along which a gradient reaches the node (>1: shared)


@dataclass
class Edge:
    src: str
    dst: str
    label: str | None = None
    grad: bool = False  # a dashed gradient edge: the gradient flows from src to dst


@dataclass
class Diagram:
    boxes: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    big: bool = False  # past BIG_GRAPH nodes: layout shortcuts (see `build`, `render_dot`)
    output: str = "f"


def _op_title(op) -> str:
    if op.infix and op.arity == 2:
        return op.spelling
    return "neg" if op.name == "neg" else op.spelling


def local_partials(ev: Evaluation, node) -> list[float]:
    """∂node/∂input at the evaluated point, one per input, from the registry's rules."""
    args = [ev.values[j] for j in node.inputs] + [ev.values[node.id]]
    return [rule(ops.SCALAR, *args) for rule in node.op.partials]


def handles(graph: Graph) -> list[str]:
    """How labels name each node: its name, its literal, `t<id>`; the output's own name."""
    labels = node_labels(graph)
    out = graph.nodes[graph.output]
    if out.name is None and out.inputs:
        labels[out.id] = graph.output_name
    return labels


def build(graph: Graph, ev: Evaluation | None = None, *, values: bool = True,
          grads: bool = False, digits: int | None = 6) -> Diagram:
    """The diagram of `graph`; with `ev`, values (and gradients when `grads`) on it."""
    labels = handles(graph)
    num = lambda v: format_number(v, digits)  # noqa: E731
    show_values = ev is not None and values
    show_grads = ev is not None and grads
    live = graph.reaches_output()
    f = graph.output_name
    d = Diagram(big=len(graph.nodes) > BIG_GRAPH, output=f)
    users = graph.users()
    # In big graphs a leaf used all over (a weight in every layer) would pull edges across
    # the whole layout, and Graphviz's time explodes (minutes for 1,000 nodes). There it is
    # drawn once with its value, plus a small reference box beside each further use.
    hubs = set()
    if d.big:
        hubs = {n.id for n in graph.nodes
                if (n.op is VAR or n.op is CONST) and len(users[n.id]) > HUB_USES}
    # which nodes receive a gradient, and along how many edges
    paths = [0] * len(graph.nodes)
    if show_grads:
        for n in graph.nodes:
            if live[n.id]:
                for j in n.inputs:
                    if graph.nodes[j].op is not CONST:
                        paths[j] += 1

    src_of = {}  # (user, slot) -> the box id its forward edge comes from
    for n in graph.nodes:
        nid = f"n{n.id}"
        value = num(ev.values[n.id]) if show_values else None
        grad = num(ev.grads[n.id]) if show_grads and live[n.id] else None
        if n.op is VAR:
            d.boxes.append(Box(nid, "var", labels[n.id], value, grad, labels[n.id],
                               paths[n.id]))
        elif n.op is CONST:
            value = num(n.value) if n.name and values else None
            d.boxes.append(Box(nid, "const", labels[n.id], value, handle=labels[n.id]))
        else:
            d.boxes.append(Box(nid, "op", _op_title(n.op), value, grad, labels[n.id],
                               paths[n.id]))
        for k, j in enumerate(n.inputs):
            src = graph.nodes[j]
            if j in hubs and n.id != users[j][0]:
                # a reference copy of a widely used leaf, beside each further user
                proxy = f"n{j}r{n.id}"
                d.boxes.append(Box(proxy, "ref", labels[j], handle=labels[j]))
                d.edges.append(Edge(proxy, nid))
                src_of[n.id, k] = proxy
                continue
            label = None
            if src.op is not VAR and src.op is not CONST:
                if show_values:
                    label = f"{labels[j]} = {num(ev.values[j])}"
                elif src.name or show_grads:
                    label = labels[j]
            elif n.inputs.count(j) > 1:  # x * x: which edge is which operand
                label = ("left", "right")[k] if len(n.inputs) == 2 else f"argument {k + 1}"
            d.edges.append(Edge(f"n{j}", nid, label))
            src_of[n.id, k] = f"n{j}"

    out = graph.nodes[graph.output]
    out_id = f"n{len(graph.nodes)}"
    if out.op is not VAR and out.op is not CONST:
        value = num(ev.value) if show_values else None
        d.boxes.append(Box(out_id, "output", f, value, num(1.0) if show_grads else None, f))
        d.edges.append(Edge(f"n{out.id}", out_id, f"{f} = {value}" if value else None))
        if show_grads:
            d.edges.append(Edge(out_id, f"n{out.id}", f"∂{f}/∂{f} = {num(1.0)}", grad=True))

    if show_grads:  # in the order the reverse pass computes them
        for n in reversed(graph.nodes):
            if not live[n.id] or not n.inputs:
                continue
            partials = local_partials(ev, n)
            slots: dict[int, list[int]] = {}  # input -> its operand positions (x*x: two)
            for k, j in enumerate(n.inputs):
                if graph.nodes[j].op is not CONST:
                    slots.setdefault(j, []).append(k)
            for j, ks in slots.items():
                if paths[j] == 1:
                    label = f"∂{f}/∂{labels[j]} = {num(ev.grads[j])}"
                else:
                    parts = " + ".join(num(ev.grads[n.id] * partials[k]) for k in ks)
                    label = f"∂{f}/∂{labels[j]} via {labels[n.id]} = {parts}"
                d.edges.append(Edge(f"n{n.id}", src_of[n.id, ks[0]], label, grad=True))
    return d


def node_lines(b: Box, output: str) -> list[str]:
    """The text lines of a box: `x = 1`, and the summed gradient of a shared node."""
    first = b.title if b.kind == "op" or b.value is None else f"{b.title} = {b.value}"
    if b.paths > 1 and b.grad is not None:
        return [first, f"∂{output}/∂{b.handle} = {b.grad}", f"sum of {b.paths} paths"]
    return [first]


# -- Mermaid ------------------------------------------------------------------------------

def _mermaid_text(text: str) -> str:
    """A double-quoted Mermaid label: `"` `<` `>` `#` as entity codes."""
    text = text.replace("#", "#35;").replace('"', "#quot;")
    return '"' + text.replace("<", "#lt;").replace(">", "#gt;") + '"'


_CLASS = {"op": "op", "const": "lit"}


def render_mermaid(d: Diagram, direction: str = "LR", fence: bool = False) -> str:
    """Mermaid flowchart text.

    Gradient edges are written in the forward direction, `x <-.->|∂g/∂x| add`, with the
    arrowhead at their end hidden by `linkStyle … marker-end:none`, so that what shows is a
    dashed edge whose one arrowhead points back at `x`. Why: Mermaid lays flowcharts out
    with dagre, which first makes the graph acyclic by a depth-first search from the nodes
    in the order they were declared, reversing every edge that leads back to a node on the
    DFS stack, and then ranks the result. An edge `add -.-> x` makes each forward edge part
    of a 2-cycle, and whichever of the two the search walks first keeps its direction: the
    search enters `add` from `x`, goes on to `mul`, and from there walks `mul -.-> z` before
    `z --> mul`, so `z` ranks after `mul` (no declaration order avoids this: the search
    always reaches some input through a gradient edge first). Written forward, the gradient
    edges form no cycle and rank exactly like the forward edges they run beside. `<-.-`
    alone is no answer: Mermaid 11 parses it as an open link (no arrowhead at all);
    `<-.->` draws both, and the style on the path hides the one pointing forward.
    Checked on mermaid-cli 11.17.0 (mermaid 11.17.2) in tests/test_diagrams.py.
    """
    lines = [f"flowchart {direction}"]
    for b in d.boxes:
        text = "<br>".join(_mermaid_text(x)[1:-1] for x in node_lines(b, d.output))
        if b.kind == "op" and b.paths > 1 and b.grad is not None:
            lines.append(f'  {b.id}(["{text}"])')  # a circle would grow round the sum
        elif b.kind == "op":
            lines.append(f'  {b.id}(("{text}"))')
        elif b.kind == "ref":
            lines.append(f'  {b.id}("{text}")')
        else:
            lines.append(f'  {b.id}["{text}"]')
    forward = [e for e in d.edges if not e.grad]
    backward = [e for e in d.edges if e.grad]
    for e in forward:
        label = f"|{_mermaid_text(e.label)}|" if e.label else ""
        lines.append(f"  {e.src} -->{label} {e.dst}")
    for e in backward:
        label = f"|{_mermaid_text(e.label)}|" if e.label else ""
        lines.append(f"  {e.dst} <-.->{label} {e.src}")
    if backward:
        first = len(forward)
        indices = ",".join(str(i) for i in range(first, first + len(backward)))
        lines.append(f"  linkStyle {indices} marker-end:none")
    for kind, style in (("op", "fill:#fff5d6,stroke:#b58900"),
                        ("lit", "fill:none,stroke:none")):
        ids = [b.id for b in d.boxes if _CLASS.get(b.kind) == kind]
        if ids:
            lines.append(f"  class {','.join(ids)} {kind}")
            lines.append(f"  classDef {kind} {style}")
    text = "\n".join(lines) + "\n"
    return f"```mermaid\n{text}```\n" if fence else text


# -- DOT ----------------------------------------------------------------------------------

def _dot_string(text: str) -> str:
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + text + '"'


def _record_field(text: str) -> str:
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text


def render_dot(d: Diagram, direction: str = "LR") -> str:
    """Graphviz DOT text. Gradient edges are written forward with `dir=back`, like the
    Mermaid ones, so they rank with the forward edge beside them and dot places their
    labels among the others instead of over them."""
    lines = [
        "digraph cgraph {",
        f"  rankdir={direction};",
        '  node [fontname="Helvetica", fontsize=12];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for b in d.boxes:
        if b.kind == "op" and b.paths > 1 and b.grad is not None:
            # the sum of a shared node's paths: a circle would grow round it
            lines.append(f'  {b.id} [shape=box, style="rounded,filled", fillcolor="#fff5d6", '
                         f"label={_dot_string(chr(10).join(node_lines(b, d.output)))}];")
            continue
        if b.kind == "op":
            lines.append(f"  {b.id} [shape=circle, width=0.45, fixedsize=true, "
                         f'style=filled, fillcolor="#fff5d6", label={_dot_string(b.title)}];')
            continue
        if b.kind == "ref":
            lines.append(f"  {b.id} [shape=box, style=\"rounded,dashed\", "
                         f"label={_dot_string(b.title)}];")
            continue
        if b.kind == "const":
            lines.append(f"  {b.id} [shape=plaintext, height=0.3, "
                         f"label={_dot_string(node_lines(b, d.output)[0])}];")
            continue
        fields = [b.title]
        if b.value is not None:
            fields.append(f"value {b.value}")
        if b.grad is not None:
            total = f" (sum of {b.paths} paths)" if b.paths > 1 else ""
            fields.append(f"grad {b.grad}{total}")
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
        src, dst = e.src, e.dst
        if e.grad:
            src, dst = dst, src
            attrs += ["dir=back", "style=dashed", 'color="#268bd2"', 'fontcolor="#268bd2"']
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {src} -> {dst}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


IMAGE_SUFFIXES = (".svg", ".png", ".pdf")


def write_image(dot_source: str, path: str) -> None:
    """Render DOT through Graphviz's `dot` into an .svg, .png or .pdf file."""
    import shutil
    import subprocess

    from .errors import EvaluationError

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
