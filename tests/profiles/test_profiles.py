"""Machine profiles: built-ins load with a source for every value, round trip, and refuse junk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kcompressd.errors import KcompressdError
from kcompressd.profiles import list_profiles, load_profile, parse_profile
from kcompressd.profiles.codec_costs import fit


def test_builtins_have_a_source_for_every_value_and_round_trip() -> None:
    assert {"phone", "server"} <= set(list_profiles())
    for name in list_profiles():
        p = load_profile(name)
        for section in (p.cpu, p.memory, p.facts, p.reclaim, p.info):
            assert all(v.source.strip() for v in section.values())
        assert "lz4" in p.codecs and all(c.source for c in p.codecs.values())
        assert parse_profile(name, p.to_toml(), "again") == p


def test_phone_profile_is_the_thread_s_facts() -> None:
    p = load_profile("phone")
    assert p.kind == "facts"
    assert p.facts["kswapd_pgsteal_per_s"].value == 300000
    assert p.facts["compress_share"].value == 0.7
    assert "20250307120141" in p.facts["compress_share"].source
    assert p.scenario_defaults()["calibration"]["compress_share"] == 0.7


def test_codec_cost_is_a_function_of_compressed_length() -> None:
    lens = np.array([100, 120, 1000, 1010, 3000])
    c = fit("lz4", lens, np.array([1.0, 3.0, 10.0, 12.0, 30.0]) * 100, np.ones(5) * 50, "t")
    assert c.comp_len == (110.0, 1005.0, 3000.0)  # one knot per 256-byte bucket
    assert c.compress_ns == (200.0, 1100.0, 3000.0)  # at the bucket's median cost
    # Linear between knots, flat beyond them.
    assert c.compress(np.array([0, 557.5, 5000])).tolist() == [200.0, 650.0, 3000.0]


@pytest.mark.parametrize("text, message", [
    ('kind = "guess"', "kind: expected one of"),
    ('kind = "facts"\n[cpu]\nbig_speed = 1.0\nlittle_speed = { value = 1, source = "x" }',
     r"cpu\.big_speed: expected \{ value"),
    ('kind = "measured"\n[cpu]\nbig_speed = { value = 1.0, source = "x" }',
     r"cpu\.little_speed: missing"),
])
def test_bad_profiles_name_the_key(text: str, message: str) -> None:
    with pytest.raises(KcompressdError, match=message):
        parse_profile("bad", text, "bad.toml")


def test_a_scenario_names_a_profile_file(tmp_path: Path) -> None:
    from kcompressd.scenarios import load_scenario

    p = load_profile("phone")
    text = p.to_toml().replace("value = 0.5, source", "value = 0.25, source", 1)
    path = tmp_path / "slow-little.toml"
    path.write_text(text)
    s = load_scenario("phone-memeater", [f'profile="{path}"'])
    assert s["machine"]["little_speed"] == 0.25
    assert load_scenario("phone-memeater", [f'profile="{path}"', "machine.little_speed=0.4"]
                         )["machine"]["little_speed"] == 0.4  # the scenario wins
    with pytest.raises(KcompressdError, match="unknown profile 'nope'"):
        load_scenario("phone-memeater", ['profile="nope"'])
