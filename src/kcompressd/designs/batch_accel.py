"""`batch-accel`: the reclaimer hands batches to a compression accelerator (zswap IAA batching).

Kanchana Sridhar's zswap compress batching (v8, Intel IAA): the reclaimer submits up to `batch`
pages at a time to a device with `engines` parallel compression engines and waits for the batch,
polling (synchronous to the caller, no thread offload). A page takes `latency_us` plus
4096 / `throughput` (bytes per µs per engine) on an engine; engines are shared by every
reclaimer, first come first served. Compressed sizes are the corpus's (same codec family).
"""

from __future__ import annotations

import heapq
from collections.abc import Generator
from dataclasses import replace
from typing import Any, ClassVar

from kcompressd import PAGE_SIZE
from kcompressd.backends.zram_cost import Draw
from kcompressd.designs import register
from kcompressd.designs.base import Design, Param, WriteOutcome
from kcompressd.sim.core import SPIN

SUBMIT = 0.2e-6  # s at speed 1.0 per page: descriptor setup and submission


class BatchAccel(Design):
    name = "batch-accel"
    summary = "reclaimer submits batches to a shared accelerator and polls (zswap IAA batching)"
    params: ClassVar[dict[str, Param]] = {
        "batch": Param(8, "pages per submission", 1, 32),
        "engines": Param(8, "parallel compression engines", 1, 1024),
        "latency_us": Param(2.0, "per-page job latency on an engine (µs)", 0.0, 1e6),
        "throughput": Param(1500.0, "bytes per µs per engine (1500 = 1.5 GB/s)", 1.0, 1e9),
    }
    def attach(self, mm: Any) -> None:
        super().attach(mm)
        self.free_at = [0.0] * int(self.p["engines"])  # heap of engine-free times
        self.page_time = self.p["latency_us"] * 1e-6 + PAGE_SIZE / self.p["throughput"] * 1e-6

    def interleaves(self, sc: Any) -> bool:
        return True

    def swap_writepage_interleaved(self, sc: Any, node: Any, n: int
                                   ) -> Generator[tuple, Any, WriteOutcome]:
        """Per sub-batch: unmap it, submit it, poll until the engines are done.

        The caller never leaves its CPU meanwhile, so each sub-batch is one busy segment of
        the wall time it takes; its pages take the engines in the order callers submit.
        """
        mm = self.mm
        th = sc.thread
        free_at = self.free_at
        page_time = self.page_time
        draws: list[Draw] = []
        left = n
        size = int(self.p["batch"])
        while left:
            k = min(size, left)
            left -= k
            d = mm.sampler.draw(k)
            speed = th.cpu.speed
            now = mm.sim.now
            t = finish = now + k * (sc.page_cost + SUBMIT) / speed
            for _ in range(k - d.same):  # same-filled pages never reach the device
                # The engine that is free first takes the page.
                free = free_at[0]
                end = (free if free > t else t) + page_time
                heapq.heapreplace(free_at, end)
                if end > finish:
                    finish = end
            # Submission and polling count as compression in the caller's profile.
            mm.account_compress(th, (finish - now) * speed - k * sc.page_cost)
            yield (SPIN, finish - now)
            draws.append(d)
        # What the device stored, as one draw without CPU cost in the caller.
        return WriteOutcome(0, 0, replace(Draw.total(draws), cost=0.0))


register(BatchAccel)
