"""BigGAN's discriminator (BigGAN-PyTorch's ``D``): SNGAN's residual down blocks (the first one
"optimised": no activation before it, its shortcut pooled first), one self-attention block, ReLU
and global sum pooling, a dense score plus the projection of the class embedding on the pooled
features (Miyato & Koyama 2018); spectral norm on every layer, orthogonal initialisation."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ...networks.conditioning import class_rows, labels_for
from ...networks.layers import check_resolution
from ...networks.residual import ResBlockDown, SelfAttention, attach_spectral_norm, width
from .generator import orthogonal_init


class BigGANDiscriminator(nn.Module):
    def __init__(self, resolution: int = 32, image_channels: int = 3, fmap_base: int = 12288, fmap_max: int = 1536,
                 attention_res: int = 0, classes: int = 0):
        super().__init__()
        check_resolution(resolution)
        self.resolution, self.classes = resolution, classes
        self.max_level = int(math.log2(resolution))

        def nf(res: int) -> int:            # D's features at res: G's at 2·res (its mirror)
            return width(2 * res, fmap_base, fmap_max)

        blocks, res = [ResBlockDown(image_channels, nf(resolution // 2), "none", first=True)], resolution // 2
        if res == attention_res:
            blocks.append(SelfAttention(nf(res)))
        while res > 4:
            blocks.append(ResBlockDown(nf(res), nf(res // 2), "none"))
            res //= 2
            if res == attention_res:
                blocks.append(SelfAttention(nf(res)))
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Linear(nf(4), 1)
        self.embed = nn.Embedding(classes, nf(4)) if classes else None
        orthogonal_init(self)
        attach_spectral_norm(self)
        if self.embed is not None:
            self.embed = spectral_norm(self.embed)

    def forward(self, image: torch.Tensor, level: int | None = None, alpha: float = 1.0,
                labels: torch.Tensor | None = None) -> torch.Tensor:
        """One score per image (level and α accepted and ignored)."""
        labels = labels_for(self, labels, image.shape[0], image.device)
        pooled = F.relu(self.blocks(image)).sum(dim=(2, 3))
        score = self.out(pooled).squeeze(1)
        if self.embed is not None:
            score = score + ((class_rows(labels, self.classes, pooled.dtype) @ self.embed.weight) * pooled).sum(dim=1)
        return score
