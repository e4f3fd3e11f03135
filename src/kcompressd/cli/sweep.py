"""`kcompressd sweep`: a grid of simulated (or measured) runs into a results database.

The whole grid is checked before the first run; the database is opened (and recognized as a
sweep database) before the first run too, so bad input costs nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from kcompressd.cli.output import emit_json, stderr, stdout

SWEEP_HELP = """Run every point x seed of GRID.toml and store one row per run in RESULTS.sqlite.

A grid file names a scenario, seeds, [set] fixed overrides and [grid] lists whose cross product
is run (keys: design, or any dotted key of `simulate --set`); [[grid]] tables are a union of
cross products. kind = "bench" grids run `kcompressd bench` on this machine instead, one run at
a time. Re-running the same command resumes: finished runs are skipped, failed ones retried.

--json prints {"total", "ran", "skipped", "failed"}: runs in the grid, runs executed now,
runs already done, runs that failed now (recorded with their error; the sweep goes on)."""


def sweep_cmd(
    grid: Annotated[Path, typer.Argument(metavar="GRID.toml", help="The grid file.")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="RESULTS.sqlite",
                                      help="Results database (created or resumed).")],
    engine: Annotated[str, typer.Option(help="local (process pool) or dask.")] = "local",
    workers: Annotated[int | None, typer.Option(
        help="Worker processes (default: this machine's CPUs).")] = None,
    address: Annotated[str | None, typer.Option(
        metavar="SCHEDULER", help="Dask scheduler address (default: a LocalCluster).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    from kcompressd.errors import KcompressdError
    from kcompressd.sweep.db import ResultsDB
    from kcompressd.sweep.engine import ENGINES, run_sweep
    from kcompressd.sweep.grid import Run, load_grid
    from kcompressd.sweep.runner import check_bench_points

    if engine not in ENGINES:
        raise KcompressdError(f"--engine {engine!r}: not one of {', '.join(ENGINES)}")
    if address is not None and engine != "dask":
        raise KcompressdError("--address needs --engine dask")
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n < 1:
        raise KcompressdError(f"--workers {n}: must be at least 1")
    g = load_grid(grid, check_bench=check_bench_points)
    if g.kind == "bench" and engine == "dask":
        stderr.print("bench points run here, one at a time; --engine dask is not used",
                     highlight=False)
    with ResultsDB(out) as db:
        tty = stderr.is_terminal
        progress = Progress(TextColumn("{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"),
                            TimeRemainingColumn(), console=stderr, disable=not tty)
        state: dict[str, Any] = {}

        def on_start(pending: int, skipped: int) -> None:
            stderr.print(f"{g.path}: {pending} runs to do, {skipped} already done "
                         f"({engine if g.kind == 'simulate' else 'bench'}, {n} workers)",
                         highlight=False)
            state["task"] = progress.add_task("sweep", total=pending)
            state["i"], state["n"] = 0, pending

        def on_done(run: Run, outcome: dict[str, Any]) -> None:
            state["i"] += 1
            progress.advance(state["task"])
            status = "ok" if outcome["error"] is None else f"FAILED: {outcome['error']}"
            if not tty or outcome["error"] is not None:
                stderr.print(f"[{state['i']}/{state['n']}] {run.label}: {status} "
                             f"({outcome['wall']:.1f} s)", highlight=False,
                             markup=False, soft_wrap=True)

        with progress:
            counts = run_sweep(g, db, engine=engine, workers=n, address=address,
                               on_done=on_done, on_start=on_start)
    if counts.failed:
        stderr.print(f"{counts.failed} runs failed (recorded with their error; re-run the "
                     "same command to retry them)", highlight=False)
    if json_out:
        emit_json(counts.to_dict())
    else:
        stdout.print(f"{out}: {counts.total} runs, {counts.ran} ran now, {counts.skipped} "
                     f"already done, {counts.failed} failed", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("sweep", help=SWEEP_HELP)(sweep_cmd)
