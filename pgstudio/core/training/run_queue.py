"""A queue of runs trained one after another, each in its own run folder inside the queue's
folder: the survey's presets on one data set, or one preset over seeds (what a sweep is, offline).

The queue is a folder: queue.json lists each run's name, settings and state (pending, running,
done, stopped, failed) and is rewritten whole after every change, so a queue stopped for any
reason — Ctrl-C, a closed window, a crash — continues where it was (the interrupted run resumes
from its newest checkpoint). One process at a time trains a queue (a lock, as for a run). The
Runs page opened on the queue's folder lists its runs and overlays their curves.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from ..config import TrainConfig
from ..families import family_with_paper
from ..presets import preset_config
from ..storage.disk import make_folder, write_atomic
from ..storage.runfolder import RunFolder
from ..storage.runlock import RunLock

QUEUE_NAME = "queue.json"
STATES = ("pending", "running", "done", "stopped", "failed")
# what a queue's runs take from the settings it was built with, whatever preset they train
RUN_LEVEL = ("data", "demo", "mode", "channels", "mirror_augment", "resolution", "max_kimg", "device", "precision",
             "metric_kimg", "metric_n", "metric_kind", "grid_size", "tick_kimg", "sample_kimg", "checkpoint_kimg",
             "classes", "balance_classes")


class QueueError(Exception):
    """A queue that cannot be read or built, in words for the user."""


@dataclass
class QueuedRun:
    name: str
    config: dict                 # TrainConfig.to_dict()
    state: str = "pending"
    message: str = ""            # why it failed or stopped, its ending otherwise

    def train_config(self) -> TrainConfig:
        return TrainConfig.from_dict(self.config)


def plan(base: TrainConfig, presets: list[str] | None = None, seeds: list[int] | None = None) -> list[QueuedRun]:
    """Runs for each preset (its own settings, with ``base``'s data, resolution, budget, device and
    reporting; ``base``'s own preset: ``base`` as it is) and each seed; no presets: ``base`` over
    the seeds."""
    seeds = list(seeds) if seeds else [base.seed]
    runs = []
    for preset in presets or [None]:
        if preset is None or preset == base.preset:      # the settings as given, edits and all
            cfg, stem = base, base.preset
        else:
            owner = family_with_paper(preset)        # a paper's preset trains its family
            cfg = preset_config(preset, arch=owner.name if owner else base.arch,
                                **{k: getattr(base, k) for k in RUN_LEVEL})
            stem = preset
        for seed in seeds:
            name = f"{stem}-seed{seed}" if len(seeds) > 1 or preset is None else stem
            runs.append(QueuedRun(name, cfg.replace(seed=seed).to_dict()))
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise QueueError(f"two runs of the queue would share a folder: {', '.join(sorted(set(n for n in names if names.count(n) > 1)))}")
    return runs


class RunQueue:
    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder).expanduser()
        self.runs = self._read()

    @classmethod
    def create(cls, folder: str | os.PathLike, runs: list[QueuedRun]) -> "RunQueue":
        folder = Path(folder).expanduser()
        if (folder / QUEUE_NAME).exists():
            raise QueueError(f"{folder} already holds a queue: continue it with `pgstudio queue {folder}`")
        if RunFolder(folder).is_run():
            raise QueueError(f"{folder} is a run folder, not a place for a queue")
        if not runs:
            raise QueueError("a queue needs at least one run")
        for run in runs:
            if RunFolder(folder / run.name).is_run():
                raise QueueError(f"{folder / run.name} already holds a run")
        make_folder(folder)
        queue = cls.__new__(cls)
        queue.folder, queue.runs = folder, list(runs)
        queue.save()
        return queue

    @staticmethod
    def exists(folder: str | os.PathLike) -> bool:
        return (Path(folder).expanduser() / QUEUE_NAME).is_file()

    def _read(self) -> list[QueuedRun]:
        path = self.folder / QUEUE_NAME
        try:
            data = json.loads(path.read_text())
            runs = [QueuedRun(r["name"], dict(r["config"]), r.get("state", "pending"), r.get("message", ""))
                    for r in data["runs"]]
        except FileNotFoundError:
            raise QueueError(f"{self.folder}: no queue here ({QUEUE_NAME} is missing)") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise QueueError(f"{path}: not a readable queue ({exc})") from None
        for run in runs:
            if run.state not in STATES:
                raise QueueError(f"{path}: run {run.name!r} has an unknown state {run.state!r}")
        return runs

    def save(self) -> None:
        write_atomic(self.folder / QUEUE_NAME, json.dumps({"format": "pgstudio-queue", "version": 1,
                                                           "runs": [asdict(r) for r in self.runs]}, indent=2))

    def run_folder(self, run: QueuedRun) -> Path:
        return self.folder / run.name

    def mark(self, run: QueuedRun, state: str, message: str = "") -> None:
        run.state, run.message = state, message
        self.save()

    def next_run(self) -> QueuedRun | None:
        """The run to train next: one left running or stopped (it resumes), else the first pending."""
        for wanted in (("running", "stopped"), ("pending",)):
            for run in self.runs:
                if run.state in wanted:
                    return run
        return None

    def counts(self) -> dict[str, int]:
        return {s: sum(r.state == s for r in self.runs) for s in STATES if any(r.state == s for r in self.runs)}

    def describe(self) -> str:
        lines = [f"{self.folder}: {len(self.runs)} runs (" + ", ".join(f"{n} {s}" for s, n in self.counts().items()) + ")"]
        for run in self.runs:
            cfg = run.config
            lines.append(f"  {run.name:<24} {run.state:<8} {cfg.get('arch')} {cfg.get('preset')} seed {cfg.get('seed')}"
                         + (f" — {run.message}" if run.message else ""))
        return "\n".join(lines)

    def prepare(self, run: QueuedRun) -> bool:
        """Ready ``run``'s folder: True when it resumes (it has a checkpoint); a folder begun
        without one is removed, to start again."""
        folder = RunFolder(self.run_folder(run))
        if folder.is_run() and folder.checkpoints():
            return True
        if folder.is_run():
            import shutil
            shutil.rmtree(folder.path)
        return False

    def trainer_for(self, run: QueuedRun, dataset=None, on_event: Callable | None = None):
        """A Trainer for ``run``: new, or resumed where it stopped (its folder has a checkpoint)."""
        from .trainer import Trainer
        folder = self.run_folder(run)
        if self.prepare(run):
            return Trainer.resume(folder, dataset=dataset, on_event=on_event)
        return Trainer.new(folder, run.train_config(), dataset=dataset, on_event=on_event)

    def record_ending(self, run: QueuedRun, result) -> bool:
        """Mark ``run`` by its RunResult (or an error string from its start): done, failed or
        stopped; True when the queue goes on with the next run."""
        reason = getattr(result, "reason", "error")
        if reason == "stopped":
            self.mark(run, "stopped", f"stopped at {result.kimg:.3f} kimg; the queue resumes it")
            return False
        if reason == "error":
            self.mark(run, "failed", getattr(result, "error", None) or str(result))
        else:
            self.mark(run, "done", f"{reason} at {result.kimg:.3f} kimg")
        return True

    def train(self, on_event: Callable | None = None, on_run: Callable[[QueuedRun, int], None] | None = None,
              dataset=None, drive: Callable | None = None) -> dict[str, int]:
        """Train every run not yet done, in order. ``drive(trainer) → RunResult`` runs one (the
        CLI's handles Ctrl-C: a first press stops at a safe point); a run that fails is marked so
        and the queue goes on; a stopped one ends the queue, left to resume. Returns the counts."""
        lock = RunLock.acquire(self.folder)
        try:
            while (run := self.next_run()) is not None:
                if on_run is not None:
                    on_run(run, self.runs.index(run))
                self.mark(run, "running")
                try:
                    trainer = self.trainer_for(run, dataset=dataset, on_event=on_event)
                except Exception as exc:            # its data, its settings, its lock: it cannot start
                    self.mark(run, "failed", str(exc))
                    continue
                try:
                    result = (drive or (lambda t: t.run()))(trainer)
                except KeyboardInterrupt:
                    self.mark(run, "stopped", "interrupted; the queue resumes it")
                    raise
                if not self.record_ending(run, result):
                    break
        finally:
            lock.release()
        return self.counts()
