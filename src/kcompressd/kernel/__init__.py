"""Everything that touches the real kernel: sysfs, procfs, swap, hugepages, sysctls.

Nothing outside this package writes to the running system.
"""
