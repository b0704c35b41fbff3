"""Small widget helpers shared by the pages."""
from __future__ import annotations

from PySide6.QtWidgets import QWidget


def named(widget: QWidget, object_name: str) -> QWidget:
    """Give a widget the object name tests and style sheets find it by, and return it."""
    widget.setObjectName(object_name)
    return widget
