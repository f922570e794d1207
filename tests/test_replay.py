"""A recorded segment replayed by its compiled closures (replay.compile) builds what its
steps run one by one build: the same nodes in the same order, the same names, the same
error with the same place, on programs that repeat their statements' shapes (a shape is
compiled the second time it is met and replayed from the third), including the shapes that
are not compiled and fall back to the steps; and so do the segments that earlier parses
recorded (replay.World), replayed from their first occurrence."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings

from cgraph import parser, replay
from cgraph.builder import GraphBuilder
from cgraph.errors import CgraphError

from programs import NUMBERS, random_expression, render, seeds

# names a statement may use: variables and constants (now and then, `leaves` puts in a
# function's name or a number read as infinity: errors there)
NAMES = ["x", "y", "z", "w", "a_1", "θ", "pi", "e"]
def built(text, compiled, before=None):
    """What parsing `text` gives: every node as plain data, the output, the names in scope
    and which tokens' strings were let go (a name read for good); or the error (its class,
    its message with the line and caret). `before`: "nothing", a parse with no segment
    recorded by earlier parses; "itself", right after a parse of the same text; None,
    after whatever the parses before left."""
    saved = parser.COMPILED
    parser.COMPILED = compiled
    if before == "nothing":
        replay._worlds.clear()
    elif before == "itself":
        try:
            parser.parse(text)
        except CgraphError:
            pass
    builder = GraphBuilder(text)
    try:
        parser._drive(parser._get_tables(), builder, text)
        builder.finish()
    except CgraphError as err:
        return type(err).__name__, err.render()
    finally:
        parser.COMPILED = saved
    return ([(type(n).__name__, n.id, n.op.name, n.inputs, n.name, n.value, n.call)
             for n in builder.nodes], builder.output, builder.scope,
            [p is None for p in builder.tokens.pieces])


def same(text):
    steps = built(text, False)
    for before in ("nothing", None, "itself"):
        assert built(text, True, before) == steps, (before, text)


def leaves(e, rng, names):
    """The expression with each name and number drawn again: the same shape (the same
    token kinds), other tokens."""
    kind = e[0]
    if kind == "name":
        wrong = rng.random() < 0.02
        return ("name", "sin" if wrong else rng.choice(names))
    if kind == "num":
        wrong = rng.random() < 0.02
        return ("num", "1e999" if wrong else rng.choice(NUMBERS))
    if kind == "call":
        return ("call", e[1], *(leaves(a, rng, names) for a in e[2:]))
    if kind == "infix":
        return ("infix", e[1], leaves(e[2], rng, names), leaves(e[3], rng, names))
    return (kind, leaves(e[1], rng, names))


# Statements of the language's other forms, each written three to five times: families,
# comprehensions, definitions and their calls, comparisons, indexed names
FORMS = [
    "h{k}[j] = x*j + {n} for j in 1..3", "s{k} = sum(w[i]*x for i in 1..{n})",
    "f{k}(a, b) = a*b + {n}\nu{k} = f{k}(x, y) + f{k}(y, {n})", "c{k} = x < {n}",
    "m{k} = max(x, {n}) + W[1,{n}]", "p{k} = -x^-{n} + +y", "q{k} = prod(x + i for i in 1..{n})",
    "r{k} = sum(sum(b[i,j] for j in 1..i) for i in 1..{n})", "g{k} = (x + {n})*(y - {n})",
    "t{k} = " + "*".join(["x"] * 40),  # (a tree too deep to compile: its steps run)
    "v{k} = " + " + ".join(f"x*w{{n}}" for _ in range(15)),  # (segments cut at each "+")
]


def random_repeating_program(seed: int) -> str:
    """Statements in runs of one shape (an expression drawn once, its names and numbers
    drawn again for each), or of one of FORMS; now and then a name assigned again or a
    syntax error put in."""
    rng = random.Random(seed)
    lines, names = [], list(NAMES)
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.35:
            form = rng.choice(FORMS)
            for _ in range(rng.randint(3, 5)):
                lines.append(form.format(k=len(lines), n=rng.randint(1, 3)))
            continue
        e = random_expression(rng, ["x"], rng.randint(1, 10))
        space = rng.choice(["", " "])
        for _ in range(rng.randint(3, 6)):
            text = render(leaves(e, rng, names), space)
            if rng.random() < 0.2:
                lines.append(text)
                continue
            name = rng.choice(names) if rng.random() < 0.01 else f"s{len(lines)}"
            names.append(name)
            lines.append(f"{name} = {text}")
    text = rng.choice(["\n", ";", " ; "]).join(lines)
    if rng.random() < 0.1:  # a syntax error in a repeated shape, or at the end
        at = rng.randint(0, len(text))
        text = text[:at] + rng.choice([")", "*", "=", "$", "1..", "\n+"]) + text[at:]
    return text


@settings(max_examples=600, deadline=None)
@given(seeds)
def test_compiled_replays_build_what_the_steps_build(seed):
    same(random_repeating_program(seed))


def test_the_programs_compile_and_fall_back(monkeypatch):
    """The programs above reach both paths: shapes compiled, and shapes left to the steps
    (a tree deeper than replay.DEPTH)."""
    got = []
    real = replay.compile

    def spy(*args):
        build = real(*args)
        got.append(build is not None)
        return build

    monkeypatch.setattr(replay, "compile", spy)
    monkeypatch.setattr(replay, "_worlds", {})  # (nothing compiled by the tests before)
    for seed in range(200):
        try:
            parser.parse(random_repeating_program(seed))
        except CgraphError:
            pass
    assert True in got and False in got


@pytest.mark.parametrize("text", [
    "t0 = x\n" + "\n".join(f"t{i} = t{i - 1}*c + d" for i in range(1, 30)),
    " + ".join(f"x{i % 5}*w{i % 3}" for i in range(60)),
    "t0 = x\n" + "\n".join(f"t{i} = sin(t{i - 1})*c + t{i - 1}*d" for i in range(1, 30)),
    " + ".join(f"{(i % 7) + 1.5}*sin({(i % 5) + 1}*x)" for i in range(30)),
    "a = x*y\n" * 5,  # (assigned again: an error at the third)
    "a = x*y\nb = x*y\nc = x*y\npi = x*y",  # (a constant assigned: an error in a replay)
    "a = x*1\nb = x*2\nc = x*3\nd = x*1e999",  # (a number read as infinity, in a replay)
    "a = x*y\nb = x*y\nc = x*y\nd = x*y)",  # (a syntax error where the shape was replayed)
    "a = sin(x)\nb = sin(x)\nc = sin(x)\nd = sin(x, y)",  # (the wrong number of arguments)
])
def test_benchmark_shapes_and_errors(text):
    same(text)


def test_a_parse_leaves_no_reference_cycles():
    """The compiled closures refer to the parse's builder, nodes and values, and to nothing
    that refers back to them: the graph goes when its last user lets it go, not when the
    collector runs (which a parse that compiled its segments used to wait for)."""
    import gc

    text = "t0 = x\n" + "\n".join(f"t{i} = sin(t{i - 1})*c + t{i - 1}*d" for i in range(1, 9))
    text += "\n" + " + ".join(f"max(x{i % 3}, {i})*w" for i in range(9))
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        parser.parse(text)
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()


def test_a_world_lets_the_parse_go():
    """A world kept for the next parses (replay.World) holds nothing of the parse that used
    it, when the parse ends and when it fails: its graph goes when its user lets it go."""
    import gc
    import weakref

    chain = "t0 = x\n" + "\n".join(f"t{i} = t{i - 1}*c + d" for i in range(1, 30))
    was = gc.isenabled()
    gc.disable()
    try:
        for text in (chain, chain, chain + "\nt = (", chain + "\npi = 1"):
            try:
                graph = parser.parse(text)
            except CgraphError:
                graph = None
            else:
                gone = weakref.ref(graph)
                del graph
                assert gone() is None
            for worlds in replay._worlds.values():
                for w in worlds:
                    assert all(c.cell_contents is None for c in w.bind.__closure__)
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()


def test_parses_at_the_same_time_take_their_own_worlds():
    """Threads parsing programs of the same shapes at once build what one parse at a time
    builds."""
    from concurrent.futures import ThreadPoolExecutor

    texts = ["t0 = x\n" + "\n".join(f"t{i} = t{i - 1}*{k} + d{k}" for i in range(1, 3000))
             for k in range(4)]
    alone = [built(text, True) for text in texts]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            assert list(pool.map(lambda t: built(t, True), texts)) == alone
