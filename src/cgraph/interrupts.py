"""Ctrl-C (SIGINT): an `Interrupted` exception at any moment, except inside `deferred()`.

The entry point installs the handler before anything else is imported. Code that must not
be cut halfway (a block of CSV rows on its way to standard output) runs inside
`deferred()`: a Ctrl-C there is held until the block is done, then raised.

A Ctrl-C whose `Interrupted` is lost is raised again. Python runs the handler wherever the
main thread is, and where that is a finaliser (an object's `__del__`, a generator closed as
it is freed, a weakref callback), Python prints the exception as "ignored" and goes on: with
the handler already set to ignore a second Ctrl-C, the command would then run on and no
Ctrl-C could stop it. `sys.unraisablehook` sees such an `Interrupted` and, 10 ms later (a
timer signal: by then out of the finaliser), the handler raises it again.
"""

from __future__ import annotations

import _signal as signal  # signal's C module: signal.py itself builds enums at import (0.5 ms)
import contextlib
import sys

from .errors import Interrupted

_state = {"depth": 0, "pending": False}


def _handler(signum, frame):
    if _state["depth"]:
        _state["pending"] = True
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C cannot cut the clean-up
    raise Interrupted()


def _again(signum, frame):
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    _handler(signum, frame)


def _lost(unraisable) -> None:
    """sys.unraisablehook: an `Interrupted` lost in a finaliser is raised again soon."""
    if isinstance(unraisable.exc_value, Interrupted):
        signal.signal(signal.SIGINT, _handler)  # a Ctrl-C still stops the command meanwhile
        if hasattr(signal, "setitimer"):
            signal.signal(signal.SIGALRM, _again)
            signal.setitimer(signal.ITIMER_REAL, 0.01)
        return
    sys.__unraisablehook__(unraisable)


def install() -> None:
    """The Ctrl-C handler, unless Ctrl-C is ignored: a background job of a script (the
    shell ignores SIGINT for it) is not stopped by a Ctrl-C meant for the foreground, as
    with Python itself and other Unix tools; kill (SIGTERM) stops it."""
    if signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
        signal.signal(signal.SIGINT, _handler)
    if sys.unraisablehook is sys.__unraisablehook__:  # (a test runner's own hook stays)
        sys.unraisablehook = _lost


@contextlib.contextmanager
def deferred():
    """Hold a Ctrl-C until the block ends (then raise it).

    SIGINT is blocked for the block where the platform can (a write to a pipe that a
    signal interrupts may otherwise lose the bytes it was writing), and a SIGINT that
    still reaches the handler inside the block is remembered and raised after it."""
    block = hasattr(signal, "pthread_sigmask") and not _state["depth"]
    if block:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    _state["depth"] += 1
    try:
        yield
    finally:
        _state["depth"] -= 1
        if block:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # runs the handler
        if not _state["depth"] and _state["pending"]:
            _state["pending"] = False
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            raise Interrupted()
