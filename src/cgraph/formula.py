"""Expression DAGs as text: cgraph infix (a program that parses back) or LaTeX.

A node is written inline where that keeps the text small, and as a named definition
(`t1 = cos(x)`) where it is shared and not tiny, or where its text alone grows long. So the
printed size stays linear in the DAG's size however much it shares: no swelling to the
exponential tree. Iterative, one pass in topological order.
"""

from __future__ import annotations

from .graph import reachable
from .ops import CONST, EQ, P_ATOM, P_COMPARE, VAR, WHERE
from . import numtext
from .printing import apply_infix, apply_latex, latex_name, latex_value, temp_prefix

INLINE_SHARED = 12  # a shared subexpression longer than this gets a name
INLINE_MAX = 80  # any subexpression longer than this gets a name


def render(nodes, outputs: list[tuple[str, int]], latex: bool = False,
           reserved=(), symbols=None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(definitions, outputs) as (name, formula) pairs, in an order that evaluates.

    `symbols` overrides infix operators' spellings in text (see `apply_infix`)."""
    reach = reachable(nodes, [i for _, i in outputs])
    uses = [0] * len(nodes)
    for n in nodes:
        if reach[n.id]:
            for j in n.inputs:
                uses[j] += 1
    taken = {n.name for n in nodes if n.name} | set(reserved) | {name for name, _ in outputs}
    prefix = temp_prefix(taken)
    count = 0
    term: dict[int, tuple[str, int]] = {}
    definitions: list[tuple[str, str]] = []
    apply = apply_latex if latex else apply_infix
    if symbols and not latex:
        def apply(op, args):
            return apply_infix(op, args, symbols)
    out_ids = {i for _, i in outputs}
    for n in nodes:
        if not reach[n.id]:
            continue
        if n.op is VAR:
            term[n.id] = (latex_name(n.name) if latex else n.name, P_ATOM)
            continue
        if n.op is CONST:
            if n.name:
                term[n.id] = (latex_name(n.name) if latex else n.name, P_ATOM)
            else:
                term[n.id] = numtext.latex_term(n.value) if latex else numtext.term(n.value)
            continue
        args = [term[j] for j in n.inputs]
        if latex and n.op is WHERE and _negated_test(nodes, term, n.inputs[0]):
            # where([c] = 0, a, b) is where(c, b, a): "b if c, a otherwise" (a comparison
            # is never NaN), not "a if [c] = 0"; the derivative of where(c, …) writes so
            args = [term[nodes[n.inputs[0]].inputs[0]], args[2], args[1]]
        text, prec = apply(n.op, args)
        user_named = n.name is not None
        if n.id not in out_ids and (user_named or len(text) > INLINE_MAX
                                    or (uses[n.id] > 1 and len(text) > INLINE_SHARED)):
            if user_named:
                name = n.name
            else:
                count += 1
                name = f"{prefix}{count}"
            shown = (latex_name(name) if user_named else f"{prefix}_{{{count}}}") \
                if latex else name
            definitions.append((shown, latex_value((text, prec)) if latex else text))
            term[n.id] = (shown, P_ATOM)
        else:
            term[n.id] = (text, prec)
    return definitions, [(name, latex_value(term[i]) if latex else term[i][0])
                         for name, i in outputs]


def _negated_test(nodes, term, c: int) -> bool:
    """Whether node c is `comparison == 0`, written inline: a test that reads better the
    other way round."""
    n = nodes[c]
    if n.op is not EQ or term[c][1] != P_COMPARE:
        return False
    a, zero = (nodes[j] for j in n.inputs)
    return (a.op.prec == P_COMPARE and term[a.id][1] == P_COMPARE and zero.op is CONST
            and zero.value == 0)
