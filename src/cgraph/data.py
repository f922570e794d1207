"""Points from data files (CSV or Parquet) in batches, flat in memory for any file size,
and results written as CSV or Parquet.

A CSV data file is numeric CSV as RFC 4180 describes it: a header naming the columns, then
one point per record; fields may be quoted (`"x","y"`, `"1.5"`, as Excel and R's write.csv
write them), a quoted field may hold commas, doubled quotes and line breaks; a UTF-8
byte-order mark is accepted; lines that are empty are skipped.

Two readers share that dialect. `CsvBlocks`, the fast one, cuts the file into blocks of
bytes at a record's end and hands each to Apache Arrow (pyarrow, imported only here).
`CsvReader`, cgraph's own, reads any block Arrow refuses: it accepts what cgraph always
accepted (spaces around a number, blank lines of spaces) and reports anything else with
its line and column.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from itertools import islice
from typing import Iterator

from .errors import DataError, repeated
from .files import check_utf8, display_name
from .printing import counted

ROWS = 1 << 16  # lines per chunk


def _line(raw) -> bytes:
    """One line of a binary stream, read in pieces of 64 KiB: one readline() of a line that
    never ends (/dev/zero, a sparse file) is one call into C that no Ctrl-C stops, and it
    takes memory until the kernel ends the process."""
    parts = [raw.readline(1 << 16)]
    while parts[-1] and not parts[-1].endswith(b"\n"):
        parts.append(raw.readline(1 << 16))
    return b"".join(parts)


def _any_cell() -> None:
    """The csv module refuses a cell of more than 131,072 characters (csv.Error, which was
    an internal error); a cell is a cell, and it says what is wrong with it as any other.
    The limit is the module's, for the whole process, so it is raised once and never
    lowered (another thread may be reading)."""
    if csv.field_size_limit() < 1 << 30:
        csv.field_size_limit(1 << 30)


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

    def __init__(self, stream, path: str, header: list[str] | None = None,
                 line_no: int = 0):
        """`header` and `line_no` given: the stream holds records only, the first of them
        on physical line `line_no + 1` (a block the fast reader hands back)."""
        self.stream = stream
        self.path = path
        self.name = display_name(path)
        self.line_no = line_no  # physical lines read so far
        self.header = header if header is not None else self._read_header()

    def _read_header(self) -> list[str]:
        first, skipped = self.stream.readline(), 0
        while first and not first.strip():  # empty lines are skipped, before it too
            first, skipped = self.stream.readline(), skipped + 1
        if not first:
            raise DataError(f"{self.name}: empty file (a header line naming the columns "
                            "comes first)")
        lines = _whole_records([first], self.stream, self.path, skipped)
        check_utf8(lines, self.path, skipped + 1, "".join(lines))
        self.line_no = skipped + len(lines)
        _any_cell()
        header = [name.strip() for name in next(csv.reader(lines))]
        if not all(map(str.isascii, header)):  # é as e + U+0301 is é, as in programs
            import unicodedata

            header = [unicodedata.normalize("NFC", name) for name in header]
        return once_each(self.name, elements(header))

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
                            f"{counted(len(_fields(kept[k])), 'field')}, but the header has {width}")
        text = "".join(kept)
        try:
            table = np.loadtxt(io.StringIO(text), delimiter=",", usecols=where,
                               ndmin=2, dtype=float, comments=None)
        except ValueError:
            raise self._bad_cell([_fields(ln) for ln in kept],
                                 [first + _line_of(lines, k) for k in range(len(kept))],
                                 where) from None
        arrays = {c: table[:, k] for k, c in enumerate(columns)}
        self._check_read(arrays, where, text, lambda r, i: _fields(kept[r])[i],
                         lambda r: first + _line_of(lines, r))
        return arrays, echo_cells(kept, self.header, columns) if echo else None

    def _quoted(self, lines, first, where, columns, echo):
        """Lines with quoted fields: the csv module splits the records (RFC 4180)."""
        import numpy as np

        _any_cell()
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
                raise DataError(f"{self.name}, line {line}: {counted(len(fields), 'field')}, but "
                                f"the header has {width}")
        cells = [[fields[i] for fields in records] for i in where]
        try:
            arrays = {c: np.array(cells[k], dtype=float) if cells[k] else np.empty(0)
                      for k, c in enumerate(columns)}
        except ValueError:
            raise self._bad_cell(records, starts, where) from None
        self._check_read(arrays, where, "".join(lines), lambda r, i: records[r][i],
                         starts.__getitem__)
        return arrays, ([",".join(fields[i] for i in where) for fields in records]
                        if echo else None)

    def _bad_cell(self, records, line_numbers, where) -> DataError:
        for cells, line in zip(records, line_numbers):
            for i in where:
                if not _plain_number(cells[i]):
                    what = f"{cells[i]!r} is not a number" if cells[i].strip() else \
                        "an empty cell, not a number"
                    return DataError(f"{self.name}, line {line}, column "
                                     f"'{self.header[i]}': {what}")
        return DataError(f"{self.name}: cannot read the numbers")

    def _check_read(self, arrays: dict, where: list[int], text: str, cell, line) -> None:
        """A cell is the number written, as a binding's value is (numtext.misread): one
        that float() reads as Infinity (1e999) or 0 (1e-400) is an error at its line and
        column. Only cells that came out infinite or 0 are looked at, and many zeros
        only where the text may have a number below the doubles (`cell(r, i)`: row r's
        field i)."""
        import numpy as np

        from .numtext import misread

        tiny = None
        for (c, a), i in zip(arrays.items(), where):
            rows = np.flatnonzero(np.isinf(a))
            zeros = np.flatnonzero(a == 0)
            if len(zeros) > ZEROS and tiny is None:
                tiny = "0" * 224 in text or ("e-" in text or "E-" in text) and \
                    _EXPONENT.search(text) is not None
            if len(zeros) <= ZEROS or tiny:
                rows = np.concatenate([rows, zeros])
            for r in rows:
                if misread(cell(r, i), float(a[r])):
                    from .binding_values import misread_cell

                    raise DataError(misread_cell(f"{self.name}, line {line(r)}, column "
                                                 f"'{c}'", cell(r, i), float(a[r])))


# A number below the doubles (1e-400; 0.000…1 with 324 zeros) has an exponent of -100 or
# less, or a run of 224 zeros (enough to go below 1e-323 with a smaller exponent): past
# ZEROS zeros in a column, its chunk's text is searched for them (0.1 ms for 65,536 lines
# of two numbers without "e-", 27 ms with) before the zeros are looked at one by one.
ZEROS = 256
_EXPONENT = re.compile(r"[eE]-0*[1-9]\d\d")


def suspect(arrays, texts) -> bool:
    """Whether a block Arrow read may hold a cell float() misreads (see
    `CsvReader._check_read`, which decides): a value that is infinite, or 0 where the
    cell's text has a digit that is not 0. Arrow's kernels look at the zeros only."""
    from numpy import isinf

    for a, t in zip(arrays, texts):
        if isinf(a).any():
            return True
        zero = a == 0
        if zero.any() and _has_digits(t, zero):
            return True
    return False


def _has_digits(texts, where) -> bool:
    """Whether a text of Arrow array `texts` at a True of `where` has a digit not 0."""
    import pyarrow as pa
    from pyarrow._compute import MatchSubstringOptions, call_function

    cells = call_function("filter", [texts, pa.array(where)])
    digits = call_function("match_substring_regex", [cells], MatchSubstringOptions("[1-9]"))
    return call_function("any", [digits]).as_py()


def _plain_number(cell: str) -> bool:
    """Whether a cell is a number as the fast readers read them: Python's float() also
    takes `1_000` and digits of other scripts, which numpy and Arrow refuse."""
    if not cell.isascii() or "_" in cell:
        return False
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _line_of(lines: list[str], k: int) -> int:
    """The index in `lines` of the k-th line that is not blank (only on error paths)."""
    seen = -1
    for i, line in enumerate(lines):
        if line.strip():
            seen += 1
            if seen == k:
                return i
    return len(lines) - 1


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


# -- the fast path: Apache Arrow ------------------------------------------------------------
# pyarrow (imported here only, when a command reads or writes data) splits and converts the
# records in C++ on all cores, and formats the results; numpy's batch evaluator computes.

BLOCK = 1 << 19  # bytes of CSV per block (about 13,000 rows of two numbers): memory flat
PARQUET_ROWS = 1 << 14  # rows per batch read from Parquet (as many as a block of CSV holds)
PARQUET_SUFFIXES = (".parquet", ".pq")


def arrow():
    """pyarrow, its allocator set to jemalloc where the build has it (it gives memory
    back between batches: peak RSS 97 MiB instead of 150 MiB for 2*10^6 rows)."""
    import pyarrow as pa

    if not _POOL_SET:
        _POOL_SET.append(True)
        try:
            pa.set_memory_pool(pa.jemalloc_memory_pool())
        except (pa.ArrowException, NotImplementedError):
            pass
    return pa


_POOL_SET: list = []


def cast(array, kind, safe: bool = True):
    """Arrow's cast, without importing pyarrow.compute (its Python wrappers of every
    kernel cost 25 ms of start-up; the cast kernel itself is in pyarrow._compute). Not
    `safe`: to the nearest double, as a CSV cell's digits are read (2^60 + 1 is 2^60)."""
    try:
        from pyarrow._compute import CastOptions, call_function
    except ImportError:  # a pyarrow laid out otherwise
        return array.cast(kind, safe=safe)
    options = CastOptions.safe(kind) if safe else CastOptions.unsafe(kind)
    return call_function("cast", [array], options)


def is_parquet(path: str | None) -> bool:
    return bool(path) and path != "-" and path.lower().endswith(PARQUET_SUFFIXES)


class Batch:
    """Rows of a data file: {column: float array}, each column's text for the output (an
    Arrow string array or a list of str), and how many rows."""

    __slots__ = ("arrays", "texts", "rows")

    def __init__(self, arrays: dict, texts: list, rows: int):
        self.arrays, self.texts, self.rows = arrays, texts, rows


class Cells:
    """A column's cells as they are written in a block of the file: block[starts:ends]."""

    __slots__ = ("block", "starts", "ends")

    def __init__(self, block: bytes, starts, ends):
        self.block, self.starts, self.ends = block, starts, ends

    def __len__(self) -> int:
        return len(self.starts)

    def to_pylist(self) -> list[str]:
        """The cells as text (as an Arrow string array's to_pylist gives them)."""
        return [self.block[a:b].decode() for a, b in zip(self.starts.tolist(),
                                                         self.ends.tolist())]


class CsvBlocks:
    """A CSV data file read in blocks of bytes, each cut at a record's end and parsed by
    `_csvrows` (a plain block, where it was built) or by Arrow; a block Arrow refuses (a
    cell that is not a plain number, a blank line with spaces, a ragged row, a byte that
    is not UTF-8) is read by `CsvReader` instead, which accepts what it accepted before
    and names the line and column of what it does not."""

    def __init__(self, raw, path: str):
        self.raw = raw  # binary stream, after the header
        self.path = path
        first, lines = b"", 0
        while True:  # the header: one record, however many lines its quotes hold, after
            line = _line(raw)  # any empty lines (CsvReader skips and counts them)
            first += line
            lines += 1
            if not line or (first.count(b'"') % 2 == 0
                            and first.removeprefix(b"\xef\xbb\xbf").strip()):
                break
        if first.startswith(b"PAR1"):  # Parquet's magic number: it is read by its path
            where = "standard input" if path == "-" else path
            raise DataError(f"{where} holds Parquet, which is read from a file named "
                            "*.parquet or *.pq, not as CSV")
        text = first.decode("utf-8", "surrogateescape")
        if text.startswith("\ufeff"):
            text = text[1:]
        header = CsvReader(io.StringIO(text, newline=""), path)
        if header.stream.read().strip():  # records after the header, before any LF
            raise DataError(f"{display_name(path)}: its lines end with a CR alone (as classic "
                            "Mac OS wrote them); cgraph reads lines ended by LF or CR LF")
        self.header = header.header
        self.line_no = header.line_no  # physical lines read so far
        self.done = 0  # bytes read so far (the progress bar's)

    def _blocks(self) -> Iterator[bytes]:
        """Blocks of whole records: cut after a newline outside quotes (the bytes are
        copied once: a block is the rest of the last read and the head of this one)."""
        rest = b""
        while True:
            data = self.raw.read(BLOCK)
            if len(data) < BLOCK:  # the end of the file: the rest is one block
                if rest or data:
                    yield rest + data
                return
            cut = data.rfind(b"\n") + 1
            if cut and (b'"' in data or b'"' in rest):
                data, rest, cut = rest + data, b"", cut + len(rest)
                while cut and data.count(b'"', 0, cut) % 2:
                    cut = data.rfind(b"\n", 0, cut - 1) + 1
            if cut:
                yield rest + data[:cut]
                rest = data[cut:]
            else:  # no record ends in it
                rest += data

    def batches(self, columns: list[str]) -> Iterator[Batch]:
        for job in self.jobs(columns):
            yield from job()

    def jobs(self, columns: list[str]) -> Iterator:
        """One function per block, in the file's order, each returning the block's batches
        (or raising its error): blocks may be parsed side by side, on threads (`_csvrows`
        and Arrow release the GIL), while the reading and the line count stay in order
        here. A plain block is read by `_csvrows` where it was built; any other, or every
        block without it, by Arrow (imported then), and what Arrow refuses by CsvReader."""
        import numpy as np

        where = [self.header.index(c) for c in columns]
        width = len(self.header)
        native = compiled()
        arrow_parse = []  # Arrow's reader, made for the first block that needs it

        def parse(block: bytes, first: int) -> list[Batch]:
            if native is not None:
                read = native.cells(block, width, where)
                if read is not None:
                    numbers, starts, ends = read
                    rows = len(numbers[0]) // 8
                    arrays = {c: np.frombuffer(n, np.float64) for c, n in zip(columns, numbers)}
                    texts = [Cells(block, np.frombuffer(a, np.int64), np.frombuffer(b, np.int64))
                             for a, b in zip(starts, ends)]
                    return [Batch(arrays, texts, rows)] if rows else []
            if not arrow_parse:
                arrow_parse.append(self._arrow_parse(columns, where, width))
            return arrow_parse[0](block, first)

        for block in self._blocks():
            first = self.line_no + 1
            self.line_no += block.count(b"\n")
            self.done += len(block)
            yield lambda block=block, first=first: parse(block, first)

    def _arrow_parse(self, columns: list[str], where: list[int], width: int):
        """A block's batches as Arrow reads it (numpy's split where the block is plain,
        Arrow's CSV reader otherwise), or as CsvReader reads it where Arrow refuses."""
        pa = arrow()
        from pyarrow import csv

        strings = {c: pa.string() for c in columns}
        read = csv.ReadOptions(column_names=self.header, use_threads=False,
                               block_size=BLOCK * 2)
        convert = csv.ConvertOptions(include_columns=columns, column_types=strings)
        plain, quoted = csv.ParseOptions(), csv.ParseOptions(newlines_in_values=True)
        float64 = pa.float64()

        def parse(block: bytes, first: int) -> list[Batch]:
            try:
                texts = plain_cells(block, width, where)
                if texts is None:
                    table = csv.read_csv(pa.py_buffer(block), read_options=read,
                                         parse_options=quoted if b'"' in block else plain,
                                         convert_options=convert)
                    texts = [table.column(c).combine_chunks() for c in columns]
                arrays = {c: cast(t, float64).to_numpy() for c, t in zip(columns, texts)}
                if suspect(arrays.values(), texts):  # 1e999? the slow reader decides
                    raise ValueError
            except (pa.ArrowException, ValueError):
                return list(self._slow(block, first, columns))
            return [Batch(arrays, texts, len(texts[0]))] if len(texts[0]) else []

        return parse

    def _slow(self, block: bytes, first: int, columns: list[str]) -> Iterator[Batch]:
        text = block.decode("utf-8", "surrogateescape")
        reader = CsvReader(io.StringIO(text, newline=""), self.path, self.header, first - 1)
        for arrays, echoed in reader.chunks(columns, echo=True):
            yield Batch(arrays, _split(echoed, len(columns)), len(echoed))


def plain_cells(block: bytes, width: int, where: list[int]) -> list | None:
    """The text of columns `where` of a block of `width` cells a line, as Arrow's CSV reader
    gives it (string arrays), found without that reader where the block is plain: no
    quote, no CR, no empty cell or line. numpy finds the commas and newlines, each cell
    becomes a view of the block (an Arrow string_view), and Arrow's cast copies them into
    string arrays. None for any other block (Arrow's reader reads it). 0.20 s instead of
    0.25 for the blocks of 2*10^6 rows of two numbers, casts to float included."""
    import numpy as np
    import pyarrow as pa

    if not block or b'"' in block or b"\r" in block:
        return None
    size = len(block)
    buf = np.zeros(size + 16, np.uint8)  # padded: a short cell's 12 bytes are read whole
    buf[:size] = np.frombuffer(block, np.uint8)
    if block[-1] != 10:  # the file's last line
        buf[size] = 10
        size += 1
    chars = buf[:size]
    newline = chars == 10
    seps = np.flatnonzero(newline | (chars == 44))
    rows = len(seps) // width
    ends = newline[seps]
    if len(seps) != rows * width or np.count_nonzero(ends) != rows or \
            not ends[width - 1::width].all():
        return None
    starts = np.empty(len(seps), np.int64)
    starts[0] = 0
    starts[1:] = seps[:-1] + 1
    lengths = seps - starts
    if not lengths.all():  # an empty cell or line
        return None
    words = np.ndarray((len(buf) - 3,), np.uint32, buf, 0, (1,))  # 4 bytes at each byte
    data = pa.py_buffer(buf)
    texts = []
    for i in where:
        # Arrow's view of a cell: its length, then its first 4 bytes and where it is in
        # buffer 0, or (12 bytes or fewer) the bytes themselves, zero-padded
        at, length = starts[i::width], lengths[i::width]
        views = np.zeros((rows, 4), np.uint32)
        views[:, 0] = length
        views[:, 1] = words[at]
        views[:, 3] = at
        short = np.flatnonzero(length <= 12)
        if len(short):
            at, left = at[short], length[short]
            for q in range(3):
                keep = np.clip(left - 4 * q, 0, 4).astype(np.uint64) * np.uint64(8)
                mask = ((np.uint64(1) << keep) - np.uint64(1)).astype(np.uint32)
                views[short, q + 1] = words[at + 4 * q] & mask
        cells = pa.Array.from_buffers(pa.string_view(), rows, [None, pa.py_buffer(views),
                                                               data])
        texts.append(cast(cells, pa.string()))
    return texts


def _split(echoed: list[str], width: int) -> list[list[str]]:
    """Comma-joined cells (numbers: no comma inside) as one list of text per column."""
    if not echoed:
        return [[] for _ in range(width)]
    return [list(cells) for cells in zip(*(line.split(",") for line in echoed))]


class LineReader:
    """`CsvReader` behind the `CsvBlocks` interface: standard input that is text only."""

    def __init__(self, stream, path: str):
        self.reader = CsvReader(stream, path)
        self.header = self.reader.header
        self.done = 0

    def batches(self, columns: list[str]) -> Iterator[Batch]:
        for arrays, echoed in self.reader.chunks(columns, echo=True):
            yield Batch(arrays, _split(echoed, len(columns)), len(echoed))


def elements(header: list[str]) -> list[str]:
    """Column names, an element's spelled as bindings read it (`W[1, 2]` and `W[1,02]` are
    W[1,2], as `'W[1, 2]=3'` binds it); other names as they are."""
    if not any("[" in name for name in header):
        return header
    from .bindings import binding_name

    return [(binding_name(name) or name) if "[" in name else name for name in header]


def distinct(fields: list[str]) -> list[str]:
    """Column names, each one that repeats an earlier one followed by `_` until it does not
    (a variable named df_dx beside the gradient column df_dx, as diff names them)."""
    seen: set[str] = set()
    out = []
    for name in fields:
        while name in seen:
            name += "_"
        seen.add(name)
        out.append(name)
    return out


def csv_record(fields: list[str]) -> str:
    """One CSV line, RFC 4180's quoting where a field needs it: a name of a two-index
    family, W[1,2], holds a comma ("W[1,2]"), which unquoted split the header in two."""
    return ",".join(f'"{f.replace(chr(34), chr(34) * 2)}"' if any(c in f for c in ',"\r\n')
                    else f for f in fields) + "\n"


def once_each(where: str, header: list[str], of: str = "the header") -> list[str]:
    """`header`, when no column name is in it twice (a CSV header, a Parquet schema)."""
    twice = repeated(header)
    if twice is not None:
        raise DataError(f"{where}: column '{twice}' appears twice in {of}")
    return header


class ParquetPoints:
    """A Parquet data file, read a batch of rows at a time (numeric columns, no nulls)."""

    def __init__(self, path: str):
        import os

        from pyarrow import parquet

        pa = arrow()
        self.path = path
        try:
            # read as it goes, in buffers of 1 MiB (pre-buffering the row groups took
            # 205 MiB for 2*10^6 rows of five columns; this way 94 MiB)
            self.file = parquet.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
            header = self.file.schema_arrow.names
        except FileNotFoundError:
            raise DataError(f"cannot read {path}: No such file or directory") from None
        except (pa.ArrowException, OSError, ValueError) as e:
            raise DataError(f"{path}: cannot read it as Parquet ({_first_line(e)})") from None
        self.header = once_each(path, elements(header), "its schema")  # pyarrow: two x
        self.stored = dict(zip(self.header, header))  # a column's name in the file
        self.rows = self.file.metadata.num_rows
        self.size = os.path.getsize(path)
        self.done = 0  # bytes, as the progress bar counts them: the share of rows read

    def batches(self, columns: list[str]) -> Iterator[Batch]:
        import pyarrow as pa

        for name in columns:
            kind = self.file.schema_arrow.field(self.stored[name]).type
            if not (pa.types.is_floating(kind) or pa.types.is_integer(kind)
                    or pa.types.is_decimal(kind)):
                raise DataError(f"{self.path}, column '{name}': {kind} is not a number type")
        seen = 0
        try:
            stored = [self.stored[name] for name in columns]
            for part in self.file.iter_batches(batch_size=PARQUET_ROWS, columns=stored):
                arrays = {}
                for name in columns:
                    column = part.column(self.stored[name])
                    if column.null_count:
                        row = seen + column.is_null().to_numpy(zero_copy_only=False).argmax()
                        raise DataError(f"{self.path}, row {row + 1:,}, column '{name}': "
                                        "no value (a null)")
                    arrays[name] = cast(column, pa.float64(), safe=False).to_numpy()
                seen += part.num_rows
                self.done = self.size * seen // max(1, self.rows)
                yield Batch(arrays, [], part.num_rows)
        except (pa.ArrowException, OSError) as e:
            raise DataError(f"{self.path}: cannot read it as Parquet ({_first_line(e)})") \
                from None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def open_points(path: str):
    """The reader for a data file: Parquet by its suffix, else CSV (standard input for
    '-'). Returns (reader, binary stream to close or None, size in bytes or None)."""
    from .files import STDIN, open_binary

    if is_parquet(path):
        points = ParquetPoints(path)
        return points, None, points.size
    raw, size = open_binary(path, "the --data rows")
    if raw is None:  # standard input that is text only (a test's)
        import sys

        return LineReader(sys.stdin, path), None, None
    try:
        return CsvBlocks(raw, path), (raw if path != STDIN else None), size
    except BaseException:
        if path != STDIN:
            raw.close()
        raise


# -- writing results ------------------------------------------------------------------------

def float_numbers(values):
    """Numbers as a contiguous float64 array (no copy when they are one already)."""
    import numpy as np

    return np.ascontiguousarray(values, dtype=np.float64)


def float_array(values):
    """A float64 numpy array (contiguous) as an Arrow array, without a copy (and without
    pa.array, whose test for masked arrays imports numpy.ma: 8 ms of start-up)."""
    import pyarrow as pa

    values = float_numbers(values)
    return pa.Array.from_buffers(pa.float64(), len(values), [None, pa.py_buffer(values)])


def csv_column(values):
    """Arrow string array of a float array: the shortest text that reads back as the same
    double (`1`, `0.1`, `1e-7`, `-0`); NaN and the infinities spelled as everywhere else."""
    import numpy as np
    import pyarrow as pa

    from .numtext import INF, NAN, NEG_INF

    texts = cast(float_array(values), pa.string())
    bad = ~np.isfinite(values)
    if bad.any():
        import pyarrow.compute as pc

        odd = values[bad]
        spelled = np.where(np.isnan(odd), NAN, np.where(odd > 0, INF, NEG_INF))
        texts = pc.replace_with_mask(texts, pa.array(bad), pa.array(spelled.tolist(),
                                                                     pa.string()))
    return texts


CSVROWS = 1  # the interface of _csvrows this module calls (its INTERFACE)


@functools.cache
def compiled():
    """`cgraph._csvrows` (C++: plain CSV cells read and rows written without Python's
    lock), or None where the install could not build it (no C++17 compiler), or where the
    build is of another interface (an editable install not rebuilt after a pull): Arrow
    does the same work, more slowly, with the same results. (Looked for once: a failed
    import costs 40 µs, and every batch asks.)"""
    try:
        from . import _csvrows
    except ImportError:
        return None
    return _csvrows if getattr(_csvrows, "INTERFACE", None) == CSVROWS else None


def native_rows():
    """A function writing CSV rows with `_csvrows.rows` (each number's shortest digits
    found by Schubfach and spelled as Arrow spells them), its table of powers of ten and
    cgraph's spellings of NaN and the infinities bound; None without `_csvrows`."""
    module = compiled()
    if module is None:
        return None
    from .numtext import INF, NAN, NEG_INF

    words = NAN.encode(), INF.encode(), NEG_INF.encode(), powers_of_ten()
    return lambda columns: module.rows(columns, *words)


@functools.cache
def powers_of_ten() -> bytes:
    """Schubfach's table, computed exactly with Python's integers: for e from -292 to 324,
    g = floor(10^e / 2^r) + 1 with r such that 2^125 <= g < 2^126, as two 64-bit words (the
    bits above the 63 lowest, then those 63), in this machine's byte order."""
    import sys

    table = bytearray()
    for e in range(-292, 325):
        r = ((e * 913124641741) >> 38) - 125  # floor(log2(10^e)) - 125
        if e < 0:
            g = (1 << -r) // 10 ** -e
        else:
            g = 10 ** e >> r if r >= 0 else 10 ** e << -r
        g += 1
        table += (g >> 63).to_bytes(8, sys.byteorder) + \
            (g & ((1 << 63) - 1)).to_bytes(8, sys.byteorder)
    return bytes(table)


def cell_bounds(texts) -> tuple | None:
    """A column's cells as `_csvrows.rows` takes them, (data, starts, ends): Cells as they
    are, an Arrow string array (no null) by its offsets; None for anything else."""
    if isinstance(texts, Cells):
        return texts.block, texts.starts, texts.ends
    import numpy as np
    import pyarrow as pa

    if texts.type != pa.string() or texts.null_count:
        return None
    _, offsets, data = texts.buffers()
    bounds = np.frombuffer(offsets, np.int32, len(texts) + 1, texts.offset * 4).astype(np.int64)
    return (data if data is not None else b""), bounds[:-1], bounds[1:]


def _no_sigint() -> None:
    """Ctrl-C goes to the main thread, never into a thread's read or write."""
    import signal

    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def threads(n: int):
    """A pool of `n` threads that Ctrl-C leaves alone (the main thread takes it)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(n, initializer=_no_sigint)


class CsvSink:
    """Results as CSV rows: the header with the first batch, then whole rows per batch."""

    def __init__(self, write, names: list[str]):
        self.write = write  # bytes -> None
        self.header = csv_record(names).encode()

    def rows(self, texts: list, values: list):
        """The CSV text of a batch: the cells of `texts` as they are, the numbers of
        `values` (and of `texts` given as floats: Parquet's) spelled. `_csvrows` writes the
        rows in C++ where it was built, Arrow otherwise (the same bytes); both release the
        GIL, so batches are written side by side, on threads."""
        if any(isinstance(t, list) for t in texts):  # cgraph's own reader's
            pa = arrow()
            texts = [pa.array(t, pa.string()) if isinstance(t, list) else t for t in texts]
        rows = native_rows()
        if rows is not None:
            import numpy as np

            columns = [float_numbers(t) if isinstance(t, np.ndarray) else cell_bounds(t)
                       for t in texts] + [float_numbers(v) for v in values]
            if all(c is not None for c in columns):
                return rows(columns)
        return self._arrow_rows(texts, values)

    @staticmethod
    def _arrow_rows(texts: list, values: list):
        pa = arrow()
        from pyarrow import csv

        columns = [t if isinstance(t, pa.Array) else csv_column(t)  # Parquet's floats
                   for t in texts] + [csv_column(v) for v in values]
        table = pa.table(columns, names=[str(k) for k in range(len(columns))])
        sink = pa.BufferOutputStream()
        csv.write_csv(table, sink, csv.WriteOptions(include_header=False,
                                                   quoting_style="none"))
        return sink.getvalue()

    def put(self, data) -> None:
        """Write a batch's rows (the header first, with the first batch: a file that fails
        early leaves nothing on standard output)."""
        if self.header:
            self.write(self.header)
        self.write(data)
        self.header = b""

    def close(self) -> None:
        if self.header:  # no rows at all
            self.write(self.header)
            self.header = b""


class ParquetSink:
    """Results as a Parquet file: one row group per batch, the footer at `close`."""

    def __init__(self, write, names: list[str]):
        from pyarrow import parquet

        pa = arrow()
        self.pa = pa
        self.names = names
        self.schema = pa.schema([(n, pa.float64()) for n in names])
        self.writer = parquet.ParquetWriter(pa.PythonFile(_Stream(write), mode="w"),
                                            self.schema)

    def rows(self, arrays: list, values: list):
        return self.pa.record_batch([*arrays, *values], schema=self.schema)

    def put(self, batch) -> None:
        self.writer.write_batch(batch)

    def close(self) -> None:
        self.writer.close()


class _Stream:
    """The file-like object Arrow writes Parquet into: every write goes to `write`."""

    closed = False

    def __init__(self, write):
        self._write, self.size = write, 0

    def write(self, data) -> int:
        self._write(bytes(data))
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass
