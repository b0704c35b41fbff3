"""Dataset page, left half: choose a folder or the demo set, import off the GUI thread, report."""
from __future__ import annotations

import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QProgressBar, QPushButton, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
                               QWidget)

from ...core.data.images import make_grid
from ..common.grid_view import GridView
from ..common.workers import ImportWorker, start_in_thread
from ..common.studio import Studio
from ..common.studio_state import DataChoice
from ..common.widgets import named
from ..common.file_dialogs import existing_directory
from ..common.settings import DEMO, last_data_choice, remember_data_choice

RESOLUTIONS = [2 ** i for i in range(2, 11)]


class DatasetPanel(QWidget):
    dataset_ready = Signal(object)          # ImageDataset
    options_changed = Signal()

    def __init__(self, studio: Studio | None = None, parent=None):
        super().__init__(parent)
        self.studio = studio or Studio()
        self.source: str | None = None
        self.demo = False
        self.dataset = None
        self._worker: ImportWorker | None = None
        self._thread: QThread | None = None
        self._pending = False

        self.choose_button = named(QPushButton("Choose folder…"), "choose_folder")
        self.demo_button = named(QPushButton("Use demo dataset"), "use_demo")
        # the data set chosen last time (in this window or an earlier session), one click away
        self.last_button = named(QPushButton(), "use_last_folder")
        self.last_button.setVisible(False)
        self.source_label = QLabel("no data set chosen")
        self.source_label.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.choose_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        # beside the chosen source (its own line, so the window's minimum width stays as it was)
        source_row = QHBoxLayout()
        source_row.addWidget(self.source_label, 1)
        source_row.addWidget(self.last_button)

        self.resolution = named(QComboBox(), "resolution")
        for r in RESOLUTIONS:
            self.resolution.addItem(f"{r}×{r}", r)
        self.resolution.setCurrentIndex(RESOLUTIONS.index(32))
        self.mode = named(QComboBox(), "mode")
        for m, text in (("crop", "center crop"), ("pad", "pad to square"), ("stretch", "stretch")):
            self.mode.addItem(text, m)
        self.channels = named(QComboBox(), "channels")
        for c, text in (("auto", "auto-detect"), ("rgb", "RGB"), ("gray", "grayscale")):
            self.channels.addItem(text, c)
        form = QFormLayout()
        form.addRow("target resolution", self.resolution)
        form.addRow("non-square images", self.mode)
        form.addRow("channels", self.channels)

        self.progress = named(QProgressBar(), "import_progress")
        self.progress.setVisible(False)
        self.cancel_button = named(QPushButton("Cancel"), "cancel_import")
        self.cancel_button.setVisible(False)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.summary = named(QLabel(""), "import_summary")
        self.summary.setWordWrap(True)

        self.preview = GridView(min_size=160)
        self.preview.setObjectName("dataset_preview")
        self.skipped_table = named(QTableWidget(0, 2), "skipped_table")
        self.skipped_table.setHorizontalHeaderLabels(["file", "reason"])
        self.skipped_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        self.skipped_table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.skipped_table.setWordWrap(False)          # one line per file; the full text is its tooltip
        self.skipped_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Interactive)
        self.sizes_plot = pg.PlotWidget()
        self.sizes_plot.setLabel("bottom", "width (px)")
        self.sizes_plot.setLabel("left", "height (px)")
        self.sizes_scatter = pg.ScatterPlotItem(size=5, brush=pg.mkBrush(31, 119, 180, 120), pen=None,
                                                hoverable=True, tip=lambda x, y, data: data)
        self.size_counts: dict[tuple[int, int], int] = {}
        self.sizes_plot.addItem(self.sizes_scatter)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.preview, "Preview (as the trainer sees it)")
        self.tabs.addTab(self.skipped_table, "Skipped files")
        self.tabs.addTab(self.sizes_plot, "Image sizes")
        self.classes_plot = pg.PlotWidget()        # images per class (first-level sub-folders)
        self.classes_plot.setObjectName("classes_plot")
        self.classes_plot.setLabel("bottom", "images")
        self.classes_plot.getPlotItem().setMouseEnabled(x=False, y=False)
        self.classes_plot.getPlotItem().hideButtons()
        self.class_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.7, brush=pg.mkBrush(31, 119, 180, 200))
        self.classes_plot.addItem(self.class_bars)
        self.class_counts: dict[str, int] = {}
        self.tabs.addTab(self.classes_plot, "Classes")

        source_box = QGroupBox("Data set")
        sb = QVBoxLayout(source_box)
        sb.addLayout(buttons)
        sb.addLayout(source_row)
        sb.addLayout(form)
        sb.addLayout(progress_row)
        sb.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.addWidget(source_box)
        layout.addWidget(self.tabs, 1)

        self.choose_button.clicked.connect(self.choose_folder)
        self.demo_button.clicked.connect(self.use_demo)
        self.last_button.clicked.connect(self.restore_last)
        self._offer_last()
        self.cancel_button.clicked.connect(self.cancel_import)
        for combo in (self.resolution, self.mode, self.channels):
            combo.currentIndexChanged.connect(self._options_changed)

    # -------------------------------------------------------------- options
        self.options_changed.connect(self._publish)
        self.dataset_ready.connect(self._publish)
        self._publish()

    def _publish(self, *args) -> None:
        """The data choice as the studio's state has it (the setup form reads it from there)."""
        self.studio.state.choose_data(DataChoice(self.source, self.demo, self.options(), self.dataset,
                                                 self.importing()))

    def options(self) -> dict:
        return {"resolution": self.resolution.currentData(), "mode": self.mode.currentData(),
                "channels": self.channels.currentData()}

    def _options_changed(self, *args) -> None:
        self.options_changed.emit()
        if self.source or self.demo:
            self.start_import()

    # -------------------------------------------------------------- sources
    def choose_folder(self) -> None:
        last = last_data_choice()
        folder = existing_directory(self, "Choose a folder of images",
                                    os.path.dirname(last) if last and last != DEMO else None)
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str) -> None:
        folder = os.path.abspath(folder)
        self.source, self.demo = folder, False
        self.source_label.setText(folder)
        remember_data_choice(folder)
        self._offer_last()
        self.start_import()

    def use_demo(self) -> None:
        self.source, self.demo = None, True
        self.source_label.setText("built-in demo: 2,003 colour emoji (32×32)")
        remember_data_choice(DEMO)
        self._offer_last()
        self.start_import()

    def _offer_last(self) -> None:
        """The button that brings back the last data set chosen, unless it is the one in use."""
        last = last_data_choice()
        current = DEMO if self.demo else self.source
        self.last_button.setVisible(bool(last) and last != current)
        if last:
            name = "the demo set" if last == DEMO else os.path.basename(last.rstrip("/")) or last
            if len(name) > 24:                 # the button must not widen the window's minimum
                name = name[:11] + "…" + name[-12:]
            self.last_button.setText(f"Use last: {name}")
            self.last_button.setToolTip("the data set chosen last time: " + ("the built-in demo" if last == DEMO
                                                                               else last))

    def restore_last(self) -> bool:
        """Choose the data set chosen last time (at start, and from the button). False when there
        is none, or its folder is gone."""
        last = last_data_choice()
        if last == DEMO:
            self.use_demo()
        elif last:
            self.set_folder(last)
        return bool(last)

    # -------------------------------------------------------------- import
    def importing(self) -> bool:
        return self._thread is not None

    def start_import(self) -> None:
        if self._thread is not None:          # one import at a time: restart when it ends
            self._pending = True
            self._worker.cancel()
            return
        self.dataset = None
        opts = self.options()
        self._worker = ImportWorker(self.source, self.demo, opts["resolution"], opts["mode"], opts["channels"])
        self._worker.progress.connect(self._on_progress)
        self._worker.done.connect(self._on_done)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.summary.setText("importing…")
        self.options_changed.emit()
        self._thread = start_in_thread(self._worker, [self._worker.done])

    def shutdown(self) -> None:
        """Cancel a running import and wait for its thread (window closing)."""
        if self._thread is not None:
            self._pending = False
            self._worker.cancel()
            self._thread.wait(30000)

    def cancel_import(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} / {total} files")

    def _on_done(self, result) -> None:
        self._thread, self._worker = None, None
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        if self._pending:
            self._pending = False
            self.start_import()
            return
        if result is None:
            self.summary.setText("import cancelled")
        elif isinstance(result, Exception):
            self.summary.setText(f"<span style='color:#c0392b'>{result}</span>")
        else:
            self._show_dataset(result)
        self.options_changed.emit()

    def _plot_sizes(self, widths, heights) -> None:
        """One dot per distinct size, its area growing with how many images have it (519 images of
        one size and 3 of another are not two equal dots), the count in its tooltip."""
        if not widths:
            self.sizes_scatter.setData([], [])
            self.size_counts = {}
            return
        pairs, counts = np.unique(np.stack([widths, heights], 1), axis=0, return_counts=True)
        self.size_counts = {(int(w), int(h)): int(c) for (w, h), c in zip(pairs, counts)}
        sizes = 5 + 25 * np.sqrt(counts / counts.max())
        self.sizes_scatter.setData([{"pos": (float(w), float(h)), "size": float(sz),
                                     "data": f"{w}×{h}: {c} image{'s' if c != 1 else ''}"}
                                    for (w, h), c, sz in zip(pairs, counts, sizes)])

    def _plot_classes(self, ds) -> None:
        """One bar per class (first-level sub-folder) with its image count, top-level images as
        their own bar: what class-conditional training will draw from."""
        names, counts = list(ds.class_names), ds.class_counts()
        if ds.unlabelled and names:
            names, counts = names + ["(top level, no class)"], counts + [ds.unlabelled]
        self.class_counts = dict(zip(names, counts))
        ys = list(range(len(names)))[::-1]              # first class at the top
        self.class_bars.setOpts(x0=[0] * len(names), y=ys, width=counts, height=0.7)
        self.classes_plot.getAxis("left").setTicks([[(y, n if len(n) <= 24 else n[:23] + "…")
                                                     for y, n in zip(ys, names)]])
        self.classes_plot.getPlotItem().setYRange(-0.6, max(0.6, len(names) - 0.4), padding=0)
        self.classes_plot.getPlotItem().setXRange(0, max(counts or [1]) * 1.05, padding=0)
        label = (f"Classes ({len(ds.class_names)})" if len(ds.class_names) >= 2 else "Classes (none)")
        self.tabs.setTabText(3, label)
        self.tabs.setTabToolTip(3, "first-level sub-folders of the chosen folder: with two or more, the run "
                                   "form offers class-conditional training")

    def _show_dataset(self, ds) -> None:
        self.dataset = ds
        r = ds.report
        s = r.size_summary()
        sizes = (f"; sizes {s['width_min']}–{s['width_max']} × {s['height_min']}–{s['height_max']} px, "
                 f"{s['non_square']} not square") if s else ""
        small = r.smaller_than(ds.resolution, self.options().get("mode", "crop"))
        enlarged = (f"<br><span style='color:#b9770e'>{small} of them are smaller than {ds.resolution}×"
                    f"{ds.resolution} and were enlarged: they will look soft — choose a lower target "
                    "resolution or larger images</span>") if small else ""
        self.summary.setText(f"<b>{r.used}</b> images used, <b>{len(r.skipped)}</b> skipped, "
                             f"{ds.channels} channel{'s' if ds.channels > 1 else ''}"
                             f"{' (cached)' if r.from_cache else ''}{sizes}{enlarged}")
        self.skipped_table.setRowCount(len(r.skipped))
        for i, (path, reason) in enumerate(r.skipped):
            for col, text in enumerate((path, reason)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.skipped_table.setItem(i, col, item)
        self.skipped_table.resizeColumnToContents(0)
        self.tabs.setTabText(1, f"Skipped files ({len(r.skipped)})")
        self._plot_sizes(r.widths, r.heights)
        self._plot_classes(ds)
        rng = np.random.default_rng(0)
        top = ds.levels[ds.resolution]
        pick = rng.choice(len(ds), size=min(36, len(ds)), replace=False)
        self.preview.set_array(make_grid(top[pick].transpose(0, 2, 3, 1)))
        self.dataset_ready.emit(ds)
