"""Several seeds of one run: which seeds, and their results folded into one.

Tail latencies and short runs move from seed to seed; a design is better only if it is better
beyond that spread. `mean_result` keeps the result shape (so tables, ratios and any consumer of
a result work unchanged) and `spread_of` says how far the seeds were apart.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from typing import Any

from kcompressd.errors import KcompressdError
from kcompressd.result import NUMERIC_SECTIONS

MAX_SEEDS = 1000


def parse_seeds(text: str) -> list[int]:
    """`0-4`, `1,5,9` or `0-2,7` as a list of distinct seeds in the order given."""
    seeds: list[int] = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m:
            raise KcompressdError(f"--seeds {text!r}: expected seeds like 0-4 or 1,5,9")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo:
            raise KcompressdError(f"--seeds {text!r}: range {lo}-{hi} runs backwards")
        if hi - lo >= MAX_SEEDS:
            raise KcompressdError(f"--seeds {text!r}: more than {MAX_SEEDS} seeds")
        seeds.extend(range(lo, hi + 1))
    if len(set(seeds)) != len(seeds):
        raise KcompressdError(f"--seeds {text!r}: a seed is named twice")
    if len(seeds) > MAX_SEEDS:
        raise KcompressdError(f"--seeds {text!r}: more than {MAX_SEEDS} seeds")
    return seeds


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _fold(values: list[Any]) -> Any:
    """The mean of numbers (None when a seed has none: a mean over some seeds would mislead),
    all() of flags, the first seed's value of anything else."""
    if all(_number(v) for v in values):
        return statistics.fmean(values)
    if all(isinstance(v, bool) for v in values):
        return all(values)
    return values[0]


def mean_result(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One result whose numeric sections hold the mean over the seeds' results."""
    first = results[0]
    out = dict(first)
    sections = [k for k, v in first.items() if isinstance(v, dict) and k not in
                ("scenario", "meta")]  # NUMERIC_SECTIONS and any a producer adds (reclaim)
    for section in sections:
        keys = [k for k in first.get(section, {}) if all(k in r.get(section, {})
                                                          for r in results)]
        out[section] = {k: _fold([r[section][k] for r in results]) for k in keys}
    meta = dict(first["meta"])
    meta["seeds"] = [r["meta"].get("seed") for r in results]
    for key in ("measured_seconds", "simulated_seconds", "wall_seconds", "events"):
        if all(_number(r["meta"].get(key)) for r in results):
            meta[key] = statistics.fmean(r["meta"][key] for r in results)
    meta["warnings"] = sorted({w for r in results for w in r["meta"].get("warnings", [])})
    out["meta"] = meta
    return out


def spread_of(results: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """{section: {key: {"min", "max", "stdev"}}} for every number all seeds have."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for section in NUMERIC_SECTIONS:
        sec: dict[str, dict[str, float]] = {}
        for k in results[0].get(section, {}):
            values = [r.get(section, {}).get(k) for r in results]
            if all(_number(v) for v in values):
                sec[k] = {"min": min(values), "max": max(values),
                          "stdev": statistics.stdev(values) if len(values) > 1 else 0.0}
        out[section] = sec
    return out
