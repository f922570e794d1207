"""The README documents every command and option, and its commands are the real ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest

from cgraph.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
CI = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_and_option_is_documented(name):
    command = cli.commands[name]
    assert re.search(rf"^(\$ )?cgraph {name} ", README, re.M), name  # an example command
    for param in command.params:
        if isinstance(param, click.Option):  # the option as a word, not inside another
            assert any(re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", README)
                       for opt in param.opts), (name, param.opts)


def test_commands_are_found_in_the_group():
    """The test above walks the click group: a command registered there is covered."""
    assert {"eval", "graph", "explain", "diff", "check", "descend"} <= set(cli.commands)


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    block = re.search(r"```sh\n(.*?)```", README, re.S).group(1).splitlines()
    assert block[0] == 'python3 -m pip install -e . && cgraph eval "(x+y)*z" x=1 y=3 z=-3'
    assert block[1] == "python3 -m pip install -e '.[test]' && python3 -m pytest"
    assert block[1] in CI.splitlines()


def _console_examples(commands):
    """(arguments, output) of each `$ cgraph COMMAND …` line in the README's console
    blocks whose command is one of `commands`."""
    import shlex

    examples = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        current = None
        for line in block.splitlines():
            if line.startswith("$ "):
                words = shlex.split(line[2:])
                current = None
                if (words[0] == "cgraph" and words[1] in commands
                        and not {"|", ">", ">>"} & set(words)):
                    current = (words[1:], [])
                    examples.append(current)
            elif current is not None:
                current[1].append(line)
    return [(args, "".join(line + "\n" for line in out)) for args, out in examples]


def test_readme_examples_match_real_output():
    """The tour's pasted outputs are what the commands print today."""
    from click.testing import CliRunner

    for args, expected in _console_examples(("diff", "codegen")):
        out = CliRunner().invoke(cli, args).stdout
        assert out == expected, args
    out = CliRunner().invoke(cli, ["graph", "p = x + y; g = p * z", "x=1", "y=3", "z=-3",
                                   "--grads", "--fence"]).stdout
    assert out.startswith("```mermaid\nflowchart LR\n") and out in README
    out = CliRunner().invoke(cli, ["explain", "p = x + y; g = p * z", "x=1", "y=3", "z=-3",
                                   "--format", "text"]).stdout
    assert out.startswith("Forward pass\n") and out.strip() in README


def test_readme_tables_match_real_output(tmp_path):
    from click.testing import CliRunner

    model = tmp_path / "model.cg"
    model.write_text("# one neuron and its squared error\nz = w*x + b\ny = sigmoid(z)\n"
                     "loss = (y - t)^2\n")
    for args in (["eval", "(x+y)*z", "x=1", "y=3", "z=-3", "--format", "table"],
                 ["eval", "--file", str(model), "w=0.8", "x=1.2", "b=-0.1", "t=0.5",
                  "--wrt", "w,b", "--format", "table"]):
        r = CliRunner().invoke(cli, args, env={"COLUMNS": "100"})
        text = "\n".join(line.rstrip() for line in r.stdout.splitlines())
        assert r.exit_code == 0 and text.count("│") >= 10 and text in README, args


def _run_console_blocks(start: str, end: str) -> int:
    """Run every `$ cgraph …` of the README between the headings `start` and `end`, and
    compare with what is pasted: standard output, then standard error. Returns how many."""
    import shlex

    from click.testing import CliRunner

    section = README[README.index(start):README.index(end)]
    commands = 0
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, expected = chunk.partition("\n")
            args = shlex.split(command)
            assert args[0] == "cgraph"
            r = CliRunner().invoke(cli, args[1:], env={"COLUMNS": "100", "NO_COLOR": "1"},
                                   prog_name="cgraph")
            out = "\n".join(line.rstrip() for line in r.stdout.splitlines())
            assert (out + "\n" if r.stdout else "") + r.stderr == expected, command
            commands += 1
    return commands


def test_readme_sections_on_outputs_modes_and_newton_match_real_output():
    """Every `$ cgraph …` of the sections from Newton's method to uncertainties, run again:
    standard output, then standard error, as pasted."""
    assert _run_console_blocks("Newton's method, `--optimizer newton`", "## Programs") >= 12


def test_readme_check_examples_match_real_output():
    """check's hints at a domain's edge, at a pole and where the output's rounding hides the
    step, as pasted (the tables before them need a terminal)."""
    assert _run_console_blocks("Near the edge of a function's domain",
                               "`--hessian` checks second derivatives") == 4


def test_readme_help_example_matches_real_output():
    assert _run_console_blocks("### Help", "## Speed and scale") == 1


def test_readme_bindings_messages_match_real_output():
    assert _run_console_blocks("### Bindings: what a value may be", "## For scripts") >= 7


def test_readme_language_examples_match_real_output(tmp_path):
    """The Programs section's function table (and its calls in CSV), its pairwise sum,
    where's derivative and the XOR showcase."""
    import shlex

    from click.testing import CliRunner

    out = CliRunner().invoke(cli, ["eval", "sq(a) = a * a\nneuron(u) = tanh(w * u + b)\n"
                                   "neuron(sq(x)) + neuron(x)", "w=0.5", "b=-1", "x=2",
                                   "--format", "table"], env={"COLUMNS": "100"}).stdout
    assert "\n".join(line.rstrip() for line in out.splitlines()) in README
    args = ["eval", "n(u) = tanh(w * u); n(n(x))", "w=0.5", "x=2", "--format", "csv",
            "--digits", "3"]  # the same calls, in CSV's call column
    out = CliRunner().invoke(cli, args).stdout
    shown = 'cgraph eval "n(u) = tanh(w * u); n(n(x))" w=0.5 x=2 --format csv --digits 3'
    assert shlex.split(shown)[1:] == args
    assert out.count(",n#") == 4 and f"$ {shown}\n{out}" in README
    out = CliRunner().invoke(cli, ["eval", "sum(x[i] * x[j] for i in 1..3 for j in i+1..3)",
                                   "x=[1,2,3]", "--format", "table"],
                             env={"COLUMNS": "100"}).stdout
    assert 'cgraph eval "sum(x[i] * x[j] for i in 1..3 for j in i+1..3)" \'x=[1,2,3]\'' in README
    assert "\n".join(line.rstrip() for line in out.splitlines()) in README
    out = CliRunner().invoke(cli, ["diff", "where(x > 0, sqrt(x), 0)", "x=-1"]).stdout
    assert out in README
    root = Path(__file__).parent.parent / "examples"
    assert (root / "xor.cg").read_text() in README
    fit = CliRunner().invoke(cli, ["descend", "--file", str(root / "xor.cg"), "--bindings",
                                   str(root / "xor-init.json"), "--data",
                                   str(root / "xor.csv"), "--optimizer", "adam", "--lr",
                                   "0.05", "--epochs", "500", "--format", "json"])
    assert fit.exit_code == 0, fit.output
    (tmp_path / "fit.json").write_text(fit.stdout)
    network = "".join((root / "xor.cg").read_text().splitlines(keepends=True)[:2])
    out = CliRunner().invoke(cli, ["eval", "-", "--bindings", str(tmp_path / "fit.json"),
                                   "--data", str(root / "xor.csv"), "--wrt", "x[1]"],
                             input=network).stdout
    assert out in README
    assert f"{json.loads(fit.stdout)['cost']:.3g}" in README
    # explain at one point, the lines about one weight (the README's `grep 'v\[1\]'`)
    told = CliRunner().invoke(cli, ["explain", "--file", str(root / "xor.cg"), "--bindings",
                                    str(tmp_path / "fit.json"), "x=[0,1]", "y=1",
                                    "--format", "text"]).stdout
    lines = [line for line in told.splitlines() if "v[1]" in line]
    assert len(lines) >= 4 and "\n".join(lines) + "\n" in README


def test_readme_descend_examples_run_as_shown(tmp_path, monkeypatch):
    """The descend tour, run in an empty folder: every file a command reads is one the
    README shows with `cat` (samples.csv was not), and every output is what it pastes (a
    table as a terminal shows it, JSON as a pipe gets it)."""
    monkeypatch.chdir(tmp_path)
    block = next(b for b in re.findall(r"```console\n(.*?)```", README, re.S)
                 if "$ cat loss.cg" in b)
    assert _run_as_shown(block, tmp_path) == 3


def test_readme_data_cell_example_runs_as_shown(tmp_path, monkeypatch):
    """Data files: a cell 1e999 is an error at its line and column, as pasted."""
    monkeypatch.chdir(tmp_path)
    block = next(b for b in re.findall(r"```console\n(.*?)```", README, re.S)
                 if "$ cat overflow.csv" in b)
    assert _run_as_shown(block, tmp_path) == 1


def _run_as_shown(block, folder):
    """Run a console block in `folder` (the current one): `$ cat FILE` writes the file it
    shows, `$ head -N FILE` and each `$ cgraph …` must print what it shows (a table as a
    terminal shows it, JSON as a pipe gets it, an error on standard error with exit status
    2). How many cgraph commands ran."""
    import shlex

    from click.testing import CliRunner

    commands = 0
    for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
        command, _, expected = chunk.partition("\n")
        args = shlex.split(command)
        if args[0] == "cat":
            (folder / args[1]).write_text(expected, encoding="utf-8")
        elif args[0] == "head":
            lines = (folder / args[2]).read_text().splitlines()[:int(args[1][1:])]
            assert "".join(line + "\n" for line in lines) == expected, command
        elif expected.startswith("Error: "):
            r = CliRunner().invoke(cli, args[1:], env={"COLUMNS": "100", "NO_COLOR": "1"},
                                   prog_name="cgraph")
            assert r.exit_code == 2 and r.stdout == "" and r.stderr == expected, command
            commands += 1
        else:
            table = not expected.startswith("{")
            r = CliRunner().invoke(cli, args[1:] + ["--format", "table"] * table,
                                   env={"COLUMNS": "100", "NO_COLOR": "1"})
            out = "\n".join(line.rstrip() for line in r.stdout.splitlines()) + "\n"
            assert r.exit_code == 0 and out == expected, (command, r.output)
            commands += 1
    return commands


def test_readme_long_formulas_run_as_shown(tmp_path, monkeypatch):
    """Programs, Long formulas: a statement wrapped inside brackets, a bracket never closed,
    x², a pasted minus sign, 2x, 1e999, f(2) and x(x + 1), from the files the README
    shows, print what it pastes."""
    monkeypatch.chdir(tmp_path)
    blocks = [b for b in re.findall(r"```console\n(.*?)```", README, re.S)
              if "$ cat wrapped.cg" in b or "$ cat unclosed.cg" in b]
    assert len(blocks) == 2 and sum(_run_as_shown(b, tmp_path) for b in blocks) == 10


def _block_commands(marker: str) -> list[tuple[list[str], str]]:
    """(arguments after `cgraph`, what is pasted under them) for each `$ cgraph …` of the
    README's console block that contains `marker` (dedented: it may sit in a list item)."""
    import shlex
    import textwrap

    block = next(b for b in re.findall(r"```console\n(.*?)```", README, re.S)
                 if marker in b)
    steps = []
    for chunk in re.split(r"^\$ ", textwrap.dedent(block), flags=re.M)[1:]:
        command, _, expected = chunk.partition("\n")
        args = shlex.split(command)
        assert args[0] == "cgraph", command
        steps.append((args[1:], expected))
    return steps


def test_readme_fields_examples_match_real_output():
    """`eval --fields` in For scripts (a block inside a list item, indented): standard
    output, then standard error, as pasted."""
    from click.testing import CliRunner

    steps = _block_commands("--fields")
    for args, expected in steps:
        r = CliRunner().invoke(cli, args)
        assert args[0] == "eval" and r.stdout + r.stderr == expected, args
    assert len(steps) >= 2


def test_readme_o_file_examples_match_real_output(tmp_path, monkeypatch):
    """The rule for `-o FILE`, in For scripts: each error as the command prints it."""
    from click.testing import CliRunner

    monkeypatch.chdir(tmp_path)
    steps = _block_commands("-o walk.md")
    for args, expected in steps:
        r = CliRunner().invoke(cli, args, prog_name="cgraph")
        assert r.exit_code == 2 and r.stdout + r.stderr == expected, args
    assert len(steps) == 3 and list(tmp_path.iterdir()) == []


def test_files_the_readme_shows_with_cat_are_in_examples():
    """A newcomer copying the tour needs the files it reads: each `$ cat FILE` block is
    also examples/FILE, byte for byte."""
    root = Path(__file__).parent.parent / "examples"
    shown = {}
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, content = chunk.partition("\n")
            if command.startswith("cat "):
                shown.setdefault(command.split()[1], content)
    assert len(shown) >= 5
    for name, content in shown.items():
        assert (root / name).read_text(encoding="utf-8") == content, name


def test_readme_examples_without_format_show_what_a_terminal_shows():
    """A `$ cgraph …` example without `--format`, not piped, is what a newcomer types at a
    terminal, which shows a table: its pasted output is not the TSV or JSON a pipe gets
    (write `--format tsv`/`json` in the command to show those)."""
    import shlex

    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        command = None
        for line in block.splitlines():
            if line.startswith("$ "):
                words = shlex.split(line[2:])
                command = line if (words[0] == "cgraph" and "--format" not in words
                                   and not {"|", ">", ">>"} & set(words)) else None
            elif command is not None:
                assert "\t" not in line and not line.startswith("{"), command
                command = None


def test_the_tours_outputs_go_where_the_tour_runs():
    """The tour runs in examples/ (README says `cd examples`): a file one of its console
    commands writes (`> f`, `>> f`, `-o f`, `--trace f`) is in a directory that is there."""
    import shlex

    root = Path(__file__).parent.parent / "examples"
    targets = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                words = shlex.split(line[2:])
                targets += [b for a, b in zip(words, words[1:])
                            if a in (">", ">>", "-o", "--trace")]
    assert len(targets) >= 10
    for target in targets:
        assert (root / target).parent.is_dir(), target


def test_readme_long_name_list_example_matches_real_output():
    """For scripts: a message listing names on a big program, as pasted."""
    from click.testing import CliRunner

    shown = "$ cgraph eval \"$(seq -s ' + ' -f 'x%g' 1 30)\"\n"
    at = README.index(shown) + len(shown)
    pasted = README[at:README.index("\n", at)].strip()
    r = CliRunner().invoke(cli, ["eval", " + ".join(f"x{i}" for i in range(1, 31))])
    assert r.exit_code == 2 and r.stderr.strip() == pasted


def test_readme_library_code_runs_and_gives_the_values_its_comments_say():
    """The Library section's code, run as written (README's own code, not anything a user
    types): each line `EXPRESSION  # VALUE` whose comment is a Python literal must give it."""
    import ast

    section = README[README.index("### The library"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    scope: dict = {"__name__": "readme_library"}
    exec(code, scope)  # noqa: S102 - the README's code, checked here
    checked = 0
    for line in code.splitlines():
        expression, _, comment = line.partition("  # ")
        try:
            expected = ast.literal_eval(comment.strip())
        except (ValueError, SyntaxError):
            continue  # a comment in words
        got = eval(expression, scope)  # noqa: S307 - as above
        got = got.tolist() if hasattr(got, "tolist") else got
        assert got == expected, line
        checked += 1
    assert checked >= 4  # the gradient, the surface's shape, the Jacobian, the sigma
