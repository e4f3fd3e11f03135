"""Scenarios: TOML files (built-ins shipped here as package data) with checked keys.

A scenario names a machine, its memory, the swap device, the calibration facts, a workload,
the run length and the offload design (`design.name` plus `design.<param>`, or per-design tables
`design.<name>.<param>` that apply only when that design runs, which is how one scenario feeds
a comparison of designs). `--set dotted.key=value` overrides any key; values are TOML
(`design.threads=8`, `workload.kind="app-launch"`; a bare word is taken as a string).
"""

from __future__ import annotations

import copy
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

    def __init__(self, name: str, data: dict[str, Any]) -> None:
        self.name = name
        self._data = data

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

    def design_params(self, design: str) -> dict[str, Any]:
        """Checked parameters for running `design` (KcompressdError naming a bad key)."""
        from kcompressd.designs import check_params, design_class

        design_class(design)
        sec = self._data["design"]
        params: dict[str, Any] = {}
        if design == sec["name"]:
            params.update({k: v for k, v in sec.items()
                           if k != "name" and not isinstance(v, dict)})
        else:
            generic = [k for k, v in sec.items() if k != "name" and not isinstance(v, dict)]
            cls = design_class(design)
            unknown = [k for k in generic if k not in cls.params]
            if unknown:
                valid = ", ".join(sorted(cls.params)) or "none"
                raise KcompressdError(
                    f"design.{unknown[0]}: not a parameter of {design} (the scenario's design "
                    f"is {sec['name']}); valid: {valid}; use design.{design}.<param> for one "
                    f"design only")
            params.update({k: sec[k] for k in generic})
        params.update(sec.get(design, {}))
        return check_params(design, params)


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
    from kcompressd.designs import check_params, design_class

    if not isinstance(raw, dict):
        raise KcompressdError("design: expected a table")
    name = raw.get("name", "none")
    if not isinstance(name, str):
        raise KcompressdError(f"design.name: expected a string, got {name!r}")
    design_class(name)
    generic = {k: v for k, v in raw.items() if k != "name" and not isinstance(v, dict)}
    checked = check_params(name, generic)
    # Only the keys given are kept; defaults are filled in when a design runs.
    out: dict[str, Any] = {"name": name, **{k: checked[k] for k in generic}}
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
    raw = with_profile_defaults(raw, TOP_LEVEL["profile"].default)
    return Scenario(name, _resolve(raw))


__all__ = ["DEFAULT_SCENARIO", "Scenario", "list_scenarios", "load_scenario"]
