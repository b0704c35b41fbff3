"""StyleGAN generator (Karras et al. 2019): the mapping network z → w, a learned 4x4 constant, and a
synthesis network that grows as the progressive one does — each resolution two 3x3 convs, each
followed by noise, bias, activation and AdaIN with its own w; nearest upsampling then a [1, 2, 1]
blur; one toRGB per resolution, the newest faded in with α over the upsampled previous one.

It takes the same ``forward(z, level, alpha)`` call as the other families. The explorer's w tools
call ``synthesis(ws)`` without a level: it then draws at the level and α the generator was last
trained at, kept in two buffers (so a checkpoint from the middle of a fade shows what it showed
during training, as the official ``Gs`` keeps its ``lod``).
"""
from __future__ import annotations

import torch
from torch import nn

from ..base import Architecture
from ...networks.layers import EqualConv2d, UpsampleConv2d, describe_generator, fade_blend, upsample2x, width_at
from ...networks.style import MappingNetwork
from .layers import LayerEpilogue, blur

NOISE_MODES = ("random", "const", "none")
# the paper's truncation: ψ pulls only the w of the first 8 layers (4² to 32²) toward the mean
TRUNCATION_CUTOFF = 8


class FirstBlock(nn.Module):
    """4x4: the learned constant (ones, as the official initialisation), its epilogue, a 3x3 conv
    and the second epilogue."""

    def __init__(self, channels: int, w_size: int, seed: int):
        super().__init__()
        self.const = nn.Parameter(torch.ones(1, channels, 4, 4))
        self.epilogue0 = LayerEpilogue(channels, w_size, 4, seed)
        self.conv = EqualConv2d(channels, channels, 3, bias=False)
        self.epilogue1 = LayerEpilogue(channels, w_size, 4, seed + 1)

    def forward(self, ws: torch.Tensor, noise_mode: str, generator) -> torch.Tensor:
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        x = self.epilogue0(x, ws[:, 0], noise_mode, generator)
        return self.epilogue1(self.conv(x), ws[:, 1], noise_mode, generator)


class SynthesisBlock(nn.Module):
    """One doubling: nearest upsampling and a 3x3 conv (one fused op), the blur, epilogue; a 3x3
    conv, epilogue."""

    def __init__(self, in_channels: int, out_channels: int, w_size: int, resolution: int, seed: int):
        super().__init__()
        self.conv0 = UpsampleConv2d(in_channels, out_channels, bias=False)
        self.epilogue0 = LayerEpilogue(out_channels, w_size, resolution, seed)
        self.conv1 = EqualConv2d(out_channels, out_channels, 3, bias=False)
        self.epilogue1 = LayerEpilogue(out_channels, w_size, resolution, seed + 1)

    def forward(self, x, ws, noise_mode, generator):
        x = self.epilogue0(blur(self.conv0(x)), ws[:, 0], noise_mode, generator)
        return self.epilogue1(self.conv1(x), ws[:, 1], noise_mode, generator)


class StyleGANGenerator(nn.Module):
    def __init__(self, resolution: int = 32, image_channels: int = 3, latent_size: int = 512,
                 fmap_base: int = 8192, fmap_max: int = 512, mapping_layers: int = 8,
                 class_names: tuple[str, ...] | None = None):
        super().__init__()
        describe_generator(self, resolution, image_channels, latent_size, class_names)
        self.fmap_base, self.fmap_max, self.mapping_layers = fmap_base, fmap_max, mapping_layers
        self.num_ws = 2 * self.max_level - 2          # two styled layers per resolution
        self.truncation_cutoff = TRUNCATION_CUTOFF

        def nf(level: int) -> int:
            return width_at(level, fmap_base, fmap_max)

        self.mapping = MappingNetwork(latent_size, latent_size, mapping_layers, classes=self.classes)
        self.first = FirstBlock(nf(2), latent_size, seed=2000)
        self.blocks = nn.ModuleDict({str(l): SynthesisBlock(nf(l - 1), nf(l), latent_size, 2 ** l, seed=2000 + 2 * l)
                                     for l in range(3, self.max_level + 1)})
        self.to_rgb = nn.ModuleDict({str(l): EqualConv2d(nf(l), image_channels, 1, gain=1.0)
                                     for l in range(2, self.max_level + 1)})
        # where training last drew (the level and α synthesis uses when given none; an untrained
        # generator: its full resolution)
        self.register_buffer("trained_level", torch.tensor(self.max_level, dtype=torch.int64))
        self.register_buffer("trained_alpha", torch.tensor(1.0))

    def architecture(self) -> dict:
        return Architecture("stylegan", self.resolution, self.image_channels, self.latent_size, self.fmap_base,
                            self.fmap_max, mapping_layers=self.mapping_layers, class_names=self.class_names).to_dict()

    @property
    def w_avg(self) -> torch.Tensor:
        return self.mapping.w_avg

    def layer_resolution(self, index: int) -> int:
        """The resolution whose convolution a w index styles (coarse/middle/fine ranges)."""
        return 2 ** (2 + index // 2)

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        return w.unsqueeze(1).expand(-1, self.num_ws, -1)

    def mix(self, ws: torch.Tensor, ws_other: torch.Tensor, cutoff: torch.Tensor) -> torch.Tensor:
        """Per sample, the w from index ``cutoff`` on come from ``ws_other`` (cutoff = num_ws: none)."""
        take = torch.arange(self.num_ws, device=ws.device)[None, :] >= cutoff[:, None]
        return torch.where(take[:, :, None], ws_other, ws)

    def truncate(self, ws: torch.Tensor, psi: float, centre: torch.Tensor) -> torch.Tensor:
        """The paper's truncation: the first ``truncation_cutoff`` layers' w pulled toward
        ``centre`` (the mean w, or a class's) by ψ; the finer layers keep theirs."""
        if psi == 1.0:
            return ws
        pulled = centre.to(ws.dtype)[:, None, :].lerp(ws, psi) if centre.dim() == 2 else centre.to(ws.dtype).lerp(ws, psi)
        layer = torch.arange(self.num_ws, device=ws.device)[None, :, None]
        return torch.where(layer < self.truncation_cutoff, pulled, ws)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const", generator: torch.Generator | None = None,
                  level: int | None = None, alpha: float | torch.Tensor | None = None) -> torch.Tensor:
        level = int(self.trained_level) if level is None else level
        alpha = float(self.trained_alpha) if alpha is None else alpha
        x = self.first(ws, noise_mode, generator)
        previous = x
        for l in range(3, level + 1):
            previous = x
            i = 2 * (l - 2)
            x = self.blocks[str(l)](x, ws[:, i:i + 2], noise_mode, generator)
        rgb = self.to_rgb[str(level)](x)
        if level == 2 or (not torch.is_tensor(alpha) and alpha >= 1.0):
            return rgb
        # the fade as the official lerp_clip: the previous level's RGB upsampled by repetition
        return fade_blend(upsample2x(self.to_rgb[str(level - 1)](previous)), rgb, alpha)

    def forward(self, z: torch.Tensor, level: int | None = None, alpha: float = 1.0, *, psi: float = 1.0,
                noise_mode: str = "const", z_mix: torch.Tensor | None = None,
                mix_cutoff: torch.Tensor | None = None, noise_generator: torch.Generator | None = None,
                update_w_avg: bool = False, return_ws: bool = False, labels: torch.Tensor | None = None):
        """Images from z at ``level`` with fade α (training passes its second latent and cutoffs
        for style mixing, random noise and ``update_w_avg``). ψ < 1 truncates as the paper does,
        the first ``truncation_cutoff`` layers only. Training (``self.training``) records the
        level and α it drew at for later calls that give none."""
        level = self.max_level if level is None else level
        if self.training:
            with torch.no_grad():
                self.trained_level.fill_(level)
                self.trained_alpha.fill_(float(alpha))
        ws = self.broadcast(self.mapping(z, 1.0, update_w_avg, labels))
        if z_mix is not None:
            ws = self.mix(ws, self.broadcast(self.mapping(z_mix, 1.0, labels=labels)), mix_cutoff)
        if psi != 1.0:
            ws = self.truncate(ws, psi, self.mapping.centre(len(z), labels, z.device))
        images = self.synthesis(ws, noise_mode, noise_generator, level, alpha)
        return (images, ws) if return_ws else images
