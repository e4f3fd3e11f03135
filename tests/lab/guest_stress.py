"""Stress the Kcompressd patch inside a lab guest (run by test_kcompressd.py, not by pytest).

Memory eaters that check every page they read back run over swap while the patch's sysctls
change under them (depth, threads, overflow policy, memalloc, and depth 0 in between) and the
swap device is swapped off under load (the pages move to a second device). Prints one JSON
document: counter deltas per phase and in all, the workers seen and their CPU, and what the
eaters checked. The guest is thrown away afterwards, so nothing here is put back.

  python guest_stress.py zram|zswap SECONDS_PER_PHASE   (zswap: `lab run --disk 2048`)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from kcompressd.corpus.builtin import builtin_corpus
from kcompressd.corpus.io import read_corpus_bytes
from kcompressd.kernel.meminfo import read_meminfo
from kcompressd.kernel.procstat import cpu_seconds, reclaim_threads
from kcompressd.kernel.vmstat import read_vmstat
from kcompressd.kernel.workload import CHUNK_BYTES, Eaters

VM = Path("/proc/sys/vm")
COUNTERS = ("kcompressd_queued", "kcompressd_written", "kcompressd_drained",
            "kcompressd_sync_full", "pswpout",
            "pswpin", "zswpout", "pgsteal_kswapd", "pgsteal_direct", "pgrotated")
# (name, sysctls): every knob moves, depth 0 comes between, and back.
PHASES = [
    ("warm-up", {}),  # the kernel's defaults while reclaim gets going
    ("v2", {"kcompressd_threads": 1, "kcompressd_overflow": 0, "kcompressd_memalloc": 0,
            "kcompressd": 24}),
    ("unofficial", {"kcompressd_overflow": 1, "kcompressd_memalloc": 1, "kcompressd": 256}),
    ("off", {"kcompressd": 0}),
    ("threads2", {"kcompressd_threads": 2, "kcompressd": 24}),
    ("threads4-deep", {"kcompressd_threads": 4, "kcompressd": 256, "kcompressd_overflow": 0}),
    ("swapoff", {}),
    ("threads1", {"kcompressd_threads": 1, "kcompressd_memalloc": 0}),
]


def sh(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


def zram_swap(index: int, size: int) -> str:
    sys_dir = Path(f"/sys/block/zram{index}")
    if not sys_dir.exists():
        Path("/sys/class/zram-control/hot_add").read_text()
    (sys_dir / "comp_algorithm").write_text("lz4")
    (sys_dir / "disksize").write_text(str(size))
    sh("mkswap", f"/dev/zram{index}")
    sh("swapon", f"/dev/zram{index}")
    return f"/dev/zram{index}"


def disk_swap() -> str:
    """The scratch disk (`lab run --disk`): a block device that is not SWP_SYNCHRONOUS_IO,
    so only zswap in front of it makes the patch offload."""
    sh("mkswap", "/dev/vda")
    sh("swapon", "/dev/vda")
    return "/dev/vda"


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in COUNTERS}


def main() -> None:
    mode, seconds = sys.argv[1], float(sys.argv[2])
    mem = read_meminfo()
    work = int(mem["MemAvailable"] * 1.3) // 2 // CHUNK_BYTES * CHUNK_BYTES
    if mode == "zswap":
        Path("/sys/module/zswap/parameters/enabled").write_text("Y")
        Path("/sys/module/zswap/parameters/max_pool_percent").write_text("60")

    def make(i: int) -> str:
        # zswap: the disk first; swapped off under load, its pages go to zram
        return disk_swap() if mode == "zswap" and i == 0 else zram_swap(i, 2 * work)
    first = make(0)
    devices = [first]
    corpus = read_corpus_bytes(builtin_corpus("phone"))
    eaters = Eaters(2, work, work // 2 // CHUNK_BYTES * CHUNK_BYTES, corpus)
    assert eaters.wait_ready(300), "eaters did not prefill"
    eaters.go()
    t0 = time.monotonic()
    start = read_vmstat()
    phases = []
    for name, sysctls in PHASES:
        for knob, value in sysctls.items():  # depth 0 drains here, before the phase counts
            (VM / knob).write_text(f"{value}\n")
        before = read_vmstat()
        if name == "swapoff":
            second = make(1)
            sh("swapoff", first)  # its pages come back in and go out to the second device
            first = second
            devices.append(second)
        time.sleep(seconds)
        threads = reclaim_threads()
        phases.append({"phase": name, "sysctls": sysctls, "delta": delta(before, read_vmstat()),
                       "workers": sorted(t for t in threads if t.startswith("kcompressd"))})
    threads = reclaim_threads()
    cpu = {t: cpu_seconds(pid) for t, pid in threads.items()}
    reports = eaters.stop()
    (VM / "kcompressd").write_text("0\n")  # drain, then nothing may stay queued
    time.sleep(1)
    end = read_vmstat()
    print(json.dumps({
        "mode": mode, "seconds": time.monotonic() - t0, "phases": phases,
        "total": delta(start, end), "cpu": cpu,
        "eaters": [None if r is None else {"pages_checked": r.pages_checked,
                                           "corrupt_pages": r.corrupt_pages,
                                           "passes": r.passes} for r in reports],
        "swaps": Path("/proc/swaps").read_text(), "devices": devices,
        "cpus": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
