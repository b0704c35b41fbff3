"""Latent explorer: seeds, truncation, principal directions, interpolation and exports.

Works on any checkpoint, generator export, or a snapshot of the EMA generator that is
training right now (refreshed on every tick while "follow training" is on). The generator
runs only in the render thread.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QScrollArea, QSlider, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from ..core.directions import Directions, compute_directions
from ..core.export import render, save_png, upscale_nearest, write_video
from ..core.images import make_grid
from ..core.latents import interpolation_path, seeded_latents
from ..core.models import build_generator, load_generator
from .grid_view import GridView
from .render_worker import RenderWorker
from .workers import start_in_thread
from .widgets import named

GRID_SIDE = 4
N_DIRECTIONS = 6


@dataclass
class Source:
    generator: torch.nn.Module
    level: int
    alpha: float
    label: str                  # shown and written into PNG provenance
    kimg: float


class ExplorerPage(QWidget):
    image_rendered = Signal()
    grid_rendered = Signal()
    status = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.source: Source | None = None
        self.directions: Directions | None = None
        self.loaded_latent: torch.Tensor | None = None     # a latent loaded from .npy replaces the seed
        self.frames: list[np.ndarray] = []
        self.frame_index = 0
        self.last_render_ms = 0.0

        self.worker = RenderWorker()
        self.worker.rendered.connect(self._on_rendered)
        self.worker.failed.connect(lambda kind, msg: self.status.emit(f"render failed: {msg}"))
        self.thread = start_in_thread(self.worker, [self.worker.finished_running])

        # --- source
        self.open_button = named(QPushButton("Open checkpoint…"), "explorer_open")
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
        self.seed_grid = GridView(min_size=160, whole_factors=False)
        self.seed_grid.setObjectName("seed_grid")
        self.seed_grid.clicked_at.connect(self._grid_clicked)

        # --- directions
        self.compute_button = named(QPushButton("Compute directions"), "compute_directions")
        self.save_dirs_button = QPushButton("Save…")
        self.load_dirs_button = QPushButton("Load…")
        self.reset_dirs_button = QPushButton("Reset")
        self.dir_names: list[QLineEdit] = []
        self.dir_sliders: list[QSlider] = []
        dir_grid = QGridLayout()
        for i in range(N_DIRECTIONS):
            name = QLineEdit(f"PC{i + 1}")
            name.setObjectName(f"direction_name_{i}")
            slider = QSlider(Qt.Horizontal)
            slider.setObjectName(f"direction_{i}")
            slider.setRange(-30, 30)
            slider.setEnabled(False)
            slider.valueChanged.connect(self._render_selected)
            name.editingFinished.connect(self._names_edited)
            dir_grid.addWidget(name, i, 0)
            dir_grid.addWidget(slider, i, 1)
            self.dir_names.append(name)
            self.dir_sliders.append(slider)

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

        self.view = GridView(min_size=256)
        self.view.setObjectName("explorer_view")
        self.caption = named(QLabel(""), "explorer_caption")
        self.caption.setAlignment(Qt.AlignCenter)

        controls = QVBoxLayout()
        box = QGroupBox("Generator")
        b = QVBoxLayout(box)
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(self.follow_live)
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
        controls.addWidget(box, 1)
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
        row.addWidget(QLabel("keyframe seeds"))
        row.addWidget(self.keyframes, 1)
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
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
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
        self.first_seed.valueChanged.connect(self._render_grid)
        self.seed.valueChanged.connect(self._seed_changed)
        self.random_button.clicked.connect(lambda: self.seed.setValue(random.randrange(0, 2**31 - 1)))
        self.truncate.toggled.connect(self._truncation_changed)
        self.psi.valueChanged.connect(self._truncation_changed)
        self.compute_button.clicked.connect(self._compute_directions)
        self.save_dirs_button.clicked.connect(self._save_directions)
        self.load_dirs_button.clicked.connect(self._load_directions)
        self.reset_dirs_button.clicked.connect(self._reset_directions)
        self.play_button.clicked.connect(self._toggle_play)
        self.export_video_button.clicked.connect(self._export_video)
        self.save_image_button.clicked.connect(self._save_image)
        self.save_grid_button.clicked.connect(self._save_grid)
        self.save_latent_button.clicked.connect(self._save_latent)
        self.load_latent_button.clicked.connect(self._load_latent)
        self._update_enabled()

    # -------------------------------------------------------------- sources
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a checkpoint", "", "Checkpoints (*.pt);;All files (*)")
        if path:
            self.open_path(path)

    def open_path(self, path: str) -> None:
        from ..core.checkpoint import CheckpointError
        try:
            loaded = load_generator(path)
        except CheckpointError as exc:
            self.status.emit(str(exc))
            self.source_label.setText(f"<span style='color:#c0392b'>{exc}</span>")
            return
        self.follow_live.setChecked(False)
        self.set_source(Source(loaded.generator, loaded.level, loaded.alpha, str(loaded.source), loaded.kimg))

    def set_source(self, source: Source) -> None:
        same_arch = self.source is not None and self.source.generator.latent_size == source.generator.latent_size
        self.source = source
        if not same_arch:
            self.directions = None
            self._reset_directions()
        self.source_label.setText(f"{Path(source.label).name if '/' in source.label else source.label} · "
                                  f"{2 ** source.level}×{2 ** source.level} · α {source.alpha:.2f} · "
                                  f"{source.kimg:.1f} kimg")
        self._update_enabled()
        self._render_grid()
        self._render_selected()

    def take_snapshot(self, snap) -> None:
        """A GeneratorSnapshotEvent from the live training (only used while following)."""
        if not self.follow_live.isChecked():
            return
        G = build_generator(snap.architecture)
        G.load_state_dict(snap.state_dict)
        G.eval().requires_grad_(False)
        self.set_source(Source(G, snap.level, snap.alpha, "live training", snap.kimg))

    def _update_enabled(self) -> None:
        has = self.source is not None
        for w in (self.compute_button, self.play_button, self.export_video_button, self.save_image_button,
                  self.save_grid_button, self.save_latent_button, self.load_latent_button):
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

    def offsets(self) -> list[float]:
        return [s.value() / 10 for s in self.dir_sliders]

    def current_latent(self) -> torch.Tensor:
        size = self.source.generator.latent_size
        z = self.loaded_latent if self.loaded_latent is not None else seeded_latents([self.seed.value()], size,
                                                                                     self.psi_value())
        if self.directions is not None and any(self.offsets()):
            z = self.directions.apply(z, self.offsets()[: self.directions.vectors.shape[0]])
        return z

    def _seed_changed(self) -> None:
        self.loaded_latent = None
        self._render_selected()

    def _truncation_changed(self) -> None:
        self.psi_label.setText(f"{self.psi.value() / 100:.2f}" if self.truncate.isChecked() else "off")
        self._render_grid()
        self._render_selected()

    # -------------------------------------------------------------- rendering (in the render thread)
    def _render_selected(self) -> None:
        if self.source is None or self.play_timer.isActive():
            return
        src, z = self.source, self.current_latent()
        self.worker.submit("selected", lambda: render(src.generator, z, src.level, src.alpha)[0])

    def _render_grid(self) -> None:
        if self.source is None:
            return
        src = self.source
        seeds = list(range(self.first_seed.value(), self.first_seed.value() + GRID_SIDE * GRID_SIDE))
        z = seeded_latents(seeds, src.generator.latent_size, self.psi_value())
        self.worker.submit("grid", lambda: make_grid(render(src.generator, z, src.level, src.alpha), cols=GRID_SIDE,
                                                      pad=2, pad_value=255))

    def _on_rendered(self, kind: str, result, seconds: float) -> None:
        if kind == "selected":
            self.last_render_ms = seconds * 1000
            self.view.set_array(result)
            what = "latent from file" if self.loaded_latent is not None else f"seed {self.seed.value()}"
            psi = f" · ψ {self.psi_value():.2f}" if self.psi_value() else ""
            self.caption.setText(f"{what}{psi} · rendered in {self.last_render_ms:.0f} ms")
            self.image_rendered.emit()
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
        self.worker.submit("directions", lambda: compute_directions(src.generator, k=N_DIRECTIONS, samples=2000))

    def _names_edited(self) -> None:
        if self.directions is not None:
            self.directions.names = [n.text() for n in self.dir_names][: len(self.directions.names)]

    def _reset_directions(self) -> None:
        for s in self.dir_sliders:
            s.blockSignals(True)
            s.setValue(0)
            s.blockSignals(False)
        self._update_enabled()
        self._render_selected()

    def _save_directions(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save directions", "directions.json", "JSON (*.json)")
        if path and self.directions is not None:
            self._names_edited()
            self.directions.source = self.source.label
            self.directions.save(path)

    def _load_directions(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load directions", "", "JSON (*.json)")
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
        self.directions = d
        for name, n in zip(self.dir_names, d.names):
            name.setText(n)
        self._reset_directions()

    # -------------------------------------------------------------- interpolation
    def _path(self) -> torch.Tensor | None:
        try:
            seeds = [int(v) for v in self.keyframes.text().replace(" ", "").split(",") if v]
        except ValueError:
            self.status.emit("keyframes: seeds separated by commas, e.g. 0, 1, 2")
            return None
        if len(seeds) < 2:
            self.status.emit("interpolation needs at least two keyframe seeds")
            return None
        keys = seeded_latents(seeds, self.source.generator.latent_size, self.psi_value())
        return interpolation_path(keys, self.frames_per_segment.value(), loop=self.loop.isChecked())

    def _toggle_play(self) -> None:
        if self.play_timer.isActive():
            self.play_timer.stop()
            self.play_button.setText("Play")
            self._render_selected()
            return
        path = self._path()
        if path is None:
            return
        src = self.source
        self.play_button.setText("Rendering…")
        self.worker.submit("frames", lambda: list(render(src.generator, path, src.level, src.alpha)))

    def _next_frame(self) -> None:
        if not self.frames:
            return
        self.view.set_array(self.frames[self.frame_index % len(self.frames)])
        self.caption.setText(f"frame {self.frame_index % len(self.frames) + 1}/{len(self.frames)}")
        self.frame_index += 1

    def _export_video(self) -> None:
        path = self._path()
        if path is None:
            return
        out, _ = QFileDialog.getSaveFileName(self, "Export interpolation", "interpolation.gif",
                                             "GIF (*.gif);;MP4 video (*.mp4)")
        if not out:
            return
        src = self.source
        size = max(256, 2 ** src.level)
        frames = [upscale_nearest(f, size) for f in render(src.generator, path, src.level, src.alpha)]
        try:
            write_video(frames, out, fps=24)
        except (ValueError, OSError) as exc:
            self.status.emit(str(exc))
            return
        self.status.emit(f"{len(frames)} frames → {out}")

    # -------------------------------------------------------------- exports
    def provenance(self) -> dict:
        p = {"checkpoint": self.source.label, "kimg": round(self.source.kimg, 3), "resolution": 2 ** self.source.level,
             "alpha": self.source.alpha, "psi": self.psi_value()}
        if self.loaded_latent is not None:
            p["latent"] = self.loaded_latent[0].tolist()
        else:
            p["seed"] = self.seed.value()
        if self.directions is not None and any(self.offsets()):
            p["direction_offsets"] = {n: o for n, o in zip(self.directions.names, self.offsets()) if o}
        return p

    def _save_image(self) -> None:
        img = self.view.array()
        if img is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save image", f"seed{self.seed.value()}.png", "PNG (*.png)")
        if path:
            save_png(img, path, self.provenance())
            self.status.emit(f"saved {path}")

    def _save_grid(self) -> None:
        grid = self.seed_grid.array()
        if grid is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save grid", "grid.png", "PNG (*.png)")
        if path:
            save_png(grid, path, {"checkpoint": self.source.label, "first_seed": self.first_seed.value(),
                                  "psi": self.psi_value()})

    def _save_latent(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save latent", "latent.npy", "NumPy (*.npy)")
        if path:
            np.save(path, self.current_latent().numpy())

    def _load_latent(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load latent", "", "NumPy (*.npy)")
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
        self.loaded_latent = z
        self._reset_directions()

    def shutdown(self) -> None:
        self.play_timer.stop()
        self.worker.stop()
        self.thread.wait(10000)
