"""Update rules for `cgraph descend`: each turns (weights, gradients) into new weights."""

from __future__ import annotations

import math


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


OPTIMIZERS = {"gd": GradientDescent, "momentum": Momentum, "adam": Adam}
