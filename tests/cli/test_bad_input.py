"""Every command, fed bad input the way users do: exit 2, one line on stderr starting
`kcompressd: error:`, nothing on stdout, no traceback, and no file left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from helpers import refused, run_kcompressd
from kcompressd.cli import app

# (arguments, text the error line must contain); {tmp} is an empty directory checked after.
CASES: list[tuple[list[str], str]] = [
    # the option parser's own complaints
    (["no-such-command"], "No such command"),
    (["--no-such-option"], "No such option"),
    (["simulate", "--seed", "abc"], "--seed"),
    (["simulate", "--bogus"], "--bogus"),
    (["corpus", "synth"], "Missing option '-o'"),
    (["corpus", "capture", "--pid", "abc", "-o", "{tmp}/c.bin"], "--pid"),
    (["zram", "replay", "--chain-size", "x"], "--chain-size"),
    (["scenarios", "show"], "Missing argument"),
    (["version", "--bogus"], "--bogus"),
    (["bench", "--bogus"], "--bogus"),
    (["bench", "--duration", "abc"], "--duration"),
    (["bench", "--threads", "many"], "--threads"),
    # simulate
    (["simulate", "--duration", "nan"], "not a finite number"),
    (["simulate", "--duration", "inf"], "not a finite number"),
    (["simulate", "--duration", "-1"], "must be > 0"),
    (["simulate", "--set", "machine.big_speed=nan"], "machine.big_speed"),
    (["simulate", "--set", "design.kcompressd-v1.threads=inf"], "not a finite number"),
    (["simulate", "--set", "machine.cpus=0"], "machine.cpus"),
    (["simulate", "--design", "v9"], "unknown design 'v9'"),
    (["simulate", "--seeds", "4-1"], "--seeds"),
    (["simulate", "{tmp}/missing.toml"], "no such scenario file"),
    (["simulate", "--trace", "{tmp}/no/t.json"], "does not exist"),
    (["simulate", "--plot", "/proc/no/p.png"], "/proc/no/p.png"),
    (["simulate", "--plot", "{tmp}/p.xyz"], "unknown figure format"),
    # listings
    (["designs", "v9"], "unknown design 'v9'"),
    (["scenarios", "show", "phone-x"], "unknown scenario 'phone-x'"),
    # corpus
    (["corpus", "synth", "-o", "{tmp}/no/c.bin"], "does not exist"),
    (["corpus", "synth", "-o", "{tmp}/c.bin", "--pages", "0"], "--pages"),
    (["corpus", "synth", "-o", "{tmp}/c.bin", "--profile", "nope"], "nope"),
    (["corpus", "capture", "--pid", "2", "-o", "{tmp}/c.bin"], "kernel thread"),
    (["corpus", "capture", "--pid", "999999999", "-o", "{tmp}/c.bin"], "no process"),
    (["corpus", "info", "/dev/zero"], "is a character device"),
    (["corpus", "info", "{tmp}"], "is a directory"),
    (["corpus", "info", "{tmp}/missing.bin"], "no such corpus file"),
    (["corpus", "info", "/dev/zero", "--max-pages", "0"], "--max-pages"),
    (["corpus", "builtin", "--profile", "nope"], "nope"),
    # zram
    (["zram", "replay", "/dev/zero"], "is a character device"),
    (["zram", "replay", "--chain-size", "99"], "--chain-size"),
    (["zram", "replay", "--mem-limit", "lots"], "--mem-limit"),
    (["zram", "replay", "--free-every", "0"], "--free-every"),
    (["zram", "replay", "--algorithm", "nope"], "nope"),
]


@pytest.mark.parametrize(("args", "named"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], named: str) -> None:
    r = run_kcompressd(*(a.format(tmp=tmp_path) for a in args))
    refused(r, named)
    assert "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []


def _command_paths() -> list[list[str]]:
    """Every command and command group the CLI has, as the words that name it."""
    out: list[list[str]] = []

    def walk(cmd: object, path: list[str]) -> None:
        out.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(get_command(app), [])
    return out


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "kcompressd")
def test_every_command_refuses_an_unknown_option_in_one_line(path: list[str]) -> None:
    refused(run_kcompressd(*path, "--no-such-option"), "No such option: --no-such-option")


def test_a_full_or_closed_stdout_is_one_line() -> None:
    cmd = [sys.executable, "-m", "kcompressd", "designs", "--json"]
    with open("/dev/full", "w") as full:
        r = subprocess.run(cmd, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr == "kcompressd: error: cannot write to stdout (No space left on device)\n"
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       timeout=120, preexec_fn=lambda: os.close(1))
    assert r.returncode == 2
    assert r.stderr == "kcompressd: error: cannot write to stdout: it is closed\n"


def test_version() -> None:
    from kcompressd import __version__

    for args in (["--version"], ["version"]):
        r = run_kcompressd(*args)
        assert r.returncode == 0 and r.stdout == f"{__version__}\n"
