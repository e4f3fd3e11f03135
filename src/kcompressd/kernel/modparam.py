"""Module parameters (`/sys/module/M/parameters/P`) set for a run and put back by the
Restorer; zswap is configured this way (it has no sysctls)."""

from __future__ import annotations

from pathlib import Path

from kcompressd.kernel import sysfs
from kcompressd.kernel.restore import Restorer

SYS_MODULE = Path("/sys/module")


def param_path(name: str) -> Path:
    """`zswap.enabled` -> /sys/module/zswap/parameters/enabled."""
    module, _, param = name.partition(".")
    return SYS_MODULE / module / "parameters" / param


def get_param(name: str) -> str:
    return sysfs.read(param_path(name))


def set_param(restorer: Restorer, name: str, value: str | int) -> None:
    sysfs.set_restoring(restorer, name, param_path(name), value)
