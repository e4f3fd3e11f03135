"""Numbers given on the command line.

Python's float() and the option parser both accept "nan" and "inf"; NaN passes every range
check (`nan > 0` and `nan < 0` are both false) and infinity runs forever, so every float option
goes through `finite` before it is used.
"""

from __future__ import annotations

import math

from kcompressd.errors import KcompressdError


def finite(option: str, value: float | str, *, above: float | None = None) -> float:
    """`value` (already parsed, or text) as a finite float, optionally > `above`; the error
    names `option`."""
    try:
        number = float(value)
    except ValueError:
        raise KcompressdError(f"{option} {value!r}: not a number") from None
    if not math.isfinite(number):
        raise KcompressdError(f"{option} {value}: not a finite number")
    if above is not None and not number > above:
        raise KcompressdError(f"{option} {value}: must be > {above:g}")
    return number
