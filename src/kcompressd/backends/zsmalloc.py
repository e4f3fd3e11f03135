"""A byte-exact zsmalloc pool: size classes, zspages, fullness groups and compaction.

Modelled on mm/zsmalloc.c (Linux 6.18; allocation and compaction unchanged since the
fine-grained fullness groups of 6.3). What is modelled is what decides how many pages the pool
holds: which zspage an object goes to, when a zspage is allocated or freed, and which objects
compaction moves. Objects keep their real bytes, so a page read back is the page written.

Kernel list semantics are kept: `list_add` puts a zspage at the head of its fullness list and
`list_first_entry` takes the head, so within a group the most recently inserted zspage is
chosen first. Each fullness list is a dict used as an ordered set whose *last* key is the head.
"""

from __future__ import annotations

import itertools
from functools import cache

from kcompressd import PAGE_SIZE
from kcompressd.backends.size_classes import (
    DEFAULT_CHAIN_SIZE,
    ZS_HANDLE_SIZE,
    ZS_MAX_ALLOC_SIZE,
    SizeClass,
    size_class_table,
)

# enum fullness_group: ZS_INUSE_RATIO_0, _10, ... _99 (= 10), _100 (= 11).
ZS_INUSE_RATIO_0 = 0
ZS_INUSE_RATIO_10 = 1
ZS_INUSE_RATIO_99 = 10
ZS_INUSE_RATIO_100 = 11
NR_FULLNESS_GROUPS = 12


class ZsPage:
    """One zspage: `pages_per_zspage` pages cut into `objs_per_zspage` equal chunks.

    `freeobj` is the in-place free list of struct zspage (head = last element): obj_malloc
    pops the head, obj_free pushes the freed index, as init_zspage/obj_malloc/obj_free do.
    `objs[i]` is (handle, bytes) for an allocated object i, None for a free one.
    """

    __slots__ = ("cls", "freeobj", "fullness", "inuse", "objs")

    def __init__(self, cls: _Class) -> None:
        self.cls = cls
        self.inuse = 0
        self.fullness = ZS_INUSE_RATIO_0
        self.freeobj = list(range(cls.objs_per_zspage - 1, -1, -1))
        self.objs: list[tuple[int, bytes | memoryview] | None] = [None] * cls.objs_per_zspage


@cache
def _fullness_table(objs_per_zspage: int) -> tuple[int, ...]:
    """get_fullness_group() for every inuse count 0..objs_per_zspage."""
    def group(inuse: int) -> int:
        if inuse == 0:
            return ZS_INUSE_RATIO_0
        if inuse == objs_per_zspage:
            return ZS_INUSE_RATIO_100
        # Integer division rounds a partial ratio down; +1 puts it in its 10 % bucket.
        return 100 * inuse // objs_per_zspage // 10 + 1

    return tuple(group(n) for n in range(objs_per_zspage + 1))


class _Class:
    """struct size_class: geometry, fullness lists and the two object counters."""

    __slots__ = ("fullness_by_inuse", "fullness_list", "index", "obj_allocated", "obj_inuse",
                 "objs_per_zspage", "pages_per_zspage", "search", "size")

    def __init__(self, sc: SizeClass) -> None:
        self.index = sc.index
        self.size = sc.size
        self.pages_per_zspage = sc.pages_per_zspage
        self.objs_per_zspage = sc.objs_per_zspage
        self.fullness_list: list[dict[ZsPage, None]] = [{} for _ in range(NR_FULLNESS_GROUPS)]
        # find_get_zspage() order: the fullest non-full group first.
        self.search = self.fullness_list[ZS_INUSE_RATIO_99:ZS_INUSE_RATIO_0:-1]
        self.fullness_by_inuse = _fullness_table(self.objs_per_zspage)
        self.obj_allocated = 0  # ZS_OBJS_ALLOCATED
        self.obj_inuse = 0  # ZS_OBJS_INUSE

    def fullness_of(self, inuse: int) -> int:
        """get_fullness_group(): 0, 100, or the 10 % bucket of a partial ratio."""
        return self.fullness_by_inuse[inuse]

    def can_compact(self) -> int:
        """zs_can_compact(): pages that the wasted objects of this class add up to."""
        wasted = self.obj_allocated - self.obj_inuse
        if wasted <= 0:
            return 0
        return wasted // self.objs_per_zspage * self.pages_per_zspage


@cache
def _class_index_by_size(chain_size: int) -> tuple[int, ...]:
    """get_size_class_index() of every object size 0..4096 (the handle added in)."""
    table = size_class_table(chain_size)
    return tuple(table.class_for(n + ZS_HANDLE_SIZE).index for n in range(ZS_MAX_ALLOC_SIZE + 1))


class ZsPool:
    """A zsmalloc pool (zs_create_pool) with handles as small ints."""

    def __init__(self, chain_size: int = DEFAULT_CHAIN_SIZE) -> None:
        table = size_class_table(chain_size)
        self.chain_size = chain_size
        self.huge_class_size = table.huge_class_size
        states: dict[int, _Class] = {}
        by_index = [states.setdefault(sc.size, _Class(sc)) for sc in table.by_index]
        self._classes = list(states.values())  # distinct classes, smallest first
        # Class for every allocation size including the handle (get_size_class_index).
        self._class_for = [by_index[i] for i in _class_index_by_size(chain_size)]
        self._handles: dict[int, tuple[ZsPage, int]] = {}
        self._next_handle = itertools.count(1).__next__
        self.pages_allocated = 0
        self.pages_compacted = 0  # zs_pool_stats.pages_compacted

    # -- allocation ---------------------------------------------------------------------

    def zs_malloc(self, size: int) -> int:
        """Allocate an object of `size` bytes; returns its handle (never 0)."""
        return self.alloc(size, b"")

    def zs_malloc_write(self, data: bytes) -> int:
        """zs_malloc(len(data)) then zs_obj_write(): zram's store in one call."""
        return self.alloc(len(data), data)

    def alloc(self, size: int, data: bytes) -> int:
        """zs_malloc() + obj_malloc() + fix_fullness_group(), inlined: the replay's hot path."""
        if not 0 < size <= 4096:  # ZS_MAX_ALLOC_SIZE
            raise ValueError(f"zs_malloc size {size} out of range 1..{ZS_MAX_ALLOC_SIZE}")
        cls = self._class_for[size]  # indexed by size; the handle's 8 bytes are added in
        handle = self._next_handle()
        # find_get_zspage(): head of the fullest non-full group.
        for group in cls.search:
            if group:
                zspage = next(reversed(group))
                idx = zspage.freeobj.pop()
                zspage.objs[idx] = (handle, data)
                inuse = zspage.inuse = zspage.inuse + 1
                newfg = cls.fullness_by_inuse[inuse]
                if newfg != zspage.fullness:
                    del group[zspage]
                    cls.fullness_list[newfg][zspage] = None
                    zspage.fullness = newfg
                break
        else:
            # alloc_zspage(), obj_malloc(), insert_zspage().
            zspage = ZsPage(cls)
            self.pages_allocated += cls.pages_per_zspage
            cls.obj_allocated += cls.objs_per_zspage
            idx = zspage.freeobj.pop()
            zspage.objs[idx] = (handle, data)
            zspage.inuse = 1
            zspage.fullness = cls.fullness_by_inuse[1]
            cls.fullness_list[zspage.fullness][zspage] = None
        cls.obj_inuse += 1
        self._handles[handle] = (zspage, idx)
        return handle

    def zs_free(self, handle: int) -> None:
        """obj_free() + fix_fullness_group(); the zspage goes as soon as it holds nothing."""
        zspage, idx = self._handles.pop(handle)
        cls = zspage.cls
        cls.obj_inuse -= 1
        zspage.objs[idx] = None
        zspage.freeobj.append(idx)
        inuse = zspage.inuse = zspage.inuse - 1
        newfg = cls.fullness_by_inuse[inuse]
        if newfg != zspage.fullness:
            del cls.fullness_list[zspage.fullness][zspage]
            if inuse == 0:
                # free_zspage(): off the (ratio-0) list, its pages back to the system.
                cls.obj_allocated -= cls.objs_per_zspage
                self.pages_allocated -= cls.pages_per_zspage
                return
            cls.fullness_list[newfg][zspage] = None
            zspage.fullness = newfg

    def _free_zspage(self, zspage: ZsPage) -> None:
        """free_zspage() of an isolated, empty zspage after compaction's putback."""
        cls = zspage.cls
        del cls.fullness_list[zspage.fullness][zspage]
        cls.obj_allocated -= cls.objs_per_zspage
        self.pages_allocated -= cls.pages_per_zspage

    # -- object access ------------------------------------------------------------------

    def zs_obj_write(self, handle: int, data: bytes) -> None:
        zspage, idx = self._handles[handle]
        if len(data) + ZS_HANDLE_SIZE > zspage.cls.size and zspage.cls.size != PAGE_SIZE:
            raise ValueError(f"{len(data)} bytes do not fit class {zspage.cls.size}")
        zspage.objs[idx] = (handle, data)

    def zs_obj_read(self, handle: int) -> bytes:
        zspage, idx = self._handles[handle]
        obj = zspage.objs[idx]
        assert obj is not None
        return bytes(obj[1])  # objects written in a batch are views of one shared buffer

    # -- compaction ---------------------------------------------------------------------

    def zs_compact(self) -> int:
        """Compact every class, largest first; returns (and accumulates) pages freed."""
        freed = 0
        for cls in reversed(self._classes):
            freed += self._zs_compact_class(cls)
        self.pages_compacted += freed
        return freed

    def _zs_compact_class(self, cls: _Class) -> int:
        """__zs_compact(): fill the fullest zspages from the emptiest until nothing is gained."""
        dst: ZsPage | None = None
        freed = 0
        while cls.can_compact():
            if dst is None:
                dst = self._isolate(cls, range(ZS_INUSE_RATIO_99, ZS_INUSE_RATIO_0, -1))
                if dst is None:
                    break
            src = self._isolate(cls, range(ZS_INUSE_RATIO_10, ZS_INUSE_RATIO_100))
            if src is None:
                break
            self._migrate_zspage(src, dst)
            if self._putback_zspage(src) == ZS_INUSE_RATIO_0:
                self._free_zspage(src)
                freed += cls.pages_per_zspage
            if cls.fullness_of(dst.inuse) == ZS_INUSE_RATIO_100:
                self._putback_zspage(dst)
                dst = None
        if dst is not None:
            self._putback_zspage(dst)
        return freed

    @staticmethod
    def _isolate(cls: _Class, groups: range) -> ZsPage | None:
        """isolate_src_zspage / isolate_dst_zspage: take the head of the first non-empty group."""
        for fg in groups:
            group = cls.fullness_list[fg]
            if group:
                zspage = next(reversed(group))
                del group[zspage]
                return zspage
        return None

    @staticmethod
    def _putback_zspage(zspage: ZsPage) -> int:
        cls = zspage.cls
        zspage.fullness = cls.fullness_of(zspage.inuse)
        cls.fullness_list[zspage.fullness][zspage] = None
        return zspage.fullness

    def _migrate_zspage(self, src: ZsPage, dst: ZsPage) -> None:
        """migrate_zspage(): move src's objects in index order until dst is full or src empty."""
        full = dst.cls.objs_per_zspage
        for idx, obj in enumerate(src.objs):
            if obj is None:
                continue
            src.objs[idx] = None
            src.freeobj.append(idx)
            src.inuse -= 1
            didx = dst.freeobj.pop()
            dst.objs[didx] = obj
            dst.inuse += 1
            self._handles[obj[0]] = (dst, didx)  # record_obj(): the handle now points into dst
            if dst.inuse == full or src.inuse == 0:
                break

    # -- accounting ---------------------------------------------------------------------

    def zs_get_total_pages(self) -> int:
        return self.pages_allocated

    get_total_pages = zs_get_total_pages

    def zs_huge_class_size(self) -> int:
        return self.huge_class_size

    def objects(self) -> int:
        return len(self._handles)

    def class_stats(self) -> list[dict[str, int]]:
        """Per-class counters like zsmalloc's debugfs `classes` file (non-empty classes)."""
        out = []
        for cls in self._classes:
            if not cls.obj_allocated:
                continue
            out.append({
                "index": cls.index,
                "size": cls.size,
                "obj_allocated": cls.obj_allocated,
                "obj_used": cls.obj_inuse,
                "pages_used": cls.obj_allocated // cls.objs_per_zspage * cls.pages_per_zspage,
                "pages_per_zspage": cls.pages_per_zspage,
                "freeable": cls.can_compact(),
            })
        return out
