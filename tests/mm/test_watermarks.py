"""Watermarks as __setup_per_zone_wmarks() computes them."""

from __future__ import annotations

from kcompressd.mm.watermarks import Watermarks, default_min_free_kbytes, setup_per_zone_wmarks


def test_default_min_free_kbytes_is_sqrt_of_16x_lowmem() -> None:
    # 10 GiB: int_sqrt(10485760 * 16) = 12952
    assert default_min_free_kbytes(10 << 18) == 12952
    assert default_min_free_kbytes(1) == 128  # clamped low
    assert default_min_free_kbytes(1 << 40) == 262144  # clamped high


def test_watermark_gap_is_scale_factor_when_it_dominates() -> None:
    managed = 10 << 18  # 2621440 pages
    (w,) = setup_per_zone_wmarks([managed], 12952, 10)
    # min = 12952 KiB / 4 KiB; gap = max(min / 4, managed * 10 / 10000)
    assert w == Watermarks(3238, 3238 + 2621, 3238 + 2 * 2621)


def test_watermark_gap_is_quarter_of_min_when_that_dominates() -> None:
    (w,) = setup_per_zone_wmarks([100000], 65536, 10)
    assert w.min == 16384 and w.low - w.min == 4096 and w.high - w.low == 4096


def test_min_is_shared_in_proportion_to_managed_pages() -> None:
    a, b = setup_per_zone_wmarks([300000, 100000], 4000, 10)
    assert a.min == 750 and b.min == 250
    assert a.low - a.min == 300 and b.low - b.min == 100
