"""/proc/vmstat counters and /proc/zoneinfo watermarks, in the kernel's own names.

`vmstat_delta` turns two snapshots into the result's `vmstat` section: every event counter
that moved (gauges, the `nr_*` fields, are not deltas and are left out) plus `allocstall`, the
sum of the per-zone `allocstall_*` counters that `__perform_reclaim()` callers bump.
"""

from __future__ import annotations

from pathlib import Path

from kcompressd.kernel import sysfs

VMSTAT = Path("/proc/vmstat")
ZONEINFO = Path("/proc/zoneinfo")
WATERMARKS = ("min", "low", "high")


def read_vmstat(path: Path = VMSTAT) -> dict[str, int]:
    out = {}
    for line in sysfs.read(path).splitlines():
        key, value = line.split()
        out[key] = int(value)
    return out


def is_event_counter(name: str) -> bool:
    """Monotonic event counters, as opposed to the `nr_*` gauges of vmstat_text[]."""
    return not name.startswith("nr_")


def vmstat_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Counter deltas (zero deltas dropped) plus `allocstall` = sum of allocstall_*."""
    delta = {
        k: after[k] - before.get(k, 0)
        for k in after
        if is_event_counter(k) and after[k] != before.get(k, 0)
    }
    delta["allocstall"] = sum(v for k, v in delta.items() if k.startswith("allocstall_"))
    return delta


def parse_watermarks(text: str) -> dict[str, int]:
    """Per-zone min/low/high summed over zones, in pages (what wakes kswapd is per zone,
    but a single-node machine's total is what the simulator's node-level counters show)."""
    out = dict.fromkeys(WATERMARKS, 0)
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in out:
            out[parts[0]] += int(parts[1])
    return out


def read_watermarks(path: Path = ZONEINFO) -> dict[str, int]:
    return parse_watermarks(sysfs.read(path))
