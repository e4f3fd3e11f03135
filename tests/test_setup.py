"""setup.py's compiled build: mypyc compiles the simulator's hot modules and the results do not
change (the golden results of tests/sim/test_golden.py, compared whole)."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECK = """
import json, sys
import kcompressd.sim.core, kcompressd.mm.vmscan
assert kcompressd.sim.core.__file__.endswith(".so"), kcompressd.sim.core.__file__
assert kcompressd.mm.vmscan.__file__.endswith(".so"), kcompressd.mm.vmscan.__file__
sys.path.insert(0, sys.argv[1])
from test_golden import run_case
print(json.dumps({d: run_case("phone-memeater", d) for d in sys.argv[2:]}))
"""


@pytest.mark.slow
def test_the_compiled_simulator_gives_the_golden_results(tmp_path: Path) -> None:
    pytest.importorskip("mypyc.build", reason="mypy (mypyc) is not installed: pip install mypy")
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").is_file():
        pytest.skip("no Python.h to compile against: apt-get install python3-dev")
    src = runpy.run_path(str(ROOT / "setup.py"), run_name="setup")["compiled_copy"](tmp_path)
    golden = json.loads((ROOT / "tests/sim/golden/phone-memeater.json").read_text())
    out = subprocess.run([sys.executable, "-c", CHECK, str(ROOT / "tests" / "sim"), *golden],
                         env={**os.environ, "PYTHONPATH": str(src)},
                         check=True, capture_output=True, text=True).stdout
    got = json.loads(out)
    for design in golden:
        assert got[design] == golden[design], design
