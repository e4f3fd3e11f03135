"""The `kcompressd` command line: one sub-module per command group, each with `register(app)`."""

from __future__ import annotations

import re
import sys
from typing import Annotated

import typer

from kcompressd import __version__
from kcompressd.cli import bench, calibrate, corpus, lab, report, simulate, sweep, validate, zram
from kcompressd.cli.output import StdoutError, abandon_stdout, finish_stdout, print_line
from kcompressd.errors import KcompressdError

app = typer.Typer(
    name="kcompressd",
    help="What happens to reclaim if page compression leaves kswapd: "
    "zram model, reclaim simulator and real-kernel harness.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



def _print_version(given: bool) -> None:
    if given:
        print_line(__version__)
        raise typer.Exit()


@app.callback()
def _root(_version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_print_version,
        help="Print the kcompressd version and exit.")] = False) -> None:
    """Keep `kcompressd` a command group, with options of its own (--version)."""


@app.command()
def version() -> None:
    """Print the kcompressd version."""
    print_line(__version__)


for _module in (corpus, zram, simulate, bench, lab, sweep, report):
    _module.register(app)
calibrate.register(app)
validate.register(app)


def _fail(message: str, code: int) -> None:
    print(f"kcompressd: error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(code)


def usage_message(e: typer.TyperException) -> str:
    """The option parser's complaint as one line, naming the command it is about."""
    ctx = getattr(e, "ctx", None)
    where = ctx.command_path if ctx is not None else "kcompressd"
    text = re.sub(r"\s+", " ", e.format_message()).strip()
    return f"{text} (see {where} --help)"


def main() -> None:
    """Entry point: every bad invocation, whether the option parser or a command finds it, is
    one line on stderr and exit code 2; so is a stdout that cannot take the output."""
    try:
        code = app(standalone_mode=False)
        finish_stdout()
    except StdoutError as e:
        abandon_stdout()
        _fail(str(e), e.exit_code)
    except KcompressdError as e:
        _fail(str(e), e.exit_code)
    except typer.TyperException as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # a bare group: its help, as click does
            print(e.format_message(), file=sys.stderr)
            sys.exit(2)
        _fail(usage_message(e), 2)
    except (typer.Abort, KeyboardInterrupt):
        print("kcompressd: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
