"""The command line: parse arguments, call the library, pick a renderer, print once.

Errors from the library (`CgraphError`) become one line on standard error and the exit
status of the contract (2 for input errors, 1 for evaluation failures), in `_Command.invoke`.
"""

from __future__ import annotations

import sys

import click

from . import __version__
from .errors import BindingError, CgraphError, EvaluationError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Command(click.Command):
    """A command taking `PROGRAM [NAME=VALUE…]`, where PROGRAM may begin with a minus sign.

    `cgraph eval "-x^2" x=3`: a first positional argument that starts with `-` but is not
    one of the command's options is the program, not an unknown option.
    """

    def parse_args(self, ctx, args):
        at = self._leading_dash_program(ctx, args)
        if at is None:
            return super().parse_args(ctx, args)
        program = args[at]
        rest = super().parse_args(ctx, args[:at] + args[at + 1:])
        ctx.params["args"] = (program,) + tuple(ctx.params.get("args") or ())
        return rest

    def _leading_dash_program(self, ctx, args):
        takes_value, flags = set(), set()
        for p in self.get_params(ctx):
            if isinstance(p, click.Option):
                names = set(p.opts) | set(p.secondary_opts)
                (flags if p.is_flag or p.count else takes_value).update(names)
        i = 0
        while i < len(args):
            a = args[i]
            if a == "--" or not a.startswith("-") or a == "-":
                return None  # a positional (or the end of options) comes first
            if a.startswith("--"):
                i += 2 if a in takes_value else 1
                continue
            if a in takes_value:
                i += 2
                continue
            if a in flags or a[:2] in takes_value:
                i += 1
                continue
            return i
        return None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CgraphError as e:
            raise _Failure(e) from None
        except RecursionError:  # should never happen: nothing recurses on the input
            raise _Failure(EvaluationError("the program is too deeply nested")) from None


class _Failure(click.ClickException):
    def __init__(self, error: CgraphError):
        super().__init__(error.render())
        self.exit_code = error.exit_code


def _program_command(fn):
    """`PROGRAM [NAME=VALUE…]` or `--file PATH [NAME=VALUE…]`; `-` reads standard input."""
    fn = click.argument("args", nargs=-1, metavar="PROGRAM [NAME=VALUE]...")(fn)
    fn = click.option("--file", "program_file", type=click.File("r", encoding="utf-8"),
                      help="Read the program from this file ('-' for standard input).")(fn)
    return fn


def _split_args(args, program_file) -> tuple[str, list[str]]:
    """The program text and the binding arguments."""
    args = list(args)
    if program_file is not None:
        return program_file.read(), args
    if not args:
        raise click.UsageError("missing PROGRAM (give it as an argument, '-' for "
                               "standard input, or --file PATH)")
    program = args.pop(0)
    if program == "-":
        program = sys.stdin.read()
    return program, args


def _names(option: str | None) -> list[str] | None:
    if option is None:
        return None
    return [n.strip() for n in option.split(",") if n.strip()]


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def _check_finite(ev, strict: bool) -> None:
    """Warn (or, with --strict, fail) where a non-finite value first appears."""
    for message in ev.nonfinite_messages():
        if strict:
            raise EvaluationError(message + " (--strict)")
        _warn(message)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="cgraph")
def cli():
    """cgraph: computation graphs of expressions, with values, gradients and diagrams.

    \b
      cgraph eval "(x+y)*z" x=1 y=3 z=-3
      cgraph eval "p = x + y; g = p * z" x=1 y=3 z=-3 --format json
    """


@cli.command("eval", cls=_Command, context_settings=CONTEXT)
@_program_command
@click.option("--format", "fmt", type=click.Choice(["table", "tsv", "csv", "json", "markdown"]),
              help="Output format [default: table on a terminal, tsv otherwise].")
@click.option("--wrt", metavar="X,Y", help="Report the gradient for these variables only.")
@click.option("--digits", type=click.IntRange(1, 17), metavar="N",
              help="Significant digits shown [default: 6 in tables, full precision elsewhere].")
@click.option("--strict", is_flag=True, help="A non-finite value is an error (exit 1).")
@click.option("--data", "data_path", type=click.Path(dir_okay=False, allow_dash=True),
              metavar="FILE.csv", help="Evaluate at every point of a CSV file ('-' for "
              "standard input); writes CSV: inputs, value, one column per gradient.")
def eval_command(args, program_file, fmt, wrt, digits, strict, data_path):
    """Forward and reverse pass: every node's value and ∂output/∂node.

    \b
      cgraph eval "(x+y)*z" x=1 y=3 z=-3
      echo "x^2 + sin(x)" | cgraph eval - x=0.5 --format tsv
      cgraph eval --file model.cg w=0.8 x=1.2 b=-0.1 --wrt w,b
    """
    from .bindings import parse_bindings
    from .parser import parse
    from . import eval_formats as report

    text, binding_args = _split_args(args, program_file)
    graph = parse(text)
    bindings = parse_bindings(binding_args)
    wrt = _names(wrt)
    graph.check_names(wrt)
    if data_path is not None:
        if fmt not in (None, "csv"):
            raise click.UsageError("--data writes CSV; --format does not apply")
        from .eval_data import eval_points

        return eval_points(graph, bindings, data_path, wrt, _progress)
    graph.check_bindings(bindings)
    ev = graph.evaluate(bindings)
    _check_finite(ev, strict)
    if fmt is None:
        fmt = "table" if sys.stdout.isatty() else "tsv"
    if fmt == "json":
        for piece in report.json_chunks(ev, wrt):
            sys.stdout.write(piece)
        sys.stdout.write("\n")
    elif fmt in ("tsv", "csv"):
        click.echo(report.to_delimited(ev, "\t" if fmt == "tsv" else ",", digits), nl=False)
    elif fmt == "markdown":
        click.echo(report.to_markdown(ev, wrt, digits), nl=False)
    else:
        _console().print(report.to_table(ev, wrt, digits or 6))


@cli.command("graph", cls=_Command, context_settings=CONTEXT)
@_program_command
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]),
              help="Diagram language [default: mermaid, or from the -o suffix].")
@click.option("--direction", type=click.Choice(["LR", "RL", "TB", "BT"]),
              help="Layout direction [default: LR; TB past 20 ranks].")
@click.option("--collapse/--no-collapse", default=None, help="Draw a long sum as one + "
              "node [default: past 20 ranks].")
@click.option("--grads", is_flag=True, help="Dashed back-edges with ∂output/∂node "
              "(needs bindings).")
@click.option("--no-values", is_flag=True, help="Leave values off a bound diagram.")
@click.option("--fence", is_flag=True, help="Wrap Mermaid in a ```mermaid block for Markdown.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write to FILE; .svg/.png/.pdf renders through Graphviz's dot.")
@click.option("--digits", type=click.IntRange(1, 17), default=6, show_default=True,
              metavar="N", help="Significant digits of the numbers shown.")
def graph_command(args, program_file, fmt, direction, collapse, grads, no_values, fence,
                  output, digits):
    """The computation graph as a Mermaid flowchart or Graphviz DOT.

    \b
      cgraph graph "(x+y)*z"
      cgraph graph "p = x + y; g = p * z" x=1 y=3 z=-3 --grads --fence >> docs/backprop.md
      cgraph graph "(x+y)*z" x=1 y=3 z=-3 --format dot | dot -Tsvg > g.svg
      cgraph graph "(x+y)*z" x=1 y=3 z=-3 -o g.svg
    """
    from . import diagrams
    from .bindings import parse_bindings
    from .parser import parse

    text, binding_args = _split_args(args, program_file)
    graph = parse(text)
    bindings = parse_bindings(binding_args)
    image = output is not None and output.lower().endswith(diagrams.IMAGE_SUFFIXES)
    if image and fmt == "mermaid":
        raise click.UsageError("images are rendered through Graphviz: use --format dot "
                               "(or write the Mermaid text to a .mmd file)")
    if fmt is None:
        fmt = "dot" if image or (output or "").lower().endswith((".dot", ".gv")) else "mermaid"
    ev = None
    if bindings:
        graph.check_bindings(bindings)
        ev = graph.evaluate(bindings)
        _check_finite(ev, strict=False)
    elif grads:
        raise BindingError("--grads needs a value for every variable, e.g. "
                           + " ".join(f"{v}=1" for v in graph.variables))
    result, notes = diagrams.render(graph, ev, fmt, direction=direction, collapse=collapse,
                                    values=not no_values, grads=grads, digits=digits,
                                    fence=fence)
    for note in notes:
        _warn(note)
    if output is None:
        click.echo(result, nl=False)
    elif image:
        for line in diagrams.write_image(result, output):  # dot's own warnings
            click.echo(line, err=True)
    else:
        _write_file(output, result)


def _evaluate(args, program_file):
    """Parse the program and its bindings (all required), and run both passes."""
    from .bindings import parse_bindings
    from .parser import parse

    text, binding_args = _split_args(args, program_file)
    graph = parse(text)
    bindings = parse_bindings(binding_args)
    graph.check_bindings(bindings)
    return graph.evaluate(bindings)


@cli.command("explain", cls=_Command, context_settings=CONTEXT)
@_program_command
@click.option("--format", "fmt", type=click.Choice(["rich", "text", "markdown"]),
              help="Output [default: rich on a terminal, text otherwise].")
@click.option("--digits", type=click.IntRange(1, 17), default=6, show_default=True,
              metavar="N", help="Significant digits of the numbers shown.")
def explain_command(args, program_file, fmt, digits):
    """The forward and backward passes narrated step by step, chain rule included.

    \b
      cgraph explain "p = x + y; g = p * z" x=1 y=3 z=-3
      cgraph explain "(x+y)*z" x=1 y=3 z=-3 --format markdown > walkthrough.md
    """
    from . import explain

    ev = _evaluate(args, program_file)
    _check_finite(ev, strict=False)
    sections = explain.walkthrough(ev)
    if fmt is None:
        fmt = "rich" if sys.stdout.isatty() else "text"
    if fmt == "rich":
        _console().print(explain.to_rich(sections, digits))
    elif fmt == "markdown":
        click.echo(explain.to_markdown(sections, digits), nl=False)
    else:
        click.echo(explain.to_text(sections, digits), nl=False)


@cli.command("diff", cls=_Command, context_settings=CONTEXT)
@_program_command
@click.option("--wrt", metavar="X,Y", help="Differentiate with respect to these "
              "[default: every variable].")
@click.option("--order", type=click.IntRange(1, 10), default=1, show_default=True,
              help="Order of the derivative (∂ⁿf/∂xⁿ for each variable).")
@click.option("--format", "fmt", type=click.Choice(["text", "latex", "json"]),
              default="text", show_default=True, help="Output format.")
@click.option("--digits", type=click.IntRange(1, 17), metavar="N",
              help="Significant digits of values [default: full precision].")
def diff_command(args, program_file, wrt, order, fmt, digits):
    """The symbolic derivative(s), simplified, as a cgraph program.

    \b
      cgraph diff "x^2*sin(x)"
      cgraph diff "tanh(w*x + b)" --wrt w,b --format latex
      cgraph diff "x^3" --order 2
      cgraph diff "sin(x)*y" x=1 y=2            # with values
    """
    from .bindings import parse_bindings
    from .diff import differentiate
    from .parser import parse
    from .printing import format_number

    text, binding_args = _split_args(args, program_file)
    graph = parse(text)
    bindings = parse_bindings(binding_args)
    if bindings:
        graph.check_bindings(bindings)
    d = differentiate(graph, _names(wrt), order)
    values = d.values(bindings) if bindings else None
    if fmt == "json":
        click.echo(d.to_json(values))
        return
    click.echo(d.latex() if fmt == "latex" else d.text(), nl=False)
    if values is not None:
        point = ", ".join(f"{k}={format_number(v, digits)}" for k, v in bindings.items())
        click.echo("".join(f"# at {point}: {d.name(v)} = {format_number(x, digits)}\n"
                           for v, x in values.items()), nl=False)


@cli.command("check", cls=_Command, context_settings=CONTEXT)
@_program_command
@click.option("--eps", type=float, metavar="H", help="Finite-difference step "
              "[default: 6e-6 · max(1, |x|) per variable].")
@click.option("--rtol", type=float, default=1e-5, show_default=True,
              help="Relative tolerance.")
@click.option("--atol", type=float, default=1e-8, show_default=True,
              help="Absolute tolerance.")
@click.option("--format", "fmt", type=click.Choice(["table", "tsv", "json"]),
              help="Output [default: table on a terminal, tsv otherwise].")
def check_command(args, program_file, eps, rtol, atol, fmt):
    """Reverse-mode gradients against central finite differences; exit 1 on a mismatch.

    \b
      cgraph check "sigmoid(w*x + b)" w=0.5 x=1.5 b=0.1
    """
    from . import check

    ev = _evaluate(args, program_file)
    rows, notes = check.check(ev, eps)
    for note in notes:
        _warn(note)
    if fmt is None:
        fmt = "table" if sys.stdout.isatty() else "tsv"
    if fmt == "json":
        click.echo(check.to_json(rows, notes, rtol, atol))
    elif fmt == "tsv":
        click.echo(check.to_tsv(rows, rtol, atol), nl=False)
    else:
        _console().print(check.to_table(rows, rtol, atol))
    bad = [r.variable for r in rows if not r.ok(rtol, atol)]
    if bad:
        raise EvaluationError("gradient mismatch for " + ", ".join(bad))


@cli.command("descend", cls=_Command, context_settings=CONTEXT)
@_program_command
@click.option("--wrt", metavar="W1,W2", help="The trainable weights [default: every bound "
              "variable that is not a data column].")
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
@click.option("--format", "fmt", type=click.Choice(["table", "json"]),
              help="Output [default: table on a terminal, json otherwise].")
def descend_command(args, program_file, wrt, lr, steps, until, optimizer, data_path, epochs,
                    batch_size, seed, trace, fmt):
    """Gradient descent on the program's output over the --wrt weights.

    \b
      cgraph descend "(w*x + b - y)^2" w=0 b=0 x=2 y=5 --wrt w,b --lr 0.05 --steps 200
      cgraph descend "(a-1)^2 + 100*(b-a^2)^2" a=-1 b=1 --optimizer adam --lr 0.01 \\
          --until 1e-10 --trace run.csv
      cgraph descend --file loss.cg w1=0.1 w2=-0.2 --data samples.csv --epochs 50
    """
    from . import descend
    from .bindings import parse_bindings
    from .parser import parse

    text, binding_args = _split_args(args, program_file)
    graph = parse(text)
    bindings = parse_bindings(binding_args)
    data = None
    if data_path is not None:
        from .eval_data import read_all

        data = read_all(graph, bindings, data_path)
    else:
        graph.check_bindings(bindings)
    names = _names(wrt) or [v for v in graph.variables if v in bindings]
    if steps is None:
        steps = 100_000 if until is not None else 1000
    progress = _step_progress()
    run = descend.descend(graph, bindings, names, lr=lr, steps=steps, until=until,
                          optimizer=optimizer, data=data, batch_size=batch_size, seed=seed,
                          epochs=epochs, trace=trace is not None,
                          on_step=progress.update if progress else None)
    if progress:
        progress.close()
    if trace is not None:
        _write_file(trace, descend.trace_csv(run))
    if fmt is None:
        fmt = "table" if sys.stdout.isatty() else "json"
    if fmt == "json":
        click.echo(descend.to_json(run, optimizer, lr))
    else:
        _console().print(descend.to_table(run, plot=sys.stdout.isatty()))


class _step_progress:
    """A Rich progress bar on standard error, on a terminal only, updated sparingly."""

    def __new__(cls):
        if not sys.stderr.isatty():
            return None
        return super().__new__(cls)

    def __init__(self):
        from rich.progress import Progress

        self.bar = Progress(console=_console(stderr=True), transient=True)
        self.task = None
        self.bar.start()

    def update(self, step: int, total: int) -> None:
        if self.task is None:
            self.task = self.bar.add_task("descending", total=total)
        if step % max(1, total // 100) == 0 or step == total:
            self.bar.update(self.task, completed=step)

    def close(self) -> None:
        self.bar.stop()


def _write_file(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as e:
        raise EvaluationError(f"cannot write {path}: {e.strerror}") from None


def _progress(total: int | None):
    """A Rich progress bar on standard error for long runs, on a terminal only."""
    if total is None or total < (8 << 20) or not sys.stderr.isatty():
        return None
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    return Progress("[progress.description]{task.description}", BarColumn(),
                    DownloadColumn(), TimeRemainingColumn(), console=_console(stderr=True),
                    transient=True)


def _console(stderr: bool = False):
    """Rich decides whether this is a terminal; NO_COLOR turns off every escape code."""
    import os

    from rich.console import Console

    plain = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, highlight=False, color_system=None if plain else "auto")


def main() -> None:
    import gc

    # One short-lived process building up to millions of acyclic objects: the cyclic
    # collector would rescan them again and again (1.5-3x the run time) for nothing.
    gc.disable()
    cli.main(prog_name="cgraph")

