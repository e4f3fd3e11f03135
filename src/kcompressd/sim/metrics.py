"""Derived reclaim metrics of any result (simulated or real): who reclaims, how well, at what CPU.

Why: pgsteal_anon alone hides whether kswapd or the allocating tasks did the work and what it
cost. These come from the result's own counters and thread CPU times, so a simulated and a
real result are summarised the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Background reclaim threads: kswapdN (and kswapdN:i) and the offload designs' workers:
# kcompressdN[:i], zram's zram0_compN, parallel-swapper's workqueue kworker/uN:M.
BACKGROUND = ("kswapd", "kcompressd", "zram0_comp", "kworker/")


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def reclaim_summary(result: Mapping[str, Any]) -> dict[str, float]:
    """kswapd's rates beside pgsteal_anon, reclaim efficiency and CPU per reclaimed page.

    - kswapd_pgsteal_per_s, kswapd_pgscan_per_s, pgsteal_anon_per_s: from `rates`;
    - kswapd_share: pgsteal_kswapd / pgsteal_anon (the rest is direct reclaim);
    - efficiency (pgsteal / pgscan) overall, for kswapd and for direct reclaim: how many scanned
      folios each reclaimer freed (re-scans of kept or queued folios lower it);
    - kswapd_cpu_us_per_page: kswapd threads' CPU per folio kswapd stole;
      background_cpu_us_per_page: kswapd plus offload workers, per folio kswapd stole (what
      background reclaim costs, wherever its compression ran).
    """
    vm, rates = result["vmstat"], result["rates"]
    cpu = result.get("cpu", {})
    kswapd_cpu = sum(v for k, v in cpu.items() if k.startswith("kswapd"))
    background = sum(v for k, v in cpu.items() if k.startswith(BACKGROUND))
    steal_k = vm.get("pgsteal_kswapd", 0)
    return {
        "kswapd_pgsteal_per_s": rates.get("pgsteal_kswapd", 0.0),
        "kswapd_pgscan_per_s": rates.get("pgscan_kswapd", 0.0),
        "pgsteal_anon_per_s": rates.get("pgsteal_anon", 0.0),
        "kswapd_share": _ratio(steal_k, vm.get("pgsteal_anon", 0)),
        "efficiency": _ratio(vm.get("pgsteal_kswapd", 0) + vm.get("pgsteal_direct", 0),
                             vm.get("pgscan_kswapd", 0) + vm.get("pgscan_direct", 0)),
        "kswapd_efficiency": _ratio(steal_k, vm.get("pgscan_kswapd", 0)),
        "direct_efficiency": _ratio(vm.get("pgsteal_direct", 0), vm.get("pgscan_direct", 0)),
        "kswapd_cpu_us_per_page": _ratio(kswapd_cpu * 1e6, steal_k),
        "background_cpu_us_per_page": _ratio(background * 1e6, steal_k),
    }
