"""`kcompressd-v1`: zram-level kcompressd threads (Qun-Wei Lin, March 2025, [PATCH 0/2]).

zram declares writes asynchronous; `zram_submit_bio()` hands kswapd's writes (only kswapd:
`current_is_kswapd()`) to the first of `threads` kfifos with room (`queue_size` bios each),
waking its thread. When every fifo is full the write returns -EBUSY and zram compresses it
synchronously in kswapd. Direct reclaim always compresses in the caller. The kfifos have no lock
(correct with one producer only), and they are global to the device, shared by all nodes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kcompressd.designs import register
from kcompressd.designs.base import Design, PageFifo, Param, WriteOutcome, compress_worker


class KcompressdV1(Design):
    name = "kcompressd-v1"
    summary = "zram-level: kswapd's writes to the first of N kfifos with room, full -> sync"
    params: ClassVar[dict[str, Param]] = {
        "threads": Param(4, "nr_kcompressd: compression threads (one kfifo each)", 1, 64),
        "queue_size": Param(4096, "queue_size_per_kcompressd: bios per kfifo", 1, 1 << 20),
    }

    def attach(self, mm: Any) -> None:
        super().attach(mm)
        # zram takes the bio after swap_writepage_bdev_async() started writeback: completion
        # rotates the folio (PG_reclaim survives). Workers run PF_MEMALLOC|PF_KSWAPD.
        self.fifos = [PageFifo(self.p["queue_size"], locked=False)
                      for _ in range(self.p["threads"])]
        self.workers = [mm.sim.spawn(f"kcompressd{i}", compress_worker(mm, f))
                        for i, f in enumerate(self.fifos)]

    def offloads(self, sc: Any) -> bool:
        return sc.kswapd  # current_is_kswapd()

    def swap_writepage(self, sc: Any, node: Any, n: int) -> WriteOutcome:
        left = n
        # Page by page the first fifo with room takes it; in a batch, fill fifos in order.
        for fifo, worker in zip(self.fifos, self.workers, strict=True):
            k = min(left, fifo.room)
            if k:
                fifo.put(self.mm, node, k, sc.thread.name)
                self.mm.sim.wake(worker)
                left -= k
                if not left:
                    break
        return WriteOutcome(left, n - left)

    def queue_depth(self) -> int:
        return sum(f.pages for f in self.fifos)

    def warnings(self) -> list[str]:
        producers = sorted(set().union(*(f.producers for f in self.fifos)))
        if len(producers) > 1:
            return [f"kcompressd-v1: {len(producers)} kswapds ({', '.join(producers)}) fed the "
                    "lock-free kfifos, which are only correct with a single producer"]
        return []


register(KcompressdV1)
