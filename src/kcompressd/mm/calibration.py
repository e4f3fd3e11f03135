"""Per-page CPU costs derived from the v1 thread's two facts, nothing tuned.

Facts (scenario keys `calibration.*`, from the v1 cover letter and review): on the phone,
kswapd alone reclaims about `kswapd_pgsteal_per_s` = 300,000 anon pages per second, and its CPU
time splits `1 - compress_share` : `compress_share` = 3 : 7 between scanning/unmapping and
compressing. Assuming kswapd is busy all the time in that measurement (the memory eater
allocates faster than it reclaims), one stolen page costs T = 1 / kswapd_pgsteal_per_s seconds
of a speed-1.0 CPU, of which

- t2 = compress_share * T is zram's write (compression and store). Dividing by the mean codec
  cost measured on this machine for the corpus gives the one factor that turns this machine's
  nanoseconds into simulated seconds (`seconds_per_host_ns`): each page keeps its measured cost
  relative to the others;
- t1 = T - t2 is scanning and unmapping. A page scanned in `shrink_folio_list()` costs `scan`;
  one unmapped and added to swap (try_to_unmap, folio_alloc_swap) costs `unmap`. The thread does
  not say how t1 divides; `unmap_share` (an assumption, default one half) does. Pages of a
  touch-once eater are scanned twice per steal: `folio_check_references()` keeps a folio whose
  only reference is the young PTE of its fault (FOLIOREF_KEEP) and reclaims it the next time,
  hence SCANS_PER_STEAL.

"kswapd alone" is read as kswapd's own reclaim: the calibration pins pgsteal_kswapd (with
kswapd saturated), not pgsteal_anon, which also counts what the allocating threads reclaim
directly; how much that adds depends on how fast the workload allocates (`workload.touch_us`,
an estimate, not a fact of the thread).

Every other outcome (rates with other designs, stalls, CPU of other threads) comes out of the
mechanics with these costs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

SCANS_PER_STEAL = 2  # look-twice rule for a folio mapped once (folio_check_references)


@dataclass(frozen=True)
class Costs:
    seconds_per_host_ns: float  # zram write cost scale: host ns -> simulated s at speed 1.0
    scan: float  # s per page scanned (isolate, folio_check_references, putback or free)
    unmap: float  # s per page unmapped and given a swap slot
    slowdown_vs_host: float  # simulated CPU (speed 1.0) time per second of this machine

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def derive_costs(kswapd_pgsteal_per_s: float, compress_share: float, unmap_share: float,
                 mean_host_compress_ns: float) -> Costs:
    """The derivation of the module docstring."""
    if mean_host_compress_ns <= 0:
        raise ValueError("the corpus has no compressible page to calibrate against")
    per_page = 1.0 / kswapd_pgsteal_per_s
    t2 = compress_share * per_page
    t1 = per_page - t2
    scale = t2 / mean_host_compress_ns
    return Costs(
        seconds_per_host_ns=scale,
        scan=(1 - unmap_share) * t1 / SCANS_PER_STEAL,
        unmap=unmap_share * t1,
        slowdown_vs_host=scale * 1e9,
    )
