import os

import pytest

from kcompressd.codecs import available, get_codec
from kcompressd.errors import KcompressdError

PAGES = [bytes(4096), b"kswapd" * 682 + b"abcd", os.urandom(4096)]


@pytest.mark.parametrize("name", available())
@pytest.mark.parametrize("page", PAGES, ids=["zero", "text", "random"])
def test_roundtrip(name: str, page: bytes) -> None:
    codec = get_codec(name)
    assert codec.decompress(codec.compress(page)) == page


def test_compressible_page_shrinks_and_random_does_not() -> None:
    lz4 = get_codec("lz4")
    assert len(lz4.compress(PAGES[1])) < 200
    assert len(lz4.compress(PAGES[2])) >= 4096


def test_lz4_is_the_kernels_raw_block_format() -> None:
    # No size prefix: the kernel stores the bare LZ4 block, which any LZ4 decoder reads.
    import lz4.block

    page = PAGES[1]
    blob = get_codec("lz4").compress(page)
    assert lz4.block.decompress(blob, uncompressed_size=len(page)) == page
    with pytest.raises(lz4.block.LZ4BlockError):
        lz4.block.decompress(blob)  # no 4-byte length header in front


def test_unknown_codec_lists_available() -> None:
    with pytest.raises(KcompressdError, match="available: lz4"):
        get_codec("842")
