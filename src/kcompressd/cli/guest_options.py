"""The lab guest's shape as options, shared by the commands that take `--vm` (bench,
calibrate, validate): one declaration, one help text, the same defaults everywhere."""

from __future__ import annotations

import typer

KERNEL = typer.Option(None, help="--vm: a cached kernel's id, 'vanilla', or a bzImage path "
                      "(default: the project's build).")
CPUS = typer.Option(2, help="--vm: guest vCPUs.")
MEMORY = typer.Option(2048, help="--vm: guest memory in MiB.")
NODES = typer.Option(1, help="--vm: NUMA nodes.")
ACCEL = typer.Option(
    "auto", help="--vm: auto, kvm, tcg, or icount (TCG whose guest clock counts instructions: "
    "runs that repeat).")
