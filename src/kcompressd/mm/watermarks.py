"""Zone watermarks as `__setup_per_zone_wmarks()` (mm/page_alloc.c) computes them.

Each simulated node has one zone (ZONE_NORMAL); lowmem_reserve and the promo watermark are
not modelled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from kcompressd import PAGE_SIZE

PAGE_SHIFT = PAGE_SIZE.bit_length() - 1


@dataclass(frozen=True)
class Watermarks:
    min: int
    low: int
    high: int


def default_min_free_kbytes(lowmem_pages: int) -> int:
    """calculate_min_free_kbytes(): int_sqrt(lowmem_kbytes * 16), clamped to [128, 262144]."""
    lowmem_kbytes = lowmem_pages * (PAGE_SIZE >> 10)
    return min(max(math.isqrt(lowmem_kbytes * 16), 128), 262144)


def setup_per_zone_wmarks(managed: Sequence[int], min_free_kbytes: int,
                          watermark_scale_factor: int) -> list[Watermarks]:
    """min shared in proportion to managed pages; low/high gaps = max(min/4, managed*wsf/1e4)."""
    pages_min = min_free_kbytes >> (PAGE_SHIFT - 10)
    lowmem = sum(managed)
    out = []
    for zone_pages in managed:
        wmin = pages_min * zone_pages // lowmem
        gap = max(wmin >> 2, zone_pages * watermark_scale_factor // 10000)
        out.append(Watermarks(wmin, wmin + gap, wmin + 2 * gap))
    return out
