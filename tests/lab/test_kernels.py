import json
from pathlib import Path

import pytest

from kcompressd.errors import KcompressdError
from kcompressd.lab import build, image, kernels
from kcompressd.lab.patches import Patch


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("KCOMPRESSD_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _store(tmp_path: Path, key: str, built: float, patches=()) -> kernels.Kernel:
    (tmp_path / "bz").write_bytes(b"\0" * 1000)
    (tmp_path / "cfg").write_text("CONFIG_X=y\n")
    return kernels.store(key, tmp_path / "bz", tmp_path / "cfg",
                         {"id": key, "version": "6.12.117", "patches": list(patches),
                          "debug": False, "built": built})


def test_store_find_list_and_clean(tmp_path: Path, cache: Path):
    assert kernels.find("abc") is None and kernels.all_kernels() == []
    old = _store(tmp_path, "aaa111", 1.0)
    new = _store(tmp_path, "bbb222", 2.0, ["0001-x.patch"])
    assert kernels.find("aaa111") == old
    assert [k.id for k in kernels.all_kernels()] == ["bbb222", "aaa111"]
    assert kernels.label(new) == "1 patches" and kernels.label(old) == "vanilla"
    assert new.size() > 1000
    (cache / "lab" / "src").mkdir()
    assert [k.id for k in kernels.clean(keep=1)] == ["aaa111"]
    assert (cache / "lab" / "src").exists()
    kernels.clean(keep=0)
    assert kernels.all_kernels() == [] and not (cache / "lab" / "src").exists()


def test_a_half_stored_kernel_is_never_found(tmp_path: Path, cache: Path):
    d = cache / "lab" / "kernels" / "ccc333"
    d.mkdir(parents=True)
    (d / "meta.json").write_text(json.dumps({"id": "ccc333"}))
    assert kernels.find("ccc333") is None  # no bzImage
    (cache / "lab" / "kernels" / ".ddd444.partial").mkdir()
    assert kernels.all_kernels() == []


def test_cache_key_changes_with_every_input():
    base = build.BuildRequest(series=[])
    key = build.cache_key("6.12.117-1", base, "gcc 12")
    assert key == build.cache_key("6.12.117-1", base, "gcc 12")
    variants = [
        build.cache_key("6.12.118-1", base, "gcc 12"),
        build.cache_key("6.12.117-1", base, "gcc 13"),
        build.cache_key("6.12.117-1", build.BuildRequest(series=[], debug=True), "gcc 12"),
        build.cache_key("6.12.117-1", build.BuildRequest(series=[], trace=True), "gcc 12"),
        build.cache_key("6.12.117-1", build.BuildRequest(series=[Patch("1.patch", b"x")]),
                        "gcc 12"),
        build.cache_key("6.12.117-1", build.BuildRequest(series=[Patch("1.patch", b"y")]),
                        "gcc 12"),
    ]
    assert len({key, *variants}) == 7
    # each flavour builds in its own directory
    assert {build.BuildRequest(series=[], debug=d, trace=t).flavour
            for d in (False, True) for t in (False, True)} == {"std", "debug", "trace",
                                                                "debug-trace"}
    # -j is not an input of the image
    assert build.cache_key("6.12.117-1", build.BuildRequest(series=[], jobs=7), "gcc 12") == key


def test_a_full_disk_is_refused_up_front(tmp_path: Path):
    with pytest.raises(KcompressdError, match="not enough disk space"):
        build.check_disk(tmp_path, need=1 << 60)


def test_resolve_refuses_unknown_ids_and_missing_paths(tmp_path: Path):
    with pytest.raises(KcompressdError, match="no cached kernel"):
        image.resolve("feedbeef")
    with pytest.raises(KcompressdError, match="no such file"):
        image.resolve(str(tmp_path / "nothing" / "bzImage"))


def test_a_foreign_image_without_9p_cannot_boot(tmp_path: Path):
    (tmp_path / "bzImage").write_bytes(b"not really a kernel")
    (tmp_path / ".config").write_text("CONFIG_64BIT=y\nCONFIG_9P_FS=m\n")
    with pytest.raises(KcompressdError, match="CONFIG_9P_FS=y"):
        image.resolve(str(tmp_path / "bzImage"))


def test_ikconfig_is_read_from_a_gzip_image():
    import gzip
    config = b"CONFIG_9P_FS=y\n"
    vmlinux = b"\x7fELF...." + b"IKCFG_ST" + gzip.compress(config) + b"IKCFG_ED" + b"tail"
    bz = b"setup code \x1f\x8b\x08 not gzip" + gzip.compress(vmlinux) + b"trailer"
    assert image._ikconfig(bz) == config.decode()
    assert image._ikconfig(b"no gzip at all") is None
