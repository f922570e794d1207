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
from .errors import InputError
from .formula import INLINE_MAX, render as render_formula
from .graph import Evaluation
from .stepper import edge_ids
from .ops import CONST, P_ATOM, Op
from .printing import (apply_infix, apply_latex, latex_name, latex_value, node_labels,
                       output_labels, reading_order, text_value)
from .symbolic import Sym, SymbolicBuilder

TIMES = {"mul": "·"}  # explain writes products with a centred dot


# -- terms: each renders as text (`∂g/∂p · ∂p/∂x`) and as LaTeX ---------------------------

@dataclass
class Name:
    label: str

    def text(self, digits, in_product=False) -> str:
        return self.label

    def latex(self, digits, in_product=False) -> str:
        return latex_name(self.label) if self.label.isidentifier() \
            else numtext.latex_atom(self.label)  # a literal: 1e-7 as 1 \cdot 10^{-7}


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
        out = numtext.latex(self.value, digits)  # an operand: -3 and 1 \cdot 10^{-7} in ( )
        return rf"\left({out}\right)" if in_product and (out.startswith("-") or
                                                        r"\cdot" in out) else out


@dataclass
class Partial:
    """∂top/∂bottom, or one path of it (`via` the user it goes through); `slot` says which
    operand where bottom is more than one (`x * x`: left, right), as graph's edges do."""

    top: str
    bottom: str
    via: str | None = None
    slot: str | None = None

    def text(self, digits, in_product=False) -> str:
        where = ", ".join(w for w in (self.via and f"via {self.via}", self.slot) if w)
        return f"∂{self.top}/∂{self.bottom}" + (f" ({where})" if where else "")

    def latex(self, digits, in_product=False) -> str:
        frac = rf"\frac{{\partial {latex_name(self.top)}}}{{\partial {latex_name(self.bottom)}}}"
        where = ", ".join(w for w in (self.via and rf"\text{{via }} {latex_name(self.via)}",
                                      self.slot and rf"\text{{{self.slot}}}") if w)
        return frac + (rf"\big|_{{{where}}}" if where else "")


@dataclass
class Apply:
    """An op applied to named operands (`x + y`) or to numbers (`1 + 3`)."""

    op: Op
    args: list  # of str (labels) or Num

    def text(self, digits, in_product=False) -> str:
        operand = _operand(self.op)
        atoms = [(a if isinstance(a, str) else a.text(digits, operand), P_ATOM)
                 for a in self.args]
        return text_value(apply_infix(self.op, atoms, TIMES))  # (x < 2) = (1 < 2) = 1

    def latex(self, digits, in_product=False) -> str:
        operand = _operand(self.op)
        atoms = [(Name(a).latex(digits) if isinstance(a, str) else a.latex(digits, operand),
                  P_ATOM) for a in self.args]
        return latex_value(apply_latex(self.op, atoms))  # [x < 2] = [1 < 2] = 1


@dataclass
class Written:
    """A statement's right-hand side as the program wrote it, `z = w · x + b`, not `z = t2 +
    b` with a `t2` the reader has not met: the op of `node` over its inputs, each unnamed
    operation among them written out in place the same way, down to names and numbers. A
    part longer than `INLINE_MAX` keeps its `t<id>`, so the text stays linear in the
    program's size however much a call shares."""

    graph: object
    node: int
    labels: list

    def text(self, digits=None, in_product=False) -> str:
        return text_value(self._terms()[0])

    def latex(self, digits=None, in_product=False) -> str:
        return latex_value(self._terms()[1])

    def _terms(self) -> tuple[tuple[str, int], tuple[str, int]]:
        """(text, precedence) of the right-hand side in text and in LaTeX, written out
        alike: what is too long is judged by the text."""
        nodes, labels = self.graph.nodes, self.labels
        inside, stack = {self.node}, [self.node]
        while stack:
            for j in nodes[stack.pop()].inputs:
                if j not in inside and nodes[j].inputs and nodes[j].name is None:
                    inside.add(j)
                    stack.append(j)
        text: dict[int, tuple[str, int]] = {}
        latex: dict[int, tuple[str, int]] = {}
        for i in sorted(inside):  # ids are topological: inputs first
            op, inputs = nodes[i].op, nodes[i].inputs
            out = apply_infix(op, [text.get(j, (labels[j], P_ATOM)) for j in inputs], TIMES)
            if i != self.node and len(out[0]) > INLINE_MAX:
                text[i], latex[i] = (labels[i], P_ATOM), (Name(labels[i]).latex(None), P_ATOM)
                continue
            text[i] = out
            latex[i] = apply_latex(op, [latex.get(j, (Name(labels[j]).latex(None), P_ATOM))
                                        for j in inputs])
        return text[self.node], latex[self.node]


def _operand(op: Op) -> bool:
    """Whether a negative number among op's arguments goes in parentheses: an operator's
    operand does (`4 · (-3)`, `-(-3)`, `(-3)^2`), a function's argument does not
    (`tanh(-3)`, not `tanh((-3))`)."""
    return op.infix or op is ops.NEG


@dataclass
class Formula:
    """A local partial's formula, built by running the op's rule on symbols."""

    builder: SymbolicBuilder
    id: int

    def text(self, digits, in_product=False) -> str:
        out = render_formula(self.builder.nodes, [("_", self.id)], symbols=TIMES)[1][0][1]
        prec = self.builder.nodes[self.id].op.prec
        if prec == ops.P_COMPARE:
            return text_value((out, prec))  # ∂t5/∂t4 = (t2 != 0) = 1
        return f"({out})" if in_product and _is_sum(out) else out

    def latex(self, digits, in_product=False) -> str:
        out = render_formula(self.builder.nodes, [("_", self.id)], latex=True)[1][0][1]
        return rf"\left({out}\right)" if in_product and _is_sum(out) else out


def _is_sum(text: str) -> bool:
    """Whether a formula needs parentheses as a factor (over-cautious: any + or -)."""
    return " + " in text or " - " in text


@dataclass
class Dot:
    """ṗ, a node's tangent in forward mode."""

    label: str

    def text(self, digits, in_product=False) -> str:
        from .forward import dotted

        return dotted(self.label)

    def latex(self, digits, in_product=False) -> str:
        return rf"\dot{{{Name(self.label).latex(digits)}}}"


@dataclass
class Neg:
    """A negated term; in a Sum after the first term, it is subtracted."""

    term: object

    def text(self, digits, in_product=False) -> str:
        return "-" + self.term.text(digits, True)

    def latex(self, digits, in_product=False) -> str:
        return "-" + self.term.latex(digits, True)


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
        return self._join(lambda t: t.text(digits, True))

    def latex(self, digits, in_product=False) -> str:
        return self._join(lambda t: t.latex(digits, True))

    def _join(self, render) -> str:
        """`a + b - c`: a negated term after the first is subtracted."""
        out = ""
        for k, t in enumerate(self.terms):
            if k and isinstance(t, Neg):
                out += " - " + render(t.term)
            else:
                out += (" + " if k else "") + render(t)
        return out


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
        return " = ".join(self.texts(digits))

    def texts(self, digits=numtext.TABLE, latex: bool = False) -> list[str]:
        """Each term as written, a term that reads as the next one said once: `t1 = -x =
        -2`, not `= -2 = -2` (the substituted form is the value), `sin(0) = 0`. Not in a
        template (`digits` is Holes): the page fills its holes with the values of inputs
        the reader changes, and at x = -2 the `-x` of `-(-2) = 2` is not the value."""
        out = [t.latex(digits) if latex else t.text(digits) for t in self.terms]
        if isinstance(digits, Holes):
            return out
        return [t for k, t in enumerate(out) if k == 0 or k + 1 == len(out) or t != out[k + 1]]

    def template(self) -> tuple[list[str], list[tuple]]:
        """The text with a hole for each number: (the pieces between the holes, and for
        each hole (Num, in_product)); `text()` is the pieces with the numbers filled in,
        less a term that reads as the next (see `texts`)."""
        holes = Holes()
        return self.text(holes).split("\x00"), holes.numbers

    def latex(self, digits=numtext.TABLE) -> str:
        return " = ".join(self.texts(digits, latex=True))


class Holes:
    """Passed as `digits`: numbers render as holes (see `Step.template`)."""

    def __init__(self):
        self.numbers: list[tuple[Num, bool]] = []

    def hole(self, num: Num, in_product: bool) -> str:
        self.numbers.append((num, in_product))
        return "\x00"


@dataclass
class Picture:
    """A diagram between the steps: a fenced Mermaid block (see `with_diagrams`)."""

    mermaid: str


@dataclass
class Section:
    title: str
    lines: list = field(default_factory=list)  # of Step


def walkthrough(ev: Evaluation) -> list[Section]:
    g = ev.graph
    labels = output_labels(g)
    f = g.output_name
    live, flags = g.gradient_flow(ev.values)  # where: a branch not taken gets nothing
    users = g.users()
    reaches = g.reaches_output()
    shown = [reaches[n.id] and not (n.op is CONST and n.name is None) for n in g.nodes]
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
                                   value], note=n.call, kind="forward", at=(n.id,)))

    backward = Section("Backward pass")
    backward.lines.append(Step([Partial(f, f), Num(1.0)], note="the output with respect to "
                               "itself", kind="seed", at=(g.output,)))
    contributions: dict[int, list] = {}
    npaths: dict[int, int] = {}  # per input, counted once: x used 10^4 times was 10^8 steps
    for n in reversed(g.nodes[: g.output + 1]):
        if not live[n.id] or not n.inputs:
            continue
        builder = SymbolicBuilder()  # one per node: printing a formula costs its own size
        me = labels[n.id]
        backward.lines.append(Step([Name(me), Apply(n.op, [labels[j] for j in n.inputs])],
                                   kind="node", at=(n.id,)))
        for k, (j, pv, formula) in enumerate(_local_partials(g, labels, ev.values, n,
                                                             builder)):
            if not shown[j]:
                continue
            e = edge[n.id, k]
            # x * x: which operand (graph labels the two edges so)
            slot = (("left", "right")[k] if len(n.inputs) == 2 else f"argument {k + 1}") \
                if n.inputs.count(j) > 1 else None
            if flags[n.id] is not None and not flags[n.id][k]:
                why = "a comparison" if n.op.prec == ops.P_COMPARE else (
                    "the condition" if k == 0 else "the branch not taken")
                backward.lines.append(Step([Partial(me, labels[j], slot=slot), Name("none")], 1,
                                           f"no gradient at all: {why}", kind="local",
                                           at=(n.id, k)))
                continue
            if isinstance(formula, Formula):
                local = [Partial(me, labels[j], slot=slot), formula, Num(pv, ("p", e))]
            else:  # a number (∂(a+b)/∂a = 1, ∂(pi·2)/∂pi = 2): shown once
                local = [Partial(me, labels[j], slot=slot), Num(pv, ("p", e))]
            backward.lines.append(Step(local, 1, kind="local", at=(n.id, k)))
            paths = npaths.get(j)
            if paths is None:  # the edges that pass a gradient
                paths = npaths[j] = len(_paths(g, j, users[j], live, flags))
            if n.id == g.output:
                contribution = pv
            else:
                contribution = ev.grads[n.id] * pv
                backward.lines.append(Step([
                    Partial(f, labels[j], None if paths == 1 else me, slot),
                    Product([Partial(f, me), Partial(me, labels[j], slot=slot)]),
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
    gradient = ev.gradient()
    for v in reading_order(gradient):  # as eval lists them: W[1,1], W[1,2], …, x[1], …
        vid = g.variables[v]
        result.lines.append(Step([Partial(f, v), Num(gradient[v], ("g", vid))], kind="result",
                                 at=(vid,)))
    return [forward, backward, result]


def _local_partials(g, labels, values, n, builder):
    """(input id, ∂n/∂input as a number, as a term) for each input of node n: the
    registry's rule run on the numbers and, with the builder, on the inputs' names. A
    partial that is a number (∂(a+b)/∂a = 1, ∂(pi·2)/∂pi = 2) is a Num, shown once."""
    numbers = [values[j] for j in n.inputs] + [values[n.id]]
    symbols = [Sym(builder, builder.const(g.nodes[j].value)
                   if g.nodes[j].op is CONST and not g.nodes[j].name
                   else builder.var(labels[j])) for j in n.inputs]
    symbols.append(Sym(builder, builder.var(labels[n.id])))
    m = builder.namespace()
    for j, rule in zip(n.inputs, n.op.partials, strict=True):
        pv = rule(ops.SCALAR, *numbers)
        pf = rule(m, *symbols)
        if isinstance(pf, Sym) and builder.value_of(pf.id) is None:
            yield j, pv, Formula(builder, pf.id)
        else:
            yield j, pv, Num(pv)


def forward_walkthrough(fe) -> list[Section]:
    """Forward mode narrated: each node's value, then its tangent by the chain rule read
    forwards, ṅ = Σ ∂n/∂input · (input)̇ (`fe`: a cgraph.forward.ForwardEvaluation)."""
    g = fe.graph
    labels = output_labels(g)
    f = g.output_name
    live = g.reaches_output()
    builder = SymbolicBuilder()
    x = fe.unit
    if x:
        from .forward import dotted

        section = Section(f"Forward pass, with tangents {dotted('n')} = ∂n/∂{x}")
        independent = f"does not depend on {x}"
    else:
        seed = ", ".join(f"{Dot(v).text(None)} = {numtext.text(t)}" for v, t in fe.seed.items())
        section = Section(f"Forward pass, with tangents along the direction {seed}")
        independent = "does not depend on the seeded inputs"
    for n in g.nodes:
        if not live[n.id] or n.op is CONST:
            continue
        me = labels[n.id]
        tangent = fe.tangent(n.id)
        if not n.inputs:
            section.lines.append(Step([Name(me), Num(fe.values[n.id])]))
            section.lines.append(Step([Dot(me), Num(tangent)], 1,
                                      "seed" if n.name in fe.seed else None))
            continue
        section.lines.append(Step([Name(me), Apply(n.op, [labels[j] for j in n.inputs]),
                                   Apply(n.op, [Num(fe.values[j]) for j in n.inputs]),
                                   Num(fe.values[n.id])]))
        symbolic, numeric = [], []
        for j, pv, formula in _local_partials(g, labels, fe.values, n, builder):
            if g.nodes[j].op is CONST:
                continue  # a constant's tangent is 0: no term
            dot, t = Dot(labels[j]), Num(fe.tangent(j))
            if formula == Num(1.0):
                symbolic.append(dot)
                numeric.append(t)
            elif formula == Num(-1.0):
                symbolic.append(Neg(dot))
                numeric.append(Neg(t))
            else:
                symbolic.append(Product([formula, dot]))
                numeric.append(Product([Num(pv), t]))
        terms = [Dot(me)]
        if symbolic:
            terms += [Sum(symbolic), Sum(numeric)]
        terms.append(Num(tangent))
        if len(terms) == 4 and numeric == [Num(tangent)]:
            del terms[2]  # ṗ = ẋ = 1, not ṗ = ẋ = 1 = 1
        note = None if fe.tangents[n.id] is not None else independent
        section.lines.append(Step(terms, 1, note))
    result = Section("Result")
    result.lines.append(Step([Name(f), Num(fe.value)]))
    derivative = [Dot(f), Num(fe.tangent(g.output))]
    if x:
        result.lines.append(Step([Partial(f, x)] + derivative, 0,
                                 "one forward pass, one input's derivative"))
    else:
        along = " + ".join(f"∂{f}/∂{v}·{Dot(v).text(None)}" for v in fe.seed)
        result.lines.append(Step(derivative, 0, "one forward pass, the derivative along the "
                                 f"direction: {along}"))
    return [section, result]


DIAGRAM_STEPS = 200  # operations: --diagrams redraws the whole graph twice per operation
# (a chain of 200 gives 9 MB of Markdown in 3 s; of 500, 440 MB and 2.3 GB of memory)


def narrate(ev: Evaluation, diagrams: bool = False, digits=numtext.DIAGRAM):
    """The reverse-mode walk-through's sections, with the tutorial's diagrams when asked
    (see `with_diagrams`), and what to warn the user about."""
    if not diagrams:
        return walkthrough(ev), []
    steps = sum(1 for n in ev.graph.nodes if n.inputs)
    if steps > DIAGRAM_STEPS:  # refused before any work: the output grows as steps²
        raise InputError(f"--diagrams redraws the whole graph after every step, for programs "
                         f"of up to {DIAGRAM_STEPS} operations (this one has {steps:,}); "
                         "cgraph graph --grads draws the whole pass in one picture")
    return with_diagrams(walkthrough(ev), ev, digits)


def with_diagrams(sections: list[Section], ev: Evaluation, digits=numtext.DIAGRAM):
    """The walk-through as the tutorial tells it: the graph statement by statement, then a
    diagram after each step of the forward and of the backward pass (Markdown only).
    Returns the sections and what to warn about (pictures too big for Mermaid)."""
    from .diagrams import Walkthrough

    pictures = Walkthrough(ev, digits)
    g = ev.graph
    labels = node_labels(g)
    graph = Section("The graph")
    for node, picture in pictures.statements():
        n = g.nodes[node]
        if n.inputs:
            terms = [Name(n.name or g.output_name), Written(g, node, labels)]
        else:  # the program is one input or one number: its output is that (f = x, f = 2)
            terms = [Name(g.output_name), Name(labels[node])]
        graph.lines += [Step(terms), Picture(picture)]
    out = [graph]
    for s in sections:
        draw = {"Forward pass": pictures.forward, "Backward pass": pictures.backward}.get(s.title)
        lines, node = [], None
        for step in s.lines:
            if draw and step.indent == 0 and node is not None:
                lines.append(Picture(draw(node)))  # the step of `node` is complete
            if step.indent == 0:
                node = _pictured(step, g)
            lines.append(step)
        if draw and node is not None:
            lines.append(Picture(draw(node)))
        out.append(Section(s.title, lines))
    return out, pictures.notes()


def _pictured(step, g) -> int | None:
    """The node whose picture follows the step this line begins: an operation's forward
    step or its backward step (-1: the output's ∂f/∂f); None for inputs and results."""
    if step.kind == "seed":
        return -1
    if step.kind in ("forward", "node") and g.nodes[step.at[0]].inputs:
        return step.at[0]
    return None


def _paths(g, j, user_ids, live, flags):
    """The edges from j into users that pass it a gradient."""
    return [u for u in user_ids if live[u] and (
        flags[u] is None or any(f for k, f in zip(g.nodes[u].inputs, flags[u]) if k == j))]


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
            if isinstance(step, Picture):
                out += ["", step.mermaid.rstrip("\n"), ""]
                continue
            out.append("  " * step.indent + f"- ${step.latex(digits)}$"
                       + (f" ({step.note})" if step.note else ""))
        out.append("")
    return "\n".join(out)


def to_rich(sections: list[Section], digits=numtext.TABLE):
    from rich.console import Group
    from rich.text import Text

    from .layout import Hanging

    parts = []
    for s in sections:
        parts.append(Text(s.title, style="bold underline"))
        for step in s.lines:
            line = Text()
            texts = step.texts(digits)
            for k, piece in enumerate(texts):
                if k:
                    line.append(" = ", style="dim")
                style = "bold cyan" if k == 0 else ("bold" if k == len(texts) - 1 else "")
                line.append(piece, style=style)
            # in parentheses, as in text: dim alone may not show
            note = Text(f"    ({step.note})", style="dim italic") if step.note else None
            parts.append(Hanging(line, 2 * (step.indent + 1), note))
        parts.append(Text(""))
    return Group(*parts[:-1])  # as text ends: no blank line after the last section


@dataclass
class Narration:
    """What `cgraph explain` shows: the sections, and (reverse mode) the evaluation they
    narrate, which the HTML stepper recomputes live."""

    sections: list[Section]
    evaluation: Evaluation | None = None


def _page(n: Narration, o) -> str:
    if n.evaluation is None:
        raise InputError("the HTML stepper narrates reverse mode: leave out --mode forward")
    return stepper.page(n.evaluation.graph, n.evaluation, n.sections, digits=o.digits)


FORMATS = {
    "rich": lambda n, o: to_rich(n.sections, o.digits),
    "text": lambda n, o: to_text(n.sections, o.digits),
    "markdown": lambda n, o: to_markdown(n.sections, o.digits),
    "html": _page,
}

# `explain -o FILE`: what its suffix holds (see cli_support.by_suffix)
SUFFIXES = {".txt": ("text", ("text", "rich")), ".md": "markdown", ".markdown": "markdown",
            ".html": "html", ".htm": "html"}
