"""Summaries of a lab tracing build's trace (docs/results/trace/README.md).

    python docs/results/trace/analyze.py sched TRACE    # the worker's wake-ups, lags, runs
    python docs/results/trace/analyze.py vmscan TRACE   # shrink_inactive outcomes per batch
    python docs/results/trace/analyze.py shares TRACE   # CPU of each task per half second
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict

SWITCH = re.compile(r"\s(\d+\.\d+): sched_switch: prev_comm=(\S+) prev_pid=(\d+) "
                    r"prev_prio=\d+ prev_state=(\S+) ==> next_comm=(\S+) next_pid=(\d+)")
PRINTK = re.compile(r"\s(\d+\.\d+): \S+: KC(\w) (.*)$")
SHRINK = re.compile(r"^\s*(\S+)-\d+\s+\[\d+\] \S+\s+([\d.]+): mm_vmscan_lru_shrink_inactive: "
                    r"(.*) flags=(\S+)")
EATER = re.compile(r"^\s*eater\d+-\d+\s+\[\d+\] \S+\s+([\d.]+):")


def quantiles(values: list[float], unit: str) -> str:
    if not values:
        return "none"
    v = sorted(values)
    n = len(v)
    return (f"n={n} p10 {v[n // 10]:.3g} p50 {v[n // 2]:.3g} p90 {v[9 * n // 10]:.3g} {unit}")


def sched(lines: list[str]) -> None:
    """At each wake-up of the kcompressd worker by kswapd: was kswapd protected (RUN_TO_PARITY)
    and eligible, whom pick_eevdf() chose; the worker's lag at placement; how long kswapd, the
    worker and the eater ran at a time, and why they stopped."""
    names: dict[int, str] = {}
    runs: dict[str, list[tuple[float, str]]] = defaultdict(list)
    cur: str | None = None
    start = 0.0
    for line in lines:
        if m := SWITCH.search(line):
            t = float(m.group(1))
            names[int(m.group(3))], names[int(m.group(6))] = m.group(2), m.group(5)
            if cur is not None:
                runs[cur].append(((t - start) * 1e6, m.group(4)))
            cur, start = m.group(5), t
    worker = next((p for p, n in names.items() if n.startswith("kcompressd")), None)
    wakes: Counter[tuple[str, ...]] = Counter()
    lags: list[float] = []
    for line in lines:
        if not (m := PRINTK.search(line)):
            continue
        f = dict(kv.split("=", 1) for kv in m.group(3).split() if "=" in kv)
        if m.group(2) == "W" and int(f["p"]) == worker:
            wakes[(names.get(int(f["c"]), f["c"]),
                   "protected" if f["prot"] == "1" else "not protected",
                   "eligible" if f["ce"] == "1" else "ineligible",
                   "picks " + names.get(int(f["b"]), f["b"]))] += 1
        elif m.group(2) == "P" and int(f["p"]) == worker:
            lags.append(int(f["vlag"]) / 1e6)
    total = sum(wakes.values()) or 1
    print(f"the worker's wake-ups by a running task ({total}):")
    for key, n in wakes.most_common(6):
        print(f"  {n / total:6.1%}  running {', '.join(key)}")
    print("the worker's lag at placement:", quantiles(lags, "ms"))
    for who in ("kswapd", "kcompressd", "eater"):
        for name in sorted(n for n in runs if n.startswith(who)):
            slept = [d for d, s in runs[name] if not s.startswith("R")]
            preempted = [d for d, s in runs[name] if s.startswith("R")]
            print(f"{name} ran until it slept: {quantiles(slept, 'us')}")
            print(f"{name} ran until preempted: {quantiles(preempted, 'us')}")


def shares(lines: list[str]) -> None:
    """Seconds each of kswapd, the workers, the eaters and the rest ran, from sched_switch, by
    the half second each run began in: is one vCPU shared fairly between runnable tasks?"""
    bins: dict[int, Counter[str]] = defaultdict(Counter)
    cur: str | None = None
    start = 0.0
    for line in lines:
        if not (m := SWITCH.search(line)):
            continue
        t = float(m.group(1))
        if cur is not None:
            who = next((w for w in ("kswapd", "kcompressd", "eater") if cur.startswith(w)),
                       "other")
            bins[int(start * 2)][who] += t - start
        cur, start = m.group(5), t
    print("t (s)  kswapd  workers  eaters  other")
    for b in sorted(bins):
        c = bins[b]
        print(f"{b / 2:5.1f}  {c['kswapd']:6.3f}  {c['kcompressd']:7.3f}  {c['eater']:6.3f}"
              f"  {c['other']:5.3f}")


def vmscan(lines: list[str]) -> None:
    """Per reclaimer (kswapd or direct) and LRU type: what shrink_folio_list() did with the
    folios it scanned, as fractions of them, in the bench's window (from the eaters' first to
    their last event: their direct reclaim)."""
    seen = [float(m.group(1)) for line in lines if (m := EATER.search(line))]
    start, end = (min(seen), max(seen)) if seen else (0.0, float("inf"))
    print(f"window {start:.1f}-{end:.1f} s")
    tot: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for line in lines:
        if not (m := SHRINK.search(line)) or not start <= float(m.group(2)) <= end:
            continue
        who = "kswapd" if m.group(1).startswith("kswapd") else "direct"
        c = tot[(who, "anon" if "ANON" in m.group(4) else "file")]
        for kv in m.group(3).split():
            k, v = kv.split("=")
            if k.startswith("nr_"):
                c[k] += int(v)
    for (who, lru), c in sorted(tot.items()):
        scanned = c["nr_scanned"] or 1
        parts = ", ".join(f"{k.removeprefix('nr_')} {c[k] / scanned:.2f}" for k in (
            "nr_reclaimed", "nr_ref_keep", "nr_activate_anon", "nr_dirty", "nr_writeback",
            "nr_immediate", "nr_unmap_fail"))
        done = sum(c[k] for k in ("nr_reclaimed", "nr_ref_keep", "nr_activate_anon",
                                   "nr_activate_file"))
        print(f"{who} {lru}: scanned {c['nr_scanned']}: {parts}, "
              f"kept otherwise {1 - done / scanned:.2f}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("sched", "vmscan", "shares"):
        sys.exit(__doc__)
    with open(sys.argv[2]) as trace:
        {"sched": sched, "vmscan": vmscan, "shares": shares}[sys.argv[1]](
            trace.read().splitlines())
