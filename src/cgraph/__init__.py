"""cgraph: computation graphs of expressions, their values and gradients.

    >>> import cgraph
    >>> g = cgraph.parse("(x+y)*z")
    >>> ev = g.evaluate({"x": 1, "y": 3, "z": -3})
    >>> ev.value, ev.gradient()
    (-12.0, {'x': -3.0, 'y': -3.0, 'z': 4.0})
"""

__version__ = "0.1.0"

from .errors import CgraphError  # noqa: E402
from .graph import Evaluation, Graph, Node  # noqa: E402
from .parser import parse  # noqa: E402
from . import notebook  # noqa: E402,F401  (a Graph or Evaluation draws itself in notebooks)

__all__ = ["parse", "Graph", "Node", "Evaluation", "CgraphError", "__version__"]
