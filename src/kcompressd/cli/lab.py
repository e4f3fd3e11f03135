"""`kcompressd lab`: build Linux 6.12 with the project's patches, boot it in shaped guests."""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

import typer
from rich.table import Table

from kcompressd.cli.output import emit_json, stderr, stdout
from kcompressd.errors import KcompressdError
from kcompressd.lab import build as lab_build
from kcompressd.lab import kernels
from kcompressd.lab.machine import machine
from kcompressd.lab.patches import read_patch, read_series
from kcompressd.lab.qemu import Shape


class Progress:
    """Phase and elapsed time on stderr: a live line on a terminal, a line per phase (at most
    one per 10 s within a phase) otherwise, so CI logs stay short."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.t0 = time.monotonic()
        self.status = stderr.status(what) if stderr.is_terminal else None
        self.phase = ""
        self.last = 0.0

    def __call__(self, message: str) -> None:
        elapsed = time.monotonic() - self.t0
        if self.status is not None:
            self.status.update(f"{self.what}: {elapsed:5.0f} s  {message}")
            return
        phase = message.split(" ", 1)[0]
        if phase != self.phase or elapsed - self.last >= 10:
            print(f"{self.what}: {elapsed:5.0f} s  {message}", file=sys.stderr, flush=True)
            self.phase, self.last = phase, elapsed

    def __enter__(self) -> Progress:
        if self.status is not None:
            self.status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.stop()


def _build(vanilla: bool, debug: bool, trace: bool, patches: Path | None, add: list[Path],
           jobs: int) -> tuple[dict, bool]:
    if vanilla and patches is not None:
        raise KcompressdError("--vanilla and --patches exclude each other")
    series = [*([] if vanilla else read_series(patches)), *map(read_patch, add)]
    req = lab_build.BuildRequest(series=series, debug=debug, trace=trace, jobs=jobs)
    t0 = time.monotonic()
    with Progress("lab build") as progress:
        before = {k.id for k in kernels.all_kernels()}
        k = lab_build.build(req, progress)
    return lab_build.describe(k, k.id in before, time.monotonic() - t0), k.id in before


def register(app: typer.Typer) -> None:
    lab = typer.Typer(help="The kernel lab: Linux 6.12 with the project's patches, booted "
                           "under QEMU in guests of any shape.", no_args_is_help=True)
    app.add_typer(lab, name="lab")

    @lab.command("build")
    def build_cmd(
        vanilla: bool = typer.Option(False, "--vanilla", help="Apply no patches at all."),
        debug: bool = typer.Option(False, "--debug",
                                   help="Add lockdep, DEBUG_VM and DEBUG_ATOMIC_SLEEP."),
        trace: bool = typer.Option(False, "--trace",
                                   help="Add event tracing (sched and vmscan events, "
                                   "trace_printk) for diagnosis in guests."),
        patches: Path | None = typer.Option(None, help="A directory with a 'series' file to "
                                            "apply instead of the project's series."),
        add: list[Path] = typer.Option([], "--add", help="A patch to apply after the series "
                                       "(repeatable), e.g. a diagnostic."),
        jobs: int = typer.Option(os.cpu_count() or 1, help="make -j."),
        json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    ) -> None:
        """Build (or find in the cache) a bzImage from Debian's linux-source-6.12."""
        if jobs < 1:
            raise KcompressdError(f"--jobs must be at least 1, got {jobs}")
        doc, _ = _build(vanilla, debug, trace, patches, add, jobs)
        if json_out:
            emit_json(doc)
        else:
            how = "cached" if doc["cached"] else f"built in {doc['seconds']:.0f} s"
            print(f"{doc['id']}  {doc['version']}  {doc['bzimage']}  ({how})")

    @lab.command("kernels")
    def kernels_cmd(
        json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    ) -> None:
        """List the cached kernels, newest first, with their sizes."""
        found = kernels.all_kernels()
        if json_out:
            emit_json([{"id": k.id, "version": k.meta["version"], "patches": k.meta["patches"],
                        "debug": k.meta["debug"], "trace": k.meta.get("trace", False),
                        "bytes": k.size(),
                        "bzimage": str(k.bzimage)} for k in found])
            return
        table = Table(title=f"kernels in {kernels.kernels_dir()}", title_justify="left")
        for col in ("id", "version", "carries", "size", "built"):
            table.add_column(col, justify="right" if col == "size" else "left")
        for k in found:
            table.add_row(k.id, k.meta["version"], kernels.label(k),
                          f"{k.size() / 2**20:.1f} MiB", f"{kernels.age(k)} ago")
        stdout.print(table)

    @lab.command("clean")
    def clean_cmd(
        keep: int = typer.Option(0, help="Kernels to keep (newest first); 0 also drops the "
                                 "unpacked source and the build directories."),
    ) -> None:
        """Free the lab's cache."""
        dropped = kernels.clean(keep)
        print(f"dropped {len(dropped)} kernel(s)" + ("" if keep else
              " and the unpacked sources and build directories"), file=sys.stderr)

    @lab.command("run", context_settings={"allow_interspersed_args": False})
    def run_cmd(
        command: list[str] = typer.Argument(..., help="The command to run as root in the "
                                            "guest (after --)."),
        kernel: str | None = typer.Option(None, help="A cached kernel's id, 'vanilla', or a "
                                          "bzImage path (default: the project's build)."),
        cpus: int = typer.Option(2, help="Guest vCPUs."),
        memory: int = typer.Option(2048, help="Guest memory in MiB."),
        nodes: int = typer.Option(1, help="NUMA nodes (each has its own kswapd)."),
        accel: str = typer.Option("auto", help="auto, kvm, tcg or icount."),
        timeout: float = typer.Option(600.0, help="Seconds before the guest is stopped."),
        disk: int = typer.Option(0, help="MiB of an empty scratch disk, /dev/vda in the guest "
                                 "(e.g. a swap device behind zswap)."),
        allow_kernel_reports: bool = typer.Option(
            False, "--allow-kernel-reports",
            help="Do not fail when the guest kernel reports a WARNING, BUG or lockdep splat."),
    ) -> None:
        """Boot a guest with the host's / read-only, run COMMAND, exit with its status."""
        if not (timeout > 0 and math.isfinite(timeout)):
            raise KcompressdError(f"--timeout must be a positive number of seconds, got {timeout}")
        if disk < 0:
            raise KcompressdError(f"--disk must be a number of MiB >= 0, got {disk}")
        m = machine(kernel, Shape(cpus=cpus, memory_mib=memory, nodes=nodes), accel)
        result = m.run(command, timeout=timeout, stdout=sys.stdout.buffer,
                       stderr=sys.stderr.buffer, disk_mib=disk)
        if not allow_kernel_reports:
            result.fail_on_reports("while the command ran")
        print(f"kcompressd: lab guest ran {result.seconds:.1f} s ({m.accel}); command exit "
              f"status {result.status}", file=sys.stderr)
        raise typer.Exit(result.status)
