"""One background thread that runs generator jobs for the explorer and the checkpoint list.

The GUI submits closures; only the newest pending job of each kind is kept (a slider dragged
fast renders its last position, not every step on the way), and results come back as signals.
"""
from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Signal, Slot

from .errors import report_error


class RenderWorker(QObject):
    rendered = Signal(str, object, float, int)  # kind, result, seconds, the submission's number
    failed = Signal(str, str)

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()
        self._jobs: dict[str, object] = {}
        self._latest: dict[str, int] = {}       # kind → number of its newest submission
        self._wake = threading.Event()
        self._stop = threading.Event()

    def submit(self, kind: str, job) -> None:
        with self._lock:
            number = self._latest.get(kind, 0) + 1
            self._latest[kind] = number
            self._jobs[kind] = (number, job)       # latest wins
        self._wake.set()

    def is_newest(self, kind: str, number: int) -> bool:
        """Whether ``number`` is still the newest submission of ``kind``: a page drops a result that
        a newer request of the same kind has overtaken, even one already on its way to it."""
        with self._lock:
            return self._latest.get(kind) == number

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @Slot()
    def run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            while not self._stop.is_set():
                with self._lock:
                    if not self._jobs:
                        break
                    kind = next(iter(self._jobs))
                    number, job = self._jobs.pop(kind)
                t0 = time.perf_counter()
                try:
                    result = job()
                except Exception as exc:        # the window hears of it; the page shows it where it belongs
                    message = report_error(f"render job {kind}", exc)
                    try:
                        self.failed.emit(kind, message)
                    except RuntimeError:        # the page was deleted while the job ran
                        return
                    continue
                if not self.is_newest(kind, number):
                    continue            # asked for again while it ran: the newer result is on its way
                try:
                    self.rendered.emit(kind, result, time.perf_counter() - t0, number)
                except RuntimeError:        # the page was deleted while a job ran
                    return
        try:
            self.finished_running.emit()
        except RuntimeError:
            pass

    finished_running = Signal()
