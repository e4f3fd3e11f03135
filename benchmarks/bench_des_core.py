"""Own heapq event loop (kcompressd.sim.core) against SimPy, for the simulator's kind of work.

    python benchmarks/bench_des_core.py [--segments N]

Two measurements, same simulated work on both engines:

1. bare events: 64 independent processes each waiting a random delay, over and over (the
   engine's own cost per event);
2. the simulator's use: threads sharing CPUs. A kswapd-like producer runs a work segment per
   batch, queues it and wakes a kcompressd-like consumer, which runs a segment per batch; an
   eater hogs a third CPU. With SimPy the CPUs are a `simpy.Resource` (FIFO, no fair
   scheduling, no wake-up latency: less than the core does), with the core a `Sim`.

Prints the seconds each engine takes and their ratio. SimPy is not a dependency (`[all]` does
not install it): without it the core's own figures are printed and the comparison is left out,
with a note on how to get it (`pip install simpy`). Asserts nothing about wall-clock.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from kcompressd.sim.core import RUN, SLEEP, Sim


def bare_heapq(n: int) -> int:
    sim = Sim([1.0])
    rng = random.Random(1)
    left = [n]

    def tick(_: object) -> None:
        if left[0] > 0:
            left[0] -= 1
            sim.call_at(sim.now + rng.expovariate(1e4), tick)

    for _ in range(64):
        sim.call_at(rng.expovariate(1e4), tick)
    sim.run(float("inf"))
    return n


def bare_simpy(n: int) -> int:
    import simpy

    env = simpy.Environment()
    rng = random.Random(1)
    left = [n]

    def proc(env: simpy.Environment):
        while left[0] > 0:
            left[0] -= 1
            yield env.timeout(rng.expovariate(1e4))

    for _ in range(64):
        env.process(proc(env))
    env.run()
    return n


def threads_heapq(n: int) -> int:
    sim = Sim([1.0, 1.0, 0.5, 0.5])
    queue = [0]
    done = [0]

    def kswapd():
        for _ in range(n):
            yield (RUN, 24e-6)  # scan + unmap a batch
            queue[0] += 1
            if consumer.sleeping:
                sim.wake(consumer)

    def kcompressd():
        while True:
            while not queue[0]:
                yield SLEEP
            queue[0] -= 1
            yield (RUN, 75e-6)  # compress a batch
            done[0] += 1
            if done[0] >= n:
                sim.stop()

    def eater():
        while True:
            yield (RUN, 38e-6)

    sim.spawn("kswapd0", kswapd())
    consumer = sim.spawn("kcompressd0", kcompressd())
    sim.spawn("eater0", eater())
    sim.run(n * 200e-6)
    return sim.events


def threads_simpy(n: int) -> int:
    import simpy

    env = simpy.Environment()
    cpus = simpy.Resource(env, capacity=4)
    store = simpy.Store(env)
    done = [0]
    events = [0]

    def run(cost: float):
        with cpus.request() as req:
            yield req
            yield env.timeout(cost)
        events[0] += 1

    def kswapd():
        for _ in range(n):
            yield from run(24e-6)
            yield store.put(1)

    def kcompressd():
        while True:
            yield store.get()
            yield from run(75e-6)
            done[0] += 1

    def eater():
        while True:
            yield from run(38e-6)

    env.process(kswapd())
    env.process(kcompressd())
    env.process(eater())
    stop = env.timeout(n * 200e-6)
    while done[0] < n and not stop.processed:
        env.step()
    return events[0]


def timed(fn: Callable[[int], int], n: int) -> tuple[float, int]:
    t0 = time.perf_counter()
    events = fn(n)
    return time.perf_counter() - t0, events


def _simpy_available() -> bool:
    try:
        import simpy  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=100_000)
    n = ap.parse_args().segments
    compare = _simpy_available()
    print(f"{'workload':<38}{'heapq core s':>13}" + (f"{'SimPy s':>10}{'SimPy / core':>14}"
                                                     if compare else ""))
    for label, ours, theirs in (("bare events", bare_heapq, bare_simpy),
                                ("threads on CPUs (kswapd->kcompressd)", threads_heapq,
                                 threads_simpy)):
        t_ours, _ = timed(ours, n)
        line = f"{label:<38}{t_ours:>13.3f}"
        if compare:
            t_theirs, _ = timed(theirs, n)
            line += f"{t_theirs:>10.3f}{t_theirs / t_ours:>14.2f}"
        print(line)
    if compare:
        print(f"({n:,} work units each; > 1 in the last column: the heapq core is faster)")
    else:
        print(f"({n:,} work units each; SimPy is not installed, so no comparison: "
              "pip install simpy)")


if __name__ == "__main__":
    main()
