"""Machine profiles: every cost the simulator charges, with where each value came from.

Why: costs measured at run time on whatever machine runs the simulator make a seed's result
depend on that machine and on its cache. A profile pins them in a TOML file instead, so a
scenario gives the same result everywhere. Two kinds:

- ``kind = "facts"``: per-page scan/unmap and the mean compression cost follow from the
  thread's two facts (kswapd's pgsteal rate and its scan:compress split, see
  `mm.calibration`); the codec table only gives the *shape* of cost against compressed length.
  The built-in phone and server profiles are of this kind.
- ``kind = "measured"``: absolute costs of a real machine, written by `kcompressd calibrate`
  (codec costs timed on a corpus, kswapd's scan/unmap from a `bench --perf` baseline).

Every scalar is ``{ value = X, source = "..." }``; every codec table has a ``source``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from kcompressd.errors import KcompressdError
from kcompressd.profiles.codec_costs import CodecCosts, from_toml_table

KINDS = ("facts", "measured")


@dataclass(frozen=True)
class Sourced:
    """A number and where it came from (a measurement, a fact of the thread, an assumption)."""

    value: float
    source: str


@dataclass(frozen=True)
class Profile:
    """One machine's costs and defaults.

    `cpu` holds big_speed/little_speed (and, measured, context_switch_us and mm_switch_us);
    `memory` total_mb, min_free_kbytes, watermark_scale_factor (they become the scenario's
    defaults);
    `facts` (kind facts) holds kswapd_pgsteal_per_s, compress_share, unmap_share; `reclaim`
    (kind measured) scan_ns, unmap_ns and write_ns per page; `eater` (optional, measured) the bench
    eater's touch_ns, revisit_ns and fault_ns per page (the region eater's workload.* costs);
    `info` anything recorded for the reader (watermarks the kernel reported).
    """

    name: str
    description: str
    kind: str
    cpu: dict[str, Sourced]
    memory: dict[str, Sourced]
    facts: dict[str, Sourced]
    reclaim: dict[str, Sourced]
    codecs: dict[str, CodecCosts]
    info: dict[str, Sourced]
    eater: dict[str, Sourced] = field(default_factory=dict)

    def codec(self, name: str) -> CodecCosts:
        try:
            return self.codecs[name]
        except KeyError:
            raise KcompressdError(
                f"swap.algorithm: profile {self.name} has no costs for codec {name!r} (it has "
                f"{', '.join(sorted(self.codecs)) or 'none'}); measure them with "
                f"`kcompressd calibrate`") from None

    def scenario_defaults(self) -> dict[str, dict[str, Any]]:
        """Scenario keys this profile supplies defaults for (the scenario may override)."""
        out: dict[str, dict[str, Any]] = {
            "machine": {k: v.value for k, v in self.cpu.items()},
            "memory": {k: int(v.value) for k, v in self.memory.items()},
        }
        if self.facts:
            out["calibration"] = {k: v.value for k, v in self.facts.items()}
        if self.eater:
            out["workload"] = {f"{k.removesuffix('_ns')}_us": v.value / 1000
                               for k, v in self.eater.items()}
        return out

    def to_toml(self) -> str:
        """The profile as TOML text (what `load_profile` reads back)."""
        lines = [f"description = {_q(self.description)}", f"kind = {_q(self.kind)}", ""]
        for section in ("cpu", "memory", "facts", "reclaim", "eater", "info"):
            values: dict[str, Sourced] = getattr(self, section)
            if not values:
                continue
            lines.append(f"[{section}]")
            lines += [f"{k} = {{ value = {v.value!r}, source = {_q(v.source)} }}"
                      for k, v in values.items()]
            lines.append("")
        for name, c in sorted(self.codecs.items()):
            lines.append(f"[codec.{name}]")
            lines += [f"comp_len = {list(c.comp_len)!r}",
                      f"compress_ns = {list(c.compress_ns)!r}",
                      f"decompress_ns = {list(c.decompress_ns)!r}",
                      f"source = {_q(c.source)}", ""]
        return "\n".join(lines)


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Keys each section must (or may) have, per kind.
_REQUIRED = {
    "cpu": ("big_speed", "little_speed"),
    "memory": ("total_mb", "min_free_kbytes", "watermark_scale_factor"),
    "facts": ("kswapd_pgsteal_per_s", "compress_share", "unmap_share"),
    "reclaim": ("scan_ns", "unmap_ns"),
}
EATER_KEYS = ("touch_ns", "revisit_ns", "fault_ns")
# Keys a section may have besides the required ones (they become scenario defaults too).
_OPTIONAL = {"cpu": ("context_switch_us", "mm_switch_us"), "reclaim": ("write_ns",)}


def _sourced(origin: str, key: str, raw: Any) -> Sourced:
    if not (isinstance(raw, dict) and set(raw) == {"value", "source"}
            and isinstance(raw["value"], int | float) and not isinstance(raw["value"], bool)
            and isinstance(raw["source"], str) and raw["source"].strip()):
        raise KcompressdError(f"{origin}: {key}: expected {{ value = <number>, source = "
                              f"\"<where it came from>\" }}")
    return Sourced(float(raw["value"]), raw["source"])


def parse_profile(name: str, text: str, origin: str) -> Profile:
    """A profile from TOML text; errors name the file and the key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise KcompressdError(f"{origin}: not valid TOML ({e})") from None
    kind = raw.get("kind")
    if kind not in KINDS:
        raise KcompressdError(f"{origin}: kind: expected one of {', '.join(KINDS)}")
    wanted = ("cpu", "memory", "facts" if kind == "facts" else "reclaim")
    known = {"description", "kind", "codec", "info", "eater", *_REQUIRED}
    for key in raw:
        if key not in known:
            raise KcompressdError(f"{origin}: {key}: unknown profile key")
    sections: dict[str, dict[str, Sourced]] = {}
    for section in (*_REQUIRED, "info"):
        given = raw.get(section, {})
        if section in _REQUIRED and section not in wanted:
            if given:
                raise KcompressdError(f"{origin}: [{section}] does not belong in a {kind} "
                                      "profile")
            sections[section] = {}
            continue
        allowed = (None if section not in _REQUIRED
                   else (*_REQUIRED[section], *_OPTIONAL.get(section, ())))
        for key in _REQUIRED.get(section, ()):
            if key not in given:
                raise KcompressdError(f"{origin}: {section}.{key}: missing")
        for key in given:
            if allowed is not None and key not in allowed:
                raise KcompressdError(f"{origin}: {section}.{key}: unknown profile key")
        sections[section] = {k: _sourced(origin, f"{section}.{k}", v) for k, v in given.items()}
    eater = raw.get("eater", {})
    if eater and (kind != "measured" or set(eater) != set(EATER_KEYS)):
        raise KcompressdError(f"{origin}: [eater] belongs to a measured profile and holds "
                              f"{', '.join(EATER_KEYS)}")
    sections["eater"] = {k: _sourced(origin, f"eater.{k}", v) for k, v in eater.items()}
    codecs = {}
    for codec, table in raw.get("codec", {}).items():
        try:
            codecs[codec] = from_toml_table(codec, table, origin)
        except ValueError as e:
            raise KcompressdError(str(e)) from None
    if not codecs:
        raise KcompressdError(f"{origin}: no [codec.<name>] table")
    return Profile(name, str(raw.get("description", "")), kind, sections["cpu"],
                   sections["memory"], sections["facts"], sections["reclaim"], codecs,
                   sections["info"], sections["eater"])


def _builtin_dir() -> Any:
    return resources.files(__name__)


def list_profiles() -> list[str]:
    return sorted(e.name[:-5] for e in _builtin_dir().iterdir() if e.name.endswith(".toml"))


def load_profile(name_or_path: str) -> Profile:
    """A built-in profile by name, or a profile TOML file."""
    entry = _builtin_dir() / f"{name_or_path}.toml"
    if "/" not in name_or_path and not name_or_path.endswith(".toml") and entry.is_file():
        return parse_profile(name_or_path, entry.read_text(), f"profile {name_or_path}")
    p = Path(name_or_path)
    if p.suffix != ".toml" and not p.exists():
        raise KcompressdError(f"unknown profile {name_or_path!r}; built-in: "
                              f"{', '.join(list_profiles())} (or a path to a .toml file)")
    try:
        text = p.read_text()
    except OSError as e:
        raise KcompressdError(f"{p}: cannot read profile ({e.strerror})") from None
    return parse_profile(p.stem, text, str(p))


__all__ = ["CodecCosts", "Profile", "Sourced", "list_profiles", "load_profile",
           "parse_profile"]
