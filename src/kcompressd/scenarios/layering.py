"""How a scenario's keys are layered: schema defaults < profile < `extends` parent < file < --set.

`extends = "<scenario>"` (a built-in name, or a path relative to the extending file) makes a
variant show only what differs; tables merge key by key. The machine profile named by
`profile` supplies defaults for the keys it measures (CPU speeds, memory, the facts).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kcompressd.errors import KcompressdError

Reader = Callable[[str], tuple[str, dict[str, Any]]]


def merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """`top` over `base`, tables merged recursively (neither is modified)."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def resolve_extends(raw: dict[str, Any], origin: str, read: Reader,
                    seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """`raw` with its `extends` chain merged under it (the key itself removed)."""
    parent = raw.get("extends")
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise KcompressdError(f"{origin}: extends: expected a scenario name or path")
    if "/" in origin and not Path(parent).is_absolute() and parent.endswith(".toml"):
        parent = str(Path(origin).parent / parent)
    if parent in seen:
        raise KcompressdError(f"{origin}: extends: cycle through {' -> '.join((*seen, parent))}")
    _, parent_raw = read(parent)
    base = resolve_extends(parent_raw, parent, read, (*seen, parent))
    child = {k: v for k, v in raw.items() if k != "extends"}
    return merge(base, child)


def with_profile_defaults(raw: dict[str, Any], default_profile: str) -> dict[str, Any]:
    """`raw` over the defaults of the profile it names (or `default_profile`)."""
    from kcompressd.profiles import load_profile

    name = raw.get("profile", default_profile)
    if not isinstance(name, str):
        raise KcompressdError(f"profile: expected a profile name or path, got {name!r}")
    return merge(load_profile(name).scenario_defaults(), raw)
