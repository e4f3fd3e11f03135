"""Capture the private anonymous pages of a running process: the pages reclaim would swap.

Anonymous memory is what `shrink_folio_list()` sends to `swap_writepage()`: the heap, stacks
and private anonymous mappings (including `[anon:name]` ones). File-backed, shared and special
mappings ([vvar], [vdso], [vsyscall]) are skipped.

The process is stopped with SIGSTOP while its memory is read from /proc/PID/mem, so the pages
form one consistent snapshot, and continued with SIGCONT afterwards, also on errors (a process
that was already stopped before is left stopped). /proc/PID/pagemap tells which pages are
present in RAM or swapped out; the others were never touched (reading them would only give
zeros the kernel never swaps), so they are skipped. The present/swapped bits need the same
ptrace access as /proc/PID/mem, not root (root additionally sees PFNs, which are not used).
Reading a swapped-out page through /proc/PID/mem swaps it back in. Pages that cannot be read
(EIO, e.g. guard pages) are skipped.

Access: root, or CAP_SYS_PTRACE, or the same user when kernel.yama.ptrace_scope allows it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kcompressd import PAGE_SIZE
from kcompressd.errors import KcompressdError

_SPECIAL = ("[vvar]", "[vvar_vclock]", "[vdso]", "[vsyscall]", "[uprobes]")
_PM_PRESENT = 1 << 63
_PM_SWAP = 1 << 62
_STOP_TIMEOUT_S = 5.0
_RUN_PAGES = 256  # pages read per pread when they are contiguous and present


@dataclass
class Region:
    """One mapping of /proc/PID/maps or /proc/PID/smaps (resident and swap kB from smaps)."""

    start: int
    end: int
    perms: str
    inode: int
    path: str
    rss_kb: int | None = None
    swap_kb: int | None = None

    @property
    def private_anonymous(self) -> bool:
        if len(self.perms) < 4 or self.perms[0] != "r" or self.perms[3] != "p":
            return False
        if self.inode or self.path in _SPECIAL:
            return False
        return (self.path == "" or self.path in ("[heap]", "[stack]")
                or self.path.startswith(("[stack:", "[anon:")))

    @property
    def populated(self) -> bool:
        """False only when smaps says nothing is resident or swapped (no pagemap walk needed)."""
        return self.rss_kb is None or bool(self.rss_kb or self.swap_kb)


_HEADER = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$")


def parse_maps(text: str) -> list[Region]:
    """Regions of a /proc/PID/maps or /proc/PID/smaps text."""
    regions: list[Region] = []
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m:
            lo, hi, perms, inode, path = m.groups()
            regions.append(Region(int(lo, 16), int(hi, 16), perms, int(inode), path.strip()))
        elif regions and line.startswith(("Rss:", "Swap:")):
            kb = int(line.split()[1])
            if line.startswith("Rss:"):
                regions[-1].rss_kb = kb
            else:
                regions[-1].swap_kb = kb
    return regions


def _state(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2]


def _wait_stopped(pid: int) -> None:
    deadline = time.monotonic() + _STOP_TIMEOUT_S
    while _state(pid) not in "Tt":
        if time.monotonic() > deadline:
            raise KcompressdError(f"process {pid} did not stop within {_STOP_TIMEOUT_S:.0f} s")
        time.sleep(0.001)


def _present(pagemap: int, region: Region) -> Iterator[tuple[int, int]]:
    """(address, pages) runs of present or swapped pages in the region."""
    first = region.start // PAGE_SIZE
    n = (region.end - region.start) // PAGE_SIZE
    step = 1 << 16
    for chunk in range(0, n, step):
        raw = os.pread(pagemap, 8 * min(step, n - chunk), 8 * (first + chunk))
        entries = np.frombuffer(raw, dtype="<u8")
        idx = np.flatnonzero(entries & np.uint64(_PM_PRESENT | _PM_SWAP)) + chunk
        if not len(idx):
            continue
        # Split into runs of consecutive pages, at most _RUN_PAGES long.
        breaks = np.flatnonzero(np.diff(idx) != 1) + 1
        for run in np.split(idx, breaks):
            for i in range(0, len(run), _RUN_PAGES):
                part = run[i : i + _RUN_PAGES]
                yield region.start + int(part[0]) * PAGE_SIZE, len(part)


def _read_run(mem: int, addr: int, pages: int) -> Iterator[bytes]:
    """The readable pages of a run; unreadable pages (EIO) are skipped one by one."""
    try:
        data = os.pread(mem, pages * PAGE_SIZE, addr)
    except OSError:
        data = b""
    if len(data) == pages * PAGE_SIZE:
        for i in range(pages):
            yield data[i * PAGE_SIZE : (i + 1) * PAGE_SIZE]
        return
    for i in range(pages):
        try:
            page = os.pread(mem, PAGE_SIZE, addr + i * PAGE_SIZE)
        except OSError:
            continue
        if len(page) == PAGE_SIZE:
            yield page


_PF_KTHREAD = 0x00200000  # include/linux/sched.h


def _refuse_kernel_thread(pid: int) -> None:
    """A kernel thread has no user memory: its /proc/PID/mem cannot even be opened (ESRCH)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        raise KcompressdError(f"no process with PID {pid}") from None
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    flags = int(stat[stat.rindex(")") + 2 :].split()[6])
    if flags & _PF_KTHREAD:
        raise KcompressdError(f"PID {pid} ({name}) is a kernel thread: it has no user memory "
                              "to capture")


def _no_permission(pid: int, what: str) -> KcompressdError:
    if os.geteuid() == 0:
        return KcompressdError(
            f"the kernel refuses to let root {what} PID {pid}: the process is not dumpable, "
            "is in another user namespace, or ptrace is restricted (Yama ptrace_scope 3, or "
            "no CAP_SYS_PTRACE in this container)")
    return KcompressdError(
        f"no permission to {what} PID {pid}: needs root or ptrace rights (CAP_SYS_PTRACE, or "
        "the same user with kernel.yama.ptrace_scope=0)")


def _open(pid: int, name: str) -> int:
    try:
        return os.open(f"/proc/{pid}/{name}", os.O_RDONLY)
    except (FileNotFoundError, ProcessLookupError):
        raise KcompressdError(f"no process with PID {pid}") from None
    except PermissionError:
        raise _no_permission(pid, "read the memory of") from None


def _read_pages(pid: int, mem: int, pagemap: int, max_pages: int | None) -> list[bytes]:
    try:
        maps = Path(f"/proc/{pid}/smaps").read_text()
    except FileNotFoundError:
        raise KcompressdError(f"process {pid} exited during capture") from None
    out: list[bytes] = []
    for region in parse_maps(maps):
        if not (region.private_anonymous and region.populated):
            continue
        for addr, n in _present(pagemap, region):
            for page in _read_run(mem, addr, n):
                out.append(page)
                if max_pages is not None and len(out) >= max_pages:
                    return out
    return out


def _stop(pid: int) -> bool:
    """SIGSTOP the process; True if it was stopped already (then it is left stopped)."""
    try:
        already = _state(pid) in "Tt"
        os.kill(pid, signal.SIGSTOP)
    except (FileNotFoundError, ProcessLookupError):
        raise KcompressdError(f"no process with PID {pid}") from None
    except PermissionError:
        raise _no_permission(pid, "stop") from None
    return already


def capture_pages(pid: int, max_pages: int | None = None) -> list[bytes]:
    """Private anonymous pages (present or swapped) of process `pid`, read while it is stopped."""
    if max_pages is not None and max_pages < 1:
        raise KcompressdError(f"max pages must be >= 1, got {max_pages}")
    if pid <= 0:
        raise KcompressdError(f"invalid PID {pid}")
    if pid == os.getpid():
        raise KcompressdError("cannot capture the capturing process itself")
    _refuse_kernel_thread(pid)
    with contextlib.ExitStack() as files:
        mem = _open(pid, "mem")
        files.callback(os.close, mem)
        pagemap = _open(pid, "pagemap")
        files.callback(os.close, pagemap)
        already_stopped = _stop(pid)
        try:
            _wait_stopped(pid)
            return _read_pages(pid, mem, pagemap, max_pages)
        except FileNotFoundError:
            raise KcompressdError(f"process {pid} exited during capture") from None
        finally:
            if not already_stopped:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)
