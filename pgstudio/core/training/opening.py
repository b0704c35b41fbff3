"""Opening a run for training: a new run folder, or an existing one at a checkpoint.

Both take the run folder's lock (one trainer a folder, storage/runlock.py) and decide whether
this process writes at all (rank 0 of a data-parallel run does); resuming also repairs torn
JSON-lines tails, picks the newest checkpoint that loads, and cuts the metrics and samples back
to it, saying what it did in notes the trainer logs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..config import TrainConfig
from ..data.dataset import ImageDataset, load_dataset
from ..storage.checkpoint import RESUME_KEYS, CheckpointError, first_loadable, load_checkpoint
from ..storage.runfolder import RunFolder
from ..storage.runlock import RunLock
from .augment_choice import choose_augment
from .heldout import changed_folder_note, settle_heldout
from .class_choice import match_classes, settle
from .distributed import DistContext
from .transfer import Origin, check_origin, describe, read_origin
from ..validation import config_messages


@dataclass
class OpenedRun:
    """What a Trainer is built from."""
    run: RunFolder
    cfg: TrainConfig
    dataset: ImageDataset
    writes: bool                          # this process writes the run folder (rank 0)
    lock: RunLock | None                  # held until the trainer closes
    checkpoint: dict | None = None        # the state to resume from
    notes: list[str] = field(default_factory=list)
    origin: Origin | None = None          # a new run's trained starting point (transfer.py)

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()


def open_new(run_dir: str | os.PathLike, cfg: TrainConfig, dataset: ImageDataset | None = None,
             origin: Origin | None = None) -> OpenedRun:
    """A new run folder for ``cfg``. ``augment="auto"`` is settled here, by the data set's size
    (the config written says what was chosen and why); a ``start_from`` is read and checked
    against the networks ``cfg`` builds before anything is written."""
    problems = config_messages(cfg)
    if problems:
        raise ValueError("; ".join(problems))
    if dataset is None:
        dataset = load_dataset(cfg.data, cfg.demo, cfg.resolution, cfg.mode, cfg.channels)
    notes = []
    if cfg.augment == "auto":
        mode, reason = choose_augment(len(dataset), cfg.loss, cfg.ada_signal, cfg.fmap_max)
        cfg = cfg.replace(augment=mode, augment_reason=reason)
        notes.append(reason)
    if cfg.augment == "ada" and cfg.ada_signal == "rv" and cfg.ada_heldout == 0:   # settled here too
        cfg, note = settle_heldout(cfg, len(dataset))
        notes.append(note)
    if cfg.class_names is None and cfg.classes != "off":   # settled here, like augment auto
        cfg, reason = settle(cfg, dataset)
        if cfg.class_names or dataset.class_names:
            notes.append(reason)
    elif cfg.class_names:              # a config that names its classes keeps them
        dataset = match_classes(dataset, cfg.class_names, cfg.data or "the data set")
    if cfg.start_from and origin is None:
        origin = read_origin(cfg.start_from["path"])
    if origin is not None:
        check_origin(origin, cfg, dataset.channels)
        if cfg.class_names and "class_names" not in origin.architecture and cfg.start_from:
            cfg = cfg.replace(start_from={**cfg.start_from, "label_layers": "fresh"})
        notes.append(describe(cfg.start_from or origin.record(), cfg.freeze_d))
    ctx = DistContext.detect()
    run, writes = RunFolder(run_dir), ctx.is_main
    lock = RunLock.acquire(run.path) if writes else None
    try:
        if writes:
            run.create(cfg)
            run.write_dataset_report(dataset.report.to_dict())
            run.log(f"new run: {dataset.report.text()}")
        ctx.barrier()
        return OpenedRun(run, cfg, dataset, writes, lock, notes=notes, origin=origin)
    except BaseException:
        if lock is not None:
            lock.release()
        raise


def newest_good_checkpoint(run: RunFolder, explicit=None) -> tuple[dict, Path, list]:
    """The state to resume from: ``explicit``, or the newest checkpoint that loads (with the
    newer ones skipped on the way and why)."""
    if explicit is not None:
        return load_checkpoint(explicit, require=RESUME_KEYS), Path(explicit), []
    try:
        return first_loadable(reversed(run.checkpoints()), require=RESUME_KEYS)
    except CheckpointError as exc:
        raise CheckpointError(f"{run.path}: nothing to resume from: {exc}") from None


def open_resume(run_dir: str | os.PathLike, checkpoint: str | os.PathLike | None = None,
                max_kimg: float | None = None, dataset: ImageDataset | None = None,
                lr_scale: float | None = None, take_over: bool = False) -> OpenedRun:
    """Continue a run from ``checkpoint`` or its newest usable one.

    ``max_kimg`` replaces the run's end; ``lr_scale`` multiplies its learning rates from here on
    (cumulative: the config records the product). Both are written to config.json.
    """
    ctx = DistContext.detect()
    run, writes = RunFolder(run_dir), ctx.is_main
    cfg = run.read_config()
    changes = {}
    if max_kimg is not None:
        changes["max_kimg"] = max_kimg
    if lr_scale is not None:
        changes["lr_scale"] = cfg.lr_scale * lr_scale
    cfg = cfg.replace(**changes)
    problems = config_messages(cfg) if changes else []
    if not problems and cfg.metric_kind == "fid" and cfg.metric_kimg > 0:
        from ..analysis import inception     # before training, not at the first metric tick
        if not inception.available():
            problems = [f"this run computes FID/KID every {cfg.metric_kimg:g} kimg; {inception.INSTALL_HINT}"]
    if cfg.non_finite_fields() and not problems:     # e.g. a NaN an older pgstudio let through
        problems = [f"{run.config_path} holds {', '.join(cfg.non_finite_fields())} that are not finite "
                    "numbers; give the value again (e.g. --max-kimg)"]
    if problems:
        raise ValueError("; ".join(problems))
    lock = RunLock.acquire(run.path, take_over=take_over) if writes else None
    try:
        notes = [lock.took_over] if lock is not None and lock.took_over else []
        if writes:
            notes += run.repair_torn_tails()
        state, path, skipped = newest_good_checkpoint(run, checkpoint)
        notes += [f"skipped unusable checkpoint {bad.name}: {why}" for bad, why in skipped]
        if dataset is None:
            dataset = load_dataset(cfg.data, cfg.demo, cfg.resolution, cfg.mode, cfg.channels)
        if cfg.class_names:            # by the names the run stored, not by today's listing
            dataset = match_classes(dataset, cfg.class_names, cfg.data or "the data set")
        moved = changed_folder_note(cfg, len(dataset))
        if moved:
            notes.append(moved)
        if lr_scale is not None:
            notes.append(f"learning rates scaled by {lr_scale:g} from here on (lr_scale {cfg.lr_scale:g})")
        kimg = state["images_seen"] / 1000.0
        if writes:
            if changes:
                run.write_config(cfg)
            if checkpoint is not None and Path(checkpoint).resolve().parent == run.checkpoints_dir.resolve():
                for moved in run.discard_checkpoints_after(int(state["images_seen"])):
                    notes.append(f"resuming from an earlier checkpoint: {moved.name} moved to checkpoints/discarded/")
            run.unusable_lines.clear()
            run.truncate_metrics_after(kimg)
            run.truncate_samples_after(kimg)
            notes += run.unusable_lines          # dropped from the rewritten files: say which
            if lr_scale is not None:
                run.append_metrics({"kind": "event", "event": "lr_scale", "kimg": round(kimg, 3),
                                    "factor": lr_scale, "lr_scale": cfg.lr_scale})
        notes.append(f"resumed from {path.name} at {kimg:.3f} kimg")
        ctx.barrier()
        return OpenedRun(run, cfg, dataset, writes, lock, state, notes)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
