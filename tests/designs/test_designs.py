"""Designs: the registry, parameter checks, and each design's rule in isolation."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from kcompressd.designs import check_params, list_designs, make_design
from kcompressd.designs.base import PageFifo, WriteOutcome
from kcompressd.errors import KcompressdError
from kcompressd.mm.system import ScanControl
from kcompressd.scenarios import load_scenario
from kcompressd.sim.core import SLEEP
from kcompressd.sim.run import Machine, build

ALL = {"none", "kcompressd", "kcompressd-v1", "kcompressd-v2", "kcompressd-unofficial",
       "parallel-swapper", "multi-kswapd", "zram-async", "batch-accel"}
SMALL = ["memory.total_mb=64", "memory.unreclaimable_mb=8", "memory.free_mb=8",
         "swap.disksize_mb=64", "memory.lru=classic"]  # timings below assume the classic LRU


def test_registry_lists_every_design_baseline_first() -> None:
    names = [n for n, _ in list_designs()]
    assert set(names) == ALL and names[0] == "none"
    assert all(desc for _, desc in list_designs())


def test_unknown_design_and_parameter_list_the_valid_ones() -> None:
    with pytest.raises(KcompressdError, match="valid: batch-accel, kcompressd, kcompressd-unof"):
        make_design("kcompressd-v3")
    with pytest.raises(KcompressdError, match=r"design\.fifo: .*valid: fifo_size"):
        make_design("kcompressd-v2", {"fifo": 8})
    with pytest.raises(KcompressdError, match=r"design\.depth: 300 is above the maximum 256"):
        make_design("kcompressd-unofficial", {"depth": 300})
    with pytest.raises(KcompressdError, match=r"design\.threads: expected an integer"):
        make_design("kcompressd-v1", {"threads": 1.5})


def test_defaults_are_the_issue_s() -> None:
    # The lab patch's defaults (src/kcompressd/lab/patches).
    assert check_params("kcompressd", {}) == {"depth": 24, "threads": 1, "overflow": 0,
                                              "memalloc": 1}
    assert check_params("kcompressd-v1", {}) == {"threads": 4, "queue_size": 4096}
    assert check_params("kcompressd-v2", {}) == {"fifo_size": 256}
    assert check_params("kcompressd-unofficial", {}) == {"depth": 24}
    assert check_params("parallel-swapper", {}) == {"workers": 1, "factor": 6}
    assert check_params("multi-kswapd", {}) == {"threads": 2}
    assert check_params("batch-accel", {})["batch"] == 8


def idle() -> Generator[tuple, Any, None]:
    """Stands in for a worker that never drains its queue."""
    while True:
        yield SLEEP


def machine(design: str, **params: Any) -> Machine:
    sets = [f"design.{design}.{k}={v}" for k, v in params.items()]
    return build(load_scenario("phone-memeater", [*SMALL, *sets]), design=design,
                 workload=False)


def call(m: Machine, n: int, *, kswapd: bool = True, name: str = "kswapd-test",
         until: float = 1e-3) -> list[WriteOutcome]:
    """Run the design's swap_writepage for n isolated pages in a thread of its own."""
    node = m.nodes[0]
    node.lru.isolate_inactive(n)
    node.isolated += n
    out: list[WriteOutcome] = []

    def body() -> Generator[tuple, Any, None]:
        sc = ScanControl(m.sim.current, node, kswapd=kswapd)
        sc.page_cost = m.costs.scan + m.costs.unmap
        d = m.design
        if d.interleaves(sc):
            out.append((yield from d.swap_writepage_interleaved(sc, node, n)))
        elif d.offloads(sc):
            out.append(d.swap_writepage(sc, node, n))
        else:
            out.append(WriteOutcome(n, 0))  # the caller compresses them all
        yield from ()

    m.sim.spawn(name, body())
    m.sim.run(m.sim.now + until)
    return out


def test_kcompressd_wakes_its_worker_at_the_first_folio_it_queues() -> None:
    # shrink_folio_list() unmaps and queues one folio at a time, so a sleeping worker is woken
    # (and may take the CPU) when the first is queued, not once the batch is unmapped.
    m = machine("kcompressd", depth=24)
    woken: list[float] = []
    wake = m.sim.wake

    def record(th: Any) -> None:
        woken.append(m.sim.now)
        wake(th)

    m.sim.wake = record  # type: ignore[method-assign]
    start = m.sim.now
    [out] = call(m, 32)
    page = (m.costs.scan + m.costs.unmap) / max(c.speed for c in m.sim.cpus)
    assert out.queued + out.done.n == 32 if out.done else out.queued == 32
    # After the first folio's unmap (and the switch to kswapd), not the 24 queued ones'.
    assert woken and woken[0] - start < 2 * page + m.sim.context_switch < 24 * page


@pytest.mark.parametrize("design, overflow", [("kcompressd", 0), ("kcompressd", 1),
                                               ("kcompressd-unofficial", None)])
def test_folios_are_queued_one_by_one_unless_every_worker_is_on_a_cpu(
        monkeypatch: pytest.MonkeyPatch, design: str, overflow: int | None) -> None:
    # A worker that is woken, or waits for the CPU, may get it between two folios (kswapd
    # preempted there) and must find only the folios queued so far: kswapd puts them one at
    # a time then. Only while every worker runs may a run of them go in one step.
    m = machine(design, depth=24, **({} if overflow is None else {"overflow": overflow}))
    ws = m.design.workers[0]
    workers = ws if isinstance(ws, list) else [ws]
    puts: list[tuple[int, bool]] = []
    put = PageFifo.put

    def record(self: PageFifo, mm: Any, node: Any, n: int, producer: str) -> None:
        if producer == "kswapd-test":
            puts.append((n, all(w.running for w in workers)))
        put(self, mm, node, n, producer)

    monkeypatch.setattr(PageFifo, "put", record)
    call(m, 32, until=5e-3)
    assert sum(n for n, _ in puts) >= 24
    assert any(not running for _, running in puts)
    assert all(n == 1 for n, running in puts if not running)


def test_v1_fills_the_first_fifo_with_room_then_compresses_itself() -> None:
    m = machine("kcompressd-v1", threads=2, queue_size=20)
    d = m.design
    d.workers = [m.sim.spawn(f"idle{i}", idle()) for i in range(2)]  # nobody drains
    assert call(m, 32, until=0) == [WriteOutcome(0, 32)]
    assert [f.pages for f in d.fifos] == [20, 12]
    assert call(m, 32, until=0) == [WriteOutcome(24, 8)]  # 8 fit, 24 synchronous
    assert call(m, 32, kswapd=False, name="eater0", until=0) == [WriteOutcome(32, 0)]


def test_v2_offloads_kswapd_only_and_falls_through_when_full() -> None:
    m = machine("kcompressd-v2", fifo_size=40)
    m.design.workers = {0: m.sim.spawn("idle", idle())}  # nobody drains
    assert call(m, 32, kswapd=False, name="eater0") == [WriteOutcome(32, 0)]
    assert call(m, 32) == [WriteOutcome(0, 32)]
    assert call(m, 32) == [WriteOutcome(24, 8)]
    assert m.design.fifos[0].producers == {"kswapd-test"}


def test_unofficial_at_depth_writes_the_oldest_queued_itself() -> None:
    m = machine("kcompressd-unofficial", depth=24)
    d = m.design
    node = m.nodes[0]
    d.workers = {0: m.sim.spawn("idle", idle())}  # nobody drains
    fifo: PageFifo = d.fifos[0]
    assert call(m, 24) == [WriteOutcome(0, 24)]
    assert fifo.pages == 24 and m.mm.vm["pgrotated"] == 0
    # 8 more: the 8 oldest are written by the caller (clean in place on the LRU, no
    # rotation), the 8 new are queued.
    assert call(m, 8) == [WriteOutcome(0, 8)]
    assert fifo.pages == 24
    assert m.mm.vm["pgrotated"] == 0 and node.writeback == 0
    assert node.lru.nr_queued == 24 and m.mm.store.pages_stored == 8
    m.mm.check()


def test_unofficial_depth_zero_disables_offload() -> None:
    m = machine("kcompressd-unofficial", depth=0)
    assert call(m, 32) == [WriteOutcome(32, 0)]


def test_parallel_swapper_kswapd_waits_for_the_mutex(monkeypatch: pytest.MonkeyPatch) -> None:
    from kcompressd.designs import parallel_swapper

    m = machine("parallel-swapper", workers=1, factor=24)
    d = m.design
    assert d.max_workers == 1 and d.queues[0].fifo.capacity == 24
    monkeypatch.setattr(parallel_swapper, "LOCK_HOLD", 200e-6)  # a worker holds it long
    q = d.queues[0]
    assert call(m, 16, until=50e-6) == [WriteOutcome(0, 16)]  # queued, worker woken
    m.sim.run(m.sim.now + 100e-6)
    assert q.holder is not None  # the worker holds the fifo mutex
    assert call(m, 8, until=30e-6) == []  # kswapd announced itself and waits
    assert q.writer_is_waiting
    m.sim.run(m.sim.now + 1e-3)  # the worker drops the mutex and wakes kswapd
    assert not q.writer_is_waiting and q.fifo.producers == {"kswapd-test"}
    m.mm.check()


def test_parallel_swapper_workers_yield_to_a_waiting_kswapd() -> None:
    m = machine("parallel-swapper", workers=1, factor=24)
    q = m.design.queues[0]
    assert call(m, 16, until=15e-6) == [WriteOutcome(0, 16)]  # queued; the worker wakes
    q.writer_is_waiting = True  # kswapd is waiting for the mutex
    m.sim.run(m.sim.now + 200e-6)
    assert q.yields > 0 and q.fifo.pages == 16  # the worker stepped aside, took nothing
    q.writer_is_waiting = False
    m.sim.run(m.sim.now + 1e-3)
    # Written one folio at a time, clean in place on the LRU (queued locked: no rotation).
    assert q.fifo.pages == 0 and m.mm.vm["pgrotated"] == 0 and m.mm.store.pages_stored == 16


def test_parallel_swapper_needs_a_spare_cpu() -> None:
    m = build(load_scenario("phone-1cpu", SMALL), design="parallel-swapper", workload=False)
    assert m.design.max_workers == 0  # clamp(workers, 0, CPUs-in-node - 1)
    assert call(m, 32) == [WriteOutcome(32, 0)]


def test_multi_kswapd_spawns_threads_per_node() -> None:
    m = build(load_scenario("server-numa", ["design.multi-kswapd.threads=3"]),
              design="multi-kswapd", workload=False)
    assert [[t.name for t in n.kswapds] for n in m.nodes] == [
        ["kswapd0", "kswapd0:1", "kswapd0:2"], ["kswapd1", "kswapd1:1", "kswapd1:2"]]


def test_zram_async_queues_direct_reclaim_and_blocks_when_full() -> None:
    m = machine("zram-async", threads=1, queue_size=40)
    d = m.design
    d.workers = [m.sim.spawn("idle", idle())]  # nobody drains: the queue fills
    assert call(m, 32, kswapd=False, name="eater0") == [WriteOutcome(0, 32)]
    assert call(m, 32, kswapd=False, name="eater1") == []  # 8 fit, then it sleeps
    assert d.fifo.pages == 40 and len(d.waiters) == 1
    d.fifo.take(40)
    m.mm.nodes[0].writeback -= 40
    m.mm.nodes[0].lru.add_inactive_tail(40, 0)
    d._room()
    m.sim.run(m.sim.now + 1e-3)
    assert d.fifo.pages == 24 and d.waiters == []
    assert d.fifo.producers == {"eater0", "eater1"}


def test_batch_accel_shares_engines_and_frees_synchronously() -> None:
    m = machine("batch-accel", batch=8, engines=1, latency_us=10.0, throughput=4096.0)
    t0 = m.sim.now
    out = call(m, 16, until=1e-3)
    sync, queued, done = out[0]
    assert (sync, queued) == (0, 0) and done.n == 16 and done.cost == 0
    # One engine: 16 pages (minus same-filled ones) at 10 µs + 1 µs each, one after another.
    work = (16 - done.same) * 11e-6
    busy = m.design.free_at[0] - t0
    assert work <= busy <= work + 20e-6  # plus the caller's unmapping and submission


def test_kcompressd_sysctls_overflow_and_thread_names() -> None:
    m = machine("kcompressd", depth=8, threads=2, overflow=0)
    d = m.design
    assert [w.name for w in d.workers[0]] == ["kcompressd0", "kcompressd0:1"]
    d.workers = {0: [m.sim.spawn("idle", idle())]}  # nobody drains
    # overflow 0: the fifo takes 8, kswapd writes the other 24 new folios itself, one after
    # the other as it unmaps them (so they come back written, to be stored and freed).
    [out] = call(m, 32)
    assert (out.sync, out.queued, out.done.n) == (0, 8, 24)
    assert m.mm.vm["kcompressd_queued"] == 8 and m.mm.vm["kcompressd_sync_full"] == 24
    m2 = machine("kcompressd", depth=8, overflow=1)
    m2.design.workers = {0: [m2.sim.spawn("idle", idle())]}
    # overflow 1: all 32 are queued in turn; kswapd wrote the 24 oldest itself.
    assert call(m2, 32) == [WriteOutcome(0, 32)]
    assert m2.mm.vm["kcompressd_queued"] == 32 and m2.mm.vm["kcompressd_sync_full"] == 24
    assert m2.mm.vm["kcompressd_drained"] == 24  # queued = written + drained + queued
    assert m2.design.fifos[0].pages == 8
    assert call(machine("kcompressd", depth=0), 32) == [WriteOutcome(32, 0)]
