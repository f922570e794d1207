"""`cgraph eval`: what the command does with its arguments once they are read.

cli.py declares its arguments to click; `argv` reads the usual command lines itself, without
importing click (which is most of a short run's start-up), and calls this same function with
the same values. So nothing here imports click: usage errors are cli_support's.
"""

from __future__ import annotations

from .cli_support import (UsageError, applies, byte_progress, digits_apply, lazy, warn,
                          with_output, with_program)
from .errors import InputError


@with_program
@with_output("eval_formats", terminal="table", piped="tsv")
def eval_command(program, out, wrt, outputs, mode, tangents, digits, strict, data_path,
                 fields):
    """Forward and reverse pass: every node's value and ∂output/∂node.

    A binding may carry an uncertainty, x=2±0.1 (or x=2+-0.1): the output is then
    reported as value ± σ, by first-order propagation, with each input's share.

    \b
      cgraph eval "(x+y)*z" x=1 y=3 z=-3
      echo "x^2 + sin(x)" | cgraph eval - x=0.5 --format tsv
      cgraph eval --file model.cg w=0.8 x=1.2 b=-0.1 t=0.5 --wrt w,b
      cgraph eval "p = x + y; g = p * z" x=1 y=3 z=-3 --output p,g
      cgraph eval "(x+y)*z" x=1 y=3 z=-3 --mode forward --tangent x=1
      cgraph eval "x*y" x=2±0.1 y=3±0.2
      cgraph eval --file model.cg w=0.8 x=1.2 b=-0.1 t=0.5 --fields value,gradient
    """
    graph = program.graph
    graph.check_names(wrt)
    forward = mode == "forward" or (mode is None and tangents)
    if tangents and not forward:
        raise InputError("--tangent is forward mode's: use it with --mode forward")
    if data_path is not None:
        if out.format not in (None, "csv"):
            raise UsageError("--data writes CSV, or Parquet to -o FILE.parquet; "
                             "--format does not apply")
        kind = out.by_suffix(lazy.eval_data.SUFFIXES, "cgraph eval --data")
        applies("digits", False, "does not apply to --data: its CSV keeps full precision")
        applies("fields", False, "does not apply to --data: it selects keys of the JSON "
                "document, and --data writes CSV or Parquet")
        applies("strict", False, "does not apply to --data: its CSV writes NaN and "
                "Infinity as such (filter them with any CSV tool)")
        if forward:  # (what the user typed: --mode forward, or a --tangent alone)
            said = "--mode forward" if mode == "forward" else "--tangent"
            raise InputError(f"--data evaluates in reverse mode; {said} does not apply")
        program.refuse_uncertainty("--data takes no uncertainty")
        return lazy.eval_data.eval_points(graph, program.bindings, data_path, wrt,
                                          byte_progress, outputs=outputs, target=out.path,
                                          parquet=kind == "parquet",
                                          inputs=[*out.inputs, data_path], warn=warn)
    if fields is not None:  # keys of the JSON document: JSON it is
        out.imply("json", "--fields", "selects keys of the JSON document")
    out.by_suffix(writer="cgraph eval (without --data)")
    if fields is not None:
        lazy.eval_formats.check_fields(fields, lazy.eval_formats.json_keys(
            forward, len(outputs or ()) > 1, bool(program.sigmas)))
    digits_apply(out)
    applies("wrt", not forward, "is reverse mode's (the gradient's variables); forward mode "
            f"differentiates along --tangent, e.g. --tangent {(wrt or ['x'])[0]}=1")
    if forward:
        program.refuse_uncertainty("forward mode does not propagate an uncertainty")
        program.check()
        seed = lazy.bindings.parse_tangents(tangents) if tangents else None
        fe = lazy.forward.evaluate_forward(graph, program.bindings, seed, outputs)
        program.report_nonfinite(fe, "strict" if strict else "warn")  # its tangent's
        return out.emit(fe)
    out.emit(program.evaluate("strict" if strict else "warn", outputs, uncertain=True,
                              wrt=wrt))
