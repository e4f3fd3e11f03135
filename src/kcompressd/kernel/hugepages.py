"""The hugepage balloon: memory taken out of play at once, unevictable, given back at once.

Writing /proc/sys/vm/nr_hugepages makes the kernel allocate (or free) persistent huge pages
from the buddy allocator (set_max_huge_pages() in mm/hugetlb.c); reclaim can never touch them,
so what is left is the memory the workload competes for. The kernel may allocate fewer than
asked when memory is fragmented: the caller reads back what it got.
"""

from __future__ import annotations

from kcompressd.kernel.restore import Restorer
from kcompressd.kernel.sysctl import get_sysctl, set_sysctl

NR_HUGEPAGES = "vm.nr_hugepages"


def inflate_balloon(restorer: Restorer, extra_pages: int) -> int:
    """Add `extra_pages` huge pages to the pool; returns how many the kernel really added."""
    before = int(get_sysctl(NR_HUGEPAGES))
    set_sysctl(restorer, NR_HUGEPAGES, before + extra_pages)
    return int(get_sysctl(NR_HUGEPAGES)) - before
