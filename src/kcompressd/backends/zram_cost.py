"""The simulator's zram: what writing a page costs and how much memory its copy takes.

Per-page facts come from the corpus (`corpus_sizes`): which pages are same-filled
(`page_same_filled()`: no codec, no allocation) and each other page's compressed length (at or
above `huge_class_size` the page is stored as is: a huge page); both are deterministic. What a
page costs to compress is the machine profile's function of that length (`profiles`), given
to the model in seconds per page, so no timing enters a run. With the swap zeromap (Linux
6.12 and later, scenario key `swap.zeromap`) `swap_writepage()` records a zero-filled folio in
a bitmap and returns before zram: the model then draws device pages from the corpus's other
pages and how many written pages are zero from its zero fraction (`ZramSampler.zeromap`);
without it zero pages reach zram as same-filled pages.

`ZramSampler.draw(n)` returns the aggregate of n pages drawn at random from the corpus (the
simulator works in batches of up to SWAP_CLUSTER_MAX pages, so per-page Python work is avoided:
draws come from pools of pre-aggregated batches, built once per run with numpy).

`ZramStore` is the device's accounting: swap slots (disksize), and the zsmalloc memory each
stored object costs at its size class's rate, pages_per_zspage / objs_per_zspage pages (a huge
page costs one page), so the node pays 4096 bytes minus what the compressed copy costs for every
page reclaimed. The pool's pages are the rounded-up sum of those rates: as if each class's last
zspage were full, which differs from `zs_malloc()`'s whole-zspage allocation by less than one
zspage per class (at most a few MiB) and lets a batch be charged in O(1).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kcompressd import PAGE_SIZE
from kcompressd.backends import zram_stats
from kcompressd.backends.size_classes import ZS_HANDLE_SIZE, size_class_table

SWAP_CLUSTER_MAX = 32


@dataclass(frozen=True)
class Draw:
    """n pages written to zram, aggregated."""

    n: int
    cost: float  # seconds of work at CPU speed 1.0
    same: int  # same-filled pages (no object)
    huge: int  # stored uncompressed
    compr_bytes: int  # contribution to compr_data_size
    zs_pages: float  # zsmalloc pages the objects cost at their classes' rates

    @classmethod
    def total(cls, draws: list[Draw]) -> Draw:
        """Pages drawn step by step (a writer interleaving them with other work), as one."""
        return cls(sum(d.n for d in draws), sum(d.cost for d in draws),
                   sum(d.same for d in draws), sum(d.huge for d in draws),
                   sum(d.compr_bytes for d in draws), sum(d.zs_pages for d in draws))


class ZramCostModel:
    """Per-page cost (s at speed 1.0) and zsmalloc class of every measured corpus page."""

    def __init__(self, sizes: PageSizes, cost: np.ndarray, *, chain_size: int = 8) -> None:
        """`cost`: seconds of a speed-1.0 CPU per page (0 for same-filled pages)."""
        m = sizes
        if len(m.comp_len) == 0:
            raise ValueError("no measured pages")
        table = size_class_table(chain_size)
        self.table = table
        same = np.asarray(m.same_filled, dtype=bool)
        comp_len = np.asarray(m.comp_len, dtype=np.int64)
        huge = ~same & (comp_len >= table.huge_class_size)
        stored_len = np.where(huge, PAGE_SIZE, comp_len)
        stored_len[same] = 0
        rate = np.zeros(len(comp_len), dtype=np.float64)
        for i in np.flatnonzero(~same):
            c = table.class_for(int(stored_len[i]) + ZS_HANDLE_SIZE)
            rate[i] = c.pages_per_zspage / c.objs_per_zspage
        self.same = same
        self.huge = huge
        self.stored_len = stored_len
        self.zs_rate = rate  # zsmalloc pages per stored object
        self.cost = np.where(same, 0.0, np.asarray(cost, dtype=np.float64))
        self.codec = m.codec

    @property
    def mean_cost(self) -> float:
        return float(self.cost.mean())

    @property
    def pages(self) -> int:
        return len(self.cost)


def _draws(model: ZramCostModel, idx: np.ndarray) -> list[Draw]:
    """One Draw per row of `idx`, the pages at those indices aggregated."""
    n = idx.shape[1]
    cost, same, huge = (model.cost[idx].sum(axis=1), model.same[idx].sum(axis=1),
                        model.huge[idx].sum(axis=1))
    cbytes, zs = model.stored_len[idx].sum(axis=1), model.zs_rate[idx].sum(axis=1)
    return [Draw(n, c, s, h, b, z) for c, s, h, b, z in zip(
        cost.tolist(), same.tolist(), huge.tolist(), cbytes.tolist(), zs.tolist(), strict=True)]


class ZramSampler:
    """Random batches of corpus pages, deterministic for a seed.

    `zero_fraction` is the share of zero-filled pages among the pages a reclaimer writes when
    the model's pages exclude them (the swap zeromap takes them first): `zeromap(n)` draws how
    many of n written pages are zero-filled, `zeromap_hits()` how many swap-ins find one.
    """

    def __init__(self, model: ZramCostModel, seed: int, *, pool: int = 512,
                 zero_fraction: float = 0.0) -> None:
        self.model = model
        rng = np.random.default_rng(seed)
        self._rand = random.Random(seed).getrandbits
        self._bits = max(1, (pool - 1).bit_length())
        size = 1 << self._bits
        # One page: every corpus page, each equally likely (`_one()`); a pool of 512 random
        # pages would hold a quarter of a 2,048-page corpus, a few % off its means, for every
        # design whose workers write folio by folio.
        self._pages = _draws(model, np.arange(model.pages)[:, None])
        self._page_bits = max(1, (len(self._pages) - 1).bit_length())
        self._pools: list[list[Draw]] = [[], []]
        for n in range(2, SWAP_CLUSTER_MAX + 1):
            self._pools.append(_draws(model, rng.integers(0, model.pages, size=(size, n))))
        self._zero_pools: list[list[int]] = [[0]]
        if zero_fraction > 0:
            for n in range(1, SWAP_CLUSTER_MAX + 1):
                self._zero_pools.append(rng.binomial(n, zero_fraction, size).tolist())
        self._rng = rng

    def zeromap_hits(self, n: int, entries: int, slots: int) -> int:
        """How many of n swap entries faulted back are among the `entries` zeromap entries
        of the `slots` in use (the faulting pages are any of them)."""
        if not entries or n <= 0:
            return 0
        return min(entries, n, int(self._rng.binomial(n, min(1.0, entries / slots))))

    def zeromap(self, n: int) -> int:
        """How many of n pages written to swap are zero-filled (0 without a zero fraction)."""
        pools = self._zero_pools
        if len(pools) == 1:
            return 0
        zero = 0
        while n > 0:
            k = min(n, SWAP_CLUSTER_MAX)
            zero += pools[k][self._rand(self._bits)]
            n -= k
        return zero

    def _one(self) -> Draw:
        pages, rand, bits = self._pages, self._rand, self._page_bits
        i = rand(bits)
        while i >= len(pages):  # uniform over the pages: redraw past the last one
            i = rand(bits)
        return pages[i]

    def draw(self, n: int) -> Draw:
        """n (1..SWAP_CLUSTER_MAX) pages drawn at random from the corpus."""
        if n == 1:
            return self._one()
        return self._pools[n][self._rand(self._bits)]

    def draw_many(self, n: int) -> Draw:
        """Any number of pages, drawn SWAP_CLUSTER_MAX at a time and summed in that order."""
        if n <= SWAP_CLUSTER_MAX:
            return self._one() if n == 1 else self._pools[n][self._rand(self._bits)]
        cost = zs_pages = 0.0
        same = huge = compr_bytes = 0
        left = n
        while left:
            k = min(left, SWAP_CLUSTER_MAX)
            d = self._one() if k == 1 else self._pools[k][self._rand(self._bits)]
            left -= d.n
            cost += d.cost
            same += d.same
            huge += d.huge
            compr_bytes += d.compr_bytes
            zs_pages += d.zs_pages
        return Draw(n, cost, same, huge, compr_bytes, zs_pages)


class ZramStore:
    """Slots and zsmalloc memory of one simulated zram device (no bytes are kept)."""

    def __init__(self, disksize: int) -> None:
        self.nr_slots = disksize // PAGE_SIZE
        self.slots_used = 0
        self._zs = 0.0  # exact sum of the stored objects' class rates
        self.mem_used_pages = 0
        self.mem_used_max = 0
        self.pages_stored = 0
        self.compr_data_size = 0
        self.same_pages = 0
        self.huge_pages = 0
        self.huge_pages_since = 0
        self.failed_writes = 0
        self.slot_alloc_failures = 0
        self.zeromap_pages = 0  # slots whose folio was zero-filled: in sis->zeromap, not zram

    def get_swap_pages(self, n: int) -> int:
        """folio_alloc_swap() for n folios: how many got a slot (the device may be full)."""
        got = min(n, self.nr_slots - self.slots_used)
        self.slots_used += got
        if got < n:
            self.slot_alloc_failures += n - got
        return got

    def put_swap_pages(self, n: int) -> None:
        """Slots of pages whose write failed go back (swap_free)."""
        self.slots_used -= n

    def zeromap_set(self, n: int) -> None:
        """swap_zeromap_folio_set(): n zero-filled folios keep their slots, zram stores
        nothing."""
        self.zeromap_pages += n

    def zeromap_read(self, n: int) -> None:
        """Swap-in of n zeromap entries (`swap_read_folio_zeromap()`): their slots are freed."""
        self.zeromap_pages -= n
        self.slots_used -= n

    def zspages_needed(self, d: Draw) -> int:
        """Pages zs_malloc() takes from the page allocator to store `d`."""
        return math.ceil(self._zs + d.zs_pages - 1e-9) - self.mem_used_pages

    def store(self, d: Draw, avail: float = math.inf) -> int | None:
        """zram_write_page() for the drawn pages, if the pages zs_malloc() takes from the page
        allocator for them (`zspages_needed(d)`) fit in `avail`: returns those pages, or None
        when zs_malloc() fails and nothing is stored (a failed write)."""
        zs = self._zs + d.zs_pages
        need = math.ceil(zs - 1e-9) - self.mem_used_pages
        if need > avail:
            self.failed_writes += d.n
            return None
        self._zs = zs
        used = self.mem_used_pages = self.mem_used_pages + need
        if used > self.mem_used_max:
            self.mem_used_max = used
        self.pages_stored += d.n
        self.compr_data_size += d.compr_bytes
        self.same_pages += d.same
        self.huge_pages += d.huge
        self.huge_pages_since += d.huge
        return need

    def free(self, d: Draw) -> int:
        """zram_free_page() of the drawn objects (a swap-in released their slots); returns
        the zsmalloc pages given back. The pool shrinks with its class-rate sum, as if freed
        objects emptied zspages in order (no fragmentation: zs_compact() is not modelled)."""
        self._zs = max(0.0, self._zs - d.zs_pages)
        released = self.mem_used_pages - math.ceil(self._zs - 1e-9)
        self.mem_used_pages -= released
        self.slots_used = max(0, self.slots_used - d.n)
        self.pages_stored = max(0, self.pages_stored - d.n)
        self.compr_data_size = max(0, self.compr_data_size - d.compr_bytes)
        self.same_pages = max(0, self.same_pages - d.same)
        self.huge_pages = max(0, self.huge_pages - d.huge)
        return released

    def mm_stat(self) -> dict[str, int]:
        """The fields of /sys/block/zramN/mm_stat (see backends.zram_stats.MM_STAT_FIELDS)."""
        return zram_stats.mm_stat(
            pages_stored=self.pages_stored, compr_data_size=self.compr_data_size,
            mem_used_pages=self.mem_used_pages, limit_pages=0,
            max_used_pages=self.mem_used_max, same_pages=self.same_pages, pages_compacted=0,
            huge_pages=self.huge_pages, huge_pages_since=self.huge_pages_since)


def corpus_path(spec: str) -> Path:
    if spec.startswith("builtin:"):
        from kcompressd.corpus.builtin import builtin_corpus

        return builtin_corpus(spec.removeprefix("builtin:"))
    return Path(spec)


@dataclass(frozen=True)
class PageSizes:
    """What zram_write_page() would make of each page: same-filled, or its compressed length."""

    codec: str
    same_filled: np.ndarray  # bool
    comp_len: np.ndarray  # int32, codec output length; 0 for same-filled pages
    zero: np.ndarray  # bool: zero-filled (is_folio_zero_filled()), a subset of same_filled

    def __len__(self) -> int:
        return len(self.comp_len)

    def without_zero(self) -> PageSizes:
        """The pages that reach zram on a kernel with the swap zeromap (6.12 and later)."""
        keep = ~self.zero
        return PageSizes(self.codec, self.same_filled[keep], self.comp_len[keep],
                         self.zero[keep])


def page_sizes(pages: list[bytes], codec: str) -> PageSizes:
    """Same-filled test and compressed length of every page (no timing: deterministic)."""
    from kcompressd.backends.same_filled import page_same_filled
    from kcompressd.codecs import get_codec

    compress = get_codec(codec).compress
    same = np.zeros(len(pages), dtype=bool)
    zero = np.zeros(len(pages), dtype=bool)
    comp_len = np.zeros(len(pages), dtype=np.int32)
    for i, page in enumerate(pages):
        word = page_same_filled(page)
        if word is not None:
            same[i] = True
            zero[i] = word == 0
        else:
            comp_len[i] = len(compress(page))
    return PageSizes(codec, same, comp_len, zero)


@functools.cache
def corpus_sizes(spec: str, codec: str, max_pages: int) -> PageSizes:
    """`page_sizes()` of a corpus (`builtin:<profile>` or a file), cached per process and on disk.

    At most `max_pages` pages, spread evenly over the corpus, are taken. The disk cache (keyed
    by the pages and the codec) only saves time: a wiped cache recomputes the same sizes.
    """
    from kcompressd.cache import cache_dir
    from kcompressd.corpus.io import read_corpus_bytes

    data = read_corpus_bytes(corpus_path(spec))
    total = len(data) // PAGE_SIZE
    step = max(1, -(-total // max_pages))
    pages = [data[i * PAGE_SIZE:(i + 1) * PAGE_SIZE] for i in range(0, total, step)]
    h = hashlib.sha256()
    for p in pages:
        h.update(p)
    path = cache_dir() / f"sizes-{h.hexdigest()[:20]}-{codec}.npz"
    try:
        with np.load(path) as z:
            return PageSizes(codec, z["same_filled"], z["comp_len"], z["zero"])
    except (OSError, KeyError, ValueError):
        pass
    sizes = page_sizes(pages, codec)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".sizes-", suffix=".npz", dir=path.parent)
    except OSError:
        return sizes  # an unwritable cache only costs recomputing next time
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, same_filled=sizes.same_filled, comp_len=sizes.comp_len,
                     zero=sizes.zero)
        os.replace(tmp, path)
    except OSError:
        pass
    finally:
        Path(tmp).unlink(missing_ok=True)
    return sizes
