"""StyleGAN2's residual discriminator: fromRGB at full resolution, then per halving two 3x3
convs beside a 1x1 skip, both FIR-downsampled and summed with 1/√2; the same 4x4 head
(minibatch stddev, conv, dense, dense) as the progressive discriminator.

The block's halving follows the official ``conv2d_resample``: the second 3x3 conv is a stride-2
conv of the map blurred at full resolution (padding 2, so the map grows by one), and the 1x1 skip
is bias-free and takes the FIR-downsampled map. Runs written before the config key ``d_block``
downsampled first and then applied a same-padded 3x3 conv (a different operator: its output
pixel sees input rows 5..12 of a 16-row window where the official one sees 6..11), with a bias on
the skip; ``d_block = "fir-then-conv"`` keeps that form for their checkpoints."""
from __future__ import annotations

import math

import torch
from torch import nn

from ...networks.fir import downsample_fir
from ...networks.d_head import FinalBlock
from ...networks.layers import EqualConv2d, check_resolution, leaky_relu, width_at
from ...networks.conditioning import labels_for
from .generator import bf16_region

CMAP_LAYERS = 2           # stylegan2-ada's CIFAR-10 setting for its label-mapping network


D_BLOCKS = ("blur-stride", "fir-then-conv")


class ResidualBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, form: str = "blur-stride"):
        super().__init__()
        if form not in D_BLOCKS:
            raise ValueError(f"unknown StyleGAN2 D block {form!r}; one of {', '.join(D_BLOCKS)}")
        self.form = form
        self.conv0 = EqualConv2d(in_channels, in_channels, 3)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3)
        self.skip = EqualConv2d(in_channels, out_channels, 1, gain=1.0, bias=form == "fir-then-conv")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.skip(downsample_fir(x))
        x = leaky_relu(self.conv0(x))
        if self.form == "fir-then-conv":
            x = self.conv1(downsample_fir(x))
        else:
            x = self.conv1.halve_blurred(x)
        return (leaky_relu(x) + skip) * (1 / math.sqrt(2))


class StyleGAN2Discriminator(nn.Module):
    def __init__(self, resolution: int = 32, image_channels: int = 3, fmap_base: int = 8192,
                 fmap_max: int = 512, mbstd_group_size: int = 4, bf16_blocks: int = 4, classes: int = 0,
                 block: str = "blur-stride"):
        super().__init__()
        self.resolution = resolution
        self.classes = classes
        self.max_level = int(math.log2(resolution))
        self.bf16_blocks = bf16_blocks

        check_resolution(resolution)

        def nf(level: int) -> int:
            return width_at(level, fmap_base, fmap_max)

        self.from_rgb = EqualConv2d(image_channels, nf(self.max_level), 1)
        self.blocks = nn.ModuleDict({str(l): ResidualBlock(nf(l), nf(l - 1), block)
                                     for l in range(self.max_level, 2, -1)})
        # a conditional D maps its labels through a small network first ("cmap", as StyleGAN2-ADA)
        self.final = FinalBlock(nf(2), mbstd_group_size, classes, label_layers=CMAP_LAYERS)

    def forward(self, image: torch.Tensor, level: int | None = None, alpha: float = 1.0,
                labels: torch.Tensor | None = None) -> torch.Tensor:
        """Scores for images at full resolution (level and α are accepted and ignored)."""
        top = self.max_level
        with bf16_region(image, self.bf16_blocks > 0):
            x = leaky_relu(self.from_rgb(image))
        for l in range(top, 2, -1):
            low_precision = l > top - self.bf16_blocks
            with bf16_region(x, low_precision):
                x = self.blocks[str(l)](x if low_precision else x.float())   # bf16 stays in the top blocks
        with bf16_region(x, False):
            return self.final(x.float(), labels_for(self, labels, image.shape[0], image.device))
