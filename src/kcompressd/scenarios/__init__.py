"""Scenarios: TOML files (built-ins shipped here as package data) with checked keys.

A scenario names a machine, its memory, the swap device, the calibration facts, a workload,
the run length and the offload design: `design.name` (optional: the built-ins leave it out, so
`simulate` compares several designs on them), `design.<param>` for every design of a run that
has that parameter, and per-design tables `design.<name>.<param>` that apply only when that
design runs. `--set dotted.key=value` overrides any key; values are TOML (`design.threads=8`,
`workload.kind="app-launch"`; a bare word is taken as a string). NaN and infinity are refused
wherever they appear: they would pass every range check and run a meaningless machine.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from kcompressd.errors import KcompressdError
from kcompressd.scenarios.layering import resolve_extends, with_profile_defaults
from kcompressd.scenarios.schema import SCHEMA, TOP_LEVEL, Field

DEFAULT_SCENARIO = "phone-memeater"


class Scenario:
    """A resolved scenario: every schema key present and checked."""

    def __init__(self, name: str, data: dict[str, Any], named_design: str | None) -> None:
        self.name = name
        self._data = data
        self.named_design = named_design  # design.name as given, None when left out

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self._data[section]

    @property
    def description(self) -> str:
        return self._data["description"]

    def to_dict(self) -> dict[str, Any]:
        """The fully resolved nested dict (a copy), with the scenario's name."""
        out = copy.deepcopy(self._data)
        out["name"] = self.name
        return out

    def generic_design_params(self) -> dict[str, Any]:
        """The `design.<param>` values, meant for every design of a run that has them."""
        return {k: v for k, v in self._data["design"].items()
                if k != "name" and not isinstance(v, dict)}

    def design_params(self, design: str) -> dict[str, Any]:
        """Checked parameters for running `design` (KcompressdError naming a bad key).

        `design.<param>` applies when `design` has that parameter; for the design the scenario
        names, every one must fit (a scenario that says `name = "none"` and `threads = 2` is
        wrong, not partly ignored).
        """
        from kcompressd.designs import check_params, design_class

        cls = design_class(design)
        generic = self.generic_design_params()
        if design == self.named_design:
            unfit = [k for k in generic if k not in cls.params]
            if unfit:
                raise KcompressdError(f"design.{unfit[0]}: unknown parameter of {design}; "
                                      f"valid: {_param_names(design)}")
        params = {k: v for k, v in generic.items() if k in cls.params}
        params.update(self._data["design"].get(design, {}))
        return check_params(design, params)

    def generic_targets(self, designs: Sequence[str]) -> dict[str, list[str]]:
        """For each `design.<param>`, the designs of this run it applies to; a parameter that
        none of them has is an error that says how to aim it at one design."""
        from kcompressd.designs import design_class

        out: dict[str, list[str]] = {}
        for key in self.generic_design_params():
            out[key] = [d for d in designs if key in design_class(d).params]
            if not out[key]:
                having = [n for n, _ in list_designs_with(key)]
                raise KcompressdError(
                    f"design.{key}: not a parameter of {' or '.join(designs)}; it is one of "
                    f"{', '.join(having)}: run one of those, or set design.NAME.{key} "
                    f"(e.g. design.{having[0]}.{key})")
        return out


def _param_names(design: str) -> str:
    from kcompressd.designs import design_class

    return ", ".join(sorted(design_class(design).params)) or "none (it takes no parameters)"


def list_designs_with(param: str) -> list[tuple[str, str]]:
    """(name, description) of the designs that have parameter `param`."""
    from kcompressd.designs import design_class, list_designs

    return [(n, d) for n, d in list_designs() if param in design_class(n).params]


def builtin_text(name: str) -> str:
    """The TOML text of built-in scenario `name` (`kcompressd scenarios show`)."""
    entry = _builtin_dir() / f"{name}.toml"
    if "/" in name or not entry.is_file():
        valid = ", ".join(n for n, _ in list_scenarios())
        raise KcompressdError(f"unknown scenario {name!r}; built-in: {valid}")
    return entry.read_text()


def _builtin_dir() -> Any:
    return resources.files(__name__)


def list_scenarios() -> list[tuple[str, str]]:
    """(name, description) of every built-in scenario, the default first."""
    out = []
    for entry in _builtin_dir().iterdir():
        if entry.name.endswith(".toml"):
            name = entry.name[:-5]
            raw = _parse(entry.read_text(), entry.name)
            out.append((name, str(raw.get("description", ""))))
    return sorted(out, key=lambda t: (t[0] != DEFAULT_SCENARIO, t[0]))


def _parse(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise KcompressdError(f"{origin}: not valid TOML ({e})") from None


def _refuse_non_finite(node: Any, key: str = "") -> None:
    """NaN and infinity anywhere (TOML allows `nan` and `inf`): the error names the key."""
    if isinstance(node, float) and not math.isfinite(node):
        raise KcompressdError(f"{key}: {node} is not a finite number")
    items = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else ())
    for k, v in items:
        _refuse_non_finite(v, f"{key}.{k}" if key else str(k))


def _read(name_or_path: str) -> tuple[str, dict[str, Any]]:
    entry = _builtin_dir() / f"{name_or_path}.toml"
    if "/" not in name_or_path and not name_or_path.endswith(".toml") and entry.is_file():
        return name_or_path, _parse(entry.read_text(), f"{name_or_path}.toml")
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        try:
            text = p.read_text()
        except FileNotFoundError:
            raise KcompressdError(f"{p}: no such scenario file") from None
        except OSError as e:
            raise KcompressdError(f"{p}: cannot read scenario ({e.strerror})") from None
        return p.stem, _parse(text, str(p))
    valid = ", ".join(n for n, _ in list_scenarios())
    raise KcompressdError(f"unknown scenario {name_or_path!r}; built-in: {valid} "
                          f"(or a path to a .toml file)")


def _parse_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _apply_override(data: dict[str, Any], item: str) -> None:
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise KcompressdError(f"--set {item!r}: expected dotted.key=value")
    parts = key.split(".")
    if any(not p for p in parts):
        raise KcompressdError(f"--set {item!r}: empty part in key {key!r}")
    node = data
    for p in parts[:-1]:
        nxt = node.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise KcompressdError(f"{key}: {p!r} is a value, not a table")
        node = nxt
    node[parts[-1]] = _parse_value(raw.strip())


def _check(key: str, spec: Field, value: Any) -> Any:
    want = type(spec.default)
    if want is bool:
        if not isinstance(value, bool):
            raise KcompressdError(f"{key}: expected true or false, got {value!r}")
        return value
    if want is str:
        if not isinstance(value, str):
            raise KcompressdError(f"{key}: expected a string, got {value!r}")
        if spec.choices and value not in spec.choices:
            raise KcompressdError(f"{key}: {value!r} is not one of {', '.join(spec.choices)}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KcompressdError(f"{key}: expected a number, got {value!r}")
    if want is int:
        if isinstance(value, float) and not value.is_integer():
            raise KcompressdError(f"{key}: expected an integer, got {value!r}")
        value = int(value)
    else:
        value = float(value)
    if spec.minimum is not None and value < spec.minimum:
        raise KcompressdError(f"{key}: {value:g} is below the minimum {spec.minimum:g}")
    if spec.maximum is not None and value > spec.maximum:
        raise KcompressdError(f"{key}: {value:g} is above the maximum {spec.maximum:g}")
    return value


def _resolve(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, spec in TOP_LEVEL.items():
        out[key] = _check(key, spec, raw.get(key, spec.default))
    for section, value in raw.items():
        if section in TOP_LEVEL or section == "design":
            continue
        if section not in SCHEMA:
            valid = ", ".join([*TOP_LEVEL, *SCHEMA, "design"])
            raise KcompressdError(f"{section}: unknown scenario key; valid: {valid}")
        if not isinstance(value, dict):
            raise KcompressdError(f"{section}: expected a table")
    for section, fields in SCHEMA.items():
        given = raw.get(section, {})
        for key in given:
            if key not in fields:
                raise KcompressdError(f"{section}.{key}: unknown scenario key; valid: "
                                      f"{', '.join(f'{section}.{k}' for k in fields)}")
        out[section] = {k: _check(f"{section}.{k}", spec, given.get(k, spec.default))
                        for k, spec in fields.items()}
    out["design"] = _resolve_design(raw.get("design", {}))
    _check_consistency(out)
    return out


def _resolve_design(raw: Any) -> dict[str, Any]:
    """The design table: names checked, `design.<param>` a parameter of some design (its type
    and range are checked per design in `Scenario.design_params`)."""
    from kcompressd.designs import check_params, design_class

    if not isinstance(raw, dict):
        raise KcompressdError("design: expected a table")
    name = raw.get("name", "none")
    if not isinstance(name, str):
        raise KcompressdError(f"design.name: expected a string, got {name!r}")
    design_class(name)
    generic = {k: v for k, v in raw.items() if k != "name" and not isinstance(v, dict)}
    for k in generic:
        if not list_designs_with(k):
            raise KcompressdError(f"design.{k}: not a parameter of any design ({name} has: "
                                  f"{_param_names(name)})")
    # Only the keys given are kept; defaults are filled in when a design runs.
    out: dict[str, Any] = {"name": name, **generic}
    for other, params in raw.items():
        if isinstance(params, dict):
            design_class(other)
            for k, v in params.items():
                check_params(other, {k: v})
            out[other] = dict(params)
    return out


def _check_consistency(d: dict[str, Any]) -> None:
    m, mem, run = d["machine"], d["memory"], d["run"]
    if m["big_cpus"] > m["cpus"]:
        raise KcompressdError(f"machine.big_cpus: {m['big_cpus']} exceeds machine.cpus "
                              f"{m['cpus']}")
    if m["nodes"] > m["cpus"]:
        raise KcompressdError(f"machine.nodes: {m['nodes']} nodes need at least as many CPUs")
    used = mem["unreclaimable_mb"] + mem["free_mb"] + d["workload"]["hot_mb"]
    if used > mem["total_mb"]:
        raise KcompressdError(f"memory.free_mb: unreclaimable + free + workload.hot_mb = "
                              f"{used} MiB exceeds memory.total_mb {mem['total_mb']}")
    wl = d["workload"]
    if wl["region_mb"]:
        if wl["kind"] != "memeater" or wl["alloc_mb"]:
            raise KcompressdError("workload.region_mb: a region eater is a memeater with "
                                  "workload.alloc_mb = 0 (it runs until the run ends)")
        if wl["prefill_mb"] > wl["region_mb"]:
            raise KcompressdError(f"workload.prefill_mb: {wl['prefill_mb']} MiB exceeds "
                                  f"workload.region_mb {wl['region_mb']}")
    elif wl["prefill_mb"]:
        raise KcompressdError("workload.prefill_mb: only a region eater (workload.region_mb "
                              "> 0) has a prefill")
    if run["warmup_s"] >= run["duration_s"]:
        raise KcompressdError(f"run.warmup_s: {run['warmup_s']:g} s leaves nothing to measure "
                              f"in run.duration_s {run['duration_s']:g} s")


def load_scenario(name_or_path: str, overrides: Sequence[str] = ()) -> Scenario:
    """A built-in scenario by name or a TOML file, with --set overrides applied and checked.

    Layers (scenarios.layering): profile defaults < `extends` parent < the file < --set.
    """
    name, raw = _read(name_or_path)
    raw = resolve_extends(raw, name_or_path, _read)
    for item in overrides:
        _apply_override(raw, item)
    _refuse_non_finite(raw)
    raw = with_profile_defaults(raw, TOP_LEVEL["profile"].default)
    design = raw.get("design")
    named = design.get("name") if isinstance(design, dict) else None
    resolved = _resolve(raw)
    return Scenario(name, resolved, resolved["design"]["name"] if named is not None else None)


__all__ = ["DEFAULT_SCENARIO", "Scenario", "builtin_text", "list_scenarios", "load_scenario"]
