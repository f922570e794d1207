"""A recorded segment's steps compiled into closures, so that a statement shape the parser
has met before costs one lookup and its node constructions.

The driver (parser._drive) records what its LALR moves did to the values on a segment of
tokens (a short statement, or a long one up to a "+" or "-") when it meets the segment again
in the same state, as a list of steps: push a token, look a name up, make a node, call a
builder callback. The steps are a postfix program: each takes the last values the steps
before it left (or values from before the segment) and leaves its own. `compile` turns that
program, once per shape and parse, into a tree of closures, one per node or callback, that
read the tokens by their offset in the segment and pass values to each other directly:
no value stack between them, no dispatch on what a step is. Run depth first, left to
right, the tree makes the same nodes and calls the same callbacks, in the same order, with
the same arguments, as the steps do one by one (a postfix program is its tree's post-order).

Nothing is generated as source: the closures are made by the functions below from the
steps, which come from the LALR tables and the builder's callbacks alone. A program whose
steps this does not cover (a reduction that leaves its values as they are, `VALUES`; a
statement's callback with values still pending under it; a tree deeper than DEPTH, which
the closures would walk by recursion) gets None, and the driver runs its steps one by one
(parser's `run`), as it does for a segment met once or twice.
"""

from __future__ import annotations

from .graph import BareNode
from .steps import CALL, DROP, EMPTY, GATHER, NAMED, NODE, PUSH, SPLICE, Splice

DEPTH = 32  # the deepest tree of closures compiled (one Python frame a level)


# An operand, while compiling: (TOKEN, offset), a token's index; (BELOW, k), the value k-th
# from the top of the values when the segment starts; (NAME, offset, callback), what a name
# token stands for; (CLOSURE, f, depth, may be a Splice), what f(i0) returns (i0: the
# segment's first token); (SPLICED, operands), an inlined rule's values, for its parent.
TOKEN, BELOW, NAME, CLOSURE, SPLICED = range(5)


class Parse:
    """What the closures of one parse read and change. (The functions below are the
    module's, not nested in `compile`: closures that referred to each other would make
    reference cycles, and the collector, not the parse's end, would let the graph go.)"""

    __slots__ = ("builder", "values", "nodes", "append", "scope", "pieces", "plain")

    def __init__(self, builder, values: list, nodes: list, scope: dict | None,
                 pieces: list):
        """`nodes`, `scope`: the builder's, as the driver reads them; `pieces`: the
        tokens' text."""
        self.builder, self.values, self.nodes, self.scope, self.pieces = \
            builder, values, nodes, scope, pieces
        self.append = getattr(nodes, "append", None)  # (a builder without BINARY ops may
        #                                                have no list of nodes)
        # For a builder that names its VALUELESS symbols, no value is None (parser._plans),
        # and only the parser makes a Splice: the children of an inlined rule (a call's
        # arguments) then go to the parent's callback as they are, with no Splice made nor
        # looked for, unless a value from before the segment may be one.
        self.plain = getattr(type(builder), "VALUELESS", None) is not None


def compile(steps: list, p: Parse):
    """A function of the segment's first token index that does what `steps` (unfused) do
    to the values and the builder; None when they cannot be compiled (see above)."""
    stack: list = []  # the operands the steps left, oldest first
    drops: list = []  # statements' callbacks, in order
    below = 0  # how many values from before the segment the steps take

    def pop():
        nonlocal below
        if stack:
            return stack.pop()
        below += 1
        return (BELOW, below)

    for what, x in steps:
        if what is PUSH:
            stack.append((TOKEN, x))
        elif what is NAMED:
            y = pop()
            stack.append((NAME, y[1], x) if y[0] is TOKEN and p.scope is not None
                         else (CLOSURE, *_named(p, x, y), False))
        elif what is NODE:
            right = pop()
            stack.append((CLOSURE, *_binary(p, x, pop(), right), False))
        elif what is CALL:
            stack.append((CLOSURE, *_call(p, x, pop()), False))
        elif what is GATHER:
            how, n, fn, checked = x
            xs = [pop() for _ in range(n)][::-1]
            made = _gather(p, how, fn, checked, xs)
            if how is DROP:  # a statement: nothing may wait under it to be made later
                if any(y[0] is not TOKEN and y[0] is not BELOW for y in stack):
                    return None
                drops.append(made[1:3])
            else:
                stack.append(made)
        else:  # VALUES
            return None
    roots = [_closure(p, x) for x in stack]
    if max((d for _, d in roots + drops), default=0) > DEPTH:
        return None
    return _segment([f for f, _ in drops], [f for f, _ in roots], below, p.values)


def _closure(p: Parse, x) -> tuple:
    """Operand x as (f, depth): f(i0) is its value."""
    form = x[0]
    if form is CLOSURE:
        return x[1], x[2]
    if form is TOKEN:
        off = x[1]
        return (lambda i0: i0 + off), 1
    if form is BELOW:
        values, k = p.values, -x[1]
        return (lambda i0: values[k]), 1
    if form is SPLICED:  # (a parent that takes the Splice as it is)
        return _gather(p, SPLICE, None, False, x[1], True)[1:3]
    off, fn = x[1], x[2]
    builder, scope, pieces = p.builder, p.scope, p.pieces

    def name(i0):
        k = i0 + off
        v = scope.get(pieces[k])
        if v is None:
            return fn(builder, (k,))
        pieces[k] = None  # read for good: let the string go
        return v
    return name, 1


def _named(p: Parse, fn, x) -> tuple:
    """A LOOKUP on a value that is not a token of the segment (a name pushed by an earlier
    segment: rare), as parser's `run` does it."""
    g, depth = _closure(p, x)
    builder, scope, pieces = p.builder, p.scope, p.pieces

    def named(i0):
        k = g(i0)
        v = scope.get(pieces[k]) if scope is not None else None
        if v is None:
            return fn(builder, (k,))
        pieces[k] = None
        return v
    return named, depth + 1


def _binary(p: Parse, op, left, right) -> tuple:
    """A BINARY node of `op` on two operands (a name on the right, or on both sides, read
    inline: `t*c + d`, `x*w`).

    Each closure below writes out a name's lookup (in `scope`, else the name's callback)
    rather than calling one function for it: these closures run once for every repeated
    statement, and a call per name would cost more than the lookup itself."""
    builder, scope, pieces, nodes, append, node = \
        p.builder, p.scope, p.pieces, p.nodes, p.append, BareNode
    if right[0] is NAME:
        off, fn = right[1], right[2]
        if left[0] is NAME:
            off0, fn0 = left[1], left[2]

            def f(i0):
                k = i0 + off0
                a = scope.get(pieces[k])
                if a is None:
                    a = fn0(builder, (k,))
                else:
                    pieces[k] = None
                k = i0 + off
                b = scope.get(pieces[k])
                if b is None:
                    b = fn(builder, (k,))
                else:
                    pieces[k] = None
                j = len(nodes)
                append(node(j, op, (a, b)))
                return j
            return f, 1
        g, depth = _closure(p, left)

        def f(i0):
            a = g(i0)
            k = i0 + off
            b = scope.get(pieces[k])
            if b is None:
                b = fn(builder, (k,))
            else:
                pieces[k] = None
            j = len(nodes)
            append(node(j, op, (a, b)))
            return j
        return f, depth + 1
    if left[0] is BELOW:  # (a long sum's terms, each added to the sum so far)
        values, k = p.values, -left[1]
        g, depth = _closure(p, right)

        def f(i0):
            a = values[k]
            b = g(i0)
            j = len(nodes)
            append(node(j, op, (a, b)))
            return j
        return f, depth + 1
    (g, d), (h, e) = _closure(p, left), _closure(p, right)

    def f(i0):
        a = g(i0)
        b = h(i0)
        j = len(nodes)
        append(node(j, op, (a, b)))
        return j
    return f, max(d, e) + 1


def _call(p: Parse, fn, x) -> tuple:
    """A callback on one value (a number's token, a name not in `scope`)."""
    builder = p.builder
    if x[0] is TOKEN:
        off = x[1]
        return (lambda i0: fn(builder, (i0 + off,))), 1
    g, depth = _closure(p, x)
    return (lambda i0: fn(builder, (g(i0),))), depth + 1


def _gather(p: Parse, how, fn, checked, xs, made=False) -> tuple:
    """A callback on several values, as an operand; or an inlined rule's values, as a
    SPLICED operand (`made`: a Splice of them, for a parent that takes it as it is)."""
    if p.plain:  # (see Parse)
        if checked:
            xs = [y for x in xs for y in (x[1] if x[0] is SPLICED else (x,))]
            checked = any(x[0] is BELOW or x[0] is CLOSURE and x[3] for x in xs)
        if how is SPLICE and not checked and not made:
            return (SPLICED, xs)
    builder = p.builder
    parts = [_closure(p, x) for x in xs]
    fs, depth = [f for f, _ in parts], max(d for _, d in parts) + 1
    if not checked and how is not SPLICE and len(xs) == 2 and xs[0][0] is TOKEN:
        off, g = xs[0][1], fs[1]  # (a name and its value: an assignment)
        return (CLOSURE, lambda i0: fn(builder, [i0 + off, g(i0)]), depth, False)
    if checked:
        def args_of(i0):
            args = [f(i0) for f in fs]
            if None in args or Splice in map(type, args):
                args = [y for c in args if c is not None
                        for y in (c if c.__class__ is Splice else (c,))]
            return args
    elif len(fs) == 2:
        f0, f1 = fs

        def args_of(i0):
            return [f0(i0), f1(i0)]
    else:
        def args_of(i0):
            return [f(i0) for f in fs]
    if how is SPLICE:
        return (CLOSURE, lambda i0: Splice(args_of(i0)) or EMPTY, depth, True)
    return (CLOSURE, lambda i0: fn(builder, args_of(i0)), depth, False)


def _segment(drops: list, roots: list, below: int, values: list):
    """The segment's function: the statements' callbacks (which come before any value
    still made, see `compile`), then the values it leaves in place of the `below` it took."""
    if not drops:
        if len(roots) == 1:
            (root,) = roots
            if below == 1:
                def segment(i0):
                    values[-1] = root(i0)
                return segment
            if not below:
                push = values.append
                return lambda i0: push(root(i0))
    elif len(drops) == 1 and not roots and not below:
        return drops[0]

    def segment(i0):
        for d in drops:
            d(i0)
        out = [f(i0) for f in roots]
        if below:
            del values[-below:]
        values.extend(out)
    return segment
