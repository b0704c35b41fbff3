"""The thin Qt adapter of the studio's state (studio_state.py): its announcements as one signal.

The window makes one Studio and hands it to the pages; each page changes ``studio.state`` and
connects ``studio.changed`` to a bound method of its own, so no page reaches into another.
A page made on its own (a test, a notebook) makes a Studio of its own.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from .studio_state import StudioState


class Studio(QObject):
    changed = Signal(str)       # what changed: "data", "run", "training", "throughput", "start_asked", ...

    def __init__(self, state: StudioState | None = None):
        super().__init__()
        self.state = state or StudioState()
        self.state.subscribe(self._announce)

    def _announce(self, what: str) -> None:
        self.changed.emit(what)
