"""Numbers as the CLI, the log and the studio show them: one formatter each, shared."""
from __future__ import annotations

import math


def format_duration(seconds: float | None) -> str:
    """A duration for people: "48s", "7m05s", "2h03m"; "–" when it is not known yet."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(max(0.0, seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    if h:
        return f"{h}h{m:02d}m"
    return f"{m}m{s:02d}s" if m else f"{s}s"
