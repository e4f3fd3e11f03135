"""`kcompressd-v2`: one kcompressd per node in swap_writepage() (v2, April 2025).

At the top of `swap_writepage()`: offload only if the caller is kswapd and the folio is anon
(always here: the model reclaims anon only); the node's kfifo holds `fifo_size` folios
(KCOMPRESS_FIFO_SIZE = 256). A full fifo falls through to the synchronous write in kswapd,
without blocking. The folio is queued locked, before writeback: it goes back to the inactive
head and its completion does not rotate it (`MemorySystem.queue_locked`). The worker
`kcompressd<node>` drains the fifo one folio at a time, without PF_MEMALLOC.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kcompressd.designs import register
from kcompressd.designs.base import Design, PageFifo, Param, WriteOutcome, compress_worker


class KcompressdV2(Design):
    name = "kcompressd-v2"
    summary = "per-node kcompressd fed by kswapd only (anon), fifo full -> sync in kswapd"
    params: ClassVar[dict[str, Param]] = {
        "fifo_size": Param(256, "KCOMPRESS_FIFO_SIZE: folios per node", 1, 1 << 20),
    }

    def attach(self, mm: Any) -> None:
        super().attach(mm)
        self.fifos = {node.id: PageFifo(self.p["fifo_size"], locked=True) for node in mm.nodes}
        # The posted v2 thread sets no PF_MEMALLOC: its zsmalloc allocations obey watermarks.
        self.workers = {nid: mm.sim.spawn(f"kcompressd{nid}",
                                          compress_worker(mm, f, memalloc=False))
                        for nid, f in self.fifos.items()}

    def offloads(self, sc: Any) -> bool:
        return sc.kswapd  # current_is_kswapd()

    def swap_writepage(self, sc: Any, node: Any, n: int) -> WriteOutcome:
        fifo = self.fifos[node.id]
        k = min(n, fifo.room)
        if k:
            fifo.put(self.mm, node, k, sc.thread.name)
            self.mm.sim.wake(self.workers[node.id])
        return WriteOutcome(n - k, k)

    def queue_depth(self) -> int:
        return sum(f.pages for f in self.fifos.values())


register(KcompressdV2)
