"""Run setup: every training setting in a form, with presets, validation and a schedule preview."""
from __future__ import annotations

import math
import os
import time

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QMessageBox, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from ...core.formatting import format_duration
from ...core.config import ADA_TARGETS, LOSSES, PRECISIONS, TrainConfig
from ...core.presets import fitted_attention, preset_values
from ...core.families import FAMILIES, family
from ...core.training.precision import cpu_has_native_bf16
from ...core.storage.runfolder import RunFolder
from ...core.training.augment_choice import ADA_BELOW_IMAGES, NARROW_D_FMAPS, choose_augment
from ...core.training.heldout import heldout_count
from ...core.training.class_choice import choose_classes
from ...core.training.schedule import estimate_seconds, preview, total_kimg
from ..common.settings import app_settings, recall_throughput, throughput_key
from ..common.studio import Studio
from ..common.studio_state import StartRequest
from ..common.widgets import named, row_of
from .model_rows import ModelSettingsRows
from .queue_dialog import QueueDialog
from ..common.file_dialogs import existing_directory, open_file_name
from ...core.validation import config_problems

INVALID_STYLE = "border: 1px solid #d0342c; background: #fff0ef;"
LAST_SETTINGS = "form/last_started"          # QSettings key: the settings of the last run started


def parse_table(text: str, cast) -> dict:
    """'4:64 8:64, 16:32' → {4: 64, 8: 64, 16: 32}; raises ValueError with a readable message."""
    out = {}
    for item in text.replace(",", " ").split():
        if ":" not in item:
            raise ValueError(f"'{item}' is not resolution:value")
        k, v = item.split(":", 1)
        try:
            resolution, value = int(k), cast(v)
        except ValueError:
            raise ValueError(f"'{item}' is not resolution:value (a whole resolution, a "
                             f"{'whole number' if cast is int else 'number'})") from None
        if not math.isfinite(value):
            raise ValueError(f"'{item}': {v} is not a finite number")
        out[resolution] = value
    return out


def table_problem(table: dict, target: int) -> str | None:
    """Why a per-resolution table cannot stand as typed: a resolution the schedule never trains at
    (not a power of two from 4, or above the target) would be silently ignored."""
    for resolution in sorted(table):
        if resolution < 4 or resolution & (resolution - 1):
            return f"{resolution} is not a resolution the networks train at (a power of two: 4, 8, 16, …)"
        if resolution > target:
            return (f"{resolution} lies above the target resolution {target}: it would never be used "
                    f"(the run trains up to {target}×{target})")
    return None


def trimmed(table: dict, target: int) -> dict:
    """A preset's table up to the target resolution (its other entries would never be used)."""
    return {k: v for k, v in table.items() if k <= target}


def format_table(table: dict) -> str:
    return " ".join(f"{k}:{v:g}" if isinstance(v, float) else f"{k}:{v}" for k, v in sorted(table.items()))


def _spin(lo, hi, value, step=1, decimals=None, name=None):
    box = QDoubleSpinBox() if decimals is not None else QSpinBox()
    if decimals is not None:
        box.setDecimals(decimals)
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setValue(value)
    if name:
        box.setObjectName(name)
    return box


class SetupForm(QWidget):
    start_refused = Signal(str)     # Start was asked for while the settings have problems: which
    changed = Signal()

    def __init__(self, studio: Studio | None = None, parent=None):
        super().__init__(parent)
        self.studio = studio or Studio()
        self.studio.changed.connect(self._studio_changed)

        self.preset = named(QComboBox(), "preset")
        self.arch = named(QComboBox(), "arch")
        for fam in FAMILIES.values():
            self.arch.addItem(f"{fam.title} ({fam.description})", fam.name)
        self._fill_presets(self.arch.currentData())
        self.paper_note = named(QLabel(), "paper_note")      # a paper preset: what it keeps of the paper
        self.paper_note.setWordWrap(True)
        self.paper_note.setStyleSheet("color: #555")
        self.model_rows = ModelSettingsRows()
        self.mapping_layers = _spin(1, 16, 8, name="mapping_layers")
        self.style_mixing = _spin(0, 1, 0.9, 0.05, 2, "style_mixing")
        self.pl_weight = _spin(0, 100, 2, 0.5, 2, "pl_weight")
        self.demodulate = named(QCheckBox("demodulate"), "demodulate")
        self.demodulate.setChecked(True)
        self.demodulate.setToolTip("weight demodulation; off only to compare with plain modulation")
        self.resample = named(QComboBox(), "resample")
        self.resample.addItem("FIR filter (StyleGAN2's)", "fir")
        self.resample.addItem("nearest (the paper's)", "nearest")
        self.latent = _spin(1, 1024, 64, name="latent_size")
        self.fmap_base = _spin(4, 65536, 256, 64, name="fmap_base")
        self.fmap_max = _spin(1, 1024, 64, 16, name="fmap_max")
        self.loss = named(QComboBox(), "loss")
        self.loss.addItems(LOSSES)
        self.stabilize = _spin(0, 100000, 30, 1, 3, "stabilize_kimg")
        self.fade = _spin(0, 100000, 30, 1, 3, "fade_kimg")
        self.max_kimg = _spin(0, 1e7, 0, 1, 3, "max_kimg")
        self.max_kimg.setSpecialValueText("end of schedule")
        self.batch = named(QLineEdit(), "batch_table")
        self.batch.setToolTip("batch size per resolution, e.g. 4:64 8:64 16:32; others use the default")
        self.batch_default = _spin(1, 4096, 32, name="batch_default")
        self.lr = _spin(0, 1, 0.002, 0.0005, 5, "lr_default")
        self.lr_table = named(QLineEdit(), "lr_table")
        self.lr_table.setPlaceholderText("per-resolution overrides, e.g. 1024:0.0015")
        self.ema = _spin(0, 1000, 2, 0.5, 2, "ema_halflife")
        self.seed = _spin(0, 2**31 - 1, 0, name="seed")
        self.tick = _spin(0, 1e5, 1, 0.5, 3, "tick_kimg")
        self.sample = _spin(0, 1e5, 5, 1, 3, "sample_kimg")
        self.checkpoint = _spin(0, 1e6, 20, 5, 3, "checkpoint_kimg")
        self.metric_kimg = _spin(0, 1e6, 0, 10, 3, "metric_kimg")
        self.metric_kimg.setSpecialValueText("off")
        self.metric_n = _spin(16, 65536, 2048, 256, name="metric_n")
        self.metric_kind = named(QComboBox(), "metric_kind")
        self.metric_kind.addItem("MS-SWD", "swd")
        self.metric_kind.addItem("FID + KID", "fid")
        self.metric_note = named(QLabel(), "metric_note")
        self.metric_note.setWordWrap(True)
        self.metric_note.setStyleSheet("color: #555")
        self.device = named(QComboBox(), "device")
        self.device.addItems(["auto", "cpu", "cuda"])
        self.precision = named(QComboBox(), "precision")
        self.precision.addItems(list(PRECISIONS))
        self.precision.setToolTip("auto: bf16 autocast on CUDA and on CPUs with native bf16 (AVX512-BF16, AMX), "
                                  "fp32 elsewhere; penalties always in fp32. This CPU: "
                                  + ("native bf16" if cpu_has_native_bf16() else
                                     "no native bf16, bf16 would run about 10x slower"))
        self.augment = named(QComboBox(), "augment")
        for mode, text in (("auto", "auto (folder size)"), ("off", "off"), ("ada", "adaptive (ADA)"),
                           ("fixed", "fixed p")):
            self.augment.addItem(text, mode)
        self.augment.setToolTip("augment every image D sees (flips, rotations, shifts, scaling, colour), so a small "
                                "folder is not memorised: adaptive raises p while D overfits; fixed keeps p; "
                                f"auto: adaptive below {ADA_BELOW_IMAGES:,} images for networks wider than "
                                f"{NARROW_D_FMAPS} feature maps, off otherwise (measured: docs/small_data.md)")
        self.augment_note = named(QLabel(), "augment_note")
        self.augment_note.setWordWrap(True)
        self.augment_note.setStyleSheet("color: #555")
        self.use_classes = named(QCheckBox("use classes as labels"), "use_classes")
        self.use_classes.setToolTip("class-conditional training: each first-level sub-folder of the data set is a "
                                    "class; the grids show a row per class and the explorer lets you choose one")
        self.balance_classes = named(QCheckBox("balance classes"), "balance_classes")
        self.balance_classes.setToolTip("draw every class equally often (reals and the fakes' labels) instead of "
                                        "by how many images it has")
        self.classes_note = named(QLabel(), "classes_note")
        self.classes_note.setWordWrap(True)
        self.classes_note.setStyleSheet("color: #555")
        self._classes_for: tuple | None = None      # the data set's classes the check box was set for
        self.start_from = named(QLineEdit(), "start_from")
        self.start_from.setPlaceholderText("from scratch (or a checkpoint, run folder or generator export)")
        self.start_from.setToolTip("transfer learning: the new run's G, D and EMA start from this model's weights "
                                   "(an export has no D: D starts fresh); the architecture is taken from it")
        self.start_from_file = named(QPushButton("checkpoint…"), "start_from_file")
        self.start_from_folder = named(QPushButton("folder…"), "start_from_folder")
        self.freeze_d = _spin(0, 10, 0, name="freeze_d")
        self.freeze_d.setPrefix("freeze D: ")
        self.freeze_d.setToolTip("FreezeD: keep the trained D's highest-resolution blocks (and their fromRGB) "
                                 "as they are; 0 trains all of D")
        self.origin_note = named(QLabel(), "origin_note")
        self.origin_note.setWordWrap(True)
        self.origin_note.setStyleSheet("color: #555")
        self._origin = None               # the Origin read for the start_from text, and the text it was
        self._origin_text = ""
        self._origin_error = ""
        self.augment_p = _spin(0, 1, 0.0, 0.05, 2, "augment_p")
        self.augment_p.setToolTip("fixed: the probability of each transform; adaptive: where p starts")
        self.ada_signal = named(QComboBox(), "ada_signal")
        for signal, text in (("rv", "r_v (held-out)"), ("rt", "r_t (sign)")):
            self.ada_signal.addItem(text, signal)
        self.ada_signal.setToolTip(
            "adaptive: what p reads as overfitting. r_v holds a few images out of training and compares D's "
            "scores on them with its scores on the trained ones (works with every loss); r_t is ADA's "
            "E[sign D(augmented reals)], which needs no held-out images (not with WGAN-GP)")
        self.ada_target = _spin(0.05, 0.95, ADA_TARGETS["rv"], 0.05, 2, "ada_target")
        self.ada_target.setToolTip(f"adaptive: p rises while the signal is above this (r_v: {ADA_TARGETS['rv']:g}, "
                                   f"measured here; r_t: {ADA_TARGETS['rt']:g}, ADA's)")
        self.compile = named(QCheckBox("torch.compile"), "compile")
        self.compile.setToolTip("compile the networks (progressive family; recompiles at each growth step, "
                                "the cost is logged — worth it on GPUs, slow to start on CPUs)")
        self.out_dir = QLineEdit(os.path.join(os.path.expanduser("~"), "pgstudio-runs",
                                              time.strftime("run-%Y%m%d-%H%M%S")))
        self.out_dir.setObjectName("out_dir")
        browse = QPushButton("…")
        browse.setFixedWidth(32)
        browse.clicked.connect(self._browse_out)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_dir, 1)
        out_row.addWidget(browse)

        form = QFormLayout()
        # a narrow window puts a field under its label instead of clipping it
        form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        form.addRow("architecture", self.arch)
        self.from_run_button = named(QPushButton("Settings of the open run"), "settings_from_run")
        self.from_run_button.setToolTip("fill the form with the settings of the run open on the Training page")
        self.from_run_button.setEnabled(False)
        form.addRow("preset", row_of(self.preset, self.from_run_button))
        form.addRow("latent size", self.latent)
        form.addRow("fmap base / max", row_of(self.fmap_base, self.fmap_max))
        form.addRow("loss", self.loss)
        # rows of settings that only some families read, shown for those: row → its settings
        self.family_rows = {row_of(self.mapping_layers, self.style_mixing): ("mapping_layers", "style_mixing"),
                            row_of(self.pl_weight, self.demodulate): ("pl_weight", "demodulate"),
                            row_of(self.resample): ("resample",)}
        for row, label in zip(self.family_rows, ("mapping layers / mixing p", "path-length weight",
                                                 "G upsampling")):
            form.addRow(label, row)
        for label, row, settings in self.model_rows.rows:          # the survey's networks and balance
            form.addRow(label, row)
            self.family_rows[row] = settings
        for label, row, settings, _ in self.model_rows.conditional_rows:     # InfoGAN's, EBGAN's, BEGAN's
            form.addRow(label, row)
            self.family_rows[row] = settings
        self.form = form
        self.phase_pair = row_of(self.stabilize, self.fade)
        form.addRow("kimg per stabilize / fade", self.phase_pair)
        form.addRow("stop after (kimg)", self.max_kimg)
        form.addRow("batch per resolution", self.batch)
        form.addRow("batch default", self.batch_default)
        form.addRow("learning rate", self.lr)
        form.addRow("lr per resolution", self.lr_table)
        form.addRow("EMA half-life (kimg)", self.ema)
        form.addRow("seed", self.seed)
        form.addRow("tick / samples (kimg)", row_of(self.tick, self.sample))
        form.addRow("checkpoint / metric (kimg)", row_of(self.checkpoint, self.metric_kimg))
        form.addRow("metric / images per set", row_of(self.metric_kind, self.metric_n))
        form.addRow("", self.metric_note)
        form.addRow("augment / p", row_of(self.augment, self.augment_p))
        form.addRow("ADA signal / target", row_of(self.ada_signal, self.ada_target))
        form.addRow("", self.augment_note)
        form.addRow("classes", row_of(self.use_classes, self.balance_classes))
        form.addRow("", self.classes_note)
        origin_box = QWidget()
        origin_rows = QVBoxLayout(origin_box)
        origin_rows.setContentsMargins(0, 0, 0, 0)
        origin_rows.addWidget(self.start_from)
        origin_rows.addWidget(row_of(self.start_from_file, self.start_from_folder, self.freeze_d))
        form.addRow("start from a trained model", origin_box)
        form.addRow("", self.origin_note)
        form.addRow("device / precision", row_of(self.device, self.precision, self.compile))
        form.addRow("output folder", out_row)

        self.schedule_plot = pg.PlotWidget()
        self.schedule_plot.setObjectName("schedule_preview")
        self.schedule_plot.setMinimumHeight(140)
        self.schedule_plot.setMaximumHeight(220)       # keep Start visible without scrolling
        self.schedule_plot.setLabel("bottom", "kimg")
        self.schedule_plot.setLabel("left", "resolution")
        self.schedule_plot.setMouseEnabled(x=False, y=False)     # a preview: the wheel must not zoom it
        self.schedule_plot.hideButtons()
        self.schedule_plot.setMenuEnabled(False)
        self.schedule_res = self.schedule_plot.plot(pen=pg.mkPen((80, 80, 80), width=2))
        self.schedule_alpha = self.schedule_plot.plot(pen=pg.mkPen((200, 120, 0), width=2))
        self.estimate = named(QLabel(), "estimate")
        self.problems = named(QLabel(), "problems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #c0392b")
        self.start_button = named(QPushButton("Start training"), "setup_start")
        self.queue_button = named(QPushButton("Queue…"), "setup_queue")
        self.queue_button.setToolTip("train several presets or seeds one after another on this data set, each in a "
                                     "folder of its own inside the output folder (the Runs page overlays them)")

        box = QGroupBox("Run setup")
        bl = QVBoxLayout(box)
        bl.addLayout(form)
        layout = QVBoxLayout(self)
        starts = QHBoxLayout()                   # on top: never below the fold on a small screen
        starts.addWidget(self.start_button, 1)
        starts.addWidget(self.queue_button)
        layout.addLayout(starts)
        layout.addWidget(self.problems)
        layout.addWidget(box)
        self.schedule_caption = named(QLabel(), "schedule_caption")
        self.schedule_caption.setWordWrap(True)
        layout.addWidget(self.schedule_caption)
        layout.addWidget(self.schedule_plot, 1)
        layout.addWidget(self.estimate)

        self.preset_note = named(QLabel(), "preset_note")   # what switching the architecture kept and changed
        self.preset_note.setWordWrap(True)
        self.preset_note.setStyleSheet("color: #555")
        self.preset_note.setVisible(False)
        form.insertRow(2, "", self.preset_note)
        form.insertRow(3, "", self.paper_note)
        self._applied: tuple[str, str] = ("laptop", self.arch.currentData())    # (preset, arch) last applied
        self.apply_preset("laptop")
        self.preset.currentIndexChanged.connect(self._preset_chosen)
        self.arch.currentIndexChanged.connect(self._arch_chosen)
        for w in (self.latent, self.fmap_base, self.fmap_max, self.stabilize, self.fade, self.max_kimg,
                  self.batch_default, self.lr, self.ema, self.seed, self.tick, self.sample, self.checkpoint,
                  self.metric_kimg, self.metric_n, self.mapping_layers, self.style_mixing, self.pl_weight,
                  self.augment_p, self.ada_target):
            w.valueChanged.connect(self._changed)
        self.demodulate.toggled.connect(self._changed)
        self.resample.currentIndexChanged.connect(self._changed)
        self.compile.toggled.connect(self._changed)
        self.use_classes.toggled.connect(self._changed)
        self.balance_classes.toggled.connect(self._changed)
        self.freeze_d.valueChanged.connect(self._changed)
        self.start_from.editingFinished.connect(self._start_from_edited)
        self.start_from_file.clicked.connect(self._browse_origin_file)
        self.start_from_folder.clicked.connect(self._browse_origin_folder)
        for w in (self.batch, self.lr_table, self.out_dir):
            w.textChanged.connect(self._changed)
        for w in (self.loss, self.device, self.precision, self.augment, self.metric_kind):
            w.currentIndexChanged.connect(self._changed)
        self.ada_signal.currentIndexChanged.connect(self._signal_chosen)
        for w in self.model_rows.widgets().values():
            signal = (w.currentIndexChanged if isinstance(w, QComboBox) else w.toggled if isinstance(w, QCheckBox)
                      else w.textChanged if isinstance(w, QLineEdit) else w.valueChanged)
            signal.connect(self._changed)
        self.start_button.clicked.connect(self.submit)
        self.queue_button.clicked.connect(self.ask_queue)
        self.from_run_button.clicked.connect(self._settings_from_run)
        self._add_tooltips()
        last = app_settings().value(LAST_SETTINGS, "")
        if last:                       # the settings of the last run started here, across launches
            try:
                self.apply_settings(TrainConfig.from_json(last))
            except (ValueError, TypeError, KeyError):
                pass                   # written by another version: the preset stands
        self._changed()

    def _add_tooltips(self) -> None:
        """What each field means, where it does not say so itself (fields that set their own keep it)."""
        tips = {
            self.arch: "the model family: Progressive GAN grows from 4x4 to the target; StyleGAN2 trains at "
                       "the target resolution from the start; Classic GANs are the survey's models before them "
                       "(GAN, DCGAN, WGAN, WGAN-GP, LSGAN, cGAN, SNGAN, SAGAN, and R3GAN)",
            self.preset: "laptop CPU: small widths and short phases (minutes); paper: the paper's widths and "
                         "schedule (for a GPU); Classic GANs add one preset per paper, with its settings. "
                         "Changing it refills the fields below",
            self.latent: "size of the latent vector z the generator draws from",
            self.fmap_base: "feature maps at a level are fmap base / 2^level, at most fmap max: the networks' width",
            self.fmap_max: "the widest layer's feature maps",
            self.loss: "logistic (non-saturating) with lazy R1, hinge with lazy R1, or WGAN-GP as in the paper",
            self.max_kimg: "stop after this many thousand images (end of schedule: after the last stabilize phase)",
            self.batch: "batch size per resolution, e.g. 4:64 8:64 16:32; others use the default",
            self.batch_default: "batch size at resolutions the table does not name",
            self.lr: "Adam learning rate of G and D (the lazy regularisers' rate is scaled from it)",
            self.lr_table: "per-resolution learning rates, e.g. 1024:0.0015; others use the rate above",
            self.ema: "half-life of the generator's exponential moving average, in thousand images: the "
                      "samples, exports and the explorer use the averaged generator",
            self.seed: "seed of every random draw: the same seed and settings train the same run on one machine",
            self.tick: "how often (kimg) a tick is logged: losses, speed, the curves' points",
            self.sample: "how often (kimg) a grid of the fixed latents is written",
            self.checkpoint: "how often (kimg) a resumable checkpoint is written (and one at the end)",
            self.metric_kimg: "how often (kimg) the metric against the training images is computed (off: never)",
            self.metric_n: "images per set (fakes, and each of the two real sets; capped at half the data set): "
                           "more is steadier and slower",
            self.metric_kind: "MS-SWD: the PGGAN paper's metric, needs nothing extra, seconds; FID + KID: the "
                              "field's figures on Inception features (the [fid] extra), minutes on a CPU",
            self.device: "auto: CUDA when a GPU is present, else the CPU",
            self.out_dir: "the new run's folder: config, metrics, grids, checkpoints and log go there",
            self.mapping_layers: "StyleGAN, StyleGAN2: depth of the mapping network z → w",
            self.style_mixing: "StyleGAN, StyleGAN2: probability that a training sample mixes the styles of two latents",
            self.pl_weight: "StyleGAN2: weight of the path-length regulariser (0: off)",
            self.resample: "Progressive GAN: how G doubles its maps. FIR: zeros between pixels, then StyleGAN2's "
                           "[1,3,3,1] low-pass (no 2-pixel lattice, measured in docs/faithful.md); nearest: each "
                           "pixel repeated 2x2, as in the paper (lines along the axes in small runs)",
        }
        for widget, tip in tips.items():
            if not widget.toolTip():
                widget.setToolTip(tip)

    def _browse_out(self) -> None:
        folder = existing_directory(self, "Folder for the new run")
        if folder:
            self.out_dir.setText(os.path.join(folder, time.strftime("run-%Y%m%d-%H%M%S")))

    # -------------------------------------------------------------- transfer learning
    def _browse_origin_file(self) -> None:
        path = open_file_name(self, "Start from a checkpoint", "pgstudio checkpoints (*.pt)")
        if path:
            self.set_start_from(path)

    def _browse_origin_folder(self) -> None:
        folder = existing_directory(self, "Start from a run folder or a generator export")
        if folder:
            self.set_start_from(folder)

    def _start_from_edited(self) -> None:
        if self.start_from.text().strip() != self._origin_text:
            self.set_start_from(self.start_from.text().strip())

    def set_start_from(self, path: str) -> None:
        """Read the model a new run would start from and take its architecture into the form (the
        settings that must match it); an empty path trains from scratch."""
        from ...core.storage.checkpoint import CheckpointError
        from ...core.training.transfer import matching_settings, read_origin
        self.start_from.setText(path)
        self._origin_text, self._origin, self._origin_error = path, None, ""
        if path:
            try:
                self._origin = read_origin(path)
            except (CheckpointError, OSError, ValueError) as exc:
                self._origin_error = str(exc)
        if self._origin is not None:
            values = matching_settings(self._origin)
            index = self.arch.findData(values["arch"])
            if index >= 0 and index != self.arch.currentIndex():
                self.arch.setCurrentIndex(index)          # applies the family's preset first
            for name, widget in (("latent_size", self.latent), ("fmap_base", self.fmap_base),
                                 ("fmap_max", self.fmap_max), ("mapping_layers", self.mapping_layers)):
                if name in values:
                    widget.setValue(values[name])
            if "demodulate" in values:
                self.demodulate.setChecked(bool(values["demodulate"]))
            if values.get("resample"):
                self.resample.setCurrentIndex(max(0, self.resample.findData(values["resample"])))
            self.model_rows.apply(values)              # a classic model's networks (g_arch, ...)
        self._changed()

    def _origin_problems(self, cfg: TrainConfig) -> list[tuple[QWidget | None, str]]:
        """What stops a run starting from the chosen model, each on the field to change."""
        from ...core.training.transfer import architecture_differences
        if self._origin_error:
            return [(self.start_from, self._origin_error)]
        if self._origin is None:
            return []
        data = self.studio.state.data
        channels = data.dataset.channels if data.ready else self._origin.image_channels
        fields = {"model family": self.arch, "latent size": self.latent, "fmap base": self.fmap_base,
                  "fmap max": self.fmap_max, "mapping layers": self.mapping_layers, "demodulate": self.demodulate,
                  "G upsampling": self.resample}
        out = []
        for line in architecture_differences(self._origin, cfg, channels):
            name = line.split(":", 1)[0]
            where = {"resolution": " (set the resolution on the Data page)",
                     "image channels": " (set channels on the Data page)"}.get(name, "")
            out.append((fields.get(name, self.start_from), f"start from: {line}{where}"))
        if cfg.freeze_d and not self._origin.has_discriminator:
            out.append((self.freeze_d, "a generator export holds no discriminator: D starts fresh, so "
                                       "there are no trained D blocks to freeze"))
        return out

    def _describe_origin(self, cfg: TrainConfig) -> str:
        from ...core.training.transfer import describe
        if self._origin is None:
            return ""
        return describe(cfg.start_from, cfg.freeze_d) + (
            f"; schedule starts at {cfg.schedule_offset_kimg:g} kimg of the full one" if cfg.schedule_offset_kimg else "")

    # the settings a preset fills: name → (read the widget, write the widget); tables compare as tables
    def _preset_fields(self) -> dict:
        def table(widget, cast):
            def read():
                try:
                    return format_table(parse_table(widget.text(), cast))
                except ValueError:
                    return widget.text()         # an unparsable edit is an edit: kept as typed
            return read, lambda v: widget.setText(v if isinstance(v, str) else format_table(v))

        def spin(widget):
            return widget.value, widget.setValue

        def text(widget):
            return widget.currentText, widget.setCurrentText
        return {"latent_size": spin(self.latent), "fmap_base": spin(self.fmap_base),
                "fmap_max": spin(self.fmap_max), "loss": text(self.loss), "stabilize_kimg": spin(self.stabilize),
                "fade_kimg": spin(self.fade), "batch": table(self.batch, int),
                "batch_default": spin(self.batch_default), "lr_default": spin(self.lr),
                "lr": table(self.lr_table, float), "ema_halflife_kimg": spin(self.ema),
                "tick_kimg": spin(self.tick), "sample_kimg": spin(self.sample),
                "checkpoint_kimg": spin(self.checkpoint), "device": text(self.device),
                "precision": text(self.precision)}

    def _target(self) -> int:
        return int(self.studio.state.data.options.get("resolution", 32))

    def _preset_value(self, p: dict, key: str, target: int | None = None):
        value = p.get(key, {"loss": "wgan-gp", "device": "auto", "precision": "auto"}.get(key))
        return format_table(trimmed(value, target or self._target())) if isinstance(value, dict) else value

    def _retarget_tables(self) -> None:
        """The data set's resolution changed: tables still as the preset filled them follow the new
        target; edited ones stay as typed (and are checked against it)."""
        target = self._target()
        old = getattr(self, "_table_target", target)
        if target == old:
            return
        p = preset_values(*self._applied)
        for widget, key, cast in ((self.batch, "batch", int), (self.lr_table, "lr", float)):
            try:
                as_filled = format_table(parse_table(widget.text(), cast)) == self._preset_value(p, key, old)
            except ValueError:
                as_filled = False
            if as_filled:
                with QSignalBlocker(widget):
                    widget.setText(self._preset_value(p, key, target))
        attention, preset_attention = self.model_rows.attention_res, p.get("attention_res", 0)
        if attention.value() == fitted_attention(preset_attention, old):       # as the preset filled it
            with QSignalBlocker(attention):
                attention.setValue(fitted_attention(preset_attention, target))
        self._table_target = target

    def _fill_presets(self, arch: str) -> None:
        """The presets the family offers: laptop and paper, then its papers' (title, authors, year)."""
        fam = family(arch)
        current = self.preset.currentData()
        with QSignalBlocker(self.preset):
            self.preset.clear()
            self.preset.addItem("laptop CPU", "laptop")
            self.preset.addItem("paper (GPU)", "paper")
            for name, paper in fam.papers.items():
                self.preset.addItem(f"{paper.title} ({paper.citation})", name)
                self.preset.setItemData(self.preset.count() - 1, paper.note, Qt.ToolTipRole)
            self.preset.setCurrentIndex(max(0, self.preset.findData(current)))

    def _preset_chosen(self) -> None:
        """Another preset: its values, all of them (that is what choosing a preset asks for)."""
        self.preset_note.setVisible(False)
        self.apply_preset(self.preset.currentData())

    def _arch_chosen(self) -> None:
        """Another architecture: every value the user changed from the preset stays (both families have
        every field a preset fills); values the preset sets differently for the new family change, and
        the note names them."""
        old_preset, old_arch = self._applied
        self._fill_presets(self.arch.currentData())        # a paper the new family lacks: laptop
        new_arch, preset = self.arch.currentData(), self.preset.currentData()
        before = preset_values(old_preset, old_arch)
        fields = self._preset_fields()
        edited = {k: read() for k, (read, _) in fields.items()
                  if read() != self._preset_value(before, k, getattr(self, "_table_target", None))}
        self.apply_preset(preset)
        after = preset_values(preset, new_arch)
        for key, value in edited.items():
            fields[key][1](value)
        changed = [f"{key} {self._preset_value(before, key)} → {self._preset_value(after, key)}"
                   for key in fields if key not in edited
                   and self._preset_value(before, key) != self._preset_value(after, key)]
        title = family(new_arch).title
        parts = []
        if edited:
            parts.append("kept your " + ", ".join(f"{k} ({v})" for k, v in edited.items()))
        if changed:
            parts.append(f"{title}'s {self.preset.currentText()} preset changed " + "; ".join(changed))
        self.preset_note.setText(f"Switched to {title}: " + "; ".join(parts) + ".")
        self.preset_note.setVisible(bool(parts))       # nothing kept and nothing changed: nothing to say
        self._changed()

    def apply_preset(self, name: str) -> None:
        """The preset's settings for the chosen architecture (StyleGAN2 brings its own loss and R1)."""
        arch = self.arch.currentData()
        self._applied = (name, arch)
        fam = family(arch)
        p = preset_values(name, arch)
        for row, settings in self.family_rows.items():
            self.form.setRowVisible(row, any(s in fam.own_settings + fam.shown_settings for s in settings))
        for setting, widget in self.model_rows.widgets().items():    # within a shown row, what it reads
            widget.setVisible(setting in fam.own_settings + fam.shown_settings)
        paper = fam.papers.get(name)
        self.paper_note.setText(f"{paper.title}, {paper.citation}: {paper.note}." if paper else "")
        self.form.setRowVisible(self.paper_note, paper is not None)
        blockers = [QSignalBlocker(w) for w in self.model_rows.widgets().values()]
        self.model_rows.apply(p)
        self.model_rows.attention_res.setValue(fitted_attention(p.get("attention_res", 0), self._target()))
        del blockers
        fade_tip = (f"{fam.title} does not grow: the run lasts the image budget of the progressive schedule "
                    "at this resolution, or 'stop after'" if not fam.grows else
                    "thousand images per stabilize phase (a resolution trained alone) and per fade phase "
                    "(the next resolution blending in as α rises from 0 to 1)")
        self.stabilize.setToolTip(fade_tip)
        self.fade.setToolTip(fade_tip)
        self.schedule_caption.setText("schedule: resolution (grey, log scale) and fade-in α (orange)" if fam.grows
                                      else f"schedule: {fam.title} trains at the target resolution throughout "
                                           "(no growing, no fade-in)")
        self.schedule_alpha.setVisible(fam.grows)
        label = self.form.labelForField(self.phase_pair)
        # short: the longest label sets the label column, and a longer one wrapped rows at 1280 px
        label.setText("length: stabilize / fade kimg" if not fam.grows else "kimg per stabilize / fade")
        label.setToolTip(fade_tip)
        widgets = [self.latent, self.fmap_base, self.fmap_max, self.loss, self.stabilize, self.fade, self.batch,
                   self.batch_default, self.lr, self.lr_table, self.ema, self.tick, self.sample, self.checkpoint]
        for w in widgets:
            w.blockSignals(True)
        self.latent.setValue(p["latent_size"])
        self.fmap_base.setValue(p["fmap_base"])
        self.fmap_max.setValue(p["fmap_max"])
        self.loss.setCurrentText(p.get("loss", "wgan-gp"))
        self.stabilize.setValue(p["stabilize_kimg"])
        self.fade.setValue(p["fade_kimg"])
        self._table_target = self._target()
        self.batch.setText(format_table(trimmed(p["batch"], self._table_target)))
        self.batch_default.setValue(p["batch_default"])
        self.lr.setValue(p["lr_default"])
        self.lr_table.setText(format_table(trimmed(p["lr"], self._table_target)))
        self.ema.setValue(p["ema_halflife_kimg"])
        self.tick.setValue(p["tick_kimg"])
        self.sample.setValue(p["sample_kimg"])
        self.checkpoint.setValue(p["checkpoint_kimg"])
        for w in widgets:
            w.blockSignals(False)
        self.device.setCurrentText("auto")
        self.precision.setCurrentText("auto")
        self._changed()

    # -------------------------------------------------------------- config + validation
    def build(self) -> tuple[TrainConfig | None, list[tuple[QWidget | None, str]]]:
        problems: list[tuple[QWidget | None, str]] = []
        data = self.studio.state.data
        options = {"resolution": 32, "mode": "crop", "channels": "auto", **data.options}
        tables = {}
        for widget, cast, name in ((self.batch, int, "batch"), (self.lr_table, float, "lr")):
            try:
                tables[name] = parse_table(widget.text(), cast)
                problem = table_problem(tables[name], options["resolution"])
            except ValueError as exc:
                tables[name], problem = {}, str(exc)
            if problem:
                problems.append((widget, f"{name} table: {problem}"))
        batch, lr_table = tables["batch"], tables["lr"]
        source, demo = data.source, data.demo
        preset = preset_values(self.preset.currentData(), self.arch.currentData())
        fam = family(self.arch.currentData())
        fields = dict(
            arch=self.arch.currentData(), mapping_layers=self.mapping_layers.value(),
            style_mixing=self.style_mixing.value(), pl_weight=self.pl_weight.value(),
            demodulate=self.demodulate.isChecked(), resample=self.resample.currentData(),
            compile=self.compile.isChecked(),
            augment=self.augment.currentData(), augment_p=self.augment_p.value(), ada_target=self.ada_target.value(),
            ada_signal=self.ada_signal.currentData(),
            classes=self._classes_mode(), balance_classes=self.balance_classes.isChecked(),
            data=source, demo=demo, mode=options["mode"], channels=options["channels"],
            resolution=options["resolution"], latent_size=self.latent.value(),
            fmap_base=self.fmap_base.value(), fmap_max=self.fmap_max.value(), loss=self.loss.currentText(),
            stabilize_kimg=self.stabilize.value(), fade_kimg=self.fade.value(),
            max_kimg=self.max_kimg.value() or None, batch=batch, batch_default=self.batch_default.value(),
            lr=lr_table, lr_default=self.lr.value(), ema_halflife_kimg=self.ema.value(), seed=self.seed.value(),
            tick_kimg=self.tick.value(), sample_kimg=self.sample.value(), checkpoint_kimg=self.checkpoint.value(),
            metric_kimg=self.metric_kimg.value(), metric_n=self.metric_n.value(),
            metric_kind=self.metric_kind.currentData(), device=self.device.currentText(),
            precision=self.precision.currentText(), preset=self.preset.currentData())
        # the rows this family shows edit their settings; what the preset sets and no visible field
        # edits (a paper's R1 interval, R1's γ for a family without its row) comes from the preset
        shown = fam.own_settings + fam.shown_settings
        rows = {k: v for k, v in self.model_rows.values().items() if k in shown}
        unseen = {k: v for k, v in preset.items() if k in TrainConfig.__dataclass_fields__}
        cfg = TrainConfig(**{**unseen, "r1_gamma": preset.get("r1_gamma", 1.0), **rows, **fields})
        if self._origin is not None:
            from ...core.training.transfer import configured
            cfg = configured(cfg, self._origin, self.freeze_d.value())
        elif self.freeze_d.value():
            cfg = cfg.replace(freeze_d=self.freeze_d.value())
        problems += self._origin_problems(cfg)
        if preset.get("classes") == "on" and cfg.classes != "on" and data.ready:     # cGAN: labels or nothing
            problems.append((self.use_classes, f"the {self.preset.currentText()} preset trains on class labels: "
                                               "choose a folder with one sub-folder per class and use them"))
        widget_of = self.widget_for_setting()
        for problem in config_problems(cfg):
            if problem.field == "data":
                continue                          # reported below, with the import state
            problems.append((widget_of.get(problem.field), problem.message))
        if cfg.device == "cuda":
            import torch
            if not torch.cuda.is_available():
                problems.append((self.device, "no CUDA GPU is available on this machine"))
        out = self.out_dir.text().strip()
        if not out:
            problems.append((self.out_dir, "choose an output folder"))
        elif RunFolder(out).is_run():
            problems.append((self.out_dir, "the output folder already holds a run"))
        if data.ready and cfg.augment == "ada" and cfg.ada_signal == "rv" and not heldout_count(len(data.dataset)):
            problems.append((self.ada_signal, f"{len(data.dataset)} images are too few to hold any out for r_v: "
                                              "choose r_t or a fixed p"))
        if data.importing:
            problems.append((None, "the data set is still importing"))
        elif not data.ready:
            problems.append((None, "choose an image folder or the demo data set on the left"))
        return cfg, problems

    def widget_for_setting(self) -> dict:
        """TrainConfig field → the widget that edits it, for outlining a problem's field."""
        return {"batch": self.batch, "batch_default": self.batch_default, "lr": self.lr_table, "lr_default": self.lr,
                "stabilize_kimg": self.stabilize, "fade_kimg": self.fade, "latent_size": self.latent,
                "fmap_base": self.fmap_base, "fmap_max": self.fmap_max, "tick_kimg": self.tick,
                "sample_kimg": self.sample, "checkpoint_kimg": self.checkpoint, "metric_kimg": self.metric_kimg,
                "metric_kind": self.metric_kind, "metric_n": self.metric_n,
                "ema_halflife_kimg": self.ema, "max_kimg": self.max_kimg, "loss": self.loss,
                "pl_weight": self.pl_weight, "style_mixing": self.style_mixing, "mapping_layers": self.mapping_layers,
                "resample": self.resample,
                "compile": self.compile, "precision": self.precision, "device": self.device,
                "augment": self.augment, "augment_p": self.augment_p, "ada_target": self.ada_target,
                "ada_signal": self.ada_signal, "ada_heldout": self.ada_signal,
                "freeze_d": self.freeze_d, "start_from": self.start_from, "classes": self.use_classes,
                **self.model_rows.widgets()}

    def _changed(self, *args) -> None:
        cfg, problems = self.build()
        shown = family(self.arch.currentData())
        values = {**self.model_rows.values(), "loss": self.loss.currentText(), "preset": self.preset.currentData()}
        for _, row, settings, wanted in self.model_rows.conditional_rows:     # a model's own rows: with it
            self.form.setRowVisible(row, settings[0] in shown.own_settings and wanted(values))
        bad = {id(w) for w, _ in problems if w is not None}
        for w in {id(w): w for w in [*self.widget_for_setting().values(), self.out_dir]}.values():
            w.setStyleSheet(INVALID_STYLE if id(w) in bad else "")
        self.problems.setText("\n".join(f"• {m}" for _, m in problems))
        self.augment_note.setText(self._augment_note(cfg))
        for w in (self.ada_signal, self.ada_target):         # read by adaptive augmentation only
            w.setEnabled(cfg.augment in ("auto", "ada"))
        self.classes_note.setText(self._classes_note(cfg))
        self.metric_note.setText(self._metric_note(cfg))
        self.metric_note.setVisible(bool(self.metric_note.text()))
        self.origin_note.setText(self._describe_origin(cfg))
        self.origin_note.setVisible(bool(self.origin_note.text()))
        self.start_button.setEnabled(not problems and not self.studio.state.training)
        self.queue_button.setEnabled(not problems and not self.studio.state.training)
        self.start_button.setToolTip("" if not problems else problems[0][1])
        self._draw_schedule(cfg)
        self.changed.emit()

    def _signal_chosen(self) -> None:
        """Another signal brings its own target (their scales differ), then the form re-checks."""
        with QSignalBlocker(self.ada_target):
            self.ada_target.setValue(ADA_TARGETS[self.ada_signal.currentData()])
        self._changed()

    def _augment_note(self, cfg: TrainConfig) -> str:
        data = self.studio.state.data
        if cfg.augment not in ("auto", "ada"):
            return ""
        if not data.ready:
            return (f"auto: adaptive below {ADA_BELOW_IMAGES:,} images for networks wider than {NARROW_D_FMAPS} "
                    "feature maps, off otherwise (decided when the data set is read)"
                    if cfg.augment == "auto" else "")
        images = len(data.dataset)
        if cfg.augment == "auto":
            return choose_augment(images, cfg.loss, cfg.ada_signal, cfg.fmap_max)[1]
        if cfg.ada_signal == "rv":
            held = heldout_count(images)
            return (f"r_v holds {held:,} of the {images:,} images out of training to tell when D memorises the rest"
                    if held else f"{images:,} images are too few to hold any out for r_v: choose r_t")
        return ""

    def _metric_note(self, cfg: TrainConfig) -> str:
        """What the chosen training metric costs, before the run starts."""
        if cfg.metric_kimg <= 0:
            return ""
        evaluations = int(total_kimg(cfg) // cfg.metric_kimg)
        if cfg.metric_kind != "fid":
            return f"MS-SWD every {cfg.metric_kimg:g} kimg: {evaluations} evaluations, seconds each"
        from ...core.analysis import inception
        from ...core.analysis.checkpoint_fid import estimate_seconds as fid_seconds, images_per_second
        from ...core.analysis.inception_metrics import FID_RELIABLE
        if not inception.available():
            return "FID + KID need the optional extra: pip install -e '.[fid]'"
        data = self.studio.state.data
        count = len(data.dataset) if data.ready else 2 * cfg.metric_n
        device = "cuda" if cfg.device != "cpu" and torch.cuda.is_available() else "cpu"
        each = fid_seconds(cfg.metric_n, count, device, reals_cached=True)
        reals = count / images_per_second(device)
        where = "on the GPU" if device == "cuda" else f"on this CPU ({torch.get_num_threads()} threads)"
        # a progressive run is scored at each resolution it grows through, each with its own reals
        levels = int(math.log2(cfg.resolution)) - 1 if family(cfg.arch).grows else 1
        m = min(cfg.metric_n, count // 2)
        few = (f"; {m:,} images per set, fewer than {FID_RELIABLE:,}: FID is biased there, read KID"
               if m < FID_RELIABLE else "")
        return (f"FID + KID every {cfg.metric_kimg:g} kimg: {evaluations} evaluations of about "
                f"{format_duration(each)} each {where}, plus {format_duration(reals)} for the reals' features "
                f"at each of {levels} resolution{'s' if levels > 1 else ''}; training waits meanwhile{few}")

    def _classes_mode(self) -> str:
        """The run's ``classes`` setting: auto until the data set is read, then the check box's
        (ticked by default for a data set with two or more classes; off without them)."""
        data = self.studio.state.data
        if not data.ready:
            return "auto"
        ds = data.dataset
        usable = len(ds.class_names) >= 2 and not ds.unlabelled
        classes = tuple(ds.class_names) + (ds.unlabelled,)
        if classes != self._classes_for:         # a new data set: the default for it
            self._classes_for = classes
            with QSignalBlocker(self.use_classes):
                self.use_classes.setChecked(usable)
        self.use_classes.setEnabled(usable)
        self.balance_classes.setEnabled(usable and self.use_classes.isChecked())
        return "on" if usable and self.use_classes.isChecked() else "off"

    def _classes_note(self, cfg: TrainConfig) -> str:
        data = self.studio.state.data
        if not data.ready:
            return "a folder with two or more sub-folders trains one class per sub-folder (decided when it is read)"
        ds = data.dataset
        if not ds.class_names:
            return ""
        mode = "auto" if cfg.classes == "off" and not self.use_classes.isEnabled() else cfg.classes
        names, reason = choose_classes(ds, mode)
        if names and cfg.balance_classes:
            reason += "; drawn evenly"
        return reason

    def refresh(self) -> None:
        self._changed()

    def _studio_changed(self, what: str) -> None:
        if what == "training" and not self.studio.state.training:
            # the run that ended took its folder: point the form at a fresh one
            base = os.path.dirname(self.out_dir.text().strip()) or os.path.expanduser("~")
            self.out_dir.setText(os.path.join(base, time.strftime("run-%Y%m%d-%H%M%S")))
        if what == "run":
            self.from_run_button.setEnabled(bool(self.studio.state.run_path))
        if what == "data":
            self._retarget_tables()
        if what in ("data", "throughput", "training"):
            self.refresh()
        elif what == "start_asked":
            self.submit()

    def apply_settings(self, cfg: TrainConfig) -> None:
        """Every field from ``cfg`` (the data set stays the Dataset page's, the model to start from
        this form's): the last run's settings at launch, or an opened run's on request."""
        index = self.arch.findData(cfg.arch)
        if index >= 0:
            with QSignalBlocker(self.arch):
                self.arch.setCurrentIndex(index)
        self._fill_presets(self.arch.currentData())
        index = self.preset.findData(cfg.preset)
        if index >= 0:
            with QSignalBlocker(self.preset):
                self.preset.setCurrentIndex(index)
        self.apply_preset(self.preset.currentData() or "laptop")     # the family's rows and labels
        widgets = [self.latent, self.fmap_base, self.fmap_max, self.stabilize, self.fade, self.max_kimg,
                   self.batch_default, self.lr, self.ema, self.seed, self.tick, self.sample, self.checkpoint,
                   self.metric_kimg, self.metric_n, self.mapping_layers, self.style_mixing, self.pl_weight,
                   self.augment_p, self.ada_target, self.batch, self.lr_table, self.loss, self.device,
                   self.precision, self.augment, self.ada_signal, self.demodulate, self.compile, self.balance_classes,
                   self.metric_kind, self.resample]
        blockers = [QSignalBlocker(w) for w in widgets]
        for widget, value in ((self.latent, cfg.latent_size), (self.fmap_base, cfg.fmap_base),
                              (self.fmap_max, cfg.fmap_max), (self.stabilize, cfg.stabilize_kimg),
                              (self.fade, cfg.fade_kimg), (self.max_kimg, cfg.max_kimg or 0),
                              (self.batch_default, cfg.batch_default), (self.lr, cfg.lr_default),
                              (self.ema, cfg.ema_halflife_kimg), (self.seed, cfg.seed), (self.tick, cfg.tick_kimg),
                              (self.sample, cfg.sample_kimg), (self.checkpoint, cfg.checkpoint_kimg),
                              (self.metric_kimg, cfg.metric_kimg), (self.metric_n, cfg.metric_n),
                              (self.mapping_layers, cfg.mapping_layers), (self.style_mixing, cfg.style_mixing),
                              (self.pl_weight, cfg.pl_weight), (self.augment_p, cfg.augment_p),
                              (self.ada_target, cfg.ada_target)):
            widget.setValue(value)
        # entries above this data set's target would be refused as never used: left out
        self.batch.setText(format_table(trimmed(cfg.batch, self._table_target)))
        self.lr_table.setText(format_table(trimmed(cfg.lr, self._table_target)))
        self.loss.setCurrentText(cfg.loss)
        self.device.setCurrentText(cfg.device)
        self.precision.setCurrentText(cfg.precision)
        # a run records the mode auto chose; the form offers auto again only if that is what it was
        augment = "auto" if cfg.augment_reason else cfg.augment
        self.augment.setCurrentIndex(max(0, self.augment.findData(augment)))
        self.ada_signal.setCurrentIndex(max(0, self.ada_signal.findData(cfg.ada_signal)))
        self.demodulate.setChecked(cfg.demodulate)
        self.resample.setCurrentIndex(max(0, self.resample.findData(cfg.resample)))
        self.compile.setChecked(cfg.compile)
        self.balance_classes.setChecked(cfg.balance_classes)
        self.metric_kind.setCurrentIndex(max(0, self.metric_kind.findData(cfg.metric_kind)))
        if cfg.class_names is not None or cfg.classes == "off":   # an opened run's choice, for this data set
            self.use_classes.setChecked(bool(cfg.class_names))
        blockers += [QSignalBlocker(w) for w in self.model_rows.widgets().values()]
        self.model_rows.apply(cfg)
        for blocker in blockers:
            blocker.unblock()
        self._changed()

    def _settings_from_run(self) -> None:
        from ...core.storage.runfolder import RunFolderError
        path = self.studio.state.run_path
        if not path:
            return
        try:
            self.apply_settings(RunFolder(path).read_config())
        except RunFolderError as exc:
            self.start_refused.emit(str(exc))

    def submit(self) -> None:
        """Start a new run with these settings, or say why not."""
        cfg, problems = self.build()
        if problems:
            self.start_refused.emit("Cannot start yet:\n" + "\n".join(m for _, m in problems))
            return
        from ...core.training.advice import small_data_warning
        warning = small_data_warning(cfg, len(self.studio.state.data.dataset))
        if warning:                 # a wrong folder more often than a choice: train only after a yes
            box = QMessageBox(QMessageBox.Warning, "Very few images", warning + "\n\nTrain on them anyway?",
                              QMessageBox.Cancel, self)
            box.setObjectName("few_images_warning")
            train = box.addButton("Train anyway", QMessageBox.AcceptRole)
            train.setObjectName("train_anyway")
            box.setDefaultButton(QMessageBox.Cancel)
            box.setWindowModality(Qt.WindowModal)
            box.buttonClicked.connect(self._few_images_answer)
            self.few_images_box, self._pending_start = box, cfg
            box.open()
            return
        self._start(cfg)

    def ask_queue(self) -> None:
        """"Queue…": choose presets and seeds; the queue goes into the output folder."""
        cfg, problems = self.build()
        if problems:
            self.start_refused.emit("Cannot queue yet:\n" + "\n".join(m for _, m in problems))
            return
        self.queue_dialog = QueueDialog(cfg.arch, cfg.preset, self.out_dir.text().strip(), self)
        self.queue_dialog.setWindowModality(Qt.WindowModal)
        self.queue_dialog.accepted.connect(self._queue_chosen)
        self.queue_dialog.finished.connect(self.queue_dialog.deleteLater)    # gone: the window is active again
        self.queue_dialog.open()

    def _queue_chosen(self) -> None:
        from ...core.training.run_queue import QueueError, RunQueue, plan
        dialog, self.queue_dialog = self.queue_dialog, None
        cfg, problems = self.build()
        if problems or dialog is None:
            return
        try:
            runs = plan(cfg, dialog.chosen_presets(), dialog.chosen_seeds())
            bad = [(r.name, m) for r in runs for m in config_problems(r.train_config())]
            if bad:
                raise QueueError("; ".join(f"{name}: {p.message}" for name, p in bad))
            RunQueue.create(self.out_dir.text().strip(), runs)
        except (QueueError, ValueError, OSError) as exc:
            self.start_refused.emit(f"Cannot queue these runs:\n{exc}")
            return
        app_settings().setValue(LAST_SETTINGS, cfg.to_json())
        self.studio.state.request_start(StartRequest(cfg, self.studio.state.data.dataset, self.out_dir.text().strip(),
                                                     queue=True))

    def _few_images_answer(self, button) -> None:
        cfg, self._pending_start = self._pending_start, None
        if button.objectName() == "train_anyway" and cfg is not None:
            self._start(cfg)

    def _start(self, cfg: TrainConfig) -> None:
        app_settings().setValue(LAST_SETTINGS, cfg.to_json())
        self.studio.state.request_start(StartRequest(cfg, self.studio.state.data.dataset, self.out_dir.text().strip()))

    def problems_text(self) -> str:
        return self.problems.text()

    def _draw_schedule(self, cfg: TrainConfig) -> None:
        try:
            if cfg.stabilize_kimg <= 0 or cfg.fade_kimg <= 0:
                raise ValueError
            pv = preview(cfg, points=300)
        except (ValueError, StopIteration, ZeroDivisionError):
            self.schedule_res.setData([], [])
            self.schedule_alpha.setData([], [])
            self.estimate.setText("")
            return
        k = np.asarray(pv["kimg"])
        levels = np.log2(np.asarray(pv["resolution"], float))
        self.schedule_res.setData(k, levels)
        self.schedule_alpha.setData(k, levels - 1 + np.asarray(pv["alpha"]))
        ticks = [(math.log2(r), str(r)) for r in sorted(set(pv["resolution"]))]
        self.schedule_plot.getAxis("left").setTicks([ticks])
        speeds = dict(recall_throughput(cfg))
        speeds.update(self.studio.state.live_throughput.get(throughput_key(cfg), {}))
        est = estimate_seconds(cfg, speeds)
        total = total_kimg(cfg)
        if est is None:
            self.estimate.setText(f"{total:g} kimg in all; duration: known once throughput has been measured")
        else:
            secs, approx = est
            self.estimate.setText(f"{total:g} kimg in all; estimated duration {'≈' if approx else ''}"
                                  f"{format_duration(secs)} (from measured img/s)")
