"""`kcompressd lab` and `bench --vm` refuse bad input in one line, before anything boots."""

from __future__ import annotations

import json

import pytest

from helpers import refused, run_kcompressd


@pytest.mark.parametrize("args, text", [
    (("lab", "run", "--cpus", "0", "--", "true"), "--cpus must be 1..8"),
    (("lab", "run", "--memory", "64", "--", "true"), "--memory 64 MiB is too small"),
    (("lab", "run", "--nodes", "9", "--", "true"), "--nodes must be 1..8"),
    (("lab", "run", "--accel", "hvf", "--kernel", "/bin/true", "--", "true"),
     "--accel must be auto, kvm, tcg or icount"),
    (("lab", "run", "--timeout", "0", "--", "true"), "--timeout must be a positive number"),
    (("lab", "run", "--kernel", "no-such-id", "--", "true"), "no cached kernel has that id"),
    (("lab", "run", "--kernel", "/nonexistent/bzImage", "--", "true"), "no such file"),
    (("lab", "run"), "Missing argument"),
    (("lab", "build", "--jobs", "0"), "--jobs must be at least 1"),
    (("lab", "build", "--vanilla", "--patches", "/tmp"), "exclude each other"),
    (("lab", "build", "--patches", "/nonexistent"), "not a directory"),
    (("lab", "clean", "--keep", "-1"), "--keep must be at least 0"),
    (("bench", "--vm", "--nodes", "0"), "--nodes must be 1..8"),
    (("bench", "--vm", "--kcompressd-threads", "9"), "--kcompressd-threads values must be 1..8"),
    (("bench", "--vm", "--kcompressd-overflow", "0,x"), "--kcompressd-overflow takes"),
    (("bench", "--vm", "--timeout", "-5"), "--timeout must be a positive number"),
])
def test_bad_lab_input_is_one_line_exit_2(args, text, tmp_path):
    refused(run_kcompressd(*args, env={"KCOMPRESSD_CACHE": str(tmp_path)}), text)


def test_lab_kernels_lists_an_empty_cache_as_json(tmp_path):
    r = run_kcompressd("lab", "kernels", "--json", env={"KCOMPRESSD_CACHE": str(tmp_path)})
    assert r.returncode == 0 and json.loads(r.stdout) == []
