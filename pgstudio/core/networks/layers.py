"""Building blocks shared by the generator and the discriminator.

Equalized learning rate (Karras et al. 2018, §4.1): weights are stored ~N(0, 1) and
multiplied by He's constant sqrt(gain / fan_in) on every forward pass, so Adam sees every
weight at the same scale whatever the layer's fan-in.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .fir import blur_fir


class EqualLinear(nn.Module):
    """Dense layer with a run-time He scale; ``lr_mul`` slows a layer down (mapping nets)."""

    def __init__(self, in_features: int, out_features: int, gain: float = 2.0,
                 lr_mul: float = 1.0, bias_init: float = 0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.scale = math.sqrt(gain / in_features) * lr_mul
        self.lr_mul = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class EqualConv2d(nn.Module):
    """Same-padded conv with a run-time He scale."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, gain: float = 2.0,
                 bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale = math.sqrt(gain / (in_channels * kernel_size * kernel_size))
        self.padding = kernel_size // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)

    def halve_blurred(self, x: torch.Tensor) -> torch.Tensor:
        """StyleGAN2's halving (conv2d_resample with down=2): x blurred with [1, 3, 3, 1] at full
        resolution, padded by 2 (the map grows by one), then this conv with stride 2, unpadded."""
        return F.conv2d(blur_fir(x, 2), self.weight * self.scale, self.bias, stride=2)


# The fused forms pay for preparing their 4x4 kernel on every call; below this many input pixels
# (batch x height x width) that costs more than the multiply-adds it saves, so smaller calls take
# the two-step form, which gives the same result. Measured on a 2-core CPU at 512 channels: 4x4 at
# batch 1 takes 59 ms fused against 2.5 ms; fused wins from 32x32 at batch 1, and from 4x4 at the
# training batch of 64 (all sizes at the laptop widths' 64 channels).
FUSED_MIN_PIXELS = 1024


def _small(x: torch.Tensor) -> bool:
    return x.shape[0] * x.shape[2] * x.shape[3] < FUSED_MIN_PIXELS


def _summed_shifts(weight: torch.Tensor) -> torch.Tensor:
    """A 3x3 kernel as the 4x4 kernel that sums it over the four cells of a 2x2 block."""
    w = F.pad(weight, (1, 1, 1, 1))
    return w[:, :, 1:, 1:] + w[:, :, :-1, 1:] + w[:, :, 1:, :-1] + w[:, :, :-1, :-1]


class UpsampleConv2d(EqualConv2d):
    """Nearest 2x upsampling, then a same-padded 3x3 conv, computed as one stride-2 transposed
    conv with a 4x4 kernel (the official PGGAN code's fused ``upscale2d_conv2d``).

    Equal to ``conv(upsample2x(x))`` up to float rounding, with 4/9 of its multiply-adds and
    no upsampled copy of the input; the parameters are the 3x3 conv's, so either form loads
    the other's weights. Measured on a 2-core CPU (forward + backward, batch 64): 2.4-2.7x
    faster from 8x8 upwards, 1.3x from 4x4. Small calls run unfused (``FUSED_MIN_PIXELS``).
    """

    def __init__(self, in_channels: int, out_channels: int, gain: float = 2.0, bias: bool = True):
        super().__init__(in_channels, out_channels, 3, gain, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _small(x):
            return super().forward(upsample2x(x))
        # a transposed conv correlates with the flipped kernel, and takes it as [in, out, k, k]
        w = _summed_shifts(self.weight * self.scale).flip(2, 3).transpose(0, 1)
        return F.conv_transpose2d(x, w, self.bias, stride=2, padding=1)


class ConvDownsample2d(EqualConv2d):
    """A same-padded 3x3 conv, then a 2x box downsample, computed as one stride-2 conv with a
    4x4 kernel (the official code's fused ``conv2d_downscale2d``).

    Equal to ``downsample2x(conv(x))`` up to float rounding, with 4/9 of the multiply-adds;
    measured on a 2-core CPU (forward + backward, batch 64): 1.4-2.8x faster. Small calls run
    unfused (``FUSED_MIN_PIXELS``).
    """

    def __init__(self, in_channels: int, out_channels: int, gain: float = 2.0):
        super().__init__(in_channels, out_channels, 3, gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _small(x):
            return downsample2x(super().forward(x))
        w = _summed_shifts(self.weight * self.scale) * 0.25
        return F.conv2d(x, w, self.bias, stride=2, padding=1)


class PixelNorm(nn.Module):
    """Normalise each pixel's feature vector to unit average square (paper §4.2)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class MinibatchStddev(nn.Module):
    """Append the average feature standard deviation over groups as one extra channel.

    Computed on D's *features* at the 4x4 stage (not on the input image): samples are split
    into groups of ``group_size`` consecutive samples; per group, the std over members of every
    feature at every pixel is averaged to one number, broadcast as a constant map to that
    group's members. Consecutive (not strided) groups keep every group inside one process's
    slice of a data-parallel batch, so N processes compute what one process would.
    """

    def __init__(self, group_size: int = 4):
        super().__init__()
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n)
        if n % g:  # fall back to the largest divisor so any batch works
            g = max(d for d in range(1, g + 1) if n % d == 0)
        y = x.reshape(n // g, g, c, h, w).float()
        y = y - y.mean(dim=1, keepdim=True)
        y = torch.sqrt(y.pow(2).mean(dim=1) + 1e-8)           # [n/g, c, h, w]
        y = y.mean(dim=(1, 2, 3)).to(x.dtype)                  # [n/g]
        y = y.reshape(n // g, 1, 1, 1, 1).expand(-1, g, 1, h, w).reshape(n, 1, h, w)
        return torch.cat([x, y], dim=1)


def leaky_relu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour 2x upsampling, the paper's choice for images and features."""
    return F.interpolate(x, scale_factor=2, mode="nearest")


def downsample2x(x: torch.Tensor) -> torch.Tensor:
    """2x box filter (average pooling)."""
    return F.avg_pool2d(x, 2)


def fade_blend(old: torch.Tensor, new: torch.Tensor, alpha: float | torch.Tensor) -> torch.Tensor:
    """The one fade-in formula, shared by G's output, D's input path and the real images.

    α may be a 0-dim tensor so that a compiled network does not recompile for every new α.
    """
    return (1.0 - alpha) * old + alpha * new


def feature_maps(stage: int, fmap_base: int, fmap_max: int) -> int:
    """nf(stage) = min(fmap_base / 2^stage, fmap_max); stage 1 is the 4x4 stage."""
    return max(1, int(min(fmap_base // (2 ** stage), fmap_max)))


def resolution_problem(resolution) -> str | None:
    """The one rule for a network's resolution, in words when it is broken."""
    r = resolution
    if not isinstance(r, int) or r < 4 or r > 1024 or r & (r - 1):
        return f"resolution must be a power of two from 4 to 1024 (got {r})"
    return None


def describe_generator(G: nn.Module, resolution: int, image_channels: int, latent_size: int,
                       class_names) -> None:
    """What every family's generator says of itself, read by its record, the trainer and the explorer:
    its output (resolution, channels, the level of its top block), its latent size and its classes
    (a conditional generator's names; None and 0 otherwise). The resolution is checked first."""
    check_resolution(resolution)
    G.class_names = tuple(class_names) if class_names else None
    G.classes = len(G.class_names or ())
    G.resolution, G.image_channels, G.latent_size = resolution, image_channels, latent_size
    G.max_level = int(math.log2(resolution))


def check_resolution(resolution: int) -> None:
    problem = resolution_problem(resolution)
    if problem:
        raise ValueError(problem)


def width_at(level: int, fmap_base: int, fmap_max: int) -> int:
    """Feature maps of the blocks working at 2^level pixels: the width rule of both families."""
    return feature_maps(level - 1, fmap_base, fmap_max)
