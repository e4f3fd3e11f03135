"""QEMU command lines for lab guests, and the choice of accelerator.

KVM is used only where the CPU really offers it: `/dev/kvm` alone is not enough (on PVM hosts
it exists but cannot run a stock kernel), so `auto` wants `svm`/`vmx` in /proc/cpuinfo and a
probe boot that succeeds; anything else runs under TCG, whose timings are an emulated
machine's and are labelled so.

`icount` is TCG with QEMU's instruction counting: the guest's clock is its instruction count
(2**ICOUNT_SHIFT ns each), and an idle guest's clock jumps to its next timer. Its timings are
then those of a fixed-speed machine: a run repeats to within a percent however loaded the host
is, and the emulator's own costs (its software TLB, its helpers) no longer count as guest time.
Plain TCG charges them: the same 1-vCPU run there reclaimed 4,000 or 8,000-10,000 pages/s
(docs/validation.md). The price: vCPUs take turns on one host thread and one clock counts all
their instructions, so two busy vCPUs run at half the rate each.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kcompressd.errors import KcompressdError

QEMU = "qemu-system-x86_64"
MAX_CPUS = 8  # CONFIG_NR_CPUS of the lab's fragment
MAX_NODES = 8
MIN_NODE_MIB = 128
MSIZE = 524288  # 9p message size: larger reads per round trip
ICOUNT_SHIFT = 0  # -icount: 1 ns per instruction, a 1 GIPS guest CPU
ACCELS = ("auto", "kvm", "tcg", "icount")


@dataclass(frozen=True)
class Shape:
    """The guest machine: vCPUs, memory and NUMA nodes (memory and CPUs spread evenly)."""

    cpus: int = 2
    memory_mib: int = 2048
    nodes: int = 1

    def validate(self) -> None:
        if not 1 <= self.cpus <= MAX_CPUS:
            raise KcompressdError(f"--cpus must be 1..{MAX_CPUS} (the lab's NR_CPUS), "
                                  f"got {self.cpus}")
        if not 1 <= self.nodes <= MAX_NODES:
            raise KcompressdError(f"--nodes must be 1..{MAX_NODES}, got {self.nodes}")
        if self.memory_mib < MIN_NODE_MIB * self.nodes or self.memory_mib < 256:
            raise KcompressdError(
                f"--memory {self.memory_mib} MiB is too small: at least "
                f"{max(256, MIN_NODE_MIB * self.nodes)} MiB for {self.nodes} node(s)")

    def node_mib(self) -> list[int]:
        base = self.memory_mib // self.nodes
        return [base + (self.memory_mib - base * self.nodes if i == 0 else 0)
                for i in range(self.nodes)]

    def node_cpus(self, node: int) -> list[int]:
        return [c for c in range(self.cpus) if c % self.nodes == node]


def qemu_binary() -> str:
    path = shutil.which(QEMU)
    if path is None:
        raise KcompressdError(f"{QEMU} is missing (as root: apt-get install -y qemu-system-x86)")
    return path


def kvm_capable() -> str | None:
    """None when KVM can be tried, else why not."""
    flags = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            break
    if not flags & {"svm", "vmx"}:
        return "no svm/vmx in /proc/cpuinfo"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is absent or not accessible"
    return None


def accel_args(accel: str) -> list[str]:
    if accel == "kvm":
        return ["-accel", "kvm", "-cpu", "host"]
    if accel == "icount":  # single-threaded TCG: -icount cannot run a thread per vCPU
        return ["-accel", "tcg,thread=single", "-icount", f"shift={ICOUNT_SHIFT},sleep=off",
                "-cpu", "max"]
    return ["-accel", "tcg,thread=multi", "-cpu", "max"]


def numa_args(shape: Shape) -> list[str]:
    if shape.nodes == 1:
        return []
    args: list[str] = []
    for node, mib in enumerate(shape.node_mib()):
        args += ["-object", f"memory-backend-ram,id=mem{node},size={mib}M"]
        cpus = shape.node_cpus(node)
        spec = f"node,nodeid={node},memdev=mem{node}"
        if cpus:
            spec += "".join(f",cpus={c}" for c in cpus)
        args += ["-numa", spec]
    return args


def command_line(*, bzimage: Path, shape: Shape, accel: str, init: Path, job: Path,
                 console: Path, disk: Path | None = None) -> list[str]:
    """The whole QEMU invocation: no devices but the two 9p shares, a serial console and,
    when asked for, a scratch disk (/dev/vda in the guest)."""
    append = " ".join([
        "console=ttyS0", "panic=-1", "oops=panic", "printk.time=1", "loglevel=6",
        "root=root", "rootfstype=9p", "ro",
        f"rootflags=trans=virtio,version=9p2000.L,msize={MSIZE},cache=loose",
        "kcompressd.lab=1", "init=/bin/sh", "--", str(init),
    ])
    return [
        qemu_binary(), "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
        "-monitor", "none", *accel_args(accel), "-smp", str(shape.cpus),
        "-m", f"{shape.memory_mib}M", *numa_args(shape),
        "-kernel", str(bzimage), "-append", append,
        "-virtfs", "local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap",
        "-virtfs", f"local,path={job},mount_tag=job,security_model=none",
        "-serial", f"file:{console}",
        *(["-drive", f"file={disk},format=raw,if=virtio,cache=unsafe"] if disk else []),
    ]


def check_accel(requested: str) -> None:
    if requested not in ACCELS:
        raise KcompressdError(f"--accel must be {', '.join(ACCELS[:-1])} or {ACCELS[-1]}, "
                              f"got {requested!r}")


def choose_accel(requested: str, probe: Callable[[], bool]) -> tuple[str, str]:
    """The accelerator to use and why; `probe` boots a guest under KVM and says if it worked."""
    check_accel(requested)
    if requested == "tcg":
        return "tcg", "asked for"
    if requested == "icount":
        return "icount", "asked for: guest time counts instructions, 1 ns each"
    why_not = kvm_capable()
    if requested == "kvm":
        if why_not:
            raise KcompressdError(f"--accel kvm is not possible here: {why_not}")
        return "kvm", "asked for"
    if why_not:
        return "tcg", f"{why_not}; guest timings are an emulated machine's"
    if not probe():
        return "tcg", "a probe boot under KVM failed; guest timings are an emulated machine's"
    return "kvm", "svm/vmx present and a probe boot worked"
