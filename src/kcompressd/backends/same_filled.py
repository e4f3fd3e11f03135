"""zram's same-filled page test (`page_same_filled()` in drivers/block/zram/zram_drv.c).

A page is same-filled when its 512 eight-byte words all equal the first; zram then stores only
that word in the slot and allocates nothing. The kernel compares the first word with the last
before scanning the rest; comparing against a repeated first word does the same in one pass.
"""

from __future__ import annotations

from kcompressd import PAGE_SIZE

WORD = 8


def page_same_filled(page: bytes) -> int | None:
    """The repeated word as an int (little-endian, as the kernel reads it), or None."""
    first = page[:WORD]
    if page[-WORD:] != first or first * (PAGE_SIZE // WORD) != page:
        return None
    return int.from_bytes(first, "little")
