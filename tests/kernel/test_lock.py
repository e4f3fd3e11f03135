from pathlib import Path

import pytest

from kcompressd.errors import KcompressdError
from kcompressd.kernel.lock import run_lock


def test_second_holder_is_refused_and_lock_is_released(tmp_path: Path) -> None:
    path = tmp_path / "k.lock"
    with (run_lock(path), pytest.raises(KcompressdError, match="another kcompressd bench"),
          run_lock(path)):
        pass
    with run_lock(path):  # released on exit
        pass
