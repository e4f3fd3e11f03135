"""`kcompressd calibrate --vm` and `validate --vm`: a guest measured, then held against the
simulator (patched kernel, so the baseline switches the offload off and validate sets it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kcompressd.profiles import load_profile
from labhelpers import needs_lab

pytestmark = [needs_lab, pytest.mark.slow, pytest.mark.timeout(3600)]
SHAPE = ["--vm", "--cpus", "1", "--memory", "1024", "--duration", "4"]
ONE_BASELINE = ["--repeat", "1"]  # calibrate: one run without perf (the default pools 3)


def kcompressd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kcompressd", *args], capture_output=True,
                          text=True, timeout=1200)


def test_a_guest_is_calibrated_then_validated(patched_kernel: dict, tmp_path: Path) -> None:
    profile = tmp_path / "guest.toml"
    r = kcompressd("calibrate", *SHAPE, *ONE_BASELINE, "--kernel", patched_kernel["id"], "-o",
                   str(profile))
    assert r.returncode == 0, r.stderr[-3000:]
    p = load_profile(str(profile))
    # The guest's machine, not this host's: its memory, its (emulated) CPU, its kernel.
    assert p.memory["total_mb"].value < 1024
    assert "lab guest 1 vCPU 1024 MiB" in p.description
    assert patched_kernel["id"] in p.description
    assert all(v.value > 0 for k, v in p.eater.items() if k != "fault_ns")
    assert p.reclaim["scan_ns"].value > 0 and "lz4" in p.codecs
    # The baseline runs it came from are kept beside it, offload off (a patched kernel).
    for name in ("perf", "plain"):
        run = json.loads((tmp_path / f"guest.{name}.json").read_text())
        assert run["meta"]["sysctls"]["vm.kcompressd"] == 0
        assert run["meta"]["vm"]["cpus"] == 1
    assert "profile" in json.loads((tmp_path / "guest.perf.json").read_text())

    r = kcompressd("validate", "--profile", str(profile), *SHAPE, "--kernel",
                   patched_kernel["id"], "--kcompressd", "24", "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    doc = json.loads(r.stdout)
    real, sim = doc["real"], doc["sim"]
    assert real["meta"]["vm"]["cpus"] == 1
    assert real["meta"]["sysctls"]["vm.kcompressd"] == 24
    assert real["meta"]["page_cache_dropped"] is True
    assert real["vmstat"]["kcompressd_queued"] > 0
    assert sim["meta"]["design"] == "kcompressd" and sim["scenario"]["design"]["depth"] == 24
    assert sim["scenario"]["workload"]["region_mb"] > 0
    assert sim["vmstat"]["kcompressd_queued"] > 0
    assert doc["error"]["pgsteal_kswapd/s"] is not None
