"""Program text -> Graph, built while the LALR parser runs: no parse tree, no recursion.

Lark compiles grammar.lark into LALR(1) tables (tables.py: computed once, validated and
cached). The loop below drives those tables itself, as `tables.Automaton` recasts them (one
entry per token does all the one-symbol reductions before the next shift): one regular
expression made from the grammar's own terminals cuts the text (`re.findall`), and each
reduction calls the `GraphBuilder` method named by the rule's alias, which appends a node.
The graph therefore comes out in topological order. Driving the tables directly (instead of
`Lark.parse` with a transformer) skips Lark's per-token objects and callback wrappers: on a
10^4-node chain this makes the graph 5.7x faster than `Lark.parse` makes just its tree.
A segment of tokens met again in the same state replays what the automaton did the first
time (see `_drive`)."""

from __future__ import annotations

import threading
from functools import partial

from . import tables
from .steps import (CALL, DROP, EMPTY, GATHER, NAMED, NAMED_NODE, NODE, PUSH, PUSH_CALL,
                    PUSH_NAMED, SPLICE, VALUES, Splice)
from .builder import GraphBuilder
from .errors import ParseError, line_column, product_hint, short_operand
from .graph import BareNode, Graph

# Terminal names, in the words a person would use.
_WORDS = {
    "NUMBER": "a number", "NAME": "a name", "LPAR": "'('", "RPAR": "')'", "PLUS": "'+'",
    "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "_POW": "'^'", "COMMA": "','",
    "EQUAL": "'='", "_SEP": "';' or a new line", "$END": "the end of the program",
    "LSQB": "'['", "RSQB": "']'", "FOR": "'for'", "IN": "'in'", "__ANON_0": "'..'",
    "COMPARE": "a comparison",
}


grammar_text = tables.grammar_text


# How a reduction is carried out, decided once per rule from its kind (see tables.py):
UNIT = "unit"  # a one-symbol pass-through rule (atom -> power -> unary ...): only the
#                top state changes
PASS = "pass"  # the values stay as they are: a pass-through of one kept child among dropped
#                tokens ("(" sum ")"), or a rule without callback of valueless symbols
# SPLICE (steps.py): the kept children go up to the parent rule as they are
ONE = "one"  # a builder callback on the rule's one kept child, a token: number, name
BINARY = "binary"  # an infix operator: a node of `op` on the two operands
ACTION = "action"  # any other builder callback, given the kept children
NOTHING = "nothing"  # a rule without a callback (the program): leaves nothing
# DROP (steps.py): ACTION for a valueless symbol (a statement): nothing goes on the values
LOOKUP = "lookup"  # ONE, for the rule that `builder.LOOKUP` names: a token whose text is
#                    in `builder.scope` stands for what it maps to, without a call


_plan_cache: dict = {}


def _plans(rules, builder, terminals):
    """Per rule: (how, size, how many values it takes (its kept children that leave one,
    the last ones on the value stack), callback or op, whether those values must be looked
    at (for a None or a Splice, see `kept`)), and the step the driver records for it (see
    `_step`). A callback is called as `callback(builder, kept)`.

    A builder class may name the symbols whose callbacks return None (`VALUELESS`:
    statements); their reductions then leave no value at all, nor do the rules without
    callback made of them (the program's list of statements), and its other callbacks'
    values are taken as they are: no None among them to leave out.

    Made once per builder class (a builder whose callbacks come from its instance, like
    the differential test's, gets its own each time: then the third value, whether the
    plans serve every builder of its class, is False)."""
    cls = type(builder)
    cached = _plan_cache.get(cls)
    if cached is not None and cached[0] is rules:
        return cached[1], cached[2], True
    plans, per_class = [], True
    valueless = _valueless(rules, builder)
    splicing = _splicing(rules, valueless or ())
    for r in rules:
        kept = [r.expansion[k] for k in r.keep]
        n = sum(s not in valueless for s in kept) if valueless is not None else len(kept)
        checked = valueless is None or not splicing.isdisjoint(kept)
        if r.kind == tables.PASS:
            how, fn = (UNIT if r.size == 1 else PASS), None
        elif r.kind == tables.SPLICE:
            how, fn = (PASS if valueless and r.origin in valueless else SPLICE), None
        elif r.kind in builder.BINARY and r.keep == (0, 2) and r.size == 3:
            how, fn = BINARY, builder.BINARY[r.kind]
        else:
            fn = getattr(cls, r.kind, None)
            if fn is None and getattr(builder, r.kind, None) is not None:
                fn, per_class = (lambda b, kept, f=getattr(builder, r.kind): f(kept)), False
            how = NOTHING if fn is None else ONE if len(r.keep) == 1 and \
                r.expansion[r.keep[0]] in terminals else ACTION
            if how is ONE and r.kind == getattr(builder, "LOOKUP", None):
                how = LOOKUP
            if valueless and r.origin in valueless:
                how = PASS if fn is None else DROP
        plans.append((how, r.size, n, fn, checked))
    steps = [_step(r, plan) for r, plan in enumerate(plans)]
    if per_class:
        _plan_cache[cls] = (rules, plans, steps)
    return plans, steps, per_class


def _valueless(rules, builder) -> set | None:
    """The symbols whose reductions leave no value: those the builder names, and those
    whose every rule has no callback and keeps only such symbols (the program's list of
    statements, which keeps itself: the largest such set); None when the builder names
    none (then every reduction leaves a value, None included)."""
    named = getattr(type(builder), "VALUELESS", None)
    if named is None:
        return None
    binary = getattr(builder, "BINARY", {})
    calls = {r.origin for r in rules if r.kind not in (tables.PASS, tables.SPLICE) and
             (r.kind in binary or getattr(builder, r.kind, None) is not None)}
    out = {r.origin for r in rules} - calls | set(named)
    while True:
        fewer = {r.origin for r in rules if r.origin not in named and
                 any(r.expansion[k] not in out for k in r.keep)} & out
        if not fewer:
            return out
        out -= fewer


def _splicing(rules, valueless) -> set:
    """The symbols whose value may be a Splice: those of inlined rules, and those that a
    pass-through takes from one of them."""
    out = {r.origin for r in rules if r.kind == tables.SPLICE} - set(valueless)
    while True:
        more = {r.origin for r in rules if r.kind == tables.PASS and
                any(r.expansion[k] in out for k in r.keep)} - out
        if not more:
            return out
        out |= more


_tables: tables.Tables | None = None
_automaton: tables.Automaton | None = None
_lock = threading.Lock()


def _get_tables() -> tables.Tables:
    global _tables, _automaton
    with _lock:
        if _tables is None:
            _tables = tables.load()
            _automaton = None
        if _automaton is None or _automaton.tables is not _tables:
            _automaton = tables.Automaton(_tables)
    return _tables


def terminal(name: str, ascii: bool = False) -> str:
    """The regular expression of the grammar's terminal `name` (NAME, NUMBER): bindings read
    names and numbers with it, as programs do; `ascii`: its form for ASCII text, as the
    lexer reads ASCII text (`tables.ascii_classes`)."""
    regex = dict(_get_tables().terminals)[name]
    return tables.ascii_classes(regex) if ascii else regex


class Tokens:
    """The pieces of a program's text as the lexer cut it (comments included, spaces before
    a piece left out: `tables.splitter`), and where each is, worked out when first asked.

    A piece whose text has been read for good (a name found in scope, a number) may be
    forgotten (`take`): on a big program those strings would otherwise all live until
    the end of the parse."""

    __slots__ = ("text", "pieces", "splitter", "_spans", "_cuts")

    def __init__(self, text: str, pieces: list, splitter):
        self.text, self.pieces, self.splitter, self._spans = text, pieces, splitter, None

    def take(self, i: int) -> str:
        piece = self.pieces[i]
        self.pieces[i] = None
        return piece

    def text_of(self, i: int) -> str:
        piece = self.pieces[i]
        return piece if piece is not None else self.text[slice(*self.span(i))]

    def span(self, i: int) -> tuple[int, int]:
        """Where piece i starts and ends (i = the number of pieces: the end of the text).
        The text is cut again (some pieces may be forgotten) as far as piece i only: an
        error near the start of a huge text does not place every piece after it."""
        spans = self._spans
        if spans is None:
            spans = self._spans = []
            self._cuts = self.splitter.finditer(self.text)
        while len(spans) <= i:
            spans.append(next(self._cuts).span(1))
        return spans[i]

    def start(self, i: int) -> int:
        return self.span(i)[0]

    def touching(self, i: int, j: int) -> bool:
        """Whether pieces i and j = i + 1 are written together (no space between)."""
        return self.span(i)[1] == self.span(j)[0]

    def token(self, i: int) -> "Token":
        return Token(self, i)


class Token:
    """One token, as the builder sees it: `group()` its text, `start()`/`end()` its place."""

    __slots__ = ("tokens", "index")

    def __init__(self, tokens: Tokens, index: int):
        self.tokens, self.index = tokens, index

    def group(self) -> str:
        return self.tokens.text_of(self.index)

    def start(self) -> int:
        return self.tokens.start(self.index)

    def end(self) -> int:
        return self.start() + len(self.group())


def parse(text: str) -> Graph:
    """Parse a cgraph program into its computation graph.

    Raises ParseError (syntax) or NameResolutionError (unknown function, wrong arity,
    bad assignment), both carrying the line and column.
    """
    import gc

    if not text.isascii():  # é typed as e + a combining accent (NFD) is the letter é
        import unicodedata

        text = unicodedata.normalize("NFC", text)
    t = _get_tables()
    builder = GraphBuilder(text)
    # The cyclic GC rescans every node we allocate; pausing it is 1.5-3x faster on big
    # programs, and nothing built here forms a cycle.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        _drive(t, builder, text)
    finally:
        if was_enabled:
            gc.enable()
    builder.finish()
    if builder.output is None:
        raise ParseError("the program is empty", text, 1, 1)
    name, node = builder.output
    return Graph(builder.nodes, node, name, text,
                 {n: i for n, i in builder.scope.items() if n in builder.assigned})


def one_line(text: str, limit: int = 200) -> str:
    """The program as one line, for a title: comments left out, statements joined by '; ',
    the lines of a statement wrapped inside brackets by a space; cut to `limit` characters
    with '…'."""
    out, size, depth = [], 0, 0
    for line in text.splitlines():
        code = line.split("#", 1)[0].strip()
        if code:
            if out:
                out.append(" " if depth > 0 else "; ")
            out.append(code)
            size += len(code) + 2
            if size > limit:
                break
            depth += code.count("(") + code.count("[") - code.count(")") - code.count("]")
    one = "".join(out)
    return one if len(one) <= limit else one[:limit - 1] + "…"


TRACES = 512  # segments remembered per parse
KEPT = 512  # segments a world (replay.World) keeps recorded for the parses after: past
#             that, it keeps those it has (no worse than a parse that finds none)
COMPILED = True  # replay a recorded segment by `replay.compile` (False: step by step)
COMPILE = 4  # the fewest steps (fused) of a segment compiled: shorter ones (a long sum's
#              `x*w +`) replay no faster compiled, and compiling costs ~4 µs, 25 replays
MET = 4096  # segments met once that a parse keeps in mind
_NOTHING: dict = {}  # (no segment compiled before: `_drive`'s `shared` without a world)
_replay = None  # the replay module, once a parse has compiled a segment


def _load_replay():
    global _replay
    from . import replay

    _replay = replay
    return replay


def _drive(t: tables.Tables, builder, text: str) -> None:
    """The LALR(1) loop: shift tokens, reduce rules, call the builder at each reduction.

    It runs the tables as `tables.Automaton` recasts them: a stack of pairs of states, one
    entry per token that makes all one-symbol reductions at once (see there). A shifted
    token's value is its index among `builder.tokens.pieces`.

    The tokens go in segments (a short statement whole, a long one cut after each "+" or
    "-", see `tables.Automaton`); for each, the automaton's moves make a list of steps on
    the values (push a token, call a callback), which then run. LALR is deterministic: what it does on a segment depends only on the
    token kinds, the pair on top and the stack entries its reductions expose, so a segment
    that comes again (same kinds, same top, same entries below: a big program repeats its
    statements' shape) replays the steps and the stack's change it recorded, without the
    tables. A segment is recorded the second time it is met (and replayed from the third);
    the first time, its reductions change the values as they come, as a plain LALR loop
    does: recording a segment that never comes again would only cost time. A segment with
    a syntax error runs its steps up to the error (a callback may raise first, as it would
    have), then raises; it is never recorded.

    What a parse recorded serves the next parses with a builder of the same class too
    (replay.World): a script that parses programs of the same shapes, or one program again
    and again, replays their segments from the first time it meets them in a parse, without
    recording or compiling them again (up to KEPT segments; a parse that fails lets go of
    the world it took, and what was recorded on it).
    """
    auto = _automaton if _automaton is not None and _automaton.tables is t \
        else tables.Automaton(t)
    splitter = auto.splitter_for(text)
    pieces = splitter.findall(text)
    while pieces and not pieces[-1]:  # (the '' at the end of the text: tables.splitter)
        pieces.pop()
    builder.tokens = tokens = Tokens(text, pieces, splitter)
    kinds = auto.kinds_of(pieces, text)
    if "\n" in text:  # a new line inside brackets does not end the statement
        kinds = auto.join_lines(kinds, pieces)
    actions, gotos = auto.actions, auto.gotos
    plans, steps_of, per_class = _plans(t.rules, builder, auto.terminal_ids)
    nodes, node = builder.nodes, BareNode
    scope = getattr(builder, "scope", None)
    top = auto.start  # the pair on top of the stack; `stack` holds the ones below it
    stack: list[int] = []
    values: list = []  # the values of the kept symbols on the stack (tokens: their index)
    push_state, push_value = stack.append, values.append
    SHIFT, CHAIN_SHIFT, ERROR = tables.SHIFT, tables.CHAIN_SHIFT, tables.ERROR
    QUIET_SHIFT, QUIET_CHAIN_SHIFT = tables.QUIET_SHIFT, tables.QUIET_CHAIN_SHIFT
    UNKNOWN, derive, goto = tables.UNKNOWN, auto.derive, auto.goto
    ignored = tables.IGNORED

    def kept(n, checked):
        """The last n values, taken off the stack; if `checked`, an inlined rule's children
        in place of its Splice, and without the None of statements."""
        out = values[-n:]
        del values[-n:]
        if checked and (None in out or Splice in map(type, out)):
            out = [y for c in out if c is not None  # statements leave nothing: the program
                   for y in (c if c.__class__ is Splice else (c,))]  # list stays empty
        return out

    def reduce_values(r):
        """What reducing by rule r does to the values."""
        how, size, n, fn, checked = plans[r]
        if how is BINARY:
            right = values.pop()
            i = len(nodes)
            nodes.append(node(i, fn, (values[-1], right)))
            values[-1] = i
        elif how is ONE or how is LOOKUP:
            values[-1] = fn(builder, (values[-1],))
        elif how is DROP:
            fn(builder, kept(n, checked) if n else [])
        elif how is not PASS:
            args = kept(n, checked) if n else []
            push_value(None if how is NOTHING else (Splice(args) if args else EMPTY)
                       if how is SPLICE else fn(builder, args))

    def run(steps, i0):
        """Carry out the steps of a segment whose first piece is pieces[i0]."""
        for what, x in steps:  # (the most frequent first)
            if what is PUSH_NAMED:
                k = i0 + x[0]
                v = scope.get(pieces[k])
                if v is not None:
                    push_value(v)
                    pieces[k] = None  # read for good: let the string go
                else:
                    push_value(x[1](builder, (k,)))
            elif what is NAMED_NODE:  # (a term's `* w`, a statement's `+ d`)
                k = i0 + x[0]
                right = scope.get(pieces[k])
                if right is not None:
                    pieces[k] = None
                else:
                    right = x[1](builder, (k,))
                j = len(nodes)
                nodes.append(node(j, x[2], (values[-1], right)))
                values[-1] = j
            elif what is NODE:
                right = values.pop()
                j = len(nodes)
                nodes.append(node(j, x, (values[-1], right)))
                values[-1] = j
            elif what is GATHER:  # (as kept() does, inline)
                how, n, fn, checked = x
                args = values[-n:]
                del values[-n:]
                if checked and (None in args or Splice in map(type, args)):
                    args = [y for c in args if c is not None
                            for y in (c if c.__class__ is Splice else (c,))]
                if how is DROP:
                    fn(builder, args)
                else:
                    push_value((Splice(args) if args else EMPTY) if how is SPLICE
                               else fn(builder, args))
            elif what is PUSH:
                push_value(i0 + x)
            elif what is PUSH_CALL:
                push_value(x[1](builder, (i0 + x[0],)))
            elif what is NAMED:
                k = values[-1]
                v = scope.get(pieces[k])
                if v is not None:
                    values[-1] = v
                    pieces[k] = None
                else:
                    values[-1] = x(builder, (k,))
            elif what is CALL:
                values[-1] = x(builder, (values[-1],))
            else:
                reduce_values(x)

    def pop(size, top):
        """The stack after a reduction by a rule of `size` symbols (top: the pair on top
        after the chain before it)."""
        if not size:
            push_state(top)
        elif size > 1:
            del stack[1 - size:]

    step_of = steps_of.__getitem__
    traces: dict = {}
    met: set = set()  # segments met once: recorded when met again
    same = None  # the trace of the segment before, if replaying it changed no stack entry
    # What compiled segments read (replay.World): one that earlier parses with a builder
    # of this class left, with the segments they recorded (`shared`), which replay here
    # from their first occurrence, and those they met once (`seen`), recorded here when
    # first met. Taken when the first segment is recorded, or at once if a parse before
    # recorded one (replay is imported then); a program of one short statement repeats
    # nothing, and takes none.
    world, shared, seen = None, _NOTHING, _NOTHING
    wkey = (type(builder), auto, scope is not None) if per_class else None
    if COMPILED and _replay is not None and wkey is not None and len(kinds) > tables.SHORT:
        world = _replay.acquire(wkey, builder, values, nodes, scope, pieces)
        shared, seen = world.traces, world.seen
    i0 = 0
    cut = auto.segments.findall
    # (cut a block of tokens at a time: a list of every segment of a 10^6-node program
    # would cost 25 bytes a node; a segment cut short where a block ends is still a segment.
    # One block: a list, without a generator to resume at each segment)
    for segment in (cut(kinds) if len(kinds) <= 1 << 16 else
                    (s for at in range(0, len(kinds), 1 << 16)
                     for s in cut(kinds, at, at + (1 << 16)))):
        key = (top, segment)
        trace = traces.get(key)
        if trace is None and key in shared:  # (recorded by an earlier parse)
            trace, its_steps = shared[key]
            if trace[5] is None:  # (its steps one by one, by this parse's `run`)
                trace = (*trace[:5], partial(run, its_steps), trace[6])
            traces[key] = trace
        if trace is not None:
            if trace is same:  # replayed just before, and the stack is as it was then
                trace[5](i0)
                i0 += len(segment)
                continue
            if stack[-trace[0]:] == trace[1]:
                _, _, drop, pushed, top, build, unchanged = trace
                del stack[len(stack) - drop:]
                stack += pushed
                build(i0)
                i0 += len(segment)
                same = trace if unchanged else None
                continue
        same = None
        depth = low = len(stack)
        # (a segment met for the first time is not recorded: most never come again; one
        # that earlier parses met is, while their records have room)
        record = (key in met or key in seen and len(shared) < KEPT) and \
            len(traces) < TRACES
        if record:
            below = stack[-8:]  # what the reductions may expose (deeper: not recorded)
        elif len(met) < MET:
            met.add(key)
            if seen is not _NOTHING and len(seen) < MET:
                seen.add(key)
        steps = []
        add = steps.append
        for i, a in enumerate(segment, i0):
            if a >= ignored:
                if a == ignored:
                    continue
                run(steps, i0)
                raise syntax_error(t, auto, tokens, kinds, i)
            while True:
                e = actions[top][a]
                how = e[0]
                if how == QUIET_SHIFT:
                    push_state(top)
                    top = e[1]
                    break
                if how == SHIFT:
                    push_state(top)
                    top = e[1]
                    if record:
                        add((PUSH, i - i0))
                    else:
                        push_value(i)
                    break
                if how == UNKNOWN:
                    derive(top, a)
                    continue
                if e[3] is not None:
                    if record:  # (a rule of statements, valueless, has no step)
                        steps += [s for s in map(step_of, e[3]) if s is not None]
                    else:
                        for rule in e[3]:  # (the common one inline, as run()'s NAMED)
                            p = plans[rule]
                            if p[0] is LOOKUP:
                                k = values[-1]
                                v = scope.get(pieces[k])
                                if v is not None:
                                    values[-1] = v
                                    pieces[k] = None
                                else:
                                    values[-1] = p[3](builder, (k,))
                            else:
                                reduce_values(rule)
                if how == QUIET_CHAIN_SHIFT:
                    push_state(e[2])
                    top = e[1]
                    break
                if how == CHAIN_SHIFT:
                    push_state(e[2])
                    top = e[1]
                    if record:
                        add((PUSH, i - i0))
                    else:
                        push_value(i)
                    break
                if how == ERROR:
                    run(steps, i0)
                    raise syntax_error(t, auto, tokens, kinds, i)
                r = e[1]
                if not record:  # (the values change as the automaton moves)
                    p = plans[r]
                    if p[0] is BINARY:  # (the common one inline)
                        right = values.pop()
                        j = len(nodes)
                        nodes.append(node(j, p[3], (values[-1], right)))
                        values[-1] = j
                    else:
                        reduce_values(r)
                elif steps_of[r] is not None:
                    add(steps_of[r])
                size = plans[r][1]
                if size > 1:
                    del stack[1 - size:]
                elif not size:
                    push_state(e[2])
                if len(stack) < low:
                    low = len(stack)
                top = gotos[stack[-1]][r] or goto(stack[-1], r)  # (no goto to pair 0)
        # what the segment's reductions exposed: the stack entries from low - 1 up
        if record and depth - low < len(below):
            fused = _fused(steps)
            build = None
            compiling = COMPILED and len(fused) >= COMPILE
            if world is None and COMPILED and (compiling or wkey is not None):
                world = (_replay or _load_replay()).acquire(
                    wkey, builder, values, nodes, scope, pieces)
                shared, seen = world.traces, world.seen
            if compiling:
                build = _replay.compile(steps, world)
            compiled = build is not None
            if not compiled:  # (its steps one by one)
                build = partial(run, fused)
            build(i0)
            exposed = below[len(below) - (depth - low) - 1:]
            pushed = stack[low:]
            unchanged = top == key[0] and pushed == exposed[len(exposed) - (depth - low):]
            traces[key] = trace = (len(exposed), exposed, depth - low, pushed, top, build,
                                   unchanged)
            if world is not None and len(shared) < KEPT:  # (for the next parses)
                shared[key] = (trace if compiled else (*trace[:5], None, unchanged),
                               fused)
            same = trace if unchanged else None
        else:
            run(steps, i0)
        i0 += len(segment)
    end = auto.end_id
    while True:
        e = actions[top][end]
        how, r, top, c = e if e[0] != UNKNOWN else derive(top, end)  # never a shift
        if c is not None:
            for rule in c:
                reduce_values(rule)
        if how == ERROR:
            raise syntax_error(t, auto, tokens, kinds, len(kinds))
        if how == tables.ACCEPT:
            break
        reduce_values(r)
        pop(plans[r][1], top)
        top = gotos[stack[-1]][r] or goto(stack[-1], r)
        if auto.is_end(top):
            break
    if world is not None:  # (a parse that fails drops its world: the next makes another)
        _replay.release(wkey, world)


def _step(r: int, plan) -> tuple | None:
    """The step that does what reducing by rule r does to the values (None: nothing)."""
    how, _, n, fn, checked = plan
    if how is BINARY:
        return (NODE, fn)
    if how is ONE:
        return (CALL, fn)
    if how is LOOKUP:
        return (NAMED, fn)
    if (how is ACTION or how is SPLICE or how is DROP) and n:
        return (GATHER, (how, n, fn, checked))
    return None if how is PASS else (VALUES, r)  # (a pass-through: nothing to do)


def _fused(steps: list) -> list:
    """The same steps, a PUSH and the NAMED or CALL on it right after made one, and a
    PUSH_NAMED and the NODE right after it made one."""
    out = []
    for s in steps:
        if out and out[-1][0] is PUSH and (s[0] is NAMED or s[0] is CALL):
            out[-1] = (PUSH_NAMED if s[0] is NAMED else PUSH_CALL, (out[-1][1], s[1]))
        elif out and out[-1][0] is PUSH_NAMED and s[0] is NODE:
            out[-1] = (NAMED_NODE, (*out[-1][1], s[1]))
        else:
            out.append(s)
    return out


def syntax_error(t: tables.Tables, auto: tables.Automaton, tokens: Tokens, kinds: bytes,
                 i: int) -> ParseError:
    """The error at token i (len(kinds): the end of the text), where the parse stopped.

    It names what could come there: every terminal that the LALR loop, run again up to
    token i on the tables as they are, would go on with (LALR may reduce on a token before
    finding it wrong, in a state that has forgotten the "*" it could have taken instead;
    the error path is not the hot one). When a bracket opened on an earlier line is never
    closed, the error is that bracket's, as Python's "'(' was never closed".

    Both look back to the statement's start only: after the last separator the parse went
    past (one inside brackets is an error where it stands), what may come depends on the
    statement alone, as at the start of the program."""
    text = tokens.text
    names = auto.terminal_names
    begin = kinds.rfind(auto.sep_id, 0, i) + 1
    stack = _states_before(t, auto, kinds[begin:i])
    expected = [n for n in names if _accepts(t, stack, n)]
    last = i  # the error's token: the last one before the end of the text
    while last >= 0 and (last >= len(kinds) or kinds[last] == tables.IGNORED):
        last -= 1
    bracket = _unclosed(auto, kinds, begin, i)
    if bracket is not None and last >= 0 and \
            text.count("\n", tokens.start(bracket), tokens.start(last)):
        pos, what, listed = tokens.start(bracket), \
            f"this {tokens.text_of(bracket)!r} is never closed", []
    elif i >= len(kinds):
        pos, what, listed = len(text), "the program ends too early", expected
    else:
        i = _pasted_in_word(auto, tokens, kinds, i)
        pos, piece = tokens.start(i), tokens.text_of(i)
        if piece == "\n" and text[pos - 1:pos] == "\r":  # a CRLF line ends where its \r is
            pos -= 1
        hint = _hint(auto, tokens, kinds, i, expected)
        if i and kinds[i] != tables.BAD and \
                "\r" in text[tokens.span(i - 1)[1]:pos].replace("\r\n", ""):
            hint = ("; a carriage return alone does not end a line (cgraph's lines end "
                    "with LF or CRLF: a file saved with classic Mac line ends?)")
        what = (f"unexpected character {piece!r}{hint}" if kinds[i] == tables.BAD else
                "the line ends too early" if names[kinds[i]] == "_SEP" and piece != ";" else
                f"unexpected {piece!r}{hint}")
        listed = [] if hint else expected
    error = _syntax_error(text, pos, what, listed)
    error.expected = frozenset(expected)  # terminal names: what Lark's `accepts()` says
    return error


# x² meant x^2, x₁ meant x1: the digits and signs written above or below the line
_RAISED = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_LOWERED = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
# characters that text copied from a PDF or a web page has for an operator or a space
_PASTED = {
    "\u2212": "write '-'", "\u2013": "write '-'",  # minus sign, en dash
    "\u00d7": "write '*'", "\u00b7": "write '*'", "\u22c5": "write '*'", "\u2219": "write '*'",
    "\u00f7": "write '/'", "\u2215": "write '/'",  # division sign, division slash
    "\u2217": "write '*'",  # asterisk operator: the seed tutorial's g = ( x + y ) ∗ z
    "\u2264": "write '<='", "\u2265": "write '>='", "\u2260": "write '!='",  # ≤ ≥ ≠
    "\u221a": "write sqrt(…)",  # √
    # full-width forms, as a Chinese or Japanese input method types them
    "\uff0b": "write '+'", "\uff0d": "write '-'", "\uff0a": "write '*'", "\uff0f": "write '/'",
    "\uff3e": "write '^'", "\uff08": "write '('", "\uff09": "write ')'", "\uff1d": "write '='",
    "\uff1b": "write ';'", "\uff0c": "write ','", "\uff0e": "write '.'",
    "\u3000": "an ideographic space (U+3000): retype it as a plain space",
    "\u00a0": "a no-break space (U+00A0): retype it as a plain space",
    "\u202f": "a narrow no-break space (U+202F): retype it as a plain space",
    "\u2009": "a thin space (U+2009): retype it as a plain space",
    "\u200b": "a zero-width space (U+200B): delete it",
    "\u2060": "a word joiner (U+2060): delete it",
    "\ufeff": "a zero-width no-break space (U+FEFF): delete it",
    "\u2028": "a line separator (U+2028): retype it as a new line",
    "\u2029": "a paragraph separator (U+2029): retype it as a new line",
}


_WORD = 64  # the most pieces _pasted_in_word looks at: a number cut by pasted characters
# is a few (2.5E+\xa01: 4); a megabyte of NUL bytes written together is a million


def _pasted_in_word(auto: tables.Automaton, tokens: Tokens, kinds: bytes, i: int) -> int:
    """The pasted character in the tokens written together from token i on (no space
    between), where there is one: it cut a number (1e−5, 2.5E+\xa01) and is the error, not
    what the lexer made of the pieces; i otherwise."""
    sep = auto.sep_id
    for j in range(i, min(len(kinds), i + _WORD)):
        if kinds[j] == tables.IGNORED or kinds[j] == sep or j > i and \
                not tokens.touching(j - 1, j):
            break
        if kinds[j] == tables.BAD and tokens.text[tokens.start(j)] in _PASTED:
            return j
    return i


def _hint(auto: tables.Automaton, tokens: Tokens, kinds: bytes, i: int,
          expected: list[str]) -> str:
    """The '; …' that tells how to write what the text at token i meant, or '' (the
    expected list is said instead). Worked out on the error path only.

    - a character pasted from typeset text: "; write '-'" for '−', what an invisible
      space is and what to do with it;
    - a superscript after an operand: '; write x^2 for a power'; a subscript after a
      name: '; write x1 or x_1';
    - an operand right after a number or a bracketed operand, where '*' could come
      (2x, 2(x+1), (x+1)(x-1)): '; write 2*x for a product'. Two numbers (`1 000`) or two
      names (`sin x`) get no such hint: a product is not the likely meaning there."""
    names = auto.terminal_names

    def before(k):  # the token before token k, spaces and comments skipped (-1: none)
        k -= 1
        while k >= 0 and kinds[k] == tables.IGNORED:
            k -= 1
        return k

    def after(k):  # the token after token k, spaces and comments skipped (len(kinds): none)
        k += 1
        while k < len(kinds) and kinds[k] == tables.IGNORED:
            k += 1
        return k

    def operand_before(k):  # the text of the operand that ends with token k
        start, depth = k, 0  # back to its opening bracket, and a name before it
        while start > 0:
            depth += (kinds[start] in auto.closes) - (kinds[start] in auto.opens)
            if depth <= 0:
                break
            start = before(start)
        if kinds[start] in auto.opens and before(start) >= 0 and \
                names[kinds[before(start)]] == "NAME":  # a call or a subscript
            start = before(start)
        return text[tokens.start(start):tokens.start(k) + len(tokens.text_of(k))]

    def operand_from(k):  # the text of the operand that starts with token k
        end, depth = k, 0  # on to its closing bracket (a call's, a subscript's)
        while end < len(kinds):
            if kinds[end] != tables.IGNORED:
                if kinds[end] in auto.opens:
                    depth += 1
                elif kinds[end] in auto.closes:
                    depth -= 1
                elif depth == 0 and end > k:
                    break
                if depth <= 0 and kinds[end] not in auto.opens and \
                        (after(end) >= len(kinds) or kinds[after(end)] not in auto.opens):
                    return text[tokens.start(k):tokens.start(end) + len(tokens.text_of(end))]
            end += 1
        return "(…)"

    text = tokens.text
    k = before(i)
    left = names[kinds[k]] if k >= 0 and kinds[k] < len(names) else None
    if kinds[i] == tables.BAD:
        pos = tokens.start(i)
        if text[pos] in _PASTED:
            return "; " + _PASTED[text[pos]]
        if left not in ("NAME", "NUMBER", "RPAR", "RSQB"):
            return ""
        operand = short_operand(operand_before(k))
        for table, write in ((_RAISED, "{0}^{1} for a power"),
                             (_LOWERED, "{0}{1} or {0}_{1}")):
            end = pos
            while end < len(text) and ord(text[end]) in table:
                end += 1
            if end > pos and (table is _RAISED or left == "NAME"):
                return "; write " + write.format(operand, text[pos:end].translate(table))
        return ""
    right = names[kinds[i]]
    if "STAR" in expected and left in ("NUMBER", "RPAR", "RSQB") and \
            right in ("NAME", "NUMBER", "LPAR") and (left, right) != ("NUMBER", "NUMBER"):
        return product_hint(operand_before(k), operand_from(i))
    return ""


def _states_before(t: tables.Tables, auto: tables.Automaton, kinds: bytes) -> list:
    """The LALR stack of states after these tokens from the start (the plain loop)."""
    states, names = t.states, auto.terminal_names
    stack = [t.start]
    for a in kinds:
        if a >= tables.IGNORED:
            continue
        name = names[a]
        while True:
            act = states[stack[-1]][name]  # (the driver went past this token)
            if act >= 0:
                stack.append(act)
                break
            _reduce(t, stack, act)
    return stack


def _reduce(t: tables.Tables, stack: list, act: int) -> None:
    """Reduce by the rule of action `act` (< 0): its symbols' states off, the goto on."""
    rule = t.rules[~act]
    if rule.size:
        del stack[-rule.size:]
    stack.append(t.states[stack[-1]][rule.origin])


def _accepts(t: tables.Tables, stack: list, name: str) -> bool:
    """Whether the LALR loop with this stack would go on with terminal `name`: shift it
    (or, for the end, accept) after the reductions it makes first."""
    stack = list(stack)
    while True:
        act = t.states[stack[-1]].get(name)
        if act is None:
            return False
        if act >= 0 or name == "$END" and stack[-1] == t.end:
            return True
        _reduce(t, stack, act)
        if name == "$END" and stack[-1] == t.end:
            return True


def _unclosed(auto: tables.Automaton, kinds: bytes, begin: int, i: int) -> int | None:
    """The innermost bracket open before token i (from token `begin`, where none is) and
    never closed: its token's index."""
    opened: list[int] = []
    for m in auto.brackets.finditer(kinds, begin, i):
        if kinds[m.start()] in auto.opens:
            opened.append(m.start())
        elif kinds[m.start()] in auto.closes and opened:
            opened.pop()
    if not opened:
        return None
    depth = 0
    for m in auto.brackets.finditer(kinds, opened[-1]):
        a = kinds[m.start()]
        depth += (a in auto.opens) - (a in auto.closes)
        if not depth:
            return None
    return opened[-1]


def _syntax_error(text: str, pos: int, what: str, expected: list[str]) -> ParseError:
    words = sorted({_WORDS.get(k, k) for k in expected})
    if words:
        what += "; expected " + (", ".join(words[:-1]) + " or " + words[-1]
                                 if len(words) > 1 else words[0])
    if pos >= len(text):  # point just past the end of the last line
        lines = text.splitlines() or [""]
        return ParseError(what, text, len(lines), len(lines[-1]) + 1)
    return ParseError(what, text, *line_column(text, pos))
