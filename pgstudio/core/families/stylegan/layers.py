"""StyleGAN's own building blocks (Karras, Laine & Aila 2019, the official ``networks_stylegan.py``):
adaptive instance normalisation driven by w, the [1, 2, 1] blur after every upsampling (and
before every downsampling in D), and the layer epilogue that puts noise, bias, activation and
AdaIN in the paper's order."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...networks.layers import EqualLinear, leaky_relu
from ...networks.style import NoiseInjection

BLUR_TAPS = (1.0, 2.0, 1.0)


def blur(x: torch.Tensor) -> torch.Tensor:
    """The separable [1, 2, 1] ⊗ [1, 2, 1] / 16 filter at full rate, zero-padded by one: after a
    nearest 2x upsampling it makes the bilinear interpolation the paper replaced it with (§A)."""
    k = torch.tensor(BLUR_TAPS, device=x.device, dtype=x.dtype)
    k = torch.outer(k, k) / 16.0
    c = x.shape[1]
    return F.conv2d(F.pad(x, (1, 1, 1, 1)), k.expand(c, 1, 3, 3), groups=c)


def instance_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Each channel of each sample to zero mean and unit variance over its pixels."""
    x = x - x.mean(dim=(2, 3), keepdim=True)
    return x * torch.rsqrt(x.square().mean(dim=(2, 3), keepdim=True) + eps)


class AdaIN(nn.Module):
    """AdaIN(x, y) = y_s · (x − μ(x)) / σ(x) + y_b, the style y = (y_s, y_b) a learned affine map
    of w. As the official ``style_mod``: y_s is stored as 1 + the map's output (biases start at
    0, so an untrained layer passes its normalised input), y_b as the output itself."""

    def __init__(self, channels: int, w_size: int):
        super().__init__()
        self.style = EqualLinear(w_size, 2 * channels, gain=1.0)
        self.channels = channels

    def styles(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(scale, bias) per channel for each w: [N, C] each."""
        y = self.style(w)
        return y[:, :self.channels] + 1.0, y[:, self.channels:]

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        scale, bias = self.styles(w)
        return instance_norm(x) * scale.to(x.dtype)[:, :, None, None] + bias.to(x.dtype)[:, :, None, None]


class LayerEpilogue(nn.Module):
    """After each conv of the synthesis network: per-pixel noise scaled per channel, bias,
    leaky ReLU, then AdaIN with this layer's w (the official ``layer_epilogue``)."""

    def __init__(self, channels: int, w_size: int, resolution: int, seed: int):
        super().__init__()
        self.noise = NoiseInjection(resolution, seed, channels=channels)
        self.bias = nn.Parameter(torch.zeros(channels))
        self.adain = AdaIN(channels, w_size)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "const",
                generator: torch.Generator | None = None) -> torch.Tensor:
        x = self.noise(x, noise_mode, generator)
        x = leaky_relu(x + self.bias.to(x.dtype)[None, :, None, None])
        return self.adain(x, w)
