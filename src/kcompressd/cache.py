"""The per-user cache directory for generated artefacts (built-in corpora, the lz4 build)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """$KCOMPRESSD_CACHE, else $XDG_CACHE_HOME/kcompressd, else ~/.cache/kcompressd."""
    env = os.environ.get("KCOMPRESSD_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "kcompressd"
