"""A codec's per-page cost as a function of the page's compressed length.

Why a function of compressed length: compression and decompression time depend on how much of
the page matches (LZ-family codecs skip quickly over incompressible runs and emit long matches
for repetitive data), and the compressed length is what the simulator already knows for every
corpus page (it decides the zsmalloc class). A profile stores the function as knots; a page's
cost is interpolated linearly between them and held constant beyond the end knots, so the
result does not depend on timing anything at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kcompressd import PAGE_SIZE

# Knots are fitted per bucket of compressed length this wide (16 buckets over a page).
BUCKET = 256


@dataclass(frozen=True)
class CodecCosts:
    """Knots (compressed length in bytes -> ns per page) for one codec, and where they came from.

    `compress_ns` and `decompress_ns` are nanoseconds of a speed-1.0 CPU of the profile; a
    profile derived from facts rescales `compress_ns` (only its shape matters there).
    """

    codec: str
    comp_len: tuple[float, ...]
    compress_ns: tuple[float, ...]
    decompress_ns: tuple[float, ...]
    source: str

    def __post_init__(self) -> None:
        n = len(self.comp_len)
        if not n or len(self.compress_ns) != n or len(self.decompress_ns) != n:
            raise ValueError(f"codec {self.codec}: knots of unequal or zero length")
        if any(b <= a for a, b in zip(self.comp_len, self.comp_len[1:], strict=False)):
            raise ValueError(f"codec {self.codec}: comp_len knots must increase")
        if min(self.compress_ns) <= 0 or min(self.decompress_ns) <= 0:
            raise ValueError(f"codec {self.codec}: costs must be > 0 ns")

    def compress(self, comp_len: np.ndarray) -> np.ndarray:
        """ns per page to compress pages of these compressed lengths."""
        return np.interp(comp_len, self.comp_len, self.compress_ns)

    def decompress(self, comp_len: np.ndarray) -> np.ndarray:
        """ns per page to decompress them."""
        return np.interp(comp_len, self.comp_len, self.decompress_ns)

    def to_toml_table(self) -> dict[str, object]:
        return {"comp_len": list(self.comp_len), "compress_ns": list(self.compress_ns),
                "decompress_ns": list(self.decompress_ns), "source": self.source}


def _sig(x: float) -> float:
    """Four significant digits: timing noise is larger, and the file stays readable."""
    return float(f"{x:.4g}")


def fit(codec: str, comp_len: np.ndarray, compress_ns: np.ndarray,
        decompress_ns: np.ndarray, source: str) -> CodecCosts:
    """Knots from measured pages (same-filled ones excluded by the caller): one per bucket.

    Each knot sits at the bucket's mean compressed length with the bucket's median costs
    (the median because a few pages always catch an interrupt).
    """
    comp_len = np.asarray(comp_len, dtype=np.float64)
    if not len(comp_len):
        raise ValueError(f"{codec}: no compressible page to fit costs on")
    bucket = np.minimum(comp_len // BUCKET, PAGE_SIZE // BUCKET)
    xs, cs, ds = [], [], []
    for b in np.unique(bucket):
        sel = bucket == b
        xs.append(_sig(float(comp_len[sel].mean())))
        cs.append(_sig(float(np.median(compress_ns[sel]))))
        ds.append(_sig(float(np.median(decompress_ns[sel]))))
    # Rounding may merge two knots of adjacent buckets; keep the first.
    keep = [i for i in range(len(xs)) if i == 0 or xs[i] > xs[i - 1]]
    return CodecCosts(codec, tuple(xs[i] for i in keep), tuple(cs[i] for i in keep),
                      tuple(ds[i] for i in keep), source)


def from_toml_table(codec: str, t: dict[str, object], origin: str) -> CodecCosts:
    try:
        return CodecCosts(codec, tuple(map(float, t["comp_len"])),  # type: ignore[call-overload]
                          tuple(map(float, t["compress_ns"])),  # type: ignore[call-overload]
                          tuple(map(float, t["decompress_ns"])),  # type: ignore[call-overload]
                          str(t["source"]))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{origin}: codec.{codec}: {e}") from None
