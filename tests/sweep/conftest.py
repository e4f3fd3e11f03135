from __future__ import annotations

from pathlib import Path

import pytest

from sweep_grids import SMALL, write_grid


@pytest.fixture
def small_grid(tmp_path: Path) -> Path:
    return write_grid(tmp_path, SMALL)
