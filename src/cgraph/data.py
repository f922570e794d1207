"""Points from CSV files, in chunks (flat memory for any file size), and CSV results.

A data file is numeric CSV as RFC 4180 describes it: a header naming the columns, then one
point per record; fields may be quoted (`"x","y"`, `"1.5"`, as Excel and R's write.csv
write them), a quoted field may hold commas, doubled quotes and line breaks; a UTF-8
byte-order mark is accepted; lines that are empty are skipped. Cells are parsed by numpy
(`nan`, `inf`, `Infinity` included); anything else is reported with its line and column.
Files without a quote character take a fast path (numpy parses the whole chunk in C).
"""

from __future__ import annotations

import csv
import io
from itertools import islice
from typing import Iterator

from .errors import DataError
from .files import check_utf8, display_name

ROWS = 1 << 16  # lines per chunk


def _fields(line: str) -> list[str]:
    return [f.strip() for f in line.rstrip("\r\n").split(",")]


def _whole_records(lines: list[str], stream, path: str, line_no: int) -> list[str]:
    """Extend `lines` until no quoted field is left open (an even number of quotes)."""
    quotes = sum(line.count('"') for line in lines)
    while quotes % 2:
        more = stream.readline()
        if not more:
            raise DataError(f"{display_name(path)}, line {line_no + len(lines)}: a quoted "
                            "field is not closed before the end of the file")
        lines.append(more)
        quotes += more.count('"')
    return lines


class CsvReader:
    """A data file's header, then its records chunk by chunk, counting physical lines."""

    def __init__(self, stream, path: str):
        self.stream = stream
        self.path = path
        self.name = display_name(path)
        self.line_no = 0  # physical lines read so far
        self.header = self._read_header()

    def _read_header(self) -> list[str]:
        first = self.stream.readline()
        if not first.strip():
            raise DataError(f"{self.name}: empty file (a header line naming the columns "
                            "comes first)")
        lines = _whole_records([first], self.stream, self.path, 0)
        check_utf8(lines, self.path, 1, "".join(lines))
        self.line_no = len(lines)
        header = [name.strip() for name in next(csv.reader(lines))]
        seen = set()
        for name in header:
            if name in seen:
                raise DataError(f"{self.name}: column '{name}' appears twice in the header")
            seen.add(name)
        return header

    def chunks(self, columns: list[str], rows: int = ROWS, echo: bool = False
               ) -> Iterator[tuple[dict, list[str] | None]]:
        """Yield ({column: float array}, the text of `columns` in each record, if `echo`)."""
        where = [self.header.index(c) for c in columns]
        while True:
            lines = list(islice(self.stream, rows))
            if not lines:
                return
            first = self.line_no + 1
            text = "".join(lines)
            if '"' in text:
                lines = _whole_records(lines, self.stream, self.path, self.line_no)
                text = "".join(lines)
            self.line_no += len(lines)
            check_utf8(lines, self.path, first, text)
            if '"' in text:
                chunk = self._quoted(lines, first, where, columns, echo)
            else:
                chunk = self._plain(lines, first, where, columns, echo)
            if chunk is not None:
                yield chunk

    def _plain(self, lines, first, where, columns, echo):
        """Unquoted lines: numpy parses the whole chunk at once."""
        import numpy as np

        kept = [ln for ln in lines if ln.strip()]
        if not kept:
            return None
        width = len(self.header)
        ragged = [k for k, ln in enumerate(kept) if ln.count(",") != width - 1]
        if ragged:
            k = ragged[0]
            raise DataError(f"{self.name}, line {first + _line_of(lines, k)}: "
                            f"{len(_fields(kept[k]))} fields, but the header has {width}")
        try:
            table = np.loadtxt(io.StringIO("".join(kept)), delimiter=",", usecols=where,
                               ndmin=2, dtype=float, comments=None)
        except ValueError:
            raise self._bad_cell([_fields(ln) for ln in kept],
                                 [first + _line_of(lines, k) for k in range(len(kept))],
                                 where) from None
        return ({c: table[:, k] for k, c in enumerate(columns)},
                echo_cells(kept, self.header, columns) if echo else None)

    def _quoted(self, lines, first, where, columns, echo):
        """Lines with quoted fields: the csv module splits the records (RFC 4180)."""
        import numpy as np

        reader = csv.reader(lines)
        records, starts = [], []
        start = first
        for fields in reader:
            if len(fields) > 1 or (fields and fields[0].strip()):
                records.append([f.strip() for f in fields])
                starts.append(start)
            start = first + reader.line_num
        if not records:
            return None
        width = len(self.header)
        for fields, line in zip(records, starts):
            if len(fields) != width:
                raise DataError(f"{self.name}, line {line}: {len(fields)} fields, but the "
                                f"header has {width}")
        cells = [[fields[i] for fields in records] for i in where]
        try:
            arrays = {c: np.array(cells[k], dtype=float) if cells[k] else np.empty(0)
                      for k, c in enumerate(columns)}
        except ValueError:
            raise self._bad_cell(records, starts, where) from None
        return arrays, ([",".join(fields[i] for i in where) for fields in records]
                        if echo else None)

    def _bad_cell(self, records, line_numbers, where) -> DataError:
        for cells, line in zip(records, line_numbers):
            for i in where:
                try:
                    float(cells[i])
                except ValueError:
                    return DataError(f"{self.name}, line {line}, column "
                                     f"'{self.header[i]}': {cells[i]!r} is not a number")
        return DataError(f"{self.name}: cannot read the numbers")


def _line_of(lines: list[str], k: int) -> int:
    """The index in `lines` of the k-th line that is not blank (only on error paths)."""
    seen = -1
    for i, line in enumerate(lines):
        if line.strip():
            seen += 1
            if seen == k:
                return i
    return len(lines) - 1


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
