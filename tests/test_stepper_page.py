"""The stepper page without a browser: layout, escaping, size, templates, notebooks."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

import cgraph
from cgraph import explain, numtext, ops, stepper
from cgraph.cli import cli
from cgraph.dag_layout import layered

import renderers
from conftest import expressions

HOSTILE = ("# </script><script>alert(1)</script> & <b>'q'</b> <!-- \"\n"
           "θ = x * constructor\n__proto__ = θ + function\n__proto__ / NaN\n")
HOSTILE_POINT = {"x": 1.5, "constructor": 2, "function": -1, "NaN": 4}


def chain(n: int) -> str:
    """A program of about n nodes: a chain with a variable used all along it."""
    return "t0 = x\n" + "\n".join(f"t{i} = sin(t{i - 1}) * c + t{i - 1}"
                                  for i in range(1, n // 5 + 1))


def html_of(program: str, point: dict, **kw) -> str:
    ev = cgraph.parse(program).evaluate(point)
    return stepper.page(ev.graph, ev, explain.walkthrough(ev), **kw)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions)
def test_layout_is_left_to_right_without_overlaps(program):
    g = cgraph.parse(program)
    sizes = [(40.0 + 7 * (n.id % 5), 30.0 + 4 * (n.id % 3)) for n in g.nodes]
    edges = sorted({(j, n.id) for n in g.nodes for j in n.inputs})
    lay = layered(sizes, edges)
    for a, b in edges:  # no edge points backwards, or straight up or down
        assert lay.x[a] + sizes[a][0] / 2 < lay.x[b] - sizes[b][0] / 2
        for bx, _ in lay.routes.get((a, b), []):
            assert lay.x[a] < bx < lay.x[b]
    boxes = sorted(range(len(sizes)), key=lambda v: (lay.x[v], lay.y[v]))
    for u, v in zip(boxes, boxes[1:]):  # boxes of one layer do not overlap
        if lay.x[u] == lay.x[v]:
            assert lay.y[u] + sizes[u][1] / 2 < lay.y[v] - sizes[v][1] / 2
    assert all(0 <= lay.x[v] <= lay.width and 0 <= lay.y[v] <= lay.height
               for v in range(len(sizes)))


def test_every_step_is_its_template_filled_with_numtext():
    for program, point in (("p = x + y; g = p * z", {"x": 1, "y": 3, "z": -3}),
                           ("s = x*y; s + s*s + sin(s) + x^2", {"x": 0.5, "y": -2}),
                           ("log(x) + y/z", {"x": 0, "y": 0, "z": 0}), (HOSTILE, HOSTILE_POINT)):
        ev = cgraph.parse(program).evaluate(point)
        for section in explain.walkthrough(ev):
            for step in section.lines:
                pieces, holes = step.template()
                assert len(pieces) == len(holes) + 1
                text = pieces[0]
                for (num, paren), piece in zip(holes, pieces[1:]):
                    t = numtext.text(num.value, 6)
                    text += (f"({t})" if paren and t.startswith("-") else t) + piece
                assert text == step.text(6)


def test_hostile_names_are_escaped_everywhere():
    page = html_of(HOSTILE, HOSTILE_POINT)
    outside = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)
    assert "alert" not in outside  # comments are not shown (codegen's JS comment has them)
    for script in re.findall(r"<script[^>]*>(.*?)</script>", page, re.S):
        assert "</" not in script and "<!--" not in script
    # names and texts no program can hold, to test the escaping itself
    ev = cgraph.parse("θ = x * constructor; __proto__ = θ + 1").evaluate({"x": 1,
                                                                         "constructor": 2})
    ev.graph.source = "</script><!-- <b>'q'</b> & \u2028"
    ev.graph.output_name = '</script>"θ<b>'
    page = stepper.page(ev.graph, ev, explain.walkthrough(ev))
    # the only script and comment markup is the page's own: two scripts, no comment
    assert page.count("</script>") == 2 and "<!--" not in page
    outside = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)
    assert "<script" not in outside and "<b>" not in outside
    assert "&lt;/script&gt;&quot;θ&lt;b&gt;" in page  # shown as text
    data = re.search(r'<script type="application/json" id="data">(.*?)</script>', page,
                     re.S).group(1)
    doc = json.loads(data)  # the escaped JSON is still the same JSON
    assert any('</script>"θ<b>' in piece for step in doc["steps"] for piece in step["t"])
    assert "__proto__" in data


def test_the_network_is_forbidden_and_nothing_is_fetched():
    page = html_of("p = x + y; g = p * z", {"x": 1, "y": 3, "z": -3})
    assert "default-src 'none'" in page
    assert not re.search(r"\b(src|href)=", page.replace('xmlns="http://www.w3.org/2000/svg"',
                                                        ""))
    assert "url(" not in page.replace("url(#arrow)", "").replace("url(#garrow)", "")


def test_size_of_the_tutorial_and_linear_growth():
    tutorial = html_of("p = x + y; g = p * z", {"x": 1, "y": 3, "z": -3})
    assert len(tutorial.encode()) < 60_000
    sizes = {}
    for n in (100, 200, 400):
        sizes[n] = len(html_of(chain(n), {"x": 0.3, "c": 0.9}).encode())
    per_node = [(sizes[b] - sizes[a]) / (b - a) for a, b in ((100, 200), (200, 400))]
    assert per_node[1] < 1.3 * per_node[0]  # the cost of a node does not grow


def test_past_the_picture_limit_the_page_says_so_and_keeps_the_steps(monkeypatch):
    monkeypatch.setattr(stepper, "PICTURE_MAX", 20)
    page = html_of(chain(40), {"x": 0.3, "c": 0.9})
    assert "<svg" not in page and "picture stops helping" in page
    assert 'id="steps"' in page and 'id="controls"' in page


def test_the_pages_passes_equal_python_for_every_op():
    """The page's JavaScript (codegen's, one function per op for the local partials) gives
    every value, adjoint and local partial Python gives, for a program using every op."""
    renderers.require("node", shutil.which("node") is not None)
    calls = []
    for op in ops.OPS.values():
        if op.arity and not op.infix:
            calls.append(f"{op.spelling}({', '.join(['x', 'y', 'z'][:op.arity])})")
    program = "x ^ y - x / z * -y + " + " + ".join(calls)
    for point in ({"x": 0.7, "y": 1.5, "z": -0.4}, {"x": 0.0, "y": 0.0, "z": 0.0},
                  {"x": -1.0, "y": math.inf, "z": math.nan}):
        g = cgraph.parse(program)
        ev = g.evaluate(point)
        inputs = [point[v] for v in g.variables]
        js = stepper.passes_js(g) + (
            f"const r = passes({json.dumps(inputs)}.map(Number));\n"
            "console.log(JSON.stringify([r.values, r.adjoints, Array.from(r.partials)]"
            ".map((a) => Array.from(a, String))));")
        js = js.replace('"NaN"', "NaN").replace('"Infinity"', "Infinity")
        out = subprocess.run(["node", "-e", js], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        values, adjoints, partials = (list(map(float, a)) for a in json.loads(out.stdout))
        truth = ev.values, ev.grads, stepper._partials(g, ev.values)
        for got, want in zip((values, adjoints, partials), truth):
            assert len(got) == len(want)
            for a, b in zip(got, want):
                assert (a != a and b != b) or a == b or abs(a - b) <= 1e-12 * abs(b), (a, b)


def test_notebook_bundle_and_iframe():
    ev = cgraph.parse("(x+y)*z").evaluate({"x": 1, "y": 3, "z": -3})
    bundle = ev._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", "text/markdown"}
    assert bundle["text/markdown"].startswith("```mermaid\nflowchart LR\n")
    frame = ev._repr_html_()
    assert frame.startswith("<iframe srcdoc=\"&lt;!doctype html&gt;") and "<script" not in frame
    assert 'sandbox="allow-scripts"' in frame
    picture = cgraph.parse("x*y")._repr_html_()
    assert "&lt;svg" in picture and "id=&quot;steps&quot;" not in picture


def test_command_line_writes_the_page(tmp_path):
    out = tmp_path / "page.html"
    r = CliRunner().invoke(cli, ["explain", "p = x + y; g = p * z", "x=1", "y=3", "z=-3",
                                 "--format", "html", "-o", str(out)])
    assert r.exit_code == 0 and r.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    graph = tmp_path / "graph.html"  # the format follows the suffix
    r = CliRunner().invoke(cli, ["graph", "(x+y)*z", "-o", str(graph)])
    assert r.exit_code == 0 and "<svg" in graph.read_text(encoding="utf-8")
    r = CliRunner().invoke(cli, ["explain", "x*y", "x=1", "y=2", "--format", "text", "-o",
                                 str(tmp_path / "steps.txt")])
    assert (tmp_path / "steps.txt").read_text(encoding="utf-8").startswith("Forward pass\n")


@pytest.mark.parametrize("digits", [3, 10])
def test_digits_reach_the_page(digits):
    page = html_of("x/3", {"x": 1}, digits=digits)
    assert f"0.{'3' * digits}" in page and f'"digits":{digits}' in page


def test_the_readme_screenshot_shows_todays_page(tmp_path):
    """docs/stepper.png carries the sha256 of the page it was taken of; the README's
    command makes that same page today (else: python3 docs/stepper_screenshot.py)."""
    import importlib.util
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs"
    spec = importlib.util.spec_from_file_location("stepper_screenshot",
                                                  docs / "stepper_screenshot.py")
    shot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shot)
    page = tmp_path / "backprop.html"
    r = CliRunner().invoke(cli, [*shot.COMMAND, "-o", str(page)])
    assert r.exit_code == 0, r.output
    shown = shot.read_text((docs / "stepper.png").read_bytes(), shot.KEY)
    assert shown == shot.page_digest(page.read_bytes()), (
        "docs/stepper.png is stale: run python3 docs/stepper_screenshot.py")


def test_reading_order_groups_families_in_index_order():
    from cgraph.printing import reading_order

    names = ["W[2,1]", "x[10]", "c", "W[1,3]", "x[2]", "x[-1]", "W[1,1]", "y"]
    assert reading_order(names) == ["W[1,1]", "W[1,3]", "W[2,1]", "x[-1]", "x[2]", "x[10]",
                                    "c", "y"]
    assert reading_order(["z", "a", "m"]) == ["z", "a", "m"]  # no families: as they were
