"""Reading and writing corpus files, refusing anything that is not whole pages.

Writes go through `outfile.atomic_output`, so a failed or interrupted write never leaves a
half-written corpus behind.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable
from pathlib import Path

import zstandard

from kcompressd import PAGE_SIZE
from kcompressd.errors import KcompressdError
from kcompressd.outfile import atomic_output

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _decompress(path: Path, raw: bytes) -> bytes:
    suffix = path.suffix.lower()
    if suffix == ".gz":
        if not raw.startswith(_GZIP_MAGIC):
            raise KcompressdError(f"{path}: not a gzip file despite the .gz suffix")
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, ValueError) as e:
            raise KcompressdError(f"{path}: corrupt gzip data ({e})") from None
    if suffix == ".zst":
        if not raw.startswith(_ZSTD_MAGIC):
            raise KcompressdError(f"{path}: not a zstd file despite the .zst suffix")
        try:
            return zstandard.ZstdDecompressor().stream_reader(raw).read()
        except zstandard.ZstdError as e:
            raise KcompressdError(f"{path}: corrupt zstd data ({e})") from None
    return raw


def read_pages(path: str | os.PathLike[str]) -> list[bytes]:
    """All pages of a corpus file, in order."""
    data = read_corpus_bytes(path)
    return [data[i : i + PAGE_SIZE] for i in range(0, len(data), PAGE_SIZE)]


def read_corpus_bytes(path: str | os.PathLike[str]) -> bytes:
    """The corpus as one bytes object of whole pages; every malformed input is refused."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise KcompressdError(f"{p}: no such corpus file") from None
    except IsADirectoryError:
        raise KcompressdError(f"{p}: is a directory, not a corpus file") from None
    except OSError as e:
        raise KcompressdError(f"{p}: cannot read corpus ({e.strerror})") from None
    data = _decompress(p, raw)
    if not data:
        raise KcompressdError(f"{p}: empty corpus (no pages)")
    if len(data) % PAGE_SIZE:
        raise KcompressdError(
            f"{p}: size {len(data)} bytes is not a multiple of the {PAGE_SIZE}-byte page"
        )
    return data


def write_pages(path: str | os.PathLike[str], pages: Iterable[bytes]) -> int:
    """Write pages atomically (compressed by suffix); returns the number of pages written."""
    p = Path(path)
    buf = bytearray()
    for page in pages:
        if len(page) != PAGE_SIZE:
            raise ValueError(f"page of {len(page)} bytes, expected {PAGE_SIZE}")
        buf += page
    if not buf:
        raise KcompressdError(f"{p}: refusing to write an empty corpus")
    suffix = p.suffix.lower()
    if suffix == ".gz":
        payload = gzip.compress(bytes(buf), mtime=0)
    elif suffix == ".zst":
        payload = zstandard.ZstdCompressor(level=10).compress(bytes(buf))
    else:
        payload = bytes(buf)
    with atomic_output(p) as tmp:
        tmp.write_bytes(payload)
    return len(buf) // PAGE_SIZE
