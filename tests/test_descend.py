"""`cgraph descend`: the tutorial's training loop."""

from __future__ import annotations

import csv
import io
import json
import os
import re

import numpy as np
import pytest
from click.testing import CliRunner

import cgraph
from cgraph import numtext
from cgraph.descend import descend, sparkline
from cgraph.cli import cli


def run(*args, input=None):
    return CliRunner().invoke(cli, ["descend", *args], input=input, catch_exceptions=False)


def test_first_example():
    r = run("(w*x + b - y)^2", "w=0", "b=0", "x=2", "y=5", "--wrt", "w,b", "--lr", "0.05",
            "--steps", "200")
    doc = json.loads(r.stdout)
    w, b = doc["weights"]["w"], doc["weights"]["b"]
    assert abs(2 * w + b - 5) < 1e-9 and doc["cost"] < 1e-15
    assert doc["steps"] == 200 and doc["stopped"] == "200 steps"
    assert doc["start"] == {"weights": {"w": 0.0, "b": 0.0}, "cost": 25.0}


@pytest.fixture
def regression_csv(tmp_path):
    """Data from y = 3x1 - 2x2 + 0.5 exactly: the minimum is at the true weights."""
    rng = np.random.default_rng(42)
    x1, x2 = rng.normal(size=500), rng.normal(size=500)
    y = 3 * x1 - 2 * x2 + 0.5
    path = tmp_path / "samples.csv"
    path.write_text("x1,x2,y\n" + "".join(f"{a!r},{b!r},{c!r}\n" for a, b, c in
                                         zip(x1.tolist(), x2.tolist(), y.tolist())))
    return path


@pytest.mark.parametrize("optimizer,lr,epochs,batch", [
    ("gd", "0.1", "400", None), ("momentum", "0.05", "300", None),
    ("adam", "0.05", "1500", None), ("gd", "0.05", "60", "50"),
])
def test_linear_regression_recovers_the_weights(regression_csv, optimizer, lr, epochs, batch):
    args = ["(w1*x1 + w2*x2 + b - y)^2", "w1=0.1", "w2=-0.2", "b=0", "--data",
            str(regression_csv), "--wrt", "w1,w2,b", "--lr", lr, "--epochs", epochs,
            "--optimizer", optimizer]
    if batch:
        args += ["--batch-size", batch, "--seed", "3"]
    doc = json.loads(run(*args).stdout)
    for name, want in {"w1": 3.0, "w2": -2.0, "b": 0.5}.items():
        assert abs(doc["weights"][name] - want) < 1e-6, (name, doc)


def test_rosenbrock_with_adam_reaches_the_minimum():
    r = run("(a-1)^2 + 100*(b-a^2)^2", "a=-1", "b=1", "--optimizer", "adam", "--lr", "0.01",
            "--steps", "5000")
    doc = json.loads(r.stdout)
    assert abs(doc["weights"]["a"] - 1) < 1e-3 and abs(doc["weights"]["b"] - 1) < 1e-3


def test_until_says_why_it_stopped():
    doc = json.loads(run("(a-1)^2 + 100*(b-a^2)^2", "a=-1", "b=1", "--lr", "1e-3",
                         "--until", "1e-8").stdout)
    assert doc["stopped"].startswith("cost change") and doc["steps"] < 100_000
    doc = json.loads(run("(x-3)^2", "x=0", "--lr", "0.1", "--until", "1e-6").stdout)
    assert doc["stopped"].startswith(("gradient norm", "cost change"))
    assert abs(doc["weights"]["x"] - 3) < 1e-2  # a cost change of 1e-6: |x - 3| ~ 1e-3


def test_trace_has_one_row_per_step(tmp_path):
    trace = tmp_path / "run.csv"
    run("(w*x - y)^2", "w=0", "x=2", "y=4", "--lr", "0.05", "--steps", "25", "--wrt", "w",
        "--trace", str(trace))
    rows = list(csv.reader(io.StringIO(trace.read_text())))
    assert rows[0] == ["step", "cost", "w", "grad_w"]
    assert len(rows) == 26 and [r[0] for r in rows[1:]] == [str(k) for k in range(1, 26)]
    assert rows[1] == ["1", "16", "0", "-16"]  # cost (0·2-4)², ∂/∂w = 2(wx-y)x = -16
    w1 = float(rows[2][2])
    assert w1 == 0 - 0.05 * -16


@pytest.mark.parametrize("trace", ["-", "/dev/stdout", "/dev/fd/1"])
def test_a_trace_on_standard_output_is_refused(trace, tmp_path):
    """`descend … --trace -` wrote the trace's rows, then the result, both on standard
    output: neither read as what it is. The result always goes there, so the trace may
    not; standard error may take it (as the shell opened it: `2>> log` appends), and the
    two then read apart."""
    import subprocess
    import sys

    args = [sys.executable, "-m", "cgraph", "descend", "(x-1)^2", "x=0", "--steps", "3"]
    r = subprocess.run([*args, "--trace", trace], capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == (f"Error: --trace {trace}: standard output carries descend's result; "
                        "write the trace to a file (--trace run.csv) or to standard error "
                        "(--trace /dev/stderr)\n")
    log = tmp_path / "log.txt"
    log.write_text("keep\n")
    with open(log, "a") as err:
        apart = subprocess.run([*args, "--trace", "/dev/stderr", "--format", "json"],
                               stdout=subprocess.PIPE, stderr=err, text=True)
    assert apart.returncode == 0 and json.loads(apart.stdout)["steps"] == 3
    kept, *rows = csv.reader(io.StringIO(log.read_text()))
    assert kept == ["keep"] and rows[0] == ["step", "cost", "x", "grad_x"] and len(rows) == 4
    assert sorted(os.listdir(tmp_path)) == ["log.txt"]  # no temporary file


def test_a_trace_onto_the_file_standard_output_writes_is_refused(tmp_path):
    """`descend … --format json --trace run.csv > run.csv`: the result went to the file the
    shell opened, then the trace was renamed over it: exit 0, and the result was gone
    (trial8's finding). The trace's path is standard output's file there, as /dev/stdout
    is; a link to /dev/stdout with stdout a pipe too. /dev/null for both is no loss."""
    import subprocess
    import sys

    args = [sys.executable, "-m", "cgraph", "descend", "(x-1)^2", "x=0", "--steps", "3",
            "--format", "json"]
    out = tmp_path / "run.csv"
    with open(out, "w") as stdout:
        r = subprocess.run([*args, "--trace", str(out)], stdout=stdout,
                           stderr=subprocess.PIPE, text=True)
    assert r.returncode == 2 and out.read_text() == ""
    # (it said "write the trace to a file (--trace run.csv)", which it was: trial9)
    assert r.stderr == (f"Error: --trace {out}: standard output goes to that file too, and "
                        "carries descend's result; send the result elsewhere (> result.json) "
                        "or the trace to another file\n")
    link = tmp_path / "so.csv"
    link.symlink_to("/dev/stdout")
    r = subprocess.run([*args, "--trace", str(link)], capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (2, "") and "carries descend's result" in r.stderr
    with open(os.devnull, "w") as null:
        r = subprocess.run([*args, "--trace", os.devnull], stdout=null)
    assert r.returncode == 0
    both = tmp_path / "both.txt"  # `--trace /dev/stderr > both.txt 2>&1`: asked for, kept
    with open(both, "w") as stdout:
        r = subprocess.run([*args, "--trace", "/dev/stderr"], stdout=stdout, stderr=stdout)
    assert r.returncode == 0 and both.read_text().startswith("step,cost,x,grad_x\n")
    assert json.loads(both.read_text().split("\n", 4)[4])["steps"] == 3


def test_divergence_exits_1_naming_the_step():
    r = run("x^2", "x=1", "--lr", "1.5")
    assert r.exit_code == 1 and "diverged at step" in r.stderr and r.stdout == ""


def test_errors():
    r = run("(w*x)^2", "w=1", "x=1", "--wrt", "q")
    assert r.exit_code == 2 and "'q' is not a variable" in r.stderr
    r = run("(w*x)^2", "w=1", "--wrt", "w")
    assert r.exit_code == 2 and "no value for x" in r.stderr


def test_a_data_column_in_wrt_says_it_is_a_column(regression_csv):
    """--wrt naming a column of --data said "needs a starting value, e.g. x1=0", and
    binding x1=0 then says "'x1' is both a column and a binding": advice in a circle."""
    r = run("(w1*x1 - y)^2", "w1=0", "--data", str(regression_csv), "--wrt", "w1,x1")
    assert r.exit_code == 2 and r.stderr == (
        "Error: --wrt: 'x1' is a column of the --data file: its values come from the rows "
        "and are not trained\n")


def test_library_matches_cli_and_table_output():
    g = cgraph.parse("(w - 3)^2")
    result = descend(g, {"w": 0.0}, ["w"], lr=0.25, steps=1)
    assert result.weights == [1.5]
    three = descend(g, {"w": 0.0}, ["w"], lr=0.25, steps=3)
    assert three.weights == [2.625]  # 0 -> 1.5 -> 2.25 -> 2.625
    r = run("(w - 3)^2", "w=0", "--lr", "0.25", "--steps", "3", "--format", "table")
    rows = {line.split()[0]: line.split()[1:] for line in r.stdout.splitlines()
            if "│" in line}
    assert rows["w"] == ["│", "0", "│", "2.625"]
    assert rows["cost"] == ["│", "9", "│", "0.140625"]  # (2.625 - 3)^2
    assert r.stdout.rstrip().endswith("stopped: 3 steps")


def test_one_step_and_one_epoch_are_singular(tmp_path):
    r = run("(w - 3)^2", "w=0", "--steps", "1", "--format", "table")
    assert "after 1 step;" in r.stdout and r.stdout.rstrip().endswith("stopped: 1 step")
    assert json.loads(run("(w - 3)^2", "w=0", "--steps", "1").stdout)["stopped"] == "1 step"
    data = tmp_path / "d.csv"
    data.write_text("x\n1\n2\n")
    doc = json.loads(run("(w*x - 1)^2", "w=0", "--data", str(data), "--epochs", "1").stdout)
    assert doc["stopped"] == "1 epoch (1 step)"


def test_sparkline():
    assert sparkline([4, 3, 2, 1]) == "█▅▃▁"  # levels 7·(c-1)/3: 7, 4.7, 2.3, 0
    assert sparkline([1]) == ""


def test_newton_solves_rosenbrock_in_far_fewer_steps_than_adam():
    graph = cgraph.parse("(a-1)^2 + 100*(b-a^2)^2")
    start = {"a": -1, "b": 1}
    newton = descend(graph, start, ["a", "b"], steps=1000, until=1e-10, optimizer="newton")
    adam = descend(graph, start, ["a", "b"], lr=0.01, steps=100_000, until=1e-10,
                   optimizer="adam")
    assert newton.weights == pytest.approx([1.0, 1.0], abs=1e-9)
    assert newton.stopped.startswith("gradient norm") and newton.steps < 40
    assert adam.steps > 20 * newton.steps
    assert newton.notes == []  # positive definite all the way: no damping to report


def test_newton_damps_where_the_hessian_is_not_positive_definite():
    # at b = 0.1, ∂²f/∂b² = -2 + 12b² < 0: a pure Newton step would climb to the saddle
    graph = cgraph.parse("a^2 - b^2 + b^4")
    run = descend(graph, {"a": 1, "b": 0.1}, ["a", "b"], steps=100, until=1e-12,
                  optimizer="newton")
    assert run.weights == pytest.approx([0.0, 2 ** -0.5], abs=1e-9)
    assert run.notes and "not positive definite (smallest eigenvalue -1.88)" in run.notes[0]
    with pytest.raises(cgraph.CgraphError, match="does not take --data"):
        descend(graph, {"a": 1, "b": 0}, ["a"], optimizer="newton", data={"b": np.zeros(3)})


def test_newton_refuses_an_lr_it_would_ignore():
    """Newton's method steps by the Hessian: a given --lr is a usage error, not ignored, and
    the JSON does not report a learning rate that was not used."""
    r = CliRunner().invoke(cli, ["descend", "(x-1)^2", "x=0", "--optimizer", "newton",
                                 "--lr", "0.5"])
    assert r.exit_code == 2 and "--lr does not apply to --optimizer newton" in r.stderr
    doc = json.loads(run("(x-1)^2", "x=0", "--optimizer", "newton", "--steps", "3").stdout)
    assert doc["optimizer"] == "newton" and doc["lr"] is None
    assert json.loads(run("(x-1)^2", "x=0", "--steps", "3").stdout)["lr"] == 0.01


def test_an_interrupted_trace_says_where_it_stops(tmp_path):
    """Ctrl-C keeps the trace so far; the one line on standard error says it is incomplete
    and where it stops, as an interrupted eval --data does (it said "Interrupted." only)."""
    from cgraph.descend import TraceFile
    from cgraph.errors import Interrupted

    path = tmp_path / "run.csv"

    def ctrl_c_at_step_7(step, total):
        if step == 7:
            raise Interrupted()

    with pytest.raises(Interrupted) as caught:
        with TraceFile(str(path), ["x"]) as trace:
            descend(cgraph.parse("(x-1)^2"), {"x": 0}, ["x"], steps=100, trace=trace,
                    on_step=ctrl_c_at_step_7)
    rows = path.read_text().splitlines()
    assert len(rows) == 1 + 7 and rows[-1].startswith("7,")
    step, cost, x, _ = rows[-1].split(",")
    assert caught.value.note == (f"the trace {path} is incomplete: it stops after step 7; "
                                 f"at step 7 the cost was {cost}, at x={x}")


def test_an_interrupted_run_says_where_it_was():
    """Without --trace, Ctrl-C said "Interrupted." only: minutes of training, and not a
    word of the weights reached. It says the step, the cost and the weights (the first
    ten of a big model), as the trace's row of that step holds them."""
    from cgraph.errors import Interrupted

    rows = []

    def ctrl_c_at_step_7(step, total):
        if step == 7:
            raise Interrupted()

    with pytest.raises(Interrupted) as caught:
        descend(cgraph.parse("(x-1)^2 + (y+2)^2"), {"x": 0, "y": 0}, ["x", "y"], steps=100,
                trace=rows.append, on_step=ctrl_c_at_step_7)
    last = rows[-1]
    assert last.step == 7 and caught.value.note == (
        f"at step 7 the cost was {numtext.text(last.cost)}, at "
        f"x={numtext.text(last.weights[0])}, y={numtext.text(last.weights[1])}")
    wide = " + ".join(f"(w{i}-1)^2" for i in range(30))
    with pytest.raises(Interrupted) as caught:
        descend(cgraph.parse(wide), {f"w{i}": 0 for i in range(30)},
                [f"w{i}" for i in range(30)], steps=100, on_step=ctrl_c_at_step_7)
    assert caught.value.note.endswith(" and 20 more"), caught.value.note


def test_the_cost_curve_has_points_however_early_until_stops_the_run():
    """The sparkline's samples were every budget/200 steps: Newton stopping at step 20 of
    --until's 100,000 had one point and no curve; they now thin out as the run goes on."""
    graph = cgraph.parse("(a-1)^2 + 100*(b-a^2)^2")
    newton = descend(graph, {"a": -1, "b": 1}, ["a", "b"], steps=100_000, until=1e-10,
                     optimizer="newton")
    assert newton.steps == 20 and [s.step for s in newton.history] == list(range(1, 21))
    assert len(sparkline([s.cost for s in newton.history])) == 20
    long = descend(cgraph.parse("(x-1)^2"), {"x": 0}, ["x"], steps=5000, lr=1e-4)
    steps = [s.step for s in long.history]
    assert 100 <= len(steps) <= 200 and steps[0] == 1 and steps[-1] > 4000
    assert len({b - a for a, b in zip(steps, steps[1:])}) == 1  # evenly spaced


XOR_ORDER = ([f"W[{j},{i}]" for j in range(1, 5) for i in (1, 2)] + ["x[1]", "x[2]"]
             + [f"b[{j}]" for j in range(1, 5)] + [f"v[{j}]" for j in range(1, 5)]
             + ["c", "y"])


def test_weights_and_gradients_are_listed_family_by_family():
    """xor.cg's weights came out in order of first use, W[1,1], W[1,2], b[1], W[2,1], …,
    in descend's table and JSON and in eval's gradients (x[1] between W[1,1] and W[1,2]):
    each family is now listed whole, in index order, in the order the program uses them."""
    from pathlib import Path

    def cg(*args):
        r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return r.stdout

    ex = Path(__file__).parent.parent / "examples"
    xor = ["--file", str(ex / "xor.cg"), "--bindings", str(ex / "xor-init.json")]
    table = cg("descend", *xor, "--data", str(ex / "xor.csv"), "--epochs", "2", "--format",
                "table")
    rows = [line.split("│")[0].strip() for line in table.splitlines() if "│" in line]
    assert rows == [n for n in XOR_ORDER if n not in ("x[1]", "x[2]", "y")] + ["cost"]
    doc = json.loads(cg("descend", *xor, "--data", str(ex / "xor.csv"), "--epochs", "2",
                         "--format", "json"))
    assert list(doc["weights"]) == rows[:-1]
    point = [*xor, "x=[0,1]", "y=1"]
    assert list(json.loads(cg("eval", *point, "--format", "json"))["gradient"]) == XOR_ORDER
    summary = cg("eval", *point, "--format", "table").split("loss = ")[-1]
    assert [m for m in re.findall(r"∂loss/∂(\S+) =", summary)] == XOR_ORDER
    # --wrt keeps the order asked for
    asked = json.loads(cg("eval", *point, "--wrt", "b[2],W[1,1]", "--format", "json"))
    assert list(asked["gradient"]) == ["b[2]", "W[1,1]"]


@pytest.mark.parametrize("width", (40, 80))
def test_an_interrupted_run_names_only_the_weights_it_moved(width):
    """Without --wrt every bound variable is trained, and Ctrl-C listed them all: x=1
    too, whose gradient is 0 (step(x)), so descent never moves it. The line names the
    weights that moved, on a real terminal with its progress bar."""
    import re

    from terminal import on_terminal

    shown = on_terminal(["descend", "(w1*w2 - 2)^2 + step(x)", "w1=1", "w2=0.5", "x=1",
                         "--steps", "10000000"], width, timeout=120,
                        interrupt_when=lambda seen: re.search(  # the bar's 1%: moving
                            rb"\b[1-9]\d*%", b"".join(seen.values())))
    said = shown.stderr.strip().splitlines()[-1]
    assert shown.status == 130 and said.startswith("Interrupted: at step "), shown.stderr
    assert re.search(r", at w1=[-\d.e]+, w2=[-\d.e]+\.$", said) and "x=" not in said, said

    from cgraph.errors import Interrupted

    def ctrl_c_at_step_1(step, total):
        raise Interrupted()

    with pytest.raises(Interrupted) as caught:  # before a weight moves
        descend(cgraph.parse("(w-1)^2 + step(x)"), {"w": 1.0, "x": 1.0}, ["w", "x"],
                steps=100, on_step=ctrl_c_at_step_1)
    assert caught.value.note == "at step 1 the cost was 1, the weights as given"


def _mean_cost(path, w1, w2, b):
    """The oracle: numpy's mean of the squared error over every row of the file."""
    rows = np.loadtxt(path, delimiter=",", skiprows=1)
    return float(np.mean((w1 * rows[:, 0] + w2 * rows[:, 1] + b - rows[:, 2]) ** 2))


@pytest.mark.parametrize("extra", [["--epochs", "3"], ["--until", "1e-4", "--epochs", "400"]])
def test_mini_batches_report_the_whole_data_s_cost_and_stop_on_epochs(regression_csv, extra):
    """With --batch-size a step's cost is one batch's: the start and the end are reported
    as the whole data's cost (the first batch's was reported as the start), and --until
    compares epochs' mean costs, not two batches' (it stopped on noise)."""
    doc = json.loads(run("(w1*x1 + w2*x2 + b - y)^2", "w1=0.1", "w2=-0.2", "b=0", "--data",
                         str(regression_csv), "--lr", "0.05", "--batch-size", "50",
                         "--seed", "3", *extra).stdout)
    start = _mean_cost(regression_csv, 0.1, -0.2, 0)
    assert doc["start"]["cost"] == pytest.approx(start, rel=1e-12)
    w = doc["weights"]
    assert doc["cost"] == pytest.approx(_mean_cost(regression_csv, w["w1"], w["w2"], w["b"]),
                                        rel=1e-9, abs=1e-15)
    if "--until" in extra:  # 500 rows in batches of 50: an epoch is 10 steps
        assert doc["stopped"].startswith(("cost change", "gradient norm")), doc["stopped"]
        assert (doc["steps"] + 1) % 10 == 0 and doc["steps"] < 3999
    else:
        assert doc["stopped"] == "3 epochs (30 steps)"
