"""Progressive generator: 4x4 from a latent, then one block per doubling, faded in with α."""
from __future__ import annotations

import torch
from torch import nn

from ..base import Architecture
from ...networks.conditioning import LabelInput, labels_for
from ...networks.fir import upsample_fir
from ...networks.layers import (EqualConv2d, EqualLinear, PixelNorm, UpsampleConv2d, describe_generator, fade_blend,
                                leaky_relu, width_at, upsample2x)

# How G doubles its maps (config and architecture key ``resample``): "nearest" repeats each pixel
# 2x2 (the paper; records without the key), "fir" zero-stuffs and low-passes with StyleGAN2's
# [1, 3, 3, 1] filter, which leaves no 2-pixel lattice for the next conv to sharpen into lines
# (measured in docs/faithful.md: the nearest lattice put 5-20x the fakes' own off-axis power on a
# frequency axis)
RESAMPLE = ("nearest", "fir")


def upsample(x: torch.Tensor, resample: str) -> torch.Tensor:
    return upsample_fir(x) if resample == "fir" else upsample2x(x)


class FirstBlock(nn.Module):
    """Latent → 4x4 features: pixel-normed z, dense to 4x4, then one 3x3 conv. A conditional
    generator adds its label's dense layer to the latent's (networks/conditioning.py)."""

    def __init__(self, latent_size: int, channels: int, classes: int = 0):
        super().__init__()
        self.norm = PixelNorm()
        # gain 2/16: the dense layer acts as a 4x4 "transposed conv", as in the paper's code.
        self.dense = EqualLinear(latent_size, channels * 16, gain=2.0 / 16)
        if classes:
            self.label = LabelInput(classes, latent_size, channels * 16, gain=2.0 / 16)
        self.conv = EqualConv2d(channels, channels, 3)
        self.channels = channels

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = self.dense(self.norm(z))
        if labels is not None:
            x = x + self.label(labels).to(x.dtype)
        x = x.view(-1, self.channels, 4, 4)
        x = self.norm(leaky_relu(x))
        return self.norm(leaky_relu(self.conv(x)))


class GrowBlock(nn.Module):
    """Doubles the resolution: nearest upsample, then two 3x3 convs with pixel norm (the
    upsample and the first conv run as one fused op)."""

    def __init__(self, in_channels: int, out_channels: int, resample: str = "nearest"):
        super().__init__()
        # the same parameters either way: the fused form is a 3x3 conv of the upsampled map
        self.conv1 = UpsampleConv2d(in_channels, out_channels) if resample == "nearest" else \
            EqualConv2d(in_channels, out_channels, 3)
        self.conv2 = EqualConv2d(out_channels, out_channels, 3)
        self.norm = PixelNorm()
        self.resample = resample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.resample == "fir":
            x = upsample_fir(x)
        x = self.norm(leaky_relu(self.conv1(x)))
        return self.norm(leaky_relu(self.conv2(x)))


class ToRGB(nn.Module):
    """1x1 linear projection of features to image channels."""

    def __init__(self, in_channels: int, image_channels: int):
        super().__init__()
        self.conv = EqualConv2d(in_channels, image_channels, 1, gain=1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class ProgressiveGenerator(nn.Module):
    """Holds every block up to ``resolution``; ``forward`` runs those up to ``level``.

    level = log2(output resolution): 2 is 4x4. While a block fades in (alpha < 1), the
    output is ``(1-α)·up(old_rgb) + α·new_rgb``.
    """

    def __init__(self, resolution: int = 32, image_channels: int = 3, latent_size: int = 512,
                 fmap_base: int = 8192, fmap_max: int = 512, class_names: tuple[str, ...] | None = None,
                 resample: str = "nearest"):
        super().__init__()
        if resample not in RESAMPLE:
            raise ValueError(f"resample must be one of {', '.join(RESAMPLE)} (got {resample!r})")
        describe_generator(self, resolution, image_channels, latent_size, class_names)
        self.resample = resample
        self.fmap_base = fmap_base
        self.fmap_max = fmap_max

        def nf(level: int) -> int:
            return width_at(level, fmap_base, fmap_max)

        self.first = FirstBlock(latent_size, nf(2), self.classes)
        self.blocks = nn.ModuleDict({str(l): GrowBlock(nf(l - 1), nf(l), resample)
                                     for l in range(3, self.max_level + 1)})
        self.to_rgb = nn.ModuleDict({str(l): ToRGB(nf(l), image_channels)
                                     for l in range(2, self.max_level + 1)})

    def architecture(self) -> dict:
        return Architecture("progressive", self.resolution, self.image_channels, self.latent_size,
                            self.fmap_base, self.fmap_max, class_names=self.class_names,
                            resample=self.resample).to_dict()

    def forward(self, z: torch.Tensor, level: int | None = None, alpha: float = 1.0,
                labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images from z; a conditional generator's ``labels`` (class indices or class-weight rows,
        networks/conditioning.py) default to cycling through its classes."""
        level = self.max_level if level is None else level
        x = self.first(z, labels_for(self, labels, z.shape[0], z.device))
        previous = x
        for l in range(3, level + 1):
            previous = x
            x = self.blocks[str(l)](x)
        new_rgb = self.to_rgb[str(level)](x)
        if level == 2 or (not torch.is_tensor(alpha) and alpha >= 1.0):
            return new_rgb      # a tensor α (compiled training) always blends: no data-dependent branch
        old_rgb = upsample(self.to_rgb[str(level - 1)](previous), self.resample)
        return fade_blend(old_rgb, new_rgb, alpha)
