"""Small widget helpers shared by the pages."""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QComboBox, QHBoxLayout, QScrollArea, QWidget

VALUE_WIDGETS = (QComboBox, QAbstractSpinBox, QAbstractSlider)


def exported(write, report) -> bool:
    """Run an export; a disk that refuses it (DiskWriteError: one line naming the file and the
    reason) goes to ``report``, never out of a slot as a traceback. True when it was written."""
    try:
        write()
    except (OSError, ValueError) as exc:      # ValueError: a file name whose suffix names no format
        report(f"export failed: {exc}")
        return False
    return True


class _VerticalScrollArea(QScrollArea):
    """Scrolls up and down only, and is never narrower than its content: its minimum width
    follows the content's whenever the content's layout changes (a family's rows that are wider
    than the ones the form opened with widen the area, rather than running past its edge)."""

    def __init__(self, content: QWidget):
        super().__init__()
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        content.installEventFilter(self)
        self._fit_width()

    def _fit_width(self) -> None:
        content = self.widget()
        if content is not None:
            self.setMinimumWidth(content.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 4)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.widget() and event.type() == QEvent.LayoutRequest:
            self._fit_width()
        return super().eventFilter(obj, event)


def vertical_scroll(content: QWidget) -> QScrollArea:
    """``content`` in a scroll area that scrolls up and down only: it is never narrower than the
    content, so no field sits beyond a sideways scrollbar on a small screen."""
    return _VerticalScrollArea(content)


def row_of(*widgets) -> QWidget:
    """The widgets side by side in one borderless row (a form row with several fields)."""
    w = QWidget()
    row = QHBoxLayout(w)
    row.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        row.addWidget(widget)
    return w


def named(widget: QWidget, object_name: str) -> QWidget:
    """Give a widget the object name tests and style sheets find it by, and return it."""
    widget.setObjectName(object_name)
    return widget


class _WheelOnlyWhenFocused(QObject):
    """Scrolling over a combo box, spin box or slider that has not been clicked scrolls the page
    it sits on, not its value (a wheel over the run form switched the loss without notice)."""

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Wheel and isinstance(obj, VALUE_WIDGETS) and not obj.hasFocus():
            parent = obj.parentWidget()
            if parent is not None:
                QCoreApplication.sendEvent(parent, event)     # the enclosing scroll area scrolls
            return True
        return False


_guard: _WheelOnlyWhenFocused | None = None


def guard_wheel(root: QWidget) -> None:
    """Install the wheel guard on every value widget below ``root`` (click or Tab gives focus)."""
    global _guard
    if _guard is None:
        _guard = _WheelOnlyWhenFocused()
    for widget in root.findChildren(QWidget):
        if isinstance(widget, VALUE_WIDGETS):
            widget.setFocusPolicy(Qt.StrongFocus)
            widget.installEventFilter(_guard)
