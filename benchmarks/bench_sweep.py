"""Sweep throughput: 1 vs 2 local workers, and the Dask engine's per-run overhead.

    python benchmarks/bench_sweep.py [--runs N] [--duration S] [--json]

Runs the same grid (N runs of phone-memeater, `run.duration_s` = S) three times into fresh
databases: the local pool with 1 worker, with 2, and Dask (a LocalCluster of 2 workers).
Prints the speed-up of 2 workers over 1 and Dask's extra wall seconds per run against the
2-worker pool, both from this one invocation (ratios carry across machines better than
seconds; on a machine whose cores are busy with other work the speed-up is lower).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from kcompressd.sweep.db import ResultsDB
from kcompressd.sweep.engine import run_sweep
from kcompressd.sweep.grid import load_grid


def grid_text(runs: int, duration: float) -> str:
    seeds = list(range(runs // 2))
    return (f'scenario = "phone-memeater"\nseeds = {seeds}\n[set]\n'
            f'"run.duration_s" = {duration}\n"run.warmup_s" = 0.1\n'
            '[grid]\ndesign = ["none", "kcompressd-v2"]\n')


def timed(grid: Path, db: Path, engine: str, workers: int) -> float:
    t0 = time.perf_counter()
    with ResultsDB(db) as d:
        counts = run_sweep(load_grid(grid), d, engine=engine, workers=workers)
    assert counts.failed == 0 and counts.skipped == 0
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        grid = d / "grid.toml"
        grid.write_text(grid_text(a.runs, a.duration))
        n = len(load_grid(grid).runs())
        one = timed(grid, d / "1.sqlite", "local", 1)
        two = timed(grid, d / "2.sqlite", "local", 2)
        dask = timed(grid, d / "dask.sqlite", "dask", 2)
    out = {"runs": n, "duration_s": a.duration, "local_1_worker_s": one,
           "local_2_workers_s": two, "dask_2_workers_s": dask,
           "speedup_2_over_1": one / two,
           "dask_overhead_s_per_run": (dask - two) / n,
           "dask_over_local_2": dask / two, "loadavg_1min": os.getloadavg()[0]}
    if a.json:
        print(json.dumps(out, indent=2))
        return
    print(f"{n} runs of {a.duration:g} simulated s; load average {out['loadavg_1min']:.1f} "
          f"on {os.cpu_count()} CPUs")
    print(f"local pool, 1 worker : {one:7.2f} s  ({n / one:.2f} runs/s)")
    print(f"local pool, 2 workers: {two:7.2f} s  ({n / two:.2f} runs/s)")
    print(f"dask, 2 workers      : {dask:7.2f} s  ({n / dask:.2f} runs/s)")
    print(f"speed-up 2 workers / 1: {one / two:.2f}x")
    print(f"dask per-run overhead vs the 2-worker pool: {(dask - two) / n * 1e3:+.0f} ms "
          f"(dask / pool = {dask / two:.2f}x, cluster start-up included)")


if __name__ == "__main__":
    main()
