"""`cgraph eval` without importing click, for the command lines this module reads for sure.

Importing click costs a short run more than everything else it does (15 ms of a 60 ms
`eval`: click.core imports inspect, typing, uuid, gettext ...). So `__main__` first asks
`eval_call` here; where it reads the command line, it calls eval's own function (the very
function click's eval command calls, eval_command.eval_command) with the very values click
would give it, and handles what the function raises as cli_click's Command and Group do.
Anything else goes to click, which then behaves exactly as it always did.

What it reads: `eval`, then any order of positional arguments (the program and the
bindings) and eval's options, each at most once (except --tangent, which repeats), as
`--opt VALUE`, `--opt=VALUE`, `-o FILE` or `-oFILE`, each value one its type takes (the
same functions click's types call: cli_support's option values). What it leaves to click:
every other command, `--`, any other word that begins with '-' (-h, --help, --version, an
unknown option, a program that begins with a minus sign), an option given twice, a flag
with a value, an option without its value, a value click's type would refuse, and shell
completion (_CGRAPH_COMPLETE). CGRAPH_CLICK=1 sends every command line to click (tests).

The table of eval's options is not written here: argv_eval.py is generated from click's
declaration in cli.py (`python -m cgraph.argv > src/cgraph/argv_eval.py`), and a test
checks that it is what cli.py declares today.
"""

from __future__ import annotations

import os
import sys

COMMAND_PATH = "cgraph eval"


def eval_call(args: list[str]):
    """A function that runs `cgraph ARGS` as click would, or None where click must read
    ARGS (see the module's notes)."""
    if not args or args[0] != "eval" or os.environ.get("CGRAPH_CLICK") or \
            "_CGRAPH_COMPLETE" in os.environ or os.name == "nt":  # (click expands globs there)
        return None
    read = read_eval(args[1:])
    if read is None:
        return None
    params, given = read
    return lambda: run_eval(params, given)


def read_eval(args: list[str]) -> tuple[dict, dict] | None:
    """The parameters click hands eval's function for `cgraph eval ARGS`, and the options
    given ({parameter: how messages name it}); None where this does not know for sure."""
    from .argv_eval import PARAMS

    by_opt = {}
    for param in PARAMS:
        for opt in param[1] if param[2] != "args" else ():
            by_opt[opt] = param
    values, seen, positional = {}, {}, []
    i, n = 0, len(args)
    while i < n:
        arg = args[i]
        i += 1
        if arg[:1] != "-" or arg == "-":
            positional.append(arg)
            continue
        if arg[:2] == "--":
            opt, eq, value = arg.partition("=")
            if not eq:
                value = None
        else:  # a short option: -o FILE, or -oFILE (as click reads it, `-o=x` is "=x")
            opt, value = arg[:2], arg[2:] or None
        param = by_opt.get(opt)
        if param is None:  # --, -h, --help, an unknown option, a program "-x^2" ...
            return None
        name, opts, kind, vtype = param[:4]
        if kind == "flag":
            if value is not None or name in seen:
                return None
            values[name], seen[name] = True, opt
            continue
        if value is None:
            if i == n:
                return None
            value, i = args[i], i + 1
        converted = _convert(vtype, value)
        if converted is _REFUSED:
            return None
        if kind == "multiple":
            values[name] = values.get(name, ()) + (converted,)
        elif name in seen:
            return None
        else:
            values[name] = converted
        seen[name] = opt
    params = {}
    for name, opts, kind, vtype, absent in PARAMS:
        if kind == "args":
            params[name] = tuple(positional)
        else:
            params[name] = values.get(name, absent)
    from .cli_support import shown

    given = {name: shown(by_opt[opt][1], (), params[name]) for name, opt in seen.items()}
    if positional:
        given.update({p[0]: p[0] for p in PARAMS if p[2] == "args"})
    return params, given


_REFUSED = object()


def _convert(vtype: tuple, value: str):
    """`value` as the option's type converts it, or _REFUSED where it would fail."""
    from . import cli_support

    kind = vtype[0]
    try:
        if kind == "string":
            return value
        if kind == "names":
            return cli_support.names(value, *vtype[1:])
        if kind == "whole number":
            return cli_support.whole_number(value, *vtype[1:])
        if kind == "number":
            return cli_support.number(value, *vtype[1:])
        if kind == "choice":
            return value if value in vtype[1] else _REFUSED
        if kind == "formats":
            return value if value in getattr(cli_support.lazy, vtype[1]).FORMATS \
                else _REFUSED
        if kind == "output file":
            cli_support.output_file(value)
        if kind in ("file", "output file"):
            return value if cli_support.passes_as_file(value) else _REFUSED
    except cli_support.Refused:
        return _REFUSED
    return _REFUSED


def run_eval(params: dict, given: dict) -> None:
    """eval's function with `params`, its errors said as cli_click's Command and Group say
    them; ends with SystemExit, as click's main does."""
    from .cli_support import UsageError, begin, echo, say_failure, say_usage_error
    from .errors import CgraphError
    from .eval_command import eval_command

    begin("eval", COMMAND_PATH, given)
    try:
        eval_command(**params)
    except UsageError as e:
        say_usage_error(e.message, COMMAND_PATH)
        sys.exit(e.exit_code)
    except CgraphError as e:
        say_failure(e)
        sys.exit(e.exit_code)
    except (EOFError, KeyboardInterrupt):  # as click's main: a blank line, then Aborted!
        echo("", err=True)
        echo("Aborted!", err=True)
        sys.exit(1)
    sys.exit(0)


# -- the table, from click's declaration ---------------------------------------------------

def table_source(command) -> str:
    """The text of argv_eval.py for the click command `command` (eval): each parameter as
    (name, its option strings, kind, type, the value click gives it when absent)."""
    import click

    from . import cli_click

    absent = command.make_context("eval", [], resilient_parsing=True).params
    rows = []
    for p in command.params:
        if isinstance(p, click.Argument):
            assert p.nargs == -1 and isinstance(p.type, click.types.StringParamType), p
            kind = "args"
        elif p.is_flag:  # (what the flag gives, asked of click: click 8.5 keeps a plain
            #               flag's flag_value unset where 8.4 had True)
            given = command.make_context("eval", [p.opts[0]], resilient_parsing=True).params
            assert given[p.name] is True and absent[p.name] is False, p
            assert not p.secondary_opts and not p.multiple, p
            kind = "flag"
        else:
            assert p.nargs == 1 and not p.secondary_opts, p
            kind = "multiple" if p.multiple else "value"
        assert p.envvar is None and p.callback is None and not p.required, p
        spec = ("bool",) if kind == "flag" else _type_spec(p.type, click, cli_click)
        rows.append((p.name, tuple(p.opts), kind, spec, absent[p.name]))
    lines = ["# Generated from cli.py's eval command by `python -m cgraph.argv` (see argv.py);",
             "# tests/test_argv.py checks that it is what cli.py declares. Do not edit.",
             "# (name, option strings, kind, type, the value when absent)",
             "PARAMS = ("]
    lines += [f"    {row!r}," for row in rows]
    return "\n".join(lines + [")", ""])


def _type_spec(t, click, cli_click) -> tuple:
    """A click type as argv's `_convert` reads it; an AssertionError for any other."""
    if isinstance(t, cli_click.NameList):
        return ("names", t.empty_ok)
    if isinstance(t, cli_click.WholeNumber):
        return ("whole number", t.min, t.max)
    if isinstance(t, cli_click.Number):
        return ("number", t.above, t.least)
    if isinstance(t, cli_click._Formats):
        return ("formats", t.module)
    if isinstance(t, click.Path):
        assert (t.exists, t.file_okay, t.dir_okay, t.readable, t.writable, t.executable,
                t.resolve_path, t.allow_dash, t.type) == (
            False, True, False, True, False, False, False, True, None), t
        return ("output file" if isinstance(t, cli_click.OutputFile) else "file",)
    if isinstance(t, click.Choice):
        assert type(t) is click.Choice and t.case_sensitive, t
        assert all(isinstance(c, str) for c in t.choices), t
        return ("choice", tuple(t.choices))
    assert type(t) is click.types.StringParamType, t
    return ("string",)


if __name__ == "__main__":
    from .cli import cli

    sys.stdout.write(table_source(cli.commands["eval"]))
