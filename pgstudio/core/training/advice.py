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


# a folder this small is a mistake more often than a choice (a wrong folder, a filter that matched
# three files): training waits for a yes. 1 % of the images shown, capped at 1,000 images: the cap
# keeps the rule from flagging ordinary data sets on long schedules (FFHQ's 70,000 images are 0.3 %
# of the 25 M a StyleGAN2 run shows), where each image is seen hundreds of times by design
FEW_IMAGES_SHARE = 0.01
FEW_IMAGES_CAP = 1000


def small_data_warning(cfg, n_images: int) -> str | None:
    """Why ``n_images`` are too few for this run, in words that say how many were found; None when
    they are enough."""
    from .schedule import phases, total_kimg
    resolutions = sorted({p.resolution for p in phases(cfg)}) or [cfg.resolution]
    batch = max(cfg.batch_at(r) for r in resolutions)
    shown = total_kimg(cfg) * 1000
    enough = min(FEW_IMAGES_SHARE * shown, FEW_IMAGES_CAP)
    where = "the demo set" if cfg.demo else (cfg.data or "the folder")
    if n_images < batch:
        why = f"fewer than one minibatch ({batch} images)"
    elif n_images < enough:
        why = f"fewer than {enough:,.0f} (1 % of the {shown:,.0f} images the run will show, at most 1,000)"
    else:
        return None
    times = shown / max(n_images, 1)
    return (f"Only {n_images:,} image{'s' if n_images != 1 else ''} found in {where}: {why}. The run will show "
            f"each of them about {times:,.0f} times, and the generator will learn to copy them.")
