import os

import pytest

from kcompressd.codecs import available, get_codec
from kcompressd.corpus.measure import measure_pages
from kcompressd.corpus.stats import codec_stats, corpus_info

TEXT = (b"zs_malloc zs_free zs_compact " * 200)[:4096]
RANDOM = os.urandom(4096)
PAGES = [bytes(4096), b"\xff" * 4096, TEXT, RANDOM]


def test_zram_definitions() -> None:
    s = codec_stats(measure_pages(PAGES, "lz4"), huge_class_size=3625)
    text_len = len(get_codec("lz4").compress(TEXT))
    assert s.orig_data_size == 4 * 4096
    assert s.compr_data_size == text_len + 4096  # huge counts 4096, same-filled 0
    assert s.ratio == pytest.approx(4 * 4096 / (text_len + 4096))
    assert s.huge_pages == 1 and s.huge_fraction == 0.25
    assert s.mean_compress_ns > 0 and s.mean_decompress_ns > 0


def test_all_same_filled_has_no_ratio() -> None:
    s = codec_stats(measure_pages([bytes(4096)], "lz4"))
    assert s.ratio is None and s.compr_data_size == 0 and s.mean_compress_ns == 0


def test_corpus_info_covers_every_codec() -> None:
    info = corpus_info(PAGES)
    assert info["pages"] == 4 and info["zero_pages"] == 1 and info["same_filled_pages"] == 2
    assert list(info["codecs"]) == available()
    assert all(c["huge_pages"] == 1 for c in info["codecs"].values())
