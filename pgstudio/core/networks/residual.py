"""Residual and attention blocks of the SNGAN/SAGAN/BigGAN line, shared by the classic family and
BigGAN: spectral normalisation, D's feature normalisation, SNGAN's initialisation, SAGAN's
self-attention, and SNGAN's residual up- and downsampling blocks.

Plain torch layers, not the equalised-learning-rate layers of the growing families: these models
store their weights at their true scale, which spectral normalisation acts on directly.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def width(resolution: int, fmap_base: int, fmap_max: int) -> int:
    """Feature maps of G's layer at ``resolution``, halving per doubling below fmap_max (DCGAN's:
    fmap_base 4096, fmap_max 1024 gives its 1024/512/256/128 at 4/8/16/32; BigGAN's at 128²: ch 96,
    fmap_base 128·ch, fmap_max 16·ch gives its 16, 16, 8, 4, 2, 1 × ch at 4 … 128); D's at r is
    G's at 2r."""
    return max(1, min(fmap_max, fmap_base // resolution))


def spectral(module: nn.Module, on: bool) -> nn.Module:
    """The module with its weight divided by its largest singular value (one power iteration
    per forward in training, Miyato et al. 2018), when ``on``."""
    return spectral_norm(module) if on else module


def feature_norm(kind: str, channels: int) -> nn.Module:
    """D's normalisation after a conv (spectral normalisation wraps the convs instead)."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":          # over C, H, W per sample: WGAN-GP's replacement for batch norm
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def xavier_init(net: nn.Module) -> None:
    """SNGAN's residual networks: Glorot-uniform, gain √2 inside blocks and 1 for the shortcuts,
    the dense layers and the image layer (as its reference implementation). Called before any
    spectral normalisation is attached, so it initialises the weights themselves."""
    for name, m in net.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            inner = name.endswith(("conv1", "conv2"))
            nn.init.xavier_uniform_(m.weight, math.sqrt(2) if inner else 1.0)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def attach_spectral_norm(net: nn.Module) -> None:
    """Spectral normalisation on every conv and dense layer of ``net`` (after initialisation)."""
    for name, m in list(net.named_modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            parent = net.get_submodule(name.rpartition(".")[0]) if "." in name else net
            setattr(parent, name.rpartition(".")[2], spectral_norm(m))


def attention_problem(attention_res: int, resolution: int) -> str | None:
    """The rule for where self-attention goes (0: none), in words when it is broken: a power of
    two from 8 up to half the resolution, where both G and D have feature maps of that size."""
    a = attention_res
    if a and (a & (a - 1) or not 8 <= a < resolution):
        return (f"self-attention goes at a power of two from 8 up to half the resolution ({resolution // 2}), "
                "or 0 for none")
    return None


class SelfAttention(nn.Module):
    """SAGAN's non-local block (Zhang et al. 2019): every position attends to every other;
    queries and keys with C/8 channels, values with C; added to the input scaled by γ, which
    starts at 0 so that the network first learns locally."""

    def __init__(self, channels: int):
        super().__init__()
        inner = max(1, channels // 8)
        self.query = nn.Conv2d(channels, inner, 1, bias=False)
        self.key = nn.Conv2d(channels, inner, 1, bias=False)
        self.value = nn.Conv2d(channels, channels, 1, bias=False)
        self.gamma = nn.Parameter(torch.zeros(()))

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """[N, HW, HW]: row j holds the weights position j gives to every position i."""
        q, k = self.query(x).flatten(2), self.key(x).flatten(2)         # [N, C/8, HW]
        return torch.softmax(q.transpose(1, 2) @ k, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        out = self.value(x).flatten(2) @ self.attention(x).transpose(1, 2)     # [N, C, HW]
        return x + self.gamma * out.reshape(n, c, h, w)


class ResBlockUp(nn.Module):
    """SNGAN's generator block: BN, ReLU, 2x nearest, conv 3x3, BN, ReLU, conv 3x3; the shortcut
    upsamples and maps channels with a 1x1 conv."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(in_ch), nn.BatchNorm2d(out_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.shortcut = nn.Conv2d(in_ch, out_ch, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.bn1(x)), scale_factor=2.0, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h))))
        return h + self.shortcut(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class ResBlockDown(nn.Module):
    """SNGAN's discriminator block: (ReLU,) conv 3x3, ReLU, conv 3x3, 2x average pool; shortcut
    1x1 conv and pool. The first block ("optimized") takes the image: no ReLU before its first
    conv, and its shortcut pools before the 1x1 conv."""

    def __init__(self, in_ch: int, out_ch: int, norm: str, first: bool = False):
        super().__init__()
        self.first = first
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.shortcut = nn.Conv2d(in_ch, out_ch, 1)
        self.norm1 = feature_norm(norm, out_ch)
        self.norm2 = feature_norm(norm, out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.first else F.relu(x)
        h = self.norm2(self.conv2(F.relu(self.norm1(self.conv1(h)))))
        h = F.avg_pool2d(h, 2)
        if self.first:
            return h + self.shortcut(F.avg_pool2d(x, 2))
        return h + F.avg_pool2d(self.shortcut(x), 2)
