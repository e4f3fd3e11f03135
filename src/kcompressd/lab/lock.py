"""One lab build at a time: builds share the unpacked tree and the build directories."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kcompressd.lab.kernels import lab_dir


@contextmanager
def lab_lock(progress: Callable[[str], None]) -> Iterator[None]:
    """Wait for another build of this user's cache to finish, then hold the lock."""
    path = lab_dir() / "build.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress("waiting for another lab build to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
