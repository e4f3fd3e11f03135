"""Output files: checked before any work is done, written whole or not at all, and never
replacing what is not a regular file.

Every command that writes a file (corpus, trace, figure) goes through here, so:

- a path that cannot be written fails before minutes of simulation (the directory is probed by
  creating and removing a file in it, which also catches read-only and pseudo file systems);
- a regular file, or a new name, is written to a hidden temporary file beside it and renamed
  onto it when complete, so an interrupted or failed write leaves the old file or nothing; a
  symlink is followed and its target written, the link stays;
- a character device, FIFO or socket (`/dev/null`, a named pipe) and a path naming an open
  descriptor (`/dev/stdout`, `/dev/fd/3`) are written in place: renaming over them would, as
  root, replace the machine's `/dev/null` with a regular file;
- a new file gets the permissions the umask allows, a replaced file keeps its mode.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from kcompressd.errors import KcompressdError

# A process's descriptor directory, which /dev/stdout and /dev/fd/N lead to.
_FD_DIR = re.compile(r"/proc/(?:self|thread-self|\d+)(?:/task/\d+)?/fd")
_MAX_LINKS = 40  # the kernel's own limit on symlinks followed in one lookup


@dataclass(frozen=True)
class _Target:
    given: Path  # as the user wrote it: messages name this
    target: Path  # what is written, symlinks resolved
    in_place: bool  # written directly (a device, FIFO, socket or descriptor)
    mode: int  # permissions of the file written by rename


def _names_descriptor(path: Path) -> bool:
    """Whether following `path`'s symlinks passes through /proc/PID/fd (/dev/stdout...)."""
    current = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        if _FD_DIR.fullmatch(os.path.realpath(os.path.dirname(current))):
            return True
        try:
            link = os.readlink(current)
        except OSError:
            return False
        current = os.path.normpath(os.path.join(os.path.dirname(current), link))
    return False


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _resolve(path: str | os.PathLike[str]) -> _Target:
    """Where `path`'s bytes go and how; refuses what cannot become an output file."""
    given = Path(path)
    try:
        st: os.stat_result | None = os.stat(given)  # follows symlinks
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise KcompressdError(f"{given}: cannot write ({e.strerror})") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise KcompressdError(f"{given}: is a directory")
    if (st is not None and not stat.S_ISREG(st.st_mode)) or _names_descriptor(given):
        if not os.access(given, os.W_OK):
            raise KcompressdError(f"{given}: is not writable")
        return _Target(given, given, True, 0)
    target = Path(os.path.realpath(given))
    parent = target.parent
    if not parent.is_dir():
        raise KcompressdError(f"{given}: directory {parent} does not exist")
    if st is not None and not os.access(target, os.W_OK):
        raise KcompressdError(f"{given}: is not writable")
    try:  # os.access() says yes to root even on /sys or a read-only mount: try for real
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", dir=parent)
    except OSError as e:
        raise KcompressdError(f"{given}: cannot create files in {parent} ({e.strerror})"
                              ) from None
    os.close(fd)
    os.unlink(probe)
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
    return _Target(given, target, False, mode)


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Refuse a path that cannot become an output file, before any work; returns it."""
    return _resolve(path).given


@contextmanager
def atomic_outputs(paths: Sequence[str | os.PathLike[str]]) -> Iterator[list[Path]]:
    """One path to write each output to; when the block succeeds, each is renamed onto its
    target, all together; when it fails, nothing is left behind. In-place targets (devices,
    FIFOs, descriptors) are handed out as they are."""
    targets = [_resolve(p) for p in paths]
    with ExitStack() as cleanup:
        writes: list[Path] = []
        for t in targets:
            if t.in_place:
                writes.append(t.target)
                continue
            try:
                fd, name = tempfile.mkstemp(prefix=f".{t.target.name}.",
                                            suffix=t.target.suffix, dir=t.target.parent)
            except OSError as e:
                raise KcompressdError(f"{t.given}: cannot write ({e.strerror})") from None
            try:
                os.fchmod(fd, t.mode)  # mkstemp's 0600 would hide a trace from its readers
            finally:
                os.close(fd)
            tmp = Path(name)
            cleanup.callback(tmp.unlink, missing_ok=True)
            writes.append(tmp)
        try:
            yield writes
            for t, w in zip(targets, writes, strict=True):
                if not t.in_place:
                    os.replace(w, t.target)
        except OSError as e:
            where = next((t.given for t, w in zip(targets, writes, strict=True)
                          if e.filename in (str(w), str(t.target))), targets[0].given)
            raise KcompressdError(f"{where}: cannot write ({e.strerror})") from None


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """`atomic_outputs` for a single file."""
    with atomic_outputs([path]) as (write,):
        yield write
