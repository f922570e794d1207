"""`cgraph diff`: derivatives as formulas that are themselves cgraph programs."""

from __future__ import annotations

import json
from dataclasses import dataclass

from . import formula, numtext, symbolic
from .errors import InputError
from .graph import Graph
from .printing import latex_name


@dataclass
class Derivatives:
    graph: Graph
    wrt: list[str]
    order: int
    builder: symbolic.SymbolicBuilder
    ids: dict  # variable -> node id in builder
    point: dict | None = None  # the bindings, when evaluated at a point (`at`)
    point_values: dict | None = None  # each derivative's value there

    def name(self, v: str) -> str:
        """`df_dx`, `d2f_dx2`: the statement name of ∂ⁿf/∂vⁿ in the printed program."""
        f, n = self.graph.output_name, self.order
        base = f"d{f}_d{v}" if n == 1 else f"d{n}{f}_d{v}{n}"
        while base in self.graph.variables:
            base += "_"
        return base

    def _render(self, latex: bool):
        outputs = [(self.name(v), self.ids[v]) for v in self.wrt]
        return formula.render(self.builder.nodes, outputs, latex=latex,
                              reserved=self.graph.variables)

    def program(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(definitions, derivatives) as (name, infix formula) pairs."""
        return self._render(latex=False)

    def text(self) -> str:
        definitions, outputs = self.program()
        return "".join(f"{name} = {expr}\n" for name, expr in definitions + outputs)

    def latex(self) -> str:
        definitions, outputs = self._render(latex=True)
        f, n = latex_name(self.graph.output_name), self.order
        lines = [f"{name} = {expr}" for name, expr in definitions]
        for v, (_, expr) in zip(self.wrt, outputs):
            up = r"\partial" if n == 1 else rf"\partial^{{{n}}}"
            down = rf"\partial {latex_name(v)}" + ("" if n == 1 else f"^{{{n}}}")
            lines.append(rf"\frac{{{up} {f}}}{{{down}}} = {expr}")
        return "\n".join(lines) + "\n"

    def to_json(self, values: dict | None = None) -> str:
        """One JSON object: the definitions, each derivative, its name, the whole text."""
        definitions, outputs = self.program()
        doc = {"program": self.graph.source, "output": self.graph.output_name,
               "order": self.order, "wrt": self.wrt, "definitions": dict(definitions),
               "derivatives": {v: expr for v, (_, expr) in zip(self.wrt, outputs)},
               "names": {v: self.name(v) for v in self.wrt}, "text": self.text()}
        if values is not None:
            doc["values"] = {v: numtext.json_value(x) for v, x in values.items()}
        return json.dumps(doc, ensure_ascii=False, allow_nan=False)

    def at(self, bindings: dict) -> "Derivatives":
        """These derivatives with their values at a point (none when `bindings` is empty)."""
        if bindings:
            self.point, self.point_values = bindings, self.values(bindings)
        return self

    def values(self, bindings) -> dict[str, float]:
        """The derivatives' values at a point."""
        out = {}
        for v in self.wrt:
            g = self.builder.graph(self.ids[v])
            out[v] = g.forward(bindings)[g.output]
        return out


def differentiate(graph: Graph, wrt: list[str] | None = None, order: int = 1) -> Derivatives:
    """Symbolic ∂ⁿoutput/∂vⁿ of `graph` for each v in `wrt` (default: every variable)."""
    if wrt is None:
        wrt = list(graph.variables)
    if not wrt:
        raise InputError("the program has no variables to differentiate with respect to")
    graph.check_names(wrt)
    if order < 1:
        raise InputError("--order must be at least 1")
    builder, ids = symbolic.nth_derivatives(graph, wrt, order)
    return Derivatives(graph, wrt, order, builder, ids)


def _with_values(d: Derivatives, text: str, digits) -> str:
    """The derivatives' text, then `# at x=1, y=2: df_dx = 2` for each when at a point."""
    if d.point_values is None:
        return text
    num = numtext.text
    point = ", ".join(f"{k}={num(v, digits)}" for k, v in d.point.items())
    return text + "".join(f"# at {point}: {d.name(v)} = {num(x, digits)}\n"
                          for v, x in d.point_values.items())


FORMATS = {
    "text": lambda d, o: _with_values(d, d.text(), o.digits),
    "latex": lambda d, o: _with_values(d, d.latex(), o.digits),
    "json": lambda d, o: d.to_json(d.point_values) + "\n",
}
