"""Hand-over from the trainer thread to the GUI thread: bounded, latest wins for pictures.

The worker puts events in; a GUI timer takes a snapshot at most ~30 times a second. Tick
records are small and each one is a point on a curve, so they are kept (bounded); a sample
grid is large, so only the newest is kept and older ones are read from the run folder.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from ...core.training import events as ev


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
    finished: ev.FinishedEvent | None = None
    snapshot: ev.GeneratorSnapshotEvent | None = None

    def __bool__(self) -> bool:
        return bool(self.ticks or self.metrics or self.samples or self.phases or self.logs or self.errors
                    or self.checkpoints or self.paused is not None or self.finished or self.snapshot)


class EventMailbox:
    MAX_ITEMS = 10_000

    def __init__(self):
        self._lock = threading.Lock()
        self._ticks: deque = deque(maxlen=self.MAX_ITEMS)
        self._metrics: deque = deque(maxlen=self.MAX_ITEMS)
        self._samples: deque = deque(maxlen=64)       # metadata of grids; the newest keeps its pixels
        self._phases: deque = deque(maxlen=self.MAX_ITEMS)
        self._logs: deque = deque(maxlen=500)
        self._errors: deque = deque(maxlen=50)
        self._checkpoints: deque = deque(maxlen=500)
        self._paused = None
        self._finished = None
        self._snapshot = None

    def put(self, event) -> None:
        with self._lock:
            if isinstance(event, ev.TickEvent):
                self._ticks.append(event)
            elif isinstance(event, ev.SamplesEvent):
                self._samples.append(event)
            elif isinstance(event, ev.MetricEvent):
                self._metrics.append(event.record)
            elif isinstance(event, ev.PhaseEvent):
                self._phases.append(event)
            elif isinstance(event, ev.LogEvent):
                self._logs.append(event.message)
            elif isinstance(event, ev.ErrorEvent):
                self._errors.append(event)
            elif isinstance(event, ev.CheckpointEvent):
                self._checkpoints.append(event)
            elif isinstance(event, ev.PausedEvent):
                self._paused = event.paused
            elif isinstance(event, ev.FinishedEvent):
                self._finished = event
            elif isinstance(event, ev.GeneratorSnapshotEvent):
                self._snapshot = event          # latest wins

    def drain(self) -> Drained:
        with self._lock:
            out = Drained(list(self._ticks), list(self._metrics), list(self._samples), list(self._phases),
                          list(self._logs), list(self._errors), list(self._checkpoints), self._paused,
                          self._finished, self._snapshot)
            for q in (self._ticks, self._metrics, self._samples, self._phases, self._logs, self._errors,
                      self._checkpoints):
                q.clear()
            self._paused = self._finished = self._snapshot = None
        return out
