"""A recorded segment's steps compiled into closures, so that a statement shape the parser
has met before costs one lookup and its node constructions.

The driver (parser._drive) records what its LALR moves did to the values on a segment of
tokens (a short statement, or a long one up to a "+" or "-") when it meets the segment again
in the same state, as a list of steps: push a token, look a name up, make a node, call a
builder callback. The steps are a postfix program: each takes the last values the steps
before it left (or values from before the segment) and leaves its own. `compile` turns that
program, once per shape (see World), into a tree of closures, one per node or callback, that
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


class World:
    """What the closures of a parse read and change, and the segments compiled on it.

    The closures read the parse's builder, nodes, scope, values and tokens' text through
    the cells of one call of `world()`, which `bind` fills when a parse starts and empties
    when it ends (the graph is then the caller's alone). A world is kept for the next parse
    with a builder of the same class on the same tables (`acquire`, `release`): the segments
    compiled on it (`traces`, the driver's records) are replayed there from their first
    occurrence, with no steps recorded nor closures made again. Two parses at once take two
    worlds.

    The closures are made by the functions that `world()` defines (the makers: `name`,
    `binary`, ...), each of which refers to the cells only, never to another maker: a world
    and its closures form no reference cycle."""

    __slots__ = ("bind", "plain", "scoped", "traces", "seen", "below", "name", "named", "names",
                 "binary_name", "binary_below", "binary", "call_token", "call", "assign",
                 "gather", "set_top", "push", "segment")

    def __init__(self, makers: dict, plain: bool, scoped: bool):
        for k, f in makers.items():
            setattr(self, k, f)
        # For a builder that names its VALUELESS symbols, no value is None (parser._plans),
        # and only the parser makes a Splice: the children of an inlined rule (a call's
        # arguments) then go to the parent's callback as they are, with no Splice made nor
        # looked for, unless a value from before the segment may be one.
        self.plain = plain
        self.scoped = scoped  # the builder has a scope: names are looked up inline
        self.traces: dict = {}  # the driver's records of segments, for its next parses
        self.seen: set = set()  # segments the driver met once, recorded when met again


def world(plain: bool, scoped: bool) -> World:
    """A new world (see World): its cells, the function that binds them, and the makers
    of the closures that read them."""
    builder = values = nodes = append = scope = pieces = push_value = None

    def bind(b, v, n, s, p):
        """Bind the cells to a parse's builder, values, nodes, scope and tokens' text
        (None: let them go)."""
        nonlocal builder, values, nodes, append, scope, pieces, push_value
        builder, values, nodes, scope, pieces = b, v, n, s, p
        # (a builder without BINARY ops may have no list of nodes)
        append, push_value = getattr(n, "append", None), getattr(v, "append", None)

    def below(k):  # the value k-th from the top when the segment starts (k < 0)
        return lambda i0: values[k]

    def name(off, fn):  # what the name token at `off` stands for
        def name(i0):
            k = i0 + off
            v = scope.get(pieces[k])
            if v is None:
                return fn(builder, (k,))
            pieces[k] = None  # read for good: let the string go
            return v
        return name

    def named(g, fn):
        """A LOOKUP on a value that is not a token of the segment (a name pushed by an
        earlier segment: rare), as parser's `run` does it."""
        def named(i0):
            k = g(i0)
            v = scope.get(pieces[k]) if scope is not None else None
            if v is None:
                return fn(builder, (k,))
            pieces[k] = None
            return v
        return named

    # BINARY nodes: each closure below writes out a name's lookup (in `scope`, else the
    # name's callback) rather than calling one function for it: these closures run once
    # for every repeated statement, and a call per name would cost more than the lookup.

    def names(op, off0, fn0, off, fn):  # a name on both sides (`x*w`)
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
        return f

    def binary_name(op, g, off, fn):  # a name on the right (`t*c + d`)
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
        return f

    def binary_below(op, k, g):  # a value from before on the left (a long sum's terms)
        def f(i0):
            a = values[k]
            b = g(i0)
            j = len(nodes)
            append(node(j, op, (a, b)))
            return j
        return f

    def binary(op, g, h):
        def f(i0):
            a = g(i0)
            b = h(i0)
            j = len(nodes)
            append(node(j, op, (a, b)))
            return j
        return f

    def call_token(fn, off):  # a callback on a token (a number, a name not in scope)
        return lambda i0: fn(builder, (i0 + off,))

    def call(fn, g):
        return lambda i0: fn(builder, (g(i0),))

    def assign(fn, off, g):  # a name and its value: an assignment
        return lambda i0: fn(builder, [i0 + off, g(i0)])

    def gather(fn, args_of):  # a callback on several values
        return lambda i0: fn(builder, args_of(i0))

    # A segment's function (see `_segment`)

    def set_top(root):  # one value in place of the one it took
        def segment(i0):
            values[-1] = root(i0)
        return segment

    def push(root):  # one value more
        return lambda i0: push_value(root(i0))

    def segment(drops, roots, taken):
        def segment(i0):
            for d in drops:
                d(i0)
            out = [f(i0) for f in roots]
            if taken:
                del values[-taken:]
            values.extend(out)
        return segment

    node = BareNode
    return World(dict(bind=bind, below=below, name=name, named=named, names=names,
                      binary_name=binary_name, binary_below=binary_below, binary=binary,
                      call_token=call_token, call=call, assign=assign, gather=gather,
                      set_top=set_top, push=push, segment=segment), plain, scoped)


MAX_WORLDS = 4  # worlds kept per class of builder and tables, for parses at the same time
_worlds: dict = {}  # (builder class, automaton, scoped) -> worlds not in use


def acquire(key, builder, values: list, nodes: list, scope: dict | None,
            pieces: list) -> World:
    """A world for a parse (`key`: the builder's class, the automaton and whether the
    builder has a scope; None: a builder whose callbacks are its instance's, whose world
    serves this parse only), bound to what the closures read: `nodes`, `scope`, the
    builder's, as the driver reads them; `pieces`, the tokens' text."""
    free = _worlds.get(key) if key is not None else None
    try:
        w = free.pop()
    except (AttributeError, IndexError):  # (none kept, or all in use)
        w = world(getattr(type(builder), "VALUELESS", None) is not None, scope is not None)
    w.bind(builder, values, nodes, scope, pieces)
    return w


def release(key, w: World) -> None:
    """The parse that acquired `w` is over: let its builder, nodes and text go, and keep
    the world and what was compiled on it for the next parse."""
    w.bind(None, None, None, None, None)
    if key is not None:
        free = _worlds.setdefault(key, [])
        if len(free) < MAX_WORLDS:
            free.append(w)


def compile(steps: list, p: World):
    """A function of the segment's first token index that does what `steps` (unfused) do
    to the values and the builder, made on world p; None when they cannot be compiled (see
    above)."""
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
            stack.append((NAME, y[1], x) if y[0] is TOKEN and p.scoped
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
    return _segment(p, [f for f, _ in drops], [f for f, _ in roots], below)


def _closure(p: World, x) -> tuple:
    """Operand x as (f, depth): f(i0) is its value."""
    form = x[0]
    if form is CLOSURE:
        return x[1], x[2]
    if form is TOKEN:
        off = x[1]
        return (lambda i0: i0 + off), 1
    if form is BELOW:
        return p.below(-x[1]), 1
    if form is SPLICED:  # (a parent that takes the Splice as it is)
        return _gather(p, SPLICE, None, False, x[1], True)[1:3]
    return p.name(x[1], x[2]), 1


def _named(p: World, fn, x) -> tuple:
    g, depth = _closure(p, x)
    return p.named(g, fn), depth + 1


def _binary(p: World, op, left, right) -> tuple:
    """A BINARY node of `op` on two operands (a name on the right, or on both sides, read
    inline: `t*c + d`, `x*w`)."""
    if right[0] is NAME:
        if left[0] is NAME:
            return p.names(op, left[1], left[2], right[1], right[2]), 1
        g, depth = _closure(p, left)
        return p.binary_name(op, g, right[1], right[2]), depth + 1
    if left[0] is BELOW:  # (a long sum's terms, each added to the sum so far)
        g, depth = _closure(p, right)
        return p.binary_below(op, -left[1], g), depth + 1
    (g, d), (h, e) = _closure(p, left), _closure(p, right)
    return p.binary(op, g, h), max(d, e) + 1


def _call(p: World, fn, x) -> tuple:
    """A callback on one value (a number's token, a name not in `scope`)."""
    if x[0] is TOKEN:
        return p.call_token(fn, x[1]), 1
    g, depth = _closure(p, x)
    return p.call(fn, g), depth + 1


def _gather(p: World, how, fn, checked, xs, made=False) -> tuple:
    """A callback on several values, as an operand; or an inlined rule's values, as a
    SPLICED operand (`made`: a Splice of them, for a parent that takes it as it is)."""
    if p.plain:  # (see World)
        if checked:
            xs = [y for x in xs for y in (x[1] if x[0] is SPLICED else (x,))]
            checked = any(x[0] is BELOW or x[0] is CLOSURE and x[3] for x in xs)
        if how is SPLICE and not checked and not made:
            return (SPLICED, xs)
    parts = [_closure(p, x) for x in xs]
    fs, depth = [f for f, _ in parts], max(d for _, d in parts) + 1
    if not checked and how is not SPLICE and len(xs) == 2 and xs[0][0] is TOKEN:
        return (CLOSURE, p.assign(fn, xs[0][1], fs[1]), depth, False)
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
    return (CLOSURE, p.gather(fn, args_of), depth, False)


def _segment(p: World, drops: list, roots: list, below: int):
    """The segment's function: the statements' callbacks (which come before any value
    still made, see `compile`), then the values it leaves in place of the `below` it took."""
    if not drops:
        if len(roots) == 1:
            if below == 1:
                return p.set_top(roots[0])
            if not below:
                return p.push(roots[0])
    elif len(drops) == 1 and not roots and not below:
        return drops[0]
    return p.segment(drops, roots, below)
