import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kcompressd.corpus import capture
from kcompressd.corpus.capture import capture_pages, parse_maps
from kcompressd.errors import KcompressdError

MARKER = b"KCOMPRESSD-CAPTURE-MARKER-"
# The child keeps a known 2 MiB buffer and a 64 MiB private anonymous mapping it never touches.
CHILD = f"""
import mmap, time
keep = bytearray({MARKER!r} * (2 * 1024 * 1024 // {len(MARKER)}))
untouched = mmap.mmap(-1, 64 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
print("ready", flush=True)
time.sleep(120)
"""


def _state(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2]


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    p = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE)
    assert p.stdout is not None and p.stdout.readline() == b"ready\n"
    yield p
    p.kill()
    p.wait()


def test_selects_private_anonymous_regions() -> None:
    text = """\
55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0                          [heap]
55d0c0b00000-55d0c0b01000 r--p 00000000 08:01 1234                       /usr/bin/python3
7f00aa000000-7f00aa100000 rw-p 00000000 00:00 0
7f00ab000000-7f00ab100000 rw-s 00000000 00:01 77                         /dev/zero (deleted)
7f00ac000000-7f00ac100000 ---p 00000000 00:00 0
7f00ad000000-7f00ad100000 rw-p 00000000 00:00 0                          [anon:dalvik-heap]
7ffc10000000-7ffc10021000 rw-p 00000000 00:00 0                          [stack]
7ffc10100000-7ffc10104000 r--p 00000000 00:00 0                          [vvar]
7ffc10104000-7ffc10106000 r-xp 00000000 00:00 0                          [vdso]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
"""
    regions = parse_maps(text)
    assert len(regions) == 10
    chosen = [(r.start, r.path) for r in regions if r.private_anonymous]
    assert chosen == [(0x55D0C0A00000, "[heap]"), (0x7F00AA000000, ""),
                      (0x7F00AD000000, "[anon:dalvik-heap]"), (0x7FFC10000000, "[stack]")]


def test_smaps_sizes() -> None:
    text = """\
7f00aa000000-7f00aa100000 rw-p 00000000 00:00 0
Size:               1024 kB
Rss:                   0 kB
Swap:                  0 kB
7f00ab000000-7f00ab100000 rw-p 00000000 00:00 0
Rss:                   0 kB
Swap:                  8 kB
"""
    a, b = parse_maps(text)
    assert (a.rss_kb, a.swap_kb, a.populated) == (0, 0, False)
    assert (b.rss_kb, b.swap_kb, b.populated) == (0, 8, True)


def test_capture_finds_the_childs_memory(child: subprocess.Popen[bytes]) -> None:
    pages = capture_pages(child.pid)
    assert all(len(p) == 4096 for p in pages)
    marked = sum(MARKER in p for p in pages)
    assert marked >= 2 * 1024 * 1024 // 4096 - 2
    # The untouched 64 MiB mapping is not read (it would add 16384 zero pages).
    assert len(pages) < 16384
    assert _state(child.pid) not in "Tt"  # continued


def test_max_pages(child: subprocess.Popen[bytes]) -> None:
    assert len(capture_pages(child.pid, max_pages=10)) == 10
    assert _state(child.pid) not in "Tt"


def test_continued_after_an_error(child: subprocess.Popen[bytes],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def fail(pid: int, *a: object) -> list[bytes]:
        seen.append(_state(pid))
        raise RuntimeError("read failed")

    monkeypatch.setattr(capture, "_read_pages", fail)
    with pytest.raises(RuntimeError):
        capture_pages(child.pid)
    assert seen == ["T"]  # stopped while reading
    assert _state(child.pid) not in "Tt"


def test_already_stopped_process_stays_stopped(child: subprocess.Popen[bytes]) -> None:
    os.kill(child.pid, 19)  # SIGSTOP
    while _state(child.pid) != "T":
        time.sleep(0.001)
    assert capture_pages(child.pid, max_pages=1)
    assert _state(child.pid) == "T"
    os.kill(child.pid, 18)  # SIGCONT


def test_no_such_process_and_bad_arguments() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with pytest.raises(KcompressdError, match=f"no process with PID {gone.pid}"):
        capture_pages(gone.pid)
    with pytest.raises(KcompressdError, match="itself"):
        capture_pages(os.getpid())
    with pytest.raises(KcompressdError, match="max pages"):
        capture_pages(1, max_pages=0)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to try the capture as another user")
def test_permission_message(child: subprocess.Popen[bytes]) -> None:
    # A forked copy of this process drops to user nobody and tries to capture a root process.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        msg = b"unexpected error"
        try:
            os.setgid(65534)
            os.setuid(65534)
            capture_pages(child.pid)
            msg = b"captured"
        except KcompressdError as e:
            msg = str(e).encode()
        finally:
            os.write(w, msg)
            os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    with os.fdopen(r, "rb") as f:
        msg = f.read().decode()
    assert "needs root or ptrace rights" in msg
    assert _state(child.pid) not in "Tt"
