"""What the screenshot scripts share. Import it before PySide6: it puts Qt offscreen (unless the
caller chose a platform, e.g. xcb under Xvfb) and the studio's settings in a throwaway folder, so
a script never reads or changes the user's remembered window and form."""
from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PGSTUDIO_SETTINGS", tempfile.mkdtemp(prefix="pgstudio-shots-"))

from window_events import settle  # noqa: E402  (after the environment: the scripts take it from here)

__all__ = ["settle"]
