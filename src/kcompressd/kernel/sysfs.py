"""Small, explicit reads and writes of sysfs/procfs files with errors that name the file."""

from __future__ import annotations

import os
from pathlib import Path

from kcompressd.errors import KcompressdError


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
