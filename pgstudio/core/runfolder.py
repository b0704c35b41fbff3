"""The run folder: the one place that knows its layout. Everything a view shows is read here.

    RUN/config.json           every setting (TrainConfig), incl. data path, import options, seed
    RUN/metrics.jsonl         one JSON object a line: "kind": "tick" | "swd" | "event" (batch_split)
    RUN/samples/grid-*.png    sample grids from the fixed latents through the EMA generator
    RUN/samples/index.jsonl   file, kimg, resolution, alpha, phase (one line a grid)
    RUN/checkpoints/ckpt-<images seen, 10 digits>.pt   full-state checkpoints (atomic)
    RUN/log.txt               human log
    RUN/dataset.json          the import report of the data the run trains on
    RUN/running.json          present while a trainer writes here: {"pid", "host", "started"}
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .config import TrainConfig

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


def _read_jsonl(path: Path, offset: int = 0) -> tuple[list[dict], int]:
    """Complete lines from byte ``offset`` on; returns the records and the new offset.

    A line still being written (no newline yet) is left for the next call, so a follower can
    poll a file another process appends to.
    """
    if not path.exists():
        return [], offset
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1
    records = []
    for line in data[:end].splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue          # a damaged line costs one record, never the whole history
    return records, offset + end


class RunFolder:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path).expanduser()

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

    def mark_running(self) -> None:
        import socket
        self.running_path.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                                 "started": time.time()}))

    def clear_running(self) -> None:
        self.running_path.unlink(missing_ok=True)

    def active_trainer_pid(self) -> int | None:
        """The pid of a live trainer writing here (on this host), else None; stale markers are ignored."""
        import socket
        try:
            info = json.loads(self.running_path.read_text())
        except (OSError, ValueError):
            return None
        pid = int(info.get("pid", -1))
        if info.get("host") != socket.gethostname():
            return pid            # another machine (shared disk): trust the marker
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError, OSError):
            return None
        return pid

    def is_run(self) -> bool:
        return self.config_path.exists()

    def create(self, config: TrainConfig) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise RunFolderError(f"{self.path} exists and is not a folder")
        if self.is_run():
            raise RunFolderError(f"{self.path} already holds a run; use `pgstudio resume {self.path}` "
                                 "or choose another output folder")
        self.samples_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoints_dir.mkdir(parents=True, exist_ok=True)
        self.write_config(config)

    def write_config(self, config: TrainConfig) -> None:
        tmp = self.config_path.with_suffix(".json.tmp")
        tmp.write_text(config.to_json())
        os.replace(tmp, self.config_path)

    def read_config(self) -> TrainConfig:
        if not self.config_path.exists():
            raise RunFolderError(f"{self.path} is not a pgstudio run folder (no config.json)")
        try:
            return TrainConfig.from_json(self.config_path.read_text())
        except (json.JSONDecodeError, TypeError, ValueError) as exc:
            raise RunFolderError(f"{self.config_path}: unreadable config ({exc})") from None

    # metrics
    def append_metrics(self, record: dict) -> None:
        with open(self.metrics_path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def read_metrics(self, offset: int = 0) -> tuple[list[dict], int]:
        return _read_jsonl(self.metrics_path, offset)

    def truncate_metrics_after(self, kimg: float) -> None:
        """On resume, drop records newer than the checkpoint so the history has no duplicates."""
        records, _ = self.read_metrics()
        kept = [r for r in records if r.get("kimg", 0) <= kimg + 1e-9]
        if len(kept) != len(records):
            tmp = self.metrics_path.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))
            os.replace(tmp, self.metrics_path)

    # samples
    def write_sample(self, grid: np.ndarray, images_seen: int, kimg: float, resolution: int,
                     alpha: float, phase: str) -> Path:
        self.samples_dir.mkdir(parents=True, exist_ok=True)
        name = f"grid-{images_seen:010d}.png"
        path = self.samples_dir / name
        tmp = path.with_name(name + ".tmp")
        Image.fromarray(grid).save(tmp, format="PNG")
        os.replace(tmp, path)
        entry = {"file": name, "kimg": round(kimg, 3), "resolution": resolution,
                 "alpha": round(alpha, 4), "phase": phase}
        with open(self.samples_index_path, "a") as f:
            f.write(json.dumps(entry) + "\n")
        return path

    def read_samples(self, offset: int = 0) -> tuple[list[SampleEntry], int]:
        records, offset = _read_jsonl(self.samples_index_path, offset)
        entries = [SampleEntry(r["file"], float(r["kimg"]), int(r["resolution"]), float(r["alpha"]),
                               r["phase"], self.samples_dir / r["file"])
                   for r in records if "file" in r]
        return entries, offset

    def truncate_samples_after(self, kimg: float) -> None:
        records, _ = _read_jsonl(self.samples_index_path)
        kept = [r for r in records if r.get("kimg", 0) <= kimg + 1e-9]
        if len(kept) != len(records):
            tmp = self.samples_index_path.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))
            os.replace(tmp, self.samples_index_path)

    # checkpoints
    def checkpoint_path(self, images_seen: int) -> Path:
        return self.checkpoints_dir / f"ckpt-{images_seen:010d}.pt"

    def checkpoints(self) -> list[Path]:
        """Oldest first."""
        if not self.checkpoints_dir.exists():
            return []
        return sorted(self.checkpoints_dir.glob(CHECKPOINT_GLOB))

    def discard_checkpoints_after(self, images_seen: int) -> list[Path]:
        """Resuming from an earlier checkpoint: later ones move to checkpoints/discarded/ (kept, not used)."""
        moved = []
        for path in self.checkpoints():
            try:
                n = int(path.stem.split("-")[1])
            except (IndexError, ValueError):
                continue
            if n > images_seen:
                target = self.checkpoints_dir / "discarded" / path.name
                target.parent.mkdir(exist_ok=True)
                os.replace(path, target)
                moved.append(target)
        return moved

    def branch(self, checkpoint: Path, destination: str | os.PathLike, images_seen: int) -> "RunFolder":
        """A new run folder that starts as this run did up to ``checkpoint``."""
        import shutil
        new = RunFolder(destination)
        if new.is_run():
            raise RunFolderError(f"{new.path} already holds a run")
        new.samples_dir.mkdir(parents=True, exist_ok=True)
        new.checkpoints_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.config_path, new.config_path)
        if self.dataset_path.exists():
            shutil.copy2(self.dataset_path, new.dataset_path)
        kimg = images_seen / 1000.0
        records, _ = self.read_metrics()
        new.metrics_path.write_text("".join(json.dumps(r) + "\n" for r in records if r.get("kimg", 0) <= kimg + 1e-9))
        entries, _ = _read_jsonl(self.samples_index_path)
        kept = [e for e in entries if e.get("kimg", 0) <= kimg + 1e-9]
        for e in kept:
            if (self.samples_dir / e["file"]).exists():
                shutil.copy2(self.samples_dir / e["file"], new.samples_dir / e["file"])
        new.samples_index_path.write_text("".join(json.dumps(e) + "\n" for e in kept))
        shutil.copy2(checkpoint, new.checkpoints_dir / Path(checkpoint).name)
        new.log(f"branched from {checkpoint} at {kimg:.3f} kimg")
        return new

    # log
    def log(self, message: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.log_path, "a") as f:
            f.write(f"[{stamp}] {message}\n")

    def write_dataset_report(self, report: dict) -> None:
        self.dataset_path.write_text(json.dumps(report))
