"""Which kernel a guest boots, and whether an image from elsewhere has what the lab needs.

`--kernel` names a cached kernel by id (or an unambiguous prefix), `vanilla` (the unpatched
standard build), or a path to a bzImage from a developer's own tree. For the latter the
options are read from a `.config` (or `config`) beside it, else from the image itself when it
was built with IKCONFIG and gzip compression.
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

from kcompressd.errors import KcompressdError
from kcompressd.lab import build, config, kernels, source
from kcompressd.lab.patches import read_series

_GZIP_MAGIC = b"\x1f\x8b\x08"


def default_request(vanilla: bool = False) -> build.BuildRequest:
    return build.BuildRequest(series=[] if vanilla else read_series())


def expected(req: build.BuildRequest) -> kernels.Kernel | None:
    """The cached kernel `lab build` would produce for `req`, if it was built."""
    key = build.cache_key(source.package_version(), req, build.compiler_version())
    return kernels.find(key)


def _ikconfig(image: bytes) -> str | None:
    """The .config embedded by CONFIG_IKCONFIG, from a gzip-compressed bzImage."""
    start = image.find(_GZIP_MAGIC)
    while start != -1:
        try:
            vmlinux = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(image[start:])
        except zlib.error:
            vmlinux = b""
        begin = vmlinux.find(b"IKCFG_ST")
        if begin != -1:
            end = vmlinux.find(b"IKCFG_ED", begin)
            try:
                return zlib.decompress(vmlinux[begin + 8 : end], 16 + zlib.MAX_WBITS).decode()
            except zlib.error:
                return None
        start = image.find(_GZIP_MAGIC, start + 1)
    return None


def image_config(bzimage: Path) -> str | None:
    for name in (".config", "config"):
        beside = bzimage.parent / name
        if beside.is_file():
            return beside.read_text(errors="replace")
    return _ikconfig(bzimage.read_bytes())


def check_foreign(bzimage: Path) -> None:
    """Refuse an image without the options a lab boot needs; warn of other missing ones."""
    text = image_config(bzimage)
    if text is None:
        print(f"kcompressd: warning: cannot read the options of {bzimage} (no .config beside "
              "it, no gzip IKCONFIG in it); booting it anyway", file=sys.stderr)
        return
    wanted = config.parse(config.fragment_path("lab").read_text())
    lost = config.missing(wanted, config.parse(text))
    fatal = [o for o in lost if o.split("=")[0] in config.BOOT_OPTIONS]
    if fatal:
        raise KcompressdError(f"{bzimage} cannot boot in the lab: it lacks {', '.join(fatal)} "
                              "(modules cannot be loaded: the guest's root is the host's)")
    if lost:
        print(f"kcompressd: warning: {bzimage} lacks options of the lab's fragment: "
              f"{', '.join(lost)}", file=sys.stderr)


def resolve(spec: str | None) -> tuple[Path, dict]:
    """The bzImage for `--kernel SPEC` and what is known of it (id, version, patches)."""
    if spec is None or spec == "vanilla":
        k = expected(default_request(vanilla=spec == "vanilla"))
        if k is None:
            flag = " --vanilla" if spec == "vanilla" else ""
            raise KcompressdError(f"no {spec or 'default'} lab kernel is built yet: run "
                                  f"`kcompressd lab build{flag}`")
        return k.bzimage, _known(k)
    path = Path(spec)
    if "/" in spec or path.is_file():
        if not path.is_file():
            raise KcompressdError(f"--kernel {spec}: no such file")
        check_foreign(path)
        return path, {"id": None, "version": None, "patches": None, "path": str(path.resolve())}
    matches = [k for k in kernels.all_kernels() if k.id.startswith(spec)]
    if len(matches) != 1:
        raise KcompressdError(f"--kernel {spec}: {'no' if not matches else 'more than one'} "
                              "cached kernel has that id (see `kcompressd lab kernels`)")
    return matches[0].bzimage, _known(matches[0])


def _known(k: kernels.Kernel) -> dict:
    return {"id": k.id, "version": k.meta["version"], "patches": k.meta["patches"],
            "debug": k.meta["debug"], "trace": k.meta.get("trace", False)}
