"""One real-kernel run at a time: an flock on /run/kcompressd.lock.

The lock dies with its holder (flock is released when the file is closed, even on SIGKILL), so a
crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kcompressd.errors import KcompressdError

LOCK_PATH = Path("/run/kcompressd.lock")


@contextmanager
def run_lock(path: Path = LOCK_PATH) -> Iterator[None]:
    """Hold the lock for the block; another holder makes this raise at once."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise KcompressdError(
                f"another kcompressd bench is running (pid {holder} holds {path})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
