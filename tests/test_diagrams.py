"""`cgraph graph`: golden files, escaping, determinism, and the real renderers."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cgraph
from cgraph import diagrams
from cgraph.cli import cli

import renderers
from conftest import expressions

GOLDEN = Path(__file__).parent / "golden"

# golden file -> the command line that makes it
GOLDENS = {
    "tutorial_p.mmd": ["p = x + y"],
    "tutorial_structure.mmd": ["p = x + y; g = p * z"],
    "tutorial_forward.mmd": ["p = x + y; g = p * z", "x=1", "y=3", "z=-3"],
    "tutorial_backward.mmd": ["p = x + y; g = p * z", "x=1", "y=3", "z=-3", "--grads"],
    "tutorial_backward.dot": ["p = x + y; g = p * z", "x=1", "y=3", "z=-3", "--grads",
                              "--format", "dot"],
    "unnamed.mmd": ["(x+y)*z", "x=1", "y=3", "z=-3", "--grads"],
    "shared.mmd": ["a = sin(x); a*a + x", "x=0.5", "--grads", "--direction", "TB"],
    "shared.dot": ["a = sin(x); a*a + x", "x=0.5", "--grads", "--format", "dot"],
    "nasty.mmd": ["end + graph * subgraph - click / style", "end=1", "graph=2",
                  "subgraph=3", "click=4", "style=0", "--grads"],
    "nasty.dot": ["end + graph * subgraph - click / style", "end=1", "graph=2",
                  "subgraph=3", "click=4", "style=0", "--grads", "--format", "dot"],
}


def graph_cli(*args):
    return CliRunner().invoke(cli, ["graph", *args], catch_exceptions=False)


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_golden(name):
    result = graph_cli(*GOLDENS[name])
    assert result.exit_code == 0, result.output
    path = GOLDEN / name
    if os.environ.get("CGRAPH_UPDATE_GOLDEN"):
        path.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == path.read_text(encoding="utf-8")


def test_tutorial_language():
    out = graph_cli(*GOLDENS["tutorial_backward.mmd"]).stdout
    assert re.search(r'n2 -->\|"p = 4"\| n4', out)  # add -->|p = 4| mul
    assert 'n0["x = 1"]' in out and 'n2(("+"))' in out and 'n4(("*"))' in out
    for label in ("∂g/∂g = 1", "∂g/∂p = -3", "∂g/∂z = 4", "∂g/∂x = -3", "∂g/∂y = -3"):
        assert f'-.->|"{label}"|' in out


def test_shared_node_drawn_once_with_summed_gradient():
    out = graph_cli("a = sin(x); a*a + x", "x=0.5", "--grads").stdout
    assert out.count('["x = 0.5"]') == 1 and out.count('(("sin"))') == 1
    ev = cgraph.parse("a = sin(x); a*a + x").evaluate({"x": 0.5})
    total = cgraph.numtext.text(ev.gradient()["x"], 6)
    assert f'"∂f/∂x = {total}"' in out
    assert "n0 --> n1" in out and "n0 --> n3" in out  # x feeds sin and the final add
    assert out.count("n1 -->") == 2  # a*a: two edges out of the one sin node


def test_deterministic():
    args = GOLDENS["shared.dot"]
    assert graph_cli(*args).stdout == graph_cli(*args).stdout


def test_options():
    out = graph_cli("x*y", "x=2", "y=3", "--no-values").stdout
    assert "= 2" not in out and 'n0["x"]' in out
    fenced = graph_cli("x*y", "--fence").stdout
    assert fenced.startswith("```mermaid\nflowchart LR\n") and fenced.endswith("```\n")
    assert graph_cli("x*y", "--direction", "TB").stdout.startswith("flowchart TB")
    assert "rankdir=BT;" in graph_cli("x*y", "--format", "dot", "--direction", "BT").stdout
    assert "0.333" in graph_cli("x/3", "x=1", "--digits", "3").stdout


def test_escaping():
    d = diagrams.Diagram([diagrams.Box("n0", "leaf", 'a"b<c>#d', None)], [])
    assert '"a#quot;b#lt;c#gt;#35;d"' in diagrams.render_mermaid(d)
    d = diagrams.Diagram([diagrams.Box("n0", "leaf", 'a"b{c}|\\', "1")], [])
    assert r'label="{a\\\"b\\{c\\}\\|\\\\ | value 1}"' in diagrams.render_dot(d)


def test_errors():
    r = graph_cli("x*y", "--grads")
    assert r.exit_code == 2 and "--grads needs a value" in r.stderr
    r = graph_cli("x*y", "x=1")
    assert r.exit_code == 2 and "no value for y" in r.stderr
    r = graph_cli("x", "-o", "a.svg", "--format", "mermaid")
    assert r.exit_code == 2
    r = graph_cli("x", "-o", "/nonexistent/dir/g.mmd")
    assert r.exit_code == 1 and "cannot write" in r.stderr


def test_output_file_and_missing_graphviz(tmp_path, monkeypatch):
    target = tmp_path / "g.dot"
    assert graph_cli("x*y", "-o", str(target)).exit_code == 0
    assert target.read_text().startswith("digraph cgraph {")
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    r = graph_cli("x*y", "-o", str(tmp_path / "g.svg"))
    assert r.exit_code == 1 and "Graphviz is not installed" in r.stderr


# -- the real renderers ---------------------------------------------------------------

NASTY = ["end", "graph", "subgraph", "click", "style", "class", "classDef", "node", "edge",
         "digraph", "strict", "default", "θ", "naïve", "_x", "flowchart", "linkStyle", "A"]


def _corpus():
    """(name, program, bindings, options) for every diagram the renderers check."""
    nasty = " + ".join(f"{n}*{i + 1}" for i, n in enumerate(NASTY))
    yield "nasty", nasty, [f"{n}=1" for n in NASTY], ["--grads"]
    yield "nonfinite", "a = log(x); b = 1/y; c = sqrt(-1) ; a + b + c", ["x=0", "y=0"], \
        ["--grads"]
    yield "big", _chain(220), ["x=0.5", "c=0.9", "d=0.3"], ["--grads"]  # 1,100 nodes
    for op in sorted(cgraph.ops.FUNCTIONS):
        name, arity = op
        args = ", ".join("xyz"[:arity])
        yield f"fn_{name}{arity}", f"{name}({args})", [f"{v}=0.5" for v in "xyz"[:arity]], \
            ["--grads"]
    for d in ("LR", "RL", "TB", "BT"):
        yield f"dir_{d}", "p = x + y; g = p * z", ["x=1", "y=3", "z=-3"], ["--direction", d]


def _chain(steps: int) -> str:
    return "t0 = x\n" + "\n".join(f"t{i} = sin(t{i - 1})*c + t{i - 1}*d"
                                   for i in range(1, steps))


def _write_corpus(tmp_path):
    files = []
    for name, program, bindings, options in _corpus():
        # Mermaid refuses more than 500 edges unless the page raises its maxEdges, which a
        # diagram cannot do for itself: the big graphs are checked as DOT only.
        formats = ("dot",) if name == "big" else ("mermaid", "dot")
        for fmt in formats:
            r = graph_cli(program, *bindings, *options, "--format", fmt)
            assert r.exit_code == 0, (name, r.output)
            path = tmp_path / f"{name}.{'mmd' if fmt == 'mermaid' else 'dot'}"
            path.write_text(r.stdout, encoding="utf-8")
            files.append(path)
    return files


@pytest.mark.renderers
def test_dot_renders_the_corpus(tmp_path):
    renderers.require_dot()
    files = [p for p in _write_corpus(tmp_path) if p.suffix == ".dot"]
    big = tmp_path / "huge.dot"  # 2,000+ nodes: rendered by dot in seconds
    text = " + ".join(f"sin(x*{i})" for i in range(500))
    big.write_text(graph_cli(text, "x=1", "--grads", "--format", "dot").stdout)
    for path in files + [big]:
        done = renderers.dot_renders(path)
        assert done.returncode == 0, (path.name, done.stderr)


def test_mermaid_edge_limit_is_warned_about():
    r = graph_cli(_chain(120), "x=0.5", "c=0.9", "d=0.3", "--grads")
    assert r.exit_code == 0 and "Mermaid renders at most 500" in r.stderr
    r = graph_cli(_chain(44), "x=0.5", "c=0.9", "d=0.3", "--grads")
    assert r.stderr == ""


@pytest.mark.renderers
def test_mermaid_parses_the_corpus(tmp_path):
    renderers.require_mermaid_parse()
    files = [p for p in _write_corpus(tmp_path) if p.suffix == ".mmd"]
    largest = tmp_path / "largest.mmd"  # as big as Mermaid's default edge limit allows
    largest.write_text(graph_cli(_chain(44), "x=0.5", "c=0.9", "d=0.3", "--grads").stdout)
    assert largest.read_text().count("\n") >= 500  # nodes, edges and class lines
    files.append(largest)
    files += [GOLDEN / n for n in GOLDENS if n.endswith(".mmd")]
    done = renderers.mermaid_parses(files)
    assert done.returncode == 0, done.stderr


@pytest.mark.renderers
def test_mmdc_renders_the_tutorial(tmp_path):
    renderers.require_mmdc()
    out = tmp_path / "tutorial.svg"
    done = renderers.mmdc_renders(GOLDEN / "tutorial_backward.mmd", out)
    assert done.returncode == 0, done.stderr
    svg = out.read_text(encoding="utf-8")
    for label in ("x = 1", "p = 4", "g = -12", "∂g/∂p = -3"):
        assert label in svg


@pytest.mark.renderers
@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_random_programs_render_in_both_formats(tmp_path_factory, data):
    renderers.require_dot()
    renderers.require_mermaid_parse()
    tmp = tmp_path_factory.mktemp("random")
    mermaid = []
    for i in range(40):
        program = data.draw(expressions, label=f"program {i}")
        g = cgraph.parse(program)
        bound = data.draw(st.booleans())
        ev = g.evaluate({v: 0.5 for v in g.variables}) if bound else None
        model = diagrams.build(g, ev, grads=bound)
        (tmp / f"{i}.mmd").write_text(diagrams.render_mermaid(model), encoding="utf-8")
        mermaid.append(tmp / f"{i}.mmd")
        dot = tmp / f"{i}.dot"
        dot.write_text(diagrams.render_dot(model), encoding="utf-8")
        assert renderers.dot_renders(dot).returncode == 0, program
    done = renderers.mermaid_parses(mermaid)
    assert done.returncode == 0, done.stderr


def test_gradient_edges_come_from_live_users_only():
    out = graph_cli("unused = x * 100; x * 2", "x=1", "--grads").stdout
    # x's first user (node 2, the dead statement) sends no gradient: node 4 does
    assert '-.->|"∂f/∂x = 2"| n0' in out and "n2 -.->" not in out
    assert "n4 -.->" in out
