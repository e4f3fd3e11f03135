"""The scenario as the simulator reads it: typed, documented sections instead of nested dicts.

Each dataclass mirrors one table of `schema.SCHEMA` field for field (a test holds them equal);
units are those of the schema: CPU work in seconds of a speed-1.0 CPU, sizes in MiB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MachineSection:
    """CPUs (a fast cluster of `big_cpus`, the rest at `little_speed`), nodes, scheduler."""

    cpus: int
    big_cpus: int  # -1: all CPUs are big
    big_speed: float
    little_speed: float
    nodes: int
    hz: int
    context_switch_us: float
    mm_switch_us: float
    wakeup_latency_us: float
    autogroup: bool
    scheduler: str
    base_slice_ms: float
    sched_latency_ms: float
    min_granularity_ms: float
    wakeup_granularity_ms: float

    def base_slice(self) -> float:
        """EEVDF's base slice in seconds: the key, or the kernel's default, sysctl_sched_base_slice
        scaled by get_update_sysctl_factor() (1 + ilog2 of the CPUs, at most 8). 6.12 set it to
        0.70 ms (kernel/sched/fair.c; 0.75 ms before, which with HZ=250 cost a task an extra
        tick); a 1-vCPU lab guest's /sys/kernel/debug/sched/base_slice_ns says 700000."""
        if self.base_slice_ms:
            return self.base_slice_ms * 1e-3
        return 0.70e-3 * (1 + (min(self.cpus, 8).bit_length() - 1))

    def speeds(self) -> list[float]:
        """Speed factor of every CPU, big ones first."""
        big = self.cpus if self.big_cpus < 0 else self.big_cpus
        return [self.big_speed] * big + [self.little_speed] * (self.cpus - big)


@dataclass(frozen=True)
class MemorySection:
    """RAM, what reclaim cannot touch, free memory at start, watermark sysctls, the LRU and
    the state its anon memory starts in."""

    total_mb: int
    unreclaimable_mb: int
    free_mb: int
    min_free_kbytes: int  # 0: calculate_min_free_kbytes()
    watermark_scale_factor: int
    lru: str  # "classic" or "mglru"
    anon_start: str  # "steady" or "fresh"


@dataclass(frozen=True)
class SwapSection:
    """The zram device and the pages whose sizes it stores."""

    backend: str
    algorithm: str
    disksize_mb: int
    corpus: str
    corpus_pages: int
    chain_size: int
    zeromap: bool


@dataclass(frozen=True)
class CalibrationSection:
    """The thread's facts a "facts" profile derives its costs from (see mm.calibration)."""

    kswapd_pgsteal_per_s: float
    compress_share: float
    unmap_share: float


@dataclass(frozen=True)
class WorkloadSection:
    """Allocating threads (memory eater or app launch) and CPU hogs."""

    kind: str
    threads: int
    touch_us: float
    alloc_mb: int  # per thread; 0: until the run ends
    region_mb: int  # per thread; > 0: a region eater (mm.workload.Region)
    prefill_mb: int
    revisit_us: float
    fault_us: float
    start_s: float
    hot_mb: int
    hogs: int
    background_cpus: float
    sampler_cpus: float
    sampler_period_s: float
    hog_slice_ms: float


@dataclass(frozen=True)
class RunSection:
    """How long to simulate and measure."""

    duration_s: float
    warmup_s: float
    timeline_interval_ms: float


@dataclass(frozen=True)
class ScenarioConfig:
    """A resolved scenario (the design is passed separately, with its checked parameters)."""

    name: str
    profile: str
    machine: MachineSection
    memory: MemorySection
    swap: SwapSection
    calibration: CalibrationSection
    workload: WorkloadSection
    run: RunSection

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScenarioConfig:
        """From `Scenario.to_dict()` (every key already checked by the loader)."""
        return cls(name=d["name"], profile=d["profile"],
                   **{s: t(**d[s]) for s, t in SECTIONS.items()})


SECTIONS: dict[str, Any] = {
    "machine": MachineSection, "memory": MemorySection, "swap": SwapSection,
    "calibration": CalibrationSection, "workload": WorkloadSection, "run": RunSection}
