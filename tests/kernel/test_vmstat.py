from kcompressd.kernel.vmstat import parse_watermarks, read_vmstat, read_watermarks, vmstat_delta


def test_delta_keeps_moved_event_counters_and_sums_allocstall() -> None:
    before = {"nr_free_pages": 100, "pgsteal_kswapd": 10, "allocstall_normal": 1,
              "allocstall_dma32": 2, "pswpin": 5}
    after = {"nr_free_pages": 50, "pgsteal_kswapd": 25, "allocstall_normal": 4,
             "allocstall_dma32": 3, "pswpin": 5}
    d = vmstat_delta(before, after)
    assert d == {"pgsteal_kswapd": 15, "allocstall_normal": 3, "allocstall_dma32": 1,
                 "allocstall": 4}


def test_watermarks_sum_zones_and_ignore_pageset_high() -> None:
    text = ("Node 0, zone DMA\n  pages free 5\n        min      1\n        low      2\n"
            "        high     3\n    pagesets\n              high:  378\n"
            "Node 0, zone Normal\n        min      10\n        low      20\n        high     30\n")
    assert parse_watermarks(text) == {"min": 11, "low": 22, "high": 33}


def test_real_files_parse() -> None:
    vm = read_vmstat()
    assert "pgsteal_kswapd" in vm and vm["nr_free_pages"] > 0
    wm = read_watermarks()
    assert 0 < wm["min"] <= wm["low"] <= wm["high"]
