"""Debian's `linux-source-6.12`, unpacked once into the cache and patched in place.

One working tree per source version, at a stable path, so that kbuild's recorded command lines
stay valid across builds and a kept `O=` build directory rebuilds only what a patch change
touched: switching patch series reverses the applied one (`patch -R`) and applies the new one,
so every file whose content changes gets a new mtime and nothing else does.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

from kcompressd.errors import KcompressdError
from kcompressd.lab.patches import Patch

PACKAGE = "linux-source-6.12"
TARBALL = Path("/usr/src/linux-source-6.12.tar.xz")
APT_HINT = ("apt-get install -y linux-source-6.12 make flex bison bc libelf-dev patch perl "
            "libssl-dev cpio qemu-system-x86")
EXTRACTED = ".kcompressd-extracted"
APPLIED = ".kcompressd-applied"


def package_version(tarball: Path = TARBALL) -> str:
    """The Debian package version (e.g. 6.12.117-1~deb12u1); a changed tarball is a new one."""
    if not tarball.is_file():
        raise KcompressdError(f"{tarball} is missing: install Debian's {PACKAGE} "
                              f"(as root: {APT_HINT})")
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", PACKAGE], capture_output=True,
                             text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        out = ""
    st = tarball.stat()
    return f"{out or 'unpackaged'}+{st.st_size}"


def kernel_version(tree: Path) -> str:
    """VERSION.PATCHLEVEL.SUBLEVEL from the tree's top Makefile."""
    fields: dict[str, str] = {}
    with open(tree / "Makefile") as f:
        for line in f:
            key, sep, value = line.partition("=")
            if sep and key.strip() in ("VERSION", "PATCHLEVEL", "SUBLEVEL"):
                fields[key.strip()] = value.strip()
            if len(fields) == 3:
                break
    return f"{fields['VERSION']}.{fields['PATCHLEVEL']}.{fields['SUBLEVEL']}"


def unpack(dest: Path, tarball: Path = TARBALL) -> Path:
    """The unpacked tree under `dest` (unpacked now unless a finished unpack is there)."""
    tree = dest / tarball.name.removesuffix(".tar.xz")
    if (tree / EXTRACTED).exists():
        return tree
    shutil.rmtree(dest, ignore_errors=True)
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(partial, filter="tar")  # keeps the archive's mtimes
    (partial / tree.name / EXTRACTED).touch()
    partial.rename(dest)
    return tree


def _patch(tree: Path, patch: Path, *, reverse: bool, dry_run: bool) -> subprocess.CompletedProcess:
    args = ["patch", "-p1", "--forward", "--batch", "--silent", "-d", str(tree), "-i", str(patch)]
    if reverse:
        args.insert(1, "-R")
    if dry_run:
        args.append("--dry-run")
    return subprocess.run(args, capture_output=True, text=True)


def applied(tree: Path) -> list[Patch]:
    """The series now applied to the tree, as recorded when it was applied."""
    record = tree / APPLIED
    if not record.is_dir():
        return []
    names = (record / "series").read_text().split()
    return [Patch(n, (record / n).read_bytes()) for n in names]


def switch_series(tree: Path, series: list[Patch]) -> bool:
    """Make `series` the applied one; False when the tree cannot be brought back to pristine
    (the caller then unpacks it again and drops the build directories)."""
    current = applied(tree)
    if [p.digest for p in current] == [p.digest for p in series]:
        return True
    record = tree / APPLIED
    for p in reversed(current):
        if _patch(tree, record / p.name, reverse=True, dry_run=False).returncode != 0:
            return False
    shutil.rmtree(record, ignore_errors=True)
    staging = tree / (APPLIED + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for p in series:
        (staging / p.name).write_bytes(p.content)
    done: list[Patch] = []
    for p in series:
        check = _patch(tree, staging / p.name, reverse=False, dry_run=True)
        if check.returncode != 0:
            for q in reversed(done):
                _patch(tree, staging / q.name, reverse=True, dry_run=False)
            shutil.rmtree(staging)
            detail = (check.stdout + check.stderr).strip().splitlines()
            raise KcompressdError(f"patch {p.name} does not apply to {tree.name}: "
                                  f"{detail[0] if detail else 'patch failed'}")
        _patch(tree, staging / p.name, reverse=False, dry_run=False)
        done.append(p)
    (staging / "series").write_text("".join(f"{p.name}\n" for p in series))
    staging.rename(record)
    return True
