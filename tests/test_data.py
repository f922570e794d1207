"""Data files through Arrow: numbers that round-trip, Parquet in and out, bad files."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cgraph
from cgraph.cli import cli
from cgraph.data import csv_column

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def bits(v: float) -> bytes:
    return struct.pack("<d", v)


@settings(max_examples=300)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=50))
def test_every_number_written_reads_back_bit_equal(values):
    """Arrow's spelling of a result reads back with Python's float() as the same double
    (NaN as NaN; -0 as -0)."""
    array = np.array(values, dtype=float)
    for text, v in zip(csv_column(array).to_pylist(), values):
        back = float(text)
        assert (math.isnan(back) and math.isnan(v)) or bits(back) == bits(v), (text, v)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_subnormal=True), min_size=1, max_size=30))
def test_eval_data_csv_round_trips_through_the_command(xs):
    text = "x\n" + "".join(f"{v!r}\n" for v in xs)
    r = run("eval", "x*x/3 - x", "--data", "-", input=text)
    assert r.exit_code == 0, r.output
    rows = [line.split(",") for line in r.stdout.splitlines()[1:]]
    got = np.array([[float(c) for c in row] for row in rows])
    want = cgraph.parse("x*x/3 - x").evaluate_batch({"x": np.array(xs)})
    assert [bits(v) for v in got[:, 0]] == [bits(v) for v in xs]
    assert [bits(v) for v in got[:, 1]] == [bits(v) for v in want.value]
    assert [bits(v) for v in got[:, 2]] == [bits(v) for v in want.gradient["x"]]


def points(tmp_path, n=1000, **extra):
    rng = np.random.default_rng(3)
    table = pa.table({"x": rng.normal(size=n), "y": rng.uniform(-2, 2, n), **extra})
    path = tmp_path / "points.parquet"
    pq.write_table(table, path, row_group_size=300)
    return path, table


PROGRAM = "sin(x)*exp(-y^2) + log(1+x^2)*y"


def test_parquet_in_parquet_out_equals_evaluate_batch(tmp_path):
    path, table = points(tmp_path, label=pa.array(["a"] * 1000))
    out = tmp_path / "out.parquet"
    r = run("eval", PROGRAM, "--data", path, "-o", out)
    assert r.exit_code == 0 and r.stdout == "", r.output
    got = pq.read_table(out)
    assert got.column_names == ["x", "y", "f", "df_dx", "df_dy"]
    x, y = table.column("x").to_numpy(), table.column("y").to_numpy()
    want = cgraph.parse(PROGRAM).evaluate_batch({"x": x, "y": y})
    assert np.array_equal(got.column("x").to_numpy(), x)
    assert np.array_equal(got.column("f").to_numpy(), want.value)
    assert np.array_equal(got.column("df_dx").to_numpy(), want.gradient["x"])
    assert np.array_equal(got.column("df_dy").to_numpy(), want.gradient["y"])


def test_parquet_in_csv_out_and_csv_in_parquet_out(tmp_path):
    path, table = points(tmp_path, n=5)
    r = run("eval", "x*y", "--data", path)
    rows = [[float(c) for c in line.split(",")] for line in r.stdout.splitlines()[1:]]
    assert r.stdout.splitlines()[0] == "x,y,f,df_dx,df_dy"
    assert [row[0] for row in rows] == table.column("x").to_pylist()
    csv = tmp_path / "pts.csv"
    csv.write_text("x,y\n1,2\n0.5,-1\n")
    out = tmp_path / "o.parquet"
    assert run("eval", "x*y", "--data", csv, "-o", out).exit_code == 0
    assert pq.read_table(out).to_pydict() == {"x": [1.0, 0.5], "y": [2.0, -1.0],
                                              "f": [2.0, -0.5], "df_dx": [2.0, -1.0],
                                              "df_dy": [1.0, 0.5]}


def test_o_writes_csv_to_a_file_and_never_onto_the_input(tmp_path):
    csv = tmp_path / "pts.csv"
    csv.write_text("x\n1\n2\n")
    out = tmp_path / "out.csv"
    assert run("eval", "x^2", "--data", csv, "-o", out).exit_code == 0
    assert out.read_text() == "x,f,df_dx\n1,1,2\n2,4,4\n"
    r = run("eval", "x^2", "--data", csv, "-o", csv)
    assert r.exit_code == 2 and "also an input" in r.stderr
    assert csv.read_text() == "x\n1\n2\n"
    r = run("eval", "x^2", "--data", csv, "-o", tmp_path / "o.parquet", "--format", "csv")
    assert r.exit_code == 2


def test_descend_reads_parquet(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"x": x, "y": 3 * x + 1}), path)
    r = run("descend", "(w*x + b - y)^2", "w=0", "b=0", "--data", path, "--epochs", "500",
            "--lr", "0.1", "--format", "json")
    assert r.exit_code == 0, r.output
    import json

    weights = json.loads(r.stdout)["weights"]
    assert abs(weights["w"] - 3) < 1e-6 and abs(weights["b"] - 1) < 1e-6


@pytest.mark.parametrize("content", [b"", b"PAR1 not really", b"x,y\n1,2\n"])
def test_a_bad_parquet_file_is_one_line_exit_2(tmp_path, content):
    path = tmp_path / "bad.parquet"
    path.write_bytes(content)
    r = run("eval", "x*y", "--data", path)
    assert r.exit_code == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "Parquet" in r.stderr, r.stderr


def test_parquet_columns_that_are_not_numbers_or_have_nulls(tmp_path):
    path = tmp_path / "s.parquet"
    pq.write_table(pa.table({"x": ["1", "2"], "y": [1.0, 2.0]}), path)
    r = run("eval", "x*y", "--data", path)
    assert r.exit_code == 2 and "column 'x'" in r.stderr and "not a number" in r.stderr
    pq.write_table(pa.table({"x": [1.0, None, 3.0], "y": [1, 2, 3]}), path)
    r = run("eval", "x*y", "--data", path)
    assert r.exit_code == 2 and "row 2, column 'x'" in r.stderr


def test_a_parquet_column_named_twice_is_one_line_exit_2(tmp_path):
    """pyarrow writes a table with two columns named x: it was an internal error (70)."""
    path = tmp_path / "dup.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array([1.0]), pa.array([2.0]), pa.array([3.0])],
                                        names=["x", "y", "x"]), path)
    for args in (["eval", "x*y"], ["descend", "(w*x - y)^2", "w=0", "--epochs", "1"]):
        r = run(*args, "--data", path)
        assert r.exit_code == 2, r.output
        assert r.stderr == f"Error: {path}: column 'x' appears twice in its schema\n"


@given(st.lists(st.sampled_from("abcdefgh"), max_size=8))
def test_the_first_name_given_twice_is_found_by_one_function(names):
    """A CSV header, a Parquet schema, a --bindings JSON object's keys and an option's list
    (--wrt x,y,x) each looked for a name given twice with a loop of its own (two named
    once_each); errors.repeated serves all of them, each caller saying it in its words."""
    from cgraph.errors import repeated

    twice = [name for k, name in enumerate(names) if name in names[:k]]
    assert repeated(names) == (twice[0] if twice else None)
    assert repeated(iter(names)) == repeated(names)


@pytest.mark.parametrize("lead", ["\n\n", "\r\n  \n", "\ufeff\n"])
def test_empty_lines_before_the_header_are_skipped_and_counted(tmp_path, lead):
    """README: empty lines are skipped and line numbers count them. Before the header they
    made "empty file"."""
    path = tmp_path / "lead.csv"
    path.write_text(lead + "x,y\n1,2\n\n3,4\n", newline="")
    for source, given in ((path, None), ("-", path.read_bytes().decode())):
        r = run("eval", "x*y", "--data", source, input=given)
        assert r.exit_code == 0 and r.stdout == "x,y,f,df_dx,df_dy\n1,2,2,2,1\n3,4,12,4,3\n"
    path.write_text(lead + "x,y\n1,2\nabc,4\n", newline="")
    r = run("eval", "x*y", "--data", path)
    line = 3 + lead.count("\n")
    assert r.exit_code == 2 and f"line {line}, column 'x': 'abc'" in r.stderr, r.stderr
    path.write_text(lead)
    r = run("eval", "x*y", "--data", path)
    assert r.exit_code == 2 and "empty file" in r.stderr


def test_lines_ended_by_a_cr_alone_are_an_error_not_no_rows(tmp_path):
    """A file whose lines end with CR alone (classic Mac OS, Excel's "CSV (Macintosh)")
    was read as its header and no rows: the header, exit 0, every row lost. It is one
    error; a CR inside a quoted header name and CR LF lines are still read."""
    path = tmp_path / "mac.csv"
    path.write_bytes(b"x,y\r1,2\r3,4\r")
    for source, given in ((path, None), ("-", "x,y\r1,2\r3,4\r")):
        r = run("eval", "x*y", "--data", source, input=given)
        assert r.exit_code == 2 and r.stdout == "", r.stdout
        assert "its lines end with a CR alone" in r.stderr, r.stderr
    r = run("descend", "(w*x-y)^2", "--data", path, "w=0", "--epochs", "1")
    assert r.exit_code == 2 and "CR alone" in r.stderr, r.stderr
    path.write_bytes(b'"x\ra",y\r\n1,2\r\n3,4\r\n')
    r = run("eval", "y*2", "--data", path)
    assert r.exit_code == 0 and r.stdout == "y,f,df_dy\n2,4,2\n4,8,2\n", r.stdout


def test_blocks_cut_inside_quotes_and_blank_lines_with_spaces(tmp_path, monkeypatch):
    """Tiny blocks: every cut falls somewhere; quoted line breaks, blank lines with spaces
    and spaces around numbers (which Arrow refuses) give what the slow reader gives."""
    from cgraph import data

    text = 'note,x\n' + '"a\nb",1\n  \n"c", 2 \n\n"d,e",3\n' * 50
    path = tmp_path / "q.csv"
    path.write_text(text)
    whole = run("eval", "x^2", "--data", path).stdout
    assert len(whole.splitlines()) == 151
    monkeypatch.setattr(data, "BLOCK", 7)
    assert run("eval", "x^2", "--data", path).stdout == whole
    assert whole.splitlines()[1:4] == ["1,1,2", "2,4,4", "3,9,6"]


def test_rows_arrow_refuses_keep_their_columns(tmp_path):
    """Spaces after the commas (a hand-written file): cgraph's own reader takes the block,
    and each input column is still its own column."""
    path = tmp_path / "sp.csv"
    path.write_text("x, y, label\n1, 2, a\n 3 ,4,b\n")
    r = run("eval", "x*y", "--data", path)
    assert r.exit_code == 0, r.output
    assert r.stdout == "x,y,f,df_dx,df_dy\n1,2,2,2,1\n3,4,12,4,3\n"
    out = tmp_path / "o.parquet"
    assert run("eval", "x*y", "--data", path, "-o", out).exit_code == 0
    assert pq.read_table(out).column("y").to_pylist() == [2.0, 4.0]


def test_text_only_standard_input_is_read_by_lines(monkeypatch):
    import io
    import sys

    from cgraph.data import LineReader, open_points

    monkeypatch.setattr(sys, "stdin", io.StringIO("x,y\n1, 2\n3,4\n"))
    reader, raw, size = open_points("-")
    assert isinstance(reader, LineReader) and raw is None and size is None
    (batch,) = reader.batches(["x", "y"])
    assert batch.rows == 2 and batch.texts == [["1", "3"], ["2", "4"]]
    assert batch.arrays["y"].tolist() == [2.0, 4.0]


CELL = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["nan", "NaN", "inf", "-Infinity", "1e5", ".5", "+2", "-0"]),
    st.sampled_from(["abc", ""]),  # not numbers: an error, the same one
)


@st.composite
def csv_files(draw):
    rows = draw(st.lists(st.tuples(CELL, CELL), max_size=12))
    lines = ['"x","y"' if draw(st.booleans()) else "x,y"]
    for a, b in rows:
        a, b = (f'"{c}"' if draw(st.booleans()) and c else c for c in (a, b))
        space = draw(st.sampled_from(["", " "]))
        lines.append(f"{space}{a},{b}{space}")
        lines += draw(st.sampled_from([[], [""], ["  "]]))  # blank lines, of spaces too
        if draw(st.integers(0, 30)) == 0:
            lines.append("1,2,3")  # a ragged row
    end = draw(st.sampled_from(["\n", "\r\n"]))
    return end.join(lines) + draw(st.sampled_from([end, ""]))


@settings(max_examples=60, deadline=None)
@given(csv_files(), st.sampled_from([48, 1 << 19]))
def test_arrow_blocks_read_what_cgraphs_own_reader_reads(text, block):
    """cgraph's own line reader is the oracle: the same rows, the same echoed cells, the
    same error (message and line) when one block holds the file (a file with several bad
    rows may name another one first when it is cut into blocks, as the old reader's
    chunks of 65,536 lines did)."""
    import io

    from cgraph import data
    from cgraph.errors import DataError

    try:
        reader = data.CsvReader(io.StringIO(text, newline=""), "d.csv")
        want = [(a, e) for a, e in reader.chunks(["x", "y"], echo=True)]
        expected = None
    except DataError as e:
        expected = str(e)
    old, data.BLOCK = data.BLOCK, block
    try:
        blocks = data.CsvBlocks(io.BytesIO(text.encode()), "d.csv")
        got = list(blocks.batches(["x", "y"]))
        error = None
    except DataError as e:
        error = str(e)
    finally:
        data.BLOCK = old
    assert (error is None) == (expected is None)
    if block > len(text):
        assert error == expected
    if expected is None:
        cells = [line.split(",") for _, echoed in want for line in echoed]
        texts = [list(zip(*(t if isinstance(t, list) else t.to_pylist()
                            for t in b.texts))) for b in got]
        assert [list(row) for part in texts for row in part] == cells
        for name, k in (("x", 0), ("y", 1)):
            mine = np.concatenate([b.arrays[name] for b in got]) if got else np.empty(0)
            theirs = (np.concatenate([a[name] for a, _ in want]) if want else np.empty(0))
            assert [bits(v) for v in mine] == [bits(v) for v in theirs]


def test_parquet_output_needs_data():
    r = run("eval", "x*y", "x=1", "y=2", "-o", "out.parquet")
    assert r.exit_code == 2 and "--data" in r.stderr


@pytest.mark.parametrize("cell", ["1_000", "\u0661", "\uff11"])
def test_cells_only_python_reads_as_numbers_are_named(tmp_path, cell):
    """`1_000`, Arabic-Indic or full-width digits: Python's float() takes them, numpy and
    Arrow do not. The error names the line and column all the same."""
    path = tmp_path / "p.csv"
    path.write_text(f"x,y\n1,2\n3,4\n5,{cell}\n", encoding="utf-8")
    r = run("eval", "x*y", "--data", path)
    assert r.exit_code == 2
    assert r.output.strip() == f"Error: {path}, line 4, column 'y': '{cell}' is not a number"


TINY = "0." + "0" * 330 + "1"


@pytest.mark.parametrize("cell, message", [
    ("1e999", "'1e999' is beyond the largest double (about 1.8e308); write inf if you mean "
              "Infinity"),
    ("-1E+400", "'-1E+400' is beyond the largest double (about 1.8e308); write -inf if you "
                "mean -Infinity"),
    ('"1e999"', "'1e999' is beyond the largest double"),
    ("1e-400", "'1e-400' is below the smallest double (about 4.9e-324) and would read as 0; "
               "write 0 if you mean it"),
    (TINY, "is below the smallest double"),
])
@pytest.mark.parametrize("how", ["file", "stdin", "spaces"])
def test_a_cell_that_is_not_the_number_written_is_named(tmp_path, cell, message, how):
    """A cell is the number written, by the rule bindings follow: 1e999 was Infinity and
    1e-400 was 0 without a word. Arrow's blocks (file), cgraph's own reader (standard
    input, and a block Arrow refuses for its spaces) name the same line and column."""
    rows = ["1,2", "0,3", "inf,-Infinity", "nan,0e5", "5e-324,0.0", f"4,{cell}", "6,7"]
    if how == "spaces":
        rows[0] = " 1 , 2"
    text = "x,y\n" + "\n".join(rows) + "\n"
    path = tmp_path / "p.csv"
    path.write_text(text)
    r = run("eval", "x*y", "--data", "-", input=text) if how == "stdin" else \
        run("eval", "x*y", "--data", path)
    assert r.exit_code == 2 and r.stdout == "", r.output
    where = "standard input" if how == "stdin" else str(path)
    assert r.stderr.startswith(f"Error: {where}, line 7, column 'y': "), r.stderr
    assert message in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr


@pytest.mark.parametrize("how", ["file", "stdin"])
@pytest.mark.parametrize("cell", ["1e-400", "1e-0400", TINY])
def test_a_cell_below_the_doubles_among_many_zeros_is_named(tmp_path, how, cell):
    """Past data.ZEROS zeros in a column, cgraph's own reader looks at them one by one
    only where the text may hold a number below the doubles: it still does here."""
    from cgraph import data

    text = "x,y\n" + "0,1.5e-3\n" * (data.ZEROS + 50) + f"{cell},2\n"
    path = tmp_path / "z.csv"
    path.write_text(text)
    r = run("eval", "x*y", "--data", "-", input=text) if how == "stdin" else \
        run("eval", "x*y", "--data", path)
    assert r.exit_code == 2 and f"line {data.ZEROS + 52}, column 'x': " in r.stderr, r.output
    assert "is below the smallest double" in r.stderr


def test_non_finite_words_zeros_and_subnormals_in_cells_are_taken(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("x,y\ninf,-Infinity\nnan,0e5\n5e-324,0.0\n0,-0e-999\n")
    r = run("eval", "x+y", "--data", path)
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[1:] == ["inf,-Infinity,NaN,1,1", "nan,0e5,NaN,1,1",
                                         "5e-324,0.0,5e-324,1,1", "0,-0e-999,0,1,1"]


@pytest.mark.parametrize("row, column", [(",3", "x"), ("3,", "y"), ("3, ", "y"),
                                         ('"",3', "x"), ("3,\t", "y")])
@pytest.mark.parametrize("command", [["eval", "x*y"], ["descend", "(w*x-y)^2", "w=0"]])
def test_an_empty_cell_is_called_one(tmp_path, row, column, command):
    """An empty cell said "'' is not a number"."""
    path = tmp_path / "p.csv"
    path.write_text(f"x,y\n1,2\n{row}\n4,5\n", encoding="utf-8")
    r = run(*command, "--data", path)
    assert r.exit_code == 2
    assert r.output.strip() == f"Error: {path}, line 3, column '{column}': an empty cell, " \
                               "not a number"


def test_parquet_given_as_csv_says_so(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0]}), path)
    r = run("eval", "x*2", "--data", "-", input=path.read_bytes())
    assert r.exit_code == 2 and "standard input holds Parquet" in r.output
    renamed = tmp_path / "p.csv"
    renamed.write_bytes(path.read_bytes())
    r = run("eval", "x*2", "--data", renamed)
    assert r.exit_code == 2 and f"{renamed} holds Parquet" in r.output


def test_parquet_integers_are_widened_to_the_nearest_double(tmp_path):
    """As a CSV cell's digits are read: 2^60 + 1 is 2^60, not an error."""
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"x": pa.array([2**60 + 1, -3], pa.int64())}), path)
    r = run("eval", "x*2", "--data", path)
    assert r.exit_code == 0, r.output
    rows = [line.split(",") for line in r.output.splitlines()[1:]]
    assert [float(row[0]) for row in rows] == [float(2**60 + 1), -3.0]
    assert [float(row[1]) for row in rows] == [2.0 * 2**60, -6.0]


def test_a_two_index_name_is_one_quoted_csv_column(tmp_path):
    """W[1,2] holds a comma: unquoted, the header of eval --data and of descend --trace had
    more fields than its rows, for Python's csv module as for any CSV reader."""
    import csv as pycsv
    import io

    data = tmp_path / "d.csv"
    data.write_text('"W[1,2]",x\n2,1\n3,0.5\n')
    out = run("eval", "W[1,2]*x + W[2,1]", "W[2,1]=4", "--data", data).stdout
    rows = list(pycsv.reader(io.StringIO(out)))
    assert rows[0] == ["W[1,2]", "x", "f", "df_dW[1,2]", "df_dx"]
    assert all(len(row) == len(rows[0]) for row in rows) and len(rows) == 3
    again = run("eval", "W[1,2]*x", "--data", "-", input=out)  # cgraph reads its own CSV
    assert again.exit_code == 0 and again.stdout.splitlines()[1] == "2,1,2,1,2"
    trace = tmp_path / "t.csv"
    r = run("descend", "(W[1,2]*x - 1)^2", "W=[[0,3]]", "x=1", "--steps", "2",
            "--trace", trace)
    assert r.exit_code == 0, r.output
    rows = list(pycsv.reader(trace.open()))
    assert rows[0] == ["step", "cost", "W[1,2]", "x", "grad_W[1,2]", "grad_x"]
    assert [len(row) for row in rows] == [6, 6, 6]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.sampled_from(list('ab ,"\r\n\t\'[]1é成')), min_size=1, max_size=6),
                min_size=1, max_size=5, unique=True))
def test_a_csv_header_reads_back_whatever_its_names_hold(names):
    """data.csv_record writes the header of eval --data's CSV and of descend's trace, by
    RFC 4180: a field with a comma, a quote, a CR or an LF is quoted, its quotes doubled.
    Python 3.11's csv.writer (lineterminator "\\n") leaves a lone CR unquoted, which its
    own reader then takes for the end of the row: so cgraph keeps its writer. Today's names
    hold only a comma (W[1,2]); whatever a name may hold, the header reads back whole, with
    Python's csv module and with pyarrow's reader."""
    import csv as pycsv
    import io

    from pyarrow import csv as pacsv

    from cgraph.data import csv_record

    text = csv_record(names) + csv_record([str(k) for k in range(len(names))])
    assert list(pycsv.reader(io.StringIO(text, newline=""))) == \
        [names, [str(k) for k in range(len(names))]]
    table = pacsv.read_csv(io.BytesIO(text.encode()),
                           parse_options=pacsv.ParseOptions(newlines_in_values=True))
    assert table.column_names == names and table.num_rows == 1


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_an_element_column_is_read_as_a_binding_reads_its_name(tmp_path, kind):
    """`'W[1, 2]=3'` and `w[01]=2` bind W[1,2] and w[1] on the command line; a column so
    named was "no column 'W[1,2]'"."""
    path = tmp_path / f"d.{kind}"
    if kind == "csv":
        path.write_text('"W[1, 2]",w[01],x\n2,3,1\n4,5,0.5\n')
    else:
        pq.write_table(pa.table({"W[1, 2]": [2.0, 4.0], "w[01]": [3, 5], "x": [1.0, 0.5]}),
                       path)
    r = run("eval", "W[1,2]*x + w[1]", "--data", path, "--wrt", "x")
    assert r.exit_code == 0, r.output
    assert r.stdout == '"W[1,2]",w[1],x,f,df_dx\n2,3,1,5,2\n4,5,0.5,7,4\n'


def test_result_columns_do_not_repeat_a_name(tmp_path):
    """A variable named df_dx gave two columns df_dx (and a Parquet file cgraph then
    refuses to read); a weight named grad_w or step the same in a trace. The later one
    gets a `_`, as diff names such a clash."""
    import csv as pycsv

    data = tmp_path / "d.csv"
    data.write_text("x,df_dx\n1,2\n")
    r = run("eval", "x*df_dx", "--data", data)
    assert r.stdout == "x,df_dx,f,df_dx_,df_ddf_dx\n1,2,2,2,1\n"
    out = tmp_path / "o.parquet"
    assert run("eval", "x*df_dx", "--data", data, "-o", out).exit_code == 0
    assert run("eval", "x + df_dx_", "--data", out).exit_code == 0
    trace = tmp_path / "t.csv"
    r = run("descend", "(w*x - grad_w)^2 + step", "w=0", "grad_w=1", "step=0", "x=1",
            "--wrt", "w,grad_w,step", "--steps", "1", "--trace", trace)
    assert r.exit_code == 0, r.output
    header = next(pycsv.reader(trace.open()))
    assert header == ["step", "cost", "w", "grad_w", "step_", "grad_w_", "grad_grad_w",
                      "grad_step"]


@pytest.mark.parametrize("typed, said", [(["--mode", "forward"], "--mode forward"),
                                         (["--tangent", "x=1"], "--tangent"),
                                         (["--mode", "forward", "--tangent", "x=1"],
                                          "--mode forward")])
def test_forward_mode_with_data_names_what_was_typed(tmp_path, typed, said):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,2\n")
    r = CliRunner().invoke(cli, ["eval", "x*y", "--data", str(data), *typed])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"Error: --data evaluates in reverse mode; {said} does not apply\n"


def test_a_column_named_as_a_constant_the_program_uses_is_a_warning(tmp_path):
    """`x*e` over a file with a column e: e is the constant, and the column was ignored
    without a word (trial5)."""
    data = tmp_path / "d.csv"
    data.write_text("x,e\n1,2\n")
    said = (f"warning: column 'e' of {data} is not read: in a program e is the constant "
            "2.718281828459045 (to read the column, rename it and the variable)\n")
    r = CliRunner().invoke(cli, ["eval", "x*e", "--data", str(data)])
    assert r.exit_code == 0 and r.stderr == said
    assert r.stdout == "x,f,df_dx\n1,2.718281828459045,2.718281828459045\n"
    r = CliRunner().invoke(cli, ["descend", "(w*x - e)^2", "w=0", "--data", str(data),
                                 "--epochs", "1", "--format", "json"])
    assert r.exit_code == 0 and r.stderr == said
    r = CliRunner().invoke(cli, ["eval", "x*2", "--data", str(data)])  # e not used: quiet
    assert r.exit_code == 0 and r.stderr == ""


def test_a_tab_or_semicolon_separated_file_is_named_as_such(tmp_path):
    """A TSV file (what cgraph writes when piped) given to --data said "none of its columns
    (x<TAB>y) is a variable of the program (x, y)", a tab inside the list (trial7's finding)."""
    tsv = tmp_path / "pts.tsv"
    tsv.write_text("x\ty\n1\t2\n")
    semi = tmp_path / "semi.csv"
    semi.write_text("x;y\n1,5;2\n")  # a spreadsheet's, where the decimal point is ','
    for path, header, sep in ((tsv, "'x\\ty'", "tabs"), (semi, "'x;y'", "semicolons")):
        for args in (["eval", "x*y"], ["descend", "(w*x - y)^2", "w=0", "--epochs", "1"]):
            r = run(*args, "--data", path)
            assert r.exit_code == 2 and r.stderr == (
                f"Error: {path}: its header, {header}, is one column: cgraph reads "
                f"comma-separated files, and this one is separated by {sep}\n"), r.stderr
    one = tmp_path / "one.csv"
    one.write_text("z\n1\n")  # one column, no separator in it: as before
    r = run("eval", "x*y", "--data", one)
    assert r.exit_code == 2 and "none of its columns (z) is a variable" in r.stderr


PLAIN_CELL = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text("0123456789.eE+-", max_size=20),  # numbers and not (an empty cell too)
    st.sampled_from([" 1", "2 ", "1\r", "nan", "1,5", "x y", "\u0661"]),
)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3), st.data())
def test_plain_cells_are_the_cells_arrows_reader_reads(width, data):
    """The fast split of a plain block (numpy and Arrow string_views, no CSV parser) gives
    every column's cells exactly as Arrow's CSV reader does, or declines (None) and the
    reader decides; it does not decline the plain blocks it is there for."""
    from pyarrow import csv

    from cgraph.data import plain_cells

    rows = data.draw(st.lists(st.lists(PLAIN_CELL, min_size=width, max_size=width)
                              .map(",".join), min_size=1, max_size=20))
    block = ("\n".join(rows) + data.draw(st.sampled_from(["\n", ""]))).encode()
    where = sorted(data.draw(st.sets(st.integers(0, width - 1), min_size=1)))
    header = [f"c{i}" for i in range(width)]
    got = plain_cells(block, width, where)
    try:
        table = csv.read_csv(pa.py_buffer(block),
                             read_options=csv.ReadOptions(column_names=header),
                             convert_options=csv.ConvertOptions(
                                 include_columns=[header[i] for i in where],
                                 column_types={header[i]: pa.string() for i in where}))
        want = [table.column(header[i]).to_pylist() for i in where]
    except pa.ArrowInvalid:
        want = None
    if got is not None:
        assert [t.to_pylist() for t in got] == want
    elif all(c and c.isascii() and c.strip() == c for r in rows for c in r.split(",")) \
            and all(len(r.split(",")) == width for r in rows):
        raise AssertionError(f"a plain block declined: {block!r}")


def test_plain_cells_short_and_long():
    """Cells of 12 bytes or fewer are held inside Arrow's views, longer ones point into
    the block: both read back as written, beside columns that are not read."""
    from cgraph.data import plain_cells

    block = b"1,skip me,0.5478467492858172\n-2.5e-7,x,123456789012\n"
    x, y = plain_cells(block, 3, [0, 2])
    assert x.to_pylist() == ["1", "-2.5e-7"]
    assert y.to_pylist() == ["0.5478467492858172", "123456789012"]
    assert plain_cells(b'1,"2"\n', 2, [0, 1]) is None
    assert plain_cells(b"1,2\n\n3,4\n", 2, [0, 1]) is None  # an empty line
    assert plain_cells(b"1,2,3\n", 2, [0, 1]) is None


@pytest.mark.parametrize("text, said", [
    ("x," + "y" * 140_000 + "\n1,2\n", "has no column 'y'"),  # a header name
    ('x,y\n1,"' + "2" * 140_000 + '"\n', "line 2, column 'y'"),  # a quoted cell
    ('x,"' + "y" * 140_000 + '"\n3,"4"\n', "has no column 'y'"),
], ids=["header", "quoted-cell", "quoted-header"])
def test_a_cell_longer_than_the_csv_modules_limit_is_a_cell(tmp_path, text, said):
    """Python's csv module refuses a field over 131,072 characters, and that csv.Error was
    an internal error (exit 70: 'field larger than field limit'). A long cell is read as
    any other, and what is wrong with it is said as for any other: exit 2."""
    data = tmp_path / "long.csv"
    data.write_text(text)
    r = run("eval", "x*y", "--data", data)
    assert r.exit_code == 2 and said in r.stderr and "internal error" not in r.stderr, \
        r.stderr[:300]


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "arrow"])
def test_rows_before_a_bad_block_are_all_written_whatever_the_timing(monkeypatch, compiled):
    """A bad row in a later block ends the command after every row of the blocks before
    it is written: the threads formatting them are waited for (with `_csvrows` reading
    fast, the error used to overtake the rows, and what came out depended on timing)."""
    from cgraph import data

    monkeypatch.setattr(data, "BLOCK", 16)  # a block or two per line
    if not compiled:
        monkeypatch.setattr(data, "compiled", lambda: None)
    good = [f"{i},{i + 1}" for i in range(40)]
    text = "x,y\n" + "\n".join(good + ["1,2,3"] + good) + "\n"
    for _ in range(10):
        r = run("eval", "x*y", "--data", "-", input=text)
        assert r.exit_code == 2 and "line 42" in r.stderr, r.stderr
        assert r.stdout.splitlines()[1:] == [f"{i},{i + 1},{i * (i + 1)},{i + 1},{i}"
                                              for i in range(40)]


@pytest.mark.parametrize("after, drawn", [(3600.0, False), (0.0, True)])
def test_the_progress_bar_is_drawn_only_once_a_run_has_lasted(tmp_path, monkeypatch,
                                                               after, drawn):
    """The bar starts after BAR_AFTER seconds of a run: with the compiled reader an 8 MiB
    file takes a tenth of a second, and a bar drawn at once only flashed, or, piped into
    `head`, stayed on the terminal with head's lines glued to it."""
    import cgraph
    from cgraph import eval_data

    calls = []

    class Bar:  # what eval_points asks of a Rich Progress
        def add_task(self, *a, **k):
            return 0

        def update(self, *a, **k):
            calls.append("update")

        def start(self):
            calls.append("start")

        def stop(self):
            calls.append("stop")

    path = tmp_path / "p.csv"
    path.write_text("x,y\n" + "1,2\n" * 1000)
    monkeypatch.setattr(eval_data, "BAR_AFTER", after)
    monkeypatch.setattr(eval_data, "_stdout_bytes", lambda: lambda data: None)
    eval_data.eval_points(cgraph.parse("x*y"), {}, str(path), progress=lambda size: Bar())
    assert "update" in calls
    assert (calls.count("start"), calls.count("stop")) == ((1, 1) if drawn else (0, 0))
