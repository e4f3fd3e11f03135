"""Real guests under QEMU: status, streaming, shape, read-only root, timeouts and signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from labhelpers import needs_lab

# the first test to need a kernel builds it (minutes, cold): the timeout covers that
pytestmark = [needs_lab, pytest.mark.slow, pytest.mark.timeout(3600)]


def lab_run(kernel: dict, *command: str, shape: tuple[str, ...] = ("--cpus", "1", "--memory",
            "512"), timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kcompressd", "lab", "run", "--kernel",
                           kernel["id"], *shape, "--", *command],
                          capture_output=True, text=True, timeout=timeout)


def qemu_pids() -> set[int]:
    """QEMU processes running a lab guest (their job share is a kcompressd-lab- directory)."""
    out = subprocess.run(["pgrep", "-f", "qemu-system-x86_64.*kcompressd-lab-"],
                         capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def test_the_command_exit_status_and_output_come_back(vanilla_kernel):
    r = lab_run(vanilla_kernel, "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7")
    assert r.returncode == 7, r.stderr
    assert r.stdout == "to-stdout\n"
    assert "to-stderr" in r.stderr
    assert "accelerator" in r.stderr  # which accelerator ran is said


def test_output_streams_while_the_guest_runs(vanilla_kernel):
    proc = subprocess.Popen([sys.executable, "-m", "kcompressd", "lab", "run", "--kernel",
                             vanilla_kernel["id"], "--cpus", "1", "--memory", "512", "--",
                             "sh", "-c", "echo first; sleep 15; echo second"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "first\n"
        assert proc.poll() is None  # the guest is still sleeping
        assert proc.stdout.readline() == "second\n"
        assert proc.wait(timeout=120) == 0
    finally:
        proc.kill()


# CPU-bound work timed by the guest's own clock (zlib in C: no host I/O inside the timing).
TIMED_WORK = ("import time, zlib; d = bytes(range(256)) * 64; t = time.perf_counter(); "
              "[zlib.compress(d) for _ in range(2000)]; print(time.perf_counter() - t)")


def test_icount_guest_time_repeats_across_boots(vanilla_kernel):
    """The point of --accel icount: plain TCG's guest clock runs at whatever speed the host
    and the emulator's TLB give it, icount's counts instructions."""
    times = []
    for _ in range(2):
        r = lab_run(vanilla_kernel, sys.executable, "-c", TIMED_WORK,
                    shape=("--cpus", "1", "--memory", "512", "--accel", "icount"))
        assert r.returncode == 0, r.stderr
        assert "accelerator icount" in r.stderr
        times.append(float(r.stdout))
    assert abs(times[0] - times[1]) <= 0.01 * max(times), times


def test_two_nodes_give_two_kswapds(vanilla_kernel):
    r = lab_run(vanilla_kernel, "sh", "-c",
                "ls -d /sys/devices/system/node/node*; cat /proc/[0-9]*/comm | grep '^kswapd'",
                shape=("--cpus", "2", "--memory", "1024", "--nodes", "2"))
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == ["/sys/devices/system/node/node0",
                                        "/sys/devices/system/node/node1", "kswapd0", "kswapd1"]


def test_the_host_root_is_read_only_and_tmp_is_a_private_overlay(vanilla_kernel, tmp_path):
    (tmp_path / "seen").write_text("from the host\n")
    r = lab_run(vanilla_kernel, "sh", "-c",
                f"cat {tmp_path}/seen; touch {tmp_path}/made-in-guest && echo tmp-writable; "
                "touch /usr/kcompressd-probe 2>/dev/null || echo root-read-only")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:3] == ["from the host", "tmp-writable", "root-read-only"]
    assert not (tmp_path / "made-in-guest").exists()  # the guest's writes stay in the guest


def test_a_timeout_stops_qemu_and_says_so(vanilla_kernel):
    before = qemu_pids()
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "kcompressd", "lab", "run", "--kernel",
                        vanilla_kernel["id"], "--cpus", "1", "--memory", "512", "--timeout",
                        "25", "--", "sleep", "600"], capture_output=True, text=True, timeout=200)
    assert r.returncode == 124
    assert r.stderr.strip().splitlines()[-1].startswith("kcompressd: error: the guest ran past "
                                                        "--timeout 25 s")
    assert time.monotonic() - t0 < 120
    assert qemu_pids() <= before


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_leaves_no_qemu_behind(vanilla_kernel, sig):
    before = qemu_pids()
    # As from a terminal: a test run started in the background (`pytest &`) ignores SIGINT,
    # and so would the lab run it starts.
    proc = subprocess.Popen([sys.executable, "-m", "kcompressd", "lab", "run", "--kernel",
                             vanilla_kernel["id"], "--cpus", "1", "--memory", "512", "--",
                             "sleep", "600"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while not (qemu_pids() - before) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert qemu_pids() - before, "QEMU never started"
        time.sleep(2)
        os.kill(proc.pid, sig)
        assert proc.wait(timeout=30) != 0
    finally:
        proc.kill()
    deadline = time.monotonic() + 10
    while qemu_pids() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not qemu_pids() - before


def test_kernel_reports_are_bug_reports_not_banners():
    from kcompressd.lab.guest import GuestRun

    banner = "[    0.000000] rcu: \tRCU lockdep checking is enabled.\n"
    splat = "[   12.5] WARNING: possible circular locking dependency detected\n"
    assert GuestRun(0, "", banner, 1.0).kernel_reports() == []
    assert GuestRun(0, "", banner + splat, 1.0).kernel_reports() == [splat.strip()]
    assert GuestRun(0, "BUG: kernel NULL pointer dereference\n", "", 1.0).kernel_reports()
