import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import refused
from helpers import run_kcompressd as kc
from kcompressd.cli import app
from kcompressd.codecs import available
from kcompressd.corpus.io import read_pages
from kcompressd.corpus.synth import synth_pages

runner = CliRunner()


def test_synth_json_and_determinism(tmp_path: Path) -> None:
    out = tmp_path / "s.bin"
    r = runner.invoke(app, ["corpus", "synth", "--profile", "server", "--pages", "40",
                            "--seed", "3", "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"output": str(out), "pages": 40, "profile": "server",
                                    "seed": 3}
    assert read_pages(out) == synth_pages("server", 40, 3)
    again = tmp_path / "again.zst"
    assert runner.invoke(app, ["corpus", "synth", "--profile", "server", "--pages", "40",
                               "--seed", "3", "-o", str(again)]).exit_code == 0
    assert read_pages(again) == read_pages(out)


def test_synth_refusals(tmp_path: Path) -> None:
    refused(kc("corpus", "synth", "--profile", "tablet", "-o", str(tmp_path / "x")),
            "valid profiles: phone, desktop, server")
    refused(kc("corpus", "synth", "--pages", "0", "-o", str(tmp_path / "x")), "--pages")
    refused(kc("corpus", "synth", "-o", str(tmp_path / "no" / "x")), "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_info_json_is_one_document(tmp_path: Path) -> None:
    f = tmp_path / "c.gz"
    pages = synth_pages("phone", 100, 1)
    f.write_bytes(gzip.compress(b"".join(pages)))
    r = kc("corpus", "info", str(f), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # exactly one document: loads would fail on trailing data
    assert doc["pages"] == 100 and doc["file"] == str(f)
    assert doc["same_filled_pages"] == 11 and doc["zero_pages"] == 8
    assert list(doc["codecs"]) == available()
    assert doc["codecs"]["lz4"]["huge_pages"] == 8
    for stats in doc["codecs"].values():
        assert stats["ratio"] > 1 and 0 < stats["huge_pages"] <= 8
        assert stats["mean_compress_ns"] > 0 and stats["mean_decompress_ns"] > 0


def test_info_table(tmp_path: Path) -> None:
    f = tmp_path / "c.bin"
    f.write_bytes(b"".join(synth_pages("desktop", 50, 0)))
    r = runner.invoke(app, ["corpus", "info", str(f), "--codec", "lz4", "--repeat", "2"])
    assert r.exit_code == 0, r.output
    assert "50 pages" in r.stdout and "lz4" in r.stdout and "zstd" not in r.stdout


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("odd.bin", b"x" * 5000, "not a multiple"),
        ("empty.bin", b"", "empty corpus"),
        ("fake.gz", b"x" * 4096, "not a gzip file"),
        ("fake.zst", b"x" * 4096, "not a zstd file"),
        ("dir", None, "is a directory"),
        ("missing.bin", ..., "no such corpus file"),
        ("trunc.gz", gzip.compress(b"x" * 8192)[:20], "corrupt gzip"),
        ("bad.gz", gzip.compress(b"x" * 8192)[:10] + b"\xff" * 40, "corrupt gzip"),
    ],
)
def test_info_refuses_malformed(tmp_path: Path, name: str, content: bytes | None,
                                message: str) -> None:
    f = tmp_path / name
    if content is None:
        f.mkdir()
    elif content is not ...:
        f.write_bytes(content)
    refused(kc("corpus", "info", str(f), "--json"), message)


def test_info_unknown_codec(tmp_path: Path) -> None:
    f = tmp_path / "c.bin"
    f.write_bytes(bytes(4096))
    refused(kc("corpus", "info", str(f), "--codec", "brotli"), "available: lz4")


def test_builtin(tmp_path: Path) -> None:
    r = kc("corpus", "builtin", "--profile", "desktop", "--json",
           env={"KCOMPRESSD_CACHE": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    path = Path(json.loads(r.stdout)["path"])
    assert path.parent == tmp_path and len(read_pages(path)) == 2048


def test_capture(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nb = bytearray(b'CLI-MARK' * 65536)\n"
         "print('ready', flush=True)\ntime.sleep(120)"], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        out = tmp_path / "cap.zst"
        r = kc("corpus", "capture", "--pid", str(child.pid), "-o", str(out), "--json")
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        pages = read_pages(out)
        assert doc == {"output": str(out), "pages": len(pages), "pid": child.pid}
        assert sum(p == b"CLI-MARK" * 512 for p in pages) >= 120
        r = kc("corpus", "capture", "--pid", str(child.pid), "-o", str(out), "--max-pages", "7")
        assert r.returncode == 0 and len(read_pages(out)) == 7
    finally:
        child.kill()
        child.wait()
    refused(kc("corpus", "capture", "--pid", str(child.pid), "-o", str(tmp_path / "x.bin")),
            "no process with PID")
    assert not (tmp_path / "x.bin").exists()


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
def test_endless_inputs_are_refused_at_once(tmp_path: Path, kind: str) -> None:
    """/dev/zero or a FIFO nobody writes to would be read forever: refused before reading."""
    path = kind
    if kind == "fifo":
        path = str(tmp_path / "pipe")
        os.mkfifo(path)
    start = time.monotonic()
    for args in (["corpus", "info", path], ["zram", "replay", path]):
        r = kc(*args)
        refused(r, "not a corpus file")
        assert ("character device" if kind == "/dev/zero" else "FIFO") in r.stderr
    assert time.monotonic() - start < 60  # no read that waits on the input


def test_max_pages_reads_the_start_and_huge_files_need_it(tmp_path: Path) -> None:
    f = tmp_path / "c.gz"
    f.write_bytes(gzip.compress(b"".join(synth_pages("desktop", 40, 0))))
    doc = json.loads(kc("corpus", "info", str(f), "--max-pages", "8", "--codec", "lz4",
                        "--json").stdout)
    assert doc["pages"] == 8
    replay = json.loads(kc("zram", "replay", str(f), "--max-pages", "5", "--json").stdout)
    assert replay["pages"] == 5
    huge = tmp_path / "huge.bin"
    with huge.open("wb") as out:  # sparse: takes no disk
        out.truncate(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    refused(kc("corpus", "info", str(huge)), "--max-pages")
    doc = json.loads(kc("corpus", "info", str(huge), "--max-pages", "4", "--codec", "lz4",
                        "--json").stdout)
    assert doc["pages"] == 4 and doc["zero_pages"] == 4
    refused(kc("corpus", "info", str(f), "--max-pages", "0"), "--max-pages must be >= 1")


def test_capture_of_a_kernel_thread_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "k.bin"
    refused(kc("corpus", "capture", "--pid", "2", "-o", str(out)), "is a kernel thread")
    assert not out.exists()
