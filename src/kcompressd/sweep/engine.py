"""Running a sweep: pending runs on a process pool or Dask, each outcome written as it arrives.

Outcomes come back to this process, which alone writes the database (one writer, one
transaction per row), so a sweep killed at any moment loses only the runs in flight. Bench
points run here, one at a time, whatever the engine: they own the machine's memory and kernel.
The local pool starts its workers with `spawn`: nothing of this process (threads, open
database) leaks into them, and when this process dies they see their pipe close and exit.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcompressd.errors import KcompressdError
from kcompressd.sweep.db import ResultsDB
from kcompressd.sweep.grid import Grid, Run
from kcompressd.sweep.runner import run_task, task_of

ENGINES = ("local", "dask")


@dataclass
class Counts:
    total: int = 0
    ran: int = 0
    skipped: int = 0
    failed: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"total": self.total, "ran": self.ran, "skipped": self.skipped,
                "failed": self.failed}


def _failed(task: dict[str, Any], error: str) -> dict[str, Any]:
    return {"key": task["key"], "result": None, "error": error, "wall": 0.0, "pid": None}


def local_outcomes(tasks: list[dict[str, Any]], workers: int) -> Iterator[dict[str, Any]]:
    """Outcomes in completion order from a local process pool."""
    ex = ProcessPoolExecutor(max_workers=workers,
                             mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {ex.submit(run_task, t): t for t in tasks}
        for fut in as_completed(futures):
            try:
                yield fut.result()
            except Exception as e:  # a dead worker fails its run, not the sweep
                yield _failed(futures[fut], f"worker failed: {type(e).__name__}: {e}")
    finally:
        ex.shutdown(wait=False, cancel_futures=True)


def dask_outcomes(tasks: list[dict[str, Any]], workers: int,
                  address: str | None) -> Iterator[dict[str, Any]]:
    """Outcomes in completion order from Dask: a LocalCluster, or the scheduler at address."""
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise KcompressdError("--engine dask needs dask[distributed] "
                              "(pip install 'kcompressd[all]')") from None
    cluster = None
    try:
        if address is None:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        else:
            client = Client(address, timeout="30s")
    except OSError as e:
        raise KcompressdError(f"cannot reach the Dask scheduler {address}: {e}") from None
    try:
        futures = client.map(run_task, tasks, pure=False)
        by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        for fut in dask_completed(futures):
            try:
                yield fut.result()
            except Exception as e:  # a killed worker fails its run only
                yield _failed(by_key[fut.key], f"dask worker failed: {type(e).__name__}: {e}")
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def design_of(run: Run) -> str | None:
    """The design column: the design's name for simulated runs (None: the scenario's own,
    filled from the result), the vm.kcompressd setting for bench runs."""
    p = run.point.params
    if run.point.kind == "bench":
        return bench_design(p)
    return str(p["design"]) if "design" in p else None


def is_sysctl(key: str) -> bool:
    """Bench options that set a kcompressd sysctl (--kcompressd, --kcompressd-threads, ...)."""
    return key.replace("_", "-").startswith("kcompressd")


def bench_design(params: dict[str, Any]) -> str:
    """A measured run's "design": its kcompressd sysctls, or `kernel` without any."""
    sysctls = [f"vm.{k.replace('-', '_')}={v}" for k, v in params.items() if is_sysctl(k)]
    return " ".join(sysctls) or "kernel"


def run_sweep(grid: Grid, db: ResultsDB, *, engine: str = "local", workers: int = 1,
              address: str | None = None,
              on_done: Callable[[Run, dict[str, Any]], None] | None = None,
              on_start: Callable[[int, int], None] | None = None) -> Counts:
    """Run every run of `grid` not yet done in `db`; returns the counts of --json."""
    if engine not in ENGINES:
        raise KcompressdError(f"--engine {engine!r}: not one of {', '.join(ENGINES)}")
    if workers < 1:
        raise KcompressdError(f"--workers {workers}: must be at least 1")
    runs = grid.runs()
    done = db.done_keys()
    pending = [r for r in runs if r.key not in done]
    counts = Counts(total=len(runs), skipped=len(runs) - len(pending))
    if on_start is not None:
        on_start(len(pending), counts.skipped)
    by_key = {r.key: r for r in pending}
    tasks = [task_of(r) for r in pending]
    if not tasks:
        return counts
    if grid.kind == "bench":
        outcomes: Iterator[dict[str, Any]] = (run_task(t) for t in tasks)
    elif engine == "dask":
        outcomes = dask_outcomes(tasks, workers, address)
    else:
        outcomes = local_outcomes(tasks, min(workers, len(tasks)))
    for out in outcomes:
        run = by_key[out["key"]]
        result = out["result"]
        design = design_of(run)
        if design is None and result is not None:
            design = result.get("meta", {}).get("design")
        db.record(key=run.key, kind=run.point.kind, measured=run.point.kind == "bench",
                  scenario=_scenario_name(run), design=design, seed=run.seed,
                  params=run.point.params, result=result, error=out["error"])
        counts.ran += 1
        counts.failed += result is None
        if on_done is not None:
            on_done(run, out)
    return counts


def _scenario_name(run: Run) -> str:
    """The scenario's name as the simulator reports it (a file's stem), or the bench label."""
    s = run.point.scenario
    return Path(s).stem if run.point.kind == "simulate" and s.endswith(".toml") else s


__all__ = ["ENGINES", "Counts", "bench_design", "dask_outcomes", "design_of", "is_sysctl",
           "local_outcomes", "run_sweep"]
