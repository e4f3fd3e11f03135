"""Seeds aggregated, designs compared with their baseline, and the findings stated from data.

A group is the runs of one (scenario, simulated or measured, design with its parameters,
setting) over seeds: median, min and max of each metric. A comparison holds a design's group
against the baseline group of the same scenario, kind and setting.

When offloading "wins": the reviewers' complaint is allocating tasks falling into direct
reclaim, so a design wins where its median allocstalls per reclaimed GiB are at least 5% below
the baseline's, and loses where they are at least 5% above (or where the baseline had none and
it has some). Per GiB, not per second: a design that lets the workload allocate faster enters
the allocator's slow path more often per second while stalling less for the same work.
What it costs: reclaim CPU-seconds per reclaimed GiB, and the estimated reclaim energy per GiB.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from kcompressd.report.load import Row

# (column, label, better when lower?)
METRICS: tuple[tuple[str, str, bool], ...] = (
    ("pgsteal_kswapd_per_s", "pgsteal_kswapd/s", False),
    ("pgsteal_direct_per_s", "pgsteal_direct/s", True),
    ("allocstall_per_s", "allocstall/s", True),
    ("allocstall_per_gib", "allocstalls per reclaimed GiB", True),
    ("stall_p50_us", "stall p50 µs", True),
    ("stall_p99_us", "stall p99 µs", True),
    ("stall_p999_us", "stall p99.9 µs", True),
    ("cpu_s_per_gib", "reclaim CPU-s/GiB", True),
    ("reclaim_j_per_gib", "reclaim J/GiB (est.)", True),
)
FIGURE_METRICS = ("pgsteal_kswapd_per_s", "pgsteal_direct_per_s", "allocstall_per_s",
                  "stall_p99_us", "cpu_s_per_gib", "reclaim_j_per_gib")
LABELS = {c: label for c, label, _ in METRICS}
WIN_MARGIN = 0.05
WIN_METRIC = "allocstall_per_gib"


def setting_key(setting: dict[str, Any]) -> str:
    return json.dumps(setting, sort_keys=True)


def describe(setting: dict[str, Any], varying: set[str] | None = None) -> str:
    items = [(k, v) for k, v in setting.items() if varying is None or k in varying]
    return ", ".join(f"{k}={v}" for k, v in items) or "—"


@dataclass
class Stat:
    median: float | None
    lo: float | None
    hi: float | None
    n: int


def stat(values: list[float | None]) -> Stat:
    vals = [v for v in values if v is not None]
    if not vals:
        return Stat(None, None, None, 0)
    return Stat(statistics.median(vals), min(vals), max(vals), len(vals))


@dataclass
class Group:
    scenario: str
    measured: bool
    config: str
    design: str
    setting: dict[str, Any]
    baseline: bool
    rows: list[Row]

    def stat(self, metric: str) -> Stat:
        return stat([r.metrics.get(metric) for r in self.rows])

    @property
    def seeds(self) -> list[int]:
        return sorted(r.seed for r in self.rows)


def groups(rows: list[Row]) -> list[Group]:
    """Successful rows grouped over seeds, in first-seen order."""
    out: dict[tuple[Any, ...], Group] = {}
    for r in rows:
        if r.status != "ok":
            continue
        k = (r.scenario, r.measured, r.config, setting_key(r.setting))
        if k not in out:
            out[k] = Group(r.scenario, r.measured, r.config, r.design, r.setting,
                           r.is_baseline, [])
        out[k].rows.append(r)
    return list(out.values())


def varying_keys(rows: list[Row]) -> set[str]:
    """Parameter keys whose value differs between the rows (the swept ones)."""
    values: dict[str, set[str]] = defaultdict(set)
    keys: set[str] = set()
    for r in rows:
        keys |= set(r.params)
    for r in rows:
        for k in keys:
            values[k].add(json.dumps(r.params.get(k)))
    return {k for k, v in values.items() if len(v) > 1}


@dataclass
class Comparison:
    group: Group
    base: Group
    ratios: dict[str, float | None]
    outcome: str  # win | loss | tie | n/a


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _outcome(g: Group, base: Group) -> str:
    a, b = g.stat(WIN_METRIC).median, base.stat(WIN_METRIC).median
    if a is None or b is None:
        return "n/a"
    if b == 0:
        return "loss" if a > 0 else "tie"
    r = a / b
    return "win" if r <= 1 - WIN_MARGIN else "loss" if r >= 1 + WIN_MARGIN else "tie"


def comparisons(gs: list[Group]) -> list[Comparison]:
    bases = {(g.scenario, g.measured, setting_key(g.setting)): g for g in gs if g.baseline}
    out = []
    for g in gs:
        if g.baseline:
            continue
        base = bases.get((g.scenario, g.measured, setting_key(g.setting)))
        if base is None:
            continue
        ratios = {m: ratio(g.stat(m).median, base.stat(m).median) for m, _, _ in METRICS}
        out.append(Comparison(g, base, ratios, _outcome(g, base)))
    return out


def _fmt_ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}\u00d7"


def _median_range(xs: list[float]) -> str:
    if not xs:
        return "n/a"
    if len(xs) == 1:
        return _fmt_ratio(xs[0])
    return f"{_fmt_ratio(statistics.median(xs))} (range {min(xs):.2f}\u2013{max(xs):.2f}\u00d7)"


def findings(comps: list[Comparison], rows: list[Row]) -> list[dict[str, Any]]:
    """Per scenario and kind: counts of wins/losses, the best and worst case, the costs;
    `text` says it in one paragraph, every number computed from the comparisons."""
    by: dict[tuple[str, bool], list[Comparison]] = defaultdict(list)
    for c in comps:
        by[(c.group.scenario, c.group.measured)].append(c)
    out = []
    for (scenario, measured), cs in by.items():
        varying = varying_keys([r for r in rows if r.scenario == scenario])
        wins = [c for c in cs if c.outcome == "win"]
        losses = [c for c in cs if c.outcome == "loss"]
        ranked = sorted((c for c in cs if c.ratios[WIN_METRIC] is not None),
                        key=lambda c: c.ratios[WIN_METRIC] or 0.0)
        cpu = [c.ratios["cpu_s_per_gib"] for c in cs if c.ratios["cpu_s_per_gib"] is not None]
        joule = [c.ratios["reclaim_j_per_gib"] for c in cs
                 if c.ratios["reclaim_j_per_gib"] is not None]
        win_cpu = [c.ratios["cpu_s_per_gib"] for c in wins
                   if c.ratios["cpu_s_per_gib"] is not None]
        kind = "measured" if measured else "simulated"

        def where(c: Comparison, varying: set[str] = varying) -> str:
            s = describe(c.group.setting, varying)
            return f"{c.group.config}" + (f" at {s}" if s != "—" else "")

        parts = [f"{scenario} ({kind}): offloading lowered allocstalls per reclaimed GiB by "
                 f"≥5% in "
                 f"{len(wins)} of {len(cs)} comparisons with the baseline and raised it in "
                 f"{len(losses)}."]
        if ranked:
            b = ranked[0]
            parts.append(f"Best: {where(b)}, allocstalls per GiB "
                         f"{_fmt_ratio(b.ratios[WIN_METRIC])} (per second "
                         f"{_fmt_ratio(b.ratios['allocstall_per_s'])}) and stall p99 "
                         f"{_fmt_ratio(b.ratios['stall_p99_us'])} the baseline's.")
            w = ranked[-1]
            if w is not b and w.outcome == "loss":
                parts.append(f"Worst: {where(w)}, allocstalls per GiB "
                             f"{_fmt_ratio(w.ratios[WIN_METRIC])}.")
        parts.append(f"Cost: reclaim CPU-seconds per reclaimed GiB {_median_range(cpu)} the "
                     f"baseline's over all comparisons"
                     + (f", {_median_range(win_cpu)} where it wins" if win_cpu else "")
                     + (f"; estimated reclaim energy per GiB {_median_range(joule)}."
                        if joule else "."))
        out.append({"scenario": scenario, "measured": measured, "comparisons": len(cs),
                    "wins": len(wins), "losses": len(losses),
                    "best": where(ranked[0]) if ranked else None,
                    "best_allocstall_ratio": ranked[0].ratios["allocstall_per_s"]
                    if ranked else None,
                    "best_allocstall_per_gib_ratio": ranked[0].ratios[WIN_METRIC]
                    if ranked else None,
                    "cpu_per_gib_ratio_median": statistics.median(cpu) if cpu else None,
                    "energy_per_gib_ratio_median": statistics.median(joule) if joule else None,
                    "text": " ".join(parts)})
    return out


__all__ = ["FIGURE_METRICS", "LABELS", "METRICS", "Comparison", "Group", "comparisons",
           "describe", "findings", "groups", "varying_keys"]
