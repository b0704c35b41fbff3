"""Closing a tick: the non-finite check, the stall check, the typed tick record, the ETA, and the
MS-SWD the loop asks for at its interval."""
from __future__ import annotations

import torch

from ..analysis.inception_metrics import inception_record
from ..analysis.metrics import swd_of_generator
from ..config import STALL_FRACTION
from ..storage.records import TickRecord
from .events import TickEvent
from .health import NonFiniteTraining, StallWatch
from .schedule import SchedulePoint, estimate_seconds, total_kimg


class TickReporter:
    def __init__(self, trainer, stalls: StallWatch):
        self.t, self.stalls = trainer, stalls
        self._speed: dict[int, float] = {}        # resolution → smoothed img/s, for the ETA
        self._swd_floor: dict[int, float] = {}    # resolution → the reals' own MS-SWD
        self._real_features: dict = {}             # the reals' Inception features at the current resolution

    def close(self, pt: SchedulePoint, tick_images: int, tick_seconds: float) -> TickRecord | None:
        t = self.t
        if t.stats.count("loss_d") == 0:
            return None
        where = f" ({pt.resolution}x{pt.resolution}, kimg {t.images_seen / 1000:.3f})"
        problem = t.monitor.problem(t.step, where, t.dist)   # every rank stops at the same tick
        if problem:
            raise NonFiniteTraining(f"{problem}; training stopped{t.advice()}")
        changed = self.stalls.changed()
        means = t.stats.means(t.dist)      # no loss_g in a tick of D-only steps (n_critic): G's last
        img_s = tick_images / tick_seconds if tick_seconds > 0 else 0.0
        tick = TickRecord(
            kimg=round(t.images_seen / 1000.0, 3), step=t.step, wall_s=round(t.clock.wall_s, 3),
            resolution=pt.resolution, alpha=round(pt.alpha, 4), phase=pt.phase, batch=pt.batch,
            micro_batches=t.accum.get(pt.resolution, 1), lr=pt.lr, loss_d=means["loss_d"], loss_g=means.get("loss_g", t.last_stats.get("loss_g", 0.0)),
            penalty=means["penalty"], img_per_s=round(img_s, 2),
            sec_per_kimg=round(1000.0 / img_s, 3) if img_s else None, device=t.device.type,
            precision=t.precision, ram_mb=_ram_mb(), weights_changed={k: round(v, 4) for k, v in changed.items()},
            stalled=tuple(sorted(k for k, v in changed.items() if v < STALL_FRACTION)),
            family_stats=t.recipe.tick_fields(means),
            gpu_mem_mb=(round(torch.cuda.max_memory_allocated(t.device) / 2**20, 1)
                        if t.device.type == "cuda" else None))
        record = tick.to_dict()
        t.out.record(record)
        for line in self.stalls.transitions(changed, list(tick.stalled), tick.kimg):
            t.out.log(line)
        t.last_stats = {"loss_d": tick.loss_d, "loss_g": tick.loss_g, "alpha": pt.alpha, "phase": pt.phase,
                        "resolution": pt.resolution, "kimg": tick.kimg}
        if img_s > 0:   # smoothed speed per resolution feeds a schedule-aware ETA
            old = self._speed.get(pt.resolution)
            self._speed[pt.resolution] = img_s if old is None else 0.7 * old + 0.3 * img_s
        est = estimate_seconds(t.cfg, self._speed, tick.kimg)
        t.out.log_only(f"tick kimg {tick.kimg:.1f} res {pt.resolution} α {pt.alpha:.2f} {pt.phase} "
                       f"batch {pt.batch} loss_d {tick.loss_d:.4f} loss_g {tick.loss_g:.4f} {img_s:.0f} img/s")
        t.out.emit(TickEvent(record, total_kimg(t.cfg), est[0] if est else None))
        return tick

    def metric(self, pt: SchedulePoint) -> dict:
        """The run's training metric (config metric_kind) of the EMA generator, as its record."""
        return self.fid(pt) if self.t.cfg.metric_kind == "fid" else self.swd(pt)

    @staticmethod
    def headline(record: dict) -> dict:
        """The figures of a metric record that checkpoints keep in their stats."""
        if record["kind"] == "fid":
            return {"fid": record["fid"], "kid": record["kid"]}
        return {"swd": record["mean"]}

    @torch.no_grad()
    def fid(self, pt: SchedulePoint) -> dict:
        """FID and KID of the EMA generator against the reals at this resolution, with their floor
        (the reals' features computed once per resolution)."""
        t = self.t
        record = inception_record(t.G_ema, pt.level, pt.alpha, t.dataset.levels[pt.resolution], t.cfg.metric_n,
                                  seed=t.cfg.seed + 7, labels=t.dataset.labels if t.cfg.class_names else None,
                                  device=t.device, reals_cache=self._real_features, noise=t.cfg.metric_noise)
        record.update({"kind": "fid", "kimg": round(t.images_seen / 1000.0, 3)})
        return record

    @torch.no_grad()
    def swd(self, pt: SchedulePoint) -> dict:
        """The EMA generator's MS-SWD against the reals at this resolution (the floor once per resolution)."""
        t = self.t
        need_floor = pt.resolution not in self._swd_floor
        labels = t.dataset.labels if t.cfg.class_names else None
        if t.cfg.metric_split == "fixed":     # one n, one set of reals, one floor for every point
            record = swd_of_generator(t.G_ema, pt.level, pt.alpha, t.dataset.levels[pt.resolution], t.cfg.metric_n,
                                      seed=t.cfg.seed + 7, with_floor=True, labels=labels,
                                      known_floor=self._swd_floor.get(pt.resolution), noise=t.cfg.metric_noise)
        else:                                 # as runs from before metric_split scored
            record = swd_of_generator(t.G_ema, pt.level, pt.alpha, t.dataset.levels[pt.resolution], t.cfg.metric_n,
                                      seed=t.cfg.seed + 7, with_floor=need_floor, labels=labels,
                                      noise=t.cfg.metric_noise)
        if need_floor:
            self._swd_floor[pt.resolution] = record["floor"]
        record.update({"kind": "swd", "kimg": round(t.images_seen / 1000.0, 3), "floor": self._swd_floor[pt.resolution]})
        return record


def _ram_mb() -> float | None:
    try:
        import psutil
        return round(psutil.Process().memory_info().rss / 2**20, 1)
    except Exception:
        return None
