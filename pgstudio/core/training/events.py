"""What the trainer reports. Every event is frozen; arrays inside are read-only copies,
so a GUI thread can keep them while training goes on."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class TickEvent:
    record: dict                    # exactly the metrics.jsonl "tick" record
    total_kimg: float
    eta_s: float | None

    @property
    def tick(self):
        """The record, typed (storage/records.py)."""
        from ..storage.records import TickRecord
        return TickRecord.from_dict(self.record)


@dataclass(frozen=True)
class SamplesEvent:
    grid: np.ndarray                # uint8 HxWx3, read-only
    kimg: float
    resolution: int
    alpha: float
    phase: str
    path: Path


@dataclass(frozen=True)
class PhaseEvent:
    kimg: float
    phase: str
    resolution: int
    growth: bool                    # True when a new resolution starts


@dataclass(frozen=True)
class CheckpointEvent:
    path: Path
    kimg: float


@dataclass(frozen=True)
class MetricEvent:
    record: dict                    # the metrics.jsonl "swd" record


@dataclass(frozen=True)
class LogEvent:
    message: str


@dataclass(frozen=True)
class PausedEvent:
    paused: bool
    kimg: float


@dataclass(frozen=True)
class GeneratorSnapshotEvent:
    """CPU copy of the EMA generator's weights, for viewers of the live run."""
    architecture: dict
    state_dict: dict = field(repr=False)
    level: int = 2
    alpha: float = 1.0
    kimg: float = 0.0


@dataclass(frozen=True)
class FinishedEvent:
    kimg: float
    reason: str                     # "completed", "max_kimg", "stopped"


def describe_ending(reason: str, kimg: float) -> str:
    """How a run ended, in the user's words (the log, the CLI and the studio say the same)."""
    return {"completed": f"training complete at {kimg:.3f} kimg (the end of its schedule)",
            "max_kimg": f"reached the run's kimg limit at {kimg:.3f} kimg",
            "stopped": f"stopped at {kimg:.3f} kimg; resume continues from here"}.get(reason, f"{reason} at {kimg:.3f} kimg")


@dataclass(frozen=True)
class ErrorEvent:
    message: str
    kind: str                       # "nonfinite", "out_of_memory", "disk", "data", "internal"


def frozen_array(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


class TrainerControl:
    """Thread-safe flags a driver sets and the trainer polls at safe points (between steps)."""

    def __init__(self):
        self._stop = threading.Event()
        self._run = threading.Event()
        self._run.set()
        self._save = threading.Event()
        self._snapshot = threading.Event()

    def request_stop(self) -> None:
        self._stop.set()
        self._run.set()               # a paused trainer must wake up to stop

    def pause(self) -> None:
        self._run.clear()

    def resume(self) -> None:
        self._run.set()

    def request_checkpoint(self) -> None:
        self._save.set()

    def request_snapshot(self) -> None:
        self._snapshot.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._run.is_set()

    def wait_while_paused(self, timeout: float) -> None:
        self._run.wait(timeout)

    def take_checkpoint_request(self) -> bool:
        if self._save.is_set():
            self._save.clear()
            return True
        return False

    def take_snapshot_request(self) -> bool:
        if self._snapshot.is_set():
            self._snapshot.clear()
            return True
        return False
