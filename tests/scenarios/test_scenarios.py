"""Scenario loading, overrides and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from kcompressd.errors import KcompressdError
from kcompressd.scenarios import DEFAULT_SCENARIO, list_scenarios, load_scenario

BUILTIN = {"phone-memeater", "phone-app-launch", "busy-phone", "server-numa", "phone-1cpu",
           "phone-many-writers"}


def test_builtins_are_listed_default_first_and_all_load() -> None:
    listed = list_scenarios()
    assert listed[0][0] == DEFAULT_SCENARIO == "phone-memeater"
    assert {n for n, _ in listed} == BUILTIN
    for name, desc in listed:
        sc = load_scenario(name)
        d = sc.to_dict()
        assert desc and d["description"] == desc and d["name"] == name
        assert d["machine"]["cpus"] >= 1 and d["workload"]["threads"] >= 1


def test_overrides_parse_toml_values() -> None:
    sc = load_scenario("phone-memeater", ["machine.cpus=2", "machine.big_cpus=1",
                                          "workload.touch_us=0.5", "workload.kind=app-launch",
                                          'design.name="kcompressd-v1"', "design.threads=2"])
    d = sc.to_dict()
    assert d["machine"]["cpus"] == 2 and d["workload"]["touch_us"] == 0.5
    assert d["workload"]["kind"] == "app-launch"
    assert d["design"] == {"name": "kcompressd-v1", "threads": 2}
    assert sc.design_params("kcompressd-v1") == {"threads": 2, "queue_size": 4096}


@pytest.mark.parametrize(("override", "message"), [
    ("machine.cpu=4", r"machine\.cpu: unknown scenario key"),
    ("machin.cpus=4", r"machin: unknown scenario key"),
    ("machine.cpus=0", r"machine\.cpus: 0 is below the minimum 1"),
    ("machine.cpus=two", r"machine\.cpus: expected a number"),
    ("workload.threads=1.5", r"workload\.threads: expected an integer"),
    ("swap.zeromap=1", r"swap\.zeromap: expected true or false, got 1"),
    ("workload.kind=swapper", r"workload\.kind: 'swapper' is not one of"),
    ("memory.free_mb=20000", r"memory\.free_mb: .* exceeds memory\.total_mb"),
    ("machine.big_cpus=9", r"machine\.big_cpus: 9 exceeds machine\.cpus"),
    ("run.warmup_s=19", r"run\.warmup_s"),
    ('design.name="v9"', r"unknown design 'v9'"),
    ("design.bogus=2", r"design\.bogus: not a parameter of any design"),
    ("machine.big_speed=nan", r"machine\.big_speed: nan is not a finite number"),
    ("calibration.compress_share=-inf", r"calibration\.compress_share: -inf is not a finite"),
    ("design.kcompressd-v1.threads=inf", r"design\.kcompressd-v1\.threads: inf is not a fin"),
    ("design.kcompressd-v2.depth=3", r"design\.depth: unknown parameter of kcompressd-v2"),
    ("nothing", r"expected dotted\.key=value"),
])
def test_bad_keys_and_values_name_the_key(override: str, message: str) -> None:
    with pytest.raises(KcompressdError, match=message):
        load_scenario("phone-memeater", [override])


def test_scenario_from_a_file_and_unknown_names(tmp_path: Path) -> None:
    p = tmp_path / "mine.toml"
    p.write_text('description = "tiny"\n[machine]\ncpus = 2\nbig_cpus = 2\n'
                 '[workload]\nthreads = 3\n')
    sc = load_scenario(str(p))
    assert sc.name == "mine" and sc["machine"]["cpus"] == 2 and sc["workload"]["threads"] == 3
    assert sc["memory"]["total_mb"] == 12288  # schema defaults fill the rest
    with pytest.raises(KcompressdError, match="unknown scenario 'phone-x'; built-in: "):
        load_scenario("phone-x")
    with pytest.raises(KcompressdError, match="no such scenario file"):
        load_scenario(str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[machine\n")
    with pytest.raises(KcompressdError, match="not valid TOML"):
        load_scenario(str(bad))


def test_design_params_fit_the_named_design_and_reach_the_others_that_have_them() -> None:
    assert load_scenario("phone-memeater").named_design is None  # built-ins compare designs
    sc = load_scenario("phone-memeater", ['design.name="none"', "design.threads=2"])
    assert sc.named_design == "none"
    with pytest.raises(KcompressdError, match=r"design\.threads: unknown parameter of none"):
        sc.design_params("none")
    assert sc.design_params("zram-async")["threads"] == 2
    assert sc.generic_targets(["kcompressd-v1", "kcompressd-v2", "zram-async"]) == {
        "threads": ["kcompressd-v1", "zram-async"]}
    with pytest.raises(KcompressdError, match=r"kcompressd-v1, .*design\.NAME\.threads"):
        sc.generic_targets(["none"])
