"""`multi-kswapd`: several kswapd threads per node (Buddy Lumpkin's RFC, 2018).

`vm.kswapd_threads` (= `threads`, 1..16) kswapds per node are all woken by `wakeup_kswapd()`
and all run balance_pgdat() on the same node; each compresses its own writes synchronously.
Threads are named kswapd<node> and kswapd<node>:<i>, as in the RFC.
"""

from __future__ import annotations

from typing import ClassVar

from kcompressd.designs import register
from kcompressd.designs.base import Design, Param


class MultiKswapd(Design):
    name = "multi-kswapd"
    summary = "N kswapd threads per node all running balance_pgdat, each compressing itself"
    params: ClassVar[dict[str, Param]] = {
        "threads": Param(2, "vm.kswapd_threads: kswapds per node", 1, 16),
    }

    @property
    def kswapd_threads(self) -> int:
        return int(self.p["threads"])


register(MultiKswapd)
