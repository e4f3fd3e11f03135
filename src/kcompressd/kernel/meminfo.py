"""/proc/meminfo as numbers: what the plan and the safety floor are computed from."""

from __future__ import annotations

from pathlib import Path

from kcompressd.kernel import sysfs

MEMINFO = Path("/proc/meminfo")


def parse_meminfo(text: str) -> dict[str, int]:
    """Sizes in bytes ("kB" fields times 1024); unit-less fields (HugePages_*) as counts."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if not parts:
            continue
        value = int(parts[0])
        out[key] = value * 1024 if parts[1:] == ["kB"] else value
    return out


def read_meminfo(path: Path = MEMINFO) -> dict[str, int]:
    return parse_meminfo(sysfs.read(path))
