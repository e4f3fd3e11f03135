"""Switching patch series on a tree: only files whose content changes get a new mtime."""

import difflib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kcompressd.errors import KcompressdError
from kcompressd.lab import source
from kcompressd.lab.patches import Patch

pytestmark = pytest.mark.skipif(shutil.which("patch") is None, reason="needs patch(1)")

OLD = 1_000_000_000  # an archive's mtime


def _diff(tree: Path, name: str, new_text: str) -> bytes:
    old = (tree / name).read_text().splitlines(keepends=True)
    lines = difflib.unified_diff(old, new_text.splitlines(keepends=True), f"a/{name}",
                                 f"b/{name}")
    return "".join(lines).encode()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    t = tmp_path / "linux"
    t.mkdir()
    for name in ("a.c", "b.c", "c.c"):
        (t / name).write_text(f"int {name[0]};\n" * 3)
        os.utime(t / name, (OLD, OLD))
    return t


def test_apply_switch_and_revert_touch_only_patched_files(tree: Path):
    pa = Patch("0001-a.patch", _diff(tree, "a.c", "int a;\nint a2;\nint a;\n"))
    pb = Patch("0001-b.patch", _diff(tree, "b.c", "int b;\nint bb;\nint b;\n"))
    assert source.switch_series(tree, [pa])
    assert "a2" in (tree / "a.c").read_text() and source.applied(tree) == [pa]
    assert (tree / "b.c").stat().st_mtime == OLD and (tree / "c.c").stat().st_mtime == OLD
    assert source.switch_series(tree, [pb])  # a.c reverted, b.c patched
    assert "a2" not in (tree / "a.c").read_text() and "bb" in (tree / "b.c").read_text()
    assert (tree / "a.c").stat().st_mtime > OLD  # changed back: must be rebuilt
    assert (tree / "c.c").stat().st_mtime == OLD
    assert source.switch_series(tree, [])
    assert source.applied(tree) == [] and "bb" not in (tree / "b.c").read_text()


def test_a_patch_that_does_not_apply_leaves_the_tree_as_it_was(tree: Path):
    good = Patch("0001-a.patch", _diff(tree, "a.c", "int a;\nint a2;\nint a;\n"))
    bad = Patch("0002-x.patch", b"--- a/c.c\n+++ b/c.c\n@@ -1,1 +1,1 @@\n-nothing here\n+x\n")
    before = {n: (tree / n).read_text() for n in ("a.c", "b.c", "c.c")}
    with pytest.raises(KcompressdError, match=r"0002-x\.patch does not apply"):
        source.switch_series(tree, [good, bad])
    assert {n: (tree / n).read_text() for n in before} == before
    assert source.applied(tree) == []


def test_kernel_version_is_read_from_the_makefile(tree: Path):
    (tree / "Makefile").write_text("# SPDX\nVERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\n"
                                   "EXTRAVERSION =\n")
    assert source.kernel_version(tree) == "6.12.117"


def test_a_missing_source_package_names_the_apt_line(tmp_path: Path):
    with pytest.raises(KcompressdError, match=r"apt-get install -y linux-source-6\.12"):
        source.package_version(tmp_path / "linux-source-6.12.tar.xz")


def test_unpack_keeps_archive_mtimes(tmp_path: Path):
    top = tmp_path / "src" / "linux-source-6.12"
    top.mkdir(parents=True)
    (top / "Makefile").write_text("VERSION = 6\n")
    os.utime(top / "Makefile", (OLD, OLD))
    tarball = tmp_path / "linux-source-6.12.tar.xz"
    subprocess.run(["tar", "-cJf", str(tarball), "-C", str(tmp_path / "src"),
                    "linux-source-6.12"], check=True)
    tree = source.unpack(tmp_path / "work", tarball)
    assert (tree / "Makefile").stat().st_mtime == OLD
    (tree / "Makefile").write_text("changed")
    assert source.unpack(tmp_path / "work", tarball) == tree  # a finished unpack is kept
    assert (tree / "Makefile").read_text() == "changed"
