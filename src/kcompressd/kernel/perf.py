"""Where kswapd's time goes: `perf record` on the reclaim threads, stacks split by purpose.

Each sampled kernel stack is put in the first category, in the order below, that one of its
frames belongs to: a sample inside the codec is compression even though shrink_folio_list() is
further down the same stack. compression = codec + zram/zsmalloc store (t2 of the reference's
cost model); scan_unmap = LRU scanning, isolation, rmap walks, unmapping and TLB flushes (t1);
the swap layer (slot allocation, swap cache, bio submission), slab shrinking and everything
else make up "other". Within scan_unmap, the "unmap" category (try_to_unmap and its TLB flush)
is kept apart: it is paid per folio swapped out, the rest per folio scanned.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kcompressd.errors import KcompressdError

FREQUENCY_HZ = 999
START_TIMEOUT_S = 120.0  # perf's setup in an emulated guest takes seconds
CATEGORIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("codec", re.compile(r"^(LZ4_|lz4|lzo1x|lzorle|lzo_|ZSTD_|zstd|HUF_|FSE_|deflate|"
                         r"zlib_deflate|zcomp_compress|crypto_.*compress|scomp_|acomp_)")),
    ("zram_store", re.compile(r"^(zram_|zs_|zspage|obj_malloc|alloc_zspage|insert_zspage|"
                              r"create_page_chain|zpool_|zcomp_stream)")),
    # The store step's own work besides the codec and zram: the bio, the writeback flags and
    # their completion. It goes with the folio to whoever stores it (an offload worker).
    ("swap_write", re.compile(r"^(swap_writepage_store|__swap_writepage|swap_writepage_bdev|"
                              r"_*folio_start_writeback|folio_end_writeback|_*end_swap_bio|"
                              r"submit_bio_wait|bio_add_folio)")),
    ("swap_layer", re.compile(r"^(_*swap_writepage|swap_writeout|folio_alloc_swap|add_to_swap|"
                              r"get_swap_pages|swap_alloc|cluster_alloc|scan_swap_map|"
                              r"_*add_to_swap_cache|swap_cache_|_*submit_bio|bio_|blk_)")),
    ("slab", re.compile(r"^(shrink_slab|do_shrink_slab|super_cache_scan|.*_shrink_scan)")),
    # try_to_unmap() and its deferred TLB flush (try_to_unmap_flush*): per folio swapped out,
    # where the rest of scan_unmap is per folio scanned (calibrate splits them so).
    ("unmap", re.compile(r"^try_to_unmap")),
    ("scan_unmap", re.compile(r"(shrink_|isolate_|lru|try_to_unmap|rmap|folio_referenced|"
                              r"page_vma_mapped|tlb|ptep_|unmap|mmu_notifier|"
                              r"folio_check_references|evict_folios|scan_)")),
)
GROUPS = {"codec": "compression", "zram_store": "compression", "unmap": "scan_unmap",
          "scan_unmap": "scan_unmap",
          "swap_write": "other", "swap_layer": "other", "slab": "other", "other": "other"}


class PerfRecorder:
    """`perf record -g` of the given threads from start() to stop()."""

    def __init__(self, tids: list[int], data: Path):
        self.tids, self.data = tids, data
        self.log = data.with_suffix(".log")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start perf with its events disabled, enable them over its control FIFO and wait
        for the ack: the window is recorded from its first instant even where perf takes
        seconds to set up (an emulated guest), and a SIGINT cannot reach it mid-setup."""
        ctl, ack = self.data.with_suffix(".ctl"), self.data.with_suffix(".ack")
        for fifo in (ctl, ack):
            os.mkfifo(fifo, 0o600)
        argv = ["perf", "record", "-e", "cpu-clock", "-F", str(FREQUENCY_HZ), "-g",
                "--tid", ",".join(map(str, self.tids)), "-o", str(self.data),
                "-D", "-1", "--control", f"fifo:{ctl},{ack}"]
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log)
        # O_RDWR: opening either end never blocks, even if perf dies before opening its own.
        ctl_fd, ack_fd = os.open(ctl, os.O_RDWR), os.open(ack, os.O_RDWR)
        try:
            os.write(ctl_fd, b"enable\n")
            deadline = time.monotonic() + START_TIMEOUT_S
            while not select.select([ack_fd], [], [], 0.2)[0]:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise KcompressdError(f"perf record did not start: {self._last_error()}")
            os.read(ack_fd, 64)
        finally:
            os.close(ctl_fd)
            os.close(ack_fd)

    def _last_error(self) -> str:
        err = self.log.read_text(errors="replace").strip()
        return err.splitlines()[-1] if err else "no message"

    def stop(self) -> None:
        """SIGINT makes perf flush and close its data file; idempotent (undo action)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def script(self) -> str:
        self.stop()
        assert self.proc is not None
        if self.proc.returncode not in (0, -signal.SIGINT) or not self.data.exists():
            raise KcompressdError(f"perf record failed: {self._last_error()}")
        out = subprocess.run(["perf", "script", "-i", str(self.data), "-F", "comm,tid,ip,sym"],
                             capture_output=True, text=True, check=False)
        if out.returncode:
            raise KcompressdError(f"perf script failed: {out.stderr.strip()[-200:]}")
        return out.stdout


def parse_script(text: str) -> Iterator[tuple[str, list[str]]]:
    """(comm, frames leaf first) per sample of `perf script -F comm,tid,ip,sym` output."""
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        if not lines:
            continue
        comm = lines[0].rsplit(None, 1)[0].strip()
        frames = [parts[1] for ln in lines[1:] if len(parts := ln.split(None, 1)) == 2]
        yield comm, frames


def classify(frames: list[str]) -> str:
    for name, pattern in CATEGORIES:
        if any(pattern.search(f) for f in frames):
            return name
    return "other"


def split_profile(text: str) -> dict[str, Any]:
    """Per thread: samples per category and group, fractions, and the top leaf symbols."""
    counts: dict[str, Counter[str]] = {}
    leaves: dict[str, dict[str, Counter[str]]] = {}
    for comm, frames in parse_script(text):
        cat = classify(frames)
        counts.setdefault(comm, Counter())[cat] += 1
        leaf = frames[0] if frames else "[unknown]"
        leaves.setdefault(comm, {}).setdefault(cat, Counter())[leaf] += 1
    out: dict[str, Any] = {}
    for comm, c in sorted(counts.items()):
        n = sum(c.values())
        groups: Counter[str] = Counter()
        for cat, k in c.items():
            groups[GROUPS[cat]] += k
        t1, t2 = groups["scan_unmap"], groups["compression"]
        out[comm] = {
            "samples": n,
            "split": {g: groups[g] / n for g in ("compression", "scan_unmap", "other")},
            # The reference's t1 : t2 (scan+unmap : compress), out of 10 like its "3 : 7".
            "t1:t2": f"{10 * t1 / (t1 + t2):.1f}:{10 * t2 / (t1 + t2):.1f}" if t1 + t2 else "",
            # every category, sampled or not: a 0 is a measurement (calibrate reads "unmap")
            "categories": {
                cat: {"samples": c[cat], "fraction": c[cat] / n,
                      "top": leaves[comm].get(cat, Counter()).most_common(5)}
                for cat in [*(name for name, _ in CATEGORIES), "other"]
            },
        }
    return out
