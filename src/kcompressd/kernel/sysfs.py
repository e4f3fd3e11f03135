"""Small, explicit reads and writes of sysfs/procfs files with errors that name the file."""

from __future__ import annotations

import os
from pathlib import Path

from kcompressd.errors import KcompressdError
from kcompressd.kernel.restore import Restorer


def read(path: str | Path) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError as e:
        raise KcompressdError(f"cannot read {path}: {e.strerror}") from None


def write(path: str | Path, value: str | int) -> None:
    try:
        with open(path, "w") as f:
            f.write(f"{value}\n")
    except OSError as e:
        raise KcompressdError(f"cannot write {value!r} to {path}: {e.strerror}") from None


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise KcompressdError(f"{what} needs root (run it as root)")


def set_restoring(restorer: Restorer, what: str, path: str | Path, value: str | int) -> None:
    """Write `value`, registering the old one with `restorer` first, so that a signal in
    between still puts it back."""
    old = read(path)
    restorer.push(f"{what}={old}", lambda: write(path, old))
    write(path, value)
