"""QSettings in one place; PGSTUDIO_SETTINGS points it at a folder (tests, portable installs)."""
from __future__ import annotations

import json
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


# measured img/s per resolution for a network and device, so that a new run's duration estimate
# starts from what this machine did last time
def throughput_key(cfg) -> str:
    return (f"throughput/{cfg.arch}-{cfg.latent_size}-{cfg.fmap_base}-{cfg.fmap_max}-{cfg.loss}-{cfg.device}"
            f"-{cfg.precision}")


def remember_throughput(cfg, measured: dict[int, float]) -> None:
    if measured:
        app_settings().setValue(throughput_key(cfg), json.dumps({str(k): v for k, v in measured.items()}))


def recall_throughput(cfg) -> dict[int, float]:
    raw = app_settings().value(throughput_key(cfg), "")
    try:
        return {int(k): float(v) for k, v in json.loads(raw).items()} if raw else {}
    except (ValueError, TypeError):
        return {}


# the data set chosen last: a folder's absolute path, or DEMO
DEMO = ":demo:"
_LAST_DATA = "data/last"


def last_data_choice() -> str | None:
    value = app_settings().value(_LAST_DATA, "")
    if value == DEMO or (value and os.path.isdir(value)):
        return value
    return None


def remember_data_choice(choice: str) -> None:
    app_settings().setValue(_LAST_DATA, choice)
