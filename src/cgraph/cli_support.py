"""What every command shares: the program and its bindings, output formats, errors, consoles.

Nothing here imports click: click reads the command line (cli_click declares the shared
arguments), or `argv` does for the usual `cgraph eval` command lines, and both call the
same functions made with `with_program` and `with_output`. A command declares its arguments
with two decorators (cli_click) and keeps its logic in its own module:

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

from . import numtext
from .bindings import binding_name, parse_uncertain_bindings, read_bindings_file
from .errors import BindingError, CgraphError, EvaluationError, folded
from .eval_formats import nonfinite_messages
from .graph import Evaluation, Graph
from .parser import parse


def _stderr_width() -> int | None:
    """The width of the terminal standard error is, or None (a pipe, a file)."""
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns or None
    except (OSError, ValueError, AttributeError):
        return None


def failure_line(error: CgraphError) -> str:
    """`Error: <what went wrong>`: a library error in one line (several for a syntax error's
    window), laid out for the terminal standard error is."""
    from .streams import spells_ascii

    return f"Error: {error.render(_stderr_width(), ascii=spells_ascii(sys.stderr))}"


class UsageError(Exception):
    """A usage error found while a command runs (exit status 2): `Error: <message> (see
    'cgraph eval --help')`, whether click read the command line (cli_click turns it into
    click's UsageError) or `argv` did."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def usage_line(message: str, command_path: str | None) -> str:
    """`Error: <message> (see 'cgraph eval --help')`: a usage error in one line."""
    message = " ".join(message.split("\n")).strip().rstrip(".")
    return f"Error: {message}" + (f" (see '{command_path} --help')" if command_path else "")


def say_usage_error(message: str, command_path: str | None) -> None:
    """A usage error on standard error, whether click read the command line (cli_click's
    Group) or `argv` did: the one place it is written, broken at spaces on a terminal."""
    echo(folded(usage_line(message, command_path), _stderr_width()), err=True)


def say_failure(error: CgraphError) -> None:
    """A library error on standard error, whichever path ran the command."""
    echo(failure_line(error), err=True)


class Invocation:
    """The command running, as its checks and messages need it: `name` (eval), `path`
    (cgraph eval), and `given`, the options the user gave ({parameter: how messages name
    it}). cli_click's Command sets it from click's context, `argv` from what it read."""

    def __init__(self, name: str = "", path: str = "", given: dict | None = None):
        self.name, self.path, self.given = name, path, given or {}


invocation = Invocation()


def begin(name: str, path: str, given: dict) -> None:
    """The command `name` starts (see `Invocation`)."""
    global invocation
    invocation = Invocation(name, path, given)


def echo(message: str, nl: bool = True, err: bool = False) -> None:
    """What click.echo does with text: written and flushed, ANSI escape codes removed when
    the stream is not a terminal (a message may quote what the user typed). On standard
    error, where every line is a message, a control character in what a message quotes
    (a --bindings key, a CSV header, a --wrt name) is shown by a visible stand-in
    (errors.visible), never obeyed by the terminal."""
    stream = sys.stderr if err else sys.stdout
    if err and not (message.isascii() and message.replace("\n", "").isprintable()):
        from .errors import visible

        message = "\n".join(map(visible, message.split("\n")))
    if nl:
        message += "\n"
    if not message:
        stream.flush()
        return
    try:
        tty = stream.isatty()
    except Exception:
        tty = False
    if not tty and "\033[" in message:
        import re

        message = re.sub(r"\033\[[;?0-9]*[a-zA-Z]", "", message)
    stream.write(message)
    stream.flush()


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
                 uncertain: bool = False, wrt=None) -> Evaluation:
        """Check the bindings and run both passes (one reverse pass per named output, and
        the propagated uncertainties when the bindings carry some); then, where a value
        first stops being finite, or an entry of the gradient by `wrt` (all variables
        without), warn (`finite="warn"`), fail (`"strict"`) or say nothing (None)."""
        self.check(uncertain)
        if self.sigmas:
            from .uncertainty import evaluate

            ev = evaluate(self.graph, self.bindings, self.sigmas, outputs)
        else:
            ev = self.graph.evaluate(self.bindings, outputs)
        self.report_nonfinite(ev, finite, wrt)
        return ev

    def warn_nonfinite_value(self, derivatives=(), what: str = "derivative") -> None:
        """jacobian and hessian, whose tables show derivatives: warn, as eval does, where a
        value first stops being finite from finite inputs (one more pass), and then, as
        eval's "non-finite gradient: ∂f/∂x", which of the table's `derivatives` are not
        finite (`∂f/∂x`, of the kind `what` names)."""
        ev = self.graph.evaluate(self.bindings)
        if ev.first_nonfinite() is not None:
            warn(nonfinite_messages(ev)[0])
        if derivatives:
            from .errors import listed

            warn(f"non-finite {what}{'s' if len(derivatives) > 1 else ''}: "
                 f"{listed(derivatives)}")

    @staticmethod
    def report_nonfinite(ev, finite: str | None = "warn", wrt=None) -> None:
        if finite is not None:
            for message in nonfinite_messages(ev, wrt):
                if finite == "strict":
                    raise EvaluationError(message + " (--strict)")
                warn(message)


def with_program(fn):
    """`fn` taking `program`, a parsed `Program`, called with what the command line says:
    `args` (PROGRAM [NAME=VALUE…], or only the bindings with --file), `program_file` (--file
    PATH; '-' reads standard input) and `bindings_file` (--bindings FILE). cli_click's
    `program_arguments` declares those to click. A RecursionError, which should never
    happen (nothing recurses on the input), is an EvaluationError here, on either path."""

    @functools.wraps(fn)
    def command(*args, **kwargs):
        try:
            return run(*args, **kwargs)
        except RecursionError:
            raise EvaluationError("the program is too deeply nested") from None

    def run(args, program_file, bindings_file, **kwargs):
        streams = (program_file, kwargs.get("data_path"), bindings_file)
        for option, name in zip(("--file", "--data", "--bindings"), streams):
            if name == "":  # `--bindings "$F"` with F unset: not "no --bindings"
                raise UsageError(f"{option}: an empty file name (write '-' for standard "
                                 f"input)")
        source = program_file or ("-" if args and args[0] == "-" else None)
        streams = (source,) + streams[1:]
        if streams.count("-") > 1:  # one standard input: the program, the rows, the bindings
            held = [what for what, name in zip(("the program", "the --data rows",
                                                "the bindings (--bindings -)"), streams)
                    if name == "-"]
            raise UsageError(f"standard input cannot hold both {held[0]} and "
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

                command = invocation.path
                raise UsageError(
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
            line, bindings = bindings, bindings.over(kept)
            sigmas = {**{k: s for k, s in kept_sigmas.items()
                         if k in bindings and k not in line}, **sigmas}
        return fn(program=Program(graph, bindings, sigmas, source, bindings_file), **kwargs)

    return command


def _split_args(args, program_file) -> tuple[str, list[str]]:
    """The program text and the binding arguments."""
    args = list(args)
    if not all(map(str.isascii, args)):  # (files.py is not imported for ASCII arguments)
        lazy.files.check_arguments_utf8(args)
    if program_file is not None:
        return lazy.files.read_text(program_file, "the program"), args
    if not args:
        raise UsageError("missing PROGRAM (give it as an argument, '-' for "
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
    if invocation.name == "codegen":  # it takes no bindings
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
    command = invocation.path
    return f"the program comes first (e.g. {command} {example} {' '.join(args)})"


def _forgot_program(args) -> UsageError:
    return UsageError(f"missing PROGRAM: {args[0]!r} looks like a binding, and "
                            + _program_first(args))


def given(name: str) -> bool:
    """Whether the user gave the option `name` (not its default)."""
    return name in invocation.given


def applies(name: str, condition: bool, reason: str) -> None:
    """A usage error for an option given where it would be silently ignored."""
    if not condition and given(name):
        raise UsageError(f"{name_of(name)} {reason}")


def name_of(param: str) -> str:
    """The option as the user typed it: `--no-collapse` for a flag pair's off side."""
    return invocation.given.get(param, param)


def shown(opts, secondary_opts, value) -> str:
    """How messages name an option: its longest spelling (`--output`, not `-o`), the off
    side's for a flag pair given as off (`--no-collapse`)."""
    if secondary_opts and value is False:
        return max(secondary_opts, key=len)
    return max(opts, key=len)


def digits_apply(out) -> None:
    """--digits rounds what is shown; JSON keeps every number whole, so it is a usage error
    there (eval, diff, jacobian and hessian alike)."""
    applies("digits", out.format_name() != "json", "does not apply to JSON: its numbers keep "
            "full precision (they round-trip)")


# -- what an option's value means ---------------------------------------------------------
# The conversions behind cgraph's own click types (cli_click), as plain functions, so that
# `argv`, which reads `cgraph eval`'s command line without importing click, converts with the
# very same code. Each returns the converted value, or raises `Refused` with the message the
# option's usage error shows (`--digits: 0 is out of range (1 to 17)`).

class Refused(ValueError):
    """The value is not one the option takes; `str()` says why."""


def names(value, empty_ok: bool = False) -> list[str]:
    """`x,y` -> ["x", "y"]; an element's commas are its own: `W[1,1],b[2]` -> ["W[1,1]",
    "b[2]"] (written as cgraph prints it: `W[1, 01]` is W[1,1]). Nothing named is refused
    unless `empty_ok` (--fields: check_fields says which keys there are)."""
    if isinstance(value, list):
        return value
    if "[" not in value:
        found = [n.strip() for n in value.split(",") if n.strip()]
    else:
        import re

        found = [binding_name(n.strip()) or n.strip()
                 for n in re.split(r",(?![^\[]*\])", value) if n.strip()]
    if not found and not empty_ok:  # (--wrt '' was taken as every variable)
        raise Refused(f"{value!r} names nothing: give names (X,Y), or leave the option out")
    return found


def number(value, above: float | None = None, least: float | None = None) -> float:
    """A finite float, greater than `above` or at least `least`: NaN, infinities and values
    out of range are refused, not silently ignored or divided by."""
    if isinstance(value, float):
        found = value
    else:
        try:
            found = float(value)
        except ValueError:
            raise Refused(f"{value!r} is not a number") from None
    if found != found or found in (float("inf"), float("-inf")):
        raise Refused(f"{value} is not a finite number")
    if above is not None and not found > above:
        raise Refused(f"{value} is not greater than {numtext.text(above, numtext.SETTING)}")
    if least is not None and not found >= least:
        raise Refused(f"{value} is less than {numtext.text(least, numtext.SETTING)}")
    return found


def whole_number(value, low: int, high: int | None = None) -> int:
    """An integer from `low` (to `high`); `1e3` and `2.0` are whole."""
    if isinstance(value, int) and not isinstance(value, bool):
        found = value
    else:
        found = _whole(str(value).strip())
        if found is None:
            raise Refused(f"{value!r} is not a whole number")
    if found < low or (high is not None and found > high):
        # 1e20, not 10**20: compiling 10**20 folds it, and a Ctrl-C landing in that
        # fold was dropped by the compiler (a run went on with Ctrl-C ignored)
        shown = found if abs(found) < 1e20 else value
        raise Refused(f"{shown} is out of range ({whole_range(low, high)})")
    return found


def whole_range(low: int, high: int | None) -> str:
    """`at least 1`, `1 to 10` (--help shows it too: [default: 1; 1 to 10])."""
    return f"at least {low}" if high is None else f"{low} to {high}"


def _whole(text: str) -> int | float | None:
    """`12`, `1e3`, `2.0` -> the integer; a number beyond a double -> ±Infinity (out of any
    range); anything else -> None."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        found = float(text)
    except ValueError:
        return None
    if found in (float("inf"), float("-inf")):
        return found
    return int(found) if found.is_integer() else None


def output_file(value):
    """A file to write: '-' is standard output; '' and a directory (`out/`, or one that
    exists) are refused, not a file named `out` or a failure after the work. (Then it is
    a file name as `passes_as_file` says.)"""
    if isinstance(value, str) and value != "-":
        if not value:
            raise Refused("an empty file name (write '-' for standard output)")
        if value.endswith(("/", os.sep)) or os.path.isdir(value):
            raise Refused(f"{value} names a directory, not a file")
    return value


def passes_as_file(value: str) -> bool:
    """Whether click's `Path(dir_okay=False, allow_dash=True)` (readable, need not exist),
    the type of every file option, takes `value` as it is: '-', a name nothing has, or
    something other than a directory that this process may read. Where this is False
    click's own message says why (`File 'x' is a directory.`); `argv` leaves it to click."""
    if value == "-":
        return True
    try:
        mode = os.stat(value).st_mode
    except OSError:
        return True
    except ValueError:  # a NUL in the name: for click to say
        return False
    import stat

    return not stat.S_ISDIR(mode) and os.access(value, os.R_OK)


# -- command modules, imported when used --------------------------------------------------

class Modules:
    """`lazy.explain` is the module `cgraph.explain`, imported on first use."""

    def __getattr__(self, name: str):
        module = importlib.import_module(f"{__package__}.{name}")
        setattr(self, name, module)
        return module


lazy = Modules()


# -- output -------------------------------------------------------------------------------

def with_output(module: str, *, terminal: str | None = None, piped: str | None = None,
                default: str | None = None):
    """`fn` taking `out`, an `Output`, called with `fmt` (--format, a name in the FORMATS
    ({name: renderer}) of the command's `module`) and, where the command has it,
    `output_path` (-o FILE: `out` writes there instead of standard output).

    The default format is `terminal` on a terminal and `piped` otherwise, or the fixed
    `default`, or (neither) the command's own choice (`out.format_name(fallback)`).
    cli_click's `output_options` declares --format to click."""

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
            out = Output(formats, fmt, path, options, terminal, piped, inputs, suffixes)
            if path is None:
                return fn(out=out, **kwargs)
            from .streams import to_file

            with to_file():  # the result is made for a UTF-8 file, not the terminal
                return fn(out=out, **kwargs)

        command.output = dict(module=module, terminal=terminal, piped=piped,
                              default=default)
        return command

    return decorate


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
        writer = f"cgraph {invocation.name}"
    if entry is None:
        raise UsageError(f"{option} {path}: {writer} writes {or_list(suffixes)} "
                               "files, not " + (f"'{suffix}'" if suffix else
                                                "a name without a suffix"))
    kind, formats = _kind(entry)
    if given is None:
        return kind, formats[0]
    if given not in formats:
        holds = f" ({flag} {or_list(formats)})" if formats != (kind,) else ""
        fit = [s for s, e in suffixes.items() if given in _kind(e)[1]]
        where = f"; {given} goes to {or_list(fit)} files" if fit else ""
        raise UsageError(f"{option} {path} is {article(kind)} {kind} file{holds}, "
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
            raise UsageError(
                f"--format {self.format} is a web page, for a browser, not a terminal: "
                f"write it with -o page.{self.format} (or > page.{self.format}); -o - puts "
                "it here anyway")

    def imply(self, fmt: str, option: str, reason: str) -> None:
        """An option that writes one format (`--fields`: JSON): --format must be that one,
        and so must -o's suffix (call this before `by_suffix`)."""
        if self.format not in (None, fmt):
            raise UsageError(f"{option} {reason}; it does not apply to --format "
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
                echo(rendered, nl=False)
            else:
                lazy.files.write_text(self.path, rendered, self.inputs)
        elif self.path is None:
            for piece in rendered:  # a long result, in pieces
                sys.stdout.write(piece)
        else:
            lazy.files.write_text(self.path, "".join(rendered), self.inputs)


def warn(message: str) -> None:
    echo(folded(f"warning: {message}", _stderr_width()), err=True)


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


def run(group) -> None:
    # One short-lived process building up to millions of acyclic objects: the cyclic
    # collector would rescan them again and again (1.5-3x the run time) for nothing.
    gc.disable()
    group.main(prog_name="cgraph")
