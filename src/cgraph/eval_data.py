"""`eval --data`: a program evaluated at every point of a CSV file, streamed chunk by chunk."""

from __future__ import annotations

import os
import sys

from .batch import BatchEvaluator
from .data import csv_lines, echo_cells, read_chunks, read_header
from .errors import BindingError, DataError
from .numtext import csv_texts


def open_data(path: str):
    """(text stream, size in bytes or None) for a path, or standard input for '-'."""
    if path == "-":
        return sys.stdin, None
    try:
        return open(path, encoding="utf-8", newline=""), os.path.getsize(path)
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from None


def split_variables(graph, header, bindings, path):
    """Which variables come from the file's columns; every other one must be bound."""
    columns = [c for c in header if c in graph.variables]
    if not columns:
        raise DataError(f"{path}: none of its columns ({', '.join(header)}) is a variable "
                        f"of the program ({', '.join(graph.variables) or 'it has none'})")
    both = [c for c in columns if c in bindings]
    if both:
        raise BindingError(f"'{both[0]}' is both a column of {path} and a binding")
    graph.check_bindings(bindings, missing=False)
    missing = [v for v in graph.variables if v not in columns and v not in bindings]
    if missing:
        raise DataError(f"{path} has no column {', '.join(repr(v) for v in missing)} and "
                        f"no binding gives it (columns: {', '.join(header)})")
    return columns


def eval_points(graph, bindings, path, wrt=None, progress=None, out=None) -> None:
    """Write CSV: the variable columns, the output's value, one column per gradient."""
    out = out or sys.stdout
    stream, size = open_data(path)
    with stream:
        header = read_header(stream, path)
        columns = split_variables(graph, header, bindings, path)
        if wrt is None:
            wrt = [v for v in graph.variables if v in columns]
        f = graph.output_name
        header_line = ",".join(columns + [f] + [f"d{f}_d{v}" for v in wrt]) + "\n"
        bar = progress(size) if progress else None
        task = bar.add_task("evaluating", total=size) if bar else None
        if bar:
            bar.start()
        try:
            evaluate = BatchEvaluator(graph, bindings, wrt)  # compiled once, for all chunks
            for chunk, lines in read_chunks(stream, path, header, columns):
                result = evaluate(chunk)
                cells = [echo_cells(lines, header, columns)] if columns else []
                cells.append(csv_texts(result.value))
                cells += [csv_texts(result.gradient[v]) for v in wrt]
                # the header goes out with the first good chunk: a file that fails
                # early leaves nothing on standard output
                out.write(header_line + csv_lines(cells))
                header_line = ""
                if bar:
                    bar.update(task, completed=stream.tell() if size else None)
        finally:
            if bar:
                bar.stop()
        if header_line:  # no data rows at all
            out.write(header_line)


def read_all(graph, bindings, path) -> dict:
    """Every row of a data file, as {column: array} (descent goes over them epoch after
    epoch, so they are kept in memory)."""
    import numpy as np

    stream, _ = open_data(path)
    with stream:
        header = read_header(stream, path)
        columns = split_variables(graph, header, bindings, path)
        parts = [arrays for arrays, _ in read_chunks(stream, path, header, columns)]
    if not parts:
        raise DataError(f"{path} has no rows")
    return {c: np.concatenate([p[c] for p in parts]) for c in columns}
