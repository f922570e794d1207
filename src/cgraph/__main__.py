"""The `cgraph` command's entry point: Ctrl-C, standard streams and exit statuses.

- Ctrl-C (SIGINT) at any moment ends in one line and exit status 130: the handler is
  installed before click, numpy or the parser are imported (interrupts.py).
- Standard output that cannot be written: a closed pipe (`| head`) ends quietly, anything
  else (a full disk: `> /dev/full`) is one line on standard error and exit 1.
- An output encoding that is not UTF-8 gets ASCII spellings (streams.py).
"""

import sys

from . import interrupts
from .errors import Interrupted


def _say(message: str) -> None:
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def main() -> None:
    interrupts.install()
    status = 0
    try:
        try:
            import gc

            from . import streams

            streams.ascii_fallback()
            # One short-lived process building up to millions of acyclic objects: the
            # cyclic collector would rescan them again and again (1.5-3x the run time).
            gc.disable()
            from .cli import cli

            try:
                cli.main(prog_name="cgraph")
            except SystemExit as e:
                status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            sys.stdout.flush()
        except OSError as e:
            import errno

            from .streams import silence_stdout

            silence_stdout()
            status = 1
            if e.errno != errno.EPIPE:  # a closed pipe (`| head`): nothing to say
                _say(f"Error: cannot write to {e.filename or 'standard output'}: "
                     f"{e.strerror or e}")
    except Interrupted as e:
        try:
            sys.stdout.flush()
        except (OSError, ValueError, Interrupted):
            from .streams import silence_stdout

            silence_stdout()
        _say("Interrupted" + (f": {e.note}" if e.note else "") + ".")
        status = 130
    sys.exit(status)


if __name__ == "__main__":
    main()
