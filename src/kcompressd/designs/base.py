"""The interface every offload design implements, and the pieces designs share.

A design answers three questions for each batch a reclaimer writes out in `swap_writepage()`:
where the pages go (compressed now in the caller, queued, or handed to a device), who
compresses them (the caller, a worker thread, an accelerator), and when they complete (now: the
reclaimer frees them in the same pass; later: `MemorySystem.end_writeback()` rotates them to the
inactive tail and a later scan frees them).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from kcompressd.backends.zram_cost import SWAP_CLUSTER_MAX, Draw
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


class Design:
    """Base: `none` behaviour (everything synchronous) and the plumbing."""

    name: ClassVar[str]
    summary: ClassVar[str]
    params: ClassVar[dict[str, Param]] = {}
    def __init__(self, params: dict[str, Any]) -> None:
        self.p = params
        self.mm: MemorySystem | None = None

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

    __slots__ = ("capacity", "pages", "producers", "runs")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.pages = 0
        self.runs: deque[list] = deque()
        self.producers: set[str] = set()  # names of threads that ever queued (tests, checks)

    @property
    def room(self) -> int:
        return self.capacity - self.pages

    def put(self, mm: MemorySystem, node: Node, n: int, producer: str) -> None:
        """kfifo_in of n pages, which go under writeback."""
        if n <= 0:
            return
        if n > self.room:
            raise AssertionError("kfifo_in beyond capacity")
        mm.start_writeback(node, n)
        self.producers.add(producer)
        runs = self.runs
        if runs and runs[-1][0] is node:
            runs[-1][1] += n
        else:
            runs.append([node, n])
        self.pages += n

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


# A worker with a deep queue compresses up to this many pages per work segment (completing
# them together at its end), a few hundred µs of work: fewer events, same throughput.
WORKER_CHUNK = 4 * SWAP_CLUSTER_MAX


def compress_worker(mm: MemorySystem, fifo: PageFifo, *, batch: int = WORKER_CHUNK,
                    on_take: Callable[[], None] | None = None) -> Generator[tuple, Any, None]:
    """A kcompressd-style worker: sleep while the fifo is empty, then drain it.

    Chunks of up to `batch` pages are compressed and stored in the worker's own context, then
    completed (`bio_endio()` / `folio_end_writeback()`): the pages rotate to the inactive tail.
    `on_take` runs whenever room was made in the fifo.
    """
    th = mm.sim.current
    assert th is not None
    draw_many = mm.sampler.draw_many
    while True:
        while not fifo.pages:
            yield SLEEP
        mm.slice_begin(th, "compress")
        while fifo.pages:
            taken = fifo.take(batch)
            if on_take is not None:
                on_take()
            done = [(node, k, draw_many(k)) for node, k in taken]
            cost = sum(d.cost for _, _, d in done)
            mm.account_compress(th, cost)
            yield (RUN, cost)
            for node, k, d in done:
                mm.end_writeback(node, k, d)
        mm.slice_end(th)


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
