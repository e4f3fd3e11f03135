"""The same replay as the model's, on a real zram device: the ground truth for `zram replay`.

Each page is one O_DIRECT write of 4096 bytes at slot*4096 (one bio, one zram_write_page), a
free is one BLKDISCARD of one page (zram_bio_discard), compaction is a write to sysfs
`compact`. The device is reset afterwards whatever happens (free_zram_device), also on SIGTERM
(Restorer turns it into KeyboardInterrupt so the reset still runs).
"""

from __future__ import annotations

import errno
import fcntl
import gzip
import mmap
import os
import re
import struct
from collections.abc import Sequence
from pathlib import Path

from kcompressd import PAGE_SIZE
from kcompressd.backends.zram import ReplayStage, freed_slots, replay_steps
from kcompressd.errors import KcompressdError
from kcompressd.kernel.restore import Restorer
from kcompressd.kernel.zram import ZramDevice, existing_devices, free_zram_device

BLKDISCARD = 0x1277  # _IO(0x12, 119) from <linux/fs.h>
PROC_CONFIG = Path("/proc/config.gz")


def kernel_chain_size(config: Path = PROC_CONFIG) -> int | None:
    """CONFIG_ZSMALLOC_CHAIN_SIZE of the running kernel, or None when it is not exposed."""
    try:
        text = gzip.decompress(config.read_bytes()).decode(errors="replace")
    except OSError:
        return None
    m = re.search(r"^CONFIG_ZSMALLOC_CHAIN_SIZE=(\d+)$", text, re.MULTILINE)
    return int(m.group(1)) if m else None


def check_chain_size(chain_size: int) -> None:
    """Refuse to compare against a kernel whose zspage chain differs from the model's."""
    actual = kernel_chain_size()
    if actual is not None and actual != chain_size:
        raise KcompressdError(
            f"--chain-size {chain_size} differs from the kernel's "
            f"CONFIG_ZSMALLOC_CHAIN_SIZE={actual}; use --chain-size {actual} with --kernel"
        )


def check_algorithm(algorithm: str) -> None:
    """Refuse an algorithm the running kernel's zram lacks, naming the ones it has."""
    devices = existing_devices()
    if not devices:
        raise KcompressdError("no zram device: /sys/block/zram0 is absent (modprobe zram?)")
    have = devices[0].algorithms()
    if algorithm not in have:
        raise KcompressdError(
            f"kernel zram has no algorithm {algorithm!r}; available: {', '.join(have)}"
        )


def _write_pages(fd: int, pages: Sequence[bytes]) -> int:
    """One O_DIRECT pwrite per page from an aligned buffer; returns the writes that failed."""
    failed = 0
    with mmap.mmap(-1, PAGE_SIZE) as buf:
        for i, page in enumerate(pages):
            buf[:] = page
            try:
                os.pwrite(fd, buf, i * PAGE_SIZE)
            except OSError as e:
                # zram_bio_write() fails the bio with BLK_STS_IOERR (-ENOMEM under mem_limit).
                if e.errno != errno.EIO:
                    raise KcompressdError(f"writing slot {i}: {e.strerror}") from None
                failed += 1
    return failed


def _discard(fd: int, index: int) -> None:
    try:
        fcntl.ioctl(fd, BLKDISCARD, struct.pack("QQ", index * PAGE_SIZE, PAGE_SIZE))
    except OSError as e:
        raise KcompressdError(f"BLKDISCARD of slot {index}: {e.strerror}") from None


def replay_on_device(device: ZramDevice, pages: Sequence[bytes], algorithm: str, *,
                     mem_limit: int = 0, free_every: int | None = None,
                     compact: bool = False) -> list[ReplayStage]:
    """Configure a free device, replay, and return the stats after each step (no reset)."""
    steps = replay_steps(len(pages), free_every, compact)
    device.configure(disksize=len(pages) * PAGE_SIZE, algorithm=algorithm, mem_limit=mem_limit)
    stages = []
    try:
        fd = os.open(device.dev, os.O_RDWR | os.O_DIRECT)
    except OSError as e:
        raise KcompressdError(f"cannot open {device.dev}: {e.strerror}") from None
    try:
        for step in steps:
            if step == "write":
                _write_pages(fd, pages)
            elif step == "free":
                for i in freed_slots(len(pages), free_every or 1):
                    _discard(fd, i)
            else:
                device.set_attr("compact", 1)
            stages.append(ReplayStage(step, device.mm_stat(), device.io_stat()))
    finally:
        os.close(fd)
    return stages


def replay_kernel(pages: Sequence[bytes], algorithm: str = "lz4", *, chain_size: int = 8,
                  mem_limit: int = 0, free_every: int | None = None,
                  compact: bool = False) -> list[ReplayStage]:
    """Replay on a free real zram device (root), which is always reset afterwards."""
    if not pages:
        raise KcompressdError("nothing to replay: no pages")
    check_chain_size(chain_size)
    check_algorithm(algorithm)
    with Restorer(), free_zram_device() as device:
        return replay_on_device(device, pages, algorithm, mem_limit=mem_limit,
                                free_every=free_every, compact=compact)
