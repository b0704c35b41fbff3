"""Principal latent directions in the GANSpace manner (Härkönen et al. 2020).

PCA of the generator's first-block activations over many random latents; each principal
component is mapped back to latent space by linear regression from z to the component's
coordinate, so moving z along it moves the activations along that component.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..storage.disk import write_atomic


@dataclass
class Directions:
    vectors: torch.Tensor                 # [k, latent_size], unit length
    sigma: torch.Tensor                   # [k] std of z·u over the samples: one slider unit
    names: list[str] = field(default_factory=list)
    source: str = ""
    space: str = "z"                      # "z" (progressive) or "w" (StyleGAN2)

    def apply(self, z: torch.Tensor, offsets: list[float]) -> torch.Tensor:
        """Move latents (z or w) by offsets (in σ units) along each direction."""
        off = torch.as_tensor(offsets, dtype=z.dtype)[: self.vectors.shape[0]]
        return z + (off * self.sigma[: off.shape[0]]) @ self.vectors[: off.shape[0]]

    def save(self, path: str | os.PathLike) -> None:
        write_atomic(path, json.dumps({"format": "pgstudio-directions", "names": self.names,
                                       "source": self.source, "space": self.space, "vectors": self.vectors.tolist(),
                                          "sigma": self.sigma.tolist()}))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Directions":
        d = json.loads(Path(path).read_text())
        if d.get("format") != "pgstudio-directions":
            raise ValueError(f"{path}: not a pgstudio directions file")
        return cls(torch.tensor(d["vectors"]), torch.tensor(d["sigma"]), list(d["names"]), d.get("source", ""),
                   d.get("space", "z"))


@torch.no_grad()
def compute_directions(G, k: int = 8, samples: int = 2000, seed: int = 0) -> Directions:
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(samples, G.latent_size, generator=gen)
    device = next(G.parameters()).device
    acts = torch.cat([G.first(z[i:i + 256].to(device)).flatten(1).cpu() for i in range(0, samples, 256)])
    acts = acts - acts.mean(0)
    k = min(k, G.latent_size, samples - 1)
    _, _, v = torch.pca_lowrank(acts, q=k, center=False)
    coords = acts @ v                                         # [samples, k] PCA coordinates
    solution = torch.linalg.lstsq(z, coords).solution        # [latent, k]: z @ u ≈ coord
    vectors = (solution / solution.norm(dim=0, keepdim=True)).T.contiguous()
    sigma = (z @ vectors.T).std(0)
    return Directions(vectors, sigma, [f"PC{i + 1}" for i in range(k)])
