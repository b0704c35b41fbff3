"""File dialogs that open where the user last was: each dialog (told apart by its caption)
remembers its own last folder; a dialog never used before starts in the folder any dialog last
used, then in the home folder (never in whatever directory the process was started from)."""
from __future__ import annotations

import os

from PySide6.QtWidgets import QFileDialog

from .settings import app_settings

_ANY = "dialogs/any"


def _key(caption: str) -> str:
    return "dialogs/" + "".join(c if c.isalnum() else "_" for c in caption.lower()).strip("_")


def start_folder(caption: str) -> str:
    s = app_settings()
    for key in (_key(caption), _ANY):
        folder = s.value(key, "")
        if folder and os.path.isdir(folder):
            return folder
    return os.path.expanduser("~")


def remember_folder(caption: str, folder: str) -> None:
    if folder:
        s = app_settings()
        s.setValue(_key(caption), folder)
        s.setValue(_ANY, folder)


def existing_directory(parent, caption: str, start: str | None = None) -> str:
    folder = QFileDialog.getExistingDirectory(parent, caption, start or start_folder(caption))
    if folder:
        remember_folder(caption, folder)
    return folder


def open_file_name(parent, caption: str, file_filter: str = "") -> str:
    path, _ = QFileDialog.getOpenFileName(parent, caption, start_folder(caption), file_filter)
    if path:
        remember_folder(caption, os.path.dirname(path))
    return path


def save_file_name(parent, caption: str, name: str, file_filter: str = "") -> str:
    path, _ = QFileDialog.getSaveFileName(parent, caption, os.path.join(start_folder(caption), name), file_filter)
    if path:
        remember_folder(caption, os.path.dirname(path))
    return path
