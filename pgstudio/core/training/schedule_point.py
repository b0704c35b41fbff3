"""Where a run stands in its schedule: a phase of it and a point in it (plain records, so that
recipes and steps can take them without importing the schedule, which asks the family registry
whether a run grows)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phase:
    index: int
    level: int            # log2(resolution)
    resolution: int
    kind: str             # "stabilize" or "fade"
    start_kimg: float
    end_kimg: float       # math.inf for the last phase


@dataclass(frozen=True)
class SchedulePoint:
    kimg: float
    level: int
    resolution: int
    alpha: float          # 1 outside fades
    phase: str
    phase_index: int
    batch: int
    lr: float
    lod: float            # official level of detail: 0 = full resolution, fractional in fades
