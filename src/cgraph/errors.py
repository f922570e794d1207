"""The library's own exceptions. The CLI maps them to messages and exit codes in one place.

Exit status follows the contract: 2 for anything the user typed wrong (the program, a
binding, an option), 1 for a valid program whose evaluation failed.
"""

from __future__ import annotations


class CgraphError(Exception):
    """Base class: every error cgraph raises on purpose."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def render(self, width: int | None = None, ascii: bool = False) -> str:
        """The message a person reads on standard error (without the `Error: ` prefix);
        `width`: the columns of the terminal it is shown on, if it is one (see `folded`);
        `ascii`: whether standard error spells what is not ASCII (SourceError's window)."""
        return folded(self.message, width, len("Error: "))


class InputError(CgraphError):
    """The program or the bindings are wrong: exit status 2."""


class SourceError(InputError):
    """An error at a place in the program text; rendered with the line and a caret."""

    def __init__(self, message: str, source: str, line: int, column: int):
        super().__init__(message)
        self.source = source
        self.line = line
        self.column = column

    def render(self, width: int | None = None, ascii: bool = False) -> str:
        """The message, the line and a caret under the place. Long lines (a 100,000-term
        sum) are cut to a window around the column, each cut marked `…`: 100 characters,
        or on a terminal `width` columns wide what fits in it (so that neither the line nor
        the caret wraps, wide characters counted as the terminal shows them). `ascii`:
        standard error spells what is not ASCII (streams.py: `...` for `…`, `\\u03b8` for
        θ), so each character is counted as wide as its spelling."""
        lines = self.source.split("\n")  # as line_column counts lines
        if self.line > len(lines):  # (the parser's end of a program, by str.splitlines)
            lines = self.source.splitlines() or [""]
        text = lines[self.line - 1] if 0 < self.line <= len(lines) else ""
        if text.endswith("\r"):  # a CRLF file's line
            text = text[:-1]
        text = visible(text)
        col = max(self.column, 1)
        cells, mark = (_spelled_cells, len(_spelled("…"))) if ascii else (_cells, 1)
        if width is None:
            start = max(0, col - 60)
            end = start + 100
        else:
            start, end = _window(text, col - 1, width - 2, cells, mark)
        shown = text[start:end]
        prefix = "…" if start else ""
        suffix = "…" if end < len(text) else ""
        caret = " " * (mark if prefix else 0) + _under(shown[:col - 1 - start], cells) + "^"
        where = f"line {self.line}, column {self.column}"
        message = folded(f"{self.message} (at {where})", width, len("Error: "))
        return f"{message}\n  {prefix}{shown}{suffix}\n  {caret}"


# what a terminal would obey, not show: C0 controls (not the tab), DEL, C1, and the marks
# that reorder text right to left. Each becomes one visible character, so columns count
# the same: a program file holding `ESC]0;…` or `ESC[2J` sets no title and clears no screen
# when its line is shown under a syntax error. (Made at the first use: not at start-up.)
_INVISIBLE: dict = {}


def visible(text: str) -> str:
    """`text` with each control character as a visible stand-in of one column: ␛ for
    ESC, ␀ for NUL, ␍ for a carriage return, � for a C1 control or a direction mark."""
    if text.isascii() and text.isprintable():
        return text
    if not _INVISIBLE:
        _INVISIBLE.update({c: 0x2400 + c for c in range(0x20) if c != 0x09})
        _INVISIBLE[0x7F] = 0x2421
        _INVISIBLE.update(dict.fromkeys((*range(0x80, 0xA0), 0x061C, 0x200E, 0x200F,
                                         *range(0x202A, 0x202F), *range(0x2066, 0x206A)),
                                        0xFFFD))
    return text.translate(_INVISIBLE)


# A word of a message (a name, a CSV cell or header, a path: what it quotes) longer than
# this is shown by its head and its tail around `…` (`...` where standard error is ASCII)
LONGEST, HEAD, TAIL = 200, 60, 20


def folded(text: str, width: int | None, taken: int = 0) -> str:
    """`text` as a terminal `width` columns wide shows it (None: not a terminal; the text
    as it is, one line a message for scripts): each line too long broken at its spaces,
    where the terminal would fold it mid-word; `taken`, the columns the first line's
    prefix takes (`Error: `). A word longer than a line is left for the terminal, but one
    longer than LONGEST characters (a CSV header name of 140,000) is cut to its head and
    tail. Every message on standard error is made here (errors, usage errors, warnings)."""
    if len(text) > LONGEST:
        import re

        text = re.sub(r"[^ \n]{%d,}" % (LONGEST + 1),
                      lambda m: f"{m[0][:HEAD]}…{m[0][-TAIL:]}", text)
    if width is None or text.isascii() and "\n" not in text and taken + len(text) <= width:
        return text
    from rich.cells import cell_len

    lines = []
    for k, line in enumerate(text.split("\n")):
        used = taken if k == 0 else 0
        words = line.split(" ")
        current = words[0]
        for word in words[1:]:
            if used + cell_len(current) + 1 + cell_len(word) <= width or not current:
                current += " " + word
            else:
                lines.append(current)
                current, used = word, 0
        lines.append(current)
    return "\n".join(lines)


TAB = 8  # the most columns a tab may take


def _cells(c: str) -> int:
    """The columns a terminal gives the character `c`, as Rich counts them: 2 for a wide
    one (成, ＋), 0 for one that joins the one before it (a combining accent, a Hangul
    vowel jamo ᅡ), TAB for a tab (the most it may take). The one measure of the window and
    of the blanks before the caret, so that the caret stands under its character."""
    if c == "\t":
        return TAB
    from rich.cells import get_character_cell_size

    return get_character_cell_size(c)


def _spelled(c: str) -> str:
    from .streams import spelled

    return spelled(c)


def _spelled_cells(c: str) -> int:
    """`_cells` where standard error spells what is not ASCII: the columns of the spelling."""
    return _cells(c) if c.isascii() else len(_spelled(c))


def _window(text: str, at: int, room: int, width=_cells, mark: int = 1) -> tuple[int, int]:
    """`(start, end)`: the piece of `text` around the character at `at` that fits in `room`
    columns with its `…` marks (each `mark` columns wide) (and the caret, past the end),
    about two thirds of it before that character; `width`, a character's columns."""
    n = len(text)
    at = min(at, n)
    start, end = at, min(at + 1, n)
    inner = sum(map(width, text[start:end])) + (at == n)  # the caret past the end: 1
    before = 0

    def fits(add: int, start: int, end: int) -> bool:
        return inner + add + mark * ((start > 0) + (end < n)) <= room

    while True:
        left = start > 0 and fits(width(text[start - 1]), start - 1, end)
        right = end < n and fits(width(text[end]), start, end + 1)
        if left and (before < 2 * room // 3 or not right):
            start -= 1
            before += width(text[start])
            inner += width(text[start])
        elif right:
            inner += width(text[end])
            end += 1
        else:
            return start, end


def _under(text: str, width=_cells) -> str:
    """Blanks as wide on a terminal as `text` (`width`: `_cells`), so that a caret after
    them stands under the next character: two for a wide character, none for a combining
    one, a tab for a tab."""
    if text.isascii():
        return "".join("\t" if c == "\t" else " " for c in text)
    return "".join("\t" if c == "\t" else " " * width(c) for c in text)


def line_column(text: str, pos: int) -> tuple[int, int]:
    """The 1-based line and column of a character position."""
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


class ParseError(SourceError):
    """The program text does not follow the grammar."""

    expected: frozenset = frozenset()  # the terminals that could have come (parser.py)


class NumberError(ParseError):
    """A literal that is not the number written (numtext.misread): `1e999`, `1e-400`.
    `literal` is its text and `value` what float() reads, for bindings' own words."""

    def __init__(self, message: str, source: str, line: int, column: int, literal: str,
                 value: float):
        super().__init__(message, source, line, column)
        self.literal, self.value = literal, value


class NameResolutionError(SourceError):
    """Unknown function, wrong arity, re-assigned name, assignment to a constant."""


class UnknownFunction(NameResolutionError):
    """`f(2)` where no function f is: `name` is f, and `product` the hint '; write f*(2)
    for a product' when the message does not give it already (None if it does): the
    command line adds it where f is bound (`cgraph eval "x(1)" x=2`)."""

    def __init__(self, message: str, source: str, line: int, column: int, name: str,
                 product: str | None):
        super().__init__(message, source, line, column)
        self.name, self.product = name, product

    def as_product(self) -> "UnknownFunction":
        """The same error with the product hint instead of the message's."""
        return UnknownFunction(f"unknown function '{self.name}'{self.product}", self.source,
                               self.line, self.column, self.name, None)


class BindingError(InputError):
    """Missing, duplicate, unknown or malformed NAME=VALUE binding."""


class DataError(InputError):
    """A data file that cannot be used: missing column, bad cell, ragged row."""


class EvaluationError(CgraphError):
    """The program is valid but evaluating it failed (e.g. --strict and a NaN): exit 1."""

    exit_code = 1


# names other notations give cgraph's functions, too far from them for difflib to see
OTHER_SPELLINGS = {"ln": "log", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
                   "arctan2": "atan2", "logistic": "sigmoid"}


def did_you_mean(word: str, choices) -> str:
    """' (did you mean 'sin'?)' for the nearest choice, or '' when nothing is close."""
    import difflib  # only when there is something to suggest: it costs start-up time

    if OTHER_SPELLINGS.get(word) in choices:
        return f"; did you mean '{OTHER_SPELLINGS[word]}'?"
    match = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def repeated(names) -> str | None:
    """The first name given a second time in `names` (a CSV header, a Parquet schema, a
    JSON object's keys, an option's list), or None; each caller says so in its own words,
    since only it knows what the names are."""
    seen = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


def listed(names, limit: int = 10) -> str:
    """`a, b, c`; past `limit` names, the first ones and how many more (`x0, x1, …, x9 and
    2,990 more`): a message about a program of 10^4 variables stays one short line."""
    names = list(names)
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])} and {len(names) - limit:,} more"


def short_operand(operand: str) -> str:
    """An operand as a hint quotes it: '(…)' for one too long or over lines."""
    return "(…)" if len(operand) > 24 or "\n" in operand else operand


def product_hint(left: str, right: str) -> str:
    """'; write 2*x for a product' for two operands written side by side (2x, 2(x+1),
    (x+1)(x-1), x(1) with x no function)."""
    return f"; write {short_operand(left)}*{short_operand(right)} for a product"


class Interrupted(BaseException):
    """SIGINT (Ctrl-C), raised by the entry point's handler: exit status 130.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` swallows it;
    not a KeyboardInterrupt, so that click does not turn it into 'Aborted!' and exit 1.
    `note` says what the interrupted command left incomplete."""

    exit_code = 130

    def __init__(self, note: str = ""):
        super().__init__(note)
        self.note = note
