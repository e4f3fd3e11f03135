"""One run of a sweep, in whatever process runs it: a pool worker, a Dask worker, or (bench
points) the sweep's own process.

`run_task` never raises: an error becomes the outcome's `error`, so a failing point is a
failed row and the sweep goes on. Tasks and outcomes are plain dicts (they cross process and
machine boundaries by pickle).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from kcompressd.errors import KcompressdError
from kcompressd.sweep.grid import Point, Run

# bench options a grid may not set: the sweep owns output and repetition.
BENCH_RESERVED = {"json_out", "dry_run", "trace", "plot", "repeat", "help"}
BENCH_TIMEOUT_EXTRA = 600.0  # seconds a bench run may take beyond its measured duration
LOCKED = "another kcompressd bench is running"  # kernel/lock.py's refusal
LOCK_WAIT, LOCK_POLL = 3600.0, 5.0  # seconds to wait for another bench, and poll period


def task_of(run: Run) -> dict[str, Any]:
    p = run.point
    return {"key": run.key, "kind": p.kind, "scenario": run.scenario_path,
            "overrides": p.overrides(), "bench_args": p.bench_args() if p.kind == "bench"
            else [], "duration": p.params.get("duration"), "seed": run.seed}


def _simulate(task: dict[str, Any]) -> dict[str, Any]:
    from kcompressd.scenarios import load_scenario
    from kcompressd.sim.run import simulate

    sc = load_scenario(task["scenario"], task["overrides"])
    return simulate(sc, seed=task["seed"]).result


def bench_command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "kcompressd", "bench", *args, "--json"]


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def run_bench(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """`kcompressd bench ARGS --json`; while another bench holds the machine (its lock), wait
    for it rather than fail: bench points run one at a time, also against other users."""
    waited = 0.0
    while True:
        try:
            proc = subprocess.run(bench_command(args), capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise KcompressdError(f"kcompressd bench did not finish within {timeout:g} s"
                                  ) from None
        if proc.returncode == 0 or LOCKED not in proc.stderr or waited >= LOCK_WAIT:
            return proc
        if waited == 0:
            print(f"kcompressd sweep: {_last_line(proc.stderr)}; waiting for it",
                  file=sys.stderr)
        time.sleep(LOCK_POLL)
        waited += LOCK_POLL


def _bench(task: dict[str, Any]) -> dict[str, Any]:
    """`kcompressd bench ... --json` as a subprocess: the same code path a user runs."""
    duration = float(task["duration"] or 30.0)
    proc = run_bench(task["bench_args"], duration + BENCH_TIMEOUT_EXTRA)
    if proc.returncode != 0:
        raise KcompressdError(f"kcompressd bench exited {proc.returncode}: "
                              f"{_last_line(proc.stderr)}")
    doc = json.loads(proc.stdout)
    if "series" in doc:  # a grid point names one setting, so this is one run
        raise KcompressdError("kcompressd bench returned a series; a point is one run")
    return doc


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Run one task; {"key", "result" | None, "error" | None, "wall"}."""
    t0 = time.perf_counter()
    try:
        result = _simulate(task) if task["kind"] == "simulate" else _bench(task)
        error = None
    except KcompressdError as e:
        result, error = None, str(e)
    except Exception as e:  # any failure of a point is recorded, not fatal
        tb = traceback.extract_tb(e.__traceback__)[-1]
        result = None
        error = f"{type(e).__name__}: {e} ({Path(tb.filename).name}:{tb.lineno})"
    return {"key": task["key"], "result": result, "error": error,
            "wall": time.perf_counter() - t0, "pid": os.getpid()}


def bench_options() -> dict[str, Any]:
    """`kcompressd bench`'s options by grid name (click parameters), read from the command
    itself, so options it gains (the lab's --vm, --cpus, --memory) are accepted unchanged."""
    import typer

    from kcompressd.cli import app

    cmd = typer.main.get_command(app).commands["bench"]  # type: ignore[attr-defined]
    out = {}
    for p in cmd.params:
        if p.name in BENCH_RESERVED or not p.opts:
            continue
        out[p.opts[0].lstrip("-")] = p
    return out


def check_bench_points(path: Path, points: list[Point]) -> None:
    """Each bench point's keys and values, then `kcompressd bench --dry-run` on its options
    (root, zram, the algorithm, the kcompressd sysctl): refused before anything runs."""
    options = bench_options()
    for p in points:
        for k, v in p.params.items():
            name = k.replace("_", "-")
            if name not in options:
                raise KcompressdError(f"{path}: {k}: not a bench option; valid: "
                                      f"{', '.join(sorted(options))}")
            opt = options[name]
            if getattr(opt, "is_flag", False) and not isinstance(v, bool):
                raise KcompressdError(f"{path}: {k}: expected true or false, got {v!r}")
        proc = run_bench([*p.bench_args(), "--dry-run"], 300)
        if proc.returncode != 0:
            msg = _last_line(proc.stderr).removeprefix("kcompressd: error: ")
            raise KcompressdError(f"{path}: point {p.describe()}: {msg}")


__all__ = ["bench_options", "check_bench_points", "run_task", "task_of"]
