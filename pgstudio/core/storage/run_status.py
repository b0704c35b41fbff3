"""What a run folder is when nothing trains it: completed, failed, stopped or fresh, with the
words for it. One reading for the Training page and the Runs page.

The trainer records how a run ended ("finished" and "failed" events in metrics.jsonl); a folder
from before those records is completed when its newest checkpoint reached the schedule's end.
"""
from __future__ import annotations

from pathlib import Path

from ..config import TrainConfig
from ..training.events import describe_ending
from ..training.schedule import total_kimg
from .runfolder import RunFolder


def newest_checkpoint_images(checkpoints: list[Path]) -> int | None:
    """Images seen at the newest of a run's checkpoints (oldest first), None without any."""
    return (RunFolder.checkpoint_images(checkpoints[-1]) or 0) if checkpoints else None


def ended_state(cfg: TrainConfig | None, ending: dict | None, newest_checkpoint_images: int | None
                ) -> tuple[str, str]:
    """("completed" | "failed" | "stopped" | "fresh", the words for it); ``ending`` is the run's
    last finished/failed event, ``newest_checkpoint_images`` None when it has no checkpoint."""
    has_checkpoint = newest_checkpoint_images is not None
    last = newest_checkpoint_images or 0
    if ending is not None and ending.get("event") == "failed":
        error = str(ending.get("error", ""))
        error = error if len(error) <= 140 else error[:137] + "..."
        return ("failed" if has_checkpoint else "fresh",
                f"failed at {float(ending.get('kimg', 0)):.3f} kimg: {error}"
                + (" — Resume starts again from the last checkpoint" if has_checkpoint else ""))
    if not has_checkpoint:
        return "fresh", "no checkpoint yet"
    reason = ending.get("reason") if ending is not None else None
    if reason is None and cfg is not None and last >= int(round(total_kimg(cfg) * 1000)):
        schedule_end = total_kimg(cfg.replace(max_kimg=None))
        reason = "max_kimg" if cfg.max_kimg is not None and cfg.max_kimg < schedule_end else "completed"
    if reason in ("completed", "max_kimg"):
        return "completed", describe_ending(reason, last / 1000) + " — Continue trains it further"
    return "stopped", f"stopped at {last / 1000:.3f} kimg — press Resume to continue"
