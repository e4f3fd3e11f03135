from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from kcompressd.errors import KcompressdError
from kcompressd.plot import merge_intervals, plot_timeline, thread_sort_key
from kcompressd.trace import Timeline

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def reclaim_timeline() -> Timeline:
    """A hand-built second of reclaim: free pages dip to the watermarks, kswapd and a
    compressor take turns, the eater stalls once in direct reclaim."""
    tl = Timeline()
    for i in range(200):
        t = i * 0.005
        tl.counter("free_pages", t, 4000 - 10 * (i % 100))
        tl.counter("wmark_min", t, 3000)
        tl.counter("wmark_low", t, 3300)
        tl.counter("wmark_high", t, 3600)
        tl.counter("writeback_pages", t, i % 64)
        tl.counter("queue_depth", t, i % 32)
        tl.counter("zram_mem_used_bytes", t, i * 65536)
    for i in range(100):
        tl.slice("kswapd0", "balance_pgdat", i * 0.01, 0.004)
        tl.slice("kcompressd0", "compress", i * 0.01 + 0.004, 0.005)
    tl.slice("eater0", "try_to_free_pages", 0.5, 0.02)
    return tl


def test_writes_png(tmp_path: Path) -> None:
    out = tmp_path / "t.png"
    plot_timeline(reclaim_timeline(), out, "phone-memeater · none")
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in tmp_path.iterdir()] == ["t.png"]  # no temporary left behind


def test_format_follows_suffix(tmp_path: Path) -> None:
    out = tmp_path / "t.svg"
    plot_timeline(reclaim_timeline(), out)
    assert out.read_text().lstrip().startswith("<?xml")


def test_lanes_are_drawn(tmp_path: Path) -> None:
    """A slices-only timeline (no counters) still draws its busy bars: many pixels in the
    first slice colour (C0), none without slices."""
    tl = Timeline()
    tl.slice("kswapd0", "balance_pgdat", 0.0, 0.5)
    tl.slice("kswapd0", "balance_pgdat", 0.6, 0.4)
    plot_timeline(tl, tmp_path / "lanes.png")
    img = imread(tmp_path / "lanes.png")[:, :, :3]
    c0 = np.array([0x1F, 0x77, 0xB4]) / 255  # matplotlib's C0
    assert (np.abs(img - c0).sum(axis=2) < 0.05).sum() > 10_000


def test_missing_directory_is_one_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "nope" / "t.png"
    with pytest.raises(KcompressdError, match="does not exist"):
        plot_timeline(reclaim_timeline(), out)
    assert not out.parent.exists()


def test_empty_timeline_refused(tmp_path: Path) -> None:
    with pytest.raises(KcompressdError, match="empty"):
        plot_timeline(Timeline(), tmp_path / "t.png")
    assert list(tmp_path.iterdir()) == []


def test_unknown_format_refused(tmp_path: Path) -> None:
    with pytest.raises(KcompressdError, match="format 'xyz'"):
        plot_timeline(reclaim_timeline(), tmp_path / "t.xyz")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_target_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "t.png"
    target.mkdir()  # a directory where the file should go: refused before drawing
    with pytest.raises(KcompressdError, match="is a directory"):
        plot_timeline(reclaim_timeline(), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.png"]
    assert target.is_dir()


def test_merge_intervals_joins_overlaps_and_small_gaps() -> None:
    starts = np.array([5.0, 0.0, 1.0, 2.05, 9.0])
    ends = np.array([6.0, 1.5, 2.0, 3.0, 9.5])
    merged = merge_intervals(starts, ends, gap=0.1)
    assert merged.tolist() == [[0.0, 3.0], [5.0, 6.0], [9.0, 9.5]]
    assert merge_intervals(starts, ends, gap=0.0).tolist() == [
        [0.0, 2.0], [2.05, 3.0], [5.0, 6.0], [9.0, 9.5]]


def test_threads_in_kernel_order() -> None:
    names = ["eater1", "kswapd10", "kcompressd0", "eater0", "kswapd1", "kswapd0:1", "kswapd0"]
    assert sorted(names, key=thread_sort_key) == [
        "kswapd0", "kswapd0:1", "kswapd1", "kswapd10", "kcompressd0", "eater0", "eater1"]


def test_free_pages_axis_zooms_on_the_watermarks() -> None:
    """A run that starts far above the watermarks is clipped to 4x wmark_high, so the part
    where reclaim happens stays readable; one that stays near them is not clipped."""
    from matplotlib.figure import Figure

    from kcompressd.plot import _zoom_on_watermarks

    tl = reclaim_timeline()
    ax = Figure().subplots()
    assert not _zoom_on_watermarks(ax, tl)
    tl.counter("free_pages", 1.0, 3_000_000)
    assert _zoom_on_watermarks(ax, tl)
    assert ax.get_ylim() == (0, 4 * 3600)
