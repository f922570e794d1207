"""Formulas as text (numbers themselves are spelled by `numtext`).

* `apply_infix` / `apply_latex`: one op applied to already-printed operands, with the
  fewest parentheses that keep the tree (and so the floating-point result) unchanged.
* `node_labels`, `node_expr`: each node's own formula over its direct inputs, naming
  unnamed inputs `t<id>` (or another prefix when the program itself uses such names).
"""

from __future__ import annotations

import re

from . import numtext
from .ops import CONST, NEG, P_ATOM, P_COMPARE, P_POWER, P_UNARY, POW, WHERE, Op


def _wrap(term: tuple[str, int], need: int, open_="(", close=")") -> str:
    text, prec = term
    return f"{open_}{text}{close}" if prec < need else text


def apply_infix(op: Op, args: list[tuple[str, int]], symbols=None) -> tuple[str, int]:
    """`op` applied to printed operands (text, precedence) -> (text, precedence).

    `symbols` overrides an infix operator's spelling by op name (`{"mul": "·"}`)."""
    if op.infix and op.arity == 2:
        if op is POW:  # atom ^ unary, right-associative
            return f"{_wrap(args[0], P_ATOM)}^{_wrap(args[1], P_UNARY)}", P_POWER
        # left-associative: a right operand of the same level keeps its parentheses
        # a comparison's sides are sums: (a < b) == 0 keeps its parentheses
        low = op.prec + (op.prec == P_COMPARE)
        left, right = _wrap(args[0], low), _wrap(args[1], op.prec + 1)
        spelling = symbols.get(op.name, op.spelling) if symbols else op.spelling
        return f"{left} {spelling} {right}", op.prec
    if op is NEG:
        return f"-{_wrap(args[0], P_POWER)}", P_UNARY
    return f"{op.spelling}({', '.join(text for text, _ in args)})", P_ATOM


def text_value(term: tuple[str, int]) -> str:
    """A formula in text as a term of a chain of equalities: a comparison in parentheses,
    `t2 = (x < y) = (1 < 3) = 1`, not `x < y = 1 < 3 = 1` (LaTeX: `latex_value`)."""
    text, prec = term
    return f"({text})" if prec == P_COMPARE else text


def latex_value(term: tuple[str, int]) -> str:
    """A formula in LaTeX as a number: a comparison in Iverson brackets, `[x > 0]` (1 where
    it holds, 0 where not), so `t_{2} = [x > 0]` and `[x = 0] = 0` read as what they are,
    not as a chain of (in)equalities."""
    text, prec = term
    return rf"\left[{text}\right]" if prec == P_COMPARE else text


def latex_test(term: tuple[str, int]) -> str:
    """where's condition in LaTeX, as the test it is: a comparison as itself (`x > 0`),
    any other number `c \\ne 0`."""
    text, prec = term
    return text if prec == P_COMPARE else rf"{text} \ne 0"


def apply_latex(op: Op, args: list[tuple[str, int]]) -> tuple[str, int]:
    """The same, in LaTeX, from the registry's template for the op. A comparison is a test
    as where's condition, a number in Iverson brackets anywhere else."""
    if op is WHERE:
        return op.latex.format(latex_test(args[0]), *map(latex_value, args[1:])), P_ATOM
    args = [(latex_value(a), P_ATOM) if a[1] == P_COMPARE else a for a in args]
    if op.infix and op.arity == 2:
        if op is POW:
            return op.latex.format(_wrap(args[0], P_ATOM, r"\left(", r"\right)"),
                                   args[1][0]), P_POWER
        if op.name == "div":  # \frac needs no parentheses around its parts
            return op.latex.format(args[0][0], args[1][0]), P_ATOM
        low = op.prec + (op.prec == P_COMPARE)
        return op.latex.format(_wrap(args[0], low, r"\left(", r"\right)"),
                               _wrap(args[1], op.prec + 1, r"\left(", r"\right)")), op.prec
    if op is NEG:
        return op.latex.format(_wrap(args[0], P_POWER, r"\left(", r"\right)")), P_UNARY
    return op.latex.format(*(text for text, _ in args)), P_ATOM


_LATEX_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega",
}


# Greek letters typed as themselves, as LaTeX spells them (unicode-math's reading: ε is
# \varepsilon, ϵ \epsilon); a capital that looks like a Latin letter (Α) has no command.
_GREEK_VARIANTS = {"ε": "varepsilon", "ϵ": "epsilon", "φ": "varphi", "ϕ": "phi",
                   "ϑ": "vartheta", "ς": "varsigma", "ϖ": "varpi", "ϱ": "varrho"}
_GREEK_CAPITALS = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi",
                   "Psi", "Omega"}


def _latex_letter(c: str) -> str:
    """One letter in LaTeX: θ is `\\theta` (pdflatex reads no θ in math), others as typed."""
    if not "\u0391" <= c <= "\u03f5":
        return c
    if c in _GREEK_VARIANTS:
        return "\\" + _GREEK_VARIANTS[c]
    import unicodedata

    kind, _, word = unicodedata.name(c, "").partition(" LETTER ")
    word = word.lower().replace("lamda", "lambda")
    if kind == "GREEK SMALL" and word in _LATEX_GREEK:
        return "\\" + word
    if kind == "GREEK CAPITAL" and word.capitalize() in _GREEK_CAPITALS:
        return "\\" + word.capitalize()
    return c


def latex_name(name: str) -> str:
    """A variable name in LaTeX: `x`, `x_{1}`, `\\theta` (written theta or θ), `θ1` as
    `\\theta_{1}`, `\\mathrm{loss}`."""
    if name in _LATEX_GREEK:
        return "\\" + name
    m = re.fullmatch(r"([^\W\d_])_?(\d+)", name)
    if m:
        return f"{_latex_letter(m.group(1))}_{{{m.group(2)}}}"
    if len(name) == 1 and name != "_":  # `_` alone is TeX's subscript: \mathrm{\_}
        return _latex_letter(name)
    return r"\mathrm{" + name.replace("_", r"\_") + "}"


def temp_prefix(names) -> str:
    """A prefix p such that no name in `names` looks like p<digits>: `t` unless taken."""
    names = [n for n in names if n[:1] in "t_"]
    for prefix in ("t", "tmp", "_t", "_tmp"):
        pattern = re.compile(re.escape(prefix) + r"\d+")
        if not any(pattern.fullmatch(n) for n in names):
            return prefix
    n = 0
    while any(re.fullmatch(f"_t{n}_\\d+", name) for name in names):
        n += 1
    return f"_t{n}_"


def reading_order(names) -> list[str]:
    """Variables in the order a reader looks for them: each family's elements together,
    where the family is first used, in index order (W[1,1], W[1,2], W[2,1], …, x[1], x[2],
    b[1], …), not in order of first use (W[1,1], x[1], W[1,2], …); other names stay in
    their order. A program without families comes back as it was, in one pass."""
    names = list(names)
    if "[" not in "".join(names):  # (a sixth of the time of any() over 10^4 names)
        return names
    first: dict = {}  # family (or plain name) -> where it is first used
    keys = []
    for pos, n in enumerate(names):
        family, bracket, rest = n.partition("[")
        start = first.setdefault((family, bool(bracket)), pos)
        try:
            index = tuple(int(i) for i in rest[:-1].split(",")) if bracket else ()
            keys.append((start, 0, index, "", n))
        except ValueError:  # not a number: after the numbered ones, by text
            keys.append((start, 1, (), n, n))
    return [k[-1] for k in sorted(keys)]


def inputs(variables, bindings) -> dict:
    """The bound values of the program's variables, as cgraph lists them (reading_order):
    a family bound whole (`W=[[1,0],[0,1]]`) has only the elements the program uses."""
    return {v: bindings[v] for v in reading_order(variables) if v in bindings}


def node_labels(graph) -> list[str]:
    """How each node is referred to in formulas: its name, its literal, or `t<id>`.

    A negative or non-finite literal is parenthesized, so a label is always an atom.
    """
    prefix = temp_prefix(n.name for n in graph.nodes if n.name)
    labels = []
    append = labels.append
    atom = numtext.atom
    for n in graph.nodes:
        if n.name:
            append(n.name)
        elif n.op is CONST:
            append(atom(n.value))
        else:
            append(f"{prefix}{n.id}")
    return labels


def output_labels(graph) -> list[str]:
    """`node_labels`, but an unnamed output called by the output's name (`f`), as explain
    narrates it and the stepper draws it: `∂f/∂f = 1`, never a `t5` named nowhere else."""
    labels = node_labels(graph)
    out = graph.nodes[graph.output]
    if out.name is None and out.inputs:
        labels[out.id] = graph.output_name
    return labels


_TEMPLATES: dict = {}


def op_template(op: Op) -> str:
    """`%s + %s`, `%s^%s`, `-%s`, `sin(%s)`: the op over atoms, as a %-format string."""
    t = _TEMPLATES.get(op)
    if t is None:
        atoms = [("%s", P_ATOM)] * op.arity
        t = _TEMPLATES[op] = apply_infix(op, atoms)[0]
    return t


def node_expr(graph, node, labels: list[str]) -> str:
    """The node's own formula over its direct inputs (`x + y`, `p * z`, `sin(t4)`)."""
    if not node.inputs:
        return node.name or labels[node.id]
    return op_template(node.op) % tuple([labels[j] for j in node.inputs])


def counted(n: int, word: str) -> str:
    """'1 step', '3 steps' (a word whose plural takes an s)."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
