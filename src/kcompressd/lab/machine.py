"""A guest ready to boot: the kernel resolved, the shape checked, the accelerator chosen."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from kcompressd.errors import KcompressdError
from kcompressd.lab import guest, image
from kcompressd.lab.qemu import Shape, check_accel, choose_accel, qemu_binary

PROBE_TIMEOUT = 60.0


@dataclass(frozen=True)
class Machine:
    bzimage: Path
    kernel: dict[str, Any]  # id, version, patches (None for an image from elsewhere)
    shape: Shape
    accel: str
    accel_reason: str

    def describe(self) -> dict[str, Any]:
        """What ran, as results record it (`meta.vm`)."""
        return {"accel": self.accel, "cpus": self.shape.cpus,
                "memory_mib": self.shape.memory_mib, "nodes": self.shape.nodes,
                "kernel": self.kernel}

    def run(self, command: Sequence[str], *, timeout: float, stdout: BinaryIO | None,
            stderr: BinaryIO | None, prepare: Callable[[Path], None] | None = None,
            collect: Callable[[Path], None] | None = None, disk_mib: int = 0
            ) -> guest.GuestRun:
        return guest.run(command, bzimage=self.bzimage, shape=self.shape, accel=self.accel,
                         timeout=timeout, stdout=stdout, stderr=stderr, prepare=prepare,
                         collect=collect, disk_mib=disk_mib)


def _probe_kvm(bzimage: Path, shape: Shape) -> bool:
    try:
        return guest.run(["true"], bzimage=bzimage, shape=shape, accel="kvm",
                         timeout=PROBE_TIMEOUT, stdout=None, stderr=None).status == 0
    except KcompressdError:
        return False


def machine(kernel: str | None, shape: Shape, accel: str, *, quiet: bool = False) -> Machine:
    """Resolve and check everything before a guest boots; say which accelerator on stderr."""
    shape.validate()
    check_accel(accel)
    qemu_binary()
    bzimage, known = image.resolve(kernel)
    chosen, reason = choose_accel(accel, lambda: _probe_kvm(bzimage, shape))
    if chosen == "icount" and shape.cpus > 1:
        reason += ("; its vCPUs take turns on one clock, so it is no SMP machine: its timings "
                   "stand for none")
    if not quiet:
        what = known.get("version") or bzimage
        print(f"kcompressd: lab guest: {shape.cpus} vCPU, {shape.memory_mib} MiB, "
              f"{shape.nodes} node(s), kernel {what}, accelerator {chosen} ({reason})",
              file=sys.stderr)
    return Machine(bzimage, known, shape, chosen, reason)
