import io
from typing import Any

from rich.console import Console

from kcompressd.cli.tables import (
    comparison_table,
    comparison_tables,
    cpu_per_gib,
    cpu_rows,
    fmt,
    kswapd_efficiency,
    ratios,
    result_table,
)
from kcompressd.result import make_result


def result(pgsteal: int, kcompressd: int, stalls: list[float],
           measured: float = 10.0) -> dict[str, Any]:
    cpu = {"kswapd0": 3.0, **{f"eater{i}": 1.0 for i in range(8)}}
    cpu.update({f"kcompressd{i}": 2.0 for i in range(kcompressd)})
    return make_result(
        source="simulator",
        vmstat={"pgsteal_anon": pgsteal, "pgsteal_kswapd": pgsteal, "allocstall": len(stalls)},
        measured_seconds=measured, cpu=cpu, latency_us=stalls,
        zram={"orig_data_size": 1 << 30, "compr_data_size": 1 << 28, "mem_used_total": 300 << 20},
        workload={"elapsed_seconds": 12.5}, scenario={"name": "phone-memeater"},
        meta={"seed": 0, "simulated_seconds": 12.0, "wall_seconds": 3.0, "events": 1000})


def render(table: Any) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


def test_ratios_against_first_and_null_for_zero() -> None:
    base, other = result(3_000_000, 0, []), result(4_500_000, 4, [10.0, 30.0])
    r = ratios(base, other)
    assert r["rates"]["pgsteal_anon"] == 1.5
    assert r["cpu"]["kswapd0"] == 1.0
    assert "kcompressd0" not in r["cpu"]  # the baseline has no such thread
    assert r["rates"]["allocstall"] is None  # no ratio to zero stalls
    assert r["zram"]["mem_used_total"] == 1.0


def test_result_table_shows_counters_rates_cpu_share_and_zram() -> None:
    text = render(result_table(result(3_000_000, 0, [10.0, 20.0])))
    assert "pgsteal_anon" in text and "3,000,000" in text and "300,000" in text
    assert "30% CPU" in text  # kswapd0: 3 s of 10 measured
    assert "stall p99 (µs)" in text
    used = next(line for line in text.splitlines() if "zram mem_used_total (MiB)" in line)
    assert used.split("│")[2].strip() == "300.0"  # bytes shown in MiB, 4 significant digits


def test_comparison_table_has_one_column_per_design_with_ratios() -> None:
    docs = {"none": result(3_000_000, 0, []), "kcompressd-v1": result(4_500_000, 4, [10.0])}
    text = render(comparison_table(docs))
    header = next(line for line in text.splitlines() if "none" in line)
    assert header.index("none") < header.index("kcompressd-v1")
    steal = next(line for line in text.splitlines() if line.startswith("│ pgsteal_anon/s"))
    assert "300,000" in steal and "450,000 \N{MULTIPLICATION SIGN}1.50" in steal
    assert "pswpin/s" not in text  # no run moved it


def test_cpu_rows_collapse_large_thread_groups_only() -> None:
    rows = cpu_rows([{"kswapd0": 1.0, "kswapd1": 1.0, **{f"eater{i}": 1.0 for i in range(8)}}])
    assert rows[:2] == [("kswapd0", ["kswapd0"]), ("kswapd1", ["kswapd1"])]
    assert rows[2][0] == "eater* (8 threads)" and len(rows[2][1]) == 8


def test_fmt() -> None:
    assert fmt(1234567) == "1,234,567"
    assert fmt(300000.4) == "300,000"
    assert fmt(0.0123456) == "0.01235"
    assert fmt(999.99) == "1,000"
    assert fmt("[x]") == "\\[x]"  # rich markup escaped


def test_optional_extras_compress_share_and_gauges() -> None:
    doc = result(1000, 0, [])
    doc["vmstat"]["nr_writeback"] = 256
    doc["rates"]["nr_writeback"] = 25.6
    doc["meta"]["cpu_split"] = {"kswapd0": {"compress_share": 0.7}}
    text = render(result_table(doc))
    share = next(line for line in text.splitlines() if "kswapd0 compress share" in line)
    assert "70%" in share
    gauge = next(line for line in text.splitlines() if "nr_writeback" in line)
    assert "(at end)" in gauge and "25.6" not in gauge  # a level has no rate


def test_comparison_cpu_is_utilisation_of_each_measured_span() -> None:
    """A run cut short (OOM kill) spent fewer CPU seconds but not less CPU: compare shares."""
    docs = {"none": result(1000, 0, []), "short": result(1000, 0, [], measured=5.0)}
    text = render(comparison_table(docs))
    kswapd = next(line for line in text.splitlines() if "kswapd0 cpu %" in line)
    assert kswapd.split("│")[2].strip() == "30.00"
    assert "60.00 \N{MULTIPLICATION SIGN}2.00" in kswapd


def test_wide_comparisons_split_into_tables_that_fit_each_with_the_baseline() -> None:
    docs = {"none": result(1000, 0, [])}
    docs.update({f"design-number-{i}": result(1000 + i, 4, [5.0]) for i in range(7)})
    tables = comparison_tables(docs, "", width=80)
    assert len(tables) > 1
    headers = [[c.header for c in t.columns[1:]] for t in tables]
    assert all(h[0] == "none" for h in headers)
    assert [d for h in headers for d in h[1:]] == list(docs)[1:]  # each once, in order
    console = Console(width=10_000, file=io.StringIO())
    assert all(console.measure(t).maximum <= 80 for t in tables)


def test_ratios_compare_cpu_as_utilisation_and_leave_configuration_out() -> None:
    base, short = result(1000, 0, []), result(1000, 0, [], measured=5.0)
    base["workload"]["threads"] = short["workload"]["threads"] = 1
    r = ratios(base, short)
    assert r["cpu"]["kswapd0"] == 2.0  # same seconds in half the span: twice the CPU
    assert "threads" not in r["workload"] and r["workload"]["elapsed_seconds"] == 1.0


def test_verdict_rows_first_with_ratio_colours() -> None:
    base = result(3_000_000, 0, [10.0, 30.0])
    base["vmstat"]["pgscan_kswapd"] = 6_000_000
    better = result(3_000_000, 4, [10.0])
    better["vmstat"]["pgscan_kswapd"] = 4_000_000
    gib = 3_000_000 * 4096 / (1 << 30)
    assert cpu_per_gib(base) == 3.0 / gib  # kswapd0; eaters are the workload
    assert cpu_per_gib(better) == (3.0 + 4 * 2.0) / gib
    assert kswapd_efficiency(base) == 0.5 and kswapd_efficiency(better) == 0.75
    table = comparison_table({"none": base, "v": better})
    labels = [table.columns[0]._cells[i] for i in range(5)]
    assert labels[0].startswith("workload elapsed (s)") and labels[4].startswith("kswapd eff")
    cells = table.columns[2]._cells
    assert "[green]" in cells[4] and "75.00%" in cells[4]  # efficiency up: better
    assert "[red]" in cells[3]  # more CPU per GiB: worse
