"""StyleGAN2's own building block (Karras et al. 2020), on the shared equalized-LR layers (the
mapping network and the noise it shares with StyleGAN live in networks/style.py).

- ``ModulatedConv2d``: a style scales the input channels of the weights, demodulation
  rescales each output channel back to unit expected variance (replaces AdaIN). It is written
  the "non-fused" way (scale the activations, one shared convolution, rescale), which is the
  same arithmetic as per-sample weights and runs as an ordinary batched convolution.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...networks.fir import upsample_fir
from ...networks.layers import EqualLinear


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
