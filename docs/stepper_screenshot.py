"""Regenerate docs/stepper.png, the README's picture of the backprop stepper.

    python3 docs/stepper_screenshot.py

Makes the page with the command the README shows, opens it from file:// in Chromium
(Debian's, through playwright's executable_path; CHROMIUM=PATH for another), steps to the
chain rule for x, and writes the screenshot beside this script.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
COMMAND = ["explain", "p = x + y; g = p * z", "x=1", "y=3", "z=-3", "--format", "html"]
STEP = "∂g/∂x = ∂g/∂p · ∂p/∂x = (-3) · 1 = -3"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "backprop.html"
        env = dict(os.environ, PYTHONPATH=str(HERE.parent / "src"))
        subprocess.run([sys.executable, "-m", "cgraph", *COMMAND, "-o", str(page_path)],
                       check=True, env=env)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1100, "height": 640},
                                    device_scale_factor=1, color_scheme="light")
            page.goto(page_path.as_uri())
            for _ in range(200):
                if page.inner_text("#now .text").startswith(STEP):
                    break
                page.keyboard.press("ArrowRight")
            else:
                raise SystemExit(f"never reached the step {STEP!r}")
            page.screenshot(path=str(HERE / "stepper.png"))
            browser.close()
    print(HERE / "stepper.png")


if __name__ == "__main__":
    main()
