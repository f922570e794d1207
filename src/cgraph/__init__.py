"""cgraph: computation graphs of expressions, their values and gradients.

    >>> import cgraph
    >>> g = cgraph.parse("(x+y)*z")
    >>> ev = g.evaluate({"x": 1, "y": 3, "z": -3})
    >>> ev.value, ev.gradient()
    (-12.0, {'x': -3.0, 'y': -3.0, 'z': 4.0})

The names below are imported on first use, so that the `cgraph` command can install its
Ctrl-C handler before anything else is loaded (see __main__.py).
"""

__version__ = "0.1.0"

_EXPORTS = {"parse": "parser", "Graph": "graph", "Node": "graph", "Evaluation": "graph",
            "CgraphError": "errors"}

__all__ = ["parse", "Graph", "Node", "Evaluation", "CgraphError", "__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        from . import notebook  # noqa: F401  (a Graph or Evaluation draws itself in notebooks)

        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value  # (found at once from now on: cgraph.parse in a loop)
        return value
    raise AttributeError(f"module 'cgraph' has no attribute {name!r}")
