"""10 Hz sampling of what the kernel does during a run, kept as a Timeline.

Each tick reads /proc/vmstat, /proc/meminfo, the CPU time and context switches of the
reclaim threads (kswapdN, kcompressdN) and of the eaters, zram's mm_stat and the run's swap
area; /proc/zoneinfo's watermarks (a long file that rarely changes) every RESCAN_TICKS
ticks. The sampler is part of the machine it measures: it may use at most MAX_SHARE of one
CPU, so where a tick is slow (a Python process in an emulated guest takes ~0.1 s per tick) it
samples less often instead of taking a fifth of the guest's CPU from the workload and kswapd.
The first and last samples bound the measured window; the ticks in between give the timeline
and the safety check.
Timeline counters: free_pages, wmark_min/low/high (pages), writeback_pages,
inactive_anon_pages, active_anon_pages and zram_mem_used_bytes as the simulator names them,
plus headroom_bytes, per-second rates of
RATE_COUNTERS ("pgsteal_kswapd/s", ...), cpu_<thread> (CPUs busy) and nvcsw_<thread>/s,
nivcsw_<thread>/s (the thread blocked / was preempted, per second).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from kcompressd.kernel.meminfo import read_meminfo
from kcompressd.kernel.procstat import (
    context_switches,
    cpu_seconds,
    cpus_busy_seconds,
    reclaim_threads,
)
from kcompressd.kernel.swap import swap_area
from kcompressd.kernel.vmstat import read_vmstat, read_watermarks, vmstat_delta
from kcompressd.kernel.zram import ZramDevice
from kcompressd.trace import Timeline

INTERVAL = 0.1
MAX_SHARE = 0.05  # of one CPU, at most, for the sampler (see next_tick)
# Below this much zram memory the live ratio is too noisy to trust: use the planned one.
_MIN_POOL_FOR_RATIO = 16 << 20
# Kcompressd v1 starts its threads lazily, on the first offloaded write: look for new reclaim
# threads once a second so that they are sampled from when they appear.
RESCAN_TICKS = 10
RATE_COUNTERS = ("pgsteal_kswapd", "pgsteal_direct", "pgscan_kswapd", "pswpout", "pswpin",
                 "allocstall")


@dataclass
class Sample:
    t: float  # seconds since the run's t0
    vmstat: dict[str, int]
    meminfo: dict[str, int]
    cpu: dict[str, float]  # thread name -> CPU seconds so far
    mm_stat: dict[str, int]
    headroom: int
    busy: float = 0.0  # CPU-seconds of all CPUs not idle since boot (/proc/stat)
    # thread name -> (voluntary, nonvoluntary) context switches so far
    switches: dict[str, tuple[int, int]] = field(default_factory=dict)
    debug_stat: dict[str, int] = field(default_factory=dict)  # zram's writestall, miss_free


def headroom(meminfo: dict[str, int], swap_free: int, mm_stat: dict[str, int],
             planned_ratio: float) -> int:
    """Memory the machine could still hand out: MemAvailable plus what swapping out the
    remaining anonymous pages to zram would win (each page costs 1/ratio of itself in zram).

    MemAvailable alone cannot be the safety signal: it excludes the watermark reserve
    (si_mem_available()), so it sits near zero whenever kswapd is working, by design.
    """
    used = mm_stat.get("mem_used_total", 0)
    ratio = mm_stat["orig_data_size"] / used if used >= _MIN_POOL_FOR_RATIO else planned_ratio
    anon = meminfo.get("Active(anon)", 0) + meminfo.get("Inactive(anon)", 0)
    return meminfo["MemAvailable"] + int(min(swap_free, anon) * max(0.0, 1 - 1 / ratio))


class Sampler:
    def __init__(self, device: ZramDevice, threads: dict[str, int], t0: float,
                 planned_ratio: float, timeline: Timeline):
        self.device = device
        self.threads = threads  # name -> pid: reclaim kthreads and eaters
        self.t0 = t0
        self.planned_ratio = planned_ratio
        self.timeline = timeline
        self.samples: list[Sample] = []
        self.tick_seconds = 0.0  # CPU of the last tick

    def next_tick(self) -> float:
        """When the next tick is due (seconds since t0): INTERVAL after the last one, or later
        when ticks are slow, so that they take at most MAX_SHARE of one CPU."""
        return self.samples[-1].t + max(INTERVAL, self.tick_seconds / MAX_SHARE)

    def tick(self) -> Sample:
        cpu0 = time.thread_time()
        t = time.monotonic() - self.t0
        vm, mi, mm = read_vmstat(), read_meminfo(), self.device.mm_stat()
        area = swap_area(self.device.dev)
        swap_free = area.size - area.used if area else 0
        if len(self.samples) % RESCAN_TICKS == RESCAN_TICKS - 1:
            for name, pid in reclaim_threads().items():
                self.threads.setdefault(name, pid)
        cpu = {name: s for name, pid in self.threads.items()
               if (s := cpu_seconds(pid)) is not None}
        switches = {name: n for name, pid in self.threads.items()
                    if (n := context_switches(pid)) is not None}
        s = Sample(t, vm, mi, cpu, mm, headroom(mi, swap_free, mm, self.planned_ratio),
                   cpus_busy_seconds(), switches, self.device.debug_stat())
        self._record(s)
        self.samples.append(s)
        self.tick_seconds = time.thread_time() - cpu0
        return s

    def _record(self, s: Sample) -> None:
        tl = self.timeline
        tl.counter("free_pages", s.t, s.vmstat["nr_free_pages"])
        if len(self.samples) % RESCAN_TICKS == 0:
            for name, pages in read_watermarks().items():
                tl.counter(f"wmark_{name}", s.t, pages)
        tl.counter("writeback_pages", s.t, s.vmstat["nr_writeback"])
        tl.counter("inactive_anon_pages", s.t, s.vmstat["nr_inactive_anon"])
        tl.counter("active_anon_pages", s.t, s.vmstat["nr_active_anon"])
        tl.counter("zram_mem_used_bytes", s.t, s.mm_stat["mem_used_total"])
        tl.counter("headroom_bytes", s.t, s.headroom)
        if not self.samples:
            return
        prev = self.samples[-1]
        dt = s.t - prev.t
        delta = vmstat_delta(prev.vmstat, s.vmstat)
        for k in RATE_COUNTERS:
            tl.counter(f"{k}/s", s.t, delta.get(k, 0) / dt)
        for name, secs in s.cpu.items():
            if name in prev.cpu:
                tl.counter(f"cpu_{name}", s.t, (secs - prev.cpu[name]) / dt)
        for name, (vol, invol) in s.switches.items():
            if name in prev.switches:
                was = prev.switches[name]
                tl.counter(f"nvcsw_{name}/s", s.t, (vol - was[0]) / dt)
                tl.counter(f"nivcsw_{name}/s", s.t, (invol - was[1]) / dt)
