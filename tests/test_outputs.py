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


# -- '-' is standard output; '' and a directory are usage errors ---------------------------

@pytest.mark.parametrize("args, start", [
    (["eval", "x", "--data", "DATA"], b"x,f,df_dx"),
    (["codegen", "x*y"], b"def f_grad"),
    (["graph", "x*y"], b"flowchart"),
    (["explain", "x*y", "x=1", "y=2"], b"Forward pass"),
    (["eval", "x", "x=1", "--format", "json"], b'{"program"'),
], ids=lambda a: a[0] if isinstance(a, list) else "")
def test_dash_o_is_standard_output(tmp_path, args, start):
    data = tmp_path / "d.csv"
    data.write_text("x\n1\n")
    args = [str(data) if a == "DATA" else a for a in args]
    r = proc(*args, "-o", "-", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(start)
    assert os.listdir(tmp_path) == ["d.csv"]  # no file named '-'


@pytest.mark.parametrize("target", ["", "nod/", "DIR"])
@pytest.mark.parametrize("args", [["eval", "x", "x=1", "-o"], ["codegen", "x", "-o"],
                                  ["graph", "x", "-o"], ["explain", "x", "x=1", "-o"],
                                  ["descend", "(w-1)^2", "w=0", "--trace"]],
                         ids=lambda a: a[0])
def test_an_empty_name_or_a_directory_is_a_usage_error(tmp_path, args, target):
    (tmp_path / "dir").mkdir()
    r = proc(*args, "dir" if target == "DIR" else target, cwd=tmp_path)
    one_line_error(r.stderr.decode(), 2, r.returncode)
    assert sorted(os.listdir(tmp_path)) == ["dir"] and not os.listdir(tmp_path / "dir")


# -- a usage error is one line, the hint on it ---------------------------------------------

@pytest.mark.parametrize("args, hint", [
    (["eval", "x", "x=1", "--digits", "0"], "cgraph eval --help"),
    (["eval"], "cgraph eval --help"),
    (["eval", "x", "x=1", "--fromat", "json"], "cgraph eval --help"),
    (["frobnicate"], "cgraph --help"),
    (["graph", "x", "--direction", "UP"], "cgraph graph --help"),
    (["descend", "(w-1)^2", "w=0", "--epochs", "3"], "cgraph descend --help"),
], ids=" ".join)
def test_a_usage_error_is_one_line_with_its_hint(args, hint):
    r = proc(*args)
    err = r.stderr.decode()
    one_line_error(err, 2, r.returncode)
    assert err.startswith("Error: ") and err.rstrip().endswith(f"(see '{hint}')")
    assert "Usage:" not in err and r.stdout == b""


def test_help_version_and_no_arguments_are_as_before():
    r = proc("eval", "--help")
    assert r.returncode == 0 and r.stdout.startswith(b"Usage: cgraph eval")
    r = proc("--version")
    assert r.returncode == 0 and b"cgraph" in r.stdout
    r = proc()  # the help, on standard error: no command given
    assert r.returncode == 2 and b"Commands:" in r.stderr
    r = run("eval", "x", "x=1", "--digits", "0")  # click's test runner too
    assert r.exit_code == 2 and r.stderr.startswith("Error: Invalid value for '--digits': "
                                                    "0 is not in the range 1<=x<=17 (see ")
    assert r.stderr.endswith(" eval --help')\n") and r.stderr.count("\n") == 1


# -- small ones ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["graph", "2", "--grads"], "the program has none"),
    (["check", "2"], "no variables"),
    (["check", "2", "--hessian"], "no variables"),
    (["diff", "2"], "no variables"),
])
def test_a_program_without_variables_says_so(args, message):
    r = run(*args)
    assert r.exit_code == 2 and r.stdout == "" and message in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1 and not r.stderr.rstrip().endswith("e.g.")


def test_one_field_is_singular(tmp_path):
    for text in ("x,y\n1,2\n3\n", 'x,y\n1,2\n"3"\n'):  # the fast reader and the csv one
        data = tmp_path / "ragged.csv"
        data.write_text(text)
        r = run("eval", "x*y", "--data", data)
        assert r.exit_code == 2 and "line 3: 1 field, but the header has 2" in r.stderr
