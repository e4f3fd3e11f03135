"""Page corpora: files of concatenated 4096-byte pages (optionally .gz or .zst)."""

from kcompressd.corpus.io import read_pages, write_pages

__all__ = ["read_pages", "write_pages"]
