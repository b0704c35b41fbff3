"""StyleGAN2's building blocks (Karras et al. 2020), on the shared equalized-LR layers.

- ``MappingNetwork``: pixel-normed z through dense layers at a 0.01 learning-rate multiplier
  to w, with a running average of w for truncation.
- ``ModulatedConv2d``: a style scales the input channels of the weights, demodulation
  rescales each output channel back to unit expected variance (replaces AdaIN). It is written
  the "non-fused" way (scale the activations, one shared convolution, rescale), which is the
  same arithmetic as per-sample weights and runs as an ordinary batched convolution.
- ``NoiseInjection``: per-pixel Gaussian noise with a learned per-layer strength.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...networks.fir import upsample_fir
from ...networks.conditioning import LabelInput, class_rows, labels_for
from ...networks.layers import EqualLinear, PixelNorm

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
            if labels is None:
                x = self.w_avg.to(x.dtype).lerp(x, psi)
            else:                              # each sample toward its class's mean (a blend's blend)
                centre = class_rows(labels, self.classes) @ self.w_avg_class
                x = centre.to(x.dtype).lerp(x, psi)
        return x

    def _update_class_means(self, w: torch.Tensor, labels: torch.Tensor) -> None:
        """Each class present in the batch moves its mean w toward that class's batch mean."""
        rows = class_rows(labels, self.classes)                        # [N, classes]
        counts = rows.sum(0)
        means = (rows.T @ w) / counts.clamp(min=1)[:, None]
        moved = means.lerp(self.w_avg_class, self.w_avg_beta)
        self.w_avg_class.copy_(torch.where((counts > 0)[:, None], moved, self.w_avg_class))


class ModulatedConv2d(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, w_size: int,
                 demodulate: bool = True, upsample: bool = False):
        super().__init__()
        self.affine = EqualLinear(w_size, in_channels, gain=1.0, bias_init=1.0)   # styles start at 1
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.scale = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2
        self.demodulate = demodulate
        self.upsample = upsample
        self._frozen: tuple | None = None      # (weight version, scaled weight, Σ_k w²) without autograd

    def _scaled_weight(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The He-scaled weight and its per-(out, in) sum of squares. For a network in eval mode
        used without autograd (the EMA generator's grids, the explorer) they are kept until the
        weight changes: for one image at the paper's widths recomputing them cost more than the
        convolutions. Changes are seen through the tensor's version counter, which in-place
        copies and foreach ops bump but fused optimizers do not, hence never in train mode."""
        if self.training or (torch.is_grad_enabled() and self.weight.requires_grad):
            weight = self.weight * self.scale
            return weight, weight.float().square().sum(dim=(2, 3))
        key = (self.weight._version, self.weight.data_ptr(), self.weight.device)
        if self._frozen is None or self._frozen[0] != key:
            with torch.no_grad():
                weight = self.weight * self.scale
                self._frozen = (key, weight, weight.float().square().sum(dim=(2, 3)))
        return self._frozen[1], self._frozen[2]

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)                                          # [N, in]
        weight, sq = self._scaled_weight()                               # sq: [out, in]
        x = x * styles.to(x.dtype)[:, :, None, None]
        if self.upsample:
            x = upsample_fir(x)
        x = F.conv2d(x, weight.to(x.dtype), padding=self.padding)
        if self.demodulate:
            # σ_j = sqrt(Σ_i s_i² Σ_k w_ijk²): the output std of unit-variance inputs
            d = torch.rsqrt(styles.float().square() @ sq.t() + 1e-8)      # [N, out]
            x = x * d.to(x.dtype)[:, :, None, None]
        return x


class NoiseInjection(nn.Module):
    """Adds strength · noise; noise is random (from a generator when given), fixed or off."""

    def __init__(self, resolution: int, seed: int):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(()))
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
        return x + (noise * self.strength).to(x.dtype)
