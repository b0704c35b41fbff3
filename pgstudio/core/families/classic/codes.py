"""InfoGAN's latent codes (Chen et al. 2016): categorical codes (one-hot rows) and continuous ones
(uniform in [-1, 1]) beside z, laid out as [one-hot of code 1 | one-hot of code 2 | … | continuous].

Training draws the codes independently of z. A latent given without codes (a sample grid's fixed
latents, the explorer's seeds, the metrics) takes codes computed from z by a fixed map, so that one
latent still means one image: code j's category is the argmax of z projected on k_j fixed random
directions (uniform over categories, by symmetry), and a continuous code is erf(u/√2) of z's
projection u on a fixed unit direction (u ~ N(0, 1) makes it uniform in [-1, 1])."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class LatentCodes(nn.Module):
    def __init__(self, latent_size: int, categorical: tuple[int, ...] = (), continuous: int = 0):
        super().__init__()
        self.categorical, self.continuous = tuple(int(k) for k in categorical), int(continuous)
        self.width = sum(self.categorical) + self.continuous
        # the fixed map from z (a buffer: saved with the weights; drawn from its own seed, so the
        # global RNG that initialises the networks is untouched)
        rng = torch.Generator().manual_seed(0x1F0)
        directions = torch.randn(latent_size, max(1, self.width), generator=rng)
        # orthonormal, so that the projections of z ~ N(0, I) are independent N(0, 1): each
        # categorical code's argmax is then uniform (merely normalised random directions are
        # correlated, and gave one category 14 % and another 7.5 % of 10); a latent narrower than
        # the codes keeps each code's own block orthonormal where it can
        if latent_size >= directions.shape[1]:
            directions = torch.linalg.qr(directions).Q
        else:
            blocks, start = [], 0
            for k in list(self.categorical) + [self.continuous]:
                block = directions[:, start:start + k]
                blocks.append(torch.linalg.qr(block).Q if 0 < k <= latent_size else F.normalize(block, dim=0))
                start += k
            directions = torch.cat(blocks, dim=1) if blocks else directions
        self.register_buffer("directions", directions.contiguous())

    def __bool__(self) -> bool:
        return self.width > 0

    def rows(self, categories: torch.Tensor, continuous: torch.Tensor) -> torch.Tensor:
        """Indices [N, n_categorical] and values [N, n_continuous] → code rows [N, width]."""
        parts = [F.one_hot(categories[:, j].long(), k).float() for j, k in enumerate(self.categorical)]
        return torch.cat(parts + [continuous.float().reshape(len(categories), self.continuous)], dim=1)

    def draw(self, n: int, device, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Training's codes: each category uniform, each continuous code uniform in [-1, 1]."""
        categories = torch.stack([torch.randint(k, (n,), device=device, generator=generator)
                                  for k in self.categorical], dim=1) if self.categorical else \
            torch.zeros(n, 0, dtype=torch.long, device=device)
        continuous = torch.rand(n, self.continuous, device=device, generator=generator) * 2 - 1
        return categories, continuous

    def of_latents(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The codes a latent given alone stands for (see the module's docstring)."""
        u = z.float() @ self.directions.to(z.device)
        categories, start = [], 0
        for k in self.categorical:
            categories.append(u[:, start:start + k].argmax(dim=1))
            start += k
        cats = torch.stack(categories, dim=1) if categories else torch.zeros(len(z), 0, dtype=torch.long,
                                                                              device=z.device)
        continuous = torch.erf(u[:, start:start + self.continuous] / math.sqrt(2))
        return cats, continuous

    def split(self, q: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Q's output [N, width] → per categorical code its logits, and the continuous means."""
        logits, start = [], 0
        for k in self.categorical:
            logits.append(q[:, start:start + k])
            start += k
        return logits, q[:, start:start + self.continuous]

    def information_loss(self, q: torch.Tensor, categories: torch.Tensor, continuous: torch.Tensor,
                         lambda_categorical: float, lambda_continuous: float) -> tuple[torch.Tensor, torch.Tensor]:
        """λ·L_I, the negative of InfoGAN's lower bound less H(c): cross-entropy of each categorical
        code under Q, and for a continuous code the Gaussian negative log-likelihood with unit
        variance, ½(c − μ)², up to a constant. Returns (weighted loss, the categorical bound in nats:
        Σ log k_j − cross-entropy)."""
        logits, means = self.split(q.float())
        ce = sum((F.cross_entropy(l, categories[:, j]) for j, l in enumerate(logits)), q.new_zeros(()))
        nll = 0.5 * (means - continuous.float()).pow(2).sum(dim=1).mean() if self.continuous else q.new_zeros(())
        bound = sum(math.log(k) for k in self.categorical) - ce.detach()
        return lambda_categorical * ce + lambda_continuous * nll, bound
