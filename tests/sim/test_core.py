"""The discrete-event core: speeds, fair sharing, sleeping and waking, timeouts."""

from __future__ import annotations

import pytest

from kcompressd.sim.core import MIGRATION_COST, RUN, SLEEP, SPIN, WAIT, Sim, Thread


def test_work_takes_longer_on_a_slower_cpu() -> None:
    sim = Sim([0.5])
    seen = []

    def body():
        yield (RUN, 1e-3)
        seen.append(sim.now)

    sim.spawn("t", body())
    sim.run(1.0)
    assert seen == [pytest.approx(2e-3)]


def test_spin_takes_wall_time_whatever_the_speed() -> None:
    sim = Sim([0.25])
    seen = []

    def body():
        yield (SPIN, 1e-3)
        seen.append(sim.now)

    sim.spawn("t", body())
    sim.run(1.0)
    assert seen == [pytest.approx(1e-3)]


def test_a_lone_thread_runs_on_the_fastest_cpu() -> None:
    sim = Sim([0.5, 2.0, 1.0])
    speeds = []

    def body():
        speeds.append(sim.current.cpu.speed)
        yield (RUN, 1e-3)

    sim.spawn("t", body())
    sim.run(1.0)
    assert speeds == [2.0]


def test_three_equal_busy_threads_on_two_cpus_move_only_after_a_failed_balance() -> None:
    # Per-CPU runqueues: a balance from the CPU with one finds an imbalance of half a thread
    # (calculate_imbalance()) and moves nothing, a thread being heavier; after that failure
    # the next halves the thread's load (shr_bound() by nr_balance_failed) and moves one,
    # which only swaps which CPU holds two. Over time the three share the two CPUs fairly, as
    # in the lab's 2-vCPU guests (kswapd and two eaters, 0.6 of a CPU each).
    sim = Sim([1.0, 1.0], context_switch=0.0)

    def hog():
        while True:
            yield (RUN, 100e-6)

    threads = [sim.spawn(f"h{i}", hog()) for i in range(3)]
    sim.run(1e-3)  # placed, no balance yet; the one waiting has not run: not cache-hot
    lone = next(c for c in sim.cpus if not c.rq)
    assert sim._sched_balance_rq(lone, False) == 0 and lone.nr_balance_failed == 1
    assert not lone.rq
    assert sim._sched_balance_rq(lone, False) == 1 and lone.nr_balance_failed == 0
    assert len(lone.rq) == 1
    sim.run(2.0)
    shares = [t.cpu_time for t in threads]
    assert sum(shares) == pytest.approx(4.0, rel=1e-3)
    # Each had about two thirds of a CPU; kept one and two, they would have 2.0 or 1.0.
    assert min(shares) > 1.1 and max(shares) < 1.6


def test_threads_count_blocking_and_preemption_as_the_kernel_does() -> None:
    sim = Sim([1.0], context_switch=0.0)

    def sleeper():
        for _ in range(7):
            yield (RUN, 10e-6)
            yield (WAIT, 1e-3)  # times out: blocked each time

    def hog():
        while True:
            yield (RUN, 100e-6)

    s = sim.spawn("s", sleeper())
    hogs = [sim.spawn(f"h{i}", hog()) for i in range(2)]
    sim.run(0.5)
    assert (s.nvcsw, s.nivcsw) == (7, 0)
    # The two hogs take turns by slice, switched at ticks (HZ 250: at most 125 in 0.5 s):
    # each leaves the CPU only by preemption.
    assert all(h.nvcsw == 0 and 40 < h.nivcsw <= 125 for h in hogs)


def test_a_switch_loading_another_address_space_costs_more() -> None:
    # Kernel threads borrow the CPU's address space (enter_lazy_tlb()): after a2 (process a),
    # a -> k -> a2 -> k loads nothing; only b's address space is loaded (switch_mm_irqs_off()).
    sim = Sim([1.0], context_switch=1e-6, mm_switch=10e-6, wakeup_latency=0.0)

    def body():
        while True:
            yield SLEEP
            yield (RUN, 100e-6)

    threads = {name: sim.spawn(name, body(), mm=mm)
               for name, mm in (("k", None), ("b", "b"), ("a", "a"), ("a2", "a"))}
    sim.run(0.5e-3)  # each ran once to its first sleep; a2, of process a, last
    before = sum(t.cpu_time for t in threads.values())
    for i, name in enumerate(["a", "k", "a2", "k", "b"]):
        sim.call_at((i + 1) * 1e-3, lambda th: sim.wake(th), threads[name])
    sim.run(10e-3)
    spent = sum(t.cpu_time for t in threads.values()) - before - 5 * 100e-6
    assert spent == pytest.approx(5 * 1e-6 + 10e-6)


def test_wakeup_latency_and_no_lost_wakeup() -> None:
    sim = Sim([1.0, 1.0], wakeup_latency=50e-6)
    woke = []

    def sleeper():
        r = yield SLEEP
        woke.append((sim.now, r))
        # Woken while running: the next sleep returns at once (the wake is remembered).
        r = yield SLEEP
        woke.append((sim.now, r))

    th = sim.spawn("s", sleeper())
    sim.run(1e-3)
    assert woke == []
    sim.call_at(2e-3, lambda _: sim.wake(th))
    sim.run(3e-3)
    assert woke[0][0] == pytest.approx(2e-3 + 50e-6)
    assert woke[0][1] is True
    assert len(woke) == 1
    # A wake delivered while it is still on the CPU is kept for its next sleep.

    def busy_then_sleep():
        yield (RUN, 1e-3)
        r = yield SLEEP
        woke.append(("busy", sim.now, r))

    th2 = sim.spawn("b", busy_then_sleep())
    sim.call_at(sim.now + 0.5e-3, lambda _: sim.wake(th2))
    sim.run(10e-3)
    assert woke[-1][0] == "busy" and woke[-1][2] is True


def test_a_wakeup_onto_an_idle_cpu_waits_for_it_to_leave_idle() -> None:
    """ttwu_queue_wakelist(): the idle CPU runs the wake-up once out of idle, and is not idle
    meanwhile (rq->ttwu_pending), so a second wake-up in that time goes to another CPU. The
    way out counts as idle time."""
    latency, wake_a, wake_b = 50e-6, 2e-3, 2.02e-3  # b's wake-up while a's CPU leaves idle
    sim = Sim([1.0, 1.0], context_switch=0.0, wakeup_latency=latency)
    ran: dict[str, tuple[float, int]] = {}

    def sleeper(name: str):
        yield SLEEP
        th = next(t for t in sim.threads if t.name == name)
        assert th.cpu is not None
        ran[name] = (sim.now, th.cpu.index)
        yield (RUN, 1e-3)

    a = sim.spawn("a", sleeper("a"))
    b = sim.spawn("b", sleeper("b"), cpus=None)
    sim.run(1e-3)
    a_cpu = a.task_cpu
    assert a_cpu is not None
    b.task_cpu = a_cpu  # both last ran on one CPU: b's wake-up would go there if it were idle
    sim.call_at(wake_a, lambda _: sim.wake(a))
    sim.call_at(wake_b, lambda _: sim.wake(b))
    sim.run(4e-3)
    assert ran["a"] == (pytest.approx(wake_a + latency), a_cpu.index)
    assert ran["b"][0] == pytest.approx(wake_b + latency) and ran["b"][1] != a_cpu.index
    assert sim.busy_time(a_cpu) == pytest.approx(1e-3)


def test_interrupt_work_delays_what_runs_without_a_switch() -> None:
    """irq_load(): each tick takes its work from the running thread, whose work ends that much
    later and whose runtime counts it, with no preemption; an idle CPU is busy meanwhile."""
    sim = Sim([1.0, 1.0], context_switch=0.0, tick=4e-3)
    share = 0.01
    irq = share * sim.tick  # 40 us at every tick on each CPU
    sim.irq_load(share, sim.tick)
    done: list[float] = []

    def worker():
        yield (RUN, 10e-3)  # spans the ticks at 4 and 8 ms
        done.append(sim.now)
        yield SLEEP

    w = sim.spawn("w", worker())
    sim.run(20e-3)
    assert done == [pytest.approx(10e-3 + 2 * irq)]
    assert w.cpu_time == pytest.approx(10e-3 + 2 * irq)
    assert (w.nvcsw, w.nivcsw) == (1, 0)
    assert sum(sim.busy_time(c) for c in sim.cpus) == pytest.approx(
        10e-3 + 2 * irq + irq * (5 + 3), rel=1e-6)  # idle ticks: 4-20 ms there, 12-20 here


def test_interrupt_work_leaves_the_ticks_that_end_slices() -> None:
    """Two hogs on one CPU lose it to each other at the same ticks with interrupt work as
    without: delaying a running thread's work must not cancel its pending tick."""
    def switches(irq: bool) -> tuple[int, int]:
        sim = Sim([1.0], context_switch=0.0, base_slice=0.75e-3, tick=4e-3)
        if irq:
            sim.irq_load(0.001, sim.tick)

        def hog():
            while True:
                yield (RUN, 10e-3)  # segments far longer than a tick

        a, b = sim.spawn("a", hog()), sim.spawn("b", hog())
        sim.run(0.2)
        return a.nivcsw, b.nivcsw

    assert switches(True) == switches(False)


def test_wait_times_out_or_is_woken() -> None:
    sim = Sim([1.0], wakeup_latency=0.0)
    out = []

    def waiter():
        out.append((yield (WAIT, 1e-3)))
        out.append((yield (WAIT, 1.0)))

    th = sim.spawn("w", waiter())
    sim.call_at(5e-3, lambda _: sim.wake(th))
    sim.run(1.0)
    assert out == [False, True]


def _sleeper_and_hog(sim: Sim) -> tuple[Thread, list[float]]:
    """A thread that sleeps at once and, once woken, notes when it got the CPU; and a hog."""
    ran: list[float] = []

    def hog():
        while True:
            yield (RUN, 10e-3)  # far longer segments than a slice

    def sleeper():
        yield SLEEP
        ran.append(sim.now)
        yield (RUN, 1e-6)

    s = sim.spawn("sleeper", sleeper())
    sim.spawn("hog", hog())
    return s, ran


@pytest.mark.parametrize("scheduler, wake_at, runs_at", [
    # CFS: sleeper credit and wake-up preemption; queued on a busy CPU, so at once (the wake-up
    # latency is an idle CPU's way out of idle).
    ("cfs", 50e-3, 50e-3),
    # EEVDF: the hog's slice (0.75 ms from the tick at 48 ms that renewed it) is over when the
    # sleeper is enqueued at 50 ms; update_curr() notices it there and the CPU goes to the
    # woken thread, whose deadline is earlier.
    ("eevdf", 50e-3, 50e-3),
    # EEVDF: woken inside the slice the tick at 48 ms gave the hog, the hog is eligible (the
    # woken thread slept with no lag) and its deadline (48.75 ms) is earlier than the woken
    # thread's: it keeps the CPU until the first tick after that deadline (52 ms).
    ("eevdf", 48.2e-3, 52e-3),
])
def test_when_a_woken_thread_gets_the_cpu_from_a_hog(scheduler: str, wake_at: float,
                                                     runs_at: float) -> None:
    sim = Sim([1.0], wakeup_latency=10e-6, context_switch=0.0, scheduler=scheduler,
              base_slice=0.75e-3, tick=4e-3)
    s, ran = _sleeper_and_hog(sim)
    sim.run(wake_at)  # the sleeper blocked at once, owed nothing; the hog has run alone since
    sim.wake(s)
    sim.run(60e-3)
    assert ran and ran[0] == pytest.approx(runs_at)


def test_eevdf_a_thread_not_protected_loses_the_cpu_at_the_tick_it_is_ahead() -> None:
    # The hog runs alone; the tick at 2 ms gives it its next slice (deadline 5 ms) without a
    # pick, so no slice protection. The sleeper, woken at 2.5 ms with no lag, does not
    # preempt it (the hog is eligible, its deadline earlier). At the tick at 3 ms the hog is
    # ahead of the average: did_preempt_short() reschedules it, half a slice before its
    # deadline; a protected hog would keep the CPU to the tick after the deadline (5 ms).
    sim = Sim([1.0], wakeup_latency=0.0, context_switch=0.0, scheduler="eevdf",
              base_slice=3e-3, tick=1e-3)
    s, ran = _sleeper_and_hog(sim)
    sim.call_at(2.5e-3, lambda _: sim.wake(s))
    sim.run(10e-3)
    assert ran and ran[0] == pytest.approx(3e-3)


def test_eevdf_shares_a_cpu_by_deadline_between_busy_threads() -> None:
    sim = Sim([1.0], context_switch=0.0, scheduler="eevdf", base_slice=1e-3, tick=1e-3)

    def busy():
        while True:
            yield (RUN, 100e-6)

    a, b = sim.spawn("a", busy()), sim.spawn("b", busy())
    sim.run(1.0)
    assert a.cpu_time == pytest.approx(0.5, abs=2e-3)
    assert b.cpu_time == pytest.approx(0.5, abs=2e-3)
    # A slice ends at the first tick after its deadline (task_tick_fair()), not between
    # ticks: one switch per tick, or per two when a thread was picked between ticks.
    assert 1.0 / 2e-3 <= sim.context_switches <= 1.0 / 1e-3


def test_same_program_same_schedule() -> None:
    def trace() -> list[tuple[str, float]]:
        sim = Sim([1.0, 0.5, 0.5])
        log = []

        def worker(i):
            for k in range(50):
                yield (RUN, (i + 1) * 7e-6 + k * 1e-7)
                log.append((sim.current.name, sim.now))
                if k % 7 == 0:
                    yield (WAIT, 5e-6)

        for i in range(5):
            sim.spawn(f"w{i}", worker(i))
        sim.run(1.0)
        return log

    assert trace() == trace()


def _ahead_then_asleep(wake_t_at: float | None) -> tuple[Sim, Thread, float]:
    """t runs alone for 3.05 ms, a hog joins at the average, t works 0.15 ms more (ahead of
    the average now) and blocks at 3.2 ms; t's vruntime when it blocked is returned."""
    sim = Sim([1.0], context_switch=0.0, wakeup_latency=0.0, base_slice=1e-3, tick=1e-3)
    at_block = []

    def hog():
        yield SLEEP
        while True:
            yield (RUN, 50e-6)

    def body():
        yield (RUN, 3.2e-3)
        sim._account(t)
        at_block.append(t.vruntime)
        yield SLEEP
        yield (RUN, 1e-6)
        yield SLEEP

    h = sim.spawn("hog", hog())
    t = sim.spawn("t", body())
    sim.call_at(3.05e-3, lambda _: sim.wake(h))
    if wake_t_at is not None:
        sim.call_at(wake_t_at, lambda _: sim.wake(t))
    sim.run(3.2e-3 + 1e-9)
    assert t.delayed and any(e[2] is t for e in sim.cpus[0].rq)  # blocked ahead: still queued
    return sim, t, at_block[0]


def test_eevdf_a_thread_blocking_ahead_stays_queued_and_keeps_its_vruntime_if_woken() -> None:
    # DELAY_DEQUEUE: woken before it is picked, requeue_delayed_entity() keeps its vruntime
    # (it is still ahead of the average: no fresh placement, no credit).
    sim, t, v = _ahead_then_asleep(3.25e-3)
    sim.run(3.25e-3 + 1e-9)
    assert not t.delayed and t.vruntime == v and t.vruntime > sim.avg_vruntime(sim.cpus[0])


def test_eevdf_a_delayed_thread_leaves_with_no_lag_when_picked() -> None:
    # Asleep, it is picked once the hog's vruntime has passed it (the hog's slice ends at the
    # tick at 5 ms): pick_next_entity() dequeues it, its lag clipped to 0 (DELAY_ZERO).
    sim, t, _ = _ahead_then_asleep(None)
    sim.run(5e-3 + 1e-9)
    assert t.sleeping and not t.delayed and t.vlag == 0.0
    assert all(e[2] is not t for e in sim.cpus[0].rq)


def test_cpu_busy_time_counts_running_not_idle() -> None:
    sim = Sim([1.0, 1.0], context_switch=0.0, wakeup_latency=0.0)

    def naps():
        while True:
            yield (RUN, 1e-3)
            yield (WAIT, 3e-3)  # busy a quarter of the time

    sim.spawn("n", naps())
    sim.run(0.1)
    busy = sorted(sim.busy_time(c) for c in sim.cpus)
    assert busy[0] == 0.0  # the other CPU never ran anything
    assert busy[1] == pytest.approx(0.025, rel=0.05)


def test_a_woken_thread_goes_to_an_idle_cpu_not_behind_a_busy_one() -> None:
    # select_idle_sibling(): its previous CPU and the waker's are busy, so it takes the idle
    # one instead of waiting in a runqueue.
    sim = Sim([1.0, 1.0], context_switch=0.0, wakeup_latency=0.0)
    ran: list[tuple[float, int]] = []

    def sleeper():
        yield SLEEP
        ran.append((sim.now, sim.current.cpu.index))
        yield (RUN, 1e-3)

    def hog():
        while True:
            yield (RUN, 100e-6)

    s = sim.spawn("s", sleeper())  # on CPU 0, asleep at once
    sim.run(1e-6)
    h = sim.spawn("h", hog())  # CPU 0 again: idle most recently (find_idlest_group_cpu())
    sim.call_at(5e-3, lambda _: sim.wake(s))  # woken from the hog's CPU, its own
    sim.run(10e-3)
    assert h.task_cpu.index == 0
    assert ran == [(pytest.approx(5e-3), 1)]


def _two_hogs_and_one_that_blocks(block_at: float, until: float | None = None
                                  ) -> tuple[Sim, list[Thread]]:
    """Hogs a and b share CPU 0; t runs on CPU 1 until `block_at`, then sleeps; run to just
    before `block_at` (or to `until`)."""
    sim = Sim([1.0, 1.0], context_switch=0.0, wakeup_latency=0.0, base_slice=0.75e-3,
              tick=1e-3)

    def hog():
        while True:
            yield (RUN, 50e-6)

    def blocks():
        yield (RUN, block_at)
        yield SLEEP

    a = sim.spawn("a", hog())
    t = sim.spawn("t", blocks())
    b = sim.spawn("b", hog())
    sim.run(block_at - 1e-9 if until is None else until)
    assert (a.task_cpu.index, b.task_cpu.index, t.task_cpu.index) == (0, 0, 1)
    return sim, [a, b]


# In _two_hogs_and_one_that_blocks(), the hog waiting on CPU 0 at 11.2 ms last ran at 11 ms.
HOG_LAST_RAN = 11e-3


@pytest.mark.parametrize("block_at, pulled", [
    # Within sysctl_sched_migration_cost of its last run it is cache-hot (task_hot()) and
    # stays; past it, it is not.
    (HOG_LAST_RAN + MIGRATION_COST - 0.3e-3, False),
    (HOG_LAST_RAN + MIGRATION_COST + 0.2e-3, True),
])
def test_a_cpu_going_idle_pulls_a_waiting_thread_unless_cache_hot(block_at: float,
                                                                   pulled: bool) -> None:
    sim, hogs = _two_hogs_and_one_that_blocks(block_at)
    waiting = next(h for h in hogs if not h.running)
    sim.run(block_at + 1e-9)  # sched_balance_newidle() on CPU 1
    assert (waiting.task_cpu.index == 1 and waiting.running) is pulled
    assert (sim._by_index[1].thread is None) is not pulled
    # A hot thread left behind is pulled later, once cold, by an idle balance kicked from the
    # busy CPU's periodic balance (nohz_balancer_kick()): both hogs then run at full speed.
    sim.run(0.1)
    before = [h.cpu_time for h in hogs]
    sim.run(0.2)
    assert all(h.cpu_time - b == pytest.approx(0.1) for h, b in zip(hogs, before, strict=True))


@pytest.mark.parametrize("grouped", [False, True])
def test_the_balancer_weighs_a_task_group_as_one(grouped: bool) -> None:
    # k (a kernel thread, root group) shares CPU 0 with e0; e1 is alone on CPU 1. In one
    # task group (a cgroup or autogroup: the host's memory eaters) e0 and e1 weigh half a
    # thread each (task_h_load()): the imbalance (CPU 0: 1.5, CPU 1: 0.5) is e0's weight, the
    # periodic balance moves it, and then the CPUs weigh the same (k alone, the group on the
    # other): k keeps a CPU, as kswapd does on the host. Not grouped, the three rotate.
    sim = Sim([1.0, 1.0], context_switch=0.0)
    group = "eaters" if grouped else None

    def hog():
        while True:
            yield (RUN, 100e-6)

    e0 = sim.spawn("e0", hog(), group=group)
    e1 = sim.spawn("e1", hog(), group=group)
    k = sim.spawn("k", hog())
    sim.run(1e-6)
    assert (e0.task_cpu.index, e1.task_cpu.index, k.task_cpu.index) == (0, 1, 0)
    sim.run(2.0)
    if grouped:
        assert k.cpu_time > 1.9 and e0.task_cpu is e1.task_cpu
    else:
        assert 1.1 < k.cpu_time < 1.6


def test_a_thread_runs_only_on_its_allowed_cpus() -> None:
    # kswapd is bound to its node's CPUs (kswapd_run(): set_cpus_allowed_ptr()): it waits for
    # CPU 1 though CPU 0 is idle, and no balance moves it there.
    sim = Sim([1.0, 1.0], context_switch=0.0)
    cpus: set[int] = set()

    def hog():
        while True:
            yield (RUN, 100e-6)
            cpus.add(sim.current.cpu.index)

    sim.spawn("h", hog(), cpus=[1])
    sim.spawn("k", hog(), cpus=[1])
    sim.run(0.1)
    assert cpus == {1}
    assert sim.busy_time(sim._by_index[0]) == 0.0
    with pytest.raises(ValueError):
        sim.spawn("x", hog(), cpus=[2])


def test_the_periodic_balance_leaves_a_cache_hot_thread_until_balances_keep_failing() -> None:
    # Hogs a and b share CPU 0, t is alone on CPU 1; CPU 1's balance at 2 ms found the
    # imbalance and could not move a whole thread (nr_balance_failed 1). At 11.2 ms the hog
    # waiting on CPU 0 ran 0.2 ms ago: task_hot() keeps it there, a second failure; with more
    # failures than cache_nice_tries (1) can_migrate_task() no longer asks, and it moves.
    sim, hogs = _two_hogs_and_one_that_blocks(1.0, until=HOG_LAST_RAN + 0.2e-3)
    lone = sim._by_index[1]
    waiting = next(h for h in hogs if not h.running)
    assert lone.nr_balance_failed == 1 and sim.now - waiting._seg_start < MIGRATION_COST
    assert sim._sched_balance_rq(lone, False) == 0 and lone.nr_balance_failed == 2
    assert waiting.task_cpu.index == 0
    assert sim._sched_balance_rq(lone, False) == 1 and waiting.task_cpu is lone
