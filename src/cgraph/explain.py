"""`cgraph explain`: the forward and backward passes narrated, chain rule included.

`walkthrough` turns an Evaluation into sections of steps. A step is a chain of terms joined
by `=`, each term a small data class that renders as plain text (`∂g/∂p · ∂p/∂x`) or as
LaTeX (`\\frac{\\partial g}{\\partial p} \\cdot …`), so the text, Markdown and
terminal outputs are one walk-through. Local partial formulas come from the registry's own
rule, run symbolically with the inputs' names, so what is shown is what is computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import numtext, ops, stepper
from .formula import render as render_formula
from .graph import Evaluation
from .jsgen import edge_ids
from .ops import CONST, P_ATOM, Op
from .printing import apply_infix, apply_latex, latex_name, node_labels
from .symbolic import Sym, SymbolicBuilder

TIMES = {"mul": "·"}  # explain writes products with a centred dot


# -- terms: each renders as text (`∂g/∂p · ∂p/∂x`) and as LaTeX ---------------------------

@dataclass
class Name:
    label: str

    def text(self, digits, in_product=False) -> str:
        return self.label

    def latex(self, digits, in_product=False) -> str:
        return latex_name(self.label) if self.label.isidentifier() else self.label


@dataclass
class Num:
    """A number; `ref` says which quantity it is, so a live page can recompute it:
    ("v", node) a value, ("g", node) a gradient, ("p", edge) a local partial, ("c", edge)
    one path's contribution (an edge is an input slot of a node: see `edge_ids`)."""

    value: float
    ref: tuple | None = None

    def text(self, digits, in_product=False) -> str:
        if isinstance(digits, Holes):
            return digits.hole(self, in_product)
        out = numtext.text(self.value, digits)
        return f"({out})" if in_product and out.startswith("-") else out

    def latex(self, digits, in_product=False) -> str:
        out = numtext.latex(self.value, digits)
        return rf"\left({out}\right)" if in_product and out.startswith("-") else out


@dataclass
class Partial:
    """∂top/∂bottom, or one path of it (`via` the user it goes through)."""

    top: str
    bottom: str
    via: str | None = None

    def text(self, digits, in_product=False) -> str:
        return f"∂{self.top}/∂{self.bottom}" + (f" (via {self.via})" if self.via else "")

    def latex(self, digits, in_product=False) -> str:
        frac = rf"\frac{{\partial {latex_name(self.top)}}}{{\partial {latex_name(self.bottom)}}}"
        return frac + (rf"\big|_{{\text{{via }} {latex_name(self.via)}}}" if self.via else "")


@dataclass
class Apply:
    """An op applied to named operands (`x + y`) or to numbers (`1 + 3`)."""

    op: Op
    args: list  # of str (labels) or Num

    def text(self, digits, in_product=False) -> str:
        atoms = [(a if isinstance(a, str) else a.text(digits, True), P_ATOM)
                 for a in self.args]
        return apply_infix(self.op, atoms, TIMES)[0]

    def latex(self, digits, in_product=False) -> str:
        atoms = [(Name(a).latex(digits) if isinstance(a, str) else a.latex(digits, True),
                  P_ATOM) for a in self.args]
        return apply_latex(self.op, atoms)[0]


@dataclass
class Formula:
    """A local partial's formula, built by running the op's rule on symbols."""

    builder: SymbolicBuilder
    id: int

    def text(self, digits, in_product=False) -> str:
        return render_formula(self.builder.nodes, [("_", self.id)], symbols=TIMES)[1][0][1]

    def latex(self, digits, in_product=False) -> str:
        return render_formula(self.builder.nodes, [("_", self.id)], latex=True)[1][0][1]


@dataclass
class Product:
    factors: list

    def text(self, digits, in_product=False) -> str:
        return " · ".join(t.text(digits, True) for t in self.factors)

    def latex(self, digits, in_product=False) -> str:
        return r" \cdot ".join(t.latex(digits, True) for t in self.factors)


@dataclass
class Sum:
    terms: list

    def text(self, digits, in_product=False) -> str:
        return " + ".join(t.text(digits, True) for t in self.terms)

    def latex(self, digits, in_product=False) -> str:
        return " + ".join(t.latex(digits, True) for t in self.terms)


@dataclass
class Step:
    """One line of the walk-through: terms joined by `=`, indented under its node.

    `kind` and `at` say what it is about, for a page that highlights it: "forward",
    "seed", "node", "sum" and "result" steps are at a node (`at = (id,)`); "local" and
    "chain" steps at an edge, an input slot of a node (`at = (node id, input index)`)."""

    terms: list
    indent: int = 0
    note: str | None = None
    kind: str = ""
    at: tuple = ()

    def text(self, digits=numtext.TABLE) -> str:
        return " = ".join(t.text(digits) for t in self.terms)

    def template(self) -> tuple[list[str], list[tuple]]:
        """The text with a hole for each number: (the pieces between the holes, and for
        each hole (Num, in_product)); `text()` is the pieces with the numbers filled in."""
        holes = Holes()
        return self.text(holes).split("\x00"), holes.numbers

    def latex(self, digits=numtext.TABLE) -> str:
        return " = ".join(t.latex(digits) for t in self.terms)


class Holes:
    """Passed as `digits`: numbers render as holes (see `Step.template`)."""

    def __init__(self):
        self.numbers: list[tuple[Num, bool]] = []

    def hole(self, num: Num, in_product: bool) -> str:
        self.numbers.append((num, in_product))
        return "\x00"


@dataclass
class Section:
    title: str
    lines: list = field(default_factory=list)  # of Step


def walkthrough(ev: Evaluation) -> list[Section]:
    g = ev.graph
    labels = node_labels(g)
    out = g.nodes[g.output]
    f = g.output_name
    if out.name is None and out.inputs:
        labels[out.id] = f
    live = g.reaches_output()
    users = g.users()
    shown = [live[n.id] and not (n.op is CONST and n.name is None) for n in g.nodes]
    edge = edge_ids(g)

    forward = Section("Forward pass")
    for n in g.nodes:
        if not shown[n.id]:
            continue
        value = Num(ev.values[n.id], ("v", n.id))
        if not n.inputs:
            forward.lines.append(Step([Name(labels[n.id]), value], kind="forward", at=(n.id,)))
            continue
        args = [labels[j] for j in n.inputs]
        numbers = [Num(ev.values[j], ("v", j)) for j in n.inputs]
        forward.lines.append(Step([Name(labels[n.id]), Apply(n.op, args), Apply(n.op, numbers),
                                   value], kind="forward", at=(n.id,)))

    backward = Section("Backward pass")
    backward.lines.append(Step([Partial(f, f), Num(1.0)], note="the output with respect to "
                               "itself", kind="seed", at=(g.output,)))
    contributions: dict[int, list] = {}
    for n in reversed(g.nodes[: g.output + 1]):
        if not live[n.id] or not n.inputs:
            continue
        builder = SymbolicBuilder()  # one per node: printing a formula costs its own size
        m = builder.namespace()
        me = labels[n.id]
        backward.lines.append(Step([Name(me), Apply(n.op, [labels[j] for j in n.inputs])],
                                   kind="node", at=(n.id,)))
        numbers = [ev.values[j] for j in n.inputs] + [ev.values[n.id]]
        symbols = [Sym(builder, builder.const(g.nodes[j].value)
                       if g.nodes[j].op is CONST and not g.nodes[j].name
                       else builder.var(labels[j])) for j in n.inputs]
        symbols.append(Sym(builder, builder.var(me)))
        local_values = [rule(ops.SCALAR, *numbers) for rule in n.op.partials]
        local_formulas = [rule(m, *symbols) for rule in n.op.partials]
        for k, (j, pv, pf) in enumerate(zip(n.inputs, local_values, local_formulas,
                                            strict=True)):
            if not shown[j]:
                continue
            e = edge[n.id, k]
            if isinstance(pf, Sym) and builder.value_of(pf.id) is None:
                local = [Partial(me, labels[j]), Formula(builder, pf.id), Num(pv, ("p", e))]
            else:  # a number (∂(a+b)/∂a = 1, ∂(pi·2)/∂pi = 2): shown once
                local = [Partial(me, labels[j]), Num(pv, ("p", e))]
            backward.lines.append(Step(local, 1, kind="local", at=(n.id, k)))
            paths = len(_live_users(users[j], live))  # edges into live users
            if n.id == g.output:
                contribution = pv
            else:
                contribution = ev.grads[n.id] * pv
                backward.lines.append(Step([
                    Partial(f, labels[j], None if paths == 1 else me),
                    Product([Partial(f, me), Partial(me, labels[j])]),
                    Product([Num(ev.grads[n.id], ("g", n.id)), Num(pv, ("p", e))]),
                    Num(contribution, ("c", e))], 1, "chain rule", kind="chain", at=(n.id, k)))
            parts = contributions.setdefault(j, [])
            parts.append(Num(contribution, ("c", e)))
            if paths > 1 and len(parts) == paths:  # the last path into j has arrived
                backward.lines.append(Step([Partial(f, labels[j]), Sum(parts),
                                            Num(ev.grads[j], ("g", j))], 1,
                                           f"sum over {len(parts)} paths", kind="sum",
                                           at=(j,)))

    result = Section("Result")
    result.lines.append(Step([Name(f), Num(ev.value, ("v", g.output))], kind="result",
                             at=(g.output,)))
    for v, gv in ev.gradient().items():
        vid = g.variables[v]
        result.lines.append(Step([Partial(f, v), Num(gv, ("g", vid))], kind="result",
                                 at=(vid,)))
    return [forward, backward, result]


def _live_users(user_ids, live):
    return [u for u in user_ids if live[u]]


# -- rendering ----------------------------------------------------------------------------

def to_text(sections: list[Section], digits=numtext.TABLE) -> str:
    out = []
    for s in sections:
        out.append(s.title)
        for step in s.lines:
            line = "  " * (step.indent + 1) + step.text(digits)
            out.append(line + (f"    ({step.note})" if step.note else ""))
        out.append("")
    return "\n".join(out)


def to_markdown(sections: list[Section], digits=numtext.LATEX) -> str:
    out = []
    for s in sections:
        out += [f"### {s.title}", ""]
        for step in s.lines:
            out.append("  " * step.indent + f"- ${step.latex(digits)}$"
                       + (f" ({step.note})" if step.note else ""))
        out.append("")
    return "\n".join(out)


def to_rich(sections: list[Section], digits=numtext.TABLE):
    from rich.console import Group
    from rich.text import Text

    parts = []
    for s in sections:
        parts.append(Text(s.title, style="bold underline"))
        for step in s.lines:
            line = Text("  " * (step.indent + 1))
            texts = [t.text(digits) for t in step.terms]
            for k, piece in enumerate(texts):
                if k:
                    line.append(" = ", style="dim")
                style = "bold cyan" if k == 0 else ("bold" if k == len(texts) - 1 else "")
                line.append(piece, style=style)
            if step.note:
                line.append(f"    {step.note}", style="dim italic")
            parts.append(line)
        parts.append(Text(""))
    return Group(*parts)


FORMATS = {
    "rich": lambda ev, o: to_rich(walkthrough(ev), o.digits),
    "text": lambda ev, o: to_text(walkthrough(ev), o.digits),
    "markdown": lambda ev, o: to_markdown(walkthrough(ev), o.digits),
    "html": lambda ev, o: stepper.page(ev.graph, ev, walkthrough(ev), digits=o.digits),
}
