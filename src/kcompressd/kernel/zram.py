"""Real zram devices: find or hot-add a free one, configure it, read its stats, reset it.

Models nothing; it is the ground truth the model is held against. A device is "free" when its
disksize is 0 (not initialised), which also means it is neither mounted nor swapped on.
"""

from __future__ import annotations

import errno
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kcompressd.backends.zram_stats import (
    IO_STAT_FIELDS,
    MM_STAT_FIELDS,
    parse_debug_stat,
    parse_stat,
)
from kcompressd.errors import KcompressdError
from kcompressd.kernel import sysfs

SYS_BLOCK = Path("/sys/block")
ZRAM_CONTROL = Path("/sys/class/zram-control")


@dataclass(frozen=True)
class ZramDevice:
    index: int

    @property
    def name(self) -> str:
        return f"zram{self.index}"

    @property
    def sys(self) -> Path:
        return SYS_BLOCK / self.name

    @property
    def dev(self) -> Path:
        return Path("/dev") / self.name

    def attr(self, name: str) -> str:
        return sysfs.read(self.sys / name)

    def set_attr(self, name: str, value: str | int) -> None:
        sysfs.write(self.sys / name, value)

    @property
    def disksize(self) -> int:
        return int(self.attr("disksize"))

    def algorithms(self) -> list[str]:
        """Available algorithms; the selected one is shown in brackets by the kernel."""
        return [a.strip("[]") for a in self.attr("comp_algorithm").split()]

    def mm_stat(self) -> dict[str, int]:
        return parse_stat(self.attr("mm_stat"), MM_STAT_FIELDS)

    def debug_stat(self) -> dict[str, int]:
        """`writestall` (the first zs_malloc() failed, the second one reclaimed with GFP_NOIO)
        and `miss_free`; {} where the kernel has no such file or another version of it."""
        try:
            text = self.attr("debug_stat")
        except KcompressdError:
            return {}
        return parse_debug_stat(text)

    def io_stat(self) -> dict[str, int]:
        return parse_stat(self.attr("io_stat"), IO_STAT_FIELDS)

    def configure(self, *, disksize: int, algorithm: str, mem_limit: int = 0) -> None:
        """Set the algorithm before disksize, as zram requires (comp_algorithm_store)."""
        if algorithm not in self.algorithms():
            raise KcompressdError(
                f"{self.name}: kernel zram has no algorithm {algorithm!r}; "
                f"available: {', '.join(self.algorithms())}"
            )
        self.set_attr("comp_algorithm", algorithm)
        if mem_limit:
            self.set_attr("mem_limit", mem_limit)
        self.set_attr("disksize", disksize)

    def reset(self) -> None:
        write_when_idle(self.sys / "reset", 1)


def write_when_idle(path: Path, value: int, timeout: float = 10.0) -> None:
    """Write a sysfs attribute that fails with EBUSY while the disk is open (reset_store,
    hot_remove_store); udev probes a device for a moment after a writer closes it, so retry."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, "w") as f:
                f.write(f"{value}\n")
            return
        except OSError as e:
            if e.errno != errno.EBUSY or time.monotonic() > deadline:
                raise KcompressdError(
                    f"cannot write {value!r} to {path}: {e.strerror}"
                ) from None
        time.sleep(0.05)


def zram_available() -> bool:
    return (SYS_BLOCK / "zram0").exists() or ZRAM_CONTROL.exists()


def existing_devices() -> list[ZramDevice]:
    out = []
    for p in SYS_BLOCK.glob("zram*"):
        m = re.fullmatch(r"zram(\d+)", p.name)
        if m:
            out.append(ZramDevice(int(m.group(1))))
    return sorted(out, key=lambda d: d.index)


@contextmanager
def free_zram_device() -> Iterator[ZramDevice]:
    """A free device for the duration of the block, reset afterwards (hot-removed if added).

    Prefers an existing unused device; otherwise hot-adds one through zram-control.
    """
    sysfs.require_root("using a real zram device")
    if not zram_available():
        raise KcompressdError("no zram device: /sys/block/zram0 is absent (modprobe zram?)")
    device = next((d for d in existing_devices() if d.disksize == 0), None)
    added = False
    if device is None:
        if not (ZRAM_CONTROL / "hot_add").exists():
            raise KcompressdError("no free zram device and no /sys/class/zram-control/hot_add")
        device = ZramDevice(int(sysfs.read(ZRAM_CONTROL / "hot_add")))
        added = True
    try:
        yield device
    finally:
        try:
            device.reset()
        finally:
            if added:
                write_when_idle(ZRAM_CONTROL / "hot_remove", device.index)
