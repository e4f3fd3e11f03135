import os
import time

from kcompressd.kernel.procstat import context_switches, cpu_seconds, reclaim_threads


def test_kswapd_is_found_by_name() -> None:
    threads = reclaim_threads()
    assert "kswapd0" in threads
    assert cpu_seconds(threads["kswapd0"]) is not None


def test_cpu_seconds_of_this_process_grows_with_work() -> None:
    before = cpu_seconds(os.getpid())
    end = time.process_time() + 0.1
    while time.process_time() < end:
        pass
    assert cpu_seconds(os.getpid()) >= before + 0.05


def test_cpu_seconds_of_a_gone_task_is_none() -> None:
    assert cpu_seconds(2**22 + 12345) is None


def test_context_switches_count_this_process_blocking() -> None:
    voluntary, _ = context_switches(os.getpid())
    for _ in range(5):
        time.sleep(0.001)  # each sleep blocks: a voluntary switch
    assert context_switches(os.getpid())[0] >= voluntary + 5
    assert context_switches(2**22 + 12345) is None
