"""cgraph's benchmarks, side by side with baselines and peers: one table of medians.

    python benchmarks/run.py            # everything (about 9 minutes on 2 cores)
    python benchmarks/run.py --quick    # fewer repetitions, smaller sizes
    python benchmarks/run.py --only big,batch   # some sections

Every ratio is cgraph's time over the baseline's, both measured in this run on this
machine; each row states its target. Missing peers (torch, jax, micrograd, sympy) are
reported as missing, not fatal. Install the light ones with `pip install -e '.[bench]'`;
torch is used only if importable (here: `pip install torch==2.13.0`, the CPU wheel on
disk).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import baselines  # noqa: E402

import cgraph  # noqa: E402
from cgraph import eval_formats as report  # noqa: E402
from cgraph.diff import differentiate  # noqa: E402

ROWS: list[tuple] = []
PY = sys.executable
CGRAPH = f"{PY} -m cgraph"  # from the compiled copy that compiled_install() puts first


def compiled_install(tmp: Path) -> str:
    """Copy this cgraph (the one `import cgraph` finds) with its .pyc files compiled, as
    `pip install .` leaves it, and put it first on the path of every command measured.
    (PYTHONDONTWRITEBYTECODE=1 on these machines would otherwise make cgraph recompile its
    modules on every run, which installed copies never do.) The baselines' libraries are
    installed packages with .pyc files already."""
    import compileall

    site = tmp / "site"
    shutil.copytree(Path(cgraph.__file__).parent, site / "cgraph",
                    ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(site, quiet=1)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(site)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    return str(site)

def row(section, name, ours, base_name, base, target=None, unit="s", note=""):
    ratio = ours / base if base else None
    ok = "" if target is None or ratio is None else ("yes" if ratio <= target else "NO")
    ROWS.append((section, name, ours, unit, base_name, base, ratio, target, ok, note))


def median(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


_MEASURE = """
import os, resource, subprocess, sys, time
stdin = open(sys.argv[2], "rb") if len(sys.argv) > 2 else subprocess.DEVNULL
t = time.perf_counter()
code = subprocess.call(sys.argv[1], shell=True, stdin=stdin, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
elapsed = time.perf_counter() - t
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(code, elapsed, use.ru_maxrss, use.ru_utime + use.ru_stime)
"""


def run_command(cmd: str, stdin_path=None) -> tuple[float, float, float]:
    """Wall time, peak RSS (MiB) and CPU time (user + system) of one shell command, measured
    from a small parent process (so the peak is the command's own, not a copy of this big
    process, and the CPU time is the command's alone)."""
    args = [sys.executable, "-c", _MEASURE, cmd] + ([str(stdin_path)] if stdin_path else [])
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout.split()
    code, elapsed, peak_kib, cpu = int(out[0]), float(out[1]), int(out[2]), float(out[3])
    if code != 0:
        raise RuntimeError(f"failed ({code}): {cmd}")
    return elapsed, peak_kib / 1024, cpu


def cpu_note(cpu: dict, ours: str, base: str) -> str:
    """The same rounds' CPU times (medians), which a loaded machine disturbs less than
    wall time."""
    a, b = statistics.median(cpu[ours]), statistics.median(cpu[base])
    return f"CPU {a * 1e3:.1f} / {b * 1e3:.1f} ms = {a / b:.2f}"


def wide_sum(nodes: int) -> str:
    return " + ".join(f"{(i % 7) + 1.5}*sin({(i % 5) + 1}*x)" for i in range(nodes // 6))


def chain(nodes: int) -> str:
    return "t0 = x\n" + "\n".join(f"t{i} = sin(t{i - 1})*c + t{i - 1}*d"
                                  for i in range(1, nodes // 4 + 1))


def dag(steps: int = 20) -> str:
    return "t0 = x\n" + "\n".join(f"t{i} = t{i - 1}*t{i - 1}*0.5 + t{i - 1}"
                                  for i in range(1, steps + 1))


POINT = {"x": 0.01, "c": 0.9, "d": 0.3}


STARTUP = {  # name -> command; cgraph's own beside the floor a user would compare it to
    "json": f'{CGRAPH} eval "(x+y)*z" x=1 y=3 z=-3 --format json',
    "import click": f'{PY} -c "import click"',
    "table": f'{CGRAPH} eval "(x+y)*z" x=1 y=3 z=-3 --format table',
    "import click, rich": f'{PY} -c "import click, rich.console, rich.table"',
    "library": f'{PY} -c "import cgraph; cgraph.parse(\'(x+y)*z\').evaluate('
               f'dict(x=1, y=3, z=-3)).gradient()"',
    "pass": f'{PY} -c pass',
}


def bench_startup(repeat):
    for cmd in STARTUP.values():  # warm the OS file cache
        run_command(cmd)
    times, cpu = {k: [] for k in STARTUP}, {k: [] for k in STARTUP}
    for _ in range(repeat):  # interleaved, so drifts in machine load hit all alike
        for k, cmd in STARTUP.items():
            wall, _, c = run_command(cmd)
            times[k].append(wall)
            cpu[k].append(c)
    t = {k: statistics.median(v) for k, v in times.items()}
    row("start-up", "eval tutorial --format json", t["json"], "python -c 'import click'",
        t["import click"], 1.15, note=cpu_note(cpu, "json", "import click"))
    row("start-up", "eval tutorial --format table", t["table"],
        "python -c 'import click, rich.console, rich.table'", t["import click, rich"], 1.10,
        note=cpu_note(cpu, "table", "import click, rich"))
    row("start-up", "import cgraph + one evaluation (library script)", t["library"],
        "python -c pass", t["pass"], 2.5, note=cpu_note(cpu, "library", "pass"))


def bench_whole_process(sizes, repeat, tmp: Path):
    """The same program end to end, as a user runs it: `cgraph eval --file` against a
    script of the peer library that builds it in a loop (interpreter start included).

    The peer scripts print the value and the gradient: `--fields value,gradient` is the
    same job (the target's rows); `--format json` also writes every node's record. The
    floor is cgraph's own start-up, the same command on the tutorial's 5-node program, run
    in the same rounds (eval's usual command lines no longer import click: see argv.py)."""
    peers = [("micrograd", baselines.MICROGRAD_SCRIPT)] if _try("micrograd") else []
    peers += [("PyTorch scalar", baselines.TORCH_SCRIPT)] if _try("torch") else []
    scripts = {}
    for name, source in peers:
        scripts[name] = tmp / f"peer_{name.split()[0]}.py"  # not micrograd.py: it shadows
        scripts[name].write_text(source)
    floor = "eval tutorial --fields value,gradient"
    for kind in ("sum", "chain"):
        for nodes in sizes:
            n = nodes // 2
            text, bindings = baselines.peer_program(kind, n)
            path = tmp / f"{kind}{nodes}.cg"
            path.write_text(text)
            size = len(cgraph.parse(text).nodes)
            args = " ".join(f"{k}={v!r}" for k, v in bindings.items())
            ours = {"--format json": f"{CGRAPH} eval --file {path} {args} --format json",
                    "--fields value,gradient": f"{CGRAPH} eval --file {path} {args} "
                                               "--fields value,gradient"}
            cmds = {**ours, **{p: f"{PY} {scripts[p]} {kind} {n}" for p in scripts},
                    floor: f'{CGRAPH} eval "(x+y)*z" x=1 y=3 z=-3 --fields value,gradient'}
            times, cpu = {k: [] for k in cmds}, {k: [] for k in cmds}
            for _ in range(repeat):  # interleaved
                for k, cmd in cmds.items():
                    wall, _, c = run_command(cmd)
                    times[k].append(wall)
                    cpu[k].append(c)
            t = {k: statistics.median(v) for k, v in times.items()}
            target = 0.8 if size >= 10**4 else None
            for how in ours:
                label = f"{kind} of {size:,} nodes, eval {how}"
                for p in scripts:  # the target is the same job's: value and gradient
                    row("whole process", label, t[how], f"{p} script", t[p],
                        target if how.startswith("--fields") else None,
                        note=cpu_note(cpu, how, p))
                if not scripts:
                    row("whole process", label, t[how], "micrograd, torch not installed",
                        None)
            row("whole process", f"{kind} of {size:,} nodes, eval --fields value,gradient "
                "[floor: cgraph's start-up]", t["--fields value,gradient"], floor, t[floor],
                note=cpu_note(cpu, "--fields value,gradient", floor))


def bench_big(nodes, repeat, tmp: Path):
    torch = _try("torch")
    for name, text, bind in [("wide sum", wide_sum(nodes), "x=0.01"),
                             ("chain", chain(nodes), "x=0.01 c=0.9 d=0.3"),
                             ("DAG t=t*t*0.5+t x20", dag(), "x=0.01")]:
        path = tmp / f"{name.split()[0]}.cg"
        path.write_text(text)
        graph = cgraph.parse(text)
        label = f"{name} ({len(graph.nodes):,} nodes)"
        point = {k: v for k, v in POINT.items() if k in graph.variables}
        if len(graph.nodes) > 1000:  # for tiny programs start-up is all there is
            # (whole-command times against peers: the "whole process" section)
            cmd = f"{CGRAPH} eval - {bind} --format json"
            runs = [run_command(cmd, path) for _ in range(repeat)]
            row("10^5 nodes", f"{label}: peak memory", max(r[1] for r in runs), "limit",
                100.0, 1.0, unit="MiB")
        values = graph.forward(point)
        fwd_bwd = median(lambda: graph.backward(graph.forward(point)), repeat)
        tape = median(lambda: baselines.tape_build_forward_backward(graph, point), repeat)
        row("10^5 nodes", f"{label}: forward+backward", fwd_bwd, "pure-Python tape", tape,
            1.0)
        if torch:
            t = median(lambda: baselines.torch_build_forward_backward(graph, point),
                       max(1, repeat // 2))
            row("10^5 nodes", f"{label}: forward+backward", fwd_bwd, "PyTorch scalar autograd",
                t, 0.5)
        else:
            row("10^5 nodes", f"{label}: PyTorch", fwd_bwd, "torch not installed", None)
        del values


def bench_scaling(sizes, repeat):
    cgraph.parse("x")  # the first call imports what cgraph.parse needs: not a parse
    for shape, make in (("chain", chain), ("sum", wide_sum)):
        for n in sizes:
            text = make(n)
            t_parse = median(lambda: cgraph.parse(text), max(1, repeat // 2))
            graph = cgraph.parse(text)
            point = {k: v for k, v in POINT.items() if k in graph.variables}
            t_fwd = median(lambda: graph.forward(point), repeat)
            values = graph.forward(point)
            t_bwd = median(lambda: graph.backward(values), repeat)
            ev = graph.evaluate(point)
            t_json = median(lambda: sum(map(len, report.json_chunks(ev))),
                            max(1, repeat // 2))
            per = 1e6 / len(graph.nodes)
            ROWS.append((f"scaling ({shape})", f"{len(graph.nodes):>9,} nodes: µs/node parse "
                         f"{t_parse * per:.2f}, forward {t_fwd * per:.2f}, backward "
                         f"{t_bwd * per:.2f}, json {t_json * per:.2f}",
                         t_parse + t_fwd + t_bwd + t_json, "s", "", None, None, None, "", ""))


_MEMORY = """
import resource, sys, time
import cgraph
cgraph.parse("x")  # imports and LALR tables: not part of the program's memory
with open(sys.argv[1], encoding="utf-8") as fh:
    text = fh.read()
point = {"x": 0.01, "c": 0.9, "d": 0.3}
if sys.argv[2] == "tracemalloc":
    import tracemalloc
    tracemalloc.start()
    ev = cgraph.parse(text).evaluate(point)
    peak = tracemalloc.get_traced_memory()[1]
else:
    with open("/proc/self/statm") as fh:
        before = int(fh.read().split()[1]) * resource.getpagesize()
    t = time.process_time()
    ev = cgraph.parse(text).evaluate(point)
    # VmHWM, this process image's own peak: ru_maxrss keeps the peak of the process
    # before exec, which here is a fork of the big benchmark process
    with open("/proc/self/status") as fh:
        hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    peak = hwm * 1024 - before
print(len(ev.graph.nodes), peak)
"""


def bench_memory(nodes, tmp: Path):
    """Peak memory of parse + evaluate of a chain, per node, in a fresh process: its peak
    RSS less its RSS before parsing (what the machine gives the program), and the peak
    of Python's allocations (tracemalloc: the objects alone, without allocator slack)."""
    path = tmp / "memory.cg"
    path.write_text(chain(nodes))
    for how in ("rss", "tracemalloc"):
        out = subprocess.run([PY, "-c", _MEMORY, str(path), how], capture_output=True,
                             text=True, check=True).stdout.split()
        size, peak = int(out[0]), int(out[1])
        what = "peak RSS - RSS before" if how == "rss" else "tracemalloc peak"
        row("scaling (memory)", f"chain of {size:,} nodes: parse + evaluate, {what}",
            peak / size, "budget", 300, 1.0, unit="B/node")


def bench_expansion(terms, repeat):
    """A comprehension expands at parse time: `sum(w[i] * x[i] for i in 1..n)` against the
    same sum written out (issue 14: within 2x, linear, no recursion)."""
    short = f"sum(w[i] * x[i] for i in 1..{terms})"
    long = " + ".join(f"w[{i}] * x[{i}]" for i in range(1, terms + 1))
    t_short = median(lambda: cgraph.parse(short), repeat)
    t_long = median(lambda: cgraph.parse(long), repeat)
    nodes = len(cgraph.parse(short).nodes)
    row("language", f"sum(w[i]*x[i] for i in 1..{terms:,}) parse ({nodes:,} nodes)", t_short,
        "the sum written out", t_long, 2.0)


def bench_batch(points, repeat, tmp: Path):
    graph = cgraph.parse("sin(x)*exp(-y^2) + log(1+x^2)*y")
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-2, 2, points), rng.uniform(-2, 2, points)
    runs = {"ours": lambda: graph.evaluate_batch({"x": x, "y": y}),
            "hand": lambda: baselines.numpy_by_hand(x, y)}
    if _try("torch"):
        runs["torch"] = lambda: baselines.torch_batch(x, y)
    if _try("jax"):
        jax_run = baselines.jax_batch()
        runs["jax"] = lambda: jax_run(x, y)
    for fn in runs.values():  # warm: JAX compiles, cgraph compiles its kernel
        fn()
    times = {k: [] for k in runs}
    cpu = {k: [] for k in runs}
    for _ in range(5 * repeat):  # interleaved, many times: the machine is shared and noisy
        for k, fn in runs.items():
            c, t = time.process_time(), time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
            cpu[k].append(time.process_time() - c)
    t = {k: statistics.median(v) for k, v in times.items()}
    c = {k: statistics.median(v) * 1e3 for k, v in cpu.items()}
    label = f"f(x,y) at {points:,} points, value + 2 gradients"
    note = f"CPU ms, cgraph {c['ours']:.1f}, numpy {c['hand']:.1f}"
    row("batch", label, t["ours"], "numpy by hand (1 thread)", t["hand"], 0.7, note=note)
    if "jax" in t:
        row("batch", label, t["ours"], "jax.jit(vmap(value_and_grad)), numpy in/out",
            t["jax"], 0.9, note=f"CPU ms, jax {c['jax']:.1f}")
    else:
        row("batch", label, t["ours"], "jax not installed", None)
    if "torch" in t:
        row("batch", label, t["ours"], "PyTorch autograd", t["torch"], 1.0)


DATA_PROGRAM = "sin(x)*exp(-y^2) + log(1+x^2)*y"


def _with_cpu(cmd: str) -> tuple[float, float, float]:
    """run_command's wall time and peak RSS, and the CPU time (user + system) of the
    command and its threads (with the small measuring process around it)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t, mib, _ = run_command(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return t, mib, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_data(sizes, repeat, tmp: Path):
    """`eval --data` end to end against a polars script doing the same job (read the CSV,
    the value and both gradients, every column written at round-trip precision) and
    against itself without its compiled part (as installed without a C++ compiler), and
    cgraph's peak memory, which must stay flat for any file size (CSV or Parquet)."""
    import pyarrow.csv
    import pyarrow.parquet

    script = tmp / "with_polars.py"
    script.write_text(baselines.POLARS_SCRIPT)
    without = tmp / "without_compiled_part"  # cgraph as an install without a C++ compiler
    without.mkdir(exist_ok=True)
    (without / "sitecustomize.py").write_text(
        "import sys\nsys.modules['cgraph._csvrows'] = None  # not built\n")
    has_polars = _try("polars")
    rng = np.random.default_rng(0)
    for rows in sizes:
        csv = tmp / f"pts{rows}.csv"
        with open(csv, "w") as fh:
            fh.write("x,y\n")
            for start in range(0, rows, 100_000):
                n = min(100_000, rows - start)
                x, y = rng.uniform(-2, 2, n).tolist(), rng.uniform(-2, 2, n).tolist()
                fh.write("".join(f"{a!r},{b!r}\n" for a, b in zip(x, y)))
        ours, theirs, arrow, peak = [], [], [], []
        cpu = {"ours": [], "polars": [], "arrow": []}
        command = f"{CGRAPH} eval '{DATA_PROGRAM}' --data {csv}"
        for _ in range(repeat):  # interleaved
            t, mib, c = _with_cpu(command)
            ours.append(t)
            peak.append(mib)
            cpu["ours"].append(c)
            if has_polars:
                t, _, c = _with_cpu(f"{PY} {script} {csv}")
                theirs.append(t)
                cpu["polars"].append(c)
            t, _, c = _with_cpu(f"PYTHONPATH={without}:$PYTHONPATH {command}")
            arrow.append(t)
            cpu["arrow"].append(c)
        label = f"eval --data, {rows:,} CSV rows end to end"
        note = f"CPU time {statistics.median(cpu['ours']):.2f} s against "
        if has_polars:  # both use both cores; on a busy machine CPU time says more
            row("data", label, statistics.median(ours),
                "polars: read_csv + formulas + write_csv", statistics.median(theirs), 1.0,
                note=note + f"{statistics.median(cpu['polars']):.2f} s")
            row("data", label + " [without the compiled part: Arrow's path, CPU time "
                f"{statistics.median(cpu['arrow']):.2f} s]", statistics.median(arrow),
                "polars: read_csv + formulas + write_csv", statistics.median(theirs))
        else:
            row("data", label, statistics.median(ours), "polars not installed", None)
        row("data", label, statistics.median(ours), "cgraph without the compiled part "
            "(Arrow)", statistics.median(arrow),
            note=note + f"{statistics.median(cpu['arrow']):.2f} s")
        row("data", f"eval --data, {rows:,} CSV rows: peak memory", max(peak), "limit",
            150.0, 1.0, unit="MiB")
        pq = tmp / f"pts{rows}.parquet"  # the same points in Parquet, to CSV on stdout
        pyarrow.parquet.write_table(pyarrow.csv.read_csv(csv), pq, row_group_size=65536)
        t, mib, _ = run_command(f"{CGRAPH} eval '{DATA_PROGRAM}' --data {pq}")
        row("data", f"eval --data, {rows:,} Parquet rows: peak memory", mib, "limit", 150.0,
            1.0, unit="MiB", note=f"{t:.2f} s end to end")
        csv.unlink()
        pq.unlink()


_LIBRARY_SCRIPT = """
import gc, json, statistics, sys
sys.path.insert(0, sys.argv[1])
import baselines, cgraph

kind, n, samples = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
text, point = baselines.peer_program(kind, n)

def ours():
    cgraph.parse(text).evaluate(point).gradient()

def theirs():
    baselines.micrograd_loop(kind, n)

one = statistics.median(baselines.per_call(theirs, 1) for _ in range(3))
calls = max(1, round(0.02 / one))
times = {"ours": [], "theirs": [], "ours_off": [], "theirs_off": []}
for off in ("", "_off"):  # the collector on (as in any script), then off
    if off:
        gc.disable()
    for _ in range(samples):  # interleaved
        for side, fn in (("ours", ours), ("theirs", theirs)):
            if off:
                gc.collect()  # (between samples, untimed: garbage would pile up)
            times[side + off].append(baselines.per_call(fn, calls))
print(json.dumps({"nodes": len(cgraph.parse(text).nodes), **times}))
"""


def bench_library_peers(repeat):
    """In a script (no process start): `cgraph.parse(text).evaluate(point).gradient()`
    against the micrograd loop its users write for the same function (build, which is the
    forward pass, then backward), both programs of baselines.peer_program, interleaved.

    Each pair of kind and size runs in a fresh process that imports only cgraph and
    micrograd, as a user's script does: in this one, the heap the other sections leave
    (numpy, torch, jax, big graphs) makes each of the collector's full passes cost
    milliseconds, and micrograd's closures, which form cycles, set them off (its 999-node
    chain took 1.7 ms in one run and 15.9 ms in the next). Each sample is the mean of a
    loop of calls lasting about 20 ms, with the collector on, so each side pays for its own
    collections (medians of single calls swung from 1.8 to 3.8 on the same code); 11
    samples or more, alternated. The row's note gives both with the collector off."""
    if not _try("micrograd"):
        row("peers", "library parse+evaluate", None, "micrograd not installed", None)
        return
    here = str(Path(__file__).parent)
    for kind in ("sum", "chain"):
        for nodes in (10**2, 10**3, 10**4):
            n = baselines.peer_size(kind, nodes)
            out = subprocess.run([PY, "-c", _LIBRARY_SCRIPT, here, kind, str(n),
                                  str(max(11, repeat))], capture_output=True, text=True,
                                 check=True).stdout
            got = {k: v if k == "nodes" else statistics.median(v)
                   for k, v in json.loads(out).items()}
            row("peers", f"library: {kind} of {got['nodes']:,} nodes, parse+evaluate+gradient"
                f" [collector off: {fmt(got['ours_off'], 's')} against "
                f"{fmt(got['theirs_off'], 's')}]", got["ours"],
                "micrograd loop: build+backward", got["theirs"], 1.0)


def bench_peers(repeat):
    bench_library_peers(repeat)
    terms = 900  # micrograd's recursive topological sort fails past ~990 terms
    text = " + ".join(f"x{i % 50}*w{i % 37}" for i in range(terms))
    graph = cgraph.parse(text)
    point = {v: 0.5 for v in graph.variables}
    ours = median(lambda: cgraph.parse(text).evaluate(point), repeat)
    label = f"{terms}-term sum of products: parse+fwd+bwd"
    if _try("micrograd"):
        t = median(lambda: baselines.micrograd_build_forward_backward(graph, point), repeat)
        row("peers", label, ours, "micrograd build+fwd+bwd", t)
        big = cgraph.parse(" + ".join(f"x*w{i % 37}" for i in range(2000)))
        try:
            baselines.micrograd_build_forward_backward(big, {v: 0.5 for v in big.variables})
        except RecursionError:
            ROWS.append(("peers", "2,000-term sum", None, "s", "micrograd", None, None, None,
                         "", "micrograd: RecursionError; cgraph: fine at 10^6 nodes"))
    else:
        row("peers", label, ours, "micrograd not installed", None)
    if _try("torch"):
        t = median(lambda: baselines.torch_build_forward_backward(graph, point), repeat)
        row("peers", label, ours, "PyTorch scalar autograd", t)
    if _try("sympy"):
        steps, cap = 15, 20.0
        text = chain(4 * steps)
        ours = median(lambda: differentiate(cgraph.parse(text), ["x"]).text(),
                      repeat)
        code = ("import sympy as sp; x,c,d=sp.symbols('x c d'); t=x\n"
                f"for _ in range({steps}): t = sp.sin(t)*c + t*d\n"
                "sp.count_ops(sp.diff(t, x))")
        t0 = time.perf_counter()
        try:
            subprocess.run([sys.executable, "-c", code], timeout=cap, check=True)
            t = time.perf_counter() - t0
            note = ""
        except subprocess.TimeoutExpired:
            t, note = cap, f"SymPy stopped at the {cap:.0f} s cap"
        row("peers", f"symbolic d/dx of a {steps}-step chain", ours, "SymPy diff", t,
            note=note)


def bench_descend(repeat, tmp: Path):
    from cgraph.descend import descend

    g = cgraph.parse("(w*x + b - y)^2")
    steps = 20_000
    t = median(lambda: descend(g, {"w": 0.0, "b": 0.0, "x": 2.0, "y": 5.0}, ["w", "b"],
                               lr=0.05, steps=steps), max(1, repeat // 2))
    ROWS.append(("descend", f"first example: {steps / t:,.0f} steps/s", t, "s", "", None,
                 None, None, "", f"{steps:,} steps"))
    rng = np.random.default_rng(1)
    x1, x2 = rng.normal(size=10_000), rng.normal(size=10_000)
    data = {"x1": x1, "x2": x2, "y": 3 * x1 - 2 * x2 + 0.5}
    g = cgraph.parse("(w1*x1 + w2*x2 + b - y)^2")
    epochs, start = 200, {"w1": 0.1, "w2": -0.2, "b": 0.0}
    ours, hand, cpu = [], [], {"ours": [], "hand": []}
    for _ in range(5 * repeat):  # interleaved, many times: the machine is shared and noisy
        for times, key, fn in [
                (ours, "ours", lambda: descend(g, start, ["w1", "w2", "b"], lr=0.1,
                                               data=data, epochs=epochs)),
                (hand, "hand", lambda: baselines.numpy_descent(data, list(start.values()),
                                                               0.1, epochs))]:
            c, t = time.process_time(), time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) / epochs)
            cpu[key].append((time.process_time() - c) / epochs)
    c = {k: statistics.median(v) * 1e6 for k, v in cpu.items()}
    row("descend", "10,000-row --data, full batch: time per step", statistics.median(ours),
        "numpy loop by hand", statistics.median(hand), 1.0,
        note=f"CPU µs, cgraph {c['ours']:.0f}, numpy {c['hand']:.0f}")


def bench_hessian(sizes, repeat, sympy_max):
    """Hessian of the chained Rosenbrock function: n forward-over-reverse passes, so its
    cost over one gradient's should grow like n (the last column: that ratio over n)."""
    from cgraph.hessian import hessian

    for n in sizes:
        graph = cgraph.parse(baselines.rosenbrock(n))
        point = baselines.rosenbrock_point(n)
        wrt = [f"x{i}" for i in range(n)]
        grad = median(lambda: graph.evaluate(point), repeat)
        reps = max(1, repeat // (1 + n // 100))
        ours = median(lambda: hessian(graph, point, wrt), reps)
        per_n = f"hessian / gradient = {ours / grad:,.0f} = {ours / grad / n:.2f}·n"
        row("hessian", f"n={n}: cgraph hessian vs one gradient", ours, "cgraph gradient",
            grad, note=per_n)
        if n <= 100:  # one column per pass over the tape: n passes, each ~ a gradient
            single = median(lambda: hessian(graph, point, wrt, block=1), reps)
            row("hessian", f"n={n}: cgraph hessian, one column per pass", single,
                "cgraph gradient", grad,
                note=f"{single / grad:,.0f} = {single / grad / n:.2f}·n")
        if _try("torch"):
            t = median(lambda: baselines.torch_hessian(n, point), reps)
            row("hessian", f"n={n}: cgraph hessian", ours,
                "torch.autograd.functional.hessian", t)
        if _try("sympy") and n <= sympy_max:  # sympy.hessian alone: 30 s at n = 100
            t = median(lambda: baselines.sympy_hessian(n, point), 1)
            row("hessian", f"n={n}: cgraph hessian", ours, "sympy.hessian + lambdify", t)


def bench_stepper(repeat, tmp: Path):
    """The backprop stepper page: bytes, and a 1,000-node program's build (Python: the
    walk-through, the layout and the page) plus first contentful paint in headless
    Chromium (Debian's, through playwright), against a 1 s budget."""
    from cgraph import explain, stepper

    def page(program, point):
        ev = cgraph.parse(program).evaluate(point)
        return stepper.page(ev.graph, ev, explain.walkthrough(ev))

    tutorial = page("p = x + y; g = p * z", {"x": 1, "y": 3, "z": -3})
    row("stepper", "page size, tutorial", len(tutorial.encode()) / 1024, "budget", 60,
        1.0, "KiB")
    big = chain(1000)
    point = {"x": 0.01, "c": 0.9, "d": 0.3}
    n = len(cgraph.parse(big).nodes)
    build = median(lambda: page(big, point), repeat)
    cpu = []  # the build's CPU time too: on a loaded machine the wall time says little
    for _ in range(repeat):
        t = time.process_time()
        page(big, point)
        cpu.append(time.process_time() - t)
    html = page(big, point)
    row("stepper", f"page size, {n} nodes", len(html.encode()) / 1024, "", None, None, "KiB")
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not (_try("playwright") and Path(chromium).exists()):
        row("stepper", f"{n}-node page build", build, "budget", 1.0, 1.0,
            note="no Chromium/playwright: paint not measured")
        return
    from playwright.sync_api import sync_playwright

    path = tmp / "stepper.html"
    path.write_text(html, encoding="utf-8")
    paints = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(repeat):
            tab = browser.new_page(viewport={"width": 1280, "height": 860})
            tab.goto(path.as_uri())
            tab.wait_for_load_state("load")
            # the paint entry is recorded after the frame is presented, which on a busy
            # machine can come after the load event: wait for it
            fcp = "performance.getEntriesByName('first-contentful-paint')"
            tab.wait_for_function(f"{fcp}.length > 0", timeout=30_000)
            paints.append(tab.evaluate(f"{fcp}[0].startTime") / 1e3)
            tab.close()
        browser.close()
    paint = statistics.median(paints)
    row("stepper", f"{n}-node page: build + first paint", build + paint, "budget", 1.0, 1.0,
        note=f"build {build * 1e3:.0f} ms (CPU {min(cpu) * 1e3:.0f} ms), "
             f"paint {paint * 1e3:.0f} ms")


def _try(module):
    try:
        __import__(module)
        return True
    except Exception:
        return False


def fmt(v, unit):
    if v is None:
        return "-"
    if unit in ("MiB", "KiB"):
        return f"{v:.1f} {unit}"
    if unit == "B/node":
        return f"{v:.0f} {unit}"
    if v < 1e-3:
        return f"{v * 1e6:.0f} µs"
    return f"{v * 1e3:.1f} ms" if v < 1 else f"{v:.2f} s"


def print_table():
    head = ("section", "benchmark", "cgraph", "baseline", "baseline time", "ratio",
            "target", "met")
    lines = [head]
    for section, name, ours, unit, base_name, base, ratio, target, ok, note in ROWS:
        lines.append((section, name + (f" [{note}]" if note else ""), fmt(ours, unit),
                      base_name, fmt(base, unit),
                      f"{ratio:.2f}" if ratio is not None else "",
                      f"<= {target}" if target is not None else "", ok))
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for line in lines[1:]:
        print("| " + " | ".join(str(c) for c in line) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="startup,whole,big,scaling,language,batch,data,peers,"
                    "descend,hessian,stepper",
                    help="comma-separated sections to run")
    args = ap.parse_args()
    only = set(args.only.split(","))
    repeat = 3 if args.quick else 7
    nodes = 20_000 if args.quick else 100_000
    sizes = [10**3, 10**4, 10**5] + ([] if args.quick else [10**6])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        compiled_install(tmp)
        if "startup" in only:
            bench_startup(11 if args.quick else 21)  # 0.4 s a round: 5 were too noisy
        if "whole" in only:
            bench_whole_process([10**3, 10**4] + ([] if args.quick else [10**5]),
                                3 if args.quick else 5, tmp)
        gc.disable()  # as the cgraph command does: in-process rows compare like with like
        if "big" in only:
            bench_big(nodes, 5 if args.quick else 7, tmp)
        if "scaling" in only:
            bench_scaling(sizes, repeat)
            bench_memory(10**6, tmp)
        if "language" in only:
            bench_expansion(10**4 if args.quick else 10**5, repeat)
        gc.enable()
        if "batch" in only:
            bench_batch(10**5 if args.quick else 10**6, repeat, tmp)
        if "data" in only:
            bench_data([2 * 10**5, 2 * 10**6], 3 if args.quick else 5, tmp)
        if "peers" in only:
            bench_peers(repeat)
        if "descend" in only:
            bench_descend(repeat, tmp)
        if "hessian" in only:
            bench_hessian([10, 100] if args.quick else [10, 100, 1000], repeat,
                          10 if args.quick else 100)
        if "stepper" in only:
            bench_stepper(repeat, tmp)
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cores, "
          f"cgraph {cgraph.__version__} (commands run from a compiled copy, .pyc files "
          "included)")
    print_table()


if __name__ == "__main__":
    main()
