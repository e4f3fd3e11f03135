"""Synthetic corpus generation speed, against bare lz4 compression of the same pages.

    python benchmarks/bench_corpus.py [--pages N] [--json]

Prints pages/s for synth_pages per profile and for lz4 on the pages it made, in the same
process, and their ratio (synth time / lz4 time): how many lz4 compressions one synthetic page
costs, a figure that carries across machines better than pages/s.
"""

from __future__ import annotations

import argparse
import json
import time

from kcompressd.codecs import get_codec
from kcompressd.corpus.synth import PROFILES, synth_pages


def bench(profile: str, pages: int) -> dict[str, float]:
    t0 = time.perf_counter()
    made = synth_pages(profile, pages, 0)
    t1 = time.perf_counter()
    compress = get_codec("lz4").compress
    for p in made:
        compress(p)
    t2 = time.perf_counter()
    return {"synth_pages_per_s": pages / (t1 - t0), "lz4_pages_per_s": pages / (t2 - t1),
            "synth_over_lz4_time": (t1 - t0) / (t2 - t1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=4096)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = {p: bench(p, args.pages) for p in PROFILES}
    if args.json:
        print(json.dumps({"pages": args.pages, "profiles": results}, indent=2))
        return
    for p, r in results.items():
        print(f"{p:8s} synth {r['synth_pages_per_s']:8.0f} pages/s   "
              f"lz4 {r['lz4_pages_per_s']:8.0f} pages/s   "
              f"synth/lz4 time {r['synth_over_lz4_time']:.1f}")


if __name__ == "__main__":
    main()
