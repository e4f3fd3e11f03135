"""Grid files: what to run, checked whole before the first run.

```toml
kind = "simulate"          # or "bench": real runs on this machine's kernel (default simulate)
scenario = "phone-memeater"
seeds = [1, 2]
[set]                      # fixed overrides, applied to every point
"run.duration_s" = 2.0
[grid]                     # the cross product of these
design = ["none", "kcompressd-v2"]
"machine.cpus" = [4, 8]
```

Simulated points take `design` (the design's name) and any dotted key `kcompressd simulate
--set` accepts; every point is loaded with the scenario loader, so an unknown key, a bad value
or a parameter the design does not have is refused before anything runs. `[[grid]]` (an array
of tables) is the union of several cross products, for parameters only some designs have
(`design.threads` for kcompressd-v1 next to the baseline, which takes none).

Bench points take `kcompressd bench` option names (`duration`, `threads`, `size`,
`kcompressd` for one vm.kcompressd value, and the guest shape once `bench` has it); each is
checked by `kcompressd bench --dry-run`. `seeds` of a bench grid number its repeats (a real
kernel has no seed), and `scenario` is only the label its rows carry (default kernel-bench).

A run's key is a hash of (kind, scenario as written, parameters, seed): the same point of the
same grid always has the same key, which is what resume and the database's UNIQUE rely on.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcompressd.errors import KcompressdError

KINDS = ("simulate", "bench")
TOP_KEYS = ("kind", "scenario", "seeds", "description", "set", "grid")
BENCH_LABEL = "kernel-bench"
Scalar = str | int | float | bool


@dataclass(frozen=True)
class Point:
    """One parameter combination; a run is a point and a seed."""

    kind: str
    scenario: str  # as written in the grid (the label for bench points)
    params: dict[str, Scalar]  # [set] then the [grid] choice, in file order

    def overrides(self) -> list[str]:
        """`--set` items for the scenario loader; the design's name first, as `simulate
        --design` does, so design.* parameters are checked against that design."""
        out = [f"design.name={toml_value(self.params['design'])}"] if "design" in self.params \
            else []
        out += [f"{k}={toml_value(v)}" for k, v in self.params.items() if k != "design"]
        return out

    def bench_args(self) -> list[str]:
        """`kcompressd bench` arguments: --name value, or --name for a true flag."""
        args: list[str] = []
        for k, v in self.params.items():
            opt = f"--{k.replace('_', '-')}"
            if isinstance(v, bool):
                if v:
                    args.append(opt)
            else:
                args += [opt, str(v)]
        return args

    def describe(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.params.items()) or "(no parameters)"


@dataclass(frozen=True)
class Run:
    point: Point
    seed: int
    scenario_path: str  # what the worker loads: a built-in name or a path resolved to the grid
    key: str = field(default="")

    @property
    def label(self) -> str:
        return f"{self.point.scenario} {self.point.describe()} seed {self.seed}"


@dataclass(frozen=True)
class Grid:
    path: Path
    kind: str
    scenario: str
    seeds: tuple[int, ...]
    points: tuple[Point, ...]
    scenario_path: str

    def runs(self) -> list[Run]:
        return [Run(p, s, self.scenario_path, run_key(p, s)) for p in self.points
                for s in self.seeds]


def toml_value(v: Scalar) -> str:
    """A value as the scenario loader's `--set` parses it (TOML)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a TOML basic string
    return repr(v)


def run_key(point: Point, seed: int) -> str:
    doc = {"kind": point.kind, "scenario": point.scenario, "params": point.params,
           "seed": seed}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:20]


def _scalar(where: str, v: Any) -> Scalar:
    if isinstance(v, float) and not math.isfinite(v):
        raise KcompressdError(f"{where}: {v} is not a finite number")
    if not isinstance(v, str | int | float | bool):
        raise KcompressdError(f"{where}: expected a string, number or boolean, got {v!r}")
    return v


def _axes(path: Path, raw: Any) -> list[dict[str, list[Scalar]]]:
    """[grid] as a list of tables key -> non-empty list of values."""
    if raw is None:
        return [{}]
    tables = raw if isinstance(raw, list) else [raw]
    out = []
    for i, t in enumerate(tables):
        where = "grid" if not isinstance(raw, list) else f"grid[{i}]"
        if not isinstance(t, dict):
            raise KcompressdError(f"{path}: {where}: expected a table of key = [values]")
        axes: dict[str, list[Scalar]] = {}
        for k, vals in t.items():
            if not isinstance(vals, list):
                raise KcompressdError(f"{path}: {where}.{k}: expected a list of values")
            if not vals:
                raise KcompressdError(f"{path}: {where}.{k}: empty list (nothing to run)")
            checked = [_scalar(f"{path}: {where}.{k}", v) for v in vals]
            if len({json.dumps(v) for v in checked}) != len(checked):
                raise KcompressdError(f"{path}: {where}.{k}: a value is listed twice")
            axes[k] = checked
        out.append(axes)
    if not out:
        raise KcompressdError(f"{path}: grid: empty list of tables")
    return out


def _points(path: Path, kind: str, scenario: str, fixed: dict[str, Scalar],
            axes_list: list[dict[str, list[Scalar]]]) -> list[Point]:
    points: list[Point] = []
    seen: set[str] = set()
    for axes in axes_list:
        for k in axes:
            if k in fixed:
                raise KcompressdError(f"{path}: {k}: in both [set] and [grid]")
        keys = list(axes)
        for combo in itertools.product(*(axes[k] for k in keys)):
            p = Point(kind, scenario, {**fixed, **dict(zip(keys, combo, strict=True))})
            h = run_key(p, 0)
            if h not in seen:  # [[grid]] tables may overlap
                seen.add(h)
                points.append(p)
    return points


def _resolve_scenario(path: Path, scenario: str) -> str:
    """A scenario file named relative to the grid file is found next to it."""
    if scenario.endswith(".toml") or "/" in scenario:
        p = Path(scenario)
        if not p.is_absolute() and (path.parent / p).exists():
            return str(path.parent / p)
    return scenario


def _check_simulated(path: Path, points: Iterable[Point], scenario_path: str) -> None:
    from kcompressd.scenarios import load_scenario

    for p in points:
        try:
            sc = load_scenario(scenario_path, p.overrides())
            sc.design_params(sc["design"]["name"])
        except KcompressdError as e:
            raise KcompressdError(f"{path}: point {p.describe()}: {e}") from None


def load_grid(path: Path, *, check_bench: Callable[[Path, list[Point]], None] | None = None
              ) -> Grid:
    """Read and check a grid file; every point is validated, nothing is run."""
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise KcompressdError(f"{path}: no such grid file") from None
    except IsADirectoryError:
        raise KcompressdError(f"{path}: is a directory, not a grid file") from None
    except OSError as e:
        raise KcompressdError(f"{path}: cannot read grid ({e.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise KcompressdError(f"{path}: not valid TOML ({e})") from None
    unknown = [k for k in raw if k not in TOP_KEYS]
    if unknown:
        raise KcompressdError(f"{path}: {unknown[0]}: unknown grid key; valid: "
                              f"{', '.join(TOP_KEYS)}")
    kind = raw.get("kind", "simulate")
    if kind not in KINDS:
        raise KcompressdError(f"{path}: kind: {kind!r} is not one of {', '.join(KINDS)}")
    scenario = raw.get("scenario", BENCH_LABEL if kind == "bench" else None)
    if scenario is None:
        raise KcompressdError(f"{path}: scenario: missing (a built-in name or a .toml file)")
    if not isinstance(scenario, str) or not scenario:
        raise KcompressdError(f"{path}: scenario: expected a name, got {scenario!r}")
    seeds = raw.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds:
        raise KcompressdError(f"{path}: seeds: expected a non-empty list of integers")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise KcompressdError(f"{path}: seeds: {s!r} is not an integer >= 0")
    if len(set(seeds)) != len(seeds):
        raise KcompressdError(f"{path}: seeds: a seed is listed twice")
    fixed_raw = raw.get("set", {})
    if not isinstance(fixed_raw, dict):
        raise KcompressdError(f"{path}: set: expected a table of key = value")
    fixed = {k: _scalar(f"{path}: set.{k}", v) for k, v in fixed_raw.items()}
    points = _points(path, kind, scenario, fixed, _axes(path, raw.get("grid")))
    scenario_path = _resolve_scenario(path, scenario)
    if kind == "simulate":
        _check_simulated(path, points, scenario_path)
    elif check_bench is not None:
        check_bench(path, points)
    return Grid(path, kind, scenario, tuple(seeds), tuple(points), scenario_path)


__all__ = ["BENCH_LABEL", "Grid", "Point", "Run", "load_grid", "run_key", "toml_value"]
