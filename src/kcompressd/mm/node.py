"""One NUMA node (pglist_data) with its single zone: pages, watermarks, LRU, reclaim state."""

from __future__ import annotations

from kcompressd.mm.lru import AnonLru
from kcompressd.mm.lru_gen import GenLru
from kcompressd.mm.watermarks import Watermarks
from kcompressd.sim.core import Thread

MAX_RECLAIM_RETRIES = 16


class PageConservationError(AssertionError):
    """Pages appeared or vanished: a simulator bug, never a user error."""


class Node:
    """Page counts of one node; every page is in exactly one of the buckets of `check()`."""

    def __init__(self, nid: int, total: int, wmark: Watermarks, unreclaimable: int, *,
                 lru: str = "classic") -> None:
        self.id = nid
        self.total = total
        self.wmark = wmark
        self.unreclaimable = unreclaimable  # kernel, file and pinned pages: not modelled
        self.free = total - unreclaimable
        self.lru: AnonLru | GenLru = GenLru() if lru == "mglru" else AnonLru()
        self.isolated = 0  # NR_ISOLATED_ANON: taken off the LRU by a reclaimer
        self.writeback = 0  # NR_WRITEBACK: queued or being compressed
        self.zs_pages = 0  # zsmalloc pages charged to this node
        self.kswapds: list[Thread] = []
        self.kswapd_failures = 0
        self.pfmemalloc_wait: list[Thread] = []
        self.throttle_wait: list[Thread] = []
        self.nr_written = 0  # pages written back since the first reclaimer was throttled

    def pgdat_balanced(self) -> bool:
        """pgdat_balanced() for order 0: the zone is above its high watermark."""
        return self.free >= self.wmark.high

    def allow_direct_reclaim(self) -> bool:
        """allow_direct_reclaim(): free pages above half of the min watermarks, or kswapd has
        given up on the node (kswapd_failures >= MAX_RECLAIM_RETRIES) and will not wake the
        throttled tasks."""
        return self.kswapd_failures >= MAX_RECLAIM_RETRIES or self.free > self.wmark.min // 2

    def check(self) -> None:
        """Page conservation: free + resident + in flight + compressed store = total."""
        self.lru.check()
        parts = (self.free, self.lru.pages, self.isolated, self.writeback, self.zs_pages,
                 self.unreclaimable)
        if sum(parts) != self.total or min(parts) < 0:
            raise PageConservationError(
                f"node {self.id}: free {self.free} + lru {self.lru.pages} + isolated "
                f"{self.isolated} + writeback {self.writeback} + zsmalloc {self.zs_pages} + "
                f"unreclaimable {self.unreclaimable} != total {self.total}")
