import os
import subprocess
import sys

import pytest
from rich.console import Console

from kcompressd.cli.bench import (
    parse_settings,
    parse_size,
    print_doc,
    reclaim_view,
    setting_label,
    summary_table,
)
from kcompressd.errors import KcompressdError
from kcompressd.kernel import zram
from kcompressd.kernel.bench import summarize


def test_parse_size_and_settings() -> None:
    assert parse_size("auto") is None
    assert parse_size("6.5") == 6.5
    assert parse_settings("0,24,256") == (0, 24, 256)
    assert parse_settings(None) == ()
    with pytest.raises(KcompressdError, match="comma-separated integers"):
        parse_settings("0,many")


def test_summary_table_shows_each_setting_side_by_side() -> None:
    def run(v: float) -> dict:
        return {"rates": {"pgsteal_kswapd": v}, "cpu": {"kswapd0": 2.0}, "latency": {"p99": 5.0}}

    doc = {"series": [{"kcompressd": k, "runs": [run(v), run(v * 1.1)],
                       "summary": summarize([run(v), run(v * 1.1)])}
                      for k, v in ((0, 1000.0), (24, 2000.0))]}
    console = Console(width=200, record=True)
    console.print(summary_table(doc))
    text = console.export_text()
    assert "kcompressd=0" in text and "kcompressd=24" in text
    assert "1,050.0 ±9.5%" in text and "2,100.0 ±9.5%" in text


def test_settings_of_several_knobs_are_labelled_by_knob() -> None:
    assert setting_label({}) == "default"
    assert setting_label({"vm.kcompressd": 24, "vm.kcompressd_threads": 2,
                          "vm.kcompressd_overflow": 1}) == "kcompressd=24 threads=2 overflow=1"


@pytest.mark.skipif(os.geteuid() != 0 or not zram.zram_available(), reason="needs root and zram")
def test_dry_run_prints_the_plan_table() -> None:
    out = subprocess.run([sys.executable, "-m", "kcompressd", "bench", "--dry-run"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for row in ("hugepage balloon", "memory left in play", "workload", "zram", "safety floor"):
        assert row in out.stdout


def test_reclaim_view_keeps_reclaim_counters_only() -> None:
    vm = {"pgsteal_kswapd": 5, "allocstall": 2, "allocstall_normal": 2, "numa_hit": 9,
          "pgfault": 7, "kswapd_inodesteal": 1}
    result = {"vmstat": vm, "rates": {k: v / 2 for k, v in vm.items()}, "cpu": {}}
    view = reclaim_view(result)
    assert set(view["vmstat"]) == set(view["rates"]) == {
        "pgsteal_kswapd", "allocstall", "allocstall_normal", "kswapd_inodesteal"}
    assert result["vmstat"] == vm  # the document itself is untouched


def test_print_doc_renders_a_series_and_flags_early_stops(capsys: pytest.CaptureFixture) -> None:
    from kcompressd.result import make_result

    def result(steal: int, stopped: str) -> dict:
        return make_result(source="kernel", vmstat={"pgsteal_kswapd": steal, "numa_hit": 1},
                           measured_seconds=10.0, cpu={"kswapd0": 5.0}, latency_us=[1.0, 2.0],
                           zram={"orig_data_size": 8192}, workload={"stopped_early": stopped},
                           scenario={}, meta={})

    runs = [result(1000, ""), result(2000, "safety floor: headroom 0.5 GiB < 1.2 GiB")]
    print_doc({"series": [{"kcompressd": None, "runs": runs, "summary": summarize(runs)}]})
    out, err = capsys.readouterr()
    assert "pgsteal_kswapd/s" in out and "numa_hit" not in out
    assert "default #1 stopped early: safety floor" in err
