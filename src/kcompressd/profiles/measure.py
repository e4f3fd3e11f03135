"""Measuring a machine for a profile: codec costs on a corpus, and what the host is.

Used by `kcompressd calibrate` (absolute costs of this machine) and to record the shape of the
built-in profiles' codec tables.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from pathlib import Path

from kcompressd.corpus.measure import measure_pages
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
