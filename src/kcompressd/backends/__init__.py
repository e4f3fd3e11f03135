"""Swap backends: zram over zsmalloc (and, later, zswap)."""
