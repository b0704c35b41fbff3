"""The typed records of a run folder, each declared once.

- ``TickRecord``: a metrics.jsonl "tick" line, written by the trainer and read by the run
  history, the CSV export, the status bar and the CLI's progress line. Its dict form is exactly
  the line pgstudio has always written (keys are added, never renamed); lines from older runs
  lack some keys, which read as None.
- ``SchedulePosition``: where a checkpoint stands in its run's schedule (kimg, level, α, phase,
  family), read from the checkpoint in one place.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields


# curves a family's ticks may carry beside the shared ones (family_stats), with what to call them
MODEL_CURVES = {           # short: the Training page lists them on one line above the curves
    "d_real": "D(reals)",            # the mean score; an autoencoder D's (EBGAN, BEGAN): its energy
    "d_fake": "D(fakes)",
    "w_distance": "W estimate",      # a Wasserstein critic's estimate of the distance
    "k_t": "k_t",
    "m_global": "M_global",
    "mi_bound": "MI bound (nats)",
    "pulling_away": "pulling-away",
}


@dataclass(frozen=True)
class TickRecord:
    kimg: float
    step: int
    wall_s: float
    resolution: int
    alpha: float
    phase: str
    batch: int
    micro_batches: int
    lr: float
    loss_d: float
    loss_g: float
    penalty: float
    img_per_s: float
    sec_per_kimg: float | None
    device: str
    precision: str
    ram_mb: float | None
    weights_changed: dict = field(default_factory=dict)     # network → share of its weights that moved
    stalled: tuple = ()                                     # networks under the stall threshold
    family_stats: dict = field(default_factory=dict)        # the recipe's own curves: path length, augmentation
    gpu_mem_mb: float | None = None                         # CUDA only
    kind: str = "tick"

    def to_dict(self) -> dict:
        out = {"kind": self.kind}
        for f in fields(self):
            if f.name in ("kind", "family_stats", "gpu_mem_mb"):
                continue
            value = getattr(self, f.name)
            out[f.name] = list(value) if f.name == "stalled" else value
        out.update(self.family_stats)
        if self.gpu_mem_mb is not None:
            out["gpu_mem_mb"] = self.gpu_mem_mb
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "TickRecord":
        """A tick line as read; any key an older pgstudio did not write reads as None."""
        names = {f.name for f in fields(cls)}
        values = {k: d.get(k) for k in names if k not in ("family_stats", "kind")}
        changed, stalled = d.get("weights_changed"), d.get("stalled")
        values["weights_changed"] = dict(changed) if isinstance(changed, dict) else {}
        values["stalled"] = tuple(stalled) if isinstance(stalled, (list, tuple)) else ()
        values["family_stats"] = {k: v for k, v in d.items() if k not in names}
        return cls(**values)

    def number(self, name: str) -> float:
        """A curve's value (a field or a family statistic), NaN where the line has none."""
        value = getattr(self, name) if name in self.__dataclass_fields__ else self.family_stats.get(name)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


@dataclass(frozen=True)
class SchedulePosition:
    """Where a checkpoint's generator stands: what it was trained to render when saved."""
    kimg: float
    level: int
    alpha: float
    phase: str
    family: str

    @property
    def resolution(self) -> int:
        return 2 ** self.level

    @classmethod
    def of_checkpoint(cls, state: dict) -> "SchedulePosition":
        from ..families import family_of
        stats = state.get("stats", {})
        return cls(kimg=float(state["images_seen"]) / 1000.0, level=int(state["level"]),
                   alpha=float(stats.get("alpha", 1.0)), phase=str(stats.get("phase", "stabilize")),
                   family=family_of(state.get("architecture", {})).name)

    @classmethod
    def of_export(cls, meta: dict) -> "SchedulePosition":
        """The same, from a generator export's generator.json."""
        from ..families import family_of
        return cls(kimg=float(meta.get("kimg", 0.0)), level=int(meta["level"]), alpha=float(meta["alpha"]),
                   phase=str(meta.get("phase", "stabilize")), family=family_of(meta.get("architecture", {})).name)

    def describe(self) -> str:
        fade = f", α {self.alpha:.2f}" if self.alpha < 1.0 else ""
        return f"{self.kimg:.1f} kimg, {self.resolution}x{self.resolution} {self.phase}{fade}"
