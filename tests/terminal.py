"""Run cgraph as a person does: on a real pseudo-terminal of a given width.

`on_terminal(args, width=80)` starts `python -m cgraph ARGS` with standard output on one
pty and standard error on another (so both see a terminal, as in an interactive shell:
Rich's tables and progress bars take their real code paths), the window size set to
`width` columns, and returns what was shown. Standard input is the terminal too, unless
`input` is given (then a pipe).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

SRC = str(Path(__file__).resolve().parent.parent / "src")
WIDTHS = (40, 80, 200)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\x1b[=>]")


@dataclass
class Shown:
    status: int          # exit status as a shell reports it (130 for SIGINT)
    screen: str          # standard output as text, escapes removed, \r\n -> \n
    stderr: str          # standard error, the same way
    raw: str             # standard output with its escape codes
    raw_stderr: str = ""  # standard error with its escape codes

    @property
    def lines(self) -> list[str]:
        return self.screen.splitlines()


def _plain(data: bytes) -> str:
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    text = ANSI.sub("", text)
    # a carriage return alone redraws the line (progress bars): keep what was drawn last
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def _set_width(fd: int, width: int, height: int = 50) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def env_for(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TERM")}
    env.update({"PYTHONPATH": SRC, "TERM": "xterm-256color", "PYTHONIOENCODING": "utf-8"})
    env.update(extra or {})
    return env


def start(args, width: int = 80, env: dict | None = None, input: bytes | None = None,
          cwd=None, stdout=None, program=None):
    """Start the command on ptys; returns (process, stdout master fd, stderr master fd).
    `stdout`, a file, redirects standard output there (`cgraph … > out.csv` in a
    terminal: standard error is still the terminal)."""
    out_master, out_slave = pty.openpty()
    err_master, err_slave = pty.openpty()
    for fd in (out_slave, err_slave):
        _set_width(fd, width)
    proc = subprocess.Popen(
        [*(program or [sys.executable, "-m", "cgraph"]), *map(str, args)],
        stdin=subprocess.PIPE if input is not None else out_slave,
        stdout=out_slave if stdout is None else stdout, stderr=err_slave, env=env_for(env), cwd=cwd,
        start_new_session=True)
    os.close(out_slave)
    os.close(err_slave)
    if input is not None:
        try:
            proc.stdin.write(input)
            proc.stdin.close()
        except BrokenPipeError:
            pass
    return proc, out_master, err_master


def collect(proc, out_master: int, err_master: int, timeout: float = 60,
            interrupt_after: float | None = None, interrupt_when=None) -> Shown:
    """Read both terminals until the process ends (SIGINT it on the way if asked)."""
    buffers = {out_master: bytearray(), err_master: bytearray()}
    open_fds = set(buffers)
    started = time.monotonic()
    sent = False
    while open_fds:
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            proc.kill()
            raise TimeoutError(f"no end after {timeout} s: {buffers[err_master][-500:]!r}")
        if not sent and ((interrupt_after is not None and elapsed >= interrupt_after) or
                         (interrupt_when is not None and interrupt_when(buffers))):
            proc.send_signal(signal.SIGINT)
            sent = True
        ready, _, _ = select.select(list(open_fds), [], [], 0.005)
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the other side is closed
                data = b""
            if data:
                buffers[fd] += data
            else:
                open_fds.discard(fd)
                os.close(fd)
    code = proc.wait(timeout)
    status = 128 - code if code < 0 else code  # killed by a signal: as a shell says it
    return Shown(status, _plain(bytes(buffers[out_master])),
                 _plain(bytes(buffers[err_master])),
                 bytes(buffers[out_master]).decode("utf-8", "replace"),
                 bytes(buffers[err_master]).decode("utf-8", "replace"))


def on_terminal(args, width: int = 80, env: dict | None = None, input: bytes | None = None,
                timeout: float = 60, interrupt_after: float | None = None,
                interrupt_when=None, cwd=None, stdout=None, program=None) -> Shown:
    """`program` (default: python -m cgraph) run with `args` on the terminal."""
    proc, out_master, err_master = start(args, width, env, input, cwd, stdout, program)
    return collect(proc, out_master, err_master, timeout, interrupt_after, interrupt_when)
