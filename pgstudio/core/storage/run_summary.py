"""One line per run folder for the Runs page, the curves to overlay, and settings side by side.

Everything is read from the folders (config.json, metrics.jsonl, samples/index.jsonl, notes.json,
the lock), so the page shows what any process wrote, and opening a folder never writes to it.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from ..config import TrainConfig
from .annotations import Annotations, read_annotations
from .run_status import ended_state, newest_checkpoint_images
from .runfolder import RunFolder, RunFolderError

# the tick curves the Runs page overlays: record key → what people call it
CURVES = {"loss_d": "D loss", "loss_g": "G loss", "swd": "MS-SWD ×1000", "fid": "FID", "kid": "KID ×1000",
          "img_per_s": "img/s", "augment_p": "augment p", "augment_rv": "ADA r_v", "penalty": "penalty (R1 / GP)"}
METRIC_CURVES = ("swd", "fid", "kid")       # from metric records, not ticks: drawn as points


@dataclass(frozen=True)
class RunSummary:
    path: Path
    family: str
    resolution: int
    data: str
    kimg: float
    wall_s: float
    status: str                    # running, completed, stopped, failed, fresh
    status_text: str
    latest_swd: float | None
    best_swd: float | None
    newest_grid: Path | None
    annotations: Annotations
    config: dict
    latest_fid: float | None = None            # from "fid" records (the training metric or a scoring)
    best_fid: float | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def line(self) -> str:
        """'run-1  —  progressive 32², 180.0 kimg, completed' (the File menu's recent runs)."""
        return f"{self.name}  —  {self.family} {self.resolution}², {self.kimg:.1f} kimg, {self.status}"


def find_runs(folder: str | os.PathLike) -> list[Path]:
    """The run folders in ``folder`` (its children holding a config.json), by name; the folder
    itself when it is a run."""
    root = Path(folder).expanduser()
    if RunFolder(root).is_run():
        return [root]
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:
        return []
    return [p for p in children if RunFolder(p).is_run()]


def _data_name(cfg: TrainConfig) -> str:
    return "demo (emoji)" if cfg.demo else Path(cfg.data or "").name or "?"


def summarize(path: str | os.PathLike) -> RunSummary:
    """RunFolderError when ``path`` is not a readable run."""
    run = RunFolder(path)
    cfg = run.read_config()
    records, _ = run.read_metrics()
    ticks = [r for r in records if r.get("kind") == "tick"]
    swd = sorted((r for r in records if r.get("kind") == "swd"), key=lambda r: r["kimg"])
    fid = sorted((r for r in records if r.get("kind") == "fid" and "fid" in r), key=lambda r: r["kimg"])
    endings = [r for r in records if r.get("kind") == "event" and r.get("event") in ("finished", "failed")]
    ckpts = run.checkpoints()
    if run.active_trainer_pid() is not None:
        status, words = "running", "a trainer is writing this run"
    else:
        status, words = ended_state(cfg, endings[-1] if endings else None, newest_checkpoint_images(ckpts))
    try:
        samples, _ = run.read_samples()
    except OSError:
        samples = []
    grid = samples[-1].path if samples and samples[-1].path.exists() else None
    last = ticks[-1] if ticks else {}
    return RunSummary(run.path, cfg.arch, cfg.resolution, _data_name(cfg), float(last.get("kimg", 0.0)),
                      float(last.get("wall_s", 0.0)), status, words,
                      float(swd[-1]["mean"]) if swd else None,
                      min(float(r["mean"]) for r in swd) if swd else None, grid,
                      read_annotations(run.path), cfg.to_dict(),
                      float(fid[-1]["fid"]) if fid else None, min(float(r["fid"]) for r in fid) if fid else None)


def summaries(paths) -> tuple[list[RunSummary], list[tuple[Path, str]]]:
    """Summaries of the readable runs, and (path, why) for each that could not be read."""
    good, bad = [], []
    for p in paths:
        try:
            good.append(summarize(p))
        except (RunFolderError, OSError, ValueError) as exc:
            bad.append((Path(p), str(exc)))
    return good, bad


def run_curves(path: str | os.PathLike) -> dict[str, tuple[list, list, list]]:
    """Curve name → (kimg, wall seconds, values) for each of CURVES the run has points of."""
    records, _ = RunFolder(path).read_metrics()
    ticks = [r for r in records if r.get("kind") == "tick"]
    out: dict[str, tuple[list, list, list]] = {}
    for key in CURVES:
        if key in METRIC_CURVES:
            continue
        points = [(t["kimg"], t.get("wall_s", math.nan), t[key]) for t in ticks
                  if isinstance(t.get(key), (int, float)) and not isinstance(t.get(key), bool)]
        if points:
            out[key] = tuple(map(list, zip(*points)))
    swd = sorted((r for r in records if r.get("kind") == "swd"), key=lambda r: r["kimg"])
    if swd:
        wall = [_wall_at(ticks, r["kimg"]) for r in swd]
        out["swd"] = ([r["kimg"] for r in swd], wall, [r["mean"] for r in swd])
    fid = sorted((r for r in records if r.get("kind") == "fid" and "fid" in r), key=lambda r: r["kimg"])
    if fid:
        wall = [_wall_at(ticks, r["kimg"]) for r in fid]
        out["fid"] = ([r["kimg"] for r in fid], wall, [r["fid"] for r in fid])
        out["kid"] = ([r["kimg"] for r in fid], wall, [1000 * r["kid"] for r in fid])
    return out


def _wall_at(ticks: list[dict], kimg: float) -> float:
    """Wall time of the tick nearest at or before ``kimg`` (a metric record carries none)."""
    best = math.nan
    for t in ticks:
        if t["kimg"] <= kimg + 1e-9:
            best = t.get("wall_s", math.nan)
        else:
            break
    return best


def setting_rows(configs: list[dict]) -> list[tuple[str, list, bool]]:
    """(setting, value per run, whether they differ) for every setting any of the runs has, the
    differing ones first; a setting a run's config lacks reads as None."""
    keys = sorted({k for c in configs for k in c})
    rows = [(k, [c.get(k) for c in configs], len({repr(c.get(k)) for c in configs}) > 1) for k in keys]
    return sorted(rows, key=lambda row: not row[2])
