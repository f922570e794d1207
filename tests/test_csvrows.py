"""cgraph's compiled part, `_csvrows`: plain CSV cells read and rows written in C++. Its
oracles are Python's float() and repr, exact rational arithmetic, and Arrow, which does the
same work where the part was not built (the same bytes out, the whole command compared)."""

from __future__ import annotations

import math
import os
import re
import shutil
import struct
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cgraph import data
from cgraph.cli import cli

from terminal import env_for

native = data.compiled()
needs_native = pytest.mark.skipif(native is None, reason="cgraph._csvrows was not built")


def bits(v: float) -> bytes:
    return struct.pack("<d", v)


def installed_here() -> bool:
    """Whether the cgraph under test is the one pip installed, and so built: not a source
    tree put first on PYTHONPATH (a git worktree beside an install, a clone never
    installed), where nothing was built unless someone built it in place."""
    import json
    from importlib import metadata
    from pathlib import Path
    from urllib.parse import unquote, urlparse

    import cgraph

    here = Path(cgraph.__file__).resolve().parent
    try:
        dist = metadata.distribution("cgraph")
    except metadata.PackageNotFoundError:
        return False
    if Path(dist.locate_file("cgraph")).resolve() == here:  # a regular install
        return True
    url = urlparse(json.loads(dist.read_text("direct_url.json") or "{}").get("url", ""))
    source = Path(unquote(url.path)) / "src" / "cgraph"  # an editable install's tree
    return url.scheme == "file" and source.resolve() == here


def test_the_compiled_part_is_built_where_a_compiler_is():
    """The install builds `_csvrows` wherever a C++ compiler is on the PATH (CI's machine
    has one): a build that broke would otherwise pass unseen, Arrow doing the work. A
    source tree that pip did not install (PYTHONPATH=src in a worktree) had no build."""
    if native is None:
        if not installed_here():
            pytest.skip("cgraph is imported from a source tree pip did not install here")
        assert not any(shutil.which(c) for c in ("c++", "g++", "clang++")), \
            "a C++ compiler is here but cgraph._csvrows was not built"


# -- numbers written ------------------------------------------------------------------------

def spelled(values) -> list[str]:
    return data.native_rows()([np.asarray(values, dtype=np.float64)]).decode().split("\n")[:-1]


DOUBLES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(0, 2**64 - 1).map(lambda b: struct.unpack("<d", struct.pack("<Q", b))[0]),
    st.integers(-1074, 1023).map(lambda e: 2.0**e),  # the powers of two, where the
    st.integers(-1073, 1023).map(lambda e: math.nextafter(2.0**e, 0)),  # interval is lopsided
    st.integers(-323, 308).map(lambda e: float(f"1e{e}")),
)


@needs_native
@settings(max_examples=500, deadline=None)
@given(st.lists(DOUBLES, min_size=1, max_size=40))
def test_numbers_are_spelled_as_arrow_spells_them_and_read_back(values):
    """Byte for byte Arrow's spelling (the fallback's), and each reads back with float() as
    the same double, -0 and NaN included."""
    ours = spelled(values)
    assert ours == data.csv_column(np.array(values)).to_pylist()
    for text, v in zip(ours, values):
        back = float(text)
        assert (math.isnan(back) and math.isnan(v)) or bits(back) == bits(v), (text, v)


@needs_native
def test_shortest_digits_are_reprs_over_a_million_random_doubles():
    """Schubfach's digits are those of Python's repr (the shortest that round-trip, the
    nearest when several are) for 10^6 random bit patterns and every power of two."""
    rng = np.random.default_rng(16)
    values = rng.integers(0, 2**64, 1_000_000, dtype=np.uint64).view(np.float64)
    values = np.concatenate([values, 2.0 ** np.arange(-1074, 1024)])
    values = values[np.isfinite(values) & (values != 0)]

    def digits(text: str) -> str:
        mantissa = text.lstrip("-").split("e")[0].replace(".", "")
        return mantissa.strip("0")

    for text, v in zip(spelled(values), values.tolist()):
        assert digits(text) == digits(repr(v)), (text, repr(v))


def test_the_table_of_powers_is_schubfachs_definition():
    """g = floor(10^e / 2^r) + 1 with 2^125 <= g < 2^126, found here with exact rationals
    and no shortcut, equals what data.powers_of_ten packs."""
    table = data.powers_of_ten()
    word = lambda at: int.from_bytes(table[at:at + 8], sys.byteorder)  # noqa: E731
    for i, e in enumerate(range(-292, 325)):
        power = Fraction(10) ** e
        r = math.floor(math.log2(power.numerator) - math.log2(power.denominator)) - 125
        while power / Fraction(2) ** r >= 2**126:
            r += 1
        while power / Fraction(2) ** r < 2**125:
            r -= 1
        g = math.floor(power / Fraction(2) ** r) + 1
        assert word(16 * i) == g >> 63 and word(16 * i + 8) == g & (2**63 - 1), e


@needs_native
@pytest.mark.parametrize("columns, error", [
    ([], "no columns"),
    ([np.zeros(2), np.zeros(3)], "differ in length"),
    ([np.zeros(2, np.float32)], "must be float64"),
    ([np.zeros(2, np.int64)], "must be float64"),
    ([(b"12", np.array([0, 1]), np.array([1]))], "out of its buffer"),
    ([(b"12", np.array([0, 1]), np.array([1, 3]))], "out of its buffer"),
    ([(b"12", np.array([1, -1]), np.array([2, 0]))], "out of its buffer"),
    ([(b"12", np.array([1]), np.array([0]))], "out of its buffer"),
    ([(b"12", np.array([0], np.int32), np.array([1], np.int32))], "must be int64"),
])
def test_rows_refuses_what_is_not_columns(columns, error):
    """Wrong input is a Python exception, never a read outside a buffer."""
    with pytest.raises((ValueError, TypeError), match=error):
        data.native_rows()(columns)


# -- cells read -----------------------------------------------------------------------------

PLAIN = re.compile(r"-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")  # ASCII digits only


def plain_number(cell: str) -> bool:
    """The module's rule, from its documentation: the plain form, read to a finite
    double that is 0 only when its digits are all 0."""
    if not PLAIN.fullmatch(cell):
        return False
    v = float(cell)
    return math.isfinite(v) and (v != 0 or not re.search("[1-9]", cell.split("e")[0]
                                                            .split("E")[0]))


CELL = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-10**30, 10**30).map(str),
    st.from_regex(PLAIN, fullmatch=True).filter(lambda c: len(c) < 60),
    st.sampled_from(["-0", ".5", "5.", "1E+5", "0e999", "1e400", "1e-400", "5e-324",
                     "2.4703282292062328e-324", "1.7976931348623159e308", "0." + "0" * 330 + "1",
                     "nan", "inf", "+1", " 1", "1 ", "1e", "-", ".", "0x10", "1_0", "١",
                     "abc", "1,5"]),
)


@needs_native
@settings(max_examples=400, deadline=None)
@given(st.integers(1, 4), st.data())
def test_cells_reads_a_plain_block_as_float_reads_each_cell(width, draw):
    """A block whose lines all have `width` non-empty cells, with plain numbers in the
    columns read, gives float()'s double for each, bit for bit, and each cell's place in
    the block; any other block gives None (Arrow's path then reads it)."""
    rows = draw.draw(st.lists(st.lists(CELL, min_size=1, max_size=width + 1), min_size=1,
                              max_size=12))
    lines = [",".join(r) for r in rows]
    lines += draw.draw(st.sampled_from([[], [""], ['"1"'], ["1\r"]]))
    block = "\n".join(lines) + draw.draw(st.sampled_from(["\n", ""]))
    where = draw.draw(st.lists(st.integers(0, width - 1), min_size=1, max_size=width,
                               unique=True))
    got = native.cells(block.encode(), width, where)
    records = [line.split(",") for line in block.split("\n")]
    if block.endswith("\n"):
        records.pop()
    plain = '"' not in block and "\r" not in block and all(
        len(r) == width and all(r) and all(plain_number(r[i]) for i in where)
        for r in records)
    if not plain:
        assert got is None, block
        return
    numbers, starts, ends = got
    raw = block.encode()
    for k, column in enumerate(where):
        values = np.frombuffer(numbers[k], np.float64)
        assert [bits(v) for v in values] == [bits(float(r[column])) for r in records]
        cells = [raw[a:b].decode() for a, b in zip(np.frombuffer(starts[k], np.int64),
                                                   np.frombuffer(ends[k], np.int64))]
        assert cells == [r[column] for r in records]


@needs_native
@pytest.mark.parametrize("width, where", [(0, [0]), (2, []), (2, [2]), (2, [-1]),
                                          (2, [0, 0])])
def test_cells_refuses_columns_that_are_not_there(width, where):
    with pytest.raises(ValueError):
        native.cells(b"1,2\n", width, where)


# -- the whole command, with and without the compiled part ----------------------------------

LINE_CELL = st.one_of(CELL, st.sampled_from(['"2"', "", "NaN", "-Infinity", "1e5"]))


@st.composite
def data_files(draw):
    width = draw(st.integers(2, 3))
    header = ["x", "y", "z"][:width]
    rows = draw(st.lists(st.lists(st.one_of(CELL.filter(plain_number), LINE_CELL),
                                  min_size=width, max_size=width), max_size=15))
    if rows and draw(st.integers(0, 5)) == 0:
        rows[-1] = rows[-1][:-1]  # a ragged row
    end = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    return end.join([",".join(header)] + [",".join(r) for r in rows]) + \
        draw(st.sampled_from([end, ""]))


def run(text: str, block: int, compiled: bool, program: str = "x*y - x/3"):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(data, "BLOCK", block)
        if not compiled:
            m.setattr(data, "compiled", lambda: None)
        r = CliRunner().invoke(cli, ["eval", program, "--data", "-"], input=text)
    return r.exit_code, r.stdout, r.stderr


@needs_native
@settings(max_examples=150, deadline=None)
@given(data_files(), st.sampled_from([24, 1 << 19]))
def test_the_command_writes_the_same_bytes_with_and_without_it(text, block):
    """The same rows, numbers, messages and exit status, in blocks of 24 bytes (each line
    a block or two) and of 512 KiB (the file one block), plain or not."""
    assert run(text, block, True) == run(text, block, False)


@needs_native
def test_plain_csv_needs_no_arrow(tmp_path):
    """With the compiled part, a plain CSV is read and written without importing pyarrow
    (Python's start-up is the rest of a small file's time); a quoted cell still needs it."""
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['pyarrow'] = None\n")
    (tmp_path / "in.csv").write_text("x,y\n1,2\n0.5,-1e-7\n")
    env = env_for({"PYTHONPATH": f"{tmp_path}{os.pathsep}{env_for()['PYTHONPATH']}"})
    r = subprocess.run([sys.executable, "-m", "cgraph", "eval", "x*y", "--data", "in.csv"],
                       capture_output=True, cwd=tmp_path, env=env)
    assert (r.returncode, r.stderr) == (0, b"")
    assert r.stdout == b"x,y,f,df_dx,df_dy\n1,2,2,2,1\n0.5,-1e-7,-5e-8,-1e-7,0.5\n"


def test_a_build_of_another_interface_is_not_called(monkeypatch):
    """An editable install keeps its old build after a pull that changes the C++ side:
    that build (here: one without INTERFACE, and one of another) is passed over, and Arrow
    does the work, rather than a call with the wrong arguments."""
    import types

    import cgraph

    for stale in (types.ModuleType("cgraph._csvrows"),
                  types.SimpleNamespace(INTERFACE=data.CSVROWS + 1)):
        monkeypatch.setitem(sys.modules, "cgraph._csvrows", stale)
        monkeypatch.setattr(cgraph, "_csvrows", stale, raising=False)
        data.compiled.cache_clear()
        try:
            assert data.compiled() is None and data.native_rows() is None
        finally:
            data.compiled.cache_clear()
    monkeypatch.undo()
    if native is not None:
        assert data.compiled() is native and native.INTERFACE == data.CSVROWS


@needs_native
@pytest.mark.parametrize("call, printed", [
    # a table of the right size but not Schubfach's: rows() looped for ever (an all-zero
    # one) or wrote digits before its buffer; now such digits are left to std::to_chars
    ("_csvrows.rows([np.array([1.5, -2e-300, 0.1])], b'NaN', b'Infinity', b'-Infinity', "
     "bytes(len(data.powers_of_ten())))", "b'1.5\\n-2e-300\\n0.1\\n'"),
    # a width the block cannot have: cells() allocated a slot per column and aborted the
    # process (std::length_error) at 2^62
    ("_csvrows.cells(b'1\\n', 2**62, [0])", "None"),
], ids=["zero-table", "huge-width"])
def test_a_wrong_argument_ends_in_a_result_not_a_hang_or_an_abort(call, printed):
    """Found by fuzzing (atheris, ASan): each ran in a process of its own here, since
    before the fix one hung and one aborted."""
    code = f"import numpy as np\nfrom cgraph import _csvrows, data\nprint({call})"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=env_for(), timeout=60)
    assert (r.returncode, r.stdout.strip(), r.stderr) == (0, printed, "")
