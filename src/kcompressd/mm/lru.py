"""The anonymous LRU of one node as run-length batches, not page objects.

Each list is a deque of ``[count, flags]`` runs, head on the left (most recently added), tail
on the right (next to be scanned). Adjacent runs with equal flags merge, so a node of millions
of pages holds a handful of Python objects however much memory it simulates.

Flags are the page state `folio_check_references()` (mm/vmscan.c) looks at:
YOUNG (a PTE accessed bit set since the last `folio_referenced()`), REF (PG_referenced),
HOT (the owner keeps touching these pages, so they are young whenever checked), CLEAN (already
written to swap and unmapped: `__remove_mapping()` frees it when scanned, the state
`folio_rotate_reclaimable()` leaves a written-back folio in) and QUEUED (unmapped, handed to an
offload queue while still locked and not yet written: `shrink_folio_list()` cannot
`folio_trylock()` it and keeps it, and its writer turns it CLEAN in place, see
`convert_queued`).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

from kcompressd import PAGE_SIZE

if TYPE_CHECKING:
    from kcompressd.mm.lru_gen import GenLru

YOUNG, REF, HOT, CLEAN, QUEUED = 1, 2, 4, 8, 16

Run = list  # [count, flags]


def _isolate(lst: deque[Run], nr: int) -> list[Run]:
    """Take up to `nr` pages from the tail, splitting the last run if needed."""
    out: list[Run] = []
    while nr > 0 and lst:
        run = lst[-1]
        if run[0] <= nr:
            lst.pop()
            out.append(run)
            nr -= run[0]
        else:
            run[0] -= nr
            out.append([nr, run[1]])
            nr = 0
    return out


def _merge_at(lst: deque[Run], i: int) -> None:
    """Merge run i into an equal neighbour (keeps conversions from fragmenting the list)."""
    if i + 1 < len(lst) and lst[i + 1][1] == lst[i][1]:
        lst[i + 1][0] += lst[i][0]
        del lst[i]
    elif i > 0 and lst[i - 1][1] == lst[i][1]:
        lst[i - 1][0] += lst[i][0]
        del lst[i]


def putback_queued(lru: AnonLru | GenLru, n: int, flags: int) -> int:
    """Queued folios coming back from a reclaimer: those written while it had them isolated
    come back in their new state (clean, or dirty again), the rest stay queued; the count
    still queued, which the caller adds."""
    written = lru.written_isolated
    if written[CLEAN] or written[0]:
        for new in (CLEAN, 0):
            k = min(n, written[new])
            if k:
                written[new] -= k
                n -= k
                lru.add_inactive_head(k, (flags & ~QUEUED) | new)
    lru.nr_queued += n
    return n


def convert_deepest_queued(lst: deque[Run], queued: int, k: int, flags: int) -> int:
    """Turn up to k pages of the deepest QUEUED run of `lst` into `flags` in place; returns
    how many. `lst` holds `queued` QUEUED pages, which sit near its head: they are counted
    from there to find the deepest run."""
    run = lst[0]
    deepest = 0
    if not (run[1] & QUEUED and run[0] >= queued):  # usually they are one run at the head
        i = 0
        for run in lst:
            if run[1] & QUEUED:
                deepest = i
                queued -= run[0]
                if queued <= 0:
                    break
            i += 1  # noqa: SIM113 - cheaper than enumerate()'s tuple per run, per folio
        run = lst[deepest]
    new = (run[1] & ~QUEUED) | flags
    if run[0] <= k:
        k = run[0]
        run[1] = new
        _merge_at(lst, deepest)
        return k
    # The deeper part is the older one: it becomes a run of its own below the rest, merged
    # into the run below when that one already has the new state.
    run[0] -= k
    below = deepest + 1
    if below < len(lst) and lst[below][1] == new:
        lst[below][0] += k
    else:
        lst.insert(below, [k, new])
    return k


class AnonLru:
    """inactive_anon and active_anon of one lruvec."""

    gen = False  # not lru_gen
    BATCH = 32  # SWAP_CLUSTER_MAX folios per shrink_inactive_list() batch

    __slots__ = ("active", "inactive", "nr_active", "nr_inactive", "nr_queued",
                 "written_isolated")

    def __init__(self) -> None:
        self.inactive: deque[Run] = deque()
        self.active: deque[Run] = deque()
        self.nr_inactive = 0
        self.nr_active = 0
        self.nr_queued = 0  # QUEUED pages on the inactive list
        # QUEUED pages written (to CLEAN) or failed (to 0) while isolated by a reclaimer.
        self.written_isolated = {CLEAN: 0, 0: 0}

    @property
    def pages(self) -> int:
        return self.nr_inactive + self.nr_active

    def add_inactive_head(self, n: int, flags: int) -> None:
        """lru_cache_add() of a new folio, or putback of a kept one."""
        if n <= 0:
            return
        if flags & QUEUED:
            n = putback_queued(self, n, flags)
            if not n:
                return
        lst = self.inactive
        if lst and lst[0][1] == flags:
            lst[0][0] += n
        else:
            lst.appendleft([n, flags])
        self.nr_inactive += n

    def tail_flags(self) -> int:
        """State of the folio the scanner takes next."""
        return self.inactive[-1][1] if self.inactive else 0

    def add_inactive_tail(self, n: int, flags: int) -> None:
        """folio_rotate_reclaimable(): next in line for the scanner."""
        if n <= 0:
            return
        lst = self.inactive
        if lst and lst[-1][1] == flags:
            lst[-1][0] += n
        else:
            lst.append([n, flags])
        self.nr_inactive += n

    def add_active_head(self, n: int, flags: int) -> None:
        """folio_activate() / putback of an activated folio."""
        if n <= 0:
            return
        lst = self.active
        if lst and lst[0][1] == flags:
            lst[0][0] += n
        else:
            lst.appendleft([n, flags])
        self.nr_active += n

    def isolate_inactive(self, nr: int) -> list[Run]:
        """isolate_lru_folios() on the inactive list."""
        out = _isolate(self.inactive, nr)
        self.nr_inactive -= out[0][0] if len(out) == 1 else sum(r[0] for r in out)
        self.nr_queued -= sum(r[0] for r in out if r[1] & QUEUED)
        return out

    def convert_queued(self, k: int, flags: int) -> None:
        """k QUEUED pages were written (flags CLEAN) or failed (0), where they lie on the list.

        The writer (a worker, or kswapd writing the oldest queued folio) ends writeback without
        PG_reclaim, so `folio_end_writeback()` does not rotate the folio: it stays where the
        reclaimer put it back, and the scanner frees it when it gets there. The deepest QUEUED
        pages (queued longest ago) are converted first; pages are otherwise alike.
        """
        if k > self.nr_queued:
            # The rest are isolated by a reclaimer right now; they change state on putback.
            self.written_isolated[flags] += k - self.nr_queued
            k = self.nr_queued
        self.nr_queued -= k
        while k:
            k -= convert_deepest_queued(self.inactive, self.nr_queued + k, k, flags)

    def isolate_tail_run(self, nr: int) -> list[Run]:
        """Up to `nr` pages of the last inactive run only (all in the same state)."""
        run = self.inactive[-1]
        if run[0] <= nr:
            self.inactive.pop()
        else:
            run[0] -= nr
            run = [nr, run[1]]
        self.nr_inactive -= run[0]
        if run[1] & QUEUED:
            self.nr_queued -= run[0]
        return [run]

    def isolate_active(self, nr: int) -> list[Run]:
        out = _isolate(self.active, nr)
        self.nr_active -= sum(r[0] for r in out)
        return out

    def inactive_is_low(self) -> bool:
        """inactive_is_low(): inactive * int_sqrt(10 * GiB) < active."""
        gb = (self.nr_inactive + self.nr_active) * PAGE_SIZE >> 30
        ratio = math.isqrt(10 * gb) if gb else 1
        return self.nr_inactive * ratio < self.nr_active

    def check(self) -> None:
        """Internal consistency: the counts equal the runs (used by tests and at run end)."""
        if sum(r[0] for r in self.inactive) != self.nr_inactive or any(
                r[0] <= 0 for r in self.inactive):
            raise AssertionError("inactive LRU count does not match its runs")
        if sum(r[0] for r in self.active) != self.nr_active or any(
                r[0] <= 0 for r in self.active):
            raise AssertionError("active LRU count does not match its runs")
        if sum(r[0] for r in self.inactive if r[1] & QUEUED) != self.nr_queued:
            raise AssertionError("queued folio count does not match the inactive runs")
