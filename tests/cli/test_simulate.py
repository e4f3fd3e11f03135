import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kcompressd.cli import app
from kcompressd.cli.simulate import DEFAULT_COMPARE, write_all
from kcompressd.errors import KcompressdError

# 0.3 simulated seconds, 0.1 of them warm-up: short keeps the suite fast
DURATION = ["--duration", "0.3", "--set", "run.warmup_s=0.1"]
RESULT_KEYS = {"vmstat", "rates", "cpu", "latency", "zram", "workload", "scenario", "meta"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
runner = CliRunner()


def run_json(*args: str) -> dict[str, Any]:
    res = runner.invoke(app, ["simulate", *args, *DURATION, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)  # fails on anything but exactly one JSON document


def test_one_design_prints_one_result() -> None:
    doc = run_json("--design", "none", "--seed", "3")
    assert set(doc) >= RESULT_KEYS
    assert doc["meta"]["seed"] == 3
    assert doc["meta"]["source"] == "simulator"
    assert doc["scenario"]["name"] == "phone-memeater"
    assert "kswapd0" in doc["cpu"]
    assert doc["vmstat"]["pgsteal_anon"] > 0  # the eater drove reclaim


def test_json_stdout_is_one_document_from_the_console_script() -> None:
    """End to end through `python -m kcompressd`: progress and notes go to stderr only."""
    proc = subprocess.run(
        [sys.executable, "-m", "kcompressd", "simulate", *DURATION, "--json"],
        capture_output=True, text=True, timeout=300, check=True)
    doc = json.loads(proc.stdout)
    assert doc["designs"] == list(DEFAULT_COMPARE)
    assert all(d in proc.stderr for d in DEFAULT_COMPARE)  # one progress line per design


def test_set_reaches_the_scenario() -> None:
    doc = run_json("--design", "none", "--set", "workload.threads=2")
    assert doc["scenario"]["workload"]["threads"] == 2


def test_design_params_apply_to_the_chosen_design() -> None:
    """design.threads with --design kcompressd-v1 is v1's thread count, although the
    scenario file's own design (none) has no such parameter."""
    doc = run_json("--design", "kcompressd-v1", "--set", "design.threads=2")
    assert doc["scenario"]["design"]["threads"] == 2
    assert {t for t in doc["cpu"] if t.startswith("kcompressd")} == {"kcompressd0", "kcompressd1"}


def test_compare_takes_per_design_params() -> None:
    doc = run_json("--compare", "none,kcompressd-v1", "--set", "design.kcompressd-v1.threads=3")
    v1 = doc["results"]["kcompressd-v1"]
    assert {t for t in v1["cpu"] if t.startswith("kcompressd")} == {
        "kcompressd0", "kcompressd1", "kcompressd2"}
    assert not any(t.startswith("kcompressd") for t in doc["results"]["none"]["cpu"])


def test_compare_ratios_are_against_the_first_design() -> None:
    doc = run_json("--compare", "kcompressd-v1,none")
    assert doc["designs"] == ["kcompressd-v1", "none"] == list(doc["results"])
    assert doc["baseline"] == "kcompressd-v1"
    first, other = doc["results"]["kcompressd-v1"], doc["results"]["none"]
    assert set(first) >= RESULT_KEYS and set(other) >= RESULT_KEYS
    assert list(doc["ratios"]) == ["none"]
    r = doc["ratios"]["none"]
    for section in ("rates", "cpu"):
        for key, ratio in r[section].items():
            base = first[section][key]
            if base == 0:
                assert ratio is None
            else:
                assert ratio == pytest.approx(other[section][key] / base)
    assert r["cpu"]["kswapd0"] is not None


def test_no_design_compares_the_default_three() -> None:
    doc = run_json()
    assert doc["designs"] == list(DEFAULT_COMPARE)
    assert set(doc["ratios"]) == set(DEFAULT_COMPARE[1:])
    # the same scenario and seed for all
    scenarios = {json.dumps(r["scenario"]["machine"], sort_keys=True)
                 for r in doc["results"].values()}
    assert len(scenarios) == 1
    assert {r["meta"]["seed"] for r in doc["results"].values()} == {0}


def test_table_by_default() -> None:
    res = runner.invoke(app, ["simulate", "--compare", "none,kcompressd-v2", *DURATION])
    assert res.exit_code == 0, res.output
    assert "pgsteal_anon/s" in res.stdout
    assert "ratios to none" in res.stdout
    steal = next(line for line in res.stdout.splitlines() if "pgsteal_anon/s" in line)
    assert "\N{MULTIPLICATION SIGN}" in steal  # the ratio cell of kcompressd-v2
    assert not res.stdout.lstrip().startswith("{")


def test_trace_has_counter_and_slice_events(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    run_json("--design", "kcompressd-v1", "--trace", str(out))
    events = json.loads(out.read_text())["traceEvents"]
    counters = {e["name"] for e in events if e["ph"] == "C"}
    assert {"free_pages", "wmark_min", "wmark_low", "wmark_high"} <= counters
    threads = {e["tid"]: e["args"]["name"] for e in events
               if e["ph"] == "M" and e["name"] == "thread_name"}
    slices = {(threads[e["tid"]], e["name"]) for e in events if e["ph"] == "X"}
    assert ("kswapd0", "balance_pgdat") in slices
    assert any(t.startswith("kcompressd") and n == "compress" for t, n in slices)
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


def test_compare_writes_one_trace_and_plot_per_design(tmp_path: Path) -> None:
    run_json("--compare", "none,kcompressd-v2", "--trace", str(tmp_path / "t.json"),
             "--plot", str(tmp_path / "p.png"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "p-kcompressd-v2.png", "p-none.png", "t-kcompressd-v2.json", "t-none.json"]
    for design in ("none", "kcompressd-v2"):
        assert (tmp_path / f"p-{design}.png").read_bytes()[:8] == PNG_MAGIC
        json.loads((tmp_path / f"t-{design}.json").read_text())


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--design", "bogus"], ["bogus", "kcompressd-v1"]),  # lists the valid designs
        (["--compare", "none,bogus"], ["bogus"]),
        (["--compare", "none,none"], ["twice"]),
        (["--design", "none", "--compare", "none"], ["--compare"]),
        (["--set", "machine.bogus=1"], ["machine.bogus"]),
        (["--set", "workload.threads=-1"], ["workload.threads"]),
        (["--set", "design.bogus=1", "--design", "kcompressd-v1"], ["design.bogus", "threads"]),
        (["no-such-scenario"], ["no-such-scenario"]),
        (["--duration", "0"], ["--duration"]),
        (["--duration", "0.05"], ["run.warmup_s"]),  # all of it warm-up: nothing to measure
        (["--seed", "-1"], ["--seed"]),
        (["--plot", "{tmp}/p.xyz"], ["xyz"]),
        (["--trace", "{tmp}/missing/t.json"], ["does not exist"]),
        (["--trace", "{tmp}"], ["is a directory"]),
    ],
)
def test_errors_exit_2_with_one_line_and_leave_nothing(
        tmp_path: Path, args: list[str], named: list[str]) -> None:
    args = [a.format(tmp=tmp_path) for a in args]
    outputs = [] if any(a in ("--trace", "--plot") for a in args) else [
        "--trace", str(tmp_path / "t.json"), "--plot", str(tmp_path / "p.png")]
    proc = subprocess.run(
        [sys.executable, "-m", "kcompressd", "simulate", *DURATION, *args, *outputs, "--json"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kcompressd: error:")
    for word in named:
        assert word in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_write_all_removes_earlier_files_when_one_fails(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"

    def fail() -> None:
        raise KcompressdError("disk full")

    with pytest.raises(KcompressdError):
        write_all([(first, lambda: first.write_text("x")), (second, fail)])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("command", "expected"), [
    ("scenarios", {"phone-memeater", "phone-app-launch", "busy-phone", "server-numa"}),
    ("designs", {"none", "kcompressd-v1", "kcompressd-v2"}),
])
def test_listings(command: str, expected: set[str]) -> None:
    res = runner.invoke(app, [command, "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)[command]
    assert expected <= {r["name"] for r in rows}
    assert all(r["description"] and "\n" not in r["description"] for r in rows)
    table = runner.invoke(app, [command])
    assert table.exit_code == 0
    assert all(name in table.stdout for name in expected)
