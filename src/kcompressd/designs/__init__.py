"""Offload designs: one module each, found by a registry (adding one touches no other).

Every module in this package that defines a `Design` subclass with a `name` registers it by
being imported; `list_designs()` and `make_design()` are the public entry points.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from kcompressd.designs.base import Design, Param
from kcompressd.errors import KcompressdError

_REGISTRY: dict[str, type[Design]] = {}
_LOADED: list[bool] = []


def register(cls: type[Design]) -> type[Design]:
    """Add a design to the registry (each design module calls it after its class: mypyc
    compiles only classes without decorators)."""
    if cls.name in _REGISTRY:
        raise ValueError(f"design {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _load() -> None:
    if _LOADED:
        return
    _LOADED.append(True)
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name != "base":
            importlib.import_module(f"{__name__}.{mod.name}")


def design_class(name: str) -> type[Design]:
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KcompressdError(
            f"unknown design {name!r}; valid: {', '.join(sorted(_REGISTRY))}") from None


def list_designs() -> list[tuple[str, str]]:
    """(name, one-line description), baseline first."""
    _load()
    names = sorted(_REGISTRY, key=lambda n: (n != "none", n))
    return [(n, _REGISTRY[n].summary) for n in names]


def coerce_param(design: str, key: str, spec: Param, value: Any) -> int | float | bool:
    """Check one parameter's type and range; the error names `design.<key>`."""
    want = type(spec.default)
    label = f"design.{key}"
    if want is bool:
        if not isinstance(value, bool):
            raise KcompressdError(f"{label}: expected true or false for {design}, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KcompressdError(f"{label}: expected a number for {design}, got {value!r}")
    if want is int:
        if isinstance(value, float) and not value.is_integer():
            raise KcompressdError(f"{label}: expected an integer for {design}, got {value!r}")
        value = int(value)
    else:
        value = float(value)
    if spec.minimum is not None and value < spec.minimum:
        raise KcompressdError(f"{label}: {value} is below the minimum {spec.minimum:g}")
    if spec.maximum is not None and value > spec.maximum:
        raise KcompressdError(f"{label}: {value} is above the maximum {spec.maximum:g}")
    return value


def check_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """All parameters of design `name`, defaults filled in; unknown ones are errors."""
    cls = design_class(name)
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in cls.params:
            valid = ", ".join(sorted(cls.params)) or "none (it takes no parameters)"
            raise KcompressdError(f"design.{key}: unknown parameter of {name}; valid: {valid}")
        out[key] = coerce_param(name, key, cls.params[key], value)
    for key, spec in cls.params.items():
        out.setdefault(key, spec.default)
    return out


def make_design(name: str, params: dict[str, Any] | None = None) -> Design:
    """An instance of design `name` with checked parameters."""
    return design_class(name)(check_params(name, params or {}))


__all__ = ["Design", "Param", "check_params", "design_class", "list_designs", "make_design",
           "register"]
