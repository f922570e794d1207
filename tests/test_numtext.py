"""One number policy: every medium's spelling comes from cgraph.numtext, and only from it."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from cgraph import numtext

SRC = Path(numtext.__file__).parent
EDGES = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("v,text,six", [
    (2.0, "2", "2"), (-0.0, "-0", "0"), (1 / 3, "0.3333333333333333", "0.333333"),
    (1e-300, "1e-300", "1e-300"), (math.nan, "NaN", "NaN"), (-math.inf, "-Infinity",
                                                             "-Infinity"),
])
def test_text(v, text, six):
    assert numtext.text(v) == text and numtext.text(v, 6) == six
    if math.isfinite(v):
        assert float(numtext.text(v)) == v  # full precision round-trips


def test_json_spellings_agree_and_parse():
    values = [0.5, -2.0, *EDGES]
    texts = numtext.json_texts(values)
    assert texts == [numtext.json_text(v) for v in values]
    assert json.loads("[" + ", ".join(texts) + "]") == [0.5, -2.0, "NaN", "Infinity",
                                                          "-Infinity"]
    assert [numtext.json_value(v) for v in values[2:]] == ["NaN", "Infinity", "-Infinity"]


def test_csv_column_spells_like_text():
    """--data's CSV (Arrow's digits) spells NaN and the infinities as text does."""
    from cgraph.data import csv_column

    column = np.array([0.25, 2.0, *EDGES])
    assert csv_column(column).to_pylist() == ["0.25", "2", "NaN", "Infinity", "-Infinity"]
    assert csv_column(np.array([])).to_pylist() == []


def test_latex_and_program_terms():
    assert [numtext.latex(v) for v in EDGES] == [r"\mathrm{NaN}", r"\infty", r"-\infty"]
    assert [numtext.term(v)[0] for v in EDGES] == ["(0 / 0)", "(1 / 0)", "(-1 / 0)"]
    assert numtext.latex_term(2.5e-8)[0] == r"2.5 \cdot 10^{-8}"
    assert [numtext.atom(v) for v in (3.0, -3.0, math.inf)] == ["3", "(-3)", "(1 / 0)"]


def test_no_other_module_spells_a_number():
    """NaN/Infinity spellings and digit counts (`:.6g`) appear in numtext.py only."""
    pattern = re.compile(r'"(NaN|Infinity|-Infinity)"|:\.\d+g\}|:g\}')
    offenders = [f"{path.name}:{n}" for path in SRC.glob("*.py") if path.name != "numtext.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []
