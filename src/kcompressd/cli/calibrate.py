"""`kcompressd calibrate`: a measured machine profile of this host, for the simulator.

Why a command: the simulator's costs must come from a file (a profile), so that a result can
be reproduced anywhere; this writes that file for the machine it runs on (codec costs on a
corpus, kswapd's split from a baseline `bench --perf`, memory and watermarks).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer

from kcompressd import PAGE_SIZE
from kcompressd.cli.output import emit_json, stderr, stdout
from kcompressd.errors import KcompressdError
from kcompressd.outfile import atomic_output, check_writable

DEFAULT_CORPUS = "builtin:phone"


def corpus_pages(spec: str) -> list[bytes]:
    """The pages of a corpus file or `builtin:<profile>`."""
    from kcompressd.backends.zram_cost import corpus_path
    from kcompressd.corpus.io import read_corpus_bytes

    data = read_corpus_bytes(corpus_path(spec))
    return [data[i:i + PAGE_SIZE] for i in range(0, len(data), PAGE_SIZE)]


def run_bench_json(args: list[str]) -> dict[str, Any]:
    """`kcompressd bench <args> --json` in a subprocess (it needs root); its result."""
    argv = [sys.executable, "-m", "kcompressd", "bench", *args, "--json"]
    stderr.print(f"running {' '.join(['kcompressd', 'bench', *args, '--json'])} ...")
    proc = subprocess.run(argv, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    if proc.returncode:
        raise KcompressdError(f"kcompressd bench failed (exit {proc.returncode}); see above")
    return json.loads(proc.stdout)


def load_bench_result(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except OSError as e:
        raise KcompressdError(f"{path}: cannot read ({e.strerror})") from None
    except json.JSONDecodeError as e:
        raise KcompressdError(f"{path}: not a JSON result ({e})") from None


def calibrate_cmd(
    output: Path = typer.Option(..., "-o", "--output", help="Profile TOML to write."),
    corpus: str | None = typer.Option(None, help="Corpus file the codecs are timed on (and "
                                      f"the bench writes); default {DEFAULT_CORPUS}."),
    bench_result: Path | None = typer.Option(None, help="A baseline `kcompressd bench --perf "
                                             "--json` result; without it one is run (root)."),
    json_out: bool = typer.Option(False, "--json", help="Print the profile as JSON too."),
) -> None:
    """Measure this machine into a profile: codec costs, kswapd's split, memory."""
    from kcompressd.codecs import available
    from kcompressd.profiles.calibrate import build_profile, host_memory, kswapd_split
    from kcompressd.profiles.measure import measure_codecs

    check_writable(output)
    spec = corpus or DEFAULT_CORPUS
    pages = corpus_pages(spec)
    if bench_result is not None:
        bench, origin = load_bench_result(bench_result), str(bench_result)
    else:
        bench = run_bench_json(["--perf", *(["--corpus", corpus] if corpus else [])])
        origin = "run by calibrate"
    kswapd_split(bench)  # refuse a result that cannot calibrate before timing anything
    stderr.print(f"timing {', '.join(available())} on {len(pages)} pages of {spec} ...")
    codecs = measure_codecs(pages, available(), spec)
    memory, info = host_memory()
    profile = build_profile(output.stem, codecs, pages, bench, origin, memory, info)
    with atomic_output(output) as tmp:
        tmp.write_text(profile.to_toml())
    if json_out:
        emit_json({"profile": str(output), "reclaim": {k: v.value for k, v in
                                                        profile.reclaim.items()},
                   "info": {k: v.value for k, v in profile.info.items()}})
    else:
        stdout.print(f"wrote {output}: scan {profile.reclaim['scan_ns'].value:g} ns, unmap "
                     f"{profile.reclaim['unmap_ns'].value:g} ns per page; codecs "
                     f"{', '.join(sorted(profile.codecs))}")


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate_cmd)
