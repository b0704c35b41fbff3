"""Hand-over from the trainer thread to the GUI thread: bounded, latest wins for pictures.

The worker puts events in; a GUI timer takes a snapshot at most ~30 times a second. Tick
records are small and each one is a point on a curve, so they are kept (bounded); a sample
grid is large, so only the newest is kept and older ones are read from the run folder.

Where each event goes is one table, ROUTES: a new event type is one line there and one field
of Drained.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field, fields

from ...core.training import events as ev

LATEST = 0          # keep only the newest of these
MAX_ITEMS = 10_000  # ticks, metrics and phases kept between two drains


def _same(event):
    return event


# event type → (Drained field, how many are kept or LATEST, what of the event is kept)
ROUTES = {
    ev.TickEvent: ("ticks", MAX_ITEMS, _same),
    ev.MetricEvent: ("metrics", MAX_ITEMS, lambda e: e.record),
    ev.SamplesEvent: ("samples", 64, _same),          # metadata of grids; the newest keeps its pixels
    ev.PhaseEvent: ("phases", MAX_ITEMS, _same),
    ev.LogEvent: ("logs", 500, lambda e: e.message),
    ev.ErrorEvent: ("errors", 50, _same),
    ev.CheckpointEvent: ("checkpoints", 500, _same),
    ev.PausedEvent: ("paused", LATEST, lambda e: e.paused),
    ev.FinishedEvent: ("finished", LATEST, _same),
    ev.GeneratorSnapshotEvent: ("snapshot", LATEST, _same),
}
# the last PausedEvent's kimg rides along with its flag
EXTRA = {ev.PausedEvent: ("paused_kimg", lambda e: e.kimg)}


@dataclass
class Drained:
    ticks: list = field(default_factory=list)
    metrics: list = field(default_factory=list)
    samples: list = field(default_factory=list)       # SamplesEvent (grid array + metadata)
    phases: list = field(default_factory=list)
    logs: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    checkpoints: list = field(default_factory=list)
    paused: bool | None = None
    paused_kimg: float | None = None
    finished: ev.FinishedEvent | None = None
    snapshot: ev.GeneratorSnapshotEvent | None = None

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) not in (None, []) for f in fields(self))


class EventMailbox:
    MAX_ITEMS = MAX_ITEMS

    def __init__(self):
        self._lock = threading.Lock()
        self._queues = {name: deque(maxlen=keep) for name, keep, _ in ROUTES.values() if keep != LATEST}
        self._latest: dict[str, object] = {}

    def put(self, event) -> None:
        route = ROUTES.get(type(event))
        if route is None:
            return
        name, keep, what = route
        with self._lock:
            if keep == LATEST:
                self._latest[name] = what(event)
            else:
                self._queues[name].append(what(event))
            if type(event) in EXTRA:
                extra, read = EXTRA[type(event)]
                self._latest[extra] = read(event)

    def drain(self) -> Drained:
        with self._lock:
            out = Drained(**{name: list(q) for name, q in self._queues.items()}, **self._latest)
            for q in self._queues.values():
                q.clear()
            self._latest = {}
        return out
