"""The memory eaters: child processes that fill anonymous memory with corpus pages.

Each eater maps its share of the workload (4 KiB pages: THP is switched off on the range with
MADV_NOHUGEPAGE, as anonymous memory on phones is) and prefills, untimed, its share of most of
the memory left in play, so that the measured window starts with memory nearly full. After the
start signal it copies corpus pages into the rest chunk by chunk, pass after pass, as fast as it
can until told to stop: once the workload outgrows the memory left to it, every new page has
to be made free by reclaim and every later pass faults back pages that reclaim swapped out, so
kswapd works for the whole window and the eaters fall into direct reclaim when it lags.
Every chunk is timed: its latency is what an allocating task suffers from reclaim.

Before a chunk is overwritten, what it holds is compared with the corpus slice last written
there, page by page: a page that comes back from swap different from what went out is data
corruption (a kernel bug, e.g. in an offload path), and it fails the run instead of passing
as a statistic.
"""

from __future__ import annotations

import ctypes
import mmap
import multiprocessing as mp
import os
import signal
import time
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from kcompressd import PAGE_SIZE

CHUNK_PAGES = 64
CHUNK_BYTES = CHUNK_PAGES * PAGE_SIZE
# Chunks slower than this (about 10x the median under pressure here) become "stall" slices on
# the eater's timeline track.
STALL_SLICE_NS = 10_000_000
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


@dataclass
class EaterReport:
    """What one eater did; latencies in microseconds, one per chunk."""

    index: int
    pid: int
    passes: int = 0
    chunks: int = 0
    latency_us: array = field(default_factory=lambda: array("f"))
    # (start, duration) in seconds of time.monotonic(), the clock the parent samples with
    stalls: list[tuple[float, float]] = field(default_factory=list)
    pages_checked: int = 0
    corrupt_pages: int = 0
    first_corrupt_offset: int = -1  # byte offset in the eater's mapping


_libc = ctypes.CDLL(None, use_errno=True)
_memcmp = _libc.memcmp
_memcmp.restype = ctypes.c_int
_memcmp.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)


def check_chunk(report: EaterReport, chunk: int, expected: int, off: int) -> None:
    """Count the pages at address `chunk` that differ from those at `expected` (memcmp: a
    Python-level comparison would cost more than the copy it guards)."""
    report.pages_checked += CHUNK_PAGES
    if _memcmp(chunk, expected, CHUNK_BYTES) == 0:
        return
    for i in range(0, CHUNK_BYTES, PAGE_SIZE):
        if _memcmp(chunk + i, expected + i, PAGE_SIZE) != 0:
            report.corrupt_pages += 1
            if report.first_corrupt_offset < 0:
                report.first_corrupt_offset = off + i


def corpus_source(corpus: bytes) -> tuple[bytes, int]:
    """The buffer chunks are copied from and its period, a whole number of chunks, so that a
    chunk at any chunk-aligned offset below the period is one contiguous slice (no copy of a
    large corpus; a corpus smaller than a chunk is repeated)."""
    if len(corpus) < CHUNK_BYTES:
        corpus = corpus * CHUNK_PAGES
    return corpus, len(corpus) // CHUNK_BYTES * CHUNK_BYTES


def _become_eater(index: int) -> None:
    """Die with the parent, even if it is SIGKILLed (PR_SET_PDEATHSIG), and carry the name
    eaterN in ps, top and perf (PR_SET_NAME)."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _libc.prctl(_PR_SET_NAME, ctypes.c_char_p(f"eater{index}".encode()), 0, 0, 0)


def eat(index: int, size: int, prefill: int, corpus: bytes, start: mp.synchronize.Event,
        stop: mp.sharedctypes.Synchronized, conn: Connection) -> None:
    """Body of one eater process: prefill, report ready, wait for the start, eat until stopped."""
    _become_eater(index)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    report = EaterReport(index, os.getpid())
    src, period = corpus_source(corpus)
    view = memoryview(src)
    mem = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    mem.madvise(mmap.MADV_NOHUGEPAGE)
    buf = memoryview(mem)
    mem_addr = ctypes.addressof(ctypes.c_char.from_buffer(mem))
    src_addr = ctypes.cast(ctypes.c_char_p(src), ctypes.c_void_p).value or 0
    # The corpus offset last written to each chunk (-1: never written), for the check.
    written = array("q", [-1]) * (size // CHUNK_BYTES)
    # Eaters start at different corpus offsets so they do not write identical memory.
    pos = (index * 7919 * CHUNK_BYTES) % period
    for off in range(0, prefill, CHUNK_BYTES):
        buf[off : off + CHUNK_BYTES] = view[pos : pos + CHUNK_BYTES]
        written[off // CHUNK_BYTES] = pos
        pos = (pos + CHUNK_BYTES) % period
    conn.send(None)
    clock = time.monotonic_ns
    lat = report.latency_us
    off = prefill
    start.wait()
    while not stop.value:
        t = clock()
        last = written[off // CHUNK_BYTES]
        if last >= 0:
            check_chunk(report, mem_addr + off, src_addr + last, off)
        buf[off : off + CHUNK_BYTES] = view[pos : pos + CHUNK_BYTES]
        written[off // CHUNK_BYTES] = pos
        dt = clock() - t
        lat.append(dt / 1000)
        if dt >= STALL_SLICE_NS:
            report.stalls.append((t / 1e9, dt / 1e9))
        pos = (pos + CHUNK_BYTES) % period
        off += CHUNK_BYTES
        if off >= size:
            off = 0
            report.passes += 1
    report.chunks = len(lat)
    conn.send(report)
    conn.close()


class Eaters:
    """`threads` eater processes sharing one start event and one stop flag."""

    def __init__(self, threads: int, per_eater_bytes: int, prefill_bytes: int, corpus: bytes):
        if per_eater_bytes % CHUNK_BYTES or prefill_bytes % CHUNK_BYTES:
            raise ValueError(f"eater sizes must be whole chunks of {CHUNK_BYTES} bytes")
        ctx = mp.get_context("fork")
        self.start_event = ctx.Event()
        self.stop_flag = ctx.Value("b", 0, lock=False)
        self.procs: list[mp.Process] = []
        self._conns: list[Connection] = []
        for i in range(threads):
            recv, send = ctx.Pipe(duplex=False)
            p = ctx.Process(target=eat, name=f"eater{i}", daemon=True,
                            args=(i, per_eater_bytes, prefill_bytes, corpus, self.start_event,
                                  self.stop_flag, send))
            p.start()
            send.close()
            self.procs.append(p)
            self._conns.append(recv)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    def wait_ready(self, timeout: float) -> bool:
        """Wait until every eater has prefilled; False if one died or the time ran out."""
        deadline = time.monotonic() + timeout
        for conn in self._conns:
            try:
                if not conn.poll(max(0.0, deadline - time.monotonic())):
                    return False
                conn.recv()
            except EOFError:
                return False
        return True

    def go(self) -> None:
        self.start_event.set()

    def alive(self) -> int:
        return sum(p.is_alive() for p in self.procs)

    def stop(self, timeout: float = 30.0) -> list[EaterReport | None]:
        """Ask every eater to stop and collect its report (None if it died, e.g. OOM-killed)."""
        self.stop_flag.value = 1
        reports: list[EaterReport | None] = []
        for conn in self._conns:
            try:
                reports.append(conn.recv() if conn.poll(timeout) else None)
            except EOFError:
                reports.append(None)
        self.kill()
        return reports

    def kill(self) -> None:
        """SIGKILL and reap every eater (the undo action: frees their memory at once)."""
        for p in self.procs:
            if p.is_alive():
                p.kill()
        for p in self.procs:
            p.join(timeout=10)
        for conn in self._conns:
            conn.close()
