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

Scheduling follows the kernel's fair class in miniature, one global runqueue, as one of:

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
  min_vruntime - sched_latency/2 (place_entity()), may preempt the running thread with the
  largest vruntime if it leads by more than the wake-up granularity (check_preempt_wakeup()),
  and a running thread yields at the end of a work segment once another leads it by more than
  the minimum granularity (check_preempt_tick()).

Waking a sleeping thread costs `wakeup_latency` before it is runnable; switching a CPU to
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
from heapq import heappop, heappush
from typing import Any

RUN, SPIN, WAIT = 0, 1, 2
SLEEP = (3,)

Action = tuple
ThreadBody = Generator[Action, Any, None]

# Thread states.
_NEW, _RUNNABLE, _RUNNING, _SLEEPING, _WAKING, _DEAD = range(6)


class Thread:
    """A schedulable entity; `cpu_time` is wall seconds spent on a CPU (utime+stime),
    `nvcsw`/`nivcsw` the times it left its CPU by blocking / by preemption, as the kernel
    counts them in /proc/PID/status (voluntary_ctxt_switches, nonvoluntary_ctxt_switches)."""

    __slots__ = ("_resume", "_seg_end", "_seg_speedless", "_seg_start", "_tick_at", "_token",
                 "cpu", "cpu_time", "deadline", "delayed", "gen", "mm", "name", "nivcsw",
                 "nvcsw", "protect", "state", "vlag", "vruntime", "wake_pending", "weight")

    def __init__(self, name: str, gen: ThreadBody, weight: float, mm: str | None) -> None:
        self.name = name
        self.gen = gen
        self.weight = weight
        self.mm = mm  # its process's address space; None: a kernel thread
        self.state = _NEW
        self.vruntime = 0.0
        self.deadline = 0.0  # eevdf: vruntime at which its slice ends
        # eevdf: still in the slice it was picked with (set_protect_slice(), RUN_TO_PARITY)
        self.protect = False
        # eevdf: asleep but still on the runqueue (DELAY_DEQUEUE), see Sim._block_eevdf
        self.delayed = False
        self.vlag = 0.0  # eevdf: avg_vruntime - vruntime when it last went to sleep
        self._tick_at = -1.0  # eevdf: the tick already set to end its slice
        self.cpu_time = 0.0
        self.nvcsw = 0
        self.nivcsw = 0
        self.cpu: Cpu | None = None
        self.wake_pending = False
        self._token = 0  # invalidates stale segment-end / timeout events
        self._resume: Any = None  # value sent to the generator when it next runs
        self._seg_start = 0.0
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


class Cpu:
    """One CPU; its busy time is the time since the start less the time it sat idle."""

    __slots__ = ("active_mm", "idle_since", "idle_total", "index", "last", "speed", "thread")

    def __init__(self, index: int, speed: float) -> None:
        self.index = index
        self.speed = speed
        self.thread: Thread | None = None
        self.last: Thread | None = None  # the thread that ran here last (context switches)
        self.active_mm: str | None = None  # the address space loaded (kernel threads keep it)
        self.idle_since = 0.0  # idle from the start
        self.idle_total = 0.0


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
        # Fastest CPUs first: an idle big core is preferred over a little one.
        self.cpus = sorted((Cpu(i, s) for i, s in enumerate(speeds)),
                           key=lambda c: (-c.speed, c.index))
        self._idle: list[Cpu] = list(self.cpus)
        self._rq: list[tuple[float, int, Thread]] = []
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
        self.min_vruntime = 0.0
        self.context_switches = 0
        self.current: Thread | None = None  # the thread whose body is executing
        self._stop = False
        self._until = 0.0  # run()'s horizon
        self._on_segment_end = self._segment_done  # one bound method for every segment event

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

    def stop(self) -> None:
        """End `run()` after the current event (the simulation's work is done)."""
        self._stop = True

    # -- threads -----------------------------------------------------------------------------
    def spawn(self, name: str, body: ThreadBody, *, weight: float = 1.0,
              mm: str | None = None) -> Thread:
        """A new thread, runnable now (its body starts at the next event of this instant); `mm`
        names its process's address space (None: a kernel thread)."""
        th = Thread(name, body, weight, mm)
        self.threads.append(th)
        if self.eevdf:  # place_entity(): at the average, half a slice (PLACE_DEADLINE_INITIAL)
            th.vruntime = self.avg_vruntime()
            th.deadline = th.vruntime + self.base_slice / 2 / weight
        else:
            th.vruntime = self.min_vruntime
        # Started by an event, so the caller holds the Thread before its body first runs.
        self.call_at(self.now, self._start, th)
        return th

    def _start(self, th: Thread) -> None:
        before = 0.0
        if self.eevdf:  # the enqueue's update_curr()
            self._update_running()
            before = self.avg_vruntime()
        self._enqueue(th)
        if th.state == _RUNNABLE:
            self._check_preempt_wakeup(th, before)

    def wake(self, th: Thread) -> None:
        """wake_up_process(): runnable after the wake-up latency; never lost."""
        if th.state == _SLEEPING:
            th.state = _WAKING
            th._token += 1  # cancels a pending timeout
            th._resume = True
            self.call_at(self.now + self.wakeup_latency, self._woken, th)
        elif th.state in (_RUNNING, _RUNNABLE, _NEW):
            th.wake_pending = True

    def _woken(self, th: Thread) -> None:
        if self.eevdf and th.delayed:
            self._requeue_delayed(th)
            return
        avg = 0.0
        if self.eevdf:  # enqueue_entity(): update_curr(), then place_entity()
            self._update_running()
            avg, load = self._avg_load()
            # At the average less the lag it slept with, scaled by (load + w) / load so that
            # the lag is still that once its own weight is in the average (PLACE_LAG).
            lag = th.vlag * (load + th.weight) / load if load else 0.0
            th.vruntime = avg - lag
            th.deadline = th.vruntime + self.base_slice / th.weight
        else:  # place_entity(): a sleeper gets at most half a latency period of credit
            floor = self.min_vruntime - self.sched_latency / 2
            if th.vruntime < floor:
                th.vruntime = floor
        self._enqueue(th)
        if th.state == _RUNNABLE:
            self._check_preempt_wakeup(th, avg)

    def _block_eevdf(self, th: Thread) -> None:
        """dequeue_entity() of a thread going to sleep. One that is not eligible (it ran
        ahead of the average) stays on the runqueue, delayed (DELAY_DEQUEUE): it counts in the
        average and competes until pick_eevdf() picks it, which takes it off with no lag
        (DELAY_ZERO), or until it is woken first, keeping its vruntime. Otherwise
        update_entity_lag() keeps its lag within entity_lag()'s bound for place_entity()."""
        self._account(th)
        lag = self.avg_vruntime() - th.vruntime
        if lag < 0:
            th.delayed = True
            self._push(th)
            return
        limit = max(2 * self.base_slice, self.tick) / th.weight
        th.vlag = min(limit, lag)

    def _finish_delayed(self, i: int) -> None:
        """A delayed thread leaves the runqueue (finish_delayed_dequeue_entity()): picked, so
        eligible, its lag clipped to 0 (DELAY_ZERO)."""
        th = self._rq.pop(i)[2]
        th.delayed = False
        th.vlag = 0.0

    def _timeout(self, arg: tuple[Thread, int]) -> None:
        th, token = arg
        if th.state == _SLEEPING and th._token == token:
            th.state = _WAKING
            th._resume = False
            self._woken(th)

    def _requeue_delayed(self, th: Thread) -> None:
        """requeue_delayed_entity(): woken while still on the runqueue, it keeps its vruntime
        and deadline, unless it has become eligible meanwhile: then it is placed at the
        average with no lag (DELAY_ZERO)."""
        self._update_running()
        th.delayed = False
        avg = self.avg_vruntime()
        if th.vruntime < avg:
            th.vruntime = avg
            th.deadline = avg + self.base_slice / th.weight
        if self._idle:  # another CPU is free (a global runqueue): it runs there
            self._rq[:] = [e for e in self._rq if e[2] is not th]
            self._dispatch(self._take_idle(), th)
            return
        th.state = _RUNNABLE
        # No update_curr() at the requeue: check_preempt_wakeup_fair()'s sees `th` queued.
        self._check_preempt_wakeup(th, self.avg_vruntime())

    def _take_idle(self) -> Cpu:
        """The fastest idle CPU, no longer idle."""
        cpu = self._idle.pop(0)
        cpu.idle_total += self.now - cpu.idle_since
        return cpu

    def busy_time(self, cpu: Cpu) -> float:
        """Seconds `cpu` has run threads (switch costs included) since the start."""
        idle = cpu.idle_total + (self.now - cpu.idle_since if cpu.thread is None else 0.0)
        return self.now - idle

    def _enqueue(self, th: Thread) -> None:
        if self._idle:
            self._dispatch(self._take_idle(), th)
        else:
            th.state = _RUNNABLE
            self._push(th)

    def _push(self, th: Thread) -> None:
        self._seq += 1
        if self.eevdf:
            self._rq.append((th.vruntime, self._seq, th))
        else:
            heappush(self._rq, (th.vruntime, self._seq, th))

    def _pop_next(self) -> Thread | None:
        """The runnable thread a CPU takes next: pick_eevdf(), or the smallest vruntime."""
        rq = self._rq
        if not self.eevdf:
            return heappop(rq)[2]
        while rq:
            best = self._earliest_eligible(self.avg_vruntime())
            if best < 0:  # rounding: nobody at or below the average; the smallest vruntime
                best = min(range(len(rq)), key=lambda i: (rq[i][2].vruntime, rq[i][1]))
            if not rq[best][2].delayed:
                return rq.pop(best)[2]
            self._finish_delayed(best)  # pick_next_entity(): dequeue it, pick again
        return None

    def _earliest_eligible(self, avg: float) -> int:
        """Index in the runqueue of the eligible thread (vruntime at most `avg`) with the
        earliest deadline, the earlier queued on a tie; -1 if none."""
        rq = self._rq
        best = -1
        for i, (_, seq, t) in enumerate(rq):
            if t.vruntime <= avg and (best < 0 or (t.deadline, seq) <
                                      (rq[best][2].deadline, rq[best][1])):
                best = i
        return best

    def avg_vruntime(self) -> float:
        """avg_vruntime(): the weighted mean vruntime of the runnable and running threads."""
        return self._avg_load()[0]

    def _avg_load(self) -> tuple[float, float]:
        """avg_vruntime() and the weight it is taken over (cfs_rq->avg_load with curr's)."""
        total = load = 0.0
        for _, _, t in self._rq:
            total += t.vruntime * t.weight
            load += t.weight
        for cpu in self.cpus:
            cur = cpu.thread
            if cur is not None:
                total += cur.vruntime * cur.weight
                load += cur.weight
        return (total / load if load else self.min_vruntime), load

    def _update_running(self) -> None:
        """update_curr() of every running thread: their vruntime up to now."""
        for cpu in self.cpus:
            if cpu.thread is not None:
                self._account(cpu.thread)

    def _would_pick_other(self, cur: Thread) -> bool:
        """eevdf: would schedule() take another thread than the running `cur`? pick_eevdf()
        keeps `cur` only if it is eligible and its deadline strictly the earliest
        (entity_before()); a delayed sleeper it picks is dequeued and it picks again."""
        rq = self._rq
        while True:
            avg = self.avg_vruntime()
            best = self._earliest_eligible(avg)
            if best < 0 or (cur.vruntime <= avg and cur.deadline < rq[best][2].deadline):
                return False
            if not rq[best][2].delayed:
                return True
            self._finish_delayed(best)

    def _check_preempt_wakeup(self, th: Thread, before: float) -> None:
        """wakeup_preempt() for the enqueued `th`; `before` is the eevdf average the enqueue's
        update_curr() saw."""
        if self.eevdf:
            self._check_preempt_wakeup_eevdf(th, before)
            return
        victim = None
        for cpu in self.cpus:
            cur = cpu.thread
            if cur is not None and (victim is None or cur.vruntime > victim.vruntime):
                victim = cur
        if victim is None or victim.vruntime - th.vruntime <= self.wakeup_granularity:
            return
        on = victim.cpu
        assert on is not None
        self._account(victim)
        self._preempt_mid_segment(on, victim)

    def _check_preempt_wakeup_eevdf(self, th: Thread, before: float) -> None:
        """check_preempt_wakeup_fair() for the woken `th`. The enqueue's update_curr() first:
        a running thread past its deadline starts its next slice and the CPU goes to whom
        pick_eevdf() prefers, and so does one not protected that was ahead of the average
        `before` (did_preempt_short()). Then `th` takes the CPU if pick_eevdf() picks it:
        RUN_TO_PARITY protects a running thread only while it is eligible (not ahead of the
        average) and still in the slice it was picked with (set_protect_slice())."""
        for cpu in self.cpus:
            cur = cpu.thread
            if cur is None:
                continue
            self._account(cur)
            if cur.vruntime >= cur.deadline:
                others = len(self._rq) > 1  # besides `th`: a tick's resched took the CPU
                if self._tick_renewals(cur, cur.vruntime) and others and \
                        self._would_pick_other(cur):
                    self._preempt_mid_segment(cpu, cur)
                    return
                if cur.vruntime >= cur.deadline:  # this enqueue's update_curr(): a resched
                    if self._resched_eevdf(cpu, cur):
                        return
                    continue
            if self._did_preempt_short(cur, before):
                self._preempt_mid_segment(cpu, cur)
                return
            avg = self.avg_vruntime()
            eligible = cur.vruntime <= avg
            if not (eligible and cur.protect) and \
                    self._pick_eevdf(avg, cur if eligible else None) is th:
                self._preempt_mid_segment(cpu, cur)
                return
            # Otherwise the first tick after its deadline is the next point it can lose the CPU.
            self._tick_after(cur, self.now + (cur.deadline - cur.vruntime) * cur.weight)

    def _pick_eevdf(self, avg: float, cur: Thread | None) -> Thread | None:
        """pick_eevdf() without taking: the eligible runnable thread with the earliest
        deadline, or `cur` (running and eligible) if its deadline is earlier still."""
        i = self._earliest_eligible(avg)
        best = self._rq[i][2] if i >= 0 else None
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
        if th.state != _RUNNING or th._token != token or th.cpu is None:
            return
        self._account(th)
        if th.vruntime >= th.deadline:
            self._resched_eevdf(th.cpu, th)  # keeping the CPU, it has its next tick set
        elif self._did_preempt_short(th, self.avg_vruntime()):
            self._preempt_mid_segment(th.cpu, th)
        elif not th.protect:
            self._next_tick(th)

    def _did_preempt_short(self, cur: Thread, avg: float) -> bool:
        """did_preempt_short() in update_curr(): a running thread not protected by its slice
        and ahead of the average `avg` is rescheduled, if schedule() would take another."""
        return not cur.protect and cur.vruntime > avg and self._would_pick_other(cur)

    def _resched_eevdf(self, cpu: Cpu, cur: Thread) -> bool:
        """update_deadline() for a running thread past its deadline: its next slice, and the
        CPU to another thread if pick_eevdf() prefers one (True then)."""
        cur.deadline = cur.vruntime + self.base_slice / cur.weight
        cur.protect = False
        if not (self._rq and self._would_pick_other(cur)):
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
        self._push(th)
        nxt = self._pop_next()
        assert nxt is not None  # `th` at least is runnable
        self._dispatch(cpu, nxt)

    def _dispatch(self, cpu: Cpu, th: Thread) -> None:
        cpu.thread = th
        th.cpu = cpu
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
        if th._token != token or th.state != _RUNNING:
            return
        heap = self._heap
        rq = self._rq
        # Constant while the thread stays on its CPU, which is as long as this loop runs.
        send = th.gen.send
        cpu = th.cpu
        assert cpu is not None
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
                        self._would_pick_other(th):
                    self._preempt(cpu, th)
                    return
            elif rq:
                lead = rq[0][0]
                if lead < vr:
                    if lead > self.min_vruntime:
                        self.min_vruntime = lead
                    if vr - lead > self.min_granularity:
                        self._preempt(cpu, th)
                        return
                elif vr > self.min_vruntime:
                    self.min_vruntime = vr
            elif vr > self.min_vruntime:
                self.min_vruntime = vr
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
                    self._block_eevdf(th)
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
        th.cpu = None
        cpu.thread = None
        nxt = self._pop_next() if self._rq else None
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
