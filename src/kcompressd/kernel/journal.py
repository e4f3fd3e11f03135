"""What a run is changing, written down before each change, so that the next run can undo
what a run killed without a chance to restore (SIGKILL, a crash) left behind.

The Restorer undoes everything when the run can still act; the journal covers the one case it
cannot. It lives in /run (tmpfs: a reboot, which undoes everything anyway, clears it) and is
only read or written under the run lock.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kcompressd.kernel import sysfs, zram
from kcompressd.kernel.modparam import get_param, param_path
from kcompressd.kernel.swap import swapoff
from kcompressd.kernel.sysctl import get_sysctl, sysctl_path

JOURNAL_PATH = Path("/run/kcompressd.journal.json")


class Journal:
    def __init__(self, path: Path = JOURNAL_PATH):
        self.path = path
        self.state: dict[str, Any] = {"sysctls": {}, "params": {}}

    def _write(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self.state))
        os.replace(tmp, self.path)

    def zram_device(self, index: int) -> None:
        self.state["zram"] = index
        self._write()

    def swap(self, device: str | Path) -> None:
        self.state["swap"] = str(device)
        self._write()

    def sysctl(self, name: str) -> None:
        """Note the current value of `name`; call before changing it."""
        self.state["sysctls"].setdefault(name, get_sysctl(name))
        self._write()

    def param(self, name: str) -> None:
        """Note the current value of module parameter `name`; call before changing it."""
        self.state["params"].setdefault(name, get_param(name))
        self._write()

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def recover(path: Path = JOURNAL_PATH) -> list[str]:
    """Undo what a killed run left (balloon, sysctls, zswap, swap, zram), in the Restorer's order;
    returns what was put back (empty when the last run ended cleanly)."""
    if not path.exists():
        return []
    state = json.loads(path.read_text())
    done = []
    sysctls = state.get("sysctls", {})
    # The balloon first: swapoff needs memory to bring the swapped pages back.
    for name in sorted(sysctls, key=lambda n: n != "vm.nr_hugepages"):
        sysfs.write(sysctl_path(name), sysctls[name])
        done.append(f"{name}={sysctls[name]}")
    for name, value in state.get("params", {}).items():
        sysfs.write(param_path(name), value)
        done.append(f"{name}={value}")
    if "swap" in state:
        swapoff(state["swap"])
        done.append(f"swapoff {state['swap']}")
    if "zram" in state:
        zram.ZramDevice(state["zram"]).reset()
        done.append(f"zram{state['zram']} reset")
    path.unlink()
    return done
