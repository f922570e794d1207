"""The backprop stepper (`explain`/`graph --format html`) in a real browser.

Chromium (Debian's, installed by ../shared/tools/render-tools-install) is driven by Python's
playwright through `executable_path`; outside CI a missing browser skips these tests, in CI
it fails them (see renderers.py). The oracles are `cgraph explain --format text` (every step,
in order) and `cgraph eval --format json` (every value and gradient, after each input
change), run by the real command line.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import cgraph
from cgraph import numtext
from cgraph.cli import cli

import renderers

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the browser fixture skips (in CI: fails) with the reason
    expect = sync_playwright = None

MLP = """# a 2-2-1 network and its squared error (31 nodes)
h1 = tanh(w11*x1 + w12*x2 + b1)
h2 = tanh(w21*x1 + w22*x2 + b2)
y = sigmoid(v1*h1 + v2*h2 + c)
loss = (y - t)^2
"""
MLP_POINT = {"w11": 0.5, "w12": -0.3, "x1": 1.2, "x2": -0.7, "b1": 0.1, "w21": -0.8,
             "w22": 0.4, "b2": -0.2, "v1": 1.1, "v2": -0.9, "c": 0.05, "t": 1.0}
HOSTILE = """# </script><script>alert("pwned")</script> & <b>'q'</b> <!-- "
θ = x * constructor
__proto__ = θ + function
var = __proto__ / NaN
"""
PROGRAMS = {  # program, point, and a new value for each variable (in turn)
    "tutorial": ("p = x + y; g = p * z", {"x": 1, "y": 3, "z": -3},
                 {"x": 2.5, "y": -0.125, "z": 7}),
    "mlp": (MLP, MLP_POINT, {k: round(v * 1.7 - 0.3, 6) for k, v in MLP_POINT.items()}),
    "shared": ("s = x*y; s + s*s + sin(s) + exp(s)", {"x": 0.5, "y": -2},
               {"x": -1.25, "y": 3.5}),
    "hostile": (HOSTILE, {"x": 1.5, "constructor": 2, "function": -1, "NaN": 4},
                {"x": -2, "constructor": 0.25, "function": 3, "NaN": -8}),
    # `_` and `__` were empty parameters of the page's script (a dead page)
    "underscore": ("_ = x*__; _ * x_ + _", {"x": 1.5, "__": 2, "x_": -1},
                   {"x": -0.5, "__": 0.25, "x_": 3}),
    # IEEE edges at the new point: log(0) = -inf, 0/0 = NaN, sqrt(-1) = NaN, 1/0 = inf
    "edges": ("a = log(x); b = y / z; c = sqrt(w); a + b + c + 1/z",
              {"x": 1, "y": 2, "z": 4, "w": 9}, {"x": 0, "y": 0, "z": 0, "w": -1}),
}


READ_STEP = ("() => [document.getElementById('count').textContent, "
             "document.querySelector('#now .text').textContent]")


def run(*args) -> str:
    r = CliRunner().invoke(cli, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    return r.stdout


def bindings(point) -> list[str]:
    return [f"{k}={v!r}" for k, v in point.items()]


def explain_lines(program, point) -> list[str]:
    """explain's steps, as text: each line without its indent (section titles left out)."""
    text = run("explain", "--format", "text", "--", program, *bindings(point))
    titles = {"Forward pass", "Backward pass", "Result"}
    return [line.strip() for line in text.splitlines() if line.strip() not in titles
            and line.strip()]


def eval_nodes(program, point):
    doc = json.loads(run("eval", "--format", "json", "--", program, *bindings(point)))
    spelled = {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}
    as_float = lambda v: (v if v is None  # noqa: E731  (a constant's grad is null)
                          else float(spelled[v]) if isinstance(v, str) else float(v))
    return [(as_float(n["value"]), as_float(n["grad"])) for n in doc["nodes"]]


def same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:  # a constant has no gradient, on the page as in eval's JSON
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b)) or a == b


@pytest.fixture(scope="module")
def browser():
    renderers.require_browser()

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=renderers.CHROMIUM,
                              args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


class Page:
    """A page opened from file:// with the network blocked; every request, console error,
    page error and dialog recorded."""

    def __init__(self, browser, path: Path, scheme: str = "light", width: int = 1280,
                 height: int = 860):
        self.url = path.as_uri()
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           color_scheme=scheme, offline=True)
        self.requests, self.errors, self.dialogs = [], [], []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.context.route("**/*", lambda route: route.continue_()
                           if route.request.url == self.url else route.abort())
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(self.url)

    def others(self) -> list[str]:
        return [u for u in self.requests if u != self.url]

    def now(self) -> str:
        return self.page.inner_text("#now .text")

    def count(self) -> str:
        return self.page.inner_text("#count")

    def table(self) -> list[tuple[float, float]]:
        rows = self.page.eval_on_selector_all(
            "#table tbody tr", "rows => rows.map(r => Array.from("
            "r.querySelectorAll('td[data-q]')).map(td => td.textContent))")
        # a constant's gradient cell is empty (no data-q): it has no gradient
        return [(float(v), float(g[0]) if g else None) for v, *g in rows]

    def step_texts(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#steps li.step", "items => items.map(li => li.innerText.trim())")

    def close(self):
        self.context.close()


def explain_page(tmp_path, name, point=None) -> Path:
    program, start, _ = PROGRAMS[name]
    path = tmp_path / f"{name}.html"
    run("explain", "--format", "html", "-o", path, "--", program, *bindings(point or start))
    return path


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_offline_no_requests_no_errors_and_every_step_is_explains(browser, tmp_path, name):
    program, point, _ = PROGRAMS[name]
    p = Page(browser, explain_page(tmp_path, name))
    try:
        assert p.others() == [] and p.errors == [] and p.dialogs == []
        expected = explain_lines(program, point)
        assert p.step_texts() == [re.sub(r"    \(", " (", e) for e in expected]
        n = len(expected)
        for i, line in enumerate(expected):
            assert p.page.evaluate(READ_STEP) == [f"step {i + 1} of {n}", line], i
            p.page.keyboard.press("ArrowRight")
        p.page.click("#next")
        assert p.now() == expected[-1]  # next at the last step stays there
        p.page.click("#prev")
        assert p.now() == expected[-2]
        assert p.others() == [] and p.errors == []
    finally:
        p.close()


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_each_input_change_recomputes_like_eval(browser, tmp_path, name):
    program, point, new = PROGRAMS[name]
    p = Page(browser, explain_page(tmp_path, name))
    try:
        assert all(map(same, sum(p.table(), ()), sum(eval_nodes(program, point), ())))
        assert len(p.table()) == len(eval_nodes(program, point))
        point = dict(point)
        for k, var in enumerate(cgraph.parse(program).variables):  # the page's order
            point[var] = new[var]
            p.page.fill(f'#inputs input[type=number][data-var="{k}"]', repr(new[var]))
            shown, truth = p.table(), eval_nodes(program, point)
            assert len(shown) == len(truth)
            for i, (a, b) in enumerate(zip(shown, truth)):
                assert same(a[0], b[0]) and same(a[1], b[1]), (var, i, a, b)
        # the narration follows: every step equals explain's at the new point
        assert p.step_texts() == [re.sub(r"    \(", " (", e)
                                  for e in explain_lines(program, point)]
        assert p.others() == [] and p.errors == []
    finally:
        p.close()


def test_sliders_move_the_inputs(browser, tmp_path):
    p = Page(browser, explain_page(tmp_path, "tutorial"))
    try:
        slider = p.page.locator('#inputs input[type=range][data-var="2"]')
        slider.focus()
        p.page.keyboard.press("End")  # the slider's maximum: z = -3 + 2·3 = 3
        assert p.page.input_value('#inputs input[type=number][data-var="2"]') == "3"
        values = [v for v, _ in p.table()]
        assert values[-1] == (1 + 3) * 3.0
    finally:
        p.close()


CUT = """() => Array.from(document.querySelectorAll('#inputs input[type=number]'))
    .filter(e => e.scrollWidth > e.clientWidth).map(e => [e.getAttribute('aria-label'), e.value])"""


def test_a_number_field_shows_its_whole_value(browser, tmp_path):
    """descend's weights have 17 digits: the 8.5em fields showed '-3.06757526' of
    -3.0675752672258567, a number that is not the value. A field is as wide as its value,
    at the start and after a slider or a typed value changes it."""
    path = tmp_path / "w.html"
    run("graph", "--format", "html", "-o", path, "w*x + b", "w=-3.0675752672258567",
        "x=0.05037769021763214", "b=-1.7976931348623157e+308")
    p = Page(browser, path)
    try:
        assert p.page.evaluate(CUT) == []
        p.page.locator('#inputs input[type=range][data-var="1"]').focus()
        p.page.keyboard.press("ArrowRight")  # x moves by a step: 0.0503… + 0.005 in doubles
        p.page.fill('#inputs input[type=number][data-var="0"]', "-0.30000000000000004")
        assert p.page.evaluate(CUT) == [] and p.errors == []
        short = p.page.locator('#inputs input[type=number][data-var="0"]')
        short.fill("2")
        assert short.evaluate("e => e.clientWidth") < 130  # not wider than it was (8.5em)
    finally:
        p.close()


PICTURE = "() => Array.from(document.querySelectorAll('svg text')).map(t => t.textContent)"
FIELD = """(k) => { const f = document.querySelector('#inputs input[type=number][data-var="' + k
  + '"]'); const why = document.getElementById(f.getAttribute('aria-describedby'));
  return {value: f.value, invalid: f.getAttribute('aria-invalid'),
          why: why && !why.hidden && why.offsetParent !== null ? why.textContent : null,
          border: getComputedStyle(f).borderTopColor}; }"""


def test_a_field_without_a_number_is_marked_and_changes_nothing(browser, tmp_path):
    """An emptied number field kept its old value with no mark: the picture showed x = 1
    while the field said nothing. Now the field is marked invalid (aria-invalid, a red
    border) with a message beside it naming the value everything still uses; the picture
    and the table stay exactly as they were (they are right for that value, so nothing is
    stale); a number typed clears the mark; leaving the field, or Escape, puts the value
    back."""
    program, point, _ = PROGRAMS["tutorial"]
    path = tmp_path / "graph.html"
    run("graph", "--grads", "-o", path, "--", program, *bindings(point))
    p = Page(browser, path)
    try:
        before, table = p.page.evaluate(PICTURE), p.table()
        plain = p.page.evaluate(FIELD, 0)
        assert plain["invalid"] is None and plain["why"] is None
        field = p.page.locator('#inputs input[type=number][data-var="0"]')
        field.fill("")
        state = p.page.evaluate(FIELD, 0)
        assert state["invalid"] == "true" and state["why"] == "empty: still x = 1"
        assert state["border"] != plain["border"]
        assert p.page.evaluate(PICTURE) == before and p.table() == table
        assert p.page.get_by_role("spinbutton", name="x").evaluate(
            "f => f.validity.valid && f.getAttribute('aria-describedby')") == "why0"
        field.press_sequentially("1e")  # half a number: the browser holds no value
        state = p.page.evaluate(FIELD, 0)
        assert state["why"] == "not a number: still x = 1" and p.table() == table
        field.press("Backspace")
        field.press("Backspace")
        field.press_sequentially("2.5")
        state = p.page.evaluate(FIELD, 0)
        assert state["invalid"] is None and state["why"] is None
        assert all(map(same, sum(p.table(), ()),
                       sum(eval_nodes(program, {**point, "x": 2.5}), ())))
        field.fill("")
        assert p.page.evaluate(FIELD, 0)["why"] == "empty: still x = 2.5"
        field.press("Tab")  # leaving the field puts the value everything uses back
        assert p.page.evaluate(FIELD, 0) | {"border": None} == \
            {"value": "2.5", "invalid": None, "why": None, "border": None}
        field.fill("")
        field.press("Escape")
        assert p.page.evaluate(FIELD, 0)["value"] == "2.5"
        assert p.errors == [] and p.dialogs == []
    finally:
        p.close()


LINES_AT = """(args) => { const [ids, x] = args;
  return ids.map((id) => { const p = document.getElementById(id).querySelector('path');
    let best = null;
    for (let at = 0; at <= p.getTotalLength(); at += 0.5) {
      const q = p.getPointAtLength(at);
      if (best === null || Math.abs(q.x - x) < Math.abs(best.x - x)) best = q;
    }
    return best.y; }); }"""


@pytest.mark.parametrize("program", ["x*x", "a = sin(x); a*a + x"])
def test_both_operands_of_a_square_are_drawn_apart(browser, tmp_path, program):
    """In `a * a` the page draws an edge per operand, each with its dashed gradient under
    it: the second edge ran 2 px above the first one's gradient, four lines drawn as a
    smear. Now each pair stays together and the lines are evenly apart (9 px), read in
    the browser halfway along the edges."""
    path = tmp_path / "square.html"
    run("graph", "--grads", "-o", path, "--", program, "x=0.5")
    graph = cgraph.parse(program)
    node = next(n for n in graph.nodes if len(n.inputs) == 2 and n.inputs[0] == n.inputs[1])
    ids = [f"e{node.id}.0", f"b{node.id}.0", f"e{node.id}.1", f"b{node.id}.1"]
    p = Page(browser, path)
    try:
        start, end = p.page.evaluate(
            "(id) => { const p = document.getElementById(id).querySelector('path');"
            " return [p.getPointAtLength(0).x, p.getPointAtLength(p.getTotalLength()).x]; }",
            ids[0])
        ys = p.page.evaluate(LINES_AT, [ids, (start + end) / 2])
        gaps = [b - a for a, b in zip(ys, ys[1:])]
        assert all(g >= 8 for g in gaps), dict(zip(ids, ys))  # in this order, 9 px apart
    finally:
        p.close()


NAMES_IN_PICTURE = """() => {
  const texts = Array.from(document.querySelectorAll('svg text')).map(t => t.textContent);
  const named = texts.flatMap(t => Array.from(t.matchAll(/(?:^|\\s)([^\\s=∂]+) = /g), m => m[1]));
  const asked = texts.flatMap(t => Array.from(t.matchAll(/∂[^\\/]+\\/∂(\\S+) =/g), m => m[1]));
  return {named: Array.from(new Set(named)), asked: Array.from(new Set(asked))};
}"""


@pytest.mark.parametrize("program, point", [
    ("z = w*x + b; y = sigmoid(z); loss = (y - t)^2", ["w=0.8", "x=1.2", "b=-0.1", "t=0.5"]),
    ("a = sin(x); a*a + exp(a*x)", ["x=0.5"]),
])
def test_every_gradient_label_names_something_in_the_picture(browser, tmp_path, program,
                                                              point):
    """The page wrote '∂loss/∂t2 = 0.0846832' under × while the edge out of it said only
    '0.96': t2 was nowhere in the picture. An unnamed node's value is labelled with its
    name, as Mermaid's and DOT's edges and explain's steps name it (t2 = 0.96)."""
    path = tmp_path / "g.html"
    run("graph", "--grads", "--format", "html", "-o", path, "--", program, *point)
    p = Page(browser, path)
    try:
        shown = p.page.evaluate(NAMES_IN_PICTURE)
        assert shown["asked"] and set(shown["asked"]) <= set(shown["named"]), shown
        assert p.errors == []
    finally:
        p.close()


def test_keyboard_alone_steps_and_plays(browser, tmp_path):
    p = Page(browser, explain_page(tmp_path, "tutorial"))
    try:
        n = len(explain_lines(*PROGRAMS["tutorial"][:2]))
        keyboard = p.page.keyboard
        for _ in range(3):
            keyboard.press("ArrowRight")
        assert p.count() == f"step 4 of {n}"
        keyboard.press("ArrowLeft")
        assert p.count() == f"step 3 of {n}"
        keyboard.press("End")
        assert p.count() == f"step {n} of {n}"
        keyboard.press("Home")
        assert p.count() == f"step 1 of {n}"
        for _ in range(40):  # Tab reaches the buttons; Enter presses the focused one
            keyboard.press("Tab")
            if p.page.evaluate("document.activeElement.id") == "next":
                break
        else:
            pytest.fail("Tab never reached the next-step button")
        keyboard.press("Enter")
        assert p.count() == f"step 2 of {n}"
        focus = p.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert focus != "none"  # the focused control is visible
        keyboard.press("Shift+Tab")  # play: Enter plays, Enter again pauses
        assert p.page.evaluate("document.activeElement.id") == "play"
        keyboard.press("Enter")
        # playing: the count leaves step 2 by itself (waiting for one step, shown 900 ms,
        # could miss it between two polls of a loaded machine and time out at step n)
        expect(p.page.locator("#count")).not_to_have_text(f"step 2 of {n}", timeout=10_000)
        keyboard.press("Enter")
        paused = p.count()
        p.page.wait_for_timeout(1500)
        assert p.count() == paused != f"step {n} of {n}"
        assert p.errors == []
    finally:
        p.close()


def test_screenshots_of_first_middle_and_last_step(browser, tmp_path):
    """Written for a person to look at (not compared): CGRAPH_SCREENSHOTS=DIR keeps them."""
    out = Path(os.environ.get("CGRAPH_SCREENSHOTS") or tempfile.mkdtemp(prefix="stepper-"))
    out.mkdir(parents=True, exist_ok=True)
    for name, scheme in (("tutorial", "light"), ("mlp", "light"), ("shared", "dark")):
        p = Page(browser, explain_page(tmp_path, name), scheme)
        try:
            n = int(p.count().split()[-1])
            for label, key in (("first", "Home"), ("middle", None), ("last", "End")):
                if key:
                    p.page.keyboard.press(key)
                else:
                    p.page.keyboard.press("Home")
                    for _ in range(n // 2):
                        p.page.keyboard.press("ArrowRight")
                shot = out / f"{name}-{label}.png"
                p.page.screenshot(path=str(shot))
                assert shot.stat().st_size > 10_000
        finally:
            p.close()
    print(f"screenshots in {out}")


MEASURE = """() => {
  const box = (el) => el.getBoundingClientRect();
  const pic = document.getElementById('picture'), svg = pic.querySelector('svg.graph');
  return {page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
          scrolls: pic.scrollWidth - pic.clientWidth, drawn: svg.width.baseVal.value,
          shown: box(svg).width, left: box(svg).left - box(pic).left,
          right: box(pic).right - box(svg).right,
          hint: getComputedStyle(pic, '::after').content,
          focus: Array.from(pic.querySelectorAll('.focus')).map((el) => {
            const r = box(el), p = box(pic);
            return r.left >= p.left - 1 && r.right <= p.right + 1; })};
}"""


@pytest.mark.parametrize("width", (320, 400))
def test_on_a_phone_the_picture_fits_and_a_tap_shows_it_full_size(browser, tmp_path, width):
    """At 400 px the picture was scaled to 75% at most and then cut at the right edge, its
    box scrolling with nothing to say so (trial6); at 320 px its box's minimum width made
    the page scroll sideways. On a screen that narrow it fits its box, whole, and says a
    tap shows it at full size; there it scrolls to the step's place, and a tap fits it
    again. The page itself never scrolls sideways."""
    for name in ("tutorial", "mlp"):
        p = Page(browser, explain_page(tmp_path, name), width=width)
        try:
            fit = p.page.evaluate(MEASURE)
            assert fit["page"] <= 0 and fit["scrolls"] <= 0, fit
            assert fit["left"] >= 0 and fit["right"] >= 0 and fit["shown"] < fit["drawn"], fit
            assert fit["hint"] == '"tap the picture for its full size"', fit
            p.page.click("#picture")
            p.page.keyboard.press("End")  # the last step: the output, at the right edge
            full = p.page.evaluate(MEASURE)
            assert full["shown"] == full["drawn"] and full["scrolls"] > 0, full
            assert full["page"] <= 0 and full["focus"] and all(full["focus"]), full
            assert full["hint"] == '"tap the picture to fit it in"', full
            p.page.click("#picture")
            again = p.page.evaluate(MEASURE)
            assert again["scrolls"] <= 0 and again["shown"] == fit["shown"], again
            assert p.errors == []
        finally:
            p.close()
    page = tmp_path / "graph.html"  # the picture alone (no script): it fits all the same
    run("graph", "p = x + y; g = p * z", "x=1", "y=3", "z=-3", "-o", page)
    p = Page(browser, page, width=width)
    try:
        alone = p.page.evaluate(MEASURE)
        assert alone["page"] <= 0 and alone["scrolls"] <= 0 and alone["right"] >= 0, alone
    finally:
        p.close()
    p = Page(browser, explain_page(tmp_path, "tutorial"))  # wide: as drawn, no hint
    try:
        wide = p.page.evaluate(MEASURE)
        assert wide["shown"] == wide["drawn"] and wide["hint"] == "none", wide
        p.page.click("#picture")
        assert p.page.evaluate(MEASURE) == wide
    finally:
        p.close()



XOR = """h[j] = tanh(sum(W[j,i] * x[i] for i in 1..2) + b[j]) for j in 1..4
p = sigmoid(sum(v[j] * h[j] for j in 1..4) + c)
loss = (p - y)^2
"""
XOR_START = {"W": [[0.5, -0.4], [0.3, 0.8], [-0.7, 0.2], [0.1, 0.6]], "b": [0, 0.1, -0.1, 0.2],
             "v": [0.5, -0.5, 0.3, 0.8], "c": 0}
XOR_FIT = {  # descend's weights (README's xor example), 17 significant digits, and a tiny one
    "W[1,1]": 2.0944396489832515, "W[1,2]": -3.0675752672258567, "W[2,1]": -0.9531922263201631,
    "W[2,2]": 2.9046077648474506, "W[3,1]": -3.778594330339924, "W[3,2]": 2.6138769097282593,
    "W[4,1]": 2.108733919782133, "W[4,2]": 3.089604033874995, "b[1]": -1.0162665255003098,
    "b[2]": 0.05037769021763214, "b[3]": -0.8766367911125424, "b[4]": -0.5576514155692,
    "v[1]": 2.9858698355312656, "v[2]": -2.524777579932056, "v[3]": 4.541435879854032,
    "v[4]": -1.2345678901234567e-308, "c": 1.9928210559692292}
LONG_NAME = "συντελεστής_απόσβεσης_του_δεύτερου_στρώματος_του_δικτύου"  # 56 letters, no break
WIDE = f"{LONG_NAME} = -1.2345678901234567e-308 * x; {LONG_NAME} * y_μακρύ_όνομα_εισόδου"
# the page, and each part of the heading, the inputs and the step shown, when past an edge
OUTSIDE = """() => {
  const root = document.documentElement, w = root.clientWidth, out = [];
  if (root.scrollWidth > w) out.push(['page', 0, root.scrollWidth]);
  const parts = 'h1, #inputs .input, #inputs .input > *, #controls, #now';
  for (const el of document.querySelectorAll(parts)) {
    const r = el.getBoundingClientRect();
    if (r.left < 0 || r.right > w) {
      out.push([el.getAttribute('aria-label') || el.className || el.tagName, r.left, r.right]);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("width", (320, 390, 400, 1280))
def test_inputs_with_family_names_long_names_and_long_numbers_never_scroll_sideways(
        browser, tmp_path, width):
    """The xor network's inputs are W[1,1], …: at 320 px W[1,1]'s slider ended at 345 px,
    and with descend's 17-digit weights the page was 435 px wide at 320, 390 and 400 px,
    its sliders cut at the screen's edge (trial11). An input's name, number field and
    slider wrap within the page's width, the field still showing its whole number, after
    a longer number is typed too, and with the table of every node open."""
    start = tmp_path / "start.json"
    start.write_text(json.dumps(XOR_START))
    fit = tmp_path / "fit.json"
    fit.write_text(json.dumps(XOR_FIT))
    point = ["x=[0,1]", "y=1"]
    pages = {"start": ["explain", "--bindings", start, "--", XOR, *point],
             "fit": ["explain", "--bindings", fit, "--", XOR, *point],
             "fit-graph": ["graph", "--bindings", fit, "--", XOR, *point],
             "wide": ["explain", "--", WIDE, "x=-1.2345678901234567e-308",
                      "y_μακρύ_όνομα_εισόδου=-3.0675752672258567"]}
    for name, (command, *args) in pages.items():
        pages[name] = tmp_path / f"{name}.html"
        run(command, "--format", "html", "-o", pages[name], *args)
    for path in pages.values():
        p = Page(browser, path, width=width, height=640)
        try:
            assert p.page.evaluate(OUTSIDE) == [] and p.page.evaluate(CUT) == [], path.name
            p.page.fill('#inputs input[type=number][data-var="0"]', "-1.2345678901234567e-308")
            p.page.locator('#inputs input[type=range][data-var="1"]').focus()
            p.page.keyboard.press("ArrowRight")
            p.page.click("#table summary")
            assert p.page.evaluate(OUTSIDE) == [] and p.page.evaluate(CUT) == [], path.name
            assert p.errors == []
        finally:
            p.close()


IN_VIEW = """() => {
  const box = (el) => el.getBoundingClientRect();
  const pic = box(document.getElementById('picture'));
  const li = box(document.querySelector('#steps li.current'));
  const beside = li.left >= pic.right;
  const steps = document.getElementById('steps'), own = box(steps);
  return {count: document.getElementById('count').textContent, height: innerHeight,
          picture: [pic.top, pic.bottom], line: [li.top, li.bottom], beside: beside,
          covered: !beside && li.top < pic.bottom && li.bottom > pic.top,
          box: [own.top, own.bottom], own: steps.scrollHeight > steps.clientHeight,
          main: box(document.querySelector('main')).height};
}"""


@pytest.mark.parametrize("name", ("model", "mlp", "tutorial"))
def test_on_a_desktop_the_picture_stays_in_view_while_stepping(browser, tmp_path, name):
    """At 1280x900, stepping with the arrow keys to the last step scrolled the page to keep
    the step's line in view, and the picture's top half (the node the step talks about)
    left the screen (trial9). Now the picture stays whole in the window at every step, and
    so does the step's line, not hidden under the picture, going forward and back.
    The steps scroll in their own box (for a while they scrolled with the page, which a
    long program made long: the picture and the steps are never taller than the window),
    and the step's line is inside that box where it shows."""
    if name == "model":
        path = tmp_path / "model.html"
        point = {"w": 0.8, "x": 1.2, "b": -0.1, "t": 0.5}
        run("explain", "--file", Path(__file__).parent.parent / "examples" / "model.cg",
            *bindings(point), "-o", path)
    else:
        path = explain_page(tmp_path, name)
    p = Page(browser, path, width=1280, height=900)
    try:
        n = int(p.count().split()[-1])
        seen = []
        for key in ["ArrowRight"] * (n - 1) + ["ArrowLeft"] * (n - 1):
            p.page.keyboard.press(key)
            at = p.page.evaluate(IN_VIEW)
            seen.append(at)
            assert -1 <= at["picture"][0] and at["picture"][1] <= at["height"] + 1, at
            assert -1 <= at["line"][0] and at["line"][1] <= at["height"] + 1, at
            assert not at["covered"], at
            assert at["main"] <= at["height"], at
            assert at["box"][0] - 1 <= at["line"][0] and at["line"][1] <= at["box"][1] + 1, at
        assert any(at["own"] for at in seen) == (name != "tutorial"), seen[0]
        assert seen[n - 2]["count"] == f"step {n} of {n}" and seen[-1]["count"] == f"step 1 of {n}"
        assert p.errors == []
    finally:
        p.close()


def test_dark_and_light_schemes(browser, tmp_path):
    path = explain_page(tmp_path, "tutorial")
    lum = {}
    for scheme in ("light", "dark"):
        p = Page(browser, path, scheme)
        try:
            rgb = p.page.evaluate("getComputedStyle(document.body).backgroundColor")
            r, g, b = (int(x) for x in re.findall(r"\d+", rgb)[:3])
            lum[scheme] = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255
        finally:
            p.close()
    assert lum["light"] > 0.9 and lum["dark"] < 0.15


def test_the_page_spells_numbers_as_numtext(browser, tmp_path):
    rng = random.Random(12)
    values = [0.0, -0.0, 0.5, 2.5, 1234565.0, 1234575.0, 0.000123456785, 1e16, 1e21, 1e-5,
              123456.5, 9.9999995, 999999.5, 5e-324, 1.7976931348623157e308, -1e-300,
              math.nan, math.inf, -math.inf, 1 / 3, 2 / 3, 100.0, 1e-4, 0.00012345]
    values += [rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30) for _ in range(300)]
    values += [rng.randint(-10 ** 8, 10 ** 8) / 2 for _ in range(100)]  # ties
    cases = [(v, d) for v in values for d in (None, 1, 2, 3, 6, 10, 17)]
    p = Page(browser, explain_page(tmp_path, "tutorial"))
    try:
        shown = p.page.evaluate(
            "cases => cases.map(([v, d]) => cgraphFormat(Number(v), d))",
            [[repr(v) if v == v and v - v == 0 else {"nan": "NaN", "inf": "Infinity",
                                                    "-inf": "-Infinity"}[repr(v)], d]
             for v, d in cases])
    finally:
        p.close()
    wrong = [(v, d, s, numtext.text(v, d)) for (v, d), s in zip(cases, shown)
             if s != numtext.text(v, d)]
    assert wrong == []


def test_graph_page_is_the_picture_without_the_steps(browser, tmp_path):
    program, point, _ = PROGRAMS["shared"]
    path = tmp_path / "graph.html"
    run("graph", "--grads", "-o", path, "--", program, *bindings(point))
    p = Page(browser, path)
    try:
        assert p.others() == [] and p.errors == []
        assert p.page.locator("#controls").count() == 0
        labels = p.page.locator("svg .glabel").all_text_contents()
        ev = cgraph.parse(program).evaluate(point)
        assert f"∂f/∂s = {numtext.text(ev.grads[2], 6)}" in labels  # all shown at once
        p.page.fill('#inputs input[type=number][data-var="0"]', "2")
        assert same(p.table()[-1][0], eval_nodes(program, {**point, "x": 2})[-1][0])
    finally:
        p.close()


def test_inputs_are_listed_family_by_family(browser, tmp_path):
    """xor.cg's page listed its inputs in order of first use, W[1,1], x[1], W[1,2], x[2],
    b[1], W[2,1], …: each family is now together, in index order, and Tab walks them in
    that order; a field still sets its own variable (eval is the oracle)."""
    ex = Path(__file__).parent.parent / "examples"
    program = (ex / "xor.cg").read_text(encoding="utf-8")
    point = {f"W[{j},{i}]": w for j, row in
             enumerate([[0.5, -0.4], [0.3, 0.8], [-0.7, 0.2], [0.1, 0.6]], 1)
             for i, w in enumerate(row, 1)}
    point.update({"x[1]": 0, "x[2]": 1, "y": 1, "c": 0, "b[1]": 0, "b[2]": 0.1,
                  "b[3]": -0.1, "b[4]": 0.2, "v[1]": 0.5, "v[2]": -0.5, "v[3]": 0.3,
                  "v[4]": 0.8})
    order = ([f"W[{j},{i}]" for j in range(1, 5) for i in (1, 2)] + ["x[1]", "x[2]"]
             + [f"b[{j}]" for j in range(1, 5)] + [f"v[{j}]" for j in range(1, 5)]
             + ["c", "y"])
    path = tmp_path / "xor.html"
    run("graph", "--grads", "-o", path, "--file", ex / "xor.cg", *bindings(point))
    p = Page(browser, path)
    try:
        assert p.page.locator("#inputs .name").all_text_contents() == order
        p.page.locator("#inputs input[type=number]").first.focus()
        walked = []
        for _ in order:
            walked.append(p.page.evaluate("document.activeElement.getAttribute('aria-label')"))
            p.page.keyboard.press("Tab")  # the number field, then its slider
            p.page.keyboard.press("Tab")
        assert walked == order
        p.page.fill('#inputs input[aria-label="b[2]"]', "0.75")
        truth = eval_nodes(program, {**point, "b[2]": 0.75})
        assert all(same(a, b) for row, want in zip(p.table(), truth)
                   for a, b in zip(row, want))
        assert p.errors == []
    finally:
        p.close()


def test_the_branch_not_taken_gets_no_gradient_edge(browser, tmp_path):
    """where(x > 0, sqrt(x), 0) at x = -1: sqrt's branch is not taken, so no gradient
    edge (which would read 0·NaN = NaN) goes into it or on to x, as `explain` says `none`;
    at x = 4 it is taken, and its gradients are eval's."""
    program = "where(x > 0, sqrt(x), 0)"
    path = tmp_path / "where.html"
    run("explain", "--format", "html", "-o", path, "--", program, "x=-1")
    assert "∂f/∂t3 = none" in run("explain", "--format", "text", "--", program, "x=-1")
    p = Page(browser, path)
    graph = cgraph.parse(program)
    sqrt = next(n.id for n in graph.nodes if n.op.name == "sqrt")
    where = graph.output
    into = [f"#b{where}\\.1", f"#b{sqrt}\\.0"]  # where -> sqrt(x), sqrt(x) -> x
    grad_texts = ("() => Array.from(document.querySelectorAll('svg .grad, svg .glabel'))"
                  ".filter(el => el.getClientRects().length).map(el => el.textContent)")
    try:
        p.page.keyboard.press("End")
        assert p.now() == explain_lines(program, {"x": -1})[-1]
        for sel in into:
            assert p.page.locator(sel).count() == 1 and not p.page.locator(sel).is_visible()
        assert p.page.locator(f"#gl{sqrt}").is_hidden()
        shown = p.page.evaluate(grad_texts)
        assert "∂f/∂x = 0" in shown and not any("NaN" in t for t in shown), shown
        p.page.fill('#inputs input[type=number][data-var="0"]', "4")
        truth = eval_nodes(program, {"x": 4})
        for sel in into:
            assert p.page.locator(sel).is_visible()
        # a contribution on an edge: the gradient times the local partial; here each
        # edge is the only path, so it is the gradient of the node it goes into
        assert same(float(p.page.text_content(into[0])), truth[sqrt][1])
        assert same(float(p.page.text_content(into[1])), truth[0][1])
        assert p.page.text_content(f"#gl{sqrt}") == f"∂f/∂t3 = {numtext.text(truth[sqrt][1], 6)}"
        assert not any("NaN" in t for t in p.page.evaluate(grad_texts))
        p.page.fill('#inputs input[type=number][data-var="0"]', "-1")  # and back
        assert all(p.page.locator(sel).is_hidden() for sel in into)
        assert p.others() == [] and p.errors == []
    finally:
        p.close()


GRADIENT_LABELS = """() => Array.from(document.querySelectorAll('svg .glabel'))
  .filter((el) => el.getClientRects().length)
  .map((el) => [el.textContent,
                getComputedStyle(el.querySelector('[data-s]')).visibility === 'visible'])"""


def stated_at(lines: list[str], label: str, value: str) -> int:
    """The step where explain's text first gives ∂f/∂label whole: its only path's or its
    paths' sum (`∂f/∂x = … = 2`, not `∂f/∂x (via t2) = …`), or `none` where it is 0."""
    says = re.compile(rf"∂f/∂{re.escape(label)}( \((left|right|argument \d+)\))? = ")
    for i, line in enumerate(lines):
        line = line.split("    (")[0]
        if says.match(line) and (line.endswith(f" = {value}")
                                 or value == "0" and line.endswith(" = none")):
            return i
    raise AssertionError(f"explain never states ∂f/∂{label} = {value}")


@pytest.mark.parametrize("program, point, at", [
    # trial7: a comparison's input and where's condition are no path, so `∂f/∂x = 1` (and
    # `∂f/∂x = 2`, `∂f/∂y = 0`) showed from the first step of the forward pass
    ("f = (x < 2) + x", {"x": 1}, {}),
    ("f = where(x < y, x*2, y)", {"x": 1, "y": 3}, {}),
    ("f = where(x, x, y)", {"x": 0.5, "y": 1}, {}),
    ("f = x*x + where(x < 1, x, 2)", {"x": 0.5}, {}),
    ("f = sin(x)*x + x", {"x": 1}, {}),
    # y feeds only the branch not taken: its 0 shows when the pass says that branch gets
    # `none` (explain itself states it only in the result)
    ("f = where(x < y, x*2, sin(y)*3)", {"x": 1, "y": 3}, {"y": "∂f/∂t7 = none"}),
])
def test_each_gradient_shows_at_the_step_that_gives_it(browser, tmp_path, program, point,
                                                        at):
    """Stepping the page, each gradient under the picture's shapes is hidden until the
    step of explain's text that gives it, and shown from then on."""
    lines = explain_lines(program, point)
    path = tmp_path / "reveal.html"
    run("explain", "--format", "html", "-o", path, "--", program, *bindings(point))
    p = Page(browser, path)
    try:
        p.page.keyboard.press("End")
        final = p.page.evaluate(GRADIENT_LABELS)
        assert final and all(visible for _, visible in final), final
        when = {}
        for text, _ in final:
            label, value = re.fullmatch(r"∂f/∂(\S+) = (\S+)", text).groups()
            when[text] = (next(i for i, line in enumerate(lines) if line.startswith(at[label]))
                          if label in at else stated_at(lines, label, value))
        p.page.keyboard.press("Home")
        for i in range(len(lines)):
            seen = dict(p.page.evaluate(GRADIENT_LABELS))
            assert seen == {t: when[t] <= i for t in when}, (i, lines[i])
            p.page.keyboard.press("ArrowRight")
        assert p.errors == []
    finally:
        p.close()


GEOMETRY = """() => {
  const svg = document.querySelector('svg.graph');
  const vb = svg.viewBox.baseVal;
  const box = (el) => { const b = el.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; };
  const texts = Array.from(svg.querySelectorAll('text'))
    .filter((t) => t.getClientRects().length).map((t) => [t.textContent, box(t)]);
  const shapes = Array.from(svg.querySelectorAll('.node')).map((g) => [g.id, box(g)]);
  const symbols = Array.from(svg.querySelectorAll('.node.op')).map((g) => {
    const c = g.querySelector('circle');
    return [g.id, box(g.querySelector('.sym')), c.cx.baseVal.value, c.cy.baseVal.value,
            c.r.baseVal.value];
  });
  const pic = document.getElementById('picture');
  return {view: [vb.x, vb.y, vb.x + vb.width, vb.y + vb.height], texts, shapes, symbols,
          overflow: pic.scrollWidth - pic.clientWidth};
}"""


def test_every_label_fits_and_none_overlaps(browser, tmp_path):
    """A logistic neuron's loss, as a new user drew it with `graph --grads`: every node and
    label inside the picture's viewBox, the picture without a scrollbar, each operation's
    name inside its circle, and no two labels on top of each other."""
    path = tmp_path / "gr.html"
    run("graph", "--grads", "-o", path, "--", "z = w*x + b; y = sigmoid(z); loss = (y - t)^2",
        "w=0.8", "x=1.2", "b=-0.1", "t=0.5")
    p = Page(browser, path)
    try:
        g = p.page.evaluate(GEOMETRY)
        x0, y0, x1, y1 = g["view"]
        outside = [k for k, (a, b, c, d) in g["texts"] + g["shapes"]
                   if a < x0 or b < y0 or c > x1 or d > y1]
        assert outside == [] and g["overflow"] <= 0
        spilled = [k for k, (a, b, c, d), cx, cy, r in g["symbols"]
                   if max(math.hypot(x - cx, y - cy) for x in (a, c) for y in (b, d)) > r + 1]
        assert spilled == []
        texts = g["texts"]
        overlaps = [(s, t) for i, (s, a) in enumerate(texts) for t, b in texts[i + 1:]
                    if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
        assert overlaps == []
    finally:
        p.close()


CROSSINGS = """() => {
  const svg = document.querySelector('svg.graph');
  const shown = (el) => el.getClientRects().length > 0
    && getComputedStyle(el).visibility !== 'hidden';
  const box = (el) => { const b = el.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; };
  const texts = Array.from(svg.querySelectorAll('text')).filter(shown)
    .map((t) => [t.textContent, box(t)]);
  const lines = Array.from(svg.querySelectorAll('.edge > path, .grad > path')).filter(shown)
    .map((p) => {
      const points = [];
      for (let at = 0; at <= p.getTotalLength(); at += 3) {
        const q = p.getPointAtLength(at);
        points.push([q.x, q.y]);
      }
      return [p.parentNode.id, points];
    });
  return {texts, lines};
}"""
LABELLED = {  # `graph --grads` pictures: every value and (up to 12 nodes) gradient shown
    "neuron": ("z = w*x + b; y = sigmoid(z); loss = (y - t)^2",
               {"w": 0.8, "x": 1.2, "b": -0.1, "t": 0.5}),
    "softmax": ("e1 = exp(z1); e2 = exp(z2); e3 = exp(z3); s = e1 + e2 + e3; "
                "loss = -log(e2 / s)", {"z1": 1, "z2": 2, "z3": 0.5}),
    **{name: (program, point) for name, (program, point, _) in PROGRAMS.items()},
}


def test_no_line_is_drawn_across_a_label(browser, tmp_path):
    """What a new user saw on the neuron's page: value labels with edges drawn across them.
    In Chromium, in each picture: no label on another, and no line (an edge or a dashed
    gradient, its own included) through a label's text, in the pictures that reach that;
    over all of them, at most a handful (each label is placed, in stepper._Labels, where
    it crosses the fewest lines: 109 crossings and 5 overlapping labels in these pictures
    when every label sat at the middle of its edge's first stretch, 9 and 0 now)."""
    crossed, overlaps = {}, []
    for name, (program, point) in LABELLED.items():
        path = tmp_path / f"{name}.html"
        run("graph", "--grads", "-o", path, "--", program, *bindings(point))
        p = Page(browser, path)
        try:
            g = p.page.evaluate(CROSSINGS)
        finally:
            p.close()
        texts = g["texts"]
        overlaps += [(name, s, t) for i, (s, a) in enumerate(texts) for t, b in texts[i + 1:]
                     if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
        crossed[name] = [(text, line) for text, (x0, y0, x1, y1) in texts
                         for line, points in g["lines"]
                         if any(x0 + 1 < x < x1 - 1 and y0 + 2 < y < y1 - 2 for x, y in points)]
    assert overlaps == []
    for name in ("neuron", "tutorial", "mlp", "edges"):
        assert crossed[name] == [], name
    assert sum(map(len, crossed.values())) <= 10, crossed


STATEMENT_LINES = """() => {
  // each statement of the heading's program: the distinct line tops its characters take
  const code = document.querySelector('h1 code'), text = code.textContent;
  const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT), at = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode())
    for (let k = 0; k < n.data.length; k++) at.push([n, k]);
  const out = [];
  let start = 0;
  for (const part of text.split('; ')) {
    const end = start + part.length, range = document.createRange();
    range.setStart(at[start][0], at[start][1]);
    range.setEnd(at[end - 1][0], at[end - 1][1] + 1);
    const tops = new Set(Array.from(range.getClientRects())
                           .filter((r) => r.width > 0).map((r) => Math.round(r.top)));
    out.push([part, tops.size]);
    start = end + 2;
  }
  return out;
}"""


@pytest.mark.parametrize("width", (320, 390))
def test_on_a_phone_the_headings_program_breaks_between_statements(browser, tmp_path, width):
    """The page's heading (`cgraph` and the program on one line) wrapped at any space on a
    phone, so a short statement was cut in two ('…; q' / '= h^2', trial10). Its lines now
    break between statements: each statement that fits on a line is on one line."""
    program = "a = x*y + 1; b = sin(a) * exp(-a); c = a*b + b/a; d = c^2 - a; g = d/b"
    path = tmp_path / "page.html"
    run("explain", "--format", "html", "-o", path, "--", program, "x=0.5", "y=2")
    p = Page(browser, path, width=width)
    try:
        lines = p.page.evaluate(STATEMENT_LINES)
        assert [part for part, _ in lines] == program.split("; ")
        assert all(n == 1 for _, n in lines), lines
        assert p.page.evaluate("document.querySelector('h1').getBoundingClientRect()"
                               ".height") > 40  # (it does take several lines)
        assert p.errors == []
    finally:
        p.close()
