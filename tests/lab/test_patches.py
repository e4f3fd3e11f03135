from pathlib import Path

import pytest

from kcompressd.errors import KcompressdError
from kcompressd.lab.patches import Patch, read_patch, read_series


def test_series_order_and_comments(tmp_path: Path):
    (tmp_path / "0002-b.patch").write_text("b")
    (tmp_path / "0001-a.patch").write_text("a")
    (tmp_path / "series").write_text("# the order\n0002-b.patch\n\n0001-a.patch  # last\n")
    assert [p.name for p in read_series(tmp_path)] == ["0002-b.patch", "0001-a.patch"]


@pytest.mark.parametrize("series, text", [
    (None, "no 'series' file"), ("0009-missing.patch\n", "not a patch file"),
    ("../etc/passwd\n", "not a patch file"),
])
def test_bad_series_directories_are_refused(tmp_path: Path, series, text):
    if series is not None:
        (tmp_path / "series").write_text(series)
    with pytest.raises(KcompressdError, match=text):
        read_series(tmp_path)


def test_an_added_patch_is_read_or_refused(tmp_path: Path):
    (tmp_path / "0001-diag.patch").write_text("d")
    assert read_patch(tmp_path / "0001-diag.patch") == Patch("0001-diag.patch", b"d")
    with pytest.raises(KcompressdError, match="no such patch file"):
        read_patch(tmp_path / "missing.patch")


def test_the_project_series_ships_as_package_data():
    """Each patch of the shipped series is a kernel-style mail with a sign-off."""
    patches = read_series()
    assert patches, "the project's series is empty"
    for p in patches:
        text = p.content.decode()
        assert text.startswith("From ") and "\nSubject: [PATCH" in text, p.name
        assert "\nSigned-off-by: " in text, p.name


def test_the_digest_is_the_change_not_the_mail():
    diff = b"diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n"
    one = Patch("1.patch", b"From x\nSubject: [PATCH] x: do it\n\nWhy.\n---\n" + diff)
    reworded = Patch("1.patch", b"From y\nSubject: [PATCH] x: do it, better said\n\n" + diff)
    other = Patch("1.patch", one.content.replace(b"+b", b"+c"))
    assert one.digest == reworded.digest != other.digest
