"""The kernel's lzo and lzo-rle: valid streams, the RLE instruction, and zram's own sizes."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

import pytest

from helpers import KERNEL
from kcompressd.backends.zram import replay
from kcompressd.codecs.lzo_kernel import lzo_kernel_available, lzo_kernel_codec

pytestmark = pytest.mark.skipif(not lzo_kernel_available(), reason="no C compiler")


def _pages(seed: int) -> list[bytes]:
    """Text, small integers, noise, and pages with zero runs of every length class."""
    rng = random.Random(seed)
    ints = b"".join(struct.pack("<I", rng.randint(0, 40)) for _ in range(1024))
    words = b"".join(rng.choice([b"alpha ", b"beta ", b"gamma\n"]) for _ in range(800))[:4096]
    zero_runs = b"".join(rng.randbytes(rng.randint(1, 40)) + bytes(rng.choice([3, 4, 5, 300,
                                                                               2051, 2060]))
                         for _ in range(40))[:4096].ljust(4096, b"\1")
    return [ints, words, rng.randbytes(4096), zero_runs, rng.randbytes(1000) + bytes(3096)]


@pytest.mark.parametrize("rle", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_pages_round_trip(rle: bool, seed: int) -> None:
    compress, decompress = lzo_kernel_codec(rle)
    for page in _pages(seed):
        assert decompress(compress(page)) == page


def test_plain_lzo_is_a_stream_liblzo2_reads() -> None:
    lzo = pytest.importorskip("lzo")
    compress, _ = lzo_kernel_codec(rle=False)
    for page in _pages(9):
        assert lzo.decompress(compress(page), False, 4096) == page


def test_lzo_rle_header_and_zero_run_instruction() -> None:
    compress, _ = lzo_kernel_codec(rle=True)
    blob = compress(bytes(4096))
    assert blob[:2] == bytes([17, 1])  # bitstream version 1
    # The first 5 bytes as literals (the first position tried is 5), then the longest zero run,
    # 2051 bytes: (2047 << 21) | 0xfffc18 | (2047 & 7), little-endian.
    assert blob[2:8] == bytes([2]) + bytes(5)
    assert blob[8:12] == struct.pack("<I", (2047 << 21) | 0xFFFC18 | 7)
    assert blob[-3:] == bytes([17, 0, 0])  # the end marker (M4, distance 0)
    assert lzo_kernel_codec(rle=False)[0](bytes(4096))[0] != 17  # version 0 never starts so


def _kernel(fn: Callable[..., None]) -> Callable[..., None]:
    """The real-kernel marks of helpers.KERNEL (root, zram), on one test."""
    for mark in KERNEL:
        fn = mark(fn)
    return fn


@_kernel
@pytest.mark.parametrize("algorithm", ["lzo", "lzo-rle"])
def test_sizes_match_the_kernel_zram(algorithm: str) -> None:
    from kcompressd.kernel import zram
    from kcompressd.kernel.zram_replay import replay_kernel

    have = zram.existing_devices()[0].algorithms()
    if algorithm not in have:
        pytest.skip(f"this kernel's zram has no {algorithm} ({', '.join(have)})")
    pages = [p for s in range(40) for p in _pages(s)]
    (kernel,) = replay_kernel(pages, algorithm)
    (model,) = replay(pages, algorithm)
    k, m = kernel.mm_stat, model.mm_stat
    assert m["same_pages"] == k["same_pages"] and m["huge_pages"] == k["huge_pages"]
    assert m["compr_data_size"] == k["compr_data_size"]  # to the byte
    assert m["mem_used_total"] == k["mem_used_total"]
