import gzip
from pathlib import Path

import pytest
import zstandard

from kcompressd.corpus.io import read_pages, write_pages
from kcompressd.errors import KcompressdError

PAGES = [bytes([i]) * 4096 for i in range(3)]


@pytest.mark.parametrize("suffix", [".bin", ".gz", ".zst"])
def test_roundtrip(tmp_path: Path, suffix: str) -> None:
    p = tmp_path / f"c{suffix}"
    assert write_pages(p, PAGES) == 3
    assert read_pages(p) == PAGES


def test_compressed_suffixes_really_compress(tmp_path: Path) -> None:
    write_pages(tmp_path / "c.gz", PAGES)
    write_pages(tmp_path / "c.zst", PAGES)
    assert gzip.decompress((tmp_path / "c.gz").read_bytes()) == b"".join(PAGES)
    raw = zstandard.ZstdDecompressor().stream_reader((tmp_path / "c.zst").read_bytes()).read()
    assert raw == b"".join(PAGES)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("odd.bin", b"x" * 5000, "not a multiple of the 4096-byte page"),
        ("empty.bin", b"", "empty corpus"),
        ("fake.gz", b"x" * 4096, "not a gzip file"),
        ("fake.zst", b"x" * 4096, "not a zstd file"),
        ("trunc.gz", gzip.compress(b"x" * 8192)[:20], "corrupt gzip"),
    ],
)
def test_malformed_corpus_refused(tmp_path: Path, name: str, content: bytes,
                                  message: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(KcompressdError, match=message):
        read_pages(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KcompressdError, match="no such corpus file"):
        read_pages(tmp_path / "nope")


def test_write_refuses_bad_outputs(tmp_path: Path) -> None:
    with pytest.raises(KcompressdError, match="does not exist"):
        write_pages(tmp_path / "no" / "c.bin", PAGES)
    (tmp_path / "d").mkdir()
    with pytest.raises(KcompressdError, match="is a directory"):
        write_pages(tmp_path / "d", PAGES)
    assert list((tmp_path / "d").iterdir()) == []
