"""Random small machines, every design: pages are conserved and counters stay consistent."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcompressd.designs import list_designs
from kcompressd.scenarios import load_scenario
from kcompressd.sim.run import simulate

DESIGNS = [n for n, _ in list_designs()]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    design=st.sampled_from(DESIGNS),
    cpus=st.integers(1, 4),
    nodes=st.integers(1, 2),
    total_mb=st.integers(48, 256),
    free_mb=st.integers(0, 16),
    disksize_mb=st.integers(1, 256),
    threads=st.integers(1, 3),
    touch_us=st.floats(0.1, 5.0),
    hot_mb=st.integers(0, 8),
    seed=st.integers(0, 1000),
)
def test_random_machines_conserve_pages(design: str, cpus: int, nodes: int, total_mb: int,
                                        free_mb: int, disksize_mb: int, threads: int,
                                        touch_us: float, hot_mb: int, seed: int) -> None:
    nodes = min(nodes, cpus)
    sc = load_scenario("phone-memeater", [
        f"machine.cpus={cpus}", f"machine.big_cpus={cpus}", f"machine.nodes={nodes}",
        f"memory.total_mb={total_mb}", "memory.unreclaimable_mb=16", f"memory.free_mb={free_mb}",
        f"swap.disksize_mb={disksize_mb}", f"workload.threads={threads}",
        f"workload.touch_us={touch_us}", f"workload.hot_mb={hot_mb}", "workload.alloc_mb=0",
        "run.warmup_s=0",
    ])
    r = simulate(sc, design=design, seed=seed, duration=0.15).result  # checks conservation
    v = r["vmstat"]
    assert v["pgsteal_anon"] == v["pgsteal_kswapd"] + v["pgsteal_direct"]
    assert v["pgscan_anon"] == v["pgscan_kswapd"] + v["pgscan_direct"] >= v["pgsteal_anon"]
    assert all(x >= 0 for x in v.values())
    z = r["zram"]
    assert z["orig_data_size"] <= disksize_mb << 20
    assert v["oom_kill"] == (1 if r["workload"]["oom_killed"] else 0)
