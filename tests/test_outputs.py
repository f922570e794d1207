"""Where -o writes: a regular file replaced whole, a stream written as the shell opened it,
the format from the suffix, '-' for standard output, and usage errors in one line. Each test
here failed before the fix it goes with."""

from __future__ import annotations

import json
import os
import threading

import pytest

from test_hardening import one_line_error, proc, run

APPENDING = [
    ["eval", "x", "x=1"],
    ["codegen", "x^2"],
    ["explain", "x*y", "x=1", "y=2"],
    ["graph", "x*y", "--format", "dot"],
]  # (descend --trace may not take standard output, its result's: --trace /dev/stderr
#    appends as the shell opened it, test_descend.py)


@pytest.mark.parametrize("args", APPENDING, ids=lambda a: a[0])
@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "-"])
def test_writing_to_standard_output_appends_where_the_shell_appends(tmp_path, args, name):
    """`-o /dev/stdout >> log.txt` resolved /dev/stdout to log.txt and renamed a temporary
    file over it: the log's earlier lines were lost."""
    log = tmp_path / "log.txt"
    log.write_text("keep\n")
    with open(log, "a") as out:
        r = proc(*args, "-o", name, stdout=out)
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


# -- -o FILE: one rule for every command (cli_support.by_suffix) --------------------------

EVAL = ["eval", "p = x + y; g = p * z", "x=1", "y=3", "z=-3"]
GRAPH = ["graph", "(x+y)*z", "x=1", "y=3", "z=-3"]
EXPLAIN = ["explain", "(x+y)*z", "x=1", "y=3", "z=-3"]
CODEGEN = ["codegen", "x^2*y"]
DATA = ["eval", "x*y", "y=2", "--data", "DATA"]
TRACE = ["descend", "(w-1)^2", "w=0", "--steps", "2"]

# (command, option, file name, the format option, a value of it the file holds (None: the
# option does not apply), what the file begins with): one row per kind of file
WRITES = [
    (EVAL, "-o", "r.tsv", "--format", "tsv", b"id\top\tname"),
    (EVAL, "-o", "r.csv", "--format", "csv", b"id,op,name"),
    (EVAL, "-o", "r.json", "--format", "json", b'{"program": "p = x + y'),
    (EVAL, "-o", "r.md", "--format", "markdown", b"| # | node |"),
    (EVAL, "-o", "r.txt", "--format", "table", "p = x + y; g = p * z\n# ┃ node".encode()),
    (GRAPH, "-o", "g.mmd", "--format", "mermaid", b"flowchart LR"),
    (GRAPH, "-o", "g.md", "--format", "mermaid", b"```mermaid\nflowchart LR"),
    (GRAPH, "-o", "g.gv", "--format", "dot", b"digraph cgraph {"),
    (GRAPH, "-o", "g.html", "--format", "html", b"<!doctype html>"),
    (GRAPH, "-o", "g.svg", "--format", "dot", b"<?xml"),
    (GRAPH, "-o", "g.png", "--format", "dot", b"\x89PNG"),
    (EXPLAIN, "-o", "w.txt", "--format", "text", b"Forward pass\n  x = 1"),
    (EXPLAIN, "-o", "w.txt", "--format", "rich", b"Forward pass\n  x = 1"),
    (EXPLAIN, "-o", "w.md", "--format", "markdown", b"### Forward pass"),
    (EXPLAIN, "-o", "w.html", "--format", "html", b"<!doctype html>"),
    (CODEGEN, "-o", "g.py", "--lang", "python", b"import math\n"),
    (CODEGEN, "-o", "g.py", "--lang", "numpy", b"import numpy as np"),
    (CODEGEN, "-o", "g.c", "--lang", "c", b"#include <math.h>"),
    (CODEGEN, "-o", "g.mjs", "--lang", "js", b"/**\n * f_grad(x, y)"),
    (DATA, "-o", "o.csv", "--format", "csv", b"x,f,df_dx\n1,2,2\n"),
    (DATA, "-o", "o.parquet", "--format", None, b"PAR1"),
    (TRACE, "--trace", "t.csv", "--format", None, b"step,cost,w,grad_w\n1,"),
]
# each kind of file without the format option (its first row), and with each value of it
WRITTEN = ([(row, False) for row in {(r[0][0], r[2]): r for r in reversed(WRITES)}.values()]
           + [(row, True) for row in WRITES if row[4] is not None])


def _cli(args, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x\n1\n")
    return [str(data) if a == "DATA" else a for a in args]


def _ids(row):
    return f"{row[0][0]}{' --data' if '--data' in row[0] else ''} {row[1]} {row[2]} " \
           f"{row[3]} {row[4]}"


@pytest.mark.parametrize("row, given", WRITTEN,
                         ids=lambda x: _ids(x) if isinstance(x, tuple) else str(x))
def test_the_suffix_chooses_and_an_agreeing_format_is_the_same(tmp_path, row, given):
    """Without --format (codegen: --lang) the suffix chooses what the file holds; a format
    the file can hold writes the same thing (`-o g.svg --format dot` draws the DOT)."""
    args, option, name, flag, fmt, start = row
    r = proc(*_cli(args, tmp_path), option, tmp_path / name, *([flag, fmt] if given else []))
    assert r.returncode == 0 and (r.stdout == b"" or option == "--trace"), r.stderr
    assert (tmp_path / name).read_bytes().startswith(start)


# (command, option, file name, format option and a value the file cannot hold, the error)
CONTRADICTIONS = [
    (EVAL, "-o", "r.csv", "--format", "json",
     "-o R/r.csv is a csv file, but --format is json; json goes to .json files"),
    (EVAL, "-o", "r.txt", "--format", "tsv",
     "-o R/r.txt is a text file (--format table), but --format is tsv; tsv goes to .tsv "
     "files"),
    (EVAL, "-o", "r.csv", "--fields", "value",
     "-o R/r.csv is a csv file, but --fields writes json; json goes to .json files"),
    (GRAPH, "-o", "g.svg", "--format", "mermaid",
     "-o R/g.svg is an image file (--format dot), but --format is mermaid; mermaid goes to "
     ".mmd, .mermaid, .md or .markdown files"),
    (GRAPH, "-o", "g.md", "--format", "dot",
     "-o R/g.md is a markdown file (--format mermaid), but --format is dot; dot goes to "
     ".dot, .gv, .svg, .png or .pdf files"),
    (GRAPH, "-o", "g.dot", "--format", "html",
     "-o R/g.dot is a dot file, but --format is html; html goes to .html or .htm files"),
    (EXPLAIN, "-o", "w.md", "--format", "text",
     "-o R/w.md is a markdown file, but --format is text; text goes to .txt files"),
    (EXPLAIN, "-o", "w.html", "--diagrams", None,
     "-o R/w.html is an html file, but --diagrams writes markdown; markdown goes to .md or "
     ".markdown files"),
    (EXPLAIN, "-o", "w.txt", "--format", "html",
     "-o R/w.txt is a text file (--format text or rich), but --format is html; html goes "
     "to .html or .htm files"),
    (CODEGEN, "-o", "g.py", "--lang", "c",
     "-o R/g.py is a python file (--lang python or numpy), but --lang is c; c goes to .c "
     "files"),
    (CODEGEN, "-o", "g.c", "--lang", "js",
     "-o R/g.c is a c file, but --lang is js; js goes to .js or .mjs files"),
    (DATA, "-o", "o.parquet", "--format", "csv",
     "-o R/o.parquet is a parquet file, but --format is csv; csv goes to .csv files"),
    # a suffix the command does not write, or none
    (EVAL, "-o", "r.xyz", None, None, "-o R/r.xyz: cgraph eval (without --data) writes "
     ".tsv, .csv, .json, .md, .markdown or .txt files, not '.xyz'"),
    (EVAL, "-o", "r.parquet", None, None, "-o R/r.parquet: cgraph eval (without --data) "
     "writes .tsv, .csv, .json, .md, .markdown or .txt files, not '.parquet'"),
    (EVAL, "-o", "results", "--format", "json", "-o R/results: cgraph eval (without --data) "
     "writes .tsv, .csv, .json, .md, .markdown or .txt files, not a name without a suffix"),
    (DATA, "-o", "o.json", None, None,
     "-o R/o.json: cgraph eval --data writes .csv, .parquet or .pq files, not '.json'"),
    (GRAPH, "-o", "g.jpg", None, None, "-o R/g.jpg: cgraph graph writes .mmd, .mermaid, "
     ".md, .markdown, .dot, .gv, .html, .htm, .svg, .png or .pdf files, not '.jpg'"),
    (EXPLAIN, "-o", "w.log", "--format", "text", "-o R/w.log: cgraph explain writes .txt, "
     ".md, .markdown, .html or .htm files, not '.log'"),
    (CODEGEN, "-o", "g.txt", None, None,
     "-o R/g.txt: cgraph codegen writes .py, .c, .js or .mjs files, not '.txt'"),
    (TRACE, "--trace", "t.parquet", None, None,
     "--trace R/t.parquet: cgraph descend --trace writes .csv files, not '.parquet'"),
]


@pytest.mark.parametrize("row", CONTRADICTIONS, ids=lambda row: _ids(row).replace("R/", ""))
def test_a_suffix_the_command_does_not_write_or_that_contradicts_is_a_usage_error(
        tmp_path, row):
    """The same rule and the same words for every command: `explain --format text -o
    walk.md` wrote plain text into walk.md, where `eval --format json -o out.csv` was
    refused."""
    args, option, name, flag, value, message = row
    given = [flag] + ([value] if value else []) if flag else []
    r = proc(*_cli(args, tmp_path), option, tmp_path / name, *given)
    err = r.stderr.decode()
    one_line_error(err, 2, r.returncode)
    assert err == (f"Error: {message.replace('R/', str(tmp_path) + '/')} "
                   f"(see 'cgraph {args[0]} --help')\n")
    assert r.stdout == b"" and os.listdir(tmp_path) == ["d.csv"]


def test_a_special_file_takes_the_format_whatever_its_name(tmp_path):
    """A named pipe called out.csv is not a CSV file: --format decides, as for '-'."""
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    done = []
    reader = threading.Thread(target=lambda: done.append(fifo.read_bytes()))
    reader.start()
    r = proc("eval", "x", "x=1", "--format", "json", "-o", fifo)
    reader.join(30)
    assert r.returncode == 0, r.stderr
    assert json.loads(done[0])["value"] == 1.0


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
    assert r.exit_code == 2 and r.stderr.startswith("Error: --digits: 0 is out of range "
                                                    "(1 to 17) (see ")
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
