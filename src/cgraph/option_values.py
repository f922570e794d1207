"""What an option's value on the command line means: the conversions behind cgraph's own
click types (cli_click), as plain functions, so that `argv`, which reads `cgraph eval`'s
command line without importing click, converts with the very same code.

Each function returns the converted value, or raises `Refused` with the message the
option's usage error shows (`--digits: 0 is out of range (1 to 17)`).
"""

from __future__ import annotations

import os

from . import numtext
from .bindings import binding_name


class Refused(ValueError):
    """The value is not one the option takes; `str()` says why."""


def names(value, empty_ok: bool = False) -> list[str]:
    """`x,y` -> ["x", "y"]; an element's commas are its own: `W[1,1],b[2]` -> ["W[1,1]",
    "b[2]"] (written as cgraph prints it: `W[1, 01]` is W[1,1]). Nothing named is refused
    unless `empty_ok` (--fields: check_fields says which keys there are)."""
    if isinstance(value, list):
        return value
    if "[" not in value:
        found = [n.strip() for n in value.split(",") if n.strip()]
    else:
        import re

        found = [binding_name(n.strip()) or n.strip()
                 for n in re.split(r",(?![^\[]*\])", value) if n.strip()]
    if not found and not empty_ok:  # (--wrt '' was taken as every variable)
        raise Refused(f"{value!r} names nothing: give names (X,Y), or leave the option out")
    return found


def number(value, above: float | None = None, least: float | None = None) -> float:
    """A finite float, greater than `above` or at least `least`: NaN, infinities and values
    out of range are refused, not silently ignored or divided by."""
    if isinstance(value, float):
        found = value
    else:
        try:
            found = float(value)
        except ValueError:
            raise Refused(f"{value!r} is not a number") from None
    if found != found or found in (float("inf"), float("-inf")):
        raise Refused(f"{value} is not a finite number")
    if above is not None and not found > above:
        raise Refused(f"{value} is not greater than {numtext.text(above, numtext.SETTING)}")
    if least is not None and not found >= least:
        raise Refused(f"{value} is less than {numtext.text(least, numtext.SETTING)}")
    return found


def whole_number(value, low: int, high: int | None = None) -> int:
    """An integer from `low` (to `high`); `1e3` and `2.0` are whole."""
    if isinstance(value, int) and not isinstance(value, bool):
        found = value
    else:
        found = _whole(str(value).strip())
        if found is None:
            raise Refused(f"{value!r} is not a whole number")
    if found < low or (high is not None and found > high):
        # 1e20, not 10**20: compiling 10**20 folds it, and a Ctrl-C landing in that
        # fold was dropped by the compiler (a run went on with Ctrl-C ignored)
        shown = found if abs(found) < 1e20 else value
        raise Refused(f"{shown} is out of range ({whole_range(low, high)})")
    return found


def whole_range(low: int, high: int | None) -> str:
    """`at least 1`, `1 to 10` (--help shows it too: [default: 1; 1 to 10])."""
    return f"at least {low}" if high is None else f"{low} to {high}"


def _whole(text: str) -> int | float | None:
    """`12`, `1e3`, `2.0` -> the integer; a number beyond a double -> ±Infinity (out of any
    range); anything else -> None."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        found = float(text)
    except ValueError:
        return None
    if found in (float("inf"), float("-inf")):
        return found
    return int(found) if found.is_integer() else None


def output_file(value):
    """A file to write: '-' is standard output; '' and a directory (`out/`, or one that
    exists) are refused, not a file named `out` or a failure after the work. (Then it is
    a file name as `passes_as_file` says.)"""
    if isinstance(value, str) and value != "-":
        if not value:
            raise Refused("an empty file name (write '-' for standard output)")
        if value.endswith(("/", os.sep)) or os.path.isdir(value):
            raise Refused(f"{value} names a directory, not a file")
    return value


def passes_as_file(value: str) -> bool:
    """Whether click's `Path(dir_okay=False, allow_dash=True)` (readable, need not exist),
    the type of every file option, takes `value` as it is: '-', a name nothing has, or
    something other than a directory that this process may read. Where this is False
    click's own message says why (`File 'x' is a directory.`); `argv` leaves it to click."""
    if value == "-":
        return True
    try:
        mode = os.stat(value).st_mode
    except OSError:
        return True
    except ValueError:  # a NUL in the name: for click to say
        return False
    import stat

    return not stat.S_ISDIR(mode) and os.access(value, os.R_OK)
