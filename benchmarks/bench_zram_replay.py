"""`kcompressd zram replay` against bare lz4 compression of the same pages, in one process.

    python benchmarks/bench_zram_replay.py [--pages N] [--profile P] [--repeat R] [--json]

The replay is the whole command (`kcompressd zram replay FILE --json`, run in-process through
the CLI: read the corpus, write every page into the model, print the JSON), once as written and
once with `--free-every 3 --compact`. The bare codec is the codec registry's lz4 (`lz4`
package) on the same pages, and, for reference, the kernel-exact lz4 the model compresses with.
Each is timed R times, interleaved, and the median kept. Goal: codec/replay >= 0.5 (the model
costs no more than the codec). Prints ratios; asserts nothing about wall-clock.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kcompressd.cli import app
from kcompressd.codecs import get_codec
from kcompressd.codecs.lz4_kernel import kernel_lz4_available, kernel_lz4_compressor
from kcompressd.corpus.io import write_pages
from kcompressd.corpus.synth import synth_pages


def _timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _cli(args: list[str]) -> Callable[[], object]:
    def run() -> object:
        with contextlib.redirect_stdout(io.StringIO()) as out:
            app(args, standalone_mode=False)
        return json.loads(out.getvalue())

    return run


def bench(pages: list[bytes], path: Path, repeat: int) -> dict[str, float]:
    compress = get_codec("lz4").compress
    cases: dict[str, Callable[[], object]] = {
        "lz4": lambda: [compress(p) for p in pages],
        "replay": _cli(["zram", "replay", str(path), "--json"]),
        "replay_free_compact": _cli(["zram", "replay", str(path), "--free-every", "3",
                                     "--compact", "--json"]),
    }
    if kernel_lz4_available():
        kernel = kernel_lz4_compressor()
        cases["kernel_lz4"] = lambda: [kernel(p) for p in pages]
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            times[name].append(_timed(fn))
    med = {name: statistics.median(t) for name, t in times.items()}
    out = {f"{name}_s": t for name, t in med.items()}
    out["codec_over_replay"] = med["lz4"] / med["replay"]
    out["codec_over_replay_free_compact"] = med["lz4"] / med["replay_free_compact"]
    if "kernel_lz4" in med:
        out["kernel_lz4_over_replay"] = med["kernel_lz4"] / med["replay"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=10_000)
    ap.add_argument("--profile", default="phone")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    pages = synth_pages(args.profile, args.pages, 0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.bin"
        write_pages(path, pages)
        result = bench(pages, path, args.repeat)
    if args.json:
        print(json.dumps({"pages": args.pages, "profile": args.profile, **result}, indent=2))
        return
    print(f"{args.pages} pages ({args.profile}), median of {args.repeat}:")
    for key, value in result.items():
        print(f"  {key:32s} {value:8.3f}")
    print("goal: codec_over_replay >= 0.5")


if __name__ == "__main__":
    main()
