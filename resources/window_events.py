"""What the scripts that drive the real window share, whatever the Qt platform (offscreen for the
screenshot scripts, xcb under Xvfb for the trials): letting events run, and grabbing the screen."""
from __future__ import annotations

import os
import time
from pathlib import Path


def settle(app, seconds: float) -> None:
    """Let the window run its events (renders, timers, layouts) for ``seconds``."""
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.02)


def grab_screen(folder: Path, name: str) -> None:
    """The X screen as ``folder/name.png`` (ImageMagick's import; under Xvfb, the whole display)."""
    os.system(f"import -window root {folder}/{name}.png")


class WindowSession:
    """A trial script's session with the real window: the application (exception hooks installed,
    so an error in a slot is reported as in the app), and its screenshots folder."""

    def __init__(self, shots: Path):
        from PySide6.QtWidgets import QApplication
        self.app = QApplication.instance() or QApplication([])
        from pgstudio.gui.common.errors import install_exception_hooks
        install_exception_hooks()
        self.shots = Path(shots)
        self.shots.mkdir(parents=True, exist_ok=True)

    def settle(self, seconds: float) -> None:
        settle(self.app, seconds)

    def shot(self, name: str) -> None:
        """The screen after half a second of events, as ``shots/name.png``."""
        self.settle(0.5)
        grab_screen(self.shots, name)
