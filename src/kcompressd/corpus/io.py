"""Reading and writing corpus files, refusing anything that is not whole pages.

Reads are bounded and interruptible: only regular files are read (a device such as /dev/zero
or a FIFO never ends), in chunks (Ctrl-C works between them), up to `max_pages` pages when the
caller states a limit, and never more than half of this machine's memory otherwise, so a huge
file or a gzip bomb is refused instead of swallowing the machine.

Writes go through `outfile.atomic_output`, so a failed or interrupted write never leaves a
half-written corpus behind.
"""

from __future__ import annotations

import gzip
import os
import stat
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import zstandard

from kcompressd import PAGE_SIZE
from kcompressd.errors import KcompressdError
from kcompressd.outfile import atomic_output

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_CHUNK = 256 * PAGE_SIZE  # 1 MiB per read: Ctrl-C is seen between reads
_KINDS = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket"}


def memory_limit() -> int:
    """The most a corpus may take without a stated --max-pages: half of physical memory."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2


def _regular(p: Path) -> os.stat_result:
    try:
        st = p.stat()
    except FileNotFoundError:
        raise KcompressdError(f"{p}: no such corpus file") from None
    except OSError as e:
        raise KcompressdError(f"{p}: cannot read corpus ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise KcompressdError(f"{p}: is a directory, not a corpus file")
    if not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
        raise KcompressdError(f"{p}: is {kind}, not a corpus file (a corpus is a regular file "
                              "of whole pages)")
    return st


@contextmanager
def _stream(p: Path) -> Iterator[BinaryIO]:
    """The file's decompressed bytes as a stream (by suffix, magic checked)."""
    suffix = p.suffix.lower()
    try:
        f = p.open("rb")
    except OSError as e:
        raise KcompressdError(f"{p}: cannot read corpus ({e.strerror})") from None
    with f:
        head = f.read(4)
        f.seek(0)
        if suffix == ".gz":
            if not head.startswith(_GZIP_MAGIC):
                raise KcompressdError(f"{p}: not a gzip file despite the .gz suffix")
            with gzip.GzipFile(fileobj=f) as g:
                yield g  # type: ignore[misc]
        elif suffix == ".zst":
            if not head.startswith(_ZSTD_MAGIC):
                raise KcompressdError(f"{p}: not a zstd file despite the .zst suffix")
            with zstandard.ZstdDecompressor().stream_reader(f) as z:
                yield z  # type: ignore[misc]
        else:
            yield f


def _read_bounded(p: Path, stream: BinaryIO, limit: int, stated: bool) -> bytes:
    buf = bytearray()
    try:
        while len(buf) < limit:
            chunk = stream.read(min(_CHUNK, limit - len(buf)))
            if not chunk:
                return bytes(buf)
            buf += chunk
        if not stated and stream.read(1):
            raise KcompressdError(f"{p}: more than {limit >> 20} MiB of pages, half of this "
                                  "machine's memory; read part of it with --max-pages")
    except (EOFError, gzip.BadGzipFile, zlib.error, zstandard.ZstdError) as e:
        kind = "zstd" if p.suffix.lower() == ".zst" else "gzip"
        raise KcompressdError(f"{p}: corrupt {kind} data ({e})") from None
    except OSError as e:
        raise KcompressdError(f"{p}: cannot read corpus ({e.strerror or e})") from None
    return bytes(buf)


def read_pages(path: str | os.PathLike[str], max_pages: int | None = None) -> list[bytes]:
    """The pages of a corpus file, in order (the first `max_pages` when given)."""
    data = read_corpus_bytes(path, max_pages)
    return [data[i : i + PAGE_SIZE] for i in range(0, len(data), PAGE_SIZE)]


def read_corpus_bytes(path: str | os.PathLike[str], max_pages: int | None = None) -> bytes:
    """The corpus as one bytes object of whole pages (the first `max_pages` when given);
    every malformed, endless or oversized input is refused."""
    p = Path(path)
    if max_pages is not None and max_pages < 1:
        raise KcompressdError(f"--max-pages must be >= 1, got {max_pages}")
    st = _regular(p)
    stated = max_pages is not None
    limit = max_pages * PAGE_SIZE if max_pages is not None else memory_limit()
    plain = p.suffix.lower() not in (".gz", ".zst")
    if plain and not stated and st.st_size > limit:
        raise KcompressdError(f"{p}: {st.st_size >> 20} MiB is more than half of this "
                              "machine's memory; read part of it with --max-pages")
    with _stream(p) as stream:
        data = _read_bounded(p, stream, limit, stated)
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
