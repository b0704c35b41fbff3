"""StyleGAN's discriminator (the official ``D_basic``): the progressive discriminator with a
[1, 2, 1] blur before each halving — per block a 3x3 conv, the blur, then a 3x3 conv and a 2x
box downsample (one fused op) — fromRGB per resolution, faded in with α; the minibatch-stddev
head; a conditional D projects its class on the last features."""
from __future__ import annotations

import math

import torch
from torch import nn

from ...networks.d_head import FinalBlock, FromRGB, growing_pass
from ...networks.layers import ConvDownsample2d, EqualConv2d, check_resolution, downsample2x, leaky_relu, width_at
from .layers import blur


class BlurShrinkBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3)
        self.conv1_down = ConvDownsample2d(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = leaky_relu(self.conv0(x))
        return leaky_relu(self.conv1_down(blur(x)))


class StyleGANDiscriminator(nn.Module):
    """While a block fades in: ``(1-α)·fromRGB_old(down(x)) + α·block(fromRGB_new(x))``."""

    def __init__(self, resolution: int = 32, image_channels: int = 3, fmap_base: int = 8192,
                 fmap_max: int = 512, mbstd_group_size: int = 4, classes: int = 0):
        super().__init__()
        check_resolution(resolution)
        self.resolution, self.classes = resolution, classes
        self.max_level = int(math.log2(resolution))

        def nf(level: int) -> int:
            return width_at(level, fmap_base, fmap_max)

        self.from_rgb = nn.ModuleDict({str(l): FromRGB(image_channels, nf(l)) for l in range(2, self.max_level + 1)})
        self.blocks = nn.ModuleDict({str(l): BlurShrinkBlock(nf(l), nf(l - 1)) for l in range(3, self.max_level + 1)})
        self.final = FinalBlock(nf(2), mbstd_group_size, classes)

    def forward(self, image: torch.Tensor, level: int | None = None, alpha: float = 1.0,
                labels: torch.Tensor | None = None) -> torch.Tensor:
        return growing_pass(self, image, level, alpha, labels, downsample2x)
