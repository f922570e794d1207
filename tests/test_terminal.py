"""Every README example and every command, run as a person runs them: on a real terminal
(tests/terminal.py) 40, 80 and 200 columns wide.

What must hold at every width: the exit status the README documents, no traceback, no
number cut short (`…`), and every number the 200-column screen shows is on the narrower
screens too, whole (a table too wide for the terminal falls back to a layout that fits)."""

from __future__ import annotations

import re
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from terminal import WIDTHS, on_terminal

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")
# the documented failures, by a piece of their command line
FAILS = {"x + (y * )": 2, "sine(x)": 2, "/dev/full": 1, "sqrt(x)": 1, "--fields valu,": 2,
         "--digits 0": 2}


def readme_session() -> list[tuple[str, str]]:
    """(command line, the output shown under it) for every `$ ` line of the README."""
    steps = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        lines = [line[2:] if line.startswith("  ") else line for line in block.splitlines()]
        for line in lines:
            if line.startswith("$ "):
                steps.append([line[2:], []])
            elif steps:
                steps[-1][1].append(line)
    return [(command, "\n".join(out)) for command, out in steps]


EXTRA = [  # every command on screen, beyond what the README shows
    'cgraph graph "(x+y)*z" x=1 y=3 z=-3 --grads',
    'cgraph eval "z = w*x + b; y = sigmoid(z); loss = (y - t)^2" w=0.8 x=1.2 b=-0.1 t=0.5',
    'cgraph eval "(x+y)*z" x=1 y=3 z=-3 --format markdown',
    'cgraph explain "sigmoid(w*x + b)" w=0.5 x=1.5 b=0.1',
    'cgraph check "relu(x) + a_long_variable_name_for_a_weight*x" x=0.5 '
    'a_long_variable_name_for_a_weight=2.25',
    'cgraph descend "(a-1)^2 + 100*(b-a^2)^2" a=-1 b=1 --optimizer adam --lr 0.01 --steps 500',
]

# the README's Bindings examples are errors too
FAILS.update({f'"x^2" x{value}': 2 for value in ("=1e999", "=1e308*10", "=1e-400", "=1,5",
                                                  " = 1", "=0x10")})
FAILS["--tangent x=abc"] = 2


def session(width: int, where: Path) -> list:
    shown = []
    for command, output in readme_session() + [(c, "") for c in EXTRA]:
        if "…" in command:  # an elided illustration, not a command to run
            continue
        if command.startswith("cat "):
            (where / command[4:]).write_text(output + "\n")  # the file the README shows
            continue
        if not command.startswith("cgraph ") and "cgraph" not in command:
            shown.append((command, on_terminal(["-c", command], width, cwd=where,
                                               program=["bash"])))
            continue
        line = command.replace("cgraph ", f"{sys.executable} -m cgraph ")
        (where / "docs").mkdir(exist_ok=True)
        shown.append((command, on_terminal(["-c", line], width, cwd=where,
                                           program=["bash"])))
    return shown


@pytest.fixture(scope="module")
def screens(tmp_path_factory):
    dirs = {w: tmp_path_factory.mktemp(f"w{w}") for w in WIDTHS}
    with ThreadPoolExecutor(len(WIDTHS)) as pool:
        runs = dict(zip(WIDTHS, pool.map(lambda w: session(w, dirs[w]), WIDTHS)))
    return runs


@pytest.mark.skipif(shutil.which("jq") is None, reason="the README pipes into jq")
@pytest.mark.parametrize("width", WIDTHS)
def test_readme_examples_on_a_terminal(screens, width):
    wide = dict(screens[max(WIDTHS)])
    for command, shown in screens[width]:
        expected = next((code for key, code in FAILS.items() if key in command), 0)
        assert shown.status == expected, (width, command, shown.stderr)
        assert "Traceback" not in shown.screen + shown.stderr, (width, command)
        assert "…" not in shown.screen, (width, command, shown.screen)
        missing = set(NUMBER.findall(wide[command].screen)) - set(
            NUMBER.findall(shown.screen))
        assert not missing, (width, command, missing, shown.screen)
        if width < 200 and "┃" in shown.screen:
            assert max(len(line) for line in shown.lines) <= width, (command, shown.screen)
