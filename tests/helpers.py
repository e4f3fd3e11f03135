"""Helpers shared by test modules (on sys.path through pytest's `pythonpath`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kcompressd.kernel import zram

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
needs_zram = pytest.mark.skipif(not zram.zram_available(),
                                reason="needs zram (/sys/block/zram0)")
# For modules that drive the real kernel: marked, and skipped with a reason where impossible.
KERNEL = [pytest.mark.kernel, needs_root, needs_zram]


def run_kcompressd(*args: str, env: dict[str, str] | None = None
                   ) -> subprocess.CompletedProcess[str]:
    """`python -m kcompressd ARGS` as a user would run it."""
    return subprocess.run([sys.executable, "-m", "kcompressd", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)


def refused(r: subprocess.CompletedProcess[str], text: str) -> None:
    """The CLI contract for bad input: exit 2, nothing on stdout, one line naming `text`."""
    assert r.returncode == 2, r
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kcompressd: error:"), r.stderr
    assert text in lines[0]
