"""`parallel-swapper` 0.2a (firelzrd/kcompressd-unofficial): a per-node unbound workqueue.

`swapout_sched_parallel()` at the top of `swap_writepage()`: kswapd only, anon only. Workers
per node = `vm.parallel_swap` (= `workers`, default 1) clamped to CPUs-in-node - 1 (0 disables
offload); queue depth min(256, workers x `vm.parallel_swap_factor` (= `factor`, 6)). The fifo
is under a mutex; kswapd announces itself (`writer_is_waiting`) before taking it and a worker
that sees a waiting writer drops the mutex and retries, so workers yield to kswapd. When the
queue is at depth kswapd dequeues the oldest folio, swaps it out itself, then queues the new one.
Workers are created on demand by `queue_work()` up to the limit and run until the fifo is empty.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, ClassVar

from kcompressd.designs import register
from kcompressd.designs.base import Design, PageFifo, Param, WriteOutcome
from kcompressd.designs.kcompressd_unofficial import queue_or_write_oldest
from kcompressd.sim.core import RUN, SLEEP, SPIN

SWAP_ASYNC_FIFO_SIZE = 256
LOCK_HOLD = 0.1e-6  # s at speed 1.0: mutex_lock + kfifo_out + mutex_unlock


class _NodeQueue:
    def __init__(self, depth: int) -> None:
        self.fifo = PageFifo(depth, locked=True)
        self.holder: Any = None  # the worker holding the mutex
        self.writer_is_waiting = False
        self.writers: list[Any] = []  # kswapds waiting for the mutex
        self.workers: list[Any] = []
        self.yields = 0  # times a worker dropped the mutex for a waiting kswapd


class ParallelSwapper(Design):
    name = "parallel-swapper"
    summary = "per-node workqueue, depth min(256, workers*factor), workers yield to kswapd"
    params: ClassVar[dict[str, Param]] = {
        "workers": Param(1, "vm.parallel_swap: workers per node (clamped to CPUs-1)", 0, 1024),
        "factor": Param(6, "vm.parallel_swap_factor: queue depth per worker", 1, 256),
    }
    def attach(self, mm: Any) -> None:
        super().attach(mm)
        cpus_per_node = max(1, len(mm.sim.cpus) // len(mm.nodes))
        self.max_workers = max(0, min(int(self.p["workers"]), cpus_per_node - 1))
        depth = min(SWAP_ASYNC_FIFO_SIZE, self.max_workers * int(self.p["factor"]))
        self.queues: dict[int, _NodeQueue] = {}
        for node in mm.nodes:
            q = _NodeQueue(max(depth, 1))  # folios queued locked, before writeback
            # Workers of an unbound workqueue: kworker/u<pool>:<id>, one pool per node.
            for i in range(self.max_workers):
                q.workers.append(mm.sim.spawn(f"kworker/u{node.id}:{i}", self._worker(q)))
            self.queues[node.id] = q

    def _kick(self, q: _NodeQueue) -> None:
        """queue_work(): start idle workers up to the limit."""
        for w in q.workers:
            if w.sleeping:
                self.mm.sim.wake(w)
                return

    def interleaves(self, sc: Any) -> bool:
        return sc.kswapd and self.max_workers > 0

    def swap_writepage_interleaved(self, sc: Any, node: Any, n: int
                                   ) -> Generator[tuple, Any, WriteOutcome]:
        q = self.queues[node.id]
        if q.holder is not None:
            # atomic_set(writer_is_waiting, 1); mutex_lock(): wait for the worker to drop it.
            q.writer_is_waiting = True
            q.writers.append(sc.thread)
            while q.holder is not None:
                yield SLEEP
            q.writers.remove(sc.thread)
        q.writer_is_waiting = bool(q.writers)
        yield from queue_or_write_oldest(self.mm, q.fifo, q.workers, lambda: self._kick(q), sc,
                                         node, n)
        return WriteOutcome(0, n)

    def _worker(self, q: _NodeQueue) -> Generator[tuple, Any, None]:
        """swapout_worker(): take one folio at a time under the mutex, then write it."""
        mm = self.mm
        th = mm.sim.current
        assert th is not None
        fifo = q.fifo
        draw = mm.sampler.draw
        while True:
            while not fifo.pages:
                yield SLEEP
            mm.slice_begin(th, "compress")
            while fifo.pages:
                if q.writer_is_waiting:
                    q.yields += 1
                    yield (SPIN, LOCK_HOLD)  # mutex_unlock(); continue: let kswapd in
                    continue
                q.holder = th
                yield (RUN, LOCK_HOLD)
                q.holder = None
                for w in q.writers:
                    mm.sim.wake(w)
                if not fifo.pages:  # kswapd wrote the last ones itself meanwhile
                    continue
                node = fifo.take_one()  # kfifo_out(&fifo, &folio, 1)
                d = draw(1)
                mm.account_compress(th, d.cost)
                yield (RUN, d.cost)
                mm.write_queued(node, 1, d)  # fifo.complete() of a locked fifo
            mm.slice_end(th)

    def queue_depth(self) -> int:
        return sum(q.fifo.pages for q in self.queues.values())


register(ParallelSwapper)
