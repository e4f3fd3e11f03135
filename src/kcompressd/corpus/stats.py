"""What zram would make of a corpus: ratio, huge and same-filled pages, codec cost per page.

Definitions follow zram's mm_stat, as if every page were written once to a fresh device:
orig_data_size counts every page (4096 bytes each, same-filled ones included);
compr_data_size adds the codec output length of each stored page, 4096 for a huge page
(length >= huge_class_size, stored uncompressed by `zram_write_page()`) and 0 for a same-filled
page. The ratio is orig_data_size / compr_data_size, the figure zram users quote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from kcompressd import PAGE_SIZE
from kcompressd.backends.size_classes import size_class_table
from kcompressd.codecs import available
from kcompressd.corpus.measure import PageMeasurements, measure_pages


@dataclass(frozen=True)
class CodecStats:
    codec: str
    orig_data_size: int
    compr_data_size: int
    ratio: float | None  # None when every page is same-filled (nothing stored)
    huge_pages: int
    huge_fraction: float  # of all pages
    mean_compress_ns: float  # per page the codec ran on (same-filled pages excluded)
    mean_decompress_ns: float


def huge_mask(m: PageMeasurements, huge_class_size: int | None = None) -> np.ndarray:
    """Pages zram would store uncompressed."""
    threshold = huge_class_size or size_class_table().huge_class_size
    return ~m.same_filled & (m.comp_len >= threshold)


def codec_stats(m: PageMeasurements, huge_class_size: int | None = None) -> CodecStats:
    n = len(m)
    huge = huge_mask(m, huge_class_size)
    stored = np.where(huge, PAGE_SIZE, m.comp_len.astype(np.int64))
    compr = int(stored.sum())
    ran = ~m.same_filled
    cost = ran.any()
    return CodecStats(
        codec=m.codec,
        orig_data_size=n * PAGE_SIZE,
        compr_data_size=compr,
        ratio=n * PAGE_SIZE / compr if compr else None,
        huge_pages=int(huge.sum()),
        huge_fraction=float(huge.mean()) if n else 0.0,
        mean_compress_ns=float(m.compress_ns[ran].mean()) if cost else 0.0,
        mean_decompress_ns=float(m.decompress_ns[ran].mean()) if cost else 0.0,
    )


def corpus_info(pages: Sequence[bytes], codecs: Sequence[str] | None = None,
                *, repeat: int = 1) -> dict:
    """Page counts and per-codec statistics, as `kcompressd corpus info --json` prints them."""
    measured = [measure_pages(pages, c, repeat=repeat) for c in (codecs or available())]
    n = len(pages)
    zero, same = int(measured[0].zero.sum()), int(measured[0].same_filled.sum())
    return {
        "pages": n,
        "zero_pages": zero,
        "same_filled_pages": same,
        "zero_fraction": zero / n if n else 0.0,
        "same_filled_fraction": same / n if n else 0.0,
        "huge_class_size": size_class_table().huge_class_size,
        "codecs": {m.codec: {k: v for k, v in asdict(codec_stats(m)).items() if k != "codec"}
                   for m in measured},
    }
