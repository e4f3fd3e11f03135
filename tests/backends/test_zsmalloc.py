import os

import pytest

from kcompressd.backends.size_classes import ZS_HANDLE_SIZE, size_class_table
from kcompressd.backends.zsmalloc import (
    ZS_INUSE_RATIO_0,
    ZS_INUSE_RATIO_10,
    ZS_INUSE_RATIO_99,
    ZS_INUSE_RATIO_100,
    ZsPool,
)

# Class 3632: 8 pages per zspage, 9 objects (chain 8); 3624 data bytes + the 8-byte handle.
BIG = 3632 - ZS_HANDLE_SIZE


def test_objects_read_back_and_zspages_fill_before_new_ones() -> None:
    pool = ZsPool()
    data = [os.urandom(BIG) for _ in range(10)]
    handles = [pool.zs_malloc_write(d) for d in data]
    assert [pool.zs_obj_read(h) for h in handles] == data
    # 9 objects fill the first 8-page zspage; the 10th opens a second one.
    assert pool.zs_get_total_pages() == 16


def test_zs_malloc_then_write() -> None:
    pool = ZsPool()
    h = pool.zs_malloc(100)
    pool.zs_obj_write(h, b"x" * 100)
    assert pool.zs_obj_read(h) == b"x" * 100
    with pytest.raises(ValueError, match="do not fit"):
        pool.zs_obj_write(h, b"x" * 200)
    with pytest.raises(ValueError, match="out of range"):
        pool.zs_malloc(4097)


def test_zspage_is_freed_only_when_empty() -> None:
    pool = ZsPool()
    handles = [pool.zs_malloc_write(bytes(BIG)) for _ in range(9)]
    for h in handles[:8]:
        pool.zs_free(h)
        assert pool.zs_get_total_pages() == 8
    pool.zs_free(handles[8])
    assert pool.zs_get_total_pages() == 0


def test_huge_object_takes_one_page() -> None:
    pool = ZsPool()
    h = pool.zs_malloc_write(os.urandom(4096))
    assert pool.zs_get_total_pages() == 1
    assert len(pool.zs_obj_read(h)) == 4096


def test_fullness_groups_follow_the_kernel_ratio() -> None:
    cls = ZsPool()._class_for[BIG]
    assert cls.objs_per_zspage == 9
    assert cls.fullness_of(0) == ZS_INUSE_RATIO_0
    assert cls.fullness_of(9) == ZS_INUSE_RATIO_100
    # 100 * inuse // 9 // 10 + 1: 1 -> 11 % -> group 2; 8 -> 88 % -> group 9.
    assert [cls.fullness_of(n) for n in range(1, 9)] == [2, 3, 4, 5, 6, 7, 8, 9]
    small = ZsPool()._class_for[24]  # 32-byte class, 128 objects per page
    assert small.fullness_of(1) == ZS_INUSE_RATIO_10
    assert small.fullness_of(127) == ZS_INUSE_RATIO_99


def test_allocation_prefers_the_fullest_zspage() -> None:
    pool = ZsPool()
    handles = [pool.zs_malloc_write(bytes(BIG)) for _ in range(27)]  # three full zspages
    # Leave zspage A with 8 objects, B with 2 and C with 5.
    a, b, c = handles[:9], handles[9:18], handles[18:27]
    for h in a[:1] + b[:7] + c[:4]:
        pool.zs_free(h)
    pages = pool.zs_get_total_pages()
    fresh = pool.zs_malloc_write(b"n" * BIG)
    # find_get_zspage() picks A (88 %): the new object lives beside A's survivors.
    zspage, _ = pool._handles[fresh]
    assert zspage is pool._handles[a[1]][0]
    assert pool.zs_get_total_pages() == pages


def test_compaction_moves_objects_from_emptiest_to_fullest() -> None:
    pool = ZsPool()
    data = {}
    handles = []
    for i in range(27):
        blob = i.to_bytes(2, "little") * (BIG // 2)
        h = pool.zs_malloc_write(blob)
        handles.append(h)
        data[h] = blob
    a, b, c = handles[:9], handles[9:18], handles[18:27]
    for h in a[:3] + b[:7] + c[:5]:
        pool.zs_free(h)
        del data[h]
    assert pool.zs_get_total_pages() == 24
    # 12 live objects in 27 slots: 15 wasted, one zspage's worth (9), so zs_can_compact()
    # allows exactly one zspage (8 pages) to go.
    freed = pool.zs_compact()
    assert freed == 8
    assert pool.pages_compacted == 8
    assert pool.zs_get_total_pages() == 16
    assert {h: pool.zs_obj_read(h) for h in data} == data
    # B (2 objects, the emptiest) was the source: its objects now sit in A (the fullest).
    zspage_a = pool._handles[a[3]][0]
    assert all(pool._handles[h][0] is zspage_a for h in b[7:])
    assert pool.zs_compact() == 0
    assert pool.pages_compacted == 8


def test_compaction_leaves_a_tight_pool_alone() -> None:
    pool = ZsPool()
    for _ in range(18):
        pool.zs_malloc_write(bytes(BIG))
    assert pool.zs_compact() == 0


@pytest.mark.parametrize("chain", [4, 8, 16])
def test_merged_classes_share_state(chain: int) -> None:
    pool = ZsPool(chain)
    table = size_class_table(chain)
    for size in range(1, 4097):
        assert pool._class_for[size].size == table.class_for(size + ZS_HANDLE_SIZE).size
    # Two sizes served by one merged class land in the same zspage.
    merged = next(c for c in table.classes if c.index > 0
                  and table.by_index[c.index - 1] is c)
    h1 = pool.zs_malloc(merged.size - ZS_HANDLE_SIZE)
    h2 = pool.zs_malloc(merged.size - ZS_HANDLE_SIZE - 16)
    assert pool._handles[h1][0] is pool._handles[h2][0]
    assert pool.zs_get_total_pages() == merged.pages_per_zspage


def test_class_stats_mirror_the_debugfs_counters() -> None:
    pool = ZsPool()
    hs = [pool.zs_malloc_write(bytes(BIG)) for _ in range(10)]
    pool.zs_free(hs[0])
    (row,) = pool.class_stats()
    assert row == {"index": row["index"], "size": 3632, "obj_allocated": 18, "obj_used": 9,
                   "pages_used": 16, "pages_per_zspage": 8, "freeable": 8}
