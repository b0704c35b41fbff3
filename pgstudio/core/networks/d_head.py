"""What the growing discriminators read images through (fromRGB), their pass with its fade, and
the 4x4 head they end in — the progressive family's and StyleGAN's; its own module: it builds on
the layers and on the class projection, which itself builds on the layers."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from .conditioning import Projection, labels_for
from .layers import EqualConv2d, EqualLinear, MinibatchStddev, fade_blend, leaky_relu


class FromRGB(nn.Module):
    """A 1x1 conv and leaky ReLU: an image into D's features at its resolution."""

    def __init__(self, image_channels: int, out_channels: int):
        super().__init__()
        self.conv = EqualConv2d(image_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return leaky_relu(self.conv(x))


class FinalBlock(nn.Module):
    """4x4 head of both families' discriminators: minibatch stddev, 3x3 conv, dense, dense → one
    score; a conditional D adds its class projection on the last features (conditioning.py;
    ``label_layers``: the label-mapping network StyleGAN2's D puts before it)."""

    def __init__(self, channels: int, group_size: int, classes: int = 0, label_layers: int = 0):
        super().__init__()
        self.mbstd = MinibatchStddev(group_size)
        self.conv = EqualConv2d(channels + 1, channels, 3)
        self.dense = EqualLinear(channels * 16, channels)
        self.out = EqualLinear(channels, 1, gain=1.0)
        if classes:
            self.projection = Projection(classes, channels, label_layers)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = leaky_relu(self.conv(self.mbstd(x)))
        x = leaky_relu(self.dense(x.flatten(1)))
        score = self.out(x).squeeze(1)
        if labels is not None:
            score = score + self.projection(x, labels)
        return score


def growing_pass(D: nn.Module, image: torch.Tensor, level: int | None, alpha, labels: torch.Tensor | None,
                 halve: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """A growing D's scores at ``level``: the image through that level's fromRGB and block — while
    the block fades in, blended as ``(1-α)·fromRGB_old(halve(image)) + α·block(fromRGB(image))`` —
    then the blocks below and the head. ``D`` holds ``from_rgb`` and ``blocks`` keyed by level,
    ``final`` and ``max_level``. A tensor α (compiled training) always blends: no data-dependent
    branch."""
    level = D.max_level if level is None else level
    x = D.from_rgb[str(level)](image)
    if level > 2:
        x = D.blocks[str(level)](x)
        if torch.is_tensor(alpha) or alpha < 1.0:
            x = fade_blend(D.from_rgb[str(level - 1)](halve(image)), x, alpha)
        for l in range(level - 1, 2, -1):
            x = D.blocks[str(l)](x)
    return D.final(x, labels_for(D, labels, image.shape[0], image.device))
