"""Every README example and every command, run as a person runs them: on a real terminal
(tests/terminal.py) 40, 80 and 200 columns wide.

What must hold at every width: the exit status the README documents, no traceback, no
number cut short (`…`), and every number the 200-column screen shows is on the narrower
screens too, whole (a table too wide for the terminal falls back to a layout that fits)."""

from __future__ import annotations

import os
import re
import select
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from terminal import WIDTHS, collect, on_terminal, start

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")
# the documented failures, by a piece of their command line
FAILS = {"x + (y * )": 2, "sine(x)": 2, "/dev/full": 1, "sqrt(x)": 1, "--fields valu,": 2,
         "--digits 0": 2, "-o walk.md": 2, "mermaid -o g.svg": 2, "-o out.jpg": 2}


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
    # matrices wider than 40 columns: a block per row there, not numbers cut to `15.7…`
    'cgraph hessian "a*b*c*d + alpha*beta" a=1.2345 b=2.3456 c=3.4567 d=4.5678 alpha=1 beta=2',
    'cgraph jacobian "p = a*b*c*d; q = alpha*beta + a; r = sin(a*b)" a=1.2345 b=2.3456 '
    'c=3.4567 d=4.5678 alpha=1 beta=2 --output p,q,r',
]

# the README's Bindings examples are errors too
FAILS.update({f'"x^2" x{value}': 2 for value in ("=1e999", "=1e308*10", "=1e-400", "=1,5",
                                                  " = 1", "=0x10")})
FAILS["--tangent x=abc"] = 2
FAILS['eval "$(seq'] = 2  # For scripts: a message that lists names on a big program
FAILS.update({'"sum(W[i,j]': 2, '"x[1]*x[2]"': 2})  # Bindings: missing families, elements
# and the Programs section's long-formula errors
FAILS.update({"unclosed.cg": 2, '"x²"': 2, '"x − 1"': 2, '"2x"': 2, '"x + 1e999"': 2,
              '"f(2) + x"': 2, '"x(x + 1)"': 2,
              "∗ z": 2})
FAILS["--data overflow.csv"] = 2  # Data files: a cell 1e999
FAILS["help evl"] = 2  # Help: a name that is no command
FAILS["z=-3 --format html"] = 2  # graph: a web page is not written to a terminal
# check: a step that leaves log's domain, a step that straddles 1/x's pole
FAILS.update({'"log(x)" x=1e-7 --format': 1, '"1/x" x=1e-7': 1})
FAILS['"x^2 + 1e-3*y" x=1e6'] = 1  # check: the output's rounding hides y's step
FAILS['"sqrt(a) + b" a=0 b=2 --tangent a=1 --strict'] = 1  # forward mode's --strict


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


HELP_WIDTHS = (40, 80, 120)


@pytest.fixture(scope="module")
def help_screens():
    """`cgraph --help` and every command's --help, on a terminal of each width."""
    from cgraph.cli import cli

    pages = [[]] + [[name] for name in sorted(cli.commands)]
    runs = [(tuple(page), width) for page in pages for width in HELP_WIDTHS]
    with ThreadPoolExecutor(4) as pool:
        shown = pool.map(lambda run: on_terminal([*run[0], "--help"], run[1]), runs)
    return dict(zip(runs, shown))


def _text(screen: str) -> str:
    """What a help page says, whatever its layout: no spaces, line breaks or the ` \\`
    that continues a folded example line."""
    return "".join(screen.replace("\\", "").split())


def _examples(screen: str) -> list[str]:
    """The example command lines of a help page (above its options), each folded one
    joined up again as the shell joins it (a backslash ending the line)."""
    joined = re.sub(r" \\\n *", " ", screen.partition("\nOptions:")[0])
    return [" ".join(line.split()) for line in joined.splitlines()
            if line.startswith("    ") and line.lstrip().startswith(("cgraph ", "echo "))]


def test_help_fits_every_terminal_and_says_the_same(help_screens):
    """Click wrapped help at no fewer than 50 columns and left example lines whole: at 40
    columns lines ran over, and the list of commands cut their summaries short. Now no
    line is wider than the terminal, and each page says at 40 and 80 columns what it says
    at 120, laid out again (folded example lines end with ` \\`, as a shell continues
    them), nothing cut."""
    from cgraph.cli import cli

    for (page, width), shown in help_screens.items():
        assert shown.status == 0 and shown.stderr == "", (page, width, shown.stderr)
        assert max(map(len, shown.lines)) <= width, (page, width, shown.screen)
        wide = help_screens[page, max(HELP_WIDTHS)].screen
        assert _text(shown.screen) == _text(wide), (page, width, shown.screen)
        cut = re.search(r"[^\]]\.\.\.$", shown.screen, re.M)  # not `[ARGS]...`
        assert not cut, (page, width, shown.screen)
        assert _examples(shown.screen) == _examples(wide), (page, width, shown.screen)
        if page:  # every option is on every page, whole
            for param in cli.commands[page[0]].params:
                for opt in getattr(param, "opts", []):
                    if opt.startswith("-"):
                        assert re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])",
                                         shown.screen), (page, width, opt)


def test_a_folded_example_line_is_full(help_screens):
    """trial7: descend's second example, continued by hand in its docstring, was folded
    line by line, so its first half became two lines and `--lr 0.01 \\` stood alone. Now
    an example is folded as a whole: no line of it ends early, with room for the next."""
    from cgraph.cli_click import CONTEXT

    for (page, width), shown in help_screens.items():
        # help is laid out 2 columns inside the terminal (or its widest), and a folded
        # example keeps room on each line for the ` \\` that continues it
        room = min(width, CONTEXT["max_content_width"]) - 2 - 2
        lines = shown.screen.partition("\nOptions:")[0].splitlines()
        for line, after in zip(lines, lines[1:]):
            if line.endswith(" \\"):
                together = line[:-2].rstrip() + " " + after.strip()
                assert len(together) > room, (page, width, line, after)


@pytest.mark.parametrize("width", (40, 80))
def test_help_command_shows_the_help_pages_on_a_terminal(help_screens, width):
    """`cgraph help` and `cgraph help COMMAND` (git's habit; it was "No such command
    'help'") show on a terminal exactly what --help shows there, laid out for its width."""
    for page in ((), ("eval",), ("descend",)):
        shown = on_terminal(["help", *page], width)
        assert shown.status == 0 and shown.stderr == "", (page, width, shown.stderr)
        assert shown.screen == help_screens[page, width].screen, (page, width)


@pytest.mark.parametrize("width", (40, 80))
@pytest.mark.parametrize("command", ["graph", "explain"])
def test_a_web_page_is_not_written_to_a_terminal(tmp_path, command, width):
    """`graph --format html` on a terminal printed 30 KB of markup. As gzip writes no
    compressed data to a terminal, it is a usage error that says where the page goes (the
    line README pastes, wrapped by the terminal only); a redirection, a pipe and -o FILE
    get the page, and `-o -` puts it on the terminal anyway (curl's `--output -`)."""
    import subprocess

    from terminal import env_for

    args = [command, "(x+y)*z", "x=1", "y=3", "z=-3", "--format", "html"]
    shown = on_terminal(args, width)
    said = README.split('--format html\n  Error: ')[1].split("\n")[0]
    said = "Error: " + said.replace("cgraph graph", f"cgraph {command}")
    assert (shown.status, shown.screen) == (2, ""), shown.screen[:200]
    assert shown.stderr.strip().replace("\n", " ") == said, shown.stderr  # broken at spaces
    forced = on_terminal([*args, "-o", "-"], width)
    assert forced.status == 0 and forced.screen.startswith("<!doctype html>"), forced.stderr
    with open(tmp_path / "redirected.html", "wb") as redirected:  # `> page.html`
        shown = on_terminal(args, width, stdout=redirected)
    assert shown.status == 0 and shown.stderr == "", shown.stderr
    page = (tmp_path / "redirected.html").read_text(encoding="utf-8")
    assert page == forced.screen and page.startswith("<!doctype html>")
    shown = on_terminal([*args, "-o", tmp_path / "page.html"], width)
    assert (shown.status, shown.screen, shown.stderr) == (0, "", "")
    assert (tmp_path / "page.html").read_text(encoding="utf-8") == page
    piped = subprocess.run([sys.executable, "-m", "cgraph", *args], capture_output=True,
                           env=env_for(), text=True)
    assert piped.returncode == 0 and piped.stdout == page, piped.stderr


MESSAGES = [  # a usage error of click's, of cgraph's, an input error, a warning
    ["eval", "x", "x=1", "--digits", "abc"],
    ["graph", "(x+y)*z", "x=1", "y=3", "z=-3", "--format", "html"],
    ["eval", "w[1]*2", "w=[1,2]", "w[7]=1"],
    ["eval", "学习率很长的中文名字*x + 目標很长的中文名字很长的中文名字", "x=1"],
    ["eval", "x=1"],
]


@pytest.mark.parametrize("width", (30, 40, 80))
def test_a_message_on_a_terminal_breaks_between_words(width):
    """click's usage errors (and cgraph's own) were one line the terminal folded mid-word
    at 40 columns (`… write it with -o page.h` / `tml …`). On a terminal a message breaks
    at its spaces; on one wide enough, and piped, it is one line, as scripts read it."""
    from rich.cells import cell_len

    for args in MESSAGES:
        wide, shown = on_terminal(args, 1000), on_terminal(args, width)
        assert shown.status == wide.status and wide.stderr, wide.stderr
        said, *rest = wide.stderr.splitlines()  # (a program's line and caret follow)
        lines = shown.stderr.splitlines()[:len(shown.stderr.splitlines()) - len(rest)]
        assert " ".join(lines) == said, shown.stderr  # every word whole, in its order
        # (a word longer than a line is the terminal's to fold: it has no space)
        assert all(cell_len(line) <= width or " " not in line for line in lines), lines
        assert (len(lines) > 1) == (cell_len(said) > width), shown.stderr


UNCERTAIN = ["eval", "a*b*c*d*alpha*beta", "a=1.2345±0.1", "b=4.5±0.1", "c=0.001±0.00001",
             "d=3±0.1", "alpha=2±0.1", "beta=2±0.1"]


@pytest.mark.parametrize("width", (40, 80))
def test_the_variance_line_wraps_between_shares(width):
    """The variance line was one string the terminal wrapped anywhere: at 40 columns
    'c' ended one line and '0.754%' began the next. It wraps between shares, as the
    gradient lines wrap between pairs, a broken line ending with its comma."""
    shown = on_terminal(UNCERTAIN, width)
    assert shown.status == 0, shown.stderr
    lines = shown.screen.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("variance of f: "))
    variance = [line.rstrip() for line in lines[start:] if line.strip()]
    assert max(map(len, lines)) <= width, shown.screen
    shares = " ".join(variance).replace("variance of f: ", "").split(", ")
    assert [s.split()[0] for s in shares] == ["a", "b", "c", "d", "alpha", "beta"], variance
    assert all(re.fullmatch(r"\w+ \d[\d.]*%", s) for s in shares), variance
    assert all(line.endswith(",") for line in variance[:-1]), variance
    assert len(variance) == (1 if width >= 80 else 3), variance


@pytest.mark.parametrize("width", (40, 41, 42, 43))
def test_a_table_that_would_be_cut_is_laid_out_in_blocks(width):
    """Forward mode's table at 40 columns cut its last column to `tang` and dropped the
    tangents: the width it needs counted the expr column at its widest cell (5) where
    Rich gives it its minimum (8). Below 43 columns it now falls back to one block a row,
    every number whole."""
    args = ["eval", "x*y", "x=2", "y=3", "--tangent", "x=1", "--tangent", "y=1"]
    wide, shown = on_terminal(args, 200), on_terminal(args, width)
    assert shown.status == wide.status == 0, shown.stderr
    assert max(map(len, shown.lines)) <= width, shown.screen
    assert re.search(r"\btangent\b", shown.screen), shown.screen
    assert sorted(NUMBER.findall(shown.screen)) == sorted(NUMBER.findall(wide.screen))


def _program_lines(shown) -> list[str]:
    """eval's program line as shown: the lines above its table (or its first block)."""
    lines = []
    for line in shown.lines:
        if line.lstrip().startswith("#"):
            break
        lines.append(line.rstrip())
    return lines


PROGRAM_LINES = {  # eval's program line: (program, bindings) -> its lines at 40 and 80
    ("z = w*x + b; y = sigmoid(z); loss = (y - t)^2", ("w=0.8", "x=1.2", "b=-0.1", "t=0.5")):
        {40: ["z = w*x + b; y = sigmoid(z);", "loss = (y - t)^2"],
         80: ["z = w*x + b; y = sigmoid(z); loss = (y - t)^2"]},
    ("loss = (w1*x1 + w2*x2 - y)^2 + exp(alpha * beta) / (1 + gamma)",
     ("w1=1", "x1=2", "w2=3", "x2=4", "y=1", "alpha=1", "beta=2", "gamma=3")):
        {40: ["loss = (w1*x1 + w2*x2 - y)^2", "+ exp(alpha * beta) / (1 + gamma)"],
         80: ["loss = (w1*x1 + w2*x2 - y)^2 + exp(alpha * beta) / (1 + gamma)"]},
    ("total = (weight_of_the_first_input + weight_of_the_second_input) * x",
     ("weight_of_the_first_input=1", "weight_of_the_second_input=2", "x=3")):
        {40: ["total = (weight_of_the_first_input", "+ weight_of_the_second_input) * x"],
         80: ["total = (weight_of_the_first_input + weight_of_the_second_input) * x"]},
}


@pytest.mark.parametrize("width", (40, 80))
@pytest.mark.parametrize("program,point", list(PROGRAM_LINES))
def test_evals_program_line_breaks_between_statements_and_before_operators(program, point,
                                                                          width):
    """At 40 columns eval's program line broke where the terminal ran out of room,
    inside an expression: `z = w*x + b; y = sigmoid(z); loss = (y -` / `t)^2` (trial9).
    It breaks between statements, and a statement too long for a line at its outermost
    operators, before the operator (as explain's steps break before `=`); a bracket only
    when it is longer than a line. Nothing is lost: the lines joined are the program."""
    shown = on_terminal(["eval", program, *point], width)
    assert shown.status == 0, shown.stderr
    lines = _program_lines(shown)
    assert lines == PROGRAM_LINES[program, point][width], shown.screen
    assert " ".join(lines) == program


TIGHT_PROGRAMS = {  # programs written without spaces, or names nearly a line wide
    ("loss=(w1*x1+w2*x2-y)^2+exp(alpha*beta)/(1+gamma)",
     ("w1=1", "x1=2", "w2=3", "x2=4", "y=1", "alpha=1", "beta=2", "gamma=3")): {
        10: ["loss=(w1", "*x1+w2*x2", "-y)^2", "+exp(alpha", "*beta)", "/(1+gamma)"],
        20: ["loss=(w1*x1+w2*x2-y)", "^2+exp(alpha*beta)", "/(1+gamma)"],
        30: ["loss=(w1*x1+w2*x2-y)^2", "+exp(alpha*beta)/(1+gamma)"],
        80: ["loss=(w1*x1+w2*x2-y)^2+exp(alpha*beta)/(1+gamma)"]},
    ("z=weight_one*x+b_bias_of_it", ("weight_one=1", "x=2", "b_bias_of_it=3")): {
        20: ["z=weight_one*x", "+b_bias_of_it"],  # was `z=weight_one*x+b_bia` / `s_of_it`
        80: ["z=weight_one*x+b_bias_of_it"]},
    ("y=1e-7*weight_of_it-2.5e+3*x", ("weight_of_it=1", "x=2")): {
        12: ["y=1e-7*", "weight_of_it", "-2.5e+3*x"],  # `*weight_of_it` is 13 wide
        20: ["y=1e-7*weight_of_it", "-2.5e+3*x"]},
    ("a_nineteen_chars_xy + b_nineteen_chars_xy",
     ("a_nineteen_chars_xy=1", "b_nineteen_chars_xy=2")): {
        20: ["a_nineteen_chars_xy", "+b_nineteen_chars_xy"],  # was `+` alone on a line
        41: ["a_nineteen_chars_xy + b_nineteen_chars_xy"]},
}

NAME_OR_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:e[-+]?\d+)?|\w+")


@pytest.mark.parametrize("program,point,width", [(p, b, w) for (p, b), ws in
                                                 TIGHT_PROGRAMS.items() for w in ws])
def test_evals_program_line_never_cuts_a_name_and_never_leaves_an_operator_alone(
        program, point, width):
    """A program without spaces wider than the terminal was cut where each line ended,
    inside a name (`z=weight_one*x+b_bia` / `s_of_it` at 20 columns); a `+` before a
    19-character name sat alone on a line at 20 (trial10). Such a stretch breaks before its
    outermost binary operators (never in a number: `1e-7`, `2.5e+3`); an operator goes
    with the term after it, without its space where only that fits, or ends the line
    before. Every name and number is on one line whole, in order, and a wider terminal
    shows the program as it was written."""
    shown = on_terminal(["eval", program, *point], width)
    assert shown.status == 0, shown.stderr
    lines = _program_lines(shown)
    assert lines == TIGHT_PROGRAMS[program, point][width], shown.screen
    assert all(len(line) <= width for line in lines)
    assert not any(re.fullmatch(r"[-+*/^=]+", line) for line in lines)
    assert [w for line in lines for w in NAME_OR_NUMBER.findall(line)] == \
        NAME_OR_NUMBER.findall(program)
    assert "".join(lines).replace(" ", "") == program.replace(" ", "")


_TERM = st.one_of(st.from_regex(r"[a-z_][a-z_0-9]{0,9}", fullmatch=True),
                  st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,2})?(e[-+][0-9])?", fullmatch=True))


@st.composite
def _spaceless_programs(draw, depth=0):
    """A statement written without spaces: terms, binary operators, brackets, calls."""
    parts = [draw(_TERM)]
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["+", "-", "*", "/", "^"]))
        term = draw(_TERM)
        if depth < 2 and draw(st.booleans()):
            inner = draw(_spaceless_programs(depth + 1))
            term = draw(st.sampled_from(["({})", "exp({})", "-{}"])).format(inner) \
                if not inner.startswith("-") else f"({inner})"
        parts += [op, term]
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(_spaceless_programs(), st.integers(8, 40))
@example("_+exp(00e-0)", 8)  # a term wider than the line: between its tokens, not in 00e-0
@example("_+exp(_0000)", 8)  # (nor in the name _0000)
def test_program_line_breaks_only_before_operators(program, width):
    """Oracle: the tokens of the program (names and numbers, `1e-7` one number), each on
    one line whole, in order; nothing lost; no line wider than the terminal unless a term
    alone is."""
    from rich.console import Console
    from rich.text import Text

    from cgraph.layout import Program

    console = Console(width=width, record=True, color_system=None, legacy_windows=False)
    with console.capture() as captured:
        console.print(Program(Text(program)))
    lines = captured.get().splitlines()
    assert "".join(lines) == program
    widest = max(len(t) for t in NAME_OR_NUMBER.findall(program))
    if widest + 1 < width:  # (a term with its operator fits on any line)
        assert [w for line in lines for w in NAME_OR_NUMBER.findall(line)] == \
            NAME_OR_NUMBER.findall(program), lines
        assert all(len(line) <= width for line in lines), lines


LONG = "learning_rate_of_the_first_layer_weights"  # 40 letters


@pytest.mark.parametrize("width", (80, 200))
def test_a_long_name_in_the_node_column_folds_and_is_never_cut(width):
    """The node column (at most 24 wide) cropped a long name with no mark:
    'learning_rate_of_the_fir' read as a whole name. It folds, as the expr column does."""
    shown = on_terminal(["eval", f"{LONG} * sin({LONG})", f"{LONG}=0.5"], width)
    assert shown.status == 0, shown.stderr
    rows = [line.split("│") for line in shown.lines if line.count("│") >= 4]
    ids = [r[0].strip() for r in rows]
    node_0 = rows[ids.index("0"):ids.index("1")]  # row 0 and the lines it folds onto
    assert "".join(r[1].strip() for r in node_0) == LONG, shown.screen
    assert max(map(len, shown.lines)) <= width, shown.screen


def _steps(screen: str) -> list[str]:
    """The lines of explain's walk-through with each wrapped step joined again: a line
    indented at least 4 further than the step it follows continues it."""
    steps: list[tuple[int, str]] = []
    for line in screen.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        if steps and line.strip() and indent >= steps[-1][0] + 4:
            steps[-1] = (steps[-1][0], steps[-1][1] + " " + line.strip())
        else:
            steps.append((indent, line.strip()))
    return [" ".join(text.split()) for _, text in steps]


@pytest.mark.parametrize("width", (30, 40, 80))
def test_a_wrapped_explain_step_stays_under_its_node(width):
    """explain on a narrow terminal: a step too long for the line went on at column 0
    ('0.702661', '(chain' / 'rule)'), the indentation that says which node a line is
    about lost. Its continuation lines hang 4 further in; a note wraps whole."""
    args = ["explain", "z = w*x + b; y = sigmoid(z); loss = (y - t)^2", "w=0.8", "x=1.2",
            "b=-0.1", "t=0.5"]
    text = on_terminal([*args, "--format", "text"], 200)
    shown = on_terminal(args, width)
    assert shown.status == 0 and text.status == 0, shown.stderr
    assert max(map(len, shown.lines)) <= width, shown.screen
    assert _steps(shown.screen) == _steps(text.screen), shown.screen
    if width < 80:
        assert any(line.startswith("        = 0.") for line in shown.lines), shown.screen
    if width == 40:  # README's excerpt of this run, at 40 columns
        pasted = "  t7 = y - t\n" + README.split("```\n  t7 = y - t\n")[1].split("```")[0]
        assert pasted in "\n".join(line.rstrip() for line in shown.lines) + "\n"


@pytest.mark.parametrize("width", (30, 40))
def test_a_wrapped_explain_step_breaks_before_its_equals_sign(width):
    """At 30 columns explain broke one step after its `=` (`t2 = w · x = 0.8 · 1.2 =` /
    `0.96`) and the next before it (`… - 0.5` / `= 0.202661`), and a term mid-way
    (`∂loss/∂y = ∂loss/∂t7 ·` / `∂t7/∂y = …`). It breaks before `=`, as check's rule
    breaks before `<=`: no line ends with `=`, and a term that fits on a line is whole
    on one, so every continuation line begins `= `."""
    args = ["explain", "z = w*x + b; y = sigmoid(z); loss = (y - t)^2", "w=0.8", "x=1.2",
            "b=-0.1", "t=0.5"]
    shown = on_terminal(args, width)
    assert shown.status == 0, shown.stderr
    lines = [line.rstrip() for line in shown.lines]
    assert not [line for line in lines if line.endswith("=")], shown.screen
    steps, in_note = [], False  # the lines of steps, less notes (`(the output …` / `…)`)
    for line in lines:
        in_note = in_note or line.strip().startswith("(")
        if line.strip() and not in_note:
            steps.append(line)
        in_note = in_note and not line.endswith(")")
    hung = [b for a, b in zip(steps, steps[1:])
            if len(b) - len(b.lstrip()) >= len(a) - len(a.lstrip()) + 4]
    assert hung and all(line.lstrip().startswith("= ") for line in hung), shown.screen
    assert "    ∂loss/∂y\n        = ∂loss/∂t7 · ∂t7/∂y\n" in "\n".join(lines) \
        if width == 30 else "    ∂loss/∂y = ∂loss/∂t7 · ∂t7/∂y\n        = 0.405321 · 1" \
        in "\n".join(lines), shown.screen


CJK_NAMES = ("預測很長的中文名字", "学习率很长的中文名字", "目標", "成本")


@pytest.mark.parametrize("width", (30, 40, 80))
def test_explain_keeps_cjk_names_whole(width):
    """explain at 30 columns cut CJK names mid-name (`∂成本/∂學習率很长的中文名` / `字`):
    they have no space to break at, so Rich folded the word where the line ended. A long
    step now breaks between words, else after the '/' of a ∂a/∂b, each name whole; the
    first line has the columns the hang takes from the others."""
    from rich.cells import cell_len

    args = ["explain", f"成本 = ({CJK_NAMES[0]} - 目標)^2 * {CJK_NAMES[1]}",
            f"{CJK_NAMES[0]}=1.5", "目標=0.5", f"{CJK_NAMES[1]}=0.1"]
    wide, shown = on_terminal(args, 200), on_terminal(args, width)
    assert shown.status == wide.status == 0, shown.stderr
    assert max(cell_len(line) for line in shown.lines) <= width, shown.screen
    for name in CJK_NAMES:
        assert shown.screen.count(name) == wide.screen.count(name) > 0, (name, shown.screen)
    joined = "".join(shown.screen.split())  # nothing lost or moved, whatever the layout
    assert joined == "".join(wide.screen.split()), shown.screen


RULE = "pass when |analytic - numeric| <= 1e-8 + 1e-5·|numeric|"


@pytest.mark.parametrize("width", (30, 40, 80))
def test_checks_rule_breaks_before_its_relation(width):
    """At 40 columns check's rule broke at a space, `... <= 1e-08` / `+ 1e-05·|numeric|`,
    its second line at column 0. Where it does not fit it breaks before `<=`, each side
    whole, the right side 4 in; and it is under the table at any width (a table narrower
    than the rule wrapped it as a caption)."""
    for args in (["sigmoid(w*x + b)", "w=0.5", "x=1.5", "b=0.1"], ["x*2", "x=1"]):
        shown = on_terminal(["check", *args], width)
        assert shown.status == 0, shown.stderr
        lines = [line.rstrip() for line in shown.lines]
        at = next(k for k, line in enumerate(lines) if line.startswith("pass when"))
        rule = [line for line in lines[at:] if line]
        expected = [RULE] if width >= len(RULE) else [RULE[:30], "    " + RULE[31:]]
        assert rule == expected, shown.screen
        assert max(map(len, lines)) <= width, shown.screen
    # tolerances that make the right side wider than a line: it breaks before its +
    shown = on_terminal(["check", "x*2", "x=1", "--atol", "0.000123456", "--rtol",
                         "1.234567e-3"], width)
    lines = [line.rstrip() for line in shown.lines]
    rule = [line for line in lines[next(k for k, line in enumerate(lines)
                                         if line.startswith("pass when")):] if line]
    wide = "pass when |analytic - numeric| <= 0.000123456 + 0.001234567·|numeric|"
    assert rule == ([wide] if width >= len(wide) else [
        "pass when |analytic - numeric|", "    <= 0.000123456",
        "    + 0.001234567·|numeric|"]), shown.screen


def _typed(args, text: bytes):
    """Run on a terminal whose standard input is the terminal: wait for the line on
    standard error, type `text` (Ctrl-D ends it), and return (that line, what was shown)."""
    proc, out, err = start(args, 80)
    said = b""
    deadline = time.monotonic() + 30
    while not said.endswith(b"\n") and time.monotonic() < deadline:
        if select.select([err], [], [], 0.1)[0]:
            said += os.read(err, 4096)
    os.write(out, text)
    return said.decode().replace("\r\n", "\n"), collect(proc, out, err)


@pytest.mark.parametrize("args, what, typed, row", [
    (["eval", "-", "x=3"], "the program", b"x*2\n\x04", r"^2\tmul\t\tx \* 2\t6\t1$"),
    (["eval", "--file", "-", "x=3"], "the program", b"x*2\n\x04", r"^2\tmul\t\tx"),
    (["eval", "x*2", "--data", "-"], "the --data rows", b"x\n3\n\x04",
     r"^3,6,2$"),
    (["eval", "x*2", "--bindings", "-"], "the bindings", b"x=3\n\x04",
     r"^2\tmul\t\tx \* 2\t6\t1$"),
])
def test_standard_input_at_a_terminal_says_what_it_reads_and_how_to_end_it(args, what,
                                                                           typed, row):
    """`cgraph eval - x=1` at a terminal waited in silence for the program; now standard
    error says once what it reads there and how to end it, as bc and python do."""
    said, shown = _typed([*args, "--format", "tsv"] if "--data" not in args else args, typed)
    assert said == f"cgraph: reading {what} from standard input (end it with Ctrl-D)\n"
    assert shown.status == 0 and shown.stderr == "", shown.stderr
    assert re.search(row, shown.screen, re.M), shown.screen


def test_standard_input_from_a_pipe_is_read_in_silence():
    shown = on_terminal(["eval", "-", "x=3", "--format", "tsv"], input=b"x*2\n")
    assert shown.status == 0 and shown.stderr == ""
    assert re.search(r"^2\tmul\t\tx \* 2\t6\t1$", shown.screen, re.M), shown.screen


@pytest.mark.parametrize("args", [
    ["eval", "x*y", "x=1", "y=2"],
    ["explain", "x*y", "x=1", "y=2"],
    ["check", "x*y", "x=1", "y=2"],
    ["descend", "(w-1)^2", "w=0", "--steps", "3"],
], ids=lambda a: a[0])
def test_columns_zero_in_the_environment_shows_the_output_all_the_same(args):
    """With COLUMNS=0 in the environment (an unknown width, as some CI runners and
    `docker exec` set it) eval's table, explain, check and descend printed NOTHING and
    exited 0: Rich took 0 as the width. cgraph now takes the terminal's width (or 80),
    as shutil.get_terminal_size does with a 0; on a terminal and in a pipe."""
    import subprocess

    from terminal import env_for

    on_screen = on_terminal(args, 80).screen
    assert on_terminal(args, 80, env={"COLUMNS": "0"}).screen == on_screen
    table = [*args, "--format", "table" if args[0] != "explain" else "rich"]
    piped = [subprocess.run([sys.executable, "-m", "cgraph", *table], capture_output=True,
                            text=True, env=env_for({"COLUMNS": columns}))
             for columns in ("80", "0")]
    assert piped[1].returncode == 0 and piped[1].stdout.strip()
    assert piped[1].stdout == piped[0].stdout


CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize("line, bad", [
    ("x + \x1b]0;pwned\x07\x1b[2J\x1b[31my", "\x1b"),  # a title, a cleared screen, red
    ("x + \x00y", "\x00"), ("x + \x08\x08\x08z", "\x08"), ("x + \x7fy", "\x7f"),
    ("x + \x9b2Jy", "\x9b"), ("x + \u202ey", "\u202e"), ("x \r+ * 2", "*"),
], ids=["escapes", "nul", "backspaces", "del", "c1-csi", "rlo", "carriage-return"])
def test_a_syntax_errors_line_shows_control_characters_and_obeys_none(line, bad, tmp_path):
    """A program file's line shown under a syntax error was written as it is: on a
    terminal its escape sequences set the window's title, cleared the screen and turned
    the text red; backspaces and a carriage return hid what was before them, so the caret
    stood under another character. Each control character is now shown by a visible
    stand-in one column wide (␛, ␀, ␈, ␡, ␍, � for C1 controls and direction marks), the
    caret under the one the message names, and nothing reaches the terminal to obey."""
    from rich.cells import cell_len

    program = tmp_path / "shared.cg"
    program.write_bytes(("y = 2\n" + line + "\n").encode("utf-8"))
    shown = on_terminal(["eval", "--file", str(program), "x=1"], 80)
    assert shown.status == 2, shown.stderr
    said = shown.raw_stderr.replace("\r\n", "\n")
    assert not CONTROLS.search(said.replace("\n", "")), repr(said)
    *message, window, caret = said.splitlines()
    assert "(at line 2, column" in " ".join(message), said
    at = int(re.search(r"column (\d+)\)", " ".join(message)).group(1))
    assert window == "  " + "".join(
        chr(0x2400 + ord(c)) if c < " " else "\u2421" if c == "\x7f" else
        "\ufffd" if CONTROLS.match(c) else c for c in line), repr(window)
    assert line[at - 1] == bad and caret.endswith("^") and cell_len(caret) - 1 == \
        cell_len(window[:2 + at - 1]), (window, caret)


@pytest.mark.parametrize("files, args, quoted", [
    ({"b.json": '{"x": 1, "y\\u001b[2J\\u001b]0;pwned\\u0007": 2}'},
     ["eval", "x", "--bindings", "b.json"], "y\x1b[2J\x1b]0;pwned\x07"),
    ({"h.csv": "x,y\x1b[2J\x1b]0;pwned\x07\n1,2\n"},
     ["eval", "x*z", "--data", "h.csv"], "y\x1b[2J\x1b]0;pwned\x07"),
    ({}, ["eval", "x", "x=1", "--wrt", "y\x1b[2J"], "y\x1b[2J"),
    ({}, ["graph", "x", "-o", "y\x1b[2J"], "y\x1b[2J"),
], ids=["bindings-key", "csv-header", "wrt", "o-name"])
def test_a_message_quoting_control_characters_shows_them_and_obeys_none(files, args, quoted,
                                                                        tmp_path):
    """A message quoting a --bindings file's key or a CSV file's header (or a --wrt name,
    an -o name) wrote its escape sequences as they were: on a terminal they cleared the
    screen and set the window title (into a pipe only ESC[…m-style sequences were cut,
    and the message then named a file that is not there). Standard error shows each
    control character by its visible stand-in, on a terminal and into a pipe alike."""
    import subprocess

    from terminal import env_for

    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    stand_in = quoted.translate({0x1b: "\u241b", 0x07: "\u2407"})
    shown = on_terminal(args, 200, cwd=tmp_path)
    assert shown.status == 2 and not CONTROLS.search(shown.raw_stderr.replace("\r\n", "")), \
        repr(shown.raw_stderr)
    assert stand_in in shown.raw_stderr, shown.raw_stderr
    piped = subprocess.run([sys.executable, "-m", "cgraph", *args], capture_output=True,
                           text=True, env=env_for(), cwd=tmp_path)
    assert piped.returncode == 2 and stand_in in piped.stderr and \
        not CONTROLS.search(piped.stderr.replace("\n", "")), repr(piped.stderr)
