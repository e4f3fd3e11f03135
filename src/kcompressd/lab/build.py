"""`kcompressd lab build`: source + series + config -> a cached bzImage.

The cache key hashes everything that goes into the image (source package version, each patch,
the fragments, the compiler's version, this module's layout version), so a second build with
the same inputs returns at once. The `O=` build directory is kept per flavour (standard,
debug, trace) and kind (vanilla or patched, each with its own tree), so a changed patch
rebuilds only what it touches.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kcompressd.errors import KcompressdError
from kcompressd.lab import config, kernels, source
from kcompressd.lab.lock import lab_lock
from kcompressd.lab.patches import Patch

# Bump when the way an image is made changes (not its inputs).
LAYOUT = 1
GIB = 1 << 30
TREE_BYTES = 2 * GIB  # an unpacked tree
BUILD_BYTES = GIB // 2  # a build directory and its image
TOOLS = ("make", "gcc", "flex", "bison", "bc", "patch", "perl")
_KBUILD_STEP = re.compile(r"^\s{2}([A-Z][A-Z0-9_]*)\s+(\S+)")


@dataclass(frozen=True)
class BuildRequest:
    series: list[Patch]
    debug: bool = False
    trace: bool = False
    jobs: int = os.cpu_count() or 1

    @property
    def flavour(self) -> str:
        return "-".join(f for f, on in (("debug", self.debug), ("trace", self.trace)) if on) \
            or "std"


def compiler_version() -> str:
    try:
        return subprocess.run(["gcc", "--version"], capture_output=True, text=True,
                              check=True).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        raise KcompressdError("gcc is missing: a lab build needs Debian's build tools (as root: "
                              f"{source.APT_HINT})") from None


def cache_key(source_version: str, req: BuildRequest, compiler: str) -> str:
    h = hashlib.sha256()
    for part in (f"layout {LAYOUT}", source_version, compiler,
                 *(f.read_text() for f in config.fragments(req.debug, req.trace)),
                 *(f"{p.name} {p.digest}" for p in req.series)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:12]


def check_tools() -> None:
    lost = [t for t in TOOLS if shutil.which(t) is None]
    if lost:
        raise KcompressdError(f"missing build tools: {', '.join(lost)} (as root: "
                              f"{source.APT_HINT})")


def check_disk(root: Path, need: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(root).free
    if free < need:
        raise KcompressdError(f"not enough disk space in {root}: {free / GIB:.1f} GiB free, "
                              f"this lab build needs {need / GIB:.1f} GiB")


def _make(args: list[str], cwd: Path, log: Path, progress: Callable[[str], None]) -> None:
    """Run make, logging everything, reporting each kbuild step; the log's tail on failure."""
    with open(log, "a") as f:
        f.write(f"$ make {' '.join(args)}\n")
        f.flush()
        proc = subprocess.Popen(["make", *args], cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace")
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                f.write(line)
                if m := _KBUILD_STEP.match(line):
                    progress(f"{m.group(1)} {m.group(2)}")
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if proc.wait() != 0:
            f.flush()
            tail = log.read_text(errors="replace").splitlines()[-15:]
            sys.stderr.write("".join(f"  {t}\n" for t in tail))
            raise KcompressdError(f"make {args[-1]} failed (exit {proc.returncode}); "
                                  f"the whole log is {log}")


def _configure(tree: Path, out: Path, req: BuildRequest, log: Path,
               progress: Callable[[str], None]) -> None:
    progress("config: tinyconfig + fragments")
    _make([f"O={out}", "tinyconfig"], tree, log, progress)
    with open(log, "a") as f:
        subprocess.run([str(tree / "scripts/kconfig/merge_config.sh"), "-m", "-O", str(out),
                        str(out / ".config"), *map(str, config.fragments(req.debug, req.trace))],
                       cwd=tree, stdout=f, stderr=subprocess.STDOUT, check=True)
    _make([f"O={out}", "olddefconfig"], tree, log, progress)
    config.verify(out / ".config", req.debug, req.trace)


def build(req: BuildRequest, progress: Callable[[str], None]) -> kernels.Kernel:
    """The kernel for `req`: from the cache, or built now (under the lab's lock)."""
    src_version = source.package_version()
    compiler = compiler_version()
    key = cache_key(src_version, req, compiler)
    if (k := kernels.find(key)) is not None:
        return k
    check_tools()
    t0 = time.monotonic()
    root = kernels.lab_dir()
    with lab_lock(progress):
        if (k := kernels.find(key)) is not None:  # built while we waited
            return k
        # The unpatched and the patched tree and their build directories are kept apart, so
        # that going back and forth between vanilla and patched kernels rebuilds nothing.
        kind = "patched" if req.series else "vanilla"
        src_dir = root / "src" / f"{src_version}-{kind}"
        out = root / "build" / f"{src_version}-{req.flavour}-{kind}"
        need = (0 if src_dir.exists() else TREE_BYTES) + BUILD_BYTES
        check_disk(root, need)
        if not src_dir.exists():
            progress(f"unpacking {source.TARBALL}")
        tree = source.unpack(src_dir)
        progress(f"applying {len(req.series)} patch(es)")
        if not source.switch_series(tree, req.series):
            progress("the tree could not be reverted: unpacking it again")
            shutil.rmtree(src_dir)
            for stale in (root / "build").glob(f"{src_version}-*-{kind}"):
                shutil.rmtree(stale)
            tree = source.unpack(src_dir)
            source.switch_series(tree, req.series)
        out.mkdir(parents=True, exist_ok=True)
        log = out / "build.log"
        log.write_text("")
        _configure(tree, out, req, log, progress)
        _make([f"O={out}", f"-j{req.jobs}", "bzImage"], tree, log, progress)
        release = (out / "include/config/kernel.release").read_text().strip()
        meta = {"id": key, "version": release, "source": src_version, "compiler": compiler,
                "patches": [p.name for p in req.series],
                "patch_digests": [p.digest for p in req.series], "debug": req.debug,
                "trace": req.trace,
                "seconds": round(time.monotonic() - t0, 1), "built": time.time()}
        return kernels.store(key, out / "arch/x86/boot/bzImage", out / ".config", meta)


def describe(k: kernels.Kernel, cached: bool, seconds: float) -> dict:
    """The `--json` document of `lab build`."""
    return {"id": k.id, "bzimage": str(k.bzimage), "version": k.meta["version"],
            "patches": k.meta["patches"], "debug": k.meta["debug"],
            "trace": k.meta.get("trace", False), "cached": cached,
            "seconds": round(seconds, 1)}
