"""The 4x4 head both families' discriminators end in (its own module: it builds on the layers
and on the class projection, which itself builds on the layers)."""
from __future__ import annotations

import torch
from torch import nn

from .conditioning import Projection
from .layers import EqualConv2d, EqualLinear, MinibatchStddev, leaky_relu


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
