"""`kcompressd calibrate` and `validate` from a saved bench result (no root needed)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import refused, run_kcompressd

MB = 1 << 20
BENCH = {
    "vmstat": {"pgscan_kswapd": 600_000, "pgsteal_kswapd": 300_000, "pgsteal_direct": 100_000,
               "pgsteal_anon": 400_000, "pswpout": 400_000, "allocstall": 500},
    "rates": {"pgscan_kswapd": 300_000.0, "pgsteal_kswapd": 150_000.0,
              "pgsteal_direct": 50_000.0, "pgsteal_anon": 200_000.0, "allocstall": 250.0,
              "pswpout": 200_000.0},
    "cpu": {"kswapd0": 1.6, "eater0": 1.0},
    "latency": {"count": 10, "p50": 100.0, "p90": 200.0, "p99": 300.0},
    "zram": {"orig_data_size": 1 << 30, "compr_data_size": 1 << 29, "mem_used_total": 1 << 29},
    "workload": {"corpus": "builtin:phone"},
    "meta": {"measured_seconds": 2.0, "cpus": 2, "sysctls": {},
             "plan": {"threads": 1, "play": 512 * MB, "mem_total": 1024 * MB,
                      "prefill": 448 * MB, "per_eater": 768 * MB, "algorithm": "lz4",
                      "zram_disksize": 1024 * MB}},
    "profile": {"kswapd0": {"split": {"compression": 0.5, "scan_unmap": 0.4, "other": 0.1}}},
}


def test_calibrate_then_validate_against_a_saved_run(tmp_path: Path) -> None:
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps(BENCH))
    profile = tmp_path / "host.toml"
    r = run_kcompressd("calibrate", "--bench-result", str(bench), "-o", str(profile))
    assert r.returncode == 0, r.stderr
    text = profile.read_text()
    assert 'kind = "measured"' in text and "[codec.lz4]" in text and "/proc/zoneinfo" in text
    r = run_kcompressd("validate", "--profile", str(profile), "--bench-result", str(bench),
                       "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == {"real", "sim", "error"}
    assert doc["sim"]["meta"]["measured_seconds"] > 0
    assert doc["sim"]["meta"]["calibration"]["profile_kind"] == "measured"
    assert set(doc["error"]) >= {"pgsteal_kswapd/s", "pgsteal_direct/s", "kswapd cpu share",
                                 "stall p99 (us)", "zram mem_used_total"}


def test_a_series_or_a_missing_profile_is_refused(tmp_path: Path) -> None:
    bench = tmp_path / "series.json"
    bench.write_text(json.dumps({"series": []}))
    refused(run_kcompressd("calibrate", "--bench-result", str(bench), "-o",
                           str(tmp_path / "p.toml")), "not a series")
    refused(run_kcompressd("validate", "--profile", str(tmp_path / "none.toml"),
                           "--bench-result", str(bench)), "no such profile")
