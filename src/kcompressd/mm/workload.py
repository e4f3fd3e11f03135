"""User-space tasks: memory eaters faulting anonymous pages, and CPU-bound hogs."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

from kcompressd.mm.lru import YOUNG
from kcompressd.mm.node import Node
from kcompressd.mm.page_alloc import OutOfMemory, alloc_pages, get_page_from_freelist
from kcompressd.mm.system import SWAP_CLUSTER_MAX, MemorySystem
from kcompressd.sim.core import RUN, WAIT, Sim

# `kcompressd bench`'s eaters time their work in chunks of this many pages (kernel.workload).
CHUNK_PAGES = 64
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
        _oom_kill(mm, th.name)
        return
    on_done(th.name)


def _oom_kill(mm: MemorySystem, name: str) -> None:
    """out_of_memory() kills this task and the run ends here; another thread failing in the
    same instant would have got the victim's memory, so only the first is killed."""
    if mm.oom_victim is None:
        mm.oom_victim = name
        mm.vm["oom_kill"] += 1
        mm.sim.stop()


@dataclass(frozen=True)
class EaterCosts:
    """CPU per page of a region eater (s at speed 1.0), as `kcompressd calibrate` measures
    them on the machine: `touch` a new page (do_anonymous_page(), clear_page(), the copy),
    `revisit` a resident one (the check against what was written, the copy), `fault` the
    fault itself when the page is in swap (do_swap_page() without the decompression, which
    the codec table gives)."""

    touch: float
    revisit: float
    fault: float


@dataclass
class Region:
    """One eater's region, written batch by batch, pass after pass, as `kcompressd bench`'s
    eaters do (kernel.workload.eat). Per SWAP_CLUSTER_MAX batch: the sequence number its pages
    had when they last entered the LRU (-1: never written).

    Which batches are in swap follows from the order: the eaters' pages enter the anon LRU in
    write order and reclaim takes them from its tail, each after the one second look
    folio_check_references() gives a young PTE, so the LRU is first in, first out for them. A
    batch whose sequence number is below the anon pages reclaimed so far (pgsteal_anon) has
    been swapped out; a revisit of it is a major fault.
    """

    seq: array
    pos: int

    @classmethod
    def prefilled(cls, pages: int, prefill: int, index: int, threads: int) -> Region:
        """The region of eater `index` of `threads` whose first `prefill` pages were written
        before the run, the eaters side by side (the anon LRU at start holds them in that
        order, sequence numbers from 0)."""
        batches = max(1, pages // SWAP_CLUSTER_MAX)
        done = min(prefill // SWAP_CLUSTER_MAX, batches)
        seq = array("q", [-1]) * batches
        for c in range(done):
            seq[c] = (c * threads + index) * SWAP_CLUSTER_MAX
        return cls(seq, done % batches)


def region_eater(mm: MemorySystem, zonelist: Sequence[Node], region: Region,
                 costs: EaterCosts, chunk_us: list[float]) -> Generator[tuple, Any, None]:
    """Write the region pass after pass until the run ends, timing each CHUNK_PAGES chunk
    into `chunk_us` (while measuring) as the bench's eaters time theirs.

    A new or swapped-out batch is allocated (possibly through direct reclaim) and enters the
    LRU young with the next sequence numbers; a swapped-out one is also read back
    (`MemorySystem.swap_in`); a resident one costs only the eater's own work.
    """
    th = mm.sim.current
    assert th is not None
    vm, sim, seq = mm.vm, mm.sim, region.seq
    per_chunk = CHUNK_PAGES // SWAP_CLUSTER_MAX
    n = SWAP_CLUSTER_MAX
    try:
        while True:
            t0 = sim.now
            for _ in range(per_chunk):
                i = region.pos
                s = seq[i]
                if s >= vm["pgsteal_anon"]:
                    work = n * costs.revisit
                else:
                    yield from alloc_pages(mm, zonelist, n)
                    work = n * costs.touch if s < 0 else (
                        n * (costs.fault + costs.revisit) + mm.swap_in(n))
                    seq[i] = mm.lru_seq
                    mm.lru_seq += n
                yield (RUN, work)
                region.pos = (i + 1) % len(seq)
            if mm.measuring:
                chunk_us.append((sim.now - t0) * 1e6)
    except OutOfMemory:
        _oom_kill(mm, th.name)


def cpu_hog(slice_cost: float) -> Generator[tuple, Any, None]:
    """A CPU-bound foreground thread: never sleeps, computes in `slice_cost` segments."""
    while True:
        yield (RUN, slice_cost)


def periodic_load(sim: Sim, share: float, period: float) -> Generator[tuple, Any, None]:
    """A process that starts a burst of work every `period`, `share` of one CPU in all, as the
    bench's sampler does (woken by its own timer, at no tick in particular): each burst
    competes for the CPU as any woken task does, milliseconds at a time."""
    due = sim.now
    while True:
        yield (RUN, share * period)
        due += period
        yield (WAIT, max(due - sim.now, 1e-6))
