"""The multi-generational LRU (lru_gen, MGLRU) of one node's anon pages, as run-length batches.

Modelled on mm/vmscan.c and include/linux/mm_inline.h (6.12), anon only:

- Generations `min_seq..max_seq` (at most MAX_NR_GENS, at least MIN_NR_GENS), each a list of
  ``[count, flags]`` runs, head on the left; eviction takes from the tail of the oldest.
- `lru_gen_add_folio()`: a folio faulted in (`folio_add_lru()` sets PG_active in a fault), one
  kept or rejected by eviction (`evict_folios()` sets PG_active: "don't add rejected folios to
  the oldest generation") goes to the youngest generation, max_seq; a written folio rotated by
  `folio_rotate_reclaimable()` to the tail of the oldest. (A folio whose write failed would go
  to max_seq - 1, PG_reclaim and dirty; the model puts it with the rejected ones.)
- `scan_folios()` isolates up to MIN_LRU_BATCH folios of the oldest generation, none while
  only MIN_NR_GENS are left; `isolate_folio()` clears PG_referenced, so a young folio is kept
  by `folio_check_references()` and promoted (`lru_gen_look_around()`), never activated twice.
- Aging, `try_to_inc_max_seq()`: the page-table walk clears the accessed bit of every mapped
  page and moves the young ones to max_seq (`folio_update_gen()`), then `inc_max_seq()` opens
  a new youngest generation, first folding the oldest into the next when MAX_NR_GENS are in
  use (`inc_min_seq()`). `should_run_aging()` decides when, as the kernel does.
- `try_to_inc_min_seq()`: empty oldest generations are retired.

Flags are those of `mm.lru` (YOUNG, REF, HOT, CLEAN, QUEUED).
"""

from __future__ import annotations

from collections import deque

from kcompressd.mm.lru import (
    CLEAN,
    HOT,
    QUEUED,
    REF,
    YOUNG,
    Run,
    convert_deepest_queued,
    putback_queued,
)

MIN_NR_GENS, MAX_NR_GENS = 2, 4
MIN_LRU_BATCH = 64  # BITS_PER_LONG


class GenLru:
    """lrugen of one lruvec (anon type only)."""

    gen = True
    BATCH = MIN_LRU_BATCH

    def __init__(self) -> None:
        # lru_gen_init_lruvec(): max_seq = MIN_NR_GENS + 1, min_seq = 0.
        self.min_seq = 0
        self.max_seq = MIN_NR_GENS + 1
        self.gens: dict[int, deque[Run]] = {s: deque() for s in range(self.max_seq + 1)}
        self.size: dict[int, int] = dict.fromkeys(self.gens, 0)
        self.nr_queued = 0
        self.queued_in: dict[int, int] = {}  # QUEUED pages per generation (to find them fast)
        self.written_isolated = {CLEAN: 0, 0: 0}
        self.nr_active = 0  # no active list: inactive_is_low() never holds

    # -- sizes --------------------------------------------------------------------------------
    @property
    def pages(self) -> int:
        return sum(self.size.values())

    @property
    def nr_inactive(self) -> int:
        """Every page is a candidate for eviction once its generation is the oldest."""
        return self.pages

    @property
    def nr_gens(self) -> int:
        return self.max_seq - self.min_seq + 1

    def inactive_is_low(self) -> bool:
        return False

    # -- adding --------------------------------------------------------------------------------
    def _add(self, seq: int, n: int, flags: int) -> None:
        """Add n pages at the head of generation seq."""
        lst = self.gens[seq]
        if lst and lst[0][1] == flags:
            lst[0][0] += n
        else:
            lst.appendleft([n, flags])
        self.size[seq] += n
        if flags & QUEUED:
            self.queued_in[seq] = self.queued_in.get(seq, 0) + n

    def add_inactive_head(self, n: int, flags: int) -> None:
        """A faulted folio, or one kept/rejected by eviction: the youngest generation."""
        if n <= 0:
            return
        flags &= ~REF  # PG_referenced only decided the rejection
        if flags & QUEUED:
            n = putback_queued(self, n, flags)
            if not n:
                return
        self._add(self.max_seq, n, flags)

    def add_active_head(self, n: int, flags: int) -> None:
        """PG_active on putback: the youngest generation."""
        if n > 0:
            self._add(self.max_seq, n, flags & ~REF)

    def add_inactive_tail(self, n: int, flags: int) -> None:
        """folio_rotate_reclaimable(): the tail of the oldest generation (reclaiming)."""
        if n <= 0:
            return
        seq = self.min_seq
        lst = self.gens[seq]
        if lst and lst[-1][1] == flags:
            lst[-1][0] += n
        else:
            lst.append([n, flags])
        self.size[seq] += n
        if flags & QUEUED:
            self.queued_in[seq] = self.queued_in.get(seq, 0) + n

    def putback_skipped(self, n: int, flags: int) -> None:
        """scan_folios(): folios isolate_folio() refused go back to the head of the oldest
        generation (list_splice(&moved, head)), flags unchanged."""
        if n > 0:
            self._add(self.min_seq, n, flags)

    # -- eviction ------------------------------------------------------------------------------
    def tail_flags(self) -> int:
        lst = self.gens[self.min_seq]
        return lst[-1][1] if lst else 0

    def _isolate(self, nr: int, one_run: bool) -> list[Run]:
        """scan_folios(): up to nr folios from the oldest generation's tail."""
        self.try_to_inc_min_seq()
        if self.nr_gens <= MIN_NR_GENS:
            return []
        seq = self.min_seq
        lst = self.gens[seq]
        out: list[Run] = []
        taken = queued = 0
        while nr > 0 and lst:
            run = lst[-1]
            count, flags = run
            if count <= nr:
                lst.pop()
            else:
                count = nr
                run[0] -= nr
            out.append([count, flags & ~REF])  # isolate_folio() clears PG_referenced
            taken += count
            if flags & QUEUED:
                queued += count
            nr -= count
            if one_run:
                break
        self.size[seq] -= taken
        if queued:
            self.nr_queued -= queued
            self.queued_in[seq] -= queued
        self.try_to_inc_min_seq()
        return out

    def isolate_inactive(self, nr: int) -> list[Run]:
        return self._isolate(nr, one_run=False)

    def isolate_tail_run(self, nr: int) -> list[Run]:
        return self._isolate(nr, one_run=True)

    def try_to_inc_min_seq(self) -> None:
        """Retire empty oldest generations, keeping at least MIN_NR_GENS."""
        while self.nr_gens > MIN_NR_GENS and not self.size[self.min_seq]:
            del self.gens[self.min_seq], self.size[self.min_seq]
            self.queued_in.pop(self.min_seq, None)
            self.min_seq += 1

    # -- aging ---------------------------------------------------------------------------------
    def should_run_aging(self) -> tuple[bool, int]:
        """should_run_aging(): (whether to age, nr_to_scan = every page in the generations)."""
        total = self.pages
        if self.min_seq + MIN_NR_GENS > self.max_seq:
            return True, 0
        if self.min_seq + MIN_NR_GENS < self.max_seq:
            return False, total
        young = self.size[self.max_seq]
        old = self.size.get(self.max_seq - MIN_NR_GENS, 0)
        return (young * MIN_NR_GENS > total or old * (MIN_NR_GENS + 2) < total), total

    def inc_max_seq(self) -> int:
        """try_to_inc_max_seq() with the page-table walk; returns the PTEs walked.

        Mapped pages are everything but CLEAN and QUEUED ones (unmapped, in the swap cache).
        Young ones move to max_seq with the accessed bit cleared (HOT pages stay hot: their
        owner touches them again before the next check).
        """
        walked = 0
        young: list[Run] = []
        for seq in range(self.min_seq, self.max_seq + 1):
            lst = self.gens[seq]
            kept: deque[Run] = deque()
            for run in lst:
                if not run[1] & (CLEAN | QUEUED):
                    walked += run[0]
                if run[1] & (YOUNG | HOT) and seq != self.max_seq:
                    young.append([run[0], run[1] & ~YOUNG])
                    self.size[seq] -= run[0]
                else:
                    if run[1] & YOUNG:
                        run[1] &= ~YOUNG
                    kept.append(run)
            self.gens[seq] = kept
        for run in young:
            self._add(self.max_seq, run[0], run[1])
        if self.nr_gens == MAX_NR_GENS:  # inc_min_seq(): fold the oldest into the next
            old = self.gens.pop(self.min_seq)
            n = self.size.pop(self.min_seq)
            self.min_seq += 1
            self.gens[self.min_seq].extend(old)  # list_move_tail: evicted first
            self.size[self.min_seq] += n
            moved = self.queued_in.pop(self.min_seq - 1, 0)
            if moved:
                self.queued_in[self.min_seq] = self.queued_in.get(self.min_seq, 0) + moved
        self.max_seq += 1
        self.gens[self.max_seq] = deque()
        self.size[self.max_seq] = 0
        return walked

    # -- queued folios -------------------------------------------------------------------------
    def convert_queued(self, k: int, flags: int) -> None:
        """k QUEUED pages were written (CLEAN) or failed (0) in place (see AnonLru's).

        The deepest queued folios are converted first: those of the oldest generation that
        holds any, from the deepest of its QUEUED runs up. Queued folios sit near the head of
        the young generations, so each generation's QUEUED runs are found from its head.
        """
        if k > self.nr_queued:
            self.written_isolated[flags] += k - self.nr_queued
            k = self.nr_queued
        self.nr_queued -= k
        queued_in = self.queued_in
        seq = self.min_seq
        while k:
            left = queued_in.get(seq)
            if not left:
                seq += 1
                continue
            done = convert_deepest_queued(self.gens[seq], left, k, flags)
            queued_in[seq] = left - done
            k -= done

    def check(self) -> None:
        for seq, lst in self.gens.items():
            if sum(r[0] for r in lst) != self.size[seq] or any(r[0] <= 0 for r in lst):
                raise AssertionError(f"generation {seq}: count does not match its runs")
        if not MIN_NR_GENS <= self.nr_gens <= MAX_NR_GENS:
            raise AssertionError(f"{self.nr_gens} generations")
        for seq, lst in self.gens.items():
            if sum(r[0] for r in lst if r[1] & QUEUED) != self.queued_in.get(seq, 0):
                raise AssertionError(f"generation {seq}: queued count does not match its runs")
        if sum(self.queued_in.values()) != self.nr_queued:
            raise AssertionError("queued folio count does not match the generations")
