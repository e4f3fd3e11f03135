"""kind = "bench" grids: real runs of `kcompressd bench`, stored like simulated ones but marked
measured. The real run needs root and zram and runs only where they exist (3 s measured)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import KERNEL
from kcompressd.errors import KcompressdError
from kcompressd.report.build import build
from kcompressd.report.load import load_inputs
from kcompressd.sweep.db import ResultsDB
from kcompressd.sweep.engine import run_sweep
from kcompressd.sweep.grid import load_grid
from kcompressd.sweep.runner import check_bench_points
from sweep_grids import write_grid


def test_bench_grid_keys_are_bench_options(tmp_path: Path) -> None:
    grid = write_grid(tmp_path, 'kind = "bench"\n[grid]\nwarp = [1, 2]\n')
    with pytest.raises(KcompressdError, match=r"warp: not a bench option; valid: .*duration"):
        load_grid(grid, check_bench=check_bench_points)
    grid = write_grid(tmp_path, 'kind = "bench"\n[set]\njson = true\n')
    with pytest.raises(KcompressdError, match="json: not a bench option"):
        load_grid(grid, check_bench=check_bench_points)


@KERNEL[0]
@KERNEL[1]
@KERNEL[2]
def test_a_bench_point_is_a_measured_row_beside_simulated_ones(tmp_path: Path) -> None:
    grid = write_grid(tmp_path, 'kind = "bench"\nseeds = [0]\n[set]\nduration = 3\n'
                                'threads = 1\n')
    g = load_grid(grid, check_bench=check_bench_points)  # runs bench --dry-run
    out = tmp_path / "r.sqlite"
    with ResultsDB(out) as db:
        counts = run_sweep(g, db)
        rows = db.rows()
    assert counts.to_dict() == {"total": 1, "ran": 1, "skipped": 0, "failed": 0}, rows
    (row,) = rows
    assert row["measured"] == 1 and row["kind"] == "bench" and row["design"] == "kernel"
    assert row["scenario"] == "kernel-bench"
    assert row["result"]["meta"]["source"] == "kernel"
    assert row["result"]["meta"]["plan"]["duration"] == 3
    assert row["pgsteal_kswapd_per_s"] == row["result"]["rates"]["pgsteal_kswapd"]
    (r,) = load_inputs([out])
    assert r.measured and r.is_baseline and r.metrics["reclaim_j_per_gib"] is None
    files, summary = build([r], [str(out)])
    assert summary["measured"] == 1 and "badge>measured" in files["index.html"].decode()
