"""Every file cgraph reads or writes goes through here.

Reading: UTF-8, a byte-order mark accepted; a byte that is not UTF-8 is one error naming the
file, the line and the column (exit 2). Writing: a regular file is written to a temporary
file beside it, then renamed over it, so it is replaced whole or not at all; '-', /dev/stdout,
/dev/stderr and /dev/fd/N are the streams themselves (appending where the shell appends:
`-o /dev/stdout >> log` keeps the log); other special files (a named pipe, /dev/null, a
terminal) are written in place. Never onto a file the same command reads, nor onto a
read-only file (the rename would replace it where `>` refuses); a write that fails (a full
disk) is one error (exit 1).
"""

from __future__ import annotations

import io
import os
import re
import sys

from .errors import EvaluationError, InputError

STDIN = "-"
# A byte that is not UTF-8, decoded with errors="surrogateescape". (The regexes here are
# strings, compiled by `re` when first used: reading ASCII text never needs them, and each
# cost 0.1 ms of every start-up compiled at import.)
_ESCAPED = "[\udc80-\udcff]"


def display_name(path: str) -> str:
    return "standard input" if path == STDIN else path


def _stdin_bytes(what: str | None = None):
    """Standard input's bytes; on a terminal, first a line on stderr saying what is read
    there and how to end it (a terminal that waits in silence looks like a hang)."""
    if what is not None and sys.stdin.isatty():
        sys.stderr.write(f"cgraph: reading {what} from standard input (end it with "
                         "Ctrl-D)\n")
        sys.stderr.flush()
    return getattr(sys.stdin, "buffer", None)


def decode(data: bytes, path: str) -> str:
    """UTF-8 text (a leading byte-order mark dropped), or an InputError at the bad byte.
    (The mark is dropped here, not by the utf-8-sig codec: importing that codec cost 0.2 ms
    of every --file, and its error positions do not count the mark.)"""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        before = data[:e.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        raise _bad_byte(path, line, column, data[e.start]) from None


def _bad_byte(path: str, line: int, column: int, byte: int) -> InputError:
    return InputError(f"{display_name(path)}, line {line}, column {column}: byte "
                      f"0x{byte:02x} is not UTF-8 (cgraph reads UTF-8 text)")


def read_text(path: str, what: str = "the input") -> str:
    """The whole text of a file, or of standard input for '-' (`what` it holds, for the
    line a terminal shows)."""
    if path == STDIN:
        raw = _stdin_bytes(what)
        if raw is None:  # a text-only stream (tests): already decoded
            return sys.stdin.read()
        return decode(_read_all(raw), path)
    try:
        with open(path, "rb") as fh:
            data = _read_all(fh)
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from None
    return decode(data, path)


def _read_all(stream) -> bytes:
    """Every byte of `stream`, read in blocks (64 KiB, doubling to 16 MiB): Python sees a
    Ctrl-C between two blocks. One read() of all of it is one call into C that sees none
    while the bytes keep coming (`--file /dev/zero`, a huge file on a fast disk), so the
    command went on until memory ran out. A block shorter than asked for is the end (a
    buffered stream's read(n) stops short only there): a terminal's Ctrl-D is not waited
    for a second time."""
    blocks, size = [], 1 << 16
    while True:
        block = stream.read(size)
        blocks.append(block)
        if len(block) < size:
            return b"".join(blocks)
        size = min(size * 2, 1 << 24)


def open_text(path: str):
    """(text stream, binary stream or None, size in bytes or None) for reading line by line.

    Bytes that are not UTF-8 come through as lone surrogates (errors="surrogateescape"), so
    the reader can say where they are (`check_utf8`) instead of failing somewhere inside a
    buffer."""
    if path == STDIN:
        raw = _stdin_bytes()
        if raw is None:
            return sys.stdin, None, None
        return (io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape",
                                 newline=""), None, None)
    try:
        raw = open(path, "rb")
        size = os.fstat(raw.fileno()).st_size
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from None
    stream = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape",
                              newline="")
    return stream, raw, size


def open_binary(path: str, what: str = "the input"):
    """(binary stream, size in bytes or None) for reading in blocks; (None, None) for
    standard input that has no bytes below its text (a test's)."""
    if path == STDIN:
        return _stdin_bytes(what), None
    try:
        raw = open(path, "rb")
        return raw, os.fstat(raw.fileno()).st_size
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from None


def check_utf8(lines: list[str], path: str, first_line: int, text: str) -> None:
    """Raise at the first byte that was not UTF-8 in these lines (`first_line` is the
    number of lines[0], `text` their concatenation). Free for ASCII text: str.isascii()
    is a flag test."""
    if text.isascii() or re.search(_ESCAPED, text) is None:
        return
    for k, line in enumerate(lines):
        m = re.search(_ESCAPED, line)
        if m:
            byte = ord(m.group()) - 0xDC00
            raise _bad_byte(path, first_line + k, m.start() + 1, byte)


def check_arguments_utf8(args) -> None:
    """Command-line arguments (a program, bindings) are text: one typed on a terminal that
    is not UTF-8 (é as Latin-1's byte 0xe9) comes through as a lone surrogate, which the
    parser would call "unexpected character '\\udce9'". Free for ASCII arguments."""
    for k, arg in enumerate(args):
        m = None if arg.isascii() else re.search(_ESCAPED, arg)
        if m:
            shown = re.sub(_ESCAPED, "\ufffd", arg)
            raise InputError(f"the argument {shown!r}, column {m.start() + 1}: byte "
                             f"0x{ord(m.group()) - 0xDC00:02x} is not UTF-8 (cgraph reads "
                             "UTF-8 text: set the terminal's encoding to UTF-8)")


# -- writing ------------------------------------------------------------------------------

# /dev/stdout, /dev/fd/1, /proc/self/fd/1: names of a descriptor the process already has
_DESCRIPTOR = r"/(?:dev|proc/self)/fd/(\d+)"
_STANDARD = {STDIN: 1, "/dev/stdout": 1, "/dev/stderr": 2}


def descriptor(path: str) -> int | None:
    """The open file descriptor an output path names ('-' is standard output), or None
    for a path that names a file."""
    if path in _STANDARD:
        return _STANDARD[path]
    m = re.fullmatch(_DESCRIPTOR, path)
    return int(m.group(1)) if m else None


def is_standard_output(path: str) -> bool:
    """Whether writing `path` writes where standard output goes: '-', /dev/stdout, or a
    file or pipe that is standard output's (`--trace run.csv > run.csv`, a link to
    /dev/stdout). A terminal or /dev/null named for both mixes or loses nothing, and
    /dev/stderr is what the user chose even where `2>&1` makes it standard output's too."""
    fd = descriptor(path)
    if fd is not None:
        return fd == 1
    import stat

    try:
        st, out = os.stat(path), os.fstat(1)
    except (OSError, ValueError):
        return False
    return os.path.samestat(st, out) and (stat.S_ISREG(st.st_mode) or stat.S_ISFIFO(st.st_mode))


def is_special(path: str) -> bool:
    """Whether an output path is a stream or a special file (a named pipe, /dev/null):
    written in place, whatever its name ends with."""
    return descriptor(path) is not None or (os.path.exists(path)
                                            and not os.path.isfile(path))


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_target(path: str, inputs=()) -> None:
    """A usage error when `path` is one of the command's own inputs."""
    if path == STDIN:
        path = "/dev/stdout"
    for source in inputs:
        if source and source != STDIN and _same(path, source):
            raise InputError(f"{path} is also an input of this command: writing it would "
                             "destroy it (choose another file)")


def _write(fh, data) -> None:
    """One write to the temporary file (tests replace this to simulate a full disk)."""
    fh.write(data)


class AtomicWriter:
    """A regular file written to a temporary name beside `path` and renamed over it on
    success; a stream ('-', /dev/stdout, /dev/fd/N) or a special file (a named pipe,
    /dev/null) written in place.

        with AtomicWriter("out.csv") as out:
            out.write("a,b\\n")

    On an error the temporary file is removed and `path` is untouched, unless the writer
    was told to `keep_partial` (a trace: the rows written so far are the record of what
    went wrong), in which case what was written is renamed into place."""

    def __init__(self, path: str, inputs=(), binary: bool = False,
                 keep_partial: bool = False):
        check_target(path, inputs)
        self.path = path
        self.binary = binary
        self.keep_partial = keep_partial
        self.tmp = None
        self.stream = False  # standard output or error: flushed, never closed
        fd = descriptor(path)
        if fd is not None:
            # the descriptor as the shell opened it (`>> log` appends), never the file
            # behind it renamed over
            self.target = path
            self._open_descriptor(fd)
            return
        # a symbolic link is followed: the file it points to is replaced, not the link
        target = self.target = os.path.realpath(path)
        if os.path.exists(path) and not os.path.isfile(path):
            # /dev/null, a named pipe, a terminal: written in place, never replaced
            try:
                self.fh = open(path, "wb") if binary else open(
                    path, "w", encoding="utf-8", newline="\n")
            except OSError as e:
                raise self._error(e) from None
            return
        if _read_only(target):
            # the rename below would replace it where `>` says "Permission denied"
            raise EvaluationError(f"cannot write {path}: the file is read-only (make it "
                                  "writable with chmod u+w, or choose another file)")
        import tempfile  # here: it imports shutil, bz2, lzma and random (5-10 ms)

        try:
            fd, self.tmp = tempfile.mkstemp(dir=os.path.dirname(target),
                                            prefix="." + os.path.basename(target) + ".",
                                            suffix=".tmp")
        except OSError as e:
            raise self._error(e) from None
        try:
            _copy_mode(target, fd)
            self.fh = (os.fdopen(fd, "wb") if binary
                       else os.fdopen(fd, "w", encoding="utf-8", newline="\n"))
        except OSError as e:
            os.close(fd)
            self._discard()
            raise self._error(e) from None

    def _open_descriptor(self, fd: int) -> None:
        if fd in (1, 2):
            stream = sys.stdout if fd == 1 else sys.stderr
            if self.binary:
                stream.flush()  # what was printed before comes first
                stream = getattr(stream, "buffer", None) or stream
            self.fh, self.stream = stream, True
            return
        try:
            dup = os.dup(fd)
        except OSError as e:
            raise self._error(e) from None
        self.fh = (os.fdopen(dup, "wb") if self.binary
                   else os.fdopen(dup, "w", encoding="utf-8", newline="\n"))

    def _error(self, e: OSError) -> EvaluationError:
        return EvaluationError(f"cannot write {self.path}: {e.strerror or e}")

    def write(self, data) -> None:
        if self.stream:  # entry.run handles it as any write to standard output
            _write(self.fh, data)
            return
        try:
            _write(self.fh, data)
        except OSError as e:
            self.abort()
            raise self._error(e) from None

    def flush(self) -> None:
        if self.stream:
            self.fh.flush()
            return
        try:
            self.fh.flush()
        except OSError as e:
            self.abort()
            raise self._error(e) from None

    def commit(self) -> None:
        """Flush, then rename the temporary file onto the target."""
        if self.stream:
            self.fh.flush()
            self.stream = None  # done: nothing to close
            return
        try:
            self.fh.flush()
            if self.tmp is None:
                self.fh.close()
                return
            os.fsync(self.fh.fileno())
            self.fh.close()
            os.replace(self.tmp, self.target)
        except OSError as e:
            self.abort()
            raise self._error(e) from None

    def abort(self) -> None:
        if self.stream is not False:
            self.stream = None
            return
        try:
            self.fh.close()
        except OSError:
            pass
        self._discard()

    def _discard(self) -> None:
        if self.tmp is None:
            return
        try:
            os.unlink(self.tmp)
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if self.stream is None or self.fh.closed:  # already committed or aborted
            return False
        if kind is None or self.keep_partial:
            try:
                self.commit()
            except EvaluationError:
                if kind is None:
                    raise
        else:
            self.abort()
        return False


def _read_only(path: str) -> bool:
    """Whether an existing file is protected from being written: this user may not write
    it, or its owner took away their own write permission (`chmod 444`, which binds root
    too: someone meant it to stay as it is)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False  # not there yet
    return not (mode & 0o200) or not os.access(path, os.W_OK)


def _copy_mode(path: str, fd: int) -> None:
    """The new file gets the old one's permissions, or the umask's default for a new
    file (mkstemp makes it private)."""
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.fchmod(fd, mode)


def write_text(path: str, text, inputs=(), binary: bool = False) -> None:
    """Write a whole file atomically."""
    with AtomicWriter(path, inputs, binary=binary) as out:
        out.write(text)
