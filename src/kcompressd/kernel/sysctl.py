"""vm sysctls set for a run and put back by the Restorer."""

from __future__ import annotations

import os
from pathlib import Path

from kcompressd.kernel import sysfs
from kcompressd.kernel.restore import Restorer

PROC_SYS = Path("/proc/sys")


def sysctl_path(name: str) -> Path:
    """`vm.page-cluster` -> /proc/sys/vm/page-cluster."""
    return PROC_SYS / name.replace(".", "/")


def get_sysctl(name: str) -> str:
    return sysfs.read(sysctl_path(name))


def sched_autogroup() -> bool:
    """Whether a new session's processes form one task group (CONFIG_SCHED_AUTOGROUP built in
    and kernel.sched_autogroup_enabled set): the load balancer then weighs the bench's eaters
    together as one task. Detected by the file, not the kernel's version."""
    path = sysctl_path("kernel.sched_autogroup_enabled")
    return path.exists() and get_sysctl("kernel.sched_autogroup_enabled").strip() == "1"


def set_sysctl(restorer: Restorer, name: str, value: str | int) -> None:
    sysfs.set_restoring(restorer, f"sysctl {name}", sysctl_path(name), value)


def drop_caches() -> None:
    """vm.drop_caches = 1 after a sync: the clean page cache goes at once. A trigger, nothing
    to restore; the bench pulls it only in a disposable lab guest, where the cache is what boot
    and imports left over 9p and would otherwise be the file reclaim of the window."""
    os.sync()
    sysctl_path("vm.drop_caches").write_text("1")
