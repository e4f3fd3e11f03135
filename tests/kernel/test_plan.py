import pytest

from kcompressd.corpus.synth import synth_pages
from kcompressd.errors import KcompressdError
from kcompressd.kernel.plan import GIB, make_plan, safety_floor, zram_ratio
from kcompressd.kernel.workload import CHUNK_BYTES

MEMINFO = {"MemTotal": 24 * GIB, "MemAvailable": 22 * GIB, "Hugepagesize": 2 << 20}


def plan(**kw):
    args = {"size": None, "threads": 2, "algorithm": "lz4", "ratio": 3.0, "ratio_codec": "lz4",
            "duration": 30.0, **kw}
    return make_plan(MEMINFO, **args)


def test_auto_plan_overshoots_play_and_keeps_the_floor() -> None:
    p = plan()
    floor = safety_floor(MEMINFO["MemTotal"])
    assert floor == max(GIB, MEMINFO["MemTotal"] // 20)
    assert p.overshoot == pytest.approx(1.5, rel=1e-3)
    # Steady state: resident anon R = play (r - k) / (r - 1); headroom R (1 - 1/r) >= 1.5 F.
    resident = p.play * (3.0 - 1.5) / 2.0
    assert resident * (1 - 1 / 3.0) == pytest.approx(1.5 * floor, rel=1e-3)
    assert p.balloon_pages * p.hugepage_size + p.play <= MEMINFO["MemAvailable"]
    assert p.per_eater % CHUNK_BYTES == 0 and p.workload == 2 * p.per_eater
    assert p.prefill * p.threads < p.play
    assert p.zram_disksize >= p.workload


def test_a_lab_guest_keeps_its_dentries_a_host_run_does_not_touch_them() -> None:
    assert plan(disposable=True).sysctls == {"vm.page-cluster": 0, "vm.vfs_cache_pressure": 0}
    assert plan().sysctls == {"vm.page-cluster": 0}


def test_poorly_compressing_corpus_overshoots_less_or_is_refused() -> None:
    assert plan(ratio=1.6).overshoot == pytest.approx(1.3, rel=1e-3)
    with pytest.raises(KcompressdError, match=r"compresses only 1\.05:1"):
        plan(ratio=1.05)


def test_size_is_the_workload_and_too_small_or_too_big_is_refused() -> None:
    assert plan(size=12).workload == pytest.approx(12 * GIB, abs=2 * CHUNK_BYTES)
    with pytest.raises(KcompressdError, match="does not overshoot"):
        plan(size=1)
    with pytest.raises(KcompressdError, match="not enough memory"):
        plan(size=40)


def test_ratio_of_synthetic_pages_is_plausible() -> None:
    ratio, codec = zram_ratio(synth_pages("phone", 256, seed=1), "lzo-rle", ["lz4"])
    assert codec == "lz4"  # lzo unavailable here: measured with lz4
    assert 1.2 < ratio < 20
    assert zram_ratio([bytes(4096)] * 4 + [bytes(range(256)) * 16] * 4, "lz4", ["lz4"])[0] > 8
