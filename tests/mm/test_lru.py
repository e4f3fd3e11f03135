"""The run-length anon LRU: merging, isolation from the tail, inactive_is_low()."""

from __future__ import annotations

from kcompressd.mm.lru import CLEAN, REF, YOUNG, AnonLru


def test_adjacent_runs_with_equal_flags_merge() -> None:
    lru = AnonLru()
    for _ in range(1000):
        lru.add_inactive_head(32, YOUNG)
    assert lru.nr_inactive == 32000 and len(lru.inactive) == 1
    lru.add_inactive_head(5, REF)
    lru.add_inactive_tail(7, CLEAN)
    lru.add_inactive_tail(1, CLEAN)
    assert [r[1] for r in lru.inactive] == [REF, YOUNG, CLEAN]
    assert lru.inactive[-1][0] == 8
    lru.check()


def test_isolate_takes_from_the_tail_and_splits_runs() -> None:
    lru = AnonLru()
    lru.add_inactive_head(10, REF)  # oldest
    lru.add_inactive_head(50, YOUNG)
    taken = lru.isolate_inactive(32)
    assert taken == [[10, REF], [22, YOUNG]]
    assert lru.nr_inactive == 28 and lru.inactive[-1] == [28, YOUNG]
    assert lru.isolate_tail_run(100) == [[28, YOUNG]]
    assert lru.nr_inactive == 0
    lru.check()


def test_inactive_is_low_uses_the_sqrt_ratio() -> None:
    gib = 1 << 18  # pages
    lru = AnonLru()
    lru.add_active_head(20 * gib, 0)
    lru.add_inactive_head(1 * gib, 0)  # 21 GiB: ratio int_sqrt(210) = 14; 14 < 20
    assert lru.inactive_is_low()
    lru.add_inactive_head(1 * gib, 0)  # 22 GiB: ratio 14; 28 > 20
    assert not lru.inactive_is_low()
    small = AnonLru()
    small.add_active_head(1000, 0)
    small.add_inactive_head(999, 0)  # under 1 GiB the ratio is 1
    assert small.inactive_is_low()
    small.add_inactive_head(1, 0)
    assert not small.inactive_is_low()
