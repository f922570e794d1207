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
    assert f"cgraph {name}" in README
    for param in command.params:
        if isinstance(param, click.Option):
            assert any(opt in README for opt in param.opts), (name, param.opts)


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    block = re.search(r"```sh\n(.*?)```", README, re.S).group(1).splitlines()
    assert block[0] == 'python3 -m pip install -e . && cgraph eval "(x+y)*z" x=1 y=3 z=-3'
    assert block[1] == "python3 -m pip install -e '.[test]' && python3 -m pytest"
    assert block[1] in CI.splitlines()


def test_readme_examples_match_real_output():
    """The tour's pasted outputs are what the commands print today."""
    from click.testing import CliRunner

    for args, expected in [
        (["diff", "x^2*sin(x)"], "df_dx = x^2 * cos(x) + 2 * sin(x) * x\n"),
        (["diff", "x^3", "--order", "2"], "d2f_dx2 = 6 * x\n"),
    ]:
        out = CliRunner().invoke(cli, args).stdout
        assert out == expected and expected in README
    out = CliRunner().invoke(cli, ["graph", "p = x + y; g = p * z", "x=1", "y=3", "z=-3",
                                   "--grads", "--fence"]).stdout
    assert out in README
    out = CliRunner().invoke(cli, ["explain", "p = x + y; g = p * z", "x=1", "y=3", "z=-3",
                                   "--format", "text"]).stdout
    assert out.strip() in README


def test_readme_tables_match_real_output(tmp_path):
    from click.testing import CliRunner

    model = tmp_path / "model.cg"
    model.write_text("# one neuron and its squared error\nz = w*x + b\ny = sigmoid(z)\n"
                     "loss = (y - t)^2\n")
    for args in (["eval", "(x+y)*z", "x=1", "y=3", "z=-3", "--format", "table"],
                 ["eval", "--file", str(model), "w=0.8", "x=1.2", "b=-0.1", "t=0.5",
                  "--wrt", "w,b", "--format", "table"]):
        out = CliRunner().invoke(cli, args, env={"COLUMNS": "100"}).stdout
        text = "\n".join(line.rstrip() for line in out.splitlines())
        assert text in README, args


def test_readme_language_examples_match_real_output(tmp_path):
    """The Programs section's function table, where's derivative and the XOR showcase."""
    from click.testing import CliRunner

    out = CliRunner().invoke(cli, ["eval", "sq(a) = a * a\nneuron(u) = tanh(w * u + b)\n"
                                   "neuron(sq(x)) + neuron(x)", "w=0.5", "b=-1", "x=2",
                                   "--format", "table"], env={"COLUMNS": "100"}).stdout
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
