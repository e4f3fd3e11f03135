"""The Kcompressd patch series in real guests: offload, counters, knobs, swapoff, zswap, and
a debug kernel (lockdep, DEBUG_VM) under the same stress with no report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from labhelpers import needs_lab

# the first test to need a kernel builds it (minutes, cold): the timeout covers that
pytestmark = [needs_lab, pytest.mark.slow, pytest.mark.timeout(3600)]

STRESS = Path(__file__).with_name("guest_stress.py")


def stress(kernel: dict, mode: str, seconds: float = 4) -> dict:
    r = subprocess.run([sys.executable, "-m", "kcompressd", "lab", "run", "--kernel",
                        kernel["id"], "--cpus", "2", "--memory", "1024", "--timeout", "900",
                        "--disk", "2048", "--", sys.executable, str(STRESS), mode, str(seconds)],
                       capture_output=True, text=True, timeout=1200)
    # lab run fails on any WARNING, BUG, lockdep or KASAN report of the guest kernel
    assert r.returncode == 0, r.stderr[-4000:]
    return json.loads(r.stdout)


def check_nothing_lost(doc: dict) -> None:
    assert all(e is not None for e in doc["eaters"]), "an eater died"
    assert sum(e["pages_checked"] for e in doc["eaters"]) > 0
    assert sum(e["corrupt_pages"] for e in doc["eaters"]) == 0
    t = doc["total"]
    # once the queues are drained, every queued folio was written by a worker or drained
    assert t["kcompressd_queued"] == t["kcompressd_written"] + t["kcompressd_drained"]


def test_knobs_change_under_load_and_swapoff_loses_nothing(patched_kernel):
    doc = stress(patched_kernel, "zram")
    phases = {p["phase"]: p for p in doc["phases"]}
    assert phases["off"]["delta"]["kcompressd_queued"] == 0
    assert phases["off"]["workers"] == []  # depth 0: no kcompressd thread runs
    for name in ("v2", "unofficial", "threads2", "threads4-deep", "swapoff", "threads1"):
        d = phases[name]["delta"]
        assert d["kcompressd_queued"] > 0 and d["kcompressd_written"] > 0, name
    assert phases["threads2"]["workers"] == ["kcompressd0", "kcompressd0:1"]
    assert len(phases["threads4-deep"]["workers"]) == 4
    assert phases["threads1"]["workers"] == ["kcompressd0"]
    assert "zram1" in doc["swaps"] and "zram0" not in doc["swaps"]  # swapped off under load
    assert doc["cpu"].get("kcompressd0", 0) > 0
    check_nothing_lost(doc)


def test_zswap_in_front_of_an_asynchronous_device_offloads(patched_kernel):
    doc = stress(patched_kernel, "zswap")
    assert doc["total"]["zswpout"] > 0 and doc["total"]["kcompressd_queued"] > 0
    assert doc["devices"][0] == "/dev/vda"  # swapped off under load, for zram, later
    check_nothing_lost(doc)


def test_the_debug_kernel_runs_the_stress_without_a_report(debug_kernel):
    assert debug_kernel["debug"] and debug_kernel["patches"]
    check_nothing_lost(stress(debug_kernel, "zram", seconds=3))


def test_bench_vm_ab_depth_zero_queues_nothing(patched_kernel):
    r = subprocess.run([sys.executable, "-m", "kcompressd", "bench", "--vm", "--kernel",
                        patched_kernel["id"], "--cpus", "2", "--memory", "2048", "--duration",
                        "8", "--kcompressd", "0,24", "--json"],
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    doc = json.loads(r.stdout)
    off, on = doc["series"]
    assert off["sysctls"] == {"vm.kcompressd": 0} and on["sysctls"] == {"vm.kcompressd": 24}
    assert off["runs"][0]["vmstat"].get("kcompressd_queued", 0) == 0  # zero deltas are dropped
    run = on["runs"][0]
    assert run["vmstat"]["kcompressd_queued"] > 0 and run["vmstat"]["kcompressd_written"] > 0
    assert run["cpu"]["kcompressd0"] > 0
    assert "cpu_kcompressd" in on["summary"] and "kcompressd_queued/s" in on["summary"]
    assert doc["meta"]["vm"]["kernel"]["patches"] == patched_kernel["patches"]
