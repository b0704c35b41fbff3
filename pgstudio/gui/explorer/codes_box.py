"""The explorer's controls for an InfoGAN generator's latent codes: a selector per categorical
code and a slider per continuous one. Off, each latent draws with the codes it stands for (the
generator's fixed map from z); on, every image takes the codes set here — the way to see what a
code learned to control."""
from __future__ import annotations

import torch
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QGroupBox, QLabel, QPushButton, QSlider

from ..common.widgets import named

SLIDER_STEPS = 100          # a continuous code's slider: -1 … 1 in hundredths


class CodesBox(QGroupBox):
    changed = Signal()
    across_requested = Signal()       # "Seed across categories": the selected seed in every category

    def __init__(self, parent=None):
        super().__init__("InfoGAN codes", parent)
        self.setObjectName("codes_box")
        self.grid = QGridLayout(self)
        self.set_by_hand = named(QCheckBox("set the codes"), "codes_by_hand")
        self.set_by_hand.setToolTip("off: each seed draws with the codes it stands for; on: every image takes "
                                    "the codes chosen here")
        self.across_button = named(QPushButton("Seed across categories"), "codes_across")
        self.across_button.setToolTip("the selected seed drawn in every category of the first categorical code")
        self.grid.addWidget(self.set_by_hand, 0, 0, 1, 2)
        self.grid.addWidget(self.across_button, 0, 2)
        self.set_by_hand.toggled.connect(self._toggled)
        self.across_button.clicked.connect(self.across_requested)
        self.categorical: list[QComboBox] = []
        self.continuous: list[QSlider] = []
        self._codes = None                  # the generator's LatentCodes
        self._extra_widgets: list = []
        self._values: list[QLabel] = []        # each continuous slider's value, as text
        self.setVisible(False)

    def set_generator(self, G) -> None:
        """Controls for G's codes (hidden for a generator without them); the choices are kept
        when the codes are the same."""
        codes = getattr(G, "codes", None)
        shape = (codes.categorical, codes.continuous) if codes else None
        old = (self._codes.categorical, self._codes.continuous) if self._codes else None
        self._codes = codes if codes else None
        self.setVisible(shape is not None)
        if shape == old:
            return
        for w in self._extra_widgets:
            self.grid.removeWidget(w)
            w.deleteLater()
        self._extra_widgets, self.categorical, self.continuous, self._values = [], [], [], []
        if shape is None:
            return
        row = 1
        for j, k in enumerate(shape[0]):
            label = QLabel(f"category {j + 1}")
            box = named(QComboBox(), f"code_categorical_{j}")
            box.addItems([str(c) for c in range(k)])
            box.currentIndexChanged.connect(self.changed)
            self.grid.addWidget(label, row, 0)
            self.grid.addWidget(box, row, 1, 1, 2)
            self.categorical.append(box)
            self._extra_widgets += [label, box]
            row += 1
        for j in range(shape[1]):
            label = QLabel(f"continuous {j + 1}")
            slider = named(QSlider(Qt.Horizontal), f"code_continuous_{j}")
            slider.setRange(-SLIDER_STEPS, SLIDER_STEPS)
            slider.setValue(0)
            value = QLabel("+0.00")
            slider.valueChanged.connect(self._show_values)
            slider.valueChanged.connect(self.changed)
            self.grid.addWidget(label, row, 0)
            self.grid.addWidget(slider, row, 1)
            self.grid.addWidget(value, row, 2)
            self.continuous.append(slider)
            self._values.append(value)
            self._extra_widgets += [label, slider, value]
            row += 1
        self._toggled(self.set_by_hand.isChecked(), emit=False)

    def _show_values(self) -> None:
        for slider, label in zip(self.continuous, self._values):
            label.setText(f"{slider.value() / SLIDER_STEPS:+.2f}")

    def _toggled(self, on: bool, emit: bool = True) -> None:
        for w in self.categorical + self.continuous:
            w.setEnabled(on)
        if emit:
            self.changed.emit()

    def chosen(self) -> tuple[list[int], list[float]] | None:
        """The codes set by hand (categories, continuous values), or None: each seed's own."""
        if self._codes is None or not self.set_by_hand.isChecked():
            return None
        return ([b.currentIndex() for b in self.categorical], [s.value() / SLIDER_STEPS for s in self.continuous])

    def rows(self, n: int) -> torch.Tensor | None:
        """Code rows for ``n`` latents (all alike), or None to let each latent take its own."""
        chosen = self.chosen()
        if chosen is None:
            return None
        categories, continuous = chosen
        return self._codes.rows(torch.tensor([categories] * n, dtype=torch.long).reshape(n, len(categories)),
                                torch.tensor([continuous] * n).reshape(n, len(continuous)))

    def rows_across(self, n_latents: int = 1) -> torch.Tensor:
        """One row per category of the first categorical code (the rest as set, or the middle)."""
        k = self._codes.categorical[0]
        chosen = self.chosen() or ([0] * len(self._codes.categorical), [0.0] * self._codes.continuous)
        categories = torch.tensor([chosen[0]] * k, dtype=torch.long).reshape(k, len(chosen[0]))
        categories[:, 0] = torch.arange(k)
        return self._codes.rows(categories, torch.tensor([chosen[1]] * k).reshape(k, len(chosen[1])))

    def has_categories(self) -> bool:
        return self._codes is not None and bool(self._codes.categorical)

    def provenance(self) -> dict | None:
        chosen = self.chosen()
        if chosen is None:
            return None
        return {"categorical": chosen[0], "continuous": [round(v, 4) for v in chosen[1]]}

    def restore(self, codes: dict) -> None:
        """Set by hand from a saved provenance's "codes"."""
        with QSignalBlocker(self.set_by_hand):
            self.set_by_hand.setChecked(True)
        for box, c in zip(self.categorical, codes.get("categorical", [])):
            with QSignalBlocker(box):
                box.setCurrentIndex(int(c))
        for slider, v in zip(self.continuous, codes.get("continuous", [])):
            with QSignalBlocker(slider):
                slider.setValue(round(float(v) * SLIDER_STEPS))
        self._show_values()
        self._toggled(True)
