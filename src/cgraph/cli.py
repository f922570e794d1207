"""The command line: each command's arguments, and a call into the module that does the work.

Shared machinery (the program and its bindings, `--format` and its terminal default, error
messages and exit statuses, consoles) is in `cli_support`, and click's side of it (command
classes, option types, the shared arguments' declarations) in `cli_click`; each command's
renderers are the `FORMATS` map of its own module, which `lazy.<module>` imports when the
command runs. A new command is a module plus one function here. eval's function is in
`eval_command`, so that `argv` can run it without importing click (see argv.py).
"""

from __future__ import annotations

import contextlib

import click

from . import __version__, numtext
from .cli_click import (CONTEXT, INPUT_FILE, KEYS, NAMES, NONNEGATIVE, OUTPUT_FILE, POSITIVE,
                        Command, Group, WholeNumber, declared, format_option, output_file,
                        output_options, program_arguments, program_params)
from .cli_support import StepProgress, applies, by_suffix, digits_apply, lazy, warn
from .eval_command import eval_command as eval_function
from .errors import BindingError, EvaluationError, InputError

DIGITS = WholeNumber(1, 17)


@click.group(context_settings=CONTEXT, cls=Group)
@click.version_option(__version__, "-V", "--version", prog_name="cgraph")
def cli():
    """cgraph: computation graphs of expressions, with values, gradients and diagrams.

    \b
      cgraph eval "(x+y)*z" x=1 y=3 z=-3
      cgraph eval "p = x + y; g = p * z" x=1 y=3 z=-3 --format json
    """


# eval's function is in eval_command, which does not import click: `argv` calls it too, for
# the command lines it reads as click would (see argv.py). These are its declarations.
eval_command = declared(
    eval_function,
    cli.command("eval", cls=Command),
    program_params,
    format_option,
    click.option("--wrt", type=NAMES, metavar="X,Y",
                 help="Report the gradient for these variables only."),
    click.option("--output", "outputs", type=NAMES, metavar="A,B", help="The outputs: named "
                 "statements [default: the last statement]; one gradient column for each."),
    click.option("--mode", type=click.Choice(["reverse", "forward"]), help="reverse: "
                 "∂output/∂node for every node; forward: ∂node/∂x for every node, along "
                 "--tangent [default: reverse, or forward with --tangent]."),
    click.option("--tangent", "tangents", multiple=True, metavar="X=T", help="Forward mode's "
                 "direction: the tangent of an input (repeat for several) [default: the first "
                 "variable, 1]."),
    click.option("--digits", type=DIGITS, metavar="N", help="Significant digits shown "
                 f"[default: {numtext.TABLE} in tables, full precision elsewhere]."),
    click.option("--strict", is_flag=True, help="A non-finite value is an error (exit 1)."),
    click.option("--data", "data_path", type=INPUT_FILE,
                 metavar="FILE.csv", help="Evaluate at every point of a CSV or Parquet file "
                 "('-': CSV on standard input); writes CSV: inputs, value, one column per "
                 "gradient."),
    click.option("-o", "output_path", type=OUTPUT_FILE, metavar="FILE",
                 help="Write to FILE instead of standard output ('-'); its suffix chooses "
                 "the format: .tsv, .csv, .json, .md, .txt (the table); with --data, .csv or "
                 ".parquet."),
    click.option("--fields", type=KEYS, metavar="KEY,KEY", help="Only these top-level keys "
                 "of the JSON document, e.g. value,gradient (implies --format json; without "
                 "nodes, no per-node record is built)."))


@cli.command("graph", cls=Command)
@program_arguments
@output_options("diagrams", help="Diagram language, or a self-contained HTML page "
                "[default: mermaid, or from the -o suffix].")
@click.option("--direction", type=click.Choice(["LR", "RL", "TB", "BT"]),
              help="Layout direction of Mermaid and DOT [default: LR; TB past 20 ranks].")
@click.option("--collapse/--no-collapse", default=None, help="Draw a long sum as one + "
              "node in Mermaid and DOT [default: past 20 ranks].")
@click.option("--grads", is_flag=True, help="A dashed gradient edge back along every edge, "
              "∂output/∂node (needs bindings).")
@click.option("--no-values", is_flag=True, help="Leave values off a bound diagram.")
@click.option("--fence", is_flag=True, help="Wrap Mermaid in a ```mermaid block for Markdown.")
@output_file("Write to FILE; its suffix chooses the format: .mmd, .dot, .html, .md (a "
             "```mermaid block), .svg, .png, .pdf (drawn by Graphviz's dot).")
@click.option("--digits", type=DIGITS, default=numtext.DIAGRAM, show_default=True,
              metavar="N", help="Significant digits of the numbers shown.")
def graph_command(program, out, direction, collapse, grads, no_values, fence, digits):
    """The computation graph as a Mermaid flowchart, Graphviz DOT or an HTML page.

    \b
      cgraph graph "(x+y)*z"
      cgraph graph "p = x + y; g = p * z" x=1 y=3 z=-3 --grads --fence >> backprop.md
      cgraph graph "(x+y)*z" x=1 y=3 z=-3 --format dot | dot -Tsvg > g.svg
      cgraph graph "(x+y)*z" x=1 y=3 z=-3 -o g.svg
      cgraph graph "(x+y)*z" x=1 y=3 z=-3 --grads -o graph.html
    """
    graph, diagrams = program.graph, lazy.diagrams
    kind = out.by_suffix()
    image = kind == "image"  # drawn by Graphviz from the DOT
    out.check_target()
    fmt = out.format_name("mermaid")
    bound = bool(program.bindings)
    applies("digits", bound, "needs bindings: it rounds the values shown (the program's "
            "own numbers are shown as written)")
    applies("no_values", bound, "needs bindings: without them there are no values")
    applies("fence", fmt == "mermaid", "wraps Mermaid only (a ```mermaid block)")
    if kind == "markdown":
        out.options.fence = True  # Markdown shows Mermaid as a diagram only in a fence
    ev = None
    if program.bindings:
        ev = program.evaluate()
    elif grads:
        if not graph.variables:
            raise InputError("--grads draws the gradients with respect to the variables, "
                             "and the program has none")
        raise BindingError("--grads needs a value for every variable, e.g. "
                           + " ".join([f"{v}=1" for v in list(graph.variables)[:10]]
                                      + ["…"] * (len(graph.variables) > 10)))
    if fmt == "html":  # the page lays the graph out itself: left to right, every node
        applies("direction", False, "is for Mermaid and DOT: the HTML page is always "
                "drawn left to right")
        applies("collapse", False, "is for Mermaid and DOT: the HTML page always draws "
                "every node")
        direction, joins, notes = "LR", None, []
    else:
        direction, joins, notes = diagrams.plan(graph, direction, collapse)
    model = diagrams.build(graph, ev, values=not no_values, grads=grads, digits=digits,
                           joins=joins, direction=direction)
    for note in notes + diagrams.warnings(graph, model, fmt):
        warn(note)
    if image:
        for line in diagrams.write_image(diagrams.render_dot(model), out.path, out.inputs):
            click.echo(line, err=True)  # dot's own warnings, e.g. scaling to fit
    else:
        out.emit(model, fmt)


@cli.command("explain", cls=Command)
@program_arguments
@output_options("explain", terminal="rich", piped="text", what="Output")
@click.option("--mode", type=click.Choice(["reverse", "forward"]), help="reverse: the "
              "forward pass, then the backward pass; forward: each node's value with its "
              "tangent, ṅ = Σ ∂n/∂input · inpuṫ [default: reverse, or forward with --tangent].")
@click.option("--tangent", "tangents", multiple=True, metavar="X=T", help="Forward mode's "
              "direction (repeat for several) [default: the first variable, 1].")
@click.option("--digits", type=DIGITS, default=numtext.TABLE, show_default=True,
              metavar="N", help="Significant digits of the numbers shown.")
@click.option("--diagrams", is_flag=True, help="Markdown with a Mermaid diagram after "
              "each step, as in the tutorial (implies --format markdown).")
@output_file("Write to FILE instead of standard output; its suffix chooses the format: "
             ".txt, .md, .html (the stepper page).")
def explain_command(program, out, mode, tangents, digits, diagrams):
    """The forward and backward passes narrated step by step, chain rule included.

    \b
      cgraph explain "p = x + y; g = p * z" x=1 y=3 z=-3
      cgraph explain "(x+y)*z" x=1 y=3 z=-3 --format markdown > walkthrough.md
      cgraph explain "p = x + y; g = p * z" x=1 y=3 z=-3 --mode forward --tangent x=1
      cgraph explain "p = x + y; g = p * z" x=1 y=3 z=-3 --diagrams > tutorial.md
      cgraph explain "p = x + y; g = p * z" x=1 y=3 z=-3 --format html -o backprop.html
    """
    explain = lazy.explain
    if diagrams:
        out.imply("markdown", "--diagrams", "draws Mermaid diagrams into Markdown")
    out.by_suffix()
    if mode == "forward" or (mode is None and tangents):  # as eval reads a --tangent alone
        if diagrams:
            raise click.UsageError("--diagrams draws the reverse-mode walk-through")
        program.evaluate()  # checks the bindings, warns where values stop being finite
        seed = lazy.bindings.parse_tangents(tangents) if tangents else None
        fe = lazy.forward.evaluate_forward(program.graph, program.bindings, seed)
        return out.emit(explain.Narration(explain.forward_walkthrough(fe)))
    if tangents:
        raise InputError("--tangent is forward mode's: use it with --mode forward")
    ev = program.evaluate()
    sections, notes = explain.narrate(ev, diagrams, digits)
    for note in notes:
        warn(note)
    out.emit(explain.Narration(sections, ev))


@cli.command("diff", cls=Command)
@program_arguments
@click.option("--wrt", type=NAMES, metavar="X,Y", help="Differentiate with respect to these "
              "[default: every variable].")
@click.option("--order", type=WholeNumber(1, 10), default=1, show_default=True,
              metavar="N", help="Order of the derivative: every distinct partial of that order "
              "(∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y² for --wrt x,y --order 2).")
@click.option("--output", "outputs", type=NAMES, metavar="A,B", help="Differentiate these "
              "named statements [default: the last statement].")
@output_options("diff", default="text")
@click.option("--digits", type=DIGITS, metavar="N",
              help="Significant digits of values [default: full precision].")
def diff_command(program, out, wrt, order, outputs, digits):
    """The symbolic derivative(s), simplified, as a cgraph program.

    \b
      cgraph diff "x^2*sin(x)"
      cgraph diff "tanh(w*x + b)" --wrt w,b --format latex
      cgraph diff "x^3" --order 2
      cgraph diff "x^2*y + sin(x*y)" --wrt x,y --order 2
      cgraph diff "sin(x)*y" x=1 y=2            # with values
    """
    if program.bindings:
        program.check()
    applies("digits", bool(program.bindings), "needs bindings: it rounds the values at a "
            "point (formulas keep their numbers at full precision)")
    digits_apply(out)
    out.emit(lazy.diff.differentiate(program.graph, wrt, order, outputs)
             .at(program.bindings))


@cli.command("codegen", cls=Command)
@program_arguments
@click.option("--lang", type=click.Choice(["python", "numpy", "c", "js"]),
              help="Language of the generated function [default: python, or from the -o "
              "suffix: .c, .js].")
@click.option("--name", metavar="NAME", help="The function's name [default: f_grad, the "
              "output's name and _grad].")
@click.option("--wrt", type=NAMES, metavar="X,Y", help="The gradient's variables "
              "[default: every variable].")
@click.option("--hessian", is_flag=True, help="Return the Hessian too (forward-over-reverse, "
              "as cgraph hessian computes it).")
@output_file("Write the code to FILE instead of standard output; its suffix chooses the "
             "language: .py, .c, .js.")
def codegen_command(program, lang, name, wrt, hessian, output_path):
    """One function computing the value and the gradient, in Python, numpy, C or JS.

    \b
      cgraph codegen "sigmoid(w*x + b)" --lang c --name neuron > neuron.c
      cgraph codegen --file model.cg --lang numpy --wrt w,b -o model_grad.py
      cgraph codegen "x^2*sin(x)" --lang js
    """
    found = by_suffix(output_path, lazy.codegen.SUFFIXES, lang, flag="--lang")
    lang = found[1] if found else lang or "python"
    module = found is not None and found[0] == "js module"  # -o grad.mjs: exported
    to_file = output_path is not None and lazy.files.descriptor(output_path) != 1
    with lazy.streams.to_file() if to_file else contextlib.nullcontext():  # UTF-8 names
        text = lazy.codegen.command(program, lang, name, wrt, hessian, module)
    if output_path is None:
        click.echo(text, nl=False)
    else:  # whole or not at all, and never onto the program's own --file
        lazy.files.write_text(output_path, text, program.inputs)


@cli.command("check", cls=Command)
@program_arguments
@click.option("--eps", type=POSITIVE, metavar="H", help="Finite-difference step "
              "[default: 6e-6 · max(1, |x|) per variable].")
@click.option("--rtol", type=NONNEGATIVE, default=1e-5, show_default=True,
              help="Relative tolerance.")
@click.option("--atol", type=NONNEGATIVE, default=1e-8, show_default=True,
              help="Absolute tolerance.")
@click.option("--hessian", is_flag=True, help="Check the Hessian instead: forward-over-"
              "reverse against central differences of the gradient, one row per entry.")
@click.option("--output", "outputs", type=NAMES, metavar="A,B", help="Check the gradients "
              "of these named statements [default: the last statement].")
@output_options("check", terminal="table", piped="tsv", what="Output")
def check_command(program, out, eps, rtol, atol, hessian, outputs):
    """Reverse-mode gradients against central finite differences; exit 1 on a mismatch.

    \b
      cgraph check "sigmoid(w*x + b)" w=0.5 x=1.5 b=0.1
      cgraph check "x^2*y + sin(x*y)" x=1 y=2 --hessian
    """
    check = lazy.check
    program.check()
    rows, notes = check.check_outputs(program.graph, program.bindings, outputs, eps, hessian)
    what = "Hessian" if hessian else "gradient"
    for note in notes:
        warn(note)
    report = check.Report(rows, notes, rtol, atol)
    out.emit(report)
    if report.failure(what):
        raise EvaluationError(report.failure(what))


@cli.command("jacobian", cls=Command)
@program_arguments
@click.option("--output", "outputs", type=NAMES, metavar="A,B", help="The outputs: named "
              "statements [default: the last statement].")
@click.option("--wrt", type=NAMES, metavar="X,Y", help="The variables [default: every "
              "variable].")
@click.option("--mode", type=click.Choice(["forward", "reverse"]), help="One pass per "
              "variable (forward) or per output (reverse) [default: forward when there are "
              "fewer variables than outputs].")
@click.option("--verbose", is_flag=True, help="Say on standard error which mode ran, and why.")
@output_options("jacobian", terminal="table", piped="tsv")
@click.option("--digits", type=DIGITS, metavar="N", help="Significant digits shown "
              f"[default: {numtext.TABLE} in tables, full precision elsewhere].")
def jacobian_command(program, out, outputs, wrt, mode, verbose, digits):
    """The matrix ∂outputᵢ/∂variableⱼ, by forward or reverse mode.

    \b
      cgraph jacobian "r = sqrt(x^2 + y^2); t = atan2(y, x)" x=1 y=1 --output r,t
      cgraph jacobian "p = x*y; q = x + y; s = sin(p)" x=1 y=2 --output p,q,s --verbose
      cgraph jacobian "u = x*y*z; v = x + y + z" x=1 y=2 z=3 --output u,v --format latex
    """
    digits_apply(out)
    program.check()
    jac = lazy.jacobian.jacobian(program.graph, program.bindings, outputs, wrt, mode)
    program.warn_nonfinite_value(lazy.jacobian.nonfinite(jac))
    if verbose:
        click.echo(jac.why(asked=mode is not None), err=True)
    out.emit(jac)


@cli.command("hessian", cls=Command)
@program_arguments
@click.option("--wrt", type=NAMES, metavar="X,Y", help="The variables [default: every "
              "variable].")
@click.option("--output", "output_name", metavar="NAME", help="The named statement to "
              "differentiate [default: the last statement].")
@output_options("hessian", terminal="table", piped="tsv")
@click.option("--digits", type=DIGITS, metavar="N", help="Significant digits shown "
              f"[default: {numtext.TABLE} in tables, full precision elsewhere].")
def hessian_command(program, out, wrt, output_name, digits):
    """The Hessian ∂²f/∂xᵢ∂xⱼ, by forward-over-reverse.

    One Hessian-vector product per variable, on the tape. On a terminal it also says,
    where the gradient is ~0, whether the point is a minimum, a maximum, a saddle or
    degenerate.

    \b
      cgraph hessian "(a-1)^2 + 100*(b-a^2)^2" a=1 b=1
      cgraph hessian "x^2*y + sin(x*y)" x=1 y=2 --format json
    """
    if output_name is not None and "," in output_name:
        raise click.UsageError(f"--output {output_name}: the Hessian is of one statement "
                               "(--output NAME); cgraph jacobian takes several outputs")
    digits_apply(out)
    program.check()
    result = lazy.hessian.hessian(program.graph, program.bindings, wrt, output_name)
    program.warn_nonfinite_value(lazy.hessian.nonfinite(result), "second derivative")
    out.emit(result)


@cli.command("descend", cls=Command)
@program_arguments
@click.option("--wrt", type=NAMES, metavar="W1,W2", help="The trainable weights [default: "
              "every bound variable that is not a data column].")
@click.option("--lr", type=POSITIVE, default=0.01, show_default=True, help="Learning rate.")
@click.option("--steps", type=WholeNumber(1), metavar="N", help="Number of steps [default: "
              "1000, or 100000 with --until].")
@click.option("--until", type=POSITIVE, metavar="TOL", help="Stop once the cost changes by "
              "less than TOL in a step, or the gradient norm falls below it.")
@click.option("--optimizer", type=click.Choice(["gd", "momentum", "adam", "newton"]),
              default="gd", show_default=True, help="Update rule (momentum: β=0.9; adam: "
              "0.9, 0.999; newton: the Hessian, damped; --lr does not apply).")
@click.option("--data", "data_path", type=INPUT_FILE,
              metavar="FILE.csv", help="Minimise the mean of the program over these rows "
              "(a CSV or Parquet file).")
@click.option("--epochs", type=WholeNumber(1), default=100, show_default=True,
              metavar="N", help="Passes over --data.")
@click.option("--batch-size", type=WholeNumber(1), metavar="N",
              help="Mini-batches of N rows [default: the full batch].")
@click.option("--seed", type=WholeNumber(0), default=0, show_default=True,
              metavar="N", help="Seed for shuffling mini-batches.")
@click.option("--trace", type=OUTPUT_FILE, metavar="FILE.csv",
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
      cgraph descend "(a-1)^2 + 100*(b-a^2)^2" a=-1 b=1 --optimizer newton --until 1e-10
    """
    graph, bindings = program.graph, program.bindings
    data = None
    by_suffix(trace, lazy.descend.TRACE_SUFFIXES, option="--trace",
              writer="cgraph descend --trace")
    applies("steps", data_path is None, "does not apply to --data: a --data descent runs "
            "--epochs passes over the rows")
    applies("epochs", data_path is not None, "needs --data (without it, give --steps)")
    applies("batch_size", data_path is not None, "needs --data")
    applies("seed", batch_size is not None, "needs --batch-size (it seeds the shuffling "
            "of mini-batches)")
    applies("lr", optimizer != "newton", "does not apply to --optimizer newton (it steps "
            "by the Hessian, halving the step until the cost falls)")
    if data_path is not None:
        program.refuse_uncertainty()
        data = lazy.eval_data.read_all(graph, bindings, data_path, warn)
    else:
        program.check()
    names = wrt or [v for v in lazy.printing.reading_order(graph.variables) if v in bindings]
    if steps is None:
        steps = 100_000 if until is not None else 1000
    progress = StepProgress()
    tracer = (lazy.descend.TraceFile(trace, names, inputs=[*program.inputs, data_path])
              if trace is not None else None)
    try:
        with tracer or contextlib.nullcontext():
            result = lazy.descend.descend(
                graph, bindings, names, lr=lr, steps=steps, until=until,
                optimizer=optimizer, data=data, batch_size=batch_size, seed=seed,
                epochs=epochs, trace=tracer, on_step=progress.update if progress else None)
    finally:
        if progress:
            progress.close()
    for note in result.notes:
        warn(note)
    out.emit(result)


@cli.command("help", cls=Command)
@click.argument("topic", required=False, metavar="[COMMAND]",
                shell_complete=lambda ctx, param, incomplete: [
                    n for n in ctx.parent.command.list_commands(ctx.parent)
                    if n.startswith(incomplete)])
@click.pass_context
def help_command(ctx, topic):
    """The help of cgraph, or of one command: what --help shows.

    \b
      cgraph help
      cgraph help eval
    """
    from .helptext import show

    show(ctx.parent, topic)


def main() -> None:
    """The entry point of an install made before `cgraph.__main__:main` (see entry.py)."""
    from . import entry
    from .cli_support import run

    entry.run(lambda: run(cli))
