"""zram's stat files as the kernel prints them (mm_stat_show / io_stat_show in zram_drv.c).

Shared by the model and by the kernel layer, which parses the real files by position.
"""

from __future__ import annotations

from kcompressd import PAGE_SIZE

MM_STAT_FIELDS = (
    "orig_data_size",
    "compr_data_size",
    "mem_used_total",
    "mem_limit",
    "mem_used_max",
    "same_pages",
    "pages_compacted",
    "huge_pages",
    "huge_pages_since",
)

IO_STAT_FIELDS = ("failed_reads", "failed_writes", "invalid_io", "notify_free")


def mm_stat(*, pages_stored: int, compr_data_size: int, mem_used_pages: int,
            limit_pages: int, max_used_pages: int, same_pages: int, pages_compacted: int,
            huge_pages: int, huge_pages_since: int) -> dict[str, int]:
    """mm_stat by field name from zram's counters, converting pages to bytes where
    mm_stat_show() does (orig_data_size, mem_used_total, mem_limit, mem_used_max)."""
    return {
        "orig_data_size": pages_stored * PAGE_SIZE,
        "compr_data_size": compr_data_size,
        "mem_used_total": mem_used_pages * PAGE_SIZE,
        "mem_limit": limit_pages * PAGE_SIZE,
        "mem_used_max": max_used_pages * PAGE_SIZE,
        "same_pages": same_pages,
        "pages_compacted": pages_compacted,
        "huge_pages": huge_pages,
        "huge_pages_since": huge_pages_since,
    }


def format_mm_stat(stat: dict[str, int]) -> str:
    """One line, the widths mm_stat_show() uses ("%8llu %8llu %8llu %8lu %8ld %8llu %8lu ...")."""
    return " ".join(f"{stat[f]:8d}" for f in MM_STAT_FIELDS) + "\n"


def format_io_stat(stat: dict[str, int]) -> str:
    """io_stat_show() in 6.18 prints invalid_io as a bare literal 0 ("%8llu %8llu 0 %8llu")."""
    return (f"{stat['failed_reads']:8d} {stat['failed_writes']:8d} {stat['invalid_io']:d} "
            f"{stat['notify_free']:8d}\n")


def parse_stat(line: str, fields: tuple[str, ...]) -> dict[str, int]:
    """Parse by position, tolerating missing trailing fields of older kernels."""
    values = [int(v) for v in line.split()]
    return {f: v for f, v in zip(fields, values, strict=False)}


def parse_debug_stat(text: str) -> dict[str, int]:
    """/sys/block/zramN/debug_stat, version 1 (debug_stat_show()): "version: 1" and a line
    of writestall and miss_free. {} for any other version: its fields may mean otherwise."""
    lines = text.split("\n")
    if len(lines) < 2 or lines[0].strip() != "version: 1":
        return {}
    values = [int(v) for v in lines[1].split()]
    return dict(zip(("writestall", "miss_free"), values, strict=False))
