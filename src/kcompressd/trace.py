"""Timelines and their Chrome/Perfetto JSON trace (opens in ui.perfetto.dev).

The simulator and the real-kernel harness both record a `Timeline`; this module alone knows
the trace format, so both produce traces that look alike.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from kcompressd.outfile import atomic_output


@dataclass
class Slice:
    thread: str
    name: str
    start: float  # seconds
    duration: float  # seconds


@dataclass
class Timeline:
    """Counter tracks (name -> [(t, value)]) and thread slices, times in seconds."""

    counters: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    slices: list[Slice] = field(default_factory=list)

    def counter(self, name: str, t: float, value: float) -> None:
        self.counters.setdefault(name, []).append((t, value))

    def slice(self, thread: str, name: str, start: float, duration: float) -> None:
        self.slices.append(Slice(thread, name, start, duration))


def perfetto_events(timeline: Timeline, process: str = "kcompressd") -> list[dict]:
    pid = 1
    events: list[dict] = [
        {"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": process}}
    ]
    tids: dict[str, int] = {}
    for s in timeline.slices:
        if s.thread not in tids:
            tids[s.thread] = len(tids) + 1
            events.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tids[s.thread],
                           "args": {"name": s.thread}})
        events.append({"ph": "X", "name": s.name, "pid": pid, "tid": tids[s.thread],
                       "ts": s.start * 1e6, "dur": s.duration * 1e6})
    for name, samples in timeline.counters.items():
        for t, v in samples:
            events.append({"ph": "C", "name": name, "pid": pid, "ts": t * 1e6,
                           "args": {"value": v}})
    return events


def perfetto_json(timeline: Timeline, process: str = "kcompressd") -> str:
    """The whole trace document as text (callers writing several files at once use this)."""
    doc = {"traceEvents": perfetto_events(timeline, process), "displayTimeUnit": "ms"}
    return json.dumps(doc, allow_nan=False)


def write_perfetto(timeline: Timeline, path: str | os.PathLike[str],
                   process: str = "kcompressd") -> None:
    """Write the trace through `outfile`: atomically, or in place for a device or FIFO."""
    text = perfetto_json(timeline, process)
    with atomic_output(path) as out:
        out.write_text(text)
