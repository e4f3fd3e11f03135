import json
from pathlib import Path

import pytest

from kcompressd.errors import KcompressdError
from kcompressd.trace import Timeline, write_perfetto


def _timeline() -> Timeline:
    tl = Timeline()
    tl.counter("free_pages", 0.0, 1000)
    tl.counter("free_pages", 0.01, 900)
    tl.slice("kswapd0", "balance_pgdat", 0.002, 0.005)
    tl.slice("kcompressd0", "compress", 0.003, 0.001)
    return tl


def test_perfetto_json_has_threads_slices_and_counters_in_microseconds(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    write_perfetto(_timeline(), out, process="kcompressd-v2")
    events = json.loads(out.read_text())["traceEvents"]
    names = {e["args"]["name"] for e in events if e["ph"] == "M"}
    assert names == {"kcompressd-v2", "kswapd0", "kcompressd0"}
    (slice_,) = [e for e in events if e["ph"] == "X" and e["name"] == "balance_pgdat"]
    assert slice_["ts"] == pytest.approx(2000) and slice_["dur"] == pytest.approx(5000)
    tids = {e["tid"] for e in events if e["ph"] == "X"}
    assert len(tids) == 2  # one track per thread
    counters = [(e["ts"], e["args"]["value"]) for e in events if e["ph"] == "C"]
    assert counters == [(0.0, 1000), (pytest.approx(10000), 900)]


def test_missing_directory_is_refused_and_nothing_written(tmp_path: Path) -> None:
    with pytest.raises(KcompressdError, match="does not exist"):
        write_perfetto(_timeline(), tmp_path / "nope" / "t.json")
    assert list(tmp_path.iterdir()) == []
