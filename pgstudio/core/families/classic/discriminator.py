"""The survey's discriminators at a fixed resolution: a fully connected one (GAN 2014), DCGAN's
stride-2 4x4 convolutions with LeakyReLU 0.2, SNGAN's residual blocks; normalised by none, batch,
layer or spectral normalisation; SAGAN's self-attention; conditioned by projection (Miyato &
Koyama 2018) or by cGAN's concatenation of the label as constant input channels."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...networks.conditioning import class_rows, labels_for
from ...networks.layers import check_resolution
from .blocks import (ResBlockDown, SelfAttention, attach_spectral_norm, dcgan_init, feature_norm, width,
                     xavier_init)


class ClassicDiscriminator(nn.Module):
    def __init__(self, resolution: int = 32, image_channels: int = 3, fmap_base: int = 2048, fmap_max: int = 256,
                 d_arch: str = "dcgan", norm: str = "batch", attention_res: int = 0, classes: int = 0,
                 conditioning: str = "projection"):
        super().__init__()
        check_resolution(resolution)
        self.resolution, self.classes, self.d_arch = resolution, classes, d_arch
        self.concat_labels = bool(classes) and conditioning == "concat"
        self.max_level = int(math.log2(resolution))
        channels_in = image_channels + (classes if self.concat_labels else 0)

        def nf(res: int) -> int:            # D's features at res: G's at 2·res
            return width(2 * res, fmap_base, fmap_max)

        if d_arch == "mlp":
            hidden = fmap_base
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(channels_in * resolution * resolution, hidden),
                                      nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2))
            features = hidden
            self.out = nn.Linear(features, 1)
            dcgan_init(self)
        elif d_arch == "dcgan":              # no normalisation on the first layer (Radford et al.)
            layers, res = [nn.Conv2d(channels_in, nf(resolution // 2), 4, 2, 1), nn.LeakyReLU(0.2)], resolution // 2
            while res > 4:
                layers += [nn.Conv2d(nf(res), nf(res // 2), 4, 2, 1), feature_norm("none" if norm == "spectral" else norm,
                                                                                    nf(res // 2)), nn.LeakyReLU(0.2)]
                res //= 2
                if res == attention_res:
                    layers.append(SelfAttention(nf(res)))
            if resolution // 2 == attention_res:
                layers.insert(2, SelfAttention(nf(resolution // 2)))
            self.body = nn.Sequential(*layers)
            features = nf(4)
            self.out = nn.Conv2d(nf(4), 1, 4, 1, 0)        # the 4x4 map → one score
            dcgan_init(self)
        elif d_arch == "resnet":
            block_norm = "none" if norm == "spectral" else norm
            blocks, res = [ResBlockDown(channels_in, nf(resolution // 2), block_norm, first=True)], resolution // 2
            if res == attention_res:
                blocks.append(SelfAttention(nf(res)))
            while res > 4:
                blocks.append(ResBlockDown(nf(res), nf(res // 2), block_norm))
                res //= 2
                if res == attention_res:
                    blocks.append(SelfAttention(nf(res)))
            self.body = nn.Sequential(*blocks)
            features = nf(4)
            self.out = nn.Linear(features, 1)
            xavier_init(self)
        else:
            raise ValueError(f"unknown discriminator architecture {d_arch!r}")
        self.projection = nn.Embedding(classes, features) if classes and not self.concat_labels else None
        if self.projection is not None:
            nn.init.xavier_uniform_(self.projection.weight)
        if norm == "spectral":
            attach_spectral_norm(self)
            if self.projection is not None:
                self.projection = torch.nn.utils.parametrizations.spectral_norm(self.projection)

    def forward(self, image: torch.Tensor, level: int | None = None, alpha: float = 1.0,
                labels: torch.Tensor | None = None) -> torch.Tensor:
        """One score (a logit) per image at full resolution (level and α are accepted and ignored)."""
        labels = labels_for(self, labels, image.shape[0], image.device)
        x = image
        if self.concat_labels:
            rows = class_rows(labels, self.classes, image.dtype)
            x = torch.cat([x, rows[:, :, None, None].expand(-1, -1, *image.shape[2:])], dim=1)
        h = self.body(x)
        if self.d_arch == "dcgan":
            score = self.out(h).flatten(1).squeeze(1)
            pooled = h.sum(dim=(2, 3))
        elif self.d_arch == "resnet":
            pooled = F.relu(h).sum(dim=(2, 3))          # global sum pooling
            score = self.out(pooled).squeeze(1)
        else:
            pooled = h
            score = self.out(h).squeeze(1)
        if self.projection is not None:
            weights = class_rows(labels, self.classes, pooled.dtype) @ self.projection.weight
            score = score + (weights * pooled).sum(dim=1)
        return score
