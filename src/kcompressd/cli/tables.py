"""Rich tables for result documents (kcompressd.result.make_result) and their comparison.

Works on the result shape only, so simulator and real-kernel results render alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table

from kcompressd.backends.zram_stats import MM_STAT_FIELDS
from kcompressd.plot import thread_sort_key
from kcompressd.result import VMSTAT_COUNTERS

# Sections compared key by key; ratios are other / first.
RATIO_SECTIONS = ("vmstat", "rates", "cpu", "latency", "zram", "workload")
# A thread group with more threads than this is shown as one summed row.
_MAX_THREADS_SHOWN = 4
TIMES = "\N{MULTIPLICATION SIGN}"
_META_ROWS = ("simulated_seconds", "measured_seconds", "wall_seconds", "events", "seed")


def ratios(first: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """other / first for every numeric key the two share in RATIO_SECTIONS.

    None where the first is zero: there is no ratio to a nothing (JSON null).
    """
    out: dict[str, dict[str, Any]] = {}
    for section in RATIO_SECTIONS:
        a, b = first.get(section, {}), other.get(section, {})
        out[section] = {k: (None if a[k] == 0 else b[k] / a[k])
                        for k in a if k in b and _is_number(a[k]) and _is_number(b[k])}
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def fmt(v: Any) -> str:
    """Integers with separators, floats with about four significant digits."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return escape(str(v))
    if isinstance(v, int) or (abs(v) >= 1000 and float(v).is_integer()):
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def fmt_ratio(r: float | None) -> str:
    return "—" if r is None else f"{TIMES}{r:.2f}"


def cpu_rows(cpu_sections: Sequence[Mapping[str, float]]) -> list[tuple[str, list[str]]]:
    """(row label, thread names summed into it), threads in kernel order; groups of more
    than _MAX_THREADS_SHOWN numbered threads (eater0..eater31) collapse into one row."""
    names = sorted({n for cpu in cpu_sections for n in cpu}, key=thread_sort_key)
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(thread_sort_key(n)[1], []).append(n)
    rows: list[tuple[str, list[str]]] = []
    for prefix, members in groups.items():
        if len(members) > _MAX_THREADS_SHOWN:
            rows.append((f"{prefix}* ({len(members)} threads)", members))
        else:
            rows.extend((m, [m]) for m in members)
    return rows


def _zram_keys(results: Sequence[Mapping[str, Any]]) -> list[str]:
    present = {k for r in results for k in r.get("zram", {})}
    return [k for k in MM_STAT_FIELDS if k in present] + sorted(present - set(MM_STAT_FIELDS))


def _vmstat_keys(results: Sequence[Mapping[str, Any]]) -> list[str]:
    present = {k for r in results for k in r.get("vmstat", {})}
    return [k for k in VMSTAT_COUNTERS if k in present] + sorted(present - set(VMSTAT_COUNTERS))


def _workload_keys(results: Sequence[Mapping[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for r in results:
        keys.update((k, None) for k, v in r.get("workload", {}).items()
                    if _is_number(v) or isinstance(v, str))
    return list(keys)


def result_table(result: Mapping[str, Any], title: str = "") -> Table:
    """One result: counters with their rates, CPU per thread, stall latency, mm_stat, workload."""
    measured = result.get("meta", {}).get("measured_seconds", 0.0)
    table = Table(title=title or None, title_justify="left")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_column("per second", justify="right")
    for k in _vmstat_keys([result]):
        table.add_row(k, fmt(result["vmstat"][k]), fmt(result.get("rates", {}).get(k, "")))
    table.add_section()
    cpu = result.get("cpu", {})
    for label, members in cpu_rows([cpu]):
        seconds = sum(cpu[m] for m in members)
        share = f"{seconds / measured:.0%} CPU" if measured > 0 else ""
        table.add_row(f"cpu {label} (s)", fmt(seconds), share)
    table.add_section()
    latency = result.get("latency", {})
    for k, v in latency.items():
        if latency.get("count") or k == "count":
                table.add_row("stall count" if k == "count" else f"stall {k} (µs)", fmt(v), "")
    table.add_section()
    zram = result.get("zram", {})
    for k in _zram_keys([result]):
        table.add_row(f"zram {k}", fmt(zram[k]), "")
    workload_keys = _workload_keys([result])
    if workload_keys:
        table.add_section()
        for k in workload_keys:
            table.add_row(f"workload {k}", fmt(result["workload"][k]), "")
    meta = result.get("meta", {})
    if any(k in meta for k in _META_ROWS):
        table.add_section()
        for k in _META_ROWS:
            if k in meta:
                table.add_row(k, fmt(meta[k]), "")
    return table


def comparison_table(results: Mapping[str, Mapping[str, Any]], title: str = "") -> Table:
    """One column per labelled result; every column after the first carries its ratio to
    the first (x1.00 = same, — = the first is zero)."""
    labels = list(results)
    docs = list(results.values())
    first = docs[0]
    table = Table(title=title or None, title_justify="left")
    table.add_column("")
    for i, label in enumerate(labels):
        table.add_column(label if i == 0 else f"{label} ({TIMES}{labels[0]})", justify="right")

    def row(name: str, values: list[Any]) -> None:
        cells = [fmt(values[0]) if values[0] is not None else ""]
        for v in values[1:]:
            if v is None:
                cells.append("")
            elif _is_number(values[0]) and _is_number(v) and (values[0] or v):
                cells.append(f"{fmt(v)} [dim]{fmt_ratio(None if values[0] == 0 else v / values[0])}"
                             "[/dim]")
            else:
                cells.append(fmt(v))
        table.add_row(name, *cells)

    def get(section: str, key: str) -> list[Any]:
        return [d.get(section, {}).get(key) for d in docs]

    for k in _vmstat_keys(docs):
        if any(get("vmstat", k)):  # counters no run moved (pswpin in a pure swap-out run)
            row(f"{k}/s", get("rates", k))
    row("allocstall", get("vmstat", "allocstall"))
    table.add_section()
    cpus = [d.get("cpu", {}) for d in docs]
    for label, members in cpu_rows(cpus):
        row(f"cpu {label} (s)", [sum(c.get(m, 0.0) for m in members) if any(m in c for m in members)
                                 else None for c in cpus])
    row("cpu total (s)", [sum(c.values()) for c in cpus])
    table.add_section()
    stalls = any(get("latency", "count"))
    for k in first.get("latency", {}):
        if stalls or k == "count":
                row("stall count" if k == "count" else f"stall {k} (µs)", get("latency", k))
    table.add_section()
    for k in _zram_keys(docs):
        row(f"zram {k}", get("zram", k))
    workload_keys = _workload_keys(docs)
    if workload_keys:
        table.add_section()
        for k in workload_keys:
            row(f"workload {k}", get("workload", k))
    table.add_section()
    for k in _META_ROWS:
        values = get("meta", k)
        if any(v is not None for v in values) and k != "seed":
            row(k, values)
    return table
