"""The survey's generators at a fixed resolution: GAN 2014's fully connected net, DCGAN's
transposed convolutions and SNGAN's residual blocks, with SAGAN's self-attention and spectral
normalisation as options. A conditional one takes cGAN's input: the latent concatenated with
the label's one-hot row."""
from __future__ import annotations

import torch
from torch import nn

from ...networks.conditioning import class_rows, labels_for
from ...networks.layers import describe_generator
from ..base import Architecture
from .codes import LatentCodes
from ...networks.residual import ResBlockUp, SelfAttention, attach_spectral_norm, width, xavier_init
from .blocks import dcgan_init


class ClassicGenerator(nn.Module):
    def __init__(self, resolution: int = 32, image_channels: int = 3, latent_size: int = 100,
                 fmap_base: int = 2048, fmap_max: int = 256, g_arch: str = "dcgan", g_spectral: bool = False,
                 attention_res: int = 0, class_names: tuple[str, ...] | None = None,
                 info_categorical: tuple[int, ...] = (), info_continuous: int = 0):
        super().__init__()
        describe_generator(self, resolution, image_channels, latent_size, class_names)
        if resolution < 8:
            raise ValueError("the classic family trains at 8x8 or more")
        self.fmap_base, self.fmap_max = fmap_base, fmap_max
        self.g_arch, self.g_spectral, self.attention_res = g_arch, g_spectral, attention_res
        self.codes = LatentCodes(latent_size, info_categorical, info_continuous)     # InfoGAN's (none: width 0)
        inputs = latent_size + self.classes + self.codes.width

        def nf(res: int) -> int:
            return width(res, fmap_base, fmap_max)

        resolutions = [2 ** l for l in range(2, self.max_level + 1)]       # 4 .. R
        if g_arch == "mlp":          # Goodfellow et al. 2014: two ReLU layers, then the image
            hidden = fmap_base
            self.body = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                      nn.Linear(hidden, image_channels * resolution * resolution))
            self.attention = None
            dcgan_init(self)
        elif g_arch == "dcgan":      # 4x4 from a 4x4 transposed conv, then stride-2 4x4 ones, BN + ReLU
            layers = [nn.ConvTranspose2d(inputs, nf(4), 4, 1, 0, bias=False), nn.BatchNorm2d(nf(4)), nn.ReLU()]
            for res in resolutions[1:-1]:
                layers += [nn.ConvTranspose2d(nf(res // 2), nf(res), 4, 2, 1, bias=False), nn.BatchNorm2d(nf(res)),
                           nn.ReLU()]
                if res == attention_res:
                    layers.append(SelfAttention(nf(res)))
            layers.append(nn.ConvTranspose2d(nf(resolution // 2), image_channels, 4, 2, 1, bias=False))
            self.body = nn.Sequential(*layers)
            dcgan_init(self)
        elif g_arch == "resnet":     # Miyato et al.: dense to 4x4, residual up-blocks, BN ReLU conv
            self.dense = nn.Linear(inputs, 16 * nf(4))
            blocks = []
            for res in resolutions[1:]:
                blocks.append(ResBlockUp(nf(res // 2), nf(res)))
                if res == attention_res and res < resolution:
                    blocks.append(SelfAttention(nf(res)))
            self.body = nn.Sequential(*blocks, nn.BatchNorm2d(nf(resolution)), nn.ReLU(),
                                      nn.Conv2d(nf(resolution), image_channels, 3, padding=1))
            xavier_init(self)
        else:
            raise ValueError(f"unknown generator architecture {g_arch!r}")
        if g_spectral:               # SAGAN: spectral normalisation in G too
            attach_spectral_norm(self)

    def architecture(self) -> dict:
        return Architecture("classic", self.resolution, self.image_channels, self.latent_size, self.fmap_base,
                            self.fmap_max, class_names=self.class_names, g_arch=self.g_arch,
                            g_spectral=self.g_spectral, attention_res=self.attention_res,
                            info_categorical=self.codes.categorical, info_continuous=self.codes.continuous).to_dict()

    def forward(self, z: torch.Tensor, level: int | None = None, alpha: float = 1.0,
                labels: torch.Tensor | None = None, codes: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1] at full resolution (level and α are accepted and ignored); a
        conditional generator's labels (indices or class-weight rows) default to cycling its classes;
        an InfoGAN generator's code rows (codes.py) default to those z stands for."""
        labels = labels_for(self, labels, z.shape[0], z.device)
        x = z if labels is None else torch.cat([z, class_rows(labels, self.classes, z.dtype)], dim=1)
        if self.codes:
            if codes is None:
                codes = self.codes.rows(*self.codes.of_latents(z))
            x = torch.cat([x, codes.to(x.dtype)], dim=1)
        elif codes is not None:
            raise ValueError("this generator has no InfoGAN codes")
        if self.g_arch == "mlp":
            x = self.body(x).view(-1, self.image_channels, self.resolution, self.resolution)
        elif self.g_arch == "dcgan":
            x = self.body(x[:, :, None, None])
        else:
            x = self.body(self.dense(x).view(x.shape[0], -1, 4, 4))
        return torch.tanh(x)
