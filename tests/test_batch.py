"""Batch evaluation over numpy arrays and `eval --data`: equal to scalar eval, row by row."""

from __future__ import annotations

import math
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cgraph
from cgraph import ops
from cgraph.cli import cli
from cgraph.graph import Graph, Node

from conftest import CASES, close, expressions

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 1e308, math.inf, -math.inf, math.nan]


def assert_rows_equal(graph, columns, result, wrt):
    n = len(next(iter(columns.values()))) if columns else 1
    for k in range(n):
        point = {v: float(c[k]) for v, c in columns.items()}
        ev = graph.evaluate(point)
        assert close(float(result.value[k]), ev.value, rel=1e-12, abs_=1e-300), (k, point)
        for v in wrt:
            assert close(float(result.gradient[v][k]), ev.gradient()[v], rel=1e-11,
                         abs_=1e-300), (k, v, point)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_op_batch_equals_scalar_including_special_values(name):
    text, points, _ = CASES[name]
    graph = cgraph.parse(text)
    rng = np.random.default_rng(len(name))
    names = list(graph.variables)
    grid = [p for p in points] + [tuple(rng.choice(SPECIAL) for _ in names) for _ in range(30)]
    columns = {v: np.array([p[k] for p in grid], dtype=float) for k, v in enumerate(names)}
    result = graph.evaluate_batch(columns)
    assert_rows_equal(graph, columns, result, names)


# The registry with numpy's float rules standing in for the scalar ones (math's libm).
# math.tanh(9) and np.tanh(9) differ by 1 ulp, and the rest of a program can magnify that
# without bound (1 - tanh² turns it into 4e-9 relative), so no fixed tolerance separates
# libm noise from a bug in a pass. With one libm on both sides the scalar pass and the
# batch pass must agree exactly: any difference is a pass doing something else (an edge
# lost, a rule applied to the wrong input, another order of summation). That the float
# and numpy rules of each op agree is test_ops' job, op by op, where nothing magnifies.
def _numpy_float(op):
    return lambda *args: float(op.array(np, *(np.float64(a) for a in args)))


NUMPY_OPS = {op: ops.Op(**{**vars(op), "scalar": _numpy_float(op)})
             for op in ops.OPS.values() if op.array}
NUMPY_SCALAR = SimpleNamespace(**{op.name: o.scalar for op, o in NUMPY_OPS.items()})


def with_numpy_libm(graph):
    """The same graph, its op nodes computed by numpy's rules in the float passes too."""
    nodes = [Node(n.id, NUMPY_OPS.get(n.op, n.op), n.inputs, n.name, n.value)
             for n in graph.nodes]
    return Graph(nodes, graph.output, graph.output_name, graph.source)


def same(a, b):
    return (a != a and b != b) or a == b


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, st.lists(st.tuples(*[st.sampled_from(SPECIAL) | st.floats(-3, 3)] * 3),
                             min_size=1, max_size=12))
def test_random_programs_batch_equals_scalar(text, rows):
    """Exactly, on the same libm (see NUMPY_OPS): no tolerance, so it cannot pass a bug
    by tolerance nor fail on libm noise."""
    graph = with_numpy_libm(cgraph.parse(text))
    columns = {v: np.array([r["xyz".index(v)] for r in rows]) for v in graph.variables}
    with np.errstate(all="ignore"), mock.patch.object(ops, "SCALAR", NUMPY_SCALAR):
        result = graph.evaluate_batch(columns)
        for k in range(len(result.value)):  # one row when the program has no variables
            ev = graph.evaluate({v: float(c[k]) for v, c in columns.items()})
            assert same(float(result.value[k]), ev.value), k
            for v, g in ev.gradient().items():
                assert same(float(result.gradient[v][k]), g), (k, v)


def test_chunk_boundaries_and_threads_do_not_change_results():
    graph = cgraph.parse("sin(x)*exp(-y^2) + log(1+x^2)*y")
    rng = np.random.default_rng(1)
    cols = {"x": rng.normal(size=1001), "y": rng.normal(size=1001)}
    whole = graph.evaluate_batch(cols, threads=1, chunk=10**6)
    for chunk, threads in [(7, 1), (64, 2), (1000, 2)]:
        part = graph.evaluate_batch(cols, chunk=chunk, threads=threads)
        assert np.array_equal(whole.value, part.value)
        for v in ("x", "y"):
            assert np.array_equal(whole.gradient[v], part.gradient[v])


def test_fixed_scalars_wrt_and_constant_outputs():
    graph = cgraph.parse("a*x^2 + b")
    r = graph.evaluate_batch({"x": [1.0, 2.0], "a": 3.0, "b": 1.0}, wrt=["x", "a"])
    assert r.value.tolist() == [4.0, 13.0]
    assert r.gradient["x"].tolist() == [6.0, 12.0] and r.gradient["a"].tolist() == [1.0, 4.0]
    r = cgraph.parse("2*pi").evaluate_batch({})
    assert r.value.tolist() == [2 * math.pi]
    r = cgraph.parse("y").evaluate_batch({"y": [1.0, 2.0]})
    assert r.gradient["y"].tolist() == [1.0, 1.0]


def run(*args, input=None):
    return CliRunner().invoke(cli, ["eval", *args], input=input, catch_exceptions=False)


def test_eval_data_writes_inputs_value_and_gradients(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("x,y,label\n1,2,a\n0.5,-1,b\n0,0,c\n")
    r = run("log(x)*y + x", "--data", str(path))
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "x,y,f,df_dx,df_dy"
    assert lines[1] == "1,2,1,3,0"  # the inputs as the file wrote them; Arrow's shortest
    # round-trip spelling for the results
    assert lines[3] == "0,0,NaN,NaN,-Infinity"  # as scalar eval gives at that point
    r = run("x*y", "--data", "-", "y=3", "--wrt", "x", input="x\n1\n2\n")
    assert r.stdout == "x,f,df_dx\n1,3,3\n2,6,3\n"


def test_eval_data_full_precision_round_trip(tmp_path):
    rng = np.random.default_rng(7)
    xs = rng.normal(size=50).tolist()
    path = tmp_path / "pts.csv"
    path.write_text("x\n" + "".join(f"{v!r}\n" for v in xs))
    r = run("exp(x)/3", "--data", str(path))
    table = np.array([[float(c) for c in line.split(",")] for line in r.stdout.splitlines()[1:]])
    assert table[:, 0].tolist() == xs
    for k, x in enumerate(xs):
        assert close(table[k, 1], cgraph.parse("exp(x)/3").evaluate({"x": x}).value, rel=1e-15)


@pytest.mark.parametrize("content,message", [
    ("x,y\n1,2\n0.5,abc\n", "line 3, column 'y': 'abc' is not a number"),
    ("x,y\n1,2\n0.5\n", "line 3: 1 field, but the header has 2"),
    ("x\n1\n", "has no column 'y'"),
    ("", "empty file"),
    ("x,x,y\n1,2,3\n", "column 'x' appears twice"),
    ("a,b\n1,2\n", "none of its columns (a, b) is a variable of the program (x, y)"),
])
def test_eval_data_errors(content, message):
    r = run("x*y", "--data", "-", input=content)
    assert r.exit_code == 2 and message in r.stderr and r.stdout == ""


def test_eval_data_column_and_binding_conflict():
    r = run("x*y", "--data", "-", "x=1", input="x,y\n1,2\n")
    assert r.exit_code == 2 and "both a column" in r.stderr
    r = run("x*y", "--data", "/nonexistent.csv")
    assert r.exit_code == 2 and "cannot read" in r.stderr
    r = run("x*y", "--data", "-", "--format", "json", input="x,y\n1,2\n")
    assert r.exit_code == 2


def test_zero_partial_times_non_finite_adjoint_is_nan_as_in_scalar_eval():
    graph = cgraph.parse("(x * (0.5 - 0.5))^2")  # ∂/∂x = 2·(x·0)·0: NaN at x = inf
    r = graph.evaluate_batch({"x": [math.inf, 1.0]})
    assert math.isnan(r.gradient["x"][0]) and r.gradient["x"][1] == 0.0
    assert math.isnan(graph.evaluate({"x": math.inf}).gradient()["x"])


@pytest.mark.parametrize("exponent", ["0.5", "2", "1", "-1", "0", "3", "-0.5", "1.5"])
def test_constant_exponents_keep_pow_edges(exponent):
    """A constant exponent reaches numpy as a scalar, where numpy takes shortcuts (x ** 0.5
    is sqrt(x): NaN at -inf, -0 at -0); the batch pass keeps IEEE pow's values there."""
    graph = cgraph.parse(f"x ^ {exponent}")
    xs = np.array(SPECIAL + [-2.0, 3.0, 1e-300, -1e-300, 2.5])
    result = graph.evaluate_batch({"x": xs})
    for k, x in enumerate(xs.tolist()):
        ev = graph.evaluate({"x": x})
        assert close(float(result.value[k]), ev.value, rel=1e-15, abs_=0.0), x
        assert math.copysign(1, result.value[k]) == math.copysign(1, ev.value) or ev.value != 0
        assert close(float(result.gradient["x"][k]), ev.gradient()["x"], rel=1e-15,
                     abs_=0.0), x


def test_repeated_runs_reuse_buffers_without_changing_results():
    """BatchEvaluator keeps its arrays between runs (descent): a result handed out must not
    change when the evaluator runs again, and means equal the means of the full result."""
    from cgraph.batch import BatchEvaluator

    graph = cgraph.parse("(w*x + b - y)^2 + sin(w*x)*y")
    rng = np.random.default_rng(3)
    data = {"x": rng.normal(size=300), "y": rng.normal(size=300)}
    run = BatchEvaluator(graph, {}, ["w", "b"], chunk=64, threads=2)
    first = run(data, {"w": 0.5, "b": 0.1})
    kept = first.value.copy(), {v: g.copy() for v, g in first.gradient.items()}
    run(data, {"w": -1.5, "b": 2.0})
    assert np.array_equal(first.value, kept[0])
    assert all(np.array_equal(first.gradient[v], kept[1][v]) for v in ("w", "b"))
    one = BatchEvaluator(graph, {}, ["w", "b"])  # one chunk: the mean is numpy's mean
    cost, grads = one.mean(data, {"w": 0.5, "b": 0.1})
    assert cost == first.value.mean()
    assert grads == [first.gradient["w"].mean(), first.gradient["b"].mean()]
    cost, grads = run.mean(data, {"w": 0.5, "b": 0.1})  # chunks: sums added chunk by chunk
    assert close(cost, first.value.mean(), rel=1e-14)
    assert close(grads[0], first.gradient["w"].mean(), rel=1e-12)


def test_readme_dask_recipe_equals_evaluate_batch_on_the_whole_array():
    """The README's Dask code, run as written on a small array in several chunks, its
    blocks evaluated in other processes."""
    import re

    import dask
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    code = re.search(r"with Dask;.*?```python\n(.*?)```", readme, re.S).group(1)
    assert "n, chunk = 10**9, 10**7\n" in code
    # (a module name no other process can import, as a user's script is to Dask's workers:
    # `block` and the graph it uses are pickled by value, with cloudpickle)
    scope: dict = {"__name__": "users_script"}
    exec(code.replace("n, chunk = 10**9, 10**7\n", "n, chunk = 10_000, 1_500\n"), scope)
    x, y, out = scope["x"], scope["y"], scope["out"]
    assert x.numblocks == (7,)
    x, y = x.compute(), y.compute()
    # in worker processes, as on a cluster: the graph crosses a process boundary
    value, dfdx, dfdy = dask.compute(scope["value"], scope["dfdx"], scope["dfdy"],
                                     scheduler="processes", num_workers=2)
    whole = scope["f"].evaluate_batch({"x": x, "y": y})
    assert np.array_equal(value, whole.value)
    assert np.array_equal(dfdx, whole.gradient["x"])
    assert np.array_equal(dfdy, whole.gradient["y"])
    assert out.shape == (3, 10_000)


def test_a_graph_survives_pickling_with_its_ops_the_registrys_own():
    """pickle and cloudpickle (what Dask, multiprocessing and joblib use to send work to
    other processes): every op comes back as the registry's entry itself (ops compare by
    identity; copies made every node look like no op at all), and the graph gives the same
    numbers, scalar and batch, before and after, whatever the passes had cached."""
    import pickle

    import cloudpickle

    from cgraph import ops

    for op in ops.OPS.values():
        assert pickle.loads(pickle.dumps(op)) is op
        assert pickle.loads(cloudpickle.dumps(op)) is op
    graph = cgraph.parse("a = sin(x)*exp(-y^2); b = log(1+x^2)*y; max(a, b) + abs(a-b)/2")
    point = {"x": 0.7, "y": -0.3}
    columns = {"x": np.linspace(-2, 2, 9), "y": np.linspace(1, -1, 9)}
    want = graph.evaluate(point)
    graph.evaluate(point)  # (a second pass compiles and caches a tape)
    batch = graph.evaluate_batch(columns)
    for dumps in (pickle.dumps, cloudpickle.dumps):
        back = pickle.loads(dumps(graph))
        assert [n.op for n in back.nodes] == [n.op for n in graph.nodes]
        got = back.evaluate(point)
        assert got.value == want.value and got.gradient() == want.gradient()
        again = back.evaluate_batch(columns)
        assert np.array_equal(again.value, batch.value)
        assert all(np.array_equal(again.gradient[k], batch.gradient[k]) for k in columns)


def test_descent_mean_reduces_inside_the_kernel():
    """With `mean`, products only summed are dot products, a squared error's 2 leaves the
    rows (it multiplies the sums), and nothing per row is left over: the compiled calls
    are few, and the means are those of the per-row results."""
    from cgraph.batch import BatchEvaluator

    graph = cgraph.parse("(w1*x1 + w2*x2 + b - y)^2")
    rng = np.random.default_rng(5)
    data = {v: rng.normal(size=500) for v in ("x1", "x2", "y")}
    weights = {"w1": 0.3, "w2": -1.2, "b": 0.25}
    run = BatchEvaluator(graph, {}, list(weights))
    cost, grads = run.mean(data, weights)
    rows = run(data, weights)
    assert close(cost, rows.value.mean(), rel=1e-13)
    for g, v in zip(grads, weights):
        assert close(g, rows.gradient[v].mean(), rel=1e-12, abs_=1e-15), v
    kernel = run._kernel(weights, True)
    assert [c[0].__name__ for c in kernel.calls] == [  # the residual r, then its sums
        "multiply", "multiply", "add", "add", "subtract", "dot", "dot", "dot", "reduce"]
    assert kernel.scale == [1.0, 2.0, 2.0, 2.0]  # cost; ∂/∂w1, w2, b: 2·(sums of r·x, r)


def test_mean_computes_what_depends_on_the_data_alone_once():
    """sin(x) does not change between descent's steps: computed when the data is new."""
    from cgraph.batch import BatchEvaluator

    graph = cgraph.parse("(w*sin(x) + b - y)^2")
    rng = np.random.default_rng(6)
    data = {"x": rng.normal(size=300), "y": rng.normal(size=300)}
    run = BatchEvaluator(graph, {}, ["w", "b"])
    first = run.mean(data, {"w": 0.5, "b": 0.1})
    kernel = run._kernel({"w": 0, "b": 0}, True)
    assert [c[0].__name__ for c in kernel.calls if c[4] == 1] == ["sin"]
    runs, data_only = [], kernel.first
    kernel.first = lambda R: runs.append(1) or data_only(R)
    for weights in ({"w": -1.0, "b": 2.0}, {"w": 0.5, "b": 0.1}):
        rows = run(data, weights)
        cost, grads = run.mean(data, weights)  # the same arrays: sin(x) kept
        assert close(cost, rows.value.mean(), rel=1e-13)
        assert all(close(g, rows.gradient[v].mean(), rel=1e-12, abs_=1e-15)
                   for g, v in zip(grads, ("w", "b")))
    assert run.mean(data, {"w": 0.5, "b": 0.1}) == first and runs == []
    other = {"x": data["x"] + 1.0, "y": data["y"].copy()}  # new arrays: computed again
    rows = run(other, {"w": 0.5, "b": 0.1})
    assert close(run.mean(other, {"w": 0.5, "b": 0.1})[0], rows.value.mean(), rel=1e-13)
    assert runs == [1]


def test_evaluate_batch_compiles_once_per_graph_and_bindings():
    from cgraph import batch

    graph = cgraph.parse("a*sin(x) + y")
    cols = {"x": np.arange(5.0), "y": np.ones(5)}
    with mock.patch.object(batch, "_Kernel", wraps=batch._Kernel) as compile_:
        graph.evaluate_batch({**cols, "a": 2.0})
        graph.evaluate_batch({**cols, "a": 2.0})
        assert compile_.call_count == 1
        r = graph.evaluate_batch({**cols, "a": -0.0})  # another fixed value: its own
        assert compile_.call_count == 2
    assert np.array_equal(r.value, -0.0 * np.sin(cols["x"]) + 1.0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, st.lists(st.tuples(*[st.sampled_from(SPECIAL) | st.floats(-3, 3)] * 2),
                             min_size=1, max_size=40), st.floats(-3, 3), st.floats(-3, 3))
def test_random_programs_mean_equals_the_mean_of_the_rows(text, rows, z1, z2):
    """Descent's mean (sums inside the kernel: dot products, factors taken out of the
    sums, the data-only part kept between runs) against the mean of the per-row results,
    for z a weight that changes between runs and x, y the data. The sums are taken in
    another order, so they may differ by rounding: by at most n·eps of the mean of the
    terms' magnitudes (n <= 40 rows: 1e-14; checked at 1e-13)."""
    from cgraph.batch import BatchEvaluator

    graph = cgraph.parse(text)
    data = {v: np.array([r["xy".index(v)] for r in rows]) for v in graph.variables
            if v != "z"}
    weights = {"z": z1} if "z" in graph.variables else {}
    wrt = list(graph.variables)
    run = BatchEvaluator(graph, {}, wrt)
    for z in (z1, z2, z1):  # the same data again: its data-only values are kept
        if weights:
            weights["z"] = z
        with np.errstate(all="ignore"):
            per_row = run(data, weights, size=len(rows))
        cost, grads = run.mean(data, weights, size=len(rows))
        for got, terms in [(cost, per_row.value)] + [
                (g, per_row.gradient[v]) for g, v in zip(grads, wrt)]:
            with np.errstate(all="ignore"):
                want = float(np.mean(terms))
                scale = float(np.mean(np.abs(terms)))
            if np.isnan(terms).any():
                assert math.isnan(got), (text, got)
            elif math.isfinite(scale):  # (infinities: inf - inf is NaN in some orders)
                assert abs(got - want) <= 1e-13 * scale, (text, got, want)


def test_a_rule_that_hands_back_its_input_keeps_that_buffer_alive():
    """y^p with p a per-run scalar: at p = 1 numpy's rule returns its input array itself,
    whose buffer must not be reused while the result is still needed."""
    from cgraph.batch import BatchEvaluator

    graph = cgraph.parse("q = (y + 1)^p; exp(q * x) + sin(x) * q")
    xs, ys = np.linspace(-0.5, 2, 7), np.linspace(3, 1, 7)
    run = BatchEvaluator(graph, {}, ["x"])
    for p in (1.0, 2.0, 0.5):
        r = run({"x": xs, "y": ys}, {"p": p})
        for k, (x, y) in enumerate(zip(xs.tolist(), ys.tolist())):
            ev = graph.evaluate({"x": x, "y": y, "p": p})
            assert close(float(r.value[k]), ev.value, rel=1e-12), (p, x)
            assert close(float(r.gradient["x"][k]), ev.gradient()["x"], rel=1e-11), (p, x)


@given(st.lists(st.integers(1, 4), min_size=2, max_size=3), st.data())
@settings(max_examples=40)
def test_columns_of_any_shapes_that_broadcast_give_results_of_that_shape(shape, data):
    """np.meshgrid's arrays (dense or sparse: shapes that broadcast) for a surface: the
    results have the broadcast shape and equal the flat evaluation point by point."""
    shape = tuple(shape)
    sparse = [tuple(n if data.draw(st.booleans()) else 1 for n in shape) for _ in "xy"]
    rng = np.random.default_rng(len(shape))
    x, y = (rng.uniform(-2, 2, s) for s in sparse)
    full = np.broadcast_shapes(x.shape, y.shape)
    g = cgraph.parse("sin(x)*exp(-y^2) + log(1+x^2)*y*z")
    r = g.evaluate_batch({"x": x, "y": y, "z": 0.5})
    flat = g.evaluate_batch({"x": np.broadcast_to(x, full).ravel(),
                             "y": np.broadcast_to(y, full).ravel(), "z": 0.5})
    assert r.value.shape == full and set(r.gradient) == {"x", "y"}
    assert np.array_equal(r.value.ravel(), flat.value)
    for v in "xy":
        assert r.gradient[v].shape == full
        assert np.array_equal(r.gradient[v].ravel(), flat.gradient[v])


def test_columns_whose_shapes_do_not_broadcast_are_named():
    g = cgraph.parse("x*y")
    with pytest.raises(ValueError, match=r"^columns of shapes that do not broadcast "
                                         r"together: x \(3, 2\), y \(4, 1\)$"):
        g.evaluate_batch({"x": np.ones((3, 2)), "y": np.ones((4, 1))})
    with pytest.raises(ValueError, match=r"different lengths: \[3, 4\]"):
        g.evaluate_batch({"x": np.ones(3), "y": np.ones(4)})
