"""One small synthetic corpus per profile, generated on first use and cached.

Nothing big lives in git: the corpus is a pure function of (profile, seed, generator version),
so it is generated the first time a command needs a default and kept in the cache directory
($KCOMPRESSD_CACHE, else $XDG_CACHE_HOME/kcompressd, else ~/.cache/kcompressd). The file name
carries all three keys, so a new generator never reuses an old file, and `write_pages` renames
a finished temporary file into place, so processes racing on first use each write a complete
file and the last rename wins with identical bytes.
"""

from __future__ import annotations

from pathlib import Path

from kcompressd.cache import cache_dir
from kcompressd.corpus.io import write_pages
from kcompressd.corpus.synth import GENERATOR_VERSION, get_profile, synth_pages
from kcompressd.errors import KcompressdError

BUILTIN_PAGES = 2048  # 8 MiB: enough for stable ratios, about a second to generate
BUILTIN_SEED = 0


def builtin_corpus(profile: str = "phone") -> Path:
    """Path of the built-in corpus for `profile`, generating it on first use."""
    get_profile(profile)  # unknown profiles fail before touching the cache
    d = cache_dir()
    path = d / f"builtin-{profile}-s{BUILTIN_SEED}-g{GENERATOR_VERSION}-{BUILTIN_PAGES}p.zst"
    if path.is_file():
        return path
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise KcompressdError(f"cannot create corpus cache directory {d} ({e.strerror})") from None
    write_pages(path, synth_pages(profile, BUILTIN_PAGES, BUILTIN_SEED))
    return path
