"""The tick clock: training time, kept apart from pauses, compilation and reporting.

A tick's img/s is its images over the seconds the loop spent training them; ``wall_s`` (stored
in checkpoints, so it continues across resumes) adds up those seconds and nothing else.
"""
from __future__ import annotations

import time


class TickClock:
    def __init__(self, images_seen: int, wall_s: float = 0.0):
        self.wall_s = wall_s
        self.tick_start_images = images_seen
        self._start = time.perf_counter()

    def begin(self, images_seen: int) -> None:
        """Start a tick here and now without counting anything before it."""
        self.tick_start_images, self._start = images_seen, time.perf_counter()

    @staticmethod
    def now() -> float:
        return time.perf_counter()

    def lap(self, images_seen: int, at: float | None = None) -> tuple[int, float]:
        """Close the tick at ``at`` (now): its images and training seconds; the next one starts there."""
        at = time.perf_counter() if at is None else at
        images, seconds = images_seen - self.tick_start_images, at - self._start
        self.wall_s += seconds
        self.tick_start_images, self._start = images_seen, at
        return images, seconds

    def restart(self) -> None:
        """What was done since the last lap (reporting, saving) is not training time."""
        self._start = time.perf_counter()

    def exclude(self, seconds: float) -> None:
        """Leave seconds spent inside the tick out of it (a compilation, a pause)."""
        self._start += seconds


class Every:
    """Something due every ``kimg`` (a tick, a grid, a checkpoint), counted in images seen."""

    def __init__(self, kimg: float, images_seen: int, at_least_one: bool = True):
        images = int(kimg * 1000)
        self.every = max(1, images) if at_least_one else images      # 0: never (a metric switched off)
        self.next = self._after(images_seen)

    def _after(self, images_seen: int) -> int | None:
        return (images_seen // self.every + 1) * self.every if self.every else None

    def due(self, images_seen: int) -> bool:
        return self.next is not None and images_seen >= self.next

    def advance(self, images_seen: int) -> None:
        self.next = self._after(images_seen)
