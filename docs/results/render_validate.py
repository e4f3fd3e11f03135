"""The validation table of docs/validation.md from `kcompressd validate --json` documents.

  python docs/results/render_validate.py docs/results/validate/*.[0-9]*.json

Files NAME.I.json are runs I of one setting NAME: the table gives, per setting, the median of
the real runs and the median of the simulated ones (each replaying its own real run's plan),
the relative error of the medians, and whether allocstall/s moved the same way in both from
the offload-off run of the same guest shape (`base`, `cpu2`). "real spread" is how much the
real runs of the setting differ in kswapd's CPU per reclaimed page: the guest's speed.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from kcompressd.sim.validate import metrics, switch_rates

HELD = ("pgsteal_kswapd/s", "pgsteal_direct/s", "kswapd cpu share")
SHOWN = (*HELD, "workers cpu share", "eater pages/s", "pswpin/s", "allocstall/s",
         "stall p50 (us)", "stall p99 (us)", "zram mem_used_total")
BASELINES = {1: "base", 2: "cpu2"}  # the offload-off setting of each guest shape
LIMIT = 0.20


def setting(real: dict) -> str:
    meta = real["meta"]
    vm = meta.get("vm") or {}
    parts = [f"{vm['cpus']} vCPU {vm.get('accel', 'tcg')}" if vm else "host"]
    if vm and not (vm.get("kernel") or {}).get("patches"):
        parts.append("vanilla 6.12")
    parts.append(f"{meta['plan']['threads']} eaters")
    corpus = real["workload"]["corpus"]
    parts.append(Path(corpus).name.split("-")[0].split(".")[0] if "/" in corpus else corpus)
    sysctls = {k.removeprefix("vm."): v for k, v in (meta.get("sysctls") or {}).items()
               if k.startswith("vm.kcompressd")}
    parts.append(" ".join(f"{k}={v}" for k, v in sysctls.items())
                 if sysctls.get("kcompressd") else "offload off")
    return ", ".join(parts)


def fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"


def spread(docs: list[dict]) -> str:
    """How far the real runs of one setting differ: (max - min) / median of kswapd's CPU per
    page it reclaimed, the machine's speed as the runs saw it."""
    per = [sum(v for k, v in d["real"]["cpu"].items() if k.startswith("kswapd")) /
           max(1, d["real"]["vmstat"].get("pgsteal_kswapd", 0)) for d in docs]
    return f"{(max(per) - min(per)) / statistics.median(per):.0%}" if len(per) > 1 else "—"


def medians(docs: list[dict], side: str) -> dict[str, float]:
    ms = [metrics(d[side]) for d in docs]
    return {k: statistics.median(m[k] for m in ms) for k in ms[0] if all(k in m for m in ms)}


def main(paths: list[str]) -> None:
    runs: dict[str, list[dict]] = defaultdict(list)
    for p in sorted(paths):
        runs[Path(p).name.split(".")[0]].append(json.loads(Path(p).read_text()))
    real = {n: medians(d, "real") for n, d in runs.items()}
    sim = {n: medians(d, "sim") for n, d in runs.items()}
    print(f"| setting | runs | real spread | {' | '.join(SHOWN)} | allocstall vs offload off |")
    print("|---|---:|---:|" + "---:|" * len(SHOWN) + "---|")
    worst: dict[str, tuple[float, str]] = {k: (0.0, "") for k in HELD}
    within = 0
    for name, docs in runs.items():
        r, s = real[name], sim[name]
        cells, ok = [], True
        for k in SHOWN:
            if k not in r or k not in s:  # a result made before it was counted
                cells.append("—")
                continue
            e = (s[k] - r[k]) / r[k] if r[k] else None
            cells.append(f"{fmt(r[k])} / {fmt(s[k])}" + ("" if e is None else f" ({e:+.0%})"))
            if k in HELD:
                ok = ok and e is not None and abs(e) <= LIMIT
                if e is not None and abs(e) > abs(worst[k][0]):
                    worst[k] = (e, name)
        within += ok
        base = BASELINES.get((docs[0]["real"]["meta"].get("vm") or {}).get("cpus", 0))
        direction = "—"
        if base in real and base != name:
            dr = r["allocstall/s"] - real[base]["allocstall/s"]
            ds = s["allocstall/s"] - sim[base]["allocstall/s"]
            same = (dr > 0) == (ds > 0)
            direction = (f"real {'↑' if dr > 0 else '↓'} sim {'↑' if ds > 0 else '↓'} "
                         f"{'✓' if same else '✗'}")
        print(f"| {name}: {setting(docs[0]['real'])} | {len(docs)} | {spread(docs)} | "
              f"{' | '.join(cells)} | {direction} |")
    print()
    print(f"Real / simulated medians (relative error of the simulator). {within} of "
          f"{len(runs)} settings within {LIMIT:.0%} on all of {', '.join(HELD)}. Worst: "
          + "; ".join(f"{k} {e:+.0%} ({n})" for k, (e, n) in worst.items()) + ".")
    switch_table(runs)


def switch_table(runs: dict[str, list[dict]]) -> None:
    """Context switches per second, real / simulated medians: the scheduler's part."""
    rows = []
    for name, docs in runs.items():
        got = [(switch_rates(d["real"]), switch_rates(d["sim"])) for d in docs]
        got = [(r, s) for r, s in got if r is not None and s is not None]
        if got:
            rows.append((name, {k: (statistics.median(r[k] for r, _ in got),
                                    statistics.median(s[k] for _, s in got))
                                for k in got[0][0]}))
    if not rows:
        return
    keys = list(rows[0][1])
    print()
    print(f"| setting | {' | '.join(k + '/s' for k in keys)} |")
    print("|---|" + "---:|" * len(keys))
    for name, cells in rows:
        print(f"| {name} | " + " | ".join(f"{fmt(r)} / {fmt(s)}" for r, s in cells.values())
              + " |")
    print()
    print("Context switches per second, real / simulated medians: voluntary = the thread "
          "blocked (slept), nonvoluntary = it was preempted (/proc/PID/status).")


if __name__ == "__main__":
    main(sys.argv[1:])
