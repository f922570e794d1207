"""`eval --format json`: the node records written by hand are byte for byte what the C encoder
writes, and `--fields` is the whole document less the keys not asked for."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cgraph
from cgraph import eval_formats, forward, numtext, uncertainty
from cgraph.cli import cli
from programs import VARIABLES, random_program, seeds
from terminal import ANSI, on_terminal

TUTORIAL = ["p = x + y; g = p * z", "x=1", "y=3", "z=-3"]
FUNCTIONS = "sq(a) = a * a\nneuron(u) = tanh(w * u + b)\nneuron(sq(x)) + neuron(x) + 2"


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)



@pytest.mark.parametrize("more", [[], ["--tangent", "x=1"], ["--output", "h",
                                                              "--output", "g"]],
                         ids=["reverse", "forward", "outputs"])
def test_inputs_are_the_programs_variables_as_the_gradient_lists_them(more):
    """`inputs` held every binding in the order typed, a family bound as a list whole
    (`W[1,1]`, `W[2,2]`, … where the program uses `W[1,2]` and `W[2,1]`): it holds the
    program's variables, the gradient's keys in the gradient's order (README: For
    scripts), in every document that has it."""
    args = ["h = W[2,1]*x + b*W[1,2]; g = h*x", "b=1", "x=2", "W=[[1,0],[5,1]]"]
    doc = json.loads(run("eval", *args, "--format", "json", *more).stdout)
    assert doc["inputs"] == {"W[1,2]": 0.0, "W[2,1]": 5.0, "x": 2.0, "b": 1.0}
    assert list(doc["inputs"]) == ["W[1,2]", "W[2,1]", "x", "b"]
    reverse = json.loads(run("eval", *args, "--format", "json").stdout)
    assert list(reverse["gradient"]) == list(doc["inputs"])


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


@given(_JSON_VALUES)
def test_the_head_is_written_as_json_dumps_writes_it(value):
    """eval writes its document's head without importing json: exactly as json.dumps, with
    the one exponent form (numtext.json_document: `1e-7`, not `1e-07`)."""
    assert eval_formats.json_dumps(value) == numtext.json_document(value)


@pytest.mark.parametrize("value", [float("nan"), {"x": [float("inf")]}, -float("inf")])
def test_the_head_refuses_what_json_dumps_refuses(value):
    with pytest.raises(ValueError):
        json.dumps(value, allow_nan=False)
    with pytest.raises(ValueError):
        eval_formats.json_dumps(value)


def encoded(ev, head: dict) -> str:
    """The document as json.dumps writes it, every node record built as a dict: the
    oracle for the records json_chunks writes by hand."""
    num = numtext.json_value
    cols = eval_formats.columns(ev)
    records = []
    for i, op, name, _, expr, value, *more in eval_formats.rows(ev):
        node = ev.graph.nodes[i]
        record = {"id": i, "op": op, "name": name, "expr": expr,
                  "inputs": list(node.inputs), "value": num(value)}
        record.update({c.key: None if x is None else num(x) for c, x in zip(cols, more)})
        if node.call:
            record["call"] = node.call
        records.append(record)
    return numtext.json_document({**head, "nodes": records})


def command(seed: int, mode: str):
    """A random program (NaN, infinities, literals, named statements t0, t1… that take
    the `t<id>` prefix) as an eval command line in one of the JSON document's kinds, and
    the same evaluation made with the library."""
    text, _ = random_program(seed)
    rng = random.Random(seed)
    graph = cgraph.parse(text)
    bindings = {v: VARIABLES[v] for v in graph.variables}
    args = ["eval", "--", text] + [f"{k}={v!r}" for k, v in bindings.items()]
    ev = graph.evaluate(bindings)
    if mode == "forward" and bindings:
        args[1:1] = ["--mode", "forward"]
        ev = forward.evaluate_forward(graph, bindings)
    elif mode == "outputs" and graph.statements:
        outputs = list(graph.statements)[:1] + [graph.output_name]
        args[1:1] = ["--output", ",".join(outputs)]
        ev = graph.evaluate(bindings, outputs)
    elif mode == "uncertain" and bindings:
        name = rng.choice(sorted(bindings))
        args[args.index(f"{name}={bindings[name]!r}")] += "±0.125"
        ev = uncertainty.evaluate(graph, bindings, {name: 0.125})
    elif mode == "wrt" and bindings:
        args[1:1] = ["--wrt", rng.choice(sorted(bindings))]
    return args, ev


MODES = ["reverse", "forward", "outputs", "uncertain", "wrt"]


@settings(max_examples=150, deadline=None)
@given(seeds, st.sampled_from(MODES))
def test_records_are_what_json_dumps_writes(seed, mode):
    args, ev = command(seed, mode)
    r = run(args[0], "--format", "json", *args[1:])
    assert r.exit_code == 0, r.output
    head = {k: v for k, v in json.loads(r.stdout).items() if k != "nodes"}
    assert r.stdout == encoded(ev, head) + "\n", args


@pytest.mark.parametrize("program,bindings", [
    (FUNCTIONS, ["w=0.5", "b=-1", "x=2"]),  # "call" fields, a literal
    ("log(x) + 1/y + pi*3 - 2 + where(x > 0, x, -x) + atan2(x, y)", ["x=0", "y=0"]),
    ("θ^2 + max(θ, 2) + tmp3", ["θ=1.5", "tmp3=1e300"]),  # a name the JSON escapes not
    ("t1 = y * y; t5 = t1 + 1; t5 * x[2]", ["y=3", "x=[5, -0.0]"]),
])
def test_records_of_every_kind_of_node_are_what_json_dumps_writes(program, bindings):
    graph = cgraph.parse(program)
    ev = graph.evaluate(dict(cgraph.bindings.parse_bindings(bindings)))
    for per_chunk in (1, 2, 4096):  # records split across chunks alike
        text = "".join(eval_formats.json_chunks(ev, per_chunk=per_chunk))
        head = {k: v for k, v in json.loads(text).items() if k != "nodes"}
        assert text == encoded(ev, head), per_chunk


@settings(max_examples=120, deadline=None)
@given(seeds, st.sampled_from(MODES), st.randoms(use_true_random=False))
def test_fields_are_the_document_less_the_other_keys(seed, mode, rng):
    args, _ = command(seed, mode)
    whole = run(args[0], "--format", "json", *args[1:])
    full = json.loads(whole.stdout)
    keys = list(full)
    forward, several = "--mode" in args, "--output" in args
    assert keys == eval_formats.json_keys(forward, several, "uncertainty" in full)
    wanted = rng.sample(keys, rng.randint(1, len(keys)))  # in any order
    r = run(args[0], "--fields", ",".join(wanted), *args[1:])  # not a terminal: JSON all the same
    assert r.exit_code == 0 and r.stderr == whole.stderr  # warnings as without --fields
    expected = {k: v for k, v in full.items() if k in wanted}
    assert list(expected) == [k for k in keys if k in wanted]  # the document's order
    assert r.stdout == numtext.json_document(expected) + "\n"


def test_fields_without_nodes_build_no_node_record(monkeypatch):
    def refuse(*args):
        raise AssertionError("a node record was built")

    monkeypatch.setattr(eval_formats, "node_labels", refuse)
    monkeypatch.setattr(eval_formats, "columns", refuse)
    r = run("eval", *TUTORIAL, "--fields", "value,gradient")
    assert r.stdout == '{"value": -12.0, "gradient": {"x": -3.0, "y": -3.0, "z": 4.0}}\n'
    with pytest.raises(AssertionError, match="node record"):
        run("eval", *TUTORIAL, "--fields", "value,nodes")


@pytest.mark.parametrize("args,message", [
    (["--fields", "valu"], "--fields: 'valu' is not a key of the JSON document; did you "
     "mean 'value'? (the JSON document's keys: program, output, value, inputs, gradient, "
     "nodes)"),
    (["--fields", "value,grad"], "'grad' is not a key of the JSON document; did you mean "
     "'gradient'?"),
    (["--fields", "gradient", "--output", "p,g"], "with several outputs, each one's "
     "gradient is in outputs (the JSON document's keys: program, outputs, inputs, nodes)"),
    (["--fields", "derivative"], "(the JSON document's keys: program, output, value, "
     "inputs, gradient, nodes)"),
    (["--fields", "gradient", "--mode", "forward"], "keys: program, mode, output, value, "
     "inputs, tangent, derivative, nodes)"),
    (["--fields", "uncertainty"], "'uncertainty' is not a key"),
    (["--fields", "value,value"], "--fields: 'value' is given twice"),
    (["--fields", ","], "--fields: no key given (the JSON document's keys:"),
    (["--fields", "value", "--format", "tsv"], "--fields selects keys of the JSON "
     "document; it does not apply to --format tsv"),
    (["--fields", "value", "--digits", "3"], "--digits does not apply to JSON"),
    (["--fields", "value", "--data", "-"], "--fields does not apply to --data: it selects "
     "keys of the JSON document, and --data writes CSV"),
])
def test_fields_errors(args, message):
    r = run("eval", *TUTORIAL, *args, input="x\n1\n")
    assert r.exit_code == 2 and r.stdout == "" and message in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("Error: ")  # one line


def test_fields_with_uncertainty_and_explicit_json():
    r = run("eval", "x*y", "x=2±0.1", "y=3", "--format", "json", "--fields",
            "uncertainty,value")
    assert r.stdout == ('{"value": 6.0, "uncertainty": {"sigma": 0.30000000000000004, '
                        '"inputs": {"x": {"sigma": 0.1, "term": 0.30000000000000004, '
                        '"share": 1.0}}}}\n')


def test_fields_to_a_file(tmp_path):
    out = tmp_path / "out.json"
    r = run("eval", *TUTORIAL, "--fields", "value", "-o", str(out))
    assert r.exit_code == 0 and r.stdout == "" and out.read_text() == '{"value": -12.0}\n'


def test_fields_on_a_terminal_are_json():
    """On a terminal eval draws a table; --fields asks for keys of the JSON document."""
    shown = on_terminal(["eval", *TUTORIAL, "--fields", "gradient,value"])
    assert shown.status == 0 and shown.stderr == "" and not ANSI.search(shown.raw)
    assert shown.screen == '{"value": -12.0, "gradient": {"x": -3.0, "y": -3.0, "z": 4.0}}\n'
    shown = on_terminal(["eval", *TUTORIAL, "--fields", "valeu"])
    assert shown.status == 2 and shown.screen == ""
    said = " ".join(shown.stderr.splitlines())  # (broken at spaces to fit the terminal)
    assert said.startswith("Error: --fields: 'valeu' is not a key of the JSON "
                           "document; did you mean 'value'?")
