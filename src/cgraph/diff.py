"""`cgraph diff`: derivatives as formulas that are themselves cgraph programs.

With several variables and `--order N` > 1, every distinct partial of order N is printed
once (∂²f/∂x∂y and not also ∂²f/∂y∂x): the multisets of N variables, in `--wrt` order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import combinations_with_replacement
from math import comb

from . import formula, numtext, symbolic
from .errors import InputError
from .graph import Graph
from .printing import inputs, latex_name

MAX_PARTIALS = 64  # distinct partials of one order printed at most
_LAND = r" \land "
_TINY = 2.0 ** -1024  # below it 1/v overflows: dividing by it is dividing by 0
_CANCELLED = "a factor that cancelled in simplifying: where it is 0, eval's derivative divides by 0"


@dataclass
class Derivatives:
    graph: Graph
    wrt: list[str]
    order: int
    builder: symbolic.SymbolicBuilder
    ids: dict  # key -> node id in builder
    partials: dict  # key -> the variables differentiated by, in order: ("x", "y")
    point: dict | None = None  # the bindings, when evaluated at a point (`at`)
    point_values: dict | None = None  # each derivative's value there
    of: dict | None = None  # key -> the output it differentiates (several outputs)
    # key -> factors (ids in builder) that eval's reverse pass divides by and the formula
    # no longer does: it holds where each is not 0 (simplify.cancelled)
    cancelled: dict | None = None

    @staticmethod
    def key(combo: tuple[str, ...]) -> str:
        """`x` for ∂ⁿf/∂xⁿ, `x,y` for ∂²f/∂x∂y: a partial's key in these dicts (JSON nests
        by the names themselves, `nested`)."""
        return combo[0] if len(set(combo)) == 1 else ",".join(combo)

    def nested(self, items) -> dict:
        """(key, value) pairs as JSON: one level per variable differentiated by, in `--wrt`
        order, under the output's name with several, {"q": {"x": {"y": …}}} for ∂²q/∂x∂y,
        as check's JSON nests."""
        return numtext.nest((((self.of[k],) if self.of else ()) + tuple(self.partials[k]), v)
                            for k, v in items)

    def output(self, key: str) -> str:
        return self.of[key] if self.of else self.graph.output_name

    def name(self, key: str) -> str:
        """`df_dx`, `d2f_dx2`, `d2f_dxdy`: the statement name of a partial in the program.
        Indices of family elements go last, so that the name reads back as an element
        (`df_dW[1,2]`, `d2f_dW2[1,2]`, `d2f_dWdx[1,2]`, `dh_dx[2]` for an output `h[2]`)."""
        f, n = _element(self.output(key)), self.order
        counts = Counter(self.partials[key])
        parts = [(f"d{'' if n == 1 else n}{f[0]}_", f[1])] + [
            (f"d{stem}{'' if c == 1 else c}", index)
            for (stem, index), c in ((_element(v), c) for v, c in counts.items())]
        base = "".join(stem for stem, _ in parts)
        indices = [index for _, index in parts if index]
        tail = f"[{','.join(indices)}]" if indices else ""
        while base + tail in self.graph.variables:
            base += "_"
        return base + tail

    def _render(self, latex: bool):
        outputs = [(self.name(k), self.ids[k]) for k in self.partials]
        return formula.render(self.builder.nodes, outputs, latex=latex,
                              reserved=self.graph.variables)

    def conditions(self, latex: bool = False) -> dict[str, list[str]]:
        """Where each formula holds, when simplifying cancelled a factor: `x != 0` (LaTeX
        `x \\ne 0`) for each factor that eval's derivative divides by and the formula no
        longer does. Only the keys that have one."""
        lost = {k: v for k, v in (self.cancelled or {}).items() if v}
        spelled = self._factors(lost, latex)
        ne = r" \ne 0" if latex else " != 0"
        return {k: [spelled[a] + ne for a in v] for k, v in lost.items()}

    def failing(self, key: str, bindings: dict) -> list[str]:
        """The cancelled factors of `key`'s formula that are 0 at a point (or so near it
        that 1/v overflows, or not finite),
        as `x = 0`: there eval's derivative divides by them and the formula does not."""
        lost = (self.cancelled or {}).get(key) or []
        spelled = self._factors({key: lost}, False)
        out = []
        for a in lost:
            g = self.builder.graph(a)
            v = g.forward({k: bindings[k] for k in g.variables})[g.output]
            if v == 0.0 or v - v != 0.0 or abs(v) < _TINY:  # (1/v: ±Infinity)
                out.append(f"{spelled[a]} = {numtext.text(v)}")
        return out

    def _factors(self, lost: dict, latex: bool) -> dict[int, str]:
        """Each cancelled factor's formula, in the program's own names."""
        if not lost:
            return {}
        nodes = self.builder.nodes
        factors = list(dict.fromkeys(a for v in lost.values() for a in v))
        named = {a: nodes[a].name for a in factors if nodes[a].name}  # x, o: as named
        factors = [a for a in factors if a not in named]
        names = [f"_where{i}" for i in range(len(factors))]
        outputs = [(self.name(k), self.ids[k]) for k in self.partials]
        texts = formula.render(nodes, outputs + list(zip(names, factors)), latex=latex,
                               reserved=self.graph.variables)[1][len(outputs):]
        spelled = {a: text for a, (_, text) in zip(factors, texts)}
        spelled |= {a: latex_name(name) if latex else name for a, name in named.items()}
        return spelled

    def notes(self) -> list[str]:
        """`df_dx: where x != 0 (…)`, for each formula that holds only there."""
        return [f"{self.name(k)}: where {' and '.join(c)} ({_CANCELLED})"
                for k, c in self.conditions().items()]

    def program(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(definitions, derivatives) as (name, infix formula) pairs."""
        return self._render(latex=False)

    def text(self) -> str:
        """The program, then a comment for each formula that holds only where a factor
        that cancelled is not 0."""
        definitions, outputs = self.program()
        return "".join(f"{name} = {expr}\n" for name, expr in definitions + outputs) + \
            "".join(f"# {note}\n" for note in self.notes())

    def latex(self) -> str:
        definitions, outputs = self._render(latex=True)
        n = self.order
        lines = [f"{name} = {expr}" for name, expr in definitions]
        for key, (_, expr) in zip(self.partials, outputs):
            f = latex_name(self.output(key))
            up = r"\partial" if n == 1 else rf"\partial^{{{n}}}"
            down = " ".join(rf"\partial {latex_name(v)}" + ("" if c == 1 else f"^{{{c}}}")
                            for v, c in Counter(self.partials[key]).items())
            lines.append(rf"\frac{{{up} {f}}}{{{down}}} = {expr}")
        for key, c in self.conditions(latex=True).items():  # TeX comments: nothing drawn
            lines.append(f"% {self.name(key)}: where {_LAND.join(c)} ({_CANCELLED})")
        return "\n".join(lines) + "\n"

    def to_json(self, values: dict | None = None) -> str:
        """One JSON object: the definitions, each derivative, its name, the whole text."""
        definitions, outputs = self.program()
        doc = {"program": self.graph.source}
        if self.of:
            doc["outputs"] = list(dict.fromkeys(self.of.values()))
        else:
            doc["output"] = self.graph.output_name
        nest = self.nested
        doc |= {"order": self.order, "wrt": self.wrt, "definitions": dict(definitions),
               "derivatives": nest(zip(self.partials, (e for _, e in outputs))),
               "names": nest((k, self.name(k)) for k in self.partials), "text": self.text(),
               "conditions": nest(self.conditions().items())}
        if values is not None:
            doc["values"] = nest((k, numtext.json_value(x)) for k, x in values.items())
        return numtext.json_document(doc)

    def at(self, bindings: dict) -> "Derivatives":
        """These derivatives with their values at a point (none when `bindings` is empty)."""
        if bindings:
            self.point, self.point_values = bindings, self.values(bindings)
        return self

    def values(self, bindings) -> dict[str, float]:
        """The derivatives' values at a point."""
        out = {}
        for k in self.partials:
            g = self.builder.graph(self.ids[k])
            out[k] = g.forward(bindings)[g.output]
        return out


def _element(name: str) -> tuple[str, str]:
    """`W[1,2]` -> ("W", "1,2"); a plain name -> (name, "")."""
    stem, bracket, index = name.partition("[")
    return (stem, index[:-1]) if bracket else (name, "")


def differentiate(graph: Graph, wrt: list[str] | None = None, order: int = 1,
                  outputs=None) -> Derivatives:
    """Symbolic partials of order `order` of `graph` with respect to `wrt` (default: every
    variable): ∂f/∂v for each v at order 1, and every distinct one of order n above. With
    several named `outputs`, those of each, in one program (keys `p:x`, `q:x`, …)."""
    targets = graph.output_nodes(outputs)
    wrt = graph.wrt_names(wrt)
    if order < 1:
        raise InputError("--order must be at least 1")
    count = comb(len(wrt) + order - 1, order) * len(targets)
    if count > MAX_PARTIALS:
        raise InputError(f"--order {order} with {len(wrt)} variables"
                         + (f" and {len(targets)} outputs" if len(targets) > 1 else "")
                         + f" has {count:,} distinct partials; the limit is {MAX_PARTIALS} "
                         "(pick fewer with --wrt)")
    combos = list(combinations_with_replacement(wrt, order))
    if len(targets) == 1:
        lost: dict = {}
        builder, ids = symbolic.partial_derivatives(graph.with_output(*targets[0]), combos,
                                                    cancelled=lost)
        return Derivatives(graph.with_output(*targets[0]), wrt, order, builder,
                           {Derivatives.key(c): i for c, i in ids.items()},
                           {Derivatives.key(c): c for c in combos},
                           cancelled={Derivatives.key(c): v for c, v in lost.items()})
    builder = symbolic.SymbolicBuilder()
    keyed, partials, of, cancelled = {}, {}, {}, {}
    for name, node in targets:
        lost = {}
        _, ids = symbolic.partial_derivatives(graph.with_output(name, node), combos, builder,
                                              cancelled=lost)
        for c, i in ids.items():
            key = f"{name}:{Derivatives.key(c)}"
            keyed[key], partials[key], of[key], cancelled[key] = i, c, name, lost[c]
    return Derivatives(graph, wrt, order, builder, keyed, partials, of=of,
                       cancelled=cancelled)


def _with_values(d: Derivatives, text: str, digits) -> str:
    """The derivatives' text, then `# at x=1, y=2: df_dx = 2` for each when at a point."""
    if d.point_values is None:
        return text
    num = numtext.text
    point = ", ".join(f"{k}={num(v, digits)}"
                      for k, v in inputs(d.graph.variables, d.point).items())
    lines = []
    for v, x in d.point_values.items():
        line = f"# at {point}: {d.name(v)} = {num(x, digits)}"
        failing = d.failing(v, d.point)
        if failing:  # eval's derivative divides by 0 here; this formula does not
            line += (f", but {' and '.join(failing)} there: eval's derivative divides by "
                     "it (NaN or ±Infinity)")
        lines.append(line + "\n")
    return text + "".join(lines)


FORMATS = {
    "text": lambda d, o: _with_values(d, d.text(), o.digits),
    "latex": lambda d, o: _with_values(d, d.latex(), o.digits),
    "json": lambda d, o: d.to_json(d.point_values) + "\n",
}
