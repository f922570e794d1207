"""A layered left-to-right layout for a DAG: no edge points backwards, few crossings.

The classic Sugiyama steps, kept small because computation graphs are already in
topological order: longest-path layering (inputs pulled right to just before their first
user), virtual points where an edge spans layers (so it bends around the boxes between),
a few sweeps of barycentre ordering, then each box placed near the mean height of its
neighbours without overlapping the box above it. Linear in the size of the graph for a
fixed number of sweeps; no dependency (Graphviz is not required to see a picture).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SWEEPS = 8
LAYER_GAP = 90  # horizontal space between layers, for edge labels
ROW_GAP = 46  # vertical space between boxes in a layer
MARGIN = 24


@dataclass
class Layout:
    x: list[float]  # centre of each box
    y: list[float]
    width: float
    height: float
    routes: dict = field(default_factory=dict)  # (src, dst) -> [(x, y), …] bends


def layered(sizes: list[tuple[float, float]], edges: list[tuple[int, int]]) -> Layout:
    """Positions for boxes of the given (width, height); `edges` go from a lower index to a
    higher one (topological order)."""
    n = len(sizes)
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    layer = [0] * n
    for v in range(n):
        if preds[v]:
            layer[v] = 1 + max(layer[u] for u in preds[v])
    for v in range(n):  # sources sit just before their first user
        if not preds[v] and succs[v]:
            layer[v] = max(0, min(layer[w] for w in succs[v]) - 1)

    # virtual points on long edges, unless they would outnumber the boxes several times
    spans = sum(layer[b] - layer[a] - 1 for a, b in edges)
    bend = spans <= 4 * n + 64
    node_layer = list(layer)
    links: list[tuple[int, int]] = []  # (upper, lower) over real and virtual points
    chains: dict = {}
    for a, b in edges:
        if bend and layer[b] - layer[a] > 1:
            chain = []
            prev = a
            for k in range(layer[a] + 1, layer[b]):
                node_layer.append(k)
                chain.append(len(node_layer) - 1)
                links.append((prev, chain[-1]))
                prev = chain[-1]
            links.append((prev, b))
            chains[a, b] = chain
        else:
            links.append((a, b))
    total = len(node_layer)
    up: list[list[int]] = [[] for _ in range(total)]
    down: list[list[int]] = [[] for _ in range(total)]
    for a, b in links:
        down[a].append(b)
        up[b].append(a)

    layers: list[list[int]] = [[] for _ in range(max(node_layer, default=0) + 1)]
    for v in range(total):  # first seen, first placed: topological order is a good start
        layers[node_layer[v]].append(v)
    pos = [0.0] * total
    for row in layers:
        for i, v in enumerate(row):
            pos[v] = i
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        for row in (layers[1:] if forward else layers[-2::-1]):
            key = {}
            for v in row:
                nb = up[v] if forward else down[v]
                key[v] = sum(pos[u] for u in nb) / len(nb) if nb else pos[v]
            row.sort(key=lambda v: key[v])
            for i, v in enumerate(row):
                pos[v] = i

    # heights: each box near the mean of its neighbours, in order, never overlapping
    height = [sizes[v][1] if v < n else 0.0 for v in range(total)]
    y = [0.0] * total
    for row in layers:
        at = 0.0
        for v in row:
            y[v] = at + height[v] / 2
            at += height[v] + ROW_GAP
    for sweep in range(4):
        forward = sweep % 2 == 0
        for row in (layers[1:] if forward else layers[-2::-1]):
            want = []
            for v in row:
                nb = up[v] if forward else down[v]
                want.append(sum(y[u] for u in nb) / len(nb) if nb else y[v])
            _place(row, want, y, height)

    top = min((y[v] - height[v] / 2 for v in range(total)), default=0.0)
    widths = [max((sizes[v][0] for v in row if v < n), default=8.0) for row in layers]
    xs, at = [], MARGIN
    for w in widths:
        xs.append(at + w / 2)
        at += w + LAYER_GAP
    x = [xs[node_layer[v]] for v in range(total)]
    y = [v - top + MARGIN for v in y]
    routes = {key: [(x[c], y[c]) for c in chain] for key, chain in chains.items()}
    bottom = max((y[v] + height[v] / 2 for v in range(total)), default=0.0)
    return Layout(x[:n], y[:n], at - LAYER_GAP + MARGIN, bottom + MARGIN, routes)


def _place(row, want, y, height) -> None:
    """Centres as close to `want` as the order and the gaps allow: each box at least a gap
    below the one above it, then the row shifted to centre on what it wanted."""
    placed = []
    for i, v in enumerate(row):
        c = want[i]
        if i:
            u = row[i - 1]
            c = max(c, placed[-1] + (height[u] + height[v]) / 2 + ROW_GAP)
        placed.append(c)
    shift = sum(w - p for w, p in zip(want, placed)) / len(row) if row else 0.0
    for i, v in enumerate(row):
        y[v] = placed[i] + shift
