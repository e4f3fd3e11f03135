"""The report's figures as SVG text (inline in the page, so it needs no network or files).

Bars: per scenario, each design side by side, one bar per setting, whiskers over seeds.
Curves: per scenario and swept numeric parameter, each metric against it, the median over
seeds as a line and min-max as a band. Measured rows are hatched bars and dashed lines with
x markers, simulated ones solid: the two are never drawn alike.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from typing import Any

from kcompressd.report.analysis import FIGURE_METRICS, LABELS, Group, describe, setting_key

MAX_SERIES = 10  # lines or bar colours per figure; more are left to the tables


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "path", "font.size": 8, "axes.titlesize": 9,
                         "svg.hashsalt": "kcompressd"})  # same data, same SVG
    return plt


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    _plt().close(fig)
    text = buf.getvalue()
    return re.sub(r"^.*?(<svg)", r"\1", text, count=1, flags=re.S)  # drop XML prolog/doctype


def bars(scenario: str, gs: list[Group], varying: set[str]) -> tuple[str, str | None]:
    """(svg, note): designs side by side for one scenario."""
    plt = _plt()
    configs = list(dict.fromkeys((g.config, g.measured) for g in gs))
    settings = list(dict.fromkeys(setting_key(g.setting) for g in gs))
    note = None
    if len(settings) > MAX_SERIES:
        note = f"{len(settings) - MAX_SERIES} of {len(settings)} settings not drawn"
        settings = settings[:MAX_SERIES]
    index = {(g.config, g.measured, setting_key(g.setting)): g for g in gs}
    labels = {setting_key(g.setting): describe(g.setting, varying) for g in gs}
    fig, axes = plt.subplots(2, 3, figsize=(11, 5.6), squeeze=False)
    width = 0.8 / max(1, len(settings))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, metric in zip(axes.flat, FIGURE_METRICS, strict=True):
        labelled: set[str] = set()
        for j, s in enumerate(settings):
            for i, (cfg, measured) in enumerate(configs):
                g = index.get((cfg, measured, s))
                if g is None:
                    continue
                st = g.stat(metric)
                if st.median is None:
                    continue
                x = i - 0.4 + width * (j + 0.5)
                ax.bar(x, st.median, width, color=colors[j % len(colors)],
                       hatch="//" if measured else None, edgecolor="black" if measured
                       else "none", linewidth=0.5,
                       label=None if s in labelled else labels[s])
                labelled.add(s)
                if st.n > 1:
                    ax.errorbar(x, st.median, yerr=[[st.median - st.lo], [st.hi - st.median]],
                                color="black", capsize=2, lw=0.8)
        ax.set_title(LABELS[metric])
        ax.set_xticks(range(len(configs)))
        ax.set_xticklabels([c + (" (measured)" if m else "") for c, m in configs],
                           rotation=30, ha="right", fontsize=7)
        ax.grid(axis="y", alpha=0.3)
    handles, lab = axes.flat[0].get_legend_handles_labels()
    uniq = dict(zip(lab, handles, strict=True))
    if len(uniq) > 1 or (uniq and next(iter(uniq)) != "—"):
        fig.legend(uniq.values(), uniq.keys(), loc="upper center", ncol=min(4, len(uniq)),
                   bbox_to_anchor=(0.5, 1.04), fontsize=7)
    fig.suptitle(f"{scenario}: designs side by side (median over seeds, whiskers min\u2013max)",
                 y=1.09 if uniq else 1.0)
    fig.tight_layout()
    return _svg(fig), note


def curves(scenario: str, param: str, gs: list[Group], varying: set[str],
           tied: frozenset[str] = frozenset()) -> tuple[str, str | None]:
    """(svg, note): every figure metric against `param`, one line per everything else but
    the keys `tied` to it (machine.big_cpus set with machine.cpus); baselines that lack a
    design parameter are dotted reference lines."""
    plt = _plt()
    short = param.removeprefix("design.")
    lines: dict[tuple[str, bool, str], list[tuple[float, Group]]] = defaultdict(list)
    flat: dict[tuple[str, bool, str], Group] = {}
    for g in gs:
        params = {**g.rows[0].params}
        x = params.pop(param, None)
        cfg = g.config if not param.startswith("design.") else \
            " ".join(w for w in g.config.split() if not w.startswith(f"{short}="))
        rest = describe({k: v for k, v in params.items() if k in varying and k != "design"
                         and not k.startswith("design.") and k not in tied}, None)
        key = (cfg, g.measured, rest)
        if isinstance(x, int | float) and not isinstance(x, bool):
            lines[key].append((float(x), g))
        elif x is None and g.baseline:
            flat[key] = g  # a group without the parameter (the baseline of a design.* key)
    keys = list(lines) + [k for k in flat if k not in lines]
    note = None
    if len(keys) > MAX_SERIES:
        note = f"{len(keys) - MAX_SERIES} of {len(keys)} lines not drawn (see the tables)"
        keys = keys[:MAX_SERIES]
    xs_all = sorted({x for pts in lines.values() for x, _ in pts})
    fig, axes = plt.subplots(2, 3, figsize=(11, 5.6), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, metric in zip(axes.flat, FIGURE_METRICS, strict=True):
        for i, key in enumerate(keys):
            cfg, measured, rest = key
            label = cfg + (" (measured)" if measured else "") + (f" · {rest}" if rest != "—"
                                                                 else "")
            style: dict[str, Any] = {"color": colors[i % len(colors)],
                                     "ls": "--" if measured else "-",
                                     "marker": "x" if measured else "o", "ms": 3, "lw": 1.2}
            if key in lines:
                pts = sorted(lines[key], key=lambda t: t[0])
                stats = [(x, g.stat(metric)) for x, g in pts]
                stats = [(x, s) for x, s in stats if s.median is not None]
                if not stats:
                    continue
                ax.plot([x for x, _ in stats], [s.median for _, s in stats], label=label,
                        **style)
                if any(s.n > 1 for _, s in stats):
                    ax.fill_between([x for x, _ in stats], [s.lo for _, s in stats],
                                    [s.hi for _, s in stats], color=style["color"], alpha=0.15,
                                    lw=0)
            elif xs_all:
                s = flat[key].stat(metric)
                if s.median is not None:
                    ax.plot([xs_all[0], xs_all[-1]], [s.median] * 2, label=label,
                            color=style["color"], ls=":", lw=1.2)
        ax.set_title(LABELS[metric])
        ax.set_xlabel(param)
        if xs_all and min(xs_all) > 0 and max(xs_all) / min(xs_all) >= 16:
            ax.set_xscale("log", base=2)
        ax.grid(alpha=0.3)
    handles, lab = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, lab, loc="upper center", ncol=min(3, len(lab)),
                   bbox_to_anchor=(0.5, 1.02 + 0.025 * ((len(lab) + 2) // 3)), fontsize=7)
    fig.suptitle(f"{scenario}: metrics against {param} (median over seeds, band min\u2013max)",
                 y=1.04 + 0.05 * ((len(lab) + 2) // 3))
    fig.tight_layout()
    return _svg(fig), note


__all__ = ["bars", "curves"]
