"""Grid files: expansion, stable keys, and every kind of bad grid refused before a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from kcompressd.errors import KcompressdError
from kcompressd.sweep.grid import load_grid, run_key
from sweep_grids import SHORT, write_grid


def test_cross_product_times_seeds(small_grid: Path) -> None:
    g = load_grid(small_grid)
    runs = g.runs()
    assert len(g.points) == 4 and len(runs) == 8
    assert len({r.key for r in runs}) == 8
    p = g.points[0]
    assert p.params == {"run.duration_s": 0.3, "run.warmup_s": 0.1, "design": "none",
                        "machine.cpus": 4}
    # the design's name goes first, as `simulate --design` does
    assert p.overrides()[0] == 'design.name="none"'


def test_keys_are_stable_across_loads_and_file_order(tmp_path: Path, small_grid: Path) -> None:
    a = {r.key for r in load_grid(small_grid).runs()}
    swapped = write_grid(tmp_path, f"""
seeds = [2, 1]
scenario = "phone-memeater"
[grid]
"machine.cpus" = [8, 4]
design = ["kcompressd-v2", "none"]
[set]
{SHORT}""", "swapped.toml")
    assert {r.key for r in load_grid(swapped).runs()} == a
    first = load_grid(small_grid).points[0]
    assert run_key(first, 1) != run_key(first, 2)


def test_array_of_grids_is_a_union_without_duplicates(tmp_path: Path) -> None:
    g = load_grid(write_grid(tmp_path, f"""
scenario = "phone-memeater"
[set]
{SHORT}
[[grid]]
design = ["none", "kcompressd-v1"]
[[grid]]
design = ["kcompressd-v1"]
"design.threads" = [1, 2]
[[grid]]
design = ["none"]
"""))
    assert [p.describe().split(" ", 2)[-1] for p in g.points] == [
        "design=none", "design=kcompressd-v1", "design=kcompressd-v1 design.threads=1",
        "design=kcompressd-v1 design.threads=2"]


@pytest.mark.parametrize(("body", "message"), [
    ('scenario = "phone-memeater"\n[grid]\n"machine.cpuz" = [1]\n', "machine.cpuz"),
    ('scenario = "phone-memeater"\n[grid]\ndesign = []\n', "empty list"),
    ('scenario = "phone-memeater"\n[grid]\n"machine.cpus" = [0, 4]\n', "machine.cpus"),
    ('scenario = "phone-memeater"\n[grid]\ndesign = ["none", "kcompressd-v9"]\n',
     "kcompressd-v9"),
    ('scenario = "phone-memeater"\n[grid]\ndesign = ["none"]\n"design.threads" = [2]\n',
     "design.threads"),
    ('scenario = "phone-memeater"\n[grid]\n"machine.cpus" = 4\n', "expected a list"),
    ('scenario = "phone-memeater"\nseeds = []\n', "seeds"),
    ('scenario = "phone-memeater"\nseeds = [1, 1]\n', "seeds"),
    ('scenario = "phone-memeater"\nseeds = [-1]\n', "seeds"),
    ('scenario = "phone-memeater"\nworkers = 3\n', "workers"),
    ('[grid]\ndesign = ["none"]\n', "scenario"),
    ('scenario = "no-such-phone"\n', "no-such-phone"),
    ('scenario = "phone-memeater"\nkind = "measure"\n', "kind"),
    ('scenario = "phone-memeater"\n[set]\n"machine.cpus" = 4\n[grid]\n"machine.cpus" = [2]\n',
     "both"),
    ('scenario = "phone-memeater"\n[grid]\n"run.duration_s" = [0.05]\n', "run.warmup_s"),
    ('scenario = "phone-memeater"\n[grid]\n"machine.cpus" = [[1]]\n', "machine.cpus"),
    ('scenario = "phone-memeater" [grid', "not valid TOML"),
])
def test_bad_grids_are_refused_naming_the_problem(tmp_path: Path, body: str,
                                                  message: str) -> None:
    with pytest.raises(KcompressdError, match=None) as e:
        load_grid(write_grid(tmp_path, body))
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_scenario_file_is_found_next_to_the_grid(tmp_path: Path) -> None:
    from importlib import resources

    (tmp_path / "sub").mkdir()
    text = (resources.files("kcompressd.scenarios") / "phone-memeater.toml").read_text()
    (tmp_path / "sub" / "mine.toml").write_text(text)
    g = load_grid(write_grid(tmp_path / "sub", f'scenario = "mine.toml"\n[set]\n{SHORT}'))
    assert g.scenario_path == str(tmp_path / "sub" / "mine.toml")
