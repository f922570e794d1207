"""`cgraph graph`: golden files, escaping, determinism, and the real renderers."""

from __future__ import annotations

import math
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


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_a_statement_that_does_not_lead_to_the_output_shows_its_name_and_value(fmt):
    """`a = x*2; b = y + 1`: graph drew a's `*` with nothing out of it, so `a` and its value
    2 were nowhere in the picture (eval's table has them). Such a statement ends in a box of
    its own, as the output does (`a = 2`), with an edge labelled as the output's; it gets
    no gradient edge, and the structure alone names it."""
    program = "a = x*2; q = sin(x); x*3; y + 1"
    out = graph_cli(program, "x=1", "y=2", "--grads", "--format", fmt).stdout
    for handle, value in (("a", "2"), ("q", "0.841471"), ("t5", "3")):
        if fmt == "mermaid":
            box = re.search(rf'\n  (n\d+s)\["{handle} = {value}"\]\n', out)
            assert box, (handle, out)
            assert re.search(rf'\n  n\d+ -->\|"{handle} = {value}"\| {box[1]}\n', out)
            assert not re.search(rf"{box[1]} <-", out) and f"∂f/∂{handle}" not in out
        else:
            box = re.search(rf'\n  (n\d+s) \[shape=record, style=rounded, label="\{{'
                            rf'{handle} \| value {value}\}}"\];\n', out)
            assert box, (handle, out)
            assert re.search(rf'\n  n\d+ -> {box[1]} \[label="{handle} = {value}"\];\n',
                             out)
    bare = graph_cli(program, "--format", fmt).stdout
    assert ('n2s["a"]' if fmt == "mermaid" else 'n2s [shape=record, style=rounded, '
            'label="{a}"]') in bare


def test_tutorial_language():
    out = graph_cli(*GOLDENS["tutorial_backward.mmd"]).stdout
    assert re.search(r'n2 -->\|"p = 4"\| n4', out)  # add -->|p = 4| mul
    assert 'n0["x = 1"]' in out and 'n2(("+"))' in out and 'n4(("*"))' in out
    for label in ("∂g/∂g = 1", "∂g/∂p = -3", "∂g/∂z = 4", "∂g/∂x = -3", "∂g/∂y = -3"):
        assert re.search(rf'<-\.+->\|"{label}"\|', out)
    assert "n3 ---> n4" in out  # z drawn in the first column, with x and y


def test_shared_node_drawn_once_with_summed_gradient():
    out = graph_cli("a = sin(x); a*a + x", "x=0.5", "--grads").stdout
    assert out.count('"x = 0.5') == 1 and out.count('sin') == 1
    ev = cgraph.parse("a = sin(x); a*a + x").evaluate({"x": 0.5})
    total = cgraph.numtext.text(ev.gradient()["x"], 6)
    # x has two paths to f: each edge carries its own part, x shows the sum
    assert f'n0["x = 0.5<br>∂f/∂x = {total}<br>sum of 2 paths"]' in out
    assert '"∂f/∂x via a = 0.841471"' in out and '"∂f/∂x via f = 1"' in out
    assert "n0 --> n1" in out and "n0 --> n3" in out  # x feeds sin and the final add
    assert out.count("n1 -->") == 2  # a*a: two edges out of the one sin node
    # both operands of a*a send their part back along one gradient edge, a shows the sum
    # (a label this long is written on two lines, broken after its `=`)
    assert '"∂f/∂a via t2 =<br>0.479426 + 0.479426"' in out
    assert '"sin<br>∂f/∂a = 0.958851<br>sum of 2 paths"' in out


def test_labels_name_only_what_the_picture_shows():
    out = graph_cli("(x+y)*z", "x=1", "y=3", "z=-3", "--grads").stdout
    assert 'n2 -->|"t2 = 4"| n4' in out and '"∂f/∂t2 = -3"' in out  # t2 is on the edge
    out = graph_cli("x*2 + 1", "x=3", "--grads").stdout
    assert 'n1["2"]' in out and 'n3["1"]' in out and "class n1,n3 lit" in out
    assert "∂f/∂2" not in out and "∂f/∂1" not in out and "2 = 2" not in out
    out = graph_cli("x*x", "x=3", "--grads").stdout  # which edge is which operand
    assert 'n0 -->|"left"| n1' in out and 'n0 -->|"right"| n1' in out
    assert '"∂f/∂x via f = 3 + 3"' in out


def test_deterministic():
    """The same program gives the same bytes, in separate processes whose string hashes
    differ (a set or dict order that leaked into the output would show here)."""
    import subprocess
    import sys

    src = str(Path(cgraph.__file__).parent.parent)
    outputs = set()
    for seed in ("1", "2"):
        for args in (GOLDENS["shared.dot"], ["a = sin(x); a*a + x", "x=0.5", "--grads"]):
            env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=src)
            done = subprocess.run([sys.executable, "-m", "cgraph", "graph", *args],
                                  capture_output=True, env=env, timeout=60)
            assert done.returncode == 0, done.stderr
            outputs.add((tuple(args), done.stdout))
    assert len(outputs) == 2


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

TUTORIAL = ("p = x + y; g = p * z", ["x=1", "y=3", "z=-3"])


def _mlp(inputs: int, hidden: int, named: bool = True) -> tuple[str, list[str]]:
    """A one-hidden-layer network with a squared-error loss, written out as scalars."""
    lines, bindings = [], [f"x{i}=0.{i + 2}" for i in range(1, inputs + 1)] + ["t=1"]
    for j in range(1, hidden + 1):
        s = " + ".join(f"w{j}{i}*x{i}" for i in range(1, inputs + 1))
        lines.append(f"h{j} = tanh({s} + b{j})" if named else f"tanh({s} + b{j})")
        bindings += [f"w{j}{i}=0.{(i * j) % 9 + 1}" for i in range(1, inputs + 1)]
        bindings += [f"b{j}=-0.{j}", f"v{j}=0.{j + 3}"]
    hs = [f"h{j}" for j in range(1, hidden + 1)] if named else lines
    out = " + ".join(f"v{j}*{h}" for j, h in enumerate(hs, 1))
    program = ("\n".join(lines) + "\n" if named else "") + f"o = sigmoid({out} + c)\n" \
        + "loss = (o - t)^2"
    return program, bindings + ["c=0.1"]


def geometry_corpus():
    """(name, program, bindings, options): programs whose rendered layout is checked."""
    yield "tutorial", *TUTORIAL, []
    yield "unnamed", "(x+y)*z", ["x=1", "y=3", "z=-3"], []
    yield "shared4", "sin(x) + x*x + exp(x)", ["x=0.5"], []  # x used 4 times
    yield "square", "a = sin(x); a*a + x", ["x=0.5"], ["--direction", "TB"]
    yield "literals", "2*x^2 + pi*x + 1 - x/3", ["x=1.5"], ["--direction", "RL"]
    yield "neuron", "o = sigmoid(w1*x1 + w2*x2 + b); loss = (o - t)^2", \
        ["w1=0.5", "x1=1", "w2=-0.3", "x2=2", "b=0.1", "t=1"], []
    yield "mlp_2_2_1", *_mlp(2, 2), []  # ~30 nodes
    yield "mlp_2_3_1_unnamed", *_mlp(2, 3, named=False), ["--direction", "BT"]
    yield "dead_statement", "a = x*2; q = sin(x); y + 1", ["x=1", "y=2"], []
    yield "softmax", "e1 = exp(z1); e2 = exp(z2); e3 = exp(z3); s = e1 + e2 + e3; " \
        "loss = -log(e2 / s)", ["z1=1", "z2=2", "z3=0.5"], []
    yield "nasty", " + ".join(f"{n}*{i + 1}" for i, n in enumerate(NASTY)), \
        [f"{n}=1" for n in NASTY], []
    yield "chain_125", _chain(32), ["x=0.5", "c=0.9", "d=0.3"], []  # 125 nodes
    yield "mlp_4_6_1", *_mlp(4, 6), []  # ~120 nodes
    yield "sum_130", *_long_sum(130), []  # 390 nodes, drawn as one + (DOT only: 1,000 edges)
    yield "sum_60_uncollapsed", *_long_sum(60), ["--no-collapse"]  # 62 ranks: top to bottom


def calls_corpus():
    """Programs whose pictures have function-call subgraphs, and the example network."""
    yield "calls", "sq(a) = a * a\nneuron(u) = tanh(w * u + b)\nneuron(sq(x)) + neuron(x)", \
        ["w=0.5", "b=-1", "x=2"], []  # README's
    yield "nested_calls", "n(u) = tanh(w * u); n(n(x))", ["w=0.5", "x=2"], []
    yield "neurons", "neuron(a, b) = tanh(w1*a + w2*b + c)\nh1 = neuron(x1, x2)\n" \
        "h2 = neuron(x2, x1)\nloss = (h1 - h2 - t)^2", \
        ["w1=0.5", "w2=-0.3", "c=0.1", "x1=1", "x2=2", "t=1"], []
    yield "xor.cg", (ROOT / "examples" / "xor.cg").read_text(encoding="utf-8"), \
        ["--bindings", str(ROOT / "examples" / "xor-init.json"), "x=[0,1]", "y=1"], []


def _long_sum(terms: int) -> tuple[str, list[str]]:
    return " + ".join(f"a{i}*x{i}" for i in range(terms)), \
        [f"a{i}=0.{i % 9 + 1}" for i in range(terms)] + [f"x{i}=1" for i in range(terms)]


def _corpus():
    """(name, program, bindings, options) for every diagram the renderers check."""
    for name, program, bindings, options in geometry_corpus():
        yield name, program, bindings, ["--grads", *options]
    yield "nonfinite", "a = log(x); b = 1/y; c = sqrt(-1) ; a + b + c", ["x=0", "y=0"], \
        ["--grads"]
    yield "big", _chain(220), ["x=0.5", "c=0.9", "d=0.3"], ["--grads"]  # 1,100 nodes
    for op in sorted(cgraph.ops.FUNCTIONS):
        name, arity = op
        args = ", ".join("xyz"[:arity])
        yield f"fn_{name}{arity}", f"{name}({args})", [f"{v}=0.5" for v in "xyz"[:arity]], \
            ["--grads"]
    for d in ("LR", "RL", "TB", "BT"):
        yield f"dir_{d}", *TUTORIAL, ["--direction", d]


def _chain(steps: int) -> str:
    return "t0 = x\n" + "\n".join(f"t{i} = sin(t{i - 1})*c + t{i - 1}*d"
                                   for i in range(1, steps))


def _write_corpus(tmp_path, corpus=None):
    files = []
    for name, program, bindings, options in corpus or _corpus():
        for fmt in ("mermaid", "dot"):
            r = graph_cli(program, *bindings, *options, "--format", fmt)
            assert r.exit_code == 0, (name, r.output)
            if "Mermaid renders at most 500" in r.stderr:
                # Mermaid refuses more than 500 edges unless the page raises its maxEdges,
                # which a diagram cannot do for itself: big graphs are checked as DOT only
                continue
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


def _luminance(css: str) -> float:
    """WCAG's relative luminance of a CSS rgb() colour."""
    channels = [int(c) / 255 for c in re.findall(r"\d+", css)[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


@pytest.mark.renderers
def test_operation_symbols_read_in_mermaids_dark_theme(tmp_path):
    """GitHub draws Mermaid with the dark theme for a reader in dark mode, whose text is
    light: the + and * on the ops' light yellow circles were light on light, unreadable
    (trial7's finding). Rendered by mmdc -t dark, measured in Chromium: each symbol's colour
    against its circle's fill, by WCAG's contrast ratio (4.5 for text)."""
    import subprocess

    renderers.require_mmdc()
    renderers.require_browser()
    from playwright.sync_api import sync_playwright

    mmd, svg = tmp_path / "t.mmd", tmp_path / "t.svg"
    mmd.write_text(graph_cli(*GOLDENS["tutorial_backward.mmd"]).stdout, encoding="utf-8")
    done = subprocess.run([str(renderers.MMDC), "-q", "-p", str(renderers.PUPPETEER), "-t",
                           "dark", "-i", str(mmd), "-o", str(svg)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=renderers.CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(svg.as_uri())
        pairs = page.evaluate("""() => [...document.querySelectorAll('g.node.op')].map(g => {
            const label = [...g.querySelectorAll('.nodeLabel, span, p, tspan, text')]
                .find(e => e.textContent.trim() !== '');
            return [label.textContent.trim(), getComputedStyle(g.querySelector('circle')).fill,
                    getComputedStyle(label).color];
        })""")
        browser.close()
    assert sorted(symbol for symbol, _, _ in pairs) == ["*", "+"]
    for symbol, fill, color in pairs:
        light, dark = sorted([_luminance(fill), _luminance(color)], reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, (symbol, fill, color)


def test_mermaid_edge_limit_is_warned_about():
    r = graph_cli(_chain(37), "x=0.5", "c=0.9", "d=0.3", "--grads")  # 506 edges
    assert r.exit_code == 0 and "Mermaid renders at most 500" in r.stderr
    r = graph_cli(_chain(36), "x=0.5", "c=0.9", "d=0.3", "--grads", "--direction", "TB")
    assert r.stderr == ""


@pytest.mark.renderers
def test_mermaid_parses_the_corpus(tmp_path):
    renderers.require_mermaid_parse()
    files = [p for p in _write_corpus(tmp_path) if p.suffix == ".mmd"]
    largest = tmp_path / "largest.mmd"  # as big as Mermaid's default edge limit allows
    largest.write_text(graph_cli(_chain(36), "x=0.5", "c=0.9", "d=0.3", "--grads").stdout)
    assert largest.read_text().count("\n") >= 500  # nodes, edges and class lines
    files.append(largest)
    files += [GOLDEN / n for n in GOLDENS if n.endswith(".mmd")]
    done = renderers.mermaid_parses(files)
    assert done.returncode == 0, done.stderr


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


def test_big_graphs_get_a_readable_layout_and_say_so():
    program, bindings = _long_sum(130)
    r = graph_cli(program, *bindings, "--grads")
    assert r.exit_code == 0
    assert r.stderr.startswith("warning: 132 ranks deep: long sums drawn as one + node each")
    assert "--no-collapse" in r.stderr and "--format dot" in r.stderr  # and > 500 edges
    assert r.stdout.startswith("flowchart LR") and r.stdout.count('(("+"))') == 1
    assert r.stdout.count(' -->|"t') == 130  # every product goes into the one sum
    assert '"∂f/∂t2 = 1"' in r.stdout  # each product's gradient through the n-ary sum
    r = graph_cli(program, *bindings, "--no-collapse", "--format", "dot")
    assert "rankdir=TB;" in r.stdout and "--direction LR keeps it" in r.stderr
    assert r.stdout.count('label="+"') == 129
    r = graph_cli(program, *bindings, "--no-collapse", "--direction", "LR", "--format", "dot")
    assert "rankdir=LR;" in r.stdout and r.stderr == ""  # asked for: no advice
    program, bindings = _mlp(2, 2)
    r = graph_cli(program, *bindings, "--grads")
    assert r.stdout.startswith("flowchart LR") and r.stderr == ""


def test_the_slow_renderer_warning_counts_the_nodes_drawn():
    """A 1,200-term sum folded into one + node draws 1,202 shapes, and was warned about as
    "2399 nodes: renderers slow down past 2,000 nodes", the count of the graph before the
    folding (trial7's finding)."""
    program = " + ".join(f"x{i}" for i in range(1200))
    r = graph_cli(program, "--format", "dot")
    assert r.exit_code == 0 and "ranks deep" in r.stderr
    assert "renderers slow down" not in r.stderr, r.stderr
    drawn = r.stdout.count("label=")  # one per shape: 1,200 variables, the +, the output
    assert drawn == 1202
    r = graph_cli(program, "--format", "dot", "--no-collapse")
    assert "warning: 2400 nodes: renderers slow down past 2,000 nodes" in r.stderr, r.stderr
    assert r.stdout.count("label=") == 2400  # every shape drawn


def test_the_html_page_is_not_said_to_fold_what_it_draws(tmp_path):
    """graph --format html warned "long sums drawn as one + node each (28 additions folded
    in; --no-collapse draws them all)" while the page drew all 29 additions, and took
    --direction and --collapse without a word, ignoring both."""
    program, bindings = _long_sum(30)
    r = graph_cli(program, *bindings, "--grads", "--format", "html")
    assert r.exit_code == 0 and r.stderr == "", r.stderr
    assert r.stdout.count('class="node op"') == 30 + 29  # every product and every +
    r = graph_cli(program, *bindings, "--format", "html", "--no-collapse")
    assert r.exit_code == 2 and r.stderr.startswith(
        "Error: --no-collapse is for Mermaid and DOT: the HTML page always draws every node")
    r = graph_cli(program, *bindings, "-o", str(tmp_path / "g.html"), "--direction", "TB")
    assert r.exit_code == 2 and r.stderr.startswith(
        "Error: --direction is for Mermaid and DOT: the HTML page is always drawn left to "
        "right") and not (tmp_path / "g.html").exists()
    assert graph_cli(program, *bindings).stderr.startswith("warning: ")  # Mermaid folds


def test_renderer_warnings_are_passed_through(tmp_path, monkeypatch):
    """`-o x.png` shows what dot says on stderr (here a stand-in dot that scales to fit)."""
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\ncat > /dev/null\necho 'Warning: graph is too large for "
                    "cairo-renderer bitmaps. Scaling by 0.5 to fit' >&2\nprintf 'image'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    r = graph_cli("x*y", "x=1", "y=2", "-o", str(tmp_path / "g.png"))
    assert r.exit_code == 0 and "Scaling by 0.5 to fit" in r.stderr


def test_gradient_edges_come_from_live_users_only():
    out = graph_cli("unused = x * 100; x * 2", "x=1", "--grads").stdout
    # x's first user (node 2, the dead statement) sends no gradient: node 4 does
    assert 'n0 <-.->|"∂f/∂x = 2"| n4' in out and "n2 <-.->" not in out


# -- the tutorial, regenerated: explain --diagrams --------------------------------------

def explain_cli(*args):
    return CliRunner().invoke(cli, ["explain", *args], catch_exceptions=False)


def _edges(mermaid):
    """(forward, gradient) edges in Mermaid text: `-->`, `--->`; `<-.->`, `<-..->`."""
    return len(re.findall(r" -+>", mermaid)), len(re.findall(r" <-\.+->", mermaid))


def _blocks(markdown):
    return re.findall(r"```mermaid\n(.*?)```", markdown, re.S)


def test_explain_diagrams_refuses_a_program_too_big_before_any_work(monkeypatch):
    """--diagrams redraws the whole graph after each step, so its output grows as the
    square of the program (a 500-statement chain wrote 440 MB and took 2.3 GB): past
    DIAGRAM_STEPS operations it is one usage error, before any picture is drawn; at the
    limit it draws."""
    from cgraph import explain

    monkeypatch.setattr(explain, "DIAGRAM_STEPS", 3)
    drawn = []
    monkeypatch.setattr(explain, "with_diagrams",
                        lambda *a, **k: drawn.append(1) or ([], []))
    args = ["x=0.5", "c=0.9", "d=0.3", "--diagrams"]
    refused = explain_cli("t1 = x*c + d; t2 = t1*c + d", *args)
    assert refused.exit_code == 2 and not drawn
    assert refused.stderr == (
        "Error: --diagrams redraws the whole graph after every step, for programs of up to "
        "3 operations (this one has 4); cgraph graph --grads draws the whole pass in one "
        "picture\n")
    assert explain_cli("t1 = x*c + d; t1*c", *args).exit_code == 0 and drawn


def test_explain_diagrams_tells_the_tutorial_in_its_order():
    doc = explain_cli(*TUTORIAL[:1], *TUTORIAL[1], "--diagrams").stdout
    blocks = _blocks(doc)
    # the tutorial's pictures: p = x + y; the whole graph; p = 4; g = -12; ∂g/∂g = 1; then
    # (beyond its pictures, as its equations) the gradients through * and through +
    assert len(blocks) == 7
    p, g, fw_p, fw_g, bw_g, bw_mul, bw_add = blocks
    assert 'n3["p"]' in p and "n4" not in p and 'n2 -->|"p"| n4' in g
    assert '-->|"p = 4"|' in fw_p and '"g"]' in fw_p and "class n2 current" in fw_p
    assert '"g = -12"]' in fw_g and "<-.->" not in fw_g
    assert _edges(bw_g)[1] == 1 and '"∂g/∂g = 1"' in bw_g
    assert '"∂g/∂p = -3"' in bw_mul and '"∂g/∂z = 4"' in bw_mul and "∂g/∂x" not in bw_mul
    assert _edges(bw_add)[1] == 5 and "class n2 current" in bw_add
    # every number of the tutorial, in its order, narration and pictures interleaved
    at = 0
    for piece in ["p = x + y", 'n3["p"]', "p = x + y = 1 + 3 = 4", '"p = 4"', "= -12",
                  '"g = -12"]', r"\frac{\partial g}{\partial g} = 1", '"∂g/∂g = 1"',
                  r"\frac{\partial g}{\partial p} = z = -3", r"\frac{\partial g}{\partial z} = p = 4",
                  '"∂g/∂p = -3"', r"\frac{\partial p}{\partial x} = 1",
                  r"\left(-3\right) \cdot 1 = -3", '"∂g/∂x = -3"', '"∂g/∂y = -3"']:
        found = doc.find(piece, at)
        assert found >= 0, piece
        at = found + len(piece)
    for block in blocks:  # GitHub renders with Mermaid's default limits
        assert len(block) < 50_000 and sum(_edges(block)) <= 500
    r = explain_cli(*TUTORIAL[:1], *TUTORIAL[1], "--diagrams", "--format", "text")
    assert r.exit_code == 2 and "--format markdown" in r.stderr


@pytest.fixture(scope="module")
def mermaid_svgs(tmp_path_factory):
    """Every Mermaid diagram the layout tests read, rendered in one Chromium session:
    name -> (the .mmd file, its corpus entry or None). The corpus with gradients, the
    pictures of three walk-throughs, and the tutorial's golden file; the corpus and the
    calls corpus also without gradients (`plain_<name>`)."""
    renderers.require_mmdc()
    tmp = tmp_path_factory.mktemp("mermaid")
    cases = [*geometry_corpus(), *calls_corpus()]
    corpus = [(n, p, b, ["--grads", *o]) for n, p, b, o in cases]
    plain = [(f"plain_{n}", p, b, o) for n, p, b, o in cases]  # the same, no gradients
    files = {p.stem: p for p in _write_corpus(tmp, corpus + plain) if p.suffix == ".mmd"}
    out = {c[0]: (files[c[0]], c) for c in corpus if c[0] in files}
    out.update((c[0], (files[c[0]], None)) for c in plain if c[0] in files)
    for name, program, bindings in WALKTHROUGHS:
        doc = explain_cli(program, *bindings, "--diagrams").stdout
        for i, block in enumerate(_blocks(doc)):
            path = tmp / f"walk_{name}_{i}.mmd"
            path.write_text(block, encoding="utf-8")
            out[path.stem] = (path, None)
    golden = tmp / "golden_tutorial.mmd"
    golden.write_text((GOLDEN / "tutorial_backward.mmd").read_text(encoding="utf-8"))
    out[golden.stem] = (golden, None)
    done = renderers.mermaid_renders([p for p, _ in out.values()], boxes=True)
    assert done.returncode == 0, done.stderr
    return out


def _mermaid_overlaps(name, measured):
    """Labels on other labels or on nodes, and (counted apart) edges drawn through a label
    that is not their own, in what the browser measured in mermaid-cli's rendering."""
    labels, nodes = measured["labels"], measured["nodes"]
    problems = [f"{name}: labels {a['text']!r} and {b['text']!r} overlap"
                for i, a in enumerate(labels) for b in labels[i + 1:]
                if _overlap(a["box"], b["box"], slack=1)]
    problems += [f"{name}: label {a['text']!r} overlaps node {n['text']!r}"
                 for a in labels for n in nodes if _overlap(a["box"], n["box"], slack=1)]
    crossings = 0
    for label in labels:
        x0, y0, x1, y1 = label["box"]
        crossings += sum(1 for e in measured["edges"] if e["id"] != label["id"] and any(
            x0 + 2 < x < x1 - 2 and y0 + 2 < y < y1 - 2 for x, y in e["points"]))
    return problems, crossings


# Edges drawn under a label not their own (4 px samples inside it), over the whole corpus:
# 515 with Mermaid's default curve, 112 with cgraph's (see render_mermaid). A label keeps
# its grey background over a line, so these stay readable; the bound catches a regression.
MERMAID_CROSSINGS = 130


@pytest.mark.renderers
def test_mermaid_labels_do_not_overlap(mermaid_svgs):
    """In mermaid-cli's rendering of every diagram the layout tests read (the corpus with
    gradients, top to bottom and network-sized ones included, and every walk-through
    picture), as the browser measured it: no edge label on another or on a node."""
    problems, crossings, labels = [], 0, 0
    for name, (path, case) in mermaid_svgs.items():
        measured = renderers.mermaid_boxes(path)
        found, crossed = _mermaid_overlaps(name, measured)
        problems += found
        crossings += crossed
        labels += len(measured["labels"])
    assert not problems, f"{len(problems)} overlaps:\n" + "\n".join(problems)
    assert crossings <= MERMAID_CROSSINGS
    assert labels > 1000  # the measurement saw the labels


@pytest.mark.renderers
def test_mmdc_renders_the_tutorial(tmp_path, mermaid_svgs):
    """The real `mmdc` command; and it lays out exactly as the batch renderer the other
    tests read (mermaid-cli's page and its mermaid, loaded once for all diagrams)."""
    out = tmp_path / "tutorial.svg"
    done = renderers.mmdc_renders(GOLDEN / "tutorial_backward.mmd", out)
    assert done.returncode == 0, done.stderr
    svg = out.read_text(encoding="utf-8")
    for label in ("x = 1", "p = 4", "g = -12", "∂g/∂p = -3"):
        assert label in svg
    mmdc = renderers.mermaid_drawing(out)
    batch = renderers.mermaid_drawing(mermaid_svgs["golden_tutorial"][0].with_suffix(".svg"))
    assert mmdc.nodes == batch.nodes and mmdc.edges == batch.edges


def _ranks(measured, direction):
    """Node centres by rank: main coordinate (x left to right, y top to bottom) -> [(the
    coordinate across the rank, node id)], from what the browser measured."""
    axis = 0 if direction in ("LR", "RL") else 1
    ranks: dict = {}
    for n in measured["nodes"]:
        x0, y0, x1, y1 = n["box"]
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        node = re.fullmatch(r".*?-flowchart-(.+)-\d+", n["id"]).group(1)
        ranks.setdefault(round(centre[axis]), []).append((centre[1 - axis], node))
    return ranks


@pytest.mark.renderers
def test_mermaid_gradients_keep_the_forward_layout(mermaid_svgs):
    """Drawing the gradients does not move the forward picture around: in mermaid-cli's
    rendering with --grads every node is in the same rank as without, and the nodes of a
    rank are in the same order across it. With all gradient edges written after the
    forward ones, function calls' subgraphs came out reordered (README's sq/neuron example:
    x and w swapped places, sq#1 moved from above the neurons to beside them)."""
    problems, pairs = [], 0
    for name, (path, case) in mermaid_svgs.items():
        if case is None or f"plain_{name}" not in mermaid_svgs:
            continue
        direction = _direction(case[3], case[1])
        plain = _ranks(renderers.mermaid_boxes(mermaid_svgs[f"plain_{name}"][0]), direction)
        grads = _ranks(renderers.mermaid_boxes(path), direction)
        rank_of = lambda ranks: {n: i for i, (_, ns) in enumerate(sorted(ranks.items()))  # noqa: E731
                                 for _, n in ns}
        if rank_of(plain) != rank_of(grads):
            problems.append(f"{name}: nodes change rank with gradients")
            continue
        across = {n: c for ns in grads.values() for c, n in ns}
        for ns in plain.values():
            order = [n for _, n in sorted(ns)]
            pairs += len(order) * (len(order) - 1) // 2
            swapped = [(a, b) for i, a in enumerate(order) for b in order[i + 1:]
                       if across[a] > across[b]]
            if swapped:
                problems.append(f"{name}: with gradients, {swapped} change places")
    assert not problems, "\n".join(problems)
    assert pairs > 1000  # the measurement saw ranks with several nodes


def _distance(points, box):
    """From a box to the nearest of a path's points (0: the path runs through it)."""
    x0, y0, x1, y1 = box
    return min(math.hypot(max(x0 - x, 0, x - x1), max(y0 - y, 0, y - y1))
               for x, y in points)


def _gradient_label_distances(path):
    """(source, target, distance) for each gradient label in a rendered diagram: from the
    label's box to the forward edge it runs back along (the nearer one for x * x)."""
    measured = renderers.mermaid_boxes(path)
    drawing = renderers.mermaid_drawing(path.with_suffix(".svg"))
    points = {e["id"]: e["points"] for e in measured["edges"]}
    labels = {lab["id"]: lab["box"] for lab in measured["labels"]}
    forward: dict = {}
    for e in drawing.edges:
        if not e.gradient:
            forward.setdefault((e.src, e.dst), []).append(e.id)
    return [(e.src, e.dst, min(_distance(points[f], labels[e.id]) for f in forward[e.src, e.dst]))
            for e in drawing.edges
            if e.gradient and e.id in labels and (e.src, e.dst) in forward]


def test_invisible_links_count_against_mermaids_edge_limit():
    """Mermaid counts `~~~` links against its 500-edge limit: so does the warning."""
    _, program, bindings, _ = next(calls_corpus())
    g = cgraph.parse(program)
    d = diagrams.build(g, g.evaluate(dict(b.split("=") for b in bindings)), grads=True)
    text = diagrams.render_mermaid(d)
    assert text.count(" ~~~ ") == 13 and diagrams.mermaid_links(d) == len(d.edges) + 13
    assert diagrams.mermaid_links(d) == len(re.findall(r" (-+>|<-\.+->|~~~)[ |]", text))


@pytest.mark.renderers
def test_mermaid_gradient_labels_stay_by_their_edge_in_calls(mermaid_svgs):
    """Inside a function call's subgraph dagre drew each gradient edge as a V dipping away
    from its forward edge, however the edges were written (README's sq/neuron example:
    ∂f/∂t5 194 px off, ∂f/∂t3 136). Each such gradient edge now has an invisible link
    beside it: of the 40 gradient labels with an end in a subgraph, in the three call
    programs, those farther than 40 px from their forward edge went from 15 to 8 (∂f/∂t5
    36 px, ∂f/∂t3 87; w's long edge into neuron#1 stays the farthest, 263 -> 298 px)."""
    far, total = [], 0
    for name in ("calls", "nested_calls", "neurons"):
        path = mermaid_svgs[name][0]
        inside = set(re.findall(r"^    (n\d+)[\[(]", path.read_text(encoding="utf-8"), re.M))
        for src, dst, d in _gradient_label_distances(path):
            if src in inside or dst in inside:
                total += 1
                if d > 40:
                    far.append(f"{name}: {src} -> {dst} {d:.0f} px")
    assert total == 40
    assert len(far) <= 10, "\n".join(far)


@pytest.mark.renderers
def test_mermaid_gradient_labels_sit_by_their_forward_edge(mermaid_svgs):
    """A gradient label is read with the forward edge it runs back along: in mermaid-cli's
    rendering of the corpus (the calls and xor.cg included), the labels farther than 40 px
    from that edge, and xor.cg's mean distance. With every gradient edge written after the
    forward ones, 462 of 876 labels were farther (366 farther than 80 px) and xor.cg's
    mean was 70 px; each written right after its forward edge, 210 (125) and 30 px."""
    distances, per_program = [], {}
    for name, (path, case) in mermaid_svgs.items():
        if case is not None:
            per_program[name] = [d for _, _, d in _gradient_label_distances(path)]
            distances += per_program[name]
    far = sum(d > 40 for d in distances)
    xor = per_program["xor.cg"]
    assert len(distances) > 800
    assert far <= 250, f"{far} of {len(distances)} labels farther than 40 px"
    assert sum(xor) / len(xor) <= 40, f"xor.cg: {sum(xor) / len(xor):.1f} px"


WALKTHROUGHS = [("tutorial", *TUTORIAL),
                ("neuron", "o = sigmoid(w1*x1 + w2*x2 + b); loss = (o - t)^2",
                 ["w1=0.5", "x1=1", "w2=-0.3", "x2=2", "b=0.1", "t=1"]),
                ("square", "a = sin(x); a*a + x", ["x=0.5"])]


@pytest.mark.renderers
def test_explain_diagrams_render(mermaid_svgs):
    """Every picture of three walk-throughs, rendered by mermaid-cli: laid out forward,
    the gradient edges with their arrowheads, the labels readable on their own."""
    problems, pictures = [], 0
    for name, (path, case) in mermaid_svgs.items():
        if name.startswith("walk_"):
            drawing = renderers.mermaid_drawing(path.with_suffix(".svg"))
            problems += _mermaid_problems(name, drawing, "LR", sums=False)
            pictures += 1
    assert not problems, "\n".join(problems)
    assert pictures > 20


# -- what the renderers draw ------------------------------------------------------------

# which way a forward edge must point: the coordinate that grows along it, and its sign
AXIS = {"LR": (0, 1), "RL": (0, -1), "TB": (1, 1), "BT": (1, -1)}
GRADIENT = re.compile(r"∂(?P<f>\S+)/∂(?P<x>\S+)(?: via (?P<via>\S+))? = "
                      r"(?P<terms>\S+( \+ \S+)*)")


def _direction(options, program):
    """The direction cgraph draws in: the one asked for, or the one `plan` chose."""
    if "--direction" in options:
        return options[options.index("--direction") + 1]
    collapse = False if "--no-collapse" in options else None
    return diagrams.plan(cgraph.parse(program), None, collapse)[0]


def _check_labels(name, boxes, forward_labels, gradient_edges, sums=True):
    """Every name a gradient label uses is shown in the picture (a box, or the handle on a
    forward edge); a node reached along several edges shows their sum (`sums`).

    boxes: node -> label lines; gradient_edges: (target node, label)."""
    shown = set()
    for lines in boxes.values():
        shown.add(lines[0].split(" = ")[0])
    for label in forward_labels:
        shown.add(label.split(" = ")[0])
    problems, per_node = [], {}
    for target, label in gradient_edges:
        m = GRADIENT.fullmatch(label)
        if not m:
            problems.append(f"{name}: unreadable gradient label {label!r}")
            continue
        for key in ("f", "x", "via"):
            if m.group(key) and m.group(key) not in shown:
                problems.append(f"{name}: {label!r} names {m.group(key)!r}, not in the picture")
        per_node.setdefault(target, []).append(m)
    for target, ms in per_node.items():
        terms = sum(len(m.group("terms").split(" + ")) for m in ms)
        if terms > 1:
            if not all(m.group("via") for m in ms):
                problems.append(f"{name}: {target} gets {terms} gradients, not all say which "
                                "path")
            if sums and not any(f"sum of {terms} paths" in line for line in boxes[target]):
                problems.append(f"{name}: {target} does not show the sum of its {terms} paths")
    return problems


def _mermaid_problems(name, drawing, direction, sums=True):
    """Forward edges pointing backwards, gradient edges without their one arrowhead at the
    node they flow into, labels naming what the picture does not show. sums=False: a
    walk-through's picture, where a shared node shows its sum once every path arrived."""
    axis, sign = AXIS[direction]
    problems = []
    nodes = drawing.nodes
    for e in drawing.edges:
        a, b = nodes[e.src], nodes[e.dst]
        if e.gradient:
            # declared `target <-.-> source`: the one visible arrowhead is at the target end
            if not e.head_at_start or e.head_at_end:
                problems.append(f"{name}: gradient edge {e.id} ({e.label}) arrowheads "
                                f"start={e.head_at_start} end={e.head_at_end}")
            if math.dist(e.start, a[:2]) > math.dist(e.start, b[:2]):
                problems.append(f"{name}: gradient edge {e.id} starts away from its target")
        if (b[axis] - a[axis]) * sign <= 0:  # both kinds run along their forward edge
            problems.append(f"{name}: {'gradient' if e.gradient else 'forward'} edge "
                            f"{e.src} -> {e.dst} points backwards ({a[:2]} -> {b[:2]})")
    boxes = {k: v[2] for k, v in nodes.items()}
    forward = [e.label for e in drawing.edges if not e.gradient and e.label]
    gradients = [(e.src, e.label) for e in drawing.edges if e.gradient]
    return problems + _check_labels(name, boxes, forward, gradients, sums)


@pytest.mark.renderers
def test_mermaid_layout_survives_gradients(mermaid_svgs):
    """mermaid-cli's rendering of the corpus, read back from the SVG: no forward edge
    points backwards, every gradient edge shows one arrowhead, at the node it flows into,
    and every label can be read with what the picture shows."""
    problems, edges, checked = [], 0, 0
    for name, (path, case) in mermaid_svgs.items():
        if case is None:
            continue
        _, program, _, options = case
        drawing = renderers.mermaid_drawing(path.with_suffix(".svg"))
        edges += len(drawing.edges)
        text = path.read_text()
        assert len(drawing.edges) == sum(_edges(text)), name
        problems += _mermaid_problems(name, drawing, _direction(options, program))
        checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 12 and edges > 1000


def _dot_boxes(layout):
    """Label boxes (x0, y0, x1, y1, text, owner) of the edge labels and node xlabels in a
    dot -Tjson layout, from the text dot drew (its position, alignment, width, font)."""
    boxes = []
    items = [("node", o) for o in layout.get("objects", [])] + \
        [("edge", e) for e in layout.get("edges", [])]
    for kind, item in items:
        owner = item.get("name") if kind == "node" else item["_gvid"]
        for key in ("_ldraw_", "_xldraw_", "_hldraw_", "_tldraw_"):
            size = 14.0
            for op in item.get(key, []):
                if op["op"] == "F":
                    size = op["size"]
                if op["op"] == "T" and (kind == "edge" or key != "_ldraw_"):
                    x, y = op["pt"]
                    w = op["width"]
                    x0 = {"l": x, "c": x - w / 2, "r": x - w}[op["align"]]
                    boxes.append((x0, y - 0.2 * size, x0 + w, y + 0.8 * size, op["text"],
                                  (kind, owner)))
    return boxes


def _overlap(a, b, slack=0.5):
    return a[0] + slack < b[2] and b[0] + slack < a[2] and a[1] + slack < b[3] \
        and b[1] + slack < a[3]


def _dot_problems(name, layout, direction):
    """The Mermaid checks, on Graphviz's layout: edges pointing backwards, gradient edges
    without an arrowhead at their target (dir=back: drawn at the tail), labels."""
    axis, sign = AXIS[direction]
    if direction in ("TB", "BT"):
        sign = -sign  # Graphviz's y axis points up
    objects = {o["_gvid"]: o for o in layout["objects"]}
    pos = {i: tuple(float(v) for v in o["pos"].split(",")) for i, o in objects.items()}
    problems, forward_labels, gradient_edges = [], [], []
    for e in layout.get("edges", []):
        t, h = pos[e["tail"]], pos[e["head"]]
        label = e.get("label") or e.get("xlabel") or ""
        if (h[axis] - t[axis]) * sign <= 0:
            problems.append(f"{name}: edge {objects[e['tail']]['name']} -> "
                            f"{objects[e['head']]['name']} points backwards")
        if e.get("style") == "dashed":
            if "_tdraw_" not in e or "_hdraw_" in e:
                problems.append(f"{name}: gradient edge {label!r} has no arrowhead at its "
                                "target")
            gradient_edges.append((objects[e["tail"]]["name"], label))
        elif label:
            forward_labels.append(label)
    boxes = {}
    for o in objects.values():
        label = o.get("label", "")
        if label.startswith("{"):  # record: {x | value 1 | grad -3 (sum of 2 paths)}
            boxes[o["name"]] = [f.strip() for f in label.strip("{}").split(" | ")]
        else:
            boxes[o["name"]] = label.split("\\n")
    return problems + _check_labels(name, boxes, forward_labels, gradient_edges)


def _dot_overlaps(name, layout):
    """Labels overlapping each other or a node, and edges drawn through other labels."""
    problems = []
    labels = _dot_boxes(layout)
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            if _overlap(a, b):
                problems.append(f"{name}: labels {a[4]!r} and {b[4]!r} overlap")
    for o in layout["objects"]:
        x, y = (float(v) for v in o["pos"].split(","))
        w, h = float(o["width"]) * 36, float(o["height"]) * 36
        for lab in labels:
            if lab[5] != ("node", o["name"]) and _overlap(lab, (x - w, y - h, x + w, y + h)):
                problems.append(f"{name}: label {lab[4]!r} overlaps node {o['label']!r}")
    for e in layout.get("edges", []):
        points = [p for op in e.get("_draw_", []) if op["op"] == "b" for p in op["points"]]
        curve = [_bezier(points[k:k + 4], t / 8) for k in range(0, len(points) - 3, 3)
                 for t in range(9)]
        for lab in labels:
            if lab[5] == ("edge", e["_gvid"]):
                continue
            if any(lab[0] + 1 < x < lab[2] - 1 and lab[1] + 1 < y < lab[3] - 1
                   for x, y in curve):
                problems.append(f"{name}: an edge is drawn through the label {lab[4]!r}")
    return problems


def _bezier(p, t):
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = p
    u = 1 - t
    return (u ** 3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t ** 3 * x3,
            u ** 3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t ** 3 * y3)


@pytest.mark.renderers
def test_dot_layout_survives_gradients(tmp_path):
    """Graphviz's own layout of the corpus (dot -Tjson): the same checks as for Mermaid,
    and up to 30 nodes no label overlaps another label, a node, or an edge."""
    renderers.require_dot()
    problems, small = [], 0
    for name, program, bindings, options in geometry_corpus():
        path = tmp_path / f"{name}.dot"
        path.write_text(graph_cli(program, *bindings, "--grads", *options, "--format",
                                  "dot").stdout, encoding="utf-8")
        layout = renderers.dot_drawing(path)
        problems += _dot_problems(name, layout, _direction(options, program))
        if len(cgraph.parse(program).nodes) <= 30:
            problems += _dot_overlaps(name, layout)
            small += 1
    assert not problems, "\n".join(problems)
    assert small >= 8


# -- the documentation's pictures are real output ---------------------------------------

ROOT = Path(__file__).parent.parent


def _current(path: Path, text: str) -> None:
    """`path` holds `text` (CGRAPH_UPDATE_GOLDEN=1 rewrites it)."""
    if os.environ.get("CGRAPH_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"{path} is stale"


def test_readme_shows_real_diagrams():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    doc = explain_cli(TUTORIAL[0], *TUTORIAL[1], "--diagrams").stdout
    _current(ROOT / "docs" / "tutorial.md", doc)
    assert doc in readme
    assert graph_cli("a = sin(x); a*a + x", "x=0.5", "--grads").stdout in readme
    terms = [f"x{i}" for i in range(1, 31)]  # the README's seq -s ' + ' -f 'x%g' 1 30
    r = graph_cli(" + ".join(terms), *[f"{t}=1" for t in terms], "--grads", "--format", "dot")
    assert r.stderr in readme


@pytest.mark.renderers
def test_docs_picture_is_current(tmp_path):
    """docs/tutorial.svg is what `cgraph graph … -o docs/tutorial.svg` draws today."""
    renderers.require_dot()
    out = tmp_path / "tutorial.svg"
    r = graph_cli(TUTORIAL[0], *TUTORIAL[1], "--grads", "-o", str(out))
    assert r.exit_code == 0 and r.stderr == ""
    _current(ROOT / "docs" / "tutorial.svg", out.read_text(encoding="utf-8"))


def test_explain_diagrams_warns_about_big_programs():
    program, bindings = _mlp(4, 6)  # 112 nodes: 140 pictures
    r = explain_cli(program, *bindings, "--diagrams")
    assert r.exit_code == 0 and len(_blocks(r.stdout)) == 140
    assert r.stderr.startswith("warning: 140 diagrams, one per step")
    r = explain_cli(_chain(40), "x=0.5", "c=0.9", "d=0.3", "--diagrams")  # 548 edges each
    assert "diagrams of up to 548 edges: Mermaid renders at most 500" in r.stderr
    program, bindings = _mlp(2, 2)
    r = explain_cli(program, *bindings, "--diagrams")
    assert r.stderr == ""


def test_o_to_a_markdown_file_fences_the_mermaid(tmp_path):
    """`-o graph.md` is Markdown: a ```mermaid block (GitHub showed the bare text as a
    paragraph); .mmd stays bare Mermaid."""
    for name, start in [("g.md", "```mermaid\nflowchart LR\n"), ("g.mmd", "flowchart LR\n")]:
        r = graph_cli("(x+y)*z", "-o", str(tmp_path / name))
        assert r.exit_code == 0, r.output
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert text.startswith(start) and text.count("```") == (2 if name == "g.md" else 0)


@pytest.mark.renderers
def test_a_lone_variable_shows_its_own_gradient(tmp_path):
    """`cgraph graph x x=1 --grads`: the output is the variable itself, so no edge carries
    its gradient. Mermaid drew `x = 1` and no gradient anywhere (the page showed
    ∂f/∂x = 1 under the box): now the box says it, as a shared node's box says its sum,
    and DOT draws the box bold, as every output box, with its `grad 1` field. Read back
    from mermaid-cli's and Graphviz's own rendering (both programs in one browser)."""
    renderers.require_mmdc()
    renderers.require_dot()
    cases = {"x": "f", "y = x": "y"}
    files = []
    for i, program in enumerate(cases):
        mmd = tmp_path / f"lone{i}.mmd"
        mmd.write_text(graph_cli(program, "x=1", "--grads").stdout, encoding="utf-8")
        files.append(mmd)
    done = renderers.mermaid_renders(files)
    assert done.returncode == 0, done.stderr
    for mmd, (program, output) in zip(files, cases.items()):
        drawing = renderers.mermaid_drawing(mmd.with_suffix(".svg"))
        assert [lines for _, _, lines in drawing.nodes.values()] == \
            [["x = 1", f"∂{output}/∂x = 1"]]
        dot = mmd.with_suffix(".dot")
        dot.write_text(graph_cli(program, "x=1", "--grads", "--format", "dot").stdout,
                       encoding="utf-8")
        [box] = renderers.dot_drawing(dot)["objects"]
        assert box["label"] == "{x | value 1 | grad 1}" and "bold" in box["style"]
        # without --grads, or before the walk-through's backward pass, no gradient yet
        assert graph_cli(program, "x=1").stdout.count("∂") == 0
        blocks = _blocks(explain_cli(program, "x=1", "--diagrams").stdout)
        assert "∂" not in blocks[0] and f"∂{output}/∂x = 1" in blocks[-1]


def _dot_columns(text: str) -> list[list[str]]:
    """The names in dot's layout of a DOT text, column by column (left to right), each
    column top to bottom: what a reader scans."""
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"cgraph-columns-{os.getpid()}.dot"
    path.write_text(text, encoding="utf-8")
    try:
        layout = renderers.dot_drawing(path)
    finally:
        path.unlink()
    columns: dict = {}
    for o in layout["objects"]:
        if "pos" in o and o["label"].startswith("{"):
            x, y = (float(v) for v in o["pos"].split(","))
            columns.setdefault(round(x), []).append((-y, o["label"][1:].split(" | ")[0]))
    return [[name for _, name in sorted(c)] for _, c in sorted(columns.items())]


@pytest.mark.renderers
@pytest.mark.parametrize("program, point, first", [
    (TUTORIAL[0], TUTORIAL[1], ["x", "y", "z"]),
    ("(x+y)*z", TUTORIAL[1], ["x", "y", "z"]),
    ((ROOT / "examples" / "model.cg").read_text(), ["w=0.8", "x=1.2", "b=-0.1", "t=0.5"],
     ["w", "x", "b"]),
    ((ROOT / "examples" / "wrapped.cg").read_text(),
     ["w1=0.5", "x1=1", "w2=-0.3", "x2=2", "b=0.1", "t=1"], ["w1", "x1", "w2", "x2"]),
], ids=["tutorial", "unnamed", "model.cg", "wrapped.cg"])
def test_dot_draws_inputs_in_the_programs_order_with_or_without_gradients(program, point,
                                                                          first):
    """Graphviz drew the tutorial's inputs y, x, z top to bottom without --grads and x, y, z
    with them (model.cg: x, w, b then w, x, b): turning gradients on reordered the forward
    picture. Inputs that feed one operation and nothing else are now drawn in the
    program's order, as Mermaid draws them, the same with and without gradients."""
    renderers.require_dot()
    plain = _dot_columns(graph_cli(program, *point, "--format", "dot").stdout)
    grads = _dot_columns(graph_cli(program, *point, "--grads", "--format", "dot").stdout)
    assert plain[0] == first and grads[0] == first
    assert plain == grads
