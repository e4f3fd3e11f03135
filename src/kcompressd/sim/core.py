"""Discrete-event core: virtual clock, CPUs with speed factors, threads, a fair scheduler.

Knows nothing of memory. Threads are generators that yield actions:

- ``(RUN, cost)``: use the CPU for `cost` seconds of work *at speed 1.0*; on a CPU with speed
  factor s it takes cost / s seconds of wall time (big/little clusters);
- ``(SPIN, seconds)``: occupy the CPU for `seconds` of wall time whatever its speed (busy
  polling a device);
- ``SLEEP``: block until `Sim.wake(thread)`; a wake that arrives while the thread is still
  running is remembered, so no wake-up is lost (the kernel's set_current_state/wake_up pair);
- ``(WAIT, timeout)``: like SLEEP but also woken after `timeout` seconds; the generator
  receives True when woken, False on timeout (schedule_timeout()).

Scheduling follows the kernel's fair class in miniature, one runqueue per CPU (struct rq), as
one of:

- ``eevdf`` (Linux 6.6 and later, so the lab's 6.12): a thread's deadline is its vruntime plus
  one base slice; the eligible thread (vruntime at most the runqueue's weighted average,
  avg_vruntime()) with the earliest deadline runs (pick_eevdf()). The kernel looks at a
  running thread (update_curr()) only at the tick and when a task is enqueued or dequeued, so
  a slice that ends between ticks is noticed at the next tick or wake-up, which gives a new
  one and reschedules. A waking thread is placed at the average less the lag it slept with
  (place_entity() with PLACE_LAG: no sleeper credit) and takes the CPU if pick_eevdf() picks
  it; RUN_TO_PARITY protects the running thread only while it is eligible and in the slice it
  was picked with. A running thread that got its next slice without being picked again is not
  protected, and every update_curr() (tick or enqueue) that finds it ahead of the average
  reschedules it (did_preempt_short(), PREEMPT_SHORT).
- ``cfs`` (before 6.6): ordered by vruntime; a woken thread gets vruntime no lower than
  min_vruntime - sched_latency/2 (place_entity()), may preempt the running thread if it leads
  by more than the wake-up granularity (check_preempt_wakeup()), and a running thread yields
  at the end of a work segment once another leads it by more than the minimum granularity
  (check_preempt_tick()).

Which runqueue a thread joins is chosen as select_task_rq_fair() does: a woken thread between
its waker's CPU and its previous one (wake_affine()), then an idle CPU near that
(select_idle_sibling()); a new one on the idlest CPU (sched_balance_find_dst_cpu()). The CPUs
form one sched domain (MC: one last-level cache); the load balancer (sched_balance_rq()) runs
when a CPU would go idle (sched_balance_newidle()) and from the tick (sched_balance_domains()),
and moves a waiting thread only when the imbalance calculation allows it
(calculate_imbalance(), detach_tasks()): three equal busy threads on two CPUs stay one and two
until a balance has failed, and a thread of a task group (`group`: a cgroup or autogroup of
shares 1024) weighs only its share of the group (task_h_load()), so two such threads on one
CPU weigh as much as one thread of the root group alone on the other, and stay there. Loads
are the weights of the runnable threads, not PELT averages.

A woken thread is queued at once on a CPU that is running something (try_to_wake_up() enqueues
it there, and the waker, preempted, gives up its CPU at its next preemption point); a wake-up
that lands on an idle CPU waits `wakeup_latency` while that CPU leaves its idle state (the
wake-up is queued to it, ttwu_queue_wakelist(), and it counts as busy meanwhile,
rq->ttwu_pending). Switching a CPU to
another thread costs `context_switch` seconds of work (charged to the incoming thread), and
`mm_switch` more when it loads another address space: a thread with an `mm` (a process)
coming to a CPU whose last process had another (switch_mm_irqs_off()); kernel threads have
none and borrow the CPU's (enter_lazy_tlb()), so kswapd and its workers switch cheaply. Work is
batched by the callers (one event per SWAP_CLUSTER_MAX pages), so one segment is tens to
hundreds of µs.

Deterministic: events at equal times run in the order they were scheduled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from heapq import heapify, heappop, heappush
from typing import Any

RUN, SPIN, WAIT = 0, 1, 2
SLEEP = (3,)

Action = tuple
ThreadBody = Generator[Action, Any, None]

# Thread states.
_NEW, _RUNNABLE, _RUNNING, _SLEEPING, _WAKING, _DEAD = range(6)

# The MC sched domain's defaults (sd_init() and its SD_SHARE_LLC case, topology.c).
IMBALANCE_PCT = 117
BUSY_FACTOR = 16
CACHE_NICE_TRIES = 1
MIGRATION_COST = 0.5e-3  # sysctl_sched_migration_cost: ran this recently, cache-hot
# A sched group's load balancing type (group_classify()), by runnable threads on one CPU.
_HAS_SPARE, _FULLY_BUSY, _OVERLOADED = range(3)


class Thread:
    """A schedulable entity; `cpu_time` is wall seconds spent on a CPU (utime+stime),
    `nvcsw`/`nivcsw` the times it left its CPU by blocking / by preemption, as the kernel
    counts them in /proc/PID/status (voluntary_ctxt_switches, nonvoluntary_ctxt_switches)."""

    __slots__ = ("_resume", "_seg_end", "_seg_speedless", "_seg_start", "_tick_at", "_token",
                 "_waker", "allowed", "cpu", "cpu_time", "deadline", "delayed", "gen", "group",
                 "mm", "name", "nivcsw", "nvcsw", "protect", "state", "task_cpu", "vlag",
                 "vruntime", "wake_pending", "weight")

    def __init__(self, name: str, gen: ThreadBody, weight: float, mm: str | None,
                 allowed: frozenset[int], group: str | None) -> None:
        self.name = name
        self.gen = gen
        self.weight = weight
        self.mm = mm  # its process's address space; None: a kernel thread
        self.allowed = allowed  # indices of the CPUs it may run on (p->cpus_ptr)
        self.group = group  # its task group (cgroup, autogroup); None: the root group
        self.state = _NEW
        self.vruntime = 0.0
        self.deadline = 0.0  # eevdf: vruntime at which its slice ends
        # eevdf: still in the slice it was picked with (set_protect_slice(), RUN_TO_PARITY)
        self.protect = False
        # eevdf: asleep but still on the runqueue (DELAY_DEQUEUE), see Sim._block_eevdf
        self.delayed = False
        self.vlag = 0.0  # eevdf: avg_vruntime - vruntime when it last left a runqueue
        self._tick_at = -1.0  # eevdf: the tick already set to end its slice
        self.cpu_time = 0.0
        self.nvcsw = 0
        self.nivcsw = 0
        self.cpu: Cpu | None = None  # the CPU it is running on
        self.task_cpu: Cpu | None = None  # whose runqueue it is on, or ran on last (task_cpu())
        self._waker = -1  # the CPU its pending wake-up came from; -1: its own (a timer)
        self.wake_pending = False
        self._token = 0  # invalidates stale segment-end / timeout events
        self._resume: Any = None  # value sent to the generator when it next runs
        self._seg_start = 0.0  # also when it last ran, once off the CPU (se.exec_start)
        self._seg_end = 0.0
        self._seg_speedless = False

    @property
    def sleeping(self) -> bool:
        return self.state == _SLEEPING

    @property
    def running(self) -> bool:
        return self.state == _RUNNING

    def __repr__(self) -> str:
        return f"Thread({self.name})"


RqEntry = tuple[float, int, Thread]


class Cpu:
    """One CPU and its runqueue (struct rq): the threads waiting for it, a list for eevdf, a
    heap by vruntime for cfs (delayed sleepers too); its busy time is the time since the
    start less the time it sat idle."""

    __slots__ = ("active_mm", "balance_interval", "idle_since", "idle_total", "index", "last",
                 "min_vruntime", "nr_balance_failed", "rq", "speed", "thread", "waking")

    def __init__(self, index: int, speed: float, balance_interval: int) -> None:
        self.index = index
        self.speed = speed  # also its capacity (capacity_of()), relative
        self.thread: Thread | None = None
        self.rq: list[RqEntry] = []
        self.min_vruntime = 0.0  # cfs
        # Its copy of the sched domain's balancing state: sd->balance_interval (ms) and
        # sd->nr_balance_failed (periodic balances in a row that found an imbalance and moved
        # nothing).
        self.balance_interval = balance_interval
        self.nr_balance_failed = 0
        self.last: Thread | None = None  # the thread that ran here last (context switches)
        self.active_mm: str | None = None  # the address space loaded (kernel threads keep it)
        self.idle_since = 0.0  # idle from the start
        self.idle_total = 0.0
        self.waking: Thread | None = None  # woken onto it while it leaves its idle state


class Sim:
    """The clock, the event heap and the scheduler."""

    def __init__(
        self,
        speeds: Sequence[float],
        *,
        context_switch: float = 2e-6,
        mm_switch: float = 0.0,
        wakeup_latency: float = 20e-6,
        sched_latency: float = 6e-3,
        min_granularity: float = 0.75e-3,
        wakeup_granularity: float = 1e-3,
        scheduler: str = "eevdf",
        base_slice: float = 0.75e-3,
        tick: float = 4e-3,
    ) -> None:
        if not speeds or min(speeds) <= 0:
            raise ValueError("need at least one CPU, all speeds > 0")
        if scheduler not in ("eevdf", "cfs"):
            raise ValueError(f"scheduler: eevdf or cfs, not {scheduler!r}")
        self.now = 0.0
        self.events = 0  # events processed
        self._heap: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self._seq = 0
        n = len(speeds)
        # The MC domain's balance interval: its weight in ms, doubled while balanced
        # (sd_init(): min_interval = sd_weight, max_interval = 2 * sd_weight).
        self._min_interval = n
        self._by_index = [Cpu(i, s, n) for i, s in enumerate(speeds)]
        # Fastest CPUs first: an idle big core is preferred over a little one.
        self.cpus = sorted(self._by_index, key=lambda c: (-c.speed, c.index))
        self._idle: list[Cpu] = list(self.cpus)  # fastest first
        self._all = frozenset(range(n))
        self.threads: list[Thread] = []
        self.context_switch = context_switch
        self.mm_switch = mm_switch
        self.wakeup_latency = wakeup_latency
        self.sched_latency = sched_latency
        self.min_granularity = min_granularity
        self.wakeup_granularity = wakeup_granularity
        self.eevdf = scheduler == "eevdf"
        self.base_slice = base_slice
        self.tick = tick  # 1/HZ: eevdf ends a protected slice at the first tick after it
        self._hz = round(1 / tick)
        # max_load_balance_interval (update_max_interval()): HZ * CPUs / 10 jiffies.
        self._max_lb_jiffies = max(1, self._hz * n // 10)
        self.context_switches = 0
        self.current: Thread | None = None  # the thread whose body is executing
        self._stop = False
        self._until = 0.0  # run()'s horizon
        self._on_segment_end = self._segment_done  # one bound method for every segment event
        if n > 1:
            for cpu in self._by_index:
                self._next_balance(cpu, False)

    # -- events ------------------------------------------------------------------------------
    def call_at(self, t: float, fn: Callable[[Any], None], arg: Any = None) -> None:
        self._seq += 1
        heappush(self._heap, (t, self._seq, fn, arg))

    def run(self, until: float) -> None:
        """Process events up to time `until`, or until `stop()` is called."""
        heap = self._heap
        pop = heappop
        n = 0
        self._stop = False
        self._until = until
        while heap and heap[0][0] <= until:
            t, _, fn, arg = pop(heap)
            self.now = t
            fn(arg)
            n += 1
            if self._stop:
                break
        else:
            self.now = until
        self.events += n

    def irq_load(self, share: float, period: float) -> None:
        """Interrupt work on every CPU, `share` of it, done at each tick (`period`): taken
        from whatever runs there, whose work ends that much later and whose runtime counts it
        (rq_clock_task() without IRQ_TIME_ACCOUNTING), with no wake-up and no pick."""
        for cpu in self._by_index:
            self.call_at(period, self._irq, (cpu, share * period, period))

    def _irq(self, arg: tuple[Cpu, float, float]) -> None:
        cpu, work, period = arg
        th = cpu.thread
        if th is not None and th.state == _RUNNING:
            # Its segment ends `work` later; the event of the old end is told apart by its
            # time (`_segment_done`), not by a new token, which would cancel its pending tick.
            th._seg_end += work
            self._seq += 1
            heappush(self._heap, (th._seg_end, self._seq, self._on_segment_end,
                                  (th, th._token)))
        else:
            cpu.idle_total -= work  # out of idle for the interrupt
        self.call_at(self.now + period, self._irq, arg)

    def stop(self) -> None:
        """End `run()` after the current event (the simulation's work is done)."""
        self._stop = True

    # -- threads -----------------------------------------------------------------------------
    def spawn(self, name: str, body: ThreadBody, *, weight: float = 1.0,
              mm: str | None = None, cpus: Sequence[int] | None = None,
              group: str | None = None) -> Thread:
        """A new thread, runnable now (its body starts at the next event of this instant); `mm`
        names its process's address space (None: a kernel thread), `cpus` the indices of the
        CPUs it may run on (None: all), `group` its task group (None: the root group)."""
        allowed = self._all
        if cpus is not None:
            allowed = frozenset(cpus)
            if not allowed or not allowed <= self._all:
                raise ValueError(f"{name}: CPUs {sorted(allowed)} not a subset of the machine's")
        th = Thread(name, body, weight, mm, allowed, group)
        self.threads.append(th)
        # Started by an event, so the caller holds the Thread before its body first runs.
        self.call_at(self.now, self._start, th)
        return th

    def _start(self, th: Thread) -> None:
        """wake_up_new_task(): on the idlest CPU, placed there (place_entity(): eevdf at the
        average with half a slice, PLACE_DEADLINE_INITIAL; cfs at min_vruntime)."""
        cpu = self._find_idlest_cpu(th)
        th.task_cpu = cpu
        before = cpu.min_vruntime
        if self.eevdf:  # the enqueue's update_curr()
            self._update_curr(cpu)
            before = th.vruntime = self.avg_vruntime(cpu)
            th.deadline = th.vruntime + self.base_slice / 2 / th.weight
        else:
            th.vruntime = cpu.min_vruntime
        self._enqueue(cpu, th)
        if th.state == _RUNNABLE:
            self._check_preempt_wakeup(cpu, th, before)

    def wake(self, th: Thread) -> None:
        """wake_up_process(): runnable once the waker's current step is done; never lost."""
        if th.state == _SLEEPING:
            th.state = _WAKING
            th._token += 1  # cancels a pending timeout
            th._resume = True
            # The waker: the thread whose body runs (an event that is no thread's, e.g. a
            # device's completion, is taken as on the CPU of the last one that ran).
            cur = self.current
            on = cur.cpu if cur is not None and cur.state == _RUNNING else None
            th._waker = on.index if on is not None else -1
            self._woken(th)
        elif th.state in (_RUNNING, _RUNNABLE, _NEW):
            th.wake_pending = True

    def _woken(self, th: Thread) -> None:
        """try_to_wake_up(): the CPU is chosen at the wake-up (select_task_rq()). An idle one
        runs the wake-up itself once out of its idle state (ttwu_queue_wakelist()), and is
        not idle meanwhile (rq->ttwu_pending); on a busy one `th` is queued as the waker's
        current step ends, which is when a preempted waker gives up its CPU (its next
        cond_resched() or return to user space)."""
        cpu = None
        if not (self.eevdf and th.delayed):  # a delayed one is still on its runqueue
            cpu = self._select_task_rq(th)
            if self.wakeup_latency > 0 and self._is_idle(cpu):
                self._take_idle(cpu)
                cpu.idle_since = self.now  # the way out of idle is idle time too
                cpu.waking = th
                self.call_at(self.now + self.wakeup_latency, self._idle_exit, cpu)
                return
        self.call_at(self.now, self._ttwu_do_activate, (th, cpu))

    def _ttwu_do_activate(self, arg: tuple[Thread, Cpu | None]) -> None:
        th, cpu = arg
        if cpu is None:
            if th.delayed:
                self._requeue_delayed(th)
                return
            cpu = self._select_task_rq(th)  # picked and dequeued in this very instant
        self._activate(cpu, th)

    def _idle_exit(self, cpu: Cpu) -> None:
        """`cpu` is out of its idle state: the wake-up queued to it runs there, placed among
        any thread queued or pulled there meanwhile."""
        th = cpu.waking
        assert th is not None
        cpu.idle_total += self.now - cpu.idle_since
        self._activate(cpu, th)  # still `waking`, so queued rather than run
        cpu.waking = None
        nxt = self._pop_next(cpu)
        assert nxt is not None
        self._dispatch(cpu, nxt)

    def _activate(self, cpu: Cpu, th: Thread) -> None:
        """ttwu_do_activate(): the woken `th` placed and queued on `cpu`, the running thread
        preempted if `th` should run first."""
        prev = th.task_cpu
        assert prev is not None
        th.task_cpu = cpu
        avg = 0.0
        if self.eevdf:  # enqueue_entity(): update_curr(), then place_entity()
            self._update_curr(cpu)
            avg, load = self._avg_load(cpu)
            # At the average less the lag it slept with, scaled by (load + w) / load so that
            # the lag is still that once its own weight is in the average (PLACE_LAG).
            lag = th.vlag * (load + th.weight) / load if load else 0.0
            th.vruntime = avg - lag
            th.deadline = th.vruntime + self.base_slice / th.weight
        else:
            # migrate_task_rq_fair(): relative to the new runqueue's min_vruntime; then
            # place_entity(): a sleeper gets at most half a latency period of credit.
            th.vruntime += cpu.min_vruntime - prev.min_vruntime
            floor = cpu.min_vruntime - self.sched_latency / 2
            if th.vruntime < floor:
                th.vruntime = floor
        self._enqueue(cpu, th)
        if th.state == _RUNNABLE:
            self._check_preempt_wakeup(cpu, th, avg)

    def _block_eevdf(self, cpu: Cpu, th: Thread) -> None:
        """dequeue_entity() of a thread going to sleep. One that is not eligible (it ran
        ahead of the average) stays on the runqueue, delayed (DELAY_DEQUEUE): it counts in the
        average and competes until pick_eevdf() picks it, which takes it off with no lag
        (DELAY_ZERO), or until it is woken first, keeping its vruntime. Otherwise
        update_entity_lag() keeps its lag within entity_lag()'s bound for place_entity()."""
        self._account(th)
        lag = self.avg_vruntime(cpu) - th.vruntime
        if lag < 0:
            th.delayed = True
            self._push(cpu, th)
            return
        th.vlag = min(self._lag_limit(th), lag)

    def _lag_limit(self, th: Thread) -> float:
        """entity_lag()'s bound: two slices or a tick of its virtual time."""
        return max(2 * self.base_slice, self.tick) / th.weight

    def _finish_delayed(self, cpu: Cpu, i: int) -> None:
        """A delayed thread leaves the runqueue (finish_delayed_dequeue_entity()): picked, so
        eligible, its lag clipped to 0 (DELAY_ZERO)."""
        th = cpu.rq.pop(i)[2]
        th.delayed = False
        th.vlag = 0.0

    def _timeout(self, arg: tuple[Thread, int]) -> None:
        th, token = arg
        if th.state == _SLEEPING and th._token == token:
            th.state = _WAKING
            th._resume = False
            th._waker = -1  # the timer fires on the CPU it was armed on, the thread's
            self._woken(th)

    def _requeue_delayed(self, th: Thread) -> None:
        """requeue_delayed_entity() from ttwu_runnable(): woken while still on its CPU's
        runqueue, it stays there (no select_task_rq()) and keeps its vruntime and deadline,
        unless it has become eligible meanwhile: then it is placed at the average with no lag
        (DELAY_ZERO)."""
        cpu = th.task_cpu
        assert cpu is not None
        self._update_curr(cpu)
        th.delayed = False
        avg = self.avg_vruntime(cpu)
        if th.vruntime < avg:
            th.vruntime = avg
            th.deadline = avg + self.base_slice / th.weight
        th.state = _RUNNABLE
        # No update_curr() at the requeue: check_preempt_wakeup_fair()'s sees `th` queued.
        self._check_preempt_wakeup(cpu, th, self.avg_vruntime(cpu))

    # -- where a thread runs -----------------------------------------------------------------
    def _select_task_rq(self, th: Thread) -> Cpu:
        """select_task_rq_fair() for a wake-up: the waker's CPU or the previous one
        (wake_affine()), then an idle CPU from there (select_idle_sibling()). Every wake-up
        wants affine (wake_wide() and WF_SYNC are not modelled)."""
        prev = th.task_cpu
        assert prev is not None
        target = prev
        w = th._waker
        if w >= 0 and w != prev.index and w in th.allowed:
            target = self._wake_affine(th, self._by_index[w], prev)
        return self._select_idle_sibling(th, prev, target)

    def _wake_affine(self, th: Thread, this: Cpu, prev: Cpu) -> Cpu:
        """wake_affine(): wake_affine_idle() (an idle CPU of the two, prev if both are), else
        wake_affine_weight(): the waker's CPU if its load with `th` is below prev's without it,
        prev favoured by half the imbalance margin (WA_BIAS). The sleeping `th` is on no
        runqueue here, so prev's load is already without it (the kernel subtracts its PELT
        load, which stays in prev's while it sleeps)."""
        if self._is_idle(this):
            return prev if self._is_idle(prev) else this
        if self._is_idle(prev):
            return prev
        groups = self._group_loads()
        task = self._task_h_load(th, groups)
        this_eff = (self._cpu_load(this, groups) + task) * 100 * prev.speed
        prev_eff = self._cpu_load(prev, groups) * (100 + (IMBALANCE_PCT - 100) // 2) * this.speed
        return this if this_eff < prev_eff else prev

    def _select_idle_sibling(self, th: Thread, prev: Cpu, target: Cpu) -> Cpu:
        """select_idle_sibling(): `target` if idle, else `prev` if idle, else the first idle
        CPU of the LLC from target + 1 on (select_idle_cpu(), scanning all: no SIS_UTIL), else
        `target`. Among idle CPUs the fastest wins, as select_idle_capacity() does on big/little
        machines for a task that fits only the big cores: the model has no utilization, so
        it treats every task so (on equal CPUs the kernel's order decides alone)."""
        idle = self._idle
        if not idle:
            return target
        top = idle[0].speed
        is_idle = self._is_idle
        if is_idle(target) and target.speed == top:
            return target
        if prev is not target and is_idle(prev) and prev.speed == top:
            return prev
        best: Cpu | None = target if is_idle(target) else None
        if is_idle(prev) and (best is None or prev.speed > best.speed):
            best = prev
        n = len(self._by_index)
        allowed = th.allowed
        for k in range(1, n):
            cpu = self._by_index[(target.index + k) % n]
            if is_idle(cpu) and cpu.index in allowed and \
                    (best is None or cpu.speed > best.speed):
                best = cpu
                if cpu.speed == top:
                    break
        return best if best is not None else target

    def _find_idlest_cpu(self, th: Thread) -> Cpu:
        """sched_balance_find_dst_cpu() for a new thread: an idle CPU, the fastest (as
        `_select_idle_sibling`), then the one idle most recently (find_idlest_group_cpu()'s
        latest_idle_timestamp); else the least loaded for its capacity."""
        best: Cpu | None = None
        for cpu in self._idle:
            if cpu.index in th.allowed and (best is None or (
                    cpu.speed == best.speed and cpu.idle_since > best.idle_since)):
                best = cpu
        if best is not None:
            return best
        groups = self._group_loads()
        loads = [(self._cpu_load(c, groups) / c.speed, c.index) for c in self._by_index
                 if c.index in th.allowed]
        return self._by_index[min(loads)[1]]

    def _is_idle(self, cpu: Cpu) -> bool:
        """available_idle_cpu(): nothing running, nothing queued, no wake-up on its way."""
        return cpu.thread is None and not cpu.rq and cpu.waking is None

    def _take_idle(self, cpu: Cpu) -> None:
        """`cpu` leaves the idle list."""
        self._idle.remove(cpu)
        cpu.idle_total += self.now - cpu.idle_since

    def busy_time(self, cpu: Cpu) -> float:
        """Seconds `cpu` has run threads (switch costs included) since the start."""
        idle = cpu.idle_total + (self.now - cpu.idle_since if cpu.thread is None else 0.0)
        return self.now - idle

    def _enqueue(self, cpu: Cpu, th: Thread) -> None:
        if cpu.thread is None and cpu.waking is None:
            self._take_idle(cpu)
            self._dispatch(cpu, th)
        else:
            th.state = _RUNNABLE
            self._push(cpu, th)

    def _push(self, cpu: Cpu, th: Thread) -> None:
        self._seq += 1
        if self.eevdf:
            cpu.rq.append((th.vruntime, self._seq, th))
        else:
            heappush(cpu.rq, (th.vruntime, self._seq, th))

    def _pop_next(self, cpu: Cpu) -> Thread | None:
        """The runnable thread `cpu` takes next: pick_eevdf(), or the smallest vruntime."""
        rq = cpu.rq
        if not self.eevdf:
            return heappop(rq)[2]
        while rq:
            best = _earliest_eligible(rq, self.avg_vruntime(cpu))
            if best < 0:  # rounding: nobody at or below the average; the smallest vruntime
                best = min(range(len(rq)), key=lambda i: (rq[i][2].vruntime, rq[i][1]))
            if not rq[best][2].delayed:
                return rq.pop(best)[2]
            self._finish_delayed(cpu, best)  # pick_next_entity(): dequeue it, pick again
        return None

    def avg_vruntime(self, cpu: Cpu) -> float:
        """avg_vruntime(): the weighted mean vruntime of `cpu`'s runnable and running threads."""
        return self._avg_load(cpu)[0]

    def _avg_load(self, cpu: Cpu) -> tuple[float, float]:
        """avg_vruntime() and the weight it is taken over (cfs_rq->avg_load with curr's)."""
        total = load = 0.0
        for _, _, t in cpu.rq:
            total += t.vruntime * t.weight
            load += t.weight
        cur = cpu.thread
        if cur is not None:
            total += cur.vruntime * cur.weight
            load += cur.weight
        return (total / load if load else cpu.min_vruntime), load

    def _update_curr(self, cpu: Cpu) -> None:
        """update_curr() of `cpu`'s running thread: its vruntime up to now."""
        if cpu.thread is not None:
            self._account(cpu.thread)

    def _would_pick_other(self, cpu: Cpu, cur: Thread) -> bool:
        """eevdf: would schedule() take another thread than the running `cur`? pick_eevdf()
        keeps `cur` only if it is eligible and its deadline strictly the earliest
        (entity_before()); a delayed sleeper it picks is dequeued and it picks again."""
        rq = cpu.rq
        while True:
            avg = self.avg_vruntime(cpu)
            best = _earliest_eligible(rq, avg)
            if best < 0 or (cur.vruntime <= avg and cur.deadline < rq[best][2].deadline):
                return False
            if not rq[best][2].delayed:
                return True
            self._finish_delayed(cpu, best)

    def _check_preempt_wakeup(self, cpu: Cpu, th: Thread, before: float) -> None:
        """wakeup_preempt() for `th` enqueued on `cpu`; `before` is the eevdf average the
        enqueue's update_curr() saw."""
        cur = cpu.thread
        if cur is None:
            return
        if self.eevdf:
            self._check_preempt_wakeup_eevdf(cpu, cur, th, before)
        elif cur.vruntime - th.vruntime > self.wakeup_granularity:
            self._account(cur)
            self._preempt_mid_segment(cpu, cur)

    def _check_preempt_wakeup_eevdf(self, cpu: Cpu, cur: Thread, th: Thread,
                                    before: float) -> None:
        """check_preempt_wakeup_fair() for the woken `th`. The enqueue's update_curr() first:
        the running `cur` past its deadline starts its next slice and the CPU goes to whom
        pick_eevdf() prefers, and so does one not protected that was ahead of the average
        `before` (did_preempt_short()). Then `th` takes the CPU if pick_eevdf() picks it:
        RUN_TO_PARITY protects a running thread only while it is eligible (not ahead of the
        average) and still in the slice it was picked with (set_protect_slice())."""
        self._account(cur)
        if cur.vruntime >= cur.deadline:
            others = len(cpu.rq) > 1  # besides `th`: a tick's resched took the CPU
            if self._tick_renewals(cur, cur.vruntime) and others and \
                    self._would_pick_other(cpu, cur):
                self._preempt_mid_segment(cpu, cur)
                return
            if cur.vruntime >= cur.deadline:  # this enqueue's update_curr(): a resched
                self._resched_eevdf(cpu, cur)
                return
        if self._did_preempt_short(cpu, cur, before):
            self._preempt_mid_segment(cpu, cur)
            return
        avg = self.avg_vruntime(cpu)
        eligible = cur.vruntime <= avg
        if not (eligible and cur.protect) and \
                self._pick_eevdf(cpu, avg, cur if eligible else None) is th:
            self._preempt_mid_segment(cpu, cur)
            return
        # Otherwise the first tick after its deadline is the next point it can lose the CPU.
        self._tick_after(cur, self.now + (cur.deadline - cur.vruntime) * cur.weight)

    def _pick_eevdf(self, cpu: Cpu, avg: float, cur: Thread | None) -> Thread | None:
        """pick_eevdf() without taking: the eligible runnable thread with the earliest
        deadline, or `cur` (running and eligible) if its deadline is earlier still."""
        i = _earliest_eligible(cpu.rq, avg)
        best = cpu.rq[i][2] if i >= 0 else None
        if cur is not None and (best is None or cur.deadline < best.deadline):
            return cur
        return best

    def _tick_renewals(self, th: Thread, vr: float) -> bool:
        """update_curr() at the ticks since `th` passed its deadline (task_tick_fair(); the
        kernel does not look between ticks unless a task is enqueued or dequeued on the CPU):
        each tick that found it past its deadline gave it a new slice from there. True if a
        tick did (a resched was due then); else the tick that will is set."""
        renewed = False
        while vr >= th.deadline:
            due = self._tick_after(th, self.now - (vr - th.deadline) * th.weight)
            if due > self.now:
                break
            th.deadline = vr - (self.now - due) / th.weight + self.base_slice / th.weight
            renewed = True
        if renewed:
            th.protect = False  # picked again, not set_next_entity()'d
            self._next_tick(th)
        return renewed

    def _tick_after(self, th: Thread, t: float) -> float:
        """The first tick at or after `t`; set for `th` (once) if it is still to come."""
        due = math.ceil(t / self.tick - 1e-6) * self.tick
        if due > self.now and th._tick_at != due:
            th._tick_at = due
            self.call_at(due, self._tick, (th, th._token))
        return due

    def _next_tick(self, th: Thread) -> None:
        """The tick after now is set for `th`: each tick looks at a thread not protected."""
        self._tick_after(th, (math.floor(self.now / self.tick + 1e-6) + 1) * self.tick)

    def _tick(self, arg: tuple[Thread, int]) -> None:
        """task_tick_fair()'s update_curr(): a new slice past the deadline, or a resched of a
        thread not protected that is ahead of the average (did_preempt_short())."""
        th, token = arg
        cpu = th.cpu
        if th.state != _RUNNING or th._token != token or cpu is None:
            return
        self._account(th)
        if th.vruntime >= th.deadline:
            self._resched_eevdf(cpu, th)  # keeping the CPU, it has its next tick set
        elif self._did_preempt_short(cpu, th, self.avg_vruntime(cpu)):
            self._preempt_mid_segment(cpu, th)
        elif not th.protect:
            self._next_tick(th)

    def _did_preempt_short(self, cpu: Cpu, cur: Thread, avg: float) -> bool:
        """did_preempt_short() in update_curr(): a running thread not protected by its slice
        and ahead of the average `avg` is rescheduled, if schedule() would take another."""
        return not cur.protect and cur.vruntime > avg and self._would_pick_other(cpu, cur)

    def _resched_eevdf(self, cpu: Cpu, cur: Thread) -> bool:
        """update_deadline() for a running thread past its deadline: its next slice, and the
        CPU to another thread if pick_eevdf() prefers one (True then)."""
        cur.deadline = cur.vruntime + self.base_slice / cur.weight
        cur.protect = False
        if not (cpu.rq and self._would_pick_other(cpu, cur)):
            self._next_tick(cur)
            return False
        self._preempt_mid_segment(cpu, cur)
        return True

    def _preempt_mid_segment(self, cpu: Cpu, th: Thread) -> None:
        """Stop an accounted thread mid-segment; it keeps the rest of its work for later."""
        left = th._seg_end - self.now
        th._token += 1
        if left > 0:
            th._resume = ("__left__", left if th._seg_speedless else left * cpu.speed,
                          th._seg_speedless, th._resume)
        self._preempt(cpu, th)

    def _account(self, th: Thread) -> None:
        ran = self.now - th._seg_start
        th.cpu_time += ran
        th.vruntime += ran / th.weight
        th._seg_start = self.now

    def _preempt(self, cpu: Cpu, th: Thread) -> None:
        th.nivcsw += 1
        th.state = _RUNNABLE
        th.cpu = None
        cpu.thread = None
        self._push(cpu, th)
        nxt = self._pop_next(cpu)
        assert nxt is not None  # `th` at least is runnable
        self._dispatch(cpu, nxt)

    def _dispatch(self, cpu: Cpu, th: Thread) -> None:
        cpu.thread = th
        th.cpu = cpu
        th.task_cpu = cpu
        th.state = _RUNNING
        th.protect = True  # set_next_entity()
        th._seg_start = self.now
        overhead = 0.0
        if cpu.last is not th:
            if cpu.last is not None:
                self.context_switches += 1
                overhead = self.context_switch / cpu.speed
            cpu.last = th
            if th.mm is not None and th.mm != cpu.active_mm:
                if cpu.active_mm is not None:
                    overhead += self.mm_switch / cpu.speed
                cpu.active_mm = th.mm
        resume = th._resume
        th._resume = None
        if type(resume) is tuple and resume and resume[0] == "__left__":
            # Finish the segment that was preempted before asking for the next action.
            _, left, speedless, inner = resume
            th._resume = inner
            dur = left if speedless else left / cpu.speed
            self._start_segment(th, overhead + dur, speedless)
            return
        self._advance(th, resume, overhead)

    def _start_segment(self, th: Thread, dur: float, speedless: bool) -> None:
        th._seg_end = self.now + dur
        th._seg_speedless = speedless
        self.call_at(th._seg_end, self._on_segment_end, (th, th._token))

    def _segment_done(self, arg: tuple[Thread, int]) -> None:
        th, token = arg
        if th._token != token or th.state != _RUNNING or self.now != th._seg_end:
            return
        heap = self._heap
        # Constant while the thread stays on its CPU, which is as long as this loop runs.
        send = th.gen.send
        cpu = th.cpu
        assert cpu is not None
        rq = cpu.rq
        speed = cpu.speed
        weight = th.weight
        until = self._until
        eevdf = self.eevdf
        self.current = th
        now = self.now
        while True:
            ran = now - th._seg_start
            th.cpu_time += ran
            vr = th.vruntime = th.vruntime + ran / weight
            th._seg_start = now
            if eevdf:
                if vr >= th.deadline and self._tick_renewals(th, vr) and rq and \
                        self._would_pick_other(cpu, th):
                    self._preempt(cpu, th)
                    return
            elif rq:
                lead = rq[0][0]
                if lead < vr:
                    if lead > cpu.min_vruntime:
                        cpu.min_vruntime = lead
                    if vr - lead > self.min_granularity:
                        self._preempt(cpu, th)
                        return
                elif vr > cpu.min_vruntime:
                    cpu.min_vruntime = vr
            elif vr > cpu.min_vruntime:
                cpu.min_vruntime = vr
            value = th._resume
            th._resume = None
            # Fast path: the next action is more work on the same CPU.
            try:
                action = send(value)
            except StopIteration:
                th.state = _DEAD
                self._release(cpu, th)
                return
            if action[0] != RUN or action[1] <= 0:
                self._act(th, action, 0.0)
                return
            end = th._seg_end = now + action[1] / speed
            th._seg_speedless = False
            if (heap and end >= heap[0][0]) or end > until or self._stop:
                self._seq += 1
                heappush(heap, (end, self._seq, self._on_segment_end, arg))
                return
            # This segment's end would be the very next event run() pops: run it here, as
            # run() would, without the round trip through the heap.
            now = self.now = end
            self.events += 1

    def _advance(self, th: Thread, value: Any, overhead: float) -> None:
        """Resume the thread's body with `value` and act on what it asks for next."""
        self.current = th
        try:
            action = th.gen.send(value)
        except StopIteration:
            th.state = _DEAD
            assert th.cpu is not None
            self._release(th.cpu, th)
            return
        self._act(th, action, overhead)

    def _act(self, th: Thread, action: Action, overhead: float) -> None:
        cpu = th.cpu
        assert cpu is not None
        send = th.gen.send
        while True:
            kind = action[0]
            if kind == RUN:
                cost = action[1]
                if cost > 0 or overhead > 0:
                    end = th._seg_end = self.now + overhead + cost / cpu.speed
                    th._seg_speedless = False
                    self._seq += 1
                    heappush(self._heap, (end, self._seq, self._on_segment_end,
                                          (th, th._token)))
                    return
                value = None
            elif kind == SPIN:
                self._start_segment(th, overhead + action[1], True)
                return
            elif th.wake_pending:  # SLEEP or WAIT with a wake already delivered
                th.wake_pending = False
                value = True
            else:
                if self.eevdf:
                    self._block_eevdf(cpu, th)
                th.state = _SLEEPING
                th.nvcsw += 1
                th._token += 1
                if kind == WAIT:
                    self.call_at(self.now + action[1], self._timeout, (th, th._token))
                if overhead > 0:
                    th.cpu_time += overhead  # the switch-in cost was paid before blocking
                self._release(cpu, th)
                return
            try:
                action = send(value)
            except StopIteration:
                th.state = _DEAD
                self._release(cpu, th)
                return

    def _release(self, cpu: Cpu, th: Thread) -> None:
        """`th` leaves `cpu`: the next thread of its runqueue, else one pulled from a busier
        CPU (sched_balance_newidle()), else the CPU goes idle."""
        th.cpu = None
        cpu.thread = None
        nxt = self._pop_next(cpu) if cpu.rq else None
        if nxt is None and self._sched_balance_newidle(cpu):
            nxt = self._pop_next(cpu)
        if nxt is not None:
            self._dispatch(cpu, nxt)
        else:
            cpu.idle_since = self.now
            # Keep the idle list ordered fastest first.
            idle = self._idle
            i = 0
            while i < len(idle) and (idle[i].speed, -idle[i].index) > (cpu.speed, -cpu.index):
                i += 1
            idle.insert(i, cpu)

    # -- load balancing ----------------------------------------------------------------------
    def _sched_balance_newidle(self, cpu: Cpu) -> bool:
        """sched_balance_newidle(): a CPU about to go idle pulls a waiting thread, if any CPU
        has one (the root domain's overloaded flag); True if it did."""
        if len(self._by_index) == 1 or not any(c.rq for c in self._by_index):
            return False
        return self._sched_balance_rq(cpu, True) == 1

    def _next_balance(self, cpu: Cpu, busy: bool) -> None:
        """Set `cpu`'s next periodic balance (get_sd_balance_interval()): the domain's
        interval, times busy_factor when busy, in jiffies, within max_load_balance_interval."""
        ms = cpu.balance_interval * (BUSY_FACTOR if busy else 1)
        jiffies = math.ceil(ms * self._hz / 1000 - 1e-9) - (1 if busy else 0)
        jiffies = min(max(jiffies, 1), self._max_lb_jiffies)
        tick = math.floor(self.now / self.tick + 1e-6) + jiffies
        self.call_at(tick * self.tick, self._rebalance, cpu)

    def _rebalance(self, cpu: Cpu) -> None:
        """sched_balance_domains() from the tick: a busy CPU balances its domain; the
        interval goes back to the minimum after an imbalance, doubles up to the maximum while
        balanced. An idle CPU's tick is stopped (NOHZ): a busy CPU with threads waiting kicks
        the idle ones to balance instead (nohz_balancer_kick(), sched_balance_trigger())."""
        if cpu.thread is not None:
            r = self._sched_balance_rq(cpu, False)
            if r >= 0:
                cpu.balance_interval = self._min_interval
            elif cpu.balance_interval < 2 * self._min_interval:
                cpu.balance_interval *= 2
            if cpu.rq and self._idle:
                for dst in list(self._idle):
                    if self._is_idle(dst) and self._sched_balance_rq(dst, False) == 1:
                        self._take_idle(dst)
                        nxt = self._pop_next(dst)
                        assert nxt is not None
                        self._dispatch(dst, nxt)
        self._next_balance(cpu, cpu.thread is not None)

    def _group_loads(self) -> dict[str, float]:
        """Each task group's runnable weight over all CPUs (tg->load_avg, unaveraged)."""
        loads: dict[str, float] = {}
        for cpu in self._by_index:
            cur = cpu.thread
            if cur is not None and cur.group is not None:
                loads[cur.group] = loads.get(cur.group, 0.0) + cur.weight
            for _, _, t in cpu.rq:
                if t.group is not None and not t.delayed:
                    loads[t.group] = loads.get(t.group, 0.0) + t.weight
        return loads

    def _task_h_load(self, th: Thread, groups: dict[str, float]) -> float:
        """task_h_load(): a thread's weight as the root runqueue sees it. A group's entity on
        a CPU weighs its shares (1.0) times the group's part of its load there
        (calc_group_shares()), so a thread of the group weighs weight / group load."""
        if th.group is None:
            return th.weight
        return th.weight / groups.get(th.group, th.weight)

    def _cpu_load(self, cpu: Cpu, groups: dict[str, float]) -> float:
        """cpu_load(): the root runqueue's load, delayed sleepers left out."""
        load = 0.0
        cur = cpu.thread
        if cur is not None:
            load += self._task_h_load(cur, groups)
        for _, _, t in cpu.rq:
            if not t.delayed:
                load += self._task_h_load(t, groups)
        return load

    def _nr_running(self, cpu: Cpu) -> int:
        """rq->nr_running less the delayed sleepers (h_nr_delayed)."""
        n = 0 if cpu.thread is None else 1
        for _, _, t in cpu.rq:
            if not t.delayed:
                n += 1
        return n

    def _sched_balance_rq(self, dst: Cpu, newidle: bool) -> int:
        """sched_balance_rq() for `dst` over the one domain: find the busiest CPU
        (sched_balance_find_src_group(), update_sd_pick_busiest()), how much to move
        (calculate_imbalance()), then move waiting threads from it (detach_tasks()), retrying
        without a CPU whose threads may not run on `dst` (LBF_ALL_PINNED). Returns 1 if
        threads moved, 0 if an imbalance could not be fixed, -1 if balanced.

        CPUs are sched groups of one: a group is overloaded with two runnable threads or
        more, fully busy with one (no utilization, so a mostly sleeping thread counts as
        busy). A periodic balance that finds an imbalance and moves nothing counts a failure
        (nr_balance_failed), which relaxes the next: see `_detach_tasks`. Active balancing
        (pushing a running thread, need_active_balance()) is not modelled."""
        groups = self._group_loads()
        nr = [self._nr_running(c) for c in self._by_index]
        load = [self._cpu_load(c, groups) for c in self._by_index]
        total_load = sum(load)
        total_cap = sum(c.speed for c in self._by_index)
        avg = total_load / total_cap
        idle = dst.thread is None
        lnr, lavg, lcap = nr[dst.index], load[dst.index] / dst.speed, dst.speed
        ltype = _group_type(lnr)
        excluded: set[int] = set()
        while True:
            busiest: Cpu | None = None
            bkey = (_HAS_SPARE, 0.0)
            for c in self._by_index:
                key = (_group_type(nr[c.index]), load[c.index] / c.speed)
                if c is not dst and c.index not in excluded and key[0] > _HAS_SPARE and \
                        (busiest is None or key > bkey):
                    busiest, bkey = c, key
            if busiest is None:
                dst.nr_balance_failed = 0  # out_balanced, out_all_pinned
                return -1
            btype, bavg = bkey
            bnr = nr[busiest.index]
            # sched_balance_find_src_group()
            if ltype > btype or (ltype == _OVERLOADED and (
                    lavg >= bavg or lavg >= avg or 100 * bavg <= IMBALANCE_PCT * lavg)) or \
                    (btype != _OVERLOADED and (not idle or bnr == 1)):
                dst.nr_balance_failed = 0
                return -1
            # calculate_imbalance()
            by_task = ltype == _HAS_SPARE
            if by_task:  # migrate_task: even out the runnable threads (sibling_imbalance())
                imbalance = float((bnr - lnr) >> 1) if idle else 0.0
            elif ltype == _FULLY_BUSY and (lavg >= bavg or lavg >= avg):
                imbalance = 0.0
            else:  # migrate_load: bring both toward the average, neither past it
                imbalance = min((bavg - avg) * busiest.speed, (avg - lavg) * lcap)
            if imbalance <= 0:
                dst.nr_balance_failed = 0
                return -1
            moved, pinned = self._detach_tasks(busiest, dst, imbalance, by_task, newidle,
                                               idle, groups)
            if moved:
                dst.nr_balance_failed = 0
                return 1
            if not pinned:
                if not newidle:
                    dst.nr_balance_failed += 1
                return 0
            excluded.add(busiest.index)

    def _detach_tasks(self, src: Cpu, dst: Cpu, imbalance: float, by_task: bool,
                      newidle: bool, idle: bool, groups: dict[str, float]) -> tuple[bool, bool]:
        """detach_tasks() and attach_tasks(): move waiting threads from `src` to `dst`, the
        least recently run first (the tail of cfs_tasks), while the imbalance lasts; one
        only when newly idle (CONFIG_PREEMPTION). can_migrate_task() refuses a thread not
        allowed on `dst`, or cache-hot: run within sysctl_sched_migration_cost (task_hot()),
        unless more balances failed in a row than cache_nice_tries. With migrate_load a
        thread heavier than the imbalance left stays, its load halved per failed balance
        (shr_bound()): three equal busy threads on two CPUs stay one and two at a first
        balance, and the second swaps which CPU holds two, which over time shares the CPUs
        fairly among them (as the lab's 2-vCPU guests do). Returns (moved, all pinned)."""
        cands = sorted((e for e in src.rq if not e[2].delayed),
                       key=lambda e: (e[2]._seg_start, e[1]))
        nr = self._nr_running(src)
        failed = dst.nr_balance_failed
        moved = False
        pinned = True
        for _, _, th in cands:
            if idle and nr <= 1:
                break
            if th.task_cpu is not src or th.state != _RUNNABLE:
                continue  # a thread run by an earlier move's preemption took it meanwhile
            if dst.index not in th.allowed:
                continue
            pinned = False
            if failed <= CACHE_NICE_TRIES and self.now - th._seg_start < MIGRATION_COST:
                continue
            if by_task:
                imbalance -= 1
            else:
                h = self._task_h_load(th, groups)
                if h / (1 << min(failed, 31)) > imbalance * (1 + 1e-9):
                    continue
                imbalance -= h
            self._migrate(th, src, dst)
            moved = True
            nr -= 1
            if newidle or imbalance <= 0:
                break
        return moved, pinned

    def _migrate(self, th: Thread, src: Cpu, dst: Cpu) -> None:
        """A waiting thread moves runqueues (detach_task(), attach_task()). eevdf keeps its
        lag, re-placed against the new runqueue's average (update_entity_lag() in
        dequeue_entity(), place_entity()), and its deadline relative to its vruntime
        (PLACE_REL_DEADLINE); cfs its vruntime relative to min_vruntime
        (migrate_task_rq_fair()). It may then preempt what runs there (wakeup_preempt())."""
        before = dst.min_vruntime
        rel_deadline = 0.0
        if self.eevdf:
            self._update_curr(src)
            limit = self._lag_limit(th)
            th.vlag = max(-limit, min(limit, self.avg_vruntime(src) - th.vruntime))
            rel_deadline = th.deadline - th.vruntime
        src.rq[:] = [e for e in src.rq if e[2] is not th]
        if self.eevdf:
            self._update_curr(dst)
            before, load = self._avg_load(dst)
            lag = th.vlag * (load + th.weight) / load if load else 0.0
            th.vruntime = before - lag
            th.deadline = th.vruntime + rel_deadline
        else:
            heapify(src.rq)
            th.vruntime += dst.min_vruntime - src.min_vruntime
        th.task_cpu = dst
        self._push(dst, th)
        self._check_preempt_wakeup(dst, th, before)


def _group_type(nr: int) -> int:
    """group_classify() for a group of one CPU with `nr` runnable threads."""
    return _OVERLOADED if nr > 1 else _FULLY_BUSY if nr == 1 else _HAS_SPARE


def _earliest_eligible(rq: list[RqEntry], avg: float) -> int:
    """Index in the runqueue of the eligible thread (vruntime at most `avg`) with the
    earliest deadline, the earlier queued on a tie; -1 if none."""
    best = -1
    for i, (_, seq, t) in enumerate(rq):
        if t.vruntime <= avg and (best < 0 or (t.deadline, seq) <
                                  (rq[best][2].deadline, rq[best][1])):
            best = i
    return best
