"""Options, settings and the data check of the harness: no machine needed."""

from __future__ import annotations

import ctypes
import re

import pytest

from kcompressd.errors import KcompressdError
from kcompressd.kernel.bench import BenchOptions, check_data, settings, validate_options
from kcompressd.kernel.plan import GIB, lab_guest, make_plan
from kcompressd.kernel.workload import CHUNK_BYTES, CHUNK_PAGES, EaterReport, check_chunk


def test_settings_are_the_cross_product_of_the_knobs_given() -> None:
    assert settings(BenchOptions()) == [None]
    combos = settings(BenchOptions(kcompressd=(0, 24), kcompressd_threads=(1, 2),
                                   kcompressd_overflow=(1,)))
    assert combos == [
        {"vm.kcompressd": d, "vm.kcompressd_threads": t, "vm.kcompressd_overflow": 1}
        for d in (0, 24) for t in (1, 2)]
    assert settings(BenchOptions(kcompressd_memalloc=(0, 1))) == [
        {"vm.kcompressd_memalloc": 0}, {"vm.kcompressd_memalloc": 1}]


@pytest.mark.parametrize("options, message", [
    (BenchOptions(kcompressd_threads=(0,)), "--kcompressd-threads values must be 1..8"),
    (BenchOptions(kcompressd_overflow=(2,)), "--kcompressd-overflow values must be 0..1"),
    (BenchOptions(kcompressd=(-1,)), "--kcompressd values must be >= 0"),
    (BenchOptions(duration=float("inf")), "--duration must be a positive number"),
    (BenchOptions(size=float("nan")), "--size must be a positive number"),
    (BenchOptions(backend="nvme"), "--backend must be zram or zswap"),
])
def test_knob_values_outside_the_patch_bounds_are_refused(options, message) -> None:
    with pytest.raises(KcompressdError, match=re.escape(message)):
        validate_options(options)


def test_a_page_that_comes_back_different_fails_the_run() -> None:
    src = bytes(range(256)) * (CHUNK_BYTES // 256)
    good, bad = bytearray(src), bytearray(src)
    bad[5 * 4096 + 7] ^= 1
    bad[9 * 4096] ^= 1
    report = EaterReport(0, 1)
    addr = ctypes.addressof
    for buf in (good, bad):
        c = (ctypes.c_char * len(buf)).from_buffer(buf)
        e = ctypes.create_string_buffer(src, len(src))
        check_chunk(report, addr(c), addr(e), off=CHUNK_BYTES)
    assert report.pages_checked == 2 * CHUNK_PAGES
    assert report.corrupt_pages == 2
    assert report.first_corrupt_offset == CHUNK_BYTES + 5 * 4096
    check_data([None, EaterReport(1, 2)])
    with pytest.raises(KcompressdError, match=r"data corruption: eater0 read back 2 of 128"):
        check_data([report])


def test_a_lab_guest_keeps_the_plan_scaled_to_its_memory(tmp_path) -> None:
    """The same plan in a 2 GiB guest: a floor of 5% of its RAM, not the host's 1 GiB."""
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("console=ttyS0 kcompressd.lab=1 init=/bin/sh\n")
    assert lab_guest(cmdline)
    cmdline.write_text("BOOT_IMAGE=/vmlinuz root=/dev/vda ro\n")
    assert not lab_guest(cmdline) and not lab_guest(tmp_path / "absent")
    guest = {"MemTotal": 2 * GIB, "MemAvailable": int(1.8 * GIB), "Hugepagesize": 2 << 20}
    args = {"size": None, "threads": 1, "algorithm": "lz4", "ratio": 2.6, "ratio_codec": "lz4",
            "duration": 30.0}
    with pytest.raises(KcompressdError, match="not enough memory"):
        make_plan(guest, **args)
    p = make_plan(guest, **args, disposable=True)
    assert p.floor == 2 * GIB // 20
    assert p.workload > p.play and p.balloon_pages > 0
