"""The lab's kernel configuration: `tinyconfig` plus the project's fragments, verified.

Kconfig silently drops an option whose dependencies are unmet, so after merging every option of
the fragments is read back from `.config`; one that did not stick is an error naming it.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from kcompressd.errors import KcompressdError

_SET = re.compile(r"^(CONFIG_\w+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_\w+) is not set$")
# Without these a guest cannot boot the lab's way (host root over virtio-9p, serial console,
# tmpfs and overlays for the writable places), so an image lacking them is refused.
BOOT_OPTIONS = ("CONFIG_64BIT", "CONFIG_SMP", "CONFIG_PCI", "CONFIG_VIRTIO_PCI", "CONFIG_NET",
                "CONFIG_NET_9P", "CONFIG_NET_9P_VIRTIO", "CONFIG_9P_FS", "CONFIG_SERIAL_8250",
                "CONFIG_SERIAL_8250_CONSOLE", "CONFIG_PROC_FS", "CONFIG_SYSFS", "CONFIG_DEVTMPFS",
                "CONFIG_TMPFS", "CONFIG_OVERLAY_FS", "CONFIG_BINFMT_ELF", "CONFIG_BINFMT_SCRIPT",
                "CONFIG_MAGIC_SYSRQ")


def fragment_path(name: str) -> Path:
    return Path(str(resources.files("kcompressd.lab") / "config" / f"{name}.config"))


def fragments(debug: bool, trace: bool = False) -> list[Path]:
    return [fragment_path("lab"), *([fragment_path("debug")] if debug else []),
            *([fragment_path("trace")] if trace else [])]


def parse(text: str) -> dict[str, str | None]:
    """CONFIG_X -> value, None for `# CONFIG_X is not set`; comments and blanks ignored."""
    options: dict[str, str | None] = {}
    for line in text.splitlines():
        line = line.strip()
        if m := _SET.match(line):
            options[m.group(1)] = m.group(2)
        elif m := _UNSET.match(line):
            options[m.group(1)] = None
    return options


def missing(wanted: dict[str, str | None], have: dict[str, str | None]) -> list[str]:
    """The wanted settings `have` does not carry, written as they were wanted."""
    out = []
    for name, value in wanted.items():
        got = have.get(name)
        if value is None:
            if got not in (None, "n"):
                out.append(f"{name}=n")
        elif got != value:
            out.append(f"{name}={value}")
    return out


def verify(config: Path, debug: bool, trace: bool = False) -> None:
    wanted: dict[str, str | None] = {}
    for frag in fragments(debug, trace):
        wanted.update(parse(frag.read_text()))
    lost = missing(wanted, parse(config.read_text()))
    if lost:
        raise KcompressdError(f"{len(lost)} option(s) of the lab's fragment did not stick in "
                              f"{config} (unmet dependencies?): {', '.join(lost)}")
