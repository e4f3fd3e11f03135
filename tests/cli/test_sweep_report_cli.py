"""`kcompressd sweep` and `kcompressd report` as a user runs them: the --json contract and one
line, exit 2, nothing written for bad input."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import refused, run_kcompressd
from sweep_grids import SHORT, write_grid

TINY = f"""
scenario = "phone-memeater"
[set]
{SHORT}
[grid]
design = ["none", "kcompressd-v2"]
"""


def test_sweep_json_then_report_json(tmp_path: Path) -> None:
    grid, out = write_grid(tmp_path, TINY), tmp_path / "r.sqlite"
    r = run_kcompressd("sweep", str(grid), "--out", str(out), "--workers", "2", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"total": 2, "ran": 2, "skipped": 0, "failed": 0}
    rep = tmp_path / "rep"
    r = run_kcompressd("report", str(out), "-o", str(rep), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["index"] == str(rep / "index.html") and doc["runs"] == 2
    assert (rep / "index.html").is_file()
    assert doc["comparisons"][0]["design"] == "kcompressd-v2"


def test_invalid_grid_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "r.sqlite"
    grid = write_grid(tmp_path, TINY.replace('"kcompressd-v2"]', '"kcompressd-v2"]\n'
                                             '"machine.cpus" = []'))
    refused(run_kcompressd("sweep", str(grid), "--out", str(out)), "empty list")
    grid = write_grid(tmp_path, TINY + '"memory.total_mb" = [-5]\n')
    refused(run_kcompressd("sweep", str(grid), "--out", str(out)), "memory.total_mb")
    assert not out.exists()
    refused(run_kcompressd("sweep", str(tmp_path / "nope.toml"), "--out", str(out)),
            "no such grid file")
    refused(run_kcompressd("sweep", str(grid), "--out", str(out), "--engine", "slurm"),
            "--engine")
    refused(run_kcompressd("sweep", str(grid), "--out", str(out), "--address", "x:1"),
            "--address needs --engine dask")
    assert not out.exists()


def test_outputs_that_are_not_ours_are_refused_and_kept(tmp_path: Path) -> None:
    grid = write_grid(tmp_path, TINY)
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    refused(run_kcompressd("sweep", str(grid), "--out", str(notes)), "not an SQLite database")
    refused(run_kcompressd("sweep", str(grid), "--out", str(tmp_path)), "is a directory")
    refused(run_kcompressd("report", str(notes), "-o", str(tmp_path / "rep")),
            "not a result JSON")
    refused(run_kcompressd("report", str(tmp_path / "none.sqlite"), "-o",
                           str(tmp_path / "rep")), "no such file")
    refused(run_kcompressd("report", str(notes), "-o", str(notes)), "not a directory")
    assert notes.read_text() == "mine"
    assert not (tmp_path / "rep").exists()
