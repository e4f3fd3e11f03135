"""`kcompressd validate`: the real bench and the simulator on the same plan, side by side.

Why: a simulator is only worth its predictions; this runs `kcompressd bench --json` on this
machine (root) or in a lab guest (`--vm`), replays the run's plan in the simulator with a
measured profile (`kcompressd calibrate`) and the run's Kcompressd sysctls as the `kcompressd`
design's parameters, and prints both with the relative error of each metric.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from kcompressd.cli import guest_options
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
    for k in err:
        e = err[k]
        table.add_row(k, _fmt(r[k]), _fmt(s[k]), "—" if e is None else f"{e:+.1%}")
    return table


def validate_cmd(
    profile: Path = typer.Option(..., help="Measured profile (kcompressd calibrate -o)."),
    corpus: str | None = typer.Option(None, help="Corpus file the eaters write (bench's "
                                      "default otherwise)."),
    threads: int | None = typer.Option(None, help="Eater processes (bench's default "
                                       "otherwise)."),
    duration: float = typer.Option(30.0, help="Measured seconds of the bench run."),
    kcompressd: int | None = typer.Option(None, help="vm.kcompressd queue depth (patched "
                                          "kernels; 0 switches the offload off)."),
    kcompressd_threads: int | None = typer.Option(None, help="vm.kcompressd_threads."),
    kcompressd_overflow: int | None = typer.Option(None, help="vm.kcompressd_overflow."),
    kcompressd_memalloc: int | None = typer.Option(None, help="vm.kcompressd_memalloc."),
    bench_result: Path | None = typer.Option(None, help="Compare with this `bench --json` "
                                             "result instead of running the bench."),
    vm: bool = typer.Option(False, "--vm", help="Run the bench in a lab guest of this shape "
                            "(see `kcompressd lab`)."),
    kernel: str | None = guest_options.KERNEL,
    cpus: int = guest_options.CPUS,
    memory: int = guest_options.MEMORY,
    nodes: int = guest_options.NODES,
    accel: str = guest_options.ACCEL,
    background: int = typer.Option(0, help="Other runnable tasks during the real run, "
                                   "simulated as CPU hogs besides the CPU time the run "
                                   "measured outside its threads (which is always "
                                   "replayed)."),
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
    if background < 0:
        raise KcompressdError(f"--background must be >= 0, got {background}")
    knobs = {"--kcompressd": kcompressd, "--kcompressd-threads": kcompressd_threads,
             "--kcompressd-overflow": kcompressd_overflow,
             "--kcompressd-memalloc": kcompressd_memalloc}
    load = background
    if bench_result is not None:
        real = load_bench_result(bench_result)
    else:
        args = [*(["--corpus", corpus] if corpus else []),
                *(["--threads", str(threads)] if threads else []),
                "--duration", f"{duration!r}",
                *(x for k, v in knobs.items() if v is not None for x in (k, str(v)))]
        if vm:
            args += ["--vm", *(["--kernel", kernel] if kernel else []), "--cpus", str(cpus),
                     "--memory", str(memory), "--nodes", str(nodes), "--accel", accel]
        real = run_bench_json(args)
    if "series" in real or "vmstat" not in real:
        raise KcompressdError("validate compares one run; the bench result holds a series")
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
