"""Golden results: every design gives, to the last counter, the result it gave when the fixture
was recorded (the simulator's speed work must not change outcomes).

    python tests/sim/test_golden.py   # re-record tests/sim/golden/*.json (say why in the commit)

Compared: the whole result document except its wall-clock and version fields.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from kcompressd.designs import list_designs
from kcompressd.scenarios import load_scenario
from kcompressd.sim.run import simulate

GOLDEN = Path(__file__).parent / "golden"
SKIP = {"wall_seconds", "created", "version"}
# (scenario, --set overrides, duration): short runs that still exercise reclaim hard.
CASES = {
    "phone-memeater": ("phone-memeater", (), 1.0),
    "phone-memeater-classic": ("phone-memeater", ("memory.lru=classic",), 1.0),
    "server-numa": ("server-numa", ("run.warmup_s=0.2",), 0.6),
}


def _strip(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _strip(v) for k, v in doc.items() if k not in SKIP}
    if isinstance(doc, list):
        return [_strip(v) for v in doc]
    return doc


def run_case(case: str, design: str) -> Any:
    name, sets, duration = CASES[case]
    sc = load_scenario(name, sets)
    result = simulate(sc, design=design, seed=0, duration=duration).result
    return _strip(json.loads(json.dumps(result)))


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("design", [name for name, _ in list_designs()])
def test_result_is_unchanged(case: str, design: str) -> None:
    expected = json.loads((GOLDEN / f"{case}.json").read_text())[design]
    assert run_case(case, design) == expected


def record() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for case in CASES:
        doc = {design: run_case(case, design) for design, _ in list_designs()}
        (GOLDEN / f"{case}.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    record()
    sys.exit(0)
