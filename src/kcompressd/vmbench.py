"""`kcompressd bench --vm`: the real-kernel harness, run inside lab guests.

The kernel layer runs unchanged in the guest (the guest's root is the host's); this module only
boots one guest per run (a fresh machine for every run of a series, settings interleaved as on
the host), passes the bench options through, brings the result and any trace or plot back, and
fails a run whose guest kernel reported a bug. It sits above both the lab and the kernel layer.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kcompressd.errors import KcompressdError
from kcompressd.kernel.bench import (
    KCOMPRESSD_KNOBS,
    BenchOptions,
    labelled_path,
    series_document,
    setting_label,
    settings,
)
from kcompressd.lab.machine import Machine

GUEST_JOB = Path("/run/kcompressd-job")
# Boot, zram set-up, corpus, prefill and teardown under TCG, on top of the measured window.
TIMEOUT_BASE = 300.0


def default_timeout(o: BenchOptions) -> float:
    return TIMEOUT_BASE + 3 * o.duration * (1 + o.perf)


def guest_command(o: BenchOptions, setting: dict[str, int] | None, dry_run: bool) -> list[str]:
    """`kcompressd bench` for one run in the guest, always with --json."""
    args = [sys.executable, "-m", "kcompressd", "bench", "--json",
            "--algorithm", o.algorithm, "--backend", o.backend, "--duration", f"{o.duration!r}"]
    if o.size is not None:
        args += ["--size", f"{o.size!r}"]
    if o.threads is not None:
        args += ["--threads", str(o.threads)]
    if o.corpus is not None:
        args += ["--corpus", str(o.corpus.resolve())]
    if o.perf:
        args.append("--perf")
    if dry_run:
        args.append("--dry-run")
    by_sysctl = {sysctl: name for name, (sysctl, _, _) in KCOMPRESSD_KNOBS.items()}
    for sysctl, value in (setting or {}).items():
        args += ["--" + by_sysctl[sysctl].replace("_", "-"), str(value)]
    for flag, path in (("--trace", o.trace), ("--plot", o.plot)):
        if path is not None:
            args += [flag, str(GUEST_JOB / f"out{path.suffix}")]
    return args


def _collect(o: BenchOptions, label: str, out: dict[str, Any]) -> Callable[[Path], None]:
    def collect(job: Path) -> None:
        out["stdout"] = (job / "stdout").read_text(errors="replace")
        for path in (o.trace, o.plot):
            if path is not None and (job / f"out{path.suffix}").exists():
                shutil.copyfile(job / f"out{path.suffix}", labelled_path(path, label))
    return collect


def run_in_guest(m: Machine, o: BenchOptions, setting: dict[str, int] | None, *, label: str,
                 dry_run: bool, timeout: float) -> dict[str, Any]:
    """One guest, one bench run: its result (or plan) with meta.vm."""
    out: dict[str, Any] = {}
    run = m.run(guest_command(o, setting, dry_run), timeout=timeout, stdout=None,
                stderr=sys.stderr.buffer, collect=_collect(o, label, out))
    run.fail_on_reports("during the bench")
    if run.status != 0:
        raise KcompressdError(f"the bench in the guest failed (exit status {run.status}); its "
                              "messages are above")
    try:
        doc = json.loads(out["stdout"])
    except ValueError:
        raise KcompressdError("the bench in the guest printed no result") from None
    doc.setdefault("meta", {})["vm"] = {**m.describe(), "guest_seconds": round(run.seconds, 1)}
    return doc


def run_vm_bench(m: Machine, o: BenchOptions, *, dry_run: bool, timeout: float,
                 progress: Callable[[int, dict[str, int] | None], None]) -> dict[str, Any]:
    """Every run of the options, each in a freshly booted guest; one result or a series."""
    plan_settings = settings(o)
    if dry_run:
        return run_in_guest(m, o, plan_settings[0], label="", dry_run=True, timeout=timeout)
    runs: list[tuple[dict[str, int] | None, list[dict[str, Any]]]] = [
        (s, []) for s in plan_settings]
    single = o.repeat == 1 and len(plan_settings) == 1
    for i in range(o.repeat):
        for s, results in runs:  # interleaved, as on the host
            progress(i, s)
            label = "" if single else ".".join(filter(None, (setting_label(s), str(i))))
            results.append(run_in_guest(m, o, s, label=label, dry_run=False, timeout=timeout))
    if single:
        return runs[0][1][0]
    first = runs[0][1][0]["meta"]
    return series_document(o, runs, {"plan": first.get("plan"), "kernel": first.get("kernel"),
                                     "cpu_model": first.get("cpu_model"), "vm": m.describe()})
