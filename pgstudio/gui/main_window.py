"""The studio window: Dataset and Training pages, menus, status bar, remembered layout."""
from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QApplication, QLabel, QMainWindow, QMessageBox, QSplitter,
                               QTabWidget)

from .. import __version__
from ..core.config import ADVISED_LR_SCALE
from ..core.families import family
from ..core.storage.checkpoint import CheckpointError
from ..core.storage.continuing import branch_from, resume_from
from ..core.storage.records import TickRecord
from ..core.storage.runfolder import RunFolder, RunFolderError
from .checkpoints.page import CheckpointsPage
from .runs.page import RunsPage
from ..core.storage.run_summary import summarize
from .dataset.panel import DatasetPanel
from .explorer.page import ExplorerPage
from .common.settings import add_recent_run, app_settings, recent_runs
from .setup.form import SetupForm
from .training.page import TrainingPage
from .common.studio import Studio
from .common.widgets import guard_wheel, named, vertical_scroll
from .common.errors import error_hub
from .common.workers import collect_garbage_in_gui_thread, stop_all_threads
from .common.file_dialogs import existing_directory


def describe_recent(path: str) -> str:
    """A recent run as the File menu lists it: its name, then family, resolution, kimg and state."""
    try:
        return summarize(path).line()
    except (RunFolderError, OSError, ValueError):
        return f"{os.path.basename(path.rstrip('/'))} (unreadable)"


# a first start's size: 1280×720 fits every laptop screen; fit_to_screen shrinks it on smaller ones
DEFAULT_SIZE = (1280, 720)


_exit_hook = False


def _release_at_exit() -> None:
    """At interpreter exit, before PySide's own clean-up (registered earlier, so run later): every
    worker thread stopped and joined, and every pyqtgraph item outside a scene (a plot row not shown,
    a curve of a hidden row) deleted while Python is whole — only its Python wrapper owned it, and
    PySide destroyed it after its scene: SIGSEGV in 8 of 10 scripts that exited mid-read."""
    import gc
    import warnings

    import shiboken6
    from PySide6.QtWidgets import QGraphicsItem
    stop_all_threads()
    with warnings.catch_warnings():           # isinstance on every object touches deprecated aliases
        warnings.simplefilter("ignore")
        detached = [o for o in gc.get_objects() if isinstance(o, QGraphicsItem) and shiboken6.isValid(o)
                    and o.scene() is None and o.parentItem() is None]
    for item in detached:                     # top-level ones only: their children go with them
        if shiboken6.isValid(item):
            shiboken6.delete(item)


class MainWindow(QMainWindow):
    def __init__(self):
        global _exit_hook
        super().__init__()
        if not _exit_hook:             # registered after PySide's clean-up, so it runs before it
            import atexit
            atexit.register(_release_at_exit)
            _exit_hook = True
        collect_garbage_in_gui_thread()
        self.setWindowTitle("pgstudio")
        self.error_box: QMessageBox | None = None
        self._threads_shut = False

        # the pages share one studio state; the window wires them to it and to its own chrome
        self.studio = Studio()
        self.dataset_panel = DatasetPanel(self.studio)
        self.setup_form = SetupForm(self.studio)
        self.dataset_split = named(QSplitter(Qt.Horizontal), "dataset_splitter")
        self.dataset_split.addWidget(self.dataset_panel)
        # the form's long rows wrap under their labels when narrow; it scrolls up and down only
        setup_scroll = vertical_scroll(self.setup_form)
        self.setup_scroll = setup_scroll
        self.dataset_split.addWidget(setup_scroll)
        self.dataset_split.setStretchFactor(0, 1)     # halves: the form unwrapped from about 1100 px
        self.dataset_split.setStretchFactor(1, 1)
        self.training_page = TrainingPage(self.studio)

        self.tabs = named(QTabWidget(), "pages")
        self.tabs.addTab(self.dataset_split, "Dataset")
        self.tabs.addTab(self.training_page, "Training")
        self.explorer_page = ExplorerPage()
        self.checkpoints_page = CheckpointsPage()
        self.tabs.addTab(self.explorer_page, "Explorer")
        self.tabs.addTab(self.checkpoints_page, "Checkpoints")
        self.runs_page = RunsPage()
        self.tabs.addTab(self.runs_page, "Runs")
        self.setCentralWidget(self.tabs)

        self._build_status_bar()
        self._build_menus()

        self.studio.changed.connect(self._studio_changed)
        self.setup_form.start_refused.connect(self._start_refused)
        self.training_page.status_changed.connect(self._show_status)
        self.training_page.error_occurred.connect(self.show_error)
        self.training_page.blew_up.connect(self.offer_lower_learning_rate)
        self.training_page.run_opened.connect(self._run_opened)
        self.runs_page.open_requested.connect(self.open_run)
        self.runs_page.status.connect(self.show_message)
        self.training_page.checkpoint_written.connect(self._checkpoint_written)
        self.training_page.snapshot_ready.connect(self.explorer_page.take_snapshot)
        self.training_page.queue_started.connect(self.runs_page.set_folder)     # the queue's runs, listed
        self.explorer_page.follow_live.toggled.connect(self._follow_live)
        self.explorer_page.status.connect(self.show_message)
        self.checkpoints_page.status.connect(self.show_message)
        error_hub().reported.connect(self._error_reported)
        app = QApplication.instance()
        if app is not None:            # however the process ends, its threads end first
            app.aboutToQuit.connect(self.shutdown_threads)
        self.checkpoints_page.open_in_explorer.connect(self._explore_checkpoint)
        self.checkpoints_page.resume_requested.connect(self._resume_from_checkpoint)
        self.checkpoints_page.metric_recorded.connect(self.training_page.add_metric_record)
        self._restore_layout()
        guard_wheel(self)            # a wheel over an unclicked field scrolls the page, not the value

    # -------------------------------------------------------------- menus
    def _action(self, text: str, slot, shortcut: str | QKeySequence | None = None, name: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        if name:
            action.setObjectName(name)
        self.addAction(action)                  # shortcuts work from every page
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.new_from_folder_action = self._action("New run from folder…", self.new_run_from_folder,
                                                   "Ctrl+N", "new_from_folder")
        self.demo_action = self._action("Use demo dataset", self.use_demo, "Ctrl+D", "use_demo_action")
        self.open_action = self._action("Open run…", self.open_run_dialog, QKeySequence.Open, "open_run")
        self.quit_action = self._action("Quit", self.close, QKeySequence.Quit, "quit")
        file_menu.addAction(self.new_from_folder_action)
        file_menu.addAction(self.demo_action)
        file_menu.addSeparator()
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Recent runs")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._fill_recent()
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        train_menu = self.menuBar().addMenu("&Training")
        self.start_action = self._action("Start / Resume", self.start_shortcut, "Ctrl+Return", "start_action")
        self.pause_action = self._action("Pause / Resume", self.training_page.toggle_pause, "Ctrl+P", "pause_action")
        self.stop_action = self._action("Stop", self.training_page.stop, "Ctrl+.", "stop_action")
        self.save_action = self._action("Save checkpoint now", self.training_page.save_now, QKeySequence.Save,
                                        "save_action")
        for a in (self.start_action, self.pause_action, self.stop_action, self.save_action):
            train_menu.addAction(a)

        view_menu = self.menuBar().addMenu("&View")
        for i, name in enumerate(("Dataset", "Training", "Explorer", "Checkpoints", "Runs")):
            view_menu.addAction(self._action(f"{name} page", lambda checked=False, i=i: self.tabs.setCurrentIndex(i),
                                             f"Ctrl+{i + 1}"))
        view_menu.addSeparator()
        self.log_action = self._action("Show log", self._toggle_log, None, "toggle_log")
        self.log_action.setCheckable(True)
        self.log_action.setChecked(True)
        view_menu.addAction(self.log_action)
        view_menu.addAction(self._action("Full screen", self._toggle_full_screen, QKeySequence.FullScreen))

        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action("About pgstudio", self.about, None, "about"))

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        runs = recent_runs()
        for path in runs:
            action = self.recent_menu.addAction(describe_recent(path), lambda p=path: self.open_run(p))
            action.setData(path)
            action.setToolTip(path)
        self.recent_menu.setToolTipsVisible(True)
        self.recent_menu.setEnabled(bool(runs))

    def _toggle_log(self, on: bool) -> None:
        self.training_page.log.setVisible(on)

    def _toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def about(self) -> None:
        QMessageBox.about(self, "About pgstudio",
                          f"<b>pgstudio {__version__}</b><p>Train and explore Progressive Growing GANs "
                          "(Karras et al., ICLR 2018).</p><p>The same core runs headless: "
                          "<code>pgstudio train --help</code></p>")

    # -------------------------------------------------------------- status bar
    def _build_status_bar(self) -> None:
        self.status_labels = {}
        for key in ("resolution", "alpha", "phase", "augment", "kimg", "speed", "eta", "device", "memory"):
            label = QLabel("")
            label.setObjectName(f"status_{key}")
            self.statusBar().addPermanentWidget(label)
            self.status_labels[key] = label

    def show_message(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    def _show_status(self, s: dict) -> None:
        """The newest tick (the Training page adds the run's total, the ETA and the family)."""
        L, tick = self.status_labels, TickRecord.from_dict(s)
        L["resolution"].setText(f"{tick.resolution}×{tick.resolution}")
        fam = family(s.get("family"))                     # a family that does not grow has no α to show
        L["alpha"].setText(f"α {tick.alpha:.2f}" if fam.grows else "")
        L["alpha"].setVisible(fam.grows)
        L["phase"].setText(fam.status_line(s))
        p = tick.family_stats.get("augment_p")
        L["augment"].setText(f"augment p {p:.3f}" if p is not None else "")
        L["augment"].setVisible(p is not None)
        L["kimg"].setText(f"{tick.kimg:.1f} / {s.get('total_kimg', 0):g} kimg")
        spk = tick.sec_per_kimg
        L["speed"].setText(f"{tick.img_per_s or 0:.0f} img/s · {spk:.1f} s/kimg" if spk else "")
        L["eta"].setText(f"ETA {s.get('eta', '–')}")
        L["device"].setText(" · ".join(v for v in (tick.device, tick.precision) if v))
        mem = f"RAM {tick.ram_mb:.0f} MB" if tick.ram_mb else ""
        if tick.gpu_mem_mb:
            mem += f" · GPU {tick.gpu_mem_mb:.0f} MB"
        L["memory"].setText(mem)

    # -------------------------------------------------------------- actions
    def start_shortcut(self) -> None:
        """Ctrl+Return does what the Start button in view does: on the Dataset page the form's
        "Start training" (the run the form shows), elsewhere the Training page's Start / Resume /
        Continue of the open run."""
        if self.tabs.currentWidget() is self.dataset_split:
            form = self.setup_form
            if form.start_button.isEnabled():
                form.start_button.click()
            else:
                self.show_message("cannot start yet: " + (form.start_button.toolTip() or "a training is running"))
            return
        button = self.training_page.start_button
        if button.isEnabled():
            button.click()
        elif self.training_page.is_training():
            self.show_message("a training is running: pause or stop it first")
        else:
            self.tabs.setCurrentIndex(0)
            self.show_message("no run to resume here: the Dataset page starts a new one")

    def _checkpoint_written(self, path: str) -> None:
        self.checkpoints_page.refresh()

    def _error_reported(self, where: str, message: str) -> None:
        """Any error a page, worker or slot met: the log panel, the open run's log.txt, the status bar."""
        line = f"error ({where}): {message}"
        self.training_page.append_log(line)
        run = self.training_page.run
        if run is not None and run.log_path.exists():
            try:
                run.log(f"studio {line}")
            except OSError:
                pass                     # a refusing disk: the panel and the status bar have it
        self.statusBar().showMessage(line, 15000)

    def _studio_changed(self, what: str) -> None:
        if what == "start_requested":         # the Training page has started it
            self.tabs.setCurrentWidget(self.training_page)

    def _start_refused(self, message: str) -> None:
        self.tabs.setCurrentIndex(0)
        self.show_error(message)

    def new_run_from_folder(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.dataset_panel.choose_folder()

    def use_demo(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.dataset_panel.use_demo()

    def open_run_dialog(self) -> None:
        folder = existing_directory(self, "Open a run folder")
        if folder:
            self.open_run(folder)

    def open_run(self, path: str) -> None:
        try:
            self.training_page.open_run(path)
        except (RunFolderError, RuntimeError) as exc:
            self.show_error(str(exc))
            return
        self.tabs.setCurrentIndex(1)

    def open_start_path(self, path: str | None) -> None:
        """What the command line named: a run folder opens on the Training page, any other folder
        is the data set on the Dataset page; nothing named brings back the last data set chosen."""
        if path and RunFolder(path).is_run():
            self.open_run(path)
        elif path:
            self.tabs.setCurrentIndex(0)
            self.dataset_panel.set_folder(path)
        else:
            self.dataset_panel.restore_last()

    def _follow_live(self, on: bool) -> None:
        self.training_page.want_snapshots = on
        if on:
            if self.training_page.is_training():
                self.training_page.request_snapshot()
            else:
                self.statusBar().showMessage("no training is running in this window: the explorer follows "
                                             "as soon as one starts", 8000)

    def _explore_checkpoint(self, path: str) -> None:
        self.explorer_page.open_path(path)
        self.tabs.setCurrentWidget(self.explorer_page)

    def _resume_from_checkpoint(self, path: str, branch: bool, lr_scale: float = 1.0) -> None:
        page = self.training_page
        if page.is_training():
            self.show_error("a training is running in this window: stop it before resuming another checkpoint")
            return
        scale = lr_scale if lr_scale != 1.0 else None          # 1: the run's rates as they are
        try:
            if branch:              # a branch goes into a new folder: that one is free
                parent = existing_directory(self, "Folder for the branched run")
                if not parent:
                    return
                plan = branch_from(path, parent)
            else:
                plan = resume_from(path)
        except (RunFolderError, CheckpointError, OSError) as exc:
            self.show_error(str(exc))
            return
        if page.run is None or page.run.path.resolve() != plan.run.path.resolve():
            self.open_run(str(plan.run.path))
        page.resume_current(checkpoint=str(plan.checkpoint) if plan.checkpoint else None, lr_scale=scale)
        self.tabs.setCurrentWidget(page)

    def _run_opened(self, path: str) -> None:
        self.setWindowTitle(f"pgstudio — {os.path.basename(path.rstrip('/'))}")
        add_recent_run(path)
        self._fill_recent()            # a menu disabled while empty never shows, so never refills itself
        self.runs_page.add_opened(path)
        self.checkpoints_page.set_run(path)
        self.explorer_page.set_open_run(path)

    def show_error(self, message: str) -> None:
        """Non-blocking dialog, also written to the log: the app stays usable."""
        self.training_page.append_log(f"error: {message}")
        box = QMessageBox(QMessageBox.Warning, "pgstudio", message, QMessageBox.Ok, self)
        box.setObjectName("error_dialog")
        box.setWindowModality(Qt.WindowModal)
        box.open()
        self.error_box = box

    def offer_lower_learning_rate(self, message: str) -> None:
        """Training blew up: say where, and offer the way past it (the same step comes again with the
        same settings, since training is deterministic)."""
        self.training_page.append_log(f"error: {message}")
        box = QMessageBox(QMessageBox.Warning, "pgstudio — training stopped", message, QMessageBox.Close, self)
        box.setObjectName("blew_up_dialog")
        button = box.addButton(f"Resume with the learning rate ×{ADVISED_LR_SCALE:g}", QMessageBox.AcceptRole)
        button.setObjectName("resume_lower_lr")
        box.setDefaultButton(button)
        box.setWindowModality(Qt.WindowModal)
        box.buttonClicked.connect(self._blew_up_answer)
        box.open()
        self.error_box = box

    def _blew_up_answer(self, button) -> None:
        if button.objectName() == "resume_lower_lr":
            self.training_page.resume_current(lr_scale=ADVISED_LR_SCALE)
            self.tabs.setCurrentWidget(self.training_page)

    # -------------------------------------------------------------- layout memory and closing
    def _restore_layout(self) -> None:
        s = app_settings()
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(DEFAULT_SIZE[0], DEFAULT_SIZE[1])
        self.fit_to_screen()
        for splitter, key in ((self.dataset_split, "dataset"), (self.training_page.splitter, "training"),
                              (self.training_page.vsplit, "training_v")):
            state = s.value(f"splitter/{key}")
            if state is not None:
                splitter.restoreState(state)

    def fit_to_screen(self) -> None:
        """Never larger than the screen's available area (a remembered size from a larger screen
        included), and on it: a 1280×720 or 1366×768 screen shows the whole window."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        frame_w = max(0, self.frameGeometry().width() - self.geometry().width())
        frame_h = max(0, self.frameGeometry().height() - self.geometry().height())
        w = min(self.width(), area.width() - frame_w)
        h = min(self.height(), area.height() - frame_h)
        if (w, h) != (self.width(), self.height()):
            self.resize(max(w, self.minimumWidth()), max(h, self.minimumHeight()))
        x = min(max(self.x(), area.left()), area.right() - self.width())
        y = min(max(self.y(), area.top()), area.bottom() - self.height())
        if (x, y) != (self.x(), self.y()):
            self.move(max(x, area.left()), max(y, area.top()))

    def _save_layout(self) -> None:
        s = app_settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("splitter/dataset", self.dataset_split.saveState())
        s.setValue("splitter/training", self.training_page.splitter.saveState())
        s.setValue("splitter/training_v", self.training_page.vsplit.saveState())
        s.sync()

    def closeEvent(self, event) -> None:
        if self.training_page.is_training():
            answer = QMessageBox.question(
                self, "Training is running",
                "Stop training at the next safe point, save a checkpoint and quit?",
                QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
            if answer != QMessageBox.Yes:
                event.ignore()
                return
            self.statusBar().showMessage("stopping training and writing a checkpoint…")
            if not self.training_page.shutdown():
                event.ignore()
                self.show_error("training did not stop in time; try again")
                return
        self._save_layout()
        self.shutdown_threads()
        event.accept()

    def shutdown_threads(self) -> None:
        """Stop and join every worker and thread of the window (imports, renderers, checkpoint
        readers, scorers, projection, the follower's timer), so that the process never ends while
        one runs (Qt aborts then: "QThread: Destroyed while thread is still running"). Safe to call
        twice: the window's close and QApplication.aboutToQuit both call it."""
        if self._threads_shut:
            return
        self._threads_shut = True
        if self.training_page.is_training():
            self.training_page.shutdown()
        self.training_page.stop_following()
        self.dataset_panel.shutdown()
        self.explorer_page.shutdown()
        self.checkpoints_page.shutdown()
        stop_all_threads()             # any other worker (a projection, a scorer) the pages started
