"""The simulator's zram: per-page costs and sizes, sampling, accounting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kcompressd import PAGE_SIZE
from kcompressd.backends.size_classes import size_class_table
from kcompressd.backends.zram_cost import (
    PageSizes,
    ZramCostModel,
    ZramSampler,
    ZramStore,
    corpus_sizes,
    page_sizes,
)

COST = np.array([5e-6, 1e-6, 3e-6, 2e-6])


def measurements() -> PageSizes:
    # a zero page, a 1000-byte page, a huge page, a 2000-byte page
    return PageSizes("lz4", same_filled=np.array([True, False, False, False]),
                     comp_len=np.array([0, 1000, 4000, 2000], dtype=np.int32),
                     zero=np.array([True, False, False, False]))


def test_costs_are_given_and_classes_charged_at_their_rate() -> None:
    model = ZramCostModel(measurements(), COST)
    assert model.cost.tolist() == pytest.approx([0.0, 1e-6, 3e-6, 2e-6])  # same-filled: free
    assert model.huge.tolist() == [False, False, True, False]
    table = size_class_table(8)
    c1000 = table.class_for(1000 + 8)
    assert model.zs_rate[0] == 0  # same-filled: no object
    assert model.zs_rate[1] == pytest.approx(c1000.pages_per_zspage / c1000.objs_per_zspage)
    assert model.zs_rate[2] == 1.0  # huge: one page per object
    assert model.stored_len.tolist() == [0, 1000, PAGE_SIZE, 2000]


def test_sampler_is_deterministic_and_draws_aggregate() -> None:
    model = ZramCostModel(measurements(), COST)
    a, b = ZramSampler(model, 5), ZramSampler(model, 5)
    da = [a.draw(n) for n in (1, 32, 7, 32)]
    assert da == [b.draw(n) for n in (1, 32, 7, 32)]
    d = a.draw(32)
    assert d.n == 32 and 0 <= d.same <= 32 and d.huge <= 32 - d.same
    # Over many draws every page is equally likely: mean cost per page -> corpus mean.
    total = sum(a.draw(32).cost for _ in range(2000))
    assert total / (2000 * 32) == pytest.approx(model.mean_cost, rel=0.03)


def test_store_accounts_like_mm_stat_and_slots_run_out() -> None:
    model = ZramCostModel(measurements(), COST)
    s = ZramSampler(model, 1)
    store = ZramStore(disksize=64 * PAGE_SIZE)
    assert store.get_swap_pages(40) == 40
    assert store.get_swap_pages(40) == 24 and store.slot_alloc_failures == 16
    pages = 0
    for _ in range(2):
        d = s.draw(32)
        need = store.zspages_needed(d)
        assert store.store(d) == need
        pages += need
    st = store.mm_stat()
    assert st["orig_data_size"] == 64 * PAGE_SIZE
    assert st["mem_used_total"] == pages * PAGE_SIZE == st["mem_used_max"]
    assert 0 < st["compr_data_size"] <= 64 * PAGE_SIZE
    assert st["huge_pages"] == st["huge_pages_since"]
    # 64 objects at their class rates, rounded up once: far less than a page each
    assert pages < 64


def test_corpus_sizes_are_cached_and_do_not_depend_on_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = corpus_sizes("builtin:phone", "lz4", 64)
    assert corpus_sizes("builtin:phone", "lz4", 64) is a and len(a) == 64
    assert (a.comp_len[~a.same_filled] > 0).all()
    monkeypatch.setenv("KCOMPRESSD_CACHE", str(tmp_path))
    corpus_sizes.cache_clear()
    b = corpus_sizes("builtin:phone", "lz4", 64)
    assert (b.comp_len == a.comp_len).all() and (b.same_filled == a.same_filled).all()
    assert list(tmp_path.glob("sizes-*-lz4.npz"))


def test_zero_pages_are_told_from_other_same_filled_pages() -> None:
    pages = [bytes(PAGE_SIZE), b"\x01" * PAGE_SIZE, bytes(PAGE_SIZE - 1) + b"\x01",
             bytes(range(256)) * 16]
    sizes = page_sizes(pages, "lz4")
    assert sizes.same_filled.tolist() == [True, True, False, False]
    assert sizes.zero.tolist() == [True, False, False, False]
    rest = sizes.without_zero()
    assert rest.same_filled.tolist() == [True, False, False]
    assert rest.comp_len.tolist() == sizes.comp_len[1:].tolist()


def test_zeromap_draws_follow_the_zero_fraction_and_none_without_one() -> None:
    model = ZramCostModel(measurements(), COST)
    assert sum(ZramSampler(model, 3).zeromap(32) for _ in range(100)) == 0
    a, b = ZramSampler(model, 3, zero_fraction=0.25), ZramSampler(model, 3, zero_fraction=0.25)
    draws = [a.zeromap(n) for n in (1, 32, 100) * 200]
    assert draws == [b.zeromap(n) for n in (1, 32, 100) * 200]  # a seed's stream
    assert all(0 <= z <= n for z, n in zip(draws, (1, 32, 100) * 200, strict=True))
    # 26,600 pages at p = 0.25: mean 6,650, sd 71
    assert 6_300 < sum(draws) < 7_000


def test_zeromap_entries_hold_slots_until_read_and_store_nothing() -> None:
    store = ZramStore(64 * PAGE_SIZE)
    assert store.get_swap_pages(10) == 10
    store.zeromap_set(4)
    assert store.mm_stat()["orig_data_size"] == 0 and store.mem_used_pages == 0
    assert store.slots_used == 10 and store.zeromap_pages == 4
    store.zeromap_read(3)
    assert store.slots_used == 7 and store.zeromap_pages == 1


def test_a_single_page_is_any_corpus_page_equally_likely() -> None:
    n = 2048
    sizes = PageSizes("lz4", np.zeros(n, dtype=bool), np.full(n, 1000, dtype=np.int32),
                      np.zeros(n, dtype=bool))
    s = ZramSampler(ZramCostModel(sizes, np.arange(1, n + 1) * 1e-9), 7)
    seen = np.bincount([round(s.draw(1).cost * 1e9) - 1 for _ in range(40 * n)], minlength=n)
    assert (seen > 0).all()  # every page, not a pool's subset of them
    assert seen.std() < 1.2 * np.sqrt(seen.mean())  # as even as chance makes it (Poisson)
