"""Every report input as rows: sweep databases, and the JSON documents `simulate --json` and
`bench --json` print (one result, a comparison, or a bench series).

A row is one run. Its design is the offload design's name for simulated runs, and the
vm.kcompressd setting (or `kernel` without one) for measured runs; rows are compared with
their baseline: `none` for simulated runs, vm.kcompressd off (or unset) for measured ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcompressd.errors import KcompressdError
from kcompressd.report.energy import energy
from kcompressd.sweep.db import ResultsDB, is_sqlite
from kcompressd.sweep.engine import is_sysctl
from kcompressd.sweep.metrics import key_metrics, reclaim_cpu, reclaimed_gib

MEASURED_BASELINES = ("kernel", "vm.kcompressd=0")


@dataclass
class Row:
    origin: str
    measured: bool
    scenario: str
    design: str
    params: dict[str, Any]
    seed: int
    status: str = "ok"
    error: str | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)

    @property
    def design_params(self) -> dict[str, Any]:
        """The design's swept or fixed parameters (design.X keys)."""
        return {k[7:]: v for k, v in self.params.items() if k.startswith("design.")}

    @property
    def config(self) -> str:
        """The design with its parameters: one bar, one table line."""
        extra = " ".join(f"{k}={v}" for k, v in sorted(self.design_params.items()))
        return f"{self.design} {extra}".strip()

    @property
    def setting(self) -> dict[str, Any]:
        """Everything but the design: rows with equal settings are compared."""
        return {k: v for k, v in self.params.items() if k != "design"
                and not k.startswith("design.") and not (self.measured and is_sysctl(k))}

    @property
    def is_baseline(self) -> bool:
        """`none`; for measured runs, no kcompressd sysctl set, or vm.kcompressd=0 alone."""
        return self.design in MEASURED_BASELINES if self.measured else self.design == "none"


def metrics_of(result: dict[str, Any]) -> dict[str, float | None]:
    m = key_metrics(result)
    gib = reclaimed_gib(result)
    m.update(energy(result, reclaim_cpu(result), gib))
    stalls = (m["allocstall_per_s"] or 0.0) * (m["measured_s"] or 0.0)
    m["allocstall_per_gib"] = stalls / gib if gib > 0 else None
    return m


def _bench_design(kcompressd: Any) -> str:
    return "kernel" if kcompressd is None else f"vm.kcompressd={kcompressd}"


def rows_from_result(result: dict[str, Any], origin: str, seed: int | None = None,
                     design: str | None = None) -> Row:
    meta = result.get("meta", {})
    measured = meta.get("source") != "simulator"
    if measured:
        scenario = str(result.get("scenario", {}).get("name", "kernel-bench"))
        d = design or _bench_design(meta.get("kcompressd"))
    else:
        scenario = str(result.get("scenario", {}).get("name", "?"))
        d = design or str(meta.get("design", "?"))
    return Row(origin, measured, scenario, d, {}, int(seed if seed is not None
                                                        else meta.get("seed", 0) or 0),
               metrics=metrics_of(result))


def _load_json(path: Path) -> list[Row]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise KcompressdError(f"{path}: not a result JSON document ({e})") from None
    if not isinstance(doc, dict):
        raise KcompressdError(f"{path}: not a result JSON document (expected an object)")
    origin = path.name
    if "series" in doc:  # bench --repeat / --kcompressd A,B
        return [rows_from_result(r, origin, i, _bench_design(s.get("kcompressd")))
                for s in doc["series"] for i, r in enumerate(s.get("runs", []))]
    if "results" in doc and isinstance(doc["results"], dict):  # simulate --compare
        return [rows_from_result(r, origin, design=d) for d, r in doc["results"].items()]
    if {"vmstat", "rates", "cpu", "meta"} <= set(doc):
        return [rows_from_result(doc, origin)]
    raise KcompressdError(f"{path}: not a kcompressd result (no vmstat, rates, cpu, meta), "
                          "comparison or bench series")


def _load_db(path: Path) -> list[Row]:
    with ResultsDB(path, create=False) as db:
        raw = db.rows()
    rows = []
    for r in raw:
        result = r["result"]
        metrics = metrics_of(result) if result is not None else {}
        rows.append(Row(path.name, bool(r["measured"]), r["scenario"], r["design"] or "?",
                        r["params"], r["seed"], r["status"], r["error"], metrics))
    return rows


def load_inputs(paths: list[Path]) -> list[Row]:
    """Rows of every input, in order; an unreadable or foreign input is refused."""
    rows: list[Row] = []
    for p in paths:
        if p.is_dir():
            raise KcompressdError(f"{p}: is a directory, not a database or JSON file")
        if not p.exists():
            raise KcompressdError(f"{p}: no such file")
        rows += _load_db(p) if is_sqlite(p) else _load_json(p)
    return rows


__all__ = ["MEASURED_BASELINES", "Row", "load_inputs", "metrics_of", "rows_from_result"]
