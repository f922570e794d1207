"""The backprop stepper: one self-contained HTML file (inline SVG, CSS and JavaScript).

`page(graph, ev)` draws the graph in the tutorial's visual language (inputs as boxes with
their values, operations as circles, values on forward edges, dashed gradient edges), laid
out by `dag_layout.layered`, and steps through exactly `explain`'s steps: each step is the
walk-through's own text with a hole for every number (`Step.template`), so the page and
`cgraph explain` cannot disagree. The numbers shown first are Python's; when an input
changes, the page recomputes every value, local partial and gradient with the JavaScript
that `codegen` generates from the registry's rules (the one generator: the program's
function with every node's value and adjoint, and one small function per op for its local
partials), and refills the same holes.

Nothing is fetched: no network request of any kind (a Content-Security-Policy forbids
them), every string from the program is escaped for where it goes.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING

from . import codegen, numtext, ops
from .dag_layout import layered
from .graph import Graph, Node
from .ops import CONST, VAR
from .printing import node_expr, node_labels, output_labels, reading_order

if TYPE_CHECKING:
    from .graph import Evaluation

PICTURE_MAX = 2000  # nodes; past this a picture stops helping (the steps still work)
BIG = 60  # nodes; past this, edge labels show only where the current step is
SMALL = 12  # nodes; up to this, every path's contribution stays written on its edge
CHAR = 7.4  # px per character at the page's font size, for box widths
NUMBER = 9  # characters kept for a number in a box
SYM = 9.1  # px per character of an operation's symbol (bold, larger), for circle sizes
GCHAR = 6.9  # px per character of an edge's or a gradient's label
SHRINK = 0.75  # a picture wider than its box is scaled down to fit, this far at most
BELOW = 32  # px under a shape for its gradient: `∂f/∂node =`, then the number

_CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        "img-src data:")


def edge_ids(graph: "Graph") -> dict[tuple[int, int], int]:
    """An id for each input slot (node id, input index), in node order: where its local
    partial is in the page's numbers (and in `explain`'s `Num.ref`)."""
    ids = {}
    for n in graph.nodes:
        for k in range(len(n.inputs)):
            ids[n.id, k] = len(ids)
    return ids


def flow_table(graph: "Graph") -> dict:
    """What the page needs to redo `Graph.gradient_flow` after an input changes: every
    node's inputs, and for each node whose inputs get a gradient only sometimes (where,
    comparisons) the test for each input, from `ops.BranchGuards.test`: false (never),
    null (always), "eq" (where's condition is 0), "ne" (it is not 0)."""
    guards = ops.BranchGuards(graph, lambda op, args: op.name, None)
    tests = {}
    for n in graph.nodes:
        if n.op.gate is not None:
            tests[n.id] = [{"c": "ne"}.get(t, t) if isinstance(t, str) else t
                           for t in (guards.test(n, k, "c") for k in range(len(n.inputs)))]
    return {"ins": [list(n.inputs) for n in graph.nodes], "tests": tests,
            "vars": sorted(graph.variables.values())}


def passes_js(graph: "Graph") -> str:
    """`function passes(inputs)` -> {values, adjoints, partials}: every node's value and
    adjoint, and every input slot's local partial (0 off the paths to the output), from
    codegen's JavaScript for the program and for each op used (`a0, a1, … -> op(…)`)."""
    live = graph.reaches_output()
    slot = edge_ids(graph)
    ops_used = {n.op.name: n.op for n in graph.nodes if n.inputs and live[n.id]}
    parts = [codegen.generate(graph, "js", name="cgAll", all_nodes=True)]
    for name, op in sorted(ops_used.items()):
        args = [Node(i, VAR, name=f"a{i}") for i in range(op.arity)]
        tiny = Graph(args + [Node(op.arity, op, tuple(range(op.arity)))], op.arity, "out",
                     op.name)
        parts.append(codegen.generate(tiny, "js", name=f"cgLocal_{name}"))
    table = [[slot[n.id, 0], n.op.name, list(n.inputs)] for n in graph.nodes
             if n.inputs and live[n.id]]
    locals_ = ", ".join(f"{json.dumps(name)}: cgLocal_{name}" for name in sorted(ops_used))
    parts.append(
        f"const cgLocal = {{{locals_}}};\n"
        f"const cgSlots = {_script_json(table)};\n"
        "function passes(inputs) {\n"
        "  const r = cgAll(...inputs);\n"
        f"  const p = new Float64Array({len(slot)});\n"
        "  for (const [first, op, ins] of cgSlots) {\n"
        "    const g = cgLocal[op](...ins.map((i) => r.values[i])).gradient;\n"
        "    ins.forEach((_, k) => { p[first + k] = g[\"a\" + k]; });\n"
        "  }\n"
        "  return {values: r.values, adjoints: r.adjoints, partials: p};\n"
        "}\n")
    return "\n".join(parts)


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _script_json(doc) -> str:
    """JSON that is safe inside <script>: no `</script>`, no `<!--`, no line separators."""
    text = numtext.json_document(doc, separators=(",", ":"))
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                 ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(a, b)
    return text


def _script_code(code: str) -> str:
    return code.replace("</", "<\\/").replace("<!--", "<\\!--")


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                          "'": "&#x27;"})


def _e(text: str) -> str:
    """Text for HTML content or a quoted attribute."""
    return text.translate(_ESCAPES)


def _title(graph: "Graph") -> str:
    from .parser import one_line

    return one_line(graph.source) or graph.output_name


def _heading(title: str) -> str:
    """The program in the page's heading, each statement (with its `;`) in a box that the
    heading's lines break around: on a phone a line ends between statements, not inside one
    that fits on a line (`h = x*y +` / `1; q` / `= h^2`); a statement longer than a line
    still wraps inside its box."""
    parts = title.split("; ")
    return " ".join(f'<span class="stmt">{_e(p)}{";" if k < len(parts) - 1 else ""}</span>'
                    for k, p in enumerate(parts))


def _op_symbol(op) -> str:
    if op.infix:
        return {"mul": "×", "neg": "−", "sub": "−"}.get(op.name, op.spelling)
    return op.spelling


def _partials(graph: "Graph", values) -> list[float]:
    """Every input slot's local partial at these values (0 off the paths to the output)."""
    edge = edge_ids(graph)
    live = graph.reaches_output()
    out = [0.0] * len(edge)
    for n in graph.nodes:
        if n.inputs and live[n.id]:
            args = [values[j] for j in n.inputs] + [values[n.id]]
            for k, rule in enumerate(n.op.partials):
                out[edge[n.id, k]] = rule(ops.SCALAR, *args)
    return out


def _reveals(graph: "Graph", steps, values) -> tuple[dict, list]:
    """For each drawn element, the index of the step that first shows it, and for each
    step the elements it is about (its focus).

    A node's gradient shows at the step that completes it, as `explain` says it: its only
    path's (chain rule, or the output's own local partial), or the sum of its paths. An
    edge that passes no gradient (a comparison's inputs, where's condition and the branch
    not taken, at these `values`) is no path: a node that gets a gradient along none
    shows its 0 when the pass has reached every edge out of it (the step that says
    `none`, or the 0 of the user it feeds)."""
    shown: dict[str, int] = {}
    focus = []
    out = graph.output
    flows, flags = graph.gradient_flow(values)
    paths = [0] * len(graph.nodes)  # the edges out of each node that pass it a gradient
    for n in graph.nodes:
        if flows[n.id]:
            for k, j in enumerate(n.inputs):
                paths[j] += flags[n.id] is None or bool(flags[n.id][k])
    nothing: dict[int, int] = {}  # a node along no path: the last `none` step into it

    def gradient_known(j: int, i: int) -> None:
        """With its only path's contribution (several paths: at the sum step)."""
        if paths[j] == 1:
            shown.setdefault(f"g{j}", i)
    for i, s in enumerate(steps):
        at = s.at
        if s.kind == "forward":
            n = graph.nodes[at[0]]
            shown.setdefault(f"v{n.id}", i)
            focus.append([f"n{n.id}"] + [f"e{n.id}.{k}" for k in range(len(n.inputs))])
        elif s.kind == "seed":
            shown.setdefault(f"g{out}", i)
            shown.setdefault("gout", i)
            focus.append([f"n{out}", "nout"])
        elif s.kind == "node":
            focus.append([f"n{at[0]}"])
        elif s.kind == "local":
            n, k = at
            j = graph.nodes[n].inputs[k]
            shown.setdefault(f"p{n}.{k}", i)
            focus.append([f"e{n}.{k}"])
            if flags[n] is not None and not flags[n][k]:  # `none`: no gradient this way
                shown.setdefault(f"b{n}.{k}", i)
                nothing[j] = i
            elif n == out:  # no chain rule for the output's own inputs
                shown.setdefault(f"b{n}.{k}", i)
                gradient_known(j, i)
        elif s.kind == "chain":
            n, k = at
            shown.setdefault(f"b{n}.{k}", i)
            focus.append([f"b{n}.{k}"])
            gradient_known(graph.nodes[n].inputs[k], i)
        elif s.kind == "sum":
            j = at[0]
            shown.setdefault(f"g{j}", i)
            focus.append([f"n{j}"])
        else:  # result
            focus.append([f"n{at[0]}"] + (["nout"] if at[0] == out else []))
    # along no path: its 0 is known once every edge out of it is (users come later)
    live = graph.reaches_output()
    users = graph.users()
    for j in range(out - 1, -1, -1):
        if live[j] and not flows[j]:
            after = [nothing[j]] if j in nothing else []
            after += [shown[f"g{u}"] for u in users[j] if not flows[u] and f"g{u}" in shown]
            if after:
                shown.setdefault(f"g{j}", max(after))
    return shown, focus


class _Svg:
    def __init__(self):
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)


def _num(ref: str, value: float | None, digits: int, shown: dict, key: str | None = None,
         prefix: str = "", at: str = "") -> str:
    """A number in the picture: a tspan the page refills, hidden until its step."""
    if value is None:
        return ""
    s = shown.get(key or ref, -1)
    cls = ' class="pending"' if s > 0 else ""
    return (f'<tspan data-s="{s}"{cls}>{_e(prefix)}<tspan data-q="{ref}"{at}>'
            f"{_e(numtext.text(value, digits))}</tspan></tspan>")


def picture(graph: "Graph", ev: "Evaluation | None", shown: dict, digits: int,
            grads: bool) -> str:
    """The inline SVG of the graph, with every number; `shown`: the step that reveals each
    (see `_reveals`; missing: shown from the start)."""
    nodes = graph.nodes
    labels = output_labels(graph)  # as explain names them: the output is f, not t5
    live = graph.reaches_output()
    f = graph.output_name
    out = graph.output
    values = ev.values if ev is not None else None
    adj = ev.grads if (ev is not None and grads) else None
    edge = edge_ids(graph)
    partials = _partials(graph, ev.values) if adj is not None else None
    flows, flags = graph.gradient_flow(ev.values) if adj is not None else (live, None)
    has_out_box = nodes[out].inputs != ()
    drawn = [live[n.id] and not (n.op is CONST and not n.name) for n in nodes]
    below = BELOW if adj else 0  # the gradient's two lines under each shape

    def under(n) -> float:  # their width, so no neighbour's label runs into them
        if adj is None or not drawn[n.id]:
            return 0.0
        return GCHAR * max(len(f"∂{f}/∂{labels[n.id]} ="), NUMBER + 2)

    radius = {n.id: max(18.0, SYM * len(_op_symbol(n.op)) / 2 + 6) for n in nodes if n.inputs}
    shapes = []  # the width of each drawn shape; a layer is as wide as its widest line
    for n in nodes:
        if n.inputs:
            shapes.append(2 * radius[n.id])
        else:
            text = len(labels[n.id]) + (3 + NUMBER if values else 0)
            shapes.append(max(40.0, CHAR * text + 16))
    if has_out_box:
        shapes.append(max(40.0, CHAR * (len(f) + 3 + NUMBER) + 16))
    sizes = [(max(w, under(n)), (w if n.inputs else 30.0) + below)
             for w, n in zip(shapes, nodes)]
    if has_out_box:
        sizes.append((shapes[-1], 30.0 + below))
    links = sorted({(j, n.id) for n in nodes for j in n.inputs})
    if has_out_box:
        links.append((out, len(nodes)))
    lay = layered(sizes, links)
    svg = _Svg()
    big = " big" if len(nodes) > BIG else " small" if len(nodes) <= SMALL else ""
    svg.add(f'<svg xmlns="http://www.w3.org/2000/svg" class="graph{big}" '
            f'width="{lay.width:.0f}" height="{lay.height:.0f}" '
            f'viewBox="0 0 {lay.width:.0f} {lay.height:.0f}" role="img" '
            f'style="min-width: {SHRINK * lay.width:.0f}px" '
            f'aria-label="{_e("computation graph of " + _title(graph))}">')
    svg.add("<defs>" + "".join(
        f'<marker id="{m}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
        f'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        f'class="{cls}"/></marker>' for m, cls in (("arrow", "head"), ("garrow", "ghead")))
        + "</defs>")
    first_use: dict[int, tuple] = {}  # a value is written on its node's first edge out
    for n in nodes:
        for k, j in enumerate(n.inputs):
            first_use.setdefault(j, (j, n.id, k))

    def side(v: int, right: bool) -> tuple[float, float]:
        w = shapes[v] / 2
        return (lay.x[v] + (w if right else -w), _box_y(lay, v, adj is not None))

    # where every edge runs, before any is written: its labels then go where they cross
    # the fewest lines (see `_Labels`)
    routes, backs = {}, {}
    for n in nodes:
        for k, j in enumerate(n.inputs):
            a, b = side(j, True), side(n.id, False)
            pts = [a] + lay.routes.get((j, n.id), []) + [b]
            # x * x: one edge per operand, each with its gradient 9 px under it, so the
            # pairs are 18 px apart and the four lines evenly spaced
            dy = 18 * k - 9 * (n.inputs.count(j) - 1) if n.inputs.count(j) > 1 else 0
            routes[n.id, k] = [(x, y + dy) for x, y in pts]
            if adj is not None and live[n.id] and drawn[j]:
                backs[n.id, k] = [(x, y + 9) for x, y in reversed(routes[n.id, k])]
    lines = list(routes.values()) + list(backs.values())
    if has_out_box:
        lines.append([side(out, True), side(len(nodes), False)])
    obstacles = []  # the shapes, and the gradient written under each
    for n in nodes:
        x, y = lay.x[n.id], _box_y(lay, n.id, adj is not None)
        w, h = (2 * radius[n.id],) * 2 if n.inputs else (shapes[n.id], 30.0)
        obstacles.append((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
        if adj is not None and drawn[n.id]:
            chars = max(len(f"∂{f}/∂{labels[n.id]} ="), len(numtext.text(adj[n.id], digits)))
            w = GCHAR * chars + 4
            obstacles.append((x - w / 2, y + h / 2 + 2, x + w / 2, y + h / 2 + below + 2))
    if has_out_box:
        x, y = lay.x[len(nodes)], _box_y(lay, len(nodes), adj is not None)
        obstacles.append((x - shapes[-1] / 2, y - 15, x + shapes[-1] / 2, y + 15))
    # past BIG nodes only the current step's labels show: each at the middle of its
    # edge's first stretch, which costs nothing (placing them all would grow as the
    # square of the picture: long edges, and many lines through each stretch)
    place = _Labels(lay.width, lay.height, lines, obstacles) if len(nodes) <= BIG \
        else _Middle()
    value_at, grad_at = {}, {}
    if values is not None:
        for (j, n_id, k) in first_use.values():
            if nodes[j].inputs:  # named as the gradient under it names it: t2 = 0.96
                chars = len(f"{labels[j]} = ") + len(numtext.text(values[j], digits))
                value_at[n_id, k] = place.put(routes[n_id, k], GCHAR * chars, above=True)
    for key, back in backs.items():
        n_id, k = key
        chars = len(numtext.text(adj[n_id] * partials[edge[key]], digits))
        grad_at[key] = place.put(back[::-1], GCHAR * chars, above=False)

    # forward edges and, dashed under them, the gradient flowing back along each
    for n in nodes:
        for k, j in enumerate(n.inputs):
            e = edge[n.id, k]
            pts = routes[n.id, k]
            dead = "" if live[n.id] else " dead"
            svg.add(f'<g id="e{n.id}.{k}" class="edge{dead}">'
                    f'<path d="{_path(pts)}" marker-end="url(#arrow)"/>')
            if (n.id, k) in value_at:
                lx, ly = value_at[n.id, k]
                svg.add(f'<text class="elabel" x="{lx:.0f}" y="{ly:.0f}">'
                        f'{_num(f"v{j}", values[j], digits, shown, prefix=labels[j] + " = ")}'
                        "</text>")
            svg.add("</g>")
            if (n.id, k) in backs:
                back = backs[n.id, k]
                s = shown.get(f"b{n.id}.{k}", -1)
                cls = " pending" if s > 0 else ""
                if not (flows[n.id] and (flags[n.id] is None or flags[n.id][k])):
                    cls += " off"  # where: the branch not taken gets no gradient at all
                lx, ly = grad_at[n.id, k]
                contribution = adj[n.id] * partials[e]
                svg.add(f'<g id="b{n.id}.{k}" class="grad{cls}" data-s="{s}">'
                        f'<path d="{_path(back)}" marker-end="url(#garrow)"/>'
                        f'<text class="elabel" x="{lx:.0f}" y="{ly:.0f}">'
                        f'<tspan data-q="c{e}">{_e(numtext.text(contribution, digits))}'
                        "</tspan></text></g>")
    if has_out_box:
        o = len(nodes)
        a, b = side(out, True), side(o, False)
        svg.add(f'<g id="eout" class="edge"><path d="{_path([a, b])}" '
                'marker-end="url(#arrow)"/></g>')
        if adj is not None:
            back = [(x, y + 9) for x, y in (b, a)]
            s = shown.get("gout", -1)
            cls = " pending" if s > 0 else ""
            svg.add(f'<g class="grad{cls}" data-s="{s}"><path d="{_path(back)}" '
                    'marker-end="url(#garrow)"/></g>')

    for n in nodes:
        x, y = lay.x[n.id], _box_y(lay, n.id, adj is not None)
        dead = "" if live[n.id] else " dead"
        value = values[n.id] if values is not None else None
        if n.inputs:
            svg.add(f'<g id="n{n.id}" class="node op{dead}"><title>'
                    f"{_e(labels[n.id] + ' = ' + node_expr(graph, n, labels))}</title>"
                    f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{radius[n.id]:.0f}"/>'
                    f'<text x="{x:.0f}" y="{y + 5:.0f}" class="sym">'
                    f"{_e(_op_symbol(n.op))}</text>")
        else:
            w, h = shapes[n.id], 30.0
            const = " const" if n.op is CONST else ""
            svg.add(f'<g id="n{n.id}" class="node leaf{const}{dead}">'
                    f'<rect x="{x - w / 2:.0f}" y="{y - h / 2:.0f}" width="{w:.0f}" '
                    f'height="{h:.0f}" rx="4"/><text x="{x:.0f}" y="{y + 5:.0f}">'
                    f"{_e(labels[n.id])}"
                    + (_num(f"v{n.id}", value, digits, shown, prefix=" = ")
                       if value is not None and (n.op is VAR or n.name) else "") + "</text>")
        if adj is not None and drawn[n.id]:
            top = y + (radius[n.id] if n.inputs else 15) + 15
            off = " off" if not (flows[n.id] or n.op is VAR) else ""
            svg.add(f'<text class="glabel{off}" id="gl{n.id}" x="{x:.0f}" y="{top:.0f}">'
                    + _num(f"g{n.id}", adj[n.id], digits, shown,
                           prefix=f"∂{f}/∂{labels[n.id]} = ", at=f' x="{x:.0f}" dy="14"')
                    + "</text>")
        svg.add("</g>")
    if has_out_box:
        o = len(nodes)
        x, y = lay.x[o], _box_y(lay, o, adj is not None)
        w, h = shapes[o], 30.0
        value = ev.value if values is not None else None
        svg.add(f'<g id="nout" class="node leaf output"><rect x="{x - w / 2:.0f}" '
                f'y="{y - h / 2:.0f}" width="{w:.0f}" height="{h:.0f}" rx="4"/>'
                f'<text x="{x:.0f}" y="{y + 5:.0f}">{_e(f)}'
                + (_num(f"v{out}", value, digits, shown, prefix=" = ")
                   if value is not None else "") + "</text></g>")
    svg.add("</svg>")
    return "".join(svg.parts)


def _box_y(lay, v, grads: bool) -> float:
    """The centre of the shape (the gradient line, when there is one, hangs below it)."""
    return lay.y[v] - (9 if grads else 0)


def _path(pts) -> str:
    (x0, y0), rest = pts[0], pts[1:]
    d = [f"M{x0:.0f},{y0:.0f}"]
    for x1, y1 in rest:
        mid = (x0 + x1) / 2
        d.append(f"C{mid:.0f},{y0:.0f} {mid:.0f},{y1:.0f} {x1:.0f},{y1:.0f}")
        x0, y0 = x1, y1
    return "".join(d)


def _curve(pts, per: float = 4.0) -> list[tuple[float, float, float]]:
    """Points along the curve `_path(pts)` draws, about `per` px apart, each with how far
    along the whole curve it is (0 to 1)."""
    out: list = []
    total = len(pts) - 1
    for i, ((x0, y0), (x1, y1)) in enumerate(zip(pts, pts[1:])):
        mid = (x0 + x1) / 2
        steps = max(4, int((abs(x1 - x0) + abs(y1 - y0)) / per))
        for s in range(steps + (i == total - 1)):
            t = s / steps
            u = 1 - t  # the cubic with control points (mid, y0) and (mid, y1)
            x = u * u * u * x0 + 3 * u * t * mid + t * t * t * x1
            y = u * u * u * y0 + 3 * u * u * t * y0 + 3 * u * t * t * y1 + t * t * t * y1
            out.append((x, y, (i + t) / total))
    return out


class _Labels:
    """Places edge labels, one at a time, where their text crosses the fewest lines.

    Each label is tried at points along its own edge, its text centred above the line (a
    value: the gradient's dashed line runs 9 px under it) or below it (a gradient), and
    further off; a place within GAP px of a shape, of a label placed before or outside the
    picture is taken only when every other is; among the rest, the fewest points of any
    line under the text win (its own line's too: a steep stretch of its own edge crosses
    its text), then nearness to the middle of the edge and to the line. The lines are
    counted once into a grid of CELL px squares (a square counts when the text's width
    reaches into it at all, its height when its centre is under the text: a line close by
    an end of the text crosses it on a real page), and the tries go from the most wanted place on, stopping at the first that
    no later one can beat, so a label costs a few tries of a few squares."""

    CELL = 6
    GAP = 4
    TRIES = 24  # points along an edge, at most
    OFFSETS = (0.0, 6.0, 12.0, 20.0, 30.0)  # px further from the line
    ASCENT, DESCENT = 11.0, 3.0  # the box of the labels' 11.5 px text, from its baseline

    def __init__(self, width: float, height: float, lines, boxes):
        self.width, self.height = width, height
        c = self.CELL
        self.points: dict = {}
        for pts in lines:
            for x, y, _ in _curve(pts, per=c):
                cell = (int(x // c), int(y // c))
                self.points[cell] = self.points.get(cell, 0) + 1
        self.boxes: dict = {}
        for box in boxes:
            self._add(box)

    def _add(self, box) -> None:
        b = 4 * self.CELL
        for i in range(int(box[0] // b), int(box[2] // b) + 1):
            for j in range(int(box[1] // b), int(box[3] // b) + 1):
                self.boxes.setdefault((i, j), []).append(box)

    def _cost(self, box) -> float:
        """Points of lines under the text; a thousand for each shape or label within GAP
        px, a million outside the picture."""
        x0, y0, x1, y1 = box
        if x0 < 2 or y0 < 2 or x1 > self.width - 2 or y1 > self.height - 2:
            return 1e6
        g, b, c = self.GAP, 4 * self.CELL, self.CELL
        near = {id(o) for i in range(int((x0 - g) // b), int((x1 + g) // b) + 1)
                for j in range(int((y0 - g) // b), int((y1 + g) // b) + 1)
                for o in self.boxes.get((i, j), ())
                if o[0] < x1 + g and x0 - g < o[2] and o[1] < y1 + g and y0 - g < o[3]}
        get = self.points.get
        crossed = sum(get((i, j), 0) for i in range(int(x0 // c), int(x1 // c) + 1)
                      for j in range(round(y0 / c), round(y1 / c)))
        return crossed + 1000 * len(near)

    def put(self, pts, width: float, above: bool) -> tuple[float, float]:
        """(x, baseline) of a label `width` px wide on the edge through `pts`."""
        w = width / 2 + 2
        length = sum(abs(b[0] - a[0]) + abs(b[1] - a[1]) for a, b in zip(pts, pts[1:]))
        tries = sorted((abs(t - 0.5) * 4 + off / 6, x, y, off)
                       for x, y, t in _curve(pts, per=max(10.0, length / self.TRIES))
                       for off in self.OFFSETS)
        best = None
        for wish, x, y, off in tries:
            if best is not None and best[0] <= wish:
                break  # no place further on can do better
            base = y - 5 - off if above else y + 14 + off
            box = (x - w, base - self.ASCENT, x + w, base + self.DESCENT)
            cost = self._cost(box) * 10 + wish
            if best is None or cost < best[0]:
                best = (cost, x, base, box)
        _, x, base, box = best
        self._add(box)
        return x, base


class _Middle:
    """The labels of big pictures: the middle of the edge's first stretch."""

    def put(self, pts, width: float, above: bool) -> tuple[float, float]:
        (x0, y0), (x1, y1) = pts[0], pts[1]
        return (x0 + x1) / 2, (y0 + y1) / 2 + (-5 if above else 14)


def _ref(num) -> str:
    kind, index = num.ref
    return f"{kind}{index}"


def page(graph: "Graph", ev: "Evaluation | None" = None, sections=None, *,
         grads: bool = True, digits: int = numtext.TABLE) -> str:
    """The whole page. Without `ev`, the picture alone; with it, live inputs; with
    `sections` (explain's walk-through of `ev`), the steps to step through."""
    title = _title(graph)
    sections = sections or []
    steps = [s for sec in sections for s in sec.lines]
    grads = grads and ev is not None
    small = len(graph.nodes) <= PICTURE_MAX
    doc: dict = {"digits": digits, "steps": [], "sections": [], "output": graph.output}
    shown: dict = {}  # no steps: everything from the start
    if steps:
        shown, focus = _reveals(graph, steps, ev.values)
        at = 0
        for si, sec in enumerate(sections):
            doc["sections"].append(sec.title)
            for step in sec.lines:
                pieces, holes = step.template()
                doc["steps"].append({
                    "t": pieces, "h": [[_ref(num) if num.ref else numtext.json_value(num.value),
                                        int(paren)] for num, paren in holes],
                    "n": step.note or "", "i": step.indent, "f": focus[at], "s": si})
                at += 1
    inputs = []
    if ev is not None:
        doc["values"] = [numtext.json_value(v) for v in ev.values]
        doc["adjoints"] = [numtext.json_value(v) for v in ev.grads]
        doc["partials"] = [numtext.json_value(v) for v in _partials(graph, ev.values)]
        doc["variables"] = [graph.variables[v] for v in graph.variables]
        doc["edges"] = [n for n, _ in edge_ids(graph)]
        if grads and graph.gated():
            doc["flow"] = flow_table(graph)
        slot = {name: k for k, name in enumerate(graph.variables)}  # the argument's place
        num = numtext.text
        for name in reading_order(graph.variables):  # W[1,1], W[1,2], …, x[1], x[2], …
            k = slot[name]
            v = float(ev.bindings[name])
            span = 2 * max(1.0, abs(v)) if numtext.json_value(v) == v else 1.0
            lo, hi = (v - span, v + span) if v == v and v - v == 0 else (-1.0, 1.0)
            inputs.append(
                f'<label class="input"><span class="name">{_e(name)}</span>'
                f'<input type="number" step="any" value="{_e(numtext.text(v))}" data-var="{k}" '
                f'aria-label="{_e(name)}" style="--chars: {len(numtext.text(v))}">'
                f'<input type="range" min="{num(lo)}" max="{num(hi)}" '
                f'step="{num((hi - lo) / 400)}" value="{num(v)}" data-var="{k}" '
                f'aria-label="{_e(name)} slider"></label>')
    body = [f'<header><h1>cgraph <code>{_heading(title)}</code></h1>']
    if steps:
        body.append('<p class="hint">Step with ← and → (Home, End; Space plays), or the '
                    "buttons; change an input and everything is recomputed.</p>")
    elif inputs:
        body.append('<p class="hint">Change an input and every value is recomputed.</p>')
    body.append("</header>")
    if inputs:
        body.append('<section id="inputs" aria-label="Inputs">' + "".join(inputs)
                    + "</section>")
    if steps:
        n = len(steps)
        body.append(
            '<section id="controls" aria-label="Steps">'
            '<button type="button" id="first" aria-label="First step">⇤</button>'
            '<button type="button" id="prev" aria-label="Previous step">◀</button>'
            '<button type="button" id="play" aria-label="Play">▶ play</button>'
            '<button type="button" id="next" aria-label="Next step">▶</button>'
            '<button type="button" id="last" aria-label="Last step">⇥</button>'
            f'<input type="range" id="slider" min="0" max="{n - 1}" value="0" '
            'aria-label="Step">'
            f'<span id="count">step 1 of {n}</span></section>'
            f'<p id="now" aria-live="polite"><span class="section-name">'
            f"{_e(sections[0].title)}</span> <span class=\"text\">"
            f"{_e(steps[0].text(digits))}</span></p>")
    body.append('<main>')
    if small:
        body.append('<div id="picture">' + picture(graph, ev, shown, digits, grads) + "</div>")
    else:
        body.append(f'<p class="toobig">{len(graph.nodes):,} nodes: past {PICTURE_MAX:,} a '
                    "picture stops helping, so there is none; the steps and the table "
                    "below are all there.</p>")
    if steps:
        body.append('<ol id="steps" aria-label="Every step"></ol>')  # filled by the script
    body.append("</main>")
    if ev is not None:
        body.append(_node_table(graph, ev))
    script = ""
    if ev is not None:
        script = (f'<script type="application/json" id="data">{_script_json(doc)}</script>'
                  "<script>" + _script_code(passes_js(graph) + _asset("stepper.js"))
                  + "</script>")
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="color-scheme" content="light dark">'
            f"<title>cgraph: {_e(title)}</title><style>{_asset('stepper.css')}</style>"
            "</head><body>" + "".join(body) + script + "</body></html>\n")


def _node_table(graph: "Graph", ev: "Evaluation") -> str:
    labels = node_labels(graph)
    f = graph.output_name
    rows = []
    for n in graph.nodes:
        rows.append(f'<tr data-node="{n.id}"><td>{n.id}</td><td>{_e(labels[n.id])}</td>'
                    f"<td>{_e(n.op.name)}</td><td>{_e(node_expr(graph, n, labels))}</td>"
                    f'<td class="num" data-q="v{n.id}" data-full="1">'
                    f"{_e(numtext.text(ev.values[n.id]))}</td>"
                    + ('<td class="num"></td></tr>' if n.op is CONST else  # no gradient
                       f'<td class="num" data-q="g{n.id}" data-full="1">'
                       f"{_e(numtext.text(ev.grads[n.id]))}</td></tr>"))
    return ('<details id="table"><summary>Every node, full precision</summary>'
            '<table><thead><tr><th>#</th><th>node</th><th>op</th><th>expr</th><th>value</th>'
            f"<th>∂{_e(f)}/∂node</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table></details>")


def iframe(doc: str, graph: "Graph", height: int) -> str:
    """A page in an iframe's srcdoc, for Jupyter and VS Code (its scripts run inside the
    frame, sandboxed: they reach nothing outside it)."""
    return (f'<iframe srcdoc="{_e(doc)}" sandbox="allow-scripts" '
            f'style="width: 100%; height: {height}px; border: 0" '
            f'title="cgraph: {_e(_title(graph))}"></iframe>')
