"""The page allocator's watermark checks and slow path (mm/page_alloc.c), per batch.

`alloc_pages()` takes n pages for a user fault path (GFP_HIGHUSER_MOVABLE): the fast path
needs the low watermark, the slow path wakes kswapd, retries at the min watermark, and only then
reclaims directly in the caller (`__alloc_pages_direct_reclaim()`), after
`throttle_direct_reclaim()` has let kswapd catch up if free pages fell below half of min. The
time from entering direct reclaim to getting the pages is one allocation-stall sample. After
MAX_RECLAIM_RETRIES passes without progress the allocation fails: the OOM killer ends the run.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from kcompressd.mm.lru import YOUNG
from kcompressd.mm.node import Node
from kcompressd.mm.system import MAX_RECLAIM_RETRIES, MemorySystem, ScanControl
from kcompressd.mm.vmscan import try_to_free_pages
from kcompressd.sim.core import WAIT


class OutOfMemory(Exception):
    """Raised inside the allocating thread's body: the OOM killer picked it."""


def _take(node: Node, n: int, flags: int) -> Node:
    node.free -= n
    node.lru.add_inactive_head(n, flags)  # folio_add_lru(): new anon folios start inactive
    return node


def get_page_from_freelist(zonelist: Sequence[Node], n: int, wmark: str) -> Node | None:
    for node in zonelist:
        if node.free - n >= getattr(node.wmark, wmark):
            return node
    return None


def throttle_direct_reclaim(mm: MemorySystem, sc: ScanControl) -> Generator[tuple, Any, None]:
    """Wait on pfmemalloc_wait while free pages are below half the min watermark."""
    node, th = sc.node, sc.thread
    while not node.allow_direct_reclaim():
        mm.vm["pfmemalloc_throttle"] += 1
        mm.wakeup_kswapd(node)
        node.pfmemalloc_wait.append(th)
        yield (WAIT, 1.0)  # HZ: wait_event_killable_timeout() for non-fs callers
        node.pfmemalloc_wait.remove(th)


def alloc_pages(mm: MemorySystem, zonelist: Sequence[Node], n: int, flags: int = YOUNG
                ) -> Generator[tuple, Any, Node]:
    """__alloc_pages() for n order-0 pages, added to the LRU with `flags`; returns the node."""
    node = get_page_from_freelist(zonelist, n, "low")
    if node is not None:
        return _take(node, n, flags)
    for z in zonelist:
        mm.wakeup_kswapd(z)
    node = get_page_from_freelist(zonelist, n, "min")
    if node is not None:
        return _take(node, n, flags)
    th = mm.sim.current
    assert th is not None
    start = mm.sim.now
    sc = ScanControl(th, zonelist[0], kswapd=False)
    no_progress = 0
    while True:
        yield from throttle_direct_reclaim(mm, sc)
        progress = yield from try_to_free_pages(mm, sc, zonelist)
        node = get_page_from_freelist(zonelist, n, "min")
        if node is not None:
            if mm.measuring:
                mm.stall_us.append((mm.sim.now - start) * 1e6)
            return _take(node, n, flags)
        # should_reclaim_retry(): give up after MAX_RECLAIM_RETRIES passes without progress.
        no_progress = 0 if progress else no_progress + 1
        if no_progress > MAX_RECLAIM_RETRIES:
            raise OutOfMemory(th.name)
        for z in zonelist:
            mm.wakeup_kswapd(z)
