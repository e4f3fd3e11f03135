"""`kcompressd-unofficial` 0.5 (firelzrd/kcompressd-unofficial): v2 with a bounded queue.

The per-node fifo is locked and `vm.kcompressd` (= `depth`, default 24, at most 256) bounds it.
When the queue is at depth, kswapd takes the *oldest* queued folio out, writes it itself
(`__swap_writepage()`: no PG_reclaim, so no rotation; the folio is already back on the LRU) and
then queues the new one, keeping FIFO order. Only kswapd offloads.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any, ClassVar

from kcompressd.designs import register
from kcompressd.designs.base import (
    Design,
    PageFifo,
    Param,
    WriteOutcome,
    compress_worker,
    folios_per_step,
)
from kcompressd.sim.core import RUN, Thread


class KcompressdUnofficial(Design):
    name = "kcompressd-unofficial"
    summary = "v2 with vm.kcompressd depth; at depth kswapd writes the oldest queued itself"
    params: ClassVar[dict[str, Param]] = {
        "depth": Param(24, "vm.kcompressd: queue depth in folios (0 disables)", 0, 256),
    }
    def attach(self, mm: Any) -> None:
        super().attach(mm)
        # Queued locked before writeback (v2's hook); workers run PF_MEMALLOC|PF_KSWAPD.
        self.fifos = {node.id: PageFifo(self.p["depth"], locked=True) for node in mm.nodes}
        self.workers = {nid: mm.sim.spawn(f"kcompressd{nid}", compress_worker(mm, f))
                        for nid, f in self.fifos.items()}

    def interleaves(self, sc: Any) -> bool:
        return sc.kswapd and self.p["depth"] > 0

    def swap_writepage_interleaved(self, sc: Any, node: Any, n: int
                                   ) -> Generator[tuple, Any, WriteOutcome]:
        worker = self.workers[node.id]
        yield from queue_or_write_oldest(self.mm, self.fifos[node.id], [worker],
                                         lambda: self.mm.sim.wake(worker), sc, node, n)
        return WriteOutcome(0, n)

    def queue_depth(self) -> int:
        return sum(f.pages for f in self.fifos.values())


# At depth the caller alternates unmapping a few pages and writing as many of the oldest
# queued ones; this many at a time (the kernel does one by one).
STEP = 8


def queue_or_write_oldest(mm: Any, fifo: PageFifo, workers: Sequence[Thread],
                          kick: Callable[[], None], sc: Any, node: Any, n: int
                          ) -> Generator[tuple, Any, int]:
    """Unmap and queue n pages; a page finding the queue at depth has the oldest written first.

    Page by page as shrink_folio_list() goes: unmap (sc.page_cost), then swap_writepage(). With
    room the page is queued. At depth the caller dequeues the oldest page, compresses and stores
    it in its own context (the folio, locked on the LRU, turns clean in place), then queues
    the new one. Workers drain the queue meanwhile. Returns how many oldest pages the caller
    wrote itself.

    Pages go as many at a time as folios_per_step() allows.
    """
    th = sc.thread
    left = n
    wrote = 0
    while left:
        room = fifo.room
        if room:
            k = folios_per_step(workers, min(room, left, STEP))
            yield (RUN, k * sc.page_cost)
            fifo.put(mm, node, k, th.name)
            kick()
            left -= k
            continue
        # The oldest k leave the queue and the new k enter it together, so the queue never
        # looks empty to a worker while the caller writes (page by page it never is).
        k = folios_per_step(workers, min(left, fifo.pages, STEP))
        oldest = fifo.take(k)
        fifo.put(mm, node, k, th.name)
        kick()
        draws = [(old_node, j, mm.sampler.draw(j)) for old_node, j in oldest]
        work = sum(d.cost for _, _, d in draws)
        mm.account_compress(th, work)
        yield (RUN, k * sc.page_cost + work)
        for old_node, j, d in draws:
            fifo.complete(mm, old_node, j, d)
        left -= k
        wrote += k
    return wrote


register(KcompressdUnofficial)
