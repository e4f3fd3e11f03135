import pytest

from kcompressd.result import VMSTAT_COUNTERS, latency_summary, make_result


def test_rates_are_counters_per_measured_second_and_every_counter_is_present() -> None:
    r = make_result(source="simulator", vmstat={"pgsteal_kswapd": 600, "pgrefill": 10},
                    measured_seconds=2.0, cpu={"kswapd0": 1.5}, latency_us=[],
                    zram={"orig_data_size": 4096}, workload={}, scenario={"name": "x"},
                    meta={"seed": 1})
    assert set(VMSTAT_COUNTERS) <= set(r["vmstat"])
    assert r["rates"]["pgsteal_kswapd"] == 300.0 and r["rates"]["pgrefill"] == 5.0
    assert r["vmstat"]["pswpout"] == 0
    assert r["meta"]["seed"] == 1 and r["meta"]["measured_seconds"] == 2.0
    assert {"vmstat", "rates", "cpu", "latency", "zram", "workload", "scenario", "meta"} == set(r)


def test_latency_percentiles() -> None:
    s = latency_summary(list(range(1, 1001)))
    assert s["count"] == 1000 and s["max"] == 1000
    assert s["p50"] == pytest.approx(500.5) and s["p99"] == pytest.approx(990.01)
    assert latency_summary([])["p99"] == 0.0
