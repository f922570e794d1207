"""Forward mode through the command line: `eval --mode forward`, `explain --mode forward`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cgraph.cli import cli

TUTORIAL = ["p = x + y; g = p * z", "x=1", "y=3", "z=-3"]


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_eval_forward_gives_value_and_tangent_per_node():
    r = run("eval", *TUTORIAL, "--mode", "forward", "--tangent", "x=1")
    assert r.stdout == ("id\top\tname\texpr\tvalue\ttangent\n0\tvar\tx\tx\t1\t1\n"
                        "1\tvar\ty\ty\t3\t0\n2\tadd\tp\tx + y\t4\t1\n3\tvar\tz\tz\t-3\t0\n"
                        "4\tmul\tg\tp * z\t-12\t-3\n")
    # --tangent implies forward mode; the default tangent is the first variable's
    assert run("eval", *TUTORIAL, "--tangent", "x=1").stdout == r.stdout
    assert run("eval", *TUTORIAL, "--mode", "forward").stdout == r.stdout
    doc = json.loads(run("eval", *TUTORIAL, "--tangent", "z=1", "--format", "json").stdout)
    assert (doc["mode"], doc["tangent"], doc["derivative"]) == ("forward", {"z": 1.0}, 4.0)
    assert [n["tangent"] for n in doc["nodes"]] == [0, 0, 0, 1, 4]


def test_every_tangent_is_the_reverse_gradient():
    reverse = json.loads(run("eval", *TUTORIAL, "--format", "json").stdout)["gradient"]
    for v, g in reverse.items():
        doc = json.loads(run("eval", *TUTORIAL, "--tangent", f"{v}=1", "--format",
                             "json").stdout)
        assert doc["derivative"] == g


def test_a_direction_of_several_inputs():
    r = run("eval", *TUTORIAL, "--tangent", "x=1", "--tangent", "y=2", "--format", "table")
    assert "ġ = -9 (along ẋ = 1, ẏ = 2)" in r.stdout


def test_explain_forward_narrates_the_chain_rule_forwards():
    out = run("explain", *TUTORIAL, "--mode", "forward", "--tangent", "x=1",
              "--format", "text").stdout
    assert "    ṗ = ẋ + ẏ = 1 + 0 = 1\n" in out
    assert "    ġ = z · ṗ + p · ż = (-3) · 1 + 4 · 0 = -3\n" in out
    assert "  ∂g/∂x = ġ = -3    (one forward pass, one input's derivative)" in out
    md = run("explain", *TUTORIAL, "--mode", "forward", "--format", "markdown").stdout
    assert r"- $\dot{p} = \dot{x} + \dot{y} = 1 + 0 = 1$" in md
    out = run("explain", "d = x - y; h = tanh(d) + 2*pi", "x=0.5", "y=0", "--mode",
              "forward", "--tangent", "y=1", "--format", "text").stdout
    assert "ḋ = ẋ - ẏ = 0 - 1 = -1" in out and "(1 - t3^2) · ḋ" in out


@pytest.mark.parametrize("args, message", [
    (["--tangent", "w=1"], "--tangent: 'w' is not a variable of the program"),
    (["--tangent", "x"], "--tangent 'x': write NAME=VALUE, e.g. --tangent x=1"),
    (["--mode", "reverse", "--tangent", "x=1"],
     "--tangent is forward mode's: use it with --mode forward"),
    (["--mode", "forward", "--output", "p,g"], "forward mode follows one output"),
])
def test_bad_tangents_exit_2_with_one_line(args, message):
    r = run("eval", *TUTORIAL, *args)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith(f"Error: {message}") and r.stderr.count("\n") == 1


def test_explain_takes_a_tangent_alone_as_forward_mode_as_eval_does():
    """`eval … --tangent x=1` is forward mode ([default: reverse, or forward with
    --tangent]); explain said "--tangent is forward mode's: use it with --mode forward" to
    the same command line (trial8's finding). Now both read it alike; --mode reverse with a
    tangent is still refused by both."""
    alone = run("explain", *TUTORIAL, "--tangent", "x=1", "--format", "text")
    assert alone.exit_code == 0, alone.stderr
    assert alone.stdout == run("explain", *TUTORIAL, "--mode", "forward", "--tangent", "x=1",
                               "--format", "text").stdout
    assert "    ṗ = ẋ + ẏ = 1 + 0 = 1\n" in alone.stdout
    assert "Backward pass" in run("explain", *TUTORIAL, "--format", "text").stdout
    for command in ("eval", "explain"):
        r = run(command, *TUTORIAL, "--mode", "reverse", "--tangent", "x=1")
        assert r.exit_code == 2 and r.stderr == (
            "Error: --tangent is forward mode's: use it with --mode forward\n")
