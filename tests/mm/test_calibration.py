"""The cost derivation from the thread's two facts."""

from __future__ import annotations

import pytest

from kcompressd.mm.calibration import SCANS_PER_STEAL, derive_costs


def test_costs_add_up_to_one_stolen_page() -> None:
    c = derive_costs(300000, 0.7, 0.5, mean_host_compress_ns=1000.0)
    t = 1 / 300000
    # compression: 70 % of a page's time, scaled from this machine's mean codec cost
    assert c.seconds_per_host_ns * 1000.0 == pytest.approx(0.7 * t)
    # scan + unmap: the other 30 %, with a touch-once page scanned twice
    assert SCANS_PER_STEAL * c.scan + c.unmap == pytest.approx(0.3 * t)
    assert c.unmap == pytest.approx(0.15 * t)
    assert c.slowdown_vs_host == pytest.approx(0.7 * t / 1000.0 * 1e9)


def test_no_compressible_page_is_refused() -> None:
    with pytest.raises(ValueError):
        derive_costs(300000, 0.7, 0.5, mean_host_compress_ns=0.0)
