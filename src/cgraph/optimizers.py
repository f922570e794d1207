"""Update rules for `cgraph descend`: each turns (weights, gradients) into new weights."""

from __future__ import annotations

import math

from . import numtext


class GradientDescent:
    """The tutorial's rule: W ← W − lr·∂f/∂W."""

    def __init__(self, lr: float):
        self.lr = lr

    def step(self, w: list[float], g: list[float]) -> list[float]:
        return [wi - self.lr * gi for wi, gi in zip(w, g)]


class Momentum:
    """Heavy ball: v ← β·v + ∂f/∂W; W ← W − lr·v."""

    def __init__(self, lr: float, beta: float = 0.9):
        self.lr, self.beta, self.v = lr, beta, None

    def step(self, w, g):
        self.v = list(g) if self.v is None else [self.beta * v + gi for v, gi in zip(self.v, g)]
        return [wi - self.lr * v for wi, v in zip(w, self.v)]


class Adam:
    """Kingma & Ba (2015), with bias correction; β₁ = 0.9, β₂ = 0.999, ε = 1e-8."""

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, beta1, beta2, eps
        self.m = self.v = None
        self.t = 0

    def step(self, w, g):
        if self.m is None:
            self.m, self.v = [0.0] * len(w), [0.0] * len(w)
        self.t += 1
        self.m = [self.b1 * m + (1 - self.b1) * gi for m, gi in zip(self.m, g)]
        self.v = [self.b2 * v + (1 - self.b2) * gi * gi for v, gi in zip(self.v, g)]
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        return [wi - self.lr * (m / c1) / (math.sqrt(v / c2) + self.eps)
                for wi, m, v in zip(w, self.m, self.v)]


class Newton:
    """W ← W − t·H⁻¹·∂f/∂W, the Hessian H from `hessian_at(W)`, with two safeguards.

    Where H is not positive definite the Newton direction may climb, so H + λI is used
    instead, λ just large enough to make it so (and the run says so once, in `notes`);
    the step length t halves from 1 until the cost decreases (backtracking, Armijo's rule),
    which damps the early steps far from the minimum."""

    def __init__(self, lr: float, hessian_at=None, cost_at=None):
        self.hessian_at, self.cost_at = hessian_at, cost_at
        self.notes: list[str] = []
        self.steps = 0

    def step(self, w, g):
        import numpy as np

        self.steps += 1
        h = np.asarray(self.hessian_at(w), dtype=float)
        grad = np.asarray(g, dtype=float)
        if not np.all(np.isfinite(h)):
            raise FloatingPointError("the Hessian is not finite")
        shift = 0.0
        lowest = float(np.linalg.eigvalsh(h)[0]) if h.size else 0.0
        scale = max(1.0, float(np.max(np.abs(h)))) if h.size else 1.0
        if lowest <= 1e-12 * scale:
            shift = 1e-6 * scale - lowest
            if not self.notes:
                self.notes.append(
                    f"step {self.steps}: the Hessian is not positive definite (smallest "
                    f"eigenvalue {numtext.text(lowest, numtext.STOP)}); using H + "
                    f"{numtext.text(shift, numtext.STOP)}·I, a damped step")
        direction = np.linalg.solve(h + shift * np.eye(len(w)), grad)
        cost = self.cost_at(w)
        slope = float(grad @ direction)
        t = 1.0
        for _ in range(60):
            trial = [float(wi - t * di) for wi, di in zip(w, direction)]
            c = self.cost_at(trial)
            if c <= cost - 1e-4 * t * slope:
                return trial
            t *= 0.5
        return trial  # no decrease found: the caller's stopping rule will see it


OPTIMIZERS = {"gd": GradientDescent, "momentum": Momentum, "adam": Adam, "newton": Newton}
