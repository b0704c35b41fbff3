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
    rendered = Signal(str, object, float)      # kind, result, seconds
    failed = Signal(str, str)

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()
        self._jobs: dict[str, object] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()

    def submit(self, kind: str, job) -> None:
        with self._lock:
            self._jobs[kind] = job                 # latest wins
        self._wake.set()

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
                    job = self._jobs.pop(kind)
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
                try:
                    self.rendered.emit(kind, result, time.perf_counter() - t0)
                except RuntimeError:        # the page was deleted while a job ran
                    return
        try:
            self.finished_running.emit()
        except RuntimeError:
            pass

    finished_running = Signal()
