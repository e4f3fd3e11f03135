"""Per-page compressed sizes and codec costs of a corpus, measured on this machine.

This is what zram would do with each page on `zram_write_page()`: first the same-filled test
(`page_same_filled()`), which stores nothing and runs no codec, otherwise one compression whose
output length decides the zsmalloc class (or a huge page above `huge_class_size`).

Timing: every compression and decompression is timed on its own with `time.perf_counter_ns`.
With `repeat > 1` the minimum over the repeats is kept, because interference (other tasks on
the CPU, interrupts, cache misses from the timer itself) only ever adds time: the minimum is
the estimate of the codec's own cost least disturbed by the noise, and it is stable across runs
where the mean is not.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kcompressd.backends.same_filled import page_same_filled
from kcompressd.codecs import get_codec

_NS_UNSET = float("inf")


@dataclass(frozen=True)
class PageMeasurements:
    """One entry per page; costs are 0 for same-filled pages (zram runs no codec on them)."""

    codec: str
    same_filled: np.ndarray  # bool
    zero: np.ndarray  # bool (a zero page is also same-filled)
    comp_len: np.ndarray  # int32, raw codec output length; 0 for same-filled pages
    compress_ns: np.ndarray  # float64
    decompress_ns: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.comp_len)


def measure_pages(pages: Sequence[bytes], codec: str, *, repeat: int = 1) -> PageMeasurements:
    """Same-filled flags, compressed lengths and per-page codec costs of `pages`."""
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    c = get_codec(codec)
    compress, decompress = c.compress, c.decompress
    clock = time.perf_counter_ns
    n = len(pages)
    same = np.zeros(n, dtype=bool)
    zero = np.zeros(n, dtype=bool)
    comp_len = np.zeros(n, dtype=np.int32)
    comp_ns = np.zeros(n, dtype=np.float64)
    decomp_ns = np.zeros(n, dtype=np.float64)
    for i, page in enumerate(pages):
        word = page_same_filled(page)
        if word is not None:
            same[i] = True
            zero[i] = word == 0
            continue
        best_c = best_d = _NS_UNSET
        for _ in range(repeat):
            t0 = clock()
            blob = compress(page)
            t1 = clock()
            out = decompress(blob)
            t2 = clock()
            best_c = min(best_c, t1 - t0)
            best_d = min(best_d, t2 - t1)
        if out != page:
            raise RuntimeError(f"{codec}: page {i} did not decompress to itself")
        comp_len[i] = len(blob)
        comp_ns[i] = best_c
        decomp_ns[i] = best_d
    return PageMeasurements(codec, same, zero, comp_len, comp_ns, decomp_ns)
