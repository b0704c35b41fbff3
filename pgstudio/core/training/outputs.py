"""Everything a trainer writes and reports goes through RunOutputs.

Whether this process writes (rank 0 of a data-parallel run, or the only process) is decided once,
when the run is opened (opening.py), and carried here: on other ranks every write is skipped,
and so is the work that would only feed it (rendering a grid, computing a metric). Events go to
the driver on every rank; each rank's driver decides what to show.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..storage.checkpoint import atomic_torch_save
from ..storage.runfolder import RunFolder
from .events import CheckpointEvent, GeneratorSnapshotEvent, LogEvent, MetricEvent, SamplesEvent, frozen_array
from .schedule_point import SchedulePoint


class RunOutputs:
    def __init__(self, run: RunFolder, writes: bool, on_event: Callable[[object], None]):
        self.run, self.writes, self.on_event = run, writes, on_event
        self._last_sample_images: int | None = None       # what was last written, so nothing twice
        self._last_checkpoint_images: int | None = None

    def emit(self, event) -> None:
        self.on_event(event)

    def log(self, message: str) -> None:
        """A line of the run's log that the driver shows too."""
        if self.writes:
            self.run.log(message)
        self.emit(LogEvent(message))

    def log_only(self, message: str) -> None:
        if self.writes:
            self.run.log(message)

    def log_if_possible(self, message: str) -> None:
        """For reporting a failure: the disk that failed may refuse this too."""
        try:
            self.log_only(message)
        except OSError:
            pass

    def record(self, record: dict) -> None:
        """A metrics.jsonl line."""
        if self.writes:
            self.run.append_metrics(record)

    def samples(self, render: Callable[[], np.ndarray], images_seen: int, pt: SchedulePoint) -> None:
        """The fixed latents' grid for this state, once."""
        if not self.writes or self._last_sample_images == images_seen:
            return
        self._last_sample_images = images_seen
        grid = render()
        kimg = images_seen / 1000.0
        path = self.run.write_sample(grid, images_seen, kimg, pt.resolution, pt.alpha, pt.phase)
        self.emit(SamplesEvent(frozen_array(grid), kimg, pt.resolution, pt.alpha, pt.phase, path))

    def checkpoint(self, state: Callable[[], dict], images_seen: int) -> Path:
        """The full state as the checkpoint for this image count, once."""
        path = self.run.checkpoint_path(images_seen)
        if not self.writes or self._last_checkpoint_images == images_seen:
            return path
        atomic_torch_save(state(), path)
        self._last_checkpoint_images = images_seen
        kimg = images_seen / 1000.0
        self.run.log(f"checkpoint {path.name} at {kimg:.3f} kimg")
        self.emit(CheckpointEvent(path, kimg))
        return path

    def metric(self, compute: Callable[[], dict]) -> dict | None:
        """A metric record, computed only where it is written."""
        if not self.writes:
            return None
        record = compute()
        self.run.append_metrics(record)
        self.emit(MetricEvent(record))
        return record

    def snapshot(self, G_ema, architecture: dict, pt: SchedulePoint, images_seen: int) -> None:
        """A CPU copy of the EMA generator for a viewer of the live run (the driver asked for it)."""
        sd = {k: v.detach().to("cpu", copy=True) for k, v in G_ema.state_dict().items()}
        self.emit(GeneratorSnapshotEvent(dict(architecture), sd, pt.level, pt.alpha, images_seen / 1000.0))

    def checkpoints_on_disk(self) -> list[tuple[int, Path]]:
        """(images seen, path) of the run's checkpoints, oldest first."""
        try:
            paths = self.run.checkpoints()
        except OSError:
            return []
        return [(n, path) for path in paths if (n := RunFolder.checkpoint_images(path)) is not None]

    def newest_checkpoint_note(self) -> str:
        saved = self.checkpoints_on_disk()
        return f" (the newest checkpoint on disk is {saved[-1][1].name})" if saved else ""
