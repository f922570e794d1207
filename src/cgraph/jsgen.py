"""The stepper's JavaScript passes: every node's value and adjoint, and every local partial.

`passes(graph)` is the source of one function `(inputs) -> {values, adjoints, partials}`:
straight-line code doing exactly what `Graph.forward` and `Graph.backward` do (the same
order of summation, the same IEEE arithmetic). It is written by `codegen`'s JavaScript
emitter, the one that `cgraph codegen --lang js` uses: the forward rules are the registry's
spellings, the partials the registry's own rules run with `m` = that emitter, and each
subexpression is computed once. Only the shape differs: the page wants every node's value
and adjoint in slots (`v[i]`, `d[i]`) and every input slot's partial (`p[k]`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .codegen import Code, Emitter
from .ops import CONST, VAR

if TYPE_CHECKING:
    from .graph import Graph


def edge_ids(graph: "Graph") -> dict[tuple[int, int], int]:
    """An id for each input slot (node id, input index), in node order: the index of its
    local partial in `passes`' `partials` (and in `explain`'s numbers)."""
    ids = {}
    for n in graph.nodes:
        for k in range(len(n.inputs)):
            ids[n.id, k] = len(ids)
    return ids


def passes(graph: "Graph", name: str = "passes") -> str:
    """`function name(inputs)`: inputs are the variables' values in order of first use;
    returns Float64Arrays of every node's value and adjoint, and every input slot's local
    partial (by `edge_ids`; 0 where the node does not reach the output)."""
    e = Emitter("js", "_t")
    m = e.namespace()
    edge = edge_ids(graph)
    order = {v: k for k, v in enumerate(graph.variables)}
    nodes = graph.nodes
    body: list[str] = []
    done = 0

    def emit(line: str) -> None:
        """The line, after the temporaries the emitter wrote for it."""
        nonlocal done
        body.extend(e.lines[done:])
        done = len(e.lines)
        body.append(line)

    v: list[Code] = []
    for n in nodes:
        slot = f"v[{n.id}]"
        if n.op is VAR:
            emit(f"{slot} = inputs[{order[n.name]}];")
            v.append(Code(e, slot))
        elif n.op is CONST:
            emit(f"{slot} = {e.literal(n.value).text};")
            v.append(Code(e, slot, n.value))
        else:
            c = e.apply(n.op, tuple(v[j] for j in n.inputs))
            emit(f"{slot} = {c.text};")
            v.append(c if c.value is not None else Code(e, slot))
    out = graph.output
    live = graph.reaches_output()
    emit(f"d[{out}] = 1;")
    for n in reversed(nodes[: out + 1]):
        if not live[n.id] or not n.inputs:
            continue
        args = [v[j] for j in n.inputs] + [v[n.id]]
        for k, (j, rule) in enumerate(zip(n.inputs, n.op.partials, strict=True)):
            p = edge[n.id, k]
            part = rule(m, *args)
            text = part.text if isinstance(part, Code) else e.literal(float(part)).text
            emit(f"p[{p}] = {text}; d[{j}] += d[{n.id}] * p[{p}];")
    lines = [f"function {name}(inputs) {{"]
    lines.append(f"  const v = new Float64Array({len(nodes)}), d = new Float64Array("
                 f"{len(nodes)}), p = new Float64Array({len(edge)});")
    lines += ["  " + line for line in body]
    lines.append("  return {values: v, adjoints: d, partials: p};")
    lines.append("}")
    return "\n".join(lines) + "\n"
