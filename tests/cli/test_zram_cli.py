import json
from pathlib import Path

import pytest

from helpers import needs_root, needs_zram, refused
from helpers import run_kcompressd as kc
from kcompressd.backends.zram import replay
from kcompressd.backends.zram_stats import IO_STAT_FIELDS, MM_STAT_FIELDS
from kcompressd.cli.zram import parse_bytes
from kcompressd.codecs import available
from kcompressd.corpus.io import write_pages
from kcompressd.corpus.synth import synth_pages
from kcompressd.errors import KcompressdError
from kcompressd.kernel import zram


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[bytes]]:
    pages = synth_pages("desktop", 300, 7)
    path = tmp_path_factory.mktemp("zram") / "c.bin.gz"
    write_pages(path, pages)
    return path, pages


def test_json_is_the_model_replay(corpus: tuple[Path, list[bytes]]) -> None:
    path, pages = corpus
    r = kc("zram", "replay", str(path), "--free-every", "4", "--compact", "--chain-size", "6",
           "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    final = replay(pages, "lz4", chain_size=6, free_every=4, compact=True)[-1]
    assert doc == {"pages": 300, "mm_stat": final.mm_stat, "io_stat": final.io_stat}
    assert list(doc["mm_stat"]) == list(MM_STAT_FIELDS)
    assert list(doc["io_stat"]) == list(IO_STAT_FIELDS)


def test_mem_limit_counts_failed_writes(corpus: tuple[Path, list[bytes]]) -> None:
    r = kc("zram", "replay", str(corpus[0]), "--mem-limit", "64K", "--json")
    doc = json.loads(r.stdout)
    assert doc["mm_stat"]["mem_limit"] == 65536
    assert doc["io_stat"]["failed_writes"] > 0


def test_default_corpus_and_table() -> None:
    r = kc("zram", "replay", "-a", "zstd")
    assert r.returncode == 0, r.stderr
    assert "mm_stat" in r.stdout and "compr_data_size" in r.stdout
    assert "pages, zstd, chain 8: write" in r.stderr


@pytest.mark.parametrize(("args", "text"), [
    (["-a", "lzma"], "unknown codec 'lzma'; available: lz4"),
    (["--chain-size", "17"], "--chain-size 17 out of range 4..16"),
    (["--free-every", "0"], "--free-every must be >= 1"),
    (["--mem-limit", "lots"], "--mem-limit 'lots'"),
])
def test_bad_options_are_refused(corpus: tuple[Path, list[bytes]], args: list[str],
                                 text: str) -> None:
    refused(kc("zram", "replay", str(corpus[0]), *args), text)


def test_bad_corpus_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"x" * 100)
    refused(kc("zram", "replay", str(bad)), "not a multiple of the 4096-byte page")


def test_parse_bytes() -> None:
    assert parse_bytes("4096") == 4096
    assert parse_bytes("512M") == 512 << 20
    assert parse_bytes("1g") == 1 << 30
    with pytest.raises(KcompressdError):
        parse_bytes("-1")


@pytest.mark.kernel
@needs_root
@needs_zram
def test_kernel_side_by_side(corpus: tuple[Path, list[bytes]]) -> None:
    r = kc("zram", "replay", str(corpus[0]), "--free-every", "3", "--compact", "--kernel",
           "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == {"pages", "mm_stat", "io_stat", "kernel", "diff"}
    for group in ("mm_stat", "io_stat"):
        assert doc["diff"][group] == {f: doc["kernel"][group][f] - doc[group][f]
                                      for f in doc[group]}
    assert doc["kernel"]["mm_stat"]["orig_data_size"] == doc["mm_stat"]["orig_data_size"]
    table = kc("zram", "replay", str(corpus[0]), "--kernel")
    assert "kernel - model" in table.stdout


@pytest.mark.kernel
@needs_root
@needs_zram
def test_kernel_refuses_what_it_cannot_do(corpus: tuple[Path, list[bytes]]) -> None:
    have = zram.existing_devices()[0].algorithms()
    missing = [a for a in available() if a not in have]
    if not missing:
        pytest.skip("the kernel has every codec the model has")
    refused(kc("zram", "replay", str(corpus[0]), "-a", missing[0], "--kernel"),
            f"kernel zram has no algorithm {missing[0]!r}")
