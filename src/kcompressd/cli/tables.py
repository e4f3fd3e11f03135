"""Rich tables for result documents (kcompressd.result.make_result) and their comparison.

Works on the result shape only, so simulator and real-kernel results render alike; optional
extras (meta.cpu_split) are shown when a producer supplies them.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kcompressd.backends.zram_stats import MM_STAT_FIELDS
from kcompressd.plot import thread_sort_key
from kcompressd.result import VMSTAT_COUNTERS

# Sections compared key by key; ratios are other / first.
RATIO_SECTIONS = ("vmstat", "rates", "cpu", "latency", "zram", "workload")
TIMES = "\N{MULTIPLICATION SIGN}"
# mm_stat fields counted in bytes (the others count pages); shown in MiB.
MM_STAT_BYTES = ("orig_data_size", "compr_data_size", "mem_used_total", "mem_limit",
                 "mem_used_max")
# A thread group with more threads than this is shown as one summed row.
_MAX_THREADS_SHOWN = 4
_META_ROWS = ("simulated_seconds", "measured_seconds", "wall_seconds", "events")
MIB = 1 << 20


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
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if not isinstance(v, int | float):
        return escape(str(v))
    if isinstance(v, int) or (abs(v) >= 1000 and float(v).is_integer()):
        return f"{int(v):,}"
    if abs(v) >= 999.5:  # what .4g would print as 1000
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


def _ordered(present: set[str], known: Sequence[str]) -> list[str]:
    return [k for k in known if k in present] + sorted(present - set(known))


def _is_gauge(counter: str) -> bool:
    """/proc/vmstat's nr_* entries are levels, not event counts: no rate."""
    return counter.startswith("nr_")


Row = tuple[str, list[Any], Callable[[Any], str]]


def _rows(docs: Sequence[Mapping[str, Any]]) -> list[list[Row]]:
    """The shared layout: sections of (label, one value per result, formatter).

    Rows no result moved are dropped, except the headline counters of a single result.
    """
    def get(section: str, key: str) -> list[Any]:
        return [d.get(section, {}).get(key) for d in docs]

    def moved(values: list[Any]) -> bool:
        return any(v not in (0, None) for v in values)

    single = len(docs) == 1
    sections: list[list[Row]] = []

    vm = _ordered({k for d in docs for k in d.get("vmstat", {})}, VMSTAT_COUNTERS)
    rows: list[Row] = []
    for k in vm:
        if not (moved(get("vmstat", k)) or (single and k in VMSTAT_COUNTERS)):
            continue
        if _is_gauge(k):
            rows.append((f"{k} (at end)", get("vmstat", k), fmt))
        elif single:
            rows.append((k, get("vmstat", k), fmt))
        else:
            rows.append((f"{k}/s", get("rates", k), fmt))
    if not single:
        rows.append(("allocstall (total)", get("vmstat", "allocstall"), fmt))
    sections.append(rows)

    cpus = [d.get("cpu", {}) for d in docs]
    seconds = [(label, [sum(c[m] for m in members if m in c) if any(m in c for m in members)
                        else None for c in cpus]) for label, members in cpu_rows(cpus)]
    seconds.append(("total", [sum(c.values()) for c in cpus]))
    if single:
        rows = [(f"{label} cpu (s)", values, fmt) for label, values in seconds]
    else:  # runs may measure different spans (one ends in an OOM kill): compare utilisation
        measured = [d.get("meta", {}).get("measured_seconds") or 0.0 for d in docs]
        rows = [(f"{label} cpu %",
                 [None if v is None or not m else 100.0 * v / m
                  for v, m in zip(values, measured, strict=True)], fmt)
                for label, values in seconds]
    splits = [d.get("meta", {}).get("cpu_split", {}) for d in docs]
    for name in sorted({n for s in splits for n in s}, key=thread_sort_key):
        shares = [s.get(name, {}).get("compress_share") for s in splits]
        if any(v is not None and v < 1.0 for v in shares):  # not a pure compressor
            rows.append((f"{name} compress share", shares, _percent))
    sections.append(rows)

    stalls = moved(get("latency", "count"))
    sections.append([("stall count" if k == "count" else f"stall {k} (µs)", get("latency", k),
                      fmt) for k in docs[0].get("latency", {}) if stalls or k == "count"])

    rows = []
    for k in _ordered({k for d in docs for k in d.get("zram", {})}, MM_STAT_FIELDS):
        values = get("zram", k)
        if not moved(values):
            continue
        if k in MM_STAT_BYTES:
            rows.append((f"zram {k} (MiB)", [None if v is None else v / MIB for v in values],
                         fmt))
        else:
            rows.append((f"zram {k}", values, fmt))
    sections.append(rows)

    keys: dict[str, None] = {}
    for d in docs:
        keys.update((k, None) for k, v in d.get("workload", {}).items()
                    if v is None or isinstance(v, int | float | str | bool))
    sections.append([(f"workload {k}", get("workload", k), fmt) for k in keys])

    sections.append([(k, get("meta", k), fmt) for k in _META_ROWS if moved(get("meta", k))])
    sections = [[r for r in rows if any(v is not None for v in r[1])] for rows in sections]
    return [s for s in sections if s]


def _percent(v: Any) -> str:
    return "—" if v is None else f"{v:.0%}"


def result_table(result: Mapping[str, Any], title: str = "") -> Table:
    """One result: counters with their rates, CPU per thread, stall latency, mm_stat, workload."""
    measured = result.get("meta", {}).get("measured_seconds", 0.0)
    rates = result.get("rates", {})
    table = Table(title=title or None, title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("per second", justify="right", no_wrap=True)
    for section in _rows([result]):
        for label, (value,), f in section:
            extra = ""
            if label in rates:
                extra = fmt(rates[label])
            elif label.endswith(" cpu (s)") and measured > 0 and _is_number(value):
                extra = f"{value / measured:.0%} CPU"
            table.add_row(label, f(value), extra)
        table.add_section()
    return table


def comparison_table(results: Mapping[str, Mapping[str, Any]], title: str = "") -> Table:
    """One column per labelled result; every column after the first carries its ratio to
    the first (x1.00 = same, — = the first is zero). Rows no result moved are left out."""
    labels = list(results)
    table = Table(title=title or None, title_justify="left")
    table.add_column("", no_wrap=True)
    for label in labels:
        table.add_column(escape(label), justify="right", no_wrap=True)
    for section in _rows(list(results.values())):
        for label, values, f in section:
            base = values[0]
            cells = [f(base)]
            for v in values[1:]:
                if f is fmt and _is_number(base) and _is_number(v) and (base or v):
                    cells.append(f"{f(v)} [dim]{fmt_ratio(None if base == 0 else v / base)}"
                                 "[/dim]")
                else:
                    cells.append(f(v))
            table.add_row(label, *cells)
        table.add_section()
    return table


def comparison_tables(results: Mapping[str, Mapping[str, Any]], title: str,
                      width: int) -> list[Table]:
    """The comparison cut into tables that fit `width` columns of text, each repeating the
    first result (the one ratios refer to): eight designs stay readable on a terminal."""
    console = Console(width=10_000, file=io.StringIO())
    labels = list(results)
    first, rest = labels[0], labels[1:]

    def build(chunk: list[str]) -> Table:
        return comparison_table({k: results[k] for k in (first, *chunk)}, title)

    tables: list[Table] = []
    chunk: list[str] = []
    for label in rest:
        if chunk and console.measure(build([*chunk, label])).maximum > width:
            tables.append(build(chunk))
            chunk = []
        chunk.append(label)
    tables.append(build(chunk))
    return tables
