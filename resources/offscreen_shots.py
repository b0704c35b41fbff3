"""What the screenshot scripts share. Import it before PySide6: it puts Qt offscreen (unless the
caller chose a platform, e.g. xcb under Xvfb) and the studio's settings in a throwaway folder, so
a script never reads or changes the user's remembered window and form."""
from __future__ import annotations

import os
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PGSTUDIO_SETTINGS", tempfile.mkdtemp(prefix="pgstudio-shots-"))


def settle(app, seconds: float) -> None:
    """Let the window run its events (renders, timers, layouts) for ``seconds``."""
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.02)
