from pathlib import Path

import pytest

from kcompressd.errors import KcompressdError
from kcompressd.lab import config


def test_parse_reads_set_and_unset_options_and_ignores_comments():
    text = "# a comment\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"x y\"\n\nCONFIG_N=8\n"
    assert config.parse(text) == {"CONFIG_A": "y", "CONFIG_B": None, "CONFIG_C": '"x y"',
                                  "CONFIG_N": "8"}


def test_missing_names_what_did_not_stick():
    wanted = {"CONFIG_A": "y", "CONFIG_B": None, "CONFIG_N": "8"}
    have = {"CONFIG_A": "y", "CONFIG_B": "y", "CONFIG_N": "64"}
    assert config.missing(wanted, have) == ["CONFIG_B=n", "CONFIG_N=8"]
    assert config.missing(wanted, {"CONFIG_A": "y", "CONFIG_N": "8"}) == []


def test_the_fragment_carries_what_a_lab_boot_needs():
    wanted = config.parse(config.fragment_path("lab").read_text())
    assert all(wanted.get(o) == "y" for o in config.BOOT_OPTIONS)
    # tinyconfig's choices that distort reclaim are undone
    assert wanted["CONFIG_SLUB_TINY"] is None and wanted["CONFIG_CC_OPTIMIZE_FOR_SIZE"] is None
    debug = config.parse(config.fragment_path("debug").read_text())
    assert {"CONFIG_PROVE_LOCKING", "CONFIG_DEBUG_VM", "CONFIG_DEBUG_ATOMIC_SLEEP"} <= set(debug)
    trace = config.parse(config.fragment_path("trace").read_text())
    assert trace["CONFIG_FTRACE"] == trace["CONFIG_TRACING"] == "y"
    assert config.fragments(False, trace=True)[-1] == config.fragment_path("trace")


def test_verify_refuses_a_config_where_an_option_was_dropped(tmp_path: Path):
    wanted = config.parse(config.fragment_path("lab").read_text())
    good = "".join(f"{k}={v}\n" if v else f"# {k} is not set\n" for k, v in wanted.items())
    (tmp_path / ".config").write_text(good)
    config.verify(tmp_path / ".config", debug=False)
    (tmp_path / ".config").write_text(good.replace("CONFIG_ZRAM=y", "# CONFIG_ZRAM is not set"))
    with pytest.raises(KcompressdError, match="CONFIG_ZRAM=y"):
        config.verify(tmp_path / ".config", debug=False)
    with pytest.raises(KcompressdError, match="CONFIG_PROVE_LOCKING"):
        config.verify(tmp_path / ".config", debug=True)
