"""`kcompressd bench`: a memory-eater workload on the real kernel, zram as swap, measured.

One run: zram device -> swap -> sysctls -> hugepage balloon -> eaters, sampled at 10 Hz for
the planned duration, then everything undone in reverse order by a Restorer (on success,
errors, Ctrl-C and SIGTERM alike). A series repeats runs, interleaving the vm.kcompressd
settings of an A/B test so that drift of the machine hits every setting alike.
"""

from __future__ import annotations

import itertools
import math
import os
import platform
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kcompressd import PAGE_SIZE
from kcompressd.codecs import available
from kcompressd.corpus.builtin import builtin_corpus
from kcompressd.corpus.io import read_corpus_bytes
from kcompressd.errors import KcompressdError
from kcompressd.kernel import sysfs, zram
from kcompressd.kernel.hugepages import NR_HUGEPAGES, inflate_balloon
from kcompressd.kernel.journal import Journal
from kcompressd.kernel.meminfo import read_meminfo
from kcompressd.kernel.modparam import param_path, set_param
from kcompressd.kernel.perf import PerfRecorder, split_profile
from kcompressd.kernel.plan import GIB, Plan, lab_guest, make_plan, zram_ratio
from kcompressd.kernel.procstat import reclaim_threads
from kcompressd.kernel.restore import Restorer
from kcompressd.kernel.sampler import Sample, Sampler
from kcompressd.kernel.swap import swapon
from kcompressd.kernel.sysctl import drop_caches, sched_autogroup, set_sysctl, sysctl_path
from kcompressd.kernel.vmstat import read_vmstat, vmstat_delta
from kcompressd.kernel.workload import CHUNK_PAGES, EaterReport, Eaters
from kcompressd.outfile import check_writable
from kcompressd.plot import check_figure_path, plot_timeline
from kcompressd.result import make_result, thread_switches
from kcompressd.trace import Timeline, write_perfetto

KCOMPRESSD_SYSCTL = "vm.kcompressd"
BACKENDS = ("zram", "zswap")
# The Kcompressd patch's knobs an A/B series crosses: option name -> (sysctl, lowest, highest)
# as the project's series documents them (vm.kcompressd's upper bound is the kernel's to check).
KCOMPRESSD_KNOBS = {
    "kcompressd": (KCOMPRESSD_SYSCTL, 0, None),
    "kcompressd_threads": ("vm.kcompressd_threads", 1, 8),
    "kcompressd_overflow": ("vm.kcompressd_overflow", 0, 1),
    "kcompressd_memalloc": ("vm.kcompressd_memalloc", 0, 1),
}
DEFAULT_CORPUS_PROFILE = "phone"
PREFILL_TIMEOUT = 120.0
OUTSIDE_COUNTERS = ("pgsteal_kswapd", "pgsteal_direct", "pgscan_kswapd", "pgscan_direct",
                    "pswpout", "pswpin", "zswpout")
PLOT_COUNTERS = ("free_pages", "wmark_min", "wmark_low", "wmark_high", "writeback_pages",
                 "zram_mem_used_bytes")
# Rates summarised (median, spread) over the runs of a series.
SUMMARY_RATES = ("pgsteal_kswapd", "pgsteal_direct", "pgscan_kswapd", "allocstall", "pswpout",
                 "pgrotated")
# The patch's counters, summarised where the kernel has them.
KCOMPRESSD_COUNTERS = ("kcompressd_queued", "kcompressd_written", "kcompressd_drained",
                       "kcompressd_sync_full")


@dataclass(frozen=True)
class BenchOptions:
    size: float | None = None  # workload GiB; None plans it from memory
    threads: int | None = None  # eater processes; None: one per CPU of the machine it runs on
    algorithm: str = "lz4"
    backend: str = "zram"  # or "zswap": zswap in front of the zram device
    corpus: Path | None = None
    duration: float = 30.0
    repeat: int = 1
    kcompressd: tuple[int, ...] = ()
    kcompressd_threads: tuple[int, ...] = ()
    kcompressd_overflow: tuple[int, ...] = ()
    kcompressd_memalloc: tuple[int, ...] = ()
    perf: bool = False
    trace: Path | None = None
    plot: Path | None = None


def settings(o: BenchOptions) -> list[dict[str, int] | None]:
    """The sysctl settings an A/B series runs: the cross product of the knobs given, in the
    order given (None: leave the kernel's settings alone)."""
    axes = [[(sysctl, v) for v in getattr(o, name)]
            for name, (sysctl, _, _) in KCOMPRESSD_KNOBS.items() if getattr(o, name)]
    return [dict(combo) for combo in itertools.product(*axes)] if axes else [None]


@dataclass
class Run:
    result: dict[str, Any]
    timeline: Timeline


def validate_options(o: BenchOptions) -> None:
    """What can be checked of the options alone, before any machine is looked at."""
    if o.threads is not None and o.threads < 1:
        raise KcompressdError(f"--threads must be at least 1, got {o.threads}")
    if o.size is not None and not (o.size > 0 and math.isfinite(o.size)):
        raise KcompressdError(f"--size must be a positive number of GiB or 'auto', got {o.size:g}")
    if not (o.duration > 0 and math.isfinite(o.duration)):
        raise KcompressdError(f"--duration must be a positive number of seconds, "
                              f"got {o.duration:g}")
    if o.repeat < 1:
        raise KcompressdError(f"--repeat must be at least 1, got {o.repeat}")
    if o.backend not in BACKENDS:
        raise KcompressdError(f"--backend must be {' or '.join(BACKENDS)}, got {o.backend!r}")
    for name, (_, low, high) in KCOMPRESSD_KNOBS.items():
        bad = [v for v in getattr(o, name) if v < low or (high is not None and v > high)]
        if bad:
            bound = f"{low}..{high}" if high is not None else f">= {low}"
            raise KcompressdError(f"--{name.replace('_', '-')} values must be {bound}, "
                                  f"got {bad}")
    if o.trace is not None:
        check_writable(o.trace)
    if o.plot is not None:
        check_figure_path(o.plot)


def validate(o: BenchOptions) -> None:
    """The options, and what they need of this machine's kernel and tools."""
    validate_options(o)
    for name, (sysctl, _, _) in KCOMPRESSD_KNOBS.items():
        if getattr(o, name) and not sysctl_path(sysctl).exists():
            raise KcompressdError(
                f"--{name.replace('_', '-')} needs a kernel with the kcompressd patch: "
                f"{sysctl_path(sysctl)} does not exist on {platform.release()}"
            )
    if o.perf and shutil.which("perf") is None:
        raise KcompressdError("--perf needs the perf tool (linux-perf / linux-tools)")


def zswap_params(algorithm: str) -> dict[str, str]:
    """zswap on, with the run's compressor and a pool that may hold every swapped page, so
    that zswap compresses (nearly) everything and the zram device behind it only takes what
    zswap rejects (zswap_store())."""
    if not param_path("zswap.enabled").exists():
        raise KcompressdError(f"--backend zswap needs zswap: {param_path('zswap.enabled')} "
                              f"does not exist on {platform.release()}")
    crypto = {line.partition(":")[2].strip() for line in
              Path("/proc/crypto").read_text().splitlines() if line.startswith("name")}
    if algorithm not in crypto:
        known = ", ".join(sorted(a for a in crypto if "lz" in a or "zstd" in a)) or "none"
        raise KcompressdError(f"zswap compresses through the crypto API, which has no "
                              f"{algorithm!r} on {platform.release()} (compressors in "
                              f"/proc/crypto: {known})")
    params = {"zswap.enabled": "Y", "zswap.compressor": algorithm,
              "zswap.max_pool_percent": "100"}
    if param_path("zswap.zpool").exists():  # gone in 7.x, where zsmalloc is the only pool
        params["zswap.zpool"] = "zsmalloc"
    return params


def check_machine(algorithm: str) -> None:
    """Root, a zram device that is free or can be hot-added, and the algorithm in the kernel."""
    sysfs.require_root("kcompressd bench")
    if not zram.zram_available():
        raise KcompressdError(f"no zram device: {zram.SYS_BLOCK / 'zram0'} is absent "
                              "(modprobe zram?)")
    devices = zram.existing_devices()
    if not any(d.disksize == 0 for d in devices) and not (zram.ZRAM_CONTROL / "hot_add").exists():
        raise KcompressdError("no free zram device (all are in use) and no zram hot_add")
    algorithms = devices[0].algorithms() if devices else []
    if algorithms and algorithm not in algorithms:
        raise KcompressdError(f"unknown zram algorithm {algorithm!r}; this kernel has "
                              f"{', '.join(algorithms)}")


def load_corpus(path: Path | None) -> tuple[bytes, str]:
    if path is None:
        path = builtin_corpus(DEFAULT_CORPUS_PROFILE)
    return read_corpus_bytes(path), str(path)


def prepare(o: BenchOptions) -> tuple[Plan, bytes, str]:
    """Checks, corpus and plan: everything before the machine is touched (--dry-run ends here)."""
    validate(o)
    check_machine(o.algorithm)
    corpus, name = load_corpus(o.corpus)
    pages = [corpus[i : i + PAGE_SIZE] for i in range(0, len(corpus), PAGE_SIZE)]
    ratio, codec = zram_ratio(pages, o.algorithm, available())
    threads = o.threads or os.cpu_count() or 1
    plan = make_plan(read_meminfo(), size=o.size, threads=threads, algorithm=o.algorithm,
                     ratio=ratio, ratio_codec=codec, duration=o.duration,
                     disposable=lab_guest(), backend=o.backend,
                     params=zswap_params(o.algorithm) if o.backend == "zswap" else {})
    return plan, corpus, name


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor()


def _measure(sampler: Sampler, eaters: Eaters, plan: Plan) -> str | None:
    """Sample until the duration is over; the reason when the run had to stop early."""
    first = sampler.tick()
    eaters.go()
    while True:
        due = min(sampler.next_tick(), first.t + plan.duration)  # the window's end on time
        time.sleep(max(0.0, due - (time.monotonic() - sampler.t0)))
        s = sampler.tick()
        if s.t - first.t >= plan.duration:
            return None
        if s.headroom < plan.floor:
            return (f"safety floor: headroom {s.headroom / GIB:.2f} GiB < {plan.floor / GIB:.2f} "
                    f"GiB at {s.t - first.t:.1f} s")
        if eaters.alive() < plan.threads:
            codes = [p.exitcode for p in eaters.procs]
            return f"an eater exited early (exit codes {codes}) at {s.t - first.t:.1f} s"


def _set_up(restorer: Restorer, journal: Journal, plan: Plan,
            setting: dict[str, int] | None) -> tuple[zram.ZramDevice, int]:
    """zram swap, sysctls and the balloon, each noted in the journal before it is changed and
    registered with the restorer right after; returns the device and the huge pages got."""
    restorer.push("journal", journal.clear)
    stack = ExitStack()
    restorer.push("zram device", stack.close)
    dev = stack.enter_context(zram.free_zram_device())
    journal.zram_device(dev.index)
    dev.configure(disksize=plan.zram_disksize, algorithm=plan.algorithm)
    journal.swap(dev.dev)
    swapon(restorer, dev.dev)
    sysctls = {**plan.sysctls, **(setting or {})}
    for name, value in sysctls.items():
        journal.sysctl(name)
        set_sysctl(restorer, name, value)
    for name, value in plan.params.items():
        journal.param(name)
        set_param(restorer, name, value)
    journal.sysctl(NR_HUGEPAGES)
    return dev, inflate_balloon(restorer, plan.balloon_pages)


def run_once(plan: Plan, corpus: bytes, corpus_name: str, *, setting: dict[str, int] | None,
             perf: bool) -> Run:
    """One measured run; the machine is as before when this returns or raises."""
    timeline = Timeline()
    wall0 = time.monotonic()
    vm_start = read_vmstat()
    with tempfile.TemporaryDirectory(prefix="kcompressd-") as tmp:
        with Restorer() as restorer:
            dev, balloon = _set_up(restorer, Journal(), plan, setting)
            in_play = read_meminfo()["MemAvailable"]
            prefill_start = time.monotonic()
            eaters = Eaters(plan.threads, plan.per_eater, plan.prefill, corpus)
            restorer.push("workload processes", eaters.kill)
            if not eaters.wait_ready(PREFILL_TIMEOUT):
                raise KcompressdError("the eaters did not finish prefilling memory "
                                      f"within {PREFILL_TIMEOUT:g} s")
            prefill_seconds = time.monotonic() - prefill_start
            dropped = lab_guest()
            if dropped:  # the window's reclaim is anon, as the simulator's is
                drop_caches()
            kthreads = reclaim_threads()
            recorder = None
            if perf:
                recorder = PerfRecorder(list(kthreads.values()), Path(tmp) / "perf.data")
                restorer.push("perf record", recorder.stop)
                recorder.start()
            eater_pids = {f"eater{i}": pid for i, pid in enumerate(eaters.pids)}
            sampler = Sampler(dev, {**kthreads, **eater_pids}, time.monotonic(), plan.ratio,
                              timeline)
            cpu0 = os.times()
            stopped_early = _measure(sampler, eaters, plan)
            sampler_cpu = sum(os.times()[:2]) - sum(cpu0[:2])
            reports = eaters.stop()
        # The machine is restored; now the (slow) perf script can run.
        profile = split_profile(recorder.script()) if recorder else None
    check_data(reports)
    vm_end = read_vmstat()
    first, last = sampler.samples[0].vmstat, sampler.samples[-1].vmstat
    # Reclaim outside the measured window (balloon inflation, prefill, teardown): with the
    # window's deltas it adds up to what /proc/vmstat counted around the whole run.
    outside = {k: (first[k] - vm_start[k]) + (vm_end[k] - last[k]) for k in OUTSIDE_COUNTERS
               if k in vm_end}
    for r in reports:
        if r is not None:
            for start, dur in r.stalls:
                timeline.slice(f"eater{r.index}", "stall", start - sampler.t0, dur)
    result = _result(plan, sampler.samples, reports, corpus, corpus_name, stopped_early,
                     meta={"zram_device": dev.name, "balloon_pages": balloon,
                           "prefill_seconds": prefill_seconds,
                           "page_cache_dropped": dropped,
                           "sampler_cpu_seconds": sampler_cpu,
                           "vmstat_outside_window": outside,
                           "mem_available_in_play": in_play,
                           "window_start": window_start(sampler.samples[0].vmstat),
                           "sched_autogroup": sched_autogroup(),
                           "kcompressd": (setting or {}).get(KCOMPRESSD_SYSCTL),
                           "sysctls": setting or {},
                           "wall_seconds": time.monotonic() - wall0})
    if profile is not None:
        result["profile"] = profile
    return Run(result, timeline)


def window_start(vmstat: dict[str, int]) -> dict[str, int]:
    """Memory as the window opens: free pages and the anon LRU, so that a replay starts from
    the machine's state rather than from the plan's arithmetic (the page cache dropped, other
    processes' anon memory)."""
    return {"free_pages": vmstat["nr_free_pages"],
            "inactive_anon_pages": vmstat["nr_inactive_anon"],
            "active_anon_pages": vmstat["nr_active_anon"]}


def check_data(reports: list[EaterReport | None]) -> None:
    """Pages that came back from swap different from what was written fail the run."""
    for r in reports:
        if r is not None and r.corrupt_pages:
            raise KcompressdError(
                f"data corruption: eater{r.index} read back {r.corrupt_pages} of "
                f"{r.pages_checked} checked pages different from what it wrote (first at byte "
                f"{r.first_corrupt_offset} of its mapping)")


def _result(plan: Plan, samples: list[Sample], reports: list, corpus: bytes, corpus_name: str,
            stopped_early: str | None, meta: dict[str, Any]) -> dict[str, Any]:
    first, last = samples[0], samples[-1]
    # A thread first seen mid-window (a lazily started kcompressd) started during it.
    cpu = {k: last.cpu[k] - first.cpu.get(k, 0.0) for k in last.cpu}
    switches = {k: thread_switches(n, first.switches.get(k, (0, 0)))
                for k, n in last.switches.items()}
    got = [r for r in reports if r is not None]
    latency = np.concatenate([np.frombuffer(r.latency_us, dtype=np.float32) for r in got]) \
        if got else np.zeros(0)
    chunks = sum(r.chunks for r in got)
    workload = {
        "threads": plan.threads,
        "bytes": plan.workload,
        "prefill_bytes": plan.prefill * plan.threads,
        "chunk_pages": CHUNK_PAGES,  # latency is per chunk: the time to write CHUNK_PAGES
        "chunks": chunks,
        "pages_written": chunks * CHUNK_PAGES,
        "passes": sum(r.passes for r in got),
        "corpus": corpus_name,
        "corpus_pages": len(corpus) // PAGE_SIZE,
        "eaters_lost": len(reports) - len(got),
        "pages_checked": sum(r.pages_checked for r in got),
        "corrupt_pages": sum(r.corrupt_pages for r in got),
        "stopped_early": stopped_early or "",
    }
    scenario = {"name": "kernel-bench", "algorithm": plan.algorithm, "backend": plan.backend,
                "threads": plan.threads,
                "workload_bytes": plan.workload, "duration": plan.duration,
                "corpus": corpus_name}
    vmstat = vmstat_delta(first.vmstat, last.vmstat)
    if "writestall" in last.debug_stat:  # as the simulator counts it (zram_write_page())
        vmstat["zram_writestall"] = (last.debug_stat["writestall"]
                                     - first.debug_stat.get("writestall", 0))
    result = make_result(
        source="kernel",
        vmstat=vmstat,
        measured_seconds=last.t - first.t,
        cpu=cpu,
        latency_us=latency.tolist(),
        zram=last.mm_stat,
        workload=workload,
        scenario=scenario,
        meta={"kernel": platform.release(), "cpu_model": _cpu_model(),
              "cpus": os.cpu_count(), "plan": plan.to_dict(),
              "min_headroom": min(s.headroom for s in samples),
              # every CPU's busy time, for what ran besides the threads in `cpu`
              "cpus_busy_seconds": last.busy - first.busy,
              "thread_switches": switches,
              "samples": len(samples), **meta},
    )
    result["latency_histogram"] = latency_histogram(latency)
    return result


def latency_histogram(latency_us: np.ndarray) -> dict[str, list]:
    """Chunk latencies in power-of-two buckets: count[i] chunks took more than upper_us[i-1]
    and at most upper_us[i] microseconds; the last bucket (upper null) has no bound."""
    upper = [2**k for k in range(4, 25)]  # 16 µs .. 16.8 s
    counts = np.bincount(np.searchsorted(upper, latency_us, side="left"),
                         minlength=len(upper) + 1)
    return {"upper_us": [*upper, None], "count": counts.tolist()}


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, extremes and (max - min) / median of one figure over a series' runs."""
    med = statistics.median(values)
    return {"median": med, "min": min(values), "max": max(values),
            "spread": (max(values) - min(values)) / med if med else 0.0,
            "stdev": statistics.stdev(values) if len(values) > 1 else 0.0}


def summarize(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    counters = [*SUMMARY_RATES,
                *(k for k in KCOMPRESSD_COUNTERS if any(k in r["rates"] for r in results))]
    out = {f"{k}/s": spread([r["rates"].get(k, 0.0) for r in results]) for k in counters}
    out["cpu_kswapd0"] = spread([r["cpu"].get("kswapd0", 0.0) for r in results])
    if any(re.fullmatch(r"kswapd\d+", k) and k != "kswapd0" for r in results for k in r["cpu"]):
        out["cpu_kswapd"] = spread([_cpu_of(r, "kswapd") for r in results])
    if any(_cpu_of(r, "kcompressd") for r in results):
        out["cpu_kcompressd"] = spread([_cpu_of(r, "kcompressd") for r in results])
    out["latency_p99_us"] = spread([r["latency"]["p99"] for r in results])
    return out


def _cpu_of(result: dict[str, Any], prefix: str) -> float:
    """CPU seconds of every thread of a kind (kswapd0, kswapd1, kcompressd0:1, ...)."""
    return sum(v for k, v in result["cpu"].items() if re.fullmatch(prefix + r"\d+(:\d+)?", k))


def plottable(timeline: Timeline) -> Timeline:
    """The counters the simulator's timelines share (the plot's panels) and the slices; the
    rates, CPU shares and headroom stay in the Perfetto trace, where each has its own track."""
    return Timeline({k: v for k, v in timeline.counters.items() if k in PLOT_COUNTERS},
                    timeline.slices)


def labelled_path(base: Path, label: str) -> Path:
    """FILE.json -> FILE.<label>.json: one trace or plot per run of a series."""
    return base.with_name(f"{base.stem}.{label}{base.suffix}") if label else base


def setting_label(setting: dict[str, int] | None) -> str:
    """vm.kcompressd=24 vm.kcompressd_threads=2 -> k24.t2 (file names of a series' runs)."""
    if not setting:
        return ""
    short = {"vm.kcompressd": "k", "vm.kcompressd_threads": "t", "vm.kcompressd_overflow": "o",
             "vm.kcompressd_memalloc": "m"}
    return ".".join(f"{short.get(k, k)}{v}" for k, v in setting.items())


def series_document(o: BenchOptions, runs: list[tuple[dict[str, int] | None, list[dict]]],
                    meta: dict[str, Any]) -> dict[str, Any]:
    """The document of several runs: per setting its runs and their median and spread."""
    return {
        "series": [{"kcompressd": (s or {}).get(KCOMPRESSD_SYSCTL), "sysctls": s or {},
                    "runs": rs, "summary": summarize(rs)} for s, rs in runs],
        "meta": {"source": "kernel", "repeat": o.repeat, **meta},
    }


def run_bench(o: BenchOptions, plan: Plan, corpus: bytes, corpus_name: str,
              progress: Any = None) -> dict[str, Any]:
    """All runs of the options (the caller holds run_lock()): the result of the single run, or
    a series document (`series_document`) for several."""
    plan_settings = settings(o)
    runs: list[tuple[dict[str, int] | None, list[dict[str, Any]]]] = [
        (s, []) for s in plan_settings]
    single = o.repeat == 1 and len(plan_settings) == 1
    for i in range(o.repeat):
        for s, results in runs:  # interleaved: drift of the machine hits every setting alike
            if progress:
                progress(i, s)
            run = run_once(plan, corpus, corpus_name, setting=s, perf=o.perf)
            results.append(run.result)
            label = "" if single else ".".join(filter(None, (setting_label(s), str(i))))
            if o.trace is not None:
                write_perfetto(run.timeline, labelled_path(o.trace, label))
            if o.plot is not None:
                title = f"kcompressd bench {label}".strip()
                plot_timeline(plottable(run.timeline), labelled_path(o.plot, label), title)
    if single:
        return runs[0][1][0]
    return series_document(o, runs, {"plan": plan.to_dict(), "kernel": platform.release(),
                                     "cpu_model": _cpu_model()})
