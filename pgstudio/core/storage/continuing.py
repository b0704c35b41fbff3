"""Continuing a run from one of its checkpoints: in place (resume) or in a new folder (branch).

One implementation for the CLI (`pgstudio resume --checkpoint`, `pgstudio branch`) and the
studio's Checkpoints page; the trainer then opens the folder it names (training/opening.py).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .checkpoint import load_checkpoint
from .runfolder import RunFolder, RunFolderError


@dataclass(frozen=True)
class Continuation:
    run: RunFolder                  # the folder to train
    checkpoint: Path | None         # the state to resume from; None: the folder's newest (a branch has one)


def run_of(checkpoint: str | os.PathLike) -> RunFolder:
    """The run folder a checkpoint belongs to (RUN/checkpoints/ckpt-*.pt)."""
    return RunFolder(Path(checkpoint).resolve().parent.parent)


def images_seen_at(checkpoint: str | os.PathLike) -> int:
    """The trainer names its checkpoints by images seen; a file named otherwise is read for it."""
    images = RunFolder.checkpoint_images(Path(checkpoint))
    return images if images is not None else int(load_checkpoint(checkpoint)["images_seen"])


def resume_from(checkpoint: str | os.PathLike) -> Continuation:
    """Train on in the checkpoint's own run folder; refused while another process trains it."""
    run = run_of(checkpoint)
    holder = run.active_trainer_pid()
    if holder is not None:
        raise RunFolderError(f"{run.path} is being trained by process {holder}: stop that training before "
                             "resuming it here (opening the run follows it meanwhile)")
    return Continuation(run, Path(checkpoint))


def branch_name(checkpoint: str | os.PathLike, images_seen: int) -> str:
    return f"{run_of(checkpoint).path.name}-branch-{images_seen / 1000:.1f}kimg"


def branch_from(checkpoint: str | os.PathLike, parent: str | os.PathLike,
                name: str | None = None) -> Continuation:
    """A new run folder under ``parent`` that starts as the run did up to ``checkpoint`` (config,
    metrics, grids and that checkpoint); the original run is left as it is."""
    images = images_seen_at(checkpoint)
    target = Path(parent) / (name or branch_name(checkpoint, images))
    new = run_of(checkpoint).branch(Path(checkpoint), target, images)
    return Continuation(new, None)
