"""The Runs page: every run under the runs folder in one table, their curves overlaid, their
settings side by side with the differences marked, and notes and tags kept in each run folder."""
from __future__ import annotations

import datetime
import math
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ...core.formatting import format_duration
from ...core.storage.annotations import Annotations, parse_tags, write_annotations
from ...core.storage.run_summary import CURVES, METRIC_CURVES, RunSummary, find_runs, run_curves, setting_rows, summaries
from ..common.grid_view import read_grid, to_qimage
from ..common.settings import app_settings
from ..common.widgets import named
from ..common.file_dialogs import existing_directory

COLUMNS = ["", "run", "family", "res", "data", "kimg", "wall", "status", "MS-SWD", "best MS-SWD", "FID", "best FID",
           "tags", "notes"]
TAGS, NOTES = COLUMNS.index("tags"), COLUMNS.index("notes")
DIFFERS = QColor(255, 236, 179)          # a setting that differs between the compared runs
PALETTE = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (23, 190, 207),
           (140, 86, 75), (227, 119, 194)]


SETTINGS_MIN_COLUMN = 90            # px: below this a compared run's settings column scrolls into view


def default_runs_folder() -> str:
    return str(Path.home() / "pgstudio-runs")        # where the run form puts new runs


class RunsPage(QWidget):
    open_requested = Signal(str)            # a run to open on the Training page
    status = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.runs: list[RunSummary] = []
        self.unreadable: list[tuple[Path, str]] = []
        self._filling = False
        # curves read per run, kept while its metrics.jsonl is unchanged: choosing another curve
        # or selecting one more run does not read every selected run's metrics again
        self._curves: dict[Path, tuple[int, dict]] = {}

        self.folder_label = named(QLabel(), "runs_folder")
        self.folder_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.buttons = {}
        top = QHBoxLayout()
        top.addWidget(QLabel("runs in"))
        top.addWidget(self.folder_label, 1)
        for key, text in (("folder", "Runs folder…"), ("add", "Add run folder…"), ("refresh", "Refresh"),
                          ("open", "Open on Training page")):
            b = named(QPushButton(text), f"runs_{key}")
            top.addWidget(b)
            self.buttons[key] = b

        self.table = named(QTableWidget(0, len(COLUMNS)), "runs_table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed)
        self.table.horizontalHeader().setSectionResizeMode(NOTES, QHeaderView.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(52)
        self.table.setColumnWidth(0, 56)
        # "run-20261206-193741" and "run-20261206-201502" differ at the end: elide the middle, and the
        # column is wide enough for a default name whole (the full name and path are the tooltip)
        self.table.setTextElideMode(Qt.ElideMiddle)
        self.table.setColumnWidth(1, 190)
        self.table.setToolTip("select two or more runs to overlay their curves and compare their settings; "
                              "double-click tags or notes to edit them (kept in the run folder's notes.json)")

        self.curve_choice = named(QComboBox(), "runs_curve")
        for key, text in CURVES.items():
            self.curve_choice.addItem(text, key)
        self.x_choice = named(QComboBox(), "runs_x")
        self.x_choice.addItem("kimg", "kimg")
        self.x_choice.addItem("wall time (minutes)", "wall")
        self.plot = named(pg.PlotWidget(), "runs_plot")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        for side in ("left", "bottom"):       # kimg and losses as they are, not "(x0.001)"
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(10, 10))
        self.settings_table = named(QTableWidget(0, 0), "runs_settings")
        self.settings_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.settings_table.viewport().installEventFilter(self)
        self.compare_note = named(QLabel("select runs in the table to compare them"), "runs_compare_note")

        plot_box = QWidget()
        pl = QVBoxLayout(plot_box)
        pl.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("curve"))
        row.addWidget(self.curve_choice)
        row.addWidget(QLabel("against"))
        row.addWidget(self.x_choice)
        row.addStretch(1)
        pl.addLayout(row)
        pl.addWidget(self.plot, 1)
        settings_box = QWidget()
        sl = QVBoxLayout(settings_box)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(QLabel("settings (differences first, highlighted)"))
        sl.addWidget(self.settings_table, 1)
        lower = QSplitter(Qt.Horizontal)
        lower.addWidget(plot_box)
        lower.addWidget(settings_box)
        lower.setStretchFactor(0, 1)
        lower.setStretchFactor(1, 1)
        # the settings get half the width and their names at most 150 px: at 1280 px the plot's
        # minimum had left the table 78 px of values, one run's column
        settings_box.setMinimumWidth(360)
        lower.setSizes([640, 640])
        self.settings_table.verticalHeader().setMaximumWidth(150)
        self.settings_table.verticalHeader().setTextElideMode(Qt.ElideMiddle)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.table)
        compare = QWidget()
        cl = QVBoxLayout(compare)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.compare_note)
        cl.addWidget(lower, 1)
        split.addWidget(compare)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)

        self.buttons["folder"].clicked.connect(self._choose_folder)
        self.buttons["add"].clicked.connect(self._add_dialog)
        self.buttons["refresh"].clicked.connect(self.refresh)
        self.buttons["open"].clicked.connect(self._open_selected)
        self.table.itemSelectionChanged.connect(self._compare)
        self.table.itemChanged.connect(self._annotation_edited)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        self.curve_choice.currentIndexChanged.connect(self._compare)
        self.x_choice.currentIndexChanged.connect(self._compare)
        self._update_buttons()

    # -------------------------------------------------------------- where the runs are
    def folder(self) -> str:
        return str(app_settings().value("runs/folder", default_runs_folder()))

    def extra_folders(self) -> list[str]:
        value = app_settings().value("runs/extra", [])
        return [value] if isinstance(value, str) else list(value or [])

    def set_folder(self, folder: str) -> None:
        app_settings().setValue("runs/folder", folder)
        self.refresh()

    def add_run(self, path: str) -> None:
        """A run folder outside the runs folder, listed from now on."""
        extra = [p for p in self.extra_folders() if p != path] + [path]
        app_settings().setValue("runs/extra", extra)
        self.refresh()

    def add_opened(self, path: str) -> None:
        """A run opened in the window is listed here from then on, wherever its folder is."""
        path = str(Path(path).resolve())
        listed = {str(Path(p).resolve()) for p in self.extra_folders()}
        inside = Path(path).parent == Path(self.folder()).resolve()
        if path not in listed and not inside:
            app_settings().setValue("runs/extra", self.extra_folders() + [path])
        if self.isVisible():
            self.refresh()

    def _choose_folder(self) -> None:
        folder = existing_directory(self, "The folder your runs are in", self.folder())
        if folder:
            self.set_folder(folder)

    def _add_dialog(self) -> None:
        folder = existing_directory(self, "Add a run folder")
        if folder:
            self.add_run(folder)

    # -------------------------------------------------------------- the table
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        selected = {str(p) for p in self.selected_paths()}
        paths = find_runs(self.folder())
        for extra in self.extra_folders():
            paths += [p for p in find_runs(extra) if p not in paths]
        self.runs, self.unreadable = summaries(paths)
        self.folder_label.setText(self.folder() + (f"  (+{len(self.extra_folders())} added)"
                                                   if self.extra_folders() else ""))
        self._filling = True
        self.table.clearSelection()
        self.table.setRowCount(len(self.runs))
        for row, run in enumerate(self.runs):
            self._fill_row(row, run)
        self._filling = False
        for row, run in enumerate(self.runs):
            if str(run.path) in selected:
                self.table.selectRow(row) if len(selected) == 1 else self._select_also(row)
        if self.unreadable:
            self.status.emit("not listed: " + "; ".join(f"{p.name} ({why})" for p, why in self.unreadable))
        self._compare()

    def _select_also(self, row: int) -> None:
        model = self.table.selectionModel()
        from PySide6.QtCore import QItemSelectionModel
        model.select(self.table.model().index(row, 0), QItemSelectionModel.Select | QItemSelectionModel.Rows)

    def _fill_row(self, row: int, run: RunSummary) -> None:
        when = datetime.datetime.fromtimestamp(run.path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        values = ["", run.name, run.family, str(run.resolution), run.data, f"{run.kimg:.1f}",
                  format_duration(run.wall_s) if run.wall_s else "", run.status,
                  _fmt(run.latest_swd), _fmt(run.best_swd), _fmt(run.latest_fid), _fmt(run.best_fid),
                  " ".join(run.annotations.tags), run.annotations.notes]
        for col, text in enumerate(values):
            item = QTableWidgetItem(text)
            item.setData(Qt.UserRole, str(run.path))
            flags = Qt.ItemIsSelectable | Qt.ItemIsEnabled
            if col in (TAGS, NOTES):
                flags |= Qt.ItemIsEditable
            item.setFlags(flags)
            if col == COLUMNS.index("status"):
                item.setToolTip(run.status_text)
            if col == 1:
                item.setToolTip(f"{run.name}\n{run.path}\nlast changed {when}")
            if col == COLUMNS.index("data"):
                item.setToolTip(str(run.config.get("data") or "the built-in demo set"))
            self.table.setItem(row, col, item)
        label = QLabel()
        grid = read_grid(run.newest_grid) if run.newest_grid is not None else None
        if grid is not None:
            label.setPixmap(QPixmap.fromImage(to_qimage(grid)).scaled(48, 48, Qt.KeepAspectRatio, Qt.FastTransformation))
        self.table.setCellWidget(row, 0, label)

    def selected_paths(self) -> list[Path]:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        return [self.runs[r].path for r in rows if r < len(self.runs)]

    def _selected_runs(self) -> list[RunSummary]:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        return [self.runs[r] for r in rows if r < len(self.runs)]

    def _update_buttons(self) -> None:
        self.buttons["open"].setEnabled(len(self.selected_paths()) == 1)

    def _double_clicked(self, row: int, col: int) -> None:
        if col not in (TAGS, NOTES) and row < len(self.runs):
            self.open_requested.emit(str(self.runs[row].path))

    def _open_selected(self) -> None:
        paths = self.selected_paths()
        if len(paths) == 1:
            self.open_requested.emit(str(paths[0]))

    def _annotation_edited(self, item: QTableWidgetItem) -> None:
        """Tags or notes typed into the table go to the run folder's notes.json."""
        if self._filling or item.column() not in (TAGS, NOTES) or item.row() >= len(self.runs):
            return
        run = self.runs[item.row()]
        row = item.row()
        tags = parse_tags(self.table.item(row, TAGS).text())
        notes = self.table.item(row, NOTES).text()
        try:
            write_annotations(run.path, Annotations(notes, tags))
        except OSError as exc:
            self.status.emit(f"notes not saved: {exc}")
            return
        self.status.emit(f"notes of {run.name} saved to {run.path / 'notes.json'}")

    # -------------------------------------------------------------- comparing
    def _compare(self) -> None:
        self._update_buttons()
        runs = self._selected_runs()
        self.plot.clear()
        self.legend.clear()
        key, x_key = self.curve_choice.currentData(), self.x_choice.currentData()
        self.plot.setLabel("bottom", "kimg" if x_key == "kimg" else "wall time (minutes)")
        self.plot.setLabel("left", CURVES.get(key, key))
        drawn = 0
        for i, run in enumerate(runs):
            curve = self._curves_of(run.path).get(key)
            if curve is None:
                continue
            kimg, wall, values = curve
            xs = kimg if x_key == "kimg" else [w / 60 for w in wall]
            pairs = [(x, y) for x, y in zip(xs, values) if not (math.isnan(x) or math.isnan(y))]
            if not pairs:
                continue
            x, y = zip(*pairs)
            pen = pg.mkPen(PALETTE[i % len(PALETTE)], width=2)
            self.plot.plot(list(x), list(y), pen=pen, name=run.name,
                           symbol="o" if len(x) == 1 or key in METRIC_CURVES else None, symbolSize=6,
                           symbolBrush=PALETTE[i % len(PALETTE)])
            drawn += 1
        self._fill_settings(runs)
        if not runs:
            self.compare_note.setText("select runs in the table to compare them (two or more to overlay)")
        else:
            missing = len(runs) - drawn
            self.compare_note.setText(f"{len(runs)} run{'s' if len(runs) != 1 else ''} selected"
                                      + (f"; {missing} without {CURVES.get(key, key)} points" if missing else ""))

    def _curves_of(self, path: Path) -> dict:
        try:
            stamp = (path / "metrics.jsonl").stat().st_mtime_ns
        except OSError:
            stamp = -1
        cached = self._curves.get(path)
        if cached is None or cached[0] != stamp:
            cached = self._curves[path] = (stamp, run_curves(path))
        return cached[1]

    def plotted_names(self) -> list[str]:
        return [item.opts.get("name") for item in self.plot.listDataItems()]

    def _fill_settings(self, runs: list[RunSummary]) -> None:
        rows = setting_rows([r.config for r in runs]) if runs else []
        t = self.settings_table
        t.clear()
        t.setColumnCount(len(runs))
        t.setRowCount(len(rows))
        t.setHorizontalHeaderLabels([r.name for r in runs])
        t.setVerticalHeaderLabels([name for name, _, _ in rows])
        bold = QFont()
        bold.setBold(True)
        for i, (name, values, differs) in enumerate(rows):
            for j, value in enumerate(values):
                item = QTableWidgetItem("—" if value is None else _setting_text(value))
                item.setToolTip(item.text())
                if differs:
                    item.setBackground(QBrush(DIFFERS))
                    item.setFont(bold)
                t.setItem(i, j, item)
            if differs:
                header = QTableWidgetItem(name)
                header.setFont(bold)
                t.setVerticalHeaderItem(i, header)
        t.setTextElideMode(Qt.ElideMiddle)
        for col, run in enumerate(runs):
            t.horizontalHeaderItem(col).setToolTip(f"{run.name}\n{run.path}")
        self._fit_settings_columns()

    def _fit_settings_columns(self) -> None:
        """Every compared run's column in view: they share the table's width (a long value, a data
        path, is elided in the middle, whole in its tooltip); below SETTINGS_MIN_COLUMN pixels each
        they keep that width and the table scrolls sideways."""
        t = self.settings_table
        n = t.columnCount()
        if not n:
            return
        share = max(SETTINGS_MIN_COLUMN, (t.viewport().width() - 2) // n)
        for col in range(n):
            t.setColumnWidth(col, share)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.settings_table.viewport() and event.type() == QEvent.Resize:
            self._fit_settings_columns()         # a window or splitter resize: the columns share anew
        return super().eventFilter(watched, event)

    def differing_settings(self) -> list[str]:
        return [name for name, _, differs in setting_rows([r.config for r in self._selected_runs()]) if differs]


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _setting_text(value) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k}:{v}" for k, v in value.items()) if value else "{}"
    return f"{value:g}" if isinstance(value, float) else str(value)
