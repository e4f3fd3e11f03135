"""`none`: the synchronous baseline; every writer compresses in its own context."""

from __future__ import annotations

from kcompressd.designs import register
from kcompressd.designs.base import Design


class NoOffload(Design):
    name = "none"
    summary = "baseline: kswapd and direct reclaim compress synchronously (zram today)"


register(NoOffload)
