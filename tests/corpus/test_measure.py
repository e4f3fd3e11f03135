import os

import numpy as np
import pytest

from kcompressd.codecs import available, get_codec
from kcompressd.corpus import measure
from kcompressd.corpus.measure import measure_pages
from kcompressd.errors import KcompressdError

ZERO = bytes(4096)
PATTERN = b"\xde\xad\xbe\xef\x01\x02\x03\x04" * 512
TEXT = (b"kswapd balance_pgdat shrink_folio_list " * 120)[:4096]
RANDOM = os.urandom(4096)
ALMOST_SAME = PATTERN[:-1] + b"\x00"


@pytest.mark.parametrize("codec", available())
def test_flags_lengths_and_costs(codec: str) -> None:
    pages = [ZERO, PATTERN, TEXT, RANDOM, ALMOST_SAME]
    m = measure_pages(pages, codec)
    assert m.codec == codec and len(m) == 5
    assert m.same_filled.tolist() == [True, True, False, False, False]
    assert m.zero.tolist() == [True, False, False, False, False]
    assert m.comp_len.dtype == np.int32
    assert m.comp_len[0] == m.comp_len[1] == 0
    assert m.comp_len[2] == len(get_codec(codec).compress(TEXT))
    assert m.comp_len[2] < 1000 < 4096 <= m.comp_len[3]
    assert (m.compress_ns[:2] == 0).all() and (m.decompress_ns[:2] == 0).all()
    assert (m.compress_ns[2:] > 0).all() and (m.decompress_ns[2:] > 0).all()


def test_repeat_keeps_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    # Fake clock: (compress, decompress) durations per repeat are (50, 9), (30, 7), (40, 8).
    stamps = iter([0, 50, 59, 100, 130, 137, 200, 240, 248])
    monkeypatch.setattr(measure.time, "perf_counter_ns", lambda: next(stamps))
    m = measure_pages([TEXT], "lz4", repeat=3)
    assert m.compress_ns[0] == 30 and m.decompress_ns[0] == 7


def test_repeat_keeps_lengths() -> None:
    pages = [TEXT, RANDOM] * 4
    one = measure_pages(pages, "lz4")
    many = measure_pages(pages, "lz4", repeat=5)
    assert (one.comp_len == many.comp_len).all()


def test_bad_arguments() -> None:
    with pytest.raises(KcompressdError, match="available"):
        measure_pages([TEXT], "nope")
    with pytest.raises(ValueError):
        measure_pages([TEXT], "lz4", repeat=0)


def test_empty() -> None:
    assert len(measure_pages([], "lz4")) == 0
