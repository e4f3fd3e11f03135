"""Helpers for tests that boot real lab guests (on sys.path through pytest's `pythonpath`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from kcompressd.lab.qemu import QEMU
from kcompressd.lab.source import TARBALL


def _skip_reason() -> str | None:
    if shutil.which(QEMU) is None:
        return f"needs {QEMU} (qemu-system-x86)"
    if not TARBALL.is_file():
        return f"needs Debian's linux-source-6.12 ({TARBALL})"
    if shutil.which("make") is None or shutil.which("flex") is None:
        return "needs the kernel build tools (make, flex, bison, ...)"
    return None


needs_lab = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


def lab_build(*flags: str) -> dict:
    """`kcompressd lab build FLAGS --json` (instant when cached); its JSON document."""
    r = subprocess.run([sys.executable, "-m", "kcompressd", "lab", "build", *flags, "--json"],
                       capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)
