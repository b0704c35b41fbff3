"""What a generator computes inside: every feature map of one forward pass, and pictures of one.

The layer view (the explorer's "Layers" box) traces G's forward pass for one latent and lists
every module call that returns a feature map [1, C, H, W], in the order they run, so it works
for any family without the family naming its layers: a progressive G's convolutions and pixel
norms, a StyleGAN2 layer's modulated conv, its noise and its activated output, a DCGAN's
transposed convs, batch norms and ReLUs. A module called more than once (a shared pixel norm)
is listed once per call (``name#2``…); a container whose output is its last child's tensor
takes that entry's name, since a block's output is what a reader asks for.

A chosen map is pictured three ways — the mean over channels, the strongest channels tiled
(by mean |activation|), or one channel — with the log power spectrum of what is shown beside
it, and the peak ratio: max |a| over mean |a|. StyleGAN's (2019) AdaIN "droplet" is a
localized spike that dominates a later layer's statistics: a map whose peak ratio is tens
where its neighbours read a few.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .spectrum import power_spectrum

VIEWS = {"mean": "mean over channels", "strongest": "strongest channels", "channel": "one channel"}
STRONGEST = 16          # channels tiled by the "strongest" view (a 4×4 grid)


@dataclass(frozen=True)
class Layer:
    """One feature map of G's forward pass: the module path (``#k`` for its k-th call) and shape."""
    key: str
    channels: int
    height: int
    width: int

    @property
    def label(self) -> str:
        return f"{self.key} · {self.channels}×{self.height}×{self.width}"


def trace_layers(G: torch.nn.Module, forward: Callable[[], object],
                 wanted: str | None = None) -> tuple[list[Layer], np.ndarray | None]:
    """Run ``forward()`` (a pass of ``G`` for one latent, or a batch whose first sample is the
    one pictured) and list its feature maps in execution order; the map of ``wanted`` (a key),
    its first sample as float32 [C, H, W], or None when no map has that key."""
    layers: list[Layer] = []
    captured: list[np.ndarray] = []
    calls: dict[str, int] = {}
    last: list = [None]             # the newest listed map's tensor: an enclosing module returning it renames it
    tracer = threading.get_ident()  # another thread's pass of the same G (a projection) is not this trace

    def hook(name: str):
        def record(module, inputs, output) -> None:
            if not (torch.is_tensor(output) and output.dim() == 4) or threading.get_ident() != tracer:
                return
            calls[name] = calls.get(name, 0) + 1
            key = name if calls[name] == 1 else f"{name}#{calls[name]}"
            if output is last[0] and layers:      # a block returning its last child's map: the block's name
                layers[-1] = Layer(key, layers[-1].channels, layers[-1].height, layers[-1].width)
            else:
                layers.append(Layer(key, int(output.shape[1]), int(output.shape[2]), int(output.shape[3])))
            last[0] = output
            if layers[-1].key == wanted:
                captured[:] = [output[0].detach().float().cpu().numpy().copy()]
        return record

    # a parametrization (spectral norm's) returns a conv's 4-D weight, not a feature map
    handles = [module.register_forward_hook(hook(name)) for name, module in G.named_modules()
               if name and "parametrizations" not in name.split(".")]
    try:
        with torch.no_grad():
            forward()
    finally:
        for h in handles:
            h.remove()
    return layers, (captured[0] if captured else None)


@dataclass(frozen=True)
class LayerPicture:
    """A feature map as shown: ``activation`` and ``spectrum`` are 2-D floats in [0, 1]."""
    activation: np.ndarray
    spectrum: np.ndarray
    channels: tuple[int, ...]        # the channels the picture shows (all of them for the mean)
    peak_ratio: float                # max |a| / mean |a| of the maps shown
    columns: int = 1                 # tiles per row in ``activation`` (the strongest view)


def strongest_channels(activation: np.ndarray, n: int = STRONGEST) -> tuple[int, ...]:
    """The ``n`` channels of [C, H, W] with the largest mean |activation|, strongest first."""
    energy = np.abs(activation).reshape(activation.shape[0], -1).mean(axis=1)
    return tuple(int(c) for c in np.argsort(-energy, kind="stable")[:n])


def _unit(x: np.ndarray) -> np.ndarray:
    """Scaled to [0, 1] (a constant map reads 0.5)."""
    lo, hi = float(x.min()), float(x.max())
    return np.full_like(x, 0.5, dtype=np.float32) if hi - lo < 1e-12 else ((x - lo) / (hi - lo)).astype(np.float32)


def _tiles(maps: np.ndarray, columns: int) -> np.ndarray:
    """[N, H, W] maps, each scaled to [0, 1] on its own, in a grid with one-pixel gaps of 1."""
    n, h, w = maps.shape
    rows = -(-n // columns)
    out = np.ones((rows * (h + 1) - 1, columns * (w + 1) - 1), np.float32)
    for i, m in enumerate(maps):
        r, c = divmod(i, columns)
        out[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = _unit(m)
    return out


def log_spectrum(maps: np.ndarray) -> np.ndarray:
    """The mean power spectrum of [N, H, W] maps (each one's mean removed; a Hann window from
    16 pixels up, where a 4×4 map would lose half of itself to it), log10, zero frequency in the
    centre."""
    h = maps.shape[-2]
    power = power_spectrum(maps[:, None], window=h >= 16)
    return np.log10(power + 1e-12 * max(float(power.max()), 1e-30))


def picture(activation: np.ndarray, view: str = "mean", channel: int = 0, strongest: int = STRONGEST) -> LayerPicture:
    """One feature map [C, H, W] pictured by ``view`` (VIEWS): the map(s) and their spectrum."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
    a = np.asarray(activation, np.float32)
    if view == "mean":
        shown, channels = a.mean(axis=0, keepdims=True), tuple(range(a.shape[0]))
        image, columns = _unit(shown[0]), 1
    elif view == "channel":
        if not 0 <= channel < a.shape[0]:
            raise ValueError(f"channel {channel} is not among this layer's {a.shape[0]}")
        shown, channels = a[channel:channel + 1], (channel,)
        image, columns = _unit(shown[0]), 1
    else:
        channels = strongest_channels(a, strongest)
        shown = a[list(channels)]
        columns = int(np.ceil(np.sqrt(len(channels))))
        image = _tiles(shown, columns)
    magnitude = np.abs(shown)
    peak = float(magnitude.max() / max(float(magnitude.mean()), 1e-12))
    return LayerPicture(image, _unit(log_spectrum(shown)), channels, peak, columns)


def default_layer(layers: list[Layer]) -> Layer | None:
    """The layer shown first: the last feature map before the image (more than 3 channels)."""
    maps = [l for l in layers if l.channels > 3]
    return maps[-1] if maps else (layers[-1] if layers else None)


def trace_and_picture(G: torch.nn.Module, forward: Callable[[], object], key: str | None, view: str = "mean",
                      channel: int = 0) -> tuple[list[Layer], str | None, LayerPicture | None]:
    """The layer view's job: G's layers, the key shown (``key`` when G has it, else
    default_layer's) and its picture; (layers, None, None) for a G without feature maps."""
    layers, activation = trace_layers(G, forward, key)
    if activation is None:
        choice = default_layer(layers)
        if choice is None:
            return layers, None, None
        key = choice.key
        layers, activation = trace_layers(G, forward, key)
    return layers, key, picture(activation, view, min(channel, activation.shape[0] - 1))
