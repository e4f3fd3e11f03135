"""Replaying a real run's plan in the simulator, and the relative errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kcompressd.errors import KcompressdError
from kcompressd.profiles import Sourced, load_profile
from kcompressd.scenarios import load_scenario
from kcompressd.sim.validate import errors, metrics, plan_overrides

MB = 1 << 20


@pytest.fixture
def measured(tmp_path: Path) -> str:
    """A measured profile (the phone's codec tables, made-up reclaim and eater costs)."""
    phone = load_profile("phone")
    p = replace(phone, kind="measured", facts={},
                reclaim={"scan_ns": Sourced(500.0, "test"), "unmap_ns": Sourced(800.0, "t")},
                eater={"touch_ns": Sourced(2000.0, "test"), "revisit_ns": Sourced(300.0, "t"),
                       "fault_ns": Sourced(1500.0, "test")})
    path = tmp_path / "measured.toml"
    path.write_text(p.to_toml())
    return str(path)


def real(sysctls: dict[str, int] | None = None) -> dict[str, Any]:
    return {
        "vmstat": {"pgsteal_kswapd": 100, "pgsteal_direct": 50, "pgscan_kswapd": 200},
        "rates": {"pgsteal_kswapd": 10.0, "pgsteal_direct": 5.0, "allocstall": 0.0},
        "cpu": {"kswapd0": 4.0, "kcompressd0": 2.0, "eater0": 3.0},
        "latency": {"p50": 100.0, "p90": 200.0, "p99": 400.0},
        "zram": {"orig_data_size": 4096, "compr_data_size": 1024, "mem_used_total": 2048},
        "workload": {"corpus": "builtin:phone"},
        "meta": {"measured_seconds": 10.0, "cpus": 2, "sysctls": sysctls or {},
                 "plan": {"threads": 2, "play": 4096 * MB, "mem_total": 8192 * MB,
                          "prefill": 1024 * MB, "per_eater": 3072 * MB, "algorithm": "lz4",
                          "zram_disksize": 8192 * MB}},
    }


def test_the_plan_becomes_the_scenario(measured: str) -> None:
    sets, design = plan_overrides(real(), measured)
    assert design == "none"
    s = load_scenario("phone-memeater", sets)
    assert s["machine"]["cpus"] == 2 and s["memory"]["lru"] == "classic"
    assert s["memory"]["total_mb"] == 8192 and s["memory"]["unreclaimable_mb"] == 4096
    assert s["memory"]["free_mb"] == 2048  # play minus what the two eaters prefilled
    assert s["memory"]["anon_start"] == "fresh"  # prefilled just before: never scanned
    assert s["workload"]["threads"] == 2 and s["workload"]["alloc_mb"] == 0
    # The bench's eaters: regions written pass after pass, at the profile's measured costs.
    assert (s["workload"]["region_mb"], s["workload"]["prefill_mb"]) == (3072, 1024)
    assert (s["workload"]["touch_us"], s["workload"]["revisit_us"],
            s["workload"]["fault_us"]) == (2.0, 0.3, 1.5)
    assert s["run"]["duration_s"] - s["run"]["warmup_s"] == pytest.approx(10.0)
    assert s["swap"]["zeromap"] is False  # the kernel counted no swpout_zero: it has none


def test_the_memory_measured_as_the_window_opened_wins_over_the_plan(measured: str) -> None:
    run = real()
    # The page cache dropped before the window and other processes' anon memory.
    run["meta"]["window_start"] = {"free_pages": 2560 * MB // 4096,
                                   "inactive_anon_pages": 2300 * MB // 4096,
                                   "active_anon_pages": 100 * MB // 4096}
    s = load_scenario("phone-memeater", plan_overrides(run, measured)[0])
    assert s["memory"]["free_mb"] == 2560
    assert s["memory"]["unreclaimable_mb"] == 8192 - 2560 - 2400


@pytest.mark.parametrize(("meta", "grouped"), [
    ({"sched_autogroup": True}, True), ({"sched_autogroup": False, "vm": {}}, False),
    ({}, True), ({"vm": {"cpus": 1}}, False)])  # before it was recorded: host or guest
def test_the_eaters_form_one_task_group_where_the_kernel_made_one(
        measured: str, meta: dict[str, Any], grouped: bool) -> None:
    run = real()
    run["meta"].update(meta)
    s = load_scenario("phone-memeater", plan_overrides(run, measured)[0])
    assert s["machine"]["autogroup"] is grouped


def test_a_kernel_that_counts_zero_swapouts_has_the_zeromap(measured: str) -> None:
    run = real()
    run["meta"]["vmstat_outside_window"] = {"swpout_zero": 3}
    assert load_scenario("phone-memeater", plan_overrides(run, measured)[0])["swap"]["zeromap"]


def test_the_bench_s_sampler_is_a_process_and_the_rest_is_interrupt_work(measured: str
                                                                         ) -> None:
    run = real()
    run["meta"] |= {"cpus_busy_seconds": 9.5, "sampler_cpu_seconds": 0.4, "samples": 50}
    s = load_scenario("phone-memeater", plan_overrides(run, measured)[0])["workload"]
    # 0.5 s besides the tracked threads in 10 s: 0.4 s the sampler's, woken 50 times.
    assert s["sampler_cpus"] == pytest.approx(0.04)
    assert s["sampler_period_s"] == pytest.approx(0.2)
    assert s["background_cpus"] == pytest.approx(0.01)
    # A result that does not say how often its sampler woke: all of it from the tick.
    del run["meta"]["samples"]
    s = load_scenario("phone-memeater", plan_overrides(run, measured)[0])["workload"]
    assert (s["sampler_cpus"], s["background_cpus"]) == (0.0, pytest.approx(0.05))


def test_a_profile_without_eater_costs_cannot_replay_a_run() -> None:
    with pytest.raises(KcompressdError, match="no \\[eater\\] costs"):
        plan_overrides(real(), "phone")


def test_kcompressd_sysctls_become_the_design_s_parameters(measured: str) -> None:
    sets, design = plan_overrides(real({"vm.kcompressd": 256, "vm.kcompressd_threads": 2,
                                        "vm.kcompressd_overflow": 0}), measured)
    assert design == "kcompressd"
    params = load_scenario("phone-memeater", sets).design_params("kcompressd")
    assert params == {"depth": 256, "threads": 2, "overflow": 0, "memalloc": 1}


def test_relative_errors() -> None:
    r = real()
    s = {**r, "rates": {**r["rates"], "pgsteal_kswapd": 12.0}}
    err = errors(r, s)
    assert err["pgsteal_kswapd/s"] == pytest.approx(0.2)
    assert err["allocstall/s"] is None  # nothing to be relative to
    assert metrics(r)["kswapd cpu share"] == pytest.approx(0.4)
    assert metrics(r)["workers cpu share"] == pytest.approx(0.2)


def test_reclaim_summary_counts_every_design_s_workers() -> None:
    from kcompressd.sim.metrics import reclaim_summary

    r = real()
    r["cpu"] = {"kswapd0": 1.0, "zram0_comp0": 0.5, "kworker/u0:1": 0.25, "eater0": 9.0}
    s = reclaim_summary(r)
    assert s["kswapd_cpu_us_per_page"] == pytest.approx(1e6 / 100)
    assert s["background_cpu_us_per_page"] == pytest.approx(1.75e6 / 100)
    assert s["kswapd_efficiency"] == pytest.approx(0.5)
