"""`eval --data`: a program evaluated at every point of a CSV file, streamed chunk by chunk."""

from __future__ import annotations

from .batch import BatchEvaluator
from .data import CsvReader, csv_lines
from .errors import BindingError, DataError, Interrupted
from .files import display_name, open_text
from .interrupts import deferred
from .numtext import csv_texts


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


def eval_points(graph, bindings, path, wrt=None, progress=None, out=None,
                outputs=None) -> None:
    """Write CSV: the variable columns, then for each output (default: the program's) its
    value and one column per gradient, d<output>_d<variable>.

    Interrupted (Ctrl-C), it stops after a whole chunk of rows and says on standard error
    that the output is incomplete."""
    import sys

    out = out or sys.stdout
    targets = graph.output_nodes(outputs)
    stream, raw, size = open_text(path)
    rows = 0
    with stream:
        reader = CsvReader(stream, path)
        header = reader.header
        columns = split_variables(graph, header, bindings, path)
        if wrt is None:
            wrt = [v for v in graph.variables if v in columns]
        names = []
        for f, _ in targets:
            names += [f] + [f"d{f}_d{v}" for v in wrt]
        header_line = ",".join(columns + names) + "\n"
        bar = progress(size) if progress else None
        task = bar.add_task("evaluating", total=size) if bar else None
        if bar:
            bar.start()
        try:
            # compiled once, for all chunks; one per output
            evaluators = [BatchEvaluator(graph.with_output(f, i), bindings, wrt)
                          for f, i in targets]
            for chunk, echoed in reader.chunks(columns, echo=True):
                cells = [echoed]
                for evaluate in evaluators:
                    result = evaluate(chunk)
                    cells.append(csv_texts(result.value))
                    cells += [csv_texts(result.gradient[v]) for v in wrt]
                # the header goes out with the first good chunk: a file that fails
                # early leaves nothing on standard output
                with deferred():  # whole rows, even under Ctrl-C
                    out.write(header_line + csv_lines(cells))
                header_line = ""
                rows += len(echoed)
                if bar:
                    # the text stream cannot tell() while it is being iterated; the bytes
                    # read from the file below it are the progress
                    bar.update(task, completed=raw.tell())
        except Interrupted:
            raise Interrupted(f"the CSV on standard output is incomplete: it stops after "
                              f"{rows:,} of the rows of {display_name(path)}") from None
        finally:
            if bar:
                bar.stop()
        if header_line:  # no data rows at all
            out.write(header_line)


def read_all(graph, bindings, path) -> dict:
    """Every row of a data file, as {column: array} (descent goes over them epoch after
    epoch, so they are kept in memory)."""
    import numpy as np

    stream, _, _ = open_text(path)
    with stream:
        reader = CsvReader(stream, path)
        columns = split_variables(graph, reader.header, bindings, path)
        parts = [arrays for arrays, _ in reader.chunks(columns)]
    if not parts:
        raise DataError(f"{display_name(path)} has no rows")
    return {c: np.concatenate([p[c] for p in parts]) for c in columns}
