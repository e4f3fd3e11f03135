"""Building a measured profile from a baseline bench result, zoneinfo and codec tables."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kcompressd.errors import KcompressdError
from kcompressd.profiles import Sourced, parse_profile
from kcompressd.profiles.calibrate import (
    UNMAP_SHARE,
    build_profile,
    host_memory,
    kswapd_split,
    zone_watermarks,
)
from kcompressd.profiles.codec_costs import fit

ZONEINFO = """Node 0, zone      DMA
  pages free     3840
        min      10
        low      13
        high     16
Node 0, zone   Normal
  pages free     9000
        min      14769
        low      20163
        high     25557
"""

BENCH: dict[str, Any] = {
    "vmstat": {"pgscan_kswapd": 2_000_000, "pgsteal_kswapd": 800_000, "pgsteal_direct": 200_000,
               "pswpout": 1_000_000},
    "cpu": {"kswapd0": 10.0, "eater0": 5.0},
    "meta": {"plan": {"algorithm": "lz4"}, "sysctls": {}},
    "profile": {"kswapd0": {"split": {"compression": 0.3, "scan_unmap": 0.6, "other": 0.1}}},
}

CODECS = {"lz4": fit("lz4", np.array([100.0, 2000.0]), np.array([1000.0, 3000.0]),
                     np.array([100.0, 300.0]), "timed")}
MEMORY = {k: Sourced(1, "x") for k in ("total_mb", "min_free_kbytes", "watermark_scale_factor")}
PAGES = [bytes([i % 251]) * 64 + bytes(range(256)) * 15 + bytes(256) for i in range(40)]


def test_zoneinfo_watermarks() -> None:
    assert zone_watermarks(ZONEINFO) == {"node0/DMA": {"min": 10, "low": 13, "high": 16},
                                         "node0/Normal": {"min": 14769, "low": 20163,
                                                          "high": 25557}}


def test_host_memory_reads_what_the_kernel_reports(tmp_path: Path) -> None:
    (tmp_path / "sys" / "vm").mkdir(parents=True)
    (tmp_path / "meminfo").write_text("MemTotal:       2097152 kB\nMemFree: 1 kB\n")
    (tmp_path / "sys" / "vm" / "min_free_kbytes").write_text("67584\n")
    (tmp_path / "sys" / "vm" / "watermark_scale_factor").write_text("10\n")
    (tmp_path / "zoneinfo").write_text(ZONEINFO)
    memory, info = host_memory(tmp_path)
    assert {k: v.value for k, v in memory.items()} == {
        "total_mb": 2048, "min_free_kbytes": 67584, "watermark_scale_factor": 10}
    assert info["node0_Normal_min_pages"].value == 14769


def test_kswapd_split_per_page_and_codec_rescaled() -> None:
    k = kswapd_split(BENCH)
    assert k["compress_s"] == pytest.approx(3.0) and k["scan_unmap_s"] == pytest.approx(7.0)
    assert k["swapouts_kswapd"] == pytest.approx(800_000)
    pages = PAGES
    codecs = CODECS
    memory = MEMORY
    eater = {"touch": 2000.0, "revisit": 300.0, "copy": 250.0, "fault": 1750.0}
    p = build_profile("host", codecs, pages, BENCH, "bench.json", memory, {}, eater, "c")
    assert p.kind == "measured"
    assert {k: v.value for k, v in p.eater.items()} == {
        "touch_ns": 2000.0, "revisit_ns": 300.0, "fault_ns": 1750.0}
    assert p.scenario_defaults()["workload"] == {
        "touch_us": 2.0, "revisit_us": 0.3, "fault_us": 1.75}
    assert p.reclaim["scan_ns"].value == pytest.approx((1 - UNMAP_SHARE) * 7.0 / 2e6 * 1e9)
    assert p.reclaim["unmap_ns"].value == pytest.approx(UNMAP_SHARE * 7.0 / 8e5 * 1e9, rel=1e-3)
    assert p.info["kernel_compress_ns_per_page"].value == pytest.approx(3.0 / 8e5 * 1e9)
    assert "kernel lz4" in p.codecs["lz4"].source
    assert parse_profile("host", p.to_toml(), "again") == p


def test_on_a_zeromap_kernel_zero_folios_are_unmapped_but_never_compressed() -> None:
    zeromap = copy.deepcopy(BENCH)
    zeromap["vmstat"]["swpout_zero"] = 250_000  # the kernel counts it: it has the zeromap
    k = kswapd_split(zeromap)
    assert k["swapouts_kswapd"] == pytest.approx(1_000_000)  # 1.25 M x kswapd's 0.8
    assert k["writes_kswapd"] == pytest.approx(800_000)
    pages = [*PAGES, *[bytes(4096)] * 40]  # half the corpus zero-filled
    eater = {"touch": 2000.0, "revisit": 300.0, "copy": 250.0, "fault": 1750.0}
    with_zero = build_profile("z", CODECS, pages, zeromap, "b", MEMORY, {}, eater, "c")
    without = build_profile("p", CODECS, PAGES, zeromap, "b", MEMORY, {}, eater, "c")
    # zram saw only the other pages: the codec is scaled against their mean, not half of it
    assert with_zero.codecs["lz4"].compress_ns == without.codecs["lz4"].compress_ns
    assert with_zero.reclaim["unmap_ns"].value == pytest.approx(
        UNMAP_SHARE * 7.0 / 1e6 * 1e9, rel=1e-3)
    # before the zeromap, zero pages reach zram and cost nothing there: the mean halves
    older = build_profile("o", CODECS, pages, BENCH, "b", MEMORY, {}, eater, "c")
    assert older.codecs["lz4"].compress_ns[0] == pytest.approx(
        2 * without.codecs["lz4"].compress_ns[0], rel=1e-3)


@pytest.mark.parametrize("change, message", [
    (lambda b: b.pop("profile"), "run the bench with --perf"),
    (lambda b: b["meta"].update(sysctls={"vm.kcompressd": 24}), "only baseline runs"),
    (lambda b: b.update(series=[{}]), "not a series"),
])
def test_only_a_baseline_perf_run_calibrates(change: Any, message: str) -> None:
    b = copy.deepcopy(BENCH)
    change(b)
    with pytest.raises(KcompressdError, match=message):
        kswapd_split(b)


def test_the_eater_loop_is_timed_per_page() -> None:
    from kcompressd.profiles.measure import measure_eater

    corpus = bytes(range(256)) * 16 * 64
    ns = measure_eater(corpus, mib=4, repeat=1)
    assert ns["touch"] > 0 and ns["revisit"] > 0 and ns["copy"] > 0
    assert ns["fault"] == pytest.approx(max(0.0, ns["touch"] - ns["copy"]))


def test_perf_s_unmap_samples_split_scan_from_unmap() -> None:
    b = copy.deepcopy(BENCH)
    b["profile"]["kswapd0"]["categories"] = {"unmap": {"samples": 14, "fraction": 0.14}}
    k = kswapd_split(b)
    assert k["unmap_share"] == pytest.approx(0.2)  # 0.14 of kswapd's samples, of 0.7
    codecs = CODECS
    memory = MEMORY
    pages = PAGES
    eater = {"touch": 1.0, "revisit": 1.0, "copy": 1.0, "fault": 0.0}
    p = build_profile("host", codecs, pages, b, "bench.json", memory, {}, eater, "c")
    assert p.reclaim["scan_ns"].value == pytest.approx(0.8 * 7.0 / 2e6 * 1e9)
    assert p.reclaim["unmap_ns"].value == pytest.approx(0.2 * 7.0 / 8e5 * 1e9, rel=1e-3)
    assert "measured" in p.reclaim["unmap_ns"].source
    assert kswapd_split(BENCH)["unmap_share"] is None  # an older result: assumed


def test_a_run_without_perf_gives_the_cpu_and_counts_perf_gives_the_shares() -> None:
    plain = copy.deepcopy(BENCH)
    plain.pop("profile")
    plain["cpu"] = {"kswapd0": 5.0}  # perf's sampling made kswapd twice as slow
    k = kswapd_split(BENCH, plain)
    assert k["kswapd_cpu_s"] == 5.0
    assert k["compress_s"] == pytest.approx(0.3 * 5.0)  # BENCH's perf shares
    with pytest.raises(KcompressdError, match="only baseline runs"):
        kswapd_split(BENCH, {**plain, "meta": {"sysctls": {"vm.kcompressd": 24}}})


def test_the_eaters_in_run_cost_scales_the_quiet_loop_s() -> None:
    from kcompressd.profiles.calibrate import eater_in_run_factor

    run = {"cpu": {"kswapd0": 1.0, "eater0": 3.0},
           "vmstat": {"pgsteal_direct": 10_000, "pgscan_direct": 40_000, "pswpin": 0},
           "workload": {"pages_written": 20_000},
           "meta": {"plan": {"threads": 1, "per_eater": 1 << 30, "prefill": 0}}}
    # 20 us per steal, 4 of them scanning two folios at 2 us
    k = {"kswapd_cpu_s": 1.0, "pgsteal_kswapd": 50_000, "pgscan_kswapd": 100_000}
    loop = {"touch": 50_000.0, "revisit": 1.0, "fault": 1.0}  # 50 us per new page
    factor, why = eater_in_run_factor(run, loop, k, 2_000.0, None, [], "lz4")
    # Direct reclaim: 10,000 steals at 16 us besides scanning, 40,000 scans at 2 us = 0.24 s
    # (kswapd's 20 us a steal would say 0.2 s); 3 s less that for 20,000 new pages at 50 us.
    assert factor == pytest.approx(2.76)
    assert "20000 new pages" in why and "40000 scanned" in why
    assert eater_in_run_factor({**run, "workload": {}}, loop, k, 2_000.0, None, [],
                               "lz4")[0] == 1.0


def test_pooled_runs_sum_what_per_page_costs_divide() -> None:
    from kcompressd.profiles.calibrate import pool_runs

    a = {"vmstat": {"pgsteal_kswapd": 100, "pswpin": 5}, "cpu": {"kswapd0": 1.0},
         "workload": {"pages_written": 10}, "meta": {"measured_seconds": 2.0, "plan": {}}}
    b = {"vmstat": {"pgsteal_kswapd": 300}, "cpu": {"kswapd0": 2.0, "eater0": 1.0},
         "workload": {"pages_written": 30}, "meta": {"measured_seconds": 3.0, "plan": {}}}
    p = pool_runs([a, b])
    assert p["vmstat"] == {"pgsteal_kswapd": 400, "pswpin": 5}
    assert p["cpu"] == {"kswapd0": 3.0, "eater0": 1.0}
    assert p["workload"]["pages_written"] == 40
    assert p["meta"]["measured_seconds"] == 5.0 and p["meta"]["pooled_runs"] == 2


def test_a_context_switch_is_timed_and_becomes_the_machine_s() -> None:
    from kcompressd.profiles.measure import measure_context_switch

    sw = measure_context_switch(round_trips=200, repeat=2)
    assert 0 < sw.thread < 10_000 and 0 <= sw.mm < 10_000
    codecs = CODECS
    memory = MEMORY
    pages = PAGES
    eater = {"touch": 1.0, "revisit": 1.0, "copy": 1.0, "fault": 0.0}
    p = build_profile("host", codecs, pages, BENCH, "b", memory, {}, eater, "c", None, sw)
    machine = parse_profile("host", p.to_toml(), "again").scenario_defaults()["machine"]
    assert machine["context_switch_us"] == pytest.approx(sw.thread, rel=1e-3)
    assert machine["mm_switch_us"] == pytest.approx(sw.mm, rel=1e-3, abs=1e-9)
