"""The real renderers (Graphviz's dot, mermaid-cli) as the tests' oracle.

They are installed by ../shared/tools/render-tools-install. Outside CI a missing tool skips
the tests that need it, with the reason; in CI (CI=true) a missing tool is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TOOLS_DIR = Path(os.environ.get("TOOLS_DIR")
                 or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                 / "render-tools")
MMD_PARSE = TOOLS_DIR / "mmd-parse.mjs"
MMDC = TOOLS_DIR / "node_modules" / ".bin" / "mmdc"
PUPPETEER = TOOLS_DIR / "puppeteer.json"
SVG = "{http://www.w3.org/2000/svg}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def require(what: str, present: bool) -> None:
    if present:
        return
    message = (f"{what} is not installed: run ../shared/tools/render-tools-install "
               f"(looked in {TOOLS_DIR} and on PATH)")
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_dot() -> None:
    require("Graphviz (dot)", shutil.which("dot") is not None)


def require_mermaid_parse() -> None:
    require("mermaid (node + jsdom)", shutil.which("node") is not None and MMD_PARSE.exists())


def require_mmdc() -> None:
    require("mermaid-cli (mmdc) and Chromium", MMDC.exists() and PUPPETEER.exists())


CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def require_browser() -> None:
    """Chromium (Debian's, from render-tools-install) driven by Python's playwright, which
    uses it through executable_path: it never downloads a browser of its own."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require("playwright (pip install -e '.[test]')", False)
    require("Chromium", Path(CHROMIUM).exists())


def katex_errors(lines, folder: Path) -> list[str]:
    """Each line KaTeX (the renderer Mermaid bundles) refuses, with its message: every
    line rendered in one node process, throwOnError. Skips the test without KaTeX."""
    katex = TOOLS_DIR / "node_modules" / "katex"
    require("KaTeX (with mermaid-cli)", katex.exists() and bool(shutil.which("node")))
    script = folder / "katex.js"
    script.write_text(
        f"const katex = require({json.dumps(str(katex))});\n"
        "const bad = [];\n"
        "for (const line of JSON.parse(require('fs').readFileSync(0, 'utf8'))) {\n"
        "  try { katex.renderToString(line, {throwOnError: true}); }\n"
        "  catch (e) { bad.push(line + ' -- ' + e.message); } }\n"
        "console.log(JSON.stringify(bad));\n")
    out = subprocess.run(["node", str(script)], input=json.dumps(list(lines)), text=True,
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def dot_renders(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["dot", "-Tsvg", str(path), "-o", str(path.with_suffix(".svg"))],
                          capture_output=True, text=True, timeout=120)


def mermaid_parses(paths) -> subprocess.CompletedProcess:
    """One node process checks every file with mermaid.parse."""
    return subprocess.run(["node", str(MMD_PARSE), *map(str, paths)], capture_output=True,
                          text=True, timeout=300, cwd=TOOLS_DIR)


def mmdc_renders(path: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(MMDC), "-q", "-p", str(PUPPETEER), "-i", str(path), "-o",
                           str(out)], capture_output=True, text=True, timeout=300)


# -- what a person sees: geometry read back from the renderers' own output -------------

MMD_RENDER = Path(__file__).parent / "mmd_render.mjs"


def mermaid_renders(paths, png: bool = False, boxes: bool = False) -> subprocess.CompletedProcess:
    """Render every .mmd file to .svg beside it (and .png) in one Chromium session, with
    mermaid-cli's own renderMermaid, i.e. what `mmdc` does. `boxes`: also .boxes.json, what
    the browser measured (see `mermaid_boxes`)."""
    args = ["node", str(MMD_RENDER), str(TOOLS_DIR)] + (["--png"] if png else []) \
        + (["--boxes"] if boxes else [])
    return subprocess.run(args + [str(p) for p in paths], capture_output=True, text=True,
                          timeout=600)


def mermaid_boxes(mmd_path: Path) -> dict:
    """What the browser measured in a diagram rendered with boxes=True, in the SVG's
    coordinates: {"nodes": [{id, text, box}], "labels": [{id, text, box}] (non-empty edge
    labels; id is the edge's), "edges": [{id, points}] (4 px apart along each drawn path)};
    a box is [x0, y0, x1, y1]."""
    return json.loads(mmd_path.with_suffix(".boxes.json").read_text(encoding="utf-8"))


_TRANSLATE = re.compile(r"translate\(\s*([-\d.e]+)[ ,]+([-\d.e]+)\s*\)")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def _translate(element) -> tuple[float, float]:
    m = _TRANSLATE.search(element.get("transform") or "")
    return (float(m.group(1)), float(m.group(2))) if m else (0.0, 0.0)


def _text(element) -> str:
    return " ".join(" ".join(element.itertext()).split())


@dataclass
class Drawing:
    """Nodes (centre, label text) and edges (ends, label, style) of one rendered diagram."""
    nodes: dict = field(default_factory=dict)  # id -> (x, y, [label lines])
    edges: list = field(default_factory=list)  # DrawnEdge


@dataclass
class DrawnEdge:
    id: str
    src: str  # as declared: for a gradient edge the node its arrowhead points at
    dst: str
    gradient: bool  # dashed
    label: str
    start: tuple  # first and last point of the drawn path
    end: tuple
    head_at_start: bool  # a visible arrowhead at the path's first point
    head_at_end: bool


def mermaid_drawing(svg_path: Path) -> Drawing:
    """Read a mermaid-cli SVG: node centres from each node group's translate(x, y), edge
    ends, dash pattern and arrowhead markers from each edge path."""
    root = ET.parse(svg_path).getroot()
    markers = {m.get("id"): any(True for _ in m.iter(f"{SVG}path"))
               for m in root.iter(f"{SVG}marker")}
    drawing = Drawing()
    labels = {}
    for g in root.iter(f"{SVG}g"):
        classes = (g.get("class") or "").split()
        if "node" in classes and g.get("id"):
            node_id = re.fullmatch(r".*?-flowchart-(.+)-\d+", g.get("id")).group(1)
            lines = []
            for p in g.iter(f"{XHTML}p"):
                lines += [s.strip() for s in "\n".join(_lines(p)).split("\n") if s.strip()]
            drawing.nodes[node_id] = (*_translate(g), lines)
        if "label" in classes and g.get("data-id"):
            labels[g.get("data-id")] = _text(g)
    for path in root.iter(f"{SVG}path"):
        if "flowchart-link" not in (path.get("class") or ""):
            continue
        edge_id = path.get("data-id")
        ends = edge_id[2:].rsplit("_", 1)[0]  # L_<src>_<dst>_<k>; ids may hold "_"
        src, dst = next((ends[:i], ends[i + 1:]) for i in range(len(ends))
                        if ends[i] == "_" and ends[:i] in drawing.nodes
                        and ends[i + 1:] in drawing.nodes)
        style = (path.get("style") or "").replace(" ", "")
        pattern = re.search(r"edge-pattern-(\w+)", path.get("class")).group(1)
        points = [float(v) for v in _NUMBER.findall(path.get("d"))]

        def head(attr):
            ref = re.fullmatch(r"url\(#(.+)\)", path.get(attr) or "")
            hidden = f"{attr}:none" in style
            return bool(ref) and markers.get(ref.group(1), False) and not hidden

        drawing.edges.append(DrawnEdge(
            edge_id, src, dst, pattern == "dotted", labels.get(edge_id, ""),
            tuple(points[:2]), tuple(points[-2:]), head("marker-start"), head("marker-end")))
    return drawing


def _lines(element):
    """Text of an HTML label, one string per <br>-separated line."""
    out = [element.text or ""]
    for child in element:
        if child.tag.endswith("br"):
            out.append("")
        else:
            out[-1] += "".join(child.itertext())
        out[-1] += child.tail or ""
    return out


def dot_drawing(dot_path: Path) -> dict:
    """`dot -Tjson` of a file: Graphviz's own layout, with every label's drawn text."""
    done = subprocess.run(["dot", "-Tjson", str(dot_path)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
