"""Put back every system setting a run changed: on success, errors, Ctrl-C and SIGTERM.

A `Restorer` is a stack of undo actions. While it is active SIGTERM and SIGHUP are turned into
`KeyboardInterrupt`, so the same unwinding runs for a signal as for Ctrl-C; undo actions run
last-in first-out, each one even if an earlier one failed.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from types import FrameType, TracebackType


class Terminated(KeyboardInterrupt):
    """Raised inside the run when SIGTERM/SIGHUP arrives."""


class Restorer:
    def __init__(self) -> None:
        self._undo: list[tuple[str, Callable[[], None]]] = []
        self._old_handlers: dict[int, object] = {}
        self.errors: list[str] = []

    def push(self, what: str, undo: Callable[[], None]) -> None:
        """Register how to put `what` back; call right after changing it."""
        self._undo.append((what, undo))

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        raise Terminated(f"signal {signal.Signals(signum).name}")

    def __enter__(self) -> Restorer:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, self._on_signal)
        return self

    def restore(self) -> None:
        # Signals during restoration must not interrupt it half-way.
        blocked = {signal.SIGTERM, signal.SIGHUP, signal.SIGINT}
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        try:
            while self._undo:
                what, undo = self._undo.pop()
                try:
                    undo()
                except Exception as e:  # keep restoring the rest
                    msg = f"could not restore {what}: {e}"
                    self.errors.append(msg)
                    print(f"kcompressd: warning: {msg}", file=sys.stderr)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.restore()
        finally:
            for sig, handler in self._old_handlers.items():
                signal.signal(sig, handler)  # type: ignore[arg-type]
