import threading
from pathlib import Path

import pytest

from kcompressd.corpus import builtin
from kcompressd.corpus.builtin import BUILTIN_PAGES, BUILTIN_SEED, builtin_corpus, cache_dir
from kcompressd.corpus.io import read_pages
from kcompressd.corpus.synth import synth_pages
from kcompressd.errors import KcompressdError


def test_generated_once_into_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KCOMPRESSD_CACHE", str(tmp_path / "c"))
    p = builtin_corpus("server")
    assert p.parent == tmp_path / "c" and "server" in p.name
    assert read_pages(p) == synth_pages("server", BUILTIN_PAGES, BUILTIN_SEED)
    assert p.stat().st_size < BUILTIN_PAGES * 4096  # stored compressed

    def no_regeneration(*a: object) -> list[bytes]:
        raise AssertionError("regenerated a cached corpus")

    monkeypatch.setattr(builtin, "synth_pages", no_regeneration)
    assert builtin_corpus("server") == p
    assert [f.name for f in p.parent.iterdir()] == [p.name]  # no temporary files left


def test_concurrent_first_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KCOMPRESSD_CACHE", str(tmp_path))
    paths: list[Path] = []
    threads = [threading.Thread(target=lambda: paths.append(builtin_corpus("phone")))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(paths)) == 1 and len(read_pages(paths[0])) == BUILTIN_PAGES
    assert len(list(tmp_path.iterdir())) == 1


def test_cache_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KCOMPRESSD_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "kcompressd"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "kcompressd"
    monkeypatch.setenv("KCOMPRESSD_CACHE", str(tmp_path / "k"))
    assert cache_dir() == tmp_path / "k"


def test_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KCOMPRESSD_CACHE", str(tmp_path / "c"))
    with pytest.raises(KcompressdError, match="valid profiles"):
        builtin_corpus("tablet")
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("KCOMPRESSD_CACHE", str(tmp_path / "file" / "sub"))
    with pytest.raises(KcompressdError, match="cannot create corpus cache directory"):
        builtin_corpus("phone")
