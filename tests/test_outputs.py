"""Where -o writes: a regular file replaced whole, a stream written as the shell opened it,
the format from the suffix, '-' for standard output, and usage errors in one line. Each test
here failed before the fix it goes with."""

from __future__ import annotations

import json
import os

import pytest

from test_hardening import one_line_error, proc, run

APPENDING = [
    ["eval", "x", "x=1"],
    ["codegen", "x^2"],
    ["explain", "x*y", "x=1", "y=2"],
    ["graph", "x*y", "--format", "dot"],
    ["descend", "(w-1)^2", "w=0", "--steps", "2", "--trace"],
]


@pytest.mark.parametrize("args", APPENDING, ids=lambda a: a[0])
@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "-"])
def test_writing_to_standard_output_appends_where_the_shell_appends(tmp_path, args, name):
    """`-o /dev/stdout >> log.txt` resolved /dev/stdout to log.txt and renamed a temporary
    file over it: the log's earlier lines were lost."""
    log = tmp_path / "log.txt"
    log.write_text("keep\n")
    o = [] if args[-1] == "--trace" else ["-o"]
    with open(log, "a") as out:
        r = proc(*args, *o, name, stdout=out)
    assert r.returncode == 0, r.stderr
    text = log.read_text()
    assert text.startswith("keep\n") and len(text) > 10
    assert sorted(os.listdir(tmp_path)) == ["log.txt"]  # no temporary file, no file '-'


def test_standard_error_and_other_descriptors_are_written_in_place(tmp_path):
    r = proc("eval", "x", "x=1", "--format", "json", "-o", "/dev/stderr")
    assert r.returncode == 0 and r.stdout == b"" and json.loads(r.stderr)
    log = tmp_path / "log.txt"
    log.write_text("keep\n")
    with open(log, "a") as out:
        r = proc("eval", "x", "x=1", "--format", "json", "-o", "/dev/fd/1", stdout=out)
    assert log.read_text().startswith("keep\n{")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        r = proc("eval", "x", "x=1", "--format", "csv", "-o", fifo)
        assert r.returncode == 0, r.stderr
        assert os.read(reader, 1000).startswith(b"id,")
    finally:
        os.close(reader)
    r = proc("eval", "x", "x=1", "-o", "/dev/full")
    one_line_error(r.stderr.decode(), 1, r.returncode)
    assert "No space left" in r.stderr.decode()


# -- eval -o: the suffix chooses the format, as for graph, explain and codegen -------------

@pytest.mark.parametrize("suffix, start", [(".csv", "id,op,"), (".json", '{"program"'),
                                           (".tsv", "id\top\t"), (".md", "| # |")])
def test_eval_o_writes_what_the_suffix_says(tmp_path, suffix, start):
    out = tmp_path / f"single{suffix}"
    r = run("eval", "x", "x=1", "-o", out)
    assert r.exit_code == 0 and r.stdout == "", r.output
    assert out.read_text().startswith(start)


@pytest.mark.parametrize("args", [
    ["eval", "x", "x=1", "-o", "a.csv", "--format", "json"],
    ["eval", "x", "x=1", "-o", "a.xyz"],
    ["eval", "x", "--data", "DATA", "-o", "o.json"],
    ["eval", "x", "--data", "DATA", "-o", "o.parquet", "--format", "csv"],
    ["descend", "(w-1)^2", "w=0", "--trace", "tr.parquet"],
])
def test_a_suffix_that_contradicts_the_format_is_a_usage_error(tmp_path, args):
    data = tmp_path / "d.csv"
    data.write_text("x\n1\n")
    args = [str(data) if a == "DATA" else str(tmp_path / a) if "." in a and a[0] != "("
            else a for a in args]
    r = proc(*args)
    err = r.stderr.decode()
    assert r.returncode == 2 and ("-o " in err or "--trace " in err), err
    assert os.listdir(tmp_path) == ["d.csv"]


def test_eval_data_o_takes_csv_and_parquet(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x\n1\n")
    for name in ("o.csv", "o.pq"):
        assert run("eval", "x", "--data", data, "-o", tmp_path / name).exit_code == 0
    assert (tmp_path / "o.csv").read_text() == "x,f,df_dx\n1,1,1\n"
    assert (tmp_path / "o.pq").read_bytes().startswith(b"PAR1")
