"""A zram device over a byte-exact zsmalloc pool, modelled on drivers/block/zram/zram_drv.c.

Follows Linux 6.18: a write compresses first, allocates the new object, checks the memory
limit, and only then frees what the slot held (zram_write_page() since "zram: fix slot write
race condition", September 2025; the 6.14-era code freed the slot first), so a write refused
for the limit leaves the slot's old contents intact. lz4 pages are compressed with the kernel's
own match finder (codecs.lz4_kernel), so sizes, classes and huge pages are the kernel's to the byte.
Reads return the stored bytes (decompressed), so the model is checked against the pages written.
"""

from __future__ import annotations

import errno
import mmap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from kcompressd import PAGE_SIZE
from kcompressd.backends import zram_stats
from kcompressd.backends.size_classes import DEFAULT_CHAIN_SIZE
from kcompressd.backends.zram_stats import (
    IO_STAT_FIELDS,
    format_io_stat,
    format_mm_stat,
)
from kcompressd.backends.zsmalloc import ZsPool
from kcompressd.codecs import get_codec
from kcompressd.codecs.lz4_kernel import kernel_lz4_available, kernel_lz4_compress_pages

# enum zram_pageflags (the two that change accounting).
ZRAM_SAME = 1
ZRAM_HUGE = 2


class Zram:
    """One zram device: a slot table, a compressor and a zsmalloc pool."""

    def __init__(self, disksize: int, algorithm: str = "lz4", *,
                 chain_size: int = DEFAULT_CHAIN_SIZE, mem_limit: int = 0) -> None:
        if disksize < PAGE_SIZE:
            raise ValueError(f"disksize {disksize} is smaller than one page")
        codec = get_codec(algorithm)
        self.algorithm = algorithm
        self._compress = codec.compress
        self._compress_pages = (kernel_lz4_compress_pages
                                if algorithm == "lz4" and kernel_lz4_available() else None)
        self._decompress = codec.decompress
        self.chain_size = chain_size
        # disksize_store() rounds the size up to whole pages.
        self.disksize = -(-disksize // PAGE_SIZE) * PAGE_SIZE
        self.nr_pages = self.disksize // PAGE_SIZE
        self._init_meta()
        self.mem_limit = mem_limit

    def _init_meta(self) -> None:
        """zram_meta_alloc() plus zeroed stats."""
        self.pool = ZsPool(self.chain_size)
        self.huge_class_size = self.pool.huge_class_size
        n = self.nr_pages
        # Slot table: handle (or the fill word of a same-filled page), object size, flags.
        self._handle = [0] * n
        self._size = [0] * n
        self._flags = bytearray(n)
        self.pages_stored = 0
        self.compr_data_size = 0
        self.same_pages = 0
        self.huge_pages = 0
        self.huge_pages_since = 0
        self.max_used_pages = 0
        self.failed_reads = 0
        self.failed_writes = 0
        self.notify_free = 0

    # -- sysfs knobs --------------------------------------------------------------------

    @property
    def mem_limit(self) -> int:
        return self.limit_pages * PAGE_SIZE

    @mem_limit.setter
    def mem_limit(self, limit: int) -> None:
        """mem_limit_store(): PAGE_ALIGN(limit) in pages; 0 means no limit."""
        if limit < 0:
            raise ValueError(f"mem_limit {limit} is negative")
        self.limit_pages = -(-limit // PAGE_SIZE)

    def reset_mem_used_max(self) -> None:
        """mem_used_max_store("0"): restart the high-water mark from the current usage."""
        self.max_used_pages = self.pool.zs_get_total_pages()

    def reset(self) -> None:
        """zram_reset_device(): every slot freed, stats zeroed, the limit cleared.

        The kernel then needs a new disksize; the model stays usable with the same one.
        """
        self._init_meta()
        self.limit_pages = 0

    # -- the I/O paths ------------------------------------------------------------------

    def _check(self, index: int) -> None:
        if not 0 <= index < self.nr_pages:
            raise IndexError(f"slot {index} outside the device (0..{self.nr_pages - 1})")

    def _slot_free(self, index: int) -> None:
        """slot_free() / zram_free_page(): drop whatever the slot holds."""
        flags = self._flags[index]
        if flags & ZRAM_HUGE:
            self.huge_pages -= 1
        if flags & ZRAM_SAME:
            self.same_pages -= 1
        else:
            handle = self._handle[index]
            if not handle:
                return
            self.pool.zs_free(handle)
            self.compr_data_size -= self._size[index]
        self.pages_stored -= 1
        self._flags[index] = 0
        self._handle[index] = 0
        self._size[index] = 0

    def write_page(self, index: int, page: bytes) -> int:
        """zram_bio_write() of one full page: 0, or -ENOMEM counted in failed_writes."""
        return -errno.ENOMEM if self.write_pages(index, (page,)) else 0

    def write_pages(self, start: int, pages: Iterable[bytes]) -> int:
        """Write pages to slots start, start+1, ...; returns how many failed with -ENOMEM."""
        return self._store(start, self._records(pages))

    def write_buffer(self, start: int, data: bytes | mmap.mmap) -> int:
        """write_pages() for whole pages back to back in one buffer (a corpus as read).

        With the kernel-exact lz4 the same-filled test and the compression of all pages run in
        one C call; the result is the same as writing the pages one by one.
        """
        if len(data) % PAGE_SIZE:
            raise ValueError(f"buffer of {len(data)} bytes is not whole pages")
        if self._compress_pages is None:
            pages = (data[i:i + PAGE_SIZE] for i in range(0, len(data), PAGE_SIZE))
            return self.write_pages(start, pages)
        return self._store(start, self._batch_records(data))

    def _records(self, pages: Iterable[bytes]) -> Iterator[tuple[int | None, bytes, int]]:
        """(fill word, None, 0) for a same-filled page, else (None, stored bytes, size)."""
        compress, huge_class_size = self._compress, self.huge_class_size
        for page in pages:
            if len(page) != PAGE_SIZE:
                raise ValueError(f"page of {len(page)} bytes, expected {PAGE_SIZE}")
            word = page[:8]
            if page[-8:] == word and word * 512 == page:  # page_same_filled()
                yield int.from_bytes(word, "little"), b"", 0
                continue
            comp = compress(page)
            if len(comp) >= huge_class_size:
                yield None, page, PAGE_SIZE  # write_incompressible_page(): stored as is
            else:
                yield None, comp, len(comp)

    def _batch_records(self, data: bytes | mmap.mmap
                       ) -> Iterator[tuple[int | None, bytes, int]]:
        """_records() from one C call: list comprehensions, no per-page Python codec work."""
        assert self._compress_pages is not None
        lens, words, ends, blob = self._compress_pages(data)
        huge = self.huge_class_size
        fills = [w if n < 0 else None for n, w in zip(lens, words, strict=True)]
        stored = [b"" if n < 0 else data[i * PAGE_SIZE:(i + 1) * PAGE_SIZE] if n >= huge
                  else blob[end - n:end] for i, (n, end) in enumerate(zip(lens, ends, strict=True))]
        sizes = [0 if n < 0 else PAGE_SIZE if n >= huge else n for n in lens]
        return zip(fills, stored, sizes, strict=True)

    def _store(self, start: int, records: Iterable[tuple[int | None, bytes, int]]) -> int:
        """The rest of zram_write_page() for each record, one bio per page.

        write_same_filled_page(), zs_malloc(), zram_can_store_page() and the slot update are
        inlined with their state in locals: this loop is the replay's cost besides the codec.
        """
        flags, handles, sizes = self._flags, self._handle, self._size
        pool = self.pool
        alloc = pool.alloc
        limit, nr_pages = self.limit_pages, self.nr_pages
        failed = 0
        index = start
        for fill, stored, size in records:
            if not 0 <= index < nr_pages:
                raise IndexError(f"slot {index} outside the device (0..{nr_pages - 1})")
            if fill is not None:
                if flags[index] or handles[index]:
                    self._slot_free(index)
                flags[index] = ZRAM_SAME
                handles[index] = fill
                self.same_pages += 1
                self.pages_stored += 1
                index += 1
                continue
            handle = alloc(size, stored)
            used = pool.pages_allocated
            if used > self.max_used_pages:
                self.max_used_pages = used
            if limit and used > limit:
                pool.zs_free(handle)
                self.failed_writes += 1
                failed += 1
                index += 1
                continue
            if flags[index] or handles[index]:
                self._slot_free(index)
            handles[index] = handle
            sizes[index] = size
            self.compr_data_size += size
            self.pages_stored += 1
            if size == PAGE_SIZE:  # only huge pages are stored at full size
                flags[index] = ZRAM_HUGE
                self.huge_pages += 1
                self.huge_pages_since += 1
            index += 1
        return failed

    def read_page(self, index: int) -> bytes:
        """zram_read_page(): fill word, raw copy or decompression; a free slot reads zeroes."""
        self._check(index)
        flags = self._flags[index]
        handle = self._handle[index]
        if flags & ZRAM_SAME or not handle:
            return handle.to_bytes(8, "little") * (PAGE_SIZE // 8)
        data = self.pool.zs_obj_read(handle)
        if flags & ZRAM_HUGE:
            return data
        return self._decompress(data)

    def discard(self, index: int) -> None:
        """zram_bio_discard() of one page: the slot is freed and notify_free counts it."""
        self._check(index)
        self._slot_free(index)
        self.notify_free += 1

    def compact(self) -> int:
        """compact_store(): zs_compact() on the pool; returns pages freed."""
        return self.pool.zs_compact()

    # -- stats --------------------------------------------------------------------------

    def mm_stat(self) -> dict[str, int]:
        """mm_stat_show() fields by name (MM_STAT_FIELDS order)."""
        return zram_stats.mm_stat(
            pages_stored=self.pages_stored, compr_data_size=self.compr_data_size,
            mem_used_pages=self.pool.zs_get_total_pages(), limit_pages=self.limit_pages,
            max_used_pages=self.max_used_pages, same_pages=self.same_pages,
            pages_compacted=self.pool.pages_compacted, huge_pages=self.huge_pages,
            huge_pages_since=self.huge_pages_since)

    def io_stat(self) -> dict[str, int]:
        """io_stat_show() fields by name; invalid_io is printed as a constant 0 in 6.18."""
        values = (self.failed_reads, self.failed_writes, 0, self.notify_free)
        return dict(zip(IO_STAT_FIELDS, values, strict=True))

    def mm_stat_text(self) -> str:
        return format_mm_stat(self.mm_stat())

    def io_stat_text(self) -> str:
        return format_io_stat(self.io_stat())


@dataclass(frozen=True)
class ReplayStage:
    """mm_stat and io_stat after one step of a replay ("write", "free", "compact")."""

    name: str
    mm_stat: dict[str, int]
    io_stat: dict[str, int]


def replay_steps(pages: int, free_every: int | None, compact: bool) -> list[str]:
    """The steps `zram replay` takes; shared by the model and the real-device replay."""
    if free_every is not None and free_every < 1:
        raise ValueError(f"free_every must be >= 1, got {free_every}")
    steps = ["write"]
    if free_every:
        steps.append("free")
    if compact:
        steps.append("compact")
    return steps


def freed_slots(pages: int, free_every: int) -> Iterable[int]:
    """Slots 0, K, 2K, ... below `pages`."""
    return range(0, pages, free_every)


def replay(pages: Sequence[bytes] | bytes | mmap.mmap, algorithm: str = "lz4", *,
           chain_size: int = DEFAULT_CHAIN_SIZE, mem_limit: int = 0,
           free_every: int | None = None, compact: bool = False) -> list[ReplayStage]:
    """Write page i to slot i of a fresh device, free every K-th slot, compact; stats per step.

    `pages` is a list of pages or one buffer of whole pages (a corpus as read from its file).
    """
    if isinstance(pages, bytes | mmap.mmap):
        data = pages
    else:
        bad = next((len(p) for p in pages if len(p) != PAGE_SIZE), None)
        if bad is not None:
            raise ValueError(f"page of {bad} bytes, expected {PAGE_SIZE}")
        data = b"".join(pages)
    n = len(data) // PAGE_SIZE
    steps = replay_steps(n, free_every, compact)
    zram = Zram(max(n, 1) * PAGE_SIZE, algorithm, chain_size=chain_size, mem_limit=mem_limit)
    stages = []
    for step in steps:
        if step == "write":
            zram.write_buffer(0, data)
        elif step == "free":
            for i in freed_slots(n, free_every or 1):
                zram.discard(i)
        else:
            zram.compact()
        stages.append(ReplayStage(step, zram.mm_stat(), zram.io_stat()))
    return stages
