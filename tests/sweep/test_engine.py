"""Running sweeps: rows written as runs finish, resume, failures recorded, engines agree."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kcompressd.sweep.db import ResultsDB
from kcompressd.sweep.engine import run_sweep
from kcompressd.sweep.grid import load_grid
from kcompressd.sweep.metrics import COLUMNS
from sweep_grids import SHORT, write_grid

SAME = [c for c in COLUMNS if c != "wall_s"]  # wall time is the only figure allowed to differ


def _rows(db: Path) -> dict[str, dict]:
    with ResultsDB(db, create=False) as d:
        return {r["key"]: r for r in d.rows()}


def test_local_sweep_writes_one_ok_row_per_run_then_skips_them(small_grid: Path,
                                                              tmp_path: Path) -> None:
    g = load_grid(small_grid)
    out = tmp_path / "r.sqlite"
    with ResultsDB(out) as db:
        counts = run_sweep(g, db, workers=2)
    assert counts.to_dict() == {"total": 8, "ran": 8, "skipped": 0, "failed": 0}
    rows = _rows(out)
    assert set(rows) == {r.key for r in g.runs()}
    for r in rows.values():
        assert r["status"] == "ok" and r["error"] is None and not r["measured"]
        assert r["scenario"] == "phone-memeater" and r["design"] == r["params"]["design"]
        assert r["result"]["meta"]["seed"] == r["seed"]
        assert r["result"]["meta"]["design"] == r["design"]
        assert r["result"]["scenario"]["machine"]["cpus"] == r["params"]["machine.cpus"]
        assert r["pgsteal_kswapd_per_s"] == r["result"]["rates"]["pgsteal_kswapd"]
    with ResultsDB(out) as db:
        again = run_sweep(g, db, workers=2)
    assert again.to_dict() == {"total": 8, "ran": 0, "skipped": 8, "failed": 0}
    assert _rows(out) == rows  # nothing rewritten


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    # A corpus path passes the scenario loader but cannot be read when the run starts.
    g = load_grid(write_grid(tmp_path, f"""
scenario = "phone-memeater"
[set]
{SHORT}
[grid]
"swap.corpus" = ["builtin:phone", "{tmp_path}/missing.corpus"]
"""))
    out = tmp_path / "r.sqlite"
    with ResultsDB(out) as db:
        counts = run_sweep(g, db, workers=1)
    assert counts.to_dict() == {"total": 2, "ran": 2, "skipped": 0, "failed": 1}
    by_status = {r["status"]: r for r in _rows(out).values()}
    assert set(by_status) == {"ok", "failed"}
    bad = by_status["failed"]
    assert "missing.corpus" in bad["error"] and bad["result"] is None
    assert bad["pgsteal_kswapd_per_s"] is None
    # a failed run is retried on resume, and fails (and is counted) again
    with ResultsDB(out) as db:
        again = run_sweep(g, db, workers=1)
    assert again.to_dict() == {"total": 2, "ran": 1, "skipped": 1, "failed": 1}
    assert len(_rows(out)) == 2


def test_dask_local_cluster_gives_the_same_rows_as_the_pool(small_grid: Path,
                                                           tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    g = load_grid(small_grid)
    local, dask = tmp_path / "local.sqlite", tmp_path / "dask.sqlite"
    with ResultsDB(local) as db:
        run_sweep(g, db, engine="local", workers=2)
    with ResultsDB(dask) as db:
        counts = run_sweep(g, db, engine="dask", workers=2)
    assert counts.failed == 0
    a, b = _rows(local), _rows(dask)
    assert set(a) == set(b) and len(a) == 8
    for k in a:
        for col in ("scenario", "design", "seed", "params", "status", *SAME):
            assert a[k][col] == b[k][col], (k, col)
        assert a[k]["result"]["vmstat"] == b[k]["result"]["vmstat"]
        assert a[k]["result"]["cpu"] == b[k]["result"]["cpu"]


def _count_ok(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as c:
            return c.execute("SELECT count(*) FROM runs WHERE status='ok'").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_resume_after_sigkill_loses_no_finished_row_and_duplicates_none(tmp_path: Path) -> None:
    grid = write_grid(tmp_path, f"""
scenario = "phone-memeater"
seeds = [1, 2, 3, 4, 5, 6]
[set]
{SHORT}
[grid]
design = ["none", "kcompressd-v2"]
""")
    out = tmp_path / "r.sqlite"
    log = (tmp_path / "stderr").open("w")
    cmd = [sys.executable, "-m", "kcompressd", "sweep", str(grid), "--out", str(out),
           "--workers", "1", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 120
    while _count_ok(out) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its pool workers, mid-run
    proc.wait()
    log.close()
    reported = (tmp_path / "stderr").read_text().count(": ok (")
    before = _rows(out)
    assert proc.returncode == -signal.SIGKILL
    assert 3 <= len(before) < 12
    assert len(before) >= reported  # every run reported finished is in the database
    assert all(r["status"] == "ok" and r["result"] for r in before.values())

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert counts == {"total": 12, "ran": 12 - len(before), "skipped": len(before),
                      "failed": 0}
    after = _rows(out)
    assert len(after) == 12
    for k, r in before.items():
        assert after[k] == r  # finished rows are kept as they were
    with sqlite3.connect(out) as c:
        assert c.execute("SELECT count(*), count(DISTINCT key) FROM runs").fetchone() == (12, 12)
        assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
