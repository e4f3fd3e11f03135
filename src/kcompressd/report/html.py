"""The page: findings first, then per scenario the designs side by side (figure and tables),
the curves against each swept parameter, failed runs, and the energy model's assumptions.

No script, no external stylesheet, font or image: the page renders the same offline, and
there is nothing in it that could log a console error.
"""

from __future__ import annotations

import html
import time
from collections import defaultdict
from typing import Any

from kcompressd import __version__
from kcompressd.report import energy
from kcompressd.report.analysis import (
    METRICS,
    Comparison,
    Group,
    describe,
    setting_key,
    varying_keys,
)
from kcompressd.report.load import Row

GENERATOR = f"kcompressd report {__version__}"
CSS = """
body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:2em auto;
max-width:1180px;padding:0 1em;color:#1a1a1a;background:#fff}
h1{font-size:1.6em}h2{border-bottom:2px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.8em;display:block;overflow-x:auto}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right;white-space:nowrap}
th{background:#f0f0f0}td.l,th.l{text-align:left}
tr.measured td{background:#fff6d8}tr.baseline td{background:#eef4ff}
.badge{font-size:.75em;padding:0 .4em;border-radius:.4em;background:#e6a700;color:#fff}
.sim{background:#4a78c2}.win{color:#0a7d20;font-weight:600}.loss{color:#b3261e;font-weight:600}
.findings li{margin:.4em 0}.note{color:#666;font-size:.85em}td .note{font-size:.8em}
figure{margin:1em 0}
figure svg{max-width:100%;height:auto}.err{color:#b3261e;white-space:normal;text-align:left}
"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def _num(x: float | None) -> str:
    if x is None:
        return "\u2013"
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1e5:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def _cell(g: Group, metric: str, base: Group | None) -> str:
    s = g.stat(metric)
    if s.median is None:
        return "<td>\u2013</td>"
    spread = f"{_num(s.lo)}\u2013{_num(s.hi)}" if s.n > 1 and s.lo != s.hi else ""
    rat = ""
    if base is not None and base is not g:
        b = base.stat(metric).median
        if b:
            rat = f" {s.median / b:.2f}\u00d7"
    sub = f"<br><span class=note>{spread}{rat}</span>" if spread or rat else ""
    return f"<td>{_num(s.median)}{sub}</td>"


def _ratio(x: float | None) -> str:
    return "\u2013" if x is None else f"{x:.2f}\u00d7"


def _kind(measured: bool) -> str:
    return "<span class=badge>measured</span>" if measured else \
        "<span class='badge sim'>simulated</span>"


def side_by_side(gs: list[Group], varying: set[str]) -> str:
    """One table per setting: rows are designs, cells median (min-max over seeds) and the
    ratio to the baseline of the same setting and kind."""
    out = []
    by_setting: dict[str, list[Group]] = defaultdict(list)
    for g in gs:
        by_setting[setting_key(g.setting)].append(g)
    for members in by_setting.values():
        setting = describe(members[0].setting, varying)
        bases = {g.measured: g for g in members if g.baseline}
        head = "".join(f"<th>{_e(label)}</th>" for _, label, _ in METRICS)
        body = []
        for g in members:
            cls = "measured" if g.measured else "baseline" if g.baseline else ""
            body.append(f"<tr class='{cls}'><td class=l>{_e(g.config)}</td>"
                        f"<td class=l>{_kind(g.measured)}</td><td>{len(g.rows)}</td>"
                        + "".join(_cell(g, m, bases.get(g.measured)) for m, _, _ in METRICS)
                        + "</tr>")
        out.append(f"<h4>{_e(setting)}</h4><table><tr><th class=l>design</th>"
                   f"<th class=l>kind</th><th>seeds</th>{head}</tr>{''.join(body)}</table>")
    return "\n".join(out)


def comparison_table(cs: list[Comparison], varying: set[str]) -> str:
    if not cs:
        return "<p class=note>No design has a baseline run at the same setting.</p>"
    keys = ("allocstall_per_s", "stall_p99_us", "pgsteal_kswapd_per_s", "cpu_s_per_gib",
            "reclaim_j_per_gib")
    labels = {m: label for m, label, _ in METRICS}
    rows = []
    for c in cs:
        cells = "".join(f"<td>{_ratio(c.ratios[k])}</td>" for k in keys)
        rows.append(f"<tr class='{'measured' if c.group.measured else ''}'>"
                    f"<td class=l>{_e(c.group.config)}</td>"
                    f"<td class=l>{_e(describe(c.group.setting, varying))}</td>"
                    f"<td class='l {c.outcome}'>{c.outcome}</td>{cells}</tr>")
    head = "".join(f"<th>{_e(labels[k])} ratio</th>" for k in keys)
    return (f"<table><tr><th class=l>design</th><th class=l>setting</th><th class=l>outcome"
            f"</th>{head}</tr>{''.join(rows)}</table>")


def failed_table(rows: list[Row]) -> str:
    bad = [r for r in rows if r.status != "ok"]
    if not bad:
        return ""
    body = "".join(f"<tr><td class=l>{_e(r.scenario)}</td><td class=l>{_e(r.config)}</td>"
                   f"<td class=l>{_e(describe(r.setting))}</td><td>{r.seed}</td>"
                   f"<td class=err>{_e(r.error)}</td></tr>" for r in bad)
    return (f"<h2>Failed runs ({len(bad)})</h2><table><tr><th class=l>scenario</th>"
            f"<th class=l>design</th><th class=l>setting</th><th>seed</th>"
            f"<th class=l>error</th></tr>{body}</table>")


def page(*, inputs: list[str], rows: list[Row], findings: list[dict[str, Any]],
         scenarios: list[dict[str, Any]]) -> str:
    """scenarios: [{"name", "groups", "comparisons", "bars": (svg, note), "curves":
    [(param, svg, note)]}]."""
    ok = sum(r.status == "ok" for r in rows)
    measured = sum(r.measured for r in rows)
    parts = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
             f"<meta name=generator content='{_e(GENERATOR)}'>"
             f"<title>kcompressd report</title><style>{CSS}</style></head><body>",
             "<h1>kcompressd: where offloading wins and what it costs</h1>",
             f"<p class=note>{ok} runs ({len(rows) - measured} simulated, {measured} measured; "
             f"{len(rows) - ok} failed) from {_e(', '.join(inputs))}. Generated "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by {_e(GENERATOR)}. "
             "Cells are medians over seeds with (min\u2013max) and the ratio to the baseline "
             "(<code>none</code> for simulated runs, vm.kcompressd off for measured ones) at "
             "the same setting; <span class=badge>measured</span> rows are real kernels, "
             "shaded yellow, hatched in bars and dashed in curves.</p>",
             "<h2>Where offloading wins and what it costs</h2><ul class=findings>"]
    parts += [f"<li>{_e(f['text'])}</li>" for f in findings] or \
        ["<li>No design could be compared with a baseline at the same setting.</li>"]
    parts.append("</ul><p class=note>A design wins where its median allocstall/s is at least "
                 "5% below the baseline's (allocating tasks falling into direct reclaim is "
                 "what offloading is meant to prevent), loses where it is at least 5% above. "
                 "Costs are reclaim CPU-seconds per reclaimed GiB and the estimated reclaim "
                 "energy per GiB (model below).</p>")
    for sc in scenarios:
        varying = varying_keys([r for r in rows if r.scenario == sc["name"]])
        parts.append(f"<h2 id='{_e(sc['name'])}'>{_e(sc['name'])}</h2>")
        svg, note = sc["bars"]
        parts.append(f"<figure>{svg}</figure>")
        if note:
            parts.append(f"<p class=note>{_e(note)}</p>")
        parts.append("<h3>Against the baseline</h3>")
        parts.append(comparison_table(sc["comparisons"], varying))
        parts.append("<h3>Designs side by side</h3>")
        parts.append(side_by_side(sc["groups"], varying))
        for param, svg, note in sc["curves"]:
            parts.append(f"<h3>Against {_e(param)}</h3><figure>{svg}</figure>")
            if note:
                parts.append(f"<p class=note>{_e(note)}</p>")
    parts.append(failed_table(rows))
    parts.append(
        "<h2>Energy model (assumptions)</h2><p>Estimated energy = busy seconds on big cores \u00d7 "
        f"{energy.BIG_W:.3f} W + busy seconds on little cores \u00d7 {energy.LITTLE_W:.3f} W. "
        f"Source: {_e(energy.SOURCE)}. Only busy time counts (idle, cluster, memory and "
        "uncore power are left out); each core is charged the busy time the simulator "
        "recorded for it (results made before it did so: busy time packed onto the big "
        "cores first, the rest charged to little ones); reclaim energy is reclaim CPU at the "
        "run's mean power per busy second. Measured rows get no estimate. Reclaim CPU is "
        "every non-workload thread's CPU plus, in simulated runs, the direct-reclaim time of "
        "the workload's threads.</p></body></html>")
    return "\n".join(parts)


__all__ = ["GENERATOR", "page"]
