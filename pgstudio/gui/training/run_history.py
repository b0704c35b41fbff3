"""Everything the training page draws, accumulated from tick/metric records and sample entries.

Fed either by a live trainer (through the mailbox) or by reading a run folder; no Qt here, so
the same history can be rebuilt and tested anywhere.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from ...core.config import ADVISED_LR_SCALE, STALL_FRACTION
from ...core.storage.records import MODEL_CURVES, TickRecord


@dataclass
class PhaseSpan:
    kind: str
    resolution: int
    start_kimg: float
    end_kimg: float
    start_wall: float
    end_wall: float


@dataclass
class RunHistory:
    kimg: list = field(default_factory=list)
    wall: list = field(default_factory=list)
    loss_d: list = field(default_factory=list)
    loss_g: list = field(default_factory=list)
    alpha: list = field(default_factory=list)
    resolution: list = field(default_factory=list)
    img_per_s: list = field(default_factory=list)
    phase: list = field(default_factory=list)
    penalty: list = field(default_factory=list)       # GP or R1 as trained (per-step contribution)
    pl_penalty: list = field(default_factory=list)    # StyleGAN2 only; NaN where absent
    pl_mean: list = field(default_factory=list)
    augment_p: list = field(default_factory=list)     # the augmentation's p and ADA's r_t; NaN where absent
    augment_rt: list = field(default_factory=list)
    augment_rv: list = field(default_factory=list)     # ADA's r_v (runs that hold images out for it)
    augment_target: list = field(default_factory=list)  # the adaptive signal's target
    ada_signal: str | None = None                    # an adaptive run's signal (config), when known
    model_stats: dict = field(default_factory=dict)   # a family's own curves (records.MODEL_CURVES); NaN where absent
    swd_kimg: list = field(default_factory=list)
    swd_mean: list = field(default_factory=list)
    swd_wall: list = field(default_factory=list)
    fid_kimg: list = field(default_factory=list)      # FID/KID records (metric_kind "fid" or the Checkpoints page)
    fid_wall: list = field(default_factory=list)
    fid: list = field(default_factory=list)
    fid_floor: list = field(default_factory=list)
    kid: list = field(default_factory=list)
    kid_floor: list = field(default_factory=list)
    fid_n: list = field(default_factory=list)         # images per set of each FID/KID point
    samples: list = field(default_factory=list)       # SampleEntry-like: file/kimg/resolution/alpha/phase/path
    stalled_since: dict = field(default_factory=dict)  # network → kimg of the first tick of its current stall
    ending: dict | None = None                        # the "finished"/"failed" event that ends the history
    last_tick: dict | None = None
    version: int = 0                                  # bumps on every change; views redraw when it moves

    def add_tick(self, r: dict) -> None:
        tick = TickRecord.from_dict(r)
        if self.kimg and tick.kimg <= self.kimg[-1]:
            return                                   # duplicate (e.g. a live event also read from disk)
        if self.ending is not None and tick.kimg > self.ending["kimg"]:
            self.ending = None                       # trained on after it: resumed since
        self.kimg.append(float(tick.kimg))
        self.wall.append(float(tick.wall_s or 0.0))
        self.loss_d.append(float(tick.loss_d))
        self.loss_g.append(float(tick.loss_g))
        self.alpha.append(float(tick.alpha))
        self.resolution.append(int(tick.resolution))
        self.img_per_s.append(float(tick.img_per_s or 0.0))
        self.phase.append(tick.phase)
        self.penalty.append(float(tick.penalty or 0.0))
        self.pl_penalty.append(tick.number("pl_penalty"))
        self.pl_mean.append(tick.number("pl_mean"))
        self.augment_p.append(tick.number("augment_p"))
        for name in MODEL_CURVES:
            self.model_stats.setdefault(name, [math.nan] * (len(self.kimg) - 1)).append(tick.number(name))
        self.augment_rt.append(tick.number("augment_rt"))
        self.augment_rv.append(tick.number("augment_rv"))
        self.augment_target.append(tick.number("augment_target"))
        self.stalled_since = {name: self.stalled_since.get(name, float(tick.kimg)) for name in tick.stalled}
        self.last_tick = r
        self.version += 1

    def add_metric(self, r: dict) -> None:
        """An MS-SWD point, kept in kimg order: the Checkpoints page scores old checkpoints, so
        records arrive out of order; the same point twice (a live event also read back) is one."""
        if r.get("kind") != "swd":
            return
        kimg, mean = float(r["kimg"]), float(r["mean"])
        i = bisect.bisect_left(self.swd_kimg, kimg)
        while i < len(self.swd_kimg) and self.swd_kimg[i] == kimg:
            if self.swd_mean[i] == mean:
                return
            i += 1
        self.swd_kimg.insert(i, kimg)
        self.swd_mean.insert(i, mean)
        self.swd_wall.insert(i, self.wall_at(kimg))
        self.version += 1

    def add_fid(self, r: dict) -> None:
        """An FID/KID point, in kimg order like MS-SWD's; the same point twice is one."""
        kimg = float(r["kimg"])
        i = bisect.bisect_left(self.fid_kimg, kimg)
        while i < len(self.fid_kimg) and self.fid_kimg[i] == kimg:
            if self.fid[i] == float(r["fid"]):
                return
            i += 1
        for series, value in ((self.fid_kimg, kimg), (self.fid_wall, self.wall_at(kimg)), (self.fid, r["fid"]),
                              (self.fid_floor, r.get("floor_fid")), (self.kid, r["kid"]),
                              (self.kid_floor, r.get("floor_kid")), (self.fid_n, r.get("n"))):
            series.insert(i, float("nan") if value is None else float(value))
        self.version += 1

    @property
    def shows_quality(self) -> bool:
        return bool(self.fid_kimg)

    def add_record(self, r: dict) -> None:
        if r.get("kind") == "tick":
            self.add_tick(r)
        elif r.get("kind") == "swd":
            self.add_metric(r)
        elif r.get("kind") == "fid":
            self.add_fid(r)
        elif r.get("kind") == "event" and r.get("event") in ("finished", "failed"):
            self.ending = r
            self.version += 1

    def add_sample(self, entry) -> None:
        if self.samples and entry.kimg <= self.samples[-1].kimg and entry.file == self.samples[-1].file:
            return
        if any(s.file == entry.file for s in self.samples[-3:]):
            return
        self.samples.append(entry)
        self.version += 1

    def warning(self) -> str | None:
        """What the run's newest ticks say is wrong (a stalled network), in words; None when nothing."""
        if not self.stalled_since:
            return None
        names = sorted(self.stalled_since)
        since = min(self.stalled_since.values())
        who = " and the ".join(names)
        their = "its" if len(names) == 1 else "their"
        return (f"⚠ The {who} stopped learning at {since:.2f} kimg: almost none of {their} weights change from "
                f"tick to tick (under {STALL_FRACTION:.0%}). Resume an earlier checkpoint with lower learning rates "
                f"(Checkpoints page: learning rates × {ADVISED_LR_SCALE:g}, or pgstudio resume RUN --checkpoint "
                f"CKPT --lr-scale {ADVISED_LR_SCALE:g}).")

    @property
    def shows_regularisers(self) -> bool:
        """Whether the ticks carry a family's regulariser curves (StyleGAN2's path length)."""
        return bool(self.pl_mean) and not np.isnan(self.pl_mean[-1])

    @property
    def shows_model_stats(self) -> bool:
        """Whether the newest tick carries a family's own curves (the classic family's D scores)."""
        return any(values and not np.isnan(values[-1]) for values in self.model_stats.values())

    @property
    def follows_rv(self) -> bool:
        """Whether p follows r_v (the run holds images out for it) rather than r_t: the run's
        configured signal when known (from its first tick on, before r_v's first value), else
        whether its ticks carry r_v."""
        if self.ada_signal is not None:
            return self.ada_signal == "rv"
        return any(not np.isnan(v) for v in self.augment_rv)

    @property
    def shows_augmentation(self) -> bool:
        """Whether the run augments what D sees (its ticks carry p)."""
        return bool(self.augment_p) and not np.isnan(self.augment_p[-1])

    def wall_at(self, kimg: float) -> float:
        if not self.kimg:
            return 0.0
        return float(np.interp(kimg, self.kimg, self.wall))

    def phase_spans(self) -> list[PhaseSpan]:
        """Contiguous runs of (phase, resolution) in the tick history."""
        spans: list[PhaseSpan] = []
        prev_k, prev_w = 0.0, 0.0
        for k, w, ph, res in zip(self.kimg, self.wall, self.phase, self.resolution):
            if spans and spans[-1].kind == ph and spans[-1].resolution == res:
                spans[-1].end_kimg, spans[-1].end_wall = k, w
            else:
                spans.append(PhaseSpan(ph, res, prev_k, k, prev_w, w))
            prev_k, prev_w = k, w
        return spans

    def last_sample_per_resolution(self) -> dict[int, object]:
        out = {}
        for s in self.samples:
            out[s.resolution] = s
        return out

    def throughput_by_resolution(self) -> dict[int, float]:
        """Median img/s per resolution, for run-time estimates."""
        by: dict[int, list[float]] = {}
        for res, v in zip(self.resolution, self.img_per_s):
            if v > 0:
                by.setdefault(res, []).append(v)
        return {r: float(np.median(v)) for r, v in by.items()}

    def to_csv(self) -> str:
        lines = ["kimg,wall_s,resolution,alpha,phase,loss_d,loss_g,img_per_s,penalty,pl_penalty,pl_mean,"
                 "augment_p,augment_rt,augment_rv"]
        for row in zip(self.kimg, self.wall, self.resolution, self.alpha, self.phase, self.loss_d,
                       self.loss_g, self.img_per_s, self.penalty, self.pl_penalty, self.pl_mean, self.augment_p,
                       self.augment_rt, self.augment_rv):
            lines.append(",".join(str(v) for v in row))
        return "\n".join(lines) + "\n"


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard-style debiased exponential moving average."""
    if weight <= 0 or len(values) == 0:
        return values
    out = np.empty_like(values, dtype=float)
    acc, norm = 0.0, 0.0
    for i, v in enumerate(values):
        acc = acc * weight + (1 - weight) * v
        norm = norm * weight + (1 - weight)
        out[i] = acc / norm
    return out
