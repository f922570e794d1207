"""Rich renderables that fit any terminal width without cutting a number.

Rich shrinks a table that is too wide for the terminal by cutting cells short (`0.04107…`)
and dropping columns to nothing. These wrappers measure first and fall back to a layout
that fits instead:

- `Fitted(table)`: the table when every column fits whole; otherwise one block per row,
  each cell on its own line under the column's header.
- `Pairs(pairs)`: `name = value` pairs, packed into lines, never split inside a pair.
- `Hanging(text, indent, note)`: an indented line that wraps with its continuation lines
  further in (so that they do not read as lines of their own), its note kept whole.
- `Program(text)`: a program on one line (`a = x*y; b = (a - t)^2`), broken between its
  statements, and a statement too long for a line before its outermost operators.
"""

from __future__ import annotations

import functools
import re

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text


def _plain(renderable) -> str:
    """The text a cell shows. A string is Rich markup, as the console prints it: without
    :emoji: codes (their table alone costs 2 ms to load), and only a `[` starts a tag."""
    if isinstance(renderable, Text):
        return renderable.plain
    if not isinstance(renderable, str):
        return str(renderable)
    return Text.from_markup(renderable, emoji=False).plain if "[" in renderable else \
        renderable


def _needed(table: Table) -> int:
    """The width at which no column is cut: columns that may not wrap at their widest
    cell, folding columns at their minimum (or 8), the others at their longest word."""
    total = 0
    for column in table.columns:
        cells = [_plain(c) for c in column._cells]
        widest = max([cell_len(_plain(column.header))] + [cell_len(c) for c in cells])
        if column.no_wrap:
            width = widest
        elif column.overflow == "fold":  # long words fold onto more lines
            width = min(widest, max(column.min_width or 0, 8))
        else:  # words wrap, but a word too long for the column would be cut
            width = max([cell_len(w) for c in cells for w in c.split()] + [1])
        if column.max_width is not None:  # such a column folds its long cells
            width = min(width, column.max_width)
        total += max(width, column.min_width or 0)  # Rich gives it that much, whatever holds
    gap = table.padding[1] + table.padding[3] + (1 if table.box else 0)
    edges = (2 if table.show_edge and table.box else 0) + \
        (table.padding[1] + table.padding[3] if table.pad_edge else 0)
    return total + gap * max(0, len(table.columns) - 1) + edges


class Fitted:
    """A table, or, where it would be cut, its rows one block each; `footer` (a renderable
    that lays itself out, where a table's caption would wrap at any space) under either."""

    def __init__(self, table: Table, footer=None):
        self.table = table
        self.footer = footer

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if _needed(self.table) <= options.max_width:
            yield self.table
            if self.footer is not None:
                yield self.footer
            return
        headers = [_plain(c.header) for c in self.table.columns]
        width = max(cell_len(h) for h in headers)
        for k in range(self.table.row_count):
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold", no_wrap=True, min_width=width)
            grid.add_column(overflow="fold")
            for header, column in zip(headers, self.table.columns):
                cell = column._cells[k]
                if _plain(cell) == "":
                    continue
                grid.add_row(header or " ", cell)
            if k:
                yield Text("")
            yield grid
        if self.footer is not None:
            yield Text("")
            yield self.footer


class Pairs:
    """`a = 1   b = 2   …` (or `a 6%, b 2%, …`), as many pairs to a line as fit; a pair is
    never split, and a line that breaks ends with the separator's mark (the comma). With
    `hang`, the lines after the first start that much further in (a formula broken
    before a relation: its second line reads as the first one's continuation). A list
    among the pairs is a group: whole on a line where it fits on one, else broken between
    its members (`<= 1e-08 + 1e-05·|numeric|`, broken before `+` only when it must)."""

    def __init__(self, pairs: list, sep: str = "   ", style: str | None = None,
                 hang: int = 0):
        self.pairs = pairs
        self.sep = sep
        self.style = style
        self.hang = hang

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        mark = self.sep.rstrip()
        pairs = list(self.pairs)
        line, pad = "", ""  # pad: the first line's
        while pairs:
            pair = pairs.pop(0)
            ends = len(mark) if pairs else 0  # a line that breaks after it needs the mark
            if isinstance(pair, list):  # a group: whole if it fits on a line, here or next
                whole = self.sep.join(pair)
                here = f"{pad}{line}{self.sep}{whole}" if line else pad + whole
                if cell_len(here) + ends > width and (
                        not line or cell_len(" " * self.hang + whole) + ends > width):
                    pairs[:0] = pair
                    continue
                pair = whole
            candidate = f"{line}{self.sep}{pair}" if line else pair
            if line and cell_len(pad + candidate) + ends > width:
                yield Text(pad + line + mark, style=self.style or "", overflow="fold")
                line, pad = pair, " " * self.hang
            else:
                line = candidate
        if line:
            yield Text(pad + line, style=self.style or "", overflow="fold")


class Hanging:
    """`text` after `indent` spaces; where it does not fit, its continuation lines start
    `hang` further in, and `note` (a dim remark such as `(chain rule)`) goes whole at the
    end of the last line, or on a line of its own where it does not fit there."""

    def __init__(self, text: Text, indent: int, note: Text | None = None, hang: int = 4):
        self.text, self.indent, self.note, self.hang = text, indent, note, hang

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if self.indent + self.text.cell_len + (self.note.cell_len if self.note else 0) \
                <= width:  # the common case: one line
            line = Text(" " * self.indent) + self.text
            if self.note:
                line += self.note
            yield line
            return
        first = max(8, width - self.indent)  # the first line has the hang's columns too
        room = max(8, width - self.indent - self.hang)
        lines = wrap(self.text, first, room)
        if self.note:
            note = self.note.copy()
            if lines[-1].cell_len + note.cell_len > (room if len(lines) > 1 else first):
                note.plain = note.plain.lstrip()  # on lines of its own
                lines += wrap(note, room, room)
            else:
                lines[-1] = lines[-1] + note
        for k, line in enumerate(lines):
            pad = self.indent if k == 0 else self.indent + self.hang
            line.rstrip()
            yield Text(" " * pad, overflow="fold") + line


class Program:
    """A program as `parser.one_line` writes it, in lines as wide as the terminal: broken
    between statements (after their `;`), and a statement too long for a line at the
    spaces outside its brackets, before an operator or `=` (`loss` / `= (y - t)^2`, never
    `(y -` / `t)^2`); a bracket too long for a line breaks at its own outermost spaces.
    A stretch without spaces too long for a line (`z=weight*x+bias`) breaks before its
    outermost operators (`_operators`), never inside a name or a number (`1e-7`; a term
    wider than the line between its tokens: `exp(` / `00e-0)`). An
    operator whose term does not fit after it ends the line before; one that would stand
    alone on a line goes with the term after it, without the space between them (`+name`),
    unless even that is too wide (a name as wide as the line). The breaking is `wrap`'s
    (`breaks`), given these spans to keep whole."""

    def __init__(self, text: Text):
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if self.text.cell_len <= width:
            yield self.text
            return
        text, units = self.text, _statement_units(self.text.plain, width)
        while True:
            starts = breaks(text.plain, width, width, units)
            plain = text.plain
            alone = [k for k, ((a, b), (c, d)) in enumerate(zip(units, units[1:]))
                     if a in starts and c in starts and OPERATOR.fullmatch(plain[a:b])
                     and cell_len(plain[a:b]) + cell_len(plain[c:d]) <= width]
            if not alone:  # an operator alone on a line goes with the term after it
                break
            k = alone[0]
            (a, b), (c, d) = units[k], units[k + 1]
            text = text[:b] + text[c:]  # (without the space between them: `+name`)
            units[k:] = [(a, d - (c - b))] + [(x - (c - b), y - (c - b))
                                              for x, y in units[k + 2:]]
        yield from _lines(text, starts)


@functools.cache
def _token():
    """A token of a program as the lexer reads it: a number (`1e-7` one), a name, an
    operator, or any other character."""
    from .parser import terminal

    return re.compile(f"(?P<number>{terminal('NUMBER')})|(?P<name>{terminal('NAME')})|"
                      f"(?P<op>{OPERATOR.pattern})|.")


def _operators(plain: str) -> list[int]:
    """Where a binary operator starts in `plain` (one that follows a name, a number or a
    closing bracket, as the lexer reads them: the `-` of `1e-7` and of `a*-b` is none)."""
    found, operand = [], False
    for m in _token().finditer(plain):
        kind = m.lastgroup
        if kind == "op":
            if operand:
                found.append(m.start())
            operand = False
        elif m.group() != " ":
            operand = kind is not None or m.group() in ")]"
    return found


def _statement_units(plain: str, room: int) -> list[tuple[int, int]]:
    """`Program`'s spans: each statement with its `;`; one wider than `room` split at its
    outermost spaces, an operator kept with the term after it, and so on inward; a span
    without spaces, before its outermost operators."""
    depth, level = 0, []
    for c in plain:  # the bracket depth of each character
        depth -= c in ")]}"
        level.append(depth)
        depth += c in "([{"
    operators: list[int] | None = None  # found when first needed

    def split(start: int, end: int) -> list[tuple[int, int]]:
        nonlocal operators
        if cell_len(plain[start:end]) <= room:
            return [(start, end)]
        gaps = [k for k in range(start, end) if plain[k] == " "]
        if not gaps:  # one word: before its outermost operators, else wrap cuts it
            if operators is None:
                operators = _operators(plain)
            inside = [k for k in operators if start < k < end]
            if not inside:  # `*name`: the operator may end the line before
                op = OPERATOR.match(plain, start, end)
                if op and op.end() < end:
                    return [(start, op.end())] + split(op.end(), end)
                # a term wider than the line (`exp(00e-0)` at 8): between its tokens
                return [m.span() for m in _token().finditer(plain, start, end)]
            low = min(level[k] for k in inside)
            cuts = [start] + [k for k in inside if level[k] == low] + [end]
            return [u for a, b in zip(cuts, cuts[1:]) for u in split(a, b)]
        low = min(level[k] for k in gaps)
        pieces, at = [], start
        for k in (k for k in gaps if level[k] == low):
            if k > at:
                pieces.append([at, k])
            at = k + 1
        if at < end:
            pieces.append([at, end])
        merged: list[list[int]] = []
        for piece in pieces:  # an operator (`=`, `+`, `<=`) goes with the term after it
            if merged and OPERATOR.fullmatch(plain[merged[-1][0]:merged[-1][1]]):
                merged[-1][1] = piece[1]
            else:
                merged.append(list(piece))
        if len(merged) == 1:  # `= (…)`: the term's spans, the operator with the first
            inner = split(pieces[-1][0], end)  # (on the line before, where they do not fit)
            if cell_len(plain[start:inner[0][1]]) > room:
                return [(start, pieces[0][1])] + inner
            return [(start, inner[0][1])] + inner[1:]
        return [u for a, b in merged for u in split(a, b)]

    units, at = [], 0
    for m in re.finditer(r";\s*", plain):
        if level[m.start()] == 0 and m.end() < len(plain):
            units += split(at, m.start() + 1)
            at = m.end()
    return units + split(at, len(plain))


OPERATOR = re.compile(r"[-+*/^%<>=!&|·]+")


def _units(plain: str, room: int) -> list[tuple[int, int]]:
    """The spans `wrap` keeps whole: each relation with its term (`= ∂y/∂z · 0.4`) where it
    fits on a line, else its words, the `=` with the first (a line never ends with it)."""
    units = []
    bounds = [len(plain) - len(plain.lstrip(" "))]
    bounds += [m.start() + 1 for m in re.finditer(" = ", plain)] + [len(plain)]
    for start, end in zip(bounds, bounds[1:]):
        end = start + len(plain[start:end].rstrip(" "))
        if cell_len(plain[start:end]) <= room:
            units.append((start, end))
        else:
            units += [w.span() for w in re.finditer(r"(?:= +)?\S+", plain[:end])
                      if w.start() >= start]
    return units


def wrap(text: Text, first: int, room: int,
         units: list[tuple[int, int]] | None = None) -> list[Text]:
    """`text` in lines of at most `first` columns, then `room`, broken before a relation
    (`=`) where it can be, as check's rule breaks, each term whole on its line (`= 0.96`),
    else at spaces (see `_units`; `units`, other spans to keep whole). A word
    too long for its line (`∂成本/∂預測很長的中文名字`: CJK names have no space to break at)
    breaks after its last `/` that fits, so that each name in it stays whole; only a name
    longer than a line is cut, where the line ends. Wide characters count as two columns."""
    return _lines(text, breaks(text.plain, first, room, units))


def breaks(plain: str, first: int, room: int,
           units: list[tuple[int, int]] | None = None) -> list[int]:
    """Where `wrap` begins each line of `plain` after the first."""
    from rich.cells import get_character_cell_size as cells

    starts: list[int] = []  # where each line after the first begins
    used = last = len(plain) - len(plain.lstrip(" "))  # columns taken; the last word's end
    for start, end in _units(plain, room) if units is None else units:
        limit = room if starts else first
        size, gap, last = cell_len(plain[start:end]), cell_len(plain[last:start]), end
        if used + gap + size <= limit:
            used += gap + size
            continue
        if used:  # the word goes on a new line
            starts.append(start)
            used, limit = 0, room
            if size <= limit:
                used = size
                continue
        k = start  # too long for a line of its own: cut after a '/', or where it ends
        while True:
            taken, cut, slash = 0, k, None
            while cut < end and taken + cells(plain[cut]) <= limit:
                taken += cells(plain[cut])
                cut += 1
                if plain[cut - 1] == "/" and cut < end:
                    slash = (cut, taken)
            if cut == end:
                used = taken
                break
            if slash is not None:
                cut = slash[0]
            cut = max(cut, k + 1)  # a character wider than the line goes all the same
            starts.append(cut)
            k, used, limit = cut, 0, room
    return starts


def _lines(text: Text, starts: list[int]) -> list[Text]:
    lines = text.divide(starts)
    for line in lines:
        line.rstrip()
    return list(lines)
