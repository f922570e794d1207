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


def tape_build_forward_backward(graph, bindings):
    tape = []
    vals = []
    for n in graph.nodes:
        name = n.op.name
        if name == "var":
            v = TapeValue(float(bindings[n.name]))
        elif name == "const":
            v = TapeValue(n.value)
        else:
            args = [vals[j] for j in n.inputs]
            a = args[0]
            if name == "add":
                v = TapeValue(a.value + args[1].value, ((a, 1.0), (args[1], 1.0)))
            elif name == "sub":
                v = TapeValue(a.value - args[1].value, ((a, 1.0), (args[1], -1.0)))
            elif name == "mul":
                b = args[1]
                v = TapeValue(a.value * b.value, ((a, b.value), (b, a.value)))
            elif name == "neg":
                v = TapeValue(-a.value, ((a, -1.0),))
            elif name == "sin":
                v = TapeValue(math.sin(a.value), ((a, math.cos(a.value)),))
            elif name == "exp":
                e = math.exp(a.value)
                v = TapeValue(e, ((a, e),))
            elif name == "pow":
                b = args[1]
                r = a.value ** b.value
                v = TapeValue(r, ((a, b.value * a.value ** (b.value - 1)),
                                  (b, r * math.log(a.value) if a.value > 0 else 0.0)))
            else:
                raise NotImplementedError(name)
        tape.append(v)
        vals.append(v)
    out = vals[graph.output]
    out.grad = 1.0
    for v in reversed(tape):
        g = v.grad
        if g:
            for p, d in v.parents:
                p.grad += g * d
    return out.value, {k: vals[i].grad for k, i in graph.variables.items()}


def torch_build_forward_backward(graph, bindings):
    import torch

    vals = []
    leaves = {}
    for n in graph.nodes:
        name = n.op.name
        if name == "var":
            v = torch.tensor(float(bindings[n.name]), dtype=torch.float64, requires_grad=True)
            leaves[n.name] = v
        elif name == "const":
            v = torch.tensor(n.value, dtype=torch.float64)
        else:
            args = [vals[j] for j in n.inputs]
            v = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
                 "mul": lambda a, b: a * b, "neg": lambda a: -a, "sin": torch.sin,
                 "exp": torch.exp, "pow": lambda a, b: a ** b}[name](*args)
        vals.append(v)
    out = vals[graph.output]
    out.backward()
    return float(out.detach()), {k: float(t.grad) for k, t in leaves.items()}


def micrograd_build_forward_backward(graph, bindings):
    from micrograd.engine import Value

    vals = []
    for n in graph.nodes:
        name = n.op.name
        if name == "var":
            v = Value(float(bindings[n.name]))
        elif name == "const":
            v = Value(n.value)
        else:
            args = [vals[j] for j in n.inputs]
            v = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
                 "mul": lambda a, b: a * b, "neg": lambda a: -a}[name](*args)
        vals.append(v)
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
