"""How to get past a blow-up, as a command that works.

Training on the CPU is deterministic, so resuming with the same settings meets the same step
again: the advice halves the learning rate (cumulatively, on each repeat). It also steps back: a
blow-up builds up over a few steps, and a checkpoint saved less than a tick before the tick that
went bad is often already on its way (measured: Adam's second moment at 1e37, a factor 30 from
fp32's limit, where the one a tick earlier held 1e22 and resumed fine at half the rate). When a
run that already followed such advice blows up again, the step back doubles, so repeating the
advice reaches a healthy state in a few tries.
"""
from __future__ import annotations

from pathlib import Path

from ..config import ADVISED_LR_SCALE
from ..storage.runfolder import RunFolder


def last_lowered_rate_resume(run: RunFolder) -> int | None:
    """Images seen where this run was last resumed with a lowered learning rate, if ever."""
    try:
        records, _ = run.read_metrics()
    except OSError:
        return None
    points = [r["kimg"] for r in records if r.get("kind") == "event" and r.get("event") == "lr_scale" and "kimg" in r]
    return int(round(points[-1] * 1000)) if points else None


def recovery_advice(run: RunFolder, tick_kimg: float, tick_start_images: int,
                    saved: list[tuple[int, Path]], newest_note: str) -> str:
    """The end of a blow-up's message: nothing was saved, and the resume command to try."""
    tick = max(1, int(tick_kimg * 1000))
    back = tick
    resumed_at = last_lowered_rate_resume(run)
    if resumed_at is not None and resumed_at <= tick_start_images:
        back = max(tick, 2 * (tick_start_images - resumed_at))
    safe = [(n, p) for n, p in saved if n <= tick_start_images - back]
    command = f"pgstudio resume {run.path}"
    if safe and safe[-1] != saved[-1]:
        command += f" --checkpoint {safe[-1][1]}"
    elif not safe and saved:
        command += f" --checkpoint {saved[0][1]}"
    return (f"; nothing from it was saved{newest_note}. To get past it, resume with a lower "
            f"learning rate: {command} --lr-scale {ADVISED_LR_SCALE:g}")
