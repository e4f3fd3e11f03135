"""Holding the simulator against a real run: the same plan as a scenario, and the errors.

`plan_overrides()` turns a real `kcompressd bench` result into the scenario overrides that
run the simulator on the same machine shape and plan: the memory free and the anon memory on
the LRU as the window opened (the rest of MemTotal, the hugepage balloon and the kernel's, is
out of reclaim's reach), that anon memory fresh (the bench prefills just before its window),
the eaters' regions and prefill (region eaters, with the profile's measured per-page costs),
the zram device and codec, the corpus, the measured duration, the CPU time the run spent
besides its tracked threads (its sampler as a process, the rest as interrupt work) and, on a
kernel carrying the kcompressd patch, its sysctls as the `kcompressd` design's parameters.
`errors()` compares the metrics the issue names, as relative errors (sim - real) / real.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kcompressd import PAGE_SIZE
from kcompressd.errors import KcompressdError
from kcompressd.result import kernel_has_zeromap
from kcompressd.sim.metrics import reclaim_summary

MB = 1 << 20
# The patch's sysctls -> the kcompressd design's parameters, one for one.
SYSCTL_PARAMS = {"vm.kcompressd": "depth", "vm.kcompressd_threads": "threads",
                 "vm.kcompressd_overflow": "overflow", "vm.kcompressd_memalloc": "memalloc"}


def plan_overrides(real: Mapping[str, Any], profile: str, background: int = 0
                   ) -> tuple[list[str], str]:
    """`--set` overrides and the design that replay a real run's plan in the simulator.

    `background`: other runnable tasks sharing the CPUs during the real run (builds, guests),
    modelled as CPU hogs: the simulator's CPUs are otherwise the run's alone.
    """
    from kcompressd.profiles import load_profile

    eater = load_profile(profile).eater
    if not eater:
        raise KcompressdError(f"{profile}: no [eater] costs; write the profile again with "
                              "`kcompressd calibrate`")
    meta, wl = real["meta"], real["workload"]
    plan = meta["plan"]
    threads = int(plan["threads"])
    total = int(plan["mem_total"])
    prefill = int(plan["prefill"])
    free, anon = start_memory(meta)
    sets = [
        f'profile="{profile}"',
        f"machine.cpus={int(meta['cpus'])}", "machine.big_cpus=-1", "machine.nodes=1",
        # The bench's eaters share its session: one task group where the kernel has autogroup
        # enabled (Debian's default), the root group where not (the lab's guests).
        f"machine.autogroup={'true' if has_autogroup(meta) else 'false'}",
        f"memory.total_mb={total // MB}",
        f"memory.unreclaimable_mb={round((total - free - anon) / MB)}",
        f"memory.free_mb={round(free / MB)}", 'memory.lru="classic"',
        # The bench prefills just before its window: nothing has been scanned yet.
        'memory.anon_start="fresh"',
        f'swap.algorithm="{plan["algorithm"]}"',
        f"swap.disksize_mb={int(plan['zram_disksize']) // MB}",
        f'swap.corpus="{wl["corpus"]}"',
        # a kernel with the swap zeromap (6.12 and later) counts its zero-filled swap-outs
        f"swap.zeromap={'true' if kernel_has_zeromap(real) else 'false'}",
        'workload.kind="memeater"', f"workload.threads={threads}", "workload.alloc_mb=0",
        f"workload.region_mb={int(plan['per_eater']) // MB}",
        f"workload.prefill_mb={prefill // MB}",
        *(f"workload.{k.removesuffix('_ns')}_us={v.value / 1000:g}" for k, v in eater.items()),
        "workload.hot_mb=0", f"workload.hogs={background}",
        *background_sets(real),
        # The bench's window opens as its eaters start (kernel.bench._measure): no warm-up.
        "run.warmup_s=0", f"run.duration_s={float(meta['measured_seconds']):.3f}",
    ]
    sysctls = meta.get("sysctls") or {}
    if sysctls.get("vm.kcompressd"):
        sets += [f"design.{SYSCTL_PARAMS[k]}={int(v)}" for k, v in sysctls.items()
                 if k in SYSCTL_PARAMS]
        return sets, "kcompressd"
    return sets, "none"


def has_autogroup(meta: Mapping[str, Any]) -> bool:
    """The real run's kernel grouped the bench's session (meta.sched_autogroup); results made
    before it was recorded: host runs had it (Debian's kernel), lab guests not
    (CONFIG_SCHED_AUTOGROUP unset)."""
    if "sched_autogroup" in meta:
        return bool(meta["sched_autogroup"])
    return not meta.get("vm")


def start_memory(meta: Mapping[str, Any]) -> tuple[int, int]:
    """Bytes free and bytes of anon memory on the LRU as the real window opened: measured
    (meta.window_start) where the bench recorded it, else the plan's arithmetic (what was in
    play less the eaters' prefill, and only the prefill as anon), which misses the page cache
    the bench dropped and the anon memory of the other processes."""
    start = meta.get("window_start")
    if start is not None:
        return (start["free_pages"] * PAGE_SIZE,
                (start["inactive_anon_pages"] + start["active_anon_pages"]) * PAGE_SIZE)
    plan = meta["plan"]
    prefilled = int(plan["prefill"]) * int(plan["threads"])
    return max(0, int(plan["play"]) - prefilled), prefilled


def other_cpus(real: Mapping[str, Any]) -> float:
    """CPUs the real run spent besides the threads it tracked (its eaters, kswapd and the
    offload workers): kernel workers, interrupts, the bench's own processes. 0 for results
    that do not record the machine's busy time."""
    meta = real["meta"]
    busy = meta.get("cpus_busy_seconds")
    if busy is None:
        return 0.0
    return max(0.0, busy - sum(real["cpu"].values())) / (meta["measured_seconds"] or 1.0)


def background_sets(real: Mapping[str, Any]) -> list[str]:
    """The run's CPU besides its tracked threads: the bench's sampler as the process it is
    (meta.sampler_cpu_seconds over meta.samples wake-ups: every 0.1 s or, throttled to 5% of
    a CPU, more seldom), the rest as work from the tick (interrupts, kernel workers)."""
    meta = real["meta"]
    seconds = meta["measured_seconds"] or 1.0
    other = other_cpus(real)
    sampler = meta.get("sampler_cpu_seconds")
    samples = meta.get("samples")
    if not sampler or not isinstance(samples, int) or samples < 2:
        return [f"workload.background_cpus={other:.4f}"]
    share = min(sampler / seconds, other)
    return [f"workload.background_cpus={other - share:.4f}",
            f"workload.sampler_cpus={share:.4f}",
            f"workload.sampler_period_s={seconds / samples:.4f}"]


# Who the switch counts are grouped by, and the thread names that belong to each.
SWITCHERS = (("kswapd", "kswapd"), ("workers", "kcompressd"), ("eaters", "eater"))


def switch_rates(result: Mapping[str, Any]) -> dict[str, float] | None:
    """Per second, how often kswapd, the workers and the eaters blocked ("kswapd voluntary")
    and were preempted ("kswapd nonvoluntary"), from meta.thread_switches; None for results
    made before it was recorded."""
    per = result["meta"].get("thread_switches")
    if per is None:
        return None
    secs = result["meta"]["measured_seconds"] or 1.0
    return {f"{who} {kind}": sum(v[kind] for k, v in per.items() if k.startswith(prefix)) / secs
            for who, prefix in SWITCHERS for kind in ("voluntary", "nonvoluntary")}


def metrics(result: Mapping[str, Any]) -> dict[str, float]:
    """The compared metrics of one result (real or simulated)."""
    rates, cpu, lat = result["rates"], result["cpu"], result["latency"]
    secs = result["meta"]["measured_seconds"] or 1.0
    summary = reclaim_summary(result)
    out = {
        "pgsteal_kswapd/s": rates.get("pgsteal_kswapd", 0.0),
        "pgsteal_direct/s": rates.get("pgsteal_direct", 0.0),
        "pgsteal_anon/s": rates.get("pgsteal_anon", 0.0),
        "allocstall/s": rates.get("allocstall", 0.0),
        "pswpout/s": rates.get("pswpout", 0.0),
        "pswpin/s": rates.get("pswpin", 0.0),
        "swpout_zero/s": rates.get("swpout_zero", 0.0),
        "zram_writestall/s": rates.get("zram_writestall", 0.0),
        "kswapd cpu share": sum(v for k, v in cpu.items() if k.startswith("kswapd")) / secs,
        "workers cpu share": sum(v for k, v in cpu.items()
                                 if k.startswith("kcompressd")) / secs,
        "kswapd efficiency": summary["kswapd_efficiency"],
        "kswapd cpu us/page": summary["kswapd_cpu_us_per_page"],
    }
    written = (result.get("workload") or {}).get("pages_written")
    if written is not None:  # the eaters' progress
        out["eater pages/s"] = written / secs
    switches = switch_rates(result)
    if switches is not None:
        for who, _ in SWITCHERS:
            out[f"{who} switches/s"] = (switches[f"{who} voluntary"] +
                                        switches[f"{who} nonvoluntary"])
    out.update({f"stall {p} (us)": lat.get(p, 0.0) for p in ("p50", "p90", "p99")})
    out.update({f"zram {k}": float(v) for k, v in result["zram"].items()
                if k in ("orig_data_size", "compr_data_size", "mem_used_total")})
    return out


def errors(real: Mapping[str, Any], sim: Mapping[str, Any]) -> dict[str, float | None]:
    """(sim - real) / real per metric; None where the real value is 0."""
    r, s = metrics(real), metrics(sim)
    return {k: ((s[k] - r[k]) / r[k] if r[k] else None) for k in r if k in s}
