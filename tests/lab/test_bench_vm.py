"""`kcompressd bench --vm`: the harness inside lab guests (vanilla kernel)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from labhelpers import needs_lab

# the first test to need a kernel builds it (minutes, cold): the timeout covers that
pytestmark = [needs_lab, pytest.mark.slow, pytest.mark.timeout(3600)]

GUEST_SCRIPT = """
import json, subprocess, sys
from kcompressd.kernel.vmstat import read_vmstat
before = read_vmstat()
r = subprocess.run([sys.executable, "-m", "kcompressd", "bench", "--json", "--duration", "8"],
                   capture_output=True, text=True)
after = read_vmstat()
sys.stderr.write(r.stderr)
print(json.dumps({"rc": r.returncode, "result": json.loads(r.stdout or "null"),
                  "delta": {k: after[k] - before.get(k, 0) for k in after}}))
"""


def test_guest_bench_counters_agree_with_the_guest_vmstat(vanilla_kernel):
    """Window plus outside-the-window counts add up to the guest's own /proc/vmstat deltas
    around the whole bench, and kswapd reclaims into zram in a 1-vCPU guest."""
    r = subprocess.run([sys.executable, "-m", "kcompressd", "lab", "run", "--kernel",
                        vanilla_kernel["id"], "--cpus", "1", "--memory", "2048", "--",
                        sys.executable, "-c", GUEST_SCRIPT],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    doc = json.loads(r.stdout)
    assert doc["rc"] == 0, r.stderr[-3000:]
    result, delta = doc["result"], doc["delta"]
    outside = result["meta"]["vmstat_outside_window"]
    for k in ("pgsteal_kswapd", "pgsteal_direct", "pgscan_kswapd", "pswpout"):
        total = result["vmstat"][k] + outside[k]
        # bench's own reads happen a few ms inside the wrapper's: within 1% (or 64 pages)
        assert abs(total - delta[k]) <= max(64, 0.01 * delta[k]), (k, total, delta[k])
    assert result["vmstat"]["pgsteal_kswapd"] > 10_000
    assert result["zram"]["orig_data_size"] > 0
    assert result["meta"]["plan"]["floor"] == result["meta"]["plan"]["mem_total"] // 20


def test_bench_vm_labels_the_machine_and_brings_the_trace_back(vanilla_kernel, tmp_path: Path):
    trace = tmp_path / "t.json"
    r = subprocess.run([sys.executable, "-m", "kcompressd", "bench", "--vm", "--kernel",
                        vanilla_kernel["id"], "--cpus", "2", "--memory", "2048", "--duration",
                        "6", "--trace", str(trace), "--json"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(r.stdout)
    vm = result["meta"]["vm"]
    assert vm["accel"] in ("tcg", "kvm") and vm["cpus"] == 2 and vm["memory_mib"] == 2048
    assert vm["kernel"]["id"] == vanilla_kernel["id"] and vm["kernel"]["patches"] == []
    assert result["meta"]["cpus"] == 2 and result["workload"]["threads"] == 2
    assert result["meta"]["kernel"].startswith("6.12.")
    assert result["vmstat"]["pgsteal_kswapd"] > 0 and "kswapd0" in result["cpu"]
    assert "accelerator" in r.stderr
    names = {e["name"] for e in json.loads(trace.read_text())["traceEvents"]}
    assert "free_pages" in names


def test_bench_vm_refuses_bad_shapes_before_booting():
    r = subprocess.run([sys.executable, "-m", "kcompressd", "bench", "--vm", "--cpus", "64"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "kcompressd: error: --cpus must be 1..8 (the lab's NR_CPUS), got 64"]
