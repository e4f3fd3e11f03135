"""The patch series a lab kernel carries: the project's own (package data) or a directory.

A series is a directory of `*.patch` files and a `series` file naming them in order (`#`
starts a comment), the layout quilt and `git format-patch` users know.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kcompressd.errors import KcompressdError


@dataclass(frozen=True)
class Patch:
    name: str
    content: bytes

    @property
    def digest(self) -> str:
        """The hash of what the patch changes, not of its mail: a reworded commit message
        builds the same kernel and must not rebuild it."""
        body = self.content
        for marker in (b"\ndiff --git ", b"\n--- "):
            at = body.find(marker)
            if at != -1:
                body = body[at + 1 :]
                break
        return hashlib.sha256(body).hexdigest()


def project_series_dir() -> Path:
    return Path(str(resources.files("kcompressd.lab") / "patches"))


def read_patch(path: Path) -> Patch:
    """One patch file, applied after a series (`lab build --add`)."""
    if not path.is_file():
        raise KcompressdError(f"--add {path}: no such patch file")
    return Patch(path.name, path.read_bytes())


def read_series(directory: Path | None = None) -> list[Patch]:
    """The patches of `directory` (default: the project's series) in `series` order."""
    d = project_series_dir() if directory is None else directory
    if not d.is_dir():
        raise KcompressdError(f"--patches {d}: not a directory")
    series = d / "series"
    if not series.is_file():
        if directory is None:
            return []  # the project ships no series yet
        raise KcompressdError(f"--patches {d}: no 'series' file naming the patches in order")
    names = [line.split("#", 1)[0].strip() for line in series.read_text().splitlines()]
    patches = []
    for name in filter(None, names):
        path = d / name
        if "/" in name or not path.is_file():
            raise KcompressdError(f"{series}: {name!r} is not a patch file in {d}")
        patches.append(Patch(name, path.read_bytes()))
    return patches
