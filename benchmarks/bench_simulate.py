"""How fast the simulator runs, and how little memory a big machine costs it.

    python benchmarks/bench_simulate.py [--duration S] [--skip-memory]

1. Speed: phone-memeater with `none` and `kcompressd-v1`: simulated seconds per wall second
   (goal >= 1: faster than the phone it simulates) and events per wall second.
2. Memory: a 64 GiB server-numa run in a subprocess of its own, whose peak RSS
   (VmHWM) is printed next to that of a subprocess that only imports the
   simulator. Goal: < 1 GiB; pages are arrays and counters, not one Python object per page.

Prints ratios and figures; asserts nothing about wall-clock.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

SPEED_SCENARIO = "phone-memeater"
SPEED_DESIGNS = ("none", "kcompressd-v1")
MEMORY_SCENARIO = "server-numa"
MEMORY_SETS: tuple[str, ...] = ()  # server-numa is 64 GiB (memory.total_mb = 65536)
MIB = 1 << 20
GIB = 1 << 30


def bench_speed(duration: float | None) -> None:
    from kcompressd.scenarios import load_scenario
    from kcompressd.sim.run import simulate

    sc = load_scenario(SPEED_SCENARIO)
    print(f"{SPEED_SCENARIO}, seed 0" + (f", --duration {duration:g}" if duration else ""))
    print(f"{'design':<16}{'simulated s':>12}{'wall s':>9}{'sim s / wall s':>16}"
          f"{'events':>12}{'events / s':>13}")
    for design in SPEED_DESIGNS:
        t0 = time.perf_counter()
        result = simulate(sc, design=design, seed=0, duration=duration).result
        wall = time.perf_counter() - t0
        sim_s, events = result["meta"]["simulated_seconds"], result["meta"]["events"]
        oom = result["workload"].get("oom_killed")
        print(f"{design:<16}{sim_s:>12.3g}{wall:>9.2f}{sim_s / wall:>16.2f}"
              f"{events:>12,}{events / wall:>13,.0f}" + (f"  (ended: OOM kill of {oom})"
                                                         if oom else ""))


def child(mode: str, duration: float | None) -> None:
    """In its own process: import the simulator, run (unless mode is 'import'), print RSS."""
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
    ap.add_argument("--skip-memory", action="store_true", help="skip the 64 GiB RSS run")
    ap.add_argument("--child", choices=("import", "run"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.duration)
        return
    bench_speed(args.duration)
    if not args.skip_memory:
        bench_memory(args.duration)


if __name__ == "__main__":
    main()
