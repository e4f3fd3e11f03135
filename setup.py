"""The package is pure Python; with KCOMPRESSD_MYPYC=1 the simulator's hot modules are compiled
by mypyc instead, for long sweeps (same results to the last bit, tests/test_setup.py; 1.5-1.8x
the speed, benchmarks/bench_simulate.py --compiled):

    pip install mypy
    KCOMPRESSD_MYPYC=1 pip install --no-build-isolation .

Not for an editable install: the compiled modules would shadow later edits of their sources.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup

# What cProfile shows the simulator spends its time in.
MYPYC_MODULES = [
    "src/kcompressd/sim/core.py",
    "src/kcompressd/designs/base.py",
    *(f"src/kcompressd/designs/{d}.py" for d in (
        "none", "kcompressd", "kcompressd_v1", "kcompressd_v2", "kcompressd_unofficial",
        "parallel_swapper", "zram_async", "batch_accel", "multi_kswapd")),
    "src/kcompressd/mm/system.py",
    "src/kcompressd/backends/zram_cost.py",
    "src/kcompressd/mm/lru.py",
    "src/kcompressd/mm/lru_gen.py",
    "src/kcompressd/mm/vmscan.py",
    "src/kcompressd/mm/page_alloc.py",
    "src/kcompressd/mm/workload.py",
    "src/kcompressd/mm/watermarks.py",
]


def ext_modules() -> list:
    if os.environ.get("KCOMPRESSD_MYPYC") != "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        sys.exit("KCOMPRESSD_MYPYC=1 needs mypy where the package is built: pip install mypy, "
                 "then pip install --no-build-isolation")
    # Only the compiled modules must type-check; the rest is read for its types.
    return mypycify(["--follow-imports=silent", "--ignore-missing-imports", *MYPYC_MODULES],
                    opt_level="3")


def compiled_copy(dest: Path) -> Path:
    """A copy of this tree in `dest` with the hot modules compiled in place; returns its src
    directory (for PYTHONPATH). tests/test_setup.py and benchmarks/bench_simulate.py use it:
    `runpy.run_path("setup.py", run_name="setup")["compiled_copy"]`."""
    root = Path(__file__).resolve().parent
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(root / name, dest)
    shutil.copytree(root / "src", dest / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.so"))
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=dest,
                   env={**os.environ, "KCOMPRESSD_MYPYC": "1"}, check=True,
                   capture_output=True)
    return dest / "src"


if __name__ == "__main__":
    setup(ext_modules=ext_modules())
