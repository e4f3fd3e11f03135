"""MGLRU (lru_gen): generations, aging, eviction from the oldest, and direct reclaim's goal."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from kcompressd.mm.lru import CLEAN, HOT, QUEUED, YOUNG
from kcompressd.mm.lru_gen import MAX_NR_GENS, MIN_LRU_BATCH, MIN_NR_GENS, GenLru
from kcompressd.mm.system import SWAP_CLUSTER_MAX, ScanControl
from kcompressd.mm.vmscan import DEF_PRIORITY, lru_gen_shrink, shrink_batch, try_to_free_pages
from kcompressd.scenarios import load_scenario
from kcompressd.sim.run import Machine, build


def machine(design: str = "none", *extra: str) -> Machine:
    sets = ["memory.total_mb=4096", "memory.unreclaimable_mb=8", "memory.free_mb=4",
            "swap.disksize_mb=4096", "memory.lru=mglru", "swap.zeromap=false",
            f'design.name="{design}"', *extra]
    m = build(load_scenario("phone-memeater", sets), workload=False)
    m.nodes[0].kswapd_failures = 16  # kswapd stays asleep: the tests reclaim by hand
    return m


def drive(m: Machine, body: Any, until: float, *, kswapd: bool = True,
          name: str = "reclaimer") -> None:
    def run() -> Generator[tuple, Any, None]:
        sc = ScanControl(m.sim.current, m.nodes[0], kswapd=kswapd)
        yield from body(sc)

    m.sim.spawn(name, run())
    m.sim.run(until)


def test_aging_promotes_young_pages_and_eviction_waits_for_it() -> None:
    lru = GenLru()
    lru.add_inactive_head(100, YOUNG)  # faulted: the youngest generation
    assert lru.size[lru.max_seq] == 100
    lru.add_inactive_tail(10, CLEAN)  # rotated: the oldest generation's tail
    assert lru.tail_flags() == CLEAN and lru.isolate_tail_run(64) == [[10, CLEAN]]
    # Only MIN_NR_GENS generations left once the empty oldest ones retire: no eviction.
    assert lru.nr_gens == MIN_NR_GENS and lru.isolate_inactive(64) == []
    assert lru.should_run_aging() == (True, 0)
    assert lru.inc_max_seq() == 100  # the walk visited every mapped page
    assert list(lru.gens[lru.max_seq - 1]) == [[100, 0]]  # young bit cleared by the walk
    # The two youngest generations are never evicted: one more aging first.
    assert lru.isolate_inactive(64) == [] and lru.should_run_aging()[0]
    lru.inc_max_seq()
    assert lru.nr_gens == MIN_NR_GENS + 1
    assert lru.isolate_inactive(64) == [[64, 0]]
    lru.check()


def test_inc_max_seq_folds_the_oldest_generation_at_max() -> None:
    lru = GenLru()
    for seq in range(lru.min_seq, lru.max_seq + 1):
        lru._add(seq, 10, HOT if seq == lru.min_seq else 0)
    assert lru.nr_gens == MAX_NR_GENS
    lru.inc_max_seq()
    assert lru.nr_gens == MAX_NR_GENS and lru.pages == 40
    # The hot pages, promoted by the walk, joined the youngest (now second youngest).
    assert lru.size[lru.max_seq - 1] == 20 and lru.size[lru.max_seq] == 0
    lru.check()


def test_mglru_direct_reclaim_stops_at_the_goal() -> None:
    m = machine()
    node = m.nodes[0]
    target = node.lru.pages >> DEF_PRIORITY
    assert target > 2 * MIN_LRU_BATCH
    out = []

    def body(sc):
        out.append((yield from try_to_free_pages(m.mm, sc, [node])))

    drive(m, body, 0.05, kswapd=False, name="eater0")
    # should_abort_scan(): one eviction batch already reclaimed nr_to_reclaim = 32.
    assert m.mm.vm["pgscan_direct"] == MIN_LRU_BATCH < target
    assert out[0] == m.mm.vm["pgsteal_direct"] == MIN_LRU_BATCH
    assert m.mm.vm["allocstall"] == 1
    m.mm.check()


def test_young_folios_are_kept_into_the_youngest_generation() -> None:
    m = machine()
    lru = m.nodes[0].lru
    m.nodes[0].free -= MIN_LRU_BATCH
    lru.add_inactive_tail(MIN_LRU_BATCH, YOUNG)

    def body(sc):
        yield from shrink_batch(m.mm, sc)
        yield from shrink_batch(m.mm, sc)

    drive(m, body, 0.01)
    assert m.mm.vm["pgsteal_kswapd"] == MIN_LRU_BATCH  # the second batch, not the young ones
    assert lru.gens[lru.max_seq][0] == [MIN_LRU_BATCH, 0]  # kept, promoted, bit cleared
    m.mm.check()


def test_v2_queued_folio_goes_to_the_youngest_generation_unrotated() -> None:
    m = machine("kcompressd-v2", "memory.free_mb=64")  # the worker needs no reclaim
    lru = m.nodes[0].lru
    state = {}

    def body(sc):
        state["freed"] = yield from shrink_batch(m.mm, sc)
        state["youngest"] = [list(r) for r in lru.gens[lru.max_seq]]

    drive(m, body, 1e-3)
    assert state == {"freed": 0, "youngest": [[MIN_LRU_BATCH, QUEUED]]}
    m.sim.run(0.01)
    assert lru.nr_queued == 0 and m.mm.vm["pgrotated"] == 0
    assert list(lru.gens[lru.max_seq]) == [[MIN_LRU_BATCH, CLEAN]]
    m.mm.check()


def test_gfp_noio_skips_unwritten_anon_where_it_lies() -> None:
    m = machine()
    node = m.nodes[0]
    lru = node.lru
    lru.try_to_inc_min_seq()
    lru.add_inactive_tail(MIN_LRU_BATCH, HOT)  # told apart from the rest: young ones
    node.free -= MIN_LRU_BATCH
    oldest = lru.size[lru.min_seq]
    out = []

    def body(sc):
        sc.may_io = False
        out.append((yield from shrink_batch(m.mm, sc)))
        out.append(sc.nr_scanned)
        out.append(list(lru.gens[lru.min_seq][0]))
        t, owed = m.sim.now, sc.pending
        yield from lru_gen_shrink(m.mm, sc, 0, SWAP_CLUSTER_MAX)
        out.append(m.sim.now - t + sc.pending - owed)

    drive(m, body, 0.05, kswapd=False, name="kcompressd0")
    # isolate_folio() refuses them, young or not: not scanned, not written, and spliced back
    # to the head of the oldest generation. scan_folios() then returns 0, and at any priority
    # try_to_shrink_lruvec() stops after that one batch instead of walking the list.
    assert out[:3] == [0, 0, [MIN_LRU_BATCH, HOT]]
    assert 0 < out[3] < 2 * MIN_LRU_BATCH * m.costs.scan
    assert m.mm.vm["pgscan_direct"] == m.mm.vm["pswpout"] == 0
    assert lru.size[lru.min_seq] == oldest
    assert lru.gens[lru.min_seq][-1][1] == 0
    m.mm.check()
