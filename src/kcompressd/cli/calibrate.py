"""`kcompressd calibrate`: a measured machine profile of this host or a lab guest.

Why a command: the simulator's costs must come from a file (a profile), so that a result can
be reproduced anywhere; this writes that file for the machine it runs on (codec costs on a
corpus, the bench eater's own work per page, kswapd's split from a baseline `bench --perf`,
memory and watermarks). With `--vm` the same command runs inside a lab guest of the given
shape (the guest's root is this host's), so every cost is the guest's.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer

from kcompressd import PAGE_SIZE
from kcompressd.cli import guest_options
from kcompressd.cli.output import emit_json, stderr, stdout
from kcompressd.errors import KcompressdError
from kcompressd.lab.qemu import Shape
from kcompressd.outfile import atomic_output, check_writable
from kcompressd.profiles import Profile

DEFAULT_CORPUS = "builtin:phone"


def corpus_pages(spec: str) -> list[bytes]:
    """The pages of a corpus file or `builtin:<profile>`."""
    from kcompressd.backends.zram_cost import corpus_path
    from kcompressd.corpus.io import read_corpus_bytes

    data = read_corpus_bytes(corpus_path(spec))
    return [data[i:i + PAGE_SIZE] for i in range(0, len(data), PAGE_SIZE)]


def baseline_args() -> list[str]:
    """Bench options that switch offload off: a kernel with the Kcompressd patch offloads by
    default (vm.kcompressd = 24), and only baseline runs calibrate."""
    return ["--kcompressd", "0"] if Path("/proc/sys/vm/kcompressd").exists() else []


def baseline_path(output: Path, name: str) -> Path:
    """Where calibrate --vm keeps a baseline run it made: P.toml -> P.perf.json, P.plain.json
    (calibrate --bench-result/--plain-result reads them back)."""
    return output.with_name(f"{output.stem}.{name}.json")


def run_bench_json(args: list[str]) -> dict[str, Any]:
    """`kcompressd bench <args> --json` in a subprocess (it needs root); its result."""
    argv = [sys.executable, "-m", "kcompressd", "bench", *args, "--json"]
    stderr.print(f"running {' '.join(['kcompressd', 'bench', *args, '--json'])} ...")
    proc = subprocess.run(argv, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    if proc.returncode:
        raise KcompressdError(f"kcompressd bench failed (exit {proc.returncode}); see above")
    return json.loads(proc.stdout)


def load_bench_result(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except OSError as e:
        raise KcompressdError(f"{path}: cannot read ({e.strerror})") from None
    except json.JSONDecodeError as e:
        raise KcompressdError(f"{path}: not a JSON result ({e})") from None


def calibrate_cmd(
    output: Path = typer.Option(..., "-o", "--output", help="Profile TOML to write."),
    corpus: str | None = typer.Option(None, help="Corpus file the codecs are timed on (and "
                                      f"the bench writes); default {DEFAULT_CORPUS}."),
    bench_result: Path | None = typer.Option(None, help="A baseline `kcompressd bench --perf "
                                             "--json` result; without it one is run (root)."),
    plain_result: list[Path] | None = typer.Option(None, help="With --bench-result: the "
                                                   "same baseline without --perf, for the CPU "
                                                   "per page (perf's sampling slows kswapd); "
                                                   "repeat it to pool several runs."),
    duration: float = typer.Option(30.0, help="Measured seconds of each baseline bench run."),
    repeat: int = typer.Option(3, help="Baseline runs without perf, pooled for kswapd's and "
                               "the eaters' CPU per page."),
    vm: bool = typer.Option(False, "--vm", help="Calibrate a lab guest of this shape instead "
                            "of this host (see `kcompressd lab`); the baseline runs are kept "
                            "beside the profile (P.perf.json, P.plain.json)."),
    kernel: str | None = guest_options.KERNEL,
    cpus: int = guest_options.CPUS,
    memory: int = guest_options.MEMORY,
    nodes: int = guest_options.NODES,
    accel: str = guest_options.ACCEL,
    json_out: bool = typer.Option(False, "--json", help="Print the profile as JSON too."),
) -> None:
    """Measure this machine (or a lab guest) into a profile: codec costs, the eater's work,
    kswapd's split, memory."""
    check_writable(output)
    if vm and bench_result is None:
        for name in ("perf", "plain"):
            check_writable(baseline_path(output, name))
    if not (duration > 0 and math.isfinite(duration)):
        raise KcompressdError(f"--duration must be a positive number of seconds, got "
                              f"{duration}")
    if repeat < 1:
        raise KcompressdError(f"--repeat must be >= 1, got {repeat}")
    if plain_result and bench_result is None:
        raise KcompressdError("--plain-result goes with --bench-result")
    if vm:
        profile = _calibrate_in_guest(output, corpus, bench_result, plain_result, duration,
                                      repeat, kernel,
                                      Shape(cpus=cpus, memory_mib=memory, nodes=nodes), accel)
    else:
        profile = _calibrate_here(output, corpus, bench_result, plain_result, duration, repeat)
    if json_out:
        emit_json({"profile": str(output), "reclaim": {k: v.value for k, v in
                                                        profile.reclaim.items()},
                   "eater": {k: v.value for k, v in profile.eater.items()},
                   "info": {k: v.value for k, v in profile.info.items()}})
    else:
        stdout.print(f"wrote {output}: scan {profile.reclaim['scan_ns'].value:g} ns, unmap "
                     f"{profile.reclaim['unmap_ns'].value:g} ns per page; eater touch "
                     f"{profile.eater['touch_ns'].value:g} ns per page; codecs "
                     f"{', '.join(sorted(profile.codecs))}")


def baseline_runs(args: list[str], repeat: int) -> dict[str, Any]:
    """`repeat` baseline runs without perf (interleaved boots with --vm), pooled."""
    from kcompressd.profiles.calibrate import pool_runs

    doc = run_bench_json([*args, "--repeat", str(repeat)])
    return pool_runs([r for s in doc["series"] for r in s["runs"]] if "series" in doc
                     else [doc])


def pooled(paths: list[Path]) -> dict[str, Any]:
    from kcompressd.profiles.calibrate import pool_runs

    return pool_runs([load_bench_result(p) for p in paths])


def _calibrate_here(output: Path, corpus: str | None, bench_result: Path | None,
                    plain_result: list[Path] | None, duration: float, repeat: int) -> Profile:
    from kcompressd.codecs import available
    from kcompressd.profiles.calibrate import build_profile, host_memory, kswapd_split
    from kcompressd.profiles.measure import (
        measure_codecs,
        measure_context_switch,
        measure_eater,
    )

    spec = corpus or DEFAULT_CORPUS
    pages = corpus_pages(spec)
    plain = pooled(plain_result) if plain_result else None
    if bench_result is not None:
        bench, origin = load_bench_result(bench_result), str(bench_result)
    else:
        args = ["--duration", f"{duration!r}", *baseline_args(),
                *(["--corpus", corpus] if corpus else [])]
        bench = run_bench_json(["--perf", *args])
        plain = baseline_runs(args, repeat)  # CPU per page without perf (kswapd_split)
        origin = "run by calibrate"
    kswapd_split(bench, plain)  # refuse a result that cannot calibrate before timing anything
    stderr.print(f"timing {', '.join(available())} on {len(pages)} pages of {spec}, the "
                 "eater's loop and a context switch ...")
    codecs = measure_codecs(pages, available(), spec)
    eater = measure_eater(b"".join(pages))
    switch = measure_context_switch()
    memory, info = host_memory()
    profile = build_profile(output.stem, codecs, pages, bench, origin, memory, info, eater,
                            spec, plain, switch)
    with atomic_output(output) as tmp:
        tmp.write_text(profile.to_toml())
    return profile


def _calibrate_in_guest(output: Path, corpus: str | None, bench_result: Path | None,
                        plain_result: list[Path] | None, duration: float, repeat: int,
                        kernel: str | None, shape: Shape, accel: str) -> Profile:
    """The baseline runs as `bench --vm` makes them (a fresh guest each, like the runs that
    validate measures), then `kcompressd calibrate` in a third guest on their results (codec
    and eater timings, memory); the profile comes back through the job share."""
    from kcompressd.lab.machine import machine
    from kcompressd.profiles import parse_profile
    from kcompressd.vmbench import GUEST_JOB, TIMEOUT_BASE

    m = machine(kernel, shape, accel)
    spec = None if corpus is None else (
        corpus if corpus.startswith("builtin:") else str(Path(corpus).resolve()))
    results: dict[str, dict[str, Any]] = {}
    if bench_result is not None:
        results["perf"] = load_bench_result(bench_result)
        if plain_result:
            results["plain"] = pooled(plain_result)
    else:
        vm_args = ["--vm", "--kernel", m.kernel.get("id") or str(m.bzimage),
                   "--cpus", str(shape.cpus),
                   "--memory", str(shape.memory_mib), "--nodes", str(shape.nodes),
                   "--accel", m.accel, "--duration", f"{duration!r}",
                   *(["--kcompressd", "0"] if m.kernel.get("patches") else []),
                   *(["--corpus", spec] if spec else [])]
        results["perf"] = run_bench_json(["--perf", *vm_args])
        results["plain"] = baseline_runs(vm_args, repeat)
    command = [sys.executable, "-m", "kcompressd", "calibrate", "-o",
               str(GUEST_JOB / f"{output.stem}.toml"), "--duration", f"{duration!r}",
               "--bench-result", str(GUEST_JOB / "perf.json"),
               *(["--plain-result", str(GUEST_JOB / "plain.json")] if "plain" in results
                 else []),
               *(["--corpus", spec] if spec else [])]
    got: dict[str, str] = {}

    def prepare(job: Path) -> None:
        for name, doc in results.items():
            (job / f"{name}.json").write_text(json.dumps(doc))

    def collect(job: Path) -> None:
        if (job / f"{output.stem}.toml").exists():
            got["text"] = (job / f"{output.stem}.toml").read_text()

    run = m.run(command, timeout=TIMEOUT_BASE, stdout=sys.stderr.buffer,
                stderr=sys.stderr.buffer, prepare=prepare, collect=collect)
    run.fail_on_reports("during calibration")
    if run.status != 0 or "text" not in got:
        raise KcompressdError(f"calibrate in the guest failed (exit status {run.status}); its "
                              "messages are above")
    if bench_result is None:  # keep the runs the profile came from, beside it
        for name, doc in results.items():
            with atomic_output(baseline_path(output, name)) as tmp:
                tmp.write_text(json.dumps(doc, indent=1))
    vm = m.describe()
    text = got["text"].replace('description = "measured on ',
                               f'description = "lab guest {vm["cpus"]} vCPU '
                               f'{vm["memory_mib"]} MiB {vm["accel"]}, kernel '
                               f'{vm["kernel"].get("id") or "?"}, measured on ', 1)
    profile = parse_profile(output.stem, text, str(output))
    with atomic_output(output) as tmp:
        tmp.write_text(text)
    return profile


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate_cmd)
