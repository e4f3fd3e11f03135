"""Every scenario key: type, default, range and meaning. Unknown keys are errors.

Units: CPU work is in seconds of a speed-1.0 CPU (the phone's big core the calibration refers
to); sizes in MiB unless the key says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None


SCHEMA: dict[str, dict[str, Field]] = {
    "machine": {
        "cpus": Field(8, "CPUs", 1, 1024),
        "big_cpus": Field(-1, "CPUs of the fast cluster (-1: all)", -1, 1024),
        "big_speed": Field(1.0, "speed factor of a big CPU (1.0 = the calibration CPU)",
                           0.01, 100.0),
        "little_speed": Field(0.5, "speed factor of the other CPUs", 0.01, 100.0),
        "nodes": Field(1, "NUMA nodes (memory and CPUs split evenly)", 1, 64),
        "hz": Field(250, "CONFIG_HZ: a jiffy for reclaim_throttle timeouts", 100, 1000),
        "context_switch_us": Field(2.0, "cost of switching a CPU to another thread (µs)",
                                   0.0, 1000.0),
        "mm_switch_us": Field(0.0, "extra cost of a switch that loads another process's "
                              "address space (µs); kernel threads borrow the last one",
                              0.0, 1000.0),
        "wakeup_latency_us": Field(20.0, "a wake-up onto an idle CPU: its way out of idle (µs)",
                                   0.0, 1e5),
        "autogroup": Field(False, "the workload's processes form one task group, as one "
                           "session's do with kernel.sched_autogroup_enabled (or one cgroup): "
                           "the load balancer weighs them together as one task"),
        "scheduler": Field("eevdf", "fair class: eevdf (Linux 6.6 and later) or cfs (before)",
                           choices=("eevdf", "cfs")),
        "base_slice_ms": Field(0.0, "EEVDF sysctl_sched_base_slice (ms); 0: the kernel's "
                               "default, 0.70 ms x (1 + log2 of the CPUs, at most 8)",
                               0.0, 1000.0),
        "sched_latency_ms": Field(6.0, "CFS sysctl_sched_latency (ms)", 0.1, 1000.0),
        "min_granularity_ms": Field(0.75, "CFS minimum slice before preemption (ms)",
                                    0.01, 1000.0),
        "wakeup_granularity_ms": Field(1.0, "CFS wake-up preemption granularity (ms)",
                                       0.0, 1000.0),
    },
    "memory": {
        "total_mb": Field(12288, "RAM", 16, 1 << 24),
        "unreclaimable_mb": Field(2048, "kernel, file and pinned memory (not modelled)",
                                  0, 1 << 24),
        "free_mb": Field(512, "free memory at start; the rest is anonymous and on the LRU",
                         0, 1 << 24),
        "min_free_kbytes": Field(0, "vm.min_free_kbytes (0: the kernel's default)", 0, 1 << 30),
        "watermark_scale_factor": Field(10, "vm.watermark_scale_factor", 1, 3000),
        "lru": Field("classic", "reclaim LRU: classic (active/inactive) or mglru (lru_gen)",
                     choices=("classic", "mglru")),
        "anon_start": Field("steady", "the anonymous memory's LRU at start: steady (as steady "
                            "reclaim leaves it, folios seen once and not yet alternating) or "
                            "fresh (just faulted in, young, never scanned: a machine that has "
                            "not reclaimed since it was filled)", choices=("steady", "fresh")),
    },
    "swap": {
        "backend": Field("zram", "swap device", choices=("zram",)),
        "algorithm": Field("lz4", "zram comp_algorithm (a codec of kcompressd.codecs)"),
        "disksize_mb": Field(12288, "zram disksize", 1, 1 << 24),
        "corpus": Field("builtin:phone", "pages whose measured sizes and costs zram uses: "
                        "builtin:<profile> or a corpus file"),
        "corpus_pages": Field(2048, "at most this many corpus pages are measured", 16, 1 << 20),
        "chain_size": Field(8, "CONFIG_ZSMALLOC_CHAIN_SIZE", 4, 16),
        "zeromap": Field(True, "the swap zeromap (Linux 6.12 and later): zero-filled folios "
                         "are recorded in a bitmap in swap_writepage(), never written to zram"),
    },
    "calibration": {
        "kswapd_pgsteal_per_s": Field(300000.0, "fact: kswapd alone reclaims this many anon "
                                      "pages per second on the phone", 1.0, 1e9),
        "compress_share": Field(0.7, "fact: share of kswapd's CPU spent compressing",
                                0.0, 0.99),
        "unmap_share": Field(0.5, "assumption: share of scan+unmap time spent unmapping",
                             0.0, 1.0),
    },
    "workload": {
        "kind": Field("memeater", "memeater or app-launch", choices=("memeater", "app-launch")),
        "threads": Field(1, "allocating threads (the eater or the launching app)", 1, 4096),
        "touch_us": Field(1.2, "CPU per page faulted: fault, clear_page, the thread's writes "
                          "(µs at speed 1.0)", 0.0, 1e6),
        "alloc_mb": Field(0, "per thread; 0: allocate until the run ends", 0, 1 << 24),
        "region_mb": Field(0, "per thread: write this region pass after pass, as `kcompressd "
                           "bench`'s eaters do (revisits of swapped-out pages fault them "
                           "back); 0: only new pages", 0, 1 << 24),
        "prefill_mb": Field(0, "per thread: the part of region_mb written before the run (the "
                            "anon on the LRU at start)", 0, 1 << 24),
        "revisit_us": Field(0.0, "region eaters: CPU per revisited page, the check and the "
                            "copy (µs at speed 1.0)", 0.0, 1e6),
        "fault_us": Field(0.0, "region eaters: CPU of a swap-in fault per page besides the "
                          "decompression (µs at speed 1.0)", 0.0, 1e6),
        "start_s": Field(0.0, "when the allocating threads start", 0.0, 1e6),
        "hot_mb": Field(0, "working set kept referenced (counted in the anon at start)",
                        0, 1 << 24),
        "hogs": Field(0, "CPU-bound foreground threads", 0, 4096),
        "background_cpus": Field(0.0, "other work besides the modelled threads, in CPUs (0.07: "
                                 "7% of one CPU): interrupts and what runs from them, done at "
                                 "each tick on every CPU at the expense of what runs there",
                                 0.0, 4096.0),
        "sampler_cpus": Field(0.0, "a process that wakes every sampler_period_s and works, as "
                              "kcompressd bench's sampler does: its share of one CPU", 0.0, 1.0),
        "sampler_period_s": Field(0.1, "how often that process wakes (s)", 1e-3, 1e3),
        "hog_slice_ms": Field(1.0, "work per scheduling round of a hog (ms at speed 1.0)",
                              0.01, 1000.0),
    },
    "run": {
        "duration_s": Field(5.0, "simulated seconds (finite workloads may end sooner)",
                            1e-3, 1e5),
        "warmup_s": Field(1.0, "simulated seconds before measuring", 0.0, 1e5),
        "timeline_interval_ms": Field(10.0, "counter sampling period of the timeline",
                                      0.1, 1e5),
    },
}

TOP_LEVEL = {
    "description": Field("", "one line describing the scenario"),
    "profile": Field("phone", "machine profile: a built-in name or a profile .toml path"),
}
