"""cgraph's command line as click sees it: the context, command and group classes, the
types of the options' values, and the declarations of the arguments every command shares.

What a command does once its arguments are read needs no click (cli_support), so that
`argv` can run `cgraph eval` without importing click; the types' conversions are plain
functions there for the same reason.
"""

from __future__ import annotations

import sys

import click
from click.core import ParameterSource

from . import cli_support
from .cli_support import (UsageError, begin, failure_line, lazy, say_failure,
                          say_usage_error, shown, with_output, with_program)
from .errors import CgraphError

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
        if not any(p.name == "args" for p in self.params):
            return None  # `cgraph help -x`: help takes no program, -x is an unknown option
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
        begin(ctx.info_name, ctx.command_path, given_options(ctx))
        try:
            return super().invoke(ctx)
        except UsageError as e:  # cli_support's, raised while the command runs
            raise click.UsageError(e.message, ctx) from None
        except CgraphError as e:  # (a RecursionError too: cli_support.with_program)
            raise _Failure(e) from None


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
            say_usage_error(e.format_message(), help_path(e))
            sys.exit(e.exit_code)
        except _Failure as e:  # a library error
            say_failure(e.error)
            sys.exit(e.exit_code)
        except click.ClickException as e:
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


def given_options(ctx: click.Context) -> dict:
    """The parameters the user gave ({parameter: how messages name it}), for
    cli_support.invocation."""
    return {p.name: shown(p.opts, getattr(p, "secondary_opts", ()), ctx.params.get(p.name))
            for p in ctx.command.params if ctx.get_parameter_source(p.name)
            not in (None, ParameterSource.DEFAULT)}


def help_path(e: click.UsageError) -> str | None:
    """The command whose --help the usage error points to (`cgraph eval`), if it has one."""
    if e.ctx is not None and e.ctx.command.get_help_option(e.ctx) is not None:
        return e.ctx.command_path
    return None


class _Failure(click.ClickException):
    def __init__(self, error: CgraphError):
        super().__init__(failure_line(error))
        self.error = error
        self.exit_code = error.exit_code


class NameList(click.ParamType):
    """`x,y` -> ["x", "y"] (cli_support.names)."""

    name = "names"

    def __init__(self, empty_ok: bool = False):
        self.empty_ok = empty_ok  # (--fields: check_fields says which keys there are)

    def convert(self, value, param, ctx):
        try:
            return cli_support.names(value, self.empty_ok)
        except cli_support.Refused as e:
            self.fail(str(e), param, ctx)


NAMES = NameList()
KEYS = NameList(empty_ok=True)
# One instance of each file type, shared by every option that takes one: click looks up a
# translation of the word "file" (gettext, 80 µs) for each click.Path it builds.
INPUT_FILE = click.Path(dir_okay=False, allow_dash=True)  # '-': standard input


class OutputFile(click.Path):
    """A file to write (cli_support.output_file), then as click.Path takes it."""

    def __init__(self):
        super().__init__(dir_okay=False, allow_dash=True)

    def convert(self, value, param, ctx):
        try:
            cli_support.output_file(value)
        except cli_support.Refused as e:
            self.fail(str(e), param, ctx)
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
    """A finite float, positive (`above=0`) or at least 0 (`least=0`) (cli_support.number)."""

    name = "number"

    def __init__(self, above: float | None = None, least: float | None = None):
        self.above, self.least = above, least

    def convert(self, value, param, ctx):
        try:
            return cli_support.number(value, self.above, self.least)
        except cli_support.Refused as e:
            self.fail(str(e), param, ctx)


POSITIVE = Number(above=0)
NONNEGATIVE = Number(least=0)


class WholeNumber(_OptionValue, click.IntRange):
    """An integer option from `low` (to `high`) (cli_support.whole_number): every one
    (--digits, --order, --steps, --seed …) says `--steps: 'abc' is not a whole number` or
    `--digits: 0 is out of range (1 to 17)`, not click's "is not a valid integer range"."""

    name = "whole number"

    def __init__(self, low: int, high: int | None = None):
        super().__init__(low, high)

    def _describe_range(self) -> str:  # click's --help shows it too: [default: 1; 1 to 10]
        return cli_support.whole_range(self.min, self.max)

    def convert(self, value, param, ctx):
        try:
            return cli_support.whole_number(value, self.min, self.max)
        except cli_support.Refused as e:
            self.fail(str(e), param, ctx)


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


# -- declarations of the arguments every command shares ------------------------------------

def program_arguments(fn):
    """`PROGRAM [NAME=VALUE…]` or `--file PATH [NAME=VALUE…]` ('-' reads standard input),
    handed to the command as `program`, a parsed `Program` (cli_support.with_program)."""
    return program_params(with_program(fn))


def program_params(fn):
    """The parameters `with_program` reads, declared to click."""
    fn = click.argument("args", nargs=-1, metavar="PROGRAM [NAME=VALUE]...")(fn)
    fn = click.option("--bindings", "bindings_file", metavar="FILE",
                      help="Read bindings from FILE: a JSON object (a list binds a "
                           "family: \"w\": [0.1, 0.2]; descend's JSON output works "
                           "as it is) or NAME=VALUE lines. Bindings on the command "
                           "line override it.")(fn)
    return click.option("--file", "program_file", type=INPUT_FILE,
                        help="Read the program from this file ('-' for standard "
                             "input).")(fn)


def output_options(module: str, *, terminal: str | None = None, piped: str | None = None,
                   default: str | None = None, what: str = "Output format",
                   help: str | None = None):
    """`--format` chosen from the FORMATS of the command's `module`, handed to the command
    as `out` (cli_support.with_output says how the default is chosen)."""

    def decorate(fn):
        return format_option(with_output(module, terminal=terminal, piped=piped,
                                         default=default)(fn), what, help)

    return decorate


def format_option(fn, what: str = "Output format", help: str | None = None):
    """--format declared to click, for `fn` made by cli_support.with_output."""
    spec = fn.output
    if help is None:
        help = (f"{what}." if spec["default"] else
                f"{what} [default: {spec['terminal']} on a terminal, {spec['piped']} "
                "otherwise].")
    return click.option("--format", "fmt", type=_Formats(spec["module"]),
                        default=spec["default"], show_default=spec["default"] is not None,
                        help=help)(fn)


def output_file(help: str):
    """`-o FILE`: the command's output goes to FILE (see `Output.path`)."""
    return click.option("-o", "--output", "output_path", type=OUTPUT_FILE,
                        metavar="FILE", help=help)


def declared(fn, *declarations):
    """`fn` with click's declarations applied as if written as decorators above its `def`,
    in this order (the first outermost): for a command whose function lives in a module
    that does not import click (eval: `argv` calls the same function)."""
    for declaration in reversed(declarations):
        fn = declaration(fn)
    return fn
