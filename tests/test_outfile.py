from pathlib import Path

import pytest

from kcompressd.errors import KcompressdError
from kcompressd.outfile import atomic_output, check_writable


def test_atomic_output_replaces_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
    with atomic_output(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_refusals_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(KcompressdError, match="does not exist"):
        check_writable(tmp_path / "no" / "f")
    with pytest.raises(KcompressdError, match="is a directory"):
        check_writable(tmp_path)
