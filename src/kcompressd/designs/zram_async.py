"""`zram-async`: zram compresses asynchronously for every writer (Minchan Kim's proposal).

zram accepts writes from all callers (kswapd, direct reclaim, proactive reclaim) into one
request queue of `queue_size` pages and compresses them with its own `threads` workers, taking
up to `batch` pages at a time. A writer that finds the queue full sleeps until a worker makes
room (the block layer's request limit), so direct reclaim is throttled by the device instead of
compressing itself. All written pages complete later and rotate to the inactive tail.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, ClassVar

from kcompressd.designs import register
from kcompressd.designs.base import (
    Design,
    PageFifo,
    Param,
    WriteOutcome,
    compress_worker,
    kick_workers,
)
from kcompressd.sim.core import RUN, SLEEP


class ZramAsync(Design):
    name = "zram-async"
    summary = "zram queues writes from all writers (direct reclaim too) to its own threads"
    params: ClassVar[dict[str, Param]] = {
        "threads": Param(4, "zram compression threads", 1, 64),
        "batch": Param(32, "pages a worker takes per round (compress batching)", 1, 32),
        "queue_size": Param(1024, "request queue depth in pages; full -> writer sleeps",
                            1, 1 << 20),
    }
    def attach(self, mm: Any) -> None:
        super().attach(mm)
        self.fifo = PageFifo(int(self.p["queue_size"]), locked=False)  # async bios: rotate
        self.waiters: list[Any] = []
        # zram's own kthreads, named per device like the kernel's zram0 writeback thread.
        self.workers = [
            mm.sim.spawn(f"zram0_comp{i}", compress_worker(
                mm, self.fifo, batch=int(self.p["batch"]), on_take=self._room))
            for i in range(int(self.p["threads"]))]

    def _room(self) -> None:
        for th in self.waiters:
            self.mm.sim.wake(th)

    def interleaves(self, sc: Any) -> bool:
        return True

    def swap_writepage_interleaved(self, sc: Any, node: Any, n: int
                                   ) -> Generator[tuple, Any, WriteOutcome]:
        mm = self.mm
        th = sc.thread
        yield (RUN, n * sc.page_cost)  # unmap the batch, then submit its writes
        left = n
        while left:
            k = min(left, self.fifo.room)
            if k:
                self.fifo.put(mm, node, k, th.name)
                left -= k
                kick_workers(mm, self.workers, self.fifo, int(self.p["batch"]))
                continue
            self.waiters.append(th)
            yield SLEEP
            self.waiters.remove(th)
        return WriteOutcome(0, n)

    def queue_depth(self) -> int:
        return self.fifo.pages


register(ZramAsync)
