"""`cgraph` and `python -m cgraph`: the Ctrl-C handler first, then the command line."""

import _signal  # signal's C module: signal.py itself builds enums at import (0.5 ms)

# Before anything else is imported: a Ctrl-C from here on is remembered, and entry.run
# turns it into exit status 130 as soon as its own handler is in place. A command that
# starts with Ctrl-C ignored (`cgraph … &` in a script: the shell ignores it for background
# jobs) keeps it ignored, as Python itself and Unix tools do (interrupts.install too).
_early: list = []
if _signal.getsignal(_signal.SIGINT) != _signal.SIG_IGN:
    _signal.signal(_signal.SIGINT, lambda signum, frame: _early.append(signum))

import gc  # noqa: E402

# The cyclic collector stays off for the whole run (cli_support.run says why); off from
# here, it does not run 15 times over what the imports build (1.6 ms).
gc.disable()

from . import entry  # noqa: E402


def _command_line() -> None:
    import sys

    if sys.argv[1:2] == ["eval"]:  # as click would read it, without click (argv.py)
        from .argv import eval_call

        call = eval_call(sys.argv[1:])
        if call is not None:
            return call()
    from .cli import cli
    from .cli_support import run

    run(cli)


def main() -> None:
    entry.run(_command_line, _early)


if __name__ == "__main__":
    main()
