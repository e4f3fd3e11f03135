"""Same seed, same result, whatever the cache: nothing timed on this machine enters a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

WALL_CLOCK = {"wall_seconds", "created"}


def _strip(doc: Any) -> Any:
    """The document without its wall-clock fields (they say when and how fast it ran)."""
    if isinstance(doc, dict):
        return {k: _strip(v) for k, v in doc.items() if k not in WALL_CLOCK}
    if isinstance(doc, list):
        return [_strip(v) for v in doc]
    return doc


def _simulate(cache: Path) -> Any:
    env = {**os.environ, "KCOMPRESSD_CACHE": str(cache)}
    out = subprocess.run(
        [sys.executable, "-m", "kcompressd", "simulate", "phone-memeater",
         "--compare", "none,kcompressd", "--seed", "7", "--duration", "0.6",
         "--set", "run.warmup_s=0.2", "--json"],
        env=env, capture_output=True, text=True, timeout=900, check=True)
    return json.loads(out.stdout)


def test_two_empty_caches_give_the_identical_result(tmp_path: Path) -> None:
    a = _simulate(tmp_path / "a")
    b = _simulate(tmp_path / "b")
    assert list((tmp_path / "a").iterdir())  # the runs did fill their caches
    assert _strip(a) == _strip(b)
    assert a["results"]["none"]["vmstat"]["pgsteal_anon"] > 0
