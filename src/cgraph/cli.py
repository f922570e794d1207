"""The command line: each command's arguments, and a call into the module that does the work.

Shared machinery (the program and its bindings, `--format` and its terminal default, error
messages and exit statuses, consoles) is in `cli_support`; each command's renderers are the
`FORMATS` map of its own module, which `lazy.<module>` imports when the command runs. A new
command is a module plus one function here.
"""

from __future__ import annotations

import click

from . import __version__, numtext
from .cli_support import (CONTEXT, NAMES, Command, StepProgress, byte_progress, lazy,
                          output_file, output_options, program_arguments, run, warn, write_file)
from .errors import BindingError, EvaluationError

DIGITS = click.IntRange(1, 17)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="cgraph")
def cli():
    """cgraph: computation graphs of expressions, with values, gradients and diagrams.

    \b
      cgraph eval "(x+y)*z" x=1 y=3 z=-3
      cgraph eval "p = x + y; g = p * z" x=1 y=3 z=-3 --format json
    """


@cli.command("eval", cls=Command)
@program_arguments
@output_options("eval_formats", terminal="table", piped="tsv")
@click.option("--wrt", type=NAMES, metavar="X,Y",
              help="Report the gradient for these variables only.")
@click.option("--digits", type=DIGITS, metavar="N", help="Significant digits shown "
              f"[default: {numtext.TABLE} in tables, full precision elsewhere].")
@click.option("--strict", is_flag=True, help="A non-finite value is an error (exit 1).")
@click.option("--data", "data_path", type=click.Path(dir_okay=False, allow_dash=True),
              metavar="FILE.csv", help="Evaluate at every point of a CSV file ('-' for "
              "standard input); writes CSV: inputs, value, one column per gradient.")
def eval_command(program, out, wrt, digits, strict, data_path):
    """Forward and reverse pass: every node's value and ∂output/∂node.

    \b
      cgraph eval "(x+y)*z" x=1 y=3 z=-3
      echo "x^2 + sin(x)" | cgraph eval - x=0.5 --format tsv
      cgraph eval --file model.cg w=0.8 x=1.2 b=-0.1 --wrt w,b
    """
    program.graph.check_names(wrt)
    if data_path is not None:
        if out.format not in (None, "csv"):
            raise click.UsageError("--data writes CSV; --format does not apply")
        return lazy.eval_data.eval_points(program.graph, program.bindings, data_path, wrt,
                                          byte_progress)
    out.emit(program.evaluate("strict" if strict else "warn"))


@cli.command("graph", cls=Command)
@program_arguments
@output_options("diagrams", help="Diagram language, or a self-contained HTML page "
                "[default: mermaid, or from the -o suffix].")
@click.option("--direction", type=click.Choice(["LR", "RL", "TB", "BT"]), default="LR",
              show_default=True, help="Layout direction.")
@click.option("--grads", is_flag=True, help="Dashed back-edges with ∂output/∂node "
              "(needs bindings).")
@click.option("--no-values", is_flag=True, help="Leave values off a bound diagram.")
@click.option("--fence", is_flag=True, help="Wrap Mermaid in a ```mermaid block for Markdown.")
@output_file("Write to FILE; .svg/.png/.pdf renders through Graphviz's dot.")
@click.option("--digits", type=DIGITS, default=numtext.DIAGRAM, show_default=True,
              metavar="N", help="Significant digits of the numbers shown.")
def graph_command(program, out, direction, grads, no_values, fence, digits):
    """The computation graph as a Mermaid flowchart, Graphviz DOT or an HTML page.

    \b
      cgraph graph "(x+y)*z"
      cgraph graph "p = x + y; g = p * z" x=1 y=3 z=-3 --grads --fence >> docs/backprop.md
      cgraph graph "(x+y)*z" x=1 y=3 z=-3 --format dot | dot -Tsvg > g.svg
      cgraph graph "(x+y)*z" x=1 y=3 z=-3 -o g.svg
      cgraph graph "(x+y)*z" x=1 y=3 z=-3 --grads -o graph.html
    """
    graph, diagrams = program.graph, lazy.diagrams
    path = (out.path or "").lower()
    image = path.endswith(diagrams.IMAGE_SUFFIXES)
    if image and out.format not in (None, "dot"):
        raise click.UsageError("images are rendered through Graphviz: use --format dot "
                               "(or write the Mermaid text to a .mmd file)")
    fmt = out.format_name("dot" if image or path.endswith((".dot", ".gv")) else
                          "html" if path.endswith((".html", ".htm")) else "mermaid")
    ev = None
    if program.bindings:
        ev = program.evaluate()
    elif grads:
        raise BindingError("--grads needs a value for every variable, e.g. "
                           + " ".join(f"{v}=1" for v in graph.variables))
    model = diagrams.build(graph, ev, values=not no_values, grads=grads, digits=digits)
    if fmt == "mermaid" and len(model.edges) > diagrams.MERMAID_MAX_EDGES:
        warn(f"{len(model.edges)} edges: Mermaid renders at most "
             f"{diagrams.MERMAID_MAX_EDGES} by default (GitHub too); "
             "use --format dot for big graphs")
    if len(graph.nodes) > 2000:
        warn(f"{len(graph.nodes)} nodes: renderers slow down past 2,000 nodes")
    if image:
        diagrams.write_image(diagrams.render_dot(model, direction), out.path)
    else:
        out.emit(model, fmt)


@cli.command("explain", cls=Command)
@program_arguments
@output_options("explain", terminal="rich", piped="text", what="Output")
@click.option("--digits", type=DIGITS, default=numtext.TABLE, show_default=True,
              metavar="N", help="Significant digits of the numbers shown.")
@output_file("Write to FILE instead of standard output (e.g. --format html -o page.html).")
def explain_command(program, out, digits):
    """The forward and backward passes narrated step by step, chain rule included.

    \b
      cgraph explain "p = x + y; g = p * z" x=1 y=3 z=-3
      cgraph explain "(x+y)*z" x=1 y=3 z=-3 --format markdown > walkthrough.md
      cgraph explain "p = x + y; g = p * z" x=1 y=3 z=-3 --format html -o backprop.html
    """
    out.emit(program.evaluate())


@cli.command("diff", cls=Command)
@program_arguments
@click.option("--wrt", type=NAMES, metavar="X,Y", help="Differentiate with respect to these "
              "[default: every variable].")
@click.option("--order", type=click.IntRange(1, 10), default=1, show_default=True,
              help="Order of the derivative (∂ⁿf/∂xⁿ for each variable).")
@output_options("diff", default="text")
@click.option("--digits", type=DIGITS, metavar="N",
              help="Significant digits of values [default: full precision].")
def diff_command(program, out, wrt, order, digits):
    """The symbolic derivative(s), simplified, as a cgraph program.

    \b
      cgraph diff "x^2*sin(x)"
      cgraph diff "tanh(w*x + b)" --wrt w,b --format latex
      cgraph diff "x^3" --order 2
      cgraph diff "sin(x)*y" x=1 y=2            # with values
    """
    if program.bindings:
        program.check()
    out.emit(lazy.diff.differentiate(program.graph, wrt, order).at(program.bindings))


@cli.command("check", cls=Command)
@program_arguments
@click.option("--eps", type=float, metavar="H", help="Finite-difference step "
              "[default: 6e-6 · max(1, |x|) per variable].")
@click.option("--rtol", type=float, default=1e-5, show_default=True,
              help="Relative tolerance.")
@click.option("--atol", type=float, default=1e-8, show_default=True,
              help="Absolute tolerance.")
@output_options("check", terminal="table", piped="tsv", what="Output")
def check_command(program, out, eps, rtol, atol):
    """Reverse-mode gradients against central finite differences; exit 1 on a mismatch.

    \b
      cgraph check "sigmoid(w*x + b)" w=0.5 x=1.5 b=0.1
    """
    rows, notes = lazy.check.check(program.evaluate(finite=None), eps)
    for note in notes:
        warn(note)
    report = lazy.check.Report(rows, notes, rtol, atol)
    out.emit(report)
    if report.mismatches():
        raise EvaluationError("gradient mismatch for " + ", ".join(report.mismatches()))


@cli.command("descend", cls=Command)
@program_arguments
@click.option("--wrt", type=NAMES, metavar="W1,W2", help="The trainable weights [default: "
              "every bound variable that is not a data column].")
@click.option("--lr", type=float, default=0.01, show_default=True, help="Learning rate.")
@click.option("--steps", type=click.IntRange(1), help="Number of steps [default: 1000, "
              "or 100000 with --until].")
@click.option("--until", type=float, metavar="TOL", help="Stop once the cost changes by "
              "less than TOL in a step, or the gradient norm falls below it.")
@click.option("--optimizer", type=click.Choice(["gd", "momentum", "adam"]), default="gd",
              show_default=True, help="Update rule (momentum: β=0.9; adam: 0.9, 0.999).")
@click.option("--data", "data_path", type=click.Path(dir_okay=False, allow_dash=True),
              metavar="FILE.csv", help="Minimise the mean of the program over these rows.")
@click.option("--epochs", type=click.IntRange(1), default=100, show_default=True,
              help="Passes over --data.")
@click.option("--batch-size", type=click.IntRange(1), metavar="N",
              help="Mini-batches of N rows [default: the full batch].")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed for shuffling mini-batches.")
@click.option("--trace", type=click.Path(dir_okay=False), metavar="FILE.csv",
              help="Write every step: step, cost, each weight, each gradient.")
@output_options("descend", terminal="table", piped="json", what="Output")
def descend_command(program, out, wrt, lr, steps, until, optimizer, data_path, epochs,
                    batch_size, seed, trace):
    """Gradient descent on the program's output over the --wrt weights.

    \b
      cgraph descend "(w*x + b - y)^2" w=0 b=0 x=2 y=5 --wrt w,b --lr 0.05 --steps 200
      cgraph descend "(a-1)^2 + 100*(b-a^2)^2" a=-1 b=1 --optimizer adam --lr 0.01 \\
          --until 1e-10 --trace run.csv
      cgraph descend --file loss.cg w1=0.1 w2=-0.2 --data samples.csv --epochs 50
    """
    graph, bindings = program.graph, program.bindings
    data = None
    if data_path is not None:
        data = lazy.eval_data.read_all(graph, bindings, data_path)
    else:
        program.check()
    names = wrt or [v for v in graph.variables if v in bindings]
    if steps is None:
        steps = 100_000 if until is not None else 1000
    progress = StepProgress()
    result = lazy.descend.descend(graph, bindings, names, lr=lr, steps=steps, until=until,
                             optimizer=optimizer, data=data, batch_size=batch_size, seed=seed,
                             epochs=epochs, trace=trace is not None,
                             on_step=progress.update if progress else None)
    if progress:
        progress.close()
    if trace is not None:
        write_file(trace, lazy.descend.trace_csv(result))
    out.emit(result)


def main() -> None:
    run(cli)
