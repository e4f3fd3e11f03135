import time
from pathlib import Path

from kcompressd.kernel.workload import CHUNK_BYTES, CHUNK_PAGES, Eaters, corpus_source


def test_corpus_source_chunks_are_contiguous_slices() -> None:
    small = bytes(range(256)) * 16 * 3  # 3 pages
    src, period = corpus_source(small)
    assert period % CHUNK_BYTES == 0 and len(src) >= period
    big = bytes(5 * CHUNK_BYTES + 4096)
    assert corpus_source(big) == (big, 5 * CHUNK_BYTES)


def test_eaters_fill_memory_and_report_timed_chunks() -> None:
    corpus = b"".join(bytes([i]) * 4096 for i in range(8))
    size = 4 * CHUNK_BYTES
    eaters = Eaters(2, size, CHUNK_BYTES, corpus)
    try:
        assert eaters.wait_ready(30)
        comms = [Path(f"/proc/{pid}/comm").read_text().strip() for pid in eaters.pids]
        assert comms == ["eater0", "eater1"]
        eaters.go()
        time.sleep(0.3)
        reports = eaters.stop()
    finally:
        eaters.kill()
    assert eaters.alive() == 0
    for i, r in enumerate(reports):
        assert r is not None and r.index == i
        assert r.chunks == len(r.latency_us) > 0
        assert r.passes >= 1  # 4 chunks per pass: many passes in 0.3 s
        assert all(v > 0 for v in r.latency_us)
    assert CHUNK_PAGES * 4096 == CHUNK_BYTES
