"""Regenerate docs/stepper.png, the README's picture of the backprop stepper.

    python3 docs/stepper_screenshot.py

Makes the page with the command the README shows, opens it from file:// in Chromium
(Debian's, through playwright's executable_path; CHROMIUM=PATH for another), steps to the
chain rule for x, and writes the screenshot beside this script. The PNG carries the
sha256 of the page it shows (a `tEXt` chunk, `cgraph-page`), so a test can tell, without a
browser, when the page has changed and the picture is stale.
"""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import zlib
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
COMMAND = ["explain", "p = x + y; g = p * z", "x=1", "y=3", "z=-3", "--format", "html"]
STEP = "∂g/∂x = ∂g/∂p · ∂p/∂x = (-3) · 1 = -3"
KEY = b"cgraph-page"


def page_digest(html: bytes) -> str:
    return hashlib.sha256(html).hexdigest()


def with_text(png: bytes, key: bytes, value: str) -> bytes:
    """The PNG with a tEXt chunk `key`=`value` right after its header chunk."""
    data = key + b"\0" + value.encode("ascii")
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + data) & 0xFFFFFFFF)
    end = 8 + 8 + 13 + 4  # signature, then IHDR: length, type, 13 bytes, CRC
    return png[:end] + chunk + png[end:]


def read_text(png: bytes, key: bytes) -> str | None:
    """The value of the PNG's tEXt chunk `key`, if it has one."""
    at = 8
    while at + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        data = png[at + 8:at + 8 + length]
        if kind == b"tEXt" and data.startswith(key + b"\0"):
            return data[len(key) + 1:].decode("ascii")
        at += 12 + length
    return None


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
            png = page.screenshot()
            browser.close()
        digest = page_digest(page_path.read_bytes())
        (HERE / "stepper.png").write_bytes(with_text(png, KEY, digest))
    print(HERE / "stepper.png")


if __name__ == "__main__":
    main()
