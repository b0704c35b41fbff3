"""The style-based generators' shared parts (StyleGAN 2019 and StyleGAN2): the mapping network
z → w with its running mean w, the gained leaky ReLU and per-pixel noise with a learned strength."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .conditioning import LabelInput, class_rows, labels_for
from .layers import EqualLinear, PixelNorm

ACT_GAIN = math.sqrt(2.0)        # leaky ReLU halves the variance; SG2 multiplies it back


def act(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2) * ACT_GAIN


class MappingNetwork(nn.Module):
    """z (and a conditional generator's label, networks/conditioning.py) → w. It keeps the mean w
    that truncation pulls toward, and with classes the mean w of each class as well: the global
    mean mixes classes, so a truncated image of one class is pulled toward its own."""

    def __init__(self, latent_size: int, w_size: int, layers: int = 8, lr_mul: float = 0.01,
                 w_avg_beta: float = 0.995, classes: int = 0):
        super().__init__()
        self.norm = PixelNorm()
        self.dense = nn.ModuleList([EqualLinear(latent_size if i == 0 else w_size, w_size, gain=1.0,
                                                lr_mul=lr_mul) for i in range(layers)])
        self.w_avg_beta = w_avg_beta
        self.classes = classes
        self.register_buffer("w_avg", torch.zeros(w_size))
        if classes:
            self.label = LabelInput(classes, w_size, w_size, gain=1.0, lr_mul=lr_mul)
            self.register_buffer("w_avg_class", torch.zeros(classes, w_size))

    def forward(self, z: torch.Tensor, psi: float = 1.0, update_w_avg: bool = False,
                labels: torch.Tensor | None = None) -> torch.Tensor:
        labels = labels_for(self, labels, z.shape[0], z.device)
        x = self.norm(z)
        for i, layer in enumerate(self.dense):
            y = layer(x)
            if i == 0 and labels is not None:
                y = y + self.label(labels).to(y.dtype)
            x = act(y)
        if update_w_avg:                       # training only: the mean w that truncation pulls toward
            with torch.no_grad():
                w = x.detach().float()
                self.w_avg.copy_(w.mean(0).lerp(self.w_avg, self.w_avg_beta))
                if labels is not None:
                    self._update_class_means(w, labels)
        if psi != 1.0:
            x = self._centre_of(labels).to(x.dtype).lerp(x, psi)
        return x

    def _centre_of(self, labels: torch.Tensor | None) -> torch.Tensor:
        """The mean w [w_size] — or with labels each sample's class mean [N, w_size] (a blend's
        blend) — that truncation pulls toward."""
        return self.w_avg if labels is None else class_rows(labels, self.classes) @ self.w_avg_class

    def centre(self, batch: int, labels: torch.Tensor | None, device) -> torch.Tensor:
        """Truncation's centre for ``batch`` samples and their labels (cycled when None)."""
        return self._centre_of(labels_for(self, labels, batch, device))

    def _update_class_means(self, w: torch.Tensor, labels: torch.Tensor) -> None:
        """Each class present in the batch moves its mean w toward that class's batch mean."""
        rows = class_rows(labels, self.classes)                        # [N, classes]
        counts = rows.sum(0)
        means = (rows.T @ w) / counts.clamp(min=1)[:, None]
        moved = means.lerp(self.w_avg_class, self.w_avg_beta)
        self.w_avg_class.copy_(torch.where((counts > 0)[:, None], moved, self.w_avg_class))


class NoiseInjection(nn.Module):
    """Adds strength · noise; noise is random (from a generator when given), fixed or off. One
    strength for the layer (StyleGAN2), or one per channel when ``channels`` is given (StyleGAN)."""

    def __init__(self, resolution: int, seed: int, channels: int = 0):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(channels) if channels else torch.zeros(()))
        self.register_buffer("fixed", torch.randn(1, 1, resolution, resolution,
                                                  generator=torch.Generator().manual_seed(seed)))

    def forward(self, x: torch.Tensor, mode: str = "const", generator: torch.Generator | None = None):
        if mode == "none":
            return x
        if mode == "const":
            noise = self.fixed
        elif mode == "random":
            n, _, h, w = x.shape
            noise = torch.randn(n, 1, h, w, device=x.device, generator=generator)
        else:
            raise ValueError(f"unknown noise mode {mode!r}")
        strength = self.strength[:, None, None] if self.strength.dim() else self.strength
        return x + (noise * strength).to(x.dtype)
