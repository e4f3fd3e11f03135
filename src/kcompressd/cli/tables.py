"""Rich tables for result documents (kcompressd.result.make_result) and their comparison.

A verdict block comes first: what a kernel engineer asks of a design before anything else
(did the workload finish sooner, did direct reclaim and its stall tail go down, how much CPU
did a reclaimed GiB cost, how efficient was kswapd's scanning), each row with the direction
that is better. Then the kernel's counters, CPU per thread, stall latency, mm_stat, the workload
and the run's bookkeeping. Configuration and bookkeeping rows carry no ratio; every number of a
row is printed with the same decimals (four significant digits of the row's largest).

Works on the result shape only, so simulator and real-kernel results render alike; optional
extras (meta.cpu_split) are shown when a producer supplies them. With several seeds a column
holds each seed's result and cells show the mean ± the standard deviation over the seeds.
"""

from __future__ import annotations

import io
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kcompressd.backends.zram_stats import MM_STAT_FIELDS
from kcompressd.plot import thread_sort_key
from kcompressd.result import NUMERIC_SECTIONS, VMSTAT_COUNTERS
from kcompressd.sweep.metrics import reclaim_cpu, reclaimed_gib

TIMES = "\N{MULTIPLICATION SIGN}"
LOWER, HIGHER = "\N{DOWNWARDS ARROW}", "\N{UPWARDS ARROW}"
# mm_stat fields counted in bytes (the others count pages); shown in MiB.
MM_STAT_BYTES = ("orig_data_size", "compr_data_size", "mem_used_total", "mem_limit",
                 "mem_used_max")
# Settings, not outcomes: shown, never compared.
CONFIG_KEYS = {"workload": ("threads",)}
# A thread group with more threads than this is shown as one summed row.
_MAX_THREADS_SHOWN = 4
_META_ROWS = ("simulated_seconds", "measured_seconds", "wall_seconds", "events")
MIB = 1 << 20
_SIGNIFICANT = 4

Doc = Mapping[str, Any]


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def measured_seconds(doc: Doc) -> float:
    return doc.get("meta", {}).get("measured_seconds") or 0.0


def ratios(first: Doc, other: Doc) -> dict[str, dict[str, Any]]:
    """other / first for every numeric key the two share in the compared sections.

    CPU is compared as utilisation (CPU-seconds per measured second), as the table shows it:
    a run cut short by the OOM killer spent fewer seconds but not less CPU. None where the
    first is zero: there is no ratio to a nothing (JSON null). Configuration is not compared.
    """
    span_a, span_b = measured_seconds(first), measured_seconds(other)
    out: dict[str, dict[str, Any]] = {}
    for section in NUMERIC_SECTIONS:
        a, b = first.get(section, {}), other.get(section, {})
        config = CONFIG_KEYS.get(section, ())
        sec: dict[str, Any] = {}
        for k in a:
            if k in config or k not in b or not (_is_number(a[k]) and _is_number(b[k])):
                continue
            x, y = a[k], b[k]
            if section == "cpu" and span_a > 0 and span_b > 0:
                x, y = x / span_a, y / span_b
            sec[k] = None if x == 0 else y / x
        out[section] = sec
    return out


def cpu_per_gib(doc: Doc) -> float | None:
    """Reclaim CPU-seconds per GiB reclaimed, as sweeps and reports count them
    (`sweep.metrics`: every thread but the workload's, plus its own direct reclaim)."""
    gib = reclaimed_gib(dict(doc))
    return reclaim_cpu(dict(doc)) / gib if gib > 0 else None


def kswapd_efficiency(doc: Doc) -> float | None:
    """pgsteal_kswapd / pgscan_kswapd: mmtests' "kswapd efficiency"."""
    vm = doc.get("vmstat", {})
    scanned = vm.get("pgscan_kswapd", 0)
    return vm.get("pgsteal_kswapd", 0) / scanned if scanned else None


@dataclass(frozen=True)
class Row:
    """One table row: how to get its value from a result, and how to show and compare it."""

    label: str
    get: Callable[[Doc], Any]
    kind: str = "number"  # number | percent (compared) | share | config (shown as they are)
    better: int = 0  # -1: lower is better, +1: higher is better (the verdict rows)
    extra: Callable[[Doc], str] | None = None  # the single-result table's third column

    @property
    def compared(self) -> bool:
        return self.kind in ("number", "percent")


def _verdict_rows() -> list[Row]:
    return [
        Row(f"workload elapsed (s) {LOWER}",
            lambda d: d.get("workload", {}).get("elapsed_seconds"), better=-1),
        Row(f"allocstall/s {LOWER}", lambda d: d.get("rates", {}).get("allocstall"),
            better=-1),
        Row(f"stall p99 (µs) {LOWER}", lambda d: d.get("latency", {}).get("p99"), better=-1),
        Row(f"reclaim CPU-s per GiB {LOWER}", cpu_per_gib, better=-1),
        Row(f"kswapd efficiency {HIGHER}", kswapd_efficiency, kind="percent", better=1),
    ]


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


def _field(section: str, key: str, scale: float = 1.0) -> Callable[[Doc], Any]:
    def get(d: Doc) -> Any:
        v = d.get(section, {}).get(key)
        return v * scale if _is_number(v) and scale != 1.0 else v
    return get


def _cpu_sum(members: list[str], per_measured: bool) -> Callable[[Doc], Any]:
    def get(d: Doc) -> Any:
        cpu = d.get("cpu", {})
        if not any(m in cpu for m in members):
            return None
        seconds = sum(cpu[m] for m in members if m in cpu)
        if not per_measured:
            return seconds
        span = measured_seconds(d)
        return 100.0 * seconds / span if span else None
    return get


def _share(name: str) -> Callable[[Doc], Any]:
    return lambda d: d.get("meta", {}).get("cpu_split", {}).get(name, {}).get("compress_share")


def _rows(docs: Sequence[Doc]) -> list[list[Row]]:
    """The shared layout: sections of rows. Rows no result moved are dropped, except the
    verdict and the headline counters of a single result."""
    def moved(get: Callable[[Doc], Any]) -> bool:
        return any(get(d) not in (0, None) for d in docs)

    single = len(docs) == 1
    sections: list[list[Row]] = [_verdict_rows()]

    rows: list[Row] = []
    vm = _ordered({k for d in docs for k in d.get("vmstat", {})}, VMSTAT_COUNTERS)
    for k in vm:
        if not (moved(_field("vmstat", k)) or (single and k in VMSTAT_COUNTERS)):
            continue
        if _is_gauge(k):
            rows.append(Row(f"{k} (at end)", _field("vmstat", k)))
        elif single:
            rows.append(Row(k, _field("vmstat", k),
                            extra=lambda d, k=k: _format([d.get("rates", {}).get(k)])[0]))
        else:
            rows.append(Row(f"{k}/s", _field("rates", k)))
    if not single:
        rows.append(Row("allocstall (total)", _field("vmstat", "allocstall")))
    sections.append(rows)

    rows = []
    groups = [*cpu_rows([d.get("cpu", {}) for d in docs]),
              ("total", sorted({n for d in docs for n in d.get("cpu", {})}))]
    for label, members in groups:
        if single:
            rows.append(Row(f"{label} cpu (s)", _cpu_sum(members, False),
                            extra=lambda d, m=members: _cpu_share(d, m)))
        else:  # runs may measure different spans (one ends in an OOM kill): utilisation
            rows.append(Row(f"{label} cpu %", _cpu_sum(members, True)))
    splits = [d.get("meta", {}).get("cpu_split", {}) for d in docs]
    for name in sorted({n for s in splits for n in s}, key=thread_sort_key):
        shares = [s.get(name, {}).get("compress_share") for s in splits]
        if any(v is not None and v < 1.0 for v in shares):  # not a pure compressor
            rows.append(Row(f"{name} compress share", _share(name), kind="share"))
    sections.append(rows)

    stalls = moved(_field("latency", "count"))
    sections.append([Row("stall count" if k == "count" else f"stall {k} (µs)",
                         _field("latency", k))
                     for k in docs[0].get("latency", {}) if stalls or k == "count"])

    rows = []
    for k in _ordered({k for d in docs for k in d.get("zram", {})}, MM_STAT_FIELDS):
        if not moved(_field("zram", k)):
            continue
        if k in MM_STAT_BYTES:
            rows.append(Row(f"zram {k} (MiB)", _field("zram", k, 1 / MIB)))
        else:
            rows.append(Row(f"zram {k}", _field("zram", k)))
    sections.append(rows)

    keys: dict[str, None] = {}
    for d in docs:
        keys.update((k, None) for k, v in d.get("workload", {}).items()
                    if v is None or isinstance(v, int | float | str | bool))
    config = CONFIG_KEYS["workload"]
    sections.append([Row(f"workload {k}", _field("workload", k),
                         kind="config" if k in config or not _numeric_anywhere(docs, k)
                         else "number") for k in keys])

    sections.append([Row(k, _field("meta", k), kind="config") for k in _META_ROWS
                     if moved(_field("meta", k))])
    sections = [[r for r in rows if any(r.get(d) is not None for d in docs)]
                for rows in sections]
    return [s for s in sections if s]


def _numeric_anywhere(docs: Sequence[Doc], key: str) -> bool:
    return any(_is_number(d.get("workload", {}).get(key)) for d in docs)


def _cpu_share(doc: Doc, members: list[str]) -> str:
    span = measured_seconds(doc)
    seconds = _cpu_sum(members, False)(doc)
    return f"{seconds / span:.0%} CPU" if span > 0 and _is_number(seconds) else ""


def _decimals(values: Sequence[Any]) -> int:
    """Decimals that give the row's largest number _SIGNIFICANT significant digits."""
    numbers = [abs(v) for v in values if _is_number(v) and v != 0]
    if not numbers or all(isinstance(v, int) for v in values if _is_number(v)):
        return 0
    top = float(f"{max(numbers):.{_SIGNIFICANT}g}")  # 999.99 rounds to 1000: no decimals
    return max(0, _SIGNIFICANT - 1 - math.floor(math.log10(top)))


def _format(values: Sequence[Any], spreads: Sequence[float | None] | None = None,
            percent: bool = False) -> list[str]:
    """A row's values, numbers with the same decimals (and ± spread when given)."""
    if percent:
        values = [100.0 * v if _is_number(v) else v for v in values]
        spreads = [None if s is None else 100.0 * s for s in spreads] if spreads else None
    decimals = _decimals(values)
    out = []
    for i, v in enumerate(values):
        if v is None:
            out.append("—")
        elif isinstance(v, bool):
            out.append("yes" if v else "no")
        elif not _is_number(v):
            out.append(escape(str(v)))
        else:
            text = f"{v:,.{decimals}f}" + ("%" if percent else "")
            spread = spreads[i] if spreads else None
            if spread is not None:
                text += f" ±{spread:,.{decimals}f}"
            out.append(text)
    return out


def fmt(v: Any) -> str:
    """One value as a table prints it: integers exact with separators, floats with four
    significant digits."""
    return _format([v])[0]


def fmt_ratio(r: float | None) -> str:
    return "—" if r is None else f"{TIMES}{r:.2f}"


def _ratio_cell(r: float | None, better: int) -> str:
    """The ratio to the baseline, green when it goes the better way, red when the worse."""
    text = fmt_ratio(r)
    if r is None or not better or r == 1.0:
        return f"[dim]{text}[/dim]"
    good = (r < 1.0) == (better < 0)
    return f"[{'green' if good else 'red'}]{text}[/]"


def _cells(row: Row, groups: Sequence[Sequence[Doc]]) -> list[str]:
    """The row's cells for one column per design (each a list of per-seed results): the mean
    over seeds, ± their standard deviation when there are several, ratios to the first."""
    per_seed = [[row.get(d) for d in g] for g in groups]
    values: list[Any] = []
    spreads: list[float | None] = []
    for vs in per_seed:
        if all(_is_number(v) for v in vs):
            values.append(statistics.fmean(vs) if len(vs) > 1 else vs[0])
            spreads.append(statistics.stdev(vs) if len(vs) > 1 else None)
        else:
            values.append(None if len(vs) > 1 and any(_is_number(v) for v in vs) else vs[0])
            spreads.append(None)
    if row.kind == "share":
        return ["—" if v is None else f"{v:.0%}" for v in values]
    texts = _format(values, spreads, percent=row.kind == "percent")
    base = values[0]
    for i, v in enumerate(values[1:], 1):
        if row.compared and _is_number(base) and _is_number(v) and (base or v):
            texts[i] += " " + _ratio_cell(None if base == 0 else v / base, row.better)
    return texts


def result_table(result: Doc, title: str = "", caption: str = "") -> Table:
    """One result: the verdict, counters with their rates, CPU per thread, stall latency,
    mm_stat, workload."""
    table = Table(title=title or None, title_justify="left", caption=caption or None,
                  caption_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("per second", justify="right", no_wrap=True)
    for section in _rows([result]):
        for row in section:
            (value,) = _cells(row, [[result]])
            table.add_row(row.label, value, row.extra(result) if row.extra else "")
        table.add_section()
    return table


def comparison_table(results: Mapping[str, Doc | Sequence[Doc]], title: str = "",
                     caption: str = "") -> Table:
    """One column per labelled result (or list of per-seed results); every column after the
    first carries its ratio to the first (x1.00 = same, — = the first is zero), green where
    a verdict row went the better way. Rows no result moved are left out."""
    labels = list(results)
    groups = [[r] if isinstance(r, Mapping) else list(r) for r in results.values()]
    table = Table(title=title or None, title_justify="left", caption=caption or None,
                  caption_justify="left")
    table.add_column("", no_wrap=True)
    for label in labels:
        table.add_column(escape(label), justify="right", no_wrap=True)
    for section in _rows([g[0] for g in groups]):
        for row in section:
            table.add_row(row.label, *_cells(row, groups))
        table.add_section()
    return table


def comparison_tables(results: Mapping[str, Doc | Sequence[Doc]], title: str, width: int,
                      caption: str = "") -> list[Table]:
    """The comparison cut into tables that fit `width` columns of text, each repeating the
    first result (the one ratios refer to): eight designs stay readable on a terminal. The
    caption goes under the last."""
    console = Console(width=10_000, file=io.StringIO())
    labels = list(results)
    first, rest = labels[0], labels[1:]

    def build(chunk: list[str], caption: str = "") -> Table:
        return comparison_table({k: results[k] for k in (first, *chunk)}, title, caption)

    chunks: list[list[str]] = []
    chunk: list[str] = []
    for label in rest:
        if chunk and console.measure(build([*chunk, label])).maximum > width:
            chunks.append(chunk)
            chunk = []
        chunk.append(label)
    chunks.append(chunk)
    return [build(c, caption if i == len(chunks) - 1 else "") for i, c in enumerate(chunks)]
