"""The training schedule as a pure function of images seen (after the official PGGAN).

Phases: stabilize at 4x4, then for every doubling a fade phase (α rises 0→1 while the new
block blends in) followed by a stabilize phase. The final stabilize phase runs on until the
run stops. Because it depends on nothing but the image count, a run resumes anywhere and a
plot can preview the whole run before it starts.

A run started from a trained progressive model (transfer.py) begins part-way along its schedule:
``cfg.schedule_offset_kimg`` shifts every phase back by that much, so the kimg axis stays the
images this run trained (the first phase may then have begun before 0, which keeps α right
in a fade entered half-way).
"""
from __future__ import annotations

import math

from ..config import TrainConfig
from ..families import family
from .schedule_point import Phase, SchedulePoint


def phases(cfg: TrainConfig) -> list[Phase]:
    """The run's phases on its own kimg axis (shifted by the schedule offset, if any)."""
    offset = cfg.schedule_offset_kimg
    full = full_phases(cfg)
    if not offset:
        return full
    kept = [p for p in full if p.end_kimg > offset]
    return [Phase(i, p.level, p.resolution, p.kind, p.start_kimg - offset, p.end_kimg - offset)
            for i, p in enumerate(kept)]


def full_phases(cfg: TrainConfig) -> list[Phase]:
    """The schedule from 4x4, as a run from scratch trains it."""
    top = int(math.log2(cfg.resolution))
    if not family(cfg.arch).grows:      # no growing: one phase at full resolution
        return [Phase(0, top, cfg.resolution, "stabilize", 0.0, math.inf)]
    out = [Phase(0, 2, 4, "stabilize", 0.0, cfg.stabilize_kimg)]
    t = cfg.stabilize_kimg
    for level in range(3, top + 1):
        out.append(Phase(len(out), level, 2 ** level, "fade", t, t + cfg.fade_kimg))
        t += cfg.fade_kimg
        out.append(Phase(len(out), level, 2 ** level, "stabilize", t, t + cfg.stabilize_kimg))
        t += cfg.stabilize_kimg
    last = out[-1]
    out[-1] = Phase(last.index, last.level, last.resolution, last.kind, last.start_kimg, math.inf)
    return out


def schedule_length_kimg(cfg: TrainConfig) -> float:
    """kimg at which the last stabilize phase has had its full length.

    A StyleGAN2 run gets the same image budget as the progressive schedule at its resolution,
    so the two families compare at equal cost in images by default.
    """
    top = int(math.log2(cfg.resolution))
    full = cfg.stabilize_kimg + (top - 2) * (cfg.fade_kimg + cfg.stabilize_kimg)
    # a run started part-way trains the rest; one started at the top level (the offset is a
    # phase start, so at most the last stabilize phase's) one stabilize phase there
    return full - cfg.schedule_offset_kimg


def total_kimg(cfg: TrainConfig) -> float:
    return float(cfg.max_kimg) if cfg.max_kimg is not None else schedule_length_kimg(cfg)


def schedule_at(cfg: TrainConfig, images_seen: int) -> SchedulePoint:
    kimg = images_seen / 1000.0
    phase = next(p for p in phases(cfg) if kimg < p.end_kimg)
    alpha = 1.0
    if phase.kind == "fade":
        alpha = min(max((kimg - phase.start_kimg) / (phase.end_kimg - phase.start_kimg), 0.0), 1.0)
    top = int(math.log2(cfg.resolution))
    return SchedulePoint(kimg=kimg, level=phase.level, resolution=phase.resolution, alpha=alpha,
                         phase=phase.kind, phase_index=phase.index,
                         batch=cfg.batch_at(phase.resolution), lr=cfg.lr_at(phase.resolution),
                         lod=top - phase.level + (1.0 - alpha))


def preview(cfg: TrainConfig, points: int = 400) -> dict[str, list[float]]:
    """kimg, resolution and α sampled over the whole run, for plots drawn before training."""
    end = total_kimg(cfg)
    ks = [end * i / (points - 1) for i in range(points)]
    # add the phase boundaries so steps and ramps are drawn sharply
    ks = sorted(set(ks) | {p.start_kimg for p in phases(cfg) if 0 <= p.start_kimg <= end})
    pts = [schedule_at(cfg, int(round(k * 1000))) for k in ks]
    return {"kimg": ks, "resolution": [p.resolution for p in pts], "alpha": [p.alpha for p in pts]}


def relative_cost(cfg: TrainConfig, resolution: int) -> float:
    """Convolution work per image up to ``resolution`` (G and D mirror each other)."""
    total = 0.0
    for level in range(2, int(math.log2(resolution)) + 1):
        width = max(1, min(cfg.fmap_base // 2 ** (level - 1), cfg.fmap_max))
        total += 4 ** level * width ** 2
    return total


def estimate_seconds(cfg: TrainConfig, throughput: dict[int, float], from_kimg: float = 0.0
                     ) -> tuple[float, bool] | None:
    """Time from ``from_kimg`` to the end from img/s per resolution: (seconds, extrapolated?).

    Resolutions not measured yet are extrapolated from the nearest measured one by the ratio of
    convolution work per image, Σ pixels x width² over the active blocks.
    """
    if not throughput:
        return None
    known = sorted(throughput)
    end = total_kimg(cfg)
    total, extrapolated = 0.0, False
    for p in phases(cfg):
        kimg = max(0.0, min(p.end_kimg, end) - max(p.start_kimg, from_kimg))
        if kimg <= 0:
            continue
        if p.resolution in throughput:
            speed = throughput[p.resolution]
        else:
            near = min(known, key=lambda r: abs(math.log2(r) - math.log2(p.resolution)))
            speed = throughput[near] * relative_cost(cfg, near) / relative_cost(cfg, p.resolution)
            extrapolated = True
        total += kimg * 1000 / max(speed, 1e-6)
    return total, extrapolated


def resets_optimizer(cfg: TrainConfig, last: SchedulePoint, now: SchedulePoint) -> bool:
    """Whether Adam starts afresh between two steps: where the official code does (reset_opt_for_new_lod:
    floor(lod) changes at a fade's start, ceil(lod) at its end) for "lod", at a fade's start only for
    "growth" (runs written before the key with reset_optimizer_at_growth), never for "never"."""
    grows = now.level != last.level
    ends_fade = not grows and last.phase == "fade" and now.phase == "stabilize"
    return (grows and cfg.reset_optimizer in ("lod", "growth")) or (ends_fade and cfg.reset_optimizer == "lod")
