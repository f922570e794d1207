"""The real renderers (Graphviz's dot, mermaid-cli) as the tests' oracle.

They are installed by ../shared/tools/render-tools-install. Outside CI a missing tool skips
the tests that need it, with the reason; in CI (CI=true) a missing tool is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

TOOLS_DIR = Path(os.environ.get("TOOLS_DIR")
                 or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                 / "render-tools")
MMD_PARSE = TOOLS_DIR / "mmd-parse.mjs"
MMDC = TOOLS_DIR / "node_modules" / ".bin" / "mmdc"
PUPPETEER = TOOLS_DIR / "puppeteer.json"


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
