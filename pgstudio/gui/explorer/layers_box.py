"""The explorer's layer view: one feature map of G for the selected latent, live as it moves.

Checked, the box traces G's forward pass in the render thread each time the selected image is
drawn (core/analysis/layers.py) and shows the chosen layer — the mean over its channels, its
strongest channels, or one channel — beside the map's log power spectrum, with its peak ratio
(max |a| over mean |a|: StyleGAN's droplet is a spike that makes it large). Unchecked, nothing
is traced: the explorer costs what it did.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QGroupBox, QLabel, QPushButton, QSpinBox

from ...core.analysis.layers import VIEWS, Layer, LayerPicture
from ..common.grid_view import GridView
from ..common.widgets import named

# activations: a diverging map would suggest a sign the scaled picture does not keep; viridis
# reads low to high; the spectrum in "inferno" so the two are not taken for each other
ACTIVATION_MAP = pg.colormap.get("viridis")
SPECTRUM_MAP = pg.colormap.get("inferno")


def coloured(values: np.ndarray, colormap) -> np.ndarray:
    """[H, W] floats in [0, 1] → uint8 RGB through ``colormap``."""
    lut = colormap.getLookupTable(0.0, 1.0, 256, alpha=False)
    return np.ascontiguousarray(lut[np.clip((values * 255).round().astype(int), 0, 255)].astype(np.uint8))


def side_by_side(left: np.ndarray, right: np.ndarray, height: int = 256, gap: int = 8) -> np.ndarray:
    """Two uint8 RGB pictures enlarged by whole factors (nearest) to about ``height``, on white."""
    def enlarged(a: np.ndarray) -> np.ndarray:
        k = max(1, height // a.shape[0])
        return a.repeat(k, axis=0).repeat(k, axis=1)
    a, b = enlarged(left), enlarged(right)
    out = np.full((max(a.shape[0], b.shape[0]), a.shape[1] + gap + b.shape[1], 3), 255, np.uint8)
    out[:a.shape[0], :a.shape[1]] = a
    out[:b.shape[0], a.shape[1] + gap:] = b
    return out


class LayersBox(QGroupBox):
    changed = Signal()             # the layer, view or channel chosen, or the box switched on
    save_requested = Signal()      # "Save picture…"

    def __init__(self, parent=None):
        super().__init__("Layers (what G computes)", parent)
        self.setObjectName("layers_box")
        self.setCheckable(True)
        self.setChecked(False)
        self.setToolTip("trace G for the selected latent and show one of its feature maps and its spectrum")
        self.layer = named(QComboBox(), "layer_choice")
        self.layer.setToolTip("every feature map G computes, in the order it computes them (module · C×H×W)")
        self.view_kind = named(QComboBox(), "layer_view")
        for key, text in VIEWS.items():
            self.view_kind.addItem(text, key)
        self.channel = named(QSpinBox(), "layer_channel")
        self.channel.setPrefix("channel ")
        self.channel.setEnabled(False)
        self.activation = GridView(min_size=120)
        self.activation.setObjectName("layer_activation")
        self.activation.setToolTip("the feature map (each tile scaled on its own)")
        self.spectrum = GridView(min_size=120)
        self.spectrum.setObjectName("layer_spectrum")
        self.spectrum.setToolTip("log power spectrum of what is shown, zero frequency in the centre")
        self.caption = named(QLabel(""), "layer_caption")
        self.caption.setWordWrap(True)
        self.save_button = named(QPushButton("Save picture…"), "layer_save")
        self.save_button.setToolTip("the map and its spectrum side by side as PNG, with the layer, view and "
                                    "latent in its text chunks")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save_requested)
        grid = QGridLayout(self)
        grid.addWidget(self.layer, 0, 0, 1, 2)
        grid.addWidget(self.view_kind, 1, 0)
        grid.addWidget(self.channel, 1, 1)
        grid.addWidget(self.activation, 2, 0)
        grid.addWidget(self.spectrum, 2, 1)
        grid.addWidget(self.caption, 3, 0, 1, 2)
        grid.addWidget(self.save_button, 4, 0)
        self.layers: list[Layer] = []
        self.picture: LayerPicture | None = None
        self.toggled.connect(self._changed)
        self.layer.currentIndexChanged.connect(self._changed)
        self.view_kind.currentIndexChanged.connect(self._changed)
        self.channel.valueChanged.connect(self._changed)

    def wanted(self) -> tuple[str | None, str, int]:
        """(the layer key chosen, None before the first trace; the view; the channel)."""
        return self.layer.currentData(), self.view_kind.currentData(), self.channel.value()

    def show_result(self, layers: list[Layer], key: str | None, picture: LayerPicture | None) -> None:
        """A trace's result: the layers listed (the choice kept where it still exists), the map shown."""
        if [l.key for l in layers] != [l.key for l in self.layers]:
            with QSignalBlocker(self.layer):
                self.layer.clear()
                for l in layers:
                    self.layer.addItem(l.label, l.key)
        self.layers = layers
        with QSignalBlocker(self.layer):
            self.layer.setCurrentIndex(self.layer.findData(key) if key is not None else -1)
        self.picture = picture
        self.save_button.setEnabled(picture is not None)
        if picture is None:
            self.activation.set_array(None)
            self.spectrum.set_array(None)
            self.caption.setText("this generator computes no feature maps (an MLP's layers are vectors)"
                                 if not layers else "")
            return
        layer = next(l for l in layers if l.key == key)
        with QSignalBlocker(self.channel):
            self.channel.setRange(0, layer.channels - 1)
        self.channel.setEnabled(self.view_kind.currentData() == "channel")
        self.activation.set_array(coloured(picture.activation, ACTIVATION_MAP))
        self.spectrum.set_array(coloured(picture.spectrum, SPECTRUM_MAP))
        shown = picture.channels
        which = (f"mean of {layer.channels} channels" if self.view_kind.currentData() == "mean"
                 else f"channel {shown[0]}" if len(shown) == 1
                 else f"strongest {len(shown)}: {', '.join(map(str, shown[:6]))}{'…' if len(shown) > 6 else ''}")
        self.caption.setText(f"{layer.label} · {which} · peak ratio {picture.peak_ratio:.1f} (max |a| / mean |a|)")

    def shown(self) -> tuple[np.ndarray, dict] | None:
        """What is on view, for saving: the two pictures side by side, and what they show."""
        if self.picture is None:
            return None
        key, view, _ = self.wanted()
        return (side_by_side(self.activation.array(), self.spectrum.array()),
                {"layer": key, "layer_view": view, "layer_channels": list(self.picture.channels),
                 "peak_ratio": round(self.picture.peak_ratio, 3)})

    def _changed(self) -> None:
        self.channel.setEnabled(self.view_kind.currentData() == "channel")
        self.changed.emit()
