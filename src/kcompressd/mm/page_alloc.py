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
from kcompressd.sim.core import SLEEP, Thread


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


def throttle_direct_reclaim(mm: MemorySystem, sc: ScanControl, *, kthread: bool = False
                            ) -> Generator[tuple, Any, None]:
    """throttle_direct_reclaim(): wait on pfmemalloc_wait while allow_direct_reclaim() is false.

    Kernel threads are never throttled (PF_KTHREAD). A user fault (GFP_HIGHUSER_MOVABLE has
    __GFP_FS) waits with `wait_event_killable()`, no timeout: kswapd's wake_up of
    pfmemalloc_wait, or allow_direct_reclaim() turning true because kswapd has given up
    (kswapd_failures >= MAX_RECLAIM_RETRIES), ends the wait.
    """
    if kthread:
        return
    node, th = sc.node, sc.thread
    while not node.allow_direct_reclaim():
        mm.vm["pfmemalloc_throttle"] += 1
        mm.wakeup_kswapd(node)
        node.pfmemalloc_wait.append(th)
        yield SLEEP
        node.pfmemalloc_wait.remove(th)


def reclaim_for(mm: MemorySystem, th: Thread, zonelist: Sequence[Node], n: int, *,
                kthread: bool = False, may_io: bool = True
                ) -> Generator[tuple, Any, Node | None]:
    """The slow path's direct-reclaim loop until n pages fit above the min watermark.

    `__alloc_pages_direct_reclaim()` after `throttle_direct_reclaim()`; the time from entering
    it to success is one allocation-stall sample of a task (a kernel thread's reclaim counts
    in allocstall, not in the workload's stall latency). Returns the node to take from, or
    None after MAX_RECLAIM_RETRIES passes without progress (`should_reclaim_retry()`).
    `may_io=False` is a GFP_NOIO allocation (see `ScanControl.may_io`).
    """
    start = mm.sim.now
    sc = ScanControl(th, zonelist[0], kswapd=False, may_io=may_io)
    no_progress = 0
    while True:
        yield from throttle_direct_reclaim(mm, sc, kthread=kthread)
        progress = yield from try_to_free_pages(mm, sc, zonelist)
        node = get_page_from_freelist(zonelist, n, "min")
        if node is not None:
            if mm.measuring and not kthread:
                mm.stall_us.append((mm.sim.now - start) * 1e6)
            return node
        no_progress = 0 if progress else no_progress + 1
        if no_progress > MAX_RECLAIM_RETRIES:
            return None
        for z in zonelist:
            mm.wakeup_kswapd(z)


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
    node = yield from reclaim_for(mm, th, zonelist, n)
    if node is None:
        raise OutOfMemory(th.name)
    return _take(node, n, flags)
