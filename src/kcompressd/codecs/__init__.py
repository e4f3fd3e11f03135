"""Page codecs: the compressors zram and zswap would run on a 4 KiB page.

lz4 is `LZ4_compress_fast` at acceleration 1, as `lz4_compress()` in `crypto/lz4.c` calls it,
with the kernel's own (LZ4 v1.7) match finder from `lz4_kernel` so that compressed lengths are
the kernel's to the byte; where no C compiler can build it, the `lz4` package (a newer match
finder: lengths differ by about 1% on real corpora) stands in. zstd keeps one compressor per
thread because `zstandard` objects are not thread-safe (the kernel likewise keeps one stream
per CPU, `zcomp_stream_get`).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import lz4.block
import zstandard

from kcompressd.codecs.lz4_kernel import kernel_lz4_available, kernel_lz4_compressor
from kcompressd.errors import KcompressdError


@dataclass(frozen=True)
class Codec:
    """A page compressor: `compress(page) -> bytes`, `decompress(blob) -> page`."""

    name: str
    compress: Callable[[bytes], bytes]
    decompress: Callable[[bytes], bytes]


def _liblz4_compress(page: bytes) -> bytes:
    return lz4.block.compress(page, mode="fast", acceleration=1, store_size=False)


_lz4_local = threading.local()


def _lz4() -> Codec:
    def compress(page: bytes) -> bytes:
        # Chosen on first use (building the C compressor is not an import side effect); one
        # output buffer per thread, as the kernel keeps one stream per CPU.
        fn = getattr(_lz4_local, "fn", None)
        if fn is None:
            fn = _lz4_local.fn = (kernel_lz4_compressor() if kernel_lz4_available()
                                  else _liblz4_compress)
        return fn(page)

    def decompress(blob: bytes) -> bytes:
        return lz4.block.decompress(blob, uncompressed_size=4096)

    return Codec("lz4", compress, decompress)


_zstd_local = threading.local()

# zram's default zstd level (ZSTD_CLEVEL_DEFAULT in the kernel's zstd backend is 3).
ZSTD_LEVEL = 3


def _zstd_pair() -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    pair = getattr(_zstd_local, "pair", None)
    if pair is None:
        pair = (
            zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=False,
                                     write_checksum=False),
            zstandard.ZstdDecompressor(),
        )
        _zstd_local.pair = pair
    return pair


def _zstd() -> Codec:
    def compress(page: bytes) -> bytes:
        return _zstd_pair()[0].compress(page)

    def decompress(blob: bytes) -> bytes:
        return _zstd_pair()[1].decompress(blob, max_output_size=4096)

    return Codec("zstd", compress, decompress)


def _deflate() -> Codec:
    # Raw deflate as the kernel's crypto/deflate.c uses it (window bits -15, level 3 in zram).
    def compress(page: bytes) -> bytes:
        c = zlib.compressobj(3, zlib.DEFLATED, -15)
        return c.compress(page) + c.flush()

    def decompress(blob: bytes) -> bytes:
        return zlib.decompress(blob, -15)

    return Codec("deflate", compress, decompress)


def _lzo() -> Codec | None:
    try:
        import lzo  # type: ignore[import-not-found]
    except ImportError:
        return None

    def compress(page: bytes) -> bytes:
        # header=False gives the bare lzo1x_1 stream the kernel stores.
        return lzo.compress(page, 1, False)

    def decompress(blob: bytes) -> bytes:
        return lzo.decompress(blob, False, 4096)

    return Codec("lzo", compress, decompress)


def _build() -> dict[str, Codec]:
    found = [_lz4(), _zstd(), _deflate(), _lzo()]
    return {c.name: c for c in found if c is not None}


CODECS: dict[str, Codec] = _build()


def available() -> list[str]:
    return list(CODECS)


def get_codec(name: str) -> Codec:
    try:
        return CODECS[name]
    except KeyError:
        raise KcompressdError(
            f"unknown codec {name!r}; available: {', '.join(CODECS)}"
        ) from None
