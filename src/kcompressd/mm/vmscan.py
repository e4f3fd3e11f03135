"""Reclaim: kswapd's balance_pgdat, direct reclaim's try_to_free_pages, and shrink_folio_list.

Modelled on mm/vmscan.c, in batches of SWAP_CLUSTER_MAX pages: one batch is isolated from the
inactive tail, checked (`folio_check_references()`), unmapped and written (`pageout()` ->
`swap_writepage()`, where the offload design decides), and the CPU time of the whole batch is
one work segment of the reclaiming thread. Simplifications: scanning priority is not modelled
(reclaimers scan batch by batch until their goal); pages under writeback are kept off the LRU
until they complete, so a scanner meets them only once nothing else is left on the inactive
list, which is when it throttles (`reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK)`).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from kcompressd.mm.lru import CLEAN, HOT, QUEUED, REF, YOUNG, AnonLru
from kcompressd.mm.lru_gen import GenLru
from kcompressd.mm.node import Node
from kcompressd.mm.system import MAX_RECLAIM_RETRIES, SWAP_CLUSTER_MAX, MemorySystem, ScanControl
from kcompressd.sim.core import RUN, SLEEP, WAIT

DEF_PRIORITY = 12
# A batch that writes nothing (folios kept, activated or already clean) does not end a work
# segment of its own: its cost is carried into the reclaimer's next segment, up to this much
# work, which halves the events of a touch-once workload without moving time by more than that.
DEFER_LIMIT = 50e-6
# Folios that need no writing (kept, activated, or clean and freed by kswapd) are processed up
# to this many at a time when the tail run is all of one such state: the kernel loops over
# them 32 by 32 with the same result, only more events.
BIG_SCAN = 8 * SWAP_CLUSTER_MAX


def shrink_active_list(mm: MemorySystem, node: Node) -> float:
    """Deactivate a batch from the active tail (anon: referenced or not); returns its cost."""
    lru = node.lru
    assert isinstance(lru, AnonLru)  # lru_gen has no active list (its nr_active is 0)
    runs = lru.isolate_active(SWAP_CLUSTER_MAX)
    moved = 0
    for count, flags in runs:
        # folio_referenced() clears the young bits; anon folios are deactivated regardless.
        lru.add_inactive_head(count, flags & ~YOUNG)
        moved += count
    mm.vm["pgrefill"] += moved
    mm.vm["pgdeactivate"] += moved
    return moved * mm.costs.scan


def shrink_batch(mm: MemorySystem, sc: ScanControl, limit: int = BIG_SCAN
                 ) -> Generator[tuple, Any, int]:
    """shrink_inactive_list() + shrink_folio_list() on one batch; returns pages freed.

    At most `limit` pages are scanned (a reclaimer's remaining scan target)."""
    node = sc.node
    lru = node.lru
    costs = mm.costs
    vm = mm.vm
    th = sc.thread
    carried = sc.pending  # already accounted when it was incurred
    sc.pending = 0.0
    cost = 0.0
    if lru.nr_active and lru.inactive_is_low():
        cost += shrink_active_list(mm, node)
    # can_reclaim_anon_pages(): with no free swap slot, anon is not scanned at all.
    if mm.store.slots_used >= mm.store.nr_slots or not lru.nr_inactive:
        runs = []
    else:
        tail = lru.tail_flags()
        if tail & (YOUNG | HOT | QUEUED) or (tail & CLEAN and sc.kswapd):
            runs = lru.isolate_tail_run(min(BIG_SCAN, limit))
        else:
            runs = lru.isolate_inactive(min(lru.BATCH, limit))
    taken = runs[0][0] if len(runs) == 1 else sum(r[0] for r in runs)
    if not taken:
        mm.account_scan(th, cost)
        if cost + carried:
            yield (RUN, cost + carried)
        return 0
    node.isolated += taken
    keep = activate = clean = write = skip = 0
    keep_runs: list[tuple[int, int]] = []
    act_runs: list[tuple[int, int]] = []
    for count, flags in runs:
        if not sc.may_io and not flags & (QUEUED | CLEAN):
            # GFP_NOIO: an anon folio without a swap slot cannot be written. lru_gen's
            # isolate_folio() skips it, back to the head of its generation, not counted as
            # scanned (PGSCAN_SKIP) but walked over at the model's one per-folio scan cost;
            # shrink_folio_list() checks its references first, then keeps it (keep_locked).
            if isinstance(lru, GenLru):
                lru.putback_skipped(count, flags)
                skip += count
                continue
            if not flags & (YOUNG | HOT):
                keep_runs.append((count, flags))
                keep += count
                continue
        if flags & QUEUED:
            # Still locked by its queue: folio_trylock() fails, keep it as it is.
            keep_runs.append((count, flags))
            keep += count
        elif flags & (YOUNG | HOT):
            # folio_check_references(): a young PTE marks the folio; a second reference
            # (PG_referenced already set) activates it, a first one keeps it (look twice).
            if flags & REF:
                act_runs.append((count, (flags | REF) & ~YOUNG))
                activate += count
            else:
                keep_runs.append((count, (flags | REF) & ~YOUNG))
                keep += count
        elif flags & CLEAN:
            clean += count  # written and rotated: __remove_mapping() frees it now
        else:
            write += count
    # add_to_swap(): a slot per folio; without one the folio is activated (activate_locked).
    got = mm.store.get_swap_pages(write) if write else 0
    if got < write:
        act_runs.append((write - got, 0))
        activate += write - got
        vm["swap_alloc_fail"] += write - got
    kswapd = sc.kswapd
    node.isolated -= skip
    scanned = taken - skip
    vm["pgscan_kswapd" if kswapd else "pgscan_direct"] += scanned
    vm["pgscan_anon"] += scanned
    cost += taken * costs.scan + got * costs.unmap
    mm.account_scan(th, cost)
    cost += carried
    # swap_writepage(): a zero-filled folio is set in the swap zeromap and unlocked without
    # writeback, before any design sees it: freed in this pass, no pswpout, no zram object.
    zero = mm.sampler.zeromap(got) if got else 0
    if zero:
        mm.store.zeromap_set(zero)
        vm["swpout_zero"] += zero
    out = got - zero
    design = mm.design
    sync = queued = 0
    d_sync = done = None
    if out:
        vm["pswpout"] += out
        if design.interleaves(sc):
            # shrink_folio_list() unmaps and writes folio by folio: the design charges each
            # page's scan and unmap as it goes (sc.page_cost) between its own steps.
            sc.page_cost = costs.scan + costs.unmap
            cost -= out * sc.page_cost
            if cost > 1e-12:
                yield (RUN, cost)
            cost = 0.0
            sync, queued, done = yield from design.swap_writepage_interleaved(sc, node, out)
        elif design.offloads(sc):
            yield (RUN, cost)  # pages are unmapped before they are handed on
            cost = 0.0
            sync, queued, done = design.swap_writepage(sc, node, out)
        else:
            sync = out  # compressed right here, in the same work segment as the scan
        if sync:
            d_sync = mm.sampler.draw_many(sync)
            cost += d_sync.cost
            mm.account_compress(th, d_sync.cost)
    if got or cost > DEFER_LIMIT:
        if cost:
            yield (RUN, cost)
    else:
        sc.pending = cost  # paid with the next batch (see DEFER_LIMIT)
    # The batch is done: free what was written synchronously, zero-filled or already clean.
    freed = clean + zero
    if d_sync is not None:
        if mm.zram_store(node, d_sync, freed + sync):
            freed += sync
        else:
            mm.store.put_swap_pages(sync)
            act_runs.append((sync, 0))
    if done is not None:
        if mm.zram_store(node, done, freed + done.n):
            freed += done.n
        else:
            mm.store.put_swap_pages(done.n)
            act_runs.append((done.n, 0))
    node.isolated -= scanned - queued
    node.free += freed
    if keep_runs:
        for count, flags in keep_runs:
            lru.add_inactive_head(count, flags)
    if act_runs:
        for count, flags in act_runs:
            lru.add_active_head(count, flags)
    if activate:
        vm["pgactivate"] += activate
    if freed:
        vm["pgsteal_kswapd" if kswapd else "pgsteal_direct"] += freed
        vm["pgsteal_anon"] += freed
        node.kswapd_failures = 0
    sc.nr_reclaimed += freed
    # scan_folios() returns 0 when it isolated nothing, only skipped (GFP_NOIO): its caller,
    # try_to_shrink_lruvec(), stops at this priority instead of walking the whole list.
    if scanned:
        sc.nr_scanned += taken
    return freed


def flush_pending(sc: ScanControl) -> Generator[tuple, Any, None]:
    """Pay for deferred scanning before the reclaimer sleeps or returns."""
    if sc.pending:
        cost, sc.pending = sc.pending, 0.0
        yield (RUN, cost)


def reclaim_throttle(mm: MemorySystem, sc: ScanControl, reason: str
                     ) -> Generator[tuple, Any, None]:
    """reclaim_throttle(): sleep until writeback progresses or the timeout (HZ/10, 1 jiffy)."""
    node, th = sc.node, sc.thread
    yield from flush_pending(sc)
    if reason == "writeback":
        timeout = 0.1
        mm.vm["reclaim_throttle_writeback"] += 1
    else:
        timeout = 1.0 / mm.hz
        mm.vm["reclaim_throttle_noprogress"] += 1
    if not node.throttle_wait:
        node.nr_written = 0
    node.throttle_wait.append(th)
    yield (WAIT, timeout)
    node.throttle_wait.remove(th)


def lru_gen_age(mm: MemorySystem, sc: ScanControl) -> Generator[tuple, Any, bool]:
    """try_to_inc_max_seq() when should_run_aging() says so; the walk costs the reclaimer."""
    lru = sc.node.lru
    assert isinstance(lru, GenLru)
    need, _ = lru.should_run_aging()
    if not need:
        return False
    cost = lru.inc_max_seq() * mm.costs.walk
    mm.account_scan(sc.thread, cost)
    if cost:
        yield (RUN, cost)
    return True


def lru_gen_shrink(mm: MemorySystem, sc: ScanControl, priority: int, goal: int
                   ) -> Generator[tuple, Any, None]:
    """try_to_shrink_lruvec() for global direct reclaim (lru_gen_shrink_node()).

    get_nr_to_scan(): at DEF_PRIORITY no aging, scan total >> priority; below it, a node that
    needs aging is aged and not scanned at this priority. Eviction batch by batch until that
    many are scanned or should_abort_scan(): nr_reclaimed reached nr_to_reclaim. Unlike the
    classic LRU there is no proportional full-target pass at DEF_PRIORITY.
    """
    lru = sc.node.lru
    assert isinstance(lru, GenLru)
    scanned = 0
    while True:
        need, total = lru.should_run_aging()
        if need and priority != DEF_PRIORITY:
            yield from lru_gen_age(mm, sc)
            return
        nr_to_scan = total >> priority
        if nr_to_scan <= 0:
            return
        before = sc.nr_scanned
        yield from shrink_batch(mm, sc)
        delta = sc.nr_scanned - before
        if not delta:
            return
        scanned += delta
        if scanned >= nr_to_scan or sc.nr_reclaimed >= goal:
            return


def kswapd(mm: MemorySystem, node: Node) -> Generator[tuple, Any, None]:
    """kswapd(): sleep until woken below the low watermark, then balance_pgdat()."""
    th = mm.sim.current
    assert th is not None
    sc = ScanControl(th, node, kswapd=True)
    while True:
        while node.pgdat_balanced() or node.kswapd_failures >= MAX_RECLAIM_RETRIES:
            mm.wake_pfmemalloc_waiters(node)
            yield SLEEP
        mm.slice_begin(th, "balance_pgdat")
        yield from balance_pgdat(mm, sc)
        yield from flush_pending(sc)
        mm.slice_end(th)


def balance_pgdat(mm: MemorySystem, sc: ScanControl) -> Generator[tuple, Any, None]:
    """Reclaim batch by batch until the node is above its high watermark.

    A pass that scans the whole LRU without freeing a page counts one kswapd failure (the
    kernel's check after the lowest priority); MAX_RECLAIM_RETRIES failures stop kswapd until a
    reclaimer makes progress again.
    """
    node = sc.node
    scanned_no_progress = 0
    while not node.pgdat_balanced():
        if node.lru.gen:
            yield from lru_gen_age(mm, sc)  # kswapd_age_node()
        before = sc.nr_scanned
        freed = yield from shrink_batch(mm, sc)
        scanned = sc.nr_scanned - before
        mm.wake_pfmemalloc_waiters(node)
        if freed:
            scanned_no_progress = 0
            continue
        if not scanned:
            if node.writeback:
                yield from reclaim_throttle(mm, sc, "writeback")
                continue
            node.kswapd_failures += 1
            return
        scanned_no_progress += scanned
        if scanned_no_progress > node.lru.pages + SWAP_CLUSTER_MAX:
            node.kswapd_failures += 1
            return


def try_to_free_pages(mm: MemorySystem, sc: ScanControl, zonelist: Sequence[Node]
                      ) -> Generator[tuple, Any, int]:
    """do_try_to_free_pages(): reclaim SWAP_CLUSTER_MAX pages in the caller's context.

    For priorities DEF_PRIORITY..0, shrink_zones() goes over the zonelist (local node first);
    shrink_lruvec() scans each node's inactive anon target, lru size >> priority
    (get_scan_count(), SCAN_ANON: there are no file pages), SWAP_CLUSTER_MAX at a time. Global
    direct reclaim at DEF_PRIORITY scans its whole target ("proportional_reclaim": kswapd is not
    keeping up, so do a batch of work at once); at lower priorities shrink_lruvec() stops once
    nr_to_reclaim = SWAP_CLUSTER_MAX are freed, and do_try_to_free_pages() stops after any
    priority that got there. With no progress at the end a direct reclaimer is throttled for
    a jiffy (VMSCAN_THROTTLE_NOPROGRESS) when writeback dominates.
    """
    mm.vm["allocstall"] += 1
    th = sc.thread
    mm.slice_begin(th, "try_to_free_pages")
    goal = sc.nr_reclaimed + SWAP_CLUSTER_MAX
    first = sc.nr_reclaimed
    for priority in range(DEF_PRIORITY, -1, -1):
        for node in zonelist:
            sc.node = node
            if node.lru.gen:
                yield from lru_gen_shrink(mm, sc, priority, goal)
                if sc.nr_reclaimed >= goal:
                    break
                continue
            budget = node.lru.nr_inactive >> priority
            whole = priority == DEF_PRIORITY  # proportional_reclaim in shrink_lruvec()
            scanned = 0
            while scanned < budget and (whole or sc.nr_reclaimed < goal):
                before = sc.nr_scanned
                yield from shrink_batch(mm, sc, budget - scanned)
                step = sc.nr_scanned - before
                if not step:  # only pages under writeback are left to scan
                    if node.writeback:
                        yield from reclaim_throttle(mm, sc, "writeback")
                    break
                scanned += step
            if sc.nr_reclaimed >= goal:
                break
        if sc.nr_reclaimed >= goal:
            break
    node = sc.node = zonelist[0]
    yield from flush_pending(sc)
    progress = sc.nr_reclaimed - first
    # consider_reclaim_throttle() / skip_throttle_noprogress(): only while kswapd still works
    # and pages under writeback exceed half of what is reclaimable.
    if (not progress and node.kswapd_failures < MAX_RECLAIM_RETRIES
            and 2 * node.writeback > node.lru.pages):
        yield from reclaim_throttle(mm, sc, "noprogress")
    mm.slice_end(th)
    return progress
