"""simulate(): the result, determinism, the calibration, and design mechanics end to end."""

from __future__ import annotations

import json

import pytest

from kcompressd.designs import list_designs
from kcompressd.errors import KcompressdError
from kcompressd.scenarios import load_scenario
from kcompressd.sim.run import build, simulate

SHORT = ["run.warmup_s=0.2", "run.duration_s=0.6"]


def run(design: str = "none", *sets: str, scenario: str = "phone-memeater", seed: int = 0,
        timeline: bool = False):
    return simulate(load_scenario(scenario, [*SHORT, *sets]), design=design, seed=seed,
                    timeline=timeline)


def test_result_shape() -> None:
    r = run().result
    assert r["meta"]["source"] == "simulator"
    for key in ("seed", "simulated_seconds", "measured_seconds", "wall_seconds", "events"):
        assert key in r["meta"]
    assert r["meta"]["measured_seconds"] == pytest.approx(0.4)
    assert r["rates"]["pgsteal_anon"] == pytest.approx(r["vmstat"]["pgsteal_anon"] / 0.4)
    assert {"kswapd0", "eater0"} <= set(r["cpu"])
    assert r["latency"]["count"] > 0 and r["latency"]["p99"] >= r["latency"]["p50"]
    assert r["zram"]["orig_data_size"] > r["zram"]["compr_data_size"] > 0
    assert r["scenario"]["design"]["name"] == "none"
    assert r["scenario"]["name"] == "phone-memeater"


def test_same_seed_same_result_other_seed_differs() -> None:
    a, b, c = run(seed=3).result, run(seed=3).result, run(seed=4).result
    assert a["vmstat"] == b["vmstat"] and a["latency"] == b["latency"]
    assert a["cpu"] == b["cpu"]
    assert a["vmstat"] != c["vmstat"]


def test_baseline_is_the_calibration() -> None:
    """kswapd alone ~300k pgsteal/s with a 3:7 split: checks the derivation, not a design."""
    r = simulate(load_scenario("phone-memeater"), duration=2.0).result
    assert r["rates"]["pgsteal_kswapd"] == pytest.approx(300000, rel=0.05)
    assert r["cpu"]["kswapd0"] == pytest.approx(r["meta"]["measured_seconds"], rel=0.01)
    split = r["meta"]["cpu_split"]["kswapd0"]
    assert split["compress_share"] == pytest.approx(0.7, abs=0.02)


def test_v1_full_fifos_fall_back_to_kswapd_compressing() -> None:
    roomy = run("kcompressd-v1").result
    assert roomy["meta"]["cpu_split"]["kswapd0"]["compress"] == 0  # all offloaded
    full = run("kcompressd-v1", "design.kcompressd-v1.threads=1",
               "design.kcompressd-v1.queue_size=32").result
    assert full["meta"]["cpu_split"]["kswapd0"]["compress"] > 0
    assert full["vmstat"]["pgrotated"] > 0


def test_v2_fifo_is_fed_by_kswapd_only() -> None:
    m = build(load_scenario("phone-memeater", ['design.name="kcompressd-v2"']))
    m.sim.run(0.5)
    assert m.mm.vm["allocstall"] > 0  # direct reclaim happened...
    assert m.design.fifos[0].producers == {"kswapd0"}  # ...and never queued
    assert m.mm.cpu_split == {}  # not measuring: nothing accounted


def test_v2_one_producer_per_node_fifo() -> None:
    m = build(load_scenario("server-numa", ['design.name="kcompressd-v2"']))
    m.sim.run(0.3)
    assert {nid: f.producers for nid, f in m.design.fifos.items()} == {
        0: {"kswapd0"}, 1: {"kswapd1"}}


def test_v1_on_two_nodes_warns_of_two_producers() -> None:
    r = simulate(load_scenario("server-numa", ["run.warmup_s=0.1"]), design="kcompressd-v1",
                 duration=0.3).result
    assert any("kswapd0, kswapd1" in w for w in r["meta"]["warnings"])
    assert run("kcompressd-v1").result["meta"]["warnings"] == []


def test_zram_async_takes_direct_reclaim_writes_too() -> None:
    r = run("zram-async").result
    split = r["meta"]["cpu_split"]
    assert r["vmstat"]["pgsteal_direct"] > 0
    assert split["eater0"]["compress"] == 0 and split["kswapd0"]["compress"] == 0
    assert sum(v["compress"] for k, v in split.items() if k.startswith("zram0_comp")) > 0
    m = build(load_scenario("phone-memeater", ['design.name="zram-async"']))
    m.sim.run(0.4)
    assert {"kswapd0", "eater0"} <= m.design.fifo.producers


def test_multi_kswapd_runs_balance_pgdat_in_each_thread() -> None:
    r = run("multi-kswapd", "design.multi-kswapd.threads=3", timeline=True)
    threads = {s.thread for s in r.timeline.slices if s.name == "balance_pgdat"}
    assert threads == {"kswapd0", "kswapd0:1", "kswapd0:2"}
    assert all(r.result["cpu"][t] > 0.1 for t in threads)


def test_timeline_has_the_contract_names() -> None:
    tl = run("kcompressd-v2", timeline=True).timeline
    assert set(tl.counters) == {"free_pages", "wmark_min", "wmark_low", "wmark_high",
                                "queue_depth", "writeback_pages", "inactive_anon_pages",
                                "active_anon_pages", "zram_mem_used_bytes"}
    # The anon LRU's pages as the kernel counts them: what the eaters hold, resident.
    assert max(v for _, v in tl.counters["inactive_anon_pages"]) > 0
    assert {(s.thread, s.name) for s in tl.slices} >= {
        ("kswapd0", "balance_pgdat"), ("kcompressd0", "compress"),
        ("eater0", "try_to_free_pages")}
    # sampled every 10 ms over 0.6 s
    assert 55 <= len(tl.counters["free_pages"]) <= 70


def test_app_launch_reports_launch_time() -> None:
    r = simulate(load_scenario("phone-app-launch")).result
    w = r["workload"]
    assert w["completed"] and w["launch_seconds"] == w["elapsed_seconds"] > 0
    assert r["meta"]["simulated_seconds"] == pytest.approx(0.1 + w["launch_seconds"])


def test_swap_full_ends_in_oom() -> None:
    r = run("none", "swap.disksize_mb=64", "run.warmup_s=0", "run.duration_s=3").result
    assert r["workload"]["oom_killed"] == "eater0"
    assert r["vmstat"]["oom_kill"] == 1
    assert r["meta"]["simulated_seconds"] < 3


def test_duration_must_leave_time_to_measure() -> None:
    with pytest.raises(KcompressdError, match=r"run\.warmup_s = 0\.5 s"):
        simulate(load_scenario("phone-memeater"), duration=0.5)


def test_design_parameters_go_only_to_the_designs_that_have_them() -> None:
    """`design.threads` belongs to the scenario's design (and any other that has it); a run of
    a design without it ignores it (the CLI refuses a run where no design has it), and the
    scenario's own design must take every such parameter."""
    sc = load_scenario("phone-memeater", ['design.name="kcompressd-v1"', "design.threads=2"])
    assert sc.design_params("kcompressd-v1")["threads"] == 2
    assert "threads" not in sc.design_params("kcompressd-v2")
    bad = load_scenario("phone-memeater", ['design.name="kcompressd-v2"', "design.threads=2"])
    with pytest.raises(KcompressdError, match=r"design\.threads: unknown parameter"):
        bad.design_params("kcompressd-v2")
    sc = load_scenario("phone-memeater", ["design.kcompressd-v1.threads=2"])
    r = simulate(sc, design="kcompressd-v1", duration=0.6).result
    assert r["scenario"]["design"] == {"name": "kcompressd-v1", "threads": 2,
                                       "queue_size": 4096}


def test_big_memory_is_not_one_object_per_page() -> None:
    m = build(load_scenario("server-numa", ["memory.total_mb=65536"]))
    assert sum(n.total for n in m.nodes) == 16 << 20
    m.sim.run(0.2)
    runs = sum(len(n.lru.inactive) + len(n.lru.active) for n in m.nodes)
    assert runs < 200_000  # runs of pages, not 16 M page objects
    m.mm.check()


@pytest.mark.parametrize("design", [n for n, _ in list_designs()])
@pytest.mark.parametrize("scenario", ["server-numa", "phone-many-writers"])
def test_every_design_runs_and_conserves_pages(design: str, scenario: str) -> None:
    sc = load_scenario(scenario, ["run.warmup_s=0.05"])
    r = simulate(sc, design=design, duration=0.2)  # conservation is checked inside
    json.dumps(r.result)
    v = r.result["vmstat"]
    assert v["pgsteal_anon"] == v["pgsteal_kswapd"] + v["pgsteal_direct"] > 0
    # A batch isolated (pgscan) before the window opened may be freed (pgsteal) inside it:
    # at most one batch per thread.
    assert v["pgscan_anon"] + 32 * len(r.result["cpu"]) >= v["pgsteal_anon"]
    assert all(x >= 0 for x in v.values())


def test_busy_phone_offload_threads_compete_for_cpu() -> None:
    sc = load_scenario("busy-phone", ["run.warmup_s=1.0"])
    r = simulate(sc, design="kcompressd-v2", duration=1.5).result
    cpu, m = r["cpu"], r["meta"]["measured_seconds"]
    assert r["vmstat"]["pgsteal_kswapd"] > 0
    busy = ["kswapd0", "kcompressd0", "eater0"] + [f"hog{i}" for i in range(8)]
    assert sum(cpu[t] for t in busy) == pytest.approx(8 * m, rel=0.02)  # all 8 CPUs full
    assert cpu["kswapd0"] < 0.95 * m and cpu["kcompressd0"] < 0.95 * m
    # Per-CPU runqueues balanced by load per capacity: a hog is alone on a little core or
    # shares a big one with one other thread, at least half of a CPU's time either way.
    assert min(cpu[f"hog{i}"] for i in range(8)) > 0.45 * m


def test_counts_of_the_measured_window_exclude_the_warm_up() -> None:
    # On one CPU every switch to another thread follows one leaving it: in the window the
    # machine-wide count equals the threads' own, without the warm-up's switches.
    sc = load_scenario("phone-memeater", ["run.warmup_s=0.6", "machine.cpus=1",
                                          "machine.big_cpus=-1"])
    meta = simulate(sc, design="kcompressd", duration=0.8).result["meta"]
    outs = sum(v["voluntary"] + v["nonvoluntary"] for v in meta["thread_switches"].values())
    assert outs > 0 and abs(meta["context_switches"] - outs) <= 1
    assert meta["busy_seconds_per_cpu"] == [pytest.approx(meta["measured_seconds"])]


def test_a_fresh_lru_is_kept_on_its_first_pass() -> None:
    # Freshly faulted folios are young: shrink_folio_list() keeps them the first time it sees
    # them (folio_check_references()), so a fresh start reclaims less per scan at first than
    # a list in the steady state of reclaim, where half the folios have been seen once.
    def efficiency(start: str) -> float:
        vm = run("none", "run.warmup_s=0", "memory.lru=classic",
                 f"memory.anon_start={start}").result["vmstat"]
        return vm["pgsteal_kswapd"] / vm["pgscan_kswapd"]

    assert efficiency("fresh") < 0.5 * efficiency("steady")
