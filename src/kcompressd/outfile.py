"""Output files: checked before any work is done, and written whole or not at all.

Every command that writes a file (corpus, trace, figure) goes through here, so a refused path
fails before minutes of simulation, and an interrupted or failed write never leaves a partial
file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kcompressd.errors import KcompressdError


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Refuse a path that cannot become an output file; returns it as a Path."""
    p = Path(path)
    if not p.parent.is_dir():
        raise KcompressdError(f"{p}: directory {p.parent} does not exist")
    if p.is_dir():
        raise KcompressdError(f"{p}: is a directory")
    if not os.access(p.parent, os.W_OK):
        raise KcompressdError(f"{p}: directory {p.parent} is not writable")
    return p


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside `path`, renamed onto it when the block succeeds."""
    p = check_writable(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    except OSError as e:
        raise KcompressdError(f"{p}: cannot write ({e.strerror})") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, p)
    except OSError as e:
        raise KcompressdError(f"{p}: cannot write ({e.strerror})") from None
    finally:
        tmp.unlink(missing_ok=True)
