"""`kcompressd validate`: the real bench and the simulator on the same plan, side by side.

Why: a simulator is only worth its predictions; this runs `kcompressd bench --json` on this
machine (root), replays the run's plan in the simulator with a measured profile
(`kcompressd calibrate`), and prints both with the relative error of each metric.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from kcompressd.cli.calibrate import load_bench_result, run_bench_json
from kcompressd.cli.output import emit_json, stderr, stdout
from kcompressd.errors import KcompressdError


def _fmt(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}"


def side_by_side(real: dict[str, Any], sim: dict[str, Any], err: dict[str, float | None]
                 ) -> Table:
    from kcompressd.sim.validate import metrics

    r, s = metrics(real), metrics(sim)
    table = Table(title="real kernel vs simulator", title_justify="left")
    for col in ("metric", "real", "sim", "error"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for k in r:
        e = err[k]
        table.add_row(k, _fmt(r[k]), _fmt(s[k]), "—" if e is None else f"{e:+.1%}")
    return table


def validate_cmd(
    profile: Path = typer.Option(..., help="Measured profile (kcompressd calibrate -o)."),
    corpus: str | None = typer.Option(None, help="Corpus file the eaters write (bench's "
                                      "default otherwise)."),
    threads: int | None = typer.Option(None, help="Eater processes (bench's default "
                                       "otherwise)."),
    bench_result: Path | None = typer.Option(None, help="Compare with this `bench --json` "
                                             "result instead of running the bench."),
    background: int | None = typer.Option(None, help="Other runnable tasks during the real "
                                          "run, simulated as CPU hogs (default: the 1-minute "
                                          "load average before the bench; 0 with "
                                          "--bench-result)."),
    seed: int = typer.Option(0, help="Simulator seed."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Run the real bench and the simulator with the same plan; print relative errors."""
    from kcompressd.profiles import load_profile
    from kcompressd.scenarios import load_scenario
    from kcompressd.sim.run import simulate
    from kcompressd.sim.validate import errors, plan_overrides

    if not profile.is_file():
        raise KcompressdError(f"{profile}: no such profile file")
    load_profile(str(profile))  # refuse a bad profile before the (long) bench
    if bench_result is not None:
        real = load_bench_result(bench_result)
        load = 0 if background is None else background
    else:
        load = round(os.getloadavg()[0]) if background is None else background
        args = [*(["--corpus", corpus] if corpus else []),
                *(["--threads", str(threads)] if threads else [])]
        real = run_bench_json(args)
    if "series" in real or "vmstat" not in real:
        raise KcompressdError("validate compares one run; the bench result holds a series")
    if load < 0:
        raise KcompressdError(f"--background must be >= 0, got {load}")
    sets, design = plan_overrides(real, str(profile.resolve()), load)
    stderr.print(f"simulating the same plan ({design}, {load} background tasks) ...")
    sim = simulate(load_scenario("phone-memeater", sets), design=design, seed=seed).result
    err = errors(real, sim)
    if json_out:
        emit_json({"real": real, "sim": sim, "error": err})  # hogs: sim's scenario
    else:
        stdout.print(side_by_side(real, sim, err))


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_cmd)
