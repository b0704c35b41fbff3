"""Explorer → Project image…: the target and its reconstruction side by side, live as the
projection converges, a loss curve and Stop; then the projected latent becomes the explorer's
current point, and the latent (.npy with provenance) and the reconstruction can be saved.

The optimisation (core/analysis/projection.py) runs in a worker thread; its progress signal only
stores the newest step, and a 10 Hz timer draws it (a step can take a few milliseconds)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDialog, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QSpinBox, QVBoxLayout)

from ...core.analysis.projection import (Projection, ProjectionInputs, ProjectionResult, load_target,
                                         projection_inputs)
from ..common.grid_view import GridView
from ..common.widgets import exported, named
from ..common.workers import start_in_thread
from ..common.file_dialogs import existing_directory, open_file_name

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff);;All files (*)"


class ProjectionWorker(QObject):
    progress = Signal(int, int, float, object)     # step, steps, best loss, uint8 image or None
    done = Signal(object)                          # ProjectionResult, or an error message

    def __init__(self, job: Projection):
        super().__init__()
        self.job = job
        self.stopping = False                      # set from the GUI thread

    def stop(self) -> None:
        self.stopping = True

    def _progress(self, step: int, steps: int, loss: float, image) -> None:
        self.progress.emit(step, steps, loss, None if image is None else np.array(image, copy=True))

    @Slot()
    def run(self) -> None:
        try:
            result = self.job.run(self._progress, should_stop=lambda: self.stopping, preview_every=5)
        except Exception as exc:                   # shown in the dialog; the explorer goes on
            self.done.emit(f"{type(exc).__name__}: {exc}")
            return
        self.done.emit(result)


class ProjectionDialog(QDialog):
    use_requested = Signal(object, str)            # ProjectionResult, the image's file name

    def __init__(self, source, class_index: int | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Project an image into the generator")
        self.setObjectName("projection_dialog")
        self.setAcceptDrops(True)
        self.source, self.class_index = source, class_index
        self.projected_class: int | None = None
        self.image_path: str | None = None
        self.target: np.ndarray | None = None
        self.result: ProjectionResult | None = None
        self.job: Projection | None = None
        self._worker: ProjectionWorker | None = None
        self._thread = None
        self._latest: tuple | None = None          # the newest progress, drawn by the timer
        self._losses: list[float] = []

        styled = hasattr(source.generator, "mapping")
        self.file_label = named(QLabel("drop an image here, or choose one"), "projection_file")
        self.choose_button = named(QPushButton("Choose image…"), "projection_choose")
        self.space = named(QComboBox(), "projection_space")
        for space in (("w", "w+") if styled else ("z",)):
            self.space.addItem(space)
        self.space.setToolTip("w: one style vector for every layer (edits and mixing behave as for a seed); "
                              "w+: one per layer (closer reconstructions, less regular edits)" if styled else
                              "the progressive generator has one latent space, z")
        # a conditional generator projects into one class's distribution: which one, chosen here
        names = list(getattr(source.generator, "class_names", None) or [])
        self.class_choice = named(QComboBox(), "projection_class")
        self.class_choice.addItems(names)
        self.class_choice.setVisible(bool(names))
        self.class_choice.setToolTip("the class the image is projected into (its label goes to the generator)")
        if names:
            self.class_choice.setCurrentIndex(class_index or 0)
            self.class_index = self.class_choice.currentIndex()
        self.class_choice.currentIndexChanged.connect(self._class_chosen)
        self.steps = named(QSpinBox(), "projection_steps")
        self.steps.setRange(10, 5000)
        self.steps.setValue(300)
        self.start_button = named(QPushButton("Project"), "projection_start")
        self.stop_button = named(QPushButton("Stop"), "projection_stop")
        self.use_button = named(QPushButton("Use in explorer"), "projection_use")
        self.save_button = named(QPushButton("Save latent and PNG…"), "projection_save")
        self.target_view = GridView(min_size=200, whole_factors=False)
        self.recon_view = GridView(min_size=200, whole_factors=False)
        self.loss_plot = pg.PlotWidget()
        self.loss_plot.setObjectName("projection_loss")
        self.loss_plot.setLabel("left", "loss (best)")
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.setLogMode(y=True)
        self.loss_plot.setMinimumHeight(140)
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen((31, 119, 180), width=2))
        self.info = named(QLabel(" "), "projection_info")
        self.info.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.choose_button)
        top.addWidget(self.file_label, 1)
        self.class_label = QLabel("class")
        self.class_label.setVisible(self.class_choice.isVisibleTo(self) or bool(self.class_choice.count()))
        top.addWidget(self.class_label)
        top.addWidget(self.class_choice)
        top.addWidget(QLabel("space"))
        top.addWidget(self.space)
        top.addWidget(QLabel("steps"))
        top.addWidget(self.steps)
        top.addWidget(self.start_button)
        top.addWidget(self.stop_button)
        views = QGridLayout()
        views.addWidget(QLabel("target (cropped like the data set)"), 0, 0, Qt.AlignCenter)
        views.addWidget(QLabel("reconstruction"), 0, 1, Qt.AlignCenter)
        views.addWidget(self.target_view, 1, 0)
        views.addWidget(self.recon_view, 1, 1)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.use_button)
        bottom.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(views, 1)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.info)
        layout.addLayout(bottom)
        self.resize(760, 620)

        self.timer = QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self._draw)
        self.choose_button.clicked.connect(self._choose)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.use_button.clicked.connect(self._use)
        self.save_button.clicked.connect(self._save)
        self._update_buttons()

    def _class_chosen(self, index: int) -> None:
        self.class_index = index if index >= 0 else None

    # -------------------------------------------------------------- the image
    def _choose(self) -> None:
        path = open_file_name(self, "Image to project", IMAGE_FILTER)
        if path:
            self.set_image(path)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.set_image(urls[0])
            event.acceptProposedAction()

    def set_image(self, path: str) -> bool:
        """Load the target as the run's data set was cropped; a bad file is said, nothing lost."""
        try:
            inputs = self._inputs(path)
        except (ValueError, OSError) as exc:
            self.info.setText(f"<span style='color:#c0392b'>{exc}</span>")
            return False
        self.image_path, self.target, self._inputs_for = path, inputs.target, inputs
        self.file_label.setText(Path(path).name)
        self.target_view.set_array(inputs.target)
        self.recon_view.set_array(None)
        self.result = None
        self.info.setText(f"{inputs.target.shape[1]}×{inputs.target.shape[0]} target · loss: "
                          + ("multi-scale pixel + D features" if inputs.discriminator is not None else
                             "multi-scale pixel (this source holds no discriminator)"))
        self._update_buttons()
        return True

    def _inputs(self, path: str):
        """From the checkpoint or export the explorer opened (its D too), or — for the live
        generator — the generator itself and a centre-cropped target."""
        if self.source.path:
            return projection_inputs(self.source.path, path, self.class_index)
        target = load_target(path, 2 ** self.source.level, self.source.generator.image_channels)
        return ProjectionInputs(None, None, target, self.class_index, None)

    # -------------------------------------------------------------- running
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self.target is None or self.running():
            return
        inputs = self._inputs_for
        G = inputs.loaded.generator if inputs.loaded is not None else self.source.generator
        level = inputs.loaded.level if inputs.loaded is not None else self.source.level
        alpha = inputs.loaded.alpha if inputs.loaded is not None else self.source.alpha
        try:
            self.job = Projection(G, level, alpha, self.target, self.space.currentText(),
                                  discriminator=inputs.discriminator, labels=self.class_index, steps=self.steps.value())
        except ValueError as exc:
            self.info.setText(f"<span style='color:#c0392b'>{exc}</span>")
            return
        self._losses, self._latest, self.result = [], None, None
        self.projected_class = self.class_index       # the class the result belongs to, whatever is chosen later
        worker = ProjectionWorker(self.job)
        worker.progress.connect(self._on_progress)      # bound methods: they run in the GUI thread
        worker.done.connect(self._on_done)
        self._worker = worker
        self._thread = start_in_thread(worker, [worker.done])
        self.timer.start()
        self._update_buttons()

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()

    def _on_progress(self, step: int, steps: int, loss: float, image) -> None:
        self._losses.append(loss)
        previous = self._latest
        self._latest = (step, steps, loss, image if image is not None else (previous[3] if previous else None))

    def _draw(self) -> None:
        if self._latest is None:
            return
        step, steps, loss, image = self._latest
        if image is not None:
            self.recon_view.set_array(image)
        self.loss_curve.setData(np.arange(1, len(self._losses) + 1), np.asarray(self._losses))
        self.info.setText(f"step {step}/{steps} · loss {loss:.4f} · {self.job.loss_kind}")

    def _on_done(self, result) -> None:
        self.timer.stop()
        self._draw()
        self._thread = self._worker = None
        if isinstance(result, str):
            self.info.setText(f"<span style='color:#c0392b'>projection failed: {result}</span>")
        else:
            self.result = result
            self.recon_view.set_array(result.image)
            how = "stopped — the best so far" if result.stopped else "done"
            perceptual = f", feature distance {result.perceptual:.4f}" if result.perceptual is not None else ""
            self.info.setText(f"{how}: {result.steps_done} steps in {result.seconds:.1f} s · PSNR {result.psnr:.2f} dB"
                              f" · pixel MSE {result.pixel_mse:.4f}{perceptual} · {self.job.loss_kind}")
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.running()
        self.start_button.setEnabled(self.target is not None and not busy)
        self.stop_button.setEnabled(busy)
        self.choose_button.setEnabled(not busy)
        self.space.setEnabled(not busy)
        self.use_button.setEnabled(self.result is not None and not busy)
        self.save_button.setEnabled(self.result is not None and not busy)

    # -------------------------------------------------------------- results
    def _use(self) -> None:
        if self.result is not None:
            self.use_requested.emit(self.result, Path(self.image_path).name)

    def _save(self) -> None:
        if self.result is None:
            return
        folder = existing_directory(self, "Save the projection into…")
        if folder:
            self.save_to(folder)

    def save_to(self, folder: str) -> bool:
        from ...core.analysis.projection_files import provenance, write_projection
        meta = provenance(self.result, self.source.label, Path(self.image_path).resolve(),
                          getattr(self._inputs_for, "class_name", None), self.job.loss_kind)
        written = {}

        def write():
            written.update(write_projection(self.result, self.target, folder, meta))
        if exported(write, self.info.setText):
            self.info.setText(f"saved {', '.join(p.name for p in written.values())} to {folder}")
            return True
        return False

    def closeEvent(self, event) -> None:
        if self._thread is not None:
            self._worker.stop()                 # it stops after its current step
            self._thread.wait(30000)
        self.timer.stop()
        super().closeEvent(event)
