"""Latent explorer: seeds, truncation, principal directions, interpolation and exports.

Works on any checkpoint, generator export, or a snapshot of the EMA generator that is
training right now (refreshed on every tick while "follow training" is on), of either
family. For StyleGAN2 it works in w: truncation toward the mean w, noise modes, a
style-mixing grid, interpolation in z or w and directions in w. The generator runs only in
the render thread.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSlider, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from ...core.analysis.directions import Directions, compute_directions
from ...core.storage.disk import write_atomic
from ...core.analysis.export import render, save_png, upscale_nearest, write_video
from ...core.data.images import make_grid
from ...core.analysis.latents import interpolation_path, seeded_latents
from ...core.analysis.layers import trace_and_picture
from ...core.families import family_of_generator, uses_w_space
from ...core.models import build_generator, load_generator
from ...core.analysis.style_space import (compute_w_directions, interpolate_w, layer_range, map_to_w, render_w,
                                style_mixing_grid)
from ..common.grid_view import GridView
from ..common.render_worker import RenderWorker
from ..common.workers import start_in_thread
from ..common.widgets import exported, named, vertical_scroll
from .codes_box import CodesBox
from .layers_box import LayersBox
from .projected import Projected, ProjectedLatents, key_names, keyframe_latents, truncate_w
from .projection_dialog import ProjectionDialog
from ..common.file_dialogs import existing_directory, open_file_name, save_file_name

GRID_SIDE = 4
N_DIRECTIONS = 6


@dataclass
class Source:
    generator: torch.nn.Module
    level: int
    alpha: float
    label: str                  # shown and written into PNG provenance
    kimg: float
    path: str | None = None     # the checkpoint or export it came from (None: the live generator)


def source_name(label: str) -> str:
    """A generator's source as a person names it: RUN/ckpt-….pt for a run's checkpoint (the file
    name alone is the same in every run), the folder for an export, the label itself otherwise."""
    if "/" not in label and "\\" not in label:
        return label
    path = Path(label)
    if path.parent.name == "checkpoints":
        return f"{path.parent.parent.name}/{path.name}"
    return f"{path.parent.name}/{path.name}" if path.suffix else path.name


class ExplorerPage(QWidget):
    image_rendered = Signal()
    grid_rendered = Signal()
    mixing_rendered = Signal()
    layers_rendered = Signal()
    status = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.source: Source | None = None
        self.directions: Directions | None = None
        self.loaded_latent: torch.Tensor | None = None     # a latent loaded from .npy replaces the seed
        self.loaded_w: torch.Tensor | None = None          # a StyleGAN2 projection's w or w+ replaces it
        self.current_name: str | None = None               # what replaced the seed, for the caption
        self.projections = ProjectedLatents()
        self.projection_dialog: ProjectionDialog | None = None
        self.frames: list[np.ndarray] = []
        self.frame_index = 0
        self.last_render_ms = 0.0
        self.view_mixing: dict | None = None
        self._reveal_layers = False                        # the layer view just switched on: scroll to it

        self._show_open_run = False      # the open run changed: show its generator when the page is shown
        self.worker = RenderWorker()
        self.worker.rendered.connect(self._on_rendered)
        # bound methods, never lambdas, for a worker's signals: PySide runs a lambda in the
        # emitting (worker) thread, a QObject's method in the receiver's (GUI) thread
        self.worker.failed.connect(self._on_render_failed)
        self.thread = start_in_thread(self.worker, [self.worker.finished_running])

        # --- source
        self.open_button = named(QPushButton("Open checkpoint…"), "explorer_open")
        self.open_folder_button = named(QPushButton("Open folder…"), "explorer_open_folder")
        self.open_folder_button.setToolTip("a run folder (its newest checkpoint) or a generator export")
        self.open_run_button = named(QPushButton("Open run's newest"), "explorer_open_run")
        self.open_run_button.setEnabled(False)
        self.open_run_button.setToolTip("the newest checkpoint of the run open on the Training page")
        self.open_run: str | None = None
        self.follow_live = named(QCheckBox("live generator (follow training)"), "follow_live")
        self.source_label = QLabel("no generator: open a checkpoint or follow a training")
        self.source_label.setWordWrap(True)

        # --- seeds and truncation
        self.first_seed = named(QSpinBox(), "first_seed")
        self.first_seed.setRange(0, 2**31 - 1)
        self.seed = named(QSpinBox(), "seed")
        self.seed.setRange(0, 2**31 - 1)
        self.random_button = named(QPushButton("Random"), "random_seed")
        self.truncate = named(QCheckBox("truncation ψ"), "truncate")
        self.psi = named(QSlider(Qt.Horizontal), "psi")
        self.psi.setRange(10, 300)
        self.psi.setValue(100)
        self.psi_label = QLabel("1.00")
        self.seed_grid = GridView(min_size=160)       # whole factors, as every grid on screen
        self.seed_grid.setObjectName("seed_grid")
        self.seed_grid.clicked_at.connect(self._grid_clicked)

        # --- conditional generators: which class to draw
        self.class_choice = named(QComboBox(), "explorer_class")
        self.class_choice.setToolTip("the class the generator draws (its first-level sub-folders when trained)")
        self.all_classes_button = named(QPushButton("Seed across classes"), "all_classes")
        self.all_classes_button.setToolTip("the selected seed drawn once in every class")
        self.blend_to = named(QComboBox(), "blend_to")
        self.blend = named(QSlider(Qt.Horizontal), "class_blend")
        self.blend.setRange(0, 100)
        self.blend.setToolTip("blend the chosen class's embedding toward the other class at this seed")

        # --- StyleGAN2 only: noise and style mixing
        self.noise_mode = named(QComboBox(), "noise_mode")
        for label, mode in (("fixed noise", "const"), ("random noise", "random"), ("no noise", "none")):
            self.noise_mode.addItem(label, mode)
        self.mix_rows = named(QLineEdit("0, 1, 2"), "mix_rows")
        self.mix_cols = named(QLineEdit("10, 11, 12, 13"), "mix_cols")
        self.mix_band = named(QComboBox(), "mix_band")
        for band in ("coarse", "middle", "fine", "custom"):
            self.mix_band.addItem(band, band)
        self.mix_from = named(QSpinBox(), "mix_from")
        self.mix_to = named(QSpinBox(), "mix_to")
        self.mix_button = named(QPushButton("Style-mixing grid"), "mix_grid")
        self.interp_space = named(QComboBox(), "interp_space")
        self.interp_space.addItem("z (slerp)", "z")
        self.interp_space.addItem("w (lerp)", "w")

        # --- directions
        self.compute_button = named(QPushButton("Compute directions"), "compute_directions")
        self.save_dirs_button = QPushButton("Save…")
        self.load_dirs_button = QPushButton("Load…")
        self.reset_dirs_button = QPushButton("Reset")
        self.dir_names: list[QLineEdit] = []
        self.dir_sliders: list[QSlider] = []
        self.dir_values: list[QLabel] = []          # each slider's offset, in the direction's σ
        dir_grid = QGridLayout()
        for i in range(N_DIRECTIONS):
            name = QLineEdit(f"PC{i + 1}")
            name.setObjectName(f"direction_name_{i}")
            slider = QSlider(Qt.Horizontal)
            slider.setObjectName(f"direction_{i}")
            slider.setRange(-30, 30)
            slider.setEnabled(False)
            value = QLabel("+0.0σ")
            value.setObjectName(f"direction_value_{i}")
            value.setMinimumWidth(44)
            value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            slider.valueChanged.connect(self._render_selected)
            slider.valueChanged.connect(self._show_direction_values)
            name.editingFinished.connect(self._names_edited)
            dir_grid.addWidget(name, i, 0)
            dir_grid.addWidget(slider, i, 1)
            dir_grid.addWidget(value, i, 2)
            self.dir_names.append(name)
            self.dir_sliders.append(slider)
            self.dir_values.append(value)

        # --- interpolation
        self.keyframes = named(QLineEdit("0, 1, 2"), "keyframes")
        self.frames_per_segment = QSpinBox()
        self.frames_per_segment.setRange(2, 600)
        self.frames_per_segment.setValue(24)
        self.loop = QCheckBox("loop")
        self.play_button = named(QPushButton("Play"), "play")
        self.export_video_button = named(QPushButton("Export GIF/MP4…"), "export_video")

        # --- exports
        self.save_image_button = named(QPushButton("Save image…"), "save_image")
        self.save_grid_button = QPushButton("Save grid…")
        self.save_latent_button = QPushButton("Save latent (.npy)…")
        self.load_latent_button = QPushButton("Load latent (.npy)…")
        self.project_button = named(QPushButton("Project image…"), "project_image")
        self.project_button.setToolTip("find the latent that draws one of your images (or drop an image file "
                                       "on the explorer); then edit and interpolate it like a seed")
        self.projected_label = named(QLabel(self.projections.describe()), "projected_images")
        self.projected_label.setWordWrap(True)
        self.projected_label.setStyleSheet("color: #555")

        self.view = GridView(min_size=200)
        self.view.setObjectName("explorer_view")
        self.caption = named(QLabel(""), "explorer_caption")
        self.caption.setAlignment(Qt.AlignCenter)

        controls = QVBoxLayout()
        box = QGroupBox("Generator")
        b = QVBoxLayout(box)
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(self.open_folder_button)
        b.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.open_run_button)
        row.addWidget(self.follow_live)
        row.addStretch(1)
        b.addLayout(row)
        b.addWidget(self.source_label)
        controls.addWidget(box)
        box = QGroupBox("Seeds")
        b = QVBoxLayout(box)
        row = QHBoxLayout()
        row.addWidget(QLabel("grid from seed"))
        row.addWidget(self.first_seed)
        row.addWidget(QLabel("selected"))
        row.addWidget(self.seed)
        row.addWidget(self.random_button)
        b.addLayout(row)
        b.addWidget(self.seed_grid, 1)
        row = QHBoxLayout()
        row.addWidget(self.truncate)
        row.addWidget(self.psi, 1)
        row.addWidget(self.psi_label)
        b.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.noise_mode)
        row.addStretch(1)
        b.addLayout(row)
        controls.addWidget(box, 1)
        box = QGroupBox("Your images (projection)")
        b = QVBoxLayout(box)
        row = QHBoxLayout()
        row.addWidget(self.project_button)
        row.addStretch(1)
        b.addLayout(row)
        b.addWidget(self.projected_label)
        controls.addWidget(box)
        self.class_box = QGroupBox("Class (conditional generator)")
        b = QGridLayout(self.class_box)
        b.addWidget(QLabel("class"), 0, 0)
        b.addWidget(self.class_choice, 0, 1)
        b.addWidget(self.all_classes_button, 0, 2)
        b.addWidget(QLabel("blend toward"), 1, 0)
        b.addWidget(self.blend_to, 1, 1)
        b.addWidget(self.blend, 1, 2)
        controls.addWidget(self.class_box)
        self.codes_box = CodesBox()                 # an InfoGAN generator's codes
        controls.addWidget(self.codes_box)
        self.mixing_box = QGroupBox("Style mixing (StyleGAN, StyleGAN2)")
        b = QGridLayout(self.mixing_box)
        b.addWidget(QLabel("row seeds"), 0, 0)
        b.addWidget(self.mix_rows, 0, 1, 1, 3)
        b.addWidget(QLabel("column seeds"), 1, 0)
        b.addWidget(self.mix_cols, 1, 1, 1, 3)
        b.addWidget(QLabel("layers from columns"), 2, 0)
        b.addWidget(self.mix_band, 2, 1)
        b.addWidget(self.mix_from, 2, 2)
        b.addWidget(self.mix_to, 2, 3)
        b.addWidget(self.mix_button, 3, 0, 1, 4)
        controls.addWidget(self.mixing_box)
        self.layers_box = LayersBox()               # any family: one feature map of G, live
        controls.addWidget(self.layers_box)
        box = QGroupBox("Principal directions (GANSpace)")
        b = QVBoxLayout(box)
        row = QHBoxLayout()
        for w in (self.compute_button, self.save_dirs_button, self.load_dirs_button, self.reset_dirs_button):
            row.addWidget(w)
        b.addLayout(row)
        b.addLayout(dir_grid)
        controls.addWidget(box)
        box = QGroupBox("Interpolation (slerp between seeds)")
        b = QVBoxLayout(box)
        row = QHBoxLayout()
        row.addWidget(QLabel("keyframes (seeds, p1…)"))
        row.addWidget(self.keyframes, 1)
        row.addWidget(self.interp_space)
        b.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(QLabel("frames per segment"))
        row.addWidget(self.frames_per_segment)
        row.addWidget(self.loop)
        row.addWidget(self.play_button)
        row.addWidget(self.export_video_button)
        b.addLayout(row)
        controls.addWidget(box)
        row = QHBoxLayout()
        for w in (self.save_image_button, self.save_grid_button, self.save_latent_button, self.load_latent_button):
            row.addWidget(w)
        controls.addLayout(row)
        left = QWidget()
        left.setLayout(controls)
        scroll = vertical_scroll(left)
        self.controls_scroll = scroll
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.view, 1)
        rl.addWidget(self.caption)
        self.splitter = named(QSplitter(Qt.Horizontal), "explorer_splitter")
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

        self.play_timer = QTimer(self)
        self.play_timer.setInterval(40)
        self.play_timer.timeout.connect(self._next_frame)

        self.open_button.clicked.connect(self.open_dialog)
        self.open_folder_button.clicked.connect(self.open_folder_dialog)
        self.open_run_button.clicked.connect(self._open_run_newest)
        self.first_seed.valueChanged.connect(self._render_grid)
        self.seed.valueChanged.connect(self._seed_changed)
        self.first_seed.valueChanged.connect(self._mark_seed)
        self.seed.valueChanged.connect(self._mark_seed)
        self.random_button.clicked.connect(lambda: self.seed.setValue(random.randrange(0, 2**31 - 1)))
        self.truncate.toggled.connect(self._truncation_changed)
        self.psi.valueChanged.connect(self._truncation_changed)
        self.compute_button.clicked.connect(self._compute_directions)
        self.save_dirs_button.clicked.connect(self._save_directions)
        self.load_dirs_button.clicked.connect(self._load_directions)
        self.reset_dirs_button.clicked.connect(lambda: self._reset_directions())
        self.play_button.clicked.connect(self._toggle_play)
        self.export_video_button.clicked.connect(self._export_video)
        self.save_image_button.clicked.connect(self._save_image)
        self.save_grid_button.clicked.connect(self._save_grid)
        self.save_latent_button.clicked.connect(self._save_latent)
        self.load_latent_button.clicked.connect(self._load_latent)
        self.project_button.clicked.connect(self.open_projection)
        self.setAcceptDrops(True)
        self.noise_mode.currentIndexChanged.connect(self._truncation_changed)
        self.mix_band.currentIndexChanged.connect(self._band_changed)
        self.mix_from.valueChanged.connect(self._custom_range)
        self.mix_to.valueChanged.connect(self._custom_range)
        self.mix_button.clicked.connect(self._render_mixing)
        self.class_choice.currentIndexChanged.connect(self._class_changed)
        self.blend_to.currentIndexChanged.connect(self._render_selected)
        self.blend.valueChanged.connect(self._render_selected)
        self.all_classes_button.clicked.connect(self._render_all_classes)
        self.codes_box.changed.connect(self._class_changed)
        self.codes_box.across_requested.connect(self._render_all_categories)
        self.layers_box.changed.connect(self._render_layers)
        self.layers_box.toggled.connect(self._layers_toggled)
        self.layers_box.save_requested.connect(self._save_layer_picture)
        self.class_box.setVisible(False)
        self._show_family(False)
        self._update_enabled()

    # -------------------------------------------------------------- sources
    def open_dialog(self) -> None:
        path = open_file_name(self, "Open a checkpoint", "Checkpoints (*.pt);;All files (*)")
        if path:
            self.open_path(path)

    def set_open_run(self, path: str | None) -> None:
        """The run open in the window: its newest checkpoint is one click away, and a generator of
        another run on view gives way to it (the explorer explores the run the window shows)."""
        previous, self.open_run = self.open_run, path
        self.open_run_button.setEnabled(path is not None)
        self.open_run_button.setToolTip(f"the newest checkpoint of {path}" if path else
                                        "the newest checkpoint of the run open on the Training page")
        if path is None or previous == path or self.follow_live.isChecked():
            return
        if self.source is not None and self.source.path:
            shown = Path(self.source.path).resolve()
            if Path(path).resolve() in (shown, *shown.parents):
                return                   # already one of this run's generators
        self._show_open_run = True       # loaded when the page is shown (or now, if it is)
        if self.isVisible():
            self._load_open_run()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._show_open_run:
            self._load_open_run()

    def _load_open_run(self) -> None:
        """The open run's newest generator on view (it replaces another run's)."""
        from ...core.storage.runfolder import RunFolder
        self._show_open_run = False
        if self.open_run is None or self.follow_live.isChecked():
            return
        if RunFolder(self.open_run).checkpoints():
            self.open_path(self.open_run)
        elif self.source is not None:
            self.clear_source(f"{Path(self.open_run).name} has no checkpoint yet: the explorer shows one once "
                              "it is written (Open run's newest)")

    def _forget_projections(self) -> None:
        """Projected latents draw their image only through the generator they were found for, and a
        dialog open on the old generator would hand its result to the wrong one: all of it goes."""
        if self.projection_dialog is not None:
            self.projection_dialog.close()       # a running projection stops after its step
            self.projection_dialog = None
        self.projections.clear()
        self.projected_label.setText(self.projections.describe())
        self.loaded_latent = self.loaded_w = self.current_name = None

    def clear_source(self, why: str) -> None:
        """No generator on view (the one shown belonged to a run no longer open)."""
        self._forget_projections()
        self.source = None
        self.directions = None
        self.view.set_array(None)
        self.view.set_cell_labels([], 0)
        self.seed_grid.set_array(None)
        self.caption.setText("")
        self.source_label.setText(why)
        self.source_label.setToolTip("")
        self._show_classes(None)
        self._update_enabled()

    def _open_run_newest(self) -> None:
        if self.open_run:
            self.open_path(self.open_run)

    def open_folder_dialog(self) -> None:
        folder = existing_directory(self, "Open a run folder or a generator export")
        if folder:
            self.open_path(folder)

    def open_path(self, path: str) -> None:
        from ...core.storage.checkpoint import CheckpointError
        try:
            loaded = load_generator(path)
        except CheckpointError as exc:
            self.status.emit(str(exc))
            self.source_label.setText(f"<span style='color:#c0392b'>{exc}</span>")
            return
        self.follow_live.setChecked(False)
        self.set_source(Source(loaded.generator, loaded.level, loaded.alpha, str(loaded.source), loaded.kimg,
                               str(loaded.source)))

    def set_source(self, source: Source) -> None:
        old = self.source.generator if self.source is not None else None
        new = source.generator
        same_arch = old is not None and old.latent_size == new.latent_size and uses_w_space(old) == uses_w_space(new)
        previous = self.source
        self.source = source
        if not same_arch:
            self.directions = None
            self._reset_directions(render=False)       # set_source renders once, below
            self._show_family(uses_w_space(new))
        elif self.directions is not None and previous is not None and previous.label != source.label \
                and not self.follow_live.isChecked():
            # principal directions belong to the generator they were computed on: another one's
            # axes would move it along meaningless lines (a live refresh keeps them: same run)
            self.directions = None
            self._reset_directions(render=False)
            self.status.emit("directions cleared: they were computed on another generator — "
                             "Compute directions again for this one")
        if previous is not None and (not same_arch or (previous.label != source.label
                                                       and not self.follow_live.isChecked())):
            # a projected latent draws the image only through the generator it was found for; a
            # projection dialog open on the old one would hand its result to the wrong generator
            self._forget_projections()
        family = family_of_generator(new).title
        place = f"{2 ** source.level}×{2 ** source.level}" + (f" · α {source.alpha:.2f}" if family_of_generator(source.generator).grows else "")
        self.source_label.setText(f"{source_name(source.label)} · {family} · {place} · {source.kimg:.1f} kimg")
        self.source_label.setToolTip(source.path or source.label)
        self._show_classes(getattr(new, "class_names", None))
        self.codes_box.set_generator(new)
        self._update_enabled()
        self._render_grid()
        if self.view_mixing is not None and self.stylegan and same_arch:
            self._render_mixing()       # a style-mixing grid on view stays one, from the new weights
        else:
            self._render_selected()

    def take_snapshot(self, snap) -> None:
        """A GeneratorSnapshotEvent from the live training (only used while following)."""
        if not self.follow_live.isChecked():
            return
        G = build_generator(snap.architecture)
        G.load_state_dict(snap.state_dict)
        G.eval().requires_grad_(False)
        self.set_source(Source(G, snap.level, snap.alpha, "live training", snap.kimg))

    def _show_classes(self, names) -> None:
        """A conditional generator's classes in the selector (the choice kept when the names are)."""
        names = list(names or [])
        current = [self.class_choice.itemText(i) for i in range(self.class_choice.count())]
        self.class_box.setVisible(bool(names))
        if names == current:
            return
        for combo in (self.class_choice, self.blend_to):
            with QSignalBlocker(combo):
                combo.clear()
                combo.addItems(names)
        with QSignalBlocker(self.blend_to):
            self.blend_to.setCurrentIndex(min(1, len(names) - 1))
        with QSignalBlocker(self.blend):
            self.blend.setValue(0)

    def class_labels(self, n: int, blended: bool = False) -> torch.Tensor | None:
        """The labels of ``n`` latents: the chosen class (with ``blended``, its embedding moved
        toward the blend class by the slider), None for an unconditional generator."""
        classes = getattr(self.source.generator, "classes", 0) if self.source is not None else 0
        if not classes:
            return None
        rows = torch.zeros(n, classes)
        t = self.blend.value() / 100 if blended else 0.0
        rows[:, max(0, self.class_choice.currentIndex())] += 1.0 - t
        rows[:, max(0, self.blend_to.currentIndex())] += t
        return rows

    def _class_changed(self) -> None:
        self._render_grid()
        self._render_selected()

    def _render_all_classes(self) -> None:
        G = self.source.generator if self.source is not None else None
        if not getattr(G, "classes", 0):
            return
        z = self.current_latent().expand(G.classes, -1).contiguous()
        job = self.images_job(z, labels=torch.arange(G.classes))
        names = list(G.class_names)
        cols = min(len(names), 8)
        self.worker.submit("classes", lambda: (make_grid(job(), cols=cols, pad=2, pad_value=255), names, cols))

    @property
    def stylegan(self) -> bool:
        return self.source is not None and uses_w_space(self.source.generator)

    def _show_family(self, stylegan: bool) -> None:
        """The w-space controls appear for StyleGAN and StyleGAN2 generators; ψ changes meaning with the family."""
        self.mixing_box.setVisible(stylegan)
        self.noise_mode.setVisible(stylegan)
        self.interp_space.setVisible(stylegan)
        with QSignalBlocker(self.psi):
            if stylegan:        # lerp toward the mean w: 0 = the mean image, 1 = no truncation
                self.truncate.setText("truncation ψ (toward mean w)")
                self.psi.setRange(0, 150)
                self.psi.setValue(70)
            else:               # truncated-normal threshold on z
                self.truncate.setText("truncation ψ")
                self.psi.setRange(10, 300)
                self.psi.setValue(100)
        self.psi_label.setText(f"{self.psi.value() / 100:.2f}" if self.truncate.isChecked() else "off")
        if stylegan:
            n = self.source.generator.num_ws
            for box in (self.mix_from, self.mix_to):
                with QSignalBlocker(box):
                    box.setRange(0, n)
            for i, band in enumerate(("coarse", "middle", "fine")):
                lo, hi = layer_range(self.source.generator, band)
                self.mix_band.setItemText(i, f"{band} ({lo}–{hi - 1})" if hi > lo else f"{band} (none here)")
            self._band_changed()

    def _band_changed(self) -> None:
        band = self.mix_band.currentData()
        if band != "custom" and self.stylegan:
            lo, hi = layer_range(self.source.generator, band)
            for box, v in ((self.mix_from, lo), (self.mix_to, hi)):
                with QSignalBlocker(box):
                    box.setValue(v)

    def _custom_range(self) -> None:
        with QSignalBlocker(self.mix_band):
            self.mix_band.setCurrentIndex(self.mix_band.findData("custom"))

    def _update_enabled(self) -> None:
        has = self.source is not None
        self.mix_button.setEnabled(has)
        for w in (self.compute_button, self.play_button, self.export_video_button, self.save_image_button,
                  self.save_grid_button, self.save_latent_button, self.load_latent_button, self.project_button):
            w.setEnabled(has)
        has_dirs = has and self.directions is not None
        for s in self.dir_sliders:
            s.setEnabled(has_dirs)
        self.save_dirs_button.setEnabled(has_dirs)
        self.load_dirs_button.setEnabled(has)
        self.reset_dirs_button.setEnabled(has_dirs)

    # -------------------------------------------------------------- latents
    def psi_value(self) -> float | None:
        return self.psi.value() / 100 if self.truncate.isChecked() else None

    def z_truncation(self) -> float | None:
        """ψ for the latents themselves: the progressive family truncates z, StyleGAN2 truncates w."""
        return None if self.stylegan else self.psi_value()

    def _render_all_categories(self) -> None:
        """The selected seed in every category of the InfoGAN generator's first categorical code."""
        if self.source is None or not self.codes_box.has_categories():
            return
        codes = self.codes_box.rows_across()
        z = self.current_latent().expand(len(codes), -1).contiguous()
        src, labels = self.source, self.class_labels(len(codes))
        cols = min(len(codes), 10)
        names = [str(c) for c in range(len(codes))]          # short: a cell is one image wide
        self.worker.submit("categories", lambda: (make_grid(render(src.generator, z, src.level, src.alpha,
                                                                   labels=labels, codes=codes),
                                                            cols=cols, pad=2, pad_value=255), names, cols))

    def w_psi(self) -> float:
        return self.psi_value() if (self.stylegan and self.psi_value() is not None) else 1.0

    def images_job(self, z: torch.Tensor, with_directions: bool = False, labels: torch.Tensor | None = None):
        """A render-thread job: latents → uint8 images, in z or (StyleGAN2) through w; a conditional
        generator's images are of the chosen class (blended toward the other one for the selected image)
        unless ``labels`` says otherwise."""
        src = self.source
        if labels is None:
            labels = self.class_labels(len(z), blended=with_directions)
        if not self.stylegan:
            codes = self.codes_box.rows(len(z))         # InfoGAN: as set by hand, else each latent's own
            return lambda: render(src.generator, z, src.level, src.alpha, labels=labels, codes=codes)
        psi, noise = self.w_psi(), self.noise_mode.currentData()
        dirs, offsets = (self.directions, self.offsets()) if with_directions else (None, [])

        given_w = self.loaded_w if with_directions else None

        def job():
            w = (truncate_w(src.generator, given_w, psi, labels) if given_w is not None
                 else map_to_w(src.generator, z, psi, labels=labels))
            if dirs is not None and any(offsets):
                w = dirs.apply(w, offsets[: dirs.vectors.shape[0]])
            return render_w(src.generator, w, noise)
        return job

    def offsets(self) -> list[float]:
        return [s.value() / 10 for s in self.dir_sliders]

    def current_latent(self) -> torch.Tensor:
        size = self.source.generator.latent_size
        z = self.loaded_latent if self.loaded_latent is not None else seeded_latents([self.seed.value()], size,
                                                                                     self.z_truncation())
        if self.directions is not None and any(self.offsets()) and not self.stylegan:   # StyleGAN2: in w
            z = self.directions.apply(z, self.offsets()[: self.directions.vectors.shape[0]])
        return z

    def _seed_changed(self) -> None:
        self.loaded_latent = self.loaded_w = self.current_name = None
        self._render_selected()

    def _truncation_changed(self) -> None:
        self.psi_label.setText(f"{self.psi.value() / 100:.2f}" if self.truncate.isChecked() else "off")
        self._render_grid()
        self._render_selected()

    # -------------------------------------------------------------- rendering (in the render thread)
    def _render_selected(self) -> None:
        if self.source is None or self.play_timer.isActive():
            return
        job = self.images_job(self.current_latent(), with_directions=True)
        self.worker.submit("selected", lambda: job()[0])
        self._render_layers()

    def _layers_toggled(self, on: bool) -> None:
        """Switched on: the box scrolls into view (it sits low in the column, its pictures below
        its check box)."""
        self._reveal_layers = on         # again once its pictures have grown it
        if on:
            QTimer.singleShot(0, self._show_layers_box)

    def _show_layers_box(self) -> None:
        self.controls_scroll.ensureWidgetVisible(self.layers_box, 0, 0)

    def _render_layers(self) -> None:
        """The layer view, for the selected latent as it is drawn (nothing while the box is off)."""
        if self.source is None or not self.layers_box.isChecked() or self.play_timer.isActive():
            return
        G = self.source.generator
        job = self.images_job(self.current_latent(), with_directions=True)
        key, view, channel = self.layers_box.wanted()
        self.worker.submit("layers", lambda: trace_and_picture(G, job, key, view, channel))

    def _render_grid(self) -> None:
        if self.source is None:
            return
        seeds = list(range(self.first_seed.value(), self.first_seed.value() + GRID_SIDE * GRID_SIDE))
        job = self.images_job(seeded_latents(seeds, self.source.generator.latent_size, self.z_truncation()))
        self.worker.submit("grid", lambda: make_grid(job(), cols=GRID_SIDE, pad=2, pad_value=255))

    def _on_render_failed(self, kind: str, message: str) -> None:
        self.status.emit(f"render failed: {message}")

    def _on_rendered(self, kind: str, result, seconds: float, number: int = 0) -> None:
        if number and not self.worker.is_newest(kind, number):
            return                   # overtaken by a newer request (a slider moved, another source opened)
        if kind == "selected":
            self.last_render_ms = seconds * 1000
            self.view.set_array(result)
            self.view.set_cell_labels([], 0)
            self.view_mixing = None
            what = self.current_name or ("latent from file" if self.loaded_latent is not None
                                         else f"seed {self.seed.value()}")
            psi = f" · ψ {self.psi_value():.2f}" if self.psi_value() is not None else ""
            noise = f" · {self.noise_mode.currentText()}" if self.stylegan else ""
            if self.class_box.isVisible():
                what += f" · {self.class_choice.currentText()}" + (
                    f" → {self.blend_to.currentText()} {self.blend.value()}%" if self.blend.value() else "")
            chosen = self.codes_box.chosen()
            if chosen is not None:           # InfoGAN's codes set by hand
                what += " · codes " + " ".join([*map(str, chosen[0]), *(f"{v:+.2f}" for v in chosen[1])])
            self.caption.setText(f"{what}{psi}{noise} · rendered in {self.last_render_ms:.0f} ms")
            self.image_rendered.emit()
        elif kind == "mixing":
            grid, spec = result
            self.play_timer.stop()
            self.view.set_array(grid)
            n_cols = len(spec["columns"])          # the sources named: columns across the top, rows down
            def named_key(k) -> str:
                return f"seed {k}" if isinstance(k, int) else str(k)
            self.view.set_cell_labels(["", *map(named_key, spec["columns"])] +
                                      [c for r in spec["rows"] for c in [named_key(r)] + [""] * n_cols], n_cols + 1)
            self.view_mixing = spec          # what the view shows, for the saved PNG's provenance
            rows, cols, (lo, hi) = spec["rows"], spec["columns"], spec["layers"]
            self.caption.setText(f"style mixing: rows {rows} with layers {lo}–{hi - 1} from columns {cols}")
            self.mixing_rendered.emit()
        elif kind in ("classes", "categories"):      # one seed in every class, or every InfoGAN category
            grid, names, cols = result
            self.play_timer.stop()
            self.view.set_array(grid)
            self.view.set_cell_labels(names, cols)
            self.view_mixing = None
            self.caption.setText(f"seed {self.seed.value()} in every class: {', '.join(names)}" if kind == "classes"
                                 else f"seed {self.seed.value()} in every category of the first InfoGAN code")
            self.image_rendered.emit()
        elif kind == "layers":
            self.layers_box.show_result(*result)
            if self._reveal_layers:
                self._reveal_layers = False
                QTimer.singleShot(0, self._show_layers_box)
            self.layers_rendered.emit()
        elif kind == "grid":
            self.seed_grid.set_array(result)
            self.grid_rendered.emit()
        elif kind == "directions":
            self.directions = result
            for name, n in zip(self.dir_names, result.names):
                name.setText(n)
            self.compute_button.setEnabled(True)
            self.compute_button.setText("Compute directions")
            self._update_enabled()
            self.status.emit(f"{len(result.names)} principal directions computed")
        elif kind == "frames":
            self.frames = result
            self.frame_index = 0
            self.play_timer.start()
            self.play_button.setText("Stop")

    def _mark_seed(self) -> None:
        """The seed shown large is outlined in the seed grid when it is one of the grid's."""
        self.seed_grid.set_highlight(self.seed.value() - self.first_seed.value(), GRID_SIDE)

    def _grid_clicked(self, pos) -> None:
        rect = self.seed_grid.target_rect()
        if not rect.contains(pos):
            return
        col = (pos.x() - rect.x()) * GRID_SIDE // max(rect.width(), 1)
        row = (pos.y() - rect.y()) * GRID_SIDE // max(rect.height(), 1)
        self.seed.setValue(self.first_seed.value() + row * GRID_SIDE + col)

    # -------------------------------------------------------------- directions
    def _compute_directions(self) -> None:
        src = self.source
        self.compute_button.setEnabled(False)
        self.compute_button.setText("Computing…")
        compute = compute_w_directions if self.stylegan else compute_directions
        self.worker.submit("directions", lambda: compute(src.generator, k=N_DIRECTIONS, samples=2000))

    def _names_edited(self) -> None:
        if self.directions is not None:
            self.directions.names = [n.text() for n in self.dir_names][: len(self.directions.names)]

    def _show_direction_values(self) -> None:
        for slider, label in zip(self.dir_sliders, self.dir_values):
            label.setText(f"{slider.value() / 10:+.1f}σ")

    def _reset_directions(self, render: bool = True) -> None:
        for s in self.dir_sliders:
            with QSignalBlocker(s):
                s.setValue(0)
        self._show_direction_values()
        self._update_enabled()
        if render:
            self._render_selected()

    def _save_directions(self) -> None:
        path = save_file_name(self, "Save directions", "directions.json", "JSON (*.json)")
        if path and self.directions is not None:
            self._names_edited()
            self.directions.source = self.source.label
            self._write(lambda: self.directions.save(path), f"directions saved to {path}")

    def _load_directions(self) -> None:
        path = open_file_name(self, "Load directions", "JSON (*.json)")
        if not path:
            return
        try:
            d = Directions.load(path)
        except (ValueError, OSError, KeyError) as exc:
            self.status.emit(str(exc))
            return
        if d.vectors.shape[1] != self.source.generator.latent_size:
            self.status.emit(f"{path}: directions are for latent size {d.vectors.shape[1]}")
            return
        if d.space != ("w" if self.stylegan else "z"):
            self.status.emit(f"{path}: directions in {d.space} space do not fit this generator")
            return
        self.directions = d
        for name, n in zip(self.dir_names, d.names):
            name.setText(n)
        self._reset_directions()

    # -------------------------------------------------------------- interpolation
    def _frames_job(self):
        """The interpolation's frames as a render-thread job, or None (with a status message).
        Keyframes are seeds or projected images (p1, p2, …); with a StyleGAN2 projection among them
        the path runs in w (w+ if one is w+)."""
        try:
            keys = self.projections.parse_keyframes(self.keyframes.text())
        except ValueError as exc:
            self.status.emit(f"interpolation keyframes: {exc}")
            return None
        if len(keys) < 2:
            self.status.emit("interpolation keyframes: at least 2, e.g. 0, 1, 2 or p1, p2")
            return None
        src, n, loop = self.source, self.frames_per_segment.value(), self.loop.isChecked()
        psi, noise, z_psi = self.w_psi(), self.noise_mode.currentData(), self.z_truncation()
        in_w = self.stylegan and self.interp_space.currentData() == "w"
        labels = self.class_labels(1)
        if in_w or any(isinstance(k, Projected) and k.space != "z" for k in keys):
            # seeds pass the mapping network: in the render thread, like every use of the generator
            return lambda: list(render_w(src.generator, interpolate_w(keyframe_latents(
                src.generator, keys, z_psi, map_to_w, psi, lambda n: labels, in_w=True)[0], n, loop), noise))
        latents = keyframe_latents(src.generator, keys, z_psi, map_to_w, psi, None, in_w=False)[0]   # no G: z only
        job = self.images_job(interpolation_path(latents, n, loop=loop))
        return lambda: list(job())

    def _render_mixing(self) -> None:
        """Rows × columns of seeds or projected images (p1, …): a projection mixes like a seed."""
        if not self.stylegan:
            return
        try:
            rows = self.projections.parse_keyframes(self.mix_rows.text())
            cols = self.projections.parse_keyframes(self.mix_cols.text())
        except ValueError as exc:
            self.status.emit(f"style mixing: {exc}")
            return
        if not rows or not cols:
            self.status.emit("style mixing: give row and column seeds (or p1, p2, …)")
            return
        lo, hi = self.mix_from.value(), self.mix_to.value()
        if hi <= lo:
            self.status.emit("style mixing: the layer range is empty (choose from < to)")
            return
        G, psi, noise = self.source.generator, self.w_psi(), self.noise_mode.currentData()
        labels = self.class_labels(1)
        spec = {"rows": key_names(self.mix_rows.text()), "columns": key_names(self.mix_cols.text()), "layers": [lo, hi]}

        def job():                   # in the render thread: seeds pass the mapping network
            w_rows, w_cols = (keyframe_latents(G, keys, None, map_to_w, psi, lambda n: labels, in_w=True)[0]
                              for keys in (rows, cols))
            return style_mixing_grid(G, w_rows, w_cols, lo, hi, noise), spec
        self.worker.submit("mixing", job)

    def _toggle_play(self) -> None:
        if self.play_timer.isActive():
            self.play_timer.stop()
            self.play_button.setText("Play")
            self._render_selected()
            return
        job = self._frames_job()
        if job is None:
            return
        self.play_button.setText("Rendering…")
        self.worker.submit("frames", job)

    def _next_frame(self) -> None:
        if not self.frames:
            return
        self.view.set_array(self.frames[self.frame_index % len(self.frames)])
        self.view.set_cell_labels([], 0)
        self.caption.setText(f"frame {self.frame_index % len(self.frames) + 1}/{len(self.frames)}")
        self.frame_index += 1

    def _export_video(self) -> None:
        job = self._frames_job()
        if job is None:
            return
        out = save_file_name(self, "Export interpolation", "interpolation.gif",
                                             "GIF (*.gif);;MP4 video (*.mp4)")
        if not out:
            return
        size = max(256, 2 ** self.source.level)
        frames = [upscale_nearest(f, size) for f in job()]
        try:
            write_video(frames, out, fps=24)
        except (ValueError, OSError) as exc:
            self.status.emit(str(exc))
            return
        self.status.emit(f"{len(frames)} frames → {out}")

    # -------------------------------------------------------------- exports
    def provenance(self) -> dict:
        p = {"checkpoint": self.source.label, "kimg": round(self.source.kimg, 3), "resolution": 2 ** self.source.level,
             "alpha": self.source.alpha, "psi": self.psi_value(),
             "arch": family_of_generator(self.source.generator).name}
        if self.stylegan:
            p["truncation"] = "toward mean w"
            p["noise"] = self.noise_mode.currentData()
        if self.view_mixing is not None:       # the view holds a style-mixing grid, not one seed
            p["style_mixing"] = self.view_mixing
            return p
        if self.loaded_w is not None:
            p["w_space" if self.loaded_w.dim() == 2 else "w_plus"] = self.loaded_w[0].tolist()
            p["projected_from"] = self.current_name
        elif self.loaded_latent is not None:
            p["latent"] = self.loaded_latent[0].tolist()
            if self.current_name:
                p["projected_from"] = self.current_name
        else:
            p["seed"] = self.seed.value()
        labels = self.class_labels(1, blended=True)
        if labels is not None:               # the class drawn (and a blend toward another)
            names = list(self.source.generator.class_names)
            p["class"] = names[max(0, self.class_choice.currentIndex())]
            if self.blend.value():
                p["class_blend"] = {"toward": names[max(0, self.blend_to.currentIndex())],
                                    "weight": self.blend.value() / 100}
        codes = self.codes_box.provenance()
        if codes is not None:                # the InfoGAN codes set by hand
            p["codes"] = codes
        if self.directions is not None and any(self.offsets()):
            p["direction_offsets"] = {n: o for n, o in zip(self.directions.names, self.offsets()) if o}
        return p

    def _save_image(self) -> None:
        img = self.view.array()
        if img is None:
            return
        name = "style-mixing.png" if self.view_mixing is not None else f"seed{self.seed.value()}.png"
        path = save_file_name(self, "Save image", name, "PNG (*.png)")
        if path:
            self._write(lambda: save_png(img, path, self.provenance()), f"saved {path}")

    def _save_layer_picture(self) -> None:
        shown = self.layers_box.shown()
        if shown is None or self.source is None:
            return
        picture, what = shown
        name = f"{what['layer']}-{what['layer_view']}.png".replace("#", "-")
        path = save_file_name(self, "Save layer picture", name, "PNG (*.png)")
        if path:
            provenance = {**self.provenance(), **what}
            self._write(lambda: save_png(picture, path, provenance), f"saved {path}")

    def _save_grid(self) -> None:
        grid = self.seed_grid.array()
        if grid is None:
            return
        path = save_file_name(self, "Save grid", "grid.png", "PNG (*.png)")
        if path:
            provenance = {"checkpoint": self.source.label, "first_seed": self.first_seed.value(), "psi": self.psi_value()}
            self._write(lambda: save_png(grid, path, provenance), f"saved {path}")

    def _save_latent(self) -> None:
        path = save_file_name(self, "Save latent", "latent.npy", "NumPy (*.npy)")
        if path:
            import io
            buffer = io.BytesIO()
            np.save(buffer, (self.loaded_w if self.loaded_w is not None else self.current_latent()).numpy())
            self._write(lambda: write_atomic(path, buffer.getvalue()), f"saved {path}")

    def _write(self, write, done: str) -> None:
        """Run an export; a refusing disk is said in the status bar."""
        if exported(write, self.status.emit):
            self.status.emit(done)

    def _load_latent(self) -> None:
        path = open_file_name(self, "Load latent", "NumPy (*.npy)")
        if not path:
            return
        try:
            z = torch.from_numpy(np.load(path)).float().reshape(1, -1)
        except (OSError, ValueError) as exc:
            self.status.emit(f"{path}: {exc}")
            return
        if z.shape[1] != self.source.generator.latent_size:
            self.status.emit(f"{path}: latent size {z.shape[1]}, the generator needs "
                             f"{self.source.generator.latent_size}")
            return
        self.loaded_latent, self.loaded_w, self.current_name = z, None, None
        self._reset_directions()

    # -------------------------------------------------------------- projection
    def open_projection(self, image_path: str | None = None) -> ProjectionDialog | None:
        """The projection dialog for the generator on view (one at a time), optionally with an image."""
        if self.source is None:
            self.status.emit("open a checkpoint or export first: a projection needs a generator")
            return None
        if self.projection_dialog is not None and self.projection_dialog.running():
            self.projection_dialog.raise_()
            return self.projection_dialog
        if self.projection_dialog is not None:
            self.projection_dialog.close()
        classes = getattr(self.source.generator, "classes", 0)
        dialog = ProjectionDialog(self.source, max(0, self.class_choice.currentIndex()) if classes else None, self)
        dialog.use_requested.connect(self._use_projection)
        self.projection_dialog = dialog
        dialog.show()
        if image_path:
            dialog.set_image(image_path)
        return dialog

    def _use_projection(self, result, name: str) -> None:
        """The projected latent becomes the current point: directions, truncation, mixing's
        neighbours and interpolation (as p1, p2, …) work on it."""
        latent = torch.from_numpy(result.latent)[None].float()
        dialog = self.projection_dialog
        if dialog is not None and dialog.projected_class is not None and getattr(self.source.generator, "classes", 0):
            with QSignalBlocker(self.class_choice):     # the class it was projected into, as the dialog showed it
                self.class_choice.setCurrentIndex(dialog.projected_class)
            with QSignalBlocker(self.blend):
                self.blend.setValue(0)
        key = self.projections.add(Projected(name, result.space, latent, result.psnr))
        self.projected_label.setText(self.projections.describe())
        self.view_mixing = None
        if result.space == "z":
            self.loaded_latent, self.loaded_w = latent, None
        else:
            self.loaded_latent, self.loaded_w = None, latent
        self.current_name = f"{key} {name} (projected, {result.space})"
        # the reconstruction as the dialog showed it: truncation off and the directions at 0 (left as
        # they were, they moved p1 away from the image it reproduces)
        with QSignalBlocker(self.truncate):
            self.truncate.setChecked(False)
        self._reset_directions(render=False)
        self._render_selected()
        self.status.emit(f"{name} is the current point as {key}: move it along the directions, or use {key} "
                         "as an interpolation keyframe")

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and self.source is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls and self.open_projection(urls[0]) is not None:
            event.acceptProposedAction()

    def shutdown(self) -> None:
        if self.projection_dialog is not None:
            self.projection_dialog.close()
        self.play_timer.stop()
        self.worker.stop()
        self.thread.wait(10000)
