"""`kcompressd bench`: reclaim measured on the real kernel of this machine."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from kcompressd.cli import guest_options
from kcompressd.cli.output import emit_json, stderr, stdout
from kcompressd.cli.tables import comparison_table, result_table
from kcompressd.errors import KcompressdError
from kcompressd.kernel.bench import BenchOptions, prepare, run_bench, validate_options
from kcompressd.kernel.journal import recover
from kcompressd.kernel.lock import run_lock
from kcompressd.kernel.plan import Plan
from kcompressd.kernel.restore import Terminated
from kcompressd.kernel.sysfs import require_root
from kcompressd.lab.machine import machine
from kcompressd.lab.qemu import Shape
from kcompressd.result import VMSTAT_COUNTERS
from kcompressd.vmbench import default_timeout, run_vm_bench

RECLAIM_PREFIXES = ("allocstall_", "pgscan_", "pgsteal_", "workingset_refault", "pgmajfault",
                    "kswapd_", "swpout_zero", "swpin_zero")


def parse_size(text: str) -> float | None:
    if text == "auto":
        return None
    try:
        return float(text)
    except ValueError:
        raise KcompressdError(f"--size must be a number of GiB or 'auto', got {text!r}") from None


def parse_settings(text: str | None, option: str = "--kcompressd") -> tuple[int, ...]:
    if not text:
        return ()
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise KcompressdError(
            f"{option} takes comma-separated integers (e.g. 0,24,256), got {text!r}"
        ) from None


def reclaim_view(result: dict[str, Any]) -> dict[str, Any]:
    """The result with only the reclaim counters in vmstat/rates (the JSON keeps them all)."""
    keep = [k for k in result["vmstat"] if k in VMSTAT_COUNTERS or k.startswith(RECLAIM_PREFIXES)]
    return {**result, "vmstat": {k: result["vmstat"][k] for k in keep},
            "rates": {k: result["rates"][k] for k in keep}}


def plan_table(plan: Plan) -> Table:
    table = Table(title="kcompressd bench plan", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value")
    for what, value in plan.describe():
        table.add_row(what, value)
    return table


def setting_label(sysctls: dict[str, int]) -> str:
    """vm.kcompressd=24 vm.kcompressd_threads=2 -> "kcompressd=24 threads=2"."""
    if not sysctls:
        return "default"
    return " ".join(f"{k.removeprefix('vm.').removeprefix('kcompressd_')}={v}"
                    for k, v in sysctls.items())


def series_sysctls(series: dict[str, Any]) -> dict[str, int]:
    """A series' settings (documents from before the other knobs carry only `kcompressd`)."""
    if "sysctls" in series:
        return series["sysctls"]
    return {} if series["kcompressd"] is None else {"vm.kcompressd": series["kcompressd"]}


def summary_table(doc: dict[str, Any]) -> Table:
    table = Table(title="median and spread over the runs", title_justify="left")
    table.add_column("")
    for series in doc["series"]:
        table.add_column(setting_label(series_sysctls(series)), justify="right")
    for metric in doc["series"][0]["summary"]:
        cells = [f"{s['summary'][metric]['median']:,.1f} ±{s['summary'][metric]['spread']:.1%}"
                 for s in doc["series"]]
        table.add_row(metric, *cells)
    return table


def print_doc(doc: dict[str, Any]) -> None:
    """Rich tables: one result, or every run of a series side by side plus the summary."""
    if "series" in doc:
        runs = {f"{setting_label(series_sysctls(s))} #{i}": r
                for s in doc["series"] for i, r in enumerate(s["runs"])}
        stdout.print(comparison_table({k: reclaim_view(r) for k, r in runs.items()},
                                      title="runs"))
        stdout.print(summary_table(doc))
    else:
        runs = {"": doc}
        stdout.print(result_table(reclaim_view(doc), title="kcompressd bench"))
    for label, r in runs.items():
        if r["workload"]["stopped_early"]:
            stderr.print(f"[yellow]{label} stopped early: {r['workload']['stopped_early']}")


def _bench(options: BenchOptions, dry_run: bool, json_out: bool) -> dict[str, Any] | None:
    """Lock, recover, plan, then run (None for --dry-run, which has printed the plan)."""
    # Root before the lock (whose file is root's); then the lock before the plan: a plan made
    # while another run holds the memory is wrong.
    require_root("kcompressd bench")
    with run_lock():
        recovered = recover()
        if recovered:
            stderr.print("[yellow]a previous run was killed before it could restore the "
                         f"machine; put back: {', '.join(recovered)}")
        plan, pages, corpus_name = prepare(options)
        if dry_run:
            if json_out:
                emit_json({"plan": plan.to_dict(), "corpus": corpus_name})
            else:
                stdout.print(plan_table(plan))
            return None
        (stderr if json_out else stdout).print(plan_table(plan))

        return run_bench(options, plan, pages, corpus_name, _progress(options))


def _progress(options: BenchOptions, where: str = "run"
              ) -> Callable[[int, dict[str, int] | None], None]:
    def progress(i: int, setting: dict[str, int] | None) -> None:
        label = f" {setting_label(setting)}" if setting else ""
        stderr.print(f"{where} {i + 1}/{options.repeat}{label}: {options.duration:g} s ...")
    return progress


def _bench_vm(options: BenchOptions, dry_run: bool, kernel: str | None, shape: Shape,
              accel: str, timeout: float | None) -> dict[str, Any]:
    """The same bench in lab guests: checked on the host first, then one boot per run."""
    validate_options(options)
    if timeout is not None and not timeout > 0:
        raise KcompressdError(f"--timeout must be a positive number of seconds, got {timeout}")
    m = machine(kernel, shape, accel)
    return run_vm_bench(m, options, dry_run=dry_run,
                        timeout=timeout or default_timeout(options),
                        progress=_progress(options, "guest run"))


def register(app: typer.Typer) -> None:
    @app.command()
    def bench(
        size: str = typer.Option("auto", help="Workload GiB all eaters together, or 'auto'."),
        threads: int | None = typer.Option(None, help="Eater processes (default: one per "
                                           "CPU of the machine that runs them)."),
        algorithm: str = typer.Option("lz4", help="Compression algorithm (zram's, and zswap's "
                                      "with --backend zswap)."),
        backend: str = typer.Option("zram", help="zram, or zswap in front of the zram device."),
        corpus: Path | None = typer.Option(None, help="Corpus of pages the eaters write "
                                           "(default: the built-in 'phone' corpus)."),
        duration: float = typer.Option(30.0, help="Measured seconds per run."),
        repeat: int = typer.Option(1, help="Runs per setting."),
        kcompressd: str | None = typer.Option(None, help="vm.kcompressd queue depths to A/B, "
                                              "e.g. 0,24,256 (patched kernels only)."),
        kcompressd_threads: str | None = typer.Option(
            None, help="vm.kcompressd_threads to A/B, e.g. 1,2 (workers per node)."),
        kcompressd_overflow: str | None = typer.Option(
            None, help="vm.kcompressd_overflow to A/B: 0 kswapd writes the new folio, "
            "1 the oldest queued one."),
        kcompressd_memalloc: str | None = typer.Option(
            None, help="vm.kcompressd_memalloc to A/B: 1 workers run with PF_MEMALLOC."),
        perf: bool = typer.Option(False, "--perf", help="Split kswapd's time with perf."),
        trace: Path | None = typer.Option(None, help="Write the timeline as a Perfetto trace."),
        plot: Path | None = typer.Option(None, help="Draw the timeline (PNG, SVG, PDF)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan, change nothing."),
        vm: bool = typer.Option(False, "--vm", help="Run inside lab guests (see `kcompressd "
                                "lab`), one boot per run."),
        kernel: str | None = guest_options.KERNEL,
        cpus: int = guest_options.CPUS,
        memory: int = guest_options.MEMORY,
        nodes: int = guest_options.NODES,
        accel: str = guest_options.ACCEL,
        timeout: float | None = typer.Option(None, help="--vm: seconds per guest before it is "
                                             "stopped (default: from --duration)."),
        json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    ) -> None:
        """Run a memory eater on a real kernel with zram swap (this machine's, or a lab
        guest's with --vm); report reclaim."""
        options = BenchOptions(
            size=parse_size(size), threads=threads, algorithm=algorithm, backend=backend,
            corpus=corpus,
            duration=duration, repeat=repeat, kcompressd=parse_settings(kcompressd),
            kcompressd_threads=parse_settings(kcompressd_threads, "--kcompressd-threads"),
            kcompressd_overflow=parse_settings(kcompressd_overflow, "--kcompressd-overflow"),
            kcompressd_memalloc=parse_settings(kcompressd_memalloc, "--kcompressd-memalloc"),
            perf=perf, trace=trace, plot=plot)
        try:
            if vm:
                doc = _bench_vm(options, dry_run, kernel,
                                Shape(cpus=cpus, memory_mib=memory, nodes=nodes), accel, timeout)
            else:
                doc = _bench(options, dry_run, json_out)
        except Terminated as e:
            print(f"kcompressd: bench stopped by {e}; the machine is restored", file=sys.stderr)
            raise typer.Exit(143) from None
        except KeyboardInterrupt:
            print("kcompressd: bench interrupted; the machine is restored", file=sys.stderr)
            raise typer.Exit(130) from None
        if doc is None:
            return
        if json_out:
            emit_json(doc)
        elif vm and dry_run:
            stdout.print(plan_table(Plan(**doc["plan"])))
        else:
            print_doc(doc)
