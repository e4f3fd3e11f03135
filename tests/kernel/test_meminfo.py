from kcompressd.kernel.meminfo import parse_meminfo, read_meminfo


def test_parse_meminfo_converts_kb_and_keeps_counts() -> None:
    text = "MemTotal:       1000 kB\nHugePages_Total:       7\nHugepagesize:       2048 kB\n"
    assert parse_meminfo(text) == {"MemTotal": 1024000, "HugePages_Total": 7,
                                   "Hugepagesize": 2 << 20}


def test_read_meminfo_of_this_machine_is_consistent() -> None:
    m = read_meminfo()
    assert 0 < m["MemAvailable"] <= m["MemTotal"]
    assert m["MemFree"] <= m["MemTotal"]
