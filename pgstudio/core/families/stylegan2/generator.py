"""StyleGAN2 generator: mapping network, learned 4x4 constant, modulated convolutions, noise,
and the skip architecture (each resolution's RGB is added to the FIR-upsampled RGB so far).

It takes the same ``forward(z, level, alpha)`` call as the progressive generator (level and α
are accepted and ignored: there is no growing), so the trainer's sample grids, MS-SWD, the
explorer and the exports treat both families alike. The style-space controls live in
``mapping``, ``broadcast`` and ``synthesis``.
"""
from __future__ import annotations

from contextlib import nullcontext

import torch
from torch import nn

from ..base import Architecture
from ...networks.fir import upsample_fir
from ...networks.layers import describe_generator, width_at
from ...networks.style import MappingNetwork, NoiseInjection, act
from .layers import ModulatedConv2d

NOISE_MODES = ("random", "const", "none")


def bf16_region(x: torch.Tensor, enabled: bool):
    """bf16 autocast on CUDA for the top blocks, full precision below (SG2's mixed precision)."""
    if x.device.type != "cuda":
        return nullcontext()
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=enabled)


class StyleLayer(nn.Module):
    """Modulated 3x3 conv (optionally upsampling first), noise, bias, activation."""

    def __init__(self, in_channels: int, out_channels: int, w_size: int, resolution: int,
                 demodulate: bool, upsample: bool, seed: int):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_size, demodulate, upsample)
        self.noise = NoiseInjection(resolution, seed)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x, w, noise_mode="const", generator=None):
        x = self.noise(self.conv(x, w), noise_mode, generator)
        return act(x + self.bias.to(x.dtype)[None, :, None, None])


class ToRGB(nn.Module):
    """Modulated 1x1 conv without demodulation, plus a bias."""

    def __init__(self, in_channels: int, image_channels: int, w_size: int):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, image_channels, 1, w_size, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(image_channels))

    def forward(self, x, w):
        return self.conv(x, w) + self.bias.to(x.dtype)[None, :, None, None]


class SynthesisBlock(nn.Module):
    """One doubling: upsampling style layer, style layer, toRGB; skip-adds to the image."""

    def __init__(self, in_channels, out_channels, image_channels, w_size, resolution, demodulate, seed):
        super().__init__()
        self.conv0 = StyleLayer(in_channels, out_channels, w_size, resolution, demodulate, True, seed)
        self.conv1 = StyleLayer(out_channels, out_channels, w_size, resolution, demodulate, False, seed + 1)
        self.to_rgb = ToRGB(out_channels, image_channels, w_size)

    def forward(self, x, rgb, ws, noise_mode, generator):
        x = self.conv0(x, ws[:, 0], noise_mode, generator)
        x = self.conv1(x, ws[:, 1], noise_mode, generator)
        return x, upsample_fir(rgb) + self.to_rgb(x, ws[:, 2]).float()


class StyleGAN2Generator(nn.Module):
    def __init__(self, resolution: int = 32, image_channels: int = 3, latent_size: int = 512,
                 fmap_base: int = 8192, fmap_max: int = 512, mapping_layers: int = 8,
                 demodulate: bool = True, bf16_blocks: int = 4, class_names: tuple[str, ...] | None = None):
        super().__init__()
        describe_generator(self, resolution, image_channels, latent_size, class_names)
        self.fmap_base, self.fmap_max, self.mapping_layers = fmap_base, fmap_max, mapping_layers
        self.demodulate, self.bf16_blocks = demodulate, bf16_blocks
        # w index i drives: 0 the 4x4 conv; 1 the 4x4 toRGB and the next block's first conv, ...
        # (each block reads three consecutive w, overlapping by one, as in rosinality's port)
        self.num_ws = 2 * self.max_level - 2

        def nf(level: int) -> int:
            return width_at(level, fmap_base, fmap_max)

        self.mapping = MappingNetwork(latent_size, latent_size, mapping_layers, classes=self.classes)
        self.const = nn.Parameter(torch.randn(1, nf(2), 4, 4))
        self.first = StyleLayer(nf(2), nf(2), latent_size, 4, demodulate, False, seed=1000)
        self.first_rgb = ToRGB(nf(2), image_channels, latent_size)
        self.blocks = nn.ModuleDict({str(l): SynthesisBlock(nf(l - 1), nf(l), image_channels, latent_size,
                                                            2 ** l, demodulate, seed=1000 + 2 * l)
                                     for l in range(3, self.max_level + 1)})

    def architecture(self) -> dict:
        return Architecture("stylegan2", self.resolution, self.image_channels, self.latent_size, self.fmap_base,
                            self.fmap_max, mapping_layers=self.mapping_layers, demodulate=self.demodulate,
                            class_names=self.class_names).to_dict()

    @property
    def w_avg(self) -> torch.Tensor:
        return self.mapping.w_avg

    def layer_resolution(self, index: int) -> int:
        """The resolution whose convolutions a w index styles (for coarse/middle/fine ranges)."""
        return min(2 ** (2 + (index + 1) // 2), self.resolution)   # the last w styles only the last toRGB

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        return w.unsqueeze(1).expand(-1, self.num_ws, -1)

    def mix(self, ws: torch.Tensor, ws_other: torch.Tensor, cutoff: torch.Tensor) -> torch.Tensor:
        """Per sample, the w from index ``cutoff`` on come from ``ws_other`` (cutoff = num_ws: none)."""
        take = torch.arange(self.num_ws, device=ws.device)[None, :] >= cutoff[:, None]
        return torch.where(take[:, :, None], ws_other, ws)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const",
                  generator: torch.Generator | None = None) -> torch.Tensor:
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        x = self.first(x, ws[:, 0], noise_mode, generator)
        rgb = self.first_rgb(x, ws[:, 1]).float()
        for l in range(3, self.max_level + 1):
            i = 2 * (l - 3) + 1
            with bf16_region(x, l > self.max_level - self.bf16_blocks):
                x, rgb = self.blocks[str(l)](x, rgb, ws[:, i:i + 3], noise_mode, generator)
        return rgb

    def forward(self, z: torch.Tensor, level: int | None = None, alpha: float = 1.0, *, psi: float = 1.0,
                noise_mode: str = "const", z_mix: torch.Tensor | None = None,
                mix_cutoff: torch.Tensor | None = None, noise_generator: torch.Generator | None = None,
                update_w_avg: bool = False, return_ws: bool = False, labels: torch.Tensor | None = None):
        """Images from z. Training passes a second latent and per-sample cutoffs (style mixing),
        random noise from the trainer's generator and ``update_w_avg``; sampling uses the
        defaults (fixed noise, so one z always gives one image). A conditional generator's
        ``labels`` (both latents of a mixed sample share them) default to cycling its classes."""
        ws = self.broadcast(self.mapping(z, psi, update_w_avg, labels))
        if z_mix is not None:
            ws = self.mix(ws, self.broadcast(self.mapping(z_mix, psi, labels=labels)), mix_cutoff)
        images = self.synthesis(ws, noise_mode, noise_generator)
        return (images, ws) if return_ws else images
