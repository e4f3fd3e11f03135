"""kcompressd: what happens to reclaim if page compression leaves kswapd."""

__version__ = "0.1.0"

PAGE_SIZE = 4096
