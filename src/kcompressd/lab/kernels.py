"""The cache of built kernels: `<cache>/lab/kernels/<id>/{bzImage,config,meta.json}`.

A kernel is stored whole or not at all (written beside, then renamed into place), so a build
killed half-way never leaves an entry that `find` would return.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcompressd.cache import cache_dir
from kcompressd.errors import KcompressdError


@dataclass(frozen=True)
class Kernel:
    id: str
    path: Path
    meta: dict[str, Any]

    @property
    def bzimage(self) -> Path:
        return self.path / "bzImage"

    @property
    def config(self) -> Path:
        return self.path / "config"

    def size(self) -> int:
        return sum(f.stat().st_size for f in self.path.iterdir())


def lab_dir() -> Path:
    return cache_dir() / "lab"


def kernels_dir() -> Path:
    return lab_dir() / "kernels"


def find(key: str) -> Kernel | None:
    d = kernels_dir() / key
    try:
        meta = json.loads((d / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    return Kernel(key, d, meta) if (d / "bzImage").is_file() else None


def store(key: str, bzimage: Path, config: Path, meta: dict[str, Any]) -> Kernel:
    final = kernels_dir() / key
    staging = kernels_dir() / f".{key}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copyfile(bzimage, staging / "bzImage")
    shutil.copyfile(config, staging / "config")
    (staging / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    return Kernel(key, final, meta)


def all_kernels() -> list[Kernel]:
    """Every cached kernel, newest first."""
    d = kernels_dir()
    found = [k for p in d.iterdir() if not p.name.startswith(".")
             and (k := find(p.name)) is not None] if d.is_dir() else []
    return sorted(found, key=lambda k: k.meta.get("built", 0), reverse=True)


def clean(keep: int) -> list[Kernel]:
    """Drop all but the `keep` newest kernels, and the sources and build directories when
    nothing is kept; the dropped kernels."""
    if keep < 0:
        raise KcompressdError(f"--keep must be at least 0, got {keep}")
    dropped = all_kernels()[keep:]
    for k in dropped:
        shutil.rmtree(k.path)
    if keep == 0:
        for sub in ("src", "build"):
            shutil.rmtree(lab_dir() / sub, ignore_errors=True)
    return dropped


def label(k: Kernel) -> str:
    """What a kernel carries, in a word: vanilla, or its patches; debug and trace marked."""
    patches = k.meta.get("patches") or []
    what = "vanilla" if not patches else f"{len(patches)} patches"
    return what + "".join(f" {f}" for f in ("debug", "trace") if k.meta.get(f))


def age(k: Kernel) -> str:
    minutes = (time.time() - k.meta.get("built", 0)) / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.0f} h"
