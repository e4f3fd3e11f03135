import hashlib

import numpy as np
import pytest

from kcompressd.backends.size_classes import size_class_table
from kcompressd.corpus import synth
from kcompressd.corpus.measure import measure_pages
from kcompressd.corpus.stats import codec_stats
from kcompressd.corpus.synth import PROFILES, synth_pages
from kcompressd.errors import KcompressdError

# sha256 of synth_pages(profile, 64, 7), computed once; any change to the generator's output
# must bump GENERATOR_VERSION (the built-in corpus cache is keyed by it) and these digests.
DIGESTS = {
    "phone": "9b8d4c7ea124d8a97a5a05440c2bcf43669d3bb63c0a5f4463c41efe871e4ef4",
    "desktop": "6aa43c37afbb369f4525209d02e9cf887097338d1754baf6c62a35dfee9d9244",
    "server": "21c50434abcabdd75a57c8d477b875e41d3f066a8930bd83a7d73147f12969bd",
}


@pytest.mark.parametrize("profile", list(DIGESTS))
def test_byte_identical_for_a_seed(profile: str) -> None:
    assert synth.GENERATOR_VERSION == 2
    digest = hashlib.sha256(b"".join(synth_pages(profile, 64, 7))).hexdigest()
    assert digest == DIGESTS[profile]


def test_seed_matters_and_pages_are_whole() -> None:
    a = synth_pages("phone", 32, 1)
    assert a == synth_pages("phone", 32, 1)
    assert a != synth_pages("phone", 32, 2)
    assert len(a) == 32 and all(len(p) == 4096 for p in a)
    assert synth_pages("phone", 0, 1) == []


def test_profiles_and_mixes() -> None:
    assert {"phone", "desktop", "server"} <= set(PROFILES)
    for p in PROFILES.values():
        assert abs(sum(p.mix.values()) - 1) < 1e-9
        assert set(p.mix) <= set(synth.INGREDIENTS)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_profile_hits_published_ranges(profile: str) -> None:
    """lz4 ratio 2.5-3 (zram's orig/compr), 5-10% huge, 10-20% same-filled, two seeds."""
    for seed in (0, 123):
        m = measure_pages(synth_pages(profile, 1024, seed), "lz4")
        s = codec_stats(m, size_class_table().huge_class_size)
        assert 2.5 <= s.ratio <= 3.0, s
        assert 0.05 <= s.huge_fraction <= 0.10, s
        assert 0.10 <= m.same_filled.mean() <= 0.20
        assert m.zero.sum() >= m.same_filled.sum() / 2  # most same-filled pages are zero


def test_bad_arguments() -> None:
    with pytest.raises(KcompressdError, match="valid profiles: phone, desktop, server"):
        synth_pages("tablet", 4, 0)
    with pytest.raises(KcompressdError, match="page count"):
        synth_pages("phone", -1, 0)
    with pytest.raises(KcompressdError, match="seed"):
        synth_pages("phone", 1, -1)


def _ingredient(name: str, n: int = 50) -> list[bytes]:
    rng = synth._Rng(5)
    proc = synth._Process.create(rng)
    return [synth.INGREDIENTS[name](rng, proc) for _ in range(n)], proc


def test_heap_pages_hold_aligned_pointers_into_the_heaps() -> None:
    pages, proc = _ingredient("heap")
    words = np.frombuffer(b"".join(pages), dtype="<u8")
    inside = np.zeros(len(words), dtype=bool)
    for base, span in zip(proc.heaps, proc.heap_span, strict=True):
        inside |= (words >= base) & (words < base + span)
    assert inside.mean() > 0.15  # pointer-dense
    assert (words[inside] % 16 == 0).all()  # malloc alignment
    assert (words < 1 << 48).mean() > 0.9  # 48-bit user addresses / small values


def test_ingredient_character() -> None:
    h = size_class_table().huge_class_size
    zero, _ = _ingredient("zero", 5)
    assert measure_pages(zero, "lz4").zero.all()
    pat = measure_pages(_ingredient("pattern")[0], "lz4")
    assert pat.same_filled.all() and not pat.zero.any()
    rnd = measure_pages(_ingredient("random", 20)[0], "lz4")
    assert (rnd.comp_len >= h).all()
    enc = _ingredient("encoded", 30)[0]
    assert (measure_pages(enc, "lz4").comp_len >= h).all()
    assert (measure_pages(enc, "zstd").comp_len < h).mean() > 0.5  # entropy coding helps
    for name in ("heap", "ints", "text", "floats", "sparse"):
        m = measure_pages(_ingredient(name)[0], "lz4")
        assert not m.same_filled.any() and (m.comp_len < h).all(), name
    text = b"".join(_ingredient("text", 10)[0])
    assert any(w.encode() in text for w in synth._WORDLIST)
