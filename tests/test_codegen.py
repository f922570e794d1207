"""`cgraph codegen`: the generated code is compiled and run, and must compute what eval does.

Python (through importlib) and C (cc, same libm as Python's math) must be bit-identical to
`eval`; numpy bit-identical to `eval --data` (the batch evaluator, which runs the same numpy
loops); JavaScript (node, whose Math is V8's own) within 1e-13. At random points and at IEEE
edge points: log(0), 0/0, overflow, infinities and NaN.
"""

from __future__ import annotations

import importlib.util
import math
import os
import random
import shutil
import struct
import subprocess

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cgraph
from cgraph import ops
from cgraph.codegen import generate
from cgraph.errors import InputError

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -3.5, 1e308, -1e308, 710.0, -745.5, 1e-310,
         math.inf, -math.inf, math.nan]
VARS = ("x", "y", "z")

# every op of the registry, spelled as a program
_unary = sorted(op.spelling for op in ops.OPS.values() if op.arity == 1 and not op.infix)
_binary = sorted(op.spelling for op in ops.OPS.values() if op.arity == 2 and not op.infix)
_ternary = sorted(op.spelling for op in ops.OPS.values() if op.arity == 3 and not op.infix)
_infix = ["+", "-", "*", "/", "^"]
ALL_OPS = ([f"{f}(x)" for f in _unary] + [f"{f}(x, y)" for f in _binary]
           + [f"{f}(x, y, z)" for f in _ternary]
           + [f"x {o} y" for o in _infix] + ["-x"])
CORPUS = ALL_OPS + [
    "x^2*sin(x)", "sin(x)/x", "(x^2 + 1)/(x - 3)", "exp(sin(x)^2)", "log(1 + x^2)",
    "sqrt(x)*cos(x)", "tanh(w*x + b)", "x^x", "sigmoid(3*x)", "softplus(x)^2", "log(x, 3)",
    "o = sigmoid(w*x + b); -(t*log(o) + (1 - t)*log(1 - o))", "p = x*y; q = p + z; q*p",
    "unused = log(x); y * 2", "x", "2 * pi", "a = x*x; b = a*a; c = b*b; c*c + a",
    "max(x, y) - min(y, z) + abs(x - z) + relu(y) * step(z) + sign(x*y)",
    "atan2(y, x) + log10(x) + log2(y) + cosh(z) - sinh(z)/(1 + z^2)",
]


def _program(draw_ops):
    leaf = st.sampled_from(["x", "y", "z", "0.5", "2", "-1.5", "0", "1e300"])

    def extend(children):
        return st.one_of(
            st.tuples(children, st.sampled_from(_infix), children).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(st.sampled_from(_unary), children).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(_binary), children, children).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(st.sampled_from(_ternary), children, children, children).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]}, {t[3]})"),
            children.map(lambda c: f"-({c})"),
        )

    return st.recursive(leaf, extend, max_leaves=draw_ops)


programs = _program(10)


def points(graph, seed) -> list[dict]:
    rng = random.Random(seed)
    names = list(graph.variables)
    out = [{v: rng.uniform(-3, 3) for v in names} for _ in range(6)]
    out += [{v: e for v in names} for e in EDGES]
    out += [{v: rng.choice(EDGES) for v in names} for _ in range(8)]
    return out


def same(a: float, b: float) -> bool:
    """Bit for bit (any NaN equals any NaN)."""
    if a != a or b != b:
        return a != a and b != b
    return struct.pack("<d", a) == struct.pack("<d", b)


def near(a: float, b: float, rel=1e-13, scale: float = 0.0) -> bool:
    """Equal to `rel` relative to the larger number, or to `scale`: the size of the terms
    the result was summed from (a sum that cancels exactly in one libm can leave an ulp of
    its terms in another: JS's exp is not Python's)."""
    if same(a, b) or (a == b):
        return True
    if a != a or b != b or math.isinf(a) or math.isinf(b):
        return False
    return abs(a - b) <= rel * max(abs(a), abs(b), scale)


def term_scale(g, p) -> float:
    """The largest finite value or adjoint of any node of g at p, as eval computes them."""
    ev = g.evaluate(p)
    return max((abs(x) for x in ev.values + ev.grads if math.isfinite(x)), default=0.0)


def require(tool: str) -> None:
    if shutil.which(tool):
        return
    message = f"{tool} is not installed (the generated {tool} code cannot be run)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def expected(graph, point):
    ev = graph.evaluate(point)
    return ev.value, list(ev.gradient().values())


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_python(graphs, tmp_path, lang="python", split=None):
    """[[(value, grads) per point] per graph], from one module holding every function."""
    path = tmp_path / f"generated_{lang}.py"
    path.write_text("\n\n".join(generate(g, lang, name=f"f{k}", split=split)
                                 for k, g in enumerate(graphs)))
    subprocess.run(["python3", "-m", "py_compile", str(path)], check=True)
    module = _load(path, f"generated_{lang}_{abs(hash(str(tmp_path)))}")
    results = []
    for k, g in enumerate(graphs):
        fn = getattr(module, f"f{k}")
        pts = points(g, k)
        if lang == "numpy":
            import numpy as np

            cols = [np.array([p[v] for p in pts]) for v in g.variables]
            value, grads = fn(*cols)
            value = np.broadcast_to(value, (len(pts),))  # a program without variables
            results.append([(float(value[i]), [float(gr[i]) for gr in grads])
                            for i in range(len(pts))])
        else:
            results.append([(lambda r: (r[0], list(r[1])))(fn(*p.values())) for p in pts])
    return results


def _c_number(v: float) -> str:
    if v != v:
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return v.hex()


def run_c(graphs, tmp_path, split=None):
    require("cc")
    lines = ["#include <stdio.h>"] + [generate(g, "c", name=f"f{k}", split=split)
                                       for k, g in enumerate(graphs)]
    width = max([16] + [len(g.variables) for g in graphs])
    lines.append(f"int main(void)\n{{\n    double grad[{width}];\n    double v;")
    for k, g in enumerate(graphs):
        for p in points(g, k):
            args = [_c_number(x) for x in p.values()] + (["grad"] if p else [])
            lines.append(f"    v = f{k}({', '.join(args) or ''});")
            fmt = " ".join(["%a"] * (1 + len(p)))
            vals = ", ".join(["v"] + [f"grad[{i}]" for i in range(len(p))])
            lines.append(f'    printf("{fmt}\\n", {vals});')
    lines.append("    return 0;\n}")
    src = tmp_path / "generated.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "generated"
    cc = subprocess.run(["cc", "-Wall", "-Werror", "-std=c99", "-O2", "-o", str(exe), str(src),
                         "-lm"], capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    rows = iter(out.splitlines())
    return [[_parse_row(next(rows)) for _ in points(g, k)] for k, g in enumerate(graphs)]


def _parse_row(line: str):
    nums = [float(t) if t.lstrip("-") in ("nan", "inf") else float.fromhex(t)
            for t in line.split()]
    return nums[0], nums[1:]


def run_js(graphs, tmp_path, split=None):
    require("node")
    parts = [generate(g, "js", name=f"f{k}", split=split) for k, g in enumerate(graphs)]
    src = tmp_path / "generated.js"
    src.write_text("\n".join(parts))
    check = subprocess.run(["node", "--check", str(src)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    calls = ["const show = (v) => Object.is(v, -0) ? '-0' : String(v);", "const out = [];"]
    for k, g in enumerate(graphs):
        for p in points(g, k):
            args = ", ".join("-0" if same(x, -0.0) else _js_number(x) for x in p.values())
            calls.append(f"{{ const r = f{k}({args}); out.push([r.value, "
                         f"...Object.values(r.gradient)].map(show).join(' ')); }}")
    calls.append("console.log(out.join('\\n'));")
    src.write_text("\n".join(parts + calls) + "\n")
    out = subprocess.run(["node", str(src)], capture_output=True, text=True, check=True).stdout
    rows = iter(out.splitlines())
    return [[(lambda n: (n[0], n[1:]))([float(t) for t in next(rows).split()])
             for _ in points(g, k)] for k, g in enumerate(graphs)]


def _js_number(v: float) -> str:
    if v != v:
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return repr(v)


def check(graphs, tmp_path, langs=("python", "numpy", "c", "js"), split=None):
    for lang in langs:
        if lang == "c":
            got = run_c(graphs, tmp_path, split)
        elif lang == "js":
            got = run_js(graphs, tmp_path, split)
        else:
            got = run_python(graphs, tmp_path, lang, split)
        for k, g in enumerate(graphs):
            pts = points(g, k)
            if lang == "numpy":
                import numpy as np

                cols = {v: np.array([p[v] for p in pts]) for v in g.variables}
                batch = g.evaluate_batch(cols, list(g.variables))
                batch.value = np.broadcast_to(batch.value, (len(pts),))
                want = [(float(batch.value[i]),
                         [float(batch.gradient[v][i]) for v in g.variables])
                        for i in range(len(pts))]
            else:
                want = [expected(g, p) for p in pts]
            for p, (wv, wg), (gv, gg) in zip(pts, want, got[k]):
                if lang in ("c", "js"):
                    scale = term_scale(g, p)
                    ok = lambda a, b: near(a, b, scale=scale)  # noqa: E731
                elif lang == "numpy":  # against the batch kernel: bit for bit, except
                    # a zero's sign (the kernel's adjoint starts from its first term, so
                    # -(x*y) at 0 gives -y = -0.0; the scalar pass adds it to 0.0)
                    ok = lambda a, b: same(a, b) or a == b == 0.0  # noqa: E731
                else:
                    ok = same
                where = f"{lang}: {g.source!r} at {p}"
                assert ok(gv, wv), f"{where}: value {gv!r}, eval {wv!r}"
                assert len(gg) == len(wg)
                for v, a, b in zip(g.variables, gg, wg):
                    assert ok(a, b), f"{where}: d/d{v} {a!r}, eval {b!r}"


def test_corpus_runs_and_equals_eval_in_every_language(tmp_path):
    check([cgraph.parse(t) for t in CORPUS], tmp_path)


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(programs, min_size=30, max_size=30), st.sampled_from([None, 3]))
def test_random_programs_run_and_equal_eval_in_every_language(tmp_path, texts, split):
    check([cgraph.parse(t) for t in texts], tmp_path, split=split)


# longer programs: a chain whose partials sit far from its values, and a small network
# whose inputs, weights and hidden units are indexed names (w[1] is w_1 in the code)
LONG = ["t0 = x\n" + "\n".join(f"t{i} = sin(t{i - 1})*c + t{i - 1}*d" for i in range(1, 41)),
        "h[j] = tanh(sum(W[j,i] * x[i] for i in 1..3) + b[j]) for j in 1..4\n"
        "o = sigmoid(sum(v[j] * h[j] for j in 1..4) + c)\n"
        "-(t*log(o) + (1 - t)*log(1 - o)) + max(h[1], h[2])^2"]


def test_long_code_is_split_into_parts_that_equal_eval(tmp_path):
    """Past `split` statements, the C and JS code runs in parts that pass values through an
    array (one C function of 30,000 statements takes GCC -O2 a minute; a JS function of
    10^5 locals overflows node's stack). Forced with split=7, the corpus and two longer
    programs run in parts in every language and equal eval as the one function does."""
    graphs = [cgraph.parse(t) for t in CORPUS + LONG]
    for lang in ("c", "js"):
        parts = generate(graphs[-1], lang, name="f", split=7)
        assert "f_part2(tape" in parts and "f_part1(tape" in parts
        assert "tape" not in generate(graphs[-1], lang, name="f")  # short: one function
    assert generate(graphs[-1], "python", split=7) == generate(graphs[-1], "python")
    check(graphs, tmp_path, split=7)


def test_a_tape_past_its_size_is_on_the_heap_and_equals_eval(tmp_path, monkeypatch):
    """C's tape past STACK_TAPE doubles comes from malloc (and is freed): forced here for
    every tape, the corpus in parts still equals eval."""
    from cgraph import codegen

    graphs = [cgraph.parse(t) for t in CORPUS + LONG]
    monkeypatch.setattr(codegen, "STACK_TAPE", 0)
    code = generate(graphs[-1], "c", name="f", split=7)
    assert "double *tape = malloc(" in code and "free(tape);" in code
    check(graphs, tmp_path, langs=("c",), split=7)


def test_a_big_tape_does_not_overflow_a_small_stack(tmp_path):
    """A chain of 6,000 nodes passes 4,500 doubles through its tape: 36 KiB, which were on
    the stack (a 10^6-node program's would not fit in 8 MiB). Run with a 32 KiB stack, it
    crashed (SIGSEGV); on the heap it gives eval's value and gradient."""
    import resource

    from cgraph.codegen import STACK_TAPE

    require("cc")
    g = cgraph.parse("t0 = x\n" + "\n".join(f"t{i} = sin(t{i - 1})*c + t{i - 1}*d"
                                              for i in range(1, 1500)))
    code = generate(g, "c", name="f")
    slots = int(code.split("values through tape[] (")[1].split(" doubles")[0].replace(",", ""))
    assert slots > STACK_TAPE and 8 * slots > 32 * 1024 and "malloc" in code
    src = tmp_path / "big.c"
    src.write_text("#include <stdio.h>\n" + code + "int main(void)\n{\n    double grad[3];\n"
                   "    double v = f(0.5, 0.9, 0.3, grad);\n"
                   '    printf("%a %a %a %a\\n", v, grad[0], grad[1], grad[2]);\n'
                   "    return 0;\n}\n")
    exe = tmp_path / "big"
    cc = subprocess.run(["cc", "-Wall", "-Werror", "-std=c99", "-O0", "-o", str(exe), str(src),
                         "-lm"], capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr

    def small_stack():
        resource.setrlimit(resource.RLIMIT_STACK,
                           (32 * 1024, resource.getrlimit(resource.RLIMIT_STACK)[1]))

    r = subprocess.run([str(exe)], capture_output=True, text=True, preexec_fn=small_stack)
    assert r.returncode == 0, r
    value, grad = _parse_row(r.stdout)
    want = g.evaluate({"x": 0.5, "c": 0.9, "d": 0.3})
    assert near(value, want.value) and all(
        near(a, want.gradient()[v]) for a, v in zip(grad, ("x", "c", "d"))), (r.stdout, want)


def test_default_split_starts_past_its_threshold():
    """Without `split`, C code is one function up to SPLIT["c"] statements, then parts of
    at most PART statements; JS stays one function much longer."""
    from cgraph.codegen import PART, SPLIT

    def chain(n):
        return cgraph.parse("t0 = x\n" + "\n".join(f"t{i} = t{i - 1}*c + d"
                                                   for i in range(1, n + 1)))

    short, long = chain(SPLIT["c"] // 8), chain(SPLIT["c"])
    assert "_part" not in generate(short, "c", name="f")
    code = generate(long, "c", name="f")
    bodies = [b.split("\n}")[0] for b in code.split("static void f_part")[1:]]
    sizes = [sum(line.startswith("    const double") and "tape[" not in line
                 for line in b.splitlines()) for b in bodies]
    assert len(sizes) > 1 and max(sizes) <= PART
    assert "_part" not in generate(long, "js", name="f")


def test_shared_subexpressions_are_computed_once():
    code = generate(cgraph.parse("sin(x)*cos(x) + sin(x)"), "python")
    assert code.count("_cg_sin(x)") == 1 and code.count("_cg_cos(x)") == 1


def test_names_and_errors():
    g = cgraph.parse("int = x*2; double + int")  # C keywords as variable names
    c = generate(g, "c", name="grad_f")
    assert "double grad_f(double x, double double_, double grad[2])" in c
    assert "    const double int_ = x * 2.0;" in c  # the program's names for intermediates
    assert "t1 = x * y\n    loss = t1 + x\n" in generate(
        cgraph.parse("t1 = x*y; loss = t1 + x"), "python")  # temporaries get other names
    with pytest.raises(InputError, match="--name"):
        generate(g, "python", name="not valid")
    # a name refused says why: a keyword of that language, or a name its code uses
    for lang, name, why in [("python", "class", "'class' is a keyword in python"),
                            ("js", "class", "a keyword in js"), ("c", "while", "a keyword"),
                            ("numpy", "np", "'np' is a name the generated code uses"),
                            ("js", "Math", "a name the generated code uses"),
                            ("c", "sqrt", "a name the generated code uses"),
                            ("c", "1a", "'1a' is not a function name: ASCII letters")]:
        with pytest.raises(InputError, match=why):
            generate(g, lang, name=name)
    with pytest.raises(InputError, match="--lang"):
        generate(g, "rust")
    with pytest.raises(InputError, match="'q' is not a variable"):
        generate(g, "js", wrt=["q"])


def test_js_all_nodes_gives_every_value_and_adjoint(tmp_path):
    require("node")
    g = cgraph.parse("p = x + y; q = p * z; dead = log(x); q")
    src = generate(g, "js", name="step", all_nodes=True)
    path = tmp_path / "all.js"
    path.write_text(src + "console.log(JSON.stringify(step(1, 3, -3)));\n")
    import json

    got = json.loads(subprocess.run(["node", str(path)], capture_output=True, text=True,
                                    check=True).stdout)
    ev = g.evaluate({"x": 1, "y": 3, "z": -3})
    assert got["values"] == ev.values and got["adjoints"] == ev.grads
    assert got["gradient"] == ev.gradient() and got["value"] == ev.value


def run_cli(*args):
    from cgraph.cli import cli

    return CliRunner().invoke(cli, ["codegen", *args])


def test_cli_writes_the_code_and_rejects_bad_input(tmp_path):
    r = run_cli("x*y", "--lang", "js", "--name", "g", "--wrt", "y")
    assert r.exit_code == 0 and r.stdout.startswith("/**") and "function g(x, y) {" in r.stdout
    assert '{value: t1, gradient: {"y": 0.0 + x}}' in r.stdout
    out = tmp_path / "f.c"
    assert run_cli("x*y", "--lang", "c", "-o", str(out)).exit_code == 0
    assert "double f_grad(double x, double y, double grad[2])" in out.read_text()
    for args, message in [(["x", "x=1"], "takes no bindings"), (["x", "--lang", "rust"], "rust"),
                          (["x*y", "--wrt", "z"], "'z' is not a variable"),
                          (["x", "--name", "1a"], "--name")]:
        r = run_cli(*args)
        assert r.exit_code == 2 and message in r.stderr and r.stdout == "", args


def test_an_mjs_file_is_a_module_that_exports_the_function(tmp_path):
    """`-o grad.mjs` is an ES module: another module imports the function from it (a
    function it only defined was invisible there), and it agrees with eval; `.js` stays a
    script, which node -e "$(cat f.js) ..." runs as README does."""
    require("node")
    program = "o = sigmoid(w*x + b); -(t*log(o) + (1 - t)*log(1 - o))"
    assert run_cli(program, "--name", "loss_grad", "-o", str(tmp_path / "g.mjs")).exit_code == 0
    assert "export function loss_grad(" in (tmp_path / "g.mjs").read_text()
    (tmp_path / "use.mjs").write_text(
        'import { loss_grad } from "./g.mjs";\n'
        "console.log(JSON.stringify(loss_grad(0.5, 1.5, 0.1, 1.0)));\n")
    import json

    got = json.loads(subprocess.run(["node", str(tmp_path / "use.mjs")], capture_output=True,
                                    text=True, check=True).stdout)
    ev = cgraph.parse(program).evaluate({"w": 0.5, "x": 1.5, "b": 0.1, "t": 1.0})
    assert got["value"] == pytest.approx(ev.value, rel=1e-13)  # V8's Math (module docstring)
    assert got["gradient"] == pytest.approx(ev.gradient(), rel=1e-13)
    assert run_cli(program, "-o", str(tmp_path / "g.js")).exit_code == 0
    text = (tmp_path / "g.js").read_text()
    assert "export" not in text and "\nfunction f_grad(" in text
    r = run_cli(program, "--lang", "c", "-o", str(tmp_path / "g.mjs"))
    assert r.exit_code == 2 and "-o " in r.stderr and "is a js module file" in r.stderr


def test_the_default_name_is_a_function_name_for_any_output(tmp_path):
    """The default --name is the output's name and _grad: for an output h[2] (an indexed
    assignment) or θ it was 'h[2]_grad' or 'θ_grad', refused as "--name: 'h[2]_grad' is not
    a function name" though no --name was given (trial7's finding)."""
    for program, name in [("h[j] = x^j for j in 1..2", "h_2_grad"), ("w[-1] = 2*x", "w_m1_grad"),
                          ("θ = x^2", "f_grad"), ("_ = x*2", "f_grad"),
                          ("loss = x^2", "loss_grad"), ("x^2", "f_grad")]:
        for lang, head in [("python", f"def {name}(x"), ("numpy", f"def {name}(x"),
                           ("c", f"double {name}(double x"), ("js", f"function {name}(x")]:
            r = run_cli(program, "--lang", lang)
            assert r.exit_code == 0 and ("\n" + r.stdout).count(f"\n{head}") == 1, (
                program, lang, r.stderr)
    if shutil.which("cc"):  # and it compiles
        src = tmp_path / "h.c"
        src.write_text(run_cli("h[j] = x^j for j in 1..2", "--lang", "c").stdout)
        cc = subprocess.run(["cc", "-Wall", "-Werror", "-std=c99", "-c", "-o",
                             str(tmp_path / "h.o"), str(src)], capture_output=True, text=True)
        assert cc.returncode == 0, cc.stderr


def test_cli_languages_are_the_generators():
    from cgraph import codegen
    from cgraph.cli import cli

    lang = next(p for p in cli.commands["codegen"].params if p.name == "lang")
    assert tuple(lang.type.choices) == codegen.LANGS


def test_awkward_variable_names_run(tmp_path):
    """Names that are keywords, library names or temporaries in some language, and indexed
    names (`W[1,2]` is the argument `W_1_2`, `w[-1]` is `w_m1`)."""
    indexed = cgraph.parse("h[j] = tanh(w[j]*θ[j] + W[j,2]) for j in 1..2; h[1]*h[2] + w[2-3]")
    assert "double f(double w_1, double _u03b8_1, double W_1_2, double w_2" in generate(
        indexed, "c", name="f")
    assert "def f(w_1, θ_1, W_1_2, w_2, θ_2, W_2_2, w_m1):" in generate(indexed, name="f")
    check([cgraph.parse("shape * np + math * θ + t1 - double + int / grad + Math"), indexed],
          tmp_path)



def test_names_the_toolchains_reserve_run(tmp_path):
    """`_` (once an empty parameter in every language), names the preprocessor rewrites in C
    (`HUGE_VAL` compiled and crashed; `M_PI` is glibc's outside strict C99, as `cc` runs by
    default), C's reserved `_Bool` and `__LINE__`, and Python's `float` (numpy's dtype) and
    `_cg_exp` (a helper)."""
    g = cgraph.parse("_ * HUGE_VAL + exp(M_PI) * FP_NAN - _Bool / __LINE__ + malloc * errno"
                     " + sqrt(float) * _cg_exp + __ + x_ * x")
    check([g], tmp_path)
    src = tmp_path / "default.c"
    src.write_text(generate(g, "c", name="f"))
    cc = subprocess.run(["cc", "-Wall", "-Werror", "-O2", "-c", "-o", str(tmp_path / "d.o"),
                         str(src)], capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr


def test_names_python_reads_as_one_are_two_arguments(tmp_path):
    """Python reads identifiers in NFKC: ｘ is x, ﬁ is fi, ℌ is H, ｍａｔｈ the math module
    (`def f(x, ｘ)` was "duplicate argument 'x'"); cgraph's names stay distinct."""
    g = cgraph.parse("x*ｘ + ﬁ*fi + ℌ/H + sin(ｍａｔｈ)")
    assert "def f(x, x_, fi, fi_, H, H_, math_):" in generate(g, name="f")
    check([g], tmp_path)


HESSIAN_PROGRAMS = ["x^2*y + sin(x*y)", "(a-1)^2 + 100*(b-a^2)^2", "log(x)*exp(y) / (1 + z^2)",
                    "o = sigmoid(w*x + b); -(t*log(o) + (1 - t)*log(1 - o))",
                    "tanh(x*y) + sqrt(x) * atan2(y, x) + max(x, y)^2 + x^y"]


def _hessian_points(graph, seed):
    return points(graph, seed)[:6] + [{v: e for v in graph.variables} for e in
                                      (0.0, 1.0, -1.0, math.inf, math.nan, 1e308)]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs)
def test_python_hessian_is_cgraph_hessians(text):
    from cgraph.hessian import hessian

    g = cgraph.parse(text)
    if not g.variables:
        return
    ns: dict = {}
    exec(generate(g, "python", name="h", hessian=True), ns)  # noqa: S102 - our own output
    for p in _hessian_points(g, text):
        value, grad, hess = ns["h"](*p.values())
        want = hessian(g, p)
        assert same(value, want.value) and all(map(same, grad, want.gradient)), p
        for row, want_row in zip(hess, want.matrix.tolist()):  # equal as numbers: cgraph
            # hessian's block of columns adds the other columns' exact zeros (+0 + -0 is +0)
            assert all(a == b or (a != a and b != b) for a, b in zip(row, want_row)), \
                (text, p, hess, want.matrix)


@pytest.mark.parametrize("split", [None, 9])
def test_c_and_js_hessians_equal_cgraph_hessian(tmp_path, split):
    """split=9: the same in parts (the gradient and the matrix written from the tape)."""
    from cgraph.hessian import hessian

    require("cc")
    require("node")
    for k, text in enumerate(HESSIAN_PROGRAMS):
        g = cgraph.parse(text)
        n = len(g.variables)
        pts = [p for p in _hessian_points(g, text) if all(math.isfinite(v) for v in p.values())]
        c = tmp_path / f"h{k}.c"
        calls = "\n".join(
            f"    v = h({', '.join(_c_number(x) for x in p.values())}, grad, hess);\n"
            f'    printf("%a", v); for (i = 0; i < {n * n}; i++) printf(" %a", hess[i]);'
            ' printf("\\n");' for p in pts)
        code = generate(g, "c", name="h", hessian=True, split=split)
        assert (split is None) == ("h_part2(tape" not in code)
        c.write_text("#include <stdio.h>\n" + code
                     + f"int main(void)\n{{\n    double grad[{n}], hess[{n * n}], v; int i;\n"
                     + calls + "\n    return 0;\n}\n")
        exe = tmp_path / f"h{k}"
        cc = subprocess.run(["cc", "-Wall", "-Werror", "-std=c99", "-O2", "-o", str(exe),
                             str(c), "-lm"], capture_output=True, text=True)
        assert cc.returncode == 0, cc.stderr
        c_rows = subprocess.run([str(exe)], capture_output=True, text=True).stdout.splitlines()
        js = tmp_path / f"h{k}.js"
        js.write_text(generate(g, "js", name="h", hessian=True, split=split) + "\n".join(
            f"{{ const r = h({', '.join(_js_number(x) for x in p.values())}); "
            "console.log([r.value, ...r.hessian.flat()].map(String).join(' ')); }"
            for p in pts))
        js_rows = subprocess.run(["node", str(js)], capture_output=True,
                                 text=True).stdout.splitlines()
        for p, c_row, js_row in zip(pts, c_rows, js_rows, strict=True):
            want = hessian(g, p)
            expect = [want.value] + want.matrix.ravel().tolist()
            got_c = [_parse_row(c_row)[0]] + _parse_row(c_row)[1]
            got_js = [float(t) for t in js_row.split()]
            assert all(map(near, got_c, expect)), (text, p, got_c, expect)
            assert all(map(near, got_js, expect)), (text, p, got_js, expect)


def test_cli_hessian():
    r = run_cli("x^2*y", "--hessian", "--lang", "js")
    assert r.exit_code == 0 and "hessian: [[" in r.stdout


def test_the_o_suffix_picks_the_language_and_a_clash_is_refused(tmp_path):
    """`-o grad.c` writes C (it wrote Python into grad.c), as graph -o reads its suffix;
    `--lang c -o grad.py` is a usage error rather than C in a .py file."""
    from cgraph.cli import cli

    def codegen(*args):
        return CliRunner().invoke(cli, ["codegen", "x^2", *args])

    for name, marker in [("g.c", "#include <math.h>"), ("g.js", "function f_grad("),
                         ("g.py", "def f_grad(")]:
        assert codegen("-o", str(tmp_path / name)).exit_code == 0
        assert marker in (tmp_path / name).read_text(encoding="utf-8"), name
    assert codegen("--lang", "numpy", "-o", str(tmp_path / "n.py")).exit_code == 0
    r = codegen("--lang", "c", "-o", str(tmp_path / "x.py"))
    assert r.exit_code == 2 and "-o" in r.stderr and "--lang" in r.stderr
    assert not (tmp_path / "x.py").exists()
