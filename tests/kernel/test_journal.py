import os
from pathlib import Path

import pytest

from kcompressd.kernel.journal import Journal, recover
from kcompressd.kernel.modparam import get_param, param_path
from kcompressd.kernel.sysctl import get_sysctl, sysctl_path


def test_nothing_to_recover_without_a_journal(tmp_path: Path) -> None:
    assert recover(tmp_path / "none.json") == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_recover_puts_back_what_the_journal_noted(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    old = get_sysctl("vm.page-cluster")
    journal = Journal(path)
    journal.sysctl("vm.page-cluster")
    sysctl_path("vm.page-cluster").write_text("1" if old != "1" else "2")
    journal.sysctl("vm.page-cluster")  # a second note keeps the first, original value
    assert recover(path) == [f"vm.page-cluster={old}"]
    assert get_sysctl("vm.page-cluster") == old
    assert not path.exists()
    journal.clear()  # idempotent


@pytest.mark.skipif(os.geteuid() != 0 or not param_path("zswap.enabled").exists(),
                    reason="needs root and zswap")
def test_recover_puts_back_a_module_parameter(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    old = get_param("zswap.max_pool_percent")
    journal = Journal(path)
    journal.param("zswap.max_pool_percent")
    param_path("zswap.max_pool_percent").write_text("33" if old != "33" else "34")
    assert recover(path) == [f"zswap.max_pool_percent={old}"]
    assert get_param("zswap.max_pool_percent") == old
