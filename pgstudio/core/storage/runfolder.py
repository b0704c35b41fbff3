"""The run folder: the one place that knows its layout. Everything a view shows is read here.

    RUN/config.json           every setting (TrainConfig), incl. data path, import options, seed
    RUN/metrics.jsonl         one JSON object a line: "kind": "tick" | "swd" | "event" (batch_split)
    RUN/samples/grid-*.png    sample grids from the fixed latents through the EMA generator
    RUN/samples/index.jsonl   file, kimg, resolution, alpha, phase (one line a grid)
    RUN/checkpoints/ckpt-<images seen, 10 digits>.pt   full-state checkpoints (atomic)
    RUN/log.txt               human log
    RUN/dataset.json          the import report of the data the run trains on
    RUN/running.json          present while a trainer writes here: {"pid", "host", "started", "lock"}
    RUN/trainer.lock          the file its trainer holds an OS lock on (runlock.py): one trainer a folder

Every write goes through disk.py (one clear DiskWriteError for any refusal of the disk) and every
JSON-lines read through jsonl.py (unusable lines are skipped and listed in ``unusable_lines``).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..config import TrainConfig
from .disk import append_line, atomic_file, copy_file, make_folder, write_atomic, writing
from .jsonl import NUMBER, JsonLines, fields_problem, read_jsonl, repair_torn_tail
from .runlock import RunLockedError, live_holder  # noqa: F401  (RunLockedError: re-exported)

CHECKPOINT_GLOB = "ckpt-*.pt"


class RunFolderError(Exception):
    pass


@dataclass(frozen=True)
class SampleEntry:
    file: str
    kimg: float
    resolution: int
    alpha: float
    phase: str
    path: Path


TICK_FIELDS = {"kimg": NUMBER, "resolution": int, "alpha": NUMBER, "phase": str, "loss_d": NUMBER,
               "loss_g": NUMBER}
SWD_FIELDS = {"kimg": NUMBER, "mean": NUMBER}
SAMPLE_FIELDS = {"file": str, "kimg": NUMBER, "resolution": int, "alpha": NUMBER, "phase": str}


def metrics_record_problem(record: dict) -> str | None:
    """Why a metrics.jsonl object cannot be used (None: it can; unknown kinds are kept for newer readers)."""
    kind = record.get("kind")
    if kind == "tick":
        return fields_problem(record, TICK_FIELDS)
    if kind == "swd":
        return fields_problem(record, SWD_FIELDS)
    if not isinstance(kind, str):
        return "no kind"
    return fields_problem(record, {"kimg": NUMBER}) if "kimg" in record else None


def sample_entry_problem(record: dict) -> str | None:
    problem = fields_problem(record, SAMPLE_FIELDS)
    if problem is None and ("/" in record["file"] or "\\" in record["file"] or record["file"].startswith(".")):
        return f"grid file name {record['file']!r} points outside samples/"
    return problem


def _kimg(record: dict) -> float:
    """A usable record's kimg (the readers checked it is a number where present)."""
    return float(record.get("kimg", 0))


class RunFolder:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path).expanduser()
        self.unusable_lines: list[str] = []      # what the readers skipped, for the log and the studio

    # layout
    @property
    def config_path(self) -> Path: return self.path / "config.json"
    @property
    def metrics_path(self) -> Path: return self.path / "metrics.jsonl"
    @property
    def samples_dir(self) -> Path: return self.path / "samples"
    @property
    def samples_index_path(self) -> Path: return self.samples_dir / "index.jsonl"
    @property
    def checkpoints_dir(self) -> Path: return self.path / "checkpoints"
    @property
    def log_path(self) -> Path: return self.path / "log.txt"
    @property
    def dataset_path(self) -> Path: return self.path / "dataset.json"

    @property
    def running_path(self) -> Path: return self.path / "running.json"

    def active_trainer_pid(self) -> int | None:
        """The pid of a trainer writing here now, else None (read-only: a follower never locks).

        On this host a marker whose process is gone is stale and ignored; another host's is trusted.
        """
        info = live_holder(self.path)
        if info is None:
            return None
        pid = info.get("pid")
        return pid if isinstance(pid, int) else -1

    def repair_torn_tails(self) -> list[str]:
        """For the lock holder, once: cut off lines an interrupted writer left unfinished."""
        notes = []
        for path in (self.metrics_path, self.samples_index_path):
            removed = repair_torn_tail(path)
            if removed:
                notes.append(f"{path.relative_to(self.path)}: removed an unfinished last line ({removed} bytes) "
                             "left by an interrupted write")
        return notes

    def is_run(self) -> bool:
        return self.config_path.exists()

    def create(self, config: TrainConfig) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise RunFolderError(f"{self.path} exists and is not a folder")
        if self.is_run():
            raise RunFolderError(f"{self.path} already holds a run; use `pgstudio resume {self.path}` "
                                 "or choose another output folder")
        make_folder(self.samples_dir)
        make_folder(self.checkpoints_dir)
        self.write_config(config)

    def write_config(self, config: TrainConfig) -> None:
        write_atomic(self.config_path, config.to_json())

    def read_config(self) -> TrainConfig:
        if not self.config_path.exists():
            raise RunFolderError(f"{self.path} is not a pgstudio run folder (no config.json)")
        try:
            return TrainConfig.from_json(self.config_path.read_text())
        except OSError as exc:
            raise RunFolderError(f"{self.config_path}: cannot be read ({exc.strerror or exc})") from None
        except (json.JSONDecodeError, TypeError, ValueError, AttributeError, KeyError) as exc:
            raise RunFolderError(f"{self.config_path}: unreadable config ({exc})") from None

    # metrics
    def append_metrics(self, record: dict) -> None:
        append_line(self.metrics_path, json.dumps(record))

    def append_score(self, record: dict) -> str | None:
        """A metric computed outside the trainer (the Checkpoints page, `pgstudio swd`/`fid`) as a
        record of the run, unless another process is training it (its trainer is the folder's one
        writer). None when written, else why not."""
        holder = self.active_trainer_pid()
        if holder is not None and holder != os.getpid():
            return f"process {holder} is training it"
        try:
            self.append_metrics(record)
        except OSError as exc:
            return str(exc)
        return None

    def _read(self, path: Path, offset: int, problem) -> JsonLines:
        read = read_jsonl(path, offset, problem)
        self.unusable_lines.extend(read.skipped)
        return read

    def read_metrics(self, offset: int = 0) -> tuple[list[dict], int]:
        """Usable records from byte ``offset`` on, and the offset to read on from."""
        read = self._read(self.metrics_path, offset, metrics_record_problem)
        return read.records, read.offset

    def _rewrite_jsonl(self, path: Path, records: list[dict]) -> None:
        write_atomic(path, "".join(json.dumps(r) + "\n" for r in records))

    def truncate_metrics_after(self, kimg: float) -> None:
        """On resume, drop records newer than the checkpoint (and unusable lines) so the history is clean."""
        self._truncate_after(self.metrics_path, metrics_record_problem, kimg)

    def _truncate_after(self, path: Path, problem, kimg: float) -> None:
        read = self._read(path, 0, problem)
        kept = [r for r in read.records if _kimg(r) <= kimg + 1e-9]
        if len(kept) != len(read.records) or read.skipped:
            self._rewrite_jsonl(path, kept)

    # samples
    def write_sample(self, grid: np.ndarray, images_seen: int, kimg: float, resolution: int,
                     alpha: float, phase: str) -> Path:
        make_folder(self.samples_dir)
        name = f"grid-{images_seen:010d}.png"
        path = self.samples_dir / name
        with atomic_file(path) as f:
            Image.fromarray(grid).save(f, format="PNG")
        entry = {"file": name, "kimg": round(kimg, 3), "resolution": resolution,
                 "alpha": round(alpha, 4), "phase": phase}
        append_line(self.samples_index_path, json.dumps(entry))
        return path

    def read_samples(self, offset: int = 0) -> tuple[list[SampleEntry], int]:
        read = self._read(self.samples_index_path, offset, sample_entry_problem)
        entries = [SampleEntry(r["file"], float(r["kimg"]), int(r["resolution"]), float(r["alpha"]),
                               r["phase"], self.samples_dir / r["file"]) for r in read.records]
        return entries, read.offset

    def truncate_samples_after(self, kimg: float) -> None:
        self._truncate_after(self.samples_index_path, sample_entry_problem, kimg)

    # checkpoints
    def checkpoint_path(self, images_seen: int) -> Path:
        return self.checkpoints_dir / f"ckpt-{images_seen:010d}.pt"

    @staticmethod
    def checkpoint_images(path: Path) -> int | None:
        """Images seen at a checkpoint, from its name (ckpt-<images>.pt); None for another name."""
        try:
            return int(Path(path).stem.split("-")[1])
        except (IndexError, ValueError):
            return None

    def checkpoints(self) -> list[Path]:
        """Oldest first."""
        if not self.checkpoints_dir.exists():
            return []
        return sorted(self.checkpoints_dir.glob(CHECKPOINT_GLOB))

    def discard_checkpoints_after(self, images_seen: int) -> list[Path]:
        """Resuming from an earlier checkpoint: later ones move to checkpoints/discarded/ (kept, not used)."""
        moved = []
        for path in self.checkpoints():
            n = self.checkpoint_images(path)
            if n is not None and n > images_seen:
                target = self.checkpoints_dir / "discarded" / path.name
                make_folder(target.parent)
                with writing(target):
                    os.replace(path, target)
                moved.append(target)
        return moved

    def branch(self, checkpoint: Path, destination: str | os.PathLike, images_seen: int) -> "RunFolder":
        """A new run folder that starts as this run did up to ``checkpoint``."""
        new = RunFolder(destination)
        if new.is_run():
            raise RunFolderError(f"{new.path} already holds a run")
        make_folder(new.samples_dir)
        make_folder(new.checkpoints_dir)
        copy_file(self.config_path, new.config_path)
        if self.dataset_path.exists():
            copy_file(self.dataset_path, new.dataset_path)
        kimg = images_seen / 1000.0
        records, _ = self.read_metrics()
        new._rewrite_jsonl(new.metrics_path, [r for r in records if _kimg(r) <= kimg + 1e-9])
        # the index lines are copied as written, keys a newer pgstudio may add included
        kept = [r for r in self._read(self.samples_index_path, 0, sample_entry_problem).records
                if _kimg(r) <= kimg + 1e-9]
        for r in kept:
            if (self.samples_dir / r["file"]).exists():
                copy_file(self.samples_dir / r["file"], new.samples_dir / r["file"])
        new._rewrite_jsonl(new.samples_index_path, kept)
        copy_file(checkpoint, new.checkpoints_dir / Path(checkpoint).name)
        new.log(f"branched from {checkpoint} at {kimg:.3f} kimg")
        return new

    # log
    def log(self, message: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        append_line(self.log_path, f"[{stamp}] {message}")

    def write_dataset_report(self, report: dict) -> None:
        write_atomic(self.dataset_path, json.dumps(report))
