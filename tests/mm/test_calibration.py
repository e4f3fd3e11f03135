"""Costs from a profile: derived from the thread's two facts, or measured."""

from __future__ import annotations

import pytest

from kcompressd.mm.calibration import SCANS_PER_STEAL, derive_costs, profile_costs
from kcompressd.profiles import Sourced, load_profile


def test_costs_add_up_to_one_stolen_page() -> None:
    c = derive_costs(300000, 0.7, 0.5, mean_table_ns=1000.0)
    t = 1 / 300000
    # compression: 70 % of a page's time, the table scaled so its corpus mean is that
    assert c.compress_scale * 1000.0 == pytest.approx(0.7 * t)
    # scan + unmap: the other 30 %, with a touch-once page scanned twice
    assert SCANS_PER_STEAL * c.scan + c.unmap == pytest.approx(0.3 * t)
    assert c.unmap == pytest.approx(0.15 * t)


def test_no_compressible_page_is_refused() -> None:
    with pytest.raises(ValueError):
        derive_costs(300000, 0.7, 0.5, mean_table_ns=0.0)


def test_a_measured_profile_is_taken_as_is() -> None:
    phone = load_profile("phone")
    measured = type(phone)("host", "", "measured", phone.cpu, phone.memory, {},
                           {"scan_ns": Sourced(200.0, "perf"), "unmap_ns": Sourced(900.0, "perf")},
                           phone.codecs, {})
    c = profile_costs(measured, {}, mean_table_ns=1234.0)
    assert (c.scan, c.unmap, c.compress_scale) == pytest.approx((200e-9, 900e-9, 1e-9))
