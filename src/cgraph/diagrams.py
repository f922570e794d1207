"""Computation graphs as Mermaid flowcharts and Graphviz DOT, in the tutorial's style.

Both renderers read one `Diagram` model: variables are boxes (`x = 1` when bound), literals
are small plain nodes (`2`), operations are circles showing their symbol or function name,
the edge out of an operation carries its handle and value (`add -->|p = 4| mul`; an unnamed
operation's handle is `t<id>`, as in `explain`), and the output gets a box of its own.

With gradients, every forward edge u -> v gets a dashed gradient edge back along it,
labelled with what flows back along that edge: `∂g/∂p = -3` when it is u's only path to the
output; when u is used more than once, each edge carries its own contribution
(`∂f/∂x via a = 0.841`; `x * x` sends `1.5 + 1.5` back along one edge) and u itself shows
the sum (`∂f/∂x = 1.84`, `sum of 2 paths`).
Literals get no gradient. Every name in a label is one the picture shows.

Node ids are generated (`n0`, `n1`, …), never a user's name, and every label is quoted and
escaped for its format, so any program renders. The output is a pure function of its
inputs: the same program gives the same bytes.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field

from . import numtext, ops, stepper
from .errors import EvaluationError
from .graph import Evaluation, Graph
from .ops import CONST, VAR
from .printing import node_labels

MERMAID_MAX_EDGES = 500
BIG_GRAPH = 100  # nodes; past this, widely used leaves get reference boxes (see `build`)
HUB_USES = 3
XLABELS = 400  # nodes; past this, DOT edge labels are placed after the layout (`render_dot`)
# Ranks a left-to-right picture can have and still be read on a page: about 150 px each
# with their edge labels, so 20 ranks is ~3,000 px wide. Deeper graphs get their long sums
# drawn as one node and are drawn top to bottom (see `plan`).
READABLE_RANKS = 20
# An input feeding an operation this many levels in is drawn in the first column with the
# others, as the tutorial draws `z` in `(x + y) * z`; deeper uses keep short edges.
LEFT_ALIGN_LEVELS = 2
SLOW_NODES = 2000


@dataclass
class Box:
    id: str
    kind: str  # "var", "const", "op", "output", "ref" (a copy of a widely used leaf), or
    # "end" (the result of a statement that does not lead to the output)
    title: str  # name, literal, op symbol
    value: str | None = None
    grad: str | None = None  # ∂output/∂node, the sum over all its paths
    handle: str | None = None  # how labels refer to the node (`x`, `p`, `t3`)
    paths: int = 0  # edges along which a gradient reaches the node (>1: shared)
    current: bool = False  # highlighted: what this step of a walk-through is about
    call: str | None = None  # the call of a program's function that made it ("neuron#2")


@dataclass
class Edge:
    src: str
    dst: str
    label: str | None = None
    grad: bool = False  # a dashed gradient edge: the gradient flows from src to dst
    current: bool = False
    length: int = 1  # ranks the edge spans at least (Mermaid's extra dashes, DOT's minlen)


@dataclass
class Diagram:
    boxes: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    big: bool = False  # past BIG_GRAPH nodes: reference boxes for hubs (see `build`)
    huge: bool = False  # past XLABELS nodes: DOT labels placed after the layout
    output: str = "f"
    direction: str = "LR"  # LR, RL, TB or BT
    graph: Graph | None = None  # what it was built from (the HTML page draws it itself)
    evaluation: Evaluation | None = None  # when values are shown
    grads: bool = False


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


@dataclass
class Stage:
    """What one step of a walk-through shows (see `explain`): the nodes whose value is
    known, the nodes whose backward step has sent gradients to their inputs (`-1`: the
    output's ∂f/∂f), and what the step is about, highlighted."""
    values: set = field(default_factory=set)
    sent: set = field(default_factory=set)
    current: set = field(default_factory=set)  # node ids
    current_edges: set = field(default_factory=set)  # (input, user) forward edges
    current_grads: set = field(default_factory=set)  # (input, user) gradient edges


def sum_chains(graph: Graph) -> dict[int, int]:
    """Additions drawn as part of a later one: an unnamed `+` whose only user is another
    `+` joins it, so a long sum is one `+` node with many inputs instead of a chain as
    long as the sum (node -> the node it joins)."""
    users = graph.users()
    joins: dict[int, int] = {}
    for n in reversed(graph.nodes):
        if (n.op is ops.ADD and not n.name and n.id != graph.output and len(users[n.id]) == 1
                and graph.nodes[users[n.id][0]].op is ops.ADD):
            u = users[n.id][0]
            joins[n.id] = joins.get(u, u)
    return joins


def _inputs(graph: Graph, joins: dict[int, int]) -> list[list[int]]:
    """Each node's inputs as drawn: a sum that others joined takes their inputs."""
    inputs = [list(n.inputs) for n in graph.nodes]
    for n in graph.nodes:  # topological order: a joined node is complete before its root
        if not joins:
            break
        flat = []
        for j in n.inputs:
            flat += inputs[j] if j in joins else [j]
        inputs[n.id] = flat
    return inputs


def depth(graph: Graph, joins: dict[int, int] | None = None) -> int:
    """The number of ranks a left-to-right drawing needs (the output box included)."""
    inputs = _inputs(graph, joins or {})
    rank = [0] * len(graph.nodes)
    for n in graph.nodes:
        if n.id not in (joins or {}):
            rank[n.id] = 1 + max((rank[j] for j in inputs[n.id]), default=0)
    return max(rank, default=0) + 1


def build(graph: Graph, ev: Evaluation | None = None, *, values: bool = True,
          grads: bool = False, digits: int | None = numtext.DIAGRAM,
          joins: dict[int, int] | None = None, direction: str = "LR",
          stage: Stage | None = None) -> Diagram:
    """The diagram of `graph`; with `ev`, values (and gradients when `grads`) on it.

    `joins` (see `sum_chains`) draws chains of additions as one node; `stage` shows the
    state of one step of a walk-through instead of everything."""
    labels = handles(graph)
    joins = joins or {}
    inputs = _inputs(graph, joins)
    shown = [n for n in graph.nodes if n.id not in joins]
    num = lambda v: numtext.text(v, digits)  # noqa: E731
    show_values = ev is not None and values
    show_grads = ev is not None and grads
    known = (lambda i: True) if stage is None else stage.values.__contains__  # noqa: E731
    sent = (lambda i: True) if stage is None else stage.sent.__contains__  # noqa: E731
    live = graph.reaches_output()
    flags: list = [None] * len(graph.nodes)
    if show_grads and graph.gated():  # where: the branch not taken gets no gradient edge
        live, flags = graph.gradient_flow(ev.values)

    def passes(n, k):  # does input k of node n get a gradient from it
        return flags[n.id] is None or flags[n.id][k]

    f = graph.output_name
    d = Diagram(big=len(graph.nodes) > BIG_GRAPH, huge=len(shown) > XLABELS, output=f,
                direction=direction, graph=graph, evaluation=ev if show_values else None,
                grads=show_grads)
    users: list[list[int]] = [[] for _ in graph.nodes]
    for n in shown:
        for j in inputs[n.id]:
            users[j].append(n.id)
    # In big graphs a leaf used all over (a weight in every layer) would pull edges across
    # the whole layout, and Graphviz's time explodes (minutes for 1,000 nodes). There it is
    # drawn once with its value, plus a small reference box beside each further use.
    hubs = set()
    if d.big:
        hubs = {n.id for n in graph.nodes
                if (n.op is VAR or n.op is CONST) and len(users[n.id]) > HUB_USES}
    # which nodes receive a gradient, along how many edges, and how many have arrived
    paths, arrived = [0] * len(graph.nodes), [0] * len(graph.nodes)
    if show_grads:
        for n in shown:
            if live[n.id]:
                for k, j in enumerate(inputs[n.id]):
                    if graph.nodes[j].op is not CONST and passes(n, k):
                        paths[j] += 1
                        arrived[j] += sent(n.id)

    def current(i):
        return stage is not None and i in stage.current

    level = [0] * len(graph.nodes)  # operations between a node and the inputs
    for n in shown:
        level[n.id] = 1 + max((level[j] for j in inputs[n.id]), default=-1)

    def length(j, n):
        leaf = not graph.nodes[j].inputs
        return level[n] if leaf and 1 < level[n] <= LEFT_ALIGN_LEVELS else 1

    src_of = {}  # (user, slot) -> the box id its forward edge comes from
    for n in shown:
        nid = f"n{n.id}"
        value = num(ev.values[n.id]) if show_values and known(n.id) else None
        grad = None
        if show_grads and live[n.id] and arrived[n.id] == paths[n.id] \
                and (paths[n.id] or sent(-1)):  # the output's own: once ∂f/∂f is seeded
            grad = num(ev.grads[n.id])
        if n.op is VAR:
            # a variable that is the output (`cgraph graph x`) is drawn as an output box
            box = Box(nid, "output" if n.id == graph.output else "var", labels[n.id],
                      value, grad, labels[n.id], paths[n.id])
        elif n.op is CONST:
            value = num(n.value) if n.name and values else None
            box = Box(nid, "const", labels[n.id], value, handle=labels[n.id])
        else:
            box = Box(nid, "op", _op_title(n.op), value, grad, labels[n.id], paths[n.id])
        box.current = current(n.id)
        box.call = n.call
        d.boxes.append(box)
        for k, j in enumerate(inputs[n.id]):
            src = graph.nodes[j]
            on = stage is not None and (j, n.id) in stage.current_edges
            if j in hubs and n.id != users[j][0]:
                # a reference copy of a widely used leaf, beside each further user
                proxy = f"n{j}r{n.id}"
                d.boxes.append(Box(proxy, "ref", labels[j], handle=labels[j]))
                d.edges.append(Edge(proxy, nid, current=on, length=length(j, n.id)))
                src_of[n.id, k] = proxy
                continue
            label = None
            if src.op is not VAR and src.op is not CONST:
                if show_values and known(j):
                    label = f"{labels[j]} = {num(ev.values[j])}"
                elif src.name or show_grads or show_values:
                    label = labels[j]
            elif inputs[n.id].count(j) > 1:  # x * x: which edge is which operand
                label = ("left", "right")[k] if len(inputs[n.id]) == 2 else f"argument {k + 1}"
            d.edges.append(Edge(f"n{j}", nid, label, current=on, length=length(j, n.id)))
            src_of[n.id, k] = f"n{j}"
        if n.inputs and not users[n.id] and n.id != graph.output:
            # a statement that does not lead to the output (`a = x*2; b = y + 1`) ends in
            # a box of its own, as the output does: else its name and value are nowhere
            d.boxes.append(Box(f"{nid}s", "end", labels[n.id], value, handle=labels[n.id]))
            d.edges.append(Edge(nid, f"{nid}s", f"{labels[n.id]} = {value}" if value
                                else None))

    out = graph.nodes[graph.output]
    out_id = f"n{len(graph.nodes)}"
    if out.op is not VAR and out.op is not CONST:
        value = num(ev.value) if show_values and known(out.id) else None
        box = Box(out_id, "output", f, value, num(1.0) if show_grads and sent(-1) else None, f)
        box.current = current(-1)
        d.boxes.append(box)
        on = stage is not None and (out.id, -1) in stage.current_edges
        d.edges.append(Edge(f"n{out.id}", out_id, f"{f} = {value}" if value else None,
                            current=on))
        if show_grads and sent(-1):
            on = stage is not None and (out.id, -1) in stage.current_grads
            d.edges.append(Edge(out_id, f"n{out.id}", f"∂{f}/∂{f} = {num(1.0)}", grad=True,
                                current=on))

    if show_grads:  # in the order the reverse pass computes them
        for n in reversed(shown):
            if not live[n.id] or not inputs[n.id] or not sent(n.id):
                continue
            if n.id in joins.values():
                partials = [1.0] * len(inputs[n.id])  # a sum: every input's partial is 1
            else:
                partials = local_partials(ev, n)
            slots: dict[int, list[int]] = {}  # input -> its operand positions (x*x: two)
            for k, j in enumerate(inputs[n.id]):
                if graph.nodes[j].op is not CONST and passes(n, k):
                    slots.setdefault(j, []).append(k)
            for j, ks in slots.items():
                if paths[j] == 1:
                    label = f"∂{f}/∂{labels[j]} = {num(ev.grads[j])}"
                else:
                    parts = " + ".join(num(ev.grads[n.id] * partials[k]) for k in ks)
                    label = f"∂{f}/∂{labels[j]} via {labels[n.id]} = {parts}"
                on = stage is not None and (j, n.id) in stage.current_grads
                d.edges.append(Edge(f"n{n.id}", src_of[n.id, ks[0]], label, grad=True,
                                    current=on, length=length(j, n.id)))
    return d


def node_lines(b: Box, output: str) -> list[str]:
    """The text lines of a box: `x = 1`, and the summed gradient of a shared node; a
    variable that is the output itself (`cgraph graph x`) has no edge for its gradient to
    travel along, so it shows `∂f/∂x = 1` in its box."""
    first = b.title if b.kind == "op" or b.value is None else f"{b.title} = {b.value}"
    if b.paths > 1 and b.grad is not None:
        return [first, f"∂{output}/∂{b.handle} = {b.grad}", f"sum of {b.paths} paths"]
    if b.kind == "output" and b.handle != output and b.grad is not None:
        return [first, f"∂{output}/∂{b.handle} = {b.grad}"]
    return [first]


def _beside(edges: list[Edge]) -> list[Edge]:
    """The edges with each gradient edge right after the forward edge it runs back along.
    dot's `ordering=in` keeps a node's in-edges in this order, and Mermaid's dagre draws
    edges written together next to each other (measured: see `render_mermaid`), so a
    gradient and its label stay beside their own forward edge instead of crossing the next
    one's label."""
    back: dict = {}
    for e in edges:
        if e.grad:
            back.setdefault((e.dst, e.src), []).append(e)
    out = []
    for e in edges:
        if not e.grad:
            out.append(e)
            out += back.pop((e.src, e.dst), [])
    return out + [e for es in back.values() for e in es]


# -- Mermaid ------------------------------------------------------------------------------

def _mermaid_text(text: str) -> str:
    """A double-quoted Mermaid label: `"` `<` `>` `#` as entity codes, and on an ASCII
    standard output every other character too (see `_ascii`)."""
    text = text.replace("#", "#35;").replace('"', "#quot;")
    text = text.replace("<", "#lt;").replace(">", "#gt;")
    return '"' + (text if text.isascii() else _ascii(text, "#{};")) + '"'


def _ascii(text: str, entity: str) -> str:
    """`text` as it is, or, where standard output is ASCII, each character ASCII lacks as
    the renderer's entity code (`#952;`, `&#952;`): the stream would spell θ `\\u03b8`,
    which Mermaid and Graphviz draw as six characters, and ∂ `d`. An -o file is UTF-8."""
    from .streams import ascii_only

    if not ascii_only():
        return text
    return "".join(c if c.isascii() else entity.format(ord(c)) for c in text)


# Mermaid wraps an edge label wider than 200 px at any space or hyphen, `4.3857e-` over
# `06` too; a label longer than this many characters (~7.5 px each) is broken after its `=`.
MERMAID_LABEL_CHARS = 26


def _mermaid_label(text: str) -> str:
    """An edge label; a long one on two lines: `∂f/∂x via t5 =`, then the number."""
    head, eq, value = text.partition(" = ")
    if len(text) <= MERMAID_LABEL_CHARS or not eq:
        return _mermaid_text(text)
    return _mermaid_text(head + " =")[:-1] + "<br>" + _mermaid_text(value)[1:]


_CLASS = {"op": "op", "const": "lit"}
# After the `flowchart` line, where Mermaid reads directives too: files still start with it.
MERMAID_INIT = '  %%{init: {"flowchart": {"curve": "catmullRom"}}}%%'
CURRENT = "#dc322f"  # what a step of a walk-through is about
OP_FILL, OP_TEXT = "#fff5d6", "#1b1b1b"  # an operation's circle and its symbol


def _spacers(d: Diagram) -> list[Edge]:
    """The gradient edges with an end inside a function call's subgraph: each gets an
    invisible link (`~~~`) between the same two nodes, written right after it. Inside a
    subgraph dagre drew a gradient edge as a V dipping away from its forward edge, its
    label up to 260 px off, whatever the order the edges were written in, inside the
    `subgraph` block or not, and whatever the node and rank spacing; with the invisible
    link beside it, the label stays by its forward edge (see `render_mermaid`)."""
    call = {b.id: b.call for b in d.boxes}
    return [e for e in d.edges if e.grad and (call.get(e.src) or call.get(e.dst))]


def mermaid_links(d: Diagram) -> int:
    """The links Mermaid counts against its limit: the edges and the invisible ones."""
    return len(d.edges) + len(_spacers(d))


def render_mermaid(d: Diagram, direction: str | None = None, fence: bool = False) -> str:
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

    Edges are drawn as Catmull-Rom curves (`MERMAID_INIT`), not Mermaid's default B-splines:
    dagre reserves room for each edge label at a point of its edge, but Mermaid keeps the
    label there only when that point is on the drawn path (it looks for its coordinates in
    the path's `d`); a B-spline does not pass through its points, so Mermaid moved almost
    every label to the middle of the edge's polyline instead, where labels fell on each
    other (160 overlapping pairs in the test corpus, most in top-to-bottom graphs). A
    Catmull-Rom curve passes through every point, so each label stays where dagre made room
    for it (0 overlaps), and the edges stay smooth.

    Each gradient edge is written right after its forward edge (`_beside`), not all of them
    after the forward ones: dagre then draws it beside that edge, its label next to the
    forward edge's. Measured on the geometry corpus of tests/test_diagrams.py: a gradient
    label's mean distance to its forward edge went from 83 to 40 px (xor.cg: 70 to 30),
    edge crossings from 501 to 291, and with function calls (subgraphs) drawing the
    gradients no longer reordered the forward nodes (11 pairs in a rank swapped, 0 now).
    Inside function calls' subgraphs that was not enough: there each gradient edge also
    gets an invisible link beside it (`_spacers`).
    """
    lines = [f"flowchart {direction or d.direction}", MERMAID_INIT]
    for call, boxes in _by_call(d.boxes):
        indent = "  "
        if call is not None:  # the nodes one call of a program's function made
            lines.append(f'  subgraph {_cluster_id(call)}["{_mermaid_text(call)[1:-1]}"]')
            indent = "    "
        for b in boxes:
            text = "<br>".join(_mermaid_text(x)[1:-1] for x in node_lines(b, d.output))
            if b.kind == "op" and b.paths > 1 and b.grad is not None:
                lines.append(f'{indent}{b.id}(["{text}"])')  # a circle would grow round
            elif b.kind == "op":
                lines.append(f'{indent}{b.id}(("{text}"))')
            elif b.kind == "ref":
                lines.append(f'{indent}{b.id}("{text}")')
            else:
                lines.append(f'{indent}{b.id}["{text}"]')
        if call is not None:
            lines.append("  end")
    styles: dict[str, list[str]] = {}  # linkStyle -> link indices
    spacers = {id(e) for e in _spacers(d)}
    links = 0  # Mermaid numbers every link, invisible ones too
    for e in _beside(d.edges):
        label = f"|{_mermaid_label(e.label)}|" if e.label else ""
        if e.grad:
            lines.append(f"  {e.dst} <-{'.' * e.length}->{label} {e.src}")
        else:
            lines.append(f"  {e.src} -{'-' * e.length}>{label} {e.dst}")
        style = ",".join((["marker-end:none"] if e.grad else [])
                         + ([f"stroke:{CURRENT},stroke-width:3px"] if e.current else []))
        if style:
            styles.setdefault(style, []).append(str(links))
        links += 1
        if id(e) in spacers:
            lines.append(f"  {e.dst} ~~~ {e.src}")
            links += 1
    for style, indices in styles.items():
        lines.append(f"  linkStyle {','.join(indices)} {style}")
    # an operation's symbol is dark on its light fill whatever the theme: GitHub draws
    # Mermaid with the dark theme, whose light text vanished on it
    classes = [("op", f"fill:{OP_FILL},stroke:#b58900,color:{OP_TEXT}"),
               ("lit", "fill:none,stroke:none"),
               ("current", f"stroke:{CURRENT},stroke-width:3px")]
    for name, style in classes:
        ids = [b.id for b in d.boxes if (b.current if name == "current"
                                          else _CLASS.get(b.kind) == name)]
        if ids:
            lines.append(f"  class {','.join(ids)} {name}")
            lines.append(f"  classDef {name} {style}")
    text = "\n".join(lines) + "\n"
    return f"```mermaid\n{text}```\n" if fence else text


# -- DOT ----------------------------------------------------------------------------------

def _dot_string(text: str) -> str:
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + (text if text.isascii() else _ascii(text, "&#{};")) + '"'


def _record_field(text: str) -> str:
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text


def _dot_node(b: Box, output: str) -> str:
    """A box's DOT attributes."""
    if b.kind == "op" and b.paths > 1 and b.grad is not None:
        # the sum of a shared node's paths: a circle would grow round it
        return (f'shape=box, style="rounded,filled", fillcolor="{OP_FILL}", '
                f"label={_dot_string(chr(10).join(node_lines(b, output)))}")
    if b.kind == "op":
        return (f'shape=circle, width=0.45, margin=0.02, style=filled, fillcolor="{OP_FILL}", '
                f"label={_dot_string(b.title)}")
    if b.kind == "ref":
        return f'shape=box, style="rounded,dashed", label={_dot_string(b.title)}'
    if b.kind == "const":
        return f"shape=plaintext, height=0.3, label={_dot_string(node_lines(b, output)[0])}"
    fields = [b.title]
    if b.value is not None:
        fields.append(f"value {b.value}")
    if b.grad is not None:
        total = f" (sum of {b.paths} paths)" if b.paths > 1 else ""
        fields.append(f"grad {b.grad}{total}")
    label = "{" + " | ".join(_record_field(x) for x in fields) + "}"
    style = '"rounded,bold"' if b.kind == "output" else "rounded"
    return f"shape=record, style={style}, label={_dot_string(label)}"


def _by_call(boxes):
    """The boxes in runs of the same call (None: not made by a call), in their order."""
    runs: list = []
    where: dict = {}
    for b in boxes:
        if b.call is None:
            runs.append((None, [b]))
        elif b.call in where:
            where[b.call].append(b)
        else:
            where[b.call] = [b]
            runs.append((b.call, where[b.call]))
    return runs


def _cluster_id(call: str, prefix: str = "call_") -> str:
    """`neuron#2` -> `call_neuron_2`: an id Mermaid and DOT take (a character that is not
    an ASCII letter or digit is spelled by its code point, so ids stay distinct)."""
    import re

    name, _, number = call.partition("#")
    return prefix + re.sub(r"[^A-Za-z0-9]", lambda m: f"_{ord(m.group())}_", name) \
        + f"_{number}"


def _in_order(d: Diagram) -> set[str]:
    """The operations whose inputs dot should draw in the program's order (x above y in
    x + y, as Mermaid draws them): those whose inputs are leaves used nowhere else. Any
    order of those is free of crossings, and dot picked one by chance: y above x in the
    tutorial without --grads, x above y with them. Elsewhere dot keeps its own order
    (`ordering=in` on every node cost xor.cg 17 more edge crossings)."""
    kind = {b.id: b.kind for b in d.boxes}
    uses: dict[str, int] = {}
    inputs: dict[str, list[str]] = {}
    for e in d.edges:
        if not e.grad:
            uses[e.src] = uses.get(e.src, 0) + 1
            inputs.setdefault(e.dst, []).append(e.src)
    return {n for n, ins in inputs.items() if len(ins) > 1 and kind[n] == "op"
            and all(kind[j] != "op" and uses[j] == 1 for j in ins)}


def render_dot(d: Diagram, direction: str | None = None) -> str:
    """Graphviz DOT text. Gradient edges are written forward with `dir=back`, like the
    Mermaid ones, so they rank with the forward edge beside them and dot places their
    labels among the others instead of over them."""
    lines = [
        "digraph cgraph {",
        f"  rankdir={direction or d.direction};",
        '  node [fontname="Helvetica", fontsize=12];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    ordered = _in_order(d)
    for call, boxes in _by_call(d.boxes):
        indent = "  "
        if call is not None:  # the nodes one call of a program's function made
            lines.append(f"  subgraph {_cluster_id(call, 'cluster_')} {{")
            lines.append(f'    label={_dot_string(call)}; style="rounded,dashed"; '
                         'color="#93a1a1";')
            indent = "    "
        for b in boxes:
            highlight = f', color="{CURRENT}", penwidth=2.5' if b.current else ""
            order = "ordering=in, " if b.id in ordered else ""
            lines.append(f"{indent}{b.id} [{order}{_dot_node(b, d.output)}{highlight}];")
        if call is not None:
            lines.append("  }")
    # Edge labels become extra nodes in dot's layout, which keeps them apart; in huge graphs
    # `xlabel` places them after the layout instead (they may then overlap): 400 nodes with
    # gradients render in 0.3 s instead of 1.7 s, 2,000 in ~1 s instead of ~12 s.
    label_attr = "xlabel" if d.huge else "label"
    for e in _beside(d.edges):
        attrs = []
        if e.label:
            attrs.append(f"{label_attr}={_dot_string(e.label)}")
        src, dst = e.src, e.dst
        if e.grad:
            src, dst = dst, src
            attrs += ["dir=back", "style=dashed", 'color="#268bd2"', 'fontcolor="#268bd2"']
        if e.current:
            attrs += [f'color="{CURRENT}"', "penwidth=2.5"]
        if e.length > 1:
            attrs.append(f"minlen={e.length}")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {src} -> {dst}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def plan(graph: Graph, direction: str | None = None, collapse: bool | None = None):
    """The layout a readable picture of `graph` needs: (direction, joins, notes).

    Unless told otherwise, a graph deeper than READABLE_RANKS gets its chains of additions
    drawn as one node each (`sum_chains`), and if it is still that deep it is drawn top to
    bottom. `notes` say on standard error what was done and how to undo it."""
    notes = []
    ranks = depth(graph)
    joins: dict[int, int] = {}
    if collapse or (collapse is None and ranks > READABLE_RANKS):
        joins = sum_chains(graph)
        if joins and collapse is None:
            notes.append(f"{ranks} ranks deep: long sums drawn as one + node each "
                         f"({len(joins)} additions folded in; --no-collapse draws them all)")
        ranks = depth(graph, joins)
    if direction is None:
        direction = "LR"
        if ranks > READABLE_RANKS:
            direction = "TB"
            notes.append(f"{ranks} ranks deep, too wide to read left to right: drawn top to "
                         "bottom (--direction LR keeps it left to right)")
    return direction, joins, notes


def warnings(graph: Graph, d: Diagram, fmt: str) -> list[str]:
    """What to tell the user about a diagram a renderer may refuse or choke on."""
    notes = []
    links = mermaid_links(d) if fmt == "mermaid" else 0
    if links > MERMAID_MAX_EDGES:
        grads = any(e.grad for e in d.edges)
        notes.append(f"{links} edges: Mermaid renders at most {MERMAID_MAX_EDGES} by "
                     "default (GitHub too); use --format dot for big graphs"
                     + (", or leave out --grads (half the edges)" if grads else ""))
    if len(d.boxes) > SLOW_NODES:  # the shapes drawn: a folded sum is one
        notes.append(f"{len(d.boxes)} nodes: renderers slow down past {SLOW_NODES:,} nodes")
    return notes


FORMATS = {
    "mermaid": lambda d, o: render_mermaid(d, d.direction, o.fence),
    "dot": lambda d, o: render_dot(d, d.direction),
    "html": lambda d, o: stepper.page(d.graph, d.evaluation, grads=d.grads, digits=o.digits),
}

# `graph -o FILE`: what its suffix holds (see cli_support.by_suffix); Markdown gets the
# Mermaid in a fence, and an image is drawn by Graphviz from the DOT (`write_image`)
SUFFIXES = {".mmd": "mermaid", ".mermaid": "mermaid", ".md": ("markdown", ("mermaid",)),
            ".markdown": ("markdown", ("mermaid",)), ".dot": "dot", ".gv": "dot",
            ".html": "html", ".htm": "html",
            **dict.fromkeys((".svg", ".png", ".pdf"), ("image", ("dot",)))}


def write_image(dot_source: str, path: str, inputs=()) -> list[str]:
    """Render DOT through Graphviz's `dot` into an .svg, .png or .pdf file (written whole or
    not at all, never onto one of the command's `inputs`); returns what dot said on
    standard error (e.g. that it scaled a huge picture down to fit)."""
    dot = shutil.which("dot")
    if dot is None:
        raise EvaluationError(
            f"cannot write {path}: Graphviz is not installed (no 'dot' on PATH). Install it "
            "(apt-get install graphviz, brew install graphviz, or https://graphviz.org), "
            "or write the diagram as text with --format dot")
    fmt = path.rsplit(".", 1)[-1].lower()
    done = subprocess.run([dot, f"-T{fmt}"], input=dot_source.encode(),
                          capture_output=True)
    said = done.stderr.decode(errors="replace").strip().splitlines()
    if done.returncode != 0:
        raise EvaluationError(f"Graphviz could not write {path}: "
                              + (said[0] if said else f"exit {done.returncode}"))
    from .files import write_text

    write_text(path, done.stdout, inputs, binary=True)
    return said


# -- the walk-through's pictures (`cgraph explain --diagrams`) ----------------------------

class Walkthrough:
    """The diagrams of a walk-through, in the tutorial's order: the graph statement by
    statement, then one after each step of the forward pass (values appearing) and of the
    backward pass (gradients appearing as they are computed), the step's node and edges
    highlighted. Each is a fenced Mermaid block."""

    def __init__(self, ev: Evaluation, digits: int | None = numtext.DIAGRAM):
        self.ev, self.graph, self.digits = ev, ev.graph, digits
        # every binary node is a step of its own here: no sums folded into one node
        self.direction = plan(self.graph, None, False)[0]
        self.values = {n.id for n in self.graph.nodes if not n.inputs}
        self.sent: set[int] = set()
        self.edges = self.count = 0  # the biggest picture's edges, and how many pictures

    def _picture(self, graph: Graph, ev, stage: Stage | None, grads: bool = True) -> str:
        d = build(graph, ev, grads=grads, digits=self.digits, stage=stage,
                  direction=self.direction)
        self.edges = max(self.edges, mermaid_links(d))
        self.count += 1
        return render_mermaid(d, fence=True)

    def notes(self) -> list[str]:
        """What to tell the user about pictures Mermaid or a reader may choke on."""
        notes = []
        if self.edges > MERMAID_MAX_EDGES:
            notes.append(f"diagrams of up to {self.edges} edges: Mermaid renders at most "
                         f"{MERMAID_MAX_EDGES} by default (GitHub too); cgraph graph "
                         "--format dot draws big graphs")
        if self.count > 50:
            notes.append(f"{self.count} diagrams, one per step: --diagrams is meant for small "
                         "programs; cgraph graph --grads draws the whole pass in one")
        return notes

    def statements(self) -> list[tuple[int, str]]:
        """(node, picture) for each statement's graph so far (the whole graph when the
        program has more than 6 statements)."""
        g = self.graph
        ends = [n.id for n in g.nodes[: g.output] if n.name and n.inputs] + [g.output]
        if len(ends) > 6:
            ends = ends[-1:]
        out = []
        for end in ends:
            name = g.nodes[end].name or g.output_name
            part = g if end == g.output else Graph(g.nodes[: end + 1], end, name)
            out.append((end, self._picture(part, None, None, grads=False)))
        return out

    def forward(self, node: int) -> str:
        n = self.graph.nodes[node]
        self.values.add(node)
        stage = Stage(values=set(self.values), current={node},
                      current_edges={(j, node) for j in n.inputs})
        if node == self.graph.output:
            stage.current.add(-1)
            stage.current_edges.add((node, -1))
        return self._picture(self.graph, self.ev, stage)

    def backward(self, node: int) -> str:
        g = self.graph
        self.sent.add(node)
        stage = Stage(values={n.id for n in g.nodes}, sent=set(self.sent))
        if node == -1:
            stage.current = {-1, g.output}
            stage.current_grads = {(g.output, -1)}
        else:
            stage.current = {node}
            stage.current_grads = {(j, node) for j in g.nodes[node].inputs}
        return self._picture(g, self.ev, stage)
