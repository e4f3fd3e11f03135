"""CPU time of threads from /proc/PID/stat, and kernel threads found by name.

kswapdN and kcompressdN are kernel threads: their pids are found by `comm` and their CPU time
is utime + stime (fields 14 and 15 of proc_pid_stat(5), in clock ticks). kdamond.N threads are
counted too: a DAMON scheme with the pageout action (some VMs run one) reclaims beside kswapd.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PROC = Path("/proc")
CLK_TCK = os.sysconf("SC_CLK_TCK")
# kcompressd0:1 is node 0's second worker (the patch's naming, as kswapd0:1 was the RFC's).
RECLAIM_THREADS = re.compile(r"(kswapd|kcompressd)\d+(:\d+)?|kdamond\.\d+")


def _fields(pid: int) -> tuple[str, list[str]] | None:
    """(comm, fields after comm), or None when the task is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm is in parentheses and may itself contain spaces or parentheses.
    head, _, tail = raw.rpartition(")")
    return head.partition("(")[2], tail.split()


def cpus_busy_seconds(stat: Path = Path("/proc/stat")) -> float:
    """CPU-seconds all CPUs spent working since boot: the "cpu" line of /proc/stat's user,
    nice, system, irq and softirq (not idle, iowait, steal, nor the guest time that user and
    nice already count)."""
    with open(stat) as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = (fields + [0] * 7)[:7]
    return (user + nice + system + irq + softirq) / CLK_TCK


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a task in seconds; None when it has exited."""
    f = _fields(pid)
    if f is None:
        return None
    rest = f[1]
    # rest[0] is field 3 (state): utime/stime are fields 14/15.
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def context_switches(pid: int) -> tuple[int, int] | None:
    """(voluntary, nonvoluntary) context switches of a task from /proc/PID/status; None when
    it has exited."""
    try:
        text = (PROC / str(pid) / "status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    got = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.endswith("ctxt_switches"):
            got[key] = int(value)
    return got["voluntary_ctxt_switches"], got["nonvoluntary_ctxt_switches"]


def reclaim_threads() -> dict[str, int]:
    """comm -> pid of every kswapdN / kcompressdN / kdamond.N kernel thread."""
    out = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        f = _fields(int(entry.name))
        if f is not None and RECLAIM_THREADS.fullmatch(f[0]):
            out[f[0]] = int(entry.name)
    return dict(sorted(out.items()))
