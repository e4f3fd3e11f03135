"""Markdown tables of the A/B series in this directory (docs/kcompressd.md's figures).

  python docs/results/render.py docs/results/*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROWS = [("pgsteal_kswapd/s", "pgsteal_kswapd/s"), ("pgsteal_direct/s", "pgsteal_direct/s"),
        ("allocstall/s", "allocstall/s"), ("pgrotated/s", "pgrotated/s"),
        ("kcompressd_queued/s", "queued/s"), ("kcompressd_sync_full/s", "sync_full/s"),
        ("cpu_kswapd", "kswapd CPU s (all nodes)"), ("cpu_kcompressd", "workers' CPU s"),
        ("pages_written/s", "eater pages/s")]


def label(sysctls: dict[str, int]) -> str:
    return " ".join(f"{k.removeprefix('vm.').removeprefix('kcompressd_')}={v}"
                    for k, v in sysctls.items()) or "default"


def eater_rate(run: dict) -> float:
    return run["workload"]["pages_written"] / run["meta"]["measured_seconds"]


def table(path: Path) -> str:
    doc = json.loads(path.read_text())
    vm = doc["meta"]["vm"]
    head = (f"**{path.stem}**: {vm['cpus']} vCPU, {vm['memory_mib']} MiB, {vm['nodes']} "
            f"node(s), {vm['accel'].upper()}, kernel {vm['kernel']['version']} "
            f"({len(vm['kernel']['patches'])} patches), {doc['meta']['repeat']} runs per "
            "setting: median (max-min)/median\n\n")
    series = doc["series"]
    lines = ["| | " + " | ".join(label(s["sysctls"]) for s in series) + " |",
             "|---|" + "---:|" * len(series)]
    for key, name in ROWS:
        cells = []
        for s in series:
            if key == "pages_written/s":
                values = sorted(eater_rate(r) for r in s["runs"])
                med = values[len(values) // 2]
                spread = (values[-1] - values[0]) / med if med else 0.0
            elif key in s["summary"] or (key == "cpu_kswapd" and "cpu_kswapd0" in s["summary"]):
                got = s["summary"].get(key) or s["summary"]["cpu_kswapd0"]  # one node: kswapd0
                med, spread = got["median"], got["spread"]
            else:
                cells.append("-")
                continue
            cells.append(f"{med:,.0f} ±{spread:.0%}" if med >= 100 else f"{med:.2f} ±{spread:.0%}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


if __name__ == "__main__":
    print("\n".join(table(Path(p)) for p in sys.argv[1:]))
