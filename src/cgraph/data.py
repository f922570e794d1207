"""Points from CSV files, in chunks (flat memory for any file size), and CSV results.

A data file is plain numeric CSV: a header naming the columns, then one point per line.
Cells are parsed by numpy (`nan`, `inf`, `Infinity` included); anything else is reported
with its line and column.
"""

from __future__ import annotations

import io
from itertools import islice
from typing import Iterator

from .errors import DataError

ROWS = 1 << 16  # lines per chunk


def _fields(line: str) -> list[str]:
    return [f.strip() for f in line.rstrip("\r\n").split(",")]


def read_header(stream, path: str) -> list[str]:
    first = stream.readline()
    if not first.strip():
        raise DataError(f"{path}: empty file (a header line naming the columns comes first)")
    header = _fields(first)
    seen = set()
    for name in header:
        if name in seen:
            raise DataError(f"{path}: column '{name}' appears twice in the header")
        seen.add(name)
    return header


def read_chunks(stream, path: str, header: list[str], columns: list[str],
                rows: int = ROWS) -> Iterator[tuple[dict, list[str]]]:
    """Yield ({column: float array}, the chunk's lines), one chunk of lines at a time."""
    import numpy as np

    where = [header.index(c) for c in columns]
    width = len(header)
    line_no = 1  # the header was line 1
    while True:
        lines = list(islice(stream, rows))
        if not lines:
            return
        first = line_no + 1
        line_no += len(lines)
        lines = [ln for ln in lines if ln.strip()]
        if not lines:
            continue
        ragged = [k for k, ln in enumerate(lines) if ln.count(",") != width - 1]
        if ragged:
            k = ragged[0]
            raise DataError(f"{path}, line {first + k}: {len(_fields(lines[k]))} fields, "
                            f"but the header has {width}")
        try:
            table = np.loadtxt(io.StringIO("".join(lines)), delimiter=",", usecols=where,
                               ndmin=2, dtype=float, comments=None)
        except ValueError:
            raise _bad_cell(lines, first, where, header, path) from None
        yield {c: table[:, k] for k, c in enumerate(columns)}, lines


def _bad_cell(lines, first, where, header, path) -> DataError:
    for k, line in enumerate(lines):
        cells = _fields(line)
        for i in where:
            try:
                float(cells[i])
            except ValueError:
                return DataError(f"{path}, line {first + k}, column '{header[i]}': "
                                 f"{cells[i]!r} is not a number")
    return DataError(f"{path}: cannot read the numbers")


def csv_lines(columns: list) -> str:
    """Rows of comma-separated cells from columns of text."""
    if not columns or not columns[0]:
        return ""
    return "\n".join(map(",".join, zip(*columns))) + "\n"


def echo_cells(lines: list[str], header: list[str], columns: list[str]) -> list[str]:
    """The text of `columns` in each line, as the file wrote it (exact, and no need to
    format the numbers again)."""
    if columns == header:
        return [line.rstrip("\r\n").replace(" ", "") for line in lines]
    where = [header.index(c) for c in columns]
    out = []
    for line in lines:
        cells = _fields(line)
        out.append(",".join(cells[i] for i in where))
    return out
