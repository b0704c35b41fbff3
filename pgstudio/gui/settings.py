"""QSettings in one place; PGSTUDIO_SETTINGS points it at a folder (tests, portable installs)."""
from __future__ import annotations

import os

from PySide6.QtCore import QSettings

MAX_RECENT = 8


def app_settings() -> QSettings:
    folder = os.environ.get("PGSTUDIO_SETTINGS")
    if folder:
        return QSettings(os.path.join(folder, "pgstudio.ini"), QSettings.IniFormat)
    return QSettings("pgstudio", "pgstudio")


def recent_runs() -> list[str]:
    value = app_settings().value("recent_runs", [])
    if isinstance(value, str):
        value = [value]
    return [v for v in (value or []) if os.path.isdir(v)]


def add_recent_run(path: str) -> None:
    path = os.path.abspath(path)
    runs = [path] + [r for r in recent_runs() if r != path]
    app_settings().setValue("recent_runs", runs[:MAX_RECENT])
