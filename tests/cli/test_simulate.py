import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from helpers import refused, run_kcompressd
from kcompressd.cli import app
from kcompressd.cli.simulate import DEFAULT_COMPARE, SEED_NOTE

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
        (["--duration", "inf"], ["--duration inf", "finite"]),
        (["--duration", "nan"], ["--duration nan", "finite"]),
        (["--set", "machine.big_speed=nan"], ["machine.big_speed", "finite"]),
        (["--seed", "abc"], ["--seed"]),
        (["--seeds", "3-1"], ["--seeds"]),
        (["--seeds", "0-2", "--seed", "4"], ["--seeds"]),
        (["--bogus"], ["--bogus"]),
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


def test_a_failing_output_leaves_none_of_the_others(tmp_path: Path) -> None:
    """The trace is complete when the figure fails on a full device: neither is left."""
    r = run_kcompressd("simulate", "-d", "none", *DURATION, "--trace", str(tmp_path / "t.json"),
                       "--plot", "/dev/full")
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert r.stderr.splitlines()[-1] == ("kcompressd: error: /dev/full: cannot write "
                                         "(No space left on device)")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_a_character_device_stays_a_device(tmp_path: Path) -> None:
    null = tmp_path / "x"
    os.mknod(null, 0o666 | 0o020000, os.makedev(1, 3))  # /dev/null's numbers
    r = run_kcompressd("simulate", "-d", "none", *DURATION, "--trace", str(null))
    assert r.returncode == 0, r.stderr
    assert null.is_char_device()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]


def test_symlink_writes_its_target_and_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    link.symlink_to(target.name)
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    old = os.umask(0o027)
    try:
        r = run_kcompressd("simulate", "--compare", "none", *DURATION, "--trace", str(link))
        r2 = run_kcompressd("simulate", "-d", "none", *DURATION, "--trace", str(fifo))
    finally:
        os.umask(old)
    assert r.returncode == 0 and r2.returncode == 0, r.stderr + r2.stderr
    out, _ = reader.communicate(timeout=60)
    assert json.loads(out)["traceEvents"]  # the whole trace came through the FIFO
    assert fifo.is_fifo()
    # a comparison suffixes the name: link-none.json is a new regular file with umask 027
    made = tmp_path / "link-none.json"
    assert made.is_file() and not made.is_symlink()
    assert made.stat().st_mode & 0o777 == 0o640
    r = run_kcompressd("simulate", "-d", "none", *DURATION, "--trace", str(link))
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and json.loads(target.read_text())["traceEvents"]


def test_unwritable_plot_fails_before_simulating() -> None:
    start = time.monotonic()
    version = run_kcompressd("--version")
    startup = time.monotonic() - start
    start = time.monotonic()
    r = run_kcompressd("simulate", "--plot", "/proc/no/p.png")
    took = time.monotonic() - start
    refused(r, "/proc/no/p.png")
    assert version.returncode == 0 and "simulated" not in r.stderr
    assert took < startup + 1.0  # the interpreter's start-up, and under a second more


def test_result_records_the_effective_scenario_and_the_title_the_overrides() -> None:
    doc = run_json("--design", "none", "--set", "workload.threads=2")
    assert doc["scenario"]["run"]["duration_s"] == 0.3  # --duration, not the file's 10 s
    assert doc["scenario"]["run"]["warmup_s"] == 0.1
    assert doc["meta"]["overrides"] == ["workload.threads=2", "run.warmup_s=0.1",
                                        "--duration 0.3"]
    r = run_kcompressd("simulate", "-d", "none", *DURATION, env={"COLUMNS": "200"})
    title = " ".join(r.stdout.split("┏")[0].split())  # rich wraps a title to the table
    assert "run.warmup_s=0.1" in title and "--duration 0.3" in title and "seed 0" in title
    assert SEED_NOTE in r.stderr


def test_a_duration_set_as_an_override_is_shown_as_one() -> None:
    r = run_kcompressd("simulate", "-d", "none", "--set", "run.duration_s=0.3", "--set",
                       "run.warmup_s=0.1", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["meta"]["overrides"] == ["run.duration_s=0.3",
                                                         "run.warmup_s=0.1"]


def test_design_warnings_reach_stderr_and_the_table() -> None:
    r = run_kcompressd("simulate", "server-numa", "-d", "kcompressd-v1", "--duration", "1.2")
    assert r.returncode == 0, r.stderr
    assert "warning: kcompressd-v1: 2 kswapds (kswapd0, kswapd1)" in r.stderr
    assert "warning: kcompressd-v1" in r.stdout


def test_a_scenario_files_design_is_what_runs(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    shown = run_kcompressd("scenarios", "show", "phone-memeater")
    assert shown.returncode == 0 and "[machine]" in shown.stdout
    mine.write_text(shown.stdout + '\n[design]\nname = "zram-async"\nthreads = 2\n')
    doc = json.loads(run_kcompressd("simulate", str(mine), *DURATION, "--json").stdout)
    assert doc["meta"]["design"] == "zram-async"  # one result, not a comparison
    assert {t for t in doc["cpu"] if t.startswith("zram0_comp")} == {"zram0_comp0",
                                                                      "zram0_comp1"}
    assert not any(t.startswith("kcompressd") for t in doc["cpu"])


def test_generic_design_param_on_a_comparison_says_where_it_applies() -> None:
    r = run_kcompressd("simulate", *DURATION, "--set", "design.threads=2", "--json")
    assert r.returncode == 0, r.stderr
    assert "design.threads applies to kcompressd-v1; none, kcompressd-v2 have no such" in r.stderr
    doc = json.loads(r.stdout)
    assert doc["results"]["kcompressd-v1"]["scenario"]["design"]["threads"] == 2
    refused(run_kcompressd("simulate", "--compare", "none,kcompressd-v2", *DURATION,
                           "--set", "design.threads=2"), "design.NAME.threads")


def test_workers_are_named_for_their_design() -> None:
    doc = run_json("--compare", "parallel-swapper,zram-async,kcompressd-v2")
    names = {d: set(r["cpu"]) for d, r in doc["results"].items()}
    assert "kworker/u0:0" in names["parallel-swapper"]
    assert "zram0_comp0" in names["zram-async"]
    assert "kcompressd0" in names["kcompressd-v2"]
    assert not any(n.startswith("kcompressd") for n in names["parallel-swapper"]
                   | names["zram-async"])


def test_several_seeds_show_mean_and_spread() -> None:
    doc = run_json("--compare", "none,kcompressd-v1", "--seeds", "0-2")
    assert doc["seeds"] == [0, 1, 2]
    runs = doc["per_seed"]["kcompressd-v1"]
    assert [r["meta"]["seed"] for r in runs] == [0, 1, 2]
    p99 = [r["latency"]["p99"] for r in runs]
    assert doc["results"]["kcompressd-v1"]["latency"]["p99"] == pytest.approx(sum(p99) / 3)
    spread = doc["spread"]["kcompressd-v1"]["latency"]["p99"]
    assert spread["min"] == min(p99) and spread["max"] == max(p99)
    r = run_kcompressd("simulate", "--compare", "none,kcompressd-v1", "--seeds", "0-2",
                       *DURATION)
    assert "seeds 0-2" in r.stdout and SEED_NOTE not in r.stderr
    p99_row = next(line for line in r.stdout.splitlines() if "stall p99 (µs)" in line)
    assert p99_row.count("±") == 2  # each design's mean ± its spread


def test_verdict_block_comes_first() -> None:
    res = runner.invoke(app, ["simulate", "--compare", "none,kcompressd-v2", *DURATION])
    rows = [line.split("│")[1].strip() for line in res.stdout.splitlines()
            if line.startswith("│")]
    assert rows[:4] == ["allocstall/s \N{DOWNWARDS ARROW}", "stall p99 (µs) \N{DOWNWARDS ARROW}",
                        "reclaim CPU-s per GiB \N{DOWNWARDS ARROW}",
                        "kswapd efficiency \N{UPWARDS ARROW}"]
    events = next(line for line in res.stdout.splitlines() if line.startswith("│ events"))
    assert "\N{MULTIPLICATION SIGN}" not in events  # bookkeeping carries no ratio


def test_designs_name_lists_parameters_and_scenarios_show_prints_toml() -> None:
    doc = json.loads(run_kcompressd("designs", "kcompressd-v1", "--json").stdout)
    (v1,) = doc["designs"]
    threads = next(p for p in v1["params"] if p["name"] == "threads")
    assert threads["default"] == 4 and threads["minimum"] == 1 and threads["help"]
    table = run_kcompressd("designs", "--params").stdout
    assert "design.fifo_size" in table and "design.workers" in table
    refused(run_kcompressd("designs", "v9"), "unknown design 'v9'")
    refused(run_kcompressd("scenarios", "show", "phone-x"), "unknown scenario 'phone-x'")


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
