"""User-space tasks: a memory eater faulting anonymous pages, and CPU-bound hogs."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any

from kcompressd.mm.lru import YOUNG
from kcompressd.mm.node import Node
from kcompressd.mm.page_alloc import OutOfMemory, alloc_pages, get_page_from_freelist
from kcompressd.mm.system import SWAP_CLUSTER_MAX, MemorySystem
from kcompressd.sim.core import RUN

# Batches allocated without stalling are touched in one work segment of up to this much work
# (fewer events; the pages reach the LRU at most this early).
TOUCH_DEFER = 100e-6


def memory_eater(mm: MemorySystem, zonelist: Sequence[Node], pages: int, touch_cost: float,
                 on_done: Callable[[str], None]) -> Generator[tuple, Any, None]:
    """Fault and write anonymous pages as fast as possible (`pages` = 0: forever).

    Each batch of SWAP_CLUSTER_MAX pages is allocated (possibly through direct reclaim), then
    touched: `touch_cost` per page covers the fault, clear_page() and the eater's own writes.
    The pages enter the LRU young, as a fault leaves them, and are never touched again.
    """
    th = mm.sim.current
    assert th is not None
    done = 0
    pending = 0.0  # touch work of batches allocated on the fast path, not yet run
    try:
        while not pages or done < pages:
            n = SWAP_CLUSTER_MAX if not pages else min(SWAP_CLUSTER_MAX, pages - done)
            node = get_page_from_freelist(zonelist, n, "low")
            if node is not None:  # the fast path, inline
                node.free -= n
                node.lru.add_inactive_head(n, YOUNG)
            else:
                if pending:
                    yield (RUN, pending)  # the slow path may stall: be on time for it
                    pending = 0.0
                yield from alloc_pages(mm, zonelist, n)
            pending += n * touch_cost
            done += n
            if pending >= TOUCH_DEFER:
                yield (RUN, pending)
                pending = 0.0
        if pending:
            yield (RUN, pending)
    except OutOfMemory:
        # out_of_memory() kills this task and the run ends here; another thread failing in
        # the same instant would have got the victim's memory, so only the first is killed.
        if mm.oom_victim is None:
            mm.oom_victim = th.name
            mm.vm["oom_kill"] += 1
            mm.sim.stop()
        return
    on_done(th.name)


def cpu_hog(slice_cost: float) -> Generator[tuple, Any, None]:
    """A CPU-bound foreground thread: never sleeps, computes in `slice_cost` segments."""
    while True:
        yield (RUN, slice_cost)
