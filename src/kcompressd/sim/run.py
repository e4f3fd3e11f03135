"""`simulate()`: build a machine from a scenario, run it, and report in kernel terms.

What is modelled, and where: CPUs, threads and the scheduler in `sim.core`; watermarks, the
anon LRU, kswapd, direct reclaim, writeback throttling in `mm`; zram's costs, sizes and
zsmalloc memory in `backends.zram_cost`; the offload designs in `designs`; costs derived from
the thread's facts in `mm.calibration`.

Swap-ins are modelled for region eaters (workload.region_mb, the bench's eaters); the LRU is
classic or MGLRU (memory.lru). Left out (each would be its own piece of work): file pages and
the file LRU, refault detection (workingset), memcg, zswap as a backend, zsmalloc
fragmentation and compaction, the anon/file balance of get_scan_count(), per-CPU page lists,
CPU affinity and per-CPU runqueues (one global EEVDF or CFS runqueue), power.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kcompressd import PAGE_SIZE
from kcompressd.backends.zram_cost import ZramCostModel, ZramSampler, ZramStore, corpus_sizes
from kcompressd.designs import Design, make_design
from kcompressd.errors import KcompressdError
from kcompressd.mm.calibration import Costs, profile_costs
from kcompressd.mm.lru import HOT, REF, YOUNG
from kcompressd.mm.lru_gen import GenLru
from kcompressd.mm.node import Node
from kcompressd.mm.system import MemorySystem
from kcompressd.mm.vmscan import kswapd
from kcompressd.mm.watermarks import default_min_free_kbytes, setup_per_zone_wmarks
from kcompressd.mm.workload import (
    CHUNK_PAGES,
    EaterCosts,
    Region,
    cpu_hog,
    memory_eater,
    periodic_load,
    region_eater,
)
from kcompressd.profiles import Profile, load_profile
from kcompressd.result import make_result, thread_switches
from kcompressd.scenarios import Scenario
from kcompressd.scenarios.model import MachineSection, ScenarioConfig
from kcompressd.sim.core import Sim
from kcompressd.sim.metrics import reclaim_summary
from kcompressd.trace import Timeline

MB = 1 << 20
SWAPIN_STREAM = 0x5A9  # the swap-in draws' random stream, apart from the writes'


@dataclass
class SimRun:
    result: dict[str, Any]
    timeline: Timeline | None


def _pages(mb: float) -> int:
    return int(mb * MB) // PAGE_SIZE


def _build_sim(machine: MachineSection) -> Sim:
    return Sim(
        machine.speeds(),
        context_switch=machine.context_switch_us * 1e-6,
        mm_switch=machine.mm_switch_us * 1e-6,
        wakeup_latency=machine.wakeup_latency_us * 1e-6,
        sched_latency=machine.sched_latency_ms * 1e-3,
        min_granularity=machine.min_granularity_ms * 1e-3,
        wakeup_granularity=machine.wakeup_granularity_ms * 1e-3,
        scheduler=machine.scheduler,
        base_slice=machine.base_slice(),
        tick=1 / machine.hz,
    )


def _build_nodes(cfg: ScenarioConfig) -> list[Node]:
    mem, nnodes = cfg.memory, cfg.machine.nodes
    total = _pages(mem.total_mb)
    per_node = [total // nnodes + (1 if i < total % nnodes else 0) for i in range(nnodes)]
    managed = [p - _pages(mem.unreclaimable_mb) // nnodes for p in per_node]
    mfk = mem.min_free_kbytes or default_min_free_kbytes(sum(managed))
    wmarks = setup_per_zone_wmarks(managed, mfk, mem.watermark_scale_factor)
    nodes = []
    for i in range(nnodes):
        node = Node(i, per_node[i], wmarks[i], per_node[i] - managed[i], lru=mem.lru)
        free = _pages(mem.free_mb) // nnodes
        hot = _pages(cfg.workload.hot_mb) // nnodes
        anon = node.free - free
        if anon < hot:
            raise KcompressdError("memory.free_mb: no room left for workload.hot_mb")
        if mem.anon_start == "fresh":  # folio_add_lru() at each fault, no scan since
            node.lru.add_inactive_head(anon - hot, YOUNG)
        elif mem.lru == "mglru":
            _steady_state_generations(node, anon - hot)
        else:
            _steady_state_lru(node, anon - hot)
        node.lru.add_inactive_head(hot, HOT | YOUNG)
        node.free = free
        nodes.append(node)
    return nodes


STEADY_RUN = 512  # pages per run of the initial LRU pattern


def _steady_state_lru(node: Node, pages: int) -> None:
    """Background anon as a touch-once LRU under steady reclaim leaves it.

    Every folio enters the inactive head young (its fault), is kept on its first scan
    (PG_referenced set, back to the head) and reclaimed on its second, so the inactive list of
    a system that has been reclaiming for a while alternates folios seen once (REF) and folios
    not seen yet (YOUNG) in equal numbers. Starting there, reclaim runs at its steady rate from
    the first second instead of first spending a whole pass of the list keeping everything.
    """
    flags = (YOUNG, REF)
    i = 0
    while pages > 0:
        k = min(STEADY_RUN, pages)
        node.lru.add_inactive_head(k, flags[i & 1])
        pages -= k
        i += 1


def _steady_state_generations(node: Node, pages: int) -> None:
    """Background anon as MGLRU under steady reclaim leaves it: spread evenly over the older
    generations (MIN_NR_GENS + 1 in use, the number should_run_aging() aims for), accessed
    bits cleared by the aging walks that moved them there."""
    lru = node.lru
    assert isinstance(lru, GenLru)
    olds = range(lru.min_seq, lru.max_seq)
    for i, seq in enumerate(olds):
        share = pages // len(olds) + (1 if i < pages % len(olds) else 0)
        lru._add(seq, share, 0)


@dataclass
class Machine:
    """A built, not yet run, simulation: the scheduler, the memory system and its workload."""

    cfg: ScenarioConfig
    scenario: dict[str, Any]  # the resolved scenario as the result reports it
    profile: Profile
    design_name: str
    params: dict[str, Any]
    sim: Sim
    mm: MemorySystem
    costs: Costs
    model: ZramCostModel
    finished: dict[str, float] = field(default_factory=dict)  # thread -> time it finished

    @property
    def design(self) -> Design:
        return self.mm.design

    @property
    def nodes(self) -> list[Node]:
        return self.mm.nodes


def build(scenario: Scenario, *, design: str | None = None, seed: int = 0,
          timeline: bool = False, workload: bool = True) -> Machine:
    """Everything `simulate()` runs: CPUs, nodes, zram, kswapds, the design and the workload.

    `workload=False` leaves the allocating and CPU-bound threads out (tests drive reclaim
    themselves).
    """
    raw = scenario.to_dict()
    cfg = ScenarioConfig.from_dict(raw)
    design_name = design or raw["design"]["name"]
    params = scenario.design_params(design_name)
    swap = cfg.swap
    profile = load_profile(cfg.profile)
    table = profile.codec(swap.algorithm)
    sizes = corpus_sizes(swap.corpus, swap.algorithm, swap.corpus_pages)
    if sizes.same_filled.all():
        raise KcompressdError(f"swap.corpus: {swap.corpus} has only same-filled pages; "
                              "nothing to calibrate compression against")
    # A facts profile's compression per stolen page counts zero pages at no cost either way.
    table_ns = np.where(sizes.same_filled, 0.0, table.compress(sizes.comp_len))
    costs = profile_costs(profile, vars(cfg.calibration), float(table_ns.mean()),
                          cfg.memory.lru)
    zero = 0.0
    if swap.zeromap:  # zram sees only the other pages (see backends.zram_cost)
        zero = float(sizes.zero.mean())
        if zero:
            table_ns = table_ns[~sizes.zero]
            sizes = sizes.without_zero()
    # A page's store costs its compression and the store step's own work (Costs.write).
    model = ZramCostModel(sizes, table_ns * costs.compress_scale + costs.write,
                          chain_size=swap.chain_size)
    sampler = ZramSampler(model, seed, zero_fraction=zero)
    swapin = None
    if cfg.workload.region_mb:  # swap-ins read objects back: costed at decompression
        dtable = np.where(sizes.same_filled, 0.0, table.decompress(sizes.comp_len))
        swapin = ZramSampler(ZramCostModel(sizes, dtable * costs.compress_scale,
                                           chain_size=swap.chain_size), seed + SWAPIN_STREAM)
    store = ZramStore(swap.disksize_mb * MB)

    sim = _build_sim(cfg.machine)
    nodes = _build_nodes(cfg)
    d = make_design(design_name, params)
    mm = MemorySystem(sim, nodes, sampler, store, costs, d, hz=cfg.machine.hz,
                      timeline=Timeline() if timeline else None, swapin_sampler=swapin)
    mm.lru_seq = sum(n.lru.pages for n in nodes)
    ncpus = cfg.machine.cpus
    for node in nodes:
        # kswapd_run(): bound to its node's CPUs (cpumask_of_node()), a block of them here.
        cpus = range(node.id * ncpus // len(nodes), (node.id + 1) * ncpus // len(nodes))
        for i in range(d.kswapd_threads):
            name = f"kswapd{node.id}" if i == 0 else f"kswapd{node.id}:{i}"
            node.kswapds.append(sim.spawn(name, kswapd(mm, node), cpus=cpus))
    d.attach(mm)
    m = Machine(cfg, raw, profile, design_name, params, sim, mm, costs, model)
    if workload:
        _start_workload(m)
    return m


def _start_workload(m: Machine) -> None:
    """Allocating threads spread over nodes (local node first in the zonelist), and hogs."""
    wl, sim, nodes = m.cfg.workload, m.sim, m.nodes
    prefix = "launch" if wl.kind == "app-launch" else "eater"
    group = "workload" if m.cfg.machine.autogroup else None
    per_thread = _pages(wl.alloc_mb)

    def done(name: str) -> None:
        m.finished[name] = sim.now
        if len(m.finished) == wl.threads:
            sim.stop()  # a finite workload is over

    def start(_: Any) -> None:
        costs = EaterCosts(wl.touch_us * 1e-6, wl.revisit_us * 1e-6, wl.fault_us * 1e-6)
        for i in range(wl.threads):
            local = nodes[i % len(nodes)]
            zonelist = [local, *(n for n in nodes if n is not local)]
            if wl.region_mb:
                region = Region.prefilled(_pages(wl.region_mb), _pages(wl.prefill_mb), i,
                                          wl.threads)
                body = region_eater(m.mm, zonelist, region, costs, m.mm.chunk_us)
            else:
                body = memory_eater(m.mm, zonelist, per_thread, costs.touch, done)
            # Processes, as the bench's, of one session.
            sim.spawn(f"{prefix}{i}", body, mm=f"{prefix}{i}", group=group)

    sim.call_at(wl.start_s, start)
    for i in range(wl.hogs):
        sim.spawn(f"hog{i}", cpu_hog(wl.hog_slice_ms * 1e-3), mm=f"hog{i}")
    if wl.background_cpus > 0:
        sim.irq_load(wl.background_cpus / len(sim.cpus), 1 / m.cfg.machine.hz)
    if wl.sampler_cpus > 0:  # a process: it has an address space of its own
        sim.spawn("sampler", periodic_load(sim, wl.sampler_cpus, wl.sampler_period_s),
                  mm="sampler")


def simulate(scenario: Scenario, *, design: str | None = None, seed: int = 0,
             duration: float | None = None, timeline: bool = False) -> SimRun:
    """Run `scenario` with `design` (default: the scenario's) for `duration` simulated s.

    Counters, CPU times and stall samples cover the measured window, from the scenario's
    warm-up to the end (the duration, or earlier when a finite workload completes or the OOM
    killer fires). Page conservation is checked at the end; a violation raises.
    """
    wall0 = time.perf_counter()
    m = build(scenario, design=design, seed=seed, timeline=timeline)
    run_cfg = m.cfg.run
    end = run_cfg.duration_s if duration is None else duration
    if not end > 0:
        raise KcompressdError(f"duration {end}: must be > 0 seconds")
    if end <= run_cfg.warmup_s:
        raise KcompressdError(f"duration {end:g} s: nothing left to measure after "
                              f"run.warmup_s = {run_cfg.warmup_s:g} s (lower it with --set)")
    sim, mm, tl = m.sim, m.mm, m.mm.timeline
    wl = m.cfg.workload
    if tl is not None:
        _sample_timeline(sim, mm, tl, run_cfg.timeline_interval_ms * 1e-3)

    snap: dict[str, Any] = {}

    def begin_measuring(_: Any) -> None:
        mm.measuring = True
        snap["vm"] = dict(mm.vm)
        snap["cpu"] = {th.name: th.cpu_time for th in sim.threads}
        snap["switches"] = {th.name: (th.nvcsw, th.nivcsw) for th in sim.threads}
        snap["busy"] = {c.index: sim.busy_time(c) for c in sim.cpus}
        snap["context_switches"] = sim.context_switches
        snap["t"] = sim.now

    if run_cfg.warmup_s > 0:
        sim.call_at(run_cfg.warmup_s, begin_measuring)
    else:
        begin_measuring(None)  # before the first event: no batch straddles the window's start
    finite = wl.alloc_mb > 0
    sim.run(end)
    t_end = sim.now
    if tl is not None:
        _sample_counters(sim, mm, tl)
        mm.close_slices()
    mm.check()
    if "vm" not in snap:  # ended before the warm-up was over
        begin_measuring(None)
    result = _result(m, seed, snap, t_end, wl.start_s if finite else None,
                     time.perf_counter() - wall0)
    return SimRun(result, tl)


def _result(m: Machine, seed: int, snap: dict[str, Any], t_end: float,
            start: float | None, wall: float) -> dict[str, Any]:
    sim, mm, wl, finished = m.sim, m.mm, m.cfg.workload, m.finished
    measured = t_end - snap["t"]
    vmstat = {k: v - snap["vm"].get(k, 0) for k, v in mm.vm.items()}
    cpu = {th.name: th.cpu_time - snap["cpu"].get(th.name, 0.0) for th in sim.threads}
    before = snap["switches"]
    switches = {th.name: thread_switches((th.nvcsw, th.nivcsw), before.get(th.name, (0, 0)))
                for th in sim.threads}
    split = {name: {"scan_unmap": s, "compress": c,
                    "compress_share": c / (s + c) if s + c else 0.0}
             for name, (s, c) in sorted(mm.cpu_split.items())}
    workload: dict[str, Any] = {"kind": wl.kind, "threads": wl.threads,
                                "oom_killed": mm.oom_victim}
    if wl.region_mb:  # the eaters' progress, counted as kcompressd bench counts it
        workload["chunks"] = len(mm.chunk_us)
        workload["pages_written"] = len(mm.chunk_us) * CHUNK_PAGES
    if start is not None:
        complete = len(finished) == wl.threads
        workload["completed"] = complete
        workload["elapsed_seconds"] = (max(finished.values()) - start) if complete else None
        if wl.kind == "app-launch":
            workload["launch_seconds"] = workload["elapsed_seconds"]
    cfg = dict(m.scenario)
    cfg["design"] = {"name": m.design_name, **m.params}
    zram = mm.store.mm_stat()
    zram["failed_writes"] = mm.store.failed_writes
    meta = {
        "seed": seed,
        "design": m.design_name,
        "simulated_seconds": t_end,
        "warmup_seconds": snap["t"],
        "wall_seconds": wall,
        "events": sim.events,
        "context_switches": sim.context_switches - snap["context_switches"],
        "thread_switches": switches,
        # per CPU in index order (big cores first, as MachineSection.speeds() lists them)
        "busy_seconds_per_cpu": [sim.busy_time(c) - snap["busy"][c.index]
                                 for c in sorted(sim.cpus, key=lambda c: c.index)],
        "calibration": {**m.costs.to_dict(), "profile": m.profile.name,
                        "profile_kind": m.profile.kind, "corpus_pages": m.model.pages,
                        "mean_compress_us": m.model.mean_cost * 1e6, "codec": m.model.codec},
        "cpu_split": split,
        "free_pages_end": sum(n.free for n in mm.nodes),
        "nr_writeback_end": sum(n.writeback for n in mm.nodes),
        "warnings": m.design.warnings(),
    }
    # Region eaters time their chunks as the bench's eaters do; others give allocation stalls.
    latency = mm.chunk_us if wl.region_mb else mm.stall_us
    result = make_result(source="simulator", vmstat=vmstat, measured_seconds=measured,
                         cpu=cpu, latency_us=latency, zram=zram, workload=workload,
                         scenario=cfg, meta=meta)
    result["reclaim"] = reclaim_summary(result)
    return result


def _sample_counters(sim: Sim, mm: MemorySystem, tl: Timeline) -> None:
    t = sim.now
    nodes = mm.nodes
    tl.counter("free_pages", t, sum(n.free for n in nodes))
    tl.counter("wmark_min", t, sum(n.wmark.min for n in nodes))
    tl.counter("wmark_low", t, sum(n.wmark.low for n in nodes))
    tl.counter("wmark_high", t, sum(n.wmark.high for n in nodes))
    tl.counter("queue_depth", t, mm.design.queue_depth())
    tl.counter("writeback_pages", t, sum(n.writeback for n in nodes))
    # The anon LRU's two lists (lru_gen: every generation counts as inactive here).
    tl.counter("inactive_anon_pages", t, sum(n.lru.nr_inactive for n in nodes))
    tl.counter("active_anon_pages", t, sum(n.lru.nr_active for n in nodes))
    tl.counter("zram_mem_used_bytes", t, mm.store.mem_used_pages * PAGE_SIZE)


def _sample_timeline(sim: Sim, mm: MemorySystem, tl: Timeline, interval: float) -> None:
    def tick(_: Any) -> None:
        _sample_counters(sim, mm, tl)
        sim.call_at(sim.now + interval, tick)

    sim.call_at(0.0, tick)


__all__ = ["Machine", "SimRun", "build", "simulate"]
