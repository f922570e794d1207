"""Symbolic differentiation on the graph: reverse mode as a source transformation.

`derivatives(graph, wrt)` walks the graph backwards exactly like `Graph.backward`, but the
adjoints are new graph nodes: each op's local partials come from the SAME registry rule
(`op.partials`), evaluated with `m` = a `SymbolicBuilder` namespace instead of floats. The
builder hash-conses nodes (identical subexpressions are one node) and simplifies as it
builds: constant folding, 0·a, 1·a, a+0, a-a, a^1, collecting numeric factors and like
terms. The result is a DAG whose size is linear in the program's; `printing` shows it with
named shared intermediates so the text stays linear too.
"""

from __future__ import annotations

from . import ops, scalar
from .graph import Graph, Node, reachable
from .ops import ADD, CONST, DIV, MUL, NEG, POW, SUB, VAR
from .simplify import cancelled as cancelled_factors, normalize

_FOLD = {ADD, SUB, MUL, DIV, POW, NEG}  # arithmetic is folded; log(2) stays log(2)


def _stays_finite(result: float, *operands: float) -> bool:
    """Whether folding numbers into `result` keeps what evaluating them would give: a
    factor that overflows (1e200 * 1e200) is left as written, so the printed derivative
    says what it computes instead of `1 / 0`."""
    return scalar.is_finite(result) or not all(scalar.is_finite(v) for v in operands)


class Sym:
    """A node of a SymbolicBuilder, with arithmetic operators that build new nodes."""

    __slots__ = ("b", "id")

    def __init__(self, builder: "SymbolicBuilder", id: int):
        self.b = builder
        self.id = id

    def _other(self, other) -> int:
        return other.id if isinstance(other, Sym) else self.b.const(float(other))

    def __add__(self, o):
        return Sym(self.b, self.b.add(self.id, self._other(o)))

    def __radd__(self, o):
        return Sym(self.b, self.b.add(self._other(o), self.id))

    def __sub__(self, o):
        return Sym(self.b, self.b.sub(self.id, self._other(o)))

    def __rsub__(self, o):
        return Sym(self.b, self.b.sub(self._other(o), self.id))

    def __mul__(self, o):
        return Sym(self.b, self.b.mul(self.id, self._other(o)))

    def __rmul__(self, o):
        return Sym(self.b, self.b.mul(self._other(o), self.id))

    def __neg__(self):
        return Sym(self.b, self.b.neg(self.id))


class SymbolicBuilder:
    """Builds a simplified, hash-consed expression DAG out of `Node`s.

    `namespace()` gives the registry's partial-derivative rules an `m` to run on unchanged.
    """

    def __init__(self):
        self.nodes: list[Node] = []
        self._memo: dict = {}
        self._split: dict[int, tuple[float, int]] = {}  # node -> (numeric factor, rest)
        self._value: dict[int, float] = {}  # node without variables -> its value
        # nodes with a number that is not finite in them (1/0, 0/0, log(0), 1e308*10):
        # nothing around them is simplified but x*1, x+0 (see `_wild_rule`)
        self.wild: set[int] = set()

    # -- leaves -------------------------------------------------------------------------
    def _new(self, key, op, inputs=(), name=None, value=None) -> int:
        found = self._memo.get(key)
        if found is None:
            found = len(self.nodes)
            self.nodes.append(Node(found, op, inputs, name, value))
            self._memo[key] = found
            values = self._value
            if not inputs:
                if op is CONST:
                    values[found] = value
                    if not scalar.is_finite(value):
                        self.wild.add(found)
            elif self.wild and any(a in self.wild for a in inputs):
                self.wild.add(found)
            elif inputs[0] in values and op.scalar is not None \
                    and all(a in values for a in inputs[1:]):
                v = values[found] = op.scalar(*(values[a] for a in inputs))
                if not scalar.is_finite(v):
                    self.wild.add(found)
        return found

    def var(self, name: str) -> int:
        return self._new(("var", name), VAR, name=name)

    def const(self, value: float, name: str | None = None) -> int:
        return self._new(("const", name or repr(value)), CONST, name=name, value=value)

    def value_of(self, i: int) -> float | None:
        n = self.nodes[i]
        return n.value if n.op is CONST else None

    def _is(self, i: int, v: float) -> bool:
        n = self.nodes[i]
        return n.op is CONST and n.name is None and n.value == v

    def _raw(self, op, args) -> int:
        return self._new((op.name, args), op, args)

    # -- ops with simplification --------------------------------------------------------
    def apply(self, op, args: tuple[int, ...]) -> int:
        simplify = _SIMPLIFY.get(op.name)
        if simplify is not None:
            return simplify(self, *args)
        return self._raw(op, tuple(args))

    def _fold(self, op, args):
        """The constant result of an arithmetic op on unnamed constants, if finite; the op
        as written when an input is wild or the result would be (see `_wild_rule`)."""
        if self.wild and any(a in self.wild for a in args):
            return self._wild_rule(op, args)
        if op not in _FOLD:
            return None
        vals = [self.value_of(a) for a in args]
        if any(v is None for v in vals) or any(self.nodes[a].name for a in args):
            return None
        v = op.scalar(*vals)
        return self.const(v) if scalar.is_finite(v) else self._raw(op, args)

    def _wild_rule(self, op, args) -> int:
        """An op on a wild node: only the rules that hold for every double are used (a*1,
        a/1, a^1, a+0, a-0, -1*a = -a, -(-a) = a, a + -b = a - b, a - -b = a + b). 0·a,
        0/a, a/a, a-a and like terms collected are not: with a = 1/0 they are NaN as
        evaluated (0·∞, ∞-∞), not 0 or 1."""
        nodes = self.nodes
        if op is MUL or op is ADD:
            if self._is(args[0], 1.0 if op is MUL else 0.0):
                return args[1]
        if op in (MUL, DIV, POW, ADD, SUB):
            if self._is(args[1], 1.0 if op in (MUL, DIV, POW) else 0.0):
                return args[0]
        if op is MUL:
            for k in (0, 1):
                if self._is(args[k], -1.0):
                    return self.neg(args[1 - k])
        elif op is NEG:
            if nodes[args[0]].op is NEG:
                return nodes[args[0]].inputs[0]
        elif op is ADD or op is SUB:
            a, b = args
            if nodes[b].op is NEG:
                return (self.sub if op is ADD else self.add)(a, nodes[b].inputs[0])
            if self._is_num(b) and nodes[b].value < 0:
                return (self.sub if op is ADD else self.add)(a, self.const(-nodes[b].value))
            if op is ADD and nodes[a].op is NEG:
                return self.sub(b, nodes[a].inputs[0])
        return self._raw(op, tuple(args))

    def _coef(self, i: int) -> tuple[float, int | None]:
        """Split a term into (numeric factor, rest): 3*a*b -> (3, a*b), -a -> (-1, a),
        5 -> (5, None). Products keep their factor leftmost, `((3 * a) * b)`, so they
        print without parentheses; the split of each is recorded when it is built."""
        n = self.nodes[i]
        if n.op is CONST and n.name is None:
            return n.value, None
        return self._split.get(i, (1.0, i))

    def _product(self, a: int, b: int) -> int:
        """a·b for factor-free a and b, left-associated: a * (b1 * b2) -> (a * b1) * b2."""
        if a == b:
            return self.pow(a, self.const(2.0))
        spine = []
        while self.nodes[b].op is MUL:  # factor-free products: walk b's left spine
            spine.append(self.nodes[b].inputs[1])
            b = self.nodes[b].inputs[0]
        acc = self._raw(MUL, (a, b))
        for f in reversed(spine):
            acc = self._raw(MUL, (acc, f))
        return acc

    def _scaled(self, c: float, rest: int) -> int:
        """c·rest with the numeric factor leftmost: 2 * sin(x) * x, not 2 * (sin(x) * x)."""
        if c == 1.0:
            return rest
        if c == -1.0:
            return self.neg(rest)
        spine = []
        first = rest
        while self.nodes[first].op is MUL:
            spine.append(self.nodes[first].inputs[1])
            first = self.nodes[first].inputs[0]
        acc = self._raw(MUL, (self.const(c), first))
        partial = first
        self._split[acc] = (c, partial)
        for f in reversed(spine):
            partial = self._raw(MUL, (partial, f))
            acc = self._raw(MUL, (acc, f))
            self._split[acc] = (c, partial)
        return acc

    def _is_num(self, i: int) -> bool:
        n = self.nodes[i]
        return n.op is CONST and n.name is None

    def add(self, a: int, b: int) -> int:
        folded = self._fold(ADD, (a, b))
        if folded is not None:
            return folded
        if self._is(a, 0.0):
            return b
        if self._is(b, 0.0):
            return a
        na, nb = self.nodes[a], self.nodes[b]
        if nb.op is NEG:
            return self.sub(a, nb.inputs[0])
        if na.op is NEG:
            return self.sub(b, na.inputs[0])
        (ca, ra), (cb, rb) = self._coef(a), self._coef(b)
        if ra is not None and ra == rb and _stays_finite(ca + cb, ca, cb):
            return self.mul(self.const(ca + cb), ra)
        if self._is_num(b) and not self._is_num(a) and nb.value < 0:
            return self.sub(a, self.const(-nb.value))
        return self._raw(ADD, (a, b))

    def sub(self, a: int, b: int) -> int:
        folded = self._fold(SUB, (a, b))
        if folded is not None:
            return folded
        if a == b:
            return self.const(0.0)
        if self._is(b, 0.0):
            return a
        if self._is(a, 0.0):
            return self.neg(b)
        nb = self.nodes[b]
        if nb.op is NEG:
            return self.add(a, nb.inputs[0])
        (ca, ra), (cb, rb) = self._coef(a), self._coef(b)
        if ra is not None and ra == rb and _stays_finite(ca - cb, ca, cb):
            return self.mul(self.const(ca - cb), ra)
        return self._raw(SUB, (a, b))

    def mul(self, a: int, b: int) -> int:
        folded = self._fold(MUL, (a, b))
        if folded is not None:
            return folded
        if self._is(a, 0.0) or self._is(b, 0.0):
            return self.const(0.0)
        na, nb = self.nodes[a], self.nodes[b]
        if na.op is NEG:
            return self.neg(self.mul(na.inputs[0], b))
        if nb.op is NEG:
            return self.neg(self.mul(a, nb.inputs[0]))
        (ca, ra), (cb, rb) = self._coef(a), self._coef(b)
        if not _stays_finite(ca * cb, ca, cb):  # 1e200 * (1e200 * x): kept as written
            return self._raw(MUL, (a, b))
        if ra is None or rb is None:  # one side is a number
            rest = rb if ra is None else ra
            return self._scaled(ca * cb, rest)
        return self._scaled(ca * cb, self._product(ra, rb))

    def div(self, a: int, b: int) -> int:
        folded = self._fold(DIV, (a, b))
        if folded is not None:
            return folded
        if self._is(b, 1.0):
            return a
        if self._is(a, 0.0):
            return self.const(0.0)
        if a == b:
            return self.const(1.0)
        na, nb = self.nodes[a], self.nodes[b]
        if na.op is NEG:
            return self.neg(self.div(na.inputs[0], b))
        if nb.op is NEG:
            return self.neg(self.div(a, nb.inputs[0]))
        ca, ra = self._coef(a)
        if self._is_num(b) and ca != 1.0 and ra is not None:  # (3*r)/2 -> 1.5*r
            q = scalar.div(ca, nb.value)  # (2*x)/0 is Infinity*x, not ZeroDivisionError
            if scalar.is_finite(q):
                return self._scaled(q, ra)
        return self._raw(DIV, (a, b))

    def pow(self, a: int, b: int) -> int:
        folded = self._fold(POW, (a, b))
        if folded is not None:
            return folded
        if self._is(b, 1.0):
            return a
        if self._is(b, 0.0) or self._is(a, 1.0):
            return self.const(1.0)
        return self._raw(POW, (a, b))

    def neg(self, a: int) -> int:
        folded = self._fold(NEG, (a,))
        if folded is not None:
            return folded
        n = self.nodes[a]
        if n.op is NEG:
            return n.inputs[0]
        c, r = self._coef(a)
        if c != 1.0 and r is not None:  # -(3*r) -> -3*r
            return self._scaled(-c, r)
        if n.op is SUB:
            return self.sub(n.inputs[1], n.inputs[0])
        i = self._raw(NEG, (a,))
        self._split[i] = (-1.0, a)
        return i

    def namespace(self) -> "SymbolicOps":
        """The `m` that the registry's partial rules run against."""
        return SymbolicOps(self)

    def graph(self, output: int, name: str = "f") -> Graph:
        """The nodes that `output` depends on, renumbered, as a Graph."""
        keep = reachable(self.nodes, [output])
        new_id: dict[int, int] = {}
        nodes = []
        for n in self.nodes:
            if keep[n.id]:
                new_id[n.id] = len(nodes)
                nodes.append(Node(len(nodes), n.op, tuple(new_id[j] for j in n.inputs),
                                  n.name if n.op is VAR else None, n.value))
        return Graph(nodes, new_id[output], name)


class SymbolicOps:
    """`m.sin(a)`, `m.div(a, b)`, …: each registry op, applied to `Sym`s or numbers."""

    def __init__(self, builder: SymbolicBuilder):
        self._b = builder

    def __getattr__(self, name: str):
        op = ops.OPS.get(name)
        if op is None:
            raise AttributeError(name)
        b = self._b

        def build(*args):
            ids = tuple(a.id if isinstance(a, Sym) else b.const(float(a)) for a in args)
            return Sym(b, b.apply(op, ids))

        return build


_SIMPLIFY = {
    "add": SymbolicBuilder.add, "sub": SymbolicBuilder.sub, "mul": SymbolicBuilder.mul,
    "div": SymbolicBuilder.div, "pow": SymbolicBuilder.pow, "neg": SymbolicBuilder.neg,
}


def copy_into(builder: SymbolicBuilder, graph: Graph) -> list[int | None]:
    """Rebuild `graph`'s nodes (those reaching its output) in `builder`; ids by old id."""
    live = graph.reaches_output()
    ids: list[int | None] = [None] * len(graph.nodes)
    for n in graph.nodes:
        if not live[n.id]:
            continue
        if n.op is VAR:
            ids[n.id] = builder.var(n.name)
        elif n.op is CONST:
            ids[n.id] = builder.const(n.value, n.name)
        else:
            ids[n.id] = builder.apply(n.op, tuple(ids[j] for j in n.inputs))
            copy = builder.nodes[ids[n.id]]
            if n.name and copy.name is None and copy.op is not CONST:
                copy.name = n.name  # the user's name for an intermediate is kept
    return ids


class RawBuilder(SymbolicBuilder):
    """A builder that simplifies nothing (x/x stays x/x): the reverse pass in it is the
    one eval runs, division for division."""

    def apply(self, op, args):
        return self._raw(op, tuple(args))

    def add(self, a, b):
        return self._raw(ADD, (a, b))

    def sub(self, a, b):
        return self._raw(SUB, (a, b))

    def mul(self, a, b):
        return self._raw(MUL, (a, b))

    def div(self, a, b):
        return self._raw(DIV, (a, b))

    def pow(self, a, b):
        return self._raw(POW, (a, b))

    def neg(self, a):
        return self._raw(NEG, (a,))


def derivatives(graph: Graph, wrt: list[str], builder: SymbolicBuilder | None = None,
                cancelled: dict | None = None) -> tuple[SymbolicBuilder, dict]:
    """∂output/∂v for each v in `wrt`, as node ids of one shared SymbolicBuilder.

    The reverse pass builds the derivatives in a builder of its own; `simplify.normalize`
    then writes them, in normal form, into `builder` (or a new one). With `cancelled`,
    each v's factors that eval's reverse pass divides by and the result does not
    (`simplify.cancelled`: where one is 0 the two may disagree), as ids in `builder`."""
    b = SymbolicBuilder()
    roots = _reverse(graph, wrt, b)
    target = builder or SymbolicBuilder()
    kept: list = []
    built = normalize(b, roots, target, kept)
    if cancelled is not None:
        raw = RawBuilder()
        cancelled.update(zip(wrt, cancelled_factors(raw, _reverse(graph, wrt, raw), kept[0],
                                                    built)))
    return target, dict(zip(wrt, built))


def _reverse(graph: Graph, wrt: list[str], b: SymbolicBuilder) -> list[int]:
    """The reverse pass over `graph` in builder `b`: ∂output/∂v's node for each v."""
    value = copy_into(b, graph)
    # only nodes that depend on a wrt variable carry an adjoint worth building
    active = [False] * len(graph.nodes)
    for n in graph.nodes:
        active[n.id] = (n.op is VAR and n.name in wrt) or any(active[j] for j in n.inputs)
    m = b.namespace()
    adjoint: dict[int, int] = {graph.output: b.const(1.0)}
    guards = ops.BranchGuards(graph, b.apply, b.const(0.0))  # where: see BranchGuards
    for n in reversed(graph.nodes[: graph.output + 1]):
        g = adjoint.get(n.id)
        if g is None or not n.inputs or not active[n.id]:
            continue
        args = [Sym(b, value[j]) for j in n.inputs] + [Sym(b, value[n.id])]
        for k, (j, rule) in enumerate(zip(n.inputs, n.op.partials, strict=True)):
            if not active[j]:
                continue
            edge = guards.edge(n, k, value[n.inputs[0]])
            if edge is False:
                continue
            if n.op is ops.WHERE:
                term = g  # inside its guard, where passes the gradient through
            else:
                p = rule(m, *args)
                if edge is not None:  # where(e, where(e, g, 0) * p, 0) is where(e, g*p, 0)
                    gn = b.nodes[g]
                    if gn.op is ops.WHERE and gn.inputs[0] == edge and b._is(gn.inputs[2], 0.0):
                        g = gn.inputs[1]
                term = b.mul(g, p.id if isinstance(p, Sym) else b.const(float(p)))
            term = guards.term(edge, term)
            adjoint[j] = b.add(adjoint[j], term) if j in adjoint else term
            guards.arrive(j, edge)
    zero = b.const(0.0)
    return [adjoint.get(graph.variables[v], zero) if v in graph.variables else zero
            for v in wrt]


def nth_derivatives(graph: Graph, wrt: list[str], order: int = 1) -> tuple[SymbolicBuilder, dict]:
    """∂ⁿoutput/∂vⁿ for each v in `wrt`, all in one builder (so they share subexpressions)."""
    b, ids = partial_derivatives(graph, [(v,) * order for v in wrt])
    return b, {v: ids[(v,) * order] for v in wrt}


def partial_derivatives(graph: Graph, partials, shared: SymbolicBuilder | None = None,
                        cancelled: dict | None = None) -> tuple[SymbolicBuilder, dict]:
    """Each partial named by its variables in the order taken (`("x", "y")` is ∂²f/∂x∂y),
    as node ids of one shared builder; with `cancelled`, each one's cancelled factors
    (see `derivatives`), those of every differentiation that led to it, in `shared`.

    The last differentiation of each is done in the shared builder; the ones before it
    differentiate, rebuild the result as a graph (kept for the partials sharing that
    prefix) and differentiate again."""
    shared = SymbolicBuilder() if shared is None else shared
    prefixes: dict[tuple, Graph] = {(): graph}
    lost: dict[tuple, list[Graph]] = {(): []}  # a prefix's cancelled factors, as graphs
    want = cancelled is not None
    result = {}
    for combo in partials:
        for k in range(1, len(combo)):
            key = combo[:k]
            if key not in prefixes:
                c: dict | None = {} if want else None
                b, d = derivatives(prefixes[combo[:k - 1]], [combo[k - 1]], cancelled=c)
                prefixes[key] = b.graph(d[combo[k - 1]])
                lost[key] = lost[combo[:k - 1]] + [b.graph(a) for a in (c or {}).get(
                    combo[k - 1], [])]
        c = {} if want else None
        _, d = derivatives(prefixes[combo[:-1]], [combo[-1]], shared, cancelled=c)
        result[combo] = d[combo[-1]]
        if want:
            ids = [copy_into(shared, g)[g.output] for g in lost[combo[:-1]]]
            ids += c[combo[-1]]
            cancelled[combo] = list(dict.fromkeys(ids))
    return shared, result
