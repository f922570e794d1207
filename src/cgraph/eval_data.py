"""`eval --data`: a program evaluated at every point of a data file (CSV or Parquet),
streamed batch by batch; results to standard output (CSV) or to a file (CSV or Parquet, by
its suffix: `SUFFIXES`)."""

from __future__ import annotations

import collections
import contextlib
import time

from .batch import BatchEvaluator
from .data import (PARQUET_SUFFIXES, CsvSink, ParquetSink, distinct, is_parquet,
                   open_points, threads)
from .errors import BindingError, DataError, Interrupted
from .files import AtomicWriter, display_name
from .interrupts import deferred


SEPARATORS = {"\t": "tabs", ";": "semicolons"}


def split_variables(graph, header, bindings, path, warn=None):
    """Which variables come from the file's columns; every other one must be bound. A
    column named as a constant the program uses (`e`, `pi`) is not read, and `warn` is told
    so: in a program the name is the constant."""
    parquet, path = is_parquet(path), display_name(path)
    if warn is not None:
        from .ops import CONST, CONSTANTS

        used = {n.name for n in graph.nodes if n.op is CONST and n.name in CONSTANTS}
        for c in header:
            if c in used:
                warn(f"column '{c}' of {path} is not read: in a program {c} is the constant "
                     f"{CONSTANTS[c]!r} (to read the column, rename it and the variable)")
    columns = [c for c in header if c in graph.variables]
    if not columns and len(header) == 1 and not parquet:
        # a TSV (what cgraph eval writes when piped) or a semicolon CSV: one column named
        # 'x\ty'; say so, rather than list it as if it were a name
        sep = next((name for c, name in SEPARATORS.items() if c in header[0]), None)
        if sep:
            raise DataError(f"{path}: its header, {header[0]!r}, is one column: cgraph reads "
                            f"comma-separated files, and this one is separated by {sep}")
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


def _stdout_bytes():
    """A function writing bytes to standard output (after any text already buffered)."""
    import sys

    sys.stdout.flush()
    raw = getattr(sys.stdout, "buffer", None)
    if raw is None:  # a text-only stream (tests)
        return lambda data: sys.stdout.write(bytes(data).decode())
    return raw.write


# `eval --data -o FILE`: what the rows are written as (see cli_support.by_suffix)
SUFFIXES = {".csv": "csv", **dict.fromkeys(PARQUET_SUFFIXES, "parquet")}


def eval_points(graph, bindings, path, wrt=None, progress=None, outputs=None,
                target=None, parquet=False, inputs=(), warn=None) -> None:
    """Write the variable columns, then for each output (default: the program's) its value
    and one column per gradient, d<output>_d<variable>: CSV on standard output, or to the
    file `target` (Parquet with `parquet`, CSV otherwise).

    Interrupted (Ctrl-C), it stops after a whole batch of rows, keeps them (a Parquet file
    gets its footer) and says on standard error that the output is incomplete."""
    import numpy as np  # (OpenBLAS on one thread: entry.one_blas_thread)
    targets = graph.output_nodes(outputs)
    reader, raw, size = open_points(path)
    with raw or contextlib.nullcontext():
        columns = split_variables(graph, reader.header, bindings, path, warn)
        if wrt is None:
            wrt = [v for v in graph.variables if v in columns]
        names = []
        for f, _ in targets:
            names += [f] + [f"d{f}_d{v}" for v in wrt]
        # compiled once, for all batches; one per output
        evaluators = [BatchEvaluator(graph.with_output(f, i), bindings, wrt)
                      for f, i in targets]
        out = AtomicWriter(target, inputs, binary=True) if target else None
        sink = (ParquetSink if parquet else CsvSink)(out.write if out else _stdout_bytes(),
                                                     distinct(columns + names))
        what = (f"the Parquet file {target}" if parquet else f"the CSV {target}" if target
                else "the CSV on standard output")
        bar = progress(size) if progress else None
        task = bar.add_task("evaluating", total=size) if bar else None
        shown, begun = False, time.monotonic()  # the bar is drawn once a run lasts
        # Blocks are parsed (CSV) and batches formatted on a pool of threads, side by side
        # (_csvrows and Arrow release the GIL); this thread reads the file in order,
        # evaluates and writes the batches in order. At most AHEAD blocks and AHEAD
        # batches wait (memory stays flat); a write is whole rows, a Ctrl-C waits for it.
        pool = threads(WORKERS)
        parsing = collections.deque()  # futures: a block's batches
        formatting = collections.deque()  # (future: a batch's output, rows)
        jobs = reader.jobs(columns) if hasattr(reader, "jobs") else _ready(reader, columns)
        written = 0

        def read_ahead() -> None:
            while len(parsing) < AHEAD:
                job = next(jobs, None)
                if job is None:
                    return
                parsing.append(pool.submit(job))

        def flush(keep: int) -> None:
            nonlocal written
            while formatting and (len(formatting) > keep or formatting[0][0].done()):
                job, n = formatting[0]
                data = job.result()
                with deferred():
                    sink.put(data)
                    formatting.popleft()
                    written += n

        try:
            read_ahead()
            while parsing:
                try:
                    batches = parsing[0].result()
                except DataError:  # the rows before the bad block are out, however the
                    flush(0)  # threads were timed
                    raise
                parsing.popleft()
                read_ahead()
                for batch in batches:
                    values = []
                    for evaluate in evaluators:
                        result = evaluate(batch.arrays)
                        for v in [result.value] + [result.gradient[v] for v in wrt]:
                            values.append(np.ascontiguousarray(
                                np.broadcast_to(v, (batch.rows,)), dtype=float))
                    inputs_ = [batch.arrays[c] for c in columns]
                    texts = inputs_ if parquet else batch.texts or inputs_
                    formatting.append((pool.submit(sink.rows, texts, values), batch.rows))
                    flush(AHEAD)
                if bar:
                    bar.update(task, completed=reader.done)
                    if not shown and time.monotonic() - begun >= BAR_AFTER:
                        bar.start()
                        shown = True
            flush(0)
            sink.close()
        except Interrupted:
            with deferred():
                _settle(parsing, formatting)
                if out:
                    sink.close()
                    out.commit()
            raise Interrupted(f"{what} is incomplete: it stops after {written:,} of the "
                              f"rows of {display_name(path)}") from None
        except BaseException:
            _settle(parsing, formatting)
            if out:
                out.abort()
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            if shown:
                bar.stop()
        if out:
            out.commit()


BAR_AFTER = 0.5  # seconds before the progress bar is drawn: a run that ends sooner (or
# whose reader, `| head`, is gone sooner) leaves nothing on the terminal
WORKERS = 2  # threads parsing and formatting (2 cores here; Arrow's own pool is unused)
AHEAD = 2  # blocks parsed and batches formatted ahead of this thread, at most


def _ready(reader, columns):
    """Jobs for a reader that reads in order only (Parquet, a text stream): its batches are
    read on a thread of their own, one ahead, and each job hands one over."""
    for batch in ahead(reader.batches(columns)):
        yield lambda batch=batch: [batch]


def _settle(*queues) -> None:
    """Cancel the jobs not started and let those under way end (they write nothing)."""
    jobs = [q if not isinstance(q, tuple) else q[0] for queue in queues for q in queue]
    for job in jobs:
        job.cancel()
    for job in jobs:
        if not job.cancelled():
            try:
                job.result()
            except BaseException:
                pass


def ahead(batches):
    """The same batches, the next one read on a thread while this one is evaluated and
    written (Arrow and numpy release the GIL: the reading overlaps the rest)."""
    pool = threads(1)
    try:
        coming = pool.submit(next, batches, None)
        while True:
            batch = coming.result()
            if batch is None:
                return
            coming = pool.submit(next, batches, None)
            yield batch
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def read_all(graph, bindings, path, warn=None) -> dict:
    """Every row of a data file, as {column: array} (descent goes over them epoch after
    epoch, so they are kept in memory)."""
    import numpy as np

    reader, raw, _ = open_points(path)
    with raw or contextlib.nullcontext():
        columns = split_variables(graph, reader.header, bindings, path, warn)
        parts = [batch.arrays for batch in reader.batches(columns)]
    if not parts:
        raise DataError(f"{display_name(path)} has no rows")
    return {c: np.concatenate([p[c] for p in parts]) for c in columns}
