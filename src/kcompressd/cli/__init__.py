"""The `kcompressd` command line: one sub-module per command group, each with `register(app)`."""

from __future__ import annotations

import sys

import typer

from kcompressd import __version__
from kcompressd.cli import bench, corpus, simulate, zram
from kcompressd.errors import KcompressdError

app = typer.Typer(
    name="kcompressd",
    help="What happens to reclaim if page compression leaves kswapd: "
    "zram model, reclaim simulator and real-kernel harness.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _root() -> None:
    """Keep `kcompressd` a command group even while it has a single command."""


@app.command()
def version() -> None:
    """Print the kcompressd version."""
    print(__version__)


for _module in (corpus, zram, simulate, bench):
    _module.register(app)


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2."""
    try:
        app()
    except KcompressdError as e:
        print(f"kcompressd: error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
