"""Measuring a machine for a profile: codec costs on a corpus, the bench eater's own work per
page, and what the host is.

Used by `kcompressd calibrate` (absolute costs of this machine) and to record the shape of the
built-in profiles' codec tables.
"""

from __future__ import annotations

import mmap
import os
import platform
import time
from collections.abc import Sequence
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


def measure_context_switch(round_trips: int = 2000, repeat: int = 5) -> float:
    """µs per switch from one task to another on one CPU: two processes pinned to the same
    CPU pass a byte back and forth over pipes (lmbench's lat_ctx), each pass a wake-up and a
    switch; half a round trip, minimum of `repeat` timings. The cost an offload worker pays
    each time kswapd wakes it, and kswapd when it gets the CPU back."""
    cpu = min(os.sched_getaffinity(0))
    a_r, a_w = os.pipe()
    b_r, b_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the echo side, until the parent closes its end
        try:
            os.close(a_w)
            os.close(b_r)
            os.sched_setaffinity(0, {cpu})
            while os.read(a_r, 1):
                os.write(b_w, b"x")
        finally:
            os._exit(0)
    os.close(a_r)
    os.close(b_w)
    old = os.sched_getaffinity(0)
    best = float("inf")
    try:
        os.sched_setaffinity(0, {cpu})
        for _ in range(repeat):
            t0 = time.perf_counter()
            for _ in range(round_trips):
                os.write(a_w, b"x")
                os.read(b_r, 1)
            best = min(best, (time.perf_counter() - t0) / round_trips / 2 * 1e6)
    finally:
        os.sched_setaffinity(0, old)
        os.close(a_w)
        os.close(b_r)
        os.waitpid(pid, 0)
    return best
