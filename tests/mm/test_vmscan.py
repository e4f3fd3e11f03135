"""Reclaim mechanics on a small machine driven by hand (no workload threads)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest

from kcompressd.mm.lru import CLEAN, QUEUED, REF, YOUNG, AnonLru
from kcompressd.mm.node import Node, PageConservationError
from kcompressd.mm.system import ScanControl
from kcompressd.mm.vmscan import shrink_batch
from kcompressd.scenarios import load_scenario
from kcompressd.sim.run import Machine, build

# The classic LRU's mechanics; every written page reaches zram (see the zeromap's own test).
SMALL = ["memory.total_mb=64", "memory.unreclaimable_mb=8", "memory.free_mb=8",
         "swap.disksize_mb=64", "memory.lru=classic", "swap.zeromap=false"]


def machine(design: str = "none", *extra: str) -> Machine:
    m = build(load_scenario("phone-memeater", [*SMALL, f'design.name="{design}"', *extra]),
              workload=False)
    node = m.nodes[0]
    # Every anon page a write candidate: referenced long ago, no young PTE.
    anon = node.lru.nr_inactive
    node.lru = AnonLru()
    node.lru.add_inactive_head(anon, 0)
    return m


def drive(m: Machine, body: Callable[[ScanControl], Generator[tuple, Any, None]],
          until: float, *, kswapd: bool = True, name: str = "reclaimer") -> None:
    def run() -> Generator[tuple, Any, None]:
        sc = ScanControl(m.sim.current, m.nodes[0], kswapd=kswapd)
        yield from body(sc)

    m.sim.spawn(name, run())
    m.sim.run(until)


def test_sync_writes_free_pages_in_the_same_pass() -> None:
    m = machine("none")
    node = m.nodes[0]
    free0 = node.free
    got = []

    def body(sc):
        got.append((yield from shrink_batch(m.mm, sc)))

    drive(m, body, 0.01)
    assert got == [32]
    assert m.mm.vm["pgsteal_kswapd"] == 32 and m.mm.vm["pswpout"] == 32
    assert m.mm.vm["pgrotated"] == 0 and node.writeback == 0
    # Freed 32 pages, minus what zsmalloc took for their compressed copies.
    assert node.free == free0 + 32 - node.zs_pages
    m.mm.check()


def test_zero_filled_folios_skip_zram_and_the_design_and_are_freed_at_once() -> None:
    m = machine("kcompressd", "swap.zeromap=true", "design.depth=256")
    vm = m.mm.vm
    got = []

    def body(sc):
        for _ in range(6):  # 192 folios, fewer than the queue holds
            got.append((yield from shrink_batch(m.mm, sc)))

    drive(m, body, 30e-3)
    zero = vm["swpout_zero"]
    assert 0 < zero < 192 // 4  # the builtin corpus is 8% zero pages
    # Only the zeromap's folios are freed in kswapd's pass; the rest were queued to the
    # worker, which stored them and counted nothing zero-filled in zram.
    assert sum(got) == zero == vm["pgsteal_kswapd"]
    assert vm["pswpout"] == 192 - zero == vm["kcompressd_queued"]
    assert m.mm.store.zeromap_pages == zero
    assert m.mm.store.same_pages < m.mm.store.pages_stored * 0.08  # other same-filled only
    assert m.mm.store.slots_used == 192
    m.mm.check()


def test_a_zeromap_swap_in_reads_nothing_from_zram() -> None:
    m = machine("none", "swap.zeromap=true", "workload.region_mb=16", "workload.alloc_mb=0")
    mm = m.mm
    store = mm.store
    store.get_swap_pages(100)
    store.zeromap_set(100)  # only zeromap entries in swap
    assert mm.swap_in(40) == 0.0  # nothing decompressed
    assert mm.vm["swpin_zero"] == 40 and mm.vm["pswpin"] == 0
    assert store.zeromap_pages == 60 and store.slots_used == 60
    store.get_swap_pages(60)  # as many entries again, written to zram
    cost = mm.swap_in(60)
    assert 0 < mm.vm["swpin_zero"] - 40 < 60 and mm.vm["pswpin"] > 0 and cost > 0
    assert mm.vm["swpin_zero"] + mm.vm["pswpin"] == 100


def test_v1_pages_stay_under_writeback_until_written_then_rotate_to_the_tail() -> None:
    m = machine("kcompressd-v1")
    node = m.nodes[0]
    free0 = node.free
    state = {}

    def body(sc):
        state["first"] = yield from shrink_batch(m.mm, sc)
        state["writeback"] = node.writeback
        state["free"] = node.free

    drive(m, body, 30e-6)  # its scan and unmap take ~24 µs; the worker needs ~70 µs
    # Queued to kcompressd: nothing freed, pages under writeback still count as used.
    assert state == {"first": 0, "writeback": 32, "free": free0}
    assert m.mm.vm["pgsteal_kswapd"] == 0
    m.sim.run(0.01)  # kcompressd0 compresses them
    assert node.writeback == 0
    assert m.mm.vm["pgrotated"] == 32
    assert node.lru.inactive[-1] == [32, CLEAN]  # folio_rotate_reclaimable(): the tail
    assert node.free == free0 - node.zs_pages  # still not freed
    m.mm.check()

    def again(sc):
        state["second"] = yield from shrink_batch(m.mm, sc)

    drive(m, again, 0.02)
    assert state["second"] == 32  # the next scan frees them without writing again
    assert m.mm.vm["pgsteal_kswapd"] == 32 and m.mm.vm["pswpout"] == 32
    assert m.mm.vm["pgscan_kswapd"] == 64
    m.mm.check()


def test_v2_folio_returns_to_the_head_unrotated_and_is_freed_on_the_next_pass() -> None:
    m = machine("kcompressd-v2")
    node = m.nodes[0]
    lru = node.lru
    free0 = node.free
    state = {}

    def body(sc):
        state["first"] = yield from shrink_batch(m.mm, sc)
        state["head"] = list(lru.inactive[0])

    drive(m, body, 30e-6)
    # swap_writepage() queued them locked, before writeback: kept, back at the inactive head.
    assert state == {"first": 0, "head": [32, QUEUED]}
    assert node.writeback == 0 and lru.nr_queued == 32
    m.sim.run(0.01)  # kcompressd0 writes them one by one: clean in place, not rotated
    assert m.mm.vm["pgrotated"] == 0 and lru.nr_queued == 0
    assert lru.inactive[0] == [32, CLEAN] and lru.inactive[-1][1] == 0
    assert node.free == free0 - node.zs_pages
    # The scanner reaches them only after the rest of the inactive list.
    rest = lru.nr_inactive - 32

    def second_pass(sc):
        while sc.nr_scanned < rest + 32:
            yield from shrink_batch(m.mm, sc)

    # A direct reclaimer (it writes synchronously, so nothing new is queued) goes over the list.
    drive(m, second_pass, 5.0, kswapd=False, name="eater0")
    assert m.mm.vm["pgsteal_direct"] == rest + 32
    assert m.mm.vm["pswpout"] == rest + 32  # the queued ones were freed without writing again
    m.mm.check()


def test_young_pages_are_kept_then_reclaimed_and_rereferenced_ones_activated() -> None:
    m = machine("none")
    node = m.nodes[0]
    lru = node.lru
    lru.isolate_inactive(64)  # make room for the pattern below at the tail
    node.free += 64
    lru.add_inactive_tail(32, YOUNG)
    lru.add_inactive_tail(32, YOUNG | REF)
    out = []

    def body(sc):
        out.append((yield from shrink_batch(m.mm, sc)))  # YOUNG|REF: activated
        out.append((yield from shrink_batch(m.mm, sc)))  # YOUNG: kept, PG_referenced set
        yield from shrink_batch(m.mm, sc)  # flushes the deferred work

    drive(m, body, 0.01)
    assert out == [0, 0]
    assert m.mm.vm["pgactivate"] == 32
    assert lru.nr_active == 32
    assert lru.inactive[0] == [32, REF]  # back at the head, referenced once


def test_direct_reclaim_counts_allocstall_and_stall() -> None:
    m = machine("none")
    node = m.nodes[0]
    from kcompressd.mm.page_alloc import alloc_pages

    node.lru.add_inactive_head(node.free - node.wmark.min - 20, 0)
    node.free = node.wmark.min + 20  # taking 32 would cross min: the allocation reclaims
    m.mm.measuring = True

    def body(sc):
        yield from alloc_pages(m.mm, [node], 32)

    drive(m, body, 0.01, kswapd=False, name="eater0")
    assert m.mm.vm["allocstall"] == 1
    assert m.mm.vm["pgsteal_direct"] >= 32
    assert len(m.mm.stall_us) == 1 and m.mm.stall_us[0] > 0
    m.mm.check()


def test_swap_full_means_no_anon_scan_and_oom() -> None:
    m = machine("none", "swap.disksize_mb=1")  # 256 slots
    node = m.nodes[0]
    from kcompressd.mm.page_alloc import OutOfMemory, alloc_pages

    node.lru.add_inactive_head(node.free, 0)
    node.free = 0
    m.mm.measuring = True
    raised = []

    def body(sc):
        try:
            while True:
                yield from alloc_pages(m.mm, [node], 32)
        except OutOfMemory:
            raised.append(True)

    drive(m, body, 5.0, kswapd=False, name="eater0")
    assert raised == [True]
    assert m.mm.vm["oom_kill"] == 0  # counted by the killer (the workload), not here
    assert m.mm.store.slots_used == m.mm.store.nr_slots == 256


def test_conservation_violation_raises() -> None:
    m = machine("none")
    m.mm.check()
    node: Node = m.nodes[0]
    node.free += 1
    with pytest.raises(PageConservationError, match="node 0"):
        m.mm.check()


def test_reclaimer_meeting_only_writeback_is_throttled_until_it_completes() -> None:
    from kcompressd.sim.core import SLEEP

    m = machine("kcompressd-v1", "design.threads=1")
    node = m.nodes[0]

    def idle():
        while True:
            yield SLEEP

    m.design.workers = [m.sim.spawn("idle", idle())]  # nobody compresses
    # Only 64 anon pages left on the LRU, and the node below its high watermark: kswapd0
    # runs balance_pgdat() from the start.
    extra = node.lru.nr_inactive - 64
    node.lru.isolate_inactive(extra)
    node.free += extra
    node.unreclaimable += node.free - (node.wmark.high - 100)
    node.free = node.wmark.high - 100
    m.mm.check()
    m.sim.run(0.01)
    # Both batches went to kcompressd's fifo; then only writeback was left to scan.
    assert node.writeback == 64 and node.lru.nr_inactive == 0
    assert m.mm.vm["reclaim_throttle_writeback"] == 1
    assert [t.name for t in node.throttle_wait] == ["kswapd0"]
    d = m.mm.sampler.draw(32)
    m.design.fifos[0].take(64)
    m.mm.end_writeback(node, 32, d)  # 32 written: not more than 32 per waiter yet
    m.sim.run(0.011)
    assert node.throttle_wait
    m.mm.end_writeback(node, 32, d)
    m.sim.run(0.02)  # woken early (acct_reclaim_writeback), long before HZ/10
    assert not node.throttle_wait
    assert m.mm.vm["pgsteal_kswapd"] > 0  # and it frees the rotated pages
    m.mm.check()


def test_direct_reclaim_waits_for_kswapd_below_half_min() -> None:
    from kcompressd.mm.page_alloc import alloc_pages

    m = machine("none")
    node = m.nodes[0]
    low = node.wmark.min // 2 - 1
    node.lru.add_inactive_head(node.free - low, 0)
    node.free = low  # PF_MEMALLOC users took it below half of min
    out = []

    def body(sc):
        yield from alloc_pages(m.mm, [node], 32)
        out.append(m.sim.now)

    drive(m, body, 0.05, kswapd=False, name="eater0")
    assert m.mm.vm["pfmemalloc_throttle"] >= 1
    assert m.mm.vm["pgsteal_kswapd"] > 0  # kswapd reclaimed while the eater waited
    assert out  # and then the allocation went through
    m.mm.check()


def test_classic_direct_reclaim_scans_its_whole_target_at_def_priority() -> None:
    from kcompressd.mm.vmscan import DEF_PRIORITY, try_to_free_pages

    m = machine("none", "memory.total_mb=2048", "memory.free_mb=4", "swap.disksize_mb=2048")
    node = m.nodes[0]
    target = node.lru.nr_inactive >> DEF_PRIORITY
    assert target > 3 * 32
    out = []

    def body(sc):
        out.append((yield from try_to_free_pages(m.mm, sc, [node])))

    drive(m, body, 0.05, kswapd=False, name="eater0")
    # shrink_lruvec(): proportional_reclaim at DEF_PRIORITY does not stop at 32 reclaimed.
    assert m.mm.vm["pgscan_direct"] == target
    assert out[0] == m.mm.vm["pgsteal_direct"] == target > 32
    assert m.mm.vm["allocstall"] == 1


def test_a_worker_without_pf_memalloc_enters_direct_reclaim() -> None:
    def run(memalloc: int) -> dict[str, int]:
        m = machine("kcompressd", "design.depth=32", "design.overflow=1",
                    f"design.memalloc={memalloc}")
        node = m.nodes[0]
        # Below the min watermark: zs_malloc() without PF_MEMALLOC must reclaim first, and
        # with GFP_NOIO it can free only folios already written (clean, at the head here).
        low = node.wmark.min - 1
        node.lru.add_inactive_head(node.free - low, CLEAN)
        node.free = low
        node.kswapd_failures = 16  # keep kswapd out of it
        m.mm.measuring = True

        def body(sc):
            yield from shrink_batch(m.mm, sc)

        drive(m, body, 0.05)
        m.mm.check()
        return {"stalls": len(m.mm.stall_us), **{k: m.mm.vm[k] for k in (
            "allocstall", "zram_writestall", "kcompressd_written")}}

    without = run(0)
    assert without["zram_writestall"] >= 1 and without["allocstall"] >= 1
    assert without["stalls"] == 0  # a kernel thread's reclaim: not the workload's stall
    assert without["kcompressd_written"] == 32
    with_memalloc = run(1)
    assert with_memalloc["zram_writestall"] == with_memalloc["allocstall"] == 0
    assert with_memalloc["kcompressd_written"] == 32


def test_a_noio_reclaim_that_can_do_nothing_does_not_spin() -> None:
    m = machine("kcompressd", "design.depth=32", "design.memalloc=0")
    node = m.nodes[0]
    node.free = node.wmark.min - 1  # the worker's first zs_malloc() fails
    node.kswapd_failures = 16  # keep kswapd out of it

    def body(sc):
        yield from shrink_batch(m.mm, sc)  # 32 folios queued, each with its slot
        m.mm.store.slots_used = m.mm.store.nr_slots  # then no slot left: nothing to scan for

    drive(m, body, 0.05)  # returns: the worker's passes take no time, so it stops retrying
    assert m.mm.vm["zram_writestall"] >= 1 and m.mm.vm["kcompressd_written"] == 32


def test_gfp_noio_reclaim_keeps_unwritten_anon_and_frees_written_folios() -> None:
    def run(may_io: bool) -> tuple[dict[str, int], int]:
        m = machine("none")
        lru = m.nodes[0].lru
        lru.add_inactive_tail(40, CLEAN)  # written and clean in the swap cache, at the tail
        m.nodes[0].free -= 40
        before = lru.nr_inactive

        def body(sc):
            sc.may_io = may_io
            for _ in range(3):
                yield from shrink_batch(m.mm, sc)

        drive(m, body, 0.05, kswapd=False, name="kcompressd0")
        m.mm.check()
        return ({k: m.mm.vm[k] for k in ("pgscan_direct", "pgsteal_direct", "pswpout")},
                before - lru.nr_inactive)

    # zram's GFP_NOIO zs_malloc(): shrink_folio_list() looks at 96 folios, frees the 40
    # already written and keeps the 56 others (keep_locked), back on the inactive list.
    noio, gone = run(False)
    assert noio == {"pgscan_direct": 96, "pgsteal_direct": 40, "pswpout": 0} and gone == 40
    io, gone = run(True)
    assert io == {"pgscan_direct": 96, "pgsteal_direct": 96, "pswpout": 56} and gone == 96


def test_allow_direct_reclaim_once_kswapd_has_given_up() -> None:
    from kcompressd.mm.page_alloc import alloc_pages

    m = machine("none")
    node = m.nodes[0]
    low = node.wmark.min // 2 - 1
    node.lru.add_inactive_head(node.free - low, 0)
    node.free = low
    node.kswapd_failures = 16  # kswapd gave up: nobody would wake pfmemalloc_wait
    out = []

    def body(sc):
        yield from alloc_pages(m.mm, [node], 32)
        out.append(m.sim.now)

    drive(m, body, 0.05, kswapd=False, name="eater0")
    assert m.mm.vm["pfmemalloc_throttle"] == 0  # not throttled: reclaims at once
    assert m.mm.vm["pgsteal_direct"] > 0 and out
    m.mm.check()
