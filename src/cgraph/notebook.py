"""Graphs and evaluations in Jupyter and VS Code: the stepper page and the Mermaid diagram.

A cell whose value is a `Graph` shows its picture; an `Evaluation` shows the backprop
stepper, live inputs included. The page sits in an iframe's `srcdoc` (its scripts run
sandboxed inside the frame), so no Graphviz, extension or network is needed; `text/markdown`
carries the Mermaid block for front ends that render Markdown but not HTML.
"""

from __future__ import annotations

from . import graph


def bundle(g, ev=None) -> dict:
    # imported when a notebook first shows a graph: `import cgraph` and the command line
    # do not pay for the drawing modules
    from . import diagrams, explain, stepper

    sections = explain.walkthrough(ev) if ev is not None else None
    page = stepper.page(g, ev, sections)
    model = diagrams.build(g, ev, grads=ev is not None)
    return {
        "text/plain": repr(ev if ev is not None else g),
        "text/html": stepper.iframe(page, g, 640 if ev is not None else 420),
        "text/markdown": diagrams.render_mermaid(model, fence=True),
    }


graph.display = bundle
