"""The benchmark's baselines compute the same thing as cgraph (so its ratios compare like
with like). Timings themselves are never asserted; they live in benchmarks/run.py."""

from __future__ import annotations

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
