"""The process around a command: Ctrl-C, standard streams and exit statuses.

- Ctrl-C (SIGINT) at any moment ends in one line and exit status 130 (interrupts.py).
- Standard output that cannot be written: a closed pipe (`| head`) ends quietly, anything
  else (a full disk: `> /dev/full`) is one line on standard error and exit 1.
- An output encoding that is not UTF-8 gets ASCII spellings (streams.py).
- A bug (an exception nothing expected) is one line too, with exit status 70, so that no
  script mistakes it for a result; CGRAPH_DEBUG=1 shows the traceback instead.

This module imports nothing heavy, so that `__main__` can install the Ctrl-C handler
before click, numpy or the parser are loaded.
"""

import sys

from . import interrupts
from .errors import Interrupted


INTERNAL = 70  # EX_SOFTWARE: none of the contract's statuses, so tests and scripts see it


def _say(message: str) -> None:
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _caused_by_ctrl_c(e: BaseException) -> bool:
    """Whether a Ctrl-C is what this exception is about: Python turns an exception raised
    while a class is being created (a Ctrl-C landing in `__set_name__` during an import)
    into a RuntimeError whose cause is the Ctrl-C."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, Interrupted):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


_kept: list | None = None  # what `keep` holds, while `run` runs a command


def keep(result) -> None:
    """Hold a command's result (an evaluation holds its graph: 10^4 nodes and more) until
    the process ends: `leave` then gives its memory back at once, where freeing its objects
    one by one as the command returns took 1.5 ms at 10^4 nodes. Outside `run` (a command
    invoked by a test, in a process that goes on) it is freed as usual."""
    if _kept is not None:
        _kept.append(result)


# What OpenBLAS reads, first to last, for its number of threads
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def one_blas_thread() -> None:
    """Have OpenBLAS, if numpy loads it in this process, start on this thread alone, unless
    the user set its number of threads.

    A command makes no BLAS call that threads would speed up (hessian's and descend
    --optimizer newton's eigenvalues and solves are of a few variables; eval --data runs
    its own threads on every core), but OpenBLAS's idle threads spin, waiting for work,
    for about 0.1 s after numpy's import: CPU time spent for nothing in every command that
    imports numpy. OpenBLAS reads the variable once, when it loads; the command line is
    the whole process (`run` ends it), and its only child, Graphviz's `dot`, has no BLAS."""
    import os

    if not any(key in os.environ for key in BLAS_THREADS):
        os.environ[BLAS_THREADS[0]] = "1"


def run(start, early=()) -> None:
    """Call `start()` (which runs the command line) and exit with the contract's status.
    `early` holds the Ctrl-Cs that came before this handler was installed."""
    global _kept
    interrupts.install()
    one_blas_thread()
    status = 0
    _kept = []
    try:
        if early:
            raise Interrupted()
        try:
            from . import streams

            if sys.stdout is None or sys.stderr is None or sys.stdin is None:  # `>&-`
                streams.closed_streams()
            streams.ascii_fallback()
            try:
                start()
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
        except MemoryError:
            _say("Error: out of memory")
            status = 1
        except Exception as e:  # a bug: still one line, and a status of its own
            import os

            if _caused_by_ctrl_c(e):  # Python wrapped it (an error in __set_name__ ...)
                raise Interrupted() from None
            if os.environ.get("CGRAPH_DEBUG"):
                raise
            missing = (e.name or "").partition(".")[0] if isinstance(e, ImportError) else ""
            if missing and missing != "cgraph":  # installed without its dependencies
                _say(f"Error: cgraph needs the Python package '{missing}', which is not "
                     "installed here (install cgraph with its dependencies: python3 -m pip "
                     "install -e . in its directory)")
                status = 1
            else:
                _say(f"Error: internal error, a bug in cgraph: {type(e).__name__}: {e} "
                     "(please report it with the command; CGRAPH_DEBUG=1 shows the "
                     "traceback)")
                status = INTERNAL
    except Interrupted as e:
        try:
            sys.stdout.flush()
        except (OSError, ValueError, Interrupted):
            from .streams import silence_stdout

            silence_stdout()
        _say("Interrupted" + (f": {e.note}" if e.note else "") + ".")
        status = 130
    leave(status)


def leave(status: int) -> None:
    """Exit with `status`, without the interpreter's shutdown where nothing needs it.

    The shutdown runs the cycle collector over every object left (each module's functions
    and classes are cycles), then frees them one by one: 8 ms of a 60 ms command, all for
    memory the process is giving back anyway. By now the output is flushed and every file
    cgraph writes is closed, so the process ends at once (os._exit) once the atexit
    handlers have run. It shuts down as usual, without the collector, where the shutdown
    has work to do: a thread still running (the interpreter waits for it), or a profiler or
    a tracer (cProfile, coverage, a debugger), which report as the interpreter shuts down."""
    import gc
    import threading

    gc.freeze()
    running = [t for t in threading.enumerate()
               if t is not threading.main_thread() and not t.daemon]
    if not running and sys.getprofile() is None and sys.gettrace() is None:
        import atexit
        import os

        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(status)
    if _kept is not None:
        _kept.clear()  # the interpreter shuts down as usual: freed now
    sys.exit(status)
