"""The process's standard streams when they are not the plain UTF-8 files we expect.

- An output encoding that cannot spell cgraph's characters (PYTHONIOENCODING=ascii, a C
  locale, a Latin-1 terminal; not an -o file, which is UTF-8): those characters get ASCII
  spellings (`d` for ∂, `*` for ·, `...` for …) and anything else is written as `\\uXXXX`, which inside a JSON string is
  the JSON escape for it, so JSON output stays valid JSON, and a name keeps every letter.
  Letters that may be in names (σ, ẋ) are cgraph's notation only where cgraph writes them
  (help, the σ heading, forward mode's dot): there they are spelled as words at the
  source (sigma, x'), as `notation` and `ascii_only` say.
- Standard output that failed (a full disk, a closed pipe): file descriptor 1 is pointed
  at /dev/null, so the interpreter's last flush cannot fail a second time.
- A standard stream the shell closed (`<&-`, `>&-`, `2>&-`; Python then has None for it):
  standard output fails when written, as a closed descriptor does (one line, exit 1, by
  the path a full disk takes); standard error takes what is said and drops it; standard
  input reads as empty (/dev/null).
"""

from __future__ import annotations

import codecs
import io
import os
import sys

CODEC = "cgraph-ascii"
ASCII = {"∂": "d", "·": "*", "…": "...", "≤": "<=", "≥": ">=", "→": "->", "←": "<-",
         "×": "x", "−": "-", "—": "--", "–": "-", "│": "|", "─": "-", "━": "=", "⁻": "^-",
         "¹": "1", "²": "2", "³": "3", "ⁿ": "n", "∑": "sum", "√": "sqrt", "∞": "inf",
         "▁": "_", "▂": ".", "▃": "-", "▄": "-", "▅": "=", "▆": "=", "▇": "#", "█": "#",
         "±": "+-"}  # as a binding writes it (x=2+-0.1)


# cgraph's own notation, in its help and headings (never in a name someone chose, which
# the codec writes as \uXXXX, exact): in words where ASCII has no sign for it
NOTATION = {"σ": "sigma", "Σ": "sum", "β": "beta", "ᵢ": "_i", "ⱼ": "_j", "\u0307": "'"}


_TO_FILE = [False]  # the result goes to an -o file (`to_file`), not to standard output


def spells_ascii(stream) -> bool:
    """Whether `stream` (standard output or error) spells cgraph's characters in ASCII
    (`ascii_fallback` gave it this module's codec)."""
    return getattr(stream, "encoding", None) == CODEC


def ascii_only() -> bool:
    """Whether the result's destination spells cgraph's characters in ASCII: standard
    output that does (`spells_ascii`), not an -o file (UTF-8, `to_file`); then its
    notation is written in ASCII at the source (`notation`, forward.dotted)."""
    return not _TO_FILE[0] and spells_ascii(sys.stdout)


class to_file:
    """`with to_file():` the result being made goes to an -o file, which is UTF-8 whatever
    the terminal spells: cgraph's notation as itself there (σ, ẋ), not the ASCII words
    standard output gets."""

    def __enter__(self):
        self.was = _TO_FILE[0]
        _TO_FILE[0] = True

    def __exit__(self, *exc):
        _TO_FILE[0] = self.was


def notation(text: str) -> str:
    """cgraph's own text (help) with its notation in ASCII words: σ -> sigma, ∂xᵢ -> ∂x_i,
    a dot above -> ' (ṅ -> n'); for text in which no name a user chose appears."""
    import unicodedata

    out = []
    for c in text:
        if not c.isascii() and c not in NOTATION:
            base = unicodedata.normalize("NFD", c)
            if base.endswith("\u0307") and base[:-1].isascii():
                c = base
        out.append("".join(NOTATION.get(d, d) for d in c))
    return "".join(out)


def spelled(c: str) -> str:
    """The character `c` (not ASCII) as the ASCII streams write it: its sign (`d` for ∂,
    `...` for …) or `\\uXXXX` (a surrogate pair beyond the first plane, as JSON writes it)."""
    spelling = ASCII.get(c)
    if spelling is None:
        code = ord(c)
        if code > 0xFFFF:
            code -= 0x10000
            spelling = "\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))
        else:
            spelling = "\\u%04x" % code
    return spelling


def _spell(error):
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return "".join(map(spelled, error.object[error.start:error.end])), error.end


def _encode(text, errors="strict"):
    return codecs.ascii_encode(text, CODEC)


class _Encoder(codecs.IncrementalEncoder):
    def encode(self, text, final=False):
        return codecs.ascii_encode(text, CODEC)[0]


def _search(name):
    if name.replace("_", "-") != CODEC:
        return None
    ascii = codecs.lookup("ascii")
    # A codec of its own name: click re-wraps a stream whose codec is named "ascii" as
    # UTF-8 (and the terminal would show mojibake); this one it leaves alone.
    return codecs.CodecInfo(_encode, ascii.decode, name=CODEC, incrementalencoder=_Encoder,
                            incrementaldecoder=ascii.incrementaldecoder)


class _Closed(io.RawIOBase):
    """Standard output the shell closed: writing to it fails as on a closed descriptor."""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        import errno

        raise OSError(errno.EBADF, os.strerror(errno.EBADF) + " (it is closed)")


class _Dropped(_Closed):
    """Standard error the shell closed: what is written goes nowhere, as the user chose."""

    def write(self, data) -> int:
        return len(data)


def closed_streams() -> None:
    """Stand-ins for a standard output or error the shell closed (see the module's notes);
    not files, so nothing cgraph opens later (an -o file takes the free descriptor) is
    mistaken for them."""
    if sys.stdout is None:
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(_Closed()), encoding="utf-8")
    if sys.stderr is None:
        sys.stderr = io.TextIOWrapper(io.BufferedWriter(_Dropped()), encoding="utf-8")
    if sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")


def ascii_fallback() -> None:
    """Standard output and error that cannot encode ∂ get the ASCII spellings."""
    registered = False
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        encoding = getattr(stream, "encoding", None) or "ascii"
        try:
            "∂·θ…─".encode(encoding)
            continue
        except (UnicodeEncodeError, LookupError):
            pass
        if not hasattr(stream, "detach"):
            continue
        if not registered:
            codecs.register_error(CODEC, _spell)
            codecs.register(_search)
            registered = True
        stream.flush()
        line_buffering = stream.line_buffering
        spelled = io.TextIOWrapper(stream.detach(), encoding=CODEC,
                                   line_buffering=line_buffering)
        setattr(sys, name, spelled)
        if getattr(sys, f"__{name}__") is stream:  # (shutil.get_terminal_size asks it the
            setattr(sys, f"__{name}__", spelled)  # terminal's width: help was 80 wide)


def silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null (after standard output failed)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
