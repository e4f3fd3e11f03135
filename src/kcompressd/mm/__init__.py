"""The memory-management model: nodes, watermarks, the anon LRU, kswapd and direct reclaim."""
