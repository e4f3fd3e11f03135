"""`kcompressd-unofficial` 0.5 (firelzrd/kcompressd-unofficial): v2 with a bounded queue.

The per-node fifo is locked and `vm.kcompressd` (= `depth`, default 24, at most 256) bounds it.
When the queue is at depth, kswapd takes the *oldest* queued folio out, writes it itself
(which completes that folio's writeback: it rotates to the inactive tail) and then queues the
new one, keeping FIFO order. Only kswapd offloads.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, ClassVar

from kcompressd.designs import register
from kcompressd.designs.base import Design, PageFifo, Param, WriteOutcome, compress_worker
from kcompressd.sim.core import RUN


@register
class KcompressdUnofficial(Design):
    name = "kcompressd-unofficial"
    summary = "v2 with vm.kcompressd depth; at depth kswapd writes the oldest queued itself"
    params: ClassVar[dict[str, Param]] = {
        "depth": Param(24, "vm.kcompressd: queue depth in folios (1..256)", 1, 256),
    }
    interleaved = True

    def attach(self, mm: Any) -> None:
        super().attach(mm)
        self.fifos = {node.id: PageFifo(self.p["depth"]) for node in mm.nodes}
        self.workers = {nid: mm.sim.spawn(f"kcompressd{nid}", compress_worker(mm, f))
                        for nid, f in self.fifos.items()}

    def swap_writepage(self, sc: Any, node: Any, n: int
                       ) -> Generator[tuple, Any, WriteOutcome]:
        if not sc.kswapd:
            return WriteOutcome(n, 0)
        worker = self.workers[node.id]
        yield from queue_or_write_oldest(self.mm, self.fifos[node.id],
                                         lambda: self.mm.sim.wake(worker), sc, node, n)
        return WriteOutcome(0, n)

    def queue_depth(self) -> int:
        return sum(f.pages for f in self.fifos.values())


def queue_or_write_oldest(mm: Any, fifo: PageFifo, kick: Callable[[], None], sc: Any,
                          node: Any, n: int) -> Generator[tuple, Any, None]:
    """Queue n pages; a page finding the queue at depth first has the oldest written out.

    Pages go in as room allows; at depth the caller dequeues as many of the oldest as it still
    has new pages (at most the depth), compresses and stores them in its own context (their
    writeback ends: they rotate to the inactive tail), then queues the new ones. Workers keep
    draining meanwhile, so the queue is refilled page-run by page-run as in the kernel.
    """
    th = sc.thread
    left = n
    while left:
        room = fifo.room
        if room:
            k = min(room, left)
            fifo.put(mm, node, k, th.name)
            kick()
            left -= k
            continue
        for old_node, k in fifo.take(min(left, fifo.pages)):
            d = mm.sampler.draw(k)
            mm.account_compress(th, d.cost)
            yield (RUN, d.cost)
            mm.end_writeback(old_node, k, d)
