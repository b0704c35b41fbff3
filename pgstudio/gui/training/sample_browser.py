"""Sample grids of a run: the newest, the last of each resolution, and a timeline to scrub."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QFrame, QHBoxLayout, QLabel, QScrollArea, QSlider, QVBoxLayout,
                               QWidget)

from ..common.grid_view import EnlargedGrid, GridView, read_grid
from .run_history import RunHistory
from ..common.widgets import named


def caption(entry) -> str:
    alpha = f" · α {entry.alpha:.2f}" if entry.phase == "fade" else ""
    return f"kimg {entry.kimg:.1f} · {entry.resolution}×{entry.resolution} · {entry.phase}{alpha}"


class SampleBrowser(QWidget):
    shown_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.history: RunHistory | None = None
        self._live_arrays: dict[str, np.ndarray] = {}     # newest grids, before they are read back
        self._strip_views: dict[int, tuple[GridView, QLabel]] = {}
        self._strip_holders: dict[int, QWidget] = {}
        self._count = 0
        self.class_names: list[str] = []

        self.view = GridView(self, min_size=200)
        self.view.setObjectName("sample_grid")
        self.view.clicked.connect(self._enlarge)
        self.caption = QLabel("no samples yet")
        self.caption.setAlignment(Qt.AlignCenter)

        self.timeline = named(QSlider(Qt.Horizontal), "timeline")
        self.timeline.setRange(0, 0)
        self.timeline.setEnabled(False)
        self.timeline.setToolTip("scrub through every grid of the run: the same fixed latents as they grow")
        self.follow_latest = QCheckBox("latest")
        self.follow_latest.setChecked(True)
        self.follow_latest.setToolTip("keep showing the newest grid")
        timeline_row = QHBoxLayout()
        timeline_row.addWidget(QLabel("timeline"))
        timeline_row.addWidget(self.timeline, 1)
        timeline_row.addWidget(self.follow_latest)

        self.strip = QHBoxLayout()
        self.strip.setContentsMargins(2, 2, 2, 2)
        self.strip.addStretch(1)
        strip_host = QWidget()
        strip_host.setLayout(self.strip)
        scroll = QScrollArea()
        scroll.setWidget(strip_host)
        scroll.setWidgetResizable(True)
        scroll.setFixedHeight(128)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)
        layout.addLayout(timeline_row)
        self.actions_layout = QHBoxLayout()      # the page adds its grid exports here
        layout.addLayout(self.actions_layout)
        layout.addWidget(QLabel("last grid of each resolution"))
        layout.addWidget(scroll)

        self.timeline.valueChanged.connect(self._timeline_moved)
        self.follow_latest.toggled.connect(self._follow_toggled)

    # -------------------------------------------------------------- feeding
    def clear(self) -> None:
        self.history = None
        self._live_arrays.clear()
        self._count = 0
        with QSignalBlocker(self.timeline):
            self.timeline.setRange(0, 0)
        self.timeline.setEnabled(False)
        self.view.set_array(None)
        self.caption.setText("no samples yet")
        for holder in self._strip_holders.values():
            # the holder goes with its view and label: deleting only those left empty fixed-width
            # holders that pushed every later run's thumbnails out of the strip
            self.strip.removeWidget(holder)
            holder.setParent(None)
            holder.deleteLater()
        self._strip_views.clear()
        self._strip_holders.clear()

    def set_class_names(self, names) -> None:
        """A conditional run's classes: its grids have one row per class, named at the left."""
        self.class_names = list(names or [])
        self.view.set_row_labels(self.class_names)

    def add_live_grid(self, file: str, grid: np.ndarray) -> None:
        self._live_arrays[file] = grid
        if len(self._live_arrays) > 8:
            self._live_arrays.pop(next(iter(self._live_arrays)))

    def refresh(self, history: RunHistory) -> None:
        self.history = history
        n = len(history.samples)
        if n == self._count:
            return
        self._count = n
        with QSignalBlocker(self.timeline):
            self.timeline.setRange(0, max(0, n - 1))
            if self.follow_latest.isChecked():
                self.timeline.setValue(n - 1)
        self.timeline.setEnabled(n > 1)
        self._update_strip()
        self._show(self.timeline.value())

    def _grid_for(self, entry) -> np.ndarray | None:
        arr = self._live_arrays.get(entry.file)
        return arr if arr is not None else read_grid(Path(entry.path))

    def _show(self, index: int) -> None:
        if not self.history or not self.history.samples:
            return
        index = min(max(index, 0), len(self.history.samples) - 1)
        entry = self.history.samples[index]
        grid = self._grid_for(entry)
        if grid is not None:
            self.view.set_array(grid)
        self.caption.setText(f"{caption(entry)}   ({index + 1}/{len(self.history.samples)})")
        self.shown_changed.emit()

    def strip_thumbnails(self) -> list[tuple[int, np.ndarray | None, str]]:
        """What the strip shows, left to right: (resolution, the grid shown, its caption)."""
        out = []
        for i in range(self.strip.count()):
            holder = self.strip.itemAt(i).widget()
            for res, h in self._strip_holders.items():
                if h is holder:
                    view, label = self._strip_views[res]
                    out.append((res, view.array(), label.text()))
        return out

    def _update_strip(self) -> None:
        for res, entry in sorted(self.history.last_sample_per_resolution().items()):
            if res not in self._strip_views:
                view = GridView(min_size=96, whole_factors=False)
                view.setFixedSize(96, 96)
                label = QLabel()
                label.setAlignment(Qt.AlignCenter)
                box = QVBoxLayout()
                box.addWidget(view)
                box.addWidget(label)
                holder = QWidget()
                holder.setLayout(box)
                holder.setFixedWidth(120)
                self.strip.insertWidget(self.strip.count() - 1, holder)
                view.clicked.connect(lambda v=view, r=res: self._enlarge_strip(r))
                self._strip_views[res] = (view, label)
                self._strip_holders[res] = holder
            view, label = self._strip_views[res]
            grid = self._grid_for(entry)
            if grid is not None:
                view.set_array(grid)
            label.setText(f"{res}×{res} · {entry.kimg:.0f} kimg")

    # -------------------------------------------------------------- interaction
    def _timeline_moved(self, value: int) -> None:
        if self.history and value < len(self.history.samples) - 1:
            with QSignalBlocker(self.follow_latest):
                self.follow_latest.setChecked(False)
        self._show(value)

    def _follow_toggled(self, on: bool) -> None:
        if on and self.history and self.history.samples:
            self.timeline.setValue(len(self.history.samples) - 1)

    def seek(self, kimg: float) -> None:
        """Show the grid nearest to ``kimg`` (a click on the curves)."""
        if not self.history or not self.history.samples:
            return
        kimgs = [e.kimg for e in self.history.samples]
        self.timeline.setValue(min(range(len(kimgs)), key=lambda i: abs(kimgs[i] - kimg)))

    def shown_entry(self):
        if not self.history or not self.history.samples:
            return None
        return self.history.samples[min(self.timeline.value(), len(self.history.samples) - 1)]

    def _enlarge(self) -> None:
        entry = self.shown_entry()
        if self.view.array() is not None:
            dlg = EnlargedGrid(self.view.array(), caption(entry) if entry else "samples", self,
                               row_labels=self.class_names)
            dlg.setObjectName("enlarged_grid")
            dlg.show()

    def _enlarge_strip(self, res: int) -> None:
        view, _ = self._strip_views[res]
        if view.array() is not None:
            EnlargedGrid(view.array(), f"last grid at {res}×{res}", self, row_labels=self.class_names).show()
