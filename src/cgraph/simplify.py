"""Derivatives as simple as a textbook's: a normal form for expression DAGs, in linear time.

`normalize(source, roots, target)` rewrites the nodes of one `SymbolicBuilder` that `roots`
depend on into another, as sums of products:

* a sum is a map from monomials to numeric coefficients, so like terms collect across the
  whole sum (not pairwise), and signs fold (`a + -b` prints `a - b`, `-(-a)` is `a`);
* a monomial is a product of atoms with numeric exponents, so a factor cancels against the
  same factor in a quotient (`o·(1-o)·(1/(1-o))` is `o·(1-o)^0 = o`);
* a product of sums is multiplied out, and sums standing as factors are expanded, only
  where the result is cheaper in operations than the product (this is what turns the
  sigmoid cross-entropy's `(-t/o + (1-t)/(1-o))·o·(1-o)` into `o - t`);
* atoms are variables, named constants, function calls and the user's named
  intermediates; each is built once in the target builder, in a canonical order (variables
  by name first), so equal things are one node and print alike.

Cancelling a factor changes a derivative where that factor is 0: ∂(x/x)/∂x is 0 here,
and NaN at x = 0 as evaluated (eval divides by 0 there). `cancelled` says which factors
the reverse pass, as eval runs it, divides by and the result does not, so diff can say
where its formula holds.

It stays linear: a node used more than once becomes an atom (named in the printed
program, as before) unless it is a tiny monomial; a node used once is inlined into its one
user; products are multiplied out only below `CAP` terms. The op's own output, where a
partial rule re-derives it (`out` in sigmoid's `out·(1-out)`, tanh's `1-out²`, exp's `out`),
is the forward node itself, so it is one atom.
"""

from __future__ import annotations

import math

from . import scalar
from .graph import reachable
from .ops import ADD, CONST, DIV, MUL, NEG, POW, SUB, VAR

CAP = 32  # most terms a product is multiplied out to
ROUNDS = 4  # most sums multiplied out in one term
SLACK = 8  # a round may cost this many more operations and still go on to the next
SMALL = 4  # a sum that exists anyway is multiplied out only up to this many terms
QUICK = 5000  # nodes above which only products that may cancel are multiplied out
FACTOR_GAIN = 2  # a common factor comes out only if that saves this many operations
TINY = 3  # a shared product of this many factors is still inlined into its users

Mono = tuple  # ((atom id in target, exponent), ...) sorted by the atoms' canonical order
Poly = dict  # Mono -> coefficient; the empty Mono is the constant term


class Normalizer:
    def __init__(self, source, target):
        self.src = source
        self.dst = target
        self.poly: dict[int, Poly] = {}  # source node -> its normal form
        self.atom: dict[int, int] = {}  # source node -> target node, once built
        self.sums: dict[int, Poly] = {}  # target node that is a sum -> its normal form
        self.built: dict = {}  # frozen normal form -> target node
        self.uses: list[int] = []
        # on large graphs, products that cannot cancel are not tried multiplied out
        self.quick = len(source.nodes) > QUICK
        self.order: dict[int, tuple] = {}  # target atom -> sort key
        self.free: set[int] = set()  # atoms that exist anyway (shared or named nodes)
        self.paid: dict[int, int] = {}  # any other sum atom -> what building it costs
        self.powers: dict[int, tuple] = {}  # atom a^e, e not a number -> (a, e's form)

    # -- the walk -------------------------------------------------------------------------
    def run(self, roots: list[int]) -> list[int]:
        nodes = self.src.nodes
        live = reachable(nodes, roots)
        self.uses = uses = [0] * len(nodes)
        for n in nodes:
            if live[n.id]:
                for j in n.inputs:
                    uses[j] += 1
        for r in roots:
            uses[r] += 1
        # a number that is not finite (1/0, 0/0, log(0)) and what uses it are not put in
        # normal form: 0·∞ is not 0, nor ∞ - ∞ (see SymbolicBuilder._wild_rule)
        wild = self.src.wild
        for n in nodes:
            if live[n.id] and n.id not in wild:
                self.poly[n.id] = self._visit(n)
        # a common factor comes out of the results only: taken out of a part, it would
        # stop the whole from being multiplied out where that is shorter
        built = [self._literal(r) if r in wild else self.build(self._result(self.poly[r]))
                 for r in roots]
        if any(n.op is CONST and not scalar.is_finite(n.value) for n in self.dst.nodes):
            built = [self._finite(r, b) for r, b in zip(roots, built)]
        return built

    def _finite(self, root: int, built: int) -> int:
        """`built`, unless collecting numbers overflowed in it (1e308·x + 1e308·x is not
        (1/0)·x: evaluated as written it is the same infinity, but it says what it is):
        then the root as the reverse pass wrote it."""
        if root not in self.src.wild and _overflowed(self.dst.nodes, built):
            return self._literal(root)
        return built

    def _literal(self, root: int) -> int:
        """The source's nodes under `root`, copied into the target unchanged."""
        nodes, dst = self.src.nodes, self.dst
        ids: dict[int, int] = {}
        for i in sorted(_below(nodes, root)):
            n = nodes[i]
            if n.op is VAR:
                ids[i] = dst.var(n.name)
            elif n.op is CONST:
                ids[i] = dst.const(n.value, n.name)
            else:
                ids[i] = dst.apply(n.op, tuple(ids[j] for j in n.inputs))
        return ids[root]

    def _result(self, p: Poly) -> Poly:
        """A root's final form: a common factor out of it, or, if it is one product, out
        of each sum in that product that was built for it alone."""
        p = self._cheapest(p, factor=True)
        if len(p) != 1:
            return p
        (m, c), = p.items()
        for atom, e in m:
            inner = self.sums.get(atom) if atom in self.paid and e == 1.0 else None
            f = self._common_factor(inner) if inner and len(inner) <= CAP else None
            if f is not None and self.cost(f) + FACTOR_GAIN <= self.cost(inner):
                (mf, cf), = self._one_term(f).items()
                rest = tuple(x for x in m if x[0] != atom)
                return self._result({self._mono_mul(rest, mf): c * cf})
        return p

    def _arg(self, j: int) -> Poly:
        """The normal form of input j as its user sees it: inlined if used once or tiny,
        else an atom (built once; its terms stay known, to expand where that pays)."""
        p = self.poly[j]
        if self.uses[j] <= 1 or _tiny(p):
            return p
        return self._as_atom(p, free=True)

    def _as_atom(self, p: Poly, free: bool = False) -> Poly:
        """p as one atom. A `free` atom is built anyway (a shared node); any other costs
        what building it costs, counted wherever it is used."""
        if len(p) == 1 and next(iter(p)) == ():
            return p
        i = self.build(p)
        if free:
            self.paid.pop(i, None)
            self.free.add(i)
        return {((i, 1.0),): 1.0}

    def _visit(self, n) -> Poly:
        op = n.op
        if op is VAR:
            return self._leaf(self.dst.var(n.name), (0, n.id))  # in order of first use
        if op is CONST:
            if n.name:
                return self._leaf(self.dst.const(n.value, n.name), (1, n.name))
            return {(): n.value} if n.value != 0.0 else {}
        args = n.inputs
        if op is ADD or op is SUB:
            a, b = self._arg(args[0]), self._arg(args[1])
            out = dict(a) if self.uses[args[0]] > 1 or a is b else a  # else a is ours
            _accumulate(out, b, 1.0 if op is ADD else -1.0)
            p = self._cheapest(out)
        elif op is NEG:
            p = {m: -c for m, c in self._arg(args[0]).items()}
        elif op is MUL:
            p = self.product(self._arg(args[0]), self._arg(args[1]))
        elif op is DIV:
            p = self.product(self._arg(args[0]), self.inverse(self._arg(args[1])))
        elif op is POW and self._number(args[1]) is not None:
            p = self.power(self._arg(args[0]), self._number(args[1]))
        else:
            parts = [self._arg(j) for j in args]
            built = tuple(self.build(q) for q in parts)
            i = self.dst.apply(op, built)
            p = self._leaf(i, None)
            if op is POW and self.dst.nodes[i].op is POW:
                self.powers[i] = (built[0], parts[1])
        if n.name:  # the user's name for an intermediate stays an atom with that name
            i = self.build(p)
            node = self.dst.nodes[i]
            if node.name is None and node.op not in (VAR, CONST):
                node.name = n.name
            if i not in self.order or self.order[i][0] > 1:
                self.order[i] = (1, n.name)
            p = {((i, 1.0),): 1.0}
        return p

    def _number(self, j: int):
        p = self.poly[j]
        if not p:
            return 0.0
        if len(p) == 1 and () in p:
            return p[()]
        return None

    def _leaf(self, i: int, key) -> Poly:
        if i not in self.order:
            self.order[i] = key if key is not None else (2, i)
        return {((i, 1.0),): 1.0}

    # -- algebra ----------------------------------------------------------------------------
    def product(self, a: Poly, b: Poly) -> Poly:
        if not a or not b:
            return {}
        (ma, ca), = self._one_term(a).items()
        (mb, cb), = self._one_term(b).items()
        m = self._mono_mul(ma, mb)
        if self.powers:
            m = self._merge_powers(m)
        return self._cheapest(_term(m, ca * cb))

    def _merge_powers(self, m: Mono) -> Mono:
        """a^n · a^e = a^(e + n) for a symbolic exponent e (x · x^(x-1) is x^x)."""
        exps = dict(m)
        changed = False
        for i, e in m:
            info = self.powers.get(i)
            if info is None or e != 1.0 or i not in exps or info[0] not in exps:
                continue
            base, exponent = info
            new = dict(exponent)
            _accumulate(new, {(): exps.pop(base)}, 1.0)
            del exps[i]
            if not new or (len(new) == 1 and () in new):
                exps[base] = new.get((), 0.0)
            else:
                j = self.dst.apply(POW, (base, self.build(new)))
                self._leaf(j, None)
                self.powers[j] = (base, new)
                exps[j] = exps.get(j, 0.0) + 1.0
            changed = True
        if not changed:
            return m
        order = self.order
        return tuple(sorted(((k, e) for k, e in exps.items() if e != 0.0),
                            key=lambda f: order[f[0]]))

    def _one_term(self, p: Poly) -> Poly:
        """p as a single term: a sum stands as an atom."""
        if len(p) <= 1:
            return p or {(): 0.0}
        return self._as_atom(p)

    def _cheapest(self, p: Poly, factor: bool = False) -> Poly:
        """p, or p with its sums multiplied out round by round while that makes it
        cheaper in operations (up to ROUNDS rounds), or p with a common factor taken out
        where that saves at least FACTOR_GAIN operations."""
        best, best_cost = p, None
        if self.quick and len(p) == 1 and not self._may_cancel(next(iter(p))):
            return p
        for _ in range(ROUNDS):
            p = self._expand(p)
            if p is None:
                break
            if best_cost is None:
                best_cost = self.cost(best)
            c = self.cost(p)
            if c > best_cost + SLACK:
                break
            if c < best_cost:
                best, best_cost = p, c
        if factor and 1 < len(best) <= CAP:
            f = self._common_factor(best)
            if f is not None and self.cost(f) + FACTOR_GAIN <= self.cost(best):
                best = f
        return best

    def _may_cancel(self, m: Mono) -> bool:
        """Whether multiplying out the product m can shorten it: it holds two sums, or its
        one sum has a term with a factor that m has at the opposite power. (One sum times
        unrelated factors only grows when multiplied out.)"""
        sums = [a for a, e in m if e == 1.0 and a in self.sums]
        if len(sums) != 1:
            return len(sums) > 1
        signs = {a: e > 0 for a, e in m if a != sums[0]}
        return any(a in signs and signs[a] != (e > 0)
                   for t in self.sums[sums[0]] for a, e in t)

    def _common_factor(self, p: Poly) -> Poly | None:
        """p as F·(rest): F holds each atom at its lowest power over the terms (so a
        denominator comes out even where only some terms have it) and the coefficients'
        common integer factor; the rest is multiplied out where that pays."""
        terms = [dict(m) for m in p]
        low = {a: min(t.get(a, 0.0) for t in terms) for t in terms for a in t}
        common = tuple(sorted(((a, e) for a, e in low.items() if e != 0.0),
                              key=lambda f: self.order[f[0]]))
        coefs = list(p.values())
        g = 1.0
        if all(scalar.is_finite(c) and c == int(c) for c in coefs):
            g = float(math.gcd(*(int(abs(c)) for c in coefs)) or 1)
            if all(c < 0 for c in coefs):
                g = -g
        if not common and g == 1.0:
            return None
        inv = tuple((a, -e) for a, e in common)
        rest: Poly = {}
        for m, c in p.items():
            _accumulate(rest, _term(self._mono_mul(m, inv), c / g), 1.0)
        rest = self._cheapest(rest)
        (mr, cr), = self._one_term(rest).items()
        return _term(self._mono_mul(common, mr), g * cr)

    def _expand(self, p: Poly) -> Poly | None:
        """Each factor that is a sum to the first power, multiplied out (None if there is
        none, or the result would pass CAP terms)."""
        if len(p) > CAP:
            return None
        out: Poly = {}
        found = False
        for m, c in p.items():
            part: Poly = {m: c}
            # one sum per term and round: first a sum built only for this product
            sums = [a for a, e in m if e == 1.0 and a in self.sums
                    and (a in self.paid or len(self.sums[a]) <= SMALL)]
            if sums:
                atom = max(sums, key=lambda a: a in self.paid)
                rest = tuple(f for f in m if f[0] != atom)
                part = {}
                for mi, ci in self.sums[atom].items():
                    _accumulate(part, _term(self._mono_mul(rest, mi), c * ci), 1.0)
                found = True
            _accumulate(out, part, 1.0)
            if len(out) > CAP:
                return None
        return out if found else None

    def inverse(self, p: Poly) -> Poly:
        if not p:
            return {(): float("inf")}  # 1/0, as eval gives it
        if len(p) == 1:
            (m, c), = p.items()
            inv = tuple((a, -e) for a, e in m)
            if _exact_inverse(c):
                return {inv: 1.0 / c}
            return _term(self._mono_mul(inv, ((self._constant(c), -1.0),)), 1.0)
        return {((self.build(p), -1.0),): 1.0}

    def _constant(self, c: float) -> int:
        i = self.dst.const(c)
        self.order.setdefault(i, (-1, c))
        return i

    def power(self, p: Poly, e: float) -> Poly:
        if e == 0.0:
            return {(): 1.0}
        if e == 1.0:
            return p
        if not p or (len(p) == 1 and () in p):  # a number
            v = scalar.pow(p.get((), 0.0), e)
            if scalar.is_finite(v):
                return _term((), v)
        elif len(p) == 1 and float(e).is_integer():  # (c·a·b)^n = c^n·a^n·b^n
            (m, c), = p.items()
            v = scalar.pow(c, e)
            if scalar.is_finite(v):
                return _term(tuple((a, x * e) for a, x in m), v)
        return {((self.build(p), e),): 1.0}

    def _mono_mul(self, a: Mono, b: Mono) -> Mono:
        if not a:
            return b
        if not b:
            return a
        exps = dict(a)
        for atom, e in b:
            exps[atom] = exps.get(atom, 0.0) + e
        order = self.order
        return tuple(sorted(((k, e) for k, e in exps.items() if e != 0.0),
                            key=lambda f: order[f[0]]))

    # -- cost and building --------------------------------------------------------------
    def cost(self, p: Poly) -> int:
        """The operations `build` would add for p (atoms cost nothing more, unless they
        are sums built only for p)."""
        if not p:
            return 0
        total = len(p) - 1
        paid = self.paid
        leading = True
        for m, c in p.items():
            total += _term_cost(m, c)
            if c > 0:
                leading = False
            for a, _ in m:
                if a in paid:
                    total += paid[a]
        if leading and -1.0 in p.values():
            total += 1  # a negation in front
        return total

    def _term_key(self, item):
        m, c = item
        order = self.order
        return (m == (), tuple((order[a], -e) for a, e in m))

    def _terms(self, p: Poly) -> list:
        """p's terms in canonical order, except that a positive term leads if there is one
        (`o - t`, not `-t + o`)."""
        terms = sorted(p.items(), key=self._term_key)
        if terms and terms[0][1] < 0:
            for k, (_, c) in enumerate(terms):
                if c > 0:
                    terms.insert(0, terms.pop(k))
                    break
        return terms

    def build(self, p: Poly) -> int:
        """p as target nodes: terms in canonical order, positive ones first."""
        key = frozenset(p.items())
        found = self.built.get(key)
        if found is not None:
            return found
        dst = self.dst
        terms = self._terms(p)
        if not terms:
            i = dst.const(0.0)
        else:
            m, c = terms[0]
            i = self._build_term(m, c)
            for m, c in terms[1:]:
                t = self._build_term(m, abs(c))
                i = dst._raw(SUB if c < 0 else ADD, (i, t))
        self.built[key] = i
        if len(p) > 1:
            self.sums[i] = dict(p)
            self.order.setdefault(i, (2, i))
            if i not in self.free:
                self.paid[i] = self.cost(p)
        elif i not in self.order:
            self.order[i] = (2, i)
        return i

    def _build_term(self, m: Mono, c: float) -> int:
        dst = self.dst
        if not m:
            return dst.const(c)
        if c < 0:  # -2 * (a - b) is 2 * (b - a)
            for atom, e in m:
                inner = self.sums.get(atom)
                if e == 1.0 and inner and any(v < 0 for v in inner.values()):
                    flipped = self.build({k: -v for k, v in inner.items()})
                    m = self._mono_mul(tuple(f for f in m if f[0] != atom), ((flipped, 1.0),))
                    c = -c
                    break
        num = [self._factor(a, e) for a, e in m if e > 0]
        den = [self._factor(a, -e) for a, e in m if e < 0]
        acc = None
        if c == -1.0 and num:  # -x * y: the sign goes on the first factor
            num[0] = dst._raw(NEG, (num[0],))
        elif c != 1.0 or not num:
            acc = dst.const(c)
        for f in num:
            acc = f if acc is None else dst._raw(MUL, (acc, f))
        if den:
            d = den[0]
            for f in den[1:]:
                d = dst._raw(MUL, (d, f))
            acc = dst._raw(DIV, (acc, d))
        return acc

    def _factor(self, atom: int, e: float) -> int:
        return atom if e == 1.0 else self.dst._raw(POW, (atom, self.dst.const(e)))


def _below(nodes, root: int) -> set[int]:
    seen, stack = {root}, [root]
    while stack:
        for j in nodes[stack.pop()].inputs:
            if j not in seen:
                seen.add(j)
                stack.append(j)
    return seen


def _denominators(nodes, root: int) -> list[int]:
    """What is divided by under `root`, in node order: every denominator as it stands
    (a/(b·c²): b·c²), and the base of every negative power."""
    out = []
    for i in sorted(_below(nodes, root)):
        n = nodes[i]
        if n.op is DIV:
            out.append(n.inputs[1])
        elif n.op is POW and nodes[n.inputs[1]].op is CONST and nodes[n.inputs[1]].value < 0:
            out.append(n.inputs[0])
    return out


def _divisors(nodes, root: int) -> set[int]:
    """The factors of every denominator under `root` (a/(b·c²): b and c), and the base of
    every negative power."""
    out: set[int] = set()
    stack = _denominators(nodes, root)
    while stack:
        n = nodes[stack.pop()]
        if n.op is MUL:
            stack += n.inputs
        elif n.op is NEG or (n.op is POW and nodes[n.inputs[1]].op is CONST):
            stack.append(n.inputs[0])
        elif n.op is not CONST:
            out.add(n.id)
    return out


def cancelled(raw, raw_roots: list[int], normalizer: "Normalizer",
              built: list[int]) -> list[list[int]]:
    """For each root, the factors (nodes of the normalizer's target) that `raw`, the same
    derivatives built without any simplification (the reverse pass as eval runs it),
    divides by under `raw_roots[k]` and the simplified `built[k]` does not: where one of
    them is 0, eval divides by 0 (NaN or ±Infinity) and the simplified formula may not.
    A sum is compared by its terms, any other factor as the node it is. Only the divisors
    are put in normal form (not the whole unsimplified derivative)."""
    under = [_denominators(raw.nodes, root) for root in raw_roots]
    if not any(under):
        return [[] for _ in raw_roots]
    target = normalizer.dst
    other = Normalizer(raw, target)
    other.run(list(dict.fromkeys(d for found in under for d in found)))

    def key(n: Normalizer, i: int):
        p = n.sums.get(i)
        return ("sum", frozenset(p.items())) if p is not None else ("atom", i)

    out = []
    for found, result in zip(under, built):
        kept = {key(normalizer, i) for i in _divisors(target.nodes, result)}
        missing: dict = {}
        for d in found:
            p = other.poly.get(d)
            if not p:  # not finite (not in normal form), or 0: 1/0 is kept as written
                continue
            if len(p) > 1:
                atoms = [other.build(p)]
            else:
                (m, _), = p.items()
                atoms = [a for a, e in m if e > 0]
            for a in atoms:
                k = key(other, a)
                if k not in kept:
                    missing.setdefault(k, a)
        out.append(list(missing.values()))
    return out


def _overflowed(nodes, root: int) -> bool:
    """Whether a number that is not finite stands under `root`."""
    return any(nodes[i].op is CONST and not scalar.is_finite(nodes[i].value)
               for i in _below(nodes, root))


def _tiny(p: Poly) -> bool:
    if len(p) != 1:
        return len(p) == 0
    (m, _), = p.items()
    return len(m) <= TINY


def _exact_inverse(c: float) -> bool:
    if c == 0.0 or c != c or abs(c) == float("inf"):
        return False
    mant, _ = math.frexp(c)
    return abs(mant) == 0.5


def _term(m: Mono, c: float) -> Poly:
    return {m: c} if c != 0.0 else {}


def _accumulate(into: Poly, p: Poly, sign: float) -> None:
    for m, c in p.items():
        v = into.get(m, 0.0) + sign * c
        if v == 0.0:
            into.pop(m, None)
        else:
            into[m] = v


def _term_cost(m: Mono, c: float) -> int:
    """Operations of one term: products, powers, one division, the numeric factor."""
    ops = num = den = 0
    for _, e in m:
        if e > 0:
            num += 1
        else:
            den += 1
        if e != 1.0 and e != -1.0:
            ops += 1
    if num:
        ops += num - 1 + (c != 1.0 and c != -1.0)
    return ops + den


def normalize(source, roots: list[int], target, keep: list | None = None) -> list[int]:
    """The nodes `roots` of builder `source`, simplified into builder `target` (the
    Normalizer appended to `keep`, for `cancelled`)."""
    n = Normalizer(source, target)
    if keep is not None:
        keep.append(n)
    return n.run(roots)
