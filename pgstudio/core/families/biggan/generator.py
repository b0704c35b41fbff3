"""BigGAN's generator (Brock, Donahue & Simonyan 2019; the authors' BigGAN-PyTorch): residual up
blocks with class-conditional batch norm, a shared class embedding, the hierarchical latent, one
self-attention block, spectral norm on every layer and orthogonal initialisation.

- The hierarchical latent: z is split into one chunk per block plus one for the 4x4 input; the
  first chunk feeds the dense layer, each block's batch norms read ``[shared embedding(c), its
  chunk]``.
- Conditional batch norm: batch statistics without affine parameters, then a per-sample gain
  1 + W_γ·y and bias W_β·y from that vector (two spectrally normalised linear maps without bias).
- An unconditional generator has one class: its embedding is one learned vector.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..base import Architecture
from ...networks.conditioning import class_rows, labels_for
from ...networks.layers import describe_generator
from ...networks.residual import SelfAttention, attach_spectral_norm, width

BN_EPS = 1e-5          # BigGAN-PyTorch's G batch norm (its own ccbn; eps and momentum of nn.BatchNorm)


def latent_chunks(latent_size: int, blocks: int) -> list[int]:
    """z's split: one chunk for the 4x4 input and one per block, equal sizes with any remainder
    given to the first (BigGAN-PyTorch rounds z down to a multiple instead)."""
    slots = blocks + 1
    size = latent_size // slots
    if size < 1:
        raise ValueError(f"a {latent_size}-dim latent cannot be split over {slots} blocks")
    return [latent_size - size * blocks] + [size] * blocks


def orthogonal_init(net: nn.Module) -> None:
    """BigGAN's ``G_init='ortho'``: every conv, dense and embedding weight orthogonal (before
    spectral normalisation is attached)."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
            nn.init.orthogonal_(m.weight)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)


class ConditionalBatchNorm(nn.Module):
    def __init__(self, channels: int, condition_size: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, eps=BN_EPS, affine=False)
        self.gain = nn.Linear(condition_size, channels, bias=False)
        self.bias = nn.Linear(condition_size, channels, bias=False)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        gain = 1.0 + self.gain(y)
        return self.norm(x) * gain[:, :, None, None] + self.bias(y)[:, :, None, None]


class GBlock(nn.Module):
    """CBN, ReLU, 2x nearest, 3x3 conv, CBN, ReLU, 3x3 conv; the shortcut upsampled and a 1x1 conv."""

    def __init__(self, in_channels: int, out_channels: int, condition_size: int):
        super().__init__()
        self.bn1 = ConditionalBatchNorm(in_channels, condition_size)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.bn2 = ConditionalBatchNorm(out_channels, condition_size)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.bn1(x, y)), scale_factor=2.0, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), y)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class BigGANGenerator(nn.Module):
    def __init__(self, resolution: int = 32, image_channels: int = 3, latent_size: int = 120,
                 fmap_base: int = 12288, fmap_max: int = 1536, shared_dim: int = 128, attention_res: int = 0,
                 class_names: tuple[str, ...] | None = None):
        super().__init__()
        describe_generator(self, resolution, image_channels, latent_size, class_names)
        self.fmap_base, self.fmap_max, self.shared_dim, self.attention_res = fmap_base, fmap_max, shared_dim, attention_res

        def nf(res: int) -> int:
            return width(res, fmap_base, fmap_max)

        resolutions = [2 ** l for l in range(3, self.max_level + 1)]
        self.chunks = latent_chunks(latent_size, len(resolutions))
        condition = shared_dim + self.chunks[1] if resolutions else shared_dim
        self.shared = nn.Embedding(max(self.classes, 1), shared_dim)     # one class when unconditional
        self.linear = nn.Linear(self.chunks[0], nf(4) * 16)
        self.blocks = nn.ModuleList([GBlock(nf(r // 2), nf(r), condition) for r in resolutions])
        self.attention = nn.ModuleDict({str(r): SelfAttention(nf(r)) for r in resolutions if r == attention_res})
        self.out_norm = nn.BatchNorm2d(nf(resolution), eps=BN_EPS)
        self.out_conv = nn.Conv2d(nf(resolution), image_channels, 3, padding=1)
        orthogonal_init(self)
        attach_spectral_norm(self)                      # every conv and dense layer; not the embedding

    def architecture(self) -> dict:
        return Architecture("biggan", self.resolution, self.image_channels, self.latent_size, self.fmap_base,
                            self.fmap_max, attention_res=self.attention_res, shared_dim=self.shared_dim,
                            class_names=self.class_names).to_dict()

    def class_embedding(self, labels: torch.Tensor | None, batch: int, device) -> torch.Tensor:
        """The shared embedding of each sample's class (a blend's weighted mix of its classes')."""
        labels = labels_for(self, labels, batch, device)
        if labels is None:
            return self.shared.weight[:1].expand(batch, -1)
        return class_rows(labels, self.classes, self.shared.weight.dtype) @ self.shared.weight

    def ortho_parameters(self) -> list[nn.Parameter]:
        """The weights orthogonal regularisation acts on: every matrix and conv kernel but the
        shared embedding (BigGAN-PyTorch's blacklist), as stored (before spectral norm)."""
        shared = {id(p) for p in self.shared.parameters()}
        return [p for p in self.parameters() if p.dim() >= 2 and id(p) not in shared]

    def forward(self, z: torch.Tensor, level: int | None = None, alpha: float = 1.0,
                labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images from z (level and α accepted and ignored: no growing); labels cycle through
        the classes when None."""
        parts = torch.split(z, self.chunks, dim=1)
        shared = self.class_embedding(labels, z.shape[0], z.device).to(z.dtype)
        x = self.linear(parts[0]).view(z.shape[0], -1, 4, 4)
        for block, chunk in zip(self.blocks, parts[1:]):
            x = block(x, torch.cat([shared, chunk], dim=1))
            attention = self.attention[str(x.shape[-1])] if str(x.shape[-1]) in self.attention else None
            if attention is not None:
                x = attention(x)
        return torch.tanh(self.out_conv(F.relu(self.out_norm(x))))
