"""`cgraph explain`: the forward and backward passes narrated, chain rule included.

`walkthrough` turns an Evaluation into sections of equations. An equation is a chain of
terms joined by `=`, each term a small tuple that renders as plain text (`∂g/∂p · ∂p/∂x`)
or as LaTeX (`\\frac{\\partial g}{\\partial p} \\cdot …`), so the text, Markdown and
terminal outputs are one walk-through. Local partial formulas come from the registry's own
rule, run symbolically with the inputs' names, so what is shown is what is computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ops
from .formula import render as render_formula
from .graph import Evaluation
from .ops import CONST, P_ATOM
from .printing import apply_infix, apply_latex, format_number, latex_name, node_labels
from .symbolic import Sym, SymbolicBuilder

# Terms: ("name", label) | ("num", value) | ("d", top, bottom) | ("expr", op, labels)
#        | ("sym", builder, id) | ("prod", [terms]) | ("sum", [terms])


@dataclass
class Section:
    title: str
    lines: list = field(default_factory=list)  # (indent, [terms], note)


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

    forward = Section("Forward pass")
    for n in g.nodes:
        if not shown[n.id]:
            continue
        value = ("num", ev.values[n.id])
        if not n.inputs:
            forward.lines.append((0, [("name", labels[n.id]), value], None))
            continue
        args = [labels[j] for j in n.inputs]
        numbers = [ev.values[j] for j in n.inputs]
        forward.lines.append((0, [("name", labels[n.id]), ("expr", n.op, args),
                                  ("expr", n.op, numbers), value], None))

    backward = Section("Backward pass")
    backward.lines.append((0, [("d", f, f), ("num", 1.0)], "the output with respect to itself"))
    contributions: dict[int, list] = {}
    builder = SymbolicBuilder()
    for n in reversed(g.nodes[: g.output + 1]):
        if not live[n.id] or not n.inputs:
            continue
        me = labels[n.id]
        backward.lines.append((0, [("name", me), ("expr", n.op, [labels[j] for j in n.inputs])],
                               None))
        for j, pv, formula in _local_partials(g, labels, ev.values, n, builder):
            if not shown[j]:
                continue
            local = [("d", me, labels[j]), formula]
            if formula[0] == "sym":
                local.append(("num", pv))
            backward.lines.append((1, local, None))
            paths = len(_live_users(users[j], live))  # edges into live users
            if n.id == g.output:
                contribution = pv
            else:
                contribution = ev.grads[n.id] * pv
                backward.lines.append((1, [
                    ("d", f, labels[j]) if paths == 1 else ("path", f, labels[j], me),
                    ("prod", [("d", f, me), ("d", me, labels[j])]),
                    ("prod", [("num", ev.grads[n.id]), ("num", pv)]),
                    ("num", contribution)], "chain rule"))
            parts = contributions.setdefault(j, [])
            parts.append(contribution)
            if paths > 1 and len(parts) == paths:  # the last path into j has arrived
                backward.lines.append((1, [("d", f, labels[j]),
                                           ("sum", [("num", c) for c in parts]),
                                           ("num", ev.grads[j])],
                                       f"sum over {len(parts)} paths"))

    result = Section("Result")
    result.lines.append((0, [("name", f), ("num", ev.value)], None))
    for v, gv in ev.gradient().items():
        result.lines.append((0, [("d", f, v), ("num", gv)], None))
    return [forward, backward, result]


def _local_partials(g, labels, values, n, builder):
    """(input id, ∂n/∂input as a number, as a term) for each input of node n: the
    registry's rule run on the numbers and, with the builder, on the inputs' names."""
    me = labels[n.id]
    numbers = [values[j] for j in n.inputs] + [values[n.id]]
    symbols = [Sym(builder, builder.const(g.nodes[j].value)
                   if g.nodes[j].op is CONST and not g.nodes[j].name
                   else builder.var(labels[j])) for j in n.inputs]
    symbols.append(Sym(builder, builder.var(me)))
    m = builder.namespace()
    for j, rule in zip(n.inputs, n.op.partials):
        pv = rule(ops.SCALAR, *numbers)
        pf = rule(m, *symbols)
        if isinstance(pf, Sym) and builder.value_of(pf.id) is None:
            yield j, pv, ("sym", builder, pf.id)
        else:  # a number (∂(a+b)/∂a = 1, ∂(pi·2)/∂pi = 2): shown once
            yield j, pv, ("num", pv)


def forward_walkthrough(fe) -> list[Section]:
    """Forward mode narrated: each node's value, then its tangent by the chain rule read
    forwards, ṅ = Σ ∂n/∂input · inpuṫ (a `ForwardEvaluation` from cgraph.forward)."""
    g = fe.graph
    labels = node_labels(g)
    out = g.nodes[g.output]
    f = g.output_name
    if out.name is None and out.inputs:
        labels[out.id] = f
    live = g.reaches_output()
    builder = SymbolicBuilder()
    x = fe.unit
    if x:
        section = Section(f"Forward pass, with tangents ṅ = ∂n/∂{x}")
        independent = f"does not depend on {x}"
    else:
        seed = ", ".join(f"{v}\u0307 = {format_number(t)}" for v, t in fe.seed.items())
        section = Section(f"Forward pass, with tangents along the direction {seed}")
        independent = "does not depend on the seeded inputs"
    for n in g.nodes:
        if not live[n.id] or n.op is CONST:
            continue
        me = labels[n.id]
        tangent = fe.tangent(n.id)
        if not n.inputs:
            section.lines.append((0, [("name", me), ("num", fe.values[n.id])], None))
            seeded = n.name in fe.seed
            section.lines.append((1, [("dot", me), ("num", tangent)],
                                  "seed" if seeded else None))
            continue
        args = [labels[j] for j in n.inputs]
        numbers = [fe.values[j] for j in n.inputs]
        section.lines.append((0, [("name", me), ("expr", n.op, args), ("expr", n.op, numbers),
                                  ("num", fe.values[n.id])], None))
        symbolic, numeric = [], []
        for j, pv, formula in _local_partials(g, labels, fe.values, n, builder):
            if g.nodes[j].op is CONST:
                continue  # a constant's tangent is 0: no term
            dot, t = ("dot", labels[j]), ("num", fe.tangent(j))
            if formula == ("num", 1.0):
                symbolic.append(dot)
                numeric.append(t)
            elif formula == ("num", -1.0):
                symbolic.append(("neg", dot))
                numeric.append(("neg", t))
            else:
                symbolic.append(("prod", [formula, dot]))
                numeric.append(("prod", [("num", pv), t]))
        terms = [("dot", me)]
        if symbolic:
            terms += [("sum", symbolic), ("sum", numeric)]
        terms.append(("num", tangent))
        if len(terms) == 4 and numeric == [("num", tangent)]:
            del terms[2]  # ṗ = ẋ = 1, not ṗ = ẋ = 1 = 1
        note = None if fe.tangents[n.id] is not None else independent
        section.lines.append((1, terms, note))
    result = Section("Result")
    result.lines.append((0, [("name", f), ("num", fe.value)], None))
    derivative = [("dot", f), ("num", fe.tangent(g.output))]
    if x:
        result.lines.append((0, [("d", f, x)] + derivative,
                             "one forward pass, one input's derivative"))
    else:
        result.lines.append((0, derivative, "one forward pass, the derivative along the "
                             "direction: " + " + ".join(f"∂{f}/∂{v}·{v}\u0307"
                                                        for v in fe.seed)))
    return [section, result]


def _live_users(user_ids, live):
    return [u for u in user_ids if live[u]]


# -- rendering ----------------------------------------------------------------------------

def _num_text(v: float, digits, in_product: bool) -> str:
    text = format_number(v, digits)
    return f"({text})" if in_product and text.startswith("-") else text


def term_text(t, digits=6, in_product=False) -> str:
    kind = t[0]
    if kind == "name":
        return t[1]
    if kind == "num":
        return _num_text(t[1], digits, in_product)
    if kind == "d":
        return f"∂{t[1]}/∂{t[2]}"
    if kind == "path":
        return f"∂{t[1]}/∂{t[2]} (via {t[3]})"
    if kind == "expr":
        op, args = t[1], t[2]
        atoms = [(a, P_ATOM) if isinstance(a, str) else (_num_text(a, digits, True), P_ATOM)
                 for a in args]
        return apply_infix(op, atoms)[0].replace(" * ", " · ")
    if kind == "dot":
        return t[1] + "\u0307"  # a combining dot above: ṗ
    if kind == "sym":
        _, outputs = render_formula(t[1].nodes, [("_", t[2])])
        text = outputs[0][1].replace(" * ", " · ")
        return f"({text})" if in_product and (" + " in text or " - " in text) else text
    if kind == "prod":
        return " · ".join(term_text(x, digits, True) for x in t[1])
    if kind == "neg":
        return "-" + term_text(t[1], digits, True)
    if kind == "sum":
        return _join_sum(t[1], lambda x: term_text(x, digits, True))
    raise ValueError(kind)


def term_latex(t, digits=6, in_product=False) -> str:
    kind = t[0]
    if kind == "name":
        return latex_name(t[1]) if t[1].isidentifier() else t[1]
    if kind == "num":
        text = format_number(t[1], digits).replace("Infinity", r"\infty")
        text = text.replace("NaN", r"\mathrm{NaN}")
        return rf"\left({text}\right)" if in_product and text.startswith("-") else text
    if kind in ("d", "path"):
        frac = rf"\frac{{\partial {latex_name(t[1])}}}{{\partial {latex_name(t[2])}}}"
        return frac + (rf"\big|_{{\text{{via }} {latex_name(t[3])}}}" if kind == "path"
                       else "")
    if kind == "expr":
        op, args = t[1], t[2]
        atoms = [(latex_name(a), P_ATOM) if isinstance(a, str)
                 else (term_latex(("num", a), digits, True), P_ATOM) for a in args]
        return apply_latex(op, atoms)[0]
    if kind == "dot":
        return rf"\dot{{{term_latex(('name', t[1]))}}}"
    if kind == "sym":
        _, outputs = render_formula(t[1].nodes, [("_", t[2])], latex=True)
        text = outputs[0][1]
        return rf"\left({text}\right)" if in_product and (" + " in text or " - " in text) \
            else text
    if kind == "prod":
        return r" \cdot ".join(term_latex(x, digits, True) for x in t[1])
    if kind == "neg":
        return "-" + term_latex(t[1], digits, True)
    if kind == "sum":
        return _join_sum(t[1], lambda x: term_latex(x, digits, True))
    raise ValueError(kind)


def _join_sum(terms, render) -> str:
    """`a + b - c`: a negated term after the first is subtracted."""
    out = ""
    for k, x in enumerate(terms):
        if x[0] == "neg" and k:
            out += " - " + render(x[1])
        else:
            out += (" + " if k else "") + render(x)
    return out


def to_text(sections: list[Section], digits=6) -> str:
    out = []
    for s in sections:
        out.append(s.title)
        for indent, terms, note in s.lines:
            line = "  " * (indent + 1) + " = ".join(term_text(t, digits) for t in terms)
            out.append(line + (f"    ({note})" if note else ""))
        out.append("")
    return "\n".join(out)


def to_markdown(sections: list[Section], digits=6) -> str:
    out = []
    for s in sections:
        out += [f"### {s.title}", ""]
        for indent, terms, note in s.lines:
            math = " = ".join(term_latex(t, digits) for t in terms)
            out.append("  " * indent + f"- ${math}$" + (f" ({note})" if note else ""))
        out.append("")
    return "\n".join(out)


def to_rich(sections: list[Section], digits=6):
    from rich.console import Group
    from rich.text import Text

    parts = []
    for s in sections:
        parts.append(Text(s.title, style="bold underline"))
        for indent, terms, note in s.lines:
            line = Text("  " * (indent + 1))
            texts = [term_text(t, digits) for t in terms]
            for k, piece in enumerate(texts):
                if k:
                    line.append(" = ", style="dim")
                style = "bold cyan" if k == 0 else ("bold" if k == len(texts) - 1 else "")
                line.append(piece, style=style)
            if note:
                line.append(f"    {note}", style="dim italic")
            parts.append(line)
        parts.append(Text(""))
    return Group(*parts)
