"""`kcompressd zram`: the zram/zsmalloc model, and the same replay on the real kernel."""

from __future__ import annotations

import mmap
import re
import stat
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kcompressd import PAGE_SIZE
from kcompressd.backends.size_classes import MAX_CHAIN_SIZE, MIN_CHAIN_SIZE
from kcompressd.backends.zram import ReplayStage, replay
from kcompressd.backends.zram_stats import IO_STAT_FIELDS, MM_STAT_FIELDS
from kcompressd.cli.output import emit_json, stderr, stdout
from kcompressd.codecs import get_codec
from kcompressd.codecs.lz4_kernel import kernel_lz4_available
from kcompressd.corpus.builtin import builtin_corpus
from kcompressd.corpus.io import read_corpus_bytes
from kcompressd.errors import KcompressdError
from kcompressd.kernel import sysfs
from kcompressd.kernel.zram_replay import check_algorithm, check_chain_size, replay_kernel

zram_app = typer.Typer(
    name="zram",
    help="The zram/zsmalloc model (mm_stat as the kernel prints it) and the real device.",
    no_args_is_help=True,
)

_SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def register(app: typer.Typer) -> None:
    app.add_typer(zram_app)


def parse_bytes(text: str) -> int:
    """A byte count the way zram's mem_limit takes it (memparse: 512M, 1G, 4096)."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not m:
        raise KcompressdError(f"--mem-limit {text!r}: expected bytes, e.g. 4096, 512M or 1G")
    return int(m.group(1)) * _SUFFIX[m.group(2).upper()]


def load_corpus(path: Path, max_pages: int | None = None) -> bytes | mmap.mmap:
    """The corpus as one buffer (its first `max_pages` pages when given); a plain file is
    mapped (copy-on-write) rather than read, which the replay of a big corpus would otherwise
    spend as long on as on its model."""
    try:
        st = path.stat()
        plain = (path.suffix.lower() not in (".gz", ".zst") and stat.S_ISREG(st.st_mode)
                 and st.st_size and not st.st_size % PAGE_SIZE)
    except OSError:
        plain = False
    if not plain or (max_pages is not None and max_pages * PAGE_SIZE < st.st_size):
        # decompresses, reads at most max_pages, and refuses bad input in one line
        return read_corpus_bytes(path, max_pages)
    with open(path, "rb") as f:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)


def _check_options(algorithm: str, chain_size: int, free_every: int | None) -> None:
    get_codec(algorithm)  # unknown names: error listing the available ones
    if not MIN_CHAIN_SIZE <= chain_size <= MAX_CHAIN_SIZE:
        raise KcompressdError(
            f"--chain-size {chain_size} out of range {MIN_CHAIN_SIZE}..{MAX_CHAIN_SIZE}"
        )
    if free_every is not None and free_every < 1:
        raise KcompressdError(f"--free-every must be >= 1, got {free_every}")


def _diff(model: dict[str, int], kernel: dict[str, int]) -> dict[str, int]:
    """kernel - model for every field both have."""
    return {f: kernel[f] - model[f] for f in model if f in kernel}


def _table(title: str, fields: tuple[str, ...], model: dict[str, int],
           kernel: dict[str, int] | None) -> Table:
    table = Table(title=title)
    table.add_column("field")
    table.add_column("model", justify="right")
    if kernel is not None:
        table.add_column("kernel", justify="right")
        table.add_column("kernel - model", justify="right")
        table.add_column("%", justify="right")
    for f in fields:
        row = [f, str(model[f])]
        if kernel is not None:
            k = kernel.get(f)
            d = None if k is None else k - model[f]
            row += ["-" if k is None else str(k), "-" if d is None else f"{d:+d}",
                    f"{100 * d / model[f]:+.3f}" if d is not None and model[f] else ""]
        table.add_row(*row)
    return table


@zram_app.command("replay")
def replay_cmd(
    corpus: Annotated[Path | None, typer.Argument(
        help="Corpus file (default: the built-in phone corpus).")] = None,
    algorithm: Annotated[str, typer.Option("--algorithm", "-a", help="Compressor.")] = "lz4",
    chain_size: Annotated[int, typer.Option(
        "--chain-size", help="Pages per zspage at most (CONFIG_ZSMALLOC_CHAIN_SIZE).")] = 8,
    mem_limit: Annotated[str, typer.Option(
        "--mem-limit", help="zram mem_limit in bytes (K/M/G suffixes); 0 = none.")] = "0",
    free_every: Annotated[int | None, typer.Option(
        "--free-every", help="After writing, discard slots 0, K, 2K, ...")] = None,
    compact: Annotated[bool, typer.Option("--compact", help="Then compact the pool.")] = False,
    kernel: Annotated[bool, typer.Option(
        "--kernel", help="Also replay on a free real zram device (root) and compare.")] = False,
    max_pages: Annotated[int | None, typer.Option(
        "--max-pages", help="Replay only the first N pages of CORPUS.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Write every page of CORPUS to slot i of a fresh zram device and print mm_stat/io_stat."""
    _check_options(algorithm, chain_size, free_every)
    if max_pages is not None and max_pages < 1:
        raise KcompressdError(f"--max-pages must be >= 1, got {max_pages}")
    limit = parse_bytes(mem_limit)
    if kernel:
        # Fail before any work when the real side cannot run.
        sysfs.require_root("zram replay --kernel")
        check_chain_size(chain_size)
        check_algorithm(algorithm)
    if algorithm == "lz4" and not kernel_lz4_available():
        stderr.print("warning: no C compiler for the kernel-exact lz4; using liblz4, whose "
                     "compressed sizes differ from the kernel's by about 1 %")
    data = load_corpus(corpus if corpus is not None else builtin_corpus("phone"), max_pages)
    npages = len(data) // PAGE_SIZE
    model_stages = replay(data, algorithm, chain_size=chain_size, mem_limit=limit,
                          free_every=free_every, compact=compact)
    kernel_stages: list[ReplayStage] | None = None
    if kernel:
        pages = [data[i:i + PAGE_SIZE] for i in range(0, len(data), PAGE_SIZE)]
        kernel_stages = replay_kernel(pages, algorithm, chain_size=chain_size, mem_limit=limit,
                                      free_every=free_every, compact=compact)
    final = model_stages[-1]
    kfinal = kernel_stages[-1] if kernel_stages else None
    if json_out:
        doc: dict[str, object] = {"pages": npages, "mm_stat": final.mm_stat,
                                  "io_stat": final.io_stat}
        if kfinal is not None:
            doc["kernel"] = {"mm_stat": kfinal.mm_stat, "io_stat": kfinal.io_stat}
            doc["diff"] = {"mm_stat": _diff(final.mm_stat, kfinal.mm_stat),
                           "io_stat": _diff(final.io_stat, kfinal.io_stat)}
        emit_json(doc)
        return
    steps = " + ".join(s.name for s in model_stages)
    stderr.print(f"{npages} pages, {algorithm}, chain {chain_size}: {steps}")
    stdout.print(_table("mm_stat", MM_STAT_FIELDS, final.mm_stat,
                        kfinal.mm_stat if kfinal else None))
    stdout.print(_table("io_stat", IO_STAT_FIELDS, final.io_stat,
                        kfinal.io_stat if kfinal else None))
