"""The result document every producer emits (DESIGN.md, "Result JSON").

The simulator and the real-kernel harness both build results here, so any two can be compared
key by key.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kcompressd import __version__

LATENCY_PERCENTILES = (50, 90, 99, 99.9)

# Sections holding numbers keyed by name: what comparisons and seed means work on.
NUMERIC_SECTIONS = ("vmstat", "rates", "cpu", "latency", "zram", "workload")

# Counters every result carries (zero when nothing happened), in the kernel's names.
VMSTAT_COUNTERS = (
    "pgscan_kswapd",
    "pgscan_direct",
    "pgscan_anon",
    "pgsteal_kswapd",
    "pgsteal_direct",
    "pgsteal_anon",
    "pgsteal_file",
    "allocstall",
    "pswpout",
    "pswpin",
    "pgrotated",
)


def kernel_has_zeromap(result: Mapping[str, Any]) -> bool:
    """Whether the kernel a real result came from has the swap zeromap (6.12 and later): it
    counted swpout_zero, in the window or around it (a feature, not a version)."""
    outside = (result.get("meta") or {}).get("vmstat_outside_window") or {}
    return "swpout_zero" in result["vmstat"] or "swpout_zero" in outside


def thread_switches(end: tuple[int, int], start: tuple[int, int] = (0, 0)) -> dict[str, int]:
    """One thread's context switches in `meta.thread_switches`, from its (voluntary,
    nonvoluntary) counts at the window's end and start: the times it left its CPU by blocking
    and by preemption (/proc/PID/status's voluntary_ctxt_switches and
    nonvoluntary_ctxt_switches, as both producers count them)."""
    return {"voluntary": end[0] - start[0], "nonvoluntary": end[1] - start[1]}


def latency_summary(samples_us: Sequence[float]) -> dict[str, float]:
    """Allocation-stall latency: count, mean, max and percentiles, in microseconds."""
    n = len(samples_us)
    out: dict[str, float] = {"count": n}
    if n == 0:
        out.update({"mean": 0.0, "max": 0.0})
        out.update({f"p{p:g}": 0.0 for p in LATENCY_PERCENTILES})
        return out
    arr = np.asarray(samples_us, dtype=float)
    out["mean"] = float(arr.mean())
    out["max"] = float(arr.max())
    for p, v in zip(LATENCY_PERCENTILES, np.percentile(arr, LATENCY_PERCENTILES), strict=True):
        out[f"p{p:g}"] = float(v)
    return out


def make_result(
    *,
    source: str,
    vmstat: Mapping[str, int],
    measured_seconds: float,
    cpu: Mapping[str, float],
    latency_us: Sequence[float],
    zram: Mapping[str, int],
    workload: Mapping[str, Any],
    scenario: Mapping[str, Any],
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    """Assemble a result; `rates` are the vmstat deltas per second of measured time."""
    counters = {k: int(vmstat.get(k, 0)) for k in VMSTAT_COUNTERS}
    counters.update({k: int(v) for k, v in vmstat.items() if k not in counters})
    rates = {
        k: (v / measured_seconds if measured_seconds > 0 else 0.0) for k, v in counters.items()
    }
    return {
        "vmstat": counters,
        "rates": rates,
        "cpu": {k: float(v) for k, v in cpu.items()},
        "latency": latency_summary(latency_us),
        "zram": {k: int(v) for k, v in zram.items()},
        "workload": dict(workload),
        "scenario": dict(scenario),
        "meta": {
            "source": source,
            "version": __version__,
            "python": platform.python_version(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "measured_seconds": measured_seconds,
            **meta,
        },
    }
