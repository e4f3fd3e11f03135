"""The interface every offload design implements, and the pieces designs share.

A design answers three questions for each batch a reclaimer writes out in `swap_writepage()`:
where the pages go (compressed now in the caller, queued, or handed to a device), who
compresses them (the caller, a worker thread, an accelerator), and when they complete (now: the
reclaimer frees them in the same pass; later, in one of two ways the kernel distinguishes:
a folio queued *locked, before writeback* (v2, the unofficial port, parallel-swapper) goes back
to the inactive head at once and its writer turns it clean in place, no rotation
(`MemorySystem.queue_locked` / `write_queued`); a folio whose *writeback* was started and
handed to a device (v1, zram-async) is off the LRU until `folio_end_writeback()` rotates it to
the inactive tail, counted in pgrotated (`start_writeback` / `end_writeback`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from mypy_extensions import mypyc_attr

from kcompressd.backends.zram_cost import Draw
from kcompressd.sim.core import RUN, SLEEP, Thread

if TYPE_CHECKING:
    from kcompressd.mm.node import Node
    from kcompressd.mm.system import MemorySystem, ScanControl


@dataclass(frozen=True)
class Param:
    """One `design.*` parameter: its default and allowed range."""

    default: int | float | bool
    help: str
    minimum: float | None = None
    maximum: float | None = None


class WriteOutcome(NamedTuple):
    """What became of the n pages: sync + queued + done.n == n."""

    sync: int  # to compress in the caller's context now: freed in this reclaim pass
    queued: int  # handed off (the design called start_writeback): completed later
    done: Draw | None = None  # written synchronously by a device (no CPU in the caller)


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled (setup.py), the designs are not
class Design:
    """Base: `none` behaviour (everything synchronous) and the plumbing."""

    name: ClassVar[str]
    summary: ClassVar[str]
    params: ClassVar[dict[str, Param]] = {}
    def __init__(self, params: dict[str, Any]) -> None:
        self.p = params
        self.mm: MemorySystem  # set by attach(), before any other call

    def offloads(self, sc: ScanControl) -> bool:
        """Whether this caller's pages may leave it: then `swap_writepage()` decides.

        False (the default, and `none`): the caller compresses every page itself, in the same
        work segment as its scan and unmap. True: the caller runs its scan and unmap first
        (pages are unmapped before they are handed on), then `swap_writepage()` decides, without
        running anything, and what stays synchronous is compressed after.
        """
        return False

    def interleaves(self, sc: ScanControl) -> bool:
        """Whether this caller's pages go through `swap_writepage_interleaved()` instead.

        That generator runs the caller's per-page scan and unmap itself (`sc.page_cost` per
        page, as it hands pages on), so it can interleave them with its own work or block
        (queues shallower than a batch, blocking queues, devices).
        """
        return False

    @property
    def kswapd_threads(self) -> int:
        """kswapd threads per node running balance_pgdat."""
        return 1

    def attach(self, mm: MemorySystem) -> None:
        """Create the design's threads (called once the nodes and kswapds exist)."""
        self.mm = mm

    def swap_writepage(self, sc: ScanControl, node: Node, n: int) -> WriteOutcome:
        """Decide for n unmapped anon pages with swap slots (when `offloads(sc)`).

        Pages handed off must go through `mm.start_writeback(node, k)` when queued and
        `mm.end_writeback(node, k, draw)` once stored.
        """
        return WriteOutcome(n, 0)

    def swap_writepage_interleaved(self, sc: ScanControl, node: Node, n: int
                                   ) -> Generator[tuple, Any, WriteOutcome]:
        """The same for callers `interleaves()` accepts: a generator that may run or block."""
        raise NotImplementedError
        yield  # pragma: no cover - makes this a generator

    def queue_depth(self) -> int:
        """Pages waiting in the design's queues (timeline counter)."""
        return 0

    def warnings(self) -> list[str]:
        """Conditions the real design would not survive, seen during the run (for meta)."""
        return []


class PageFifo:
    """A kfifo of pages as runs of [node, count]: FIFO order kept, no per-page objects."""

    __slots__ = ("capacity", "locked", "pages", "producers", "runs")

    def __init__(self, capacity: int, *, locked: bool) -> None:
        """`locked`: folios are queued locked before writeback (see the module docstring)."""
        self.capacity = capacity
        self.locked = locked
        self.pages = 0
        self.runs: deque[list] = deque()
        self.producers: set[str] = set()  # names of threads that ever queued (tests, checks)

    @property
    def room(self) -> int:
        return self.capacity - self.pages

    def put(self, mm: MemorySystem, node: Node, n: int, producer: str) -> None:
        """kfifo_in of n pages: back on the LRU locked, or under writeback."""
        if n <= 0:
            return
        if n > self.room:
            raise AssertionError("kfifo_in beyond capacity")
        if self.locked:
            mm.queue_locked(node, n)
        else:
            mm.start_writeback(node, n)
        self.producers.add(producer)
        runs = self.runs
        if runs and runs[-1][0] is node:
            runs[-1][1] += n
        else:
            runs.append([node, n])
        self.pages += n

    def complete(self, mm: MemorySystem, node: Node, k: int, d: Draw) -> None:
        """k pages taken from this fifo were compressed into `d`: complete them."""
        if self.locked:
            mm.write_queued(node, k, d)
        else:
            mm.end_writeback(node, k, d)

    def take_one(self) -> Node:
        """kfifo_out(&fifo, &folio, 1): the oldest folio's node (the fifo is not empty)."""
        run = self.runs[0]
        if run[1] == 1:
            self.runs.popleft()
        else:
            run[1] -= 1
        self.pages -= 1
        return run[0]

    def take(self, k: int) -> list[tuple[Node, int]]:
        """kfifo_out of up to k pages, oldest first."""
        out = []
        runs = self.runs
        while k > 0 and runs:
            run = runs[0]
            if run[1] <= k:
                runs.popleft()
                out.append((run[0], run[1]))
                k -= run[1]
            else:
                run[1] -= k
                out.append((run[0], k))
                k = 0
        self.pages -= sum(n for _, n in out)
        return out


def compress_worker(mm: MemorySystem, fifo: PageFifo, *, batch: int = 1, memalloc: bool = True,
                    on_take: Callable[[], None] | None = None, counter: str | None = None
                    ) -> Generator[tuple, Any, None]:
    """A kcompressd-style worker: sleep while the fifo is empty, then drain it.

    The kernel patches' workers take one folio at a time (`kfifo_out(..., 1)`), compress and
    store it in their own context, and complete it; `batch` > 1 is for designs that take
    several (zram-async's compress batching). A folio leaves the fifo only when the worker
    takes it, so producers see the queue as full as it really is. With `memalloc` the worker
    runs PF_MEMALLOC|PF_KSWAPD (v1, the unofficial port): zsmalloc ignores watermarks. Without
    it (the posted v2), `zs_malloc()` obeys them and can enter direct reclaim
    (`zram_writestall`). `on_take` runs whenever room was made in the fifo; the vmstat
    `counter`, if any, counts the folios written.
    """
    th = mm.sim.current
    assert th is not None
    draw, draw_many = mm.sampler.draw, mm.sampler.draw_many
    account_compress = mm.account_compress
    take_one = fifo.take_one
    vm = mm.vm
    complete = mm.write_queued if fifo.locked else mm.end_writeback  # PageFifo.complete
    while True:
        while not fifo.pages:
            yield SLEEP
        mm.slice_begin(th, "compress")
        while fifo.pages:
            if batch == 1:  # the kernel's workers: one folio, compressed, stored, completed
                node = take_one()
                if on_take is not None:
                    on_take()
                d = draw(1)
                account_compress(th, d.cost)
                yield (RUN, d.cost)
                if not memalloc and zs_malloc_would_stall(mm, node, d):
                    yield from zram_writestall(mm, th, node, d)
                complete(node, 1, d)
                if counter is not None:
                    vm[counter] += 1
                continue
            taken = fifo.take(batch)
            if on_take is not None:
                on_take()
            done = [(node, k, draw_many(k)) for node, k in taken]
            cost = sum(d.cost for _, _, d in done)
            mm.account_compress(th, cost)
            yield (RUN, cost)
            for node, k, d in done:
                if not memalloc and zs_malloc_would_stall(mm, node, d):
                    yield from zram_writestall(mm, th, node, d)
                complete(node, k, d)
                if counter is not None:
                    vm[counter] += k
        mm.slice_end(th)


def zs_malloc_would_stall(mm: MemorySystem, node: Node, d: Draw) -> bool:
    """Whether storing `d` in a task without PF_MEMALLOC takes the node below its min
    watermark, so that the first `zs_malloc()` (__GFP_KSWAPD_RECLAIM) fails."""
    return node.free - mm.store.zspages_needed(d) < node.wmark.min


def zram_writestall(mm: MemorySystem, th: Thread, node: Node, d: Draw
                    ) -> Generator[tuple, Any, None]:
    """zram_write_page() in a task without PF_MEMALLOC whose first `zs_malloc()` failed
    (`zs_malloc_would_stall`), before it stores `d`.

    zram counts a writestall, allocates again with GFP_NOIO (direct reclaim allowed:
    `__alloc_pages_slowpath()` -> `try_to_free_pages()`, one allocstall per call) and then
    compresses the page again (`compress_again`). Without __GFP_IO that reclaim cannot swap
    out anon folios, only free those already written; a worker is a kernel thread, never
    throttled on pfmemalloc_wait. An order-0 GFP_NOIO allocation does not fail: without
    __GFP_FS `out_of_memory()` reports progress and the slow path retries, so the worker
    reclaims until the page is there (only where its passes can do nothing, nothing left on
    the LRU or no swap slot to scan for, and the kernel would spin without a change, the
    model stops and lets the store try the reserves).
    """
    from kcompressd.mm.page_alloc import reclaim_for

    mm.vm["zram_writestall"] += 1
    mm.wakeup_kswapd(node)
    while node.lru.pages:
        t = mm.sim.now
        got = yield from reclaim_for(mm, th, [node], mm.store.zspages_needed(d), kthread=True,
                                     may_io=False)
        if got is not None or mm.sim.now == t:
            break
    mm.account_compress(th, d.cost)
    yield (RUN, d.cost)


def folios_per_step(workers: Sequence[Thread], k: int) -> int:
    """How many of `k` folios a reclaimer may hand its queue in one step: all of them while
    every worker is on a CPU, else one. A worker that is woken, or waits for the CPU, can get
    it between two folios (the reclaimer preempted there) and must find the queue as the
    kernel leaves it then, folio by folio."""
    return k if all(w.running for w in workers) else 1


def kick_workers(mm: MemorySystem, workers: list[Thread], fifo: PageFifo, batch: int) -> None:
    """Wake sleeping workers, one per `batch` queued pages not already being served."""
    busy = sum(1 for w in workers if not w.sleeping)
    want = -(-fifo.pages // batch) - busy
    for w in workers:
        if want <= 0:
            return
        if w.sleeping:
            mm.sim.wake(w)
            want -= 1
