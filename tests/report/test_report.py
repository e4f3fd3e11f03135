"""The report: numbers computed from the runs, a self-contained page, a safe output directory,
and a page that renders in headless Chromium without console errors."""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kcompressd.errors import KcompressdError
from kcompressd.report import energy
from kcompressd.report.build import build
from kcompressd.report.load import load_inputs
from kcompressd.report.write import write_dir
from kcompressd.sweep.db import ResultsDB
from kcompressd.sweep.engine import run_sweep
from kcompressd.sweep.grid import load_grid
from sweep_grids import SMALL, write_grid

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("sweep")
    out = tmp / "r.sqlite"
    with ResultsDB(out) as db:
        assert run_sweep(load_grid(write_grid(tmp, SMALL)), db, workers=2).failed == 0
    return out


@pytest.fixture(scope="module")
def report(results: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rep") / "report"
    files, _ = build(load_inputs([results]), [str(results)])
    write_dir(out, files)
    return out


def test_comparisons_are_computed_from_the_rows(results: Path) -> None:
    _, summary = build(load_inputs([results]), [str(results)])
    with ResultsDB(results, create=False) as db:
        rows = db.rows()
    comps = summary["comparisons"]
    assert {(c["design"], c["setting"]["machine.cpus"]) for c in comps} == {
        ("kcompressd-v2", 4), ("kcompressd-v2", 8)}
    for c in comps:
        cpus = c["setting"]["machine.cpus"]

        def med(design: str, col: str, cpus: int = cpus) -> float:
            return statistics.median(r[col] for r in rows if r["design"] == design
                                     and r["params"]["machine.cpus"] == cpus)

        for col in ("allocstall_per_s", "pgsteal_kswapd_per_s", "cpu_s_per_gib"):
            want = med("kcompressd-v2", col) / med("none", col)
            assert c["ratios"][col] == pytest.approx(want)
        # Won or lost per reclaimed GiB, not per second (analysis.WIN_METRIC).
        def per_gib(design: str, cpus: int = cpus) -> float:
            return statistics.median(r["allocstall_per_s"] * r["measured_s"] / r["reclaimed_gib"]
                                     for r in rows if r["design"] == design
                                     and r["params"]["machine.cpus"] == cpus)

        r = per_gib("kcompressd-v2") / per_gib("none")
        assert c["ratios"]["allocstall_per_gib"] == pytest.approx(r)
        assert c["outcome"] == ("win" if r <= 0.95 else "loss" if r >= 1.05 else "tie")
    (finding,) = summary["findings"]
    assert finding["comparisons"] == 2
    assert finding["wins"] == sum(c["outcome"] == "win" for c in comps)
    assert finding["text"].startswith("phone-memeater (simulated)")


def test_page_is_self_contained(report: Path) -> None:
    page = (report / "index.html").read_text()
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page
    assert not re.search(r"url\((?!#)", page)  # only the SVGs' own clip paths
    assert page.count("<svg") == 2  # designs side by side, and against machine.cpus
    for name in ("phone-memeater", "kcompressd-v2", "machine.cpus=8", "Energy model"):
        assert name in page
    assert sorted(p.name for p in (report / "figures").iterdir()) == [
        "phone-memeater-designs.svg", "phone-memeater-machine.cpus.svg"]


def test_output_directory_is_never_clobbered(results: Path, tmp_path: Path) -> None:
    files, _ = build(load_inputs([results]), [str(results)])
    a_file = tmp_path / "file"
    a_file.write_text("keep")
    with pytest.raises(KcompressdError, match="not a directory"):
        write_dir(a_file, files)
    assert a_file.read_text() == "keep"
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(KcompressdError, match="not a kcompressd report"):
        write_dir(foreign, files)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    out = tmp_path / "rep"
    write_dir(out, files)
    (out / "stale.svg").write_text("old")
    write_dir(out, files)  # an earlier report is replaced whole
    assert not (out / "stale.svg").exists() and (out / "index.html").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_energy_packs_busy_time_on_big_cores_first() -> None:
    assert energy.split_busy(3.0, 1.0, cpus=8, big_cpus=4) == (3.0, 0.0)
    assert energy.split_busy(6.0, 1.0, cpus=8, big_cpus=4) == (4.0, 2.0)
    assert energy.split_busy(6.0, 1.0, cpus=8, big_cpus=-1) == (6.0, 0.0)
    # P = C V^2 f with the sourced MT8183 figures, not a fitted number
    assert pytest.approx(211 * 1.05**2 * 1989 * 1e-6) == energy.BIG_W
    assert energy.LITTLE_W < energy.BIG_W


def test_energy_charges_each_core_its_own_busy_time() -> None:
    # The same CPU-seconds cost less on little cores: the simulator says where they ran.
    result = {"meta": {"source": "simulator", "measured_seconds": 1.0,
                       "busy_seconds_per_cpu": [0.0, 0.0, 0.5, 0.5]},
              "scenario": {"machine": {"cpus": 4, "big_cpus": 2}},
              "cpu": {"kswapd0": 0.6, "eater0": 0.4}}
    assert energy.energy(result, 0.6, 1.0)["energy_j"] == pytest.approx(energy.LITTLE_W)
    del result["meta"]["busy_seconds_per_cpu"]  # an older result: packed on the big cores
    assert energy.energy(result, 0.6, 1.0)["energy_j"] == pytest.approx(energy.BIG_W)


def _render(page: Path, tmp: Path) -> tuple[Path, list[str]]:
    shot = tmp / f"{page.stem}.png"
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp / 'profile'}", "--enable-logging=stderr",
         "--v=0", f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri()],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return shot, [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]


def _ink(png: Path) -> float:
    import matplotlib.image

    img = matplotlib.image.imread(png)[..., :3]
    return float(np.mean(np.any(img < 0.9, axis=-1)))  # share of non-white pixels


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (/usr/bin/chromium)")
def test_report_renders_in_chromium_without_console_errors(report: Path,
                                                           tmp_path: Path) -> None:
    # The checker itself: a page that logs an error, and a blank page, are caught.
    control = tmp_path / "control.html"
    control.write_text("<html><body><script>console.error('control')</script></body></html>")
    shot, console = _render(control, tmp_path)
    assert any("control" in ln for ln in console)
    assert _ink(shot) < 0.001
    shutil.rmtree(tmp_path / "profile")

    shot, console = _render(report / "index.html", tmp_path)
    assert console == []
    assert _ink(shot) > 0.05  # text, tables and figures, not a blank page
    shutil.copy(shot, report / "screenshot.png")  # left for a human to look at


def test_json_inputs_of_simulate_are_rows(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kcompressd.cli import app

    res = CliRunner().invoke(app, ["simulate", "--compare", "none,kcompressd-v1",
                                   "--duration", "0.3", "--set", "run.warmup_s=0.1", "--json"])
    assert res.exit_code == 0, res.output
    doc = tmp_path / "cmp.json"
    doc.write_text(res.stdout)
    rows = load_inputs([doc])
    assert [(r.design, r.measured, r.is_baseline) for r in rows] == [
        ("none", False, True), ("kcompressd-v1", False, False)]
    alloc = json.loads(res.stdout)["results"]["kcompressd-v1"]["rates"]["allocstall"]
    assert rows[1].metrics["allocstall_per_s"] == alloc
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    with pytest.raises(KcompressdError, match="not a kcompressd result"):
        load_inputs([bad])
