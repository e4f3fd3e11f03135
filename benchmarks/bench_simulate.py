"""How fast the simulator runs, and how little memory a big machine costs it.

    python benchmarks/bench_simulate.py [--duration S] [--designs D1,D2]
                                        [--before REV | --compiled] [--skip-memory]

1. Speed: phone-memeater with each design (default: none, kcompressd-v1, kcompressd-v2, the
   default `kcompressd simulate`): simulated seconds per wall second (goal >= 5 for every
   design, issue 11) and per CPU second, and events. With `--before REV` the same runs of
   revision REV (a temporary `git worktree`) alternate with this tree's, each in a process of
   its own, and the table gives after / before as ratios from this one run: the machine is
   shared, so only ratios measured side by side mean anything. Event counts are deterministic.
2. Memory: a 64 GiB server-numa run in a subprocess of its own, whose peak RSS
   (VmHWM) is printed next to that of a subprocess that only imports the
   simulator. Goal: < 1 GiB; pages are arrays and counters, not one Python object per page.

Prints ratios and figures; asserts nothing about wall-clock.

Measured for issue 11 (branch `speed` against e50debe, seed 0, whole phone-memeater runs; two
CPUs shared with a running QEMU guest, so the CPU-second figures of two `--before e50debe` runs
are given, and the instructions valgrind counts to simulate the first 0.6 s, which do not
depend on the machine's load). Results and event counts are unchanged (tests/sim/test_golden.py).

    design                 sim s / CPU s, before -> after     instructions, first 0.6 sim-s
                           run 1            run 2
    none                    6.28 -> 10.04    8.87 -> 10.85      490M ->  399M (0.81x)
    kcompressd-v1           0.54 ->  0.57    0.53 ->  0.58     8314M -> 7898M (0.95x)
    kcompressd-v2           0.76 ->  0.91    0.74 ->  0.91     4807M -> 4223M (0.88x)
    kcompressd              1.61 ->  1.87    1.53 ->  1.87     2500M -> 2095M (0.84x)
    kcompressd-unofficial   0.71 ->  0.77    0.66 ->  0.85     6832M -> 5784M (0.85x)
    parallel-swapper        1.20 ->  1.39    1.13 ->  1.51     4809M -> 3876M (0.81x)
    zram-async              2.63 ->  2.27    2.70 ->  2.88     1561M -> 1486M (0.95x)
    batch-accel             1.37 ->  2.70    1.45 ->  2.69     3574M -> 1779M (0.50x)
    multi-kswapd            5.12 ->  6.98    6.18 ->  7.42      658M ->  608M (0.92x)

The designs with worker threads stay far from 5 simulated s per second: they take one folio
per dequeue, as the kernel patches do, so a simulated second is 160,000 (kcompressd) to
610,000 (kcompressd-v1) events that share the clock, the zsmalloc pool's running sum and the
random draws, and must run one by one in time order to give the same results. An event costs
~2.8 us in CPython (kcompressd-v1, py-spy: a third the event core, half the worker's compress,
store and LRU rotation, the rest kswapd and the eater).

Fidelity has since cost the `kcompressd` design half its speed (`--before 3ae0f42`, one run,
quiet host): 1.76 -> 0.79 simulated s per CPU s, events 882,360 -> 1,751,639 (1.99x), the
others within 0.96-1.16x. Its kswapd now queues folio by folio as shrink_folio_list() does
(8855776): on the phone's 8 CPUs the worker drains each folio on another CPU and sleeps
again, so every folio is a wake-up, as in the kernel.

And again when kswapd had to queue one folio at a time whenever a worker is not on a CPU
(b130b7d, `--before 5f3cf64`, one run, a helper's benchmark sharing the CPUs): sim s per CPU
s kcompressd 0.73 -> 0.70 (0.97x, events 1.10x), kcompressd-unofficial 0.82 -> 0.77 (0.94x,
1.02x), parallel-swapper 1.22 -> 0.69 (0.57x, events 1.51x: its workers, woken per batch,
are often runnable but not running while kswapd queues).

This round's mechanisms (GFP_NOIO reclaim of v2's worker, the swap zeromap, single folios
drawn from the whole corpus; `--before a702e63 --designs none,kcompressd-v2,kcompressd
--skip-memory`, one run, quiet host, 2026-12-07): sim s per CPU s none 4.12 -> 4.14 (1.00x),
kcompressd-v2 0.47 -> 0.45 (0.95x, events 1.05x: its worker now reclaims with GFP_NOIO 892
times a second), kcompressd 0.33 -> 0.32 (0.97x, events 1.02x). This machine (an Intel Xeon)
is slower than the one of the figures above.

Per-CPU runqueues with wake-up placement and the load balancer (8d94400, `--before 352f018
--designs none,kcompressd --skip-memory`, four runs on two CPUs shared with a QEMU guest,
2026-12-07): sim s per CPU s none 1.01, 1.36, 0.99, 1.11x (events 1.05x: the balance events),
kcompressd 1.02, 0.81, 1.22, 1.08x (events 1.00x): no cost the noise (about 20%) can show.

Compiled by mypyc (`--compiled`: setup.py's modules, sim/core, mm/*, backends/zram_cost and
the designs), whole runs, one run on a quiet host, the same events and results
(tests/test_setup.py): sim s per CPU s none 6.49 -> 9.72 (1.50x), kcompressd-v1 0.37 -> 0.65
(1.73x), kcompressd-v2 0.75 -> 1.33 (1.77x), kcompressd 0.58 -> 1.04 (1.79x),
kcompressd-unofficial 1.73x, parallel-swapper 1.77x, zram-async 1.75x, batch-accel 1.71x,
multi-kswapd 1.60x. Still short of 5 for the designs with workers.

Wake-ups queued at once on a busy CPU, interrupt work from the tick (114048e; `--before
6948107 --designs none,kcompressd,kcompressd-v2 --skip-memory --duration 1`, one run, quiet
host, 2026-12-08): sim s per CPU s 1.00x, 1.00x, 0.99x, the same events: in the built-in
scenarios every wake-up lands on an idle CPU, and they have no interrupt work. Telling a stale
segment-end event apart by its time (4bcaaf5, one more comparison per segment): `--before
4bcaaf5~1`, two runs, kcompressd 0.92x and 1.11x, kcompressd-v1 0.97x, none 0.96x: noise.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import runpy
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEED_SCENARIO = "phone-memeater"
SPEED_DESIGNS = ("none", "kcompressd-v1", "kcompressd-v2")
MEMORY_SCENARIO = "server-numa"
MEMORY_SETS: tuple[str, ...] = ()  # server-numa is 64 GiB (memory.total_mb = 65536)
MIB = 1 << 20
GIB = 1 << 30
ROOT = Path(__file__).resolve().parent.parent


def speed_run(design: str, duration: float | None) -> dict[str, float]:
    """In its own process: one simulate() of the speed scenario with `design`."""
    from kcompressd.scenarios import load_scenario
    from kcompressd.sim.run import simulate

    sc = load_scenario(SPEED_SCENARIO)
    t0, c0 = time.perf_counter(), time.process_time()
    result = simulate(sc, design=design, seed=0, duration=duration).result
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wall": wall, "cpu": cpu, "sim": result["meta"]["simulated_seconds"],
            "events": result["meta"]["events"],
            "oom": result["workload"].get("oom_killed") or ""}


def run_speed_child(design: str, duration: float | None, src: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", "speed", "--designs", design]
    if duration:
        cmd += ["--duration", str(duration)]
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(proc.stdout)


def bench_speed(duration: float | None, designs: list[str], before: str | None,
                compiled: bool = False) -> None:
    print(f"{SPEED_SCENARIO}, seed 0" + (f", --duration {duration:g}" if duration else "")
          + (f"; before = {before}, after = this tree" if before else "")
          + ("; this tree pure, and compiled by mypyc (setup.py)" if compiled else ""))
    w = max(16, *(len(d) + 2 for d in designs))  # kcompressd-unofficial is 21 characters
    print(f"{'design':<{w}}{'':<8}{'simulated s':>12}{'wall s':>9}{'sim s / wall s':>16}"
          f"{'sim s / CPU s':>15}{'events':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        trees = [("after", ROOT / "src")]
        if compiled:
            setup = runpy.run_path(str(ROOT / "setup.py"), run_name="setup")
            trees = [("pure", ROOT / "src"),
                     ("compiled", setup["compiled_copy"](Path(tmp)))]
        if before:
            wt = Path(tmp) / "before"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                            str(wt), before], check=True)
            trees.insert(0, ("before", wt / "src"))
        try:
            for design in designs:
                got = {}
                for label, src in trees:
                    r = got[label] = run_speed_child(design, duration, src)
                    print(f"{design:<{w}}{label:<8}{r['sim']:>12.3g}{r['wall']:>9.2f}"
                          f"{r['sim'] / r['wall']:>16.2f}{r['sim'] / r['cpu']:>15.2f}"
                          f"{r['events']:>12,}" + (f"  (OOM kill of {r['oom']})"
                                                   if r["oom"] else ""))
                if len(trees) == 2:
                    b, a = got[trees[0][0]], got[trees[1][0]]
                    print(f"{'':<{w}}{'ratio':<8}{'':>12}{'':>9}"
                          f"{(a['sim'] / a['wall']) / (b['sim'] / b['wall']):>15.2f}x"
                          f"{(a['sim'] / a['cpu']) / (b['sim'] / b['cpu']):>14.2f}x"
                          f"{a['events'] / b['events']:>11.2f}x")
        finally:
            if before:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(Path(tmp) / "before")], check=False)


def child(mode: str, duration: float | None, designs: list[str]) -> None:
    """In its own process: import the simulator, run (unless mode is 'import'), print RSS."""
    if mode == "speed":
        print(json.dumps(speed_run(designs[0], duration)))
        return
    from kcompressd.scenarios import load_scenario
    from kcompressd.sim.run import simulate

    out: dict[str, float] = {}
    if mode == "run":
        sc = load_scenario(MEMORY_SCENARIO, MEMORY_SETS)
        t0 = time.perf_counter()
        result = simulate(sc, seed=0, duration=duration).result
        out = {"wall_seconds": time.perf_counter() - t0,
               "simulated_seconds": result["meta"]["simulated_seconds"],
               "events": result["meta"]["events"]}
    out["maxrss_bytes"] = peak_rss_bytes()
    print(json.dumps(out))


def peak_rss_bytes() -> int:
    """This process's peak RSS: VmHWM, which exec resets. getrusage's ru_maxrss would do on
    other systems, but Linux carries the parent's peak across fork+exec into it."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_child(mode: str, duration: float | None) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", mode]
    if duration:
        cmd += ["--duration", str(duration)]
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(proc.stdout)


def bench_memory(duration: float | None) -> None:
    base = run_child("import", None)
    run = run_child("run", duration)
    rss, floor = run["maxrss_bytes"], base["maxrss_bytes"]
    label = " ".join((MEMORY_SCENARIO, *MEMORY_SETS))
    print(f"\n{label}: {run['simulated_seconds']:.3g} simulated s in {run['wall_seconds']:.1f}"
          f" wall s, {run['events']:,} events")
    print(f"peak RSS {rss / MIB:.1f} MiB ({rss / GIB:.1%} of the 1 GiB goal); "
          f"imports alone {floor / MIB:.1f} MiB, the run adds {(rss - floor) / MIB:.1f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=None,
                    help="simulated seconds per run (default: the scenario's)")
    ap.add_argument("--designs", default=",".join(SPEED_DESIGNS),
                    help="comma-separated designs for the speed table")
    ap.add_argument("--before", metavar="REV",
                    help="also run git revision REV, alternating with this tree: ratios")
    ap.add_argument("--compiled", action="store_true",
                    help="also run this tree compiled by mypyc (setup.py), alternating: ratios")
    ap.add_argument("--skip-memory", action="store_true", help="skip the 64 GiB RSS run")
    ap.add_argument("--child", choices=("import", "run", "speed"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    designs = args.designs.split(",")
    if args.child:
        child(args.child, args.duration, designs)
        return
    if args.before and args.compiled:
        ap.error("--before and --compiled exclude each other")
    bench_speed(args.duration, designs, args.before, args.compiled)
    if not args.skip_memory:
        bench_memory(args.duration)


if __name__ == "__main__":
    main()
