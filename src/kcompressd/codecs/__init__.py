"""Page codecs: the compressors zram and zswap would run on a 4 KiB page.

lz4 is `LZ4_compress_fast` at acceleration 1, as `lz4_compress()` in `crypto/lz4.c` calls it,
with the kernel's own (LZ4 v1.7) match finder from `lz4_kernel` so that compressed lengths are
the kernel's to the byte; where no C compiler can build it, the `lz4` package (a newer match
finder: lengths differ by about 1% on real corpora) stands in. zstd keeps one compressor per
thread because `zstandard` objects are not thread-safe (the kernel likewise keeps one stream
per CPU, `zcomp_stream_get`). lzo and lzo-rle (zram's default) are the kernel's
lib/lzo compressors from `lzo_kernel`, byte-exact.
"""

from __future__ import annotations

import importlib.util
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import lz4.block
import zstandard

from kcompressd.codecs.cbuild import compiler
from kcompressd.codecs.lz4_kernel import kernel_lz4_available, kernel_lz4_compressor
from kcompressd.codecs.lzo_kernel import lzo_kernel_available, lzo_kernel_codec
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
        # As zram's zstd_compress() (drivers/block/zram/backend_zstd.c) does: the parameters of
        # zstd_get_params(level, PAGE_SIZE) = ZSTD_getParams(), whose fParams.contentSizeFlag
        # is 1, applied by zstd_cctx_init() (lib/zstd/zstd_compress_module.c) with the page as
        # pledged size, so each frame carries the 4096-byte content size (2 bytes, single
        # segment: one byte more than a frame without it), no checksum, no dictionary id.
        pair = (
            zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True,
                                     write_checksum=False, write_dict_id=False),
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


def _liblzo_pair() -> tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]:
    import lzo  # type: ignore[import-not-found]

    # header=False gives the bare lzo1x_1 stream the kernel stores.
    return (lambda page: lzo.compress(page, 1, False),
            lambda blob: lzo.decompress(blob, False, 4096))


def _lzo_pair(rle: bool) -> tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]:
    """Chosen on first use (building the C code is not an import side effect)."""
    if lzo_kernel_available():
        return lzo_kernel_codec(rle)
    if rle:
        raise KcompressdError("lzo-rle needs a C compiler to build the kernel's compressor")
    return _liblzo_pair()


def _lzo() -> Codec | None:
    """The kernel's lzo1x_1_compress(): kernel-exact from lzo_kernel, else liblzo2's LZO1X-1
    (a larger dictionary: lengths differ slightly)."""
    if compiler() is None and importlib.util.find_spec("lzo") is None:
        return None
    return Codec("lzo", _per_thread(lambda: _lzo_pair(False)[0]),
                 _per_thread(lambda: _lzo_pair(False)[1]))


def _lzo_rle() -> Codec | None:
    """zram's default, lzorle1x_1_compress(): kernel-exact from lzo_kernel (needs a C compiler)."""
    if compiler() is None:
        return None
    return Codec("lzo-rle", _per_thread(lambda: _lzo_pair(True)[0]),
                 _per_thread(lambda: _lzo_pair(True)[1]))


def _per_thread(make: Callable[[], Callable[[bytes], bytes]]) -> Callable[[bytes], bytes]:
    """One instance (with its own output buffer) per thread, made on first use."""
    local = threading.local()

    def call(data: bytes) -> bytes:
        fn = getattr(local, "fn", None)
        if fn is None:
            fn = local.fn = make()
        return fn(data)

    return call


def _build() -> dict[str, Codec]:
    found = [_lz4(), _zstd(), _deflate(), _lzo(), _lzo_rle()]
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
