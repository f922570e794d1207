"""`--help` laid out for the terminal it is shown on, however narrow.

Click wraps help at no fewer than 50 columns, leaves example lines (`\\b` paragraphs) as
they are, and keeps options and their help side by side, so on a 40-column terminal every
page overflowed. `HelpFormatter` wraps at the terminal's width (less click's 2-column
margin), folds a long example line between its words, ending each folded line with ` \\`
as a shell continues a command, and puts an option's help under the option when beside it
there would be too little room. Imported only when a help page is shown.
"""

from __future__ import annotations

import re
import shutil

import click

NARROWEST = 20  # a width below this is not worth laying out for
INDENT = 4  # an option's help under it; a folded example line's continuation
TERM_INDENT = 2  # a folded option's continuation (its help is further in)
SHORT_HELP = 90  # the longest summary of a command in `cgraph --help`
# where an option's term (`--format [table|tsv|csv|json|markdown]`) may break
_TERM_BREAK = re.compile(r"(?<=[|,])|(?<= )")


class HelpFormatter(click.HelpFormatter):
    def __init__(self, indent_increment: int = 2, width: int | None = None,
                 max_width: int | None = None):
        if width is None:
            columns = shutil.get_terminal_size().columns
            width = max(min(columns, max_width or 80) - 2, NARROWEST)
        super().__init__(indent_increment, width, max_width)

        from .streams import ascii_only

        self.ascii = ascii_only()

    def spelled(self, text: str) -> str:
        """On standard output that spells in ASCII, the text with cgraph's notation in
        ASCII words (help holds no name a user chose): ∂xᵢ -> dx_i, not dx\\u1d62; before it
        is wrapped, since a word is longer than its sign."""
        if not self.ascii or text.isascii():
            return text
        from .streams import notation

        return notation(text)

    def narrow(self, first: int) -> bool:
        """Whether a definition list whose terms take `first` columns (and the 2 after
        them) goes term above text: beside them the text would get fewer columns than
        the terms, or fewer than 24."""
        room = self.width - self.current_indent - first - 2
        return room < max(24, first)

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        """`Usage: cgraph eval [OPTIONS] PROGRAM` with the arguments beside the command
        while the longest of them fits there (click wants 20 columns)."""
        usage = f"{prefix or 'Usage: ':>{self.current_indent}}{prog} "
        room = self.width - self.current_indent - len(usage)
        if args and room >= max(map(len, args.split())):
            self.write(click.formatting.wrap_text(
                args, self.width - self.current_indent, initial_indent=usage,
                subsequent_indent=" " * len(usage)) + "\n")
            return
        start = len(self.buffer)
        super().write_usage(prog, args, prefix)
        self.buffer[start:] = ["\n".join(line.rstrip() for line in
                                         "".join(self.buffer[start:]).split("\n"))]

    def write_text(self, text: str) -> None:
        text = self.spelled(text)
        start = len(self.buffer)
        super().write_text(text)
        written = "".join(self.buffer[start:])
        del self.buffer[start:]
        # an example continued by hand in its docstring (` \\` at the end of a line) is one
        # command, folded here as a whole: folded line by line, its first half became two
        # lines and left the second a line of two words
        written = re.sub(r" \\\n *", " ", written)
        self.write("\n".join(line for long in written.split("\n")
                             for line in fold_command(long, self.width)))

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(term, self.spelled(help)) for term, help in rows]
        if not self.narrow(min(max((len(t) for t, _ in rows), default=0), col_max)):
            return super().write_dl(rows, col_max, col_spacing)  # side by side
        self.write_stacked(rows)

    def write_stacked(self, rows) -> None:
        """A definition list, each term (folded if need be) above its text."""
        indent = " " * self.current_indent
        under = self.current_indent + INDENT
        for term, help in rows:
            help = self.spelled(help)
            pieces = _TERM_BREAK.split(term)
            for line in fold(pieces, self.width - self.current_indent, TERM_INDENT):
                self.write(f"{indent}{line}\n")
            if help:
                self.write(click.formatting.wrap_text(
                    help, self.width, initial_indent=" " * under,
                    subsequent_indent=" " * under, preserve_paragraphs=True) + "\n")


def format_commands(group: click.Group, ctx: click.Context, formatter) -> None:
    """`cgraph --help`'s list of commands, each summary whole (up to SHORT_HELP
    characters; click cut them to what fits on one line, `…differences;...`): wrapped
    beside its command, or under it on a narrow terminal."""
    names = [n for n in group.list_commands(ctx) if not group.get_command(ctx, n).hidden]
    if not names:
        return
    rows = [(n, group.get_command(ctx, n).get_short_help_str(SHORT_HELP)) for n in names]
    with formatter.section("Commands"):
        if formatter.width - 6 - max(map(len, names)) < SHORT_HELP // 2:
            formatter.write_stacked(rows)
        else:
            formatter.write_dl(rows)


def show(root: click.Context, topic: str | None) -> None:
    """`cgraph help [COMMAND]`, as git has it: the very page `cgraph --help` (or `cgraph
    COMMAND --help`) shows, by the same path. A topic that is no command is click's own
    usage error for one (exit 2, with its "Did you mean")."""
    if topic is None:
        click.echo(root.get_help(), color=root.color)
        return
    name, command, _ = root.command.resolve_command(root, [topic])
    command.make_context(name, ["--help"], parent=root)  # prints the page, exits 0


def fold(pieces: list[str], width: int, indent: int) -> list[str]:
    """The text of `pieces` in lines of at most `width`, broken between pieces only, each
    line after the first indented by `indent`; a piece longer than a line is cut."""
    lines, line = [], ""
    for piece in filter(None, pieces):
        room = width - (indent if lines else 0)
        if line and len(line + piece.rstrip()) > room:
            lines.append(line.rstrip())
            line = ""
            room = width - indent
        line += piece.lstrip() if not line and lines else piece
        while len(line.rstrip()) > room:  # no break in it: cut
            lines.append(line[:room])
            line = line[room:]
    lines.append(line.rstrip())
    return [(" " * indent if k else "") + line for k, line in enumerate(lines)]


def fold_command(line: str, width: int) -> list[str]:
    """An example command line, folded between its words into lines of at most `width`,
    each but the last ending with ` \\` (the shell's continuation), the rest indented; a
    word longer than a line (a quoted program) is folded at its own spaces."""
    if len(line) <= width:
        return [line]
    margin = len(line) - len(line.lstrip(" "))
    pieces = []
    for word in _units(_shell_words(line[margin:]), width - margin - INDENT - 2):
        if len(word) + 2 > width - margin - INDENT:
            pieces += re.split(r"(?<= )", word + " ")  # inside its quotes
        else:
            pieces.append(word + " ")
    # room for the ` \` that ends every line but the last
    lines = fold(pieces, width - margin - 2, INDENT)
    return [" " * margin + line + (" \\" if k < len(lines) - 1 else "")
            for k, line in enumerate(lines)]


_OPERATORS = ("|", ">", ">>", "<", "&&", ";")


def _units(words: list[str], room: int) -> list[str]:
    """Words kept on one line where they fit: an option and its value (`--lang c`), a
    redirection or pipe and what follows it (`> neuron.c`, `| dot`)."""
    units = []
    for word in words:
        if units and len(units[-1]) + 1 + len(word) <= room and not word.startswith("-") \
                and word not in _OPERATORS and (units[-1] in _OPERATORS
                     or units[-1].startswith("-") and " " not in units[-1]
                     and units[-1] not in ("-", "--")):
            units[-1] += " " + word
        else:
            units.append(word)
    return units


def _shell_words(text: str) -> list[str]:
    """The words of a command line: split at spaces outside quotes, quotes kept."""
    return re.findall(r"""(?:[^\s"']+|"[^"]*"|'[^']*')+""", text)
