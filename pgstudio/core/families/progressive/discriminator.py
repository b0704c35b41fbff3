"""Progressive discriminator, the mirror of the generator."""
from __future__ import annotations

import math

import torch
from torch import nn

from ...config import D_DOWNSAMPLE as DOWNSAMPLE_FORMS
from ...networks.fir import downsample_fir
from ...networks.d_head import FinalBlock, FromRGB, growing_pass
from ...networks.layers import (ConvDownsample2d, EqualConv2d, check_resolution, downsample2x,
                                leaky_relu, width_at)


class ShrinkBlock(nn.Module):
    """Halves the resolution: two 3x3 convs and a 2x box downsample.

    ``downsample="fused"`` box-filters the second conv's output before its bias and activation,
    so conv and filter run as one stride-2 conv (the official code's form from 128x128 up; here at
    every resolution: 1.4-2.8x faster on a CPU). ``"after-activation"`` filters after the
    activation, the form of runs written before this option existed (their config has no
    ``d_downsample`` key). ``"fir"`` is StyleGAN2's halving: the map blurred with [1, 3, 3, 1]
    at full resolution, then a stride-2 conv (measured: a D that low-passes so lets G go blurry,
    docs/faithful.md). The parameters are the same in every form.
    """

    def __init__(self, in_channels: int, out_channels: int, downsample: str = "fused"):
        super().__init__()
        if downsample not in DOWNSAMPLE_FORMS:
            raise ValueError(f"downsample must be one of {', '.join(DOWNSAMPLE_FORMS)} (got {downsample!r})")
        self.fir = downsample == "fir"
        self.fused = downsample == "fused"
        self.conv1 = EqualConv2d(in_channels, in_channels, 3)
        self.conv2 = ConvDownsample2d(in_channels, out_channels) if self.fused else EqualConv2d(in_channels, out_channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = leaky_relu(self.conv1(x))
        if self.fir:
            return leaky_relu(self.conv2.halve_blurred(x))
        if self.fused:
            return leaky_relu(self.conv2(x))
        return downsample2x(leaky_relu(self.conv2(x)))


class ProgressiveDiscriminator(nn.Module):
    """While a block fades in, its input path is ``(1-α)·fromRGB_old(down(x)) + α·block(fromRGB_new(x))``."""

    def __init__(self, resolution: int = 32, image_channels: int = 3, fmap_base: int = 8192,
                 fmap_max: int = 512, mbstd_group_size: int = 4, downsample: str = "fused", classes: int = 0):
        super().__init__()
        self.downsample = downsample
        self.resolution = resolution
        self.classes = classes
        self.max_level = int(math.log2(resolution))

        check_resolution(resolution)

        def nf(level: int) -> int:
            return width_at(level, fmap_base, fmap_max)

        self.from_rgb = nn.ModuleDict({str(l): FromRGB(image_channels, nf(l))
                                       for l in range(2, self.max_level + 1)})
        self.blocks = nn.ModuleDict({str(l): ShrinkBlock(nf(l), nf(l - 1), downsample)
                                     for l in range(3, self.max_level + 1)})
        self.final = FinalBlock(nf(2), mbstd_group_size, classes)

    def forward(self, image: torch.Tensor, level: int | None = None, alpha: float = 1.0,
                labels: torch.Tensor | None = None) -> torch.Tensor:
        halve = downsample_fir if self.downsample == "fir" else downsample2x
        return growing_pass(self, image, level, alpha, labels, halve)
