"""The region eater: `kcompressd bench`'s eaters in the simulator (new pages, then revisits that
fault swapped-out pages back)."""

from __future__ import annotations

import pytest

from kcompressd.backends.zram_cost import Draw, ZramStore
from kcompressd.mm.workload import Region, periodic_load
from kcompressd.scenarios import load_scenario
from kcompressd.sim.core import RUN, Sim
from kcompressd.sim.run import simulate

MB = 1 << 20
# 2 CPUs, 192 MiB in play: the eaters' prefill on the LRU, the rest free (as the bench plans).
MACHINE = ["memory.total_mb=256", "memory.unreclaimable_mb=64", "memory.lru=classic",
           "swap.disksize_mb=512", "machine.cpus=2",
           "machine.big_cpus=-1", "workload.alloc_mb=0", "workload.threads=2",
           "workload.touch_us=1.0", "workload.revisit_us=0.3", "workload.fault_us=0.8",
           "run.warmup_s=0", "run.duration_s=1.0"]


def run(region_mb: int, prefill_mb: int, design: str = "none") -> dict:
    sets = [*MACHINE, f"workload.region_mb={region_mb}", f"workload.prefill_mb={prefill_mb}",
            f"memory.free_mb={192 - 2 * prefill_mb}"]
    return simulate(load_scenario("phone-memeater", sets), design=design).result


def test_prefilled_regions_interleave_in_lru_order() -> None:
    a, b = Region.prefilled(256, 96, 0, 2), Region.prefilled(256, 96, 1, 2)
    assert list(a.seq[:4]) == [0, 64, 128, -1] and list(b.seq[:4]) == [32, 96, 160, -1]
    assert a.pos == b.pos == 3  # the first batch not yet written


def test_a_region_larger_than_memory_faults_its_pages_back() -> None:
    r = run(region_mb=160, prefill_mb=80)  # 2 x 160 MiB in 192 MiB
    vm = r["vmstat"]
    assert vm["pswpin"] > 0 and vm["pswpout"] > vm["pswpin"]
    # What zram holds is what went out and did not come back (same-filled pages included),
    # but for the batches still being written when the run stopped (pswpout counts a page
    # when it gets its slot): at most one batch per reclaimer (kswapd and two eaters).
    in_flight = vm["pswpout"] - vm["pswpin"] - r["zram"]["orig_data_size"] // 4096
    assert 0 <= in_flight <= 3 * 32
    assert r["latency"]["count"] > 0  # chunks timed, as the bench's eaters time theirs


def test_a_region_that_fits_is_revisited_without_faults() -> None:
    r = run(region_mb=80, prefill_mb=80)  # 2 x 80 MiB in 192 MiB: resident after the prefill
    assert r["vmstat"].get("pswpin", 0) == 0 and r["vmstat"].get("pswpout", 0) == 0
    assert r["rates"].get("allocstall", 0) == 0
    # Two eaters, a CPU each for 1 s, revisiting at 0.3 µs a page: the bench's progress count
    assert r["workload"]["pages_written"] == pytest.approx(2 * 1.0 / 0.3e-6, rel=0.01)


def test_freeing_objects_gives_zsmalloc_pages_back() -> None:
    store = ZramStore(64 * MB)
    d = Draw(n=32, cost=0.0, same=2, huge=1, compr_bytes=40_000, zs_pages=10.5)
    store.slots_used = store.get_swap_pages(64)
    store.store(d)
    store.store(d)
    assert store.mem_used_pages == 21
    assert store.free(d) == 10 and store.mem_used_pages == 11
    assert (store.pages_stored, store.compr_data_size, store.same_pages, store.huge_pages,
            store.slots_used) == (32, 40_000, 2, 1, 32)


def test_a_periodic_process_starts_its_bursts_on_its_own_cadence() -> None:
    # The bench's sampler: a burst every period from its first, however long each burst
    # waited for the CPU behind a hog, and its share of one CPU in all.
    sim = Sim([1.0], context_switch=0.0)
    starts: list[float] = []

    def recorded():
        gen = periodic_load(sim, 0.05, 0.1)
        value = None
        while True:
            action = gen.send(value)
            if action[0] == RUN:
                starts.append(sim.now)
            value = yield action

    def hog():
        while True:
            yield (RUN, 300e-6)

    sampler = sim.spawn("sampler", recorded(), mm="sampler")
    sim.spawn("hog", hog(), mm="hog")
    sim.run(2.0)
    assert len(starts) == 20
    # Woken every 0.1 s (its timer); inside the hog's slice it waits for the next tick.
    assert all(-1e-9 <= t - 0.1 * k <= 4e-3 + 1e-9 for k, t in enumerate(starts))
    assert sampler.cpu_time == pytest.approx(0.05 * 2.0, rel=0.02)
