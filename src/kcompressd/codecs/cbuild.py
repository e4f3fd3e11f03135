"""Building the kernel-exact codecs' small C sources into the cache directory, once.

Why C: the kernel's compressors decide compressed lengths to the byte, and a Python loop over
every byte of every page would be far too slow; the sources are written here after the
kernel's algorithms and built with the system C compiler on first use.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from kcompressd.cache import cache_dir


def compiler() -> str | None:
    """The C compiler the builds use ($CC, cc or gcc), if any (cheap: nothing is built)."""
    return shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")


def build_library(name: str, source: str) -> ctypes.CDLL | None:
    """The shared object of `source` (built once per source version); None without a compiler."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    target = cache_dir() / f"{name}-{digest}.so"
    if not target.exists():
        cc = compiler()
        if cc is None:
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            c_file = Path(tmp) / f"{name}.c"
            c_file.write_text(source)
            so = Path(tmp) / f"{name}.so"
            done = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(so), str(c_file)],
                                  capture_output=True)
            if done.returncode:
                return None
            os.replace(so, target)  # atomic: concurrent builders race harmlessly
    return ctypes.CDLL(str(target))
