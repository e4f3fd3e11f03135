"""Swap on a zram device: mkswap, swapon with a priority, swapoff; /proc/swaps.

Only the device of the run is touched: other swap areas keep their state, and the run's device
gets a priority above theirs so reclaim writes to it first (swap areas are used by priority,
get_swap_pages() in mm/swapfile.c).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from kcompressd.errors import KcompressdError
from kcompressd.kernel import sysfs
from kcompressd.kernel.restore import Restorer

PROC_SWAPS = Path("/proc/swaps")
# swapon(8) accepts priorities up to 32767; this is above what distributions give zram (100).
SWAP_PRIORITY = 32000


@dataclass(frozen=True)
class SwapArea:
    filename: str
    size: int  # bytes
    used: int  # bytes
    priority: int


def parse_swaps(text: str) -> list[SwapArea]:
    out = []
    for line in text.splitlines()[1:]:
        name, _type, size, used, prio = line.split()
        out.append(SwapArea(name, int(size) * 1024, int(used) * 1024, int(prio)))
    return out


def swap_areas() -> list[SwapArea]:
    return parse_swaps(sysfs.read(PROC_SWAPS))


def swap_area(device: str | Path) -> SwapArea | None:
    return next((a for a in swap_areas() if a.filename == str(device)), None)


def _run(*argv: str) -> None:
    try:
        subprocess.run(argv, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise KcompressdError(f"{argv[0]} not found (install util-linux)") from None
    except subprocess.CalledProcessError as e:
        msg = (e.stderr or e.stdout).strip().splitlines()
        raise KcompressdError(f"{' '.join(argv)} failed: {msg[-1] if msg else e}") from None


def swapoff(device: str | Path) -> None:
    """swapoff if the device is swapped on (idempotent, so it is a safe undo action)."""
    if swap_area(device) is not None:
        _run("swapoff", str(device))


def swapon(restorer: Restorer, device: str | Path, priority: int = SWAP_PRIORITY) -> None:
    """mkswap + swapon; the undo is registered first so a signal in between cannot leak it."""
    _run("mkswap", str(device))
    restorer.push(f"swap on {device}", lambda: swapoff(device))
    _run("swapon", "--priority", str(priority), str(device))
