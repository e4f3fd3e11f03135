"""Real sysctl, hugepage and swap changes, each undone by the Restorer (root + zram only)."""

import os

import pytest

from kcompressd.kernel import zram
from kcompressd.kernel.hugepages import inflate_balloon
from kcompressd.kernel.restore import Restorer
from kcompressd.kernel.swap import parse_swaps, swap_area, swapoff, swapon
from kcompressd.kernel.sysctl import get_sysctl, set_sysctl, sysctl_path

root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def test_sysctl_path() -> None:
    assert str(sysctl_path("vm.page-cluster")) == "/proc/sys/vm/page-cluster"


def test_parse_swaps() -> None:
    text = ("Filename\tType\tSize\tUsed\tPriority\n"
            "/dev/zram1                              partition\t1024\t4\t32000\n")
    (a,) = parse_swaps(text)
    assert (a.filename, a.size, a.used, a.priority) == ("/dev/zram1", 1 << 20, 4096, 32000)


@root
def test_sysctl_is_restored() -> None:
    old = get_sysctl("vm.page-cluster")
    new = "1" if old != "1" else "2"
    with Restorer() as r:
        set_sysctl(r, "vm.page-cluster", new)
        assert get_sysctl("vm.page-cluster") == new
    assert get_sysctl("vm.page-cluster") == old


@root
def test_balloon_is_inflated_and_given_back() -> None:
    old = get_sysctl("vm.nr_hugepages")
    with Restorer() as r:
        assert inflate_balloon(r, 8) == 8
        assert int(get_sysctl("vm.nr_hugepages")) == int(old) + 8
    assert get_sysctl("vm.nr_hugepages") == old


@root
@pytest.mark.skipif(not zram.zram_available(), reason="needs zram")
def test_swap_on_zram_with_priority_and_off_again() -> None:
    with zram.free_zram_device() as dev:
        dev.configure(disksize=64 << 20, algorithm="lz4")
        with Restorer() as r:
            swapon(r, dev.dev, priority=1234)
            area = swap_area(dev.dev)
            assert area is not None and area.priority == 1234 and area.size > 60 << 20
        assert swap_area(dev.dev) is None
        swapoff(dev.dev)  # idempotent
