"""Baselines and peers, each building the SAME graph as a parsed cgraph program.

Each `build_*` walks a cgraph Graph and replays it in another engine, so every engine
computes exactly the same nodes. Only what these programs use is mapped (var, const, add,
sub, mul, neg, sin, exp, pow).
"""

from __future__ import annotations

import math

import numpy as np


class TapeValue:
    """A plain pure-Python tape: each value records its parents and local partials."""

    __slots__ = ("value", "parents", "grad")

    def __init__(self, value, parents=()):
        self.value = value
        self.parents = parents  # ((parent, ∂self/∂parent), ...)
        self.grad = 0.0


def replay(graph, bindings, leaf, ops):
    """Rebuild `graph` in another engine: `leaf(value, is_variable)` makes inputs, `ops`
    maps cgraph op names to the engine's functions. Returns every node's engine value."""
    vals = []
    for n in graph.nodes:
        if n.op.name == "var":
            vals.append(leaf(float(bindings[n.name]), True))
        elif n.op.name == "const":
            vals.append(leaf(n.value, False))
        else:
            vals.append(ops[n.op.name](*(vals[j] for j in n.inputs)))
    return vals


def _tape_pow(a, b):
    r = a.value ** b.value
    return TapeValue(r, ((a, b.value * a.value ** (b.value - 1)),
                         (b, r * math.log(a.value) if a.value > 0 else 0.0)))


TAPE_OPS = {
    "add": lambda a, b: TapeValue(a.value + b.value, ((a, 1.0), (b, 1.0))),
    "sub": lambda a, b: TapeValue(a.value - b.value, ((a, 1.0), (b, -1.0))),
    "mul": lambda a, b: TapeValue(a.value * b.value, ((a, b.value), (b, a.value))),
    "neg": lambda a: TapeValue(-a.value, ((a, -1.0),)),
    "sin": lambda a: TapeValue(math.sin(a.value), ((a, math.cos(a.value)),)),
    "exp": lambda a: (lambda e: TapeValue(e, ((a, e),)))(math.exp(a.value)),
    "pow": _tape_pow,
}


def tape_build_forward_backward(graph, bindings):
    vals = replay(graph, bindings, lambda v, _: TapeValue(v), TAPE_OPS)
    out = vals[graph.output]
    out.grad = 1.0
    for v in reversed(vals):  # creation order is a topological order: the tape
        g = v.grad
        if g:
            for p, d in v.parents:
                p.grad += g * d
    return out.value, {k: vals[i].grad for k, i in graph.variables.items()}


def torch_build_forward_backward(graph, bindings):
    import torch

    def leaf(v, variable):
        return torch.tensor(v, dtype=torch.float64, requires_grad=variable)

    ops = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "neg": lambda a: -a, "sin": torch.sin, "exp": torch.exp,
           "pow": lambda a, b: a ** b}
    vals = replay(graph, bindings, leaf, ops)
    out = vals[graph.output]
    out.backward()
    return float(out.detach()), {k: float(vals[i].grad) for k, i in graph.variables.items()}


def micrograd_build_forward_backward(graph, bindings):
    from micrograd.engine import Value

    ops = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "neg": lambda a: -a}
    vals = replay(graph, bindings, lambda v, _: Value(v), ops)
    out = vals[graph.output]
    out.backward()
    return out.data


def numpy_by_hand(x, y):
    """f = sin(x)*exp(-y^2) + log(1+x^2)*y with its gradient typed out."""
    s = np.sin(x)
    e = np.exp(-y ** 2)
    q = 1 + x ** 2
    lg = np.log(q)
    f = s * e + lg * y
    dfdx = np.cos(x) * e + 2 * x / q * y
    dfdy = -2 * y * s * e + lg
    return f, dfdx, dfdy


def torch_batch(x, y):
    import torch

    tx = torch.tensor(x, requires_grad=True)
    ty = torch.tensor(y, requires_grad=True)
    f = torch.sin(tx) * torch.exp(-ty ** 2) + torch.log(1 + tx ** 2) * ty
    f.backward(torch.ones_like(f))
    return f.detach().numpy(), tx.grad.numpy(), ty.grad.numpy()


def jax_batch():
    """The same f with JAX: `jax.jit(jax.vmap(jax.value_and_grad(f, (0, 1))))` in float64,
    numpy arrays in and out (the transfers both ways included). Returns the function,
    compiled (by a first call) so that timing it leaves compilation out."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def f(x, y):
        return jnp.sin(x) * jnp.exp(-y ** 2) + jnp.log(1 + x ** 2) * y

    compiled = jax.jit(jax.vmap(jax.value_and_grad(f, argnums=(0, 1))))

    def run(x, y):
        value, (dx, dy) = compiled(x, y)
        return np.asarray(value), np.asarray(dx), np.asarray(dy)

    return run


NUMPY_SCRIPT = """
import sys, numpy as np
d = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
x, y = d[:, 0], d[:, 1]
s = np.sin(x); e = np.exp(-y**2); q = 1 + x**2; lg = np.log(q)
f = s*e + lg*y
dx = np.cos(x)*e + 2*x/q*y
dy = -2*y*s*e + lg
np.savetxt(sys.stdout, np.column_stack([x, y, f, dx, dy]), delimiter=",",
           header="x,y,f,df_dx,df_dy", comments="", fmt="%.17g")
"""

POLARS_SCRIPT = """
import sys, polars as pl
x, y = pl.col("x"), pl.col("y")
s = x.sin(); e = (-y**2).exp(); q = 1 + x**2; lg = q.log()
pl.read_csv(sys.argv[1], schema_overrides={"x": pl.Float64, "y": pl.Float64}).select(
    x, y, f=s*e + lg*y, df_dx=x.cos()*e + 2*x/q*y, df_dy=-2*y*s*e + lg,
).write_csv(sys.stdout.buffer)  # shortest round-trip spelling of every double
"""


def rosenbrock(n: int) -> str:
    """The chained Rosenbrock function of n variables as a cgraph program."""
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(n - 1))


def rosenbrock_point(n: int) -> dict:
    return {f"x{i}": 0.5 + 0.01 * i for i in range(n)}


def torch_hessian(n: int, point: dict):
    """torch.autograd.functional.hessian of the same function (float64, CPU)."""
    import torch

    def f(x):
        return torch.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    x = torch.tensor([point[f"x{i}"] for i in range(n)], dtype=torch.float64)
    return torch.autograd.functional.hessian(f, x).numpy()


def sympy_hessian(n: int, point: dict):
    """sympy.hessian of the same function, lambdified and evaluated at the point."""
    import sympy as sp

    xs = sp.symbols(f"x0:{n}")
    f = sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1))
    h = sp.lambdify(xs, sp.hessian(f, xs), "numpy")
    return np.array(h(*(point[str(s)] for s in xs)), dtype=float)


# -- whole processes: what a user of each peer would run ---------------------------------
# The same two programs in each engine: a sum of n products x_i*w_j over 87 variables, and
# a chain of n steps t = t*c + d. Each script builds the expression in a loop, as a user of
# that library writes it, runs backward and prints the value and gradient as JSON.

def per_call(fn, calls: int) -> float:
    """The mean time of `calls` calls of fn in a row."""
    import time

    t = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t) / calls


def peer_program(kind: str, n: int) -> tuple[str, dict]:
    """The cgraph program and its bindings for `kind` ("sum" or "chain") of size n."""
    if kind == "sum":
        text = " + ".join(f"x{i % 50}*w{i % 37}" for i in range(n))
        bindings = {**{f"x{i}": 1 + i / 100 for i in range(50)},
                    **{f"w{i}": 0.5 + i / 100 for i in range(37)}}
        return text, bindings
    text = "t0 = x\n" + "\n".join(f"t{i} = t{i - 1}*c + d" for i in range(1, n + 1))
    return text, {"x": 0.5, "c": 0.9, "d": 0.3}


def peer_size(kind: str, nodes: int) -> int:
    """The n of peer_program(kind, n) whose graph has about `nodes` nodes."""
    if kind == "chain":  # x, c, d and two nodes a step
        return max(1, (nodes - 3) // 2)
    n = 1
    while min(n + 1, 50) + min(n + 1, 37) + 2 * (n + 1) - 1 <= nodes:  # variables, * and +
        n += 1
    return n


def micrograd_loop(kind: str, n: int):
    """The peer program in micrograd, as its users write it (the loop of the scripts
    below): build (the forward pass), backward, read the gradients."""
    from micrograd.engine import Value

    if kind == "sum":
        xs = [Value(1 + i / 100) for i in range(50)]
        ws = [Value(0.5 + i / 100) for i in range(37)]
        f = xs[0] * ws[0]
        for i in range(1, n):
            f = f + xs[i % 50] * ws[i % 37]
        leaves = xs[:n] + ws[:n]
    else:
        leaves = [Value(0.5), Value(0.9), Value(0.3)]
        f, c, d = leaves
        for _ in range(n):
            f = f * c + d
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10**6))  # its topological sort recurses once per node
    try:
        f.backward()
    finally:
        sys.setrecursionlimit(limit)
    return f.data, [v.grad for v in leaves]


_PEER_SCRIPT = """
import json, sys
{setup}
kind, n = sys.argv[1], int(sys.argv[2])
if kind == "sum":
    xs = [leaf(1 + i / 100) for i in range(50)]
    ws = [leaf(0.5 + i / 100) for i in range(37)]
    names = {{**{{f"x{{i}}": v for i, v in enumerate(xs)}},
              **{{f"w{{i}}": v for i, v in enumerate(ws)}}}}
    f = xs[0] * ws[0]
    for i in range(1, n):
        f = f + xs[i % 50] * ws[i % 37]
else:
    names = {{"x": leaf(0.5), "c": leaf(0.9), "d": leaf(0.3)}}
    f, c, d = names["x"], names["c"], names["d"]
    for _ in range(n):
        f = f * c + d
f.backward()
print(json.dumps({{"value": {value}, "gradient": {{k: {grad} for k, v in names.items()}}}}))
"""

MICROGRAD_SCRIPT = _PEER_SCRIPT.format(
    setup="from micrograd.engine import Value as leaf\n"
          "sys.setrecursionlimit(10**6)  # its topological sort recurses once per node",
    value="f.data", grad="v.grad")

TORCH_SCRIPT = _PEER_SCRIPT.format(
    setup="import torch\n"
          "def leaf(v):\n"
          "    return torch.tensor(v, dtype=torch.float64, requires_grad=True)",
    value="f.item()", grad="v.grad.item()")


def numpy_descent(data, weights, lr, steps):
    """Gradient descent on mean((w1*x1 + w2*x2 + b - y)^2), its gradient typed out: the loop
    a numpy user writes by hand (what `descend --data` does for that program)."""
    x1, x2, y = data["x1"], data["x2"], data["y"]
    w1, w2, b = weights
    for _ in range(steps):
        r = w1 * x1 + w2 * x2 + b - y
        g1, g2, gb = 2 * np.mean(r * x1), 2 * np.mean(r * x2), 2 * np.mean(r)
        w1, w2, b = w1 - lr * g1, w2 - lr * g2, b - lr * gb
    return [float(w1), float(w2), float(b)]
