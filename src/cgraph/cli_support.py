"""What every command shares: the program and its bindings, output formats, errors, consoles.

A command declares its arguments with two decorators and keeps its logic in its own module:

    @cli.command("explain", cls=Command)
    @program_arguments                       # PROGRAM [NAME=VALUE…] or --file: `program`
    @output_options("explain", terminal="rich", piped="text")   # --format: `out`
    def explain_command(program, out, digits):
        out.emit(lazy.explain.walkthrough(program.evaluate()))

The module's `FORMATS` maps each format's name to a renderer `(result, options) -> str |
iterable of str | Rich renderable`; `options` holds the command's parameters (`digits`,
`wrt`, …) and `terminal`. Adding a format is one renderer and one entry in that map; the
terminal-dependent default is decided here, in `Output.format_name`, and nowhere else.

A command's module is imported when that command runs (`lazy`, and the `--format` choices),
so start-up costs what the one command needs, not what every command needs.
"""

from __future__ import annotations

import functools
import gc
import importlib
import io
import os
import sys
from types import SimpleNamespace

import click

from . import numtext
from .bindings import binding_name, parse_uncertain_bindings, read_bindings_file
from .errors import BindingError, CgraphError, EvaluationError
from .eval_formats import nonfinite_messages
from .graph import Evaluation, Graph
from .parser import parse

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Context(click.Context):
    """Help laid out for the terminal it is shown on, 40 columns too (`helptext`)."""

    def make_formatter(self):
        from .helptext import HelpFormatter

        return HelpFormatter(width=self.terminal_width, max_width=self.max_content_width)


class Command(click.Command):
    """A command taking `PROGRAM [NAME=VALUE…]`, where PROGRAM may begin with a minus sign.

    `cgraph eval "-x^2" x=3`: a first positional argument that starts with `-` but is not
    one of the command's options is the program, not an unknown option. Errors from the
    library (`CgraphError`) become one line on standard error and the contract's exit
    status (2 for input errors, 1 for evaluation failures).
    """

    context_class = Context

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("context_settings", CONTEXT)
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx, args):
        given = list(args)  # (click's parser takes the arguments from the list)
        try:
            return self._parse_args(ctx, args)
        except click.NoSuchOption as e:
            # `cgraph eval --x` or `-h`: options as far as any parser can tell; but
            # `--fromat`, close to an option, is a typo, and "Did you mean" says enough
            if not e.possibilities and any(p.name == "args" for p in self.params) and \
                    not self._program_before(ctx, given, e.option_name):
                e.message += (f" (a program that begins with '--', or is '-h', goes after "
                              f"'--': cgraph {ctx.info_name} -- '{e.option_name}…' x=1)")
            raise

    def _parse_args(self, ctx, args):
        at = self._leading_dash_program(ctx, args)
        if at is None:
            return super().parse_args(ctx, args)
        program = args[at]
        rest = super().parse_args(ctx, args[:at] + args[at + 1:])
        ctx.params["args"] = (program,) + tuple(ctx.params.get("args") or ())
        return rest

    def _options(self, ctx) -> tuple[set, set]:
        """The option names that take a value, and those that are flags."""
        takes_value, flags = set(), set()
        for p in self.get_params(ctx):
            if isinstance(p, click.Option):
                names = set(p.opts) | set(p.secondary_opts)
                (flags if p.is_flag or p.count else takes_value).update(names)
        return takes_value, flags

    def _program_before(self, ctx, args, option: str) -> bool:
        """Whether the program was given before `option` (a positional, or --file): then
        an unknown option is one (`cgraph diff "x*x" -o f`), not a program misread."""
        takes_value = self._options(ctx)[0]
        i = 0
        while i < len(args):
            a = args[i]
            if a == option or a.startswith(option + "="):
                return False
            if a == "--" or not a.startswith("-") or a == "-" or a == "--file" or \
                    a.startswith("--file="):
                return True
            i += 2 if a in takes_value else 1
        return False

    def _leading_dash_program(self, ctx, args):
        takes_value, flags = self._options(ctx)
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


class Group(click.Group):
    """The `cgraph` group: every error, a usage error included, is one line on standard
    error (`Error: … (see 'cgraph eval --help')`, exit 2), not click's four lines of usage,
    hint, blank and error. --help, --version and `cgraph` alone print as click prints."""

    context_class = Context

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            # None when a command ran, the status of --help or --version (click.Exit)
            status = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as e:
            e.show()  # `cgraph` alone: the help, on standard error, status 2
            sys.exit(e.exit_code)
        except click.UsageError as e:
            click.echo(one_line(e), err=True)
            sys.exit(e.exit_code)
        except click.ClickException as e:  # a library error (_Failure): already one line
            e.show()
            sys.exit(e.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(status or 0)

    def invoke(self, ctx):
        super().invoke(ctx)  # what a command returns is not a status: main's is None

    def resolve_command(self, ctx, args):
        """click's, whose "Did you mean" is case-sensitive: `cgraph EVAL` (or `cgraph help
        EVAL`) is told of eval too. Commands stay case-sensitive, as git's are."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as e:
            folded = args[0].lower()
            if not e.possibilities and folded in self.commands:
                e.possibilities = [folded]
            raise

    def format_commands(self, ctx, formatter):
        from .helptext import format_commands

        format_commands(self, ctx, formatter)


def one_line(e: click.UsageError) -> str:
    """`Error: <message> (see 'cgraph eval --help')`."""
    message = " ".join(e.format_message().split("\n")).strip().rstrip(".")
    hint = ""
    if e.ctx is not None and e.ctx.command.get_help_option(e.ctx) is not None:
        hint = f" (see '{e.ctx.command_path} --help')"
    return f"Error: {message}{hint}"


class _Failure(click.ClickException):
    def __init__(self, error: CgraphError):
        super().__init__(error.render(_stderr_width()))
        self.exit_code = error.exit_code


def _stderr_width() -> int | None:
    """The width of the terminal standard error is, or None (a pipe, a file)."""
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns or None
    except (OSError, ValueError, AttributeError):
        return None


# -- the program and its bindings ---------------------------------------------------------

class Program:
    """A parsed program and its parsed bindings (not yet checked against each other)."""

    def __init__(self, graph: Graph, bindings: dict, sigmas: dict | None = None,
                 path: str | None = None, bindings_path: str | None = None):
        self.graph = graph
        self.bindings = bindings
        self.sigmas = sigmas or {}  # `x=2±0.1`: only eval takes these
        self.path = path  # the --file it came from ('-': standard input)
        self.inputs = [path, bindings_path]  # files read: never written onto (-o, --trace)

    def check(self, uncertain: bool = False) -> "Program":
        """Every variable bound, and nothing else; an uncertainty only if `uncertain`."""
        if not uncertain:
            self.refuse_uncertainty()
        self.graph.check_bindings(self.bindings, lists=True)
        return self

    def refuse_uncertainty(self, why: str = "only eval propagates an uncertainty (±)"):
        if self.sigmas:
            name = next(iter(self.sigmas))
            raise BindingError(f"{name}: {why}; write {name}=VALUE here")

    def evaluate(self, finite: str | None = "warn", outputs=None,
                 uncertain: bool = False) -> Evaluation:
        """Check the bindings and run both passes (one reverse pass per named output, and
        the propagated uncertainties when the bindings carry some); then, where a value
        first stops being finite, warn (`finite="warn"`), fail (`"strict"`) or say
        nothing (None)."""
        self.check(uncertain)
        if self.sigmas:
            from .uncertainty import evaluate

            ev = evaluate(self.graph, self.bindings, self.sigmas, outputs)
        else:
            ev = self.graph.evaluate(self.bindings, outputs)
        self.report_nonfinite(ev, finite)
        return ev

    def warn_nonfinite_value(self) -> None:
        """jacobian and hessian, whose tables show derivatives: warn, as eval does, where a
        value first stops being finite from finite inputs (one more pass)."""
        ev = self.graph.evaluate(self.bindings)
        if ev.first_nonfinite() is not None:
            warn(nonfinite_messages(ev)[0])

    @staticmethod
    def report_nonfinite(ev, finite: str | None = "warn") -> None:
        if finite is not None:
            for message in nonfinite_messages(ev):
                if finite == "strict":
                    raise EvaluationError(message + " (--strict)")
                warn(message)


def program_arguments(fn):
    """`PROGRAM [NAME=VALUE…]` or `--file PATH [NAME=VALUE…]` ('-' reads standard input),
    handed to the command as `program`, a parsed `Program`."""

    @functools.wraps(fn)
    def command(args, program_file, bindings_file, **kwargs):
        source = program_file or ("-" if args and args[0] == "-" else None)
        streams = (source, kwargs.get("data_path"), bindings_file)
        if streams.count("-") > 1:  # one standard input: the program, the rows, the bindings
            held = [what for what, name in zip(("the program", "the --data rows",
                                                "the bindings (--bindings -)"), streams)
                    if name == "-"]
            raise click.UsageError(f"standard input cannot hold both {held[0]} and "
                                   f"{held[1]}: give one of them as a file")
        text, binding_args = _split_args(args, program_file)
        typed = args[0] if source is None and program_file is None else None
        try:
            graph = parse(text)
        except CgraphError as e:
            if typed is not None and _binding_like(typed):
                raise _forgot_program(args) from None
            if typed is not None and _a_file(typed):  # cgraph eval model.cg: --file was meant
                import shlex

                command = click.get_current_context().command_path
                raise click.UsageError(
                    f"{typed!r} is the name of a file, not a program: read "
                    f"the program from it with --file ({command} --file "
                    f"{' '.join(map(shlex.quote, args))})") from None
            if getattr(e, "product", None) and (  # x(1) with x=2: x*(1) was meant
                    any(a.partition("=")[0].strip() == e.name for a in binding_args)
                    or e.name in _file_names(bindings_file)):
                raise e.as_product() from None
            raise
        if typed is not None and not graph.variables and _binding_like(typed):
            if binding_args or bindings_file:  # each would be refused as not a variable
                raise _forgot_program(args)
            warn(f"the program {typed!r} sets {typed.partition('=')[0]} to a constant and "
                 f"has no variables; if it is a binding, {_program_first(args)}")
        bindings, sigmas = parse_uncertain_bindings(binding_args)
        if bindings_file:  # the command line wins over the file
            kept, kept_sigmas = read_bindings_file(bindings_file)
            sigmas = {**{k: s for k, s in kept_sigmas.items() if k not in bindings}, **sigmas}
            bindings = bindings.over(kept)
        return fn(program=Program(graph, bindings, sigmas, source, bindings_file), **kwargs)

    command = click.argument("args", nargs=-1, metavar="PROGRAM [NAME=VALUE]...")(command)
    command = click.option("--bindings", "bindings_file", metavar="FILE",
                           help="Read bindings from FILE: a JSON object (a list binds a "
                                "family: \"w\": [0.1, 0.2]; descend's JSON output works "
                                "as it is) or NAME=VALUE lines. Bindings on the command "
                                "line override it.")(command)
    return click.option("--file", "program_file",
                        type=INPUT_FILE,
                        help="Read the program from this file ('-' for standard "
                             "input).")(command)


def _split_args(args, program_file) -> tuple[str, list[str]]:
    """The program text and the binding arguments."""
    args = list(args)
    if not all(map(str.isascii, args)):  # (files.py is not imported for ASCII arguments)
        lazy.files.check_arguments_utf8(args)
    if program_file is not None:
        return lazy.files.read_text(program_file, "the program"), args
    if not args:
        raise click.UsageError("missing PROGRAM (give it as an argument, '-' for "
                               "standard input, or --file PATH)")
    program = args.pop(0)
    if program == "-":
        program = lazy.files.read_text("-", "the program")
    return program, args


def _file_names(bindings_file) -> set[str]:
    """The names a --bindings file binds, for a hint; none if there is none or it does not
    read (its own error comes when it is read for the bindings)."""
    if not bindings_file or bindings_file == "-":
        return set()
    try:
        return set(read_bindings_file(bindings_file)[0])
    except CgraphError:
        return set()


def _a_file(arg: str) -> bool:
    """Whether the program argument names a file (asked only of one that does not parse)."""
    try:
        return os.path.isfile(arg)
    except (OSError, ValueError):  # a NUL, a name too long
        return False


def _binding_like(arg: str) -> bool:
    """Whether the program argument is a binding, one word `x=1` (as a program: the
    assignment of a constant), `x=2±0.1` or `w=[1,2]` (as a program: an error): checked
    only when the program has no variables or does not parse, so never on the usual path."""
    if "=" not in arg or any(c.isspace() for c in arg):
        return False
    if click.get_current_context().command.name == "codegen":  # it takes no bindings
        return False
    try:
        parse_uncertain_bindings([arg])
    except CgraphError:
        return False
    return True


def _program_first(args) -> str:
    """`the program comes first (e.g. cgraph eval "x*y" x=1 y=2)`; a name bound twice
    is bound once in the example (its last value), which is what would run."""
    last = {a.partition("=")[0]: i for i, a in enumerate(args)
            if "=" in a and not a.startswith("-")}
    names = list(last)
    args = [a for i, a in enumerate(args)
            if i in last.values() or "=" not in a or a.startswith("-")]
    example = '"' + ("*".join(names) if len(names) > 1 else f"{names[0]}*2") + '"'
    if any(a.partition("=")[2].startswith("[") for a in args):
        example = "PROGRAM"  # a family is used by index: w[1]
    command = click.get_current_context().command_path
    return f"the program comes first (e.g. {command} {example} {' '.join(args)})"


def _forgot_program(args) -> click.UsageError:
    return click.UsageError(f"missing PROGRAM: {args[0]!r} looks like a binding, and "
                            + _program_first(args))


class NameList(click.ParamType):
    """`x,y` -> ["x", "y"]; an element's commas are its own: `W[1,1],b[2]` -> ["W[1,1]",
    "b[2]"] (written as cgraph prints it: `W[1, 01]` is W[1,1])."""

    name = "names"

    def __init__(self, empty_ok: bool = False):
        self.empty_ok = empty_ok  # (--fields: check_fields says which keys there are)

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        if "[" not in value:
            names = [n.strip() for n in value.split(",") if n.strip()]
        else:
            import re

            names = [binding_name(n.strip()) or n.strip()
                     for n in re.split(r",(?![^\[]*\])", value) if n.strip()]
        if not names and not self.empty_ok:  # (--wrt '' was taken as every variable)
            self.fail(f"{value!r} names nothing: give names (X,Y), or leave the option out",
                      param, ctx)
        return names


NAMES = NameList()
KEYS = NameList(empty_ok=True)
# One instance of each file type, shared by every option that takes one: click looks up a
# translation of the word "file" (gettext, 80 µs) for each click.Path it builds.
INPUT_FILE = click.Path(dir_okay=False, allow_dash=True)  # '-': standard input


class OutputFile(click.Path):
    """A file to write: '-' is standard output; '' and a directory (`out/`, or one that
    exists) are usage errors, not a file named `out` or a failure after the work."""

    def __init__(self):
        super().__init__(dir_okay=False, allow_dash=True)

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value != "-":
            if not value:
                self.fail("an empty file name (write '-' for standard output)", param, ctx)
            if value.endswith(("/", os.sep)) or os.path.isdir(value):
                self.fail(f"{value} names a directory, not a file", param, ctx)
        return super().convert(value, param, ctx)


OUTPUT_FILE = OutputFile()


class _OptionValueError(click.BadParameter):
    """`--digits: 'abc' is not a whole number`: the option, then why, as the other usage
    errors read, not click's "Invalid value for '--digits': …"."""

    def format_message(self):
        if self.param is not None and self.param.opts:
            return f"{max(self.param.opts, key=len)}: {self.message}"
        return super().format_message()


class _OptionValue:
    """The numeric option types' failures, in one form."""

    def fail(self, message, param=None, ctx=None):
        raise _OptionValueError(message, ctx=ctx, param=param)


class Number(_OptionValue, click.ParamType):
    """A finite float, positive (`above=0`) or at least 0 (`least=0`): NaN, infinities and
    values out of range are usage errors, not silently ignored or divided by."""

    name = "number"

    def __init__(self, above: float | None = None, least: float | None = None):
        self.above, self.least = above, least

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            number = value
        else:
            try:
                number = float(value)
            except ValueError:
                self.fail(f"{value!r} is not a number", param, ctx)
        if number != number or number in (float("inf"), float("-inf")):
            self.fail(f"{value} is not a finite number", param, ctx)
        if self.above is not None and not number > self.above:
            self.fail(f"{value} is not greater than {numtext.text(self.above, numtext.SETTING)}", param, ctx)
        if self.least is not None and not number >= self.least:
            self.fail(f"{value} is less than {numtext.text(self.least, numtext.SETTING)}", param, ctx)
        return number


POSITIVE = Number(above=0)
NONNEGATIVE = Number(least=0)


class WholeNumber(_OptionValue, click.IntRange):
    """An integer option from `low` (to `high`): every one (--digits, --order, --steps,
    --seed …) says `--steps: 'abc' is not a whole number` or `--digits: 0 is out of range
    (1 to 17)`, not click's "is not a valid integer range"; `1e3` and `2.0` are whole."""

    name = "whole number"

    def __init__(self, low: int, high: int | None = None):
        super().__init__(low, high)

    def _describe_range(self) -> str:  # click's --help shows it too: [default: 1; 1 to 10]
        return f"at least {self.min}" if self.max is None else f"{self.min} to {self.max}"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            number = _whole(str(value).strip())
            if number is None:
                self.fail(f"{value!r} is not a whole number", param, ctx)
        if number < self.min or (self.max is not None and number > self.max):
            # 1e20, not 10**20: compiling 10**20 folds it, and a Ctrl-C landing in that
            # fold was dropped by the compiler (a run went on with Ctrl-C ignored)
            shown = number if abs(number) < 1e20 else value
            self.fail(f"{shown} is out of range ({self._describe_range()})", param, ctx)
        return number


def _whole(text: str) -> int | float | None:
    """`12`, `1e3`, `2.0` -> the integer; a number beyond a double -> ±Infinity (out of any
    range); anything else -> None."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    if number in (float("inf"), float("-inf")):
        return number
    return int(number) if number.is_integer() else None


def given(name: str) -> bool:
    """Whether the user gave the option `name` (not its default)."""
    from click.core import ParameterSource

    source = click.get_current_context().get_parameter_source(name)
    return source not in (None, ParameterSource.DEFAULT)


def applies(name: str, condition: bool, reason: str) -> None:
    """A usage error for an option given where it would be silently ignored."""
    if not condition and given(name):
        raise click.UsageError(f"{name_of(name)} {reason}")


def name_of(param: str) -> str:
    """The option as the user typed it: `--no-collapse` for a flag pair's off side."""
    ctx = click.get_current_context()
    for p in ctx.command.params:
        if p.name == param and p.opts:
            if getattr(p, "secondary_opts", None) and ctx.params.get(param) is False:
                return max(p.secondary_opts, key=len)
            return max(p.opts, key=len)
    return param


# -- command modules, imported when used --------------------------------------------------

class Modules:
    """`lazy.explain` is the module `cgraph.explain`, imported on first use."""

    def __getattr__(self, name: str):
        module = importlib.import_module(f"{__package__}.{name}")
        setattr(self, name, module)
        return module


lazy = Modules()


class _Formats(click.Choice):
    """The names in a command module's FORMATS, looked up when --format is parsed or shown."""

    def __init__(self, module: str):
        self.module = module
        super().__init__([])

    @property
    def choices(self):
        return list(getattr(lazy, self.module).FORMATS)

    @choices.setter
    def choices(self, _value):
        pass


# -- output -------------------------------------------------------------------------------

def output_options(module: str, *, terminal: str | None = None, piped: str | None = None,
                   default: str | None = None, what: str = "Output format",
                   help: str | None = None):
    """`--format` chosen from the FORMATS ({name: renderer}) of the command's `module`,
    handed to the command as `out`.

    The default is `terminal` on a terminal and `piped` otherwise, or the fixed `default`,
    or (neither) the command's own choice (`out.format_name(fallback)`). With `output_file`
    also on the command, `out` writes to that file instead of standard output.
    """
    if help is None:
        help = (f"{what}." if default else
                f"{what} [default: {terminal} on a terminal, {piped} otherwise].")

    def decorate(fn):
        @functools.wraps(fn)
        def command(fmt, **kwargs):
            path = kwargs.pop("output_path", None)
            asked = path is not None  # `-o -`: standard output, by the user's own choice
            if path is not None and lazy.files.descriptor(path) == 1:
                path = None  # `-o -`, `-o /dev/stdout`: as without -o
            options = SimpleNamespace(terminal=path is None and sys.stdout.isatty(),
                                      **kwargs)
            options.asked = asked
            formats = getattr(lazy, module).FORMATS
            suffixes = getattr(getattr(lazy, module), "SUFFIXES", None)
            program = kwargs.get("program")
            inputs = program.inputs if program is not None else []
            return fn(out=Output(formats, fmt, path, options, terminal, piped, inputs,
                                 suffixes), **kwargs)

        return click.option("--format", "fmt", type=_Formats(module),
                            default=default, show_default=default is not None,
                            help=help)(command)

    return decorate


def output_file(help: str):
    """`-o FILE`: the command's output goes to FILE (see `Output.path`)."""
    return click.option("-o", "--output", "output_path", type=OUTPUT_FILE,
                        metavar="FILE", help=help)


def by_suffix(path: str | None, suffixes: dict, given: str | None = None, *,
              option: str = "-o", flag: str = "--format", said: str | None = None,
              writer: str | None = None) -> tuple[str, str] | None:
    """What the output file `path` holds, by its suffix: `(kind, format)`, from the
    command's table `suffixes`. An entry is a format (`{".csv": "csv"}`), or a kind and
    the formats it holds, the first without `given` (`{".py": ("python", ("python",
    "numpy"))}`; an image is drawn from dot: `{".svg": ("image", ("dot",))}`).

    The one place an output's suffix is read, for every command and option that writes a
    file. None without a path, and for standard output or a special file (`-`,
    /dev/stdout, a named pipe): there `given` or the command's default decides, whatever
    the name ends with. A usage error, worded alike everywhere, for a suffix not in the
    table (not Mermaid text in a .jpg) and for a `given` format the file cannot hold
    (`-o out.csv --format json`); `said` is how the user chose it (`--fields writes
    json`; by default `--format is json`, or `flag` in place of --format)."""
    if path is None or lazy.files.is_special(path):
        return None
    suffix = os.path.splitext(path)[1].lower()
    entry = suffixes.get(suffix)
    if writer is None:
        writer = f"cgraph {click.get_current_context().info_name}"
    if entry is None:
        raise click.UsageError(f"{option} {path}: {writer} writes {or_list(suffixes)} "
                               "files, not " + (f"'{suffix}'" if suffix else
                                                "a name without a suffix"))
    kind, formats = _kind(entry)
    if given is None:
        return kind, formats[0]
    if given not in formats:
        holds = f" ({flag} {or_list(formats)})" if formats != (kind,) else ""
        fit = [s for s, e in suffixes.items() if given in _kind(e)[1]]
        where = f"; {given} goes to {or_list(fit)} files" if fit else ""
        raise click.UsageError(f"{option} {path} is {article(kind)} {kind} file{holds}, "
                               f"but {said or f'{flag} is {given}'}{where}")
    return kind, given


def _kind(entry) -> tuple[str, tuple]:
    """A suffix table's entry as (kind, the formats it holds)."""
    return (entry, (entry,)) if isinstance(entry, str) else entry


def or_list(items) -> str:
    """`a`, `a or b`, `a, b or c`."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def article(word: str) -> str:
    """`a` or `an`, as the name of a format is said: an image, an html file."""
    return "an" if word[:1] in "aeio" or word == "html" else "a"


PAGES = {"html"}  # formats that are web pages, for a browser (see `Output._refuse_page`)


class Output:
    """Where a command's result goes: the chosen format's renderer, then stdout or a file."""

    def __init__(self, formats, fmt, path, options, terminal, piped, inputs=(),
                 suffixes=None):
        self.formats = formats
        self.suffixes = suffixes or {}  # what -o FILE's suffix names (see `by_suffix`)
        self.format = fmt  # as given (None when the user did not choose)
        self.said = None  # how an option other than --format chose it (see `imply`)
        self.path = path
        self.inputs = list(inputs)  # files the command reads: never written onto
        self.options = options
        self._defaults = (terminal, piped)

    def format_name(self, fallback: str | None = None) -> str:
        """The format to use: the user's, else `fallback`, else by whether stdout is a
        terminal."""
        terminal, piped = self._defaults
        return self.format or fallback or (terminal if self.options.terminal else piped)

    def by_suffix(self, suffixes: dict | None = None,
                  writer: str | None = None) -> str | None:
        """The kind of file -o names, by its suffix (see `by_suffix`; `suffixes`: the
        command module's SUFFIXES), or None for standard output; its format is then the
        output's, unless --format (which must agree with it) chose one."""
        found = by_suffix(self.path, self.suffixes if suffixes is None else suffixes,
                          self.format, said=self.said, writer=writer)
        if found is None:
            self._refuse_page()
            return None
        kind, self.format = found
        return kind

    def _refuse_page(self) -> None:
        """A web page (`--format html`, 30 KB of markup and script) is not written to a
        terminal, as gzip writes no compressed data there and curl no binary output: a
        usage error, before any work, that says where it goes. A pipe, a redirection and
        -o FILE get it; `-o -` writes it to the terminal anyway, as curl's `--output -`."""
        if self.format in PAGES and self.options.terminal and not self.options.asked:
            raise click.UsageError(
                f"--format {self.format} is a web page, for a browser, not a terminal: "
                f"write it with -o page.{self.format} (or > page.{self.format}); -o - puts "
                "it here anyway")

    def imply(self, fmt: str, option: str, reason: str) -> None:
        """An option that writes one format (`--fields`: JSON): --format must be that one,
        and so must -o's suffix (call this before `by_suffix`)."""
        if self.format not in (None, fmt):
            raise click.UsageError(f"{option} {reason}; it does not apply to --format "
                                   f"{self.format} (only to --format {fmt})")
        if self.format is None:
            self.format, self.said = fmt, f"{option} writes {fmt}"

    def check_target(self) -> None:
        """A usage error now, before any work, when -o names one of the inputs."""
        if self.path is not None:
            lazy.files.check_target(self.path, self.inputs)

    def emit(self, result, fmt: str | None = None) -> None:
        lazy.entry.keep(result)  # (freed with the process, not object by object)
        rendered = self.formats[self.format_name(fmt)](result, self.options)
        if hasattr(rendered, "__rich_console__"):
            if self.path is None:
                console().print(rendered)
            else:
                lazy.files.write_text(self.path, plain_text(rendered), self.inputs)
        elif isinstance(rendered, str):
            if self.path is None:
                click.echo(rendered, nl=False)
            else:
                lazy.files.write_text(self.path, rendered, self.inputs)
        elif self.path is None:
            for piece in rendered:  # a long result, in pieces
                sys.stdout.write(piece)
        else:
            lazy.files.write_text(self.path, "".join(rendered), self.inputs)


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def plain_text(renderable) -> str:
    """A Rich renderable as plain text (for a file), 100 columns wide."""
    from rich.console import Console

    out = Console(width=100, color_system=None, highlight=False, record=True,
                  file=io.StringIO())
    out.print(renderable)
    return out.export_text()


def console(stderr: bool = False):
    """Rich decides whether this is a terminal; NO_COLOR turns off every escape code.
    No :emoji: codes: nothing cgraph prints uses them, and their table costs 2.5 ms of
    start-up."""
    from rich.console import Console

    plain = bool(os.environ.get("NO_COLOR"))
    width, columns = None, os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit() and int(columns) == 0:
        # COLUMNS=0 (a width nobody knows): Rich would print nothing; take the terminal's,
        # or 80, as shutil.get_terminal_size does
        try:
            width = os.get_terminal_size((sys.stderr if stderr else sys.stdout).fileno())[0]
        except (OSError, ValueError, AttributeError):
            pass
        width = width or 80
    return Console(stderr=stderr, highlight=False, emoji=False, width=width,
                   color_system=None if plain else "auto")


def byte_progress(total: int | None):
    """A Rich progress bar on standard error for long runs, on a terminal only."""
    if total is None or total < (8 << 20) or not sys.stderr.isatty():
        return None
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    return Progress("[progress.description]{task.description}", BarColumn(),
                    DownloadColumn(), TimeRemainingColumn(), console=console(stderr=True),
                    transient=True)


class StepProgress:
    """A Rich progress bar on standard error, on a terminal only, updated sparingly."""

    def __new__(cls):
        if not sys.stderr.isatty():
            return None
        return super().__new__(cls)

    def __init__(self):
        from rich.progress import Progress

        self.bar = Progress(console=console(stderr=True), transient=True)
        self.task = None
        self.bar.start()

    def update(self, step: int, total: int) -> None:
        if self.task is None:
            self.task = self.bar.add_task("descending", total=total)
        if step % max(1, total // 100) == 0 or step == total:
            self.bar.update(self.task, completed=step)

    def close(self) -> None:
        self.bar.stop()


def run(group: click.Group) -> None:
    # One short-lived process building up to millions of acyclic objects: the cyclic
    # collector would rescan them again and again (1.5-3x the run time) for nothing.
    gc.disable()
    group.main(prog_name="cgraph")
