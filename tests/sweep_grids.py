"""Small grids of short simulations for the sweep and report tests (on sys.path via pytest's
`pythonpath`): fast enough to run on every test run."""

from __future__ import annotations

from pathlib import Path

# 0.3 simulated seconds, 0.1 of them warm-up (as tests/cli/test_simulate.py)
SHORT = '"run.duration_s" = 0.3\n"run.warmup_s" = 0.1\n'

SMALL = f"""
scenario = "phone-memeater"
seeds = [1, 2]
[set]
{SHORT}
[grid]
design = ["none", "kcompressd-v2"]
"machine.cpus" = [4, 8]
"""


def write_grid(tmp: Path, body: str, name: str = "grid.toml") -> Path:
    p = tmp / name
    p.write_text(body)
    return p
