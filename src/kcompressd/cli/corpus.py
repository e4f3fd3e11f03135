"""`kcompressd corpus`: capture, synthesize and inspect page corpora.

Outputs are checked before any work starts and written atomically (corpus.io.write_pages), so
a refused or interrupted command leaves no file behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import track
from rich.table import Table

from kcompressd.cli.output import emit_json, print_line, stderr, stdout
from kcompressd.codecs import available, get_codec
from kcompressd.corpus.builtin import builtin_corpus
from kcompressd.corpus.capture import capture_pages
from kcompressd.corpus.io import read_pages, write_pages
from kcompressd.corpus.stats import corpus_info
from kcompressd.corpus.synth import PROFILES, iter_synth_pages
from kcompressd.errors import KcompressdError
from kcompressd.outfile import check_writable

corpus_app = typer.Typer(
    name="corpus",
    help="Page corpora: files of 4096-byte pages (.gz/.zst read transparently).",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
OutOpt = Annotated[Path, typer.Option("-o", "--output", help="Corpus file to write "
                                      "(.gz/.zst compress it).")]


def register(app: typer.Typer) -> None:
    app.add_typer(corpus_app)


def _written(path: Path, pages: int, json_out: bool, **extra: object) -> None:
    if json_out:
        emit_json({"output": str(path), "pages": pages, **extra})
    else:
        stderr.print(f"wrote {pages} pages to {path}")


@corpus_app.command("capture")
def capture(
    pid: Annotated[int, typer.Option("--pid", help="Process to capture.")],
    output: OutOpt,
    max_pages: Annotated[int | None, typer.Option("--max-pages", help="Stop after N pages.")]
    = None,
    json_out: JsonOpt = False,
) -> None:
    """Capture the private anonymous pages of a running process (needs root or ptrace rights).

    The process is stopped (SIGSTOP) while its memory is read and always continued afterwards.
    """
    check_writable(output)
    pages = capture_pages(pid, max_pages)
    if not pages:
        raise KcompressdError(f"process {pid} has no private anonymous pages in memory")
    _written(output, write_pages(output, pages), json_out, pid=pid)


@corpus_app.command("synth")
def synth(
    output: OutOpt,
    profile: Annotated[str, typer.Option("--profile", help=f"One of {', '.join(PROFILES)}.")]
    = "phone",
    pages: Annotated[int, typer.Option("--pages", help="Number of pages.")] = 2048,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Write a synthetic corpus that compresses like anonymous memory of PROFILE."""
    if pages < 1:
        raise KcompressdError(f"--pages must be >= 1, got {pages}")
    check_writable(output)
    it = iter_synth_pages(profile, pages, seed)
    made = list(track(it, total=pages, description=f"synth {profile}", console=stderr,
                      transient=True, disable=not stderr.is_terminal))
    _written(output, write_pages(output, made), json_out, profile=profile, seed=seed)


@corpus_app.command("builtin")
def builtin(
    profile: Annotated[str, typer.Option("--profile", help=f"One of {', '.join(PROFILES)}.")]
    = "phone",
    json_out: JsonOpt = False,
) -> None:
    """Print the path of PROFILE's built-in corpus (generated into the cache on first use)."""
    path = builtin_corpus(profile)
    if json_out:
        emit_json({"profile": profile, "path": str(path)})
    else:
        print_line(str(path))


@corpus_app.command("info")
def info(
    file: Annotated[Path, typer.Argument(help="Corpus file.")],
    codec: Annotated[list[str] | None, typer.Option(
        "--codec", help="Codec to measure (repeatable); default every available one.")] = None,
    repeat: Annotated[int, typer.Option(
        "--repeat", help="Time each page N times and keep the minimum.")] = 1,
    max_pages: Annotated[int | None, typer.Option(
        "--max-pages", help="Read only the first N pages (default: all, up to half of "
                            "this machine's memory).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Pages, zero and same-filled pages; per codec ratio, huge pages and cost per page.

    The ratio is zram's orig_data_size / compr_data_size for the corpus written once (huge
    pages count 4096, same-filled pages 0); costs are the mean ns per compressed page.
    """
    codecs = codec or available()
    for c in codecs:
        get_codec(c)
    if repeat < 1:
        raise KcompressdError(f"--repeat must be >= 1, got {repeat}")
    pages = read_pages(file, max_pages)
    with stderr.status(f"measuring {len(pages)} pages with {', '.join(codecs)}"):
        doc = {"file": str(file), **corpus_info(pages, codecs, repeat=repeat)}
    if json_out:
        emit_json(doc)
        return
    n = doc["pages"]
    stdout.print(f"[bold]{file}[/]: {n} pages, {doc['zero_pages']} zero "
                 f"({doc['zero_fraction']:.1%}), {doc['same_filled_pages']} same-filled "
                 f"({doc['same_filled_fraction']:.1%}); huge at >= {doc['huge_class_size']} B")
    table = Table("codec", "ratio", "compr bytes", "huge pages", "huge", "compress ns/page",
                  "decompress ns/page")
    for name, s in doc["codecs"].items():
        ratio = "-" if s["ratio"] is None else f"{s['ratio']:.3f}"
        table.add_row(name, ratio, f"{s['compr_data_size']:,}", str(s["huge_pages"]),
                      f"{s['huge_fraction']:.1%}", f"{s['mean_compress_ns']:,.0f}",
                      f"{s['mean_decompress_ns']:,.0f}")
    stdout.print(table)
