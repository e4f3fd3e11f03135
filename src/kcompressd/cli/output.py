"""Output conventions: exactly one JSON document on stdout with --json; everything else on
stderr or as rich tables on stdout.

Everything written to stdout goes through `GuardedStdout`, so a full disk (`> /dev/full`), a
reader that went away (`| head -c1`) or a closed descriptor (`>&-`) is one error line, not a
traceback.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console

from kcompressd.errors import KcompressdError


class StdoutError(KcompressdError):
    """stdout cannot take what a command prints."""


class GuardedStdout:
    """The current `sys.stdout` (looked up on each call, so capturing test runners work) with
    write errors turned into StdoutError."""

    def _target(self) -> Any:
        if sys.stdout is None:  # Python sets it to None when started with fd 1 closed
            raise StdoutError("cannot write to stdout: it is closed")
        return sys.stdout

    def write(self, text: str) -> int:
        try:
            return self._target().write(text)
        except OSError as e:
            raise StdoutError(f"cannot write to stdout ({e.strerror})") from None

    def flush(self) -> None:
        try:
            self._target().flush()
        except OSError as e:
            raise StdoutError(f"cannot write to stdout ({e.strerror})") from None
        except ValueError:  # flush of a closed file object
            raise StdoutError("cannot write to stdout: it is closed") from None

    def isatty(self) -> bool:
        return sys.stdout is not None and sys.stdout.isatty()

    def fileno(self) -> int:
        return self._target().fileno()

    @property
    def encoding(self) -> str:
        return getattr(sys.stdout, "encoding", None) or "utf-8"


guarded_stdout = GuardedStdout()
stderr = Console(stderr=True)
stdout = Console(file=guarded_stdout)  # type: ignore[arg-type]


def emit_json(doc: Any) -> None:
    """The one JSON document of --json; NaN and infinity are refused (they are not JSON)."""
    text = json.dumps(doc, indent=2, sort_keys=False, allow_nan=False)
    guarded_stdout.write(text + "\n")
    guarded_stdout.flush()


def note(text: str) -> None:
    """A note or warning on stderr, one unwrapped line of plain text."""
    stderr.print(text, highlight=False, markup=False, soft_wrap=True)


def print_line(text: str) -> None:
    """A plain line on stdout (a path, a version) for scripts."""
    guarded_stdout.write(text + "\n")


def finish_stdout() -> None:
    """Flush stdout at the end of a command, so a failing flush is reported, not ignored."""
    guarded_stdout.flush()


def abandon_stdout() -> None:
    """After stdout failed: point fd 1 at /dev/null, so the interpreter's own flush at exit
    does not fail a second time with a traceback of its own."""
    if sys.stdout is None:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        sys.stdout = None  # type: ignore[assignment]
