"""The benchmark's baselines compute the same thing as cgraph (so its ratios compare like
with like). Timings themselves are never asserted; they live in benchmarks/run.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cgraph

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
import baselines  # noqa: E402
import run as bench  # noqa: E402

from conftest import close  # noqa: E402


@pytest.mark.parametrize("text", [bench.wide_sum(600), bench.chain(400), bench.dag(12)])
def test_tape_baseline_agrees_with_cgraph(text):
    graph = cgraph.parse(text)
    point = {k: v for k, v in bench.POINT.items() if k in graph.variables}
    value, grads = baselines.tape_build_forward_backward(graph, point)
    ev = graph.evaluate(point)
    assert close(value, ev.value, rel=1e-12)
    for k, g in ev.gradient().items():
        assert close(grads[k], g, rel=1e-9, abs_=1e-300), k


def test_numpy_by_hand_agrees_with_evaluate_batch():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(-2, 2, 1000), rng.uniform(-2, 2, 1000)
    f, dx, dy = baselines.numpy_by_hand(x, y)
    r = cgraph.parse("sin(x)*exp(-y^2) + log(1+x^2)*y").evaluate_batch({"x": x, "y": y})
    assert np.allclose(r.value, f, rtol=1e-13) and np.allclose(r.gradient["x"], dx, rtol=1e-12)
    assert np.allclose(r.gradient["y"], dy, rtol=1e-12)


def test_hessian_baselines_agree_with_cgraph():
    from cgraph.hessian import hessian

    n = 6
    point = baselines.rosenbrock_point(n)
    ours = hessian(cgraph.parse(baselines.rosenbrock(n)), point, [f"x{i}" for i in range(n)])
    assert np.allclose(baselines.sympy_hessian(n, point), ours.matrix, rtol=1e-12)
    if bench._try("torch"):
        assert np.allclose(baselines.torch_hessian(n, point), ours.matrix, rtol=1e-12)


@pytest.mark.parametrize("kind", ["sum", "chain"])
def test_micrograd_loop_computes_what_cgraph_computes(kind):
    """The library row's peer (the loop micrograd's users write) builds the same program,
    of the size the row names."""
    pytest.importorskip("micrograd")
    n = baselines.peer_size(kind, 1000)
    text, point = baselines.peer_program(kind, n)
    graph = cgraph.parse(text)
    assert 990 <= len(graph.nodes) <= 1000
    value, grads = baselines.micrograd_loop(kind, n)
    ev = graph.evaluate(point)
    assert close(value, ev.value, rel=1e-12)
    ours = ev.gradient()
    names = list(ours) if kind == "chain" else [f"x{i}" for i in range(min(n, 50))] + \
        [f"w{i}" for i in range(min(n, 37))]
    for name, g in zip(names, grads, strict=True):
        assert close(g, ours[name], rel=1e-9), name


@pytest.mark.parametrize("kind", ["sum", "chain"])
def test_micrograd_script_computes_what_cgraph_computes(kind, tmp_path):
    """The whole-process peer builds the same program: same value, same gradient."""
    pytest.importorskip("micrograd")
    script = tmp_path / "peer.py"
    script.write_text(baselines.MICROGRAD_SCRIPT)
    out = subprocess.run([sys.executable, str(script), kind, "120"], capture_output=True,
                         text=True, check=True).stdout
    theirs = json.loads(out)
    text, bindings = baselines.peer_program(kind, 120)
    ev = cgraph.parse(text).evaluate(bindings)
    assert close(theirs["value"], ev.value, rel=1e-12)
    assert theirs["gradient"].keys() == ev.gradient().keys()
    for k, g in ev.gradient().items():
        assert close(theirs["gradient"][k], g, rel=1e-12), k
    # and prints what `--fields value,gradient` prints: the whole-process rows' like
    program = tmp_path / "program.cg"
    program.write_text(text)
    from click.testing import CliRunner

    from cgraph.cli import cli

    ours = CliRunner().invoke(cli, ["eval", "--file", str(program), "--fields",
                                    "value,gradient"]
                              + [f"{k}={v!r}" for k, v in bindings.items()]).stdout
    assert list(json.loads(ours)) == list(theirs)


def test_numpy_descent_takes_the_steps_descend_takes():
    from cgraph.descend import descend

    rng = np.random.default_rng(2)
    x1, x2 = rng.normal(size=500), rng.normal(size=500)
    data = {"x1": x1, "x2": x2, "y": 3 * x1 - 2 * x2 + 0.5}
    run = descend(cgraph.parse("(w1*x1 + w2*x2 + b - y)^2"), {"w1": 0.1, "w2": -0.2, "b": 0.0},
                  ["w1", "w2", "b"], lr=0.1, data=data, epochs=30)
    hand = baselines.numpy_descent(data, [0.1, -0.2, 0.0], 0.1, 30)
    assert np.allclose(run.weights, hand, rtol=1e-10)


def test_polars_script_writes_what_eval_data_writes(tmp_path):
    """The data section's baseline does cgraph's job: the same columns, the same numbers
    (to rounding: polars has its own sin/exp/log), each read back exactly."""
    pytest.importorskip("polars")
    rng = np.random.default_rng(5)
    x, y = rng.uniform(-2, 2, 200), rng.uniform(-2, 2, 200)
    csv = tmp_path / "pts.csv"
    csv.write_text("x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(x.tolist(), y.tolist())))
    script = tmp_path / "with_polars.py"
    script.write_text(baselines.POLARS_SCRIPT)
    r = subprocess.run([sys.executable, script, csv], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "x,y,f,df_dx,df_dy"
    table = np.array([[float(c) for c in line.split(",")] for line in out[1:]])
    assert table[:, 0].tolist() == x.tolist() and table[:, 1].tolist() == y.tolist()
    want = cgraph.parse(bench.DATA_PROGRAM).evaluate_batch({"x": x, "y": y})
    for k, column in enumerate([want.value, want.gradient["x"], want.gradient["y"]]):
        assert np.allclose(table[:, 2 + k], column, rtol=1e-13, atol=1e-15)
