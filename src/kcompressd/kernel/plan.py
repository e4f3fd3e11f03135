"""The run's plan, computed from /proc/meminfo and the corpus before anything is changed.

The hugepage balloon takes all but `play` bytes of the memory that is available now
(MemAvailable, not MemTotal: what other tasks use stays theirs). The workload is `overshoot`
times `play`: once it outgrows `play`, every further page it touches has to be made free by
reclaim, which swaps anonymous pages out to zram. zram keeps the swapped pages compressed in
RAM, so the overshoot k must stay below the corpus' compression ratio r: in the steady state
the resident anonymous memory R and the pool share play, R + (W - R) / r = play, so
R = play (r - k) / (r - 1). The plan uses k = (r + 1) / 2 (at most 1.5).

The safety floor F = max(1 GiB, 5% of RAM) (5% of RAM alone in a lab guest, which is thrown
away after the run: the same plan scaled to a small machine) is the headroom (see
sampler.headroom: what reclaim could still free, R (1 - 1/r) plus MemAvailable) below which a
run stops early. `play` is chosen
so that the steady state keeps 1.5 F of headroom: play = 1.5 F r / (r - k).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kcompressd import PAGE_SIZE
from kcompressd.backends.size_classes import ZS_HANDLE_SIZE, size_class_table
from kcompressd.corpus.measure import measure_pages
from kcompressd.errors import KcompressdError
from kcompressd.kernel.workload import CHUNK_BYTES

GIB = 1 << 30
MAX_OVERSHOOT = 1.5
HEADROOM_MARGIN = 1.5
# Less overshoot than this leaves kswapd idle for most of a run.
MIN_OVERSHOOT = 1.1
# A corpus compressing worse than this cannot absorb any overshoot safely.
MIN_RATIO = 1.2
# Share of play the eaters fill before the measured window starts.
PREFILL_SHARE = 0.9
# Sysctls every run sets: no swap readahead on zram (page-cluster 0), as Android and
# zram-generator configure it, because reading a zram slot costs no seek.
RUN_SYSCTLS = {"vm.page-cluster": 0}
# And in a lab guest, whose root is 9p: there the dentry and inode shrinkers kswapd runs
# (super_cache_scan()) send a 9p clunk for each dentry they evict and wait for the host's
# reply, 300 times a second at depth 24 (a perf capture of the guest's context switches), and
# every wait hands the CPU to another task. A phone's kswapd waits on no such thing: lab
# guests keep their dentries and inodes (vfs_cache_pressure 0: the shrinkers count nothing).
LAB_SYSCTLS = {"vm.vfs_cache_pressure": 0}
# zram algorithms and the user-space codec measuring the corpus for each (lzo-rle's output
# is lzo1x's with run-length encoding of zero runs: lzo measures it closely).
PLAN_CODEC = {"lz4": "lz4", "lz4hc": "lz4", "lzo": "lzo", "lzo-rle": "lzo", "zstd": "zstd",
              "deflate": "deflate", "842": "lz4"}
RATIO_SAMPLE_PAGES = 4096


def _gib(b: int) -> str:
    return f"{b / GIB:.2f} GiB"


def safety_floor(mem_total: int, disposable: bool = False) -> int:
    return mem_total // 20 if disposable else max(GIB, mem_total // 20)


def lab_guest(cmdline: Path = Path("/proc/cmdline")) -> bool:
    """Booted by the kernel lab (`kcompressd.lab=1` on the command line): a throwaway guest."""
    try:
        return "kcompressd.lab=1" in cmdline.read_text().split()
    except OSError:
        return False


def zram_ratio(pages: list[bytes], algorithm: str, available: list[str]) -> tuple[float, str]:
    """Estimated orig_data_size / mem_used_total of the corpus in zram, and the codec used.

    Samples pages evenly; same-filled pages cost nothing, pages compressing to at least
    huge_class_size are stored whole (zram_write_page()), the others take the zsmalloc class
    their length plus the handle falls in (zs_malloc()).
    """
    codec = PLAN_CODEC.get(algorithm, "lz4")
    if codec not in available:
        codec = "lz4"
    step = max(1, len(pages) // RATIO_SAMPLE_PAGES)
    m = measure_pages(pages[::step], codec)
    table = size_class_table()
    stored = sum(PAGE_SIZE if n >= table.huge_class_size
                 else table.class_for(int(n) + ZS_HANDLE_SIZE).size
                 for n in m.comp_len[~m.same_filled])
    return len(m) * PAGE_SIZE / max(stored, 1), codec


@dataclass(frozen=True)
class Plan:
    mem_total: int
    mem_available: int
    floor: int
    hugepage_size: int
    balloon_pages: int
    play: int  # bytes of MemAvailable left outside the balloon
    workload: int  # bytes the eaters map and fill, all eaters together
    threads: int
    per_eater: int
    prefill: int  # bytes each eater fills before the measured window
    overshoot: float  # workload / play
    ratio: float  # estimated zram compression ratio of the corpus
    ratio_codec: str
    algorithm: str
    zram_disksize: int
    duration: float
    sysctls: dict[str, int]
    backend: str = "zram"  # zram, or zswap in front of the zram device
    params: dict[str, str] = field(default_factory=dict)  # module parameters (zswap)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> list[tuple[str, str]]:
        """(what, value) rows for the printed plan."""
        return [
            ("MemTotal / MemAvailable", f"{_gib(self.mem_total)} / {_gib(self.mem_available)}"),
            ("hugepage balloon", f"{self.balloon_pages} x {self.hugepage_size >> 20} MiB = "
                                 f"{_gib(self.balloon_pages * self.hugepage_size)}"),
            ("memory left in play", _gib(self.play)),
            ("workload", f"{self.threads} eaters x {_gib(self.per_eater)} = {_gib(self.workload)} "
                         f"({self.overshoot:.2f}x play, {_gib(self.workload - self.play)} over)"),
            ("prefilled before measuring", _gib(self.prefill * self.threads)),
            ("corpus ratio", f"{self.ratio:.2f} ({self.ratio_codec})"),
            ("swap", f"zswap ({self.algorithm}) in front of zram" if self.backend == "zswap"
             else "zram"),
            ("zram", f"{_gib(self.zram_disksize)} disksize, {self.algorithm}"),
            ("safety floor", _gib(self.floor)),
            ("sysctls", ", ".join(f"{k}={v}" for k, v in {**self.sysctls,
                                                          **self.params}.items())),
            ("duration", f"{self.duration:g} s"),
        ]


def make_plan(meminfo: dict[str, int], *, size: float | None, threads: int, algorithm: str,
              ratio: float, ratio_codec: str, duration: float, disposable: bool = False,
              backend: str = "zram", params: dict[str, str] | None = None) -> Plan:
    """`size` is the workload in GiB (None: the least play that keeps the floor, overshot)."""
    total, avail, hp = meminfo["MemTotal"], meminfo["MemAvailable"], meminfo["Hugepagesize"]
    floor = safety_floor(total, disposable)
    if ratio < MIN_RATIO:
        raise KcompressdError(
            f"the corpus compresses only {ratio:.2f}:1 with {ratio_codec}: zram cannot absorb "
            f"an overshoot of memory safely (need at least {MIN_RATIO}:1)"
        )
    overshoot = min(MAX_OVERSHOOT, (ratio + 1) / 2)
    min_play = int(HEADROOM_MARGIN * floor * ratio / (ratio - overshoot))
    if size is None:
        play = min_play
        workload = int(play * overshoot)
    else:
        workload = int(size * GIB)
        play = max(min_play, int(workload / overshoot))
        if workload <= play * MIN_OVERSHOOT:
            raise KcompressdError(
                f"--size {size:g} GiB does not overshoot the {_gib(play)} that must stay in "
                f"play to keep the safety floor; use at least "
                f"{min_play * overshoot / GIB:.2f} GiB"
            )
    if avail < play:
        raise KcompressdError(
            f"not enough memory: MemAvailable is {_gib(avail)}, the run needs {_gib(play)} "
            f"in play (safety floor {_gib(floor)})"
        )
    per_eater = workload // threads // CHUNK_BYTES * CHUNK_BYTES
    if per_eater == 0:
        raise KcompressdError(f"--threads {threads} is too many for a {workload} byte workload")
    return Plan(
        mem_total=total, mem_available=avail, floor=floor, hugepage_size=hp,
        balloon_pages=(avail - play) // hp, play=play, workload=per_eater * threads,
        threads=threads, per_eater=per_eater,
        prefill=int(PREFILL_SHARE * play) // threads // CHUNK_BYTES * CHUNK_BYTES,
        overshoot=per_eater * threads / play,
        ratio=ratio, ratio_codec=ratio_codec, algorithm=algorithm,
        zram_disksize=2 * per_eater * threads, duration=duration,
        sysctls={**RUN_SYSCTLS, **(LAB_SYSCTLS if disposable else {})},
        backend=backend, params=dict(params or {}),
    )
