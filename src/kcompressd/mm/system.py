"""The memory system: nodes, the zram device, the design, counters, and writeback completion.

Reclaim itself lives in `vmscan` (kswapd, direct reclaim, shrink_folio_list) and allocation in
`page_alloc`; this object holds what they share. Counters use /proc/vmstat names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kcompressd.backends.zram_cost import Draw, ZramSampler, ZramStore
from kcompressd.mm.calibration import Costs
from kcompressd.mm.lru import CLEAN, QUEUED
from kcompressd.mm.node import MAX_RECLAIM_RETRIES, Node
from kcompressd.sim.core import Sim, Thread
from kcompressd.trace import Timeline

if TYPE_CHECKING:
    from kcompressd.designs.base import Design

SWAP_CLUSTER_MAX = 32

# MAX_RECLAIM_RETRIES is defined with the node (allow_direct_reclaim needs it) and re-exported.
__all__ = ["MAX_RECLAIM_RETRIES", "SWAP_CLUSTER_MAX", "MemorySystem", "ScanControl"]

VMSTAT_EXTRA = ("pswpin", "zram_writestall", "pgrefill", "pgdeactivate", "pgactivate", "oom_kill",
                "reclaim_throttle_writeback", "reclaim_throttle_noprogress",
                "pfmemalloc_throttle", "swap_alloc_fail", "zram_write_fail", "swpout_zero",
                "swpin_zero")


@dataclass
class ScanControl:
    """struct scan_control, reduced to who is reclaiming and where."""

    thread: Thread
    node: Node
    kswapd: bool
    # __GFP_IO in gfp_mask: without it (GFP_NOIO, zram's second zs_malloc()) an anon folio
    # that has no swap slot yet cannot be swapped out (shrink_folio_list(), isolate_folio()).
    may_io: bool = True
    nr_reclaimed: int = 0
    nr_scanned: int = 0
    pending: float = 0.0  # deferred scan work (s at speed 1.0), see vmscan.DEFER_LIMIT
    page_cost: float = 0.0  # scan + unmap per written page, for interleaved designs


class MemorySystem:
    def __init__(self, sim: Sim, nodes: list[Node], sampler: ZramSampler, store: ZramStore,
                 costs: Costs, design: Design, *, hz: int, timeline: Timeline | None,
                 swapin_sampler: ZramSampler | None = None) -> None:
        self.sim = sim
        self.nodes = nodes
        self.sampler = sampler
        self.store = store
        # Objects a swap-in reads back: drawn like stored ones, costed at decompression.
        self.swapin_sampler = swapin_sampler
        self.costs = costs
        self.design = design
        self.hz = hz
        self.timeline = timeline
        self.vm: dict[str, int] = dict.fromkeys(
            ("pgscan_kswapd", "pgscan_direct", "pgscan_anon", "pgsteal_kswapd",
             "pgsteal_direct", "pgsteal_anon", "allocstall", "pswpout", "pgrotated",
             *VMSTAT_EXTRA), 0)
        self.measuring = False
        self.stall_us: list[float] = []
        self.chunk_us: list[float] = []  # region eaters' chunk latencies (mm.workload)
        self.lru_seq = 0  # anon pages that entered the LRU so far (see workload.Region)
        # Work at speed 1.0 per thread, split as the thread's profile would show it.
        self.cpu_split: dict[str, list[float]] = {}
        self.oom_victim: str | None = None
        self._open: dict[str, list[tuple[str, float]]] = {}  # thread -> open (name, start)

    # -- accounting --------------------------------------------------------------------------
    def account_scan(self, th: Thread, cost: float) -> None:
        if self.measuring:
            (self.cpu_split.get(th.name) or self._new_split(th))[0] += cost

    def account_compress(self, th: Thread, cost: float) -> None:
        if self.measuring:
            (self.cpu_split.get(th.name) or self._new_split(th))[1] += cost

    def _new_split(self, th: Thread) -> list[float]:
        """The thread's [scan_unmap, compress] work, at its first charge (the charges above run
        per folio: no list is built for a thread that has one)."""
        split = self.cpu_split[th.name] = [0.0, 0.0]
        return split

    def slice_begin(self, th: Thread, name: str) -> None:
        """A timeline slice opens on the thread (closed by slice_end or at the run's end).

        Slices nest (a worker's compress slice holds the direct reclaim its zs_malloc enters).
        """
        if self.timeline is not None:
            self._open.setdefault(th.name, []).append((name, self.sim.now))

    def slice_end(self, th: Thread) -> None:
        if self.timeline is not None:
            name, start = self._open[th.name].pop()
            self.timeline.slice(th.name, name, start, self.sim.now - start)

    def close_slices(self) -> None:
        """Close slices still open when the run stops (a kswapd that never slept)."""
        if self.timeline is not None:
            for thread, stack in sorted(self._open.items()):
                for name, start in reversed(stack):
                    self.timeline.slice(thread, name, start, self.sim.now - start)
            self._open.clear()

    # -- kswapd ------------------------------------------------------------------------------
    def wakeup_kswapd(self, node: Node) -> None:
        """wakeup_kswapd(): not after MAX_RECLAIM_RETRIES failures, nor when balanced."""
        if node.kswapd_failures >= MAX_RECLAIM_RETRIES or node.pgdat_balanced():
            return
        for th in node.kswapds:
            if th.sleeping:
                self.sim.wake(th)

    def wake_pfmemalloc_waiters(self, node: Node) -> None:
        if node.pfmemalloc_wait and node.allow_direct_reclaim():
            for th in node.pfmemalloc_wait:
                self.sim.wake(th)

    # -- zram store --------------------------------------------------------------------------
    def zram_store(self, node: Node, d: Draw, freeing: int) -> bool:
        """zs_malloc() the drawn pages, charging zspages to the node.

        Reclaimers allocate with PF_MEMALLOC (no watermark), so the store fails only when the
        node has no free page left even counting the `freeing` pages released with it.
        """
        need = self.store.store(d, node.free + freeing)
        if need is None:
            self.vm["zram_write_fail"] += d.n
            return False
        node.free -= need
        node.zs_pages += need
        return True

    def swap_in(self, n: int) -> float:
        """`do_swap_page()` on a synchronous zram device, after the fault's folio is allocated:
        `swap_read_folio()` decompresses each page (`zram_read_page()`), then `swap_free()`
        reaches `zram_slot_free_notify()`, which frees the object and its slot; zsmalloc's
        pages go back to the nodes that were charged. Returns the decompression work (s at
        speed 1.0). Pages in the swap zeromap are zero-filled in place
        (`swap_read_folio_zeromap()`: swpin_zero, no pswpin, nothing to decompress)."""
        sampler = self.swapin_sampler
        assert sampler is not None
        store = self.store
        zero = sampler.zeromap_hits(n, store.zeromap_pages, store.slots_used)
        if zero:
            store.zeromap_read(zero)
            self.vm["swpin_zero"] += zero
            n -= zero
            if not n:
                return 0.0
        d = sampler.draw_many(n)
        released = store.free(d)
        for node in self.nodes:
            k = min(released, node.zs_pages)
            node.zs_pages -= k
            node.free += k
            released -= k
        self.vm["pswpin"] += n
        return d.cost

    # -- writeback ---------------------------------------------------------------------------
    def start_writeback(self, node: Node, k: int) -> None:
        """Isolated pages handed to a design go under writeback (folio_start_writeback)."""
        node.isolated -= k
        node.writeback += k

    def queue_locked(self, node: Node, k: int) -> None:
        """Isolated folios queued locked, before writeback, return to the inactive head.

        v2, the unofficial port and parallel-swapper queue at the top of `swap_writepage()`,
        before `folio_start_writeback()`; `pageout()` then clears PG_reclaim (the folio is not
        under writeback) and `shrink_folio_list()` cannot `folio_trylock()` it, so it is kept
        and `move_folios_to_lru()` puts it back at the inactive head (mm/vmscan.c).
        """
        node.isolated -= k
        node.lru.add_inactive_head(k, QUEUED)

    def write_queued(self, node: Node, k: int, d: Draw) -> None:
        """A writer stored k locked-queued folios: `__swap_writepage()` on a synchronous device.

        Writeback starts and ends inside the write without PG_reclaim, so
        `folio_end_writeback()` does not call `folio_rotate_reclaimable()`: no pgrotated, the
        clean swap-cache folio stays where it is on the LRU until the scanner frees it
        (`__remove_mapping()`). A failed store re-dirties it (`__end_swap_bio_write()`).
        """
        if self.zram_store(node, d, 0):
            node.lru.convert_queued(k, CLEAN)
        else:
            self.store.put_swap_pages(k)
            node.lru.convert_queued(k, 0)

    def end_writeback(self, node: Node, k: int, d: Draw) -> None:
        """Pages queued by a design are stored; `folio_end_writeback()` completes them.

        `folio_rotate_reclaimable()` moves each folio (PG_reclaim, clean) to the inactive tail
        and counts pgrotated; the next scan frees it. A failed store re-dirties the pages
        (`__end_swap_bio_write()` error path) and they stay on the LRU to be written again.
        """
        node.writeback -= k
        if self.zram_store(node, d, 0):
            node.lru.add_inactive_tail(k, CLEAN)
            self.vm["pgrotated"] += k
        else:
            self.store.put_swap_pages(k)
            node.lru.add_inactive_head(k, 0)
        # acct_reclaim_writeback(): wake throttled reclaimers once enough was written.
        if node.throttle_wait:
            node.nr_written += k
            if node.nr_written > SWAP_CLUSTER_MAX * len(node.throttle_wait):
                for th in list(node.throttle_wait):
                    self.sim.wake(th)

    # -- checks ------------------------------------------------------------------------------
    def check(self) -> None:
        """Page conservation on every node (raises PageConservationError)."""
        for node in self.nodes:
            node.check()
        zs = sum(n.zs_pages for n in self.nodes)
        if zs != self.store.mem_used_pages:
            from kcompressd.mm.node import PageConservationError
            raise PageConservationError(
                f"zsmalloc pages charged to nodes ({zs}) != pool size "
                f"({self.store.mem_used_pages})")
