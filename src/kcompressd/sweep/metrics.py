"""The key figures of a result, as the database's columns and the report's metrics.

Simulated and measured results share the result shape (DESIGN.md), so one function serves
both. Reclaim CPU is the CPU of every thread that is not the workload's (kswapd, offload
threads, workers) plus, where the simulator split it (`meta.cpu_split`), the direct-reclaim
time of the workload's own threads; a measured result has no such split, so its reclaim CPU
leaves direct reclaim out (its allocstall and stall latency still show it).
"""

from __future__ import annotations

import re
from typing import Any

from kcompressd import PAGE_SIZE

GIB = 1 << 30
# Threads that are the workload, not reclaim: the simulator's eaters, app launch and hogs,
# and the bench harness's eater processes.
WORKLOAD_THREAD = re.compile(r"^(eater|launch|hog)\d+$")

# column -> (section, key) of the result; rates are per second of measured time.
RATE_COLUMNS = {
    "pgsteal_kswapd_per_s": "pgsteal_kswapd",
    "pgsteal_direct_per_s": "pgsteal_direct",
    "pgscan_kswapd_per_s": "pgscan_kswapd",
    "pgscan_direct_per_s": "pgscan_direct",
    "allocstall_per_s": "allocstall",
    "pswpout_per_s": "pswpout",
    "pgrotated_per_s": "pgrotated",
}
LATENCY_COLUMNS = {
    "stall_p50_us": "p50",
    "stall_p90_us": "p90",
    "stall_p99_us": "p99",
    "stall_p999_us": "p99.9",
    "stall_max_us": "max",
}
OTHER_COLUMNS = ("cpu_total_s", "cpu_reclaim_s", "reclaimed_gib", "cpu_s_per_gib",
                 "measured_s", "wall_s", "elapsed_s")
COLUMNS = (*RATE_COLUMNS, *LATENCY_COLUMNS, *OTHER_COLUMNS)


def reclaim_cpu(result: dict[str, Any]) -> float:
    """CPU seconds spent reclaiming in the measured window (see the module docstring)."""
    split = result.get("meta", {}).get("cpu_split", {})
    total = 0.0
    for name, secs in result.get("cpu", {}).items():
        if WORKLOAD_THREAD.match(name):
            s = split.get(name)
            if s:
                total += float(s.get("scan_unmap", 0.0)) + float(s.get("compress", 0.0))
        else:
            total += float(secs)
    return total


def reclaimed_gib(result: dict[str, Any]) -> float:
    vm = result.get("vmstat", {})
    return (vm.get("pgsteal_kswapd", 0) + vm.get("pgsteal_direct", 0)) * PAGE_SIZE / GIB


def key_metrics(result: dict[str, Any]) -> dict[str, float | None]:
    """Every column of COLUMNS; None where the result cannot say (nothing reclaimed)."""
    rates, lat = result.get("rates", {}), result.get("latency", {})
    out: dict[str, float | None] = {c: float(rates.get(k, 0.0)) for c, k in RATE_COLUMNS.items()}
    out.update({c: float(lat.get(k, 0.0)) for c, k in LATENCY_COLUMNS.items()})
    gib = reclaimed_gib(result)
    rcpu = reclaim_cpu(result)
    meta = result.get("meta", {})
    out["cpu_total_s"] = float(sum(result.get("cpu", {}).values()))
    out["cpu_reclaim_s"] = rcpu
    out["reclaimed_gib"] = gib
    out["cpu_s_per_gib"] = rcpu / gib if gib > 0 else None
    out["measured_s"] = float(meta.get("measured_seconds", 0.0))
    out["wall_s"] = float(meta.get("wall_seconds", 0.0))
    elapsed = result.get("workload", {}).get("elapsed_seconds")
    out["elapsed_s"] = float(elapsed) if elapsed is not None else None
    return out


__all__ = ["COLUMNS", "WORKLOAD_THREAD", "key_metrics", "reclaim_cpu", "reclaimed_gib"]
