"""Measuring a machine for a profile: codec costs on a corpus, the bench eater's own work per
page, and what the host is.

Used by `kcompressd calibrate` (absolute costs of this machine) and to record the shape of the
built-in profiles' codec tables.
"""

from __future__ import annotations

import mmap
import os
import platform
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kcompressd.corpus.measure import measure_pages
from kcompressd.kernel.workload import (
    CHUNK_BYTES,
    CHUNK_PAGES,
    EaterReport,
    check_chunk,
    corpus_source,
)
from kcompressd.profiles.codec_costs import CodecCosts, fit

REPEAT = 5  # timings per page; the minimum is kept (see corpus.measure)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (the machine's name in a source string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine() or "unknown CPU"


def measure_codecs(pages: Sequence[bytes], codecs: Sequence[str], corpus: str,
                   *, repeat: int = REPEAT) -> dict[str, CodecCosts]:
    """Fitted cost tables of each codec on `pages` (same-filled pages excluded)."""
    out = {}
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    for codec in codecs:
        m = measure_pages(pages, codec, repeat=repeat)
        sel = ~m.same_filled
        src = (f"measured {stamp} on {cpu_model()} ({platform.node() or 'host'}), "
               f"{int(sel.sum())} pages of {corpus}, min of {repeat} timings per page, "
               "median per 256-byte bucket of compressed length")
        out[codec] = fit(codec, m.comp_len[sel], m.compress_ns[sel], m.decompress_ns[sel], src)
    return out


EATER_MIB = 64  # region the eater loop is timed on: far beyond the CPU caches


def measure_eater(corpus: bytes, *, mib: int = EATER_MIB, repeat: int = 3) -> dict[str, float]:
    """ns per page of the bench eater's loop (kernel.workload.eat) on this machine, no reclaim
    involved: `touch` writes corpus chunks into new anonymous pages (the faults included),
    `revisit` checks and rewrites resident ones, `copy` only rewrites them; `fault` = touch -
    copy is the anonymous fault itself (do_anonymous_page(), clear_page()). Minimum of
    `repeat` passes, each on a fresh mapping."""
    from ctypes import addressof, c_char, c_char_p, c_void_p, cast

    src, period = corpus_source(corpus)
    view = memoryview(src)
    src_addr = cast(c_char_p(src), c_void_p).value or 0
    size = mib << 20
    chunks = size // CHUNK_BYTES
    report = EaterReport(0, 0)
    best = {"touch": float("inf"), "revisit": float("inf"), "copy": float("inf")}
    clock = time.perf_counter_ns
    for _ in range(repeat):
        mem = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        mem.madvise(mmap.MADV_NOHUGEPAGE)
        buf = memoryview(mem)
        base = addressof(c_char.from_buffer(mem))
        for name in ("touch", "revisit", "copy"):
            t0 = clock()
            for c in range(chunks):
                off, pos = c * CHUNK_BYTES, (c * CHUNK_BYTES) % period
                if name == "revisit":
                    check_chunk(report, base + off, src_addr + pos, off)
                buf[off:off + CHUNK_BYTES] = view[pos:pos + CHUNK_BYTES]
            best[name] = min(best[name], (clock() - t0) / (chunks * CHUNK_PAGES))
        buf.release()
        mem.close()
    best["fault"] = max(0.0, best["touch"] - best["copy"])
    return best


@dataclass(frozen=True)
class SwitchCosts:
    """µs per context switch on one CPU. `thread`: to another thread of the same process, or
    to or from a kernel thread (which borrows the last address space, enter_lazy_tlb()); `mm`:
    the extra when the next task is another process and its address space is loaded
    (switch_mm_irqs_off(): a TLB flush; in an emulated CPU this dominates)."""

    thread: float
    mm: float


def _best_pass(write_fd: int, read_fd: int, round_trips: int, repeat: int) -> float:
    """µs per write-and-read pass, minimum of `repeat` timings of `round_trips` passes."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(round_trips):
            os.write(write_fd, b"x")
            os.read(read_fd, 1)
        best = min(best, (time.perf_counter() - t0) / round_trips * 1e6)
    return best


def _echo(read_fd: int, write_fd: int) -> None:
    while os.read(read_fd, 1) == b"x":
        os.write(write_fd, b"x")


def _ping_pong(as_process: bool, round_trips: int, repeat: int) -> float:
    """µs per round trip of a byte to an echoing thread or forked process on this CPU."""
    a_r, a_w = os.pipe()
    b_r, b_w = os.pipe()
    if as_process:
        pid = os.fork()
        if pid == 0:  # the echo side, until the parent says stop
            try:
                _echo(a_r, b_w)
            finally:
                os._exit(0)
        echo = None
    else:
        echo = threading.Thread(target=_echo, args=(a_r, b_w), daemon=True)
        echo.start()
    try:
        return _best_pass(a_w, b_r, round_trips, repeat)
    finally:
        os.write(a_w, b"q")
        if echo is None:
            os.waitpid(pid, 0)
        else:
            echo.join()
        for fd in (a_r, a_w, b_r, b_w):
            os.close(fd)


def measure_context_switch(round_trips: int = 2000, repeat: int = 5) -> SwitchCosts:
    """lmbench's lat_ctx on one CPU: a byte passed back and forth over pipes, each pass a
    wake-up and a switch, to a thread of this process and to a forked process; half a round
    trip less the pipe's own cost (a write and a read without a switch), minimum of `repeat`
    timings. `thread` is what an offload worker and kswapd pay each time one hands the CPU to
    the other; `mm` what a switch between two eaters pays more."""
    cpu = min(os.sched_getaffinity(0))
    old = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {cpu})  # the echo side inherits it
        r, w = os.pipe()
        try:
            pipe = _best_pass(w, r, round_trips, repeat)
        finally:
            os.close(r)
            os.close(w)
        threads = _ping_pong(False, round_trips, repeat) / 2
        processes = _ping_pong(True, round_trips, repeat) / 2
    finally:
        os.sched_setaffinity(0, old)
    return SwitchCosts(max(0.0, threads - pipe), max(0.0, processes - threads))
