"""A timeline as a figure: what a Perfetto trace shows, in one PNG for a report or a mail.

Panels, top to bottom, each drawn only when its counters are in the timeline: free pages
against the min/low/high watermarks; pages under writeback and offload queue depth; zram
memory; any other counters; then one lane per thread with its busy slices (balance_pgdat,
compress, try_to_free_pages, ...). Used by `kcompressd simulate --plot` and `kcompressd bench`.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from kcompressd.errors import KcompressdError
from kcompressd.outfile import atomic_output, check_writable
from kcompressd.trace import Timeline

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WATERMARKS = ("wmark_min", "wmark_low", "wmark_high")
# (panel title, y label, counters, scale) in drawing order.
COUNTER_PANELS: tuple[tuple[str, str, tuple[str, ...], float], ...] = (
    ("free memory", "pages", ("free_pages", *WATERMARKS), 1.0),
    ("writeback", "pages", ("writeback_pages", "queue_depth"), 1.0),
    ("zram", "MiB", ("zram_mem_used_bytes",), 1.0 / (1 << 20)),
)
_STYLES = {
    "free_pages": {"color": "tab:blue", "lw": 1.2},
    "wmark_min": {"color": "tab:red", "ls": "--", "lw": 1.0},
    "wmark_low": {"color": "tab:orange", "ls": "--", "lw": 1.0},
    "wmark_high": {"color": "tab:green", "ls": "--", "lw": 1.0},
}
# Slices closer than this fraction of the time span are drawn as one bar: they would share a
# pixel anyway, and merging keeps a run of millions of slices drawable.
_MERGE_FRACTION = 1.0 / 4000
_ZOOM = 4


_LANE_ORDER = ("kswapd", "kcompressd", "zram", "kworker/u")  # reclaim threads first


def thread_sort_key(name: str) -> tuple[int, str, tuple[int, ...]]:
    """Reclaim threads first, then the rest, in kernel order: kswapd0 < kswapd0:1 < kswapd1
    < kswapd10. The middle element is the thread's family (kswapd, kcompressd, eater)."""
    m = re.match(r"\D*", name)
    assert m is not None
    prefix = m.group(0)
    nums = tuple(int(n) for n in re.findall(r"\d+", name[len(prefix):]))
    rank = _LANE_ORDER.index(prefix) if prefix in _LANE_ORDER else len(_LANE_ORDER)
    return rank, prefix, nums


def merge_intervals(starts: np.ndarray, ends: np.ndarray, gap: float) -> np.ndarray:
    """Union of [start, end) intervals, joining those less than `gap` apart; (n, 2) array."""
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], np.maximum.accumulate(ends[order])
    breaks = np.nonzero(s[1:] > e[:-1] + gap)[0]
    first = np.concatenate(([0], breaks + 1))
    last = np.concatenate((breaks, [len(s) - 1]))
    return np.column_stack((s[first], e[last]))


def _time_span(timeline: Timeline) -> tuple[float, float]:
    ts = [t for samples in timeline.counters.values() for t, _ in samples[:1] + samples[-1:]]
    for s in timeline.slices:
        ts += (s.start, s.start + s.duration)
    return min(ts), max(ts)


def _legend_above(ax: Axes, handles: list, labels: list[str]) -> None:
    """Legend in the panel's title row, right-aligned, so it never hides data."""
    ax.legend(handles, labels, loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize="small",
              ncols=len(labels), frameon=False, borderaxespad=0.1)


def _draw_counters(ax: Axes, timeline: Timeline, names: tuple[str, ...], scale: float) -> None:
    for name in names:
        samples = timeline.counters.get(name)
        if not samples:
            continue
        t, v = np.asarray(samples, dtype=float).T
        ax.step(t, v * scale, where="post", label=name, **_STYLES.get(name, {"lw": 1.0}))
    _legend_above(ax, *ax.get_legend_handles_labels())


def _draw_lanes(ax: Axes, timeline: Timeline, gap: float) -> None:
    by_lane: dict[str, dict[str, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list))
    for s in timeline.slices:
        by_lane[s.thread][s.name].append((s.start, s.start + s.duration))
    lanes = sorted(by_lane, key=thread_sort_key)
    names = sorted({n for per in by_lane.values() for n in per})
    colors = {n: f"C{i % 10}" for i, n in enumerate(names)}
    for row, lane in enumerate(lanes):
        for name, spans in by_lane[lane].items():
            arr = np.asarray(spans, dtype=float)
            merged = merge_intervals(arr[:, 0], arr[:, 1], gap)
            ax.broken_barh(list(zip(merged[:, 0], merged[:, 1] - merged[:, 0], strict=True)),
                           (row - 0.4, 0.8), facecolors=colors[name], label=name)
    ax.set_yticks(range(len(lanes)), lanes, fontsize="small")
    ax.set_ylim(len(lanes) - 0.5, -0.5)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    _legend_above(ax, list(unique.values()), list(unique))


def check_figure_path(path: str | os.PathLike[str]) -> str:
    """The figure format for `path` (its suffix, PNG by default); refuses a missing directory,
    an unknown format or a missing matplotlib before any work is done."""
    p = check_writable(path)  # before importing matplotlib: a bad path fails at once
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError as e:
        raise KcompressdError("plotting needs matplotlib: pip install 'kcompressd[plot]'") from e
    fmt = p.suffix.lower().lstrip(".") or "png"
    supported = FigureCanvasAgg.get_supported_filetypes()
    if fmt not in supported:
        raise KcompressdError(f"{p}: unknown figure format {fmt!r} "
                              f"(one of {', '.join(sorted(supported))})")
    return fmt


def _zoom_on_watermarks(ax: Axes, timeline: Timeline) -> bool:
    """Reclaim happens around the watermarks; a start far above them would flatten
    everything that matters, so clip the free-pages axis to a few times wmark_high."""
    high = [v for _, v in timeline.counters.get("wmark_high", [])]
    free = [v for _, v in timeline.counters.get("free_pages", [])]
    if not high or not free or max(free) <= _ZOOM * max(high):
        return False
    ax.set_ylim(0, _ZOOM * max(high))
    return True


def plot_timeline(timeline: Timeline, path: str | os.PathLike[str], title: str = "") -> None:
    """Draw `timeline` to `path` (format from its suffix, PNG by default) through `outfile`."""
    fmt = check_figure_path(path)
    if not timeline.counters and not timeline.slices:
        raise KcompressdError(f"{path}: the timeline is empty, nothing to plot")
    fig = timeline_figure(timeline, title)
    with atomic_output(path) as out:
        fig.savefig(out, format=fmt, dpi=100)


def timeline_figure(timeline: Timeline, title: str = "") -> Figure:
    """The figure of a non-empty timeline (callers writing several files at once use this)."""
    from matplotlib.figure import Figure  # a Figure without pyplot renders with Agg

    fig = Figure()
    panels: list[tuple[str, str, tuple[str, ...], float]] = [
        panel for panel in COUNTER_PANELS if any(timeline.counters.get(n) for n in panel[2])]
    known = {n for panel in COUNTER_PANELS for n in panel[2]}
    others = tuple(sorted(n for n in timeline.counters if n not in known))
    if others:
        panels.append(("other counters", "", others, 1.0))
    lanes = len({s.thread for s in timeline.slices})
    heights = [2.2] * len(panels) + ([max(1.2, 0.3 * lanes)] if lanes else [])
    fig.set_size_inches(12, sum(heights) + 1.0)
    axes = fig.subplots(len(heights), 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": heights})[:, 0]
    t0, t1 = _time_span(timeline)
    for ax, (name, ylabel, counters, scale) in zip(axes, panels, strict=False):
        _draw_counters(ax, timeline, counters, scale)
        if name == "free memory" and _zoom_on_watermarks(ax, timeline):
            name += f" (clipped at {_ZOOM}x wmark_high)"
        ax.set_title(name, loc="left", fontsize="medium")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    if lanes:
        _draw_lanes(axes[-1], timeline, gap=(t1 - t0) * _MERGE_FRACTION)
        axes[-1].set_title("threads (busy)", loc="left", fontsize="medium")
    axes[-1].set_xlabel("time (s)")
    axes[-1].set_xlim(t0, t1 if t1 > t0 else t0 + 1e-6)
    if title:
        fig.suptitle(title)
    fig.set_layout_engine("constrained")
    return fig
