"""Scenario layering: profile defaults < `extends` parent < the file < --set; typed sections."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kcompressd.errors import KcompressdError
from kcompressd.scenarios import load_scenario
from kcompressd.scenarios.model import SECTIONS, ScenarioConfig
from kcompressd.scenarios.schema import SCHEMA


def test_a_variant_shows_only_what_differs() -> None:
    base = load_scenario("phone-memeater").to_dict()
    one = load_scenario("phone-1cpu").to_dict()
    diff = {(s, k) for s in SCHEMA for k in SCHEMA[s] if base[s][k] != one[s][k]}
    assert diff == {("machine", "cpus"), ("machine", "big_cpus")}
    assert one["profile"] == "phone" and one["description"] != base["description"]


def test_extends_a_file_relative_to_the_extending_one(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text('extends = "phone-memeater"\n[workload]\nthreads = 3\n')
    (tmp_path / "top.toml").write_text('extends = "base.toml"\n[machine]\ncpus = 2\n'
                                       "big_cpus = 2\n")
    s = load_scenario(str(tmp_path / "top.toml"), ["workload.touch_us=2"])
    assert (s["workload"]["threads"], s["machine"]["cpus"], s["workload"]["touch_us"]) == (3, 2, 2)
    (tmp_path / "loop.toml").write_text('extends = "loop.toml"\n')
    with pytest.raises(KcompressdError, match="extends: cycle"):
        load_scenario(str(tmp_path / "loop.toml"))


def test_profile_supplies_what_the_scenario_leaves_out() -> None:
    s = load_scenario("server-numa")
    assert s["machine"]["big_speed"] == 1.5 and s["memory"]["total_mb"] == 65536
    assert load_scenario("phone-memeater")["calibration"]["kswapd_pgsteal_per_s"] == 300000


def test_typed_sections_mirror_the_schema_and_carry_every_value() -> None:
    for name, cls in SECTIONS.items():
        assert [f.name for f in dataclasses.fields(cls)] == list(SCHEMA[name]), name
    cfg = ScenarioConfig.from_dict(load_scenario("busy-phone").to_dict())
    assert cfg.workload.hogs == 8 and cfg.memory.lru == "mglru"
    assert cfg.machine.speeds() == [1.0] * 4 + [0.5] * 4
