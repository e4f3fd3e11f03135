"""zsmalloc's size-class table, as `zs_create_pool()` in mm/zsmalloc.c builds it.

Shared by the byte-exact pool (`zsmalloc.ZsPool`) and the simulator, which charges each
compressed page to the node at its class's cost without storing bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from kcompressd import PAGE_SIZE

ZS_MIN_ALLOC_SIZE = 32
ZS_MAX_ALLOC_SIZE = PAGE_SIZE
ZS_SIZE_CLASS_DELTA = PAGE_SIZE >> 8  # CLASS_BITS = 8
ZS_SIZE_CLASSES = -(-(ZS_MAX_ALLOC_SIZE - ZS_MIN_ALLOC_SIZE) // ZS_SIZE_CLASS_DELTA) + 1
ZS_HANDLE_SIZE = 8  # sizeof(unsigned long): the handle stored in front of each object
DEFAULT_CHAIN_SIZE = 8  # CONFIG_ZSMALLOC_CHAIN_SIZE since 6.3
MIN_CHAIN_SIZE, MAX_CHAIN_SIZE = 4, 16


@dataclass(frozen=True)
class SizeClass:
    index: int  # the (largest) index this class serves after merging
    size: int
    pages_per_zspage: int
    objs_per_zspage: int

    @property
    def huge(self) -> bool:
        # ZsHugePage: one object per single-page zspage (the handle lives outside the object).
        return self.objs_per_zspage == 1 and self.pages_per_zspage == 1


def calculate_zspage_chain_size(class_size: int, chain_size: int) -> int:
    """Pages per zspage wasting least; mirrors calculate_zspage_chain_size()."""
    if class_size & (class_size - 1) == 0:
        return 1
    best, min_waste = 1, None
    for pages in range(1, chain_size + 1):
        waste = (pages * PAGE_SIZE) % class_size
        if min_waste is None or waste < min_waste:
            best, min_waste = pages, waste
    return best


@dataclass(frozen=True)
class SizeClassTable:
    """The pool's classes after merging, and the huge threshold zram compares against."""

    chain_size: int
    by_index: tuple[SizeClass, ...]  # ZS_SIZE_CLASSES entries, merged ones shared
    huge_class_size: int

    def class_for(self, size: int) -> SizeClass:
        """The class serving an allocation of `size` bytes *including* the handle."""
        idx = 0
        if size > ZS_MIN_ALLOC_SIZE:
            idx = -(-(size - ZS_MIN_ALLOC_SIZE) // ZS_SIZE_CLASS_DELTA)
        return self.by_index[min(ZS_SIZE_CLASSES - 1, idx)]

    @property
    def classes(self) -> list[SizeClass]:
        """Distinct classes, smallest first."""
        seen: dict[int, SizeClass] = {}
        for c in self.by_index:
            seen.setdefault(c.size, c)
        return list(seen.values())


@cache
def size_class_table(chain_size: int = DEFAULT_CHAIN_SIZE) -> SizeClassTable:
    """Build the table the way zs_create_pool() does: largest class first, merging down."""
    if not MIN_CHAIN_SIZE <= chain_size <= MAX_CHAIN_SIZE:
        raise ValueError(
            f"chain size {chain_size} out of range {MIN_CHAIN_SIZE}..{MAX_CHAIN_SIZE}"
        )
    by_index: list[SizeClass | None] = [None] * ZS_SIZE_CLASSES
    prev: SizeClass | None = None
    huge_class_size = 0
    for i in range(ZS_SIZE_CLASSES - 1, -1, -1):
        size = min(ZS_MIN_ALLOC_SIZE + i * ZS_SIZE_CLASS_DELTA, ZS_MAX_ALLOC_SIZE)
        pages = calculate_zspage_chain_size(size, chain_size)
        objs = pages * PAGE_SIZE // size
        # The first class (from the top) with more than one object per zspage sets the
        # threshold above which zram stores pages uncompressed.
        if objs > 1 and not huge_class_size:
            huge_class_size = size - (ZS_HANDLE_SIZE - 1)
        # can_merge(): same zspage geometry, so the larger class serves both.
        if prev is not None and prev.pages_per_zspage == pages and prev.objs_per_zspage == objs:
            by_index[i] = prev
            continue
        prev = SizeClass(i, size, pages, objs)
        by_index[i] = prev
    return SizeClassTable(chain_size, tuple(c for c in by_index if c), huge_class_size)
