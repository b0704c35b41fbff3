"""The Training page's side of a run queue (core/training/run_queue.py): which run comes next,
whether it starts or resumes, and what its ending makes of its state. Plain Python; the page
starts each run in its worker thread as it does any other."""
from __future__ import annotations

from pathlib import Path

from ...core.storage.runlock import RunLock
from ...core.training.run_queue import QueuedRun, RunQueue


class QueueDriver:
    def __init__(self, folder: str, dataset=None):
        self.queue = RunQueue(folder)
        self.lock = RunLock.acquire(self.queue.folder)     # RunLockedError: another process trains it
        self.dataset = dataset                # the form's imported data (a resumed run reads its own)
        self.current: QueuedRun | None = None

    @property
    def folder(self) -> Path:
        return self.queue.folder

    def next(self) -> tuple[QueuedRun, Path, bool] | None:
        """The next run, its folder, and whether it resumes (it has a checkpoint); None at the end."""
        run = self.queue.next_run()
        self.current = run
        if run is None:
            return None
        resumes = self.queue.prepare(run)
        self.queue.mark(run, "running")
        return run, self.queue.run_folder(run), resumes

    def position(self) -> str:
        run = self.current
        return f"{self.queue.runs.index(run) + 1}/{len(self.queue.runs)}" if run is not None else ""

    def ended(self, result) -> bool:
        """The current run's ending (a RunResult, or an error string from its start); True when
        the queue goes on with the next."""
        run, self.current = self.current, None
        return run is not None and self.queue.record_ending(run, result)

    def summary(self) -> str:
        return ", ".join(f"{n} {s}" for s, n in self.queue.counts().items())

    def has_next(self) -> bool:
        return self.queue.next_run() is not None

    def close(self) -> None:
        self.lock.release()
