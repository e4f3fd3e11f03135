"""The validation table of docs/validation.md from `kcompressd validate --json` documents.

  python docs/results/render_validate.py docs/results/validate/*.json

One row per run: what differed from the calibration (guest shape, kernel, corpus, eaters,
Kcompressd sysctls), the real value, the simulator's and the relative error of the metrics the
issue holds the simulator to, and whether allocstall moved in the same direction from the
baseline run of the same shape (`base`, `cpu1`) in both.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kcompressd.sim.validate import metrics

HELD = ("pgsteal_kswapd/s", "pgsteal_direct/s", "kswapd cpu share")
SHOWN = (*HELD, "workers cpu share", "pswpin/s", "allocstall/s", "stall p50 (us)",
         "stall p99 (us)", "zram mem_used_total")
BASELINES = {1: "cpu1", 2: "base"}  # the offload-off run of each guest shape


def setting(real: dict) -> str:
    meta = real["meta"]
    vm = meta.get("vm") or {}
    parts = [f"{vm.get('cpus', meta.get('cpus'))} vCPU" if vm else "host"]
    kernel = vm.get("kernel") or {}
    if vm and not kernel.get("patches"):
        parts.append("vanilla kernel")
    parts.append(f"{meta['plan']['threads']} eaters")
    corpus = real["workload"]["corpus"]
    parts.append(Path(corpus).stem.split("-")[0] if "/" in corpus else corpus)
    sysctls = {k: v for k, v in (meta.get("sysctls") or {}).items()
               if k.startswith("vm.kcompressd")}
    if sysctls.get("vm.kcompressd"):
        parts.append(" ".join(f"{k.removeprefix('vm.')}={v}" for k, v in sysctls.items()))
    else:
        parts.append("offload off")
    return ", ".join(parts)


def fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"


def main(paths: list[str]) -> None:
    docs = {Path(p).stem: json.loads(Path(p).read_text()) for p in paths}
    heads = " | ".join(f"{k} real / sim (err)" for k in SHOWN)
    print(f"| run | setting | {heads} | allocstall direction |")
    print("|---|---|" + "---:|" * len(SHOWN) + "---|")
    worst = {k: (0.0, "") for k in HELD}
    for name, doc in docs.items():
        r, s = metrics(doc["real"]), metrics(doc["sim"])
        cells = []
        for k in SHOWN:
            e = doc["error"].get(k)
            err = "—" if e is None else f"{e:+.0%}"
            cells.append(f"{fmt(r[k])} / {fmt(s[k])} ({err})")
            if k in HELD and e is not None and abs(e) > abs(worst[k][0]):
                worst[k] = (e, name)
        cpus = (doc["real"]["meta"].get("vm") or {}).get("cpus")
        base = docs.get(BASELINES.get(cpus, ""))
        direction = "—"
        if base is not None and base is not doc:
            dr = metrics(doc["real"])["allocstall/s"] - metrics(base["real"])["allocstall/s"]
            ds = metrics(doc["sim"])["allocstall/s"] - metrics(base["sim"])["allocstall/s"]
            arrow = {True: "↑", False: "↓"}
            direction = (f"real {arrow[dr > 0]} sim {arrow[ds > 0]} "
                         f"{'✓' if (dr > 0) == (ds > 0) else '✗'}")
        print(f"| {name} | {setting(doc['real'])} | {' | '.join(cells)} | {direction} |")
    print()
    print("Worst errors: " + "; ".join(f"{k} {e:+.0%} ({n})" for k, (e, n) in worst.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
