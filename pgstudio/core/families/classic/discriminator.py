"""The survey's discriminators at a fixed resolution: a fully connected one (GAN 2014), DCGAN's
stride-2 4x4 convolutions with LeakyReLU 0.2, SNGAN's residual blocks; normalised by none, batch,
layer or spectral normalisation; SAGAN's self-attention; conditioned by projection (Miyato &
Koyama 2018) or by cGAN's concatenation of the label as constant input channels; InfoGAN's Q head
on the trunk's features; and the autoencoder of EBGAN and BEGAN, whose "score" is an energy: the
reconstruction's mean squared (EBGAN) or absolute (BEGAN) error per image."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...networks.conditioning import class_rows, labels_for
from ...networks.layers import check_resolution
from ...networks.residual import ResBlockDown, SelfAttention, attach_spectral_norm, feature_norm, width, xavier_init
from .blocks import dcgan_init


class ClassicDiscriminator(nn.Module):
    def __init__(self, resolution: int = 32, image_channels: int = 3, fmap_base: int = 2048, fmap_max: int = 256,
                 d_arch: str = "dcgan", norm: str = "batch", attention_res: int = 0, classes: int = 0,
                 conditioning: str = "projection", info_outputs: int = 0, energy: str | None = None):
        super().__init__()
        check_resolution(resolution)
        self.resolution, self.classes, self.d_arch, self.energy = resolution, classes, d_arch, energy
        self.last_features: torch.Tensor | None = None     # the trunk's features of the last pass (Q, PT)
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
        elif d_arch == "autoencoder":        # EBGAN/BEGAN: encoder to a code, decoder back to the image
            if energy not in ("mse", "l1"):
                raise ValueError("an autoencoder discriminator scores by an energy: mse (EBGAN) or l1 (BEGAN)")
            block_norm = "none" if norm == "spectral" else norm
            layers, res = [nn.Conv2d(channels_in, nf(resolution // 2), 4, 2, 1), nn.ELU()], resolution // 2
            while res > 4:
                layers += [nn.Conv2d(nf(res), nf(res // 2), 4, 2, 1), feature_norm(block_norm, nf(res // 2)), nn.ELU()]
                res //= 2
            self.body = nn.Sequential(*layers)
            features = nf(4)
            self.encode = nn.Linear(16 * nf(4), features)          # the embedding (EBGAN's S)
            self.decode = nn.Linear(features, 16 * nf(4))
            up, res = [], 4
            while res < resolution:
                up += [nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(nf(res), nf(2 * res), 3, padding=1),
                       nn.ELU()]
                res *= 2
            self.decoder = nn.Sequential(*up, nn.Conv2d(nf(resolution), image_channels, 3, padding=1))
            self.out = None
            dcgan_init(self)
        else:
            raise ValueError(f"unknown discriminator architecture {d_arch!r}")
        # InfoGAN: Q shares the trunk; a dense layer of its own, then each code's outputs
        self.q_head = nn.Sequential(nn.Linear(features if d_arch != "dcgan" else 16 * features, 128),
                                    nn.LeakyReLU(0.2), nn.Linear(128, info_outputs)) if info_outputs else None
        self.projection = nn.Embedding(classes, features) if classes and not self.concat_labels else None
        if self.projection is not None:
            nn.init.xavier_uniform_(self.projection.weight)
        if norm == "spectral":
            attach_spectral_norm(self)
            if self.projection is not None:
                self.projection = torch.nn.utils.parametrizations.spectral_norm(self.projection)

    def q(self) -> torch.Tensor:
        """InfoGAN's Q on the features of the last pass (the fakes just scored)."""
        return self.q_head(self.last_features)

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
            self.last_features = h.flatten(1)
        elif self.d_arch == "resnet":
            pooled = F.relu(h).sum(dim=(2, 3))          # global sum pooling
            score = self.out(pooled).squeeze(1)
            self.last_features = pooled
        elif self.d_arch == "autoencoder":
            pooled = self.encode(h.flatten(1))
            self.last_features = pooled
            decoded = self.decoder(F.elu(self.decode(pooled)).view(h.shape[0], -1, 4, 4))
            error = decoded - image
            score = (error.pow(2) if self.energy == "mse" else error.abs()).flatten(1).mean(dim=1)
        else:
            pooled = h
            score = self.out(h).squeeze(1)
            self.last_features = h
        if self.projection is not None and self.d_arch != "autoencoder":
            weights = class_rows(labels, self.classes, pooled.dtype) @ self.projection.weight
            score = score + (weights * pooled).sum(dim=1)
        return score
