"""Issue 10: on a terminal, on a full disk, under Ctrl-C and with hostile files, cgraph ends
in one line and loses nothing. Each test here failed before the fix it goes with."""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from cgraph.cli import cli
from terminal import env_for, on_terminal

PY = [sys.executable, "-m", "cgraph"]


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def proc(*args, input=None, env=None, stdout=subprocess.PIPE, cwd=None):
    return subprocess.run([*PY, *map(str, args)], input=input, stdout=stdout,
                          stderr=subprocess.PIPE, env=env_for(env), cwd=cwd)


def one_line_error(stderr: str, code: int, status: int) -> None:
    assert status == code, stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


# -- every reader: UTF-8, a byte-order mark accepted, a bad byte named by line and column ---

BAD = b"x,y\n1,2\n3,\xff4\n"


@pytest.mark.parametrize("how", ["file", "stdin", "eval-data", "descend-data",
                                 "eval-data-stdin"])
def test_a_byte_that_is_not_utf8_is_one_line_naming_line_and_column(tmp_path, how):
    if how == "file":
        p = tmp_path / "p.cg"
        p.write_bytes(b"y = x + 1\nx \xe9 2\n")
        r = proc("eval", "--file", p, "x=1")
        where = f"{p}, line 2, column 3"
    elif how == "stdin":
        r = proc("eval", "-", "x=1", input=b"x +\n \xc3( 1")
        where = "standard input, line 2, column 2"
    else:
        data = tmp_path / "d.csv"
        data.write_bytes(BAD)
        command = "eval" if how.startswith("eval") else "descend"
        source = "-" if how.endswith("stdin") else data
        r = proc(command, "(w*x - y)^2", "w=1", "--data", source, input=BAD)
        where = f"{'standard input' if source == '-' else data}, line 3, column 3"
    stderr = r.stderr.decode()
    one_line_error(stderr, 2, r.returncode)
    assert where in stderr and "0xff" in stderr or "0xe9" in stderr or "0xc3" in stderr
    assert r.stdout == b""


@pytest.mark.parametrize("how", ["file", "stdin", "bindings"])
def test_a_bad_byte_after_a_byte_order_mark_is_named_where_it_is(tmp_path, how):
    """The mark was dropped by the utf-8-sig codec, whose error positions leave it out:
    the message named the byte 3 places before the bad one (0x20, column 2)."""
    data = b"\xef\xbb\xbfx = 1\ny = \xff\n"
    (tmp_path / "p.cg").write_bytes(data)
    args = {"file": ["--file", tmp_path / "p.cg"], "stdin": ["-"],
            "bindings": ["x*y", "--bindings", tmp_path / "p.cg"]}[how]
    r = proc("eval", *args, input=data)
    one_line_error(r.stderr.decode(), 2, r.returncode)
    assert "line 2, column 5: byte 0xff is not UTF-8" in r.stderr.decode()


@pytest.mark.parametrize("args, where", [
    ([b"x\xe9 * 2", b"x\xe9=1"], "the argument 'x\ufffd * 2', column 2: byte 0xe9"),
    ([b"x * 2", b"x=1\xff"], "the argument 'x=1\ufffd', column 4: byte 0xff"),
    ([b"--file", b"/dev/null", b"\xe9=1"], "the argument '\ufffd=1', column 1: byte 0xe9"),
])
def test_an_argument_that_is_not_utf8_names_its_byte(args, where):
    """A program or binding typed on a Latin-1 terminal: the parser said "unexpected
    character '\\udce9'"."""
    r = subprocess.run([*map(os.fsencode, PY), b"eval", *args], capture_output=True,
                       env=env_for())
    stderr = r.stderr.decode()
    one_line_error(stderr, 2, r.returncode)
    assert stderr.startswith(f"Error: {where} is not UTF-8"), stderr


@pytest.mark.parametrize("how", ["file", "stdin", "eval-data", "descend-data"])
def test_a_byte_order_mark_is_accepted(tmp_path, how):
    bom = b"\xef\xbb\xbf"
    if how == "file":
        p = tmp_path / "p.cg"
        p.write_bytes(bom + "θ = x*2\n".encode())
        r = proc("eval", "--file", p, "x=1", "--format", "json")
        assert json.loads(r.stdout)["output"] == "θ"
    elif how == "stdin":
        r = proc("eval", "-", "x=3", "--format", "json", input=bom + b"x^2")
        assert json.loads(r.stdout)["value"] == 9
    else:
        data = tmp_path / "d.csv"
        data.write_bytes(bom + b"x,y\n1,2\n2,4\n")
        if how == "eval-data":
            r = proc("eval", "x*y", "--data", data)
            assert r.stdout.decode().splitlines() == ["x,y,f,df_dx,df_dy", "1,2,2,2,1",
                                                      "2,4,8,4,2"]
        else:
            r = proc("descend", "(w*x - y)^2", "w=0", "--data", data, "--epochs", "300",
                     "--lr", "0.1")
            assert abs(json.loads(r.stdout)["weights"]["w"] - 2) < 1e-6
    assert r.returncode == 0, r.stderr


# -- CSV as RFC 4180 writes it (Excel, R's write.csv) --------------------------------------

def test_quoted_header_and_fields_as_r_writes_them(tmp_path):
    # write.csv(data.frame(x=c(1.5, 2), y=c(3, -1), label=c("a, b", 'say "hi"')))
    data = tmp_path / "r.csv"
    data.write_text('"","x","y","label"\n"1",1.5,3,"a, b"\n"2",2,-1,"say ""hi"""\n')
    r = run("eval", "x*y", "--data", data)
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == ["x,y,f,df_dx,df_dy", "1.5,3,4.5,3,1.5",
                                     "2,-1,-2,-1,2"]


def test_quoted_field_with_a_line_break_and_line_numbers_after_it(tmp_path):
    data = tmp_path / "q.csv"
    data.write_text('note,x\n"two\nlines",1\n\n"ok",oops\n')
    r = run("eval", "x^2", "--data", data)
    assert r.exit_code == 2 and f"{data}, line 5, column 'x': 'oops'" in r.stderr
    data.write_text('note,x\n"two\nlines",1\n"three",3\n')
    assert run("eval", "x^2", "--data", data).stdout.splitlines()[1:] == ["1,1,2", "3,9,6"]
    data.write_text('note,x\n"open,1\n')
    r = run("eval", "x^2", "--data", data)
    assert r.exit_code == 2 and "not closed" in r.stderr and r.stdout == ""


@pytest.mark.parametrize("quoted", [False, True])
def test_line_numbers_in_data_errors_count_blank_lines(tmp_path, quoted):
    q = '"' if quoted else ""
    data = tmp_path / "d.csv"
    data.write_text(f"x,y\n1,2\n\n\n{q}3{q},4\n5,z\n")
    r = run("eval", "x+y", "--data", data)
    assert r.exit_code == 2 and f"{data}, line 6, column 'y': 'z'" in r.stderr
    data.write_text(f"x,y\n\n1,2\n\n{q}3{q}\n")
    r = run("eval", "x+y", "--data", data)
    assert r.exit_code == 2 and f"{data}, line 5: 1 field," in r.stderr


# -- every write: a temp file beside the target, renamed; never onto an input --------------

def test_a_full_disk_leaves_the_old_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "g.mmd"
    target.write_text("the old diagram\n")
    written = []

    def full_disk(fh, data):
        if written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        fh.write(data[:10])  # part of it went to disk, then the disk was full
        written.append(data)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    from cgraph import files

    monkeypatch.setattr(files, "_write", full_disk)
    r = run("graph", "(x+y)*z", "-o", target)
    assert r.exit_code == 1 and r.stderr == f"Error: cannot write {target}: " \
        "No space left on device\n"
    assert target.read_text() == "the old diagram\n"
    assert os.listdir(tmp_path) == ["g.mmd"]  # no temp file left behind


def test_a_trace_cut_by_a_full_disk_is_not_left_in_place(tmp_path, monkeypatch):
    trace = tmp_path / "run.csv"
    calls = []

    def full_after_100_rows(fh, data):
        calls.append(1)
        if len(calls) > 100:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        fh.write(data)

    from cgraph import files

    monkeypatch.setattr(files, "_write", full_after_100_rows)
    r = run("descend", "(w-3)^2", "w=0", "--trace", trace)
    assert r.exit_code == 1 and r.stderr.startswith(f"Error: cannot write {trace}")
    assert os.listdir(tmp_path) == []


def test_writes_keep_the_permissions_and_replace_whole(tmp_path):
    target = tmp_path / "g.dot"
    target.write_text("old")
    os.chmod(target, 0o640)
    assert run("graph", "x*y", "-o", target).exit_code == 0
    assert target.read_text().startswith("digraph") and (target.stat().st_mode & 0o777) == 0o640
    fresh = tmp_path / "new.mmd"
    assert run("graph", "x*y", "-o", fresh).exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("args", [
    ["eval", "x*y", "x=1", "y=2", "-o", "out.tsv"],
    ["eval", "x*y", "--data", "in.csv", "-o", "out.csv"],
    ["graph", "x*y", "-o", "out.dot"],
    ["explain", "x*y", "x=1", "y=2", "-o", "out.md"],
    ["codegen", "x*y", "-o", "out.py"],
    ["descend", "(w-3)^2", "w=0", "--trace", "out.csv"],
])
def test_a_read_only_file_is_not_replaced(tmp_path, args):
    """`-o` onto a file someone made read-only (chmod 444) is refused, as `>` refuses it;
    the rename of the temporary file would have replaced it (the directory is writable)."""
    (tmp_path / "in.csv").write_text("x,y\n1,2\n")
    target = tmp_path / args[-1]
    target.write_text("keep me\n")
    os.chmod(target, 0o444)
    r = proc(*args, cwd=tmp_path)
    err = r.stderr.decode()
    one_line_error(err, 1, r.returncode)
    assert err == (f"Error: cannot write {args[-1]}: the file is read-only (make it writable "
                   "with chmod u+w, or choose another file)\n")
    assert target.read_text() == "keep me\n" and (target.stat().st_mode & 0o777) == 0o444
    assert sorted(os.listdir(tmp_path)) == sorted({"in.csv", args[-1]})  # no temp file
    os.chmod(target, 0o644)  # writable again: written as before
    assert proc(*args, cwd=tmp_path).returncode == 0 and target.read_text() != "keep me\n"


def test_never_onto_an_input_of_the_same_command(tmp_path):
    data = tmp_path / "same.csv"
    data.write_text("x,y\n1,2\n2,4\n")
    r = run("descend", "(w*x-y)^2", "w=0", "--data", data, "--trace", data)
    assert r.exit_code == 2 and "also an input" in r.stderr
    assert data.read_text() == "x,y\n1,2\n2,4\n"
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    r = run("descend", "(w*x-y)^2", "w=0", "--data", link, "--trace", data)
    assert r.exit_code == 2 and data.read_text() == "x,y\n1,2\n2,4\n"
    program = tmp_path / "p.mmd"
    program.write_text("x*y")
    r = run("graph", "--file", program, "-o", program)
    assert r.exit_code == 2 and program.read_text() == "x*y"


@pytest.mark.parametrize("args, name", [
    (["eval", "x*2"], "b.txt"), (["eval", "x*2", "--format", "tsv"], "b.tsv"),
    (["explain", "x*2"], "b.md"), (["graph", "x*2"], "b.mmd"),
    (["descend", "(x-1)^2", "--steps", "2"], "b.csv"),
])
def test_never_onto_its_bindings_file(tmp_path, args, name):
    """`eval x*2 --bindings b.txt -o b.txt` replaced the bindings with the table."""
    bindings = tmp_path / name
    bindings.write_text("x = 1\n")
    r = run(*args, "--bindings", bindings, "--trace" if args[0] == "descend" else "-o",
            bindings)
    assert r.exit_code == 2 and "is also an input of this command" in r.stderr, r.output
    assert bindings.read_text() == "x = 1\n"


@pytest.mark.parametrize("name", ["g.jpg", "g", "g.txt"])
def test_an_unknown_output_suffix_is_a_usage_error(tmp_path, name):
    r = run("graph", "x*y", "-o", tmp_path / name)
    assert r.exit_code == 2 and "cgraph graph writes" in r.stderr and os.listdir(tmp_path) == []
    r = run("graph", "x*y", "-o", tmp_path / "g.mmd", "--format", "dot")
    assert r.exit_code == 2 and os.listdir(tmp_path) == []


def test_trace_is_streamed_not_kept(tmp_path):
    from cgraph import parse
    from cgraph.descend import descend

    seen = []
    run_ = descend(parse("(w-3)^2"), {"w": 0.0}, ["w"], lr=1e-4, steps=20_000,
                   trace=seen.append)
    assert len(seen) == 20_000 and len(run_.history) <= 201


def test_divergence_keeps_the_trace_so_far(tmp_path):
    trace = tmp_path / "run.csv"
    r = run("descend", "x^2", "x=1", "--lr", "1.5", "--trace", trace)
    assert r.exit_code == 1 and "diverged" in r.stderr
    rows = list(csv.reader(io.StringIO(trace.read_text())))
    assert rows[0] == ["step", "cost", "x", "grad_x"] and len(rows) > 100
    assert all(len(row) == 4 for row in rows) and rows[-1][0] == str(len(rows) - 1)
    assert os.listdir(tmp_path) == ["run.csv"]


# -- standard output: a full disk, a closed pipe, an encoding that is not UTF-8 ------------

FULL = [["--help"], ["--version"], ["eval", "--help"], ["eval", "x*y", "x=1", "y=2"],
        ["graph", "x*y"], ["diff", "x^2"], ["explain", "x*y", "x=1", "y=2"],
        ["check", "x*y", "x=1", "y=2"], ["descend", "(w-1)^2", "w=0", "--steps", "3"]]


@pytest.mark.parametrize("args", FULL, ids=" ".join)
def test_a_full_disk_on_standard_output_is_one_line_exit_1(args):
    with open("/dev/full", "w") as full:
        r = proc(*args, stdout=full)
    stderr = r.stderr.decode()
    one_line_error(stderr, 1, r.returncode)
    assert "No space left on device" in stderr


@pytest.mark.parametrize("args", FULL + [["help", "eval"], ["eval", "x"]], ids=" ".join)
def test_a_closed_standard_output_or_error_is_no_internal_error(args, tmp_path):
    """A script's `cgraph … >&-` (standard output closed: Python's sys.stdout is None) was
    "internal error, a bug in cgraph: AttributeError: 'NoneType' object has no attribute
    'isatty'" and a traceback, for every command, --help and --version too; with standard
    error closed (`2>&-`) a good run exited 1 and a usage error 1; `eval - <&-` was an
    internal error (70). Now a closed standard output is what a full disk is (one line,
    exit 1; nothing to write, nothing said), a closed standard error changes no exit
    status, and a closed standard input reads as empty, as /dev/null does."""
    import shlex

    command = " ".join(map(shlex.quote, [*PY, *map(str, args)]))
    fine = proc(*args, stdout=subprocess.DEVNULL).returncode
    closed = subprocess.run(["bash", "-c", command + " >&-"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env_for(), cwd=tmp_path)
    stderr = closed.stderr.decode()
    if fine == 0:
        one_line_error(stderr, 1, closed.returncode)
        assert stderr.startswith("Error: cannot write to standard output: "), stderr
    else:  # it failed before writing anything: the same status, the same one line
        one_line_error(stderr, fine, closed.returncode)
    no_err = subprocess.run(["bash", "-c", command + " 2>&-"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env_for(), cwd=tmp_path)
    assert no_err.returncode == fine and no_err.stderr == b""
    if fine == 0:
        assert no_err.stdout == proc(*args).stdout
    # standard input closed: it reads as empty, as /dev/null does
    no_in = subprocess.run(["bash", "-c", command + " <&-"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env_for(), cwd=tmp_path)
    assert no_in.returncode == fine and "Traceback" not in no_in.stderr.decode()
    if args[:2] == ["eval", "x*y"]:
        for read in (["eval", "-", "x=1"], ["eval", "x*y", "--data", "-", "y=1"]):
            empty = subprocess.run(["bash", "-c", " ".join([*PY, *read]) + " <&-"],
                                   capture_output=True, env=env_for(), cwd=tmp_path)
            one_line_error(empty.stderr.decode().split("\n  ")[0], 2, empty.returncode)
            assert subprocess.run(["bash", "-c", " ".join([*PY, *read]) + " </dev/null"],
                                  capture_output=True, env=env_for()).stderr == empty.stderr
    # standard output closed, the result written to a file: it works
    if args[0] == "eval" and len(args) > 2:
        done = subprocess.run(["bash", "-c", command + " -o out.tsv >&-"],
                              stderr=subprocess.PIPE, env=env_for(), cwd=tmp_path)
        assert done.returncode == 0 and done.stderr == b""
        assert (tmp_path / "out.tsv").read_text().startswith("id\top")


def test_the_exit_skips_the_shutdown_but_not_atexit_handlers_nor_profilers(tmp_path):
    """cgraph ends with os._exit (entry.leave): what a library registered with atexit still
    runs, a thread still running still finishes, and a profiler, which reports as the
    interpreter shuts down, still reports."""
    main = ("import atexit, sys; atexit.register(print, 'atexit ran', file=sys.stderr); "
            "sys.argv = ['cgraph'] + sys.argv[1:]; from cgraph.__main__ import main; main()")
    r = subprocess.run([sys.executable, "-c", main, "graph", "x*y", "-o", tmp_path / "g.mmd"],
                       capture_output=True, text=True, env=env_for())
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "atexit ran\n")
    assert (tmp_path / "g.mmd").read_text().startswith("flowchart")
    late = ("import sys, threading, time; threading.Thread(target=lambda: (time.sleep(0.3), "
            "print('thread done', file=sys.stderr))).start(); "
            "sys.argv = ['cgraph'] + sys.argv[1:]; from cgraph.__main__ import main; main()")
    r = subprocess.run([sys.executable, "-c", late, "eval", "x*y", "x=1", "y=2", "--format",
                        "json"], capture_output=True, text=True, env=env_for())
    assert r.returncode == 0 and r.stderr == "thread done\n" and json.loads(r.stdout)
    r = subprocess.run([sys.executable, "-m", "cProfile", "-m", "cgraph", "eval", "x*y", "x=1",
                        "y=3"], capture_output=True, text=True, env=env_for())
    assert r.returncode == 0 and "function calls" in r.stdout and "x * y" in r.stdout


def test_a_result_is_freed_when_the_process_goes_on(monkeypatch):
    """A command's result is held until os._exit ends the process (entry.keep: freeing a
    big graph object by object only costs time there); a command run where the process
    goes on (a test, a script calling cli.main) frees it as it returns."""
    import gc
    import weakref

    from cgraph import cli_support

    refs = []
    emit = cli_support.Output.emit
    monkeypatch.setattr(cli_support.Output, "emit",
                        lambda self, result, *a: refs.append(weakref.ref(result))
                        or emit(self, result, *a))
    assert run("eval", "x*y", "x=1", "y=2", "--format", "json").exit_code == 0
    gc.collect()
    assert len(refs) == 1 and refs[0]() is None


def test_a_full_disk_under_eval_data(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x\n" + "".join(f"{i}\n" for i in range(200_000)))
    with open("/dev/full", "w") as full:
        r = proc("eval", "x^2", "--data", data, stdout=full)
    one_line_error(r.stderr.decode(), 1, r.returncode)


@pytest.mark.parametrize("args", [
    ["eval", "x*θ", "x=1", "θ=2", "--format", "table"],
    ["eval", "x*θ", "x=1", "θ=2", "--format", "csv"],
    ["check", "x^2", "x=1", "--format", "table"],
    ["explain", "x*y", "x=1", "y=2", "--format", "rich"],
    ["descend", "(w-1)^2", "w=0", "--format", "table"],
    ["diff", "x^2", "--order", "2"],
])
def test_an_ascii_terminal_gets_ascii_spellings(args):
    r = proc(*args, env={"PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.isascii() and b"\\u03b8" in r.stdout if "θ=2" in args else True


@pytest.mark.parametrize("lang", ["python", "numpy"])
def test_code_generated_for_an_ascii_terminal_still_runs(lang, tmp_path):
    """`codegen "θ*x" --lang python` on an ASCII standard output wrote `def f_grad(\u03b8,
    x):`, a SyntaxError: `\u03b8` is JSON's spelling, and no Python name (C spells θ
    `_u03b8`, JS reads `\u03b8` in a name). Python names are spelled as C's there; in its
    docstring the escape is Python's own. The function computes what the UTF-8 one does."""
    program = "损失 = θ*x + sin(ｘ*θ)"
    ascii_code = proc("codegen", program, "--lang", lang, env=ASCII)
    assert ascii_code.returncode == 0 and ascii_code.stdout.isascii(), ascii_code.stderr
    utf8_code = proc("codegen", program, "--lang", lang)
    results = []
    for code in (ascii_code.stdout, utf8_code.stdout):
        space: dict = {}
        exec(compile(code.decode("utf-8"), "generated.py", "exec"), space)
        results.append(space["f_grad"](0.5, 2.0, -1.5))
    value, grad = results[0]
    assert (float(value), [float(g) for g in grad]) == \
        (float(results[1][0]), [float(g) for g in results[1][1]])
    path = tmp_path / "grad.py"  # an -o file is UTF-8: the names as they are
    assert proc("codegen", program, "--lang", lang, "-o", path, env=ASCII).returncode == 0
    assert path.read_bytes() == utf8_code.stdout


@pytest.mark.renderers
def test_a_diagram_for_an_ascii_terminal_draws_its_names(tmp_path):
    """`graph "θ*x"` on an ASCII standard output wrote `n0["\\u03b8 = 1"]` (and ∂ as `d`):
    Mermaid and Graphviz drew the six characters. A character ASCII lacks is the renderer's
    entity code there (`#952;`, `&#952;`), which both draw as θ; an -o file stays UTF-8."""
    import renderers

    renderers.require_dot()
    renderers.require_mmdc()
    args = ["graph", "y = θ*x", "θ=1", "x=2", "--grads"]
    shown = {"θ = 1", "∂y/∂θ = 2", "∂y/∂x = 1"}
    mmd = proc(*args, env=ASCII)
    assert mmd.returncode == 0 and mmd.stdout.isascii(), mmd.stderr
    assert b'n0["#952; = 1"]' in mmd.stdout
    (tmp_path / "g.mmd").write_bytes(mmd.stdout)
    done = renderers.mermaid_renders([tmp_path / "g.mmd"], boxes=True)
    assert done.returncode == 0, done.stderr
    measured = renderers.mermaid_boxes(tmp_path / "g.mmd")
    texts = {t["text"] for t in measured["nodes"] + measured["labels"]}
    assert shown <= texts, texts
    dot = proc(*args, "--format", "dot", env=ASCII)
    assert dot.returncode == 0 and dot.stdout.isascii(), dot.stderr
    svg = subprocess.run(["dot", "-Tsvg"], input=dot.stdout, capture_output=True, check=True)
    assert all(text.encode() in svg.stdout for text in ("θ", "∂y/∂θ = 2")), svg.stdout
    assert proc(*args, "-o", tmp_path / "file.mmd", env=ASCII).returncode == 0
    assert 'n0["θ = 1"]' in (tmp_path / "file.mmd").read_text(encoding="utf-8")


def test_an_ascii_terminal_reads_plus_minus_as_the_binding_writes_it():
    """On an ASCII terminal eval's uncertainty came out as 'f = 6 \\u00b1 0.5': ± is no
    character of a name (the \\u escape keeps names such as θ exact in JSON), so it gets
    the spelling a binding takes, +-: 'f = 6 +- 0.5'. (σ may be a name, which JSON must
    keep exact: the σ column's header is spelled at the source, below.)"""
    r = proc("eval", "x*y", "x=2+-0.1", "y=3+-0.2", "--format", "table",
             env={"PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0 and r.stdout.isascii(), r.stderr
    assert b"f = 6 +- 0.5" in r.stdout and b"\\u00b1" not in r.stdout


ASCII = {"PYTHONIOENCODING": "ascii"}


@pytest.mark.parametrize("width", [40, 80])
def test_an_ascii_terminal_reads_cgraphs_notation_in_words_and_a_names_letters_exactly(width):
    """On an ASCII terminal σ, ᵢ, ⱼ and forward mode's dot came out as \\u03c3, \\u1d62,
    \\u2c7c, \\u1e1f: the codec cannot tell cgraph's notation from a name's letter. Where
    cgraph writes them (help, the σ heading, the dot on a tangent) they are words now
    (sigma, _i, _j, x'); a name's own letters keep their exact escape, and JSON stays
    exact."""
    table = on_terminal(["eval", "x*y", "x=2+-0.1", "y=3+-0.2"], width, ASCII)
    assert table.status == 0 and table.screen.isascii(), table.stderr
    assert re.search(r"^(# .*\| )?sigma\b", table.screen, re.M) and "\\u" not in table.screen
    forward = on_terminal(["explain", "σ*y", "σ=2", "y=3", "--mode", "forward",
                           "--format", "text"], width, ASCII)
    assert forward.status == 0 and forward.screen.isascii(), forward.stderr
    assert "Forward pass, with tangents n' = dn/d\\u03c3" in forward.screen
    assert "\\u03c3' = 1    (seed)" in forward.screen
    assert "f' = y * \\u03c3' + \\u03c3 * y' = 3 * 1 + 2 * 0 = 3" in forward.screen
    tangents = on_terminal(["eval", "x*y", "x=2", "y=3", "--tangent", "x=1", "--tangent",
                            "y=1", "--format", "table"], width, ASCII)
    assert tangents.status == 0, tangents.stderr
    assert "f' = 5 (along x' = 1, y' = 1)" in tangents.screen
    for page in (["help"], ["hessian", "--help"], ["jacobian", "--help"], ["eval", "--help"],
                 ["explain", "--help"], ["descend", "--help"]):
        shown = on_terminal(page, width, ASCII)
        assert shown.status == 0 and shown.screen.isascii(), shown.stderr
        assert "\\u" not in shown.screen, (page, shown.screen)
        assert max(map(len, shown.lines)) <= width, (page, shown.screen)
    assert "d2f/dx_idx_j" in on_terminal(["help"], 200, ASCII).screen
    named = proc("eval", "σᵢ*y", "σᵢ=2+-0.1", "y=3", "--format", "json", env=ASCII)
    assert named.returncode == 0 and named.stdout.isascii(), named.stderr
    result = json.loads(named.stdout)
    assert result["gradient"] == {"σᵢ": 3.0, "y": 2.0}
    assert result["uncertainty"]["inputs"]["σᵢ"]["sigma"] == 0.1


@pytest.mark.parametrize("args, unicode, ascii", [
    (["eval", "x*y", "x=2+-0.1", "y=3", "--format", "table"], "┃   σ", "| sigma"),
    (["explain", "x*y", "x=2", "y=3", "--mode", "forward", "--format", "text"],
     "with tangents ṅ = ∂n/∂x", "with tangents n' = dn/dx"),
    (["eval", "x*y", "x=2", "y=3", "--tangent", "x=1", "--tangent", "y=1", "--format",
      "table"], "ḟ = 5 (along ẋ = 1, ẏ = 1)", "f' = 5 (along x' = 1, y' = 1)"),
])
def test_an_ascii_terminal_writes_an_o_file_in_unicode(args, unicode, ascii, tmp_path):
    """With ASCII standard output an -o file got the terminal's words (`sigma`, `x'`)
    beside the codec-free ∂ of the same file: a file is not the terminal, and is UTF-8.
    Standard output on that terminal still reads in ASCII; the file as UTF-8 does."""
    target = tmp_path / "out.txt"
    shown = on_terminal([*args, "-o", target], 80, ASCII)
    assert shown.status == 0 and shown.screen == "", (shown.screen, shown.stderr)
    written = target.read_text(encoding="utf-8")
    assert unicode in written and ascii not in written, written
    here = on_terminal(args, 80, ASCII)  # the same on the terminal itself
    assert here.status == 0 and here.screen.isascii() and ascii in here.screen, here.screen
    assert "-o" not in args and proc(*args, "-o", "-", env=ASCII).stdout.isascii()


def test_ascii_json_is_still_json():
    r = proc("eval", "x*θ", "x=1", "θ=2", "--format", "json",
             env={"PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0 and r.stdout.isascii()
    assert json.loads(r.stdout)["gradient"] == {"x": 2.0, "θ": 1.0}
    r = proc("check", "x*y", "x=1", "y=2", env={"PYTHONIOENCODING": "ascii"})
    assert b"\xe2" not in r.stdout and r.returncode == 0


# -- Ctrl-C: exit 130 and one line, at start-up and mid-run -------------------------------

_START = []


def python_start_up() -> float:
    """How long Python itself takes to start (site, .pth files) before any cgraph code
    runs: a Ctrl-C in that window is Python's own ('Fatal Python error'), not ours."""
    if not _START:
        for _ in range(3):
            t = time.monotonic()
            subprocess.run([sys.executable, "-c", "pass"], env=env_for())
            _START.append(time.monotonic() - t)
    return max(_START)


def ended(p: subprocess.Popen, timeout: float = 30) -> tuple[bytes, bytes]:
    """(stdout, stderr) of a process sent a Ctrl-C; one that does not end is killed (not
    left to run its 10^8 steps beside the rest of the suite) and the test fails."""
    try:
        return p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"no end {timeout} s after the Ctrl-C; standard error: {err[-800:]!r}")


@pytest.mark.parametrize("after", [0.0, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3, 0.5])
def test_ctrl_c_at_start_up_is_one_line_and_130(after):
    """From cgraph's first line on (before click, numpy or the parser are imported)."""
    delay = python_start_up() + after
    p = subprocess.Popen([*PY, "descend", "(w-1)^2", "w=0", "--steps", "100000000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for())
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    out, err = ended(p)
    if p.returncode != 130 and after < 0.3:
        # still in Python's own start-up on a loaded machine: no line of cgraph ran
        assert b"/cgraph/" not in err and p.returncode in (1, -signal.SIGINT), err
        return
    assert p.returncode == 130, err
    # once the descent runs, the line says where it was (descend.where_it_stopped)
    assert re.fullmatch(rb"Interrupted(: at step [\d,]+ the cost was \S+, at w=\S+)?\.\n",
                        err) and out == b"", err


def test_a_command_starts_with_ctrl_c_at_its_default():
    """As a shell starts it, whatever the runner's own SIGINT (conftest.py): under
    `pytest &` in a script the child inherited SIGINT ignored, and a Ctrl-C in its Python
    start-up was lost (the start-up test above then hung)."""
    r = subprocess.run([sys.executable, "-c", "import signal; print(signal.getsignal("
                        "signal.SIGINT) is signal.default_int_handler)"], capture_output=True,
                       timeout=60)
    assert r.stdout == b"True\n", r.stderr


def test_a_command_started_with_ctrl_c_ignored_keeps_it_ignored():
    """`cgraph … &` in a script: the shell starts a background job with SIGINT ignored, so
    that a Ctrl-C meant for the foreground leaves it running. cgraph keeps it so (Python
    itself does), and SIGTERM still stops it."""
    p = subprocess.Popen([*PY, "descend", "(w-1)^2", "w=0", "--steps", "100000000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for(),
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        for delay in (0.0, python_start_up() + 0.3, 0.5):  # in Python's start-up, and later
            time.sleep(delay)
            p.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert p.poll() is None, p.communicate()[1]
    finally:
        p.terminate()
        out, err = p.communicate(timeout=60)
    assert p.returncode == -signal.SIGTERM and b"Interrupted" not in err, err


_LOST = """
import os, signal, sys, time
from cgraph import entry

class Finalised:
    def __del__(self):  # Ctrl-C lands here: Python prints what a finaliser raises and goes on
        os.kill(os.getpid(), signal.SIGINT)

def start():
    Finalised()
    for _ in range(2000):  # a long command (20 s), in Python bytecode and in C
        time.sleep(0.01)
    print("ran on")

entry.run(start)
"""


def test_a_ctrl_c_that_lands_in_a_finaliser_still_stops_the_command():
    """The handler raises Interrupted wherever the main thread is; in a `__del__` (or a
    generator closed as it is freed) Python only prints it as 'ignored' and runs on, with
    SIGINT by then ignored: a command no Ctrl-C could stop (seen once under load)."""
    p = subprocess.run([sys.executable, "-c", _LOST], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env_for(), timeout=60)
    assert (p.returncode, p.stdout, p.stderr) == (130, b"", b"Interrupted.\n")


@pytest.mark.parametrize("args, stdin", [
    (["eval", "--file", "/dev/zero", "x=1"], None),
    (["graph", "-"], "/dev/zero"),
    (["eval", "x", "--bindings", "/dev/zero"], None),
    (["eval", "x*y", "--data", "/dev/zero"], None),  # the header's line never ends
    (["eval", "x*y", "--data", "-"], "/dev/zero"),
], ids=["file", "stdin", "bindings", "data", "data-stdin"])
def test_ctrl_c_stops_a_command_reading_an_endless_input(args, stdin):
    """`cgraph eval --file /dev/zero` (or a huge file on a fast disk, or `- < /dev/zero`)
    went on after a Ctrl-C, reading until memory ran out (4.5 GB in 10 s; then the kernel
    killed it, or another process): the file was read by one read(), one call into C,
    which looks at no signal while the bytes keep coming. It is read in blocks now, and a
    Ctrl-C ends it where it is: one line, 130, and no more memory than the bytes read by
    then. (The address space is capped at 2 GB, so that a cgraph that does not stop ends
    there, its memory near the cap, not the machine's.)"""
    import resource

    cap = 2 << 30

    def capped():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    with open(stdin or os.devnull, "rb") as source:
        p = subprocess.Popen([*PY, *args], stdin=source, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env_for(), preexec_fn=capped)
        time.sleep(python_start_up() + 0.3)  # cgraph is reading by then
        p.send_signal(signal.SIGINT)
        out, err = p.stdout.read(), p.stderr.read()  # (a few bytes each)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    assert (p.returncode, out, err) == (130, b"", b"Interrupted.\n")
    assert usage.ru_maxrss * 1024 < cap // 2, usage.ru_maxrss  # stopped, not at the cap


def test_ctrl_c_mid_run_says_the_csv_is_incomplete(tmp_path):
    data = tmp_path / "big.csv"
    data.write_text("x\n" + "".join(f"{i}\n" for i in range(300_000)) * 4)
    p = subprocess.Popen([*PY, "eval", "sin(x)*exp(-x^2)", "--data", data],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for())
    first = os.read(p.stdout.fileno(), 100)  # rows are coming out
    p.send_signal(signal.SIGINT)
    rest, err = ended(p)
    assert p.returncode == 130 and first
    err = err.decode()
    assert len(err.splitlines()) == 1 and "incomplete" in err and "Traceback" not in err
    lines = (first + rest).decode().splitlines()
    assert 1 < len(lines) < 1_200_001
    assert lines[0] == "x,f,df_dx" and all(len(line.split(",")) == 3 for line in lines)
    # the message counts the rows that reached standard output, exactly
    said = re.search(r"stops after ([\d,]+) of the rows", err)
    assert said and int(said.group(1).replace(",", "")) == len(lines) - 1, err


def test_ctrl_c_keeps_a_valid_trace(tmp_path):
    trace = tmp_path / "run.csv"
    shown = on_terminal(["descend", "(a-1)^2 + 100*(b-a^2)^2", "a=-1", "b=1", "--lr",
                         "1e-6", "--steps", "100000000", "--trace", trace],
                        interrupt_when=lambda out: any(n.endswith(".tmp") and
                                                       os.path.getsize(tmp_path / n) > 4096
                                                       for n in os.listdir(tmp_path)))
    assert shown.status == 130 and "Traceback" not in shown.stderr
    assert "Interrupted" in shown.stderr
    rows = list(csv.reader(io.StringIO(trace.read_text())))
    assert rows[0] == ["step", "cost", "a", "b", "grad_a", "grad_b"] and len(rows) > 10
    assert [r[0] for r in rows[1:]] == [str(k) for k in range(1, len(rows))]
    assert all(len(r) == 6 for r in rows)
    assert os.listdir(tmp_path) == ["run.csv"]


# -- the progress bar of eval --data, on a real terminal ----------------------------------

def test_progress_bar_over_8_mib_on_a_terminal(tmp_path):
    """`cgraph eval … --data big.csv > out.csv` typed in a terminal: the bar is drawn on
    standard error (the terminal) once the run has lasted half a second (a program of 1,000
    operations keeps this one going for seconds) and every row reaches the file."""
    data = tmp_path / "big.csv"
    row = "0.123456789012345,-1.23456789012345\n"
    count = (8 << 20) // len(row) + 1000
    data.write_text("x,y\n" + row * count)
    program = "sum(sin(i*x)*cos(i*y) for i in 1..200)"
    with open(tmp_path / "out.csv", "w") as out:
        shown = on_terminal(["eval", program, "--data", data], width=80, timeout=120,
                            stdout=out)
    assert shown.status == 0 and "Traceback" not in shown.stderr, shown.stderr[-2000:]
    assert "evaluating" in shown.stderr  # the bar was drawn
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert len(lines) == count + 1 and lines[-1] == lines[1]


# -- every option acts or is rejected ------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["check", "x^2", "x=1", "--eps", "0"],
    ["check", "x^2", "x=1", "--eps", "nan"],
    ["check", "x^2", "x=1", "--eps", "-1e-3"],
    ["check", "x^2", "x=1", "--rtol", "-1"],
    ["check", "x^2", "x=1", "--atol", "inf"],
    ["descend", "(w-1)^2", "w=0", "--lr", "-0.1"],
    ["descend", "(w-1)^2", "w=0", "--lr", "0"],
    ["descend", "(w-1)^2", "w=0", "--lr", "inf"],
    ["descend", "(w-1)^2", "w=0", "--until", "nan"],
    ["descend", "(w-1)^2", "w=0", "--until", "-1"],
    ["descend", "(w-1)^2", "w=0", "--seed", "-1"],
    ["descend", "(w-1)^2", "w=0", "--seed", "3"],
    ["descend", "(w-1)^2", "w=0", "--epochs", "3"],
    ["descend", "(w-1)^2", "w=0", "--batch-size", "3"],
    ["descend", "(w*x-y)^2", "w=0", "--data", "DATA", "--steps", "3000"],
    ["eval", "x*y", "--data", "DATA", "--digits", "3"],
    ["eval", "x*y", "--data", "DATA", "--strict"],
    ["eval", "x*y", "x=1", "y=2", "--format", "json", "--digits", "3"],
    ["diff", "2.123456789*x^2", "--digits", "3"],
    ["graph", "x*2.123456789", "--digits", "2"],
    ["graph", "x*y", "--no-values"],
    ["graph", "x*y", "--format", "dot", "--fence"],
    ["eval", "x*y", "x=1", "y=2", "--wrt", "y", "--mode", "forward"],  # showed ∂/∂x
    ["eval", "x*y", "x=1", "y=2", "--wrt", "y", "--tangent", "x=1"],
    ["diff", "x^2", "x=1.5", "--digits", "3", "--format", "json"],  # JSON is whole
    ["jacobian", "x*y", "x=1", "y=2", "--digits", "3", "--format", "json"],
    ["hessian", "x*y", "x=1", "y=2", "--digits", "3", "--format", "json"],
    ["graph", "x*y", "--format", "html", "--direction", "TB"],  # the page: left to right
    ["graph", "x*y", "--format", "html", "--no-collapse"],  # the page draws every node
    ["graph", "x*y", "--format", "html", "--collapse"],
], ids=" ".join)
def test_an_option_that_would_not_act_is_a_usage_error(tmp_path, args):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,2\n2,4\n")
    r = run(*[str(data) if a == "DATA" else a for a in args])
    assert r.exit_code == 2 and r.stdout == "" and "Error:" in r.stderr, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)


@pytest.mark.parametrize("value", ["x=1;y=2", "y=2", "pi;pi", "1\n2", "f = 3"])
def test_a_binding_value_is_one_expression(value):
    r = run("eval", "x", f"x={value}")
    assert r.exit_code == 2 and "one expression" in r.stderr and r.stdout == ""
    assert run("eval", "x", "x=2 # a comment; with a semicolon").exit_code == 0


@pytest.mark.parametrize("args", [["sqrt(x)", "x=-1"], ["1/x", "x=0"], ["log(x)", "x=0"]])
def test_check_fails_when_a_side_is_not_finite(args):
    r = run("check", *args, "--format", "json")
    assert r.exit_code == 1 and "not finite" in r.stderr
    assert json.loads(r.stdout)["ok"] is False
    assert "NOT FINITE" in run("check", *args).stdout


def _passes_at(args, eps: str, derivative: float) -> None:
    """check with --eps `eps` passes, and its numeric derivative (the first row's, a
    Hessian's first entry) is the exact `derivative`."""
    again = run("check", *args, "--eps", eps, "--format", "json")
    assert again.exit_code == 0, again.output
    row = next(iter(json.loads(again.stdout)["variables"].values()))
    if "--hessian" in args:  # entries nested by their two variables: {"x": {"x": row}}
        row = row["x"]
    assert abs(row["numeric"] - derivative) <= 1e-5 * abs(derivative), row


@pytest.mark.parametrize("args, derivative", [
    (["log(x)", "x=1e-7"], 1e7),
    (["sqrt(x)", "x=1e-9"], 0.5 / 1e-9 ** 0.5),
    (["asin(x)", "x=0.9999999"], 1 / (1 - 0.9999999 ** 2) ** 0.5),
    (["log(x)", "x=1e-7", "--hessian"], -1e14),
    (["log(x) + y^2", "x=1e-7", "y=2", "--eps", "1e-7"], 1e7),
])
def test_check_near_a_domain_edge_says_the_step_left_it_and_which_step_stays(args,
                                                                             derivative):
    """trial7: 6e-6·max(1, |x|) is larger than x = 1e-7, so log(x - h) is NaN and check said
    only 'not finite (nothing to compare)'. It says the step left where the program is
    finite, where, and an --eps that stays inside; with that --eps the check passes, and
    its numeric derivative is the exact one."""
    r = run("check", *args)
    assert r.exit_code == 1, r.output
    assert "the finite-difference step leaves where the program is finite (at x " in r.stderr
    assert re.search(r"\(at x (-|\+) [\d.e+-]+ it is (NaN|-Infinity)\)", r.stderr), r.stderr
    eps = re.fullmatch(r"Error: .*; a smaller step stays inside: --eps (\S+)\n", r.stderr)[1]
    assert float(eps) < float(args[args.index("--eps") + 1] if "--eps" in args else 6e-6)
    _passes_at(args, eps, derivative)


@pytest.mark.parametrize("args, derivative", [
    (["1/x", "x=1e-7"], -1e14),
    (["sin(1/x)", "x=0.001"], -math.cos(1000) / 0.001 ** 2),
    (["1/x", "x=1e-7", "--hessian"], 2e21),
])
def test_check_says_when_a_smaller_step_agrees(args, derivative):
    """trial7: 1/x at x = 1e-7 (and sin(1/x) at 0.001) was a bare 'gradient mismatch': the
    step 6e-6 straddles the pole (or many periods), so the difference says nothing. It is
    still a mismatch (exit 1), and the message names a step at which the difference
    agrees; with it the check passes, its numeric derivative the exact one."""
    r = run("check", *args)
    assert r.exit_code == 1, r.output
    eps = re.fullmatch(r"Error: (gradient|Hessian) mismatch for (?:x|∂²f/∂x²); at a smaller step the "
                       r"difference agrees \(--eps (\S+)\): the step is too large for the "
                       r"program here\n", r.stderr)[2]
    _passes_at(args, eps, derivative)


def test_a_wrong_derivative_agrees_at_no_step():
    """The smaller step is looked for with the finite differences alone: a derivative
    that is wrong (here off by 1%) agrees at none, and the message says only 'mismatch'."""
    from cgraph import check

    x = 0.7
    differ = lambda s: (math.sin(x + s) - math.sin(x - s)) / (2 * s)  # noqa: E731
    for analytic, found in ((math.cos(x), True), (1.01 * math.cos(x), False)):
        row = check.Row("x", analytic, differ(0.5), 0.5, differ=differ, point=x)
        report = check.Report([row], [], 1e-5, 1e-8)
        assert (check.agreeing_step(row, 1e-5, 1e-8) is not None) == found
        assert report.failure() == "gradient mismatch for x" + (
            "; at a smaller step the difference agrees (--eps 0.005): the step is too large "
            "for the program here" if found else "")


@pytest.mark.parametrize("args, wrt, derivative", [
    (["x^2 + 1e-3*y", "x=1e6", "y=1"], "y", 1e-3),
    (["1e12 + 1e-3*y", "y=1"], "y", 1e-3),
    (["x^2 + sin(x)*y", "x=1e16", "y=1e-5"], "y", math.sin(1e16)),
])
def test_check_says_when_the_outputs_rounding_hides_the_step(args, wrt, derivative):
    """trial10: x^2 + 1e-3*y at x = 1e6 was a bare 'gradient mismatch for y', though
    ∂f/∂y = 1e-3 is exact: f is about 1e12, rounded in steps of 1.2e-4, and y's step 6e-6
    moves it by 1.2e-8, so both sides round alike and the difference is 0. Still exit 1 (no
    check was made), and the message says why; the other variable's row is untouched. The
    oracle: the derivative written by hand agrees with the analytic column, and a step large
    enough for the output's rounding makes the finite difference agree too (the linear
    cases; sin's is not linear at any step that large)."""
    r = run("check", *args, "--format", "json")
    assert r.exit_code == 1, r.output
    assert r.stderr.startswith(f"Error: gradient mismatch for {wrt}; the output (about "), r.stderr
    assert r.stderr.endswith("is rounded more coarsely than the step moves it: finite "
                             "differences cannot check it here\n"), r.stderr
    row = json.loads(r.stdout)["variables"][wrt]
    assert row["analytic"] == derivative and row["numeric"] == 0, row
    if "sin" not in args[0]:
        again = run("check", *args, "--eps", "1e4")
        assert again.exit_code == 0, again.output


def test_a_mismatch_beyond_rounding_gets_no_rounding_note():
    """The note needs the mismatch within the rounding: a wrong derivative of a large
    output, off by more than rounding could make it, is a bare mismatch."""
    from cgraph import check

    row = check.Row("y", 1e3, 1e-3, 6e-6, size=1e12)  # rounding allows 4·ulp(1e12)/6e-6 ≈ 81
    assert not check.lost_in_rounding(row, 1e-5, 1e-8)
    assert check.Report([row], [], 1e-5, 1e-8).failure() == "gradient mismatch for y"
    row = check.Row("y", 1e-3, 0.0, 6e-6, size=1e12)
    assert check.lost_in_rounding(row, 1e-5, 1e-8)


def test_check_too_near_a_domain_edge_or_off_it_suggests_no_step():
    r = run("check", "asin(x)", "x=0.9999999999999999")  # 1.1e-16 from the edge
    assert r.exit_code == 1 and "the point is too close to the edge" in r.stderr
    assert "--eps" not in r.stderr
    r = run("check", "sqrt(x)", "x=-1")  # NaN at the point itself: no step helps
    assert r.exit_code == 1 and r.stderr == "Error: not finite (nothing to compare) for x\n"


def test_check_rel_error_of_a_nan_is_nan():
    """log(x) at x = inf: analytic 0, numeric NaN; rel_error was 0 (Python's max(0, NaN)
    is 0), as if the two agreed."""
    r = run("check", "log(x)", "x=Infinity", "--format", "tsv")
    assert r.exit_code == 1
    assert r.stdout.splitlines()[1].split("\t") == ["x", "0", "NaN", "NaN", "NaN",
                                                     "NOT FINITE"]
    # and JSON, which stopped on an internal error at the infinite step
    doc = json.loads(run("check", "log(x)", "x=Infinity", "--format", "json").stdout)
    assert doc["variables"]["x"]["rel_error"] == doc["variables"]["x"]["abs_error"] == "NaN"
    assert doc["variables"]["x"]["step"] == "Infinity"


def test_constants_get_no_gradient():
    r = run("eval", "x^2 + pi", "x=-3", "--format", "json")
    nodes = json.loads(r.stdout)["nodes"]
    assert [n["grad"] for n in nodes if n["op"] == "const"] == [None, None]
    assert all(n["grad"] is not None for n in nodes if n["op"] != "const")
    tsv = run("eval", "x^2 + pi", "x=-3", "--format", "tsv").stdout.splitlines()
    assert [row.split("\t")[5] for row in tsv if "\tconst\t" in row] == ["", ""]
    csv_rows = list(csv.reader(io.StringIO(
        run("eval", "x^2", "x=-3", "--format", "csv").stdout)))
    assert csv_rows[2] == ["1", "const", "", "2", "2", ""]
    table = run("eval", "x^2", "x=-3", "--format", "table").stdout
    assert "NaN" not in table and "-0.0" not in table
    diagram = run("graph", "x^2 + pi", "x=-3", "--grads").stdout
    assert "∂f/∂2" not in diagram and "∂f/∂pi" not in diagram and "∂f/∂x = -6" in diagram


def test_descend_names_the_cause_of_a_non_finite_cost(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,2\nnan,3\n")
    r = run("descend", "(w*x-y)^2", "w=0", "--data", data)
    assert r.exit_code == 1 and "data is not finite: column 'x' is NaN in data row 2" \
        in r.stderr
    r = run("descend", "log(w)", "w=-1")
    assert r.exit_code == 1 and "at the starting weights (w=-1)" in r.stderr
    assert "the program is not finite there" in r.stderr  # log(-1) is NaN
    # sqrt(0) is 0, a finite cost: only its derivative is not finite (trial7's finding:
    # "the program is not finite there")
    r = run("descend", "sqrt(w) + v^2", "w=0", "v=1")
    assert r.exit_code == 1 and r.stderr == (
        "Error: the gradient is not finite at the starting weights (w=0, v=1): the cost is "
        "1 there, but its derivative by w is Infinity; start somewhere else\n")
    r = run("descend", "x^2", "x=1", "--lr", "1.5")
    assert r.exit_code == 1 and "step size is too large" in r.stderr
    r = run("descend", "(w*x-y)^2", "w=0", "x=nan", "y=1", "--wrt", "w")
    assert r.exit_code == 1 and "binding x = NaN" in r.stderr
    r = run("descend", "x^2", "x=1", "--lr", "1.01", "--steps", "30")
    assert r.exit_code == 0 and "grew for 20 steps in a row" in r.stderr


def test_a_program_that_looks_like_an_option_is_told_to_use_dashdash():
    r = run("eval", "--x^2", "x=3")
    assert r.exit_code == 2 and "goes after '--'" in r.stderr
    r = run("eval", "--format", "json", "--", "--x^2", "x=3")
    assert r.exit_code == 0 and json.loads(r.stdout)["value"] == 9


# -- every command's --help examples run -------------------------------------------------

FILES = {
    "model.cg": "# one neuron and its squared error\nz = w*x + b\ny = sigmoid(z)\n"
                "loss = (y - t)^2\n",
    "loss.cg": "# squared error of a linear model\nerr = w1*x1 + w2*x2 - y\nloss = err^2\n",
    "samples.csv": "x1,x2,y\n1,2,-1\n0.5,-1,1.5\n-1,0.5,-2\n2,1,1\n",
}


def help_examples():
    from cgraph.cli import cli as group

    for name, command in sorted(group.commands.items()):
        doc = command.help.split("\b", 1)[-1].replace("\\\n", " ")
        for line in doc.splitlines():
            line = line.strip()
            if line.startswith("cgraph "):
                yield name, line.split("  #")[0].replace("\\", "").strip()


@pytest.mark.parametrize("name, example", list(help_examples()))
def test_every_help_example_runs(tmp_path, name, example):
    for file, text in FILES.items():
        (tmp_path / file).write_text(text)
    (tmp_path / "docs").mkdir()
    shell = example.replace("cgraph ", f"{sys.executable} -m cgraph ", 1)
    r = subprocess.run(shell, shell=True, cwd=tmp_path, capture_output=True, text=True,
                       env=env_for())
    assert r.returncode == 0 and "Traceback" not in r.stderr, (example, r.stderr)


# -- siblings found on the way -------------------------------------------------------------

def test_standard_input_is_not_both_program_and_data():
    r = run("eval", "-", "--data", "-", input="x*2\n")
    assert r.exit_code == 2 and "standard input cannot hold both" in r.stderr
    r = run("descend", "--file", "-", "w=0", "--data", "-", input="(w-x)^2\n")
    assert r.exit_code == 2 and r.stdout == ""


@pytest.mark.parametrize("args, held", [
    (["eval", "-", "--bindings", "-"], "the program and the bindings (--bindings -)"),
    (["eval", "--file", "-", "--bindings", "-"], "the program and the bindings"),
    (["eval", "x*y", "--data", "-", "--bindings", "-"], "the --data rows and the bindings"),
    (["descend", "(w*x - 1)^2", "--data", "-", "--bindings", "-"], "the --data rows and"),
])
def test_standard_input_is_not_both_bindings_and_program_or_rows(args, held):
    """`cgraph eval - --bindings -` ran the bindings `x=1` as the program; with `--data -`
    the rows were read as bindings ("malformed binding 'x'")."""
    r = run(*args, input="x=1\n")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith(f"Error: standard input cannot hold both {held}"), r.stderr


def test_special_files_are_written_in_place_and_links_followed(tmp_path):
    r = proc("graph", "x*y", "--format", "dot", "-o", "/dev/stdout")
    assert r.returncode == 0 and r.stdout.startswith(b"digraph")
    assert proc("graph", "x*y", "-o", "/dev/null").returncode == 0
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    real = tmp_path / "real.mmd"
    real.write_text("old")
    link = tmp_path / "link.mmd"
    link.symlink_to(real)
    assert run("graph", "x*y", "-o", link).exit_code == 0
    assert link.is_symlink() and real.read_text().startswith("flowchart")


@pytest.mark.parametrize("package,args", [
    ("click", ["diff", "x*2"]),  # (eval's usual command lines run without click: argv.py)
    ("pyarrow", ["eval", "x*2", "--data", "in.csv"]),
    ("numpy", ["eval", "x*2", "--data", "in.csv"]),
])
def test_a_missing_dependency_is_named_not_called_a_bug(tmp_path, package, args):
    """cgraph run without its dependencies (`PYTHONPATH=src python3 -m cgraph` before any
    pip install, or `pip install --no-deps`) said 'internal error, a bug in cgraph:
    ModuleNotFoundError'; it names the package and how to install it. (A quoted cell:
    plain cells are read without Arrow where cgraph's compiled part was built.)"""
    (tmp_path / "in.csv").write_text('x\n"1"\n')
    (tmp_path / "sitecustomize.py").write_text(
        f"import sys\nsys.modules[{package!r}] = None  # as if not installed\n")
    env = {"PYTHONPATH": f"{tmp_path}{os.pathsep}{env_for()['PYTHONPATH']}"}
    r = proc(*args, env=env, cwd=tmp_path)
    one_line_error(r.stderr.decode(), 1, r.returncode)
    assert r.stderr.decode() == (
        f"Error: cgraph needs the Python package '{package}', which is not installed here "
        "(install cgraph with its dependencies: python3 -m pip install -e . in its "
        "directory)\n")


def test_a_bug_is_one_line_and_status_70(tmp_path):
    """An exception nothing expected (injected here through sitecustomize) is still one
    line, with a status outside the contract's so no script reads it as a result."""
    (tmp_path / "sitecustomize.py").write_text(
        "import cgraph.graph as g\n"
        "def broken(self, *a, **k):\n    raise AttributeError('injected')\n"
        "g.Graph.evaluate = broken\n")
    env = {"PYTHONPATH": f"{tmp_path}{os.pathsep}{env_for()['PYTHONPATH']}"}
    r = proc("eval", "x*2", "x=1", env=env)
    one_line_error(r.stderr.decode(), 70, r.returncode)
    assert "internal error" in r.stderr.decode() and "injected" in r.stderr.decode()
    r = proc("eval", "x*2", "x=1", env={**env, "CGRAPH_DEBUG": "1"})
    assert b"Traceback" in r.stderr and r.returncode == 1


def test_ctrl_c_that_python_wraps_is_still_an_interrupt(tmp_path):
    """A Ctrl-C landing while a class is being created (in `__set_name__`, as during an
    import at start-up) reaches us wrapped in a RuntimeError on Python 3.11: it is still
    `Interrupted.` and 130, not an internal error."""
    (tmp_path / "sitecustomize.py").write_text(
        "import os, signal\n"
        "import cgraph.graph as g\n"
        "class D:\n"
        "    def __set_name__(self, owner, name):\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "        for _ in range(10**6):\n            pass\n"
        "def interrupted(self, *a, **k):\n"
        "    class C:\n        d = D()\n"
        "g.Graph.evaluate = interrupted\n")
    env = {"PYTHONPATH": f"{tmp_path}{os.pathsep}{env_for()['PYTHONPATH']}"}
    r = proc("eval", "x*2", "x=1", env=env)
    assert r.returncode == 130, r.stderr
    assert r.stderr.decode().strip().splitlines() == ["Interrupted."]


def test_a_very_long_name_in_a_message_is_shown_by_its_head_and_tail(tmp_path):
    """A CSV header name of 140,000 characters was quoted whole in the "has no column"
    message (140 KB of standard error, on a terminal 1,750 lines). Every message (an
    error, a usage error, a warning) shows a word longer than 200 characters by its first
    60 and last 20 around `…`, `...` where standard error is ASCII; the message around it
    is whole, and words up to 200 characters (a long path) are kept."""
    long = "a" * 139_990 + "0123456789"
    data = tmp_path / "long.csv"
    data.write_text(f"x,{long}\n1,2\n")
    said = f"(columns: x, {'a' * 60}…{'a' * 9}0123456789)"
    r = proc("eval", "x*y", "--data", data)
    one_line_error(r.stderr.decode(), 2, r.returncode)
    assert r.stderr.decode() == f"Error: {data} has no column 'y' and no binding gives it {said}\n"
    r = proc("eval", "x*y", "--data", data, env={"PYTHONIOENCODING": "ascii"})
    assert r.stderr.decode() == \
        f"Error: {data} has no column 'y' and no binding gives it {said.replace('…', '...')}\n"
    name = "w" * 150 + "v" * 150  # a binding, a usage error (--wrt), each quoting it
    r = proc("eval", "x*y", "x=1", "y=2", f"{name}=3")
    assert r.returncode == 2 and f"'{'w' * 59}…{'v' * 19}' is not a variable" in \
        r.stderr.decode(), r.stderr
    r = proc("diff", "x*y", "--wrt", name)
    assert r.returncode == 2 and f"'{'w' * 59}…{'v' * 19}' is not a variable" in \
        r.stderr.decode(), r.stderr
    path = "d" * 194 + ".csv"  # 200 characters and less: whole
    r = proc("eval", "x*y", "--data", path, cwd=tmp_path)
    assert r.returncode == 2 and f" {path}:" in r.stderr.decode(), r.stderr
