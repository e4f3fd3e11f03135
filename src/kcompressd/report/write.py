"""The report directory, put in place whole: written to a temporary directory beside it, then
renamed. An existing directory is replaced only if it is empty or an earlier report (its
index.html names this generator); a file, or a directory of anything else, is refused.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from kcompressd.errors import KcompressdError

MARKER = "<meta name=generator content='kcompressd report"


def _is_report(d: Path) -> bool:
    entries = list(d.iterdir())
    if not entries:
        return True
    index = d / "index.html"
    try:
        return index.is_file() and MARKER in index.read_text(errors="replace")[:2000]
    except OSError:
        return False


def check_out_dir(out: Path) -> None:
    """Refuse an output directory before any work is done."""
    if out.exists() and not out.is_dir():
        raise KcompressdError(f"{out}: exists and is not a directory")
    if out.is_dir() and not _is_report(out):
        raise KcompressdError(f"{out}: exists and is not a kcompressd report (no index.html "
                              "of ours); choose another -o")
    parent = out.absolute().parent
    if not parent.is_dir():
        raise KcompressdError(f"{out}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise KcompressdError(f"{out}: directory {parent} is not writable")


def write_dir(out: Path, files: dict[str, bytes]) -> None:
    """Write `files` (relative path -> content) as directory `out`, all or nothing."""
    check_out_dir(out)
    parent = out.absolute().parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    old: Path | None = None
    try:
        for rel, data in files.items():
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        tmp.chmod(0o755)
        if out.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=parent))
            os.replace(out, old / "r")
        os.replace(tmp, out)
    except OSError as e:
        if old is not None and not out.exists():
            os.replace(old / "r", out)  # put the earlier report back
        raise KcompressdError(f"{out}: cannot write report ({e.strerror})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


__all__ = ["check_out_dir", "write_dir"]
