import errno
import random

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kcompressd.backends.zram import Zram, replay
from kcompressd.backends.zram_stats import parse_debug_stat, parse_stat
from kcompressd.codecs import get_codec
from kcompressd.errors import KcompressdError

PAGE = 4096


def _page(kind: str, seed: int) -> bytes:
    rng = random.Random(seed)
    if kind == "same":
        return rng.randbytes(8) * 512
    if kind == "zero":
        return bytes(PAGE)
    if kind == "random":
        return rng.randbytes(PAGE)
    if kind == "half":  # always 2034 bytes compressed: class 2048, two objects per zspage
        return rng.randbytes(2000) + bytes(PAGE - 2000)
    # compressible: a random head, a repeated word, zeros
    head = rng.randbytes(rng.randrange(16, 3000))
    return (head + rng.randbytes(8) * 64 + bytes(PAGE))[:PAGE]


def test_same_filled_pages_allocate_nothing() -> None:
    z = Zram(4 * PAGE)
    fill = (0xDEADBEEF12345678).to_bytes(8, "little") * 512
    assert z.write_page(0, fill) == 0
    assert z.write_page(1, bytes(PAGE)) == 0
    m = z.mm_stat()
    assert (m["same_pages"], m["orig_data_size"], m["compr_data_size"], m["mem_used_total"]) \
        == (2, 2 * PAGE, 0, 0)
    assert z.read_page(0) == fill
    assert z.read_page(1) == bytes(PAGE)
    assert z.read_page(2) == bytes(PAGE)  # never written


def test_incompressible_page_is_stored_huge() -> None:
    z = Zram(4 * PAGE)
    page = _page("random", 1)
    z.write_page(0, page)
    m = z.mm_stat()
    assert (m["huge_pages"], m["huge_pages_since"], m["compr_data_size"], m["mem_used_total"]) \
        == (1, 1, PAGE, PAGE)
    assert z.read_page(0) == page


def test_overwrite_frees_the_old_object() -> None:
    z = Zram(4 * PAGE)
    z.write_page(0, _page("random", 1))
    z.write_page(0, bytes(PAGE))
    m = z.mm_stat()
    assert (m["huge_pages"], m["huge_pages_since"], m["same_pages"], m["mem_used_total"]) \
        == (0, 1, 1, 0)
    assert m["orig_data_size"] == PAGE


def test_compressed_page_size_is_the_codec_length() -> None:
    z = Zram(4 * PAGE)
    page = _page("text", 3)
    z.write_page(0, page)
    assert z.mm_stat()["compr_data_size"] == len(get_codec("lz4").compress(page))
    assert z.read_page(0) == page


def test_mem_limit_fails_the_write_and_keeps_the_slot() -> None:
    z = Zram(8 * PAGE, mem_limit=2 * PAGE)
    pages = [_page("random", i) for i in range(3)]
    assert z.write_page(0, pages[0]) == 0
    assert z.write_page(1, pages[1]) == 0
    assert z.write_page(0, pages[2]) == -errno.ENOMEM  # needs a third page while 0 is held
    assert z.read_page(0) == pages[0]
    m, io = z.mm_stat(), z.io_stat()
    assert io["failed_writes"] == 1
    assert (m["mem_limit"], m["mem_used_total"], m["mem_used_max"]) == (2 * PAGE, 2 * PAGE,
                                                                        3 * PAGE)
    assert z.write_page(2, pages[2]) == -errno.ENOMEM
    assert z.read_page(2) == bytes(PAGE)
    assert z.mm_stat()["orig_data_size"] == 2 * PAGE


def test_mem_limit_rounds_up_to_pages() -> None:
    z = Zram(PAGE, mem_limit=5000)
    assert z.mm_stat()["mem_limit"] == 2 * PAGE


def test_discard_frees_and_counts_notify_free() -> None:
    z = Zram(4 * PAGE)
    z.write_page(0, _page("text", 1))
    z.discard(0)
    z.discard(1)  # an empty slot still counts
    assert z.io_stat()["notify_free"] == 2
    m = z.mm_stat()
    assert (m["orig_data_size"], m["compr_data_size"], m["mem_used_total"]) == (0, 0, 0)
    assert z.read_page(0) == bytes(PAGE)


def test_reset_empties_the_device_and_clears_the_limit() -> None:
    z = Zram(4 * PAGE, mem_limit=PAGE)
    z.write_page(0, _page("text", 1))
    z.discard(0)
    z.reset()
    assert set(z.mm_stat().values()) == {0}
    assert set(z.io_stat().values()) == {0}
    z.write_page(0, _page("random", 2))
    assert z.mm_stat()["huge_pages"] == 1


def test_mem_used_max_reset_starts_from_current_usage() -> None:
    z = Zram(4 * PAGE)
    z.write_page(0, _page("random", 1))
    z.write_page(1, _page("random", 2))
    z.discard(0)
    assert z.mm_stat()["mem_used_max"] == 2 * PAGE
    z.reset_mem_used_max()
    assert z.mm_stat()["mem_used_max"] == PAGE


def test_stat_text_is_what_the_kernel_prints() -> None:
    z = Zram(4 * PAGE)
    z.write_page(0, bytes(PAGE))
    z.discard(3)
    mm = z.mm_stat_text()
    assert mm == "    4096        0        0        0        0        1        0        0" \
                 "        0\n"
    assert z.io_stat_text() == "       0        0 0        1\n"
    assert parse_stat(mm, tuple(z.mm_stat())) == z.mm_stat()


def test_bad_arguments() -> None:
    z = Zram(2 * PAGE)
    with pytest.raises(IndexError, match="slot 2"):
        z.write_page(2, bytes(PAGE))
    with pytest.raises(ValueError, match="4095 bytes"):
        z.write_page(0, bytes(4095))
    with pytest.raises(KcompressdError, match="available: lz4"):
        Zram(PAGE, "lzma")
    with pytest.raises(ValueError, match="chain size 3"):
        Zram(PAGE, chain_size=3)


def test_replay_steps_and_final_state() -> None:
    pages = [_page(k, i) for i, k in enumerate(["text", "zero", "random", "same"] * 8)]
    stages = replay(pages, free_every=3, compact=True)
    assert [s.name for s in stages] == ["write", "free", "compact"]
    write, free, compact = stages
    assert write.mm_stat["orig_data_size"] == len(pages) * PAGE
    assert free.io_stat["notify_free"] == len(range(0, len(pages), 3))
    assert compact.mm_stat["pages_compacted"] >= 0
    assert compact.mm_stat["mem_used_total"] <= free.mm_stat["mem_used_total"]
    assert [s.name for s in replay(pages)] == ["write"]


class ZramMachine(RuleBasedStateMachine):
    """Random writes, overwrites, discards, compactions and limit changes on 8 slots."""

    SLOTS = 8

    def __init__(self) -> None:
        super().__init__()
        self.zram = Zram(self.SLOTS * PAGE, chain_size=4)
        self.compress = get_codec("lz4").compress
        self.stored: dict[int, bytes] = {}
        self.failed = 0
        self.discards = 0
        self.compacted = 0

    @rule(slot=st.integers(0, SLOTS - 1),
          kind=st.sampled_from(["same", "zero", "random", "text", "half", "half"]),
          seed=st.integers(0, 2**16))
    def write(self, slot: int, kind: str, seed: int) -> None:
        page = _page(kind, seed)
        ret = self.zram.write_page(slot, page)
        if ret == 0:
            self.stored[slot] = page
        else:
            assert ret == -errno.ENOMEM
            event("write failed with -ENOMEM")
            self.failed += 1

    @rule(slot=st.integers(0, SLOTS - 1))
    def discard(self, slot: int) -> None:
        self.zram.discard(slot)
        self.stored.pop(slot, None)
        self.discards += 1

    @rule()
    def compact(self) -> None:
        event("compaction freed pages" if self.zram.compact() else "compaction freed nothing")

    @rule(pages=st.integers(0, 6))
    def set_mem_limit(self, pages: int) -> None:
        self.zram.mem_limit = pages * PAGE

    @invariant()
    def pages_read_back(self) -> None:
        for slot in range(self.SLOTS):
            assert self.zram.read_page(slot) == self.stored.get(slot, bytes(PAGE))

    @invariant()
    def stats_add_up(self) -> None:
        m, io = self.zram.mm_stat(), self.zram.io_stat()
        same = [p for p in self.stored.values() if p[:8] * 512 == p]
        lengths = [len(self.compress(p)) for p in self.stored.values() if p[:8] * 512 != p]
        huge = self.zram.huge_class_size
        assert m["orig_data_size"] == len(self.stored) * PAGE
        assert m["same_pages"] == len(same)
        assert m["huge_pages"] == sum(n >= huge for n in lengths)
        assert m["compr_data_size"] == sum(PAGE if n >= huge else n for n in lengths)
        assert m["mem_used_total"] >= m["compr_data_size"]
        assert m["mem_used_max"] >= m["mem_used_total"]
        assert m["pages_compacted"] >= self.compacted
        self.compacted = m["pages_compacted"]
        assert io["failed_writes"] == self.failed
        assert io["notify_free"] == self.discards


TestZramMachine = ZramMachine.TestCase
TestZramMachine.settings = settings(max_examples=100, stateful_step_count=50, deadline=None,
                                    suppress_health_check=[HealthCheck.too_slow])


def test_compact_frees_half_empty_zspages() -> None:
    z = Zram(4 * PAGE, chain_size=4)
    pages = [_page("half", i) for i in range(4)]  # two zspages of class 2048, full
    for i, page in enumerate(pages):
        z.write_page(i, page)
    z.discard(0)
    z.discard(2)
    assert z.mm_stat()["mem_used_total"] == 2 * PAGE  # a zspage goes only when empty
    assert z.compact() == 1
    m = z.mm_stat()
    assert (m["mem_used_total"], m["pages_compacted"], m["mem_used_max"]) == (PAGE, 1, 2 * PAGE)
    assert [z.read_page(i) for i in (1, 3)] == [pages[1], pages[3]]


def test_buffer_write_is_page_by_page_write() -> None:
    pages = [_page(k, i) for i, k in enumerate(["text", "zero", "random", "same", "half"] * 9)]
    one = Zram(len(pages) * PAGE)
    for i, page in enumerate(pages):
        one.write_page(i, page)
    batch = Zram(len(pages) * PAGE)
    assert batch.write_buffer(0, b"".join(pages)) == 0
    assert batch.mm_stat() == one.mm_stat()
    assert [batch.read_page(i) for i in range(len(pages))] == pages
    with pytest.raises(ValueError, match="not whole pages"):
        batch.write_buffer(0, bytes(100))


def test_debug_stat_version_1_and_nothing_else() -> None:
    # debug_stat_show(): "version: %d\n%8llu %8llu\n" (writestall, miss_free)
    assert parse_debug_stat("version: 1\n      12        3") == {"writestall": 12,
                                                                 "miss_free": 3}
    assert parse_debug_stat("version: 2\n      12        3") == {}
    assert parse_debug_stat("") == {}
