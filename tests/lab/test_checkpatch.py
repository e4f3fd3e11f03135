"""The shipped series is clean under the kernel's own `checkpatch.pl --strict`."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from kcompressd.lab import kernels
from kcompressd.lab.patches import project_series_dir, read_series
from labhelpers import needs_lab

pytestmark = [needs_lab, pytest.mark.timeout(3600),
              pytest.mark.skipif(shutil.which("perl") is None, reason="needs perl")]
# New files always draw this one; a MAINTAINERS entry is for whoever would maintain it upstream.
ALLOWED = "added, moved or deleted file(s), does MAINTAINERS need updating?"


def test_every_patch_passes_checkpatch_strict(patched_kernel):
    trees = sorted((kernels.lab_dir() / "src").glob("*-patched/linux-source-6.12"))
    assert trees, "the patched kernel's tree is unpacked by its build"
    checkpatch = trees[-1] / "scripts" / "checkpatch.pl"
    for patch in read_series():
        r = subprocess.run(["perl", str(checkpatch), "--strict", "--no-tree", "--terse",
                            str(project_series_dir() / patch.name)],
                           capture_output=True, text=True, timeout=300)
        problems = [line for line in r.stdout.splitlines()
                    if ("ERROR:" in line or "WARNING:" in line or "CHECK:" in line)
                    and ALLOWED not in line]
        assert problems == [], (patch.name, problems)
