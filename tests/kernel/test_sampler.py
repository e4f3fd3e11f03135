import os
import time

import pytest

from kcompressd.kernel import zram
from kcompressd.kernel.sampler import INTERVAL, MAX_SHARE, RESCAN_TICKS, Sampler, headroom
from kcompressd.trace import Timeline

GIB = 1 << 30


def test_headroom_counts_what_swapping_anon_to_zram_would_win() -> None:
    mi = {"MemAvailable": GIB, "Active(anon)": 2 * GIB, "Inactive(anon)": 2 * GIB}
    mm = {"orig_data_size": 400 << 20, "mem_used_total": 100 << 20}  # ratio 4
    assert headroom(mi, 10 * GIB, mm, planned_ratio=2.0) == GIB + 3 * GIB
    # Swap space bounds it, and an incompressible pool wins nothing.
    assert headroom(mi, GIB, mm, 2.0) == GIB + int(0.75 * GIB)
    assert headroom(mi, 10 * GIB, {"orig_data_size": 1 << 30, "mem_used_total": 1 << 30},
                    2.0) == GIB


def test_headroom_uses_planned_ratio_for_a_small_pool() -> None:
    mi = {"MemAvailable": 0, "Active(anon)": GIB, "Inactive(anon)": 0}
    got = headroom(mi, 10 * GIB, {"orig_data_size": 4096, "mem_used_total": 4096}, 2.0)
    assert got == pytest.approx(GIB / 2)


@pytest.mark.skipif(os.geteuid() != 0 or not zram.zram_available(), reason="needs root and zram")
def test_ticks_fill_the_timeline_with_the_shared_counter_names() -> None:
    timeline = Timeline()
    sampler = Sampler(zram.existing_devices()[0], {"self": os.getpid()}, time.monotonic(), 2.0,
                      timeline)
    first = sampler.tick()
    time.sleep(0.05)
    second = sampler.tick()
    assert second.t > first.t and second.cpu["self"] >= first.cpu["self"]
    assert second.debug_stat["writestall"] >= first.debug_stat["writestall"] >= 0
    for name in ("free_pages", "writeback_pages", "inactive_anon_pages", "active_anon_pages",
                 "zram_mem_used_bytes", "headroom_bytes"):
        assert len(timeline.counters[name]) == 2, name
    for name in ("wmark_min", "wmark_low", "wmark_high"):  # every RESCAN_TICKS ticks
        assert len(timeline.counters[name]) == 1, name
    # Rates need two samples.
    assert len(timeline.counters["pgsteal_kswapd/s"]) == 1
    assert len(timeline.counters["cpu_self"]) == 1
    # The sleep between the ticks blocked this process: a voluntary switch, at least.
    [(_, blocked)] = timeline.counters["nvcsw_self/s"]
    assert blocked > 0 and len(timeline.counters["nivcsw_self/s"]) == 1


@pytest.mark.skipif(os.geteuid() != 0 or not zram.zram_available(), reason="needs root and zram")
def test_a_reclaim_thread_started_mid_run_is_sampled_from_then_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # v1 starts its kcompressd threads on the first offloaded write, after the run began.
    appeared: dict[str, int] = {}
    monkeypatch.setattr("kcompressd.kernel.sampler.reclaim_threads", lambda: dict(appeared))
    sampler = Sampler(zram.existing_devices()[0], {}, time.monotonic(), 2.0, Timeline())
    first = sampler.tick()
    appeared["kcompressd0"] = os.getpid()
    samples = [sampler.tick() for _ in range(RESCAN_TICKS)]
    assert "kcompressd0" not in first.cpu
    assert "kcompressd0" in samples[-1].cpu


@pytest.mark.skipif(os.geteuid() != 0 or not zram.zram_available(), reason="needs root and zram")
def test_slow_ticks_are_spaced_to_take_at_most_their_share_of_a_cpu() -> None:
    sampler = Sampler(zram.existing_devices()[0], {}, time.monotonic(), 2.0, Timeline())
    last = sampler.tick()
    assert sampler.tick_seconds > 0
    sampler.tick_seconds = 0.1  # an emulated guest's tick
    assert sampler.next_tick() == pytest.approx(last.t + 0.1 / MAX_SHARE)
    sampler.tick_seconds = 0.001  # a host's
    assert sampler.next_tick() == pytest.approx(last.t + INTERVAL)
