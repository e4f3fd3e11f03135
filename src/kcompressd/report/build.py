"""Rows to the report's files: index.html, summary.json (the findings and comparisons as
data) and figures/*.svg (the page's figures, also as files for documents)."""

from __future__ import annotations

import json
import re
from typing import Any

from kcompressd.report.analysis import comparisons, findings, groups, varying_keys
from kcompressd.report.figures import bars, curves
from kcompressd.report.html import page
from kcompressd.report.load import Row


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def _numeric(rows: list[Row], key: str) -> bool:
    vals = [r.params[key] for r in rows if key in r.params]
    return bool(vals) and all(isinstance(v, int | float) and not isinstance(v, bool)
                              for v in vals)


def tied(rows: list[Row], p: str, q: str) -> bool:
    """Whether q's value follows from p's in every row that has p (swept together)."""
    seen: dict[str, str] = {}
    for r in rows:
        if p in r.params:
            if q not in r.params:
                return False
            a, b = json.dumps(r.params[p]), json.dumps(r.params[q])
            if seen.setdefault(a, b) != b:
                return False
    return bool(seen)


def build(rows: list[Row], inputs: list[str]) -> tuple[dict[str, bytes], dict[str, Any]]:
    """(files, summary)."""
    gs = groups(rows)
    comps = comparisons(gs)
    found = findings(comps, rows)
    files: dict[str, bytes] = {}
    scenarios = []
    for name in dict.fromkeys(g.scenario for g in gs):
        sg = [g for g in gs if g.scenario == name]
        srows = [r for r in rows if r.scenario == name]
        varying = varying_keys(srows)
        bar = bars(name, sg, varying)
        files[f"figures/{_slug(name)}-designs.svg"] = bar[0].encode()
        cur = []
        order = list(dict.fromkeys(k for r in srows for k in r.params))  # as in the grid
        params = [k for k in order if k in varying and k != "design" and _numeric(srows, k)]
        for i, param in enumerate(params):
            if any(tied(srows, q, param) and tied(srows, param, q) for q in params[:i]):
                continue  # the same curve as an earlier parameter's
            ties = frozenset(q for q in params if q != param and tied(srows, param, q))
            svg, note = curves(name, param, sg, varying, ties)
            files[f"figures/{_slug(name)}-{_slug(param)}.svg"] = svg.encode()
            cur.append((param, svg, note))
        scenarios.append({"name": name, "groups": sg,
                          "comparisons": [c for c in comps if c.group.scenario == name],
                          "bars": bar, "curves": cur})
    summary = {
        "inputs": inputs,
        "runs": len(rows),
        "ok": sum(r.status == "ok" for r in rows),
        "failed": sum(r.status != "ok" for r in rows),
        "measured": sum(r.measured for r in rows),
        "scenarios": [s["name"] for s in scenarios],
        "findings": found,
        "comparisons": [{"scenario": c.group.scenario, "measured": c.group.measured,
                         "design": c.group.config, "setting": c.group.setting,
                         "outcome": c.outcome, "ratios": c.ratios} for c in comps],
        "figures": sorted(files),
    }
    files["index.html"] = page(inputs=inputs, rows=rows, findings=found,
                               scenarios=scenarios).encode()
    files["summary.json"] = json.dumps(summary, indent=2).encode()
    return files, summary


__all__ = ["build"]
