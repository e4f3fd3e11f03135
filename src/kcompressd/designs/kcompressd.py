"""`kcompressd`: this project's patch on Linux 6.12 (src/kcompressd/lab/patches, mm/kcompressd.c),
configured by its sysctls one for one.

The lab kernel's hook at the top of `swap_writepage()` (kswapd only, anon folios, zram as a
SWP_SYNCHRONOUS_IO device) queues the folio *locked, before writeback* on its node's fifo, as
v2 and the unofficial port do: the folio goes back to the inactive head and its completion does
not rotate it. The parameters are the sysctls, so a simulated run and a lab run are set up
the same way:

- `depth` = vm.kcompressd (0..256, 0 = off): folios the node's fifo holds;
- `threads` = vm.kcompressd_threads: workers per node, named kcompressd<node> and
  kcompressd<node>:<i>, each taking one folio at a time;
- `overflow` = vm.kcompressd_overflow: with the fifo at depth, 0 = kswapd writes the new folio
  itself; 1 = kswapd writes the oldest queued folio itself and queues the new one (FIFO kept);
- `memalloc` = vm.kcompressd_memalloc: 1 = workers run PF_MEMALLOC|PF_KSWAPD (zsmalloc ignores
  watermarks), 0 = without (zsmalloc obeys them and can enter direct reclaim).

vmstat, as the patch's /proc/vmstat: kcompressd_queued (folios queued), kcompressd_written
(folios written by the workers), kcompressd_sync_full (folios kswapd wrote itself because the
fifo was at depth), kcompressd_drained (queued folios written by another task: here kswapd
taking the oldest back under overflow 1); queued = written + drained + still queued.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, ClassVar

from kcompressd.backends.zram_cost import Draw
from kcompressd.designs import register
from kcompressd.designs.base import (
    Design,
    PageFifo,
    Param,
    WriteOutcome,
    compress_worker,
    folios_per_step,
    kick_workers,
)
from kcompressd.designs.kcompressd_unofficial import STEP, queue_or_write_oldest
from kcompressd.sim.core import RUN

COUNTERS = ("kcompressd_queued", "kcompressd_written", "kcompressd_sync_full",
            "kcompressd_drained")


class Kcompressd(Design):
    name = "kcompressd"
    summary = "the lab patch: vm.kcompressd depth, threads per node, overflow policy, memalloc"
    params: ClassVar[dict[str, Param]] = {
        "depth": Param(24, "vm.kcompressd: fifo depth in folios per node (0 = off)", 0, 256),
        "threads": Param(1, "vm.kcompressd_threads: workers per node", 1, 8),
        "overflow": Param(0, "vm.kcompressd_overflow: at depth 0 = kswapd writes the new folio, "
                          "1 = kswapd writes the oldest queued one and queues the new", 0, 1),
        "memalloc": Param(1, "vm.kcompressd_memalloc: 1 = workers PF_MEMALLOC|PF_KSWAPD, "
                          "0 = without", 0, 1),
    }

    def attach(self, mm: Any) -> None:
        super().attach(mm)
        for key in COUNTERS:
            mm.vm.setdefault(key, 0)
        self.fifos = {node.id: PageFifo(int(self.p["depth"]), locked=True) for node in mm.nodes}
        self.workers: dict[int, list[Any]] = {}
        for nid, fifo in self.fifos.items():
            self.workers[nid] = [
                mm.sim.spawn(f"kcompressd{nid}" if i == 0 else f"kcompressd{nid}:{i}",
                             compress_worker(mm, fifo, memalloc=bool(self.p["memalloc"]),
                                             counter="kcompressd_written"))
                for i in range(int(self.p["threads"]))]

    def _kick(self, nid: int) -> None:
        kick_workers(self.mm, self.workers[nid], self.fifos[nid], 1)

    def interleaves(self, sc: Any) -> bool:
        return sc.kswapd and self.p["depth"] > 0

    def swap_writepage_interleaved(self, sc: Any, node: Any, n: int
                                   ) -> Generator[tuple, Any, WriteOutcome]:
        vm = self.mm.vm
        if self.p["overflow"] == 0:
            done = yield from self._queue_or_write_new(sc, node, n)
            wrote = done.n if done else 0
            vm["kcompressd_queued"] += n - wrote
            vm["kcompressd_sync_full"] += wrote
            return WriteOutcome(0, n - wrote, done)
        # overflow 1: at depth kswapd writes the oldest queued folio, then queues the new.
        wrote = yield from queue_or_write_oldest(self.mm, self.fifos[node.id],
                                                 self.workers[node.id],
                                                 lambda: self._kick(node.id), sc, node, n)
        vm["kcompressd_queued"] += n
        vm["kcompressd_sync_full"] += wrote
        vm["kcompressd_drained"] += wrote
        return WriteOutcome(0, n)

    def _queue_or_write_new(self, sc: Any, node: Any, n: int
                            ) -> Generator[tuple, Any, Draw | None]:
        """overflow 0, folio by folio as shrink_folio_list() goes: unmap it (sc.page_cost),
        then swap_writepage(): queued while the fifo has room, the first one waking a
        sleeping worker (which may take the CPU from kswapd there and then); at depth kswapd
        compresses it itself. Returns what kswapd wrote, if anything (the caller stores and
        frees it).

        Runs of folios that change nothing for the workers are one step: queued ones as
        folios_per_step() allows, written ones up to STEP (the kernel: one by one)."""
        mm, fifo, workers = self.mm, self.fifos[node.id], self.workers[node.id]
        th = sc.thread
        draws: list[Draw] = []
        left = n
        while left:
            room = fifo.room
            if room:
                k = folios_per_step(workers, min(room, left))
                yield (RUN, k * sc.page_cost)
                fifo.put(mm, node, k, th.name)
                self._kick(node.id)
            else:
                k = min(left, STEP)
                d = mm.sampler.draw_many(k)
                mm.account_compress(th, d.cost)
                yield (RUN, k * sc.page_cost + d.cost)
                draws.append(d)
            left -= k
        return Draw.total(draws) if draws else None

    def queue_depth(self) -> int:
        return sum(f.pages for f in self.fifos.values())


register(Kcompressd)
