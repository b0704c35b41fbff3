"""Sample grids on screen: a pixel-exact (nearest-neighbour) image view and its enlarged dialog."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPen, QShortcut
from PySide6.QtWidgets import (QDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout,
                               QWidget)


def to_qimage(array: np.ndarray) -> QImage:
    """uint8 HxWx3 (or HxW) → an owned QImage."""
    a = np.ascontiguousarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = np.ascontiguousarray(a[..., 0])
    h, w = a.shape[:2]
    if a.ndim == 2:
        return QImage(a.data, w, h, w, QImage.Format_Grayscale8).copy()
    return QImage(a.data, w, h, 3 * w, QImage.Format_RGB888).copy()


@lru_cache(maxsize=64)
def png_bytes(picture) -> bytes:
    """A QPixmap or QImage as PNG file bytes (for the one write path of core/disk.py)."""
    from PySide6.QtCore import QBuffer, QIODevice
    buffer = QBuffer()
    buffer.open(QIODevice.WriteOnly)
    picture.save(buffer, "PNG")
    return bytes(buffer.data())


def load_grid(path: str, mtime: float) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def read_grid(path: Path) -> np.ndarray | None:
    try:
        return load_grid(str(path), path.stat().st_mtime)
    except (OSError, ValueError):
        return None


class GridView(QWidget):
    """Shows an image scaled by whole or fractional factors with nearest-neighbour sampling."""
    clicked = Signal()
    clicked_at = Signal(object)          # QPoint in widget coordinates

    def __init__(self, parent=None, min_size: int = 64, whole_factors: bool = True):
        super().__init__(parent)
        self.whole_factors = whole_factors
        self._image: QImage | None = None
        self._array: np.ndarray | None = None
        self.highlight: tuple[int, int] | None = None     # (cell, cells per side) outlined, e.g. the chosen seed
        self.row_labels: list[str] = []      # one name per row of the grid (a conditional run's classes)
        self.cell_labels: list[str] = []     # one caption per cell (seeds, classes), row by row
        self.cell_cols = 0
        self.setMinimumSize(min_size, min_size)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setCursor(Qt.PointingHandCursor)

    def set_array(self, array: np.ndarray | None) -> None:
        self._array = array
        self._image = to_qimage(array) if array is not None else None
        self.update()

    def array(self) -> np.ndarray | None:
        return self._array

    def set_highlight(self, cell: int | None, side: int) -> None:
        """Outline one cell of a side x side grid (None: none)."""
        self.highlight = None if cell is None or not 0 <= cell < side * side else (cell, side)
        self.update()

    def set_row_labels(self, names) -> None:
        """Name each row of the grid (drawn in a margin at its left); empty: none."""
        names = [str(n) for n in (names or [])]
        if names != self.row_labels:
            self.row_labels = names
            self.update()

    def set_cell_labels(self, labels, cols: int = 0) -> None:
        """Caption each cell of a grid of ``cols`` columns (a seed, a class; "" leaves a cell bare),
        drawn on a pale box at the cell's bottom left; empty: none."""
        labels = [str(n) for n in (labels or [])]
        if (labels, cols) != (self.cell_labels, self.cell_cols):
            self.cell_labels, self.cell_cols = labels, cols
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(256, 256)

    def label_margin(self) -> int:
        if not self.row_labels:
            return 0
        metrics = self.fontMetrics()
        return min(self.width() // 3, max(metrics.horizontalAdvance(n) for n in self.row_labels) + 10)

    def target_rect(self) -> QRect:
        if self._image is None:
            return QRect()
        w, h = self._image.width(), self._image.height()
        margin = self.label_margin()
        scale = min((self.width() - margin) / w, self.height() / h)
        if scale >= 1 and self.whole_factors:
            scale = int(scale)               # whole factors keep every pixel the same size
        tw, th = int(w * scale), int(h * scale)
        return QRect(margin + (self.width() - margin - tw) // 2, (self.height() - th) // 2, tw, th)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        if self._image is not None:
            p.setRenderHint(QPainter.SmoothPixmapTransform, False)
            target = self.target_rect()
            p.drawImage(target, self._image)
            if self.row_labels:
                p.setPen(self.palette().windowText().color())
                row_h = target.height() / len(self.row_labels)
                for i, name in enumerate(self.row_labels):
                    p.drawText(QRect(0, int(target.y() + i * row_h), target.x() - 4, int(row_h)),
                               Qt.AlignRight | Qt.AlignVCenter,
                               self.fontMetrics().elidedText(name, Qt.ElideRight, max(8, target.x() - 6)))
            if self.cell_labels and self.cell_cols:
                self._draw_cell_labels(p, target)
            if self.highlight is not None:
                cell, side = self.highlight
                w, h = target.width() / side, target.height() / side
                pen = QPen(QColor(230, 120, 0), 3)
                p.setPen(pen)
                p.drawRect(QRect(int(target.x() + (cell % side) * w) + 1, int(target.y() + (cell // side) * h) + 1,
                                 int(w) - 2, int(h) - 2))
        else:
            p.setPen(self.palette().mid().color())
            p.drawText(self.rect(), Qt.AlignCenter, "no samples yet")
        p.end()

    def _draw_cell_labels(self, p: QPainter, target: QRect) -> None:
        cols = self.cell_cols
        rows = -(-len(self.cell_labels) // cols)
        w, h = target.width() / cols, target.height() / rows
        metrics = self.fontMetrics()
        for i, text in enumerate(self.cell_labels):
            if not text:
                continue
            text = metrics.elidedText(text, Qt.ElideRight, max(8, int(w) - 6))
            box = QRect(0, 0, metrics.horizontalAdvance(text) + 6, metrics.height() + 2)
            box.moveBottomLeft(QPoint(int(target.x() + (i % cols) * w) + 2, int(target.y() + (i // cols + 1) * h) - 3))
            p.fillRect(box, QColor(255, 255, 255, 200))
            p.setPen(QColor(20, 20, 20))
            p.drawText(box, Qt.AlignCenter, text)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.LeftButton and self._image is not None:
            self.clicked.emit()
            self.clicked_at.emit(event.position().toPoint())
        super().mouseReleaseEvent(event)


class EnlargedGrid(QDialog):
    """A grid in its own window: fitted to the window in whole factors, or zoomed (the buttons,
    Ctrl+wheel, Ctrl+= / Ctrl+-) to any whole factor with scrolling."""
    MAX_ZOOM = 32

    def __init__(self, array: np.ndarray, title: str, parent=None, row_labels=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.view = GridView(min_size=16)
        self.view.set_array(array)
        self.view.set_row_labels(row_labels)
        self.zoom: int | None = None                  # None: fit the window
        self.scroll = QScrollArea()
        self.scroll.setAlignment(Qt.AlignCenter)
        self.scroll.setWidget(self.view)
        self.scroll.setWidgetResizable(True)
        self.zoom_label = QLabel("fit")
        self.zoom_label.setObjectName("zoom_label")
        buttons = QHBoxLayout()
        for text, name, slot in (("−", "zoom_out", lambda: self.step_zoom(-1)), ("+", "zoom_in", lambda: self.step_zoom(1)),
                                 ("Fit", "zoom_fit", lambda: self.set_zoom(None))):
            b = QPushButton(text)
            b.setObjectName(name)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        buttons.addWidget(self.zoom_label)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.scroll, 1)
        QShortcut(QKeySequence.ZoomIn, self, lambda: self.step_zoom(1))
        QShortcut(QKeySequence.ZoomOut, self, lambda: self.step_zoom(-1))
        h, w = array.shape[:2]
        scale = max(1, min(8, 800 // max(h, w)))
        self.resize(w * scale + 40, h * scale + 70)

    def current_factor(self) -> int:
        """The whole factor the image is drawn at now."""
        rect = self.view.target_rect()
        return max(1, round(rect.width() / max(1, self.view.array().shape[1])))

    def step_zoom(self, direction: int) -> None:
        base = self.zoom if self.zoom is not None else self.current_factor()
        self.set_zoom(min(self.MAX_ZOOM, max(1, base * 2 if direction > 0 else base // 2)))

    def set_zoom(self, factor: int | None) -> None:
        self.zoom = factor
        h, w = self.view.array().shape[:2]
        if factor is None:
            self.scroll.setWidgetResizable(True)
            self.view.setMinimumSize(16, 16)
            self.zoom_label.setText("fit")
        else:
            self.scroll.setWidgetResizable(False)
            self.view.setMinimumSize(w * factor, h * factor)
            self.view.resize(w * factor, h * factor)
            self.zoom_label.setText(f"{factor}×")

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.ControlModifier:
            self.step_zoom(1 if event.angleDelta().y() > 0 else -1)
            event.accept()
        else:
            super().wheelEvent(event)
