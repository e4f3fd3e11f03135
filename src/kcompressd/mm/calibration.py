"""Per-page CPU costs from a machine profile: the thread's facts, or a measured machine.

Facts (profile kind "facts", scenario keys `calibration.*`, from the v1 cover letter and
review): on the phone, kswapd alone reclaims about `kswapd_pgsteal_per_s` = 300,000 anon pages
per second, and its CPU time splits `1 - compress_share` : `compress_share` = 3 : 7 between
scanning/unmapping and compressing. Assuming kswapd is busy all the time in that measurement
(the memory eater allocates faster than it reclaims), one stolen page costs
T = 1 / kswapd_pgsteal_per_s seconds of a speed-1.0 CPU, of which

- t2 = compress_share * T is zram's write (compression and store). The profile's codec table
  gives each page's cost relative to the others as a function of its compressed length; it is
  scaled so that the scenario corpus's mean is t2 (`compress_scale`);
- t1 = T - t2 is scanning and unmapping. A page scanned in `shrink_folio_list()` costs `scan`;
  one unmapped and added to swap (try_to_unmap, folio_alloc_swap) costs `unmap`. The thread does
  not say how t1 divides; `unmap_share` (an assumption, default one half) does. On the classic
  LRU, pages of a touch-once eater are scanned twice per steal: `folio_check_references()`
  keeps a folio whose only reference is the young PTE of its fault (FOLIOREF_KEEP) and
  reclaims it the next time, hence SCANS_PER_STEAL. Under MGLRU the aging walk has cleared that
  bit before the folio reaches the oldest generation: one scan per steal (the walk's own cost,
  `Costs.walk`, is left out of the derivation: the thread gives nothing to split it by).

"kswapd alone" is read as kswapd's own reclaim: the calibration pins pgsteal_kswapd (with
kswapd saturated), not pgsteal_anon, which also counts what the allocating threads reclaim
directly.

A measured profile (kind "measured", written by `kcompressd calibrate`) gives scan, unmap and
the store step's write in ns per page and the codec table in ns: nothing is derived.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from kcompressd.profiles import Profile

SCANS_PER_STEAL = 2  # look-twice rule for a folio mapped once (folio_check_references)
# MGLRU's page-table walk (walk_pte_range()) tests and clears the accessed bit of a PTE with no
# isolation, rmap walk or lock: assumed to cost this fraction of a folio scanned in
# shrink_folio_list(). An assumption, not a measurement.
WALK_FRACTION_OF_SCAN = 1 / 8


@dataclass(frozen=True)
class Costs:
    """What the reclaim path charges, in seconds of a speed-1.0 CPU."""

    scan: float  # per page scanned (isolate, folio_check_references, putback or free)
    unmap: float  # per page unmapped and given a swap slot
    compress_scale: float  # seconds per ns of the profile's codec table
    # per page stored, the store step besides the codec (bio, writeback flags): charged with
    # the compression, so it goes with the folio to whoever stores it
    write: float = 0.0

    @property
    def walk(self) -> float:
        """Per PTE visited by MGLRU's aging walk (see WALK_FRACTION_OF_SCAN)."""
        return self.scan * WALK_FRACTION_OF_SCAN

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def derive_costs(kswapd_pgsteal_per_s: float, compress_share: float, unmap_share: float,
                 mean_table_ns: float, lru: str = "classic") -> Costs:
    """The derivation of the module docstring, for a corpus whose mean table cost is given."""
    scans = SCANS_PER_STEAL if lru == "classic" else 1
    if mean_table_ns <= 0:
        raise ValueError("the corpus has no compressible page to calibrate against")
    per_page = 1.0 / kswapd_pgsteal_per_s
    t2 = compress_share * per_page
    t1 = per_page - t2
    return Costs(scan=(1 - unmap_share) * t1 / scans, unmap=unmap_share * t1,
                 compress_scale=t2 / mean_table_ns)


def profile_costs(profile: Profile, facts: dict[str, float], mean_table_ns: float,
                  lru: str = "classic") -> Costs:
    """Costs of `profile`; `facts` are the scenario's calibration.* (used by facts profiles,
    derived for the scenario's LRU)."""
    if profile.kind == "facts":
        return derive_costs(facts["kswapd_pgsteal_per_s"], facts["compress_share"],
                            facts["unmap_share"], mean_table_ns, lru)
    write = profile.reclaim.get("write_ns")
    return Costs(scan=profile.reclaim["scan_ns"].value * 1e-9,
                 unmap=profile.reclaim["unmap_ns"].value * 1e-9, compress_scale=1e-9,
                 write=write.value * 1e-9 if write else 0.0)
