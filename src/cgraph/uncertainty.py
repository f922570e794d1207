"""First-order propagation of uncertainty: `x=2±0.1` in, `f = value ± σ` out.

For independent inputs with standard uncertainties σᵢ, the output's variance to first
order is σ² = Σᵢ (∂f/∂xᵢ · σᵢ)², the gradient being the reverse pass's; each input's share
of the variance says where the uncertainty comes from. (This is what the `uncertainties`
package computes; the tests compare with it.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

from .errors import InputError
from .graph import Graph


@dataclass
class Uncertainty:
    output: str
    value: float
    sigma: float
    terms: dict[str, float]  # input -> ∂f/∂x · σₓ, its signed contribution to σ
    inputs: dict[str, float]  # input -> its σ

    def shares(self) -> dict[str, float]:
        """Each input's fraction of the variance σ² (0 for all when σ is 0)."""
        s = self.sigma  # (t/σ)², not t²/σ²: the squares of a tiny σ underflow
        return {v: ((t / s) ** 2 if s else 0.0) for v, t in self.terms.items()}


def evaluate(graph: Graph, bindings: Mapping[str, float], sigmas: Mapping[str, float],
             outputs=None):
    """`Graph.evaluate`, with the uncertainty of each output and the σ of every node."""
    ev = graph.evaluate(bindings, outputs)
    ev.uncertainty = propagate(graph, ev.values, sigmas,
                               ev.outputs or [(ev.graph.output_name, ev.graph.output)])
    ev.sigmas = node_sigmas(graph, ev.values, sigmas)
    return ev


def propagate(graph: Graph, values: Sequence[float], sigmas: Mapping[str, float],
              outputs: Sequence[tuple[str, int]] | None = None) -> list[Uncertainty]:
    """σ of each output (default: the program's) from the inputs' σ, one reverse pass each."""
    graph.check_names(sigmas, "±")
    for v, s in sigmas.items():
        if not s >= 0.0:
            raise InputError(f"the uncertainty of {v} must be >= 0, not {s}")
    result = []
    for name, i in outputs or graph.output_nodes():
        adjoint = graph.backward(values, output=i)
        terms = {v: adjoint[graph.variables[v]] * s for v, s in sigmas.items()}
        # math.hypot: no overflow or underflow in the squares
        sigma = math.hypot(*terms.values()) if terms else 0.0
        result.append(Uncertainty(name, values[i], sigma, terms, dict(sigmas)))
    return result


def node_sigmas(graph: Graph, values: Sequence[float], sigmas: Mapping[str, float]) -> list:
    """σ of every node, by forward mode in one pass: each uncertain input is seeded with
    σᵢ·eᵢ, so a node's tangent holds its terms ∂n/∂xᵢ·σᵢ, and σ is their norm."""
    import numpy as np

    from .forward import tangents

    names = list(sigmas)
    seed = {}
    for k, v in enumerate(names):
        unit = np.zeros(len(names))
        unit[k] = sigmas[v]
        seed[graph.variables[v]] = unit
    with np.errstate(all="ignore"):
        terms = tangents(graph, values, seed)
        return [0.0 if t is None else float(np.hypot.reduce(t)) if len(t) else 0.0
                for t in terms]
