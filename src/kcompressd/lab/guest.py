"""Run one command in a lab guest: boot, stream its output, return its exit status.

The job share (a host directory, read-write in the guest) carries the command, its
environment, its stdout and stderr (tailed while it runs, so output streams), its exit status
and the guest's kernel messages. QEMU is started in its own session with a parent-death
signal and killed in a `finally`, so it is gone when `run` returns or raises, whatever ended
it: the command, a timeout, a panic, Ctrl-C, SIGTERM, or this process being killed.
"""

from __future__ import annotations

import ctypes
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from kcompressd.errors import KcompressdError
from kcompressd.lab.qemu import Shape, command_line

POLL = 0.1
CONSOLE_TAIL = 20
# Passed into the guest so that the command finds the same programs, venv and caches.
ENV_KEYS = ("PATH", "HOME", "LANG", "LC_ALL", "TERM", "VIRTUAL_ENV", "PYTHONPATH",
            "KCOMPRESSD_CACHE", "XDG_CACHE_HOME", "COLUMNS")
# Kernel messages that fail a guest run: the kernel found a bug (its own or ours).
# (lockdep's splats are "WARNING: possible circular locking ..." and the like; its boot
# banner, "RCU lockdep checking is enabled", is not a report.)
KERNEL_REPORTS = re.compile(
    r"WARNING:|BUG:|Oops|Kernel panic|possible circular locking|possible recursive locking|"
    r"inconsistent lock state|suspicious RCU usage|KASAN:|UBSAN:|general protection fault|"
    r"sleeping function called from invalid context|INFO: task .* blocked")


class GuestTimeout(KcompressdError):
    exit_code = 124  # as timeout(1)


class GuestCrashed(KcompressdError):
    exit_code = 125


@dataclass
class GuestRun:
    status: int
    console: str
    dmesg: str
    seconds: float

    def kernel_reports(self) -> list[str]:
        """The lines of the kernel's messages that report a bug (dmesg when the guest could
        save it, else what the serial console caught)."""
        text = self.dmesg or self.console
        return [line for line in text.splitlines() if KERNEL_REPORTS.search(line)]

    def fail_on_reports(self, during: str) -> None:
        """A guest whose kernel reported a bug failed, whatever its command's status: the
        report's first lines on stderr, then one error line."""
        reports = self.kernel_reports()
        if reports:
            sys.stderr.write("".join(f"  {line}\n" for line in reports[:10]))
            raise GuestCrashed(f"the guest kernel reported {len(reports)} problem line(s) "
                               f"{during} (first: {reports[0].strip()[:120]})")


def init_script() -> Path:
    return Path(str(resources.files("kcompressd.lab") / "guest" / "init.sh"))


def _cache_overlays(env: dict[str, str]) -> str:
    """The host directories a guest command may want to write into, made overlays there."""
    dirs = []
    for key in ("KCOMPRESSD_CACHE", "XDG_CACHE_HOME"):
        if env.get(key):
            dirs.append(env[key])
    if env.get("HOME"):
        dirs.append(f"{env['HOME']}/.cache")
    return " ".join(d for d in dirs if os.path.isdir(d) and " " not in d)


def write_job(job: Path, command: Sequence[str], env: dict[str, str], cwd: Path) -> None:
    exported = {k: env[k] for k in ENV_KEYS if k in env}
    exported["PYTHONDONTWRITEBYTECODE"] = "1"
    exported["KCOMPRESSD_LAB_CWD"] = str(cwd)
    exported["KCOMPRESSD_LAB_OVERLAYS"] = _cache_overlays(env)
    (job / "env").write_text("".join(f"export {k}={shlex.quote(v)}\n"
                                     for k, v in exported.items()))
    (job / "cmd").write_text(f"exec {shlex.join(command)}\n")


class _Tail:
    """Copy what a file gains to a sink as it grows."""

    def __init__(self, path: Path, sink: BinaryIO | None) -> None:
        self.path, self.sink, self.offset = path, sink, 0

    def pump(self) -> None:
        if self.sink is None:
            return
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return
        if data:
            self.offset += len(data)
            self.sink.write(data)
            self.sink.flush()


class _Terminated(KeyboardInterrupt):
    pass


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Terminated(signal.Signals(signum).name)

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _die_with_parent() -> None:
    """In the child: SIGKILL when the parent dies, so even a SIGKILLed caller leaves no QEMU."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def show_console_tail(console: str) -> None:
    """The guest console's last lines on stderr, before the one-line error that ends a run."""
    lines = console.splitlines()[-CONSOLE_TAIL:]
    sys.stderr.write("guest console (last lines):\n" + "".join(f"  {ln}\n" for ln in lines))


def run(command: Sequence[str], *, bzimage: Path, shape: Shape, accel: str, timeout: float,
        stdout: BinaryIO | None, stderr: BinaryIO | None, cwd: Path | None = None,
        prepare: Callable[[Path], None] | None = None,
        collect: Callable[[Path], None] | None = None, disk_mib: int = 0) -> GuestRun:
    """Boot, run `command` as root in the guest, power off; its exit status and the logs.

    `disk_mib` adds an empty scratch disk, /dev/vda in the guest (a swap device that is
    neither zram nor in guest memory), thrown away with the job directory.

    The job directory is /run/kcompressd-job in the guest: `prepare(job)` places input files
    there before the boot, `collect(job)` takes output files from it after the guest is gone.
    """
    with tempfile.TemporaryDirectory(prefix="kcompressd-lab-") as tmp:
        job = Path(tmp)
        disk = None
        if disk_mib:
            disk = job / "scratch.img"
            with open(disk, "wb") as f:
                f.truncate(disk_mib << 20)
        result = _run_in(job, command, bzimage=bzimage, shape=shape, accel=accel,
                         timeout=timeout, stdout=stdout, stderr=stderr,
                         cwd=cwd or Path.cwd(), prepare=prepare, disk=disk)
        if collect is not None:
            collect(job)
        return result


def _run_in(job: Path, command: Sequence[str], *, bzimage: Path, shape: Shape, accel: str,
            timeout: float, stdout: BinaryIO | None, stderr: BinaryIO | None, cwd: Path,
            prepare: Callable[[Path], None] | None, disk: Path | None) -> GuestRun:
    write_job(job, command, dict(os.environ), cwd)
    if prepare is not None:
        prepare(job)
    console_path = job / "console.log"
    console_path.touch()
    args = command_line(bzimage=bzimage, shape=shape, accel=accel, init=init_script(),
                        job=job, console=console_path, disk=disk)
    tails = [_Tail(job / "stdout", stdout), _Tail(job / "stderr", stderr)]
    t0 = time.monotonic()
    with _sigterm_raises():
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True,
                                preexec_fn=_die_with_parent)
        try:
            while proc.poll() is None:
                if time.monotonic() - t0 > timeout:
                    proc.kill()
                    proc.wait()
                    show_console_tail(console_path.read_text(errors="replace"))
                    raise GuestTimeout(f"the guest ran past --timeout {timeout:g} s; QEMU "
                                       "was stopped")
                for t in tails:
                    t.pump()
                time.sleep(POLL)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for t in tails:
        t.pump()
    seconds = time.monotonic() - t0
    console = console_path.read_text(errors="replace")
    dmesg_path = job / "dmesg"
    dmesg = dmesg_path.read_text(errors="replace") if dmesg_path.exists() else ""
    status_path = job / "status"
    if not status_path.exists():
        qemu_err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
        if "Kernel panic" in console:
            what = "the guest kernel panicked"
        elif qemu_err:
            what = f"QEMU failed (exit {proc.returncode}): {qemu_err.splitlines()[-1]}"
        else:
            what = f"the guest stopped before its command finished (QEMU exit {proc.returncode})"
        show_console_tail(console)
        raise GuestCrashed(what)
    return GuestRun(int(status_path.read_text()), console, dmesg, seconds)
